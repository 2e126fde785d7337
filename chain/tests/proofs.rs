//! Inclusion and consistency proofs over real chain files.

mod common;

use common::{action, chain_bytes, temp_dir, write_file};
use rtfs_chain::{
    ChainError, ChainSink, ConsistencyProof, InclusionProof, MemorySink, consistency, proof, verify,
};

#[test]
fn every_entry_has_an_inclusion_proof_against_the_current_root() {
    let n = 37;
    let path = temp_dir("incl").join("c.chain");
    write_file(&path, &chain_bytes(n));
    let root = verify(&path).unwrap().root;
    for i in 0..n {
        let p = proof(&path, i).unwrap();
        assert_eq!((p.index, p.tree_size, p.root), (i, n, root));
        assert!(p.verify(), "entry {i}");
        let json = serde_json::to_string(&p).unwrap();
        let back: InclusionProof = serde_json::from_str(&json).unwrap();
        assert!(back.verify());
        let mut wrong = p.clone();
        wrong.index = (i + 1) % n;
        assert!(!wrong.verify(), "entry {i} proven at another index");
    }
    assert!(matches!(
        proof(&path, n),
        Err(ChainError::NoSuchEntry {
            index: 37,
            size: 37
        })
    ));
}

#[test]
fn consistency_proofs_link_every_earlier_size_to_now() {
    let n = 37;
    let path = temp_dir("cons").join("c.chain");
    write_file(&path, &chain_bytes(n));
    let sink = MemorySink::default();
    for m in 1..=n {
        sink.record(action(m - 1));
        let p = consistency(&path, m).unwrap();
        assert_eq!(p.old_root, sink.root());
        assert!(p.verify(), "from {m}");
        let json = serde_json::to_string(&p).unwrap();
        let back: ConsistencyProof = serde_json::from_str(&json).unwrap();
        assert!(back.verify());
    }
    assert!(consistency(&path, 0).is_err());
    assert!(consistency(&path, n + 1).is_err());
}

#[test]
fn a_tampered_chain_gives_no_proof() {
    let mut bytes = chain_bytes(5);
    let pos = bytes.len() / 2;
    bytes[pos] ^= 0x04;
    let path = temp_dir("tproof").join("c.chain");
    write_file(&path, &bytes);
    assert!(matches!(proof(&path, 0), Err(ChainError::Tampered { .. })));
    assert!(matches!(
        consistency(&path, 1),
        Err(ChainError::Tampered { .. })
    ));
}
