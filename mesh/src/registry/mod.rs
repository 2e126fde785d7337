//! Registries: where function records live.
//!
//! Every backend implements the one async [`Registry`] trait of the design document (lookup,
//! register, update, list). This crate holds the trait, the layout and write rules every
//! backend shares, and [`MemoryRegistry`] (in process). The backends that do I/O live in the
//! host layer (`rtfs-mesh-io`): a directory of sharded JSON files, the same layout in a git
//! repository, an HTTP client and server, and a federation of several in priority order.
//!
//! Write rules shared by every backend: `register` refuses a name that exists, `update`
//! refuses a name that does not, and `update` refuses a record whose `record-version` does
//! not grow past the stored one (when the stored one is versioned), so the source itself
//! cannot be rolled back by accident.

pub mod memory;
pub mod write_auth;

use async_trait::async_trait;

pub use memory::MemoryRegistry;

use crate::error::{MeshError, RejectReason, Result};
use crate::name::FunctionName;
use crate::record::FunctionRecord;

#[async_trait]
pub trait Registry: Send + Sync {
    /// A short human-readable identity (path or URL) used in messages.
    fn describe(&self) -> String;

    /// Warnings gathered since the last call (offline fallbacks, federation conflicts); the
    /// resolver attaches them to what it resolves.
    fn take_warnings(&self) -> Vec<String> {
        Vec::new()
    }

    async fn lookup(&self, func_name: &str) -> Result<FunctionRecord>;

    async fn register(&self, record: FunctionRecord) -> Result<()>;

    async fn update(&self, func_name: &str, record: FunctionRecord) -> Result<()>;

    /// Records whose name matches the glob `pattern` (`*` stays within a segment, `**`
    /// crosses segments), sorted by name.
    async fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>>;
}

/// Checks the shared write rules of `update` against the stored record.
pub fn check_update(func_name: &str, old: &FunctionRecord, new: &FunctionRecord) -> Result<()> {
    if new.func_name.as_str() != func_name {
        return Err(MeshError::Conflict(format!(
            "update of `{func_name}` carries a record for `{}`",
            new.func_name
        )));
    }
    // A publisher's signed record is replaced only by one the same key signed: otherwise
    // anyone could store an unsigned record at record-version i64::MAX and lock the
    // publisher out for good.
    if let Some(old_sig) = &old.signature
        && new.signature.as_ref().map(|s| &s.key_id) != Some(&old_sig.key_id)
    {
        return Err(MeshError::Rejected {
            name: func_name.to_string(),
            reason: match &new.signature {
                None => RejectReason::Unsigned,
                Some(s) => RejectReason::KeyNotForNamespace {
                    key_id: s.key_id.clone(),
                    namespace: old.func_name.namespace().to_string(),
                },
            },
        });
    }
    if old.record_version > 0 && new.record_version <= old.record_version {
        return Err(MeshError::Conflict(format!(
            "`{func_name}`: record-version must grow past {} (got {})",
            old.record_version, new.record_version
        )));
    }
    Ok(())
}

/// Where a record lives inside a directory or git registry, sharded like the crates.io
/// index on the flattened name (`/` → `~`): `im/ag/image-processing~sharpen.json`.
pub fn record_path(name: &FunctionName) -> String {
    let flat = name.as_str().replace('/', "~");
    let shard = match flat.len() {
        1 => "1".to_string(),
        2 => "2".to_string(),
        3 => format!("3/{}", &flat[..1]),
        _ => format!("{}/{}", &flat[..2], &flat[2..4]),
    };
    format!("{shard}/{flat}.json")
}

/// A record as it is stored in a directory or git registry: pretty JSON and a newline,
/// refused when that text is over the 1 MiB every reader accepts (the limit applies to what
/// is written, not to the compact form, or the record could never be read back).
pub fn record_file_text(record: &FunctionRecord) -> Result<String> {
    let mut text = record.to_json_pretty();
    text.push('\n');
    if text.len() > crate::json::MAX_RECORD_BYTES {
        return Err(MeshError::invalid(
            "<record>",
            format!(
                "{} bytes as stored, over the {} byte limit",
                text.len(),
                crate::json::MAX_RECORD_BYTES
            ),
        ));
    }
    Ok(text)
}

/// Inverse of [`record_path`] on the file name alone.
pub fn name_from_file(file_name: &str) -> Option<FunctionName> {
    let stem = file_name.strip_suffix(".json")?;
    FunctionName::parse(&stem.replace('~', "/")).ok()
}

/// The marker file at the root of a directory or git registry.
pub const MARKER_FILE: &str = "mesh-registry.json";
pub const MARKER_CONTENT: &str =
    "{\"format\": \"rtfs-mesh-registry\", \"version\": 1, \"layout\": \"sharded-json\"}\n";

/// The literal part of a glob before its first metacharacter, for range scans.
pub fn literal_prefix(pattern: &str) -> &str {
    let end = pattern
        .find(['*', '?', '[', '{', '\\'])
        .unwrap_or(pattern.len());
    &pattern[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_sharded_and_reversible() {
        let n = FunctionName::parse("image-processing/sharpen").unwrap();
        assert_eq!(record_path(&n), "im/ag/image-processing~sharpen.json");
        assert_eq!(name_from_file("image-processing~sharpen.json").unwrap(), n);
        let short = FunctionName::parse("a/b").unwrap();
        assert_eq!(record_path(&short), "3/a/a~b.json");
    }
}
