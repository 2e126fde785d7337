//! `rtfs-chain`: the Causal Chain — an append-only, tamper-evident record of every
//! delegated function call and capability call.
//!
//! This crate owns the data model of a recorded call ([`Action`], [`ActionType`],
//! [`DelegationInfo`], [`ExecTarget`], [`Outcome`]), the chain file format (JSON lines,
//! hash-chained and organised as an RFC 6962 Merkle log with blake3), appending
//! ([`ChainWriter`], and the [`ChainSink`]s a runtime records through: [`FileSink`],
//! [`MemorySink`], [`NoopSink`]), verification ([`verify`]), tree heads ([`TreeHead`]),
//! inclusion and consistency proofs. The `rtfs chain` command line lives in the `rtfs` binary
//! (`src/chain_cli.rs`).
//!
//! Architecture invariant: within the workspace it depends only on the std-only
//! `rtfs-atomic-write` (otherwise serde, serde_json, blake3 and thiserror), so anything can
//! record into it, and on no network, async-runtime or process crate; it never sees RTFS
//! values — callers hash their own canonical encodings ([`content_hash_hex`]). Nothing read from a
//! chain file may panic: a bad file is a [`Report`] naming the first bad line.
//!
//! # File format
//!
//! One entry per line, in this exact member order, with no spaces:
//!
//! ```text
//! {"index":0,"prev":"<64 hex>","action":{…},"hash":"<64 hex>"}
//! ```
//!
//! - `index`: 0, 1, 2, … — the entry's leaf index (and the action's `seq`).
//! - `prev`: the previous entry's `hash` (64 zeros for entry 0).
//! - `hash`: `blake3(0x00 || E)` where `E` is the line without its `hash` member, i.e.
//!   `{"index":…,"prev":…,"action":…}`. This is the RFC 6962 leaf hash, and since `E`
//!   holds `prev`, also the hash chain.
//! - The Merkle root is RFC 6962's MTH over the leaf hashes, interior nodes being
//!   `blake3(0x01 || left || right)`, splitting at the largest power of two.
//!
//! A line must be byte-for-byte the canonical (serde_json, compact) encoding of what it
//! parses to, so every change to a line is detected. An example line (from a test that
//! checks this text):
//!
//! ```text
#![doc = include_str!("../example-line.jsonl")]
//! ```
//!
//! `action` members: `seq`, `timestamp_ms` (Unix ms), optional `plan_id` and
//! `parent_seq`, `kind` (`{"type":"function_call","function_symbol":…}` or
//! `{"type":"capability_call","capability_id":…}`), `delegation`
//! (`providers_considered`, `decision_engine`, `chosen_target` — `{"target":"local_pure"}`,
//! `{"target":"local_model","id":…}`, `{"target":"remote_model","id":…}` or
//! `{"target":"cache_hit","cache_level":…,"storage_pointer":…}` — and `is_override`),
//! `timing` (`start_unix_us`, `duration_us`), optional `cache_level`, `outcome`
//! (`{"status":"ok"}` or `{"status":"error","kind":…,"message":…}`), `input_hash`,
//! optional `output_hash`, and `raw_inputs`/`raw_output` only when the chain is configured
//! to keep raw values. Absent optional members are omitted, never `null`.
//!
//! # What verification proves, and what it does not
//!
//! [`verify`] detects any changed, removed, reordered or inserted line and names the first
//! bad one. A final line without its newline is a torn write from a crash: reported as
//! [`Status::IncompleteTail`], the prefix still verifies, and [`ChainWriter::open`] cuts it
//! off. Two changes a chain alone cannot reveal: dropping whole entries from the *end*
//! (the rest is a valid, shorter chain) and rewriting history while recomputing every
//! hash after the change. Save a [`TreeHead`] (optionally MAC'd with a key the writer does
//! not hold) and check later with [`verify_with_head`]: fewer entries than the head, or a
//! different root over the head's prefix, is then reported.
//!
//! # Recording
//!
//! ```
//! use rtfs_chain::{Action, ActionType, ChainSink, DelegationInfo, ExecTarget, MemorySink};
//!
//! let sink = MemorySink::new(false);
//! let action = Action::new(
//!     ActionType::capability("ccos.echo"),
//!     DelegationInfo::decided("StaticEngine", vec!["local".into()], ExecTarget::LocalPure),
//! )
//! .with_inputs(b"[\"hi\"]", None)
//! .with_output(b"\"hi\"", None)
//! .with_timing(rtfs_chain::now_unix_us(), 42);
//! sink.record(action);
//! assert!(rtfs_chain::verify_bytes(&sink.jsonl()).is_valid());
//! ```

pub mod action;
mod entry;
pub mod error;
mod fsutil;
pub mod hash;
pub mod head;
pub mod merkle;
pub mod proof;
pub mod sink;
pub mod verify;
pub mod writer;

pub use action::{
    Action, ActionType, DelegationInfo, ExecTarget, Outcome, Timing, now_unix_ms, now_unix_us,
};
pub use entry::MAX_LINE;
pub use error::ChainError;
pub use hash::{Hash, content_hash_hex};
pub use head::{HeadKey, TreeHead};
pub use merkle::{InclusionProof, verify_consistency, verify_inclusion};
pub use proof::{ConsistencyProof, consistency, proof};
pub use sink::{ChainSink, FileSink, MemorySink, NoopSink, open_sink};
pub use verify::{
    Problem, ProblemKind, Report, Status, verify, verify_bytes, verify_bytes_with_head,
    verify_with_head,
};
pub use writer::{ChainConfig, ChainWriter, FsyncPolicy};
