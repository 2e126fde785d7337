use std::time::{Duration, SystemTime};

use rtfs_mesh_io::{
    FunctionRecord, PublisherKey, PublisherKeyFile, RejectReason, TrustStore, VersionPins,
};

use crate::common::record;

fn signed(key: &PublisherKey, name: &str, rv: u64, expires_in: i64) -> FunctionRecord {
    let mut r = record(name, "1.0.0", &[("p1", 0.01, 100.0)]);
    r.record_version = rv;
    let now = SystemTime::now();
    r.expires = Some(if expires_in >= 0 {
        now + Duration::from_secs(expires_in as u64)
    } else {
        now - Duration::from_secs((-expires_in) as u64)
    });
    key.sign(&mut r);
    // Signed records travel as JSON; check through the wire form.
    FunctionRecord::from_json_str(&r.to_json_string()).unwrap()
}

#[test]
fn signatures_verify_and_bind_to_namespaces() {
    let acme = PublisherKey::from_seed([1; 32]);
    let other = PublisherKey::from_seed([2; 32]);
    let ts = TrustStore::new().trust("acme.com", acme.public());
    let now = SystemTime::now();

    let good = signed(&acme, "acme.com/img/sharpen", 1, 3600);
    ts.verify(&good, now).unwrap();

    let wrong_key = signed(&other, "acme.com/img/sharpen", 1, 3600);
    assert!(matches!(
        ts.verify(&wrong_key, now),
        Err(RejectReason::UnknownKey(_))
    ));

    let mut unsigned = good.clone();
    unsigned.signature = None;
    assert_eq!(ts.verify(&unsigned, now), Err(RejectReason::Unsigned));

    let mut tampered = good.clone();
    tampered.providers[0].endpoint = "https://evil.example/".into();
    assert_eq!(ts.verify(&tampered, now), Err(RejectReason::BadSignature));

    let expired = signed(&acme, "acme.com/img/sharpen", 1, -10);
    assert!(matches!(
        ts.verify(&expired, now),
        Err(RejectReason::Expired(_))
    ));

    // acme's key does not speak for another namespace.
    let foreign = signed(&acme, "vendor2.org/img/sharpen", 1, 3600);
    let ts2 = TrustStore::new()
        .trust("acme.com", acme.public())
        .trust("vendor2.org", other.public());
    assert!(matches!(
        ts2.verify(&foreign, now),
        Err(RejectReason::KeyNotForNamespace { .. })
    ));

    // Namespaces without keys accept unsigned records unless signatures are required.
    let community = record("image-processing/sharpen", "1.0.0", &[("p", 0.0, 1.0)]);
    ts.verify(&community, now).unwrap();
    let strict = TrustStore::new()
        .trust("acme.com", acme.public())
        .require_signatures(true);
    assert_eq!(strict.verify(&community, now), Err(RejectReason::Unsigned));
}

#[test]
fn pins_refuse_rollback_and_equivocation() {
    let acme = PublisherKey::from_seed([1; 32]);
    let pins = VersionPins::new();
    let v2 = signed(&acme, "acme.com/img/sharpen", 2, 3600);
    pins.check(&v2).unwrap();
    pins.accept(&v2);
    let v1 = signed(&acme, "acme.com/img/sharpen", 1, 3600);
    assert_eq!(
        pins.check(&v1),
        Err(RejectReason::Rollback { seen: 2, got: 1 })
    );
    pins.check(&v2).unwrap();
    let mut v2b = v2.clone();
    v2b.description = "different".into();
    acme.sign(&mut v2b);
    assert!(matches!(
        pins.check(&v2b),
        Err(RejectReason::Equivocation { record_version: 2 })
    ));
    let v3 = signed(&acme, "acme.com/img/sharpen", 3, 3600);
    pins.check(&v3).unwrap();
}

#[test]
fn key_files_round_trip_and_bad_ones_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.key");
    let k = PublisherKey::generate().unwrap();
    k.save(&path).unwrap();
    let back = PublisherKey::load(&path).unwrap();
    assert_eq!(back.public_hex(), k.public_hex());
    let pubtext = std::fs::read_to_string(dir.path().join("acme.key.pub")).unwrap();
    assert_eq!(pubtext.trim(), k.public_hex());
    std::fs::write(&path, "not a key").unwrap();
    assert!(PublisherKey::load(&path).is_err());
    assert!(TrustStore::new().trust_spec("acme.com=zz").is_err());
    assert!(TrustStore::new().trust_spec("no-equals").is_err());
}
