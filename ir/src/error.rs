//! Runtime errors. An error is an RTFS value (`Value::Error`) with a kind, a message and
//! optional data, catchable with `try/catch`; `RtError` is the same thing as a Rust error.
//! It is one pointer wide so `Result<Value, RtError>` stays small on the hot path.

use std::fmt;
use std::sync::Arc;

use crate::value::Value;

/// Error kinds raised by the runtime itself. User errors carry their own kind.
pub mod kind {
    pub const TYPE: &str = "type-error";
    pub const ARITY: &str = "arity-error";
    pub const DIV_ZERO: &str = "division-by-zero";
    pub const OVERFLOW: &str = "overflow-error";
    pub const UNBOUND: &str = "unbound-symbol";
    pub const INDEX: &str = "index-out-of-bounds";
    pub const MATCH: &str = "match-error";
    pub const NOT_CALLABLE: &str = "not-callable";
    pub const STACK: &str = "stack-depth-exceeded";
    pub const CAPABILITY: &str = "capability-error";
    pub const UNKNOWN_CAPABILITY: &str = "unknown-capability";
    pub const VALIDATION: &str = "validation-error";
    pub const ASSERTION: &str = "assertion-error";
    pub const USER: &str = "user-error";
    pub const ARGUMENT: &str = "illegal-argument";
    pub const IO: &str = "io-error";
    pub const PARSE: &str = "parse-error";
    pub const LIMIT: &str = "limit-exceeded";
    /// A file or environment access the runtime's grants do not cover; the message names
    /// the missing grant.
    pub const PERMISSION: &str = "permission-denied";
    /// An effect attempted inside a callback from compiled code: the compiled call bails
    /// and the interpreter re-runs it, effects included, exactly once. Never catchable.
    pub const JIT_IMPURE: &str = "jit-impure-callback";
}

/// A source location: file id and byte range, as the compiler's spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SrcLoc {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

#[derive(Clone)]
pub struct ErrorValue {
    pub kind: String,
    pub message: String,
    pub data: Option<Value>,
    /// Where the error was raised, when known.
    pub loc: Option<SrcLoc>,
    /// Function names from the innermost frame outwards.
    pub trace: Vec<String>,
}

#[derive(Clone)]
pub struct RtError(pub Arc<ErrorValue>);

impl RtError {
    pub fn new(kind: &str, message: impl Into<String>) -> RtError {
        RtError(Arc::new(ErrorValue {
            kind: kind.to_string(),
            message: message.into(),
            data: None,
            loc: None,
            trace: Vec::new(),
        }))
    }
    pub fn with_data(kind: &str, message: impl Into<String>, data: Value) -> RtError {
        let mut e = RtError::new(kind, message);
        Arc::make_mut(&mut e.0).data = Some(data);
        e
    }
    pub fn type_error(message: impl Into<String>) -> RtError {
        RtError::new(kind::TYPE, message)
    }
    /// "`name` expects a number, got string".
    pub fn expected(func: &str, what: &str, got: &Value) -> RtError {
        RtError::new(
            kind::TYPE,
            format!("{func} expects {what}, got {}", got.type_name()),
        )
    }
    pub fn arity(func: &str, expected: &str, got: usize) -> RtError {
        RtError::new(
            kind::ARITY,
            format!("wrong number of arguments to {func}: expected {expected}, got {got}"),
        )
    }
    pub fn kind(&self) -> &str {
        &self.0.kind
    }
    pub fn message(&self) -> &str {
        &self.0.message
    }
    pub fn loc(&self) -> Option<SrcLoc> {
        self.0.loc
    }
    /// Sets the location if none is recorded yet (the innermost site wins).
    pub fn at(mut self, loc: SrcLoc) -> RtError {
        if self.0.loc.is_none() {
            Arc::make_mut(&mut self.0).loc = Some(loc);
        }
        self
    }
    pub fn push_trace(&mut self, frame: &str) {
        let e = Arc::make_mut(&mut self.0);
        if e.trace.len() < 64 {
            e.trace.push(frame.to_string());
        }
    }
    pub fn into_value(self) -> Value {
        Value::Error(self.0)
    }
}

impl fmt::Display for RtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.kind, self.0.message)
    }
}

impl fmt::Debug for RtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RtError({self})")
    }
}

impl std::error::Error for RtError {}

pub type RtResult<T> = Result<T, RtError>;
