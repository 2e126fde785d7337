use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rtfs_mesh_io::{
    CacheConfig, FunctionRecord, GlobalFunctionMesh, ManualClock, MemoryRegistry, MeshError,
    ProviderRef, PublisherKey, RejectReason, SecurityContext, SecurityLevel, TrustStore,
};

use crate::common::{Fault, Faulty, doc_record, record};

fn setup(records: Vec<FunctionRecord>) -> (Arc<Faulty>, Arc<ManualClock>, GlobalFunctionMesh) {
    let mem = Arc::new(MemoryRegistry::new());
    for r in records {
        mem.put(r);
    }
    let faulty = Faulty::new("upstream", mem);
    let clock = Arc::new(ManualClock::new());
    let mesh = GlobalFunctionMesh::builder(faulty.clone())
        .with_clock(clock.clone())
        .build();
    (faulty, clock, mesh)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_cold_resolves_make_one_lookup() {
    let (faulty, _clock, mesh) = setup(vec![record("a/b", "1.0.0", &[("p", 0.1, 10.0)])]);
    faulty.set_delay(Duration::from_millis(50));
    let mesh = Arc::new(mesh);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let m = mesh.clone();
        set.spawn(async move { m.select("a/b").await.map(|s| s.provider().id.clone()) });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap(), "p");
    }
    assert_eq!(faulty.count(), 1);
    assert_eq!(mesh.upstream_lookups(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_of_a_missing_name_also_share_one_lookup() {
    let (faulty, _clock, mesh) = setup(vec![]);
    faulty.set_delay(Duration::from_millis(30));
    let mesh = Arc::new(mesh);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let m = mesh.clone();
        set.spawn(async move { m.resolve("a/missing").await.is_err() });
    }
    while let Some(r) = set.join_next().await {
        assert!(r.unwrap());
    }
    assert_eq!(faulty.count(), 1);
}

#[tokio::test]
async fn cache_ttl_is_honoured_and_configurable() {
    let (faulty, clock, _) = setup(vec![record("a/b", "1.0.0", &[("p", 0.1, 10.0)])]);
    let mesh = GlobalFunctionMesh::builder(faulty.clone())
        .with_clock(clock.clone())
        .build();
    mesh.resolve("a/b").await.unwrap();
    mesh.resolve("a/b").await.unwrap();
    assert_eq!(faulty.count(), 1);
    clock.advance(Duration::from_secs(4 * 60));
    mesh.resolve("a/b").await.unwrap();
    assert_eq!(faulty.count(), 1, "local tier TTL is 5 minutes");
    clock.advance(Duration::from_secs(61));
    mesh.resolve("a/b").await.unwrap();
    assert_eq!(faulty.count(), 2);

    let short = GlobalFunctionMesh::builder(faulty.clone())
        .with_clock(clock.clone())
        .with_cache_config(CacheConfig {
            ttl: Duration::from_secs(1),
            ..CacheConfig::default()
        })
        .build();
    short.resolve("a/b").await.unwrap();
    clock.advance(Duration::from_secs(2));
    short.resolve("a/b").await.unwrap();
    assert_eq!(faulty.count(), 4);
    // Version queries are cached separately from the bare name.
    short.resolve("a/b@^1").await.unwrap();
    assert_eq!(faulty.count(), 5);
}

#[tokio::test]
async fn not_found_is_cached_negatively() {
    let (faulty, clock, mesh) = setup(vec![]);
    assert!(matches!(
        mesh.resolve("a/missing").await,
        Err(MeshError::NotFound(_))
    ));
    assert!(matches!(
        mesh.resolve("a/missing").await,
        Err(MeshError::NotFound(_))
    ));
    assert_eq!(faulty.count(), 1);
    clock.advance(Duration::from_secs(31));
    let _ = mesh.resolve("a/missing").await;
    assert_eq!(faulty.count(), 2);
    // Registering through the mesh clears the negative entry at once.
    mesh.register_function(record("a/missing", "1.0.0", &[("p", 0.0, 1.0)]))
        .await
        .unwrap();
    assert_eq!(mesh.select("a/missing").await.unwrap().provider().id, "p");
}

#[tokio::test]
async fn stale_entries_are_served_when_registries_are_down() {
    let (faulty, clock, mesh) = setup(vec![record("a/b", "1.0.0", &[("p", 0.1, 10.0)])]);
    mesh.resolve("a/b").await.unwrap();
    clock.advance(Duration::from_secs(301));
    faulty.set(Fault::Down);
    let r = mesh.resolve("a/b").await.unwrap();
    assert!(r.is_stale());
    let w: Vec<&str> = r.warnings().collect();
    assert!(w.iter().any(|w| w.contains("stale")), "{w:?}");
    assert_eq!(r.entry.providers[0].provider.id, "p");
    // Garbage counts as down, too.
    clock.advance(Duration::from_secs(31));
    faulty.set(Fault::Garbage);
    assert!(mesh.resolve("a/b").await.unwrap().is_stale());
    // Without any previous entry, the error is clear.
    assert!(mesh.resolve("a/other").await.unwrap_err().is_unavailable());
    // Back up: fresh again.
    faulty.set(Fault::None);
    clock.advance(Duration::from_secs(31));
    assert!(!mesh.resolve("a/b").await.unwrap().is_stale());
}

#[tokio::test]
async fn health_changes_invalidate_cached_entries() {
    let (faulty, _clock, mesh) = setup(vec![record(
        "a/b",
        "1.0.0",
        &[("p1", 0.1, 10.0), ("p2", 0.2, 10.0)],
    )]);
    mesh.resolve("a/b").await.unwrap();
    assert_eq!(faulty.count(), 1);
    for _ in 0..5 {
        mesh.report_failure("p1");
    }
    assert!(mesh.health().is_ejected("p1"));
    let s = mesh.select("a/b").await.unwrap();
    assert_eq!(faulty.count(), 2, "ejection expired the entry");
    assert_eq!(s.provider().id, "p2");
}

#[tokio::test]
async fn local_marketplace_wins_without_registry_traffic() {
    let (faulty, _clock, mesh) = setup(vec![record("a/b", "1.0.0", &[("remote", 0.0, 1.0)])]);
    mesh.register_local("a/b", vec![ProviderRef::new("local", "local://a/b")]);
    let s = mesh.select("a/b").await.unwrap();
    assert_eq!(s.provider().id, "local");
    assert_eq!(faulty.count(), 0);
}

#[tokio::test]
async fn deprecated_versions_need_exact_requests_and_warn() {
    let (_faulty, _clock, mesh) = setup(vec![doc_record()]);
    let ctx = SecurityContext::full();
    let s = mesh
        .select_provider("image-processing/sharpen@~1.1", &ctx)
        .await
        .unwrap();
    assert_eq!(s.provider().id, "provider-11");
    assert!(mesh.resolve("image-processing/sharpen@~1.0").await.is_err());
    let r = mesh
        .resolve("image-processing/sharpen@1.0.0")
        .await
        .unwrap();
    assert!(r.warnings().any(|w| w.contains("deprecated")));
    assert!(
        mesh.resolve("image-processing/sharpen@bogus!")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn security_context_and_record_requirements_are_enforced() {
    let (_faulty, _clock, mesh) = setup(vec![doc_record()]);
    let name = "image-processing/sharpen";
    let e = mesh
        .select_provider(name, &SecurityContext::pure())
        .await
        .unwrap_err();
    assert!(matches!(e, MeshError::SecurityViolation(_)), "{e}");

    let no_perms = SecurityContext::controlled(["image-processing/*"], ["provider-456"]).unwrap();
    let e = mesh.select_provider(name, &no_perms).await.unwrap_err();
    assert!(e.to_string().contains("image.write"), "{e}");

    let ctx = SecurityContext::builder(SecurityLevel::Controlled)
        .allow_function("image-processing/*")
        .allow_provider("provider-123")
        .grant_permission("image.read")
        .grant_permission("image.write")
        .build()
        .unwrap();
    // provider-456 is cheaper but not allowed by the context.
    assert_eq!(
        mesh.select_provider(name, &ctx)
            .await
            .unwrap()
            .provider()
            .id,
        "provider-123"
    );
    let nobody = SecurityContext::builder(SecurityLevel::Controlled)
        .allow_function(name)
        .grant_permission("image.read")
        .grant_permission("image.write")
        .build()
        .unwrap();
    let e = mesh.select_provider(name, &nobody).await.unwrap_err();
    assert!(matches!(e, MeshError::NoProvider { .. }), "{e}");

    let other_fn = SecurityContext::controlled(["data/*"], ["provider-123"]).unwrap();
    assert!(matches!(
        mesh.select_provider(name, &other_fn).await,
        Err(MeshError::SecurityViolation(_))
    ));
}

#[tokio::test]
async fn trusted_providers_list_is_enforced_at_every_level() {
    let mut r = record(
        "a/b",
        "1.0.0",
        &[("cheap", 0.0, 1.0), ("trusted", 1.0, 1.0)],
    );
    r.security_requirements.trusted_providers = vec!["trusted".into()];
    let (_faulty, _clock, mesh) = setup(vec![r]);
    let s = mesh.select("a/b").await.unwrap();
    assert_eq!(s.provider().id, "trusted");
}

fn signed(key: &PublisherKey, rv: u64, expires: Option<SystemTime>) -> FunctionRecord {
    let mut r = record(
        "acme.com/img/sharpen",
        "1.0.0",
        &[(&format!("p-v{rv}"), 0.1, 10.0)],
    );
    r.record_version = rv;
    r.expires = expires.or(Some(SystemTime::now() + Duration::from_secs(3600)));
    key.sign(&mut r);
    r
}

#[tokio::test]
async fn refused_records_keep_the_previous_good_one() {
    let acme = PublisherKey::from_seed([7; 32]);
    let mallory = PublisherKey::from_seed([8; 32]);
    let mem = Arc::new(MemoryRegistry::new());
    mem.put(signed(&acme, 2, None));
    let faulty = Faulty::new("mirror", mem);
    let clock = Arc::new(ManualClock::new());
    let trust = Arc::new(TrustStore::new().trust("acme.com", acme.public()));
    let mesh = GlobalFunctionMesh::builder(faulty.clone())
        .with_clock(clock.clone())
        .with_trust_store(trust)
        .build();
    let name = "acme.com/img/sharpen";
    assert_eq!(mesh.select(name).await.unwrap().provider().id, "p-v2");

    let cases: Vec<(FunctionRecord, &str)> = vec![
        (signed(&acme, 1, None), "rollback"),
        (
            signed(&acme, 3, Some(SystemTime::now() - Duration::from_secs(5))),
            "expired",
        ),
        (signed(&mallory, 3, None), "unknown key"),
        (
            {
                let mut r = signed(&acme, 3, None);
                r.signature = None;
                r
            },
            "not signed",
        ),
        (
            {
                let mut r = signed(&acme, 3, None);
                r.providers[0].endpoint = "https://evil.example".into();
                r
            },
            "does not verify",
        ),
    ];
    for (bad, why) in cases {
        clock.advance(Duration::from_secs(400));
        faulty.set(Fault::Serve(Box::new(bad)));
        let r = mesh.resolve(name).await.unwrap();
        assert_eq!(r.entry.providers[0].provider.id, "p-v2", "{why}");
        let w: Vec<&str> = r.warnings().collect();
        assert!(w.iter().any(|w| w.contains(why)), "{why}: {w:?}");
    }
    // A newer, properly signed record is accepted.
    clock.advance(Duration::from_secs(400));
    faulty.set(Fault::Serve(Box::new(signed(&acme, 4, None))));
    assert_eq!(mesh.select(name).await.unwrap().provider().id, "p-v4");

    // With nothing accepted before, a bad record is a clear error.
    let fresh = GlobalFunctionMesh::builder(faulty.clone())
        .with_trust_store(Arc::new(TrustStore::new().trust("acme.com", acme.public())))
        .build();
    faulty.set(Fault::Serve(Box::new(signed(&mallory, 9, None))));
    let e = fresh.resolve(name).await.unwrap_err();
    assert!(
        matches!(
            e,
            MeshError::Rejected {
                reason: RejectReason::UnknownKey(_),
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_stays_consistent_under_concurrent_resolves_and_invalidations() {
    let names: Vec<String> = (0..20).map(|i| format!("ns/f{i}")).collect();
    let records = names
        .iter()
        .map(|n| {
            record(
                n,
                "1.0.0",
                &[(&format!("{}-p", n.replace('/', "-")), 0.1, 1.0)],
            )
        })
        .collect();
    let (faulty, _clock, mesh) = setup(records);
    let mesh = Arc::new(mesh);
    let names = Arc::new(names);
    let mut set = tokio::task::JoinSet::new();
    for t in 0..8 {
        let (mesh, names) = (mesh.clone(), names.clone());
        set.spawn(async move {
            for i in 0..300 {
                let n = &names[(i * 7 + t) % names.len()];
                if i % 50 == 0 {
                    mesh.invalidate(n);
                }
                let s = mesh.select(n).await.unwrap();
                assert_eq!(s.provider().id, format!("{}-p", n.replace('/', "-")));
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    // 20 cold names plus at most one refetch per invalidation.
    let lookups = faulty.count();
    assert!((20..=20 + 8 * 6).contains(&lookups), "{lookups}");
    assert_eq!(mesh.cache().len(), 20);
}
