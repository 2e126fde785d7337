//! Small file-system helpers shared by the writer and the CLI.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::ChainError;

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a
/// mixture: a temporary file beside it is written, synced and renamed over it.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ChainError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "head".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir);
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ChainError::io(path, e)
    })
}

/// Makes a directory entry (a new or renamed file) durable. Best effort: not every
/// platform lets a directory be opened and synced.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
