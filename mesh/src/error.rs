//! The one error type of the crate.
//!
//! It is `Clone` because single-flight resolution hands the same outcome to every waiter,
//! and every variant carries enough text to be shown to a user as is.

use std::fmt;

/// Why a record that parsed fine was still refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// The trust store requires a signature for this namespace and there is none.
    Unsigned,
    /// The signature names a key the trust store does not know.
    UnknownKey(String),
    /// The key is known but not trusted for this record's namespace.
    KeyNotForNamespace { key_id: String, namespace: String },
    /// The signature does not verify over the record's canonical encoding.
    BadSignature,
    /// The record's `:expires` is in the past.
    Expired(String),
    /// The record is older than one already accepted for the same name.
    Rollback { seen: u64, got: u64 },
    /// Same record-version as the accepted one but different content.
    Equivocation { record_version: u64 },
    /// The registry answered with a record for another name.
    WrongName { asked: String, got: String },
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::Unsigned => write!(f, "record is not signed but a signature is required"),
            RejectReason::UnknownKey(k) => write!(f, "record is signed by unknown key `{k}`"),
            RejectReason::KeyNotForNamespace { key_id, namespace } => {
                write!(
                    f,
                    "key `{key_id}` is not trusted for namespace `{namespace}`"
                )
            }
            RejectReason::BadSignature => write!(f, "signature does not verify"),
            RejectReason::Expired(at) => write!(f, "record expired at {at}"),
            RejectReason::Rollback { seen, got } => write!(
                f,
                "record-version {got} is older than the already accepted record-version {seen} (rollback refused)"
            ),
            RejectReason::Equivocation { record_version } => write!(
                f,
                "a different record with the same record-version {record_version} was already accepted"
            ),
            RejectReason::WrongName { asked, got } => {
                write!(f, "asked for `{asked}` but the registry returned `{got}`")
            }
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum MeshError {
    #[error("invalid record: field `{field}`: {reason}")]
    InvalidRecord { field: String, reason: String },
    #[error("invalid function name `{name}`: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("invalid version `{input}`: {reason}")]
    InvalidVersion { input: String, reason: String },
    #[error("function `{0}` not found")]
    NotFound(String),
    #[error("no version of `{name}` satisfies `{req}`{hint}")]
    NoMatchingVersion {
        name: String,
        req: String,
        hint: String,
    },
    #[error("registry `{registry}` is unavailable: {reason}")]
    Unavailable { registry: String, reason: String },
    #[error("registry `{registry}` sent a bad response: {reason}")]
    BadResponse { registry: String, reason: String },
    #[error("every registry failed: {0}")]
    AllUnavailable(String),
    #[error("record for `{name}` rejected: {reason}")]
    Rejected { name: String, reason: RejectReason },
    #[error("security violation: {0}")]
    SecurityViolation(String),
    #[error("no usable provider for `{name}`: {reason}")]
    NoProvider { name: String, reason: String },
    #[error("configuration error: {0}")]
    Config(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("I/O error: {0}")]
    Io(String),
    #[error("git error: {0}")]
    Git(String),
}

impl MeshError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> MeshError {
        MeshError::InvalidRecord {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn unavailable(registry: impl Into<String>, reason: impl fmt::Display) -> MeshError {
        MeshError::Unavailable {
            registry: registry.into(),
            reason: reason.to_string(),
        }
    }

    pub fn bad_response(registry: impl Into<String>, reason: impl fmt::Display) -> MeshError {
        MeshError::BadResponse {
            registry: registry.into(),
            reason: reason.to_string(),
        }
    }

    /// Errors after which serving a stale cache entry is the right answer: the registry could
    /// not be asked or gave nothing usable, as opposed to answering "no such function".
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            MeshError::Unavailable { .. }
                | MeshError::BadResponse { .. }
                | MeshError::AllUnavailable(_)
                | MeshError::Io(_)
                | MeshError::Git(_)
        )
    }
}

impl From<std::io::Error> for MeshError {
    fn from(e: std::io::Error) -> Self {
        MeshError::Io(e.to_string())
    }
}

pub type Result<T, E = MeshError> = std::result::Result<T, E>;

impl From<rtfs_security::SecurityError> for MeshError {
    fn from(e: rtfs_security::SecurityError) -> Self {
        match e {
            rtfs_security::SecurityError::Config(m) => MeshError::Config(m),
            rtfs_security::SecurityError::Violation(m) => MeshError::SecurityViolation(m),
        }
    }
}
