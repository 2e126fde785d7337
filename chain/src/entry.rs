//! One line of the chain file: encoding an [`Action`] into its canonical line and checking
//! a line read back. A line is `{"index":N,"prev":"<hex>","action":{…},"hash":"<hex>"}`;
//! its *entry bytes* are the same object without `hash` (`{"index":…,"prev":…,"action":…}`)
//! and `hash` is the leaf hash `H(0x00 || entry bytes)`. Because `prev` is inside the
//! entry bytes, `hash` also chains every entry to all before it.
//!
//! A line is accepted only if it is byte-for-byte the canonical encoding of what it
//! parses to, so no edit can hide behind JSON's many spellings of one value.

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::error::ChainError;
use crate::hash::{Hash, leaf_hash};
use crate::merkle::Frontier;
use crate::verify::ProblemKind;

/// The longest line (without its newline) a writer produces and a verifier reads.
pub const MAX_LINE: usize = 16 << 20;

#[derive(Serialize)]
struct Body<'a> {
    index: u64,
    prev: &'a str,
    action: &'a Action,
}

#[derive(Deserialize)]
struct Line {
    index: u64,
    prev: String,
    action: Action,
    hash: String,
}

/// Turns the serialized entry bytes into the full line by adding the `hash` member.
fn close(body: &mut Vec<u8>, hash_hex: &str) {
    body.pop(); // the object's closing brace
    body.extend_from_slice(b",\"hash\":\"");
    body.extend_from_slice(hash_hex.as_bytes());
    body.extend_from_slice(b"\"}");
}

/// The line (with its newline) for `action` at `index` after `prev`, and its leaf hash.
pub(crate) fn encode(
    index: u64,
    prev: &Hash,
    action: &Action,
) -> Result<(Vec<u8>, Hash), ChainError> {
    let prev_hex = prev.to_hex();
    let body = Body {
        index,
        prev: &prev_hex,
        action,
    };
    let mut line = serde_json::to_vec(&body).map_err(|e| ChainError::Encode(e.to_string()))?;
    let leaf = leaf_hash(&line);
    close(&mut line, &leaf.to_hex());
    if line.len() > MAX_LINE {
        return Err(ChainError::TooLarge {
            len: line.len(),
            limit: MAX_LINE,
        });
    }
    line.push(b'\n');
    Ok((line, leaf))
}

/// Checks one line (without its newline) expected at `index` after `prev`; gives its leaf
/// hash and action.
pub(crate) fn check(raw: &[u8], index: u64, prev: &Hash) -> Result<(Hash, Action), ProblemKind> {
    let line: Line = serde_json::from_slice(raw).map_err(|e| ProblemKind::BadJson {
        detail: e.to_string(),
    })?;
    let body = Body {
        index: line.index,
        prev: &line.prev,
        action: &line.action,
    };
    let mut canonical = serde_json::to_vec(&body).map_err(|e| ProblemKind::BadJson {
        detail: e.to_string(),
    })?;
    let leaf = leaf_hash(&canonical);
    close(&mut canonical, &line.hash);
    if canonical != raw {
        return Err(ProblemKind::NonCanonical);
    }
    if line.index != index {
        return Err(ProblemKind::WrongIndex {
            expected: index,
            found: line.index,
        });
    }
    let prev_hex = prev.to_hex();
    if line.prev != prev_hex {
        return Err(ProblemKind::ChainLinkMismatch {
            expected: prev_hex,
            found: line.prev,
        });
    }
    let leaf_hex = leaf.to_hex();
    if line.hash != leaf_hex {
        return Err(ProblemKind::HashMismatch {
            stored: line.hash,
            computed: leaf_hex,
        });
    }
    Ok((leaf, line.action))
}

/// True when `raw` is a cut-off prefix of some JSON text: what a torn write leaves.
pub(crate) fn is_torn_json(raw: &[u8]) -> bool {
    matches!(serde_json::from_slice::<serde::de::IgnoredAny>(raw), Err(e) if e.is_eof())
}

/// The running state of a chain being appended to: next index, last hash, Merkle frontier,
/// and whether raw values are kept.
#[derive(Clone, Debug)]
pub(crate) struct Chainer {
    prev: Hash,
    frontier: Frontier,
    keep_raw: bool,
}

impl Chainer {
    pub(crate) fn new(keep_raw: bool) -> Chainer {
        Chainer::resume(Hash::ZERO, Frontier::new(), keep_raw)
    }

    pub(crate) fn resume(prev: Hash, frontier: Frontier, keep_raw: bool) -> Chainer {
        Chainer {
            prev,
            frontier,
            keep_raw,
        }
    }

    pub(crate) fn len(&self) -> u64 {
        self.frontier.size()
    }

    pub(crate) fn root(&self) -> Hash {
        self.frontier.root()
    }

    pub(crate) fn keeps_raw(&self) -> bool {
        self.keep_raw
    }

    /// The line for the next entry; nothing changes until [`Chainer::commit`].
    pub(crate) fn prepare(
        &self,
        mut action: Action,
    ) -> Result<(Vec<u8>, Hash, Action), ChainError> {
        action.seq = self.frontier.size();
        if !self.keep_raw {
            action.raw_inputs = None;
            action.raw_output = None;
        }
        let (line, leaf) = encode(action.seq, &self.prev, &action)?;
        Ok((line, leaf, action))
    }

    pub(crate) fn commit(&mut self, leaf: Hash) {
        self.prev = leaf;
        self.frontier.push(leaf);
    }
}
