//! Record parsing and validation, shared by the JSON and RTFS codecs.
//!
//! Both formats are walked through the small [`Node`] view so that there is one set of rules
//! and every error names the field path (`providers[1].cost-per-call`). Unknown fields are
//! ignored for forward compatibility; they are also outside the signed canonical encoding,
//! so ignoring them cannot hide a change to anything the mesh acts on.

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use semver::Version;

use crate::error::{MeshError, Result};
use crate::name::FunctionName;
use crate::record::{
    FunctionRecord, ProviderRef, RECORD_TYPE, RecordSignature, SecurityRequirements, VersionEntry,
};
use crate::security::SecurityLevel;

pub const MAX_PROVIDERS: usize = 1024;
pub const MAX_VERSIONS: usize = 1024;
pub const MAX_TEXT: usize = 4096;
pub const MAX_ID: usize = 128;

/// A read-only view of a JSON value or an RTFS value.
pub trait Node: Sized {
    fn kind(&self) -> &'static str;
    fn is_null(&self) -> bool;
    fn as_text(&self) -> Option<&str>;
    /// A keyword (RTFS) or a string (JSON), for enum-like fields such as `:controlled`.
    fn as_symbolic(&self) -> Option<&str>;
    fn as_number(&self) -> Option<f64>;
    fn as_u64(&self) -> Option<u64>;
    fn as_bool(&self) -> Option<bool>;
    fn as_list(&self) -> Option<Vec<&Self>>;
    /// Map entry by field name (keyword or string key).
    fn get(&self, key: &str) -> Option<&Self>;
    /// All entries of a map whose keys are strings or keywords.
    fn entries(&self) -> Option<Vec<(String, &Self)>>;
    fn is_map(&self) -> bool;
}

fn field<'a, N: Node>(m: &'a N, key: &str) -> Option<&'a N> {
    m.get(key).filter(|v| !v.is_null())
}

fn path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn text<N: Node>(m: &N, prefix: &str, key: &str, required: bool) -> Result<Option<String>> {
    match field(m, key) {
        None if required => Err(MeshError::invalid(path(prefix, key), "missing")),
        None => Ok(None),
        Some(v) => match v.as_text() {
            Some(s) if s.len() > MAX_TEXT => Err(MeshError::invalid(
                path(prefix, key),
                "longer than 4096 bytes",
            )),
            Some(s) => Ok(Some(s.to_string())),
            None => Err(MeshError::invalid(
                path(prefix, key),
                format!("expected a string, got {}", v.kind()),
            )),
        },
    }
}

fn non_negative<N: Node>(m: &N, prefix: &str, key: &str) -> Result<f64> {
    match field(m, key) {
        None => Ok(0.0),
        Some(v) => match v.as_number() {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
            Some(x) => Err(MeshError::invalid(
                path(prefix, key),
                format!("must be a finite non-negative number, got {x}"),
            )),
            None => Err(MeshError::invalid(
                path(prefix, key),
                format!("expected a number, got {}", v.kind()),
            )),
        },
    }
}

fn string_list<N: Node>(m: &N, prefix: &str, key: &str) -> Result<Vec<String>> {
    let Some(v) = field(m, key) else {
        return Ok(Vec::new());
    };
    let items = v.as_list().ok_or_else(|| {
        MeshError::invalid(
            path(prefix, key),
            format!("expected a list, got {}", v.kind()),
        )
    })?;
    if items.len() > MAX_PROVIDERS {
        return Err(MeshError::invalid(path(prefix, key), "too many entries"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_text() {
            Some(s) if !s.is_empty() && s.len() <= MAX_ID => Ok(s.to_string()),
            _ => Err(MeshError::invalid(
                format!("{}[{i}]", path(prefix, key)),
                "expected a non-empty string of at most 128 bytes",
            )),
        })
        .collect()
}

fn version_of(s: &str, at: &str) -> Result<Version> {
    Version::parse(s).map_err(|e| MeshError::invalid(at, format!("not a semver version: {e}")))
}

fn parse_provider<N: Node>(v: &N, at: &str) -> Result<ProviderRef> {
    if !v.is_map() {
        return Err(MeshError::invalid(
            at,
            format!("expected a map, got {}", v.kind()),
        ));
    }
    let p = ProviderRef {
        id: text(v, at, "id", true)?.unwrap_or_default(),
        capability_ref: text(v, at, "capability-ref", false)?.unwrap_or_default(),
        endpoint: text(v, at, "endpoint", true)?.unwrap_or_default(),
        sla_tier: text(v, at, "sla-tier", false)?.unwrap_or_else(|| "standard".into()),
        cost_per_call: non_negative(v, at, "cost-per-call")?,
        avg_response_time_ms: non_negative(v, at, "avg-response-time-ms")?,
    };
    check_provider(&p, at)?;
    Ok(p)
}

fn parse_providers<N: Node>(m: &N, prefix: &str) -> Result<Vec<ProviderRef>> {
    let at = path(prefix, "providers");
    let Some(v) = field(m, "providers") else {
        return Ok(Vec::new());
    };
    let items = v
        .as_list()
        .ok_or_else(|| MeshError::invalid(&at, format!("expected a list, got {}", v.kind())))?;
    if items.len() > MAX_PROVIDERS {
        return Err(MeshError::invalid(&at, "more than 1024 providers"));
    }
    let providers = items
        .iter()
        .enumerate()
        .map(|(i, p)| parse_provider(*p, &format!("{at}[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    check_unique_ids(&providers, &at)?;
    Ok(providers)
}

/// Parses a record from either codec's view and validates it.
pub fn parse_record<N: Node>(root: &N) -> Result<FunctionRecord> {
    if !root.is_map() {
        return Err(MeshError::invalid(
            "<record>",
            format!("expected a map, got {}", root.kind()),
        ));
    }
    if let Some(t) = field(root, "type") {
        match t.as_symbolic() {
            Some(RECORD_TYPE) => {}
            Some(other) => {
                return Err(MeshError::invalid(
                    "type",
                    format!("expected :{RECORD_TYPE}, got `{other}`"),
                ));
            }
            None => {
                return Err(MeshError::invalid(
                    "type",
                    format!("expected a keyword, got {}", t.kind()),
                ));
            }
        }
    }
    let name_text = text(root, "", "func-name", true)?.unwrap_or_default();
    let func_name = FunctionName::parse(&name_text)
        .map_err(|e| MeshError::invalid("func-name", e.to_string()))?;
    let latest_text = text(root, "", "latest-version", true)?.unwrap_or_default();
    let latest_version = version_of(&latest_text, "latest-version")?;

    let mut versions = BTreeMap::new();
    if let Some(v) = field(root, "versions") {
        let entries = v.entries().ok_or_else(|| {
            MeshError::invalid("versions", format!("expected a map, got {}", v.kind()))
        })?;
        if entries.len() > MAX_VERSIONS {
            return Err(MeshError::invalid("versions", "more than 1024 versions"));
        }
        for (key, entry) in entries {
            let at = format!("versions.\"{}\"", key.chars().take(40).collect::<String>());
            let ver = version_of(&key, &at)?;
            if !entry.is_map() {
                return Err(MeshError::invalid(
                    &at,
                    format!("expected a map, got {}", entry.kind()),
                ));
            }
            let deprecated = match field(entry, "deprecated") {
                None => false,
                Some(d) => d.as_bool().ok_or_else(|| {
                    MeshError::invalid(
                        format!("{at}.deprecated"),
                        format!("expected a boolean, got {}", d.kind()),
                    )
                })?,
            };
            let providers = parse_providers(entry, &at)?;
            if versions
                .insert(
                    ver,
                    VersionEntry {
                        providers,
                        deprecated,
                    },
                )
                .is_some()
            {
                return Err(MeshError::invalid(&at, "duplicate version"));
            }
        }
    }

    let security_requirements = match field(root, "security-requirements") {
        None => SecurityRequirements::default(),
        Some(s) => parse_requirements(s)?,
    };

    let record_version = match field(root, "record-version") {
        None => 0,
        Some(v) => v.as_u64().ok_or_else(|| {
            MeshError::invalid("record-version", "expected a non-negative integer")
        })?,
    };
    let expires = match text(root, "", "expires", false)? {
        None => None,
        Some(s) => Some(parse_time(&s).map_err(|e| MeshError::invalid("expires", e))?),
    };
    let signature = match field(root, "signature") {
        None => None,
        Some(s) => Some(parse_signature(s)?),
    };

    let record = FunctionRecord {
        namespace: match text(root, "", "namespace", false)? {
            Some(ns) => ns,
            None => func_name.namespace().to_string(),
        },
        description: text(root, "", "description", false)?.unwrap_or_default(),
        providers: parse_providers(root, "")?,
        func_name,
        latest_version,
        versions,
        security_requirements,
        record_version,
        expires,
        signature,
    };
    validate(&record)?;
    Ok(record)
}

fn parse_requirements<N: Node>(s: &N) -> Result<SecurityRequirements> {
    let at = "security-requirements";
    if !s.is_map() {
        return Err(MeshError::invalid(
            at,
            format!("expected a map, got {}", s.kind()),
        ));
    }
    let min_security_level = match field(s, "min-security-level") {
        None => SecurityLevel::Controlled,
        Some(l) => l
            .as_symbolic()
            .and_then(SecurityLevel::parse)
            .ok_or_else(|| {
                MeshError::invalid(
                    format!("{at}.min-security-level"),
                    "expected :pure, :controlled or :full",
                )
            })?,
    };
    Ok(SecurityRequirements {
        min_security_level,
        required_permissions: string_list(s, at, "required-permissions")?,
        trusted_providers: string_list(s, at, "trusted-providers")?,
    })
}

fn parse_signature<N: Node>(s: &N) -> Result<RecordSignature> {
    let at = "signature";
    if !s.is_map() {
        return Err(MeshError::invalid(
            at,
            format!("expected a map, got {}", s.kind()),
        ));
    }
    let sig = RecordSignature {
        key_id: text(s, at, "key-id", true)?.unwrap_or_default(),
        algorithm: text(s, at, "algorithm", false)?.unwrap_or_else(|| "ed25519".into()),
        value: text(s, at, "value", true)?.unwrap_or_default(),
    };
    if sig.algorithm != "ed25519" {
        return Err(MeshError::invalid(
            "signature.algorithm",
            "only ed25519 is supported",
        ));
    }
    if sig.value.len() != 128 || !sig.value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MeshError::invalid(
            "signature.value",
            "expected 128 hex digits",
        ));
    }
    if sig.key_id.is_empty() || sig.key_id.len() > MAX_ID {
        return Err(MeshError::invalid("signature.key-id", "empty or too long"));
    }
    Ok(sig)
}

/// Parses an RFC 3339 time, truncated to whole seconds so that it prints back identically
/// (the signed canonical form carries seconds only).
pub fn parse_time(s: &str) -> std::result::Result<SystemTime, String> {
    let t = humantime::parse_rfc3339_weak(s).map_err(|e| format!("not an RFC 3339 time: {e}"))?;
    Ok(match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(d.as_secs()),
        Err(_) => return Err("times before 1970 are not supported".into()),
    })
}

/// Latest time RFC 3339 with four-digit years can express (9999-12-31T23:59:59Z).
const MAX_TIME_SECS: u64 = 253_402_300_799;

/// Formats to whole seconds; times outside 1970..=9999 are clamped (validation refuses
/// them, and humantime's formatter fails on them, which `to_string` would turn into a panic).
pub fn format_time(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(MAX_TIME_SECS);
    let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn check_provider(p: &ProviderRef, at: &str) -> Result<()> {
    if p.id.is_empty() || p.id.len() > MAX_ID {
        return Err(MeshError::invalid(
            format!("{at}.id"),
            "must be 1 to 128 bytes",
        ));
    }
    if let Some(c) =
        p.id.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
    {
        return Err(MeshError::invalid(
            format!("{at}.id"),
            format!("character {c:?} not allowed (use letters, digits, `-_.:`)"),
        ));
    }
    if p.endpoint.is_empty() {
        return Err(MeshError::invalid(format!("{at}.endpoint"), "empty"));
    }
    for (k, x) in [
        ("cost-per-call", p.cost_per_call),
        ("avg-response-time-ms", p.avg_response_time_ms),
    ] {
        if !(x.is_finite() && x >= 0.0) {
            return Err(MeshError::invalid(
                format!("{at}.{k}"),
                "must be a finite non-negative number",
            ));
        }
    }
    Ok(())
}

fn check_unique_ids(providers: &[ProviderRef], at: &str) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, p) in providers.iter().enumerate() {
        if !seen.insert(p.id.as_str()) {
            return Err(MeshError::invalid(
                format!("{at}[{i}].id"),
                format!("duplicate provider id `{}`", p.id),
            ));
        }
    }
    Ok(())
}

/// Checks invariants of a record however it was built (parsed or constructed in Rust).
pub fn validate(r: &FunctionRecord) -> Result<()> {
    if r.namespace != r.func_name.namespace() {
        return Err(MeshError::invalid(
            "namespace",
            format!(
                "`{}` does not match the namespace of func-name (`{}`)",
                r.namespace,
                r.func_name.namespace()
            ),
        ));
    }
    if r.description.len() > MAX_TEXT {
        return Err(MeshError::invalid("description", "longer than 4096 bytes"));
    }
    if r.providers.len() > MAX_PROVIDERS {
        return Err(MeshError::invalid("providers", "more than 1024 providers"));
    }
    if r.versions.len() > MAX_VERSIONS {
        return Err(MeshError::invalid("versions", "more than 1024 versions"));
    }
    for (i, p) in r.providers.iter().enumerate() {
        check_provider(p, &format!("providers[{i}]"))?;
    }
    check_unique_ids(&r.providers, "providers")?;
    for (v, e) in &r.versions {
        let at = format!("versions.\"{v}\".providers");
        for (i, p) in e.providers.iter().enumerate() {
            check_provider(p, &format!("{at}[{i}]"))?;
        }
        check_unique_ids(&e.providers, &at)?;
    }
    if r.providers_for(&r.latest_version).is_empty() {
        return Err(MeshError::invalid(
            "providers",
            format!(
                "latest-version {} has no providers (list them in :providers or in :versions)",
                r.latest_version
            ),
        ));
    }
    if let Some(t) = r.expires
        && t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(true, |d| d.as_secs() > MAX_TIME_SECS)
    {
        return Err(MeshError::invalid(
            "expires",
            "must lie between 1970 and 9999",
        ));
    }
    if r.record_version > i64::MAX as u64 {
        return Err(MeshError::invalid("record-version", "too large"));
    }
    Ok(())
}
