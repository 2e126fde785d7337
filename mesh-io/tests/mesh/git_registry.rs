use std::sync::Arc;
use std::time::Duration;

use rtfs_mesh_io::{GitRegistry, GlobalFunctionMesh, MeshError, Registry};

use crate::common::record;

fn commits(repo: &std::path::Path) -> usize {
    let repo = gix::open(repo).unwrap();
    let tip = repo
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_id()
        .unwrap();
    tip.ancestors().all().unwrap().count()
}

struct Fixture {
    _dir: tempfile::TempDir,
    remote: std::path::PathBuf,
    url: String,
    clones: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("mesh.git");
    GitRegistry::init_bare(&remote).unwrap();
    Fixture {
        url: format!("file://{}", remote.display()),
        remote,
        clones: dir.path().join("clones"),
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_commits_and_lookups_read_the_clone() {
    let f = fixture();
    assert_eq!(commits(&f.remote), 1);
    let reg = GitRegistry::open(&f.url, f.clones.join("a"), Duration::from_secs(3600)).unwrap();
    reg.register(record(
        "image-processing/sharpen",
        "1.0.0",
        &[("p1", 0.1, 10.0)],
    ))
    .await
    .unwrap();
    reg.register(record(
        "image-processing/blur",
        "2.0.0",
        &[("p2", 0.1, 10.0)],
    ))
    .await
    .unwrap();
    assert_eq!(commits(&f.remote), 3, "one commit per register");
    // The record sits at its sharded path in the remote's tree.
    let repo = gix::open(&f.remote).unwrap();
    let tree = repo.head_commit().unwrap().tree().unwrap();
    assert!(
        tree.lookup_entry_by_path("im/ag/image-processing~sharpen.json")
            .unwrap()
            .is_some()
    );

    let r = reg.lookup("image-processing/sharpen").await.unwrap();
    assert_eq!(r.providers[0].id, "p1");
    assert!(matches!(
        reg.register(record(
            "image-processing/sharpen",
            "1.0.0",
            &[("p", 0.0, 1.0)]
        ))
        .await,
        Err(MeshError::Conflict(_))
    ));
    let mut upd = record("image-processing/sharpen", "1.1.0", &[("p3", 0.1, 10.0)]);
    upd.record_version = 2;
    reg.update("image-processing/sharpen", upd).await.unwrap();
    assert_eq!(
        reg.lookup("image-processing/sharpen")
            .await
            .unwrap()
            .providers[0]
            .id,
        "p3"
    );
    // The source refuses to go back in record-version.
    let mut old = record("image-processing/sharpen", "1.0.0", &[("p1", 0.1, 10.0)]);
    old.record_version = 1;
    assert!(matches!(
        reg.update("image-processing/sharpen", old).await,
        Err(MeshError::Conflict(_))
    ));
    let listed = reg.list("image-processing/*").await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(reg.list("other/*").await.unwrap().is_empty());
    assert!(matches!(
        reg.lookup("image-processing/missing").await,
        Err(MeshError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_interval_governs_when_other_clones_see_changes() {
    let f = fixture();
    let writer = GitRegistry::open(&f.url, f.clones.join("w"), Duration::ZERO).unwrap();
    let lazy = GitRegistry::open(&f.url, f.clones.join("lazy"), Duration::from_secs(3600)).unwrap();
    let eager = GitRegistry::open(&f.url, f.clones.join("eager"), Duration::ZERO).unwrap();
    writer
        .register(record("a/one", "1.0.0", &[("p", 0.0, 1.0)]))
        .await
        .unwrap();
    assert!(lazy.lookup("a/one").await.is_ok());
    assert!(eager.lookup("a/one").await.is_ok());
    writer
        .register(record("a/two", "1.0.0", &[("p", 0.0, 1.0)]))
        .await
        .unwrap();
    assert!(
        matches!(lazy.lookup("a/two").await, Err(MeshError::NotFound(_))),
        "not synced yet"
    );
    assert!(eager.lookup("a/two").await.is_ok());
    lazy.sync_now().await.unwrap();
    assert!(lazy.lookup("a/two").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_offline_from_its_clone() {
    let f = fixture();
    let reg = GitRegistry::open(&f.url, f.clones.join("c"), Duration::ZERO).unwrap();
    reg.register(record("a/b", "1.0.0", &[("p", 0.0, 1.0)]))
        .await
        .unwrap();
    let moved = f.remote.with_extension("gone");
    std::fs::rename(&f.remote, &moved).unwrap();
    let r = reg.lookup("a/b").await.unwrap();
    assert_eq!(r.providers[0].id, "p");
    let w = reg.take_warnings();
    assert!(w.iter().any(|w| w.contains("offline")), "{w:?}");
    assert!(reg.last_sync_error().is_some());
    assert!(reg.sync_now().await.is_err());
    // Publishing needs the remote.
    assert!(
        reg.register(record("a/c", "1.0.0", &[("p", 0.0, 1.0)]))
            .await
            .is_err()
    );
    // A clone that never synced has nothing to serve: a clear "unavailable" error.
    let fresh = GitRegistry::open(&f.url, f.clones.join("never"), Duration::ZERO).unwrap();
    assert!(fresh.lookup("a/b").await.unwrap_err().is_unavailable());
    std::fs::rename(&moved, &f.remote).unwrap();
    assert!(fresh.lookup("a/b").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_the_repository_is_an_error_not_a_panic() {
    let f = fixture();
    let reg = GitRegistry::open(&f.url, f.clones.join("c"), Duration::ZERO).unwrap();
    reg.register(record("a/b", "1.0.0", &[("p", 0.0, 1.0)]))
        .await
        .unwrap();
    // Someone commits junk at a record path and a record for another name at another.
    let repo = gix::open(&f.remote).unwrap();
    let parent = repo.head_id().unwrap().detach();
    let tree = repo.head_commit().unwrap().tree_id().unwrap().detach();
    let junk = repo.write_blob(b"{ not json").unwrap().detach();
    let other = repo
        .write_blob(record("a/b", "1.0.0", &[("p", 0.0, 1.0)]).to_json_string())
        .unwrap()
        .detach();
    let mut ed = repo.edit_tree(tree).unwrap();
    ed.upsert("3/a/a~c.json", gix::object::tree::EntryKind::Blob, junk)
        .unwrap();
    ed.upsert("3/a/a~d.json", gix::object::tree::EntryKind::Blob, other)
        .unwrap();
    let new_tree = ed.write().unwrap().detach();
    let sig = gix::actor::Signature {
        name: "tester".into(),
        email: "tester@localhost".into(),
        time: gix::date::Time::now_utc(),
    };
    let (mut b1, mut b2) = (Default::default(), Default::default());
    repo.commit_as(
        sig.to_ref(&mut b1),
        sig.to_ref(&mut b2),
        "refs/heads/main",
        "junk",
        new_tree,
        [parent],
    )
    .unwrap();
    assert!(matches!(
        reg.lookup("a/c").await,
        Err(MeshError::BadResponse { .. })
    ));
    assert!(matches!(
        reg.lookup("a/d").await,
        Err(MeshError::Rejected { .. })
    ));
    // Listing skips what it cannot use.
    assert_eq!(reg.list("a/*").await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_do_not_lose_commits() {
    let f = fixture();
    let reg = Arc::new(GitRegistry::open(&f.url, f.clones.join("c"), Duration::ZERO).unwrap());
    let mut set = tokio::task::JoinSet::new();
    for i in 0..6 {
        let reg = reg.clone();
        set.spawn(async move {
            reg.register(record(&format!("a/f{i}"), "1.0.0", &[("p", 0.0, 1.0)]))
                .await
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(reg.list("a/*").await.unwrap().len(), 6);
    assert_eq!(commits(&f.remote), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_resolves_through_a_git_registry() {
    let f = fixture();
    let reg = Arc::new(GitRegistry::open(&f.url, f.clones.join("c"), Duration::ZERO).unwrap());
    reg.register(record(
        "a/b",
        "1.0.0",
        &[("cheap", 0.01, 100.0), ("dear", 1.0, 5.0)],
    ))
    .await
    .unwrap();
    let mesh = GlobalFunctionMesh::builder(reg).build();
    assert_eq!(mesh.select("a/b").await.unwrap().provider().id, "cheap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_lived_clone_survives_many_fetches() {
    // Each fetch that brings objects adds a pack to the clone; gix sizes its index table
    // when a repository is opened, so the registry must reopen after fetching.
    let f = fixture();
    let writer = GitRegistry::open(&f.url, f.clones.join("w"), Duration::from_secs(3600)).unwrap();
    let reader = GitRegistry::open(&f.url, f.clones.join("r"), Duration::ZERO).unwrap();
    for i in 0..40 {
        let name = format!("a/f{i}");
        writer
            .register(record(&name, "1.0.0", &[("p", 0.0, 1.0)]))
            .await
            .unwrap();
        assert!(reader.lookup(&name).await.is_ok(), "fetch {i}");
    }
    assert_eq!(reader.list("a/*").await.unwrap().len(), 40);
}
