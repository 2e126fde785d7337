//! [`ChainWriter`]: appends actions to a chain file. Opening verifies the whole file and
//! recovers from a crash mid-append by cutting off the torn last line; a file that does not
//! verify is refused rather than extended, so a writer never builds on tampered history.
//! One writer per file (an advisory lock keeps a second one out).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::action::Action;
use crate::entry::Chainer;
use crate::error::ChainError;
use crate::hash::Hash;
use crate::head::TreeHead;
use crate::verify::{Status, scan};

/// When appended entries are forced to stable storage. Every append reaches the operating
/// system before `append` returns, so a crash of the process loses nothing in any mode;
/// the policy is about power loss and kernel crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// fsync after every append: durable, slowest.
    Always,
    /// fsync after every `n` appends (and on close).
    EveryN(u32),
    /// fsync only on [`ChainWriter::sync`] and when the writer is dropped. The default,
    /// because a run with many calls should not pay a disk flush per call.
    #[default]
    OnClose,
}

#[derive(Clone, Debug, Default)]
pub struct ChainConfig {
    pub fsync: FsyncPolicy,
    /// Keep `raw_inputs`/`raw_output`; when false (the default) they are stripped before
    /// writing so that only hashes of values reach the file.
    pub keep_raw: bool,
}

pub struct ChainWriter {
    path: PathBuf,
    file: File,
    chainer: Chainer,
    /// Bytes of the file holding verified, complete entries; writes go here.
    len_bytes: u64,
    config: ChainConfig,
    unsynced: u32,
    poisoned: Option<String>,
    recovered_bytes: u64,
}

impl ChainWriter {
    /// Opens (or creates) the chain at `path`, verifying it. A torn final line is
    /// truncated off; any other problem is [`ChainError::Tampered`].
    pub fn open(path: impl AsRef<Path>, config: ChainConfig) -> Result<ChainWriter, ChainError> {
        let path = path.as_ref().to_path_buf();
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| ChainError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(ChainError::Locked { path }),
            // File systems without locks: carry on unprotected rather than refuse to log.
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {}
            Err(TryLockError::Error(e)) => return Err(ChainError::io(&path, e)),
        }
        if !existed && let Some(dir) = path.parent() {
            crate::fsutil::sync_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            });
        }
        let found = scan(BufReader::with_capacity(1 << 16, &file), None, |_| {})
            .map_err(|e| ChainError::io(&path, e))?;
        let report = found.report;
        let mut recovered_bytes = 0;
        match report.status {
            Status::Valid => {}
            Status::IncompleteTail { bytes } => {
                file.set_len(report.valid_bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| ChainError::io(&path, e))?;
                recovered_bytes = bytes;
            }
            Status::Tampered(problem) => return Err(ChainError::Tampered { path, problem }),
        }
        file.seek(SeekFrom::Start(report.valid_bytes))
            .map_err(|e| ChainError::io(&path, e))?;
        let chainer = Chainer::resume(report.last_hash, found.frontier, config.keep_raw);
        Ok(ChainWriter {
            path,
            file,
            chainer,
            len_bytes: report.valid_bytes,
            config,
            unsynced: 0,
            poisoned: None,
            recovered_bytes,
        })
    }

    /// Appends `action` (its `seq` becomes its index; raw values are stripped unless
    /// configured) and returns its index.
    pub fn append(&mut self, action: Action) -> Result<u64, ChainError> {
        if let Some(why) = &self.poisoned {
            return Err(ChainError::Poisoned(why.clone()));
        }
        let (line, leaf, action) = self.chainer.prepare(action)?;
        if let Err(e) = self.file.write_all(&line) {
            // Take a partial line back off so the file stays a valid chain.
            let len = self.len_bytes;
            let undo = self
                .file
                .set_len(len)
                .and_then(|()| self.file.seek(SeekFrom::Start(len)).map(|_| ()));
            if let Err(u) = undo {
                self.poisoned = Some(format!("a failed append could not be undone: {u}"));
            }
            return Err(ChainError::io(&self.path, e));
        }
        self.len_bytes += line.len() as u64;
        self.chainer.commit(leaf);
        self.unsynced += 1;
        let due = match self.config.fsync {
            FsyncPolicy::Always => true,
            FsyncPolicy::EveryN(n) => self.unsynced >= n.max(1),
            FsyncPolicy::OnClose => false,
        };
        if due {
            self.sync()?;
        }
        Ok(action.seq)
    }

    /// Forces everything appended so far to stable storage. A failed fsync poisons the
    /// writer: after one, the kernel may have dropped the data, and appending more would
    /// build on entries that may not exist.
    pub fn sync(&mut self) -> Result<(), ChainError> {
        if let Some(why) = &self.poisoned {
            return Err(ChainError::Poisoned(why.clone()));
        }
        if self.unsynced == 0 {
            return Ok(());
        }
        match self.file.sync_data() {
            Ok(()) => {
                self.unsynced = 0;
                Ok(())
            }
            Err(e) => {
                self.poisoned = Some(format!("fsync failed: {e}"));
                Err(ChainError::io(&self.path, e))
            }
        }
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.chainer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Merkle root over all entries.
    pub fn root(&self) -> Hash {
        self.chainer.root()
    }

    /// The current tree head (size and root), for saving and later checks.
    pub fn head(&self) -> TreeHead {
        TreeHead::new(self.len(), self.root())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn keeps_raw(&self) -> bool {
        self.chainer.keeps_raw()
    }

    /// Bytes of a torn final line that opening cut off (0 when the file was clean).
    pub fn recovered_bytes(&self) -> u64 {
        self.recovered_bytes
    }
}

impl Drop for ChainWriter {
    fn drop(&mut self) {
        if self.poisoned.is_none() && self.unsynced > 0 {
            let _ = self.file.sync_data();
        }
    }
}
