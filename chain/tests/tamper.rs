//! Tampering: every single-byte change, dropped, swapped and inserted line is caught and
//! the first bad line is named — exhaustively on small chains, by property tests on random
//! chains, and by a seeded sample on a 10 000-entry chain. Also what a chain alone cannot
//! show (a dropped last entry, history rewritten with recomputed hashes) and how a tree head
//! catches it.

mod common;

use common::{Rng, action, chain_bytes, join, line_of, line_spans, lines};
use proptest::prelude::*;
use rtfs_chain::{
    ChainSink, HeadKey, MemorySink, ProblemKind, Status, TreeHead, verify_bytes,
    verify_bytes_with_head,
};

/// Asserts the chain is reported tampered at 1-based line `line`.
#[track_caller]
fn caught_at(bytes: &[u8], line: u64, what: &str) -> ProblemKind {
    let report = verify_bytes(bytes);
    match report.problem() {
        Some(p) => {
            assert_eq!(p.line, line, "{what}: caught at the wrong line: {p}");
            assert_eq!(report.entries, line - 1, "{what}: verified prefix");
            p.kind.clone()
        }
        None => panic!("{what}: not caught: {:?}", report.status),
    }
}

/// Byte values a flip tries: bit flips, characters JSON cares about, and whitespace.
const REPLACEMENTS: &[u8] = b"\n \t\r0a9f\"\\{}[],:-.eE";

fn flips_at(bytes: &[u8], pos: usize) -> Vec<u8> {
    let old = bytes[pos];
    let mut out: Vec<u8> = [old ^ 0x01, old ^ 0x20, old ^ 0x80]
        .into_iter()
        .chain(REPLACEMENTS.iter().copied())
        .filter(|b| *b != old)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn every_single_byte_change_of_a_small_chain_is_caught_at_its_line() {
    let bytes = chain_bytes(6);
    let mut tried = 0;
    for pos in 0..bytes.len() {
        for b in flips_at(&bytes, pos) {
            let mut t = bytes.clone();
            t[pos] = b;
            caught_at(&t, line_of(&bytes, pos), &format!("byte {pos} -> {b:#04x}"));
            tried += 1;
        }
    }
    assert!(tried > 50 * bytes.len() / 10);
}

#[test]
fn a_single_changed_line_is_caught_whatever_the_change_kind() {
    let bytes = chain_bytes(4);
    let ls = lines(&bytes);
    // Index, prev, action content, hash and the newline each fail their own check.
    let text = String::from_utf8(ls[2].clone()).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            text.replacen("\"index\":2", "\"index\":3", 1),
            "wrong_index",
        ),
        (
            text.replacen("\"prev\":\"", "\"prev\":\"1", 1),
            "chain_link_mismatch",
        ),
        (
            text.replacen("StaticEngine", "StaticEnginf", 1),
            "hash_mismatch",
        ),
        (
            text.replacen("{\"index\"", "{ \"index\"", 1),
            "non_canonical",
        ),
        (text.replacen("\"}\n", "\" }\n", 1), "non_canonical"),
        (text.replacen("\"seq\":2", "\"seq\":2.0", 1), "bad_json"),
        (
            text.replacen("\"seq\":2", "\"seq\":2,\"seq\":2", 1),
            "bad_json",
        ),
        (
            text.replacen("\"is_override\"", "\"extra\":1,\"is_override\"", 1),
            "non_canonical",
        ),
    ];
    for (changed, code) in &cases {
        assert_ne!(
            changed.as_bytes(),
            ls[2].as_slice(),
            "{code}: the edit must apply"
        );
        let mut t = ls.clone();
        t[2] = changed.clone().into_bytes();
        let kind = caught_at(&join(&t), 3, changed);
        assert_eq!(kind.code(), *code, "{changed}");
    }
    let mut t = ls.clone();
    let prev = String::from_utf8(t[2].clone()).unwrap();
    let hash0 = {
        let v: serde_json::Value = serde_json::from_slice(&ls[0]).unwrap();
        v["hash"].as_str().unwrap().to_string()
    };
    let v1: serde_json::Value = serde_json::from_slice(&ls[1]).unwrap();
    t[2] = prev
        .replacen(v1["hash"].as_str().unwrap(), &hash0, 1)
        .into_bytes();
    assert!(matches!(
        caught_at(&join(&t), 3, "relinked"),
        ProblemKind::ChainLinkMismatch { .. }
    ));
}

#[test]
fn dropped_swapped_and_inserted_lines_are_caught() {
    let n = 8;
    let bytes = chain_bytes(n);
    let ls = lines(&bytes);
    for k in 0..n as usize - 1 {
        let mut t = ls.clone();
        t.remove(k);
        let kind = caught_at(&join(&t), k as u64 + 1, &format!("drop {k}"));
        assert!(matches!(kind, ProblemKind::WrongIndex { .. }));
        let mut t = ls.clone();
        t.swap(k, k + 1);
        caught_at(&join(&t), k as u64 + 1, &format!("swap {k}"));
    }
    for k in 0..=n as usize {
        for j in 0..n as usize {
            let mut t = ls.clone();
            t.insert(k, ls[j].clone());
            // A copy of the line that belongs there is itself fine; the displaced one is not.
            let at = if j == k { k + 2 } else { k + 1 };
            caught_at(&join(&t), at as u64, &format!("insert copy of {j} at {k}"));
        }
        let mut t = ls.clone();
        t.insert(k, b"{}\n".to_vec());
        caught_at(&join(&t), k as u64 + 1, &format!("insert junk at {k}"));
        let mut t = ls.clone();
        t.insert(k, b"\n".to_vec());
        caught_at(&join(&t), k as u64 + 1, &format!("insert blank at {k}"));
    }
}

/// An entry forged by someone who knows the format: right index, right prev, right hash.
#[test]
fn a_well_formed_forged_entry_inserted_mid_chain_is_caught() {
    let n = 6;
    let bytes = chain_bytes(n);
    let ls = lines(&bytes);
    for k in 0..n as usize {
        // Build the genuine prefix, then forge entry k with other content.
        let forger = MemorySink::default();
        for i in 0..k as u64 {
            forger.record(action(i));
        }
        forger.record(action(100 + k as u64));
        let forged = lines(&forger.jsonl()).pop().unwrap();
        let mut t = ls.clone();
        t.insert(k, forged);
        let kind = caught_at(&join(&t), k as u64 + 2, &format!("forged at {k}"));
        assert!(matches!(kind, ProblemKind::WrongIndex { .. }));
    }
}

#[test]
fn a_dropped_last_entry_needs_a_tree_head_to_be_seen() {
    let sink = MemorySink::default();
    for i in 0..5 {
        sink.record(action(i));
    }
    let head = sink.head();
    let mut ls = lines(&sink.jsonl());
    ls.pop();
    let shorter = join(&ls);
    // Alone, a chain with its last entry dropped is a valid shorter chain.
    assert!(verify_bytes(&shorter).is_valid());
    let report = verify_bytes_with_head(&shorter, &head);
    let p = report.problem().expect("the head catches the truncation");
    assert_eq!(p.line, 5);
    assert!(matches!(
        p.kind,
        ProblemKind::Truncated {
            head_size: 5,
            entries: 4
        }
    ));
    // The intact chain, and the chain grown since, both match the head.
    assert!(verify_bytes_with_head(&sink.jsonl(), &head).is_valid());
    sink.record(action(5));
    assert!(verify_bytes_with_head(&sink.jsonl(), &head).is_valid());
}

#[test]
fn rewritten_history_with_recomputed_hashes_is_caught_by_the_head_only() {
    let genuine = MemorySink::default();
    let rewritten = MemorySink::default();
    for i in 0..10 {
        genuine.record(action(i));
        rewritten.record(action(if i == 3 { 999 } else { i }));
    }
    let key = HeadKey::from_secret(b"kept away from the writer").unwrap();
    let head = genuine.head().signed(&key);
    assert!(head.verify_mac(&key));
    assert!(verify_bytes(&rewritten.jsonl()).is_valid());
    let report = verify_bytes_with_head(&rewritten.jsonl(), &head);
    assert!(matches!(
        report.problem().map(|p| &p.kind),
        Some(ProblemKind::HeadMismatch { size: 10, .. })
    ));
    // A head forged for the rewritten chain fails its MAC.
    let mut forged = rewritten.head();
    forged.mac = head.mac;
    assert!(!forged.verify_mac(&key));
    let older = TreeHead::new(3, {
        let s = MemorySink::default();
        for i in 0..3 {
            s.record(action(i));
        }
        s.root()
    });
    // History up to the older head is intact, so that head still matches.
    assert!(verify_bytes_with_head(&rewritten.jsonl(), &older).is_valid());
}

#[test]
fn a_10000_entry_chain_catches_every_sampled_change_drop_swap_and_insert() {
    let n = 10_000u64;
    let bytes = chain_bytes(n);
    let spans = line_spans(&bytes);
    assert_eq!(spans.len(), n as usize);
    assert!(verify_bytes(&bytes).is_valid());
    let mut rng = Rng(0x5eed_cafe);
    let mut caught = [0u32; 4];
    // Single-byte changes: every byte of the first two lines, the last 16 bytes of the
    // file (the final newline included), and 200 random positions anywhere.
    let mut positions: Vec<usize> = Vec::new();
    positions.extend(spans[0].start..spans[1].end);
    positions.extend(bytes.len() - 16..bytes.len());
    positions.extend((0..200).map(|_| rng.below(bytes.len())));
    let mut t = bytes.clone();
    for &pos in &positions {
        let choices = flips_at(&bytes, pos);
        let b = choices[rng.below(choices.len())];
        t[pos] = b;
        caught_at(&t, line_of(&bytes, pos), &format!("byte {pos} -> {b:#04x}"));
        t[pos] = bytes[pos];
        caught[0] += 1;
    }
    let remove = |k: usize| -> Vec<u8> {
        let mut v = bytes[..spans[k].start].to_vec();
        v.extend_from_slice(&bytes[spans[k].end..]);
        v
    };
    let mut ks: Vec<usize> = vec![0, 1, n as usize - 2];
    ks.extend((0..30).map(|_| rng.below(n as usize - 1)));
    for &k in &ks {
        caught_at(&remove(k), k as u64 + 1, &format!("drop {k}"));
        caught[1] += 1;
        let mut v = bytes[..spans[k].start].to_vec();
        v.extend_from_slice(&bytes[spans[k + 1].clone()]);
        v.extend_from_slice(&bytes[spans[k].clone()]);
        v.extend_from_slice(&bytes[spans[k + 1].end..]);
        caught_at(&v, k as u64 + 1, &format!("swap {k} {}", k + 1));
        caught[2] += 1;
        let j = rng.below(n as usize);
        let mut v = bytes[..spans[k].start].to_vec();
        v.extend_from_slice(&bytes[spans[j].clone()]);
        v.extend_from_slice(&bytes[spans[k].start..]);
        let at = if j == k { k + 2 } else { k + 1 };
        caught_at(&v, at as u64, &format!("insert copy of {j} at {k}"));
        caught[3] += 1;
    }
    // The last entry: dropping it is only visible against a head.
    let sink_head = {
        let r = verify_bytes(&bytes);
        TreeHead::new(r.entries, r.root)
    };
    let dropped_last = remove(n as usize - 1);
    let r = verify_bytes_with_head(&dropped_last, &sink_head);
    assert!(matches!(
        r.problem().map(|p| &p.kind),
        Some(ProblemKind::Truncated { .. })
    ));
    assert_eq!(caught[0] as usize, positions.len());
    assert!(caught.iter().all(|c| *c > 0));
}

#[derive(Clone, Debug)]
enum Tamper {
    Flip { pos: usize, byte: u8 },
    Drop { k: usize },
    Swap { k: usize },
    Insert { k: usize, copy_of: Option<usize> },
}

fn arb_case() -> impl Strategy<Value = (u64, Tamper)> {
    (1u64..30).prop_flat_map(|n| {
        let bytes_len = chain_bytes(n).len();
        let tamper = prop_oneof![
            (0..bytes_len, any::<u8>()).prop_map(|(pos, byte)| Tamper::Flip { pos, byte }),
            (0..n as usize).prop_map(|k| Tamper::Drop { k }),
            (0..n as usize).prop_map(|k| Tamper::Swap { k }),
            (0..=n as usize, proptest::option::of(0..n as usize))
                .prop_map(|(k, copy_of)| Tamper::Insert { k, copy_of }),
        ];
        (Just(n), tamper)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Every random tamper that changes the file is caught at the line where it happened
    /// (the last entry dropped is caught by the head taken before).
    #[test]
    fn random_tampering_is_always_caught((n, tamper) in arb_case()) {
        let bytes = chain_bytes(n);
        let head = {
            let r = verify_bytes(&bytes);
            TreeHead::new(r.entries, r.root)
        };
        let mut ls = lines(&bytes);
        let (t, at) = match tamper {
            Tamper::Flip { pos, byte } => {
                prop_assume!(bytes[pos] != byte);
                let mut t = bytes.clone();
                t[pos] = byte;
                (t, line_of(&bytes, pos))
            }
            Tamper::Drop { k } => {
                ls.remove(k);
                (join(&ls), k as u64 + 1)
            }
            Tamper::Swap { k } => {
                prop_assume!(k + 1 < ls.len());
                ls.swap(k, k + 1);
                (join(&ls), k as u64 + 1)
            }
            Tamper::Insert { k, copy_of } => {
                let (line, at) = match copy_of {
                    Some(j) => (ls[j].clone(), if j == k { k + 2 } else { k + 1 }),
                    None => (b"{\"index\":0}\n".to_vec(), k + 1),
                };
                ls.insert(k, line);
                (join(&ls), at as u64)
            }
        };
        let report = verify_bytes_with_head(&t, &head);
        let p = report.problem();
        prop_assert!(p.is_some(), "not caught: {:?}", report.status);
        prop_assert_eq!(p.map(|p| p.line), Some(at));
        prop_assert!(report.status != Status::Valid);
    }
}
