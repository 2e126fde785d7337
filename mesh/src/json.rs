//! JSON form of records, and the canonical JSON used for signing and ETags.
//!
//! JSON keys are the RTFS keywords without their colon (`"func-name"`), keyword values become
//! strings (`"min-security-level": "controlled"`), so the two forms map one to one.

use serde_json::{Map, Number, Value as Json};

use crate::error::{MeshError, Result};
use crate::record::{FunctionRecord, ProviderRef, RECORD_TYPE};
use crate::validate::{Node, format_time, parse_record};

/// Larger inputs are refused before parsing: no legitimate record comes near it.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

impl Node for Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
    fn is_null(&self) -> bool {
        self.is_null()
    }
    fn as_text(&self) -> Option<&str> {
        self.as_str()
    }
    fn as_symbolic(&self) -> Option<&str> {
        self.as_str().map(|s| s.strip_prefix(':').unwrap_or(s))
    }
    fn as_number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn as_u64(&self) -> Option<u64> {
        self.as_u64()
    }
    fn as_bool(&self) -> Option<bool> {
        self.as_bool()
    }
    fn as_list(&self) -> Option<Vec<&Self>> {
        self.as_array().map(|a| a.iter().collect())
    }
    fn get(&self, key: &str) -> Option<&Self> {
        self.as_object().and_then(|m| m.get(key))
    }
    fn entries(&self) -> Option<Vec<(String, &Self)>> {
        self.as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
    }
    fn is_map(&self) -> bool {
        self.is_object()
    }
}

fn number(x: f64) -> Json {
    // Integral values print without a fraction so `150` round-trips as written.
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Json::Number(Number::from(x as i64))
    } else {
        Number::from_f64(x).map_or(Json::Null, Json::Number)
    }
}

fn provider_json(p: &ProviderRef) -> Json {
    let mut m = Map::new();
    m.insert("id".into(), Json::String(p.id.clone()));
    if !p.capability_ref.is_empty() {
        m.insert(
            "capability-ref".into(),
            Json::String(p.capability_ref.clone()),
        );
    }
    m.insert("endpoint".into(), Json::String(p.endpoint.clone()));
    m.insert("sla-tier".into(), Json::String(p.sla_tier.clone()));
    m.insert("cost-per-call".into(), number(p.cost_per_call));
    m.insert(
        "avg-response-time-ms".into(),
        number(p.avg_response_time_ms),
    );
    Json::Object(m)
}

fn providers_json(ps: &[ProviderRef]) -> Json {
    Json::Array(ps.iter().map(provider_json).collect())
}

/// The record as JSON; `with_signature = false` gives the part that signatures cover.
pub fn record_to_json(r: &FunctionRecord, with_signature: bool) -> Json {
    let mut m = Map::new();
    m.insert("type".into(), Json::String(RECORD_TYPE.into()));
    m.insert("func-name".into(), Json::String(r.func_name.to_string()));
    m.insert("namespace".into(), Json::String(r.namespace.clone()));
    if !r.description.is_empty() {
        m.insert("description".into(), Json::String(r.description.clone()));
    }
    m.insert(
        "latest-version".into(),
        Json::String(r.latest_version.to_string()),
    );
    m.insert("providers".into(), providers_json(&r.providers));
    if !r.versions.is_empty() {
        let mut vs = Map::new();
        for (v, e) in &r.versions {
            let mut em = Map::new();
            em.insert("providers".into(), providers_json(&e.providers));
            em.insert("deprecated".into(), Json::Bool(e.deprecated));
            vs.insert(v.to_string(), Json::Object(em));
        }
        m.insert("versions".into(), Json::Object(vs));
    }
    let req = &r.security_requirements;
    let mut sm = Map::new();
    sm.insert(
        "min-security-level".into(),
        Json::String(req.min_security_level.as_str().into()),
    );
    sm.insert(
        "required-permissions".into(),
        Json::Array(
            req.required_permissions
                .iter()
                .cloned()
                .map(Json::String)
                .collect(),
        ),
    );
    sm.insert(
        "trusted-providers".into(),
        Json::Array(
            req.trusted_providers
                .iter()
                .cloned()
                .map(Json::String)
                .collect(),
        ),
    );
    m.insert("security-requirements".into(), Json::Object(sm));
    if r.record_version > 0 {
        m.insert("record-version".into(), Json::from(r.record_version));
    }
    if let Some(t) = r.expires {
        m.insert("expires".into(), Json::String(format_time(t)));
    }
    if with_signature && let Some(s) = &r.signature {
        let mut sm = Map::new();
        sm.insert("key-id".into(), Json::String(s.key_id.clone()));
        sm.insert("algorithm".into(), Json::String(s.algorithm.clone()));
        sm.insert("value".into(), Json::String(s.value.clone()));
        m.insert("signature".into(), Json::Object(sm));
    }
    Json::Object(m)
}

/// Writes `v` with object keys sorted bytewise and no whitespace, independent of how
/// `serde_json`'s map happens to be ordered in this build (a feature elsewhere in the
/// dependency graph could switch it to insertion order).
pub fn canonical_json(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String((*k).clone()).to_string());
                out.push(':');
                if let Some(x) = m.get(*k) {
                    canonical_json(x, out);
                }
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

impl FunctionRecord {
    pub fn from_json(v: &Json) -> Result<FunctionRecord> {
        parse_record(v)
    }

    pub fn from_json_str(s: &str) -> Result<FunctionRecord> {
        Self::from_json_bytes(s.as_bytes())
    }

    pub fn from_json_bytes(b: &[u8]) -> Result<FunctionRecord> {
        if b.len() > MAX_RECORD_BYTES {
            return Err(MeshError::invalid("<record>", "larger than 1 MiB"));
        }
        let v: Json = serde_json::from_slice(b)
            .map_err(|e| MeshError::invalid("<record>", format!("not valid JSON: {e}")))?;
        parse_record(&v)
    }

    pub fn to_json(&self) -> Json {
        record_to_json(self, true)
    }

    pub fn to_json_string(&self) -> String {
        let mut s = String::new();
        canonical_json(&self.to_json(), &mut s);
        s
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_json()).unwrap_or_else(|_| self.to_json_string())
    }
}
