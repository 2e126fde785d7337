//! Opening registries from their strings (`--registry REG`, `[mesh] registries`): which
//! backend a string names, where git clones and the local record cache live, and the
//! federation that puts several in front of one resolver.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{DirRegistry, Federation, GitRegistry, HttpRegistry, Registry};
use crate::error::{MeshError, Result};
use crate::signing::TrustStore;

/// How a registry string (`--registry REG`) is interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrySpec {
    Dir(PathBuf),
    Git(String),
    Http(String),
}

impl RegistrySpec {
    /// `http://…`/`https://…` → HTTP; `file://…`, `git+…://…`, `ssh://…`, `git://…`,
    /// `user@host:path` → git; `dir:PATH` or any other string → a directory.
    pub fn parse(s: &str) -> Result<RegistrySpec> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MeshError::Config("empty registry".into()));
        }
        if let Some(rest) = s.strip_prefix("git+") {
            return Ok(RegistrySpec::Git(rest.to_string()));
        }
        if let Some(rest) = s.strip_prefix("dir:") {
            return Ok(RegistrySpec::Dir(PathBuf::from(rest)));
        }
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(RegistrySpec::Http(s.trim_end_matches('/').to_string()));
        }
        if s.starts_with("file://") || s.starts_with("ssh://") || s.starts_with("git://") {
            return Ok(RegistrySpec::Git(s.to_string()));
        }
        if s.contains("://") {
            return Err(MeshError::Config(format!(
                "unsupported registry URL `{s}` (use a directory, file://, git+https://, ssh:// or http(s)://)"
            )));
        }
        if is_host_port(s) {
            return Ok(RegistrySpec::Http(format!("http://{s}")));
        }
        if let Some((user_host, _)) = s.split_once(':')
            && user_host.contains('@')
            && !user_host.contains('/')
        {
            return Ok(RegistrySpec::Git(s.to_string()));
        }
        Ok(RegistrySpec::Dir(PathBuf::from(s)))
    }

    /// Federation order class: HTTP(S) primary, then git, then directories.
    pub fn priority_class(&self) -> u8 {
        match self {
            RegistrySpec::Http(_) => 0,
            RegistrySpec::Git(_) => 1,
            RegistrySpec::Dir(_) => 2,
        }
    }
}

/// `HOST:PORT` (what `rtfs mesh serve` prints) names an HTTP registry.
fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
        None => false,
    }
}

/// Settings for opening registries from their strings.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Where git clones and the federation's local record cache live.
    pub cache_dir: PathBuf,
    pub sync_interval: Duration,
    pub http_timeout: Duration,
    /// Keep a local copy of every record fetched, used when every registry is down.
    pub local_cache: bool,
    /// Publisher keys the federation uses to discard unverifiable records before choosing.
    pub trust: Option<Arc<TrustStore>>,
    /// Bearer token sent with writes to HTTP registries.
    pub http_token: Option<String>,
    /// Publisher public key (hex) sent with writes to HTTP registries.
    pub publisher_key: Option<String>,
}

impl OpenOptions {
    pub fn new(cache_dir: impl Into<PathBuf>) -> OpenOptions {
        OpenOptions {
            cache_dir: cache_dir.into(),
            sync_interval: Duration::from_secs(60),
            http_timeout: Duration::from_secs(5),
            local_cache: true,
            trust: None,
            http_token: None,
            publisher_key: None,
        }
    }

    /// `$RTFS_MESH_CACHE`, else `$XDG_CACHE_HOME/rtfs/mesh`, else `~/.cache/rtfs/mesh`.
    pub fn default_cache_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("RTFS_MESH_CACHE") {
            return PathBuf::from(d);
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
            return Path::new(&d).join("rtfs").join("mesh");
        }
        if let Some(h) = std::env::var_os("HOME") {
            return Path::new(&h).join(".cache").join("rtfs").join("mesh");
        }
        std::env::temp_dir().join("rtfs-mesh-cache")
    }

    fn git_clone_dir(&self, url: &str) -> PathBuf {
        let h = blake3::hash(url.as_bytes()).to_hex();
        self.cache_dir.join("git").join(&h.as_str()[..16])
    }
}

/// Opens one registry from its string form.
pub fn open_one(spec: &RegistrySpec, opts: &OpenOptions) -> Result<Arc<dyn Registry>> {
    Ok(match spec {
        RegistrySpec::Dir(p) => Arc::new(DirRegistry::open(p)?),
        RegistrySpec::Git(url) => Arc::new(GitRegistry::open(
            url,
            opts.git_clone_dir(url),
            opts.sync_interval,
        )?),
        RegistrySpec::Http(url) => Arc::new(
            HttpRegistry::new(url, opts.http_timeout)?
                .with_token(opts.http_token.clone())
                .with_publisher_key(opts.publisher_key.clone()),
        ),
    })
}

/// Opens every registry string and federates them when there is more than one, or when a
/// local cache is wanted in front of a remote one.
pub fn open_registries(specs: &[String], opts: &OpenOptions) -> Result<Arc<dyn Registry>> {
    if specs.is_empty() {
        return Err(MeshError::Config("no registry given".into()));
    }
    let mut parsed = specs
        .iter()
        .map(|s| RegistrySpec::parse(s))
        .collect::<Result<Vec<_>>>()?;
    let remote = parsed.iter().any(|s| !matches!(s, RegistrySpec::Dir(_)));
    if parsed.len() == 1 && !(remote && opts.local_cache) {
        return open_one(&parsed[0], opts);
    }
    parsed.sort_by_key(|s| s.priority_class());
    let mut fed = Federation::new().with_member_timeout(opts.http_timeout);
    if let Some(t) = &opts.trust {
        fed = fed.with_trust(t.clone());
    }
    for s in &parsed {
        fed = fed.with_member(open_one(s, opts)?);
    }
    if remote && opts.local_cache {
        fed = fed.with_local_cache(Arc::new(DirRegistry::create(
            opts.cache_dir.join("records"),
        )?));
    }
    Ok(Arc::new(fed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_strings() {
        assert_eq!(
            RegistrySpec::parse("/tmp/x").unwrap(),
            RegistrySpec::Dir("/tmp/x".into())
        );
        assert_eq!(
            RegistrySpec::parse("file:///tmp/x.git").unwrap(),
            RegistrySpec::Git("file:///tmp/x.git".into())
        );
        assert_eq!(
            RegistrySpec::parse("git+https://h/r.git").unwrap(),
            RegistrySpec::Git("https://h/r.git".into())
        );
        assert_eq!(
            RegistrySpec::parse("http://127.0.0.1:8080/").unwrap(),
            RegistrySpec::Http("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            RegistrySpec::parse("git@github.com:o/r.git").unwrap(),
            RegistrySpec::Git("git@github.com:o/r.git".into())
        );
        assert!(RegistrySpec::parse("ftp://x").is_err());
        assert_eq!(
            RegistrySpec::parse("127.0.0.1:4000").unwrap(),
            RegistrySpec::Http("http://127.0.0.1:4000".into())
        );
    }
}
