//! `rtfs-atomic-write`: the one way the tree replaces a file's contents.
//!
//! [`write_atomic`] guarantees, in this order:
//! 1. the bytes go to a new temporary file in the **same directory** as the target (so the
//!    rename below cannot cross file systems), created exclusively (`O_EXCL`), with mode
//!    0600 from the start when [`Options::private`] is set (a secret is never readable by
//!    others, not even briefly);
//! 2. the temporary file is `fsync`ed, so its contents are on disk before its name is;
//! 3. it is renamed over the target, so a reader sees the old file or the new one, never a
//!    mixture or a truncated file;
//! 4. the directory is `fsync`ed, so the rename itself survives a crash or power loss.
//!
//! When any step fails the temporary file is removed and the target is untouched (a failed
//! directory sync is reported after the rename, when the new contents are already visible
//! but may not yet be durable). After a crash the target holds the old contents or the new
//! ones; a stray `.NAME.tmp-*` file may be left beside it and is never read.
//!
//! Users: the causal chain's head file, the mesh's directory registry, git registry and key
//! files. The JIT's L4 code cache keeps its own writer (it is being hardened separately).
//!
//! Architecture invariant: std only; host layer (core crates do no file I/O).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Owner-only permissions (0600 on Unix), for secrets such as signing keys.
    pub private: bool,
    /// Create the target's directory (and its parents) first when missing.
    pub create_dir: bool,
}

static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

/// Replaces the contents of `path` with `bytes` atomically and durably (see the crate docs).
pub fn write_atomic(path: &Path, bytes: &[u8], opts: Options) -> io::Result<()> {
    let dir = parent_dir(path);
    if opts.create_dir {
        std::fs::create_dir_all(dir)?;
    }
    let (tmp, mut file) = create_temp(dir, path, opts)?;
    let written = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Makes a directory's entries (a file just created or renamed into it) durable.
/// File systems that cannot sync a directory (they answer "invalid" or "unsupported") are
/// taken to need no sync.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let d = File::open(dir)?;
        match d.sync_all() {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ) =>
            {
                Ok(())
            }
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        // Windows cannot open a directory as a file; NTFS journals the rename itself.
        let _ = dir;
        Ok(())
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn create_temp(dir: &Path, target: &Path, opts: Options) -> io::Result<(PathBuf, File)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    // A stale temp file of a crashed process with the same pid is skipped, not reused.
    let mut last = None;
    for _ in 0..16 {
        let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let mut o = OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        if opts.private {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        match o.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    let _ = opts;
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "rtfs-atomic-write-{tag}-{}-{}",
            std::process::id(),
            NEXT_TMP.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_contents_and_leaves_no_temp_file() {
        let d = scratch("replace");
        let p = d.join("head");
        write_atomic(&p, b"one", Options::default()).unwrap();
        write_atomic(&p, b"two", Options::default()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(entries(&d), vec!["head".to_string()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error_unless_asked_to_create_it() {
        let d = scratch("mkdir");
        let p = d.join("a/b/file.json");
        let e = write_atomic(&p, b"x", Options::default()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let opts = Options {
            create_dir: true,
            ..Options::default()
        };
        write_atomic(&p, b"x", opts).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"x");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_rename_keeps_the_old_target_and_removes_the_temp_file() {
        let d = scratch("fail");
        // A non-empty directory cannot be replaced by a file.
        let p = d.join("occupied");
        std::fs::create_dir_all(p.join("inside")).unwrap();
        assert!(write_atomic(&p, b"x", Options::default()).is_err());
        assert!(p.join("inside").is_dir());
        assert_eq!(entries(&d), vec!["occupied".to_string()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let d = scratch("private");
        let p = d.join("key");
        let opts = Options {
            private: true,
            ..Options::default()
        };
        write_atomic(&p, b"secret", opts).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
