//! The directory registry: every stored name is listed (dotted shards included) and the
//! size limit applies to the text written.

use std::collections::BTreeMap;

use rtfs_mesh_io::registry::record_file_text;
use rtfs_mesh_io::{DirRegistry, ProviderRef, Registry};

use crate::common::record;

#[tokio::test]
async fn names_whose_shard_starts_with_a_dot_are_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reg = DirRegistry::create(dir.path()).expect("create");
    let names = ["hp.com/image/sharpen", "ab.c/x", "plain/fn", "x.y/z"];
    for n in names {
        reg.register(record(n, "1.0.0", &[("p", 0.1, 10.0)]))
            .await
            .expect("register");
    }
    // `hp.com/…` lives under `hp/.c/`: the walk must go into it.
    assert!(dir.path().join("hp").join(".c").is_dir());
    let mut listed: Vec<String> = reg
        .list("**")
        .await
        .expect("list")
        .iter()
        .map(|r| r.func_name.to_string())
        .collect();
    listed.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(reg.names().expect("names").len(), names.len());
    // Files that are not records (temporaries, the root's own hidden entries) are not.
    std::fs::write(dir.path().join("hp").join(".c").join(".tmp-123"), b"x").expect("write");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
    assert_eq!(reg.names().expect("names").len(), names.len());
}

/// A record that fits in 1 MiB as compact JSON but not as the pretty JSON a directory stores.
fn big_record() -> rtfs_mesh_io::FunctionRecord {
    let mut r = record("big/fn", "1.0.0", &[]);
    let providers: Vec<ProviderRef> = (0..1000)
        .map(|i| ProviderRef::new(format!("p{i}"), format!("https://e{i}.example/x")))
        .collect();
    r.versions = (0..8u64)
        .map(|minor| {
            (
                semver::Version::new(1, minor, 0),
                rtfs_mesh_io::record::VersionEntry {
                    providers: providers.clone(),
                    deprecated: false,
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    r.latest_version = semver::Version::new(1, 7, 0);
    r
}

#[tokio::test]
async fn a_record_too_big_as_stored_is_refused_and_nothing_is_written() {
    let r = big_record();
    let compact = r.to_json_string().len();
    let pretty = r.to_json_pretty().len();
    assert!(
        compact <= 1 << 20 && pretty > 1 << 20,
        "fixture sizes: compact {compact}, pretty {pretty}"
    );
    assert!(record_file_text(&r).is_err());
    let dir = tempfile::tempdir().expect("tempdir");
    let reg = DirRegistry::create(dir.path()).expect("create");
    let e = reg.register(r).await.expect_err("too big");
    assert!(e.to_string().contains("byte limit"), "{e}");
    assert!(reg.names().expect("names").is_empty());
    assert!(matches!(
        reg.lookup("big/fn").await,
        Err(rtfs_mesh_io::MeshError::NotFound(_))
    ));
}
