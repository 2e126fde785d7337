//! Why a context could not be built, or why it refuses a call.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityError {
    /// A pattern or setting in the context itself is wrong.
    #[error("configuration error: {0}")]
    Config(String),
    /// The context does not allow the call; the text says which rule refused it.
    #[error("security violation: {0}")]
    Violation(String),
}

pub type Result<T, E = SecurityError> = std::result::Result<T, E>;
