//! RFC 6962 Merkle tree hashes over leaf hashes: the tree head (MTH), an incremental
//! frontier that keeps the root of a growing log in O(log n) memory, inclusion proofs
//! (audit paths) and consistency proofs, with the verification algorithms of RFC 9162
//! §2.1.3.2 and §2.1.4.2.

use serde::{Deserialize, Serialize};

use crate::hash::{Hash, empty_root, node_hash};

/// The largest power of two strictly smaller than `n` (`n >= 2`): RFC 6962's split point.
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` over leaf hashes.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first
/// (one per set bit of the size). Appending is amortised O(1) hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Number of leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut s = self.size;
        // Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        while s & 1 == 1 {
            match self.nodes.pop() {
                Some(left) => h = node_hash(&left, &h),
                None => break,
            }
            s >>= 1;
        }
        self.nodes.push(h);
        self.size += 1;
    }

    /// The RFC 6962 root of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some(last) = it.next() else {
            return empty_root();
        };
        it.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// An audit path proving that one leaf is in a tree of a given size and root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Zero-based leaf index (the entry's `index`).
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    /// Sibling hashes from the leaf upwards.
    pub path: Vec<Hash>,
    pub root: Hash,
}

impl InclusionProof {
    /// Checks the proof against its own `root`; compare `root` with a tree head you trust.
    pub fn verify(&self) -> bool {
        verify_inclusion(
            self.index,
            self.tree_size,
            &self.leaf_hash,
            &self.path,
            &self.root,
        )
    }
}

/// `PATH(m, D[n])` of RFC 6962. `None` when `index` is not a leaf of `leaves`.
pub fn inclusion_path(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    path_into(leaves, index, &mut path);
    Some(path)
}

fn path_into(leaves: &[Hash], m: usize, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_into(&leaves[..k], m, out);
        out.push(root(&leaves[k..]));
    } else {
        path_into(&leaves[k..], m - k, out);
        out.push(root(&leaves[..k]));
    }
}

/// RFC 9162 §2.1.3.2: does `path` prove `leaf` at `index` in the tree of `size` leaves
/// whose root is `root`?
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// `PROOF(m, D[n])` of RFC 6962: proves the tree of the first `m` leaves is a prefix of
/// the tree of all of `leaves`. `None` unless `0 < m <= n`.
pub fn consistency_proof(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m == 0 || m > leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    subproof(m, leaves, true, &mut out);
    Some(out)
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], whole, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree (`old_size`, `old_root`) is a prefix
/// of (`new_size`, `new_root`)?
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn small_trees_match_the_rfc_definition() {
        let l = leaves(3);
        assert_eq!(root(&[]), empty_root());
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node_hash(&l[0], &l[1]));
        // Three leaves split 2 + 1.
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
    }

    #[test]
    fn frontier_root_equals_mth_for_every_size() {
        let l = leaves(130);
        let mut f = Frontier::new();
        assert_eq!(f.root(), empty_root());
        for (i, leaf) in l.iter().enumerate() {
            f.push(*leaf);
            assert_eq!(f.size(), i as u64 + 1);
            assert_eq!(f.root(), root(&l[..=i]), "size {}", i + 1);
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        let l = leaves(40);
        for n in 1..=l.len() {
            let r = root(&l[..n]);
            for m in 0..n {
                let path = inclusion_path(&l[..n], m).unwrap();
                let (mu, nu) = (m as u64, n as u64);
                assert!(verify_inclusion(mu, nu, &l[m], &path, &r), "m={m} n={n}");
                let other = l[(m + 1) % n];
                if other != l[m] && n > 1 {
                    assert!(!verify_inclusion(mu, nu, &other, &path, &r));
                }
                // (A larger claimed size can still pass with the same path and root:
                // size and root are only meaningful together, from a trusted head.)
                assert!(!verify_inclusion(nu, nu, &l[m], &path, &r));
                if let Some((_, shorter)) = path.split_last() {
                    assert!(!verify_inclusion(mu, nu, &l[m], shorter, &r));
                }
            }
            assert_eq!(inclusion_path(&l[..n], n), None);
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_forged_root_does_not() {
        let l = leaves(40);
        for n in 1..=l.len() {
            let new_root = root(&l[..n]);
            for m in 1..=n {
                let old_root = root(&l[..m]);
                let proof = consistency_proof(&l[..n], m).unwrap();
                let (mu, nu) = (m as u64, n as u64);
                assert!(
                    verify_consistency(mu, nu, &old_root, &new_root, &proof),
                    "{m} {n}"
                );
                let forged = leaf_hash(b"forged");
                assert!(!verify_consistency(mu, nu, &forged, &new_root, &proof));
                assert!(!verify_consistency(mu, nu, &old_root, &forged, &proof));
            }
            assert_eq!(consistency_proof(&l[..n], 0), None);
            assert_eq!(consistency_proof(&l[..n], n + 1), None);
        }
    }
}
