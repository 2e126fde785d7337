//! The crate's error type. Tampering found while opening or proving is an error carrying
//! the [`Problem`]; tampering found by [`crate::verify`] is a normal report instead.

use std::io;
use std::path::PathBuf;

use crate::verify::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: the chain does not verify: {problem}", path.display())]
    Tampered { path: PathBuf, problem: Problem },
    #[error("{}: another writer has the chain open", path.display())]
    Locked { path: PathBuf },
    #[error("an entry of {len} bytes is over the {limit}-byte line limit")]
    TooLarge { len: usize, limit: usize },
    #[error("cannot encode the action: {0}")]
    Encode(String),
    #[error("the chain writer failed earlier and takes no more appends: {0}")]
    Poisoned(String),
    #[error("entry {index} is not in a chain of {size} entries")]
    NoSuchEntry { index: u64, size: u64 },
    #[error("bad tree head: {0}")]
    Head(String),
    #[error("recording failed: {0}")]
    Sink(String),
}

impl ChainError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> ChainError {
        ChainError::Io {
            path: path.into(),
            source,
        }
    }
}
