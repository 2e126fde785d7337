//! `rtfs chain …` through the real binary: the command is wired to `rtfs::chain_cli` and
//! its exit codes reach the shell (0 valid, 1 tampered, 2 usage or I/O).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rtfs_chain::{
    Action, ActionType, ChainConfig, ChainWriter, DelegationInfo, ExecTarget, InclusionProof,
};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

fn temp_dir(tag: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-chain-cli-tests")
        .join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn rtfs(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .expect("run the rtfs binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A 20-entry chain written by the real writer.
fn write_chain(dir: &Path) -> PathBuf {
    let path = dir.join("run.chain");
    let mut w = ChainWriter::open(&path, ChainConfig::default()).expect("open chain");
    for i in 0..20u64 {
        let a = Action::new(
            ActionType::capability(format!("ccos.test/op-{i}")),
            DelegationInfo::decided("StaticEngine", vec!["local".into()], ExecTarget::LocalPure),
        )
        .with_inputs(format!("[{i}]").as_bytes(), None)
        .with_output(format!("{i}").as_bytes(), None);
        w.append(a).expect("append");
    }
    path
}

/// Replaces the file's contents atomically (temp file + rename).
fn rewrite(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[test]
fn rtfs_chain_verify_reports_valid_and_tampered_chains_with_exit_codes() {
    let dir = temp_dir("verify");
    let path = write_chain(&dir);
    let p = path.to_str().unwrap();
    let o = rtfs(&["chain", "verify", p]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("20 entries verify"));

    let mut bytes = std::fs::read(&path).unwrap();
    let line_start = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(11)
        .map(|(i, _)| i + 1)
        .unwrap();
    bytes[line_start + 50] ^= 0x01;
    rewrite(&path, &bytes);
    let o = rtfs(&["chain", "verify", p, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["status"], "tampered");
    assert_eq!(v["problem"]["line"], 13);
    assert_eq!(v["problem"]["entry"], 12);
}

#[test]
fn rtfs_chain_proof_gives_a_verifiable_audit_path() {
    let dir = temp_dir("proof");
    let path = write_chain(&dir);
    let o = rtfs(&["chain", "proof", path.to_str().unwrap(), "7", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let proof: InclusionProof = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!((proof.index, proof.tree_size), (7, 20));
    assert!(proof.verify());
}

#[test]
fn rtfs_chain_usage_and_io_errors_exit_2() {
    for args in [
        vec!["chain"],
        vec!["chain", "verify"],
        vec!["chain", "verify", "/nonexistent/x.chain"],
    ] {
        let o = rtfs(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    }
}
