//! The L3 semantic cache through its public API: threshold on both sides, tenant, callee and
//! target isolation, TTL, eviction order, metrics and embedder determinism. The remote
//! embedder's tests live with it in `rtfs-models` (models/tests/embedder.rs).

use std::sync::Arc;
use std::time::Duration;

use rtfs_delegation::{
    EmbedError, Embedder, ExecTarget, HashedNgramEmbedder, L3Error, L3Metrics, SemanticCache,
    SemanticCacheConfig,
};
use rtfs_ir::Value;

/// Maps `"<degrees>"` to the unit vector at that angle, so similarities are exact cosines.
struct AngleEmbedder;

impl Embedder for AngleEmbedder {
    fn id(&self) -> &str {
        "angle"
    }
    fn dim(&self) -> usize {
        2
    }
    fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let deg: f64 = text
            .parse()
            .map_err(|_| EmbedError::Config(format!("not an angle: {text}")))?;
        let r = deg.to_radians();
        Ok(vec![r.cos() as f32, r.sin() as f32])
    }
}

fn cfg(threshold: f32, max: usize, ttl: Duration) -> SemanticCacheConfig {
    SemanticCacheConfig {
        threshold,
        ttl,
        max_entries_per_tenant: max,
    }
}

fn angle_cache(threshold: f32) -> SemanticCache {
    SemanticCache::new(
        Arc::new(AngleEmbedder),
        cfg(threshold, 100, Duration::from_secs(60)),
    )
    .unwrap()
}

fn remote() -> ExecTarget {
    ExecTarget::RemoteModel("gpt".into())
}

#[test]
fn threshold_is_respected_on_both_sides() {
    let c = angle_cache(0.9);
    let t = remote();
    let ptr = c
        .insert("t", "summarize", &t, "0", Value::str("A"))
        .unwrap();
    // cos 20° ≈ 0.940 ≥ 0.9: hit; cos 30° ≈ 0.866 < 0.9: miss.
    let hit = c.lookup("t", "summarize", &t, "20").unwrap().unwrap();
    assert_eq!(hit.value, Value::str("A"));
    assert!((hit.similarity - 20f32.to_radians().cos()).abs() < 1e-5);
    assert_eq!(hit.storage_pointer, ptr);
    assert_eq!(
        hit.target(),
        ExecTarget::CacheHit {
            cache_level: 3,
            storage_pointer: ptr.clone()
        }
    );
    assert!(c.lookup("t", "summarize", &t, "30").unwrap().is_none());
    assert!(c.lookup("t", "summarize", &t, "-30").unwrap().is_none());

    // Exactly at the threshold is a hit (≥).
    let exact = angle_cache(0.5);
    exact.insert("t", "f", &t, "0", Value::Int(1)).unwrap();
    assert!(exact.lookup("t", "f", &t, "60").unwrap().is_some());
    assert!(exact.lookup("t", "f", &t, "61").unwrap().is_none());
}

#[test]
fn best_entry_wins() {
    let c = angle_cache(0.8);
    let t = remote();
    c.insert("t", "f", &t, "0", Value::Int(0)).unwrap();
    c.insert("t", "f", &t, "30", Value::Int(30)).unwrap();
    c.insert("t", "f", &t, "90", Value::Int(90)).unwrap();
    let hit = c.lookup("t", "f", &t, "25").unwrap().unwrap();
    assert_eq!(hit.value, Value::Int(30));
}

#[test]
fn tenants_never_see_each_other() {
    let c = angle_cache(0.9);
    let t = remote();
    c.insert("alice", "f", &t, "0", Value::str("alice's"))
        .unwrap();
    assert!(c.lookup("bob", "f", &t, "0").unwrap().is_none());
    c.insert("bob", "f", &t, "0", Value::str("bob's")).unwrap();
    assert_eq!(
        c.lookup("bob", "f", &t, "0").unwrap().unwrap().value,
        Value::str("bob's")
    );
    assert_eq!(
        c.lookup("alice", "f", &t, "0").unwrap().unwrap().value,
        Value::str("alice's")
    );
    c.clear_tenant("alice");
    assert!(c.lookup("alice", "f", &t, "0").unwrap().is_none());
    assert!(c.lookup("bob", "f", &t, "0").unwrap().is_some());
}

#[test]
fn only_same_callee_and_target_are_comparable() {
    let c = angle_cache(0.9);
    let t = remote();
    c.insert("t", "summarize", &t, "0", Value::Int(1)).unwrap();
    assert!(c.lookup("t", "translate", &t, "0").unwrap().is_none());
    assert!(
        c.lookup(
            "t",
            "summarize",
            &ExecTarget::RemoteModel("other".into()),
            "0"
        )
        .unwrap()
        .is_none()
    );
    assert!(
        c.lookup("t", "summarize", &ExecTarget::LocalPure, "0")
            .unwrap()
            .is_none()
    );
    assert!(c.lookup("t", "summarize", &t, "0").unwrap().is_some());
}

#[test]
fn entries_expire_after_ttl() {
    let time = rtfs_delegation::clock::ManualClock::default();
    let c = SemanticCache::new(
        Arc::new(AngleEmbedder),
        cfg(0.9, 100, Duration::from_millis(40)),
    )
    .unwrap()
    .with_clock(time.clock());
    let t = remote();
    c.insert("t", "f", &t, "0", Value::Int(1)).unwrap();
    time.advance(Duration::from_millis(40));
    assert!(c.lookup("t", "f", &t, "0").unwrap().is_some());
    time.advance(Duration::from_millis(1));
    c.insert("t", "f", &t, "45", Value::Int(2)).unwrap();
    assert!(c.lookup("t", "f", &t, "0").unwrap().is_none());
    assert!(c.lookup("t", "f", &t, "45").unwrap().is_some());
    assert_eq!(c.len("t"), 1);
    assert_eq!(c.metrics().expirations, 1);
}

#[test]
fn eviction_removes_the_oldest_first() {
    let c = SemanticCache::new(
        Arc::new(AngleEmbedder),
        cfg(0.999, 3, Duration::from_secs(60)),
    )
    .unwrap();
    let t = remote();
    for deg in ["0", "90", "180"] {
        c.insert("t", "f", &t, deg, Value::str(deg)).unwrap();
    }
    // Another tenant's entries do not count against this tenant's bound.
    c.insert("other", "f", &t, "0", Value::Int(0)).unwrap();
    c.insert("t", "f", &t, "270", Value::str("270")).unwrap();
    assert!(
        c.lookup("t", "f", &t, "0").unwrap().is_none(),
        "oldest evicted"
    );
    for deg in ["90", "180", "270"] {
        assert!(c.lookup("t", "f", &t, deg).unwrap().is_some(), "{deg} kept");
    }
    c.insert("t", "f", &t, "45", Value::str("45")).unwrap();
    assert!(
        c.lookup("t", "f", &t, "90").unwrap().is_none(),
        "next oldest"
    );
    assert!(c.lookup("other", "f", &t, "0").unwrap().is_some());
    assert_eq!(c.len("t"), 3);
    assert_eq!(c.metrics().evictions, 2);
}

#[test]
fn metrics_count_hits_misses_inserts_and_errors() {
    let c = angle_cache(0.9);
    let t = remote();
    c.insert("t", "f", &t, "0", Value::Int(1)).unwrap();
    c.insert("t", "f", &t, "180", Value::Int(2)).unwrap();
    c.lookup("t", "f", &t, "5").unwrap();
    c.lookup("t", "f", &t, "175").unwrap();
    c.lookup("t", "f", &t, "90").unwrap();
    c.lookup("u", "f", &t, "0").unwrap();
    let err = c.lookup("t", "f", &t, "not a number").unwrap_err();
    assert!(matches!(err, L3Error::Embed(EmbedError::Config(_))));
    assert_eq!(
        c.metrics(),
        L3Metrics {
            hits: 2,
            misses: 2,
            inserts: 2,
            evictions: 0,
            expirations: 0,
            embed_errors: 1,
            entries: 2,
        }
    );
    c.clear();
    assert!(c.is_empty());
    assert!(c.lookup("t", "f", &t, "0").unwrap().is_none());
    assert_eq!(c.metrics().entries, 0);
    assert_eq!(c.metrics().misses, 3);
}

#[test]
fn hashed_embedder_is_deterministic_across_processes() {
    // A fingerprint of the vector fixed when the embedder was written: if it changes, every
    // persisted or shared cache built with `hashed-ngram-v1` would silently stop matching.
    let e = HashedNgramEmbedder::default();
    let v = e.embed("Summarize the quarterly report").unwrap();
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let fp = blake3::hash(&bytes).to_hex().to_string();
    assert_eq!(&fp[..16], GOLDEN_FINGERPRINT);
    assert_eq!(e.id(), "hashed-ngram-v1/256");
    assert!(e.is_on_device());
}

const GOLDEN_FINGERPRINT: &str = "a1d4d6f9c787474b";

#[test]
fn hashed_embedder_finds_paraphrases_through_the_cache() {
    let c = SemanticCache::new(
        Arc::new(HashedNgramEmbedder::default()),
        cfg(0.7, 100, Duration::from_secs(60)),
    )
    .unwrap();
    let t = remote();
    c.insert(
        "t",
        "ask",
        &t,
        "summarize the quarterly report",
        Value::str("Q3 was good"),
    )
    .unwrap();
    let hit = c
        .lookup("t", "ask", &t, "summarise the quarterly report please")
        .unwrap();
    assert_eq!(hit.map(|h| h.value), Some(Value::str("Q3 was good")));
    assert!(
        c.lookup("t", "ask", &t, "translate this poem into French")
            .unwrap()
            .is_none()
    );
}

#[test]
fn bad_configs_are_errors() {
    let e: Arc<dyn Embedder> = Arc::new(AngleEmbedder);
    assert!(SemanticCache::new(e.clone(), cfg(1.5, 10, Duration::from_secs(1))).is_err());
    assert!(SemanticCache::new(e, cfg(0.9, 0, Duration::from_secs(1))).is_err());
}
