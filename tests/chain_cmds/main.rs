//! `rtfs chain …` through `rtfs::chain_cli::run` (the command line moved from the chain
//! crate into the binary's library; the helpers are the chain crate's test helpers): exit codes (0 valid, 1 tampered, 2 usage/I/O), the
//! first bad entry named in text and JSON, proofs, and tree heads with MACs.

#[path = "../../chain/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::{chain_bytes, join, line_spans, lines, temp_dir, write_file};
use rtfs::chain_cli as cli;
use rtfs_chain::{ConsistencyProof, InclusionProof, TreeHead};

fn run(args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run(&args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn chain_file(tag: &str, bytes: &[u8]) -> PathBuf {
    let path = temp_dir(tag).join("run.chain");
    write_file(&path, bytes);
    path
}

#[test]
fn a_valid_chain_verifies_with_exit_0() {
    let path = chain_file("ok", &chain_bytes(10));
    let (code, out, _) = run(&["verify", s(&path)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: "), "{out}");
    assert!(out.contains("10 entries verify"), "{out}");
    let (code, out, _) = run(&["rtfs", "chain", "verify", s(&path), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "valid");
    assert_eq!(v["entries"], 10);
}

#[test]
fn tampering_exits_1_and_names_the_first_bad_entry() {
    let bytes = chain_bytes(10);
    let spans = line_spans(&bytes);
    let mut flipped = bytes.clone();
    flipped[spans[3].start + 100] ^= 0x01;
    let mut dropped = lines(&bytes);
    dropped.remove(6);
    let mut swapped = lines(&bytes);
    swapped.swap(2, 3);
    let mut inserted = lines(&bytes);
    inserted.insert(5, inserted[8].clone());
    for (name, t, line) in [
        ("flip", flipped, 4),
        ("drop", join(&dropped), 7),
        ("swap", join(&swapped), 3),
        ("insert", join(&inserted), 6),
    ] {
        let path = chain_file(name, &t);
        let (code, out, _) = run(&["verify", s(&path)]);
        assert_eq!(code, 1, "{name}: {out}");
        let needle = format!("line {line} (entry {})", line - 1);
        assert!(out.starts_with("tampered: "), "{name}: {out}");
        assert!(out.contains(&needle), "{name}: {out}");
        let (code, out, _) = run(&["verify", s(&path), "--json"]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["status"], "tampered");
        assert_eq!(v["problem"]["line"], line);
        assert_eq!(v["entries"], line - 1);
    }
}

#[test]
fn a_torn_tail_is_reported_but_the_prefix_verifies() {
    let bytes = chain_bytes(4);
    let path = chain_file("torn", &bytes[..bytes.len() - 30]);
    let (code, out, _) = run(&["verify", s(&path)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 entries verify"), "{out}");
    assert!(out.contains("incomplete tail"), "{out}");
    let (_, out, _) = run(&["verify", s(&path), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "incomplete_tail");
    assert_eq!(v["tail_bytes"], line_spans(&bytes)[3].len() - 30);
}

#[test]
fn proofs_print_and_verify() {
    let path = chain_file("proof", &chain_bytes(9));
    let (code, out, _) = run(&["proof", s(&path), "4", "--json"]);
    assert_eq!(code, 0);
    let p: InclusionProof = serde_json::from_str(&out).unwrap();
    assert_eq!((p.index, p.tree_size), (4, 9));
    assert!(p.verify());
    let (code, out, _) = run(&["proof", s(&path), "4"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("entry 4 of 9\n"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("  ")).count(),
        p.path.len()
    );
    let (code, _, err) = run(&["proof", s(&path), "9"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("entry 9 is not in a chain of 9 entries"),
        "{err}"
    );
    let (code, out, _) = run(&["consistency", s(&path), "5", "--json"]);
    assert_eq!(code, 0);
    let c: ConsistencyProof = serde_json::from_str(&out).unwrap();
    assert!(c.verify());
    let mut t = chain_bytes(9);
    t[10] ^= 0x02;
    let bad = chain_file("proof-bad", &t);
    let (code, out, _) = run(&["proof", s(&bad), "1"]);
    assert_eq!(code, 1);
    assert!(out.contains("line 1 (entry 0)"), "{out}");
}

#[test]
fn a_saved_head_catches_a_dropped_last_entry_and_a_forged_head() {
    let dir = temp_dir("head");
    let bytes = chain_bytes(6);
    let path = dir.join("run.chain");
    write_file(&path, &bytes);
    let key = dir.join("chain.key");
    write_file(&key, b"0123456789abcdef0123456789abcdef\n");
    let head = dir.join("run.head");
    let (code, out, err) = run(&["head", s(&path), "--key", s(&key), "--out", s(&head)]);
    assert_eq!(code, 0, "{out}{err}");
    let saved = TreeHead::load(&head).unwrap();
    assert_eq!(saved.tree_size, 6);
    assert!(saved.mac.is_some());
    let (code, out, _) = run(&["verify", s(&path), "--head", s(&head), "--key", s(&key)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("matches the tree head of 6 entries"), "{out}");

    let mut ls = lines(&bytes);
    ls.pop();
    write_file(&path, &join(&ls));
    let (code, out, _) = run(&["verify", s(&path)]);
    assert_eq!(code, 0, "without the head a shorter chain is valid: {out}");
    let (code, out, _) = run(&["verify", s(&path), "--head", s(&head), "--key", s(&key)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("truncated"), "{out}");

    // A head rewritten to match the shorter chain no longer carries a valid MAC.
    let (_, forged_json, _) = run(&["head", s(&path)]);
    let mut forged = TreeHead::from_json(forged_json.trim()).unwrap();
    forged.mac = saved.mac;
    forged.save(&head).unwrap();
    let (code, out, _) = run(&["verify", s(&path), "--head", s(&head), "--key", s(&key)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MAC is wrong"), "{out}");
}

#[test]
fn bad_usage_and_io_errors_exit_2() {
    let path = chain_file("usage", &chain_bytes(2));
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["verify"],
        vec!["verify", "a", "b"],
        vec!["verify", s(&path), "--bogus"],
        vec!["verify", s(&path), "--head"],
        vec!["verify", s(&path), "--key", "k"],
        vec!["proof", s(&path)],
        vec!["proof", s(&path), "-1"],
        vec!["proof", s(&path), "x"],
        vec!["verify", "/nonexistent/run.chain"],
        vec!["verify", s(&path), "--head", "/nonexistent/head"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            err.starts_with("error: ") || args.is_empty(),
            "{args:?}: {err}"
        );
    }
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("verify FILE"));
}
