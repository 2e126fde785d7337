//! Verifying a chain file: every line must parse, be canonical, carry the next index,
//! link to the previous entry's hash and carry its own correct hash. The report names the
//! first bad line and why. A final line without its newline is a torn write (a crash while
//! appending), reported as an incomplete tail after a prefix that still verifies.
//!
//! What a chain alone cannot show: that entries were dropped from the *end* (a shorter
//! chain is still a valid chain), or that someone rewrote an entry and recomputed every
//! hash after it. Both are caught only by comparing with a [`TreeHead`] saved earlier
//! (see [`verify_with_head`]); keep heads somewhere the chain's writer cannot rewrite, or
//! MAC them with a key it does not hold.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::entry::{self, MAX_LINE};
use crate::error::ChainError;
use crate::hash::Hash;
use crate::head::TreeHead;
use crate::merkle::Frontier;

/// The outcome of verifying a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Entries that verify (the whole chain, or the prefix before the problem or tail).
    pub entries: u64,
    /// Merkle root over those entries.
    pub root: Hash,
    /// Hash of the last of those entries ([`Hash::ZERO`] when there are none).
    pub last_hash: Hash,
    /// Bytes of the file those entries occupy.
    pub valid_bytes: u64,
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every line verifies.
    Valid,
    /// The last `bytes` bytes are a line without its newline: a torn write. The prefix
    /// verifies; a [`crate::ChainWriter`] opening the file cuts the tail off.
    IncompleteTail {
        bytes: u64,
    },
    Tampered(Problem),
}

impl Report {
    /// True only when the whole file verifies with nothing left over.
    pub fn is_valid(&self) -> bool {
        self.status == Status::Valid
    }

    pub fn problem(&self) -> Option<&Problem> {
        match &self.status {
            Status::Tampered(p) => Some(p),
            _ => None,
        }
    }
}

/// The first bad entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: u64,
    pub kind: ProblemKind,
}

impl Problem {
    /// The entry index expected on that line.
    pub fn entry(&self) -> u64 {
        self.line.saturating_sub(1)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// Not a JSON object of the entry's shape (includes blank and merged lines).
    BadJson { detail: String },
    /// Parses, but is not the canonical encoding of what it parses to.
    NonCanonical,
    /// The line carries another index: an entry was dropped, swapped or inserted here.
    WrongIndex { expected: u64, found: u64 },
    /// `prev` is not the previous entry's hash.
    ChainLinkMismatch { expected: String, found: String },
    /// The stored hash is not the hash of the entry's bytes: the entry was changed.
    HashMismatch { stored: String, computed: String },
    /// A line longer than [`MAX_LINE`] bytes.
    LineTooLong { limit: usize },
    /// The chain is shorter than a tree head said it was: entries were dropped at the end.
    Truncated { head_size: u64, entries: u64 },
    /// The first `size` entries hash to another root than the tree head's: history was
    /// rewritten (hashes recomputed) somewhere before entry `size`.
    HeadMismatch {
        size: u64,
        head_root: Hash,
        found_root: Hash,
    },
}

impl ProblemKind {
    /// A stable snake_case name, used in `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            ProblemKind::BadJson { .. } => "bad_json",
            ProblemKind::NonCanonical => "non_canonical",
            ProblemKind::WrongIndex { .. } => "wrong_index",
            ProblemKind::ChainLinkMismatch { .. } => "chain_link_mismatch",
            ProblemKind::HashMismatch { .. } => "hash_mismatch",
            ProblemKind::LineTooLong { .. } => "line_too_long",
            ProblemKind::Truncated { .. } => "truncated",
            ProblemKind::HeadMismatch { .. } => "head_mismatch",
        }
    }
}

/// At most 80 characters of text that came from the file.
fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::BadJson { detail } => write!(f, "bad JSON: {}", clip(detail)),
            ProblemKind::NonCanonical => f.write_str("not in canonical form (the line was edited)"),
            ProblemKind::WrongIndex { expected, found } => write!(
                f,
                "wrong index: expected entry {expected}, found entry {found} \
                 (an entry was dropped, swapped or inserted)"
            ),
            ProblemKind::ChainLinkMismatch { expected, found } => write!(
                f,
                "chain link mismatch: prev is {} but the previous entry's hash is {expected}",
                clip(found)
            ),
            ProblemKind::HashMismatch { stored, computed } => write!(
                f,
                "hash mismatch: stored hash {} but the entry hashes to {computed} \
                 (the entry was changed)",
                clip(stored)
            ),
            ProblemKind::LineTooLong { limit } => write!(f, "line longer than {limit} bytes"),
            ProblemKind::Truncated { head_size, entries } => write!(
                f,
                "truncated: the tree head has {head_size} entries but only {entries} verify \
                 (entries were dropped from the end)"
            ),
            ProblemKind::HeadMismatch {
                size,
                head_root,
                found_root,
            } => write!(
                f,
                "head mismatch: the first {size} entries have root {found_root}, \
                 the tree head says {head_root} (history before entry {size} was rewritten)"
            ),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} (entry {}): {}",
            self.line,
            self.entry(),
            self.kind
        )
    }
}

/// What a scan found, with the state an appender needs to carry on.
pub(crate) struct Scan {
    pub(crate) report: Report,
    pub(crate) frontier: Frontier,
    /// Root after exactly `root_at` entries, when asked for and reached.
    pub(crate) root_at: Option<Hash>,
}

/// Reads a chain from `r`, calling `on_leaf` for every entry that verifies.
pub(crate) fn scan<R: BufRead>(
    mut r: R,
    root_at: Option<u64>,
    mut on_leaf: impl FnMut(&Hash),
) -> io::Result<Scan> {
    let mut frontier = Frontier::new();
    let mut prev = Hash::ZERO;
    let mut valid_bytes = 0u64;
    let mut root_at_value = (root_at == Some(0)).then(|| frontier.root());
    let mut buf = Vec::new();
    let status = loop {
        buf.clear();
        let n = (&mut r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            break Status::Valid;
        }
        let index = frontier.size();
        let line_no = index + 1;
        let complete = buf.last() == Some(&b'\n');
        if !complete && buf.len() > MAX_LINE {
            break Status::Tampered(Problem {
                line: line_no,
                kind: ProblemKind::LineTooLong { limit: MAX_LINE },
            });
        }
        if !complete {
            // EOF without a newline: a torn append unless what is there can't be one.
            let torn = match entry::check(&buf, index, &prev) {
                Ok(_) => Ok(()),
                Err(_) if entry::is_torn_json(&buf) => Ok(()),
                Err(kind) => Err(kind),
            };
            break match torn {
                Ok(()) => Status::IncompleteTail {
                    bytes: buf.len() as u64,
                },
                Err(kind) => Status::Tampered(Problem {
                    line: line_no,
                    kind,
                }),
            };
        }
        let raw = &buf[..buf.len() - 1];
        match entry::check(raw, index, &prev) {
            Ok((leaf, _)) => {
                on_leaf(&leaf);
                frontier.push(leaf);
                prev = leaf;
                valid_bytes += n as u64;
                if root_at == Some(frontier.size()) {
                    root_at_value = Some(frontier.root());
                }
            }
            Err(kind) => {
                break Status::Tampered(Problem {
                    line: line_no,
                    kind,
                });
            }
        }
    };
    Ok(Scan {
        report: Report {
            entries: frontier.size(),
            root: frontier.root(),
            last_hash: prev,
            valid_bytes,
            status,
        },
        frontier,
        root_at: root_at_value,
    })
}

fn open(path: &Path) -> Result<BufReader<File>, ChainError> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|e| ChainError::io(path, e))
}

/// Verifies the chain file at `path`. `Err` only when the file cannot be read; tampering
/// is reported in the [`Report`].
pub fn verify(path: impl AsRef<Path>) -> Result<Report, ChainError> {
    let path = path.as_ref();
    let r = open(path)?;
    scan(r, None, |_| {})
        .map(|s| s.report)
        .map_err(|e| ChainError::io(path, e))
}

/// Verifies a chain held in memory (e.g. [`crate::MemorySink::jsonl`]).
pub fn verify_bytes(bytes: &[u8]) -> Report {
    match scan(bytes, None, |_| {}) {
        Ok(s) => s.report,
        // Reading from a byte slice cannot fail; report it rather than panic if it did.
        Err(e) => Report {
            entries: 0,
            root: crate::hash::empty_root(),
            last_hash: Hash::ZERO,
            valid_bytes: 0,
            status: Status::Tampered(Problem {
                line: 1,
                kind: ProblemKind::BadJson {
                    detail: e.to_string(),
                },
            }),
        },
    }
}

/// Verifies the chain and checks it against a tree head saved earlier: the chain must hold
/// at least `head.tree_size` entries and the first `tree_size` of them must have the head's
/// root. This catches entries dropped from the end and history rewritten with recomputed
/// hashes, which [`verify`] alone cannot. Check the head's MAC first
/// ([`TreeHead::verify_mac`]) if it has one.
pub fn verify_with_head(path: impl AsRef<Path>, head: &TreeHead) -> Result<Report, ChainError> {
    let path = path.as_ref();
    let r = open(path)?;
    let scan = scan(r, Some(head.tree_size), |_| {}).map_err(|e| ChainError::io(path, e))?;
    Ok(apply_head(scan, head))
}

fn apply_head(scan: Scan, head: &TreeHead) -> Report {
    let mut report = scan.report;
    if report.problem().is_some() {
        return report;
    }
    match scan.root_at {
        None => {
            report.status = Status::Tampered(Problem {
                line: report.entries + 1,
                kind: ProblemKind::Truncated {
                    head_size: head.tree_size,
                    entries: report.entries,
                },
            });
        }
        Some(root) if root != head.root => {
            report.status = Status::Tampered(Problem {
                line: head.tree_size,
                kind: ProblemKind::HeadMismatch {
                    size: head.tree_size,
                    head_root: head.root,
                    found_root: root,
                },
            });
        }
        Some(_) => {}
    }
    report
}

/// Verifies in-memory chain bytes against a tree head (see [`verify_with_head`]).
pub fn verify_bytes_with_head(bytes: &[u8], head: &TreeHead) -> Report {
    match scan(bytes, Some(head.tree_size), |_| {}) {
        Ok(scan) => apply_head(scan, head),
        Err(_) => verify_bytes(bytes),
    }
}

/// All leaf hashes of a chain that verifies, or the problem that stops it. A torn tail is
/// ignored: the entries before it are the chain.
pub(crate) fn read_leaves(path: &Path) -> Result<(Vec<Hash>, Report), ChainError> {
    let r = open(path)?;
    let mut leaves = Vec::new();
    let scan = scan(r, None, |h| leaves.push(*h)).map_err(|e| ChainError::io(path, e))?;
    if let Status::Tampered(problem) = scan.report.status {
        return Err(ChainError::Tampered {
            path: path.to_path_buf(),
            problem,
        });
    }
    Ok((leaves, scan.report))
}
