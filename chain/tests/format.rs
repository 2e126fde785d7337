//! The file format: the documented example line, field stability, raw-value policy, and
//! that the file and memory sinks produce the same verifiable bytes.

mod common;

use common::{action, chain_bytes, temp_dir};
use rtfs_chain::{
    Action, ActionType, ChainConfig, ChainSink, ChainWriter, DelegationInfo, ExecTarget, FileSink,
    Hash, MemorySink, NoopSink, Status, verify, verify_bytes,
};

fn example_action() -> Action {
    let mut a = Action::new(
        ActionType::capability("ccos.echo"),
        DelegationInfo::decided(
            "StaticEngine",
            vec!["local".into(), "gpt4o".into()],
            ExecTarget::RemoteModel { id: "gpt4o".into() },
        ),
    )
    .with_inputs(b"[\"hello\"]", Some("[\"hello\"]".into()))
    .with_output(b"\"hello\"", None)
    .with_timing(1_764_374_400_000_000, 1_250)
    .with_plan("plan-42");
    a.timestamp_ms = 1_764_374_400_001;
    a
}

#[test]
fn the_documented_example_line_is_what_the_writer_produces() {
    let sink = MemorySink::new(false);
    sink.record(example_action());
    let produced = String::from_utf8(sink.jsonl()).unwrap();
    let documented = include_str!("../example-line.jsonl");
    assert_eq!(produced, documented, "update chain/example-line.jsonl");
}

#[test]
fn lines_have_the_documented_shape() {
    let bytes = chain_bytes(3);
    for (i, line) in common::lines(&bytes).iter().enumerate() {
        let text = std::str::from_utf8(line).unwrap();
        assert!(
            text.starts_with(&format!("{{\"index\":{i},\"prev\":\"")),
            "{text}"
        );
        assert!(text.ends_with("\"}\n"));
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys.len(), 4);
        assert_eq!(v["action"]["seq"], i as u64);
        let hash = v["hash"].as_str().unwrap();
        assert!(Hash::from_hex(hash).is_some());
    }
    // Entry 0 links to nothing; entry 1 links to entry 0.
    let lines = common::lines(&bytes);
    let v0: serde_json::Value = serde_json::from_slice(&lines[0]).unwrap();
    let v1: serde_json::Value = serde_json::from_slice(&lines[1]).unwrap();
    assert_eq!(v0["prev"], "0".repeat(64));
    assert_eq!(v1["prev"], v0["hash"]);
}

#[test]
fn raw_values_are_kept_only_when_configured() {
    let plain = MemorySink::new(false);
    let raw = MemorySink::new(true);
    plain.record(action(1));
    raw.record(action(1));
    let (p, r) = (&plain.actions()[0], &raw.actions()[0]);
    assert_eq!(p.raw_inputs, None);
    assert_eq!(p.raw_output, None);
    assert_eq!(r.raw_inputs.as_deref(), Some("[1 \"x\"]"));
    assert_eq!(r.raw_output.as_deref(), Some("{:n 1}"));
    assert!(!String::from_utf8(plain.jsonl()).unwrap().contains("raw_"));
    assert!(
        String::from_utf8(raw.jsonl())
            .unwrap()
            .contains("\"raw_inputs\"")
    );
    assert_eq!(p.input_hash, r.input_hash);
    assert!(!plain.keeps_raw());
    assert!(raw.keeps_raw());
}

#[test]
fn file_and_memory_sinks_write_identical_verifiable_chains() {
    let dir = temp_dir("sinks");
    let path = dir.join("run.chain");
    let file = FileSink::open(&path, ChainConfig::default()).unwrap();
    let memory = MemorySink::default();
    for i in 0..50 {
        file.record(action(i));
        memory.record(action(i));
    }
    file.flush().unwrap();
    memory.flush().unwrap();
    assert_eq!(file.len(), 50);
    assert_eq!(file.root(), memory.root());
    assert_eq!(file.head(), memory.head());
    drop(file);
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(on_disk, memory.jsonl());
    let report = verify(&path).unwrap();
    assert_eq!(report.status, Status::Valid);
    assert_eq!(report.entries, 50);
    assert_eq!(report.root, memory.root());
    assert_eq!(verify_bytes(&on_disk), report);
    let seqs: Vec<u64> = memory.actions().iter().map(|a| a.seq).collect();
    assert_eq!(seqs, (0..50).collect::<Vec<_>>());
}

#[test]
fn the_noop_sink_records_nothing_and_says_so() {
    let sink = NoopSink;
    sink.record(action(0));
    assert!(!sink.is_enabled());
    assert!(sink.flush().is_ok());
    let dyn_sink: std::sync::Arc<dyn ChainSink> = std::sync::Arc::new(MemorySink::default());
    assert!(dyn_sink.is_enabled());
}

#[test]
fn an_empty_chain_verifies_with_the_empty_root() {
    let report = verify_bytes(b"");
    assert!(report.is_valid());
    assert_eq!(report.entries, 0);
    assert_eq!(report.root, MemorySink::default().root());
    let dir = temp_dir("empty");
    let w = ChainWriter::open(dir.join("new.chain"), ChainConfig::default()).unwrap();
    assert!(w.is_empty());
    assert_eq!(w.root(), report.root);
}
