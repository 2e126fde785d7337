//! File-system helpers of the writer and tree heads, through the tree's one atomic-write
//! helper (`rtfs-atomic-write`: temp file in the same directory, fsync, rename, fsync the
//! directory).

use std::path::Path;

use crate::error::ChainError;

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a
/// mixture, and the new one survives a crash once this returns.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ChainError> {
    rtfs_atomic_write::write_atomic(path, bytes, rtfs_atomic_write::Options::default())
        .map_err(|e| ChainError::io(path, e))
}

/// Makes a directory entry (a new or renamed file) durable. Best effort: the chain file's
/// own fsync policy decides what a failure means, and the writer reports those.
pub(crate) fn sync_dir(dir: &Path) {
    let _ = rtfs_atomic_write::sync_dir(dir);
}
