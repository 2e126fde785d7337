use std::sync::Arc;
use std::time::Duration;

use rtfs_mesh_io::{
    ConflictPolicy, DirRegistry, Federation, MemoryRegistry, MeshError, PublisherKey, Registry,
    TrustStore,
};

use crate::common::{Fault, Faulty, record};

fn versioned(name: &str, rv: u64, provider: &str) -> rtfs_mesh_io::FunctionRecord {
    let mut r = record(name, "1.0.0", &[(provider, 0.1, 10.0)]);
    r.record_version = rv;
    r
}

fn member(name: &str, records: Vec<rtfs_mesh_io::FunctionRecord>) -> Arc<Faulty> {
    let mem = Arc::new(MemoryRegistry::new());
    for r in records {
        mem.put(r);
    }
    Faulty::new(name, mem)
}

#[tokio::test]
async fn highest_record_version_wins_and_ties_go_to_priority() {
    let primary = member("primary", vec![versioned("a/b", 1, "from-primary")]);
    let mirror = member("mirror", vec![versioned("a/b", 2, "from-mirror")]);
    let fed = Federation::new()
        .with_member(primary.clone())
        .with_member(mirror.clone());
    let r = fed.lookup("a/b").await.unwrap();
    assert_eq!(r.providers[0].id, "from-mirror");

    let first = Federation::new()
        .with_member(primary.clone())
        .with_member(mirror.clone())
        .with_policy(ConflictPolicy::FirstByPriority);
    assert_eq!(
        first.lookup("a/b").await.unwrap().providers[0].id,
        "from-primary"
    );

    let p = member("p", vec![versioned("a/b", 3, "p")]);
    let q = member("q", vec![versioned("a/b", 3, "q")]);
    let tie = Federation::new().with_member(p).with_member(q);
    assert_eq!(tie.lookup("a/b").await.unwrap().providers[0].id, "p");
    assert!(tie.take_warnings().iter().any(|w| w.contains("disagree")));
}

#[tokio::test]
async fn failover_between_members_and_local_cache_when_all_down() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(DirRegistry::create(dir.path()).unwrap());
    let primary = member("primary", vec![versioned("a/b", 1, "p")]);
    let secondary = member("secondary", vec![versioned("a/b", 1, "s")]);
    let fed = Federation::new()
        .with_member(primary.clone())
        .with_member(secondary.clone())
        .with_local_cache(cache.clone())
        .with_member_timeout(Duration::from_millis(200));

    primary.set(Fault::Down);
    assert_eq!(fed.lookup("a/b").await.unwrap().providers[0].id, "s");
    primary.set(Fault::Slow(Duration::from_secs(5)));
    assert_eq!(fed.lookup("a/b").await.unwrap().providers[0].id, "s");

    // The record went to the local cache on the way; with everything down it answers.
    primary.set(Fault::Down);
    secondary.set(Fault::Garbage);
    let r = fed.lookup("a/b").await.unwrap();
    assert_eq!(r.providers[0].id, "s");
    assert!(
        fed.take_warnings()
            .iter()
            .any(|w| w.contains("local cache"))
    );
    let e = fed.lookup("a/never-seen").await.unwrap_err();
    assert!(matches!(e, MeshError::AllUnavailable(_)), "{e}");
    // Listing also falls back to the cache.
    assert_eq!(fed.list("a/*").await.unwrap().len(), 1);

    // "Not found" from a live member is authoritative.
    secondary.set(Fault::None);
    assert!(matches!(
        fed.lookup("a/never-seen").await,
        Err(MeshError::NotFound(_))
    ));
}

#[tokio::test]
async fn unverifiable_records_are_skipped_before_choosing() {
    let acme = PublisherKey::from_seed([3; 32]);
    let evil = PublisherKey::from_seed([4; 32]);
    let mut good = versioned("acme.com/x/f", 1, "good");
    acme.sign(&mut good);
    let mut forged = versioned("acme.com/x/f", 99, "forged");
    evil.sign(&mut forged);
    let fed = Federation::new()
        .with_member(member("evil-mirror", vec![forged]))
        .with_member(member("origin", vec![good]))
        .with_trust(Arc::new(TrustStore::new().trust("acme.com", acme.public())));
    let r = fed.lookup("acme.com/x/f").await.unwrap();
    assert_eq!(r.providers[0].id, "good");
    assert!(
        fed.take_warnings()
            .iter()
            .any(|w| w.contains("evil-mirror"))
    );
}

#[tokio::test]
async fn list_merges_members_and_writes_go_to_the_primary() {
    let primary = member("primary", vec![versioned("a/x", 1, "p")]);
    let other = member(
        "other",
        vec![versioned("a/x", 2, "o"), versioned("a/y", 1, "o")],
    );
    let fed = Federation::new()
        .with_member(primary.clone())
        .with_member(other.clone());
    let names: Vec<(String, String)> = fed
        .list("a/*")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.func_name.to_string(), r.providers[0].id.clone()))
        .collect();
    assert_eq!(
        names,
        [("a/x".into(), "o".into()), ("a/y".into(), "o".into())]
    );
    fed.register(versioned("a/z", 1, "new")).await.unwrap();
    assert!(primary.inner.lookup("a/z").await.is_ok());
    assert!(other.inner.lookup("a/z").await.is_err());
    assert!(fed.list("a/[").await.is_err(), "bad glob is an error");
}
