//! Atomic file writes: a reader never sees half a record, and a crash leaves either the old
//! file or the new one.

use std::io::Write;
use std::path::Path;

use crate::error::{MeshError, Result};

pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| MeshError::Io(format!("{}: {e}", dir.display())))?;
    if private {
        set_private(tmp.as_file())?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| MeshError::Io(format!("{}: {}", path.display(), e.error)))?;
    Ok(())
}

#[cfg(unix)]
fn set_private(f: &std::fs::File) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn set_private(_f: &std::fs::File) -> Result<()> {
    Ok(())
}
