//! `rtfs mesh …` through `rtfs::mesh_cli` (the command line moved from the mesh crate into
//! the binary's library): registries in temp dirs and on 127.0.0.1 port 0, keys, trust.

#[allow(dead_code)]
#[path = "../../mesh-io/tests/mesh/common.rs"]
mod common;

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

use rtfs::mesh_cli::{run, run_with_reader};
use rtfs_mesh_io::FunctionRecord;

use crate::common::DOC_RECORD_JSON;

fn mesh(args: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(
        args.iter().map(|s| s.to_string()).collect(),
        &mut out,
        &mut err,
    );
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn publish_and_resolve_signed_records_in_a_directory_registry() {
    let t = tempfile::tempdir().unwrap();
    let reg = t.path().join("registry");
    let cache = t.path().join("cache");
    let (code, out, _) = mesh(&["init", p(&reg)]);
    assert_eq!(code, 0, "{out}");

    let key = t.path().join("acme.key");
    let (code, out, _) = mesh(&["keygen", "--out", p(&key), "--json"]);
    assert_eq!(code, 0);
    let k: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let public = k["public-key"].as_str().unwrap().to_string();

    let rec = t.path().join("sharpen.json");
    std::fs::write(&rec, DOC_RECORD_JSON).unwrap();
    let (code, out, err) = mesh(&["publish", "--registry", p(&reg), "--key", p(&key), p(&rec)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("registered image-processing/sharpen 1.2.0 (record-version 1"),
        "{out}"
    );
    // Publishing again updates and bumps the record-version.
    let (code, out, err) = mesh(&["publish", "--registry", p(&reg), "--key", p(&key), p(&rec)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("updated") && out.contains("record-version 2"),
        "{out}"
    );

    let trust = format!("image-processing={public}");
    let base = [
        "--registry",
        p(&reg),
        "--cache-dir",
        p(&cache),
        "--trust-key",
        &trust,
    ];
    let mut args = vec!["resolve", "image-processing/sharpen"];
    args.extend(base);
    let (code, out, err) = mesh(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().next().unwrap(), "provider-456", "{out}");
    assert!(out.contains("mcp://image-server.local/sharpen"));

    let mut args = vec![
        "resolve",
        "image-processing/sharpen",
        "--all",
        "--strategy",
        "fastest",
    ];
    args.extend(base);
    let (code, out, _) = mesh(&args);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "provider-123");
    assert!(lines.iter().any(|l| l.contains("1. provider-123")), "{out}");
    assert!(lines.iter().any(|l| l.contains("2. provider-456")), "{out}");

    let mut args = vec!["resolve", "image-processing/sharpen@1.0.0", "--json"];
    args.extend(base);
    let (code, out, err) = mesh(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["selected"], "provider-old");
    assert_eq!(v["version"], "1.0.0");
    assert!(err.contains("deprecated"), "{err}");

    // Controlled without allowances: refused, with the reason.
    let mut args = vec![
        "resolve",
        "image-processing/sharpen",
        "--security",
        "controlled",
    ];
    args.extend(base);
    let (code, _, err) = mesh(&args);
    assert_eq!(code, 1);
    assert!(err.contains("not allowed"), "{err}");
    let mut args = vec![
        "resolve",
        "image-processing/sharpen",
        "--security",
        "controlled",
        "--allow",
        "image-processing/*",
        "--allow-provider",
        "provider-123",
        "--permission",
        "image.read",
        "--permission",
        "image.write",
    ];
    args.extend(base);
    let (code, out, err) = mesh(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().next().unwrap(), "provider-123");
    let mut args = vec![
        "resolve",
        "image-processing/sharpen",
        "--security",
        "controlled",
        "--allow",
        "image-[bad",
    ];
    args.extend(base);
    let (code, _, err) = mesh(&args);
    assert_eq!(code, 2, "a bad pattern is a usage error: {err}");

    // A wrong key refuses the record.
    let other = rtfs_mesh_io::PublisherKey::from_seed([5; 32]).public_hex();
    let wrong = format!("image-processing={other}");
    let (code, _, err) = mesh(&[
        "resolve",
        "image-processing/sharpen",
        "--registry",
        p(&reg),
        "--no-cache",
        "--trust-key",
        &wrong,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("rejected"), "{err}");

    let (code, out, _) = mesh(&["list", "image-*/*", "--registry", p(&reg), "--no-cache"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("image-processing/sharpen\t1.2.0"), "{out}");
    let (code, _, err) = mesh(&[
        "resolve",
        "nope/missing",
        "--registry",
        p(&reg),
        "--no-cache",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn rtfs_records_need_a_reader() {
    let t = tempfile::tempdir().unwrap();
    let reg = t.path().join("r");
    mesh(&["init", p(&reg)]);
    let rec = t.path().join("sharpen.rtfs");
    std::fs::write(&rec, "{:func-name \"image-processing/sharpen\" ...}").unwrap();
    let (code, _, err) = mesh(&["publish", "--registry", p(&reg), p(&rec)]);
    assert_eq!(code, 1);
    assert!(err.contains(".json"), "{err}");
    // With a reader (the binary passes the real one), the same file publishes.
    let reader = |_src: &str| -> Result<rtfs_ir::Value, String> {
        Ok(FunctionRecord::from_json_str(DOC_RECORD_JSON)
            .unwrap()
            .to_value())
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with_reader(
        vec![
            "mesh".into(),
            "publish".into(),
            "--registry".into(),
            p(&reg).into(),
            p(&rec).into(),
        ],
        &mut out,
        &mut err,
        &reader,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
}

#[test]
fn git_registry_through_the_cli() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("mesh.git");
    let (code, out, err) = mesh(&["init", "--git", p(&repo)]);
    assert_eq!(code, 0, "{err}");
    let url = format!("file://{}", repo.display());
    assert!(out.contains(&url), "{out}");
    let rec = t.path().join("s.json");
    std::fs::write(&rec, DOC_RECORD_JSON).unwrap();
    let cache = t.path().join("cache");
    let (code, _, err) = mesh(&[
        "publish",
        "--registry",
        &url,
        "--cache-dir",
        p(&cache),
        p(&rec),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = mesh(&[
        "resolve",
        "image-processing/sharpen@~1.1",
        "--registry",
        &url,
        "--cache-dir",
        p(&cache),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().next().unwrap(), "provider-11");
}

struct LineSink(mpsc::Sender<String>, Vec<u8>);

impl Write for LineSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        while let Some(i) = self.1.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.1.drain(..=i).collect();
            let _ = self
                .0
                .send(String::from_utf8_lossy(&line).trim().to_string());
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn serve_prints_its_address_and_answers_resolves() {
    let t = tempfile::tempdir().unwrap();
    let reg = t.path().join("r");
    mesh(&["init", p(&reg)]);
    let rec = t.path().join("s.json");
    std::fs::write(&rec, DOC_RECORD_JSON).unwrap();
    assert_eq!(mesh(&["publish", "--registry", p(&reg), p(&rec)]).0, 0);
    let (tx, rx) = mpsc::channel();
    let reg_s = p(&reg).to_string();
    // The server thread lives until the test process exits.
    std::thread::spawn(move || {
        let mut out = LineSink(tx, Vec::new());
        let mut err = Vec::new();
        run(
            vec![
                "serve".into(),
                "--registry".into(),
                reg_s,
                "--addr".into(),
                "127.0.0.1:0".into(),
            ],
            &mut out,
            &mut err,
        )
    });
    let addr = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let cache = t.path().join("cache");
    for reg in [format!("http://{addr}"), addr.clone()] {
        let (code, out, err) = mesh(&[
            "resolve",
            "image-processing/sharpen",
            "--registry",
            &reg,
            "--cache-dir",
            p(&cache),
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().next().unwrap(), "provider-456");
    }
    let (code, out, _) = mesh(&[
        "list",
        "**",
        "--registry",
        &format!("http://{addr}"),
        "--json",
        "--no-cache",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn help_and_usage_errors() {
    let (code, out, _) = mesh(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Examples:") && out.contains("resolve"),
        "{out}"
    );
    let (code, out, _) = mesh(&["resolve", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--allow-provider"), "{out}");
    let (code, _, err) = mesh(&["resolve", "a/b"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = mesh(&["frobnicate"]);
    assert_eq!(code, 2);
    let (code, _, err) = mesh(&["resolve", "a/b", "--registry", "ftp://x"]);
    assert_eq!(code, 2, "{err}");
}
