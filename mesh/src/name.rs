//! Function names and queries.
//!
//! A name is `/`-separated segments: `image-processing/sharpen`, or with a vendor namespace
//! `acme.com/image-processing/sharpen`. The first segment is a *vendor* when it contains a
//! dot (a domain the vendor controls); names without one live in the shared community
//! namespace. Vendored and bare names never alias each other: `image-processing/sharpen`
//! resolves only the record registered under exactly that name, so a vendor cannot capture a
//! community name and the community cannot shadow a vendor's.
//!
//! Segments are lowercase ASCII letters, digits, `-`, `_` and `.`, start with a letter or
//! digit and never contain `..`; this keeps names safe as path components in the sharded
//! directory and git layouts and identical on case-insensitive file systems.

use std::fmt;
use std::sync::Arc;

use crate::error::{MeshError, Result};
use crate::version::VersionSpec;

pub const MAX_NAME_LEN: usize = 255;
pub const MAX_SEGMENT_LEN: usize = 64;
pub const MAX_SEGMENTS: usize = 8;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionName {
    full: Arc<str>,
}

impl FunctionName {
    pub fn parse(s: &str) -> Result<FunctionName> {
        let bad = |reason: &str| MeshError::InvalidName {
            name: s.chars().take(80).collect(),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.len() > MAX_NAME_LEN {
            return Err(bad("longer than 255 bytes"));
        }
        let segments: Vec<&str> = s.split('/').collect();
        if segments.len() < 2 {
            return Err(bad(
                "needs a namespace and a function: `namespace/function`",
            ));
        }
        if segments.len() > MAX_SEGMENTS {
            return Err(bad("more than 8 segments"));
        }
        for seg in &segments {
            if seg.is_empty() {
                return Err(bad("empty segment"));
            }
            if seg.len() > MAX_SEGMENT_LEN {
                return Err(bad("segment longer than 64 bytes"));
            }
            let first = seg.as_bytes()[0];
            if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
                return Err(bad("segments start with a lowercase letter or a digit"));
            }
            if seg.contains("..") {
                return Err(bad("`..` is not allowed"));
            }
            if let Some(c) = seg
                .chars()
                .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(*c)))
            {
                return Err(bad(&format!(
                    "character {c:?} not allowed (use a-z, 0-9, `-`, `_`, `.`)"
                )));
            }
        }
        Ok(FunctionName { full: Arc::from(s) })
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }

    pub fn as_arc(&self) -> &Arc<str> {
        &self.full
    }

    /// The vendor domain, when the first segment is one (`acme.com`).
    pub fn vendor(&self) -> Option<&str> {
        let first = self.full.split('/').next()?;
        first.contains('.').then_some(first)
    }

    /// Everything before the last segment: `acme.com/image-processing`.
    pub fn namespace(&self) -> &str {
        match self.full.rfind('/') {
            Some(i) => &self.full[..i],
            None => "",
        }
    }

    /// The last segment: `sharpen`.
    pub fn leaf(&self) -> &str {
        match self.full.rfind('/') {
            Some(i) => &self.full[i + 1..],
            None => &self.full,
        }
    }

    /// True when `prefix` is this name's namespace or an ancestor of it, segment-wise
    /// (`acme.com` covers `acme.com/x/y`, not `acme.company/x`). `*` covers everything.
    pub fn is_under(&self, prefix: &str) -> bool {
        if prefix == "*" || prefix.is_empty() {
            return true;
        }
        let ns = self.namespace();
        ns == prefix
            || (ns.len() > prefix.len()
                && ns.starts_with(prefix)
                && ns.as_bytes()[prefix.len()] == b'/')
    }
}

impl fmt::Display for FunctionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for FunctionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FunctionName({})", self.full)
    }
}

/// `NAME[@REQ]` as typed by a user or written in a `(call ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionQuery {
    pub name: FunctionName,
    pub version: VersionSpec,
}

impl FunctionQuery {
    pub fn parse(s: &str) -> Result<FunctionQuery> {
        let (name, req) = split_query(s);
        Ok(FunctionQuery {
            name: FunctionName::parse(name)?,
            version: match req {
                Some(r) => VersionSpec::parse(r)?,
                None => VersionSpec::Latest,
            },
        })
    }
}

/// Splits `name@req` without validating either half; cheap enough for the cached fast path.
pub fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.find('@') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_vendored_names() {
        let n = FunctionName::parse("image-processing/sharpen").unwrap();
        assert_eq!(n.namespace(), "image-processing");
        assert_eq!(n.leaf(), "sharpen");
        assert_eq!(n.vendor(), None);
        let v = FunctionName::parse("acme.com/image-processing/sharpen").unwrap();
        assert_eq!(v.vendor(), Some("acme.com"));
        assert_eq!(v.namespace(), "acme.com/image-processing");
        assert!(v.is_under("acme.com"));
        assert!(!v.is_under("acme.co"));
        assert!(v.is_under("*"));
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "", "sharpen", "a//b", "A/b", "a/../b", "a/b~c", "/a/b", "a/b/", "a/.b", "a/b c",
        ] {
            assert!(FunctionName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn parses_queries() {
        let q = FunctionQuery::parse("image-processing/sharpen@^1.1").unwrap();
        assert_eq!(q.name.as_str(), "image-processing/sharpen");
        assert!(matches!(q.version, VersionSpec::Req(_)));
        assert!(FunctionQuery::parse("a/b@not a version").is_err());
    }
}
