//! The 32-byte blake3 digest used everywhere in the chain, its hex form, and the
//! domain-separated leaf and node hashes of RFC 6962 (0x00 for leaves, 0x01 for nodes), so
//! that no leaf can be passed off as an interior node or the other way round.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A blake3 digest. Written as 64 lowercase hex digits in JSON and on the command line.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev` of the first entry: nothing came before it.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Lowercase hex, the only spelling the chain writes and accepts.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(DIGITS[usize::from(b >> 4)] as char);
            s.push(DIGITS[usize::from(b & 0x0f)] as char);
        }
        s
    }

    /// Parses exactly 64 lowercase hex digits. Upper case is refused so that every hash
    /// has one spelling and a changed letter case is a changed entry.
    pub fn from_hex(s: &str) -> Option<Hash> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
        }
        Some(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("expected 64 lowercase hex digits"))
    }
}

/// `H(0x00 || entry)`: the Merkle leaf hash of one entry's canonical bytes.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[0x00]);
    h.update(entry);
    Hash(*h.finalize().as_bytes())
}

/// `H(0x01 || left || right)`: an interior Merkle node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[0x01]);
    h.update(&left.0);
    h.update(&right.0);
    Hash(*h.finalize().as_bytes())
}

/// The root of the empty tree, `H()` as in RFC 6962.
pub fn empty_root() -> Hash {
    Hash(*blake3::hash(b"").as_bytes())
}

/// Plain blake3 of `bytes` in hex: what `Action::input_hash`/`output_hash` hold, computed
/// by the caller over its canonical encoding of the values.
pub fn content_hash_hex(bytes: &[u8]) -> String {
    Hash(*blake3::hash(bytes).as_bytes()).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_is_strict() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), None);
        assert_eq!(Hash::from_hex("abc"), None);
        assert_eq!(Hash::from_hex(&"g".repeat(64)), None);
        assert_eq!(Hash::from_hex(&"0".repeat(64)), Some(Hash::ZERO));
    }

    #[test]
    fn leaf_and_node_hashes_are_domain_separated() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut as_leaf = a.0.to_vec();
        as_leaf.extend_from_slice(&b.0);
        // The same 64 bytes hashed as a leaf must not give the node over (a, b).
        assert_ne!(leaf_hash(&as_leaf), node_hash(&a, &b));
        assert_ne!(leaf_hash(b""), empty_root());
    }
}
