use proptest::prelude::*;
use rtfs_ir::Value;
use rtfs_mesh_io::version::choose_version;
use rtfs_mesh_io::{FunctionRecord, MeshError, SecurityLevel, VersionSpec};

use crate::common::{DOC_RECORD_JSON, doc_record};

#[test]
fn the_documents_data_model_parses() {
    let r = doc_record();
    assert_eq!(r.func_name.as_str(), "image-processing/sharpen");
    assert_eq!(r.namespace, "image-processing");
    assert_eq!(r.latest_version.to_string(), "1.2.0");
    assert_eq!(r.providers.len(), 2);
    assert_eq!(r.providers[1].cost_per_call, 0.005);
    assert_eq!(r.providers[0].avg_response_time_ms, 150.0);
    assert!(r.versions[&semver::Version::new(1, 0, 0)].deprecated);
    assert_eq!(
        r.security_requirements.min_security_level,
        SecurityLevel::Controlled
    );
    assert_eq!(
        r.security_requirements.required_permissions,
        ["image.read", "image.write"]
    );
}

#[test]
fn json_round_trips() {
    let r = doc_record();
    let back = FunctionRecord::from_json_str(&r.to_json_string()).unwrap();
    assert_eq!(r, back);
    let pretty = FunctionRecord::from_json_str(&r.to_json_pretty()).unwrap();
    assert_eq!(r, pretty);
}

#[test]
fn rtfs_value_round_trips_with_keywords() {
    let r = doc_record();
    let v = r.to_value();
    let m = v.as_map().unwrap();
    assert_eq!(
        m.get(&Value::keyword("type")),
        Some(&Value::keyword("ccos.mesh:v0.func-record"))
    );
    assert_eq!(
        m.get(&Value::keyword("func-name")),
        Some(&Value::str("image-processing/sharpen"))
    );
    let req = m.get(&Value::keyword("security-requirements")).unwrap();
    assert_eq!(
        req.as_map()
            .unwrap()
            .get(&Value::keyword("min-security-level")),
        Some(&Value::keyword("controlled"))
    );
    let versions = m
        .get(&Value::keyword("versions"))
        .unwrap()
        .as_map()
        .unwrap();
    assert!(versions.get(&Value::str("1.0.0")).is_some());
    assert_eq!(FunctionRecord::from_value(&v).unwrap(), r);
}

#[test]
fn hand_written_rtfs_map_reads() {
    // What the RTFS reader produces for the document's example.
    let provider = Value::map([
        (Value::keyword("id"), Value::str("provider-123")),
        (
            Value::keyword("capability-ref"),
            Value::str("marketplace://offer/abc"),
        ),
        (
            Value::keyword("endpoint"),
            Value::str("https://api.provider123.com/sharpen"),
        ),
        (Value::keyword("sla-tier"), Value::str("premium")),
        (Value::keyword("cost-per-call"), Value::Float(0.01)),
        (Value::keyword("avg-response-time-ms"), Value::Int(150)),
    ]);
    let v = Value::map([
        (
            Value::keyword("type"),
            Value::keyword("ccos.mesh:v0.func-record"),
        ),
        (
            Value::keyword("func-name"),
            Value::str("image-processing/sharpen"),
        ),
        (Value::keyword("latest-version"), Value::str("1.2.0")),
        (Value::keyword("providers"), Value::vector([provider])),
        (
            Value::keyword("security-requirements"),
            Value::map([(Value::keyword("min-security-level"), Value::keyword("full"))]),
        ),
    ]);
    let r = FunctionRecord::from_value(&v).unwrap();
    assert_eq!(r.providers[0].avg_response_time_ms, 150.0);
    assert_eq!(
        r.security_requirements.min_security_level,
        SecurityLevel::Full
    );
}

fn field_of(e: MeshError) -> String {
    match e {
        MeshError::InvalidRecord { field, .. } => field,
        other => panic!("expected InvalidRecord, got {other}"),
    }
}

fn with(patch: impl FnOnce(&mut serde_json::Value)) -> MeshError {
    let mut v: serde_json::Value = serde_json::from_str(DOC_RECORD_JSON).unwrap();
    patch(&mut v);
    FunctionRecord::from_json(&v).unwrap_err()
}

#[test]
fn validation_names_the_bad_field() {
    let e = with(|v| v["providers"][1]["cost-per-call"] = "cheap".into());
    assert_eq!(field_of(e), "providers[1].cost-per-call");
    let e = with(|v| v["providers"][0]["cost-per-call"] = (-1.0).into());
    assert_eq!(field_of(e), "providers[0].cost-per-call");
    let e = with(|v| v["latest-version"] = "one".into());
    assert_eq!(field_of(e), "latest-version");
    let e = with(|v| v["func-name"] = "Bad Name".into());
    assert_eq!(field_of(e), "func-name");
    let e = with(|v| {
        v.as_object_mut().unwrap().remove("func-name");
    });
    assert_eq!(field_of(e), "func-name");
    let e = with(|v| v["versions"]["1.0.0"]["deprecated"] = "yes".into());
    assert_eq!(field_of(e), "versions.\"1.0.0\".deprecated");
    let e = with(|v| v["security-requirements"]["min-security-level"] = "root".into());
    assert_eq!(field_of(e), "security-requirements.min-security-level");
    let e = with(|v| v["providers"][1]["id"] = "provider-123".into());
    assert_eq!(field_of(e), "providers[1].id");
    let e = with(|v| v["namespace"] = "other".into());
    assert_eq!(field_of(e), "namespace");
    let e = with(|v| v["type"] = "ccos.mesh:v9.other".into());
    assert_eq!(field_of(e), "type");
    let e = with(|v| {
        v["providers"] = serde_json::json!([]);
        v["versions"]["1.2.0"]["providers"] = serde_json::json!([]);
    });
    assert_eq!(field_of(e), "providers");
    let msg = with(|v| v["providers"][0].as_object_mut().unwrap().clear()).to_string();
    assert!(
        msg.contains("providers[0].id") && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn versions_and_deprecation() {
    let r = doc_record();
    let pick = |s: &str| choose_version(&r, &VersionSpec::parse(s).unwrap());
    let latest = pick("").unwrap();
    assert_eq!(latest.version.to_string(), "1.2.0");
    assert_eq!(
        latest.providers.len(),
        2,
        "latest falls back to top-level providers"
    );
    let caret = pick("^1.1").unwrap();
    assert_eq!(caret.version.to_string(), "1.2.0");
    let tilde = pick("~1.1").unwrap();
    assert_eq!(tilde.version.to_string(), "1.1.0");
    assert_eq!(tilde.providers[0].id, "provider-11");
    // A deprecated version only when asked for exactly, and then with a warning.
    let e = pick("~1.0").unwrap_err().to_string();
    assert!(e.contains("deprecated") && e.contains("@=1.0.0"), "{e}");
    let exact = pick("1.0.0").unwrap();
    assert_eq!(exact.providers[0].id, "provider-old");
    assert!(exact.warnings[0].contains("deprecated"));
    let exact = pick("=1.0.0").unwrap();
    assert_eq!(exact.version.to_string(), "1.0.0");
    assert!(pick("^2").is_err());
    assert!(pick("3.0.0").is_err());
}

#[test]
fn oversized_and_deep_inputs_are_errors() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(FunctionRecord::from_json_str(&deep).is_err());
    let big = format!("\"{}\"", "x".repeat(2 << 20));
    assert!(FunctionRecord::from_json_str(&big).is_err());
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z0-9./:^~=-]{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("image-processing/sharpen"),
            Just("1.2.0"),
            Just("controlled"),
            Just("ccos.mesh:v0.func-record")
        ]
        .prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("type".to_string()),
        Just("func-name".to_string()),
        Just("latest-version".to_string()),
        Just("providers".to_string()),
        Just("versions".to_string()),
        Just("id".to_string()),
        Just("endpoint".to_string()),
        Just("cost-per-call".to_string()),
        Just("security-requirements".to_string()),
        Just("min-security-level".to_string()),
        Just("1.0.0".to_string()),
        Just("signature".to_string()),
        Just("expires".to_string()),
        Just("record-version".to_string()),
        "[a-z-]{1,8}",
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..8)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn to_value(j: &serde_json::Value, keyword_keys: bool) -> Value {
    match j {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        serde_json::Value::String(s) => Value::str(s.as_str()),
        serde_json::Value::Array(a) => Value::vector(a.iter().map(|x| to_value(x, keyword_keys))),
        serde_json::Value::Object(m) => Value::map(m.iter().map(|(k, v)| {
            let key = if keyword_keys {
                Value::keyword(k.as_str())
            } else {
                Value::str(k.as_str())
            };
            (key, to_value(v, keyword_keys))
        })),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        if let Ok(r) = FunctionRecord::from_json(&v) {
            // Whatever parses must survive a round trip in both forms.
            prop_assert_eq!(FunctionRecord::from_json_str(&r.to_json_string()).unwrap(), r.clone());
            prop_assert_eq!(FunctionRecord::from_value(&r.to_value()).unwrap(), r);
        }
    }

    #[test]
    fn arbitrary_values_never_panic(v in arb_json(), kw in any::<bool>()) {
        let _ = FunctionRecord::from_value(&to_value(&v, kw));
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = FunctionRecord::from_json_str(&s);
    }

    #[test]
    fn mutated_doc_record_never_panics(path in 0usize..12, replacement in arb_json()) {
        let mut v: serde_json::Value = serde_json::from_str(DOC_RECORD_JSON).unwrap();
        let keys = ["type", "func-name", "latest-version", "namespace", "description",
                    "providers", "versions", "security-requirements", "record-version",
                    "expires", "signature", "providers"];
        if path == 11 {
            v["providers"][0]["cost-per-call"] = replacement;
        } else {
            v[keys[path]] = replacement;
        }
        let _ = FunctionRecord::from_json(&v);
        let _ = FunctionRecord::from_value(&to_value(&v, true));
    }
}

#[test]
fn times_beyond_rfc3339_are_refused_not_panicked_on() {
    let mut r = doc_record();
    r.expires = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(400_000_000_000));
    let _ = r.to_json_string();
    let e = rtfs_mesh_io::validate::validate(&r).unwrap_err();
    assert_eq!(field_of(e), "expires");
    let mut v: serde_json::Value = serde_json::from_str(DOC_RECORD_JSON).unwrap();
    v["expires"] = "not a time".into();
    assert_eq!(
        field_of(FunctionRecord::from_json(&v).unwrap_err()),
        "expires"
    );
    v["expires"] = "2030-01-01T00:00:00.123Z".into();
    let r = FunctionRecord::from_json(&v).unwrap();
    assert_eq!(
        FunctionRecord::from_json_str(&r.to_json_string()).unwrap(),
        r
    );
}
