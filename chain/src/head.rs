//! Tree heads: a chain's size and Merkle root at one moment, exported so that a later
//! verification can tell whether entries were dropped from the end or history rewritten.
//! A head may carry a MAC (keyed blake3) so that whoever holds the chain file but not the
//! key cannot forge a matching head for a rewritten chain.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ChainError;
use crate::hash::Hash;

/// Domain separation for keys derived from a secret file.
const KEY_CONTEXT: &str = "rtfs-chain 2026-11 tree head MAC key";
/// Domain separation for the MAC'd message.
const HEAD_TAG: &[u8] = b"rtfs-chain tree head v1\0";

/// `{"tree_size": N, "root": "<hex>", "mac": "<hex>"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeHead {
    pub tree_size: u64,
    pub root: Hash,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Hash>,
}

/// A MAC key, derived from any secret bytes (e.g. the contents of a key file).
#[derive(Clone)]
pub struct HeadKey([u8; 32]);

impl HeadKey {
    /// Derives the key from `secret`; surrounding whitespace is ignored so a key file may
    /// end with a newline. Refuses secrets shorter than 16 bytes.
    pub fn from_secret(secret: &[u8]) -> Result<HeadKey, ChainError> {
        let trimmed = secret.trim_ascii();
        if trimmed.len() < 16 {
            return Err(ChainError::Head(format!(
                "a MAC key needs at least 16 bytes of secret, got {}",
                trimmed.len()
            )));
        }
        Ok(HeadKey(blake3::derive_key(KEY_CONTEXT, trimmed)))
    }

    pub fn from_file(path: &Path) -> Result<HeadKey, ChainError> {
        let bytes = std::fs::read(path).map_err(|e| ChainError::io(path, e))?;
        HeadKey::from_secret(&bytes)
    }
}

impl TreeHead {
    pub fn new(tree_size: u64, root: Hash) -> TreeHead {
        TreeHead {
            tree_size,
            root,
            mac: None,
        }
    }

    fn compute_mac(&self, key: &HeadKey) -> blake3::Hash {
        let mut msg = Vec::with_capacity(HEAD_TAG.len() + 8 + 32);
        msg.extend_from_slice(HEAD_TAG);
        msg.extend_from_slice(&self.tree_size.to_be_bytes());
        msg.extend_from_slice(&self.root.0);
        blake3::keyed_hash(&key.0, &msg)
    }

    /// This head with its MAC under `key`.
    pub fn signed(mut self, key: &HeadKey) -> TreeHead {
        self.mac = Some(Hash(*self.compute_mac(key).as_bytes()));
        self
    }

    /// True when the head carries a MAC and it is right for `key` (compared in constant
    /// time).
    pub fn verify_mac(&self, key: &HeadKey) -> bool {
        match self.mac {
            Some(mac) => self.compute_mac(key) == blake3::Hash::from(mac.0),
            None => false,
        }
    }

    pub fn to_json(&self) -> String {
        // A struct of an integer and hex strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<TreeHead, ChainError> {
        serde_json::from_str(text).map_err(|e| ChainError::Head(e.to_string()))
    }

    pub fn load(path: &Path) -> Result<TreeHead, ChainError> {
        let text = std::fs::read_to_string(path).map_err(|e| ChainError::io(path, e))?;
        TreeHead::from_json(&text).map_err(|e| ChainError::Head(format!("{}: {e}", path.display())))
    }

    /// Writes the head atomically (temporary file in the same directory, then rename).
    pub fn save(&self, path: &Path) -> Result<(), ChainError> {
        crate::fsutil::write_atomic(path, format!("{}\n", self.to_json()).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn mac_binds_size_root_and_key() {
        let key = HeadKey::from_secret(b"a secret of enough length\n").unwrap();
        let other = HeadKey::from_secret(b"another secret, also long").unwrap();
        let head = TreeHead::new(10, leaf_hash(b"r")).signed(&key);
        assert!(head.verify_mac(&key));
        assert!(!head.verify_mac(&other));
        let mut bigger = head.clone();
        bigger.tree_size = 11;
        assert!(!bigger.verify_mac(&key));
        let mut moved = head.clone();
        moved.root = leaf_hash(b"s");
        assert!(!moved.verify_mac(&key));
        assert!(!TreeHead::new(10, leaf_hash(b"r")).verify_mac(&key));
        assert!(HeadKey::from_secret(b"short").is_err());
    }

    #[test]
    fn json_round_trips_and_rejects_junk() {
        let head = TreeHead::new(3, leaf_hash(b"r"));
        assert_eq!(TreeHead::from_json(&head.to_json()).unwrap(), head);
        assert!(TreeHead::from_json("{\"tree_size\":-1,\"root\":\"00\"}").is_err());
        assert!(TreeHead::from_json("[]").is_err());
    }
}
