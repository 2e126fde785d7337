//! [`ChainSink`]: where a runtime sends actions. Recording never fails the call being
//! recorded — a sink keeps the first failure and reports it from [`ChainSink::flush`] —
//! because an audit log that aborts the program it audits turns a full disk into an outage.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use crate::action::Action;
use crate::entry::Chainer;
use crate::error::ChainError;
use crate::hash::Hash;
use crate::head::TreeHead;
use crate::writer::{ChainConfig, ChainWriter};

/// A thread-safe destination for actions. Share one as `Arc<dyn ChainSink>`.
pub trait ChainSink: Send + Sync {
    /// Appends `action`; its `seq` is assigned here.
    fn record(&self, action: Action);

    /// Makes what was recorded durable, and returns the first recording failure if any.
    fn flush(&self) -> Result<(), ChainError> {
        Ok(())
    }

    /// False for a sink that discards everything, so callers can skip hashing values.
    fn is_enabled(&self) -> bool {
        true
    }

    /// Whether raw values are kept; when false, callers need not render them.
    fn keeps_raw(&self) -> bool {
        false
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something ever did, the state inside
    // is still consistent (each update is a single assignment after the I/O).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records into a chain file through a [`ChainWriter`].
pub struct FileSink {
    inner: Mutex<FileState>,
}

struct FileState {
    writer: ChainWriter,
    error: Option<String>,
    dropped: u64,
}

impl FileSink {
    pub fn open(path: impl AsRef<Path>, config: ChainConfig) -> Result<FileSink, ChainError> {
        Ok(FileSink::from_writer(ChainWriter::open(path, config)?))
    }

    pub fn from_writer(writer: ChainWriter) -> FileSink {
        FileSink {
            inner: Mutex::new(FileState {
                writer,
                error: None,
                dropped: 0,
            }),
        }
    }

    pub fn len(&self) -> u64 {
        lock(&self.inner).writer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn root(&self) -> Hash {
        lock(&self.inner).writer.root()
    }

    pub fn head(&self) -> TreeHead {
        lock(&self.inner).writer.head()
    }

    /// Actions that could not be written.
    pub fn dropped(&self) -> u64 {
        lock(&self.inner).dropped
    }
}

impl ChainSink for FileSink {
    fn record(&self, action: Action) {
        let mut st = lock(&self.inner);
        if let Err(e) = st.writer.append(action) {
            st.dropped += 1;
            if st.error.is_none() {
                st.error = Some(e.to_string());
            }
        }
    }

    fn flush(&self) -> Result<(), ChainError> {
        let mut st = lock(&self.inner);
        let synced = st.writer.sync();
        if let Some(e) = &st.error {
            return Err(ChainError::Sink(format!(
                "{e} ({} actions not recorded)",
                st.dropped
            )));
        }
        synced
    }

    fn keeps_raw(&self) -> bool {
        lock(&self.inner).writer.keeps_raw()
    }
}

/// Keeps the chain in memory: the actions as stored and the exact JSONL a file would hold,
/// which [`crate::verify_bytes`] accepts. For tests and for hosts that ship the chain
/// elsewhere.
pub struct MemorySink {
    inner: Mutex<MemoryState>,
}

struct MemoryState {
    chainer: Chainer,
    actions: Vec<Action>,
    jsonl: Vec<u8>,
    error: Option<String>,
}

impl Default for MemorySink {
    fn default() -> Self {
        MemorySink::new(false)
    }
}

impl MemorySink {
    /// `keep_raw`: keep raw values, as [`ChainConfig::keep_raw`].
    pub fn new(keep_raw: bool) -> MemorySink {
        MemorySink {
            inner: Mutex::new(MemoryState {
                chainer: Chainer::new(keep_raw),
                actions: Vec::new(),
                jsonl: Vec::new(),
                error: None,
            }),
        }
    }

    /// The actions as stored (with `seq` assigned and raw values stripped if configured).
    pub fn actions(&self) -> Vec<Action> {
        lock(&self.inner).actions.clone()
    }

    /// The chain as JSON lines.
    pub fn jsonl(&self) -> Vec<u8> {
        lock(&self.inner).jsonl.clone()
    }

    pub fn len(&self) -> u64 {
        lock(&self.inner).chainer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn root(&self) -> Hash {
        lock(&self.inner).chainer.root()
    }

    pub fn head(&self) -> TreeHead {
        let st = lock(&self.inner);
        TreeHead::new(st.chainer.len(), st.chainer.root())
    }
}

impl ChainSink for MemorySink {
    fn record(&self, action: Action) {
        let mut st = lock(&self.inner);
        match st.chainer.prepare(action) {
            Ok((line, leaf, action)) => {
                st.chainer.commit(leaf);
                st.jsonl.extend_from_slice(&line);
                st.actions.push(action);
            }
            Err(e) => {
                if st.error.is_none() {
                    st.error = Some(e.to_string());
                }
            }
        }
    }

    fn flush(&self) -> Result<(), ChainError> {
        match &lock(&self.inner).error {
            Some(e) => Err(ChainError::Sink(e.clone())),
            None => Ok(()),
        }
    }

    fn keeps_raw(&self) -> bool {
        lock(&self.inner).chainer.keeps_raw()
    }
}

/// Discards everything: the sink of a run without `--chain`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopSink;

impl ChainSink for NoopSink {
    fn record(&self, _action: Action) {}

    fn is_enabled(&self) -> bool {
        false
    }
}
