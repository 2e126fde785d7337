//! Finding a project's `.rtfs` files under a directory (for `rtfs test`, `rtfs fmt` and
//! `rtfs doc`): sorted, skipping hidden directories and `target/`.

use std::path::{Path, PathBuf};

/// Appends every `.rtfs` file under `dir` to `out`, in sorted path order.
pub(crate) fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect(&p, out)?;
            }
        } else if name.ends_with(".rtfs") {
            out.push(p);
        }
    }
    Ok(())
}
