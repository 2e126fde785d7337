//! Version requirements and the choice of a record's version.
//!
//! A bare complete version (`sharpen@1.0.0`) means *exactly* that version, as in npm — not
//! Cargo's caret — because "deprecated versions resolve only when asked for exactly" needs a
//! spelling for "exactly". `=1.0.0` means the same. Anything else (`^1.1`, `~1.2`, `>=1, <2`,
//! `1.2`) is a semver requirement and never selects a deprecated version.

use std::fmt;

use semver::{Op, Version, VersionReq};

use crate::error::{MeshError, Result};
use crate::record::{FunctionRecord, ProviderRef};

#[derive(Clone, Debug, PartialEq)]
pub enum VersionSpec {
    /// The record's `latest-version` (or the newest non-deprecated one if that is deprecated).
    Latest,
    Exact(Version),
    Req(VersionReq),
}

impl VersionSpec {
    pub fn parse(s: &str) -> Result<VersionSpec> {
        let s = s.trim();
        let bad = |reason: String| MeshError::InvalidVersion {
            input: s.chars().take(80).collect(),
            reason,
        };
        if s.is_empty() || s == "latest" || s == "*" {
            return Ok(VersionSpec::Latest);
        }
        if let Ok(v) = Version::parse(s) {
            return Ok(VersionSpec::Exact(v));
        }
        let req = VersionReq::parse(s).map_err(|e| bad(e.to_string()))?;
        if let [c] = req.comparators.as_slice()
            && c.op == Op::Exact
            && let (Some(minor), Some(patch)) = (c.minor, c.patch)
        {
            return Ok(VersionSpec::Exact(Version {
                major: c.major,
                minor,
                patch,
                pre: c.pre.clone(),
                build: Default::default(),
            }));
        }
        Ok(VersionSpec::Req(req))
    }
}

impl fmt::Display for VersionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSpec::Latest => f.write_str("latest"),
            VersionSpec::Exact(v) => write!(f, "={v}"),
            VersionSpec::Req(r) => write!(f, "{r}"),
        }
    }
}

/// The outcome of choosing a version: which one, its providers, and warnings to surface.
#[derive(Debug, Clone)]
pub struct ChosenVersion<'r> {
    pub version: Version,
    pub providers: &'r [ProviderRef],
    pub warnings: Vec<String>,
}

/// Picks the version of `record` that `spec` asks for.
pub fn choose_version<'r>(
    record: &'r FunctionRecord,
    spec: &VersionSpec,
) -> Result<ChosenVersion<'r>> {
    let name = record.func_name.as_str();
    let no_match = |hint: String| MeshError::NoMatchingVersion {
        name: name.to_string(),
        req: spec.to_string(),
        hint,
    };
    match spec {
        VersionSpec::Exact(v) => {
            if !record.has_version(v) {
                return Err(no_match(String::new()));
            }
            let mut warnings = Vec::new();
            if record.is_deprecated(v) {
                warnings.push(format!(
                    "version {v} of `{name}` is deprecated; the latest is {}",
                    record.latest_version
                ));
            }
            Ok(ChosenVersion {
                version: v.clone(),
                providers: record.providers_for(v),
                warnings,
            })
        }
        VersionSpec::Latest => {
            let latest = &record.latest_version;
            if !record.is_deprecated(latest) {
                return Ok(ChosenVersion {
                    version: latest.clone(),
                    providers: record.providers_for(latest),
                    warnings: Vec::new(),
                });
            }
            let best = record
                .all_versions()
                .filter(|v| !record.is_deprecated(v))
                .max()
                .cloned();
            match best {
                Some(v) => Ok(ChosenVersion {
                    providers: record.providers_for(&v),
                    warnings: vec![format!(
                        "latest-version {latest} of `{name}` is deprecated; using {v}"
                    )],
                    version: v,
                }),
                None => Err(no_match(
                    " (every version is deprecated; ask for one exactly, e.g. @=1.0.0)".into(),
                )),
            }
        }
        VersionSpec::Req(req) => {
            let best = record
                .all_versions()
                .filter(|v| req.matches(v) && !record.is_deprecated(v))
                .max()
                .cloned();
            if let Some(v) = best {
                return Ok(ChosenVersion {
                    providers: record.providers_for(&v),
                    version: v,
                    warnings: Vec::new(),
                });
            }
            let deprecated: Vec<String> = record
                .all_versions()
                .filter(|v| req.matches(v))
                .map(|v| v.to_string())
                .collect();
            let hint = if deprecated.is_empty() {
                String::new()
            } else {
                format!(
                    " (only deprecated versions match: {}; ask for one exactly, e.g. @={})",
                    deprecated.join(", "),
                    deprecated[deprecated.len() - 1]
                )
            };
            Err(no_match(hint))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_version_is_exact() {
        assert_eq!(
            VersionSpec::parse("1.0.0").unwrap(),
            VersionSpec::Exact(Version::new(1, 0, 0))
        );
        assert_eq!(
            VersionSpec::parse("=1.0.0").unwrap(),
            VersionSpec::Exact(Version::new(1, 0, 0))
        );
        assert!(matches!(
            VersionSpec::parse("^1.1").unwrap(),
            VersionSpec::Req(_)
        ));
        assert!(matches!(
            VersionSpec::parse("=1.0").unwrap(),
            VersionSpec::Req(_)
        ));
        assert_eq!(VersionSpec::parse("").unwrap(), VersionSpec::Latest);
        assert!(VersionSpec::parse("^^1").is_err());
    }
}
