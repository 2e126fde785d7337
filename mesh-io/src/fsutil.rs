//! Atomic file writes for registries and key files, through the tree's one atomic-write
//! helper (`rtfs-atomic-write`: temp file in the same directory, fsync, rename, fsync the
//! directory): a reader never sees half a record, and a crash leaves the old file or the new.

use std::path::Path;

use rtfs_atomic_write::Options;

use crate::error::{MeshError, Result};

/// Writes `bytes` to `path`, creating its directory; `private` makes it owner-only (0600).
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let opts = Options {
        private,
        create_dir: true,
    };
    rtfs_atomic_write::write_atomic(path, bytes, opts)
        .map_err(|e| MeshError::Io(format!("{}: {e}", path.display())))
}
