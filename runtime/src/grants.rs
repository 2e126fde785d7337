//! What a running program may touch on the host: the directories it may read and write and
//! the environment variables it may read (Deno-style grants: default deny). The effect
//! capabilities (`effects.rs`) ask here before every access; a refusal is a catchable
//! `permission-denied` error naming the grant that would allow it.
//!
//! Paths are confined by resolution, not by string prefix: a path is made absolute against
//! the working directory, `.`/`..` are folded, and the longest existing prefix is
//! canonicalised (which resolves symlinks), so `../` escapes, absolute paths outside every
//! root and symlinks pointing out of a root are all refused. Roots are canonicalised when
//! granted. What stays open is a race: a directory swapped for a symlink between the check
//! and the open (the same limit as Deno's).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rtfs_ir::error::kind;
use rtfs_ir::{RtError, RtResult};

/// Reads an environment variable; injectable so tests never mutate the process environment.
pub type EnvSource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The grants of one runtime. `Grants::default()` grants nothing.
#[derive(Clone)]
pub struct Grants {
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    env: Vec<String>,
    env_source: EnvSource,
}

impl Default for Grants {
    fn default() -> Self {
        Grants {
            read: Vec::new(),
            write: Vec::new(),
            env: Vec::new(),
            env_source: Arc::new(|name| std::env::var(name).ok()),
        }
    }
}

impl std::fmt::Debug for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grants")
            .field("read", &self.read)
            .field("write", &self.write)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// Which kind of file access is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    fn verb(self) -> &'static str {
        match self {
            Access::Read => "reading",
            Access::Write => "writing",
        }
    }
    fn flag(self) -> &'static str {
        match self {
            Access::Read => "--allow-read",
            Access::Write => "--allow-write",
        }
    }
}

fn root(dir: &Path, what: &str) -> Result<PathBuf, String> {
    let canon = dir
        .canonicalize()
        .map_err(|e| format!("{what} {}: {e}", dir.display()))?;
    if !canon.is_dir() {
        return Err(format!("{what} {}: not a directory", dir.display()));
    }
    Ok(canon)
}

impl Grants {
    /// Lets programs read files under `dir` (which must exist; it is canonicalised now).
    pub fn allow_read(&mut self, dir: impl AsRef<Path>) -> Result<(), String> {
        let r = root(dir.as_ref(), "--allow-read")?;
        self.read.push(r);
        Ok(())
    }

    /// Lets programs write (create or replace) files under `dir`.
    pub fn allow_write(&mut self, dir: impl AsRef<Path>) -> Result<(), String> {
        let r = root(dir.as_ref(), "--allow-write")?;
        self.write.push(r);
        Ok(())
    }

    /// Lets programs read the environment variable `name`; `*` in it matches any run of
    /// characters (`RTFS_*`, or `*` for every variable).
    pub fn allow_env(&mut self, name: &str) -> Result<(), String> {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(format!(
                "--allow-env {name:?}: not a variable name or pattern"
            ));
        }
        self.env.push(name.to_string());
        Ok(())
    }

    /// Where `ccos.env/get` reads variables (default: the process environment).
    pub fn set_env_source(&mut self, source: EnvSource) {
        self.env_source = source;
    }

    pub fn read_roots(&self) -> &[PathBuf] {
        &self.read
    }
    pub fn write_roots(&self) -> &[PathBuf] {
        &self.write
    }
    pub fn env_patterns(&self) -> &[String] {
        &self.env
    }

    /// The value of `name` when a grant covers it (`None` when unset).
    pub fn env_var(&self, name: &str) -> RtResult<Option<String>> {
        if !self.env.iter().any(|p| glob_match(p, name)) {
            return Err(RtError::new(
                kind::PERMISSION,
                format!("reading env var {name} needs --allow-env {name}"),
            ));
        }
        Ok((self.env_source)(name))
    }

    /// The resolved path to use for `access` to `path`, or `permission-denied`.
    pub fn check(&self, access: Access, path: &str) -> RtResult<PathBuf> {
        let roots = match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        };
        let lexical = absolute(path)?;
        let resolved = resolve(&lexical);
        if roots.iter().any(|r| resolved.starts_with(r)) {
            return Ok(resolved);
        }
        let dir = if resolved.is_dir() {
            resolved.as_path()
        } else {
            resolved.parent().unwrap_or(Path::new("/"))
        };
        let via = if resolved != lexical && roots.iter().any(|r| lexical.starts_with(r)) {
            format!(" (it resolves through a symlink to {})", resolved.display())
        } else {
            String::new()
        };
        Err(RtError::new(
            kind::PERMISSION,
            format!(
                "{} {}{via} needs {} {} (or a parent)",
                access.verb(),
                lexical.display(),
                access.flag(),
                dir.display()
            ),
        ))
    }
}

/// `path` made absolute against the working directory with `.` and `..` folded (`..` at
/// the root stays at the root, as the kernel does).
fn absolute(path: &str) -> RtResult<PathBuf> {
    if path.is_empty() || path.contains('\0') {
        return Err(RtError::new(
            kind::ARGUMENT,
            format!("not a usable path: {path:?}"),
        ));
    }
    let p = Path::new(path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| RtError::new(kind::IO, format!("no working directory: {e}")))?
            .join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The canonical form of the longest existing prefix of `p` (symlinks resolved) followed by
/// the rest, which does not exist yet and so can hold no symlink.
fn resolve(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            // Nothing of it exists (not even `/`): keep the lexical form.
            _ => return p.to_path_buf(),
        }
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name.ends_with(last) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("HOME", "HOME"));
        assert!(!glob_match("HOME", "HOMER"));
        assert!(glob_match("*", "ANY"));
        assert!(glob_match("RTFS_*", "RTFS_X"));
        assert!(!glob_match("RTFS_*", "XRTFS_"));
        assert!(glob_match("*_KEY", "OPENAI_API_KEY"));
        assert!(glob_match("A*B*C", "AxxBxC"));
        assert!(!glob_match("A*B*C", "AxxCxB"));
        assert!(!glob_match("AB*BA", "ABA"));
    }

    #[test]
    fn dot_dot_is_folded_before_the_check() {
        let p = absolute("/a/b/../../../etc/passwd").unwrap();
        assert_eq!(p, PathBuf::from("/etc/passwd"));
        let p = absolute("/a/./b/../c").unwrap();
        assert_eq!(p, PathBuf::from("/a/c"));
    }

    #[test]
    fn nothing_is_granted_by_default() {
        let g = Grants::default();
        let e = g.check(Access::Read, "/etc/passwd").unwrap_err();
        assert_eq!(e.kind(), kind::PERMISSION);
        assert!(
            e.message()
                .contains("reading /etc/passwd needs --allow-read /etc (or a parent)"),
            "{}",
            e.message()
        );
        let e = g.env_var("HOME").unwrap_err();
        assert_eq!(e.message(), "reading env var HOME needs --allow-env HOME");
    }
}
