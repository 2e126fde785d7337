//! Proofs over a chain file: an inclusion proof for one entry and a consistency proof
//! between an earlier size and now. The file is verified first; a tampered file gives
//! [`ChainError::Tampered`], never a proof.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ChainError;
use crate::hash::Hash;
use crate::merkle::{self, InclusionProof};
use crate::verify::read_leaves;

/// The inclusion proof of entry `index` in the chain at `path`, against its current root.
pub fn proof(path: impl AsRef<Path>, index: u64) -> Result<InclusionProof, ChainError> {
    let (leaves, report) = read_leaves(path.as_ref())?;
    let size = leaves.len() as u64;
    let missing = ChainError::NoSuchEntry { index, size };
    let i = usize::try_from(index).map_err(|_| ChainError::NoSuchEntry { index, size })?;
    let path = merkle::inclusion_path(&leaves, i).ok_or(missing)?;
    Ok(InclusionProof {
        index,
        tree_size: size,
        leaf_hash: leaves[i],
        path,
        root: report.root,
    })
}

/// Proves that the tree of the first `old_size` entries is a prefix of the whole chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub old_root: Hash,
    pub new_root: Hash,
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Checks the proof against its own roots; compare those with heads you trust.
    pub fn verify(&self) -> bool {
        merkle::verify_consistency(
            self.old_size,
            self.new_size,
            &self.old_root,
            &self.new_root,
            &self.path,
        )
    }
}

/// The consistency proof from the first `old_size` entries (`0 < old_size <= len`) to the
/// whole chain at `path`.
pub fn consistency(path: impl AsRef<Path>, old_size: u64) -> Result<ConsistencyProof, ChainError> {
    let (leaves, report) = read_leaves(path.as_ref())?;
    let size = leaves.len() as u64;
    let bad = || ChainError::NoSuchEntry {
        index: old_size.saturating_sub(1),
        size,
    };
    let m = usize::try_from(old_size).map_err(|_| bad())?;
    let proof = merkle::consistency_proof(&leaves, m).ok_or_else(bad)?;
    Ok(ConsistencyProof {
        old_size,
        new_size: size,
        old_root: merkle::root(&leaves[..m]),
        new_root: report.root,
        path: proof,
    })
}
