//! RTFS form of records: the document's data model as an `rtfs_ir::Value` map.
//!
//! Keys are keywords; `:type` and `:min-security-level` are keywords; the versions map is
//! keyed by version strings. Parsing also accepts string keys, so a map that went through
//! JSON-ish tooling still reads.

use rtfs_ir::Value;

use crate::error::{MeshError, Result};
use crate::record::{FunctionRecord, RECORD_TYPE};
use crate::validate::{Node, parse_record};

impl Node for Value {
    fn kind(&self) -> &'static str {
        self.type_name()
    }
    fn is_null(&self) -> bool {
        self.is_nil()
    }
    fn as_text(&self) -> Option<&str> {
        self.as_str()
    }
    fn as_symbolic(&self) -> Option<&str> {
        match self {
            Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => {
                Some(s.strip_prefix(':').unwrap_or(s))
            }
            _ => None,
        }
    }
    fn as_number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) if *i >= 0 => Some(*i as u64),
            _ => None,
        }
    }
    fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn as_list(&self) -> Option<Vec<&Self>> {
        self.as_seq().map(|s| s.iter().collect())
    }
    fn get(&self, key: &str) -> Option<&Self> {
        let m = self.as_map()?;
        m.get(&Value::keyword(key))
            .or_else(|| m.get(&Value::str(key)))
    }
    fn entries(&self) -> Option<Vec<(String, &Self)>> {
        let m = self.as_map()?;
        let mut out = Vec::with_capacity(m.len());
        for (k, v) in m.iter() {
            match k {
                Value::Str(s) | Value::Keyword(s) | Value::Symbol(s) => {
                    out.push((s.to_string(), v))
                }
                _ => return None,
            }
        }
        Some(out)
    }
    fn is_map(&self) -> bool {
        self.as_map().is_some()
    }
}

/// JSON → RTFS value: object keys become keywords except under `versions`, whose keys are
/// version strings, and the symbolic fields become keywords.
fn from_json(v: &serde_json::Value, key_ctx: Option<&str>) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => match key_ctx {
            Some("type") | Some("min-security-level") => Value::keyword(s.as_str()),
            _ => Value::str(s.as_str()),
        },
        J::Array(a) => Value::vector(a.iter().map(|x| from_json(x, None))),
        J::Object(m) => {
            let string_keys = key_ctx == Some("versions");
            Value::map(m.iter().map(|(k, x)| {
                let key = if string_keys {
                    Value::str(k.as_str())
                } else {
                    Value::keyword(k.as_str())
                };
                (key, from_json(x, Some(k.as_str())))
            }))
        }
    }
}

impl FunctionRecord {
    pub fn from_value(v: &Value) -> Result<FunctionRecord> {
        parse_record(v)
    }

    pub fn to_value(&self) -> Value {
        let json = self.to_json();
        let v = from_json(&json, None);
        debug_assert!(v.as_map().is_some());
        v
    }

    /// Checks that `v` carries this crate's `:type` tag (for callers sniffing values).
    pub fn looks_like_record(v: &Value) -> bool {
        v.get("type").and_then(|t| t.as_symbolic()) == Some(RECORD_TYPE)
    }
}

/// Reads a record from RTFS source text through a caller-supplied reader (the mesh does not
/// depend on the compiler, so the host passes its reader in).
pub fn record_from_rtfs(
    source: &str,
    read_rtfs: &dyn Fn(&str) -> std::result::Result<Value, String>,
) -> Result<FunctionRecord> {
    let v = read_rtfs(source)
        .map_err(|e| MeshError::invalid("<record>", format!("RTFS read error: {e}")))?;
    FunctionRecord::from_value(&v)
}
