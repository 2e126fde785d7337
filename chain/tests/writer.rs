//! The writer on real files: crash recovery at every byte of a torn last line, reopening
//! and continuing, refusing tampered files, the single-writer lock, size limits, fsync
//! policies, and the file sink under concurrent recording.

mod common;

use std::sync::Arc;

use common::{action, chain_bytes, line_spans, temp_dir, write_file};
use rtfs_chain::{
    ChainConfig, ChainError, ChainSink, ChainWriter, FileSink, FsyncPolicy, MAX_LINE, MemorySink,
    ProblemKind, Status, verify,
};

#[test]
fn a_crash_at_any_byte_of_the_last_line_leaves_a_verifiable_prefix_and_the_writer_continues() {
    for n in [1u64, 12] {
        let full = chain_bytes(n);
        let expected = verify(write_chain(&full, "full")).unwrap();
        let last = line_spans(&full).pop().unwrap();
        let dir = temp_dir("crash");
        let path = dir.join("run.chain");
        for cut in 0..last.len() {
            let torn = &full[..last.start + cut];
            write_file(&path, torn);
            let report = verify(&path).unwrap();
            assert_eq!(report.entries, n - 1, "cut {cut}");
            assert_eq!(report.valid_bytes, last.start as u64);
            let want = if cut == 0 {
                Status::Valid
            } else {
                Status::IncompleteTail { bytes: cut as u64 }
            };
            assert_eq!(report.status, want, "cut {cut}");
            let mut w = ChainWriter::open(&path, ChainConfig::default()).unwrap();
            assert_eq!(w.recovered_bytes(), cut as u64);
            assert_eq!(w.len(), n - 1);
            assert_eq!(w.append(action(n - 1)).unwrap(), n - 1);
            drop(w);
            // Recovery dropped the torn entry and the writer wrote it again in full.
            assert_eq!(std::fs::read(&path).unwrap(), full, "cut {cut}");
            let after = verify(&path).unwrap();
            assert_eq!(after, expected, "cut {cut}");
        }
    }
}

fn write_chain(bytes: &[u8], tag: &str) -> std::path::PathBuf {
    let path = temp_dir(tag).join("c.chain");
    write_file(&path, bytes);
    path
}

#[test]
fn reopening_continues_the_same_chain() {
    let dir = temp_dir("reopen");
    let path = dir.join("run.chain");
    for round in 0..4u64 {
        let mut w = ChainWriter::open(&path, ChainConfig::default()).unwrap();
        assert_eq!(w.len(), round * 5);
        for i in round * 5..round * 5 + 5 {
            assert_eq!(w.append(action(i)).unwrap(), i);
        }
    }
    assert_eq!(std::fs::read(&path).unwrap(), chain_bytes(20));
    let mem = MemorySink::default();
    for i in 0..20 {
        mem.record(action(i));
    }
    let w = ChainWriter::open(&path, ChainConfig::default()).unwrap();
    assert_eq!(w.root(), mem.root());
    assert_eq!(w.head(), mem.head());
}

#[test]
fn a_tampered_file_is_refused_and_left_untouched() {
    let mut bytes = chain_bytes(6);
    let pos = line_spans(&bytes)[3].start + 40;
    bytes[pos] ^= 0x01;
    let path = write_chain(&bytes, "refuse");
    match ChainWriter::open(&path, ChainConfig::default()) {
        Err(ChainError::Tampered { problem, .. }) => assert_eq!(problem.line, 4),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("opened a tampered chain"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let err = FileSink::open(&path, ChainConfig::default()).err().unwrap();
    assert!(err.to_string().contains("line 4 (entry 3)"), "{err}");
}

#[test]
fn a_second_writer_is_kept_out_while_the_first_is_open() {
    let dir = temp_dir("lock");
    let path = dir.join("run.chain");
    let mut first = ChainWriter::open(&path, ChainConfig::default()).unwrap();
    first.append(action(0)).unwrap();
    assert!(matches!(
        ChainWriter::open(&path, ChainConfig::default()),
        Err(ChainError::Locked { .. })
    ));
    drop(first);
    let second = ChainWriter::open(&path, ChainConfig::default()).unwrap();
    assert_eq!(second.len(), 1);
}

#[test]
fn every_fsync_policy_writes_the_same_chain() {
    for fsync in [
        FsyncPolicy::Always,
        FsyncPolicy::EveryN(3),
        FsyncPolicy::OnClose,
    ] {
        let path = temp_dir("fsync").join("run.chain");
        let config = ChainConfig {
            fsync,
            keep_raw: false,
        };
        let mut w = ChainWriter::open(&path, config).unwrap();
        for i in 0..10 {
            w.append(action(i)).unwrap();
        }
        w.sync().unwrap();
        drop(w);
        assert_eq!(std::fs::read(&path).unwrap(), chain_bytes(10), "{fsync:?}");
    }
}

#[test]
fn an_oversized_entry_is_refused_and_the_chain_carries_on() {
    let path = temp_dir("big").join("run.chain");
    let config = ChainConfig {
        fsync: FsyncPolicy::OnClose,
        keep_raw: true,
    };
    let sink = FileSink::open(&path, config).unwrap();
    sink.record(action(0));
    let mut huge = action(1);
    huge.raw_inputs = Some("x".repeat(MAX_LINE));
    sink.record(huge);
    assert_eq!(sink.dropped(), 1);
    assert_eq!(sink.len(), 1);
    let err = sink.flush().unwrap_err();
    assert!(err.to_string().contains("line limit"), "{err}");
    sink.record(action(1));
    assert_eq!(sink.len(), 2);
    drop(sink);
    let report = verify(&path).unwrap();
    assert!(report.is_valid());
    assert_eq!(report.entries, 2);
}

#[test]
fn a_file_sink_shared_by_threads_records_every_action_once() {
    let path = temp_dir("threads").join("run.chain");
    let sink: Arc<dyn ChainSink> = Arc::new(FileSink::open(&path, ChainConfig::default()).unwrap());
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            let sink = Arc::clone(&sink);
            std::thread::spawn(move || {
                for i in 0..100 {
                    sink.record(action(t * 1000 + i));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    sink.flush().unwrap();
    drop(sink);
    let report = verify(&path).unwrap();
    assert!(report.is_valid());
    assert_eq!(report.entries, 800);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut symbols: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{}|{}", v["action"]["kind"], v["action"]["input_hash"])
        })
        .collect();
    symbols.sort();
    symbols.dedup();
    assert_eq!(symbols.len(), 800);
}

#[test]
fn an_overlong_line_is_reported_not_read_into_memory_whole() {
    let mut bytes = chain_bytes(2);
    bytes.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
    bytes.push(b'\n');
    let path = write_chain(&bytes, "long");
    let report = verify(&path).unwrap();
    assert_eq!(report.entries, 2);
    assert!(matches!(
        report.problem().map(|p| &p.kind),
        Some(ProblemKind::LineTooLong { .. })
    ));
}

#[test]
fn a_missing_file_is_an_io_error() {
    let path = temp_dir("missing").join("nope.chain");
    assert!(matches!(verify(&path), Err(ChainError::Io { .. })));
}
