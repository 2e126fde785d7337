//! Shared helpers: deterministic actions, chains built through the real sinks, and
//! scratch directories under cargo's per-target temp dir.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rtfs_chain::{
    Action, ActionType, ChainSink, DelegationInfo, ExecTarget, MemorySink, Outcome, Timing,
};

/// A deterministic action: same `i`, same bytes.
pub fn action(i: u64) -> Action {
    let target = match i % 4 {
        0 => ExecTarget::LocalPure,
        1 => ExecTarget::LocalModel {
            id: "phi-mini".into(),
        },
        2 => ExecTarget::RemoteModel { id: "gpt4o".into() },
        _ => ExecTarget::CacheHit {
            cache_level: 2,
            storage_pointer: format!("l2:{i:08x}"),
        },
    };
    let kind = if i.is_multiple_of(3) {
        ActionType::function(format!("plan/step-{i}"))
    } else {
        ActionType::capability(format!("ccos.test/op-{}", i % 5))
    };
    let delegation = if i.is_multiple_of(5) {
        DelegationInfo::hinted(target)
    } else {
        DelegationInfo::decided("StaticEngine", vec!["local".into(), "gpt4o".into()], target)
    };
    let mut a = Action::new(kind, delegation)
        .with_inputs(
            format!("[{i} \"x\"]").as_bytes(),
            Some(format!("[{i} \"x\"]")),
        )
        .with_timing(1_764_000_000_000_000 + i * 1000, 100 + i % 97);
    a.timestamp_ms = 1_764_000_000_000 + i;
    if i % 7 == 3 {
        a = a.with_error("timeout", format!("call {i} timed out\n(after 5s)"));
    } else {
        a = a.with_output(
            format!("{{:n {i}}}").as_bytes(),
            Some(format!("{{:n {i}}}")),
        );
    }
    if i.is_multiple_of(2) {
        a = a.with_cache_level(1).with_plan("plan-7");
    }
    if i > 0 && i.is_multiple_of(4) {
        a = a.with_parent(i - 1);
    }
    a
}

/// The JSONL of a chain of `n` deterministic actions.
pub fn chain_bytes(n: u64) -> Vec<u8> {
    let sink = MemorySink::new(false);
    for i in 0..n {
        sink.record(action(i));
    }
    sink.jsonl()
}

/// Byte ranges of each line (newline included).
pub fn line_spans(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            spans.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        spans.push(start..bytes.len());
    }
    spans
}

/// 1-based line number holding byte `pos`.
pub fn line_of(bytes: &[u8], pos: usize) -> u64 {
    bytes[..pos].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

pub fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    line_spans(bytes)
        .into_iter()
        .map(|r| bytes[r].to_vec())
        .collect()
}

pub fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.concat()
}

/// A fresh, empty directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-chain-tests")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Writes a file atomically (temp file + rename), as the house rules ask of test fixtures.
pub fn write_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).expect("write temp file");
    std::fs::rename(&tmp, path).expect("rename temp file");
}

pub fn ok_outcome() -> Outcome {
    Outcome::Ok
}

pub fn timing() -> Timing {
    Timing {
        start_unix_us: 1,
        duration_us: 2,
    }
}

/// A tiny deterministic generator (splitmix64) so that big tamper runs are repeatable.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
