//! The function record: what a registry stores for one function name.
//!
//! Field names follow the document's data model (`:func-name`, `:latest-version`, ...). Three
//! fields go beyond it and exist for signed records: `:record-version` (a publication counter
//! that only ever grows, so a mirror cannot roll a name back), `:expires` and `:signature`.
//! Parse with [`FunctionRecord::from_json_str`] / [`FunctionRecord::from_value`]; both run
//! the same validation, which names the offending field.

use std::collections::BTreeMap;
use std::time::SystemTime;

use semver::Version;

use crate::name::FunctionName;
pub use rtfs_security::SecurityRequirements;

/// The `:type` tag of a record.
pub const RECORD_TYPE: &str = "ccos.mesh:v0.func-record";

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRecord {
    pub func_name: FunctionName,
    /// Always equal to `func_name.namespace()`; kept because the data model carries it.
    pub namespace: String,
    pub description: String,
    pub latest_version: Version,
    /// Providers of `latest_version` (used when the versions map has none for it).
    pub providers: Vec<ProviderRef>,
    pub versions: BTreeMap<Version, VersionEntry>,
    pub security_requirements: SecurityRequirements,
    /// Publication counter; 0 means "not versioned" (unsigned, hand-written records).
    pub record_version: u64,
    pub expires: Option<SystemTime>,
    pub signature: Option<RecordSignature>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRef {
    pub id: String,
    pub capability_ref: String,
    pub endpoint: String,
    pub sla_tier: String,
    pub cost_per_call: f64,
    pub avg_response_time_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct VersionEntry {
    pub providers: Vec<ProviderRef>,
    pub deprecated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSignature {
    /// Hex id of the publisher key (first 8 bytes of blake3 of the public key).
    pub key_id: String,
    /// Always `ed25519` for now; stored so that another algorithm can be added later.
    pub algorithm: String,
    /// Hex of the 64-byte signature over [`crate::signing::canonical_bytes`].
    pub value: String,
}

impl ProviderRef {
    pub fn new(id: impl Into<String>, endpoint: impl Into<String>) -> ProviderRef {
        ProviderRef {
            id: id.into(),
            capability_ref: String::new(),
            endpoint: endpoint.into(),
            sla_tier: "standard".into(),
            cost_per_call: 0.0,
            avg_response_time_ms: 0.0,
        }
    }
}

impl FunctionRecord {
    /// A record with one version and the given providers; handy for hosts and tests.
    pub fn new(
        func_name: FunctionName,
        latest_version: Version,
        providers: Vec<ProviderRef>,
    ) -> FunctionRecord {
        FunctionRecord {
            namespace: func_name.namespace().to_string(),
            func_name,
            description: String::new(),
            latest_version,
            providers,
            versions: BTreeMap::new(),
            security_requirements: SecurityRequirements::default(),
            record_version: 0,
            expires: None,
            signature: None,
        }
    }

    pub fn has_version(&self, v: &Version) -> bool {
        *v == self.latest_version || self.versions.contains_key(v)
    }

    pub fn is_deprecated(&self, v: &Version) -> bool {
        self.versions.get(v).is_some_and(|e| e.deprecated)
    }

    /// Every version the record knows, including `latest-version`, each once.
    pub fn all_versions(&self) -> impl Iterator<Item = &Version> {
        let extra =
            (!self.versions.contains_key(&self.latest_version)).then_some(&self.latest_version);
        self.versions.keys().chain(extra)
    }

    /// Providers serving `v`: the versions map's list, or the top-level list for the latest
    /// version when the map has none (the data model lists latest's providers at top level).
    pub fn providers_for(&self, v: &Version) -> &[ProviderRef] {
        match self.versions.get(v) {
            Some(e) if !e.providers.is_empty() => &e.providers,
            _ if *v == self.latest_version => &self.providers,
            _ => &[],
        }
    }

    /// blake3 of the canonical encoding (signature excluded): identifies the content.
    pub fn content_hash(&self) -> [u8; 32] {
        *blake3::hash(&crate::signing::canonical_bytes(self)).as_bytes()
    }
}
