//! `rtfs check --watch FILE`: checks the file, then again whenever it changes (its
//! modification time or length, polled every 200 ms), recompiling only the forms that changed
//! (`Runtime::check_incremental`). Runs until interrupted (Ctrl-C).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rtfs_runtime::Runtime;

const POLL: Duration = Duration::from_millis(200);

/// What identifies a version of the file without reading it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
    })
}

/// One watched file and the runtime that keeps its compiled state between checks.
pub struct Watcher {
    path: PathBuf,
    name: String,
    rt: Runtime,
    /// The stamp of the version last looked at; `None` before the first look or while the
    /// file is missing.
    seen: Option<Option<Stamp>>,
}

impl Watcher {
    pub fn new(path: PathBuf) -> Watcher {
        let name = path.display().to_string();
        Watcher {
            path,
            name,
            rt: Runtime::new(),
            seen: None,
        }
    }

    /// Checks the file if it changed since the last call (always on the first call). Returns
    /// the exit status `rtfs check` would give that version, or `None` if nothing changed.
    pub fn poll(&mut self, out: &mut dyn Write, err: &mut dyn Write) -> Option<i32> {
        let now = stamp(&self.path);
        if self.seen == Some(now) {
            return None;
        }
        self.seen = Some(now);
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                let _ = writeln!(err, "error: cannot read {}: {e}", self.name);
                return Some(2);
            }
        };
        Some(self.check(&bytes, out, err))
    }

    fn check(&mut self, bytes: &[u8], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        let Ok(text) = std::str::from_utf8(bytes) else {
            // Not UTF-8: the ordinary path reports where.
            return match self.rt.compile_source(&self.name, bytes) {
                Ok(_) => 0,
                Err(e) => {
                    let _ = write!(err, "{}", self.rt.render_error(&e));
                    e.exit_code()
                }
            };
        };
        let mut result = self.rt.check_incremental(&self.name, text);
        let removed = self
            .rt
            .last_incremental_check()
            .map(|r| r.removed_definitions.clone())
            .unwrap_or_default();
        if !removed.is_empty() {
            // A name the file no longer defines is still defined in this environment, which
            // could hide errors: answer from a fresh one, as a plain `rtfs check` would.
            let _ = writeln!(
                err,
                "note: {} no longer defined; rechecking from scratch",
                removed.join(", ")
            );
            self.rt = Runtime::new();
            result = self.rt.check_incremental(&self.name, text);
        }
        match result {
            Ok(report) => {
                let s = report.stats;
                let _ = writeln!(
                    out,
                    "ok: {} ({} forms, {} recompiled)",
                    self.name, s.forms, s.forms_lowered
                );
                let _ = out.flush();
                0
            }
            Err(e) => {
                let _ = write!(err, "{}", self.rt.render_error(&e));
                let _ = err.flush();
                e.exit_code()
            }
        }
    }
}

/// Watches `file` until the process is interrupted.
pub fn run(file: PathBuf) -> i32 {
    if let Err(e) = std::fs::metadata(&file) {
        eprintln!("error: cannot read {}: {e}", file.display());
        return 2;
    }
    eprintln!("watching {} (Ctrl-C to stop)", file.display());
    let mut watcher = Watcher::new(file);
    loop {
        let mut out = std::io::stdout().lock();
        let mut err = std::io::stderr().lock();
        watcher.poll(&mut out, &mut err);
        drop((out, err));
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(w: &mut Watcher) -> (Option<i32>, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = w.poll(&mut out, &mut err);
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn rechecks_only_when_the_file_changes() {
        let dir = std::env::temp_dir().join(format!("rtfs-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("w.rtfs");
        let three = "(defn f [x] (* x 2))\n(def a (f 1))\n(def b (f 2))\n";
        std::fs::write(&path, three).ok();
        let mut w = Watcher::new(path.clone());

        let (code, out, _) = poll(&mut w);
        assert_eq!(code, Some(0));
        assert!(out.contains("(3 forms, 3 recompiled)"), "{out}");
        assert_eq!(poll(&mut w).0, None, "unchanged file: no check");

        // A different length, so the change shows even with a coarse mtime.
        std::fs::write(&path, three.replace("(f 2)", "(f 200)")).ok();
        let (code, out, _) = poll(&mut w);
        assert_eq!(code, Some(0));
        assert!(out.contains("(3 forms, 1 recompiled)"), "{out}");

        std::fs::write(&path, three.replace("(f 2))", "(f 2)")).ok();
        let (code, _, err) = poll(&mut w);
        assert_eq!(code, Some(2));
        assert!(err.contains("w.rtfs"), "{err}");

        // Dropping `b` starts afresh: everything is recompiled in a new environment.
        std::fs::write(&path, "(defn f [x] (* x 2))\n(def a (f 1))\n").ok();
        let (code, out, err) = poll(&mut w);
        assert_eq!(code, Some(0));
        assert!(err.contains("b no longer defined"), "{err}");
        assert!(out.contains("(2 forms, 2 recompiled)"), "{out}");

        std::fs::remove_dir_all(&dir).ok();
    }
}
