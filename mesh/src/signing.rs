//! Signed records: ed25519 over a canonical encoding, per-namespace publisher keys, expiry,
//! and rollback protection.
//!
//! The signed bytes are `rtfs-mesh-record-v1\n` followed by the canonical JSON of the record
//! without its `signature` (keys sorted, no whitespace). The prefix separates these
//! signatures from any other use of the same key. A [`TrustStore`] maps namespaces to keys; a
//! key for `acme.com` covers `acme.com/...` and nothing else. [`VersionPins`] remembers the
//! highest `record-version` accepted per name so a registry or mirror that serves an older
//! (still validly signed) record is refused instead of rolling the name back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::error::{MeshError, RejectReason, Result};
use crate::json::{canonical_json, record_to_json};
use crate::record::{FunctionRecord, RecordSignature};
use crate::validate::format_time;

const DOMAIN: &str = "rtfs-mesh-record-v1\n";

pub fn canonical_bytes(r: &FunctionRecord) -> Vec<u8> {
    let mut s = String::from(DOMAIN);
    canonical_json(&record_to_json(r, false), &mut s);
    s.into_bytes()
}

pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

pub fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.trim();
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hi = (chunk[0] as char).to_digit(16)?;
        let lo = (chunk[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Short, stable id of a public key: the first 8 bytes of its blake3 hash, in hex.
pub fn key_id(key: &VerifyingKey) -> String {
    to_hex(&blake3::hash(key.as_bytes()).as_bytes()[..8])
}

/// A publisher's signing key.
pub struct PublisherKey {
    key: SigningKey,
}

impl PublisherKey {
    pub fn generate() -> Result<PublisherKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| MeshError::Config(format!("no randomness for key generation: {e}")))?;
        Ok(Self::from_seed(seed))
    }

    pub fn from_seed(seed: [u8; 32]) -> PublisherKey {
        PublisherKey {
            key: SigningKey::from_bytes(&seed),
        }
    }

    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn public_hex(&self) -> String {
        to_hex(self.public().as_bytes())
    }

    pub fn key_id(&self) -> String {
        key_id(&self.public())
    }

    /// Parses the text of a key file (the 32-byte seed in hex; `#` lines are comments).
    /// `origin` names the file in errors. Reading and writing the files is the host layer's
    /// (`rtfs_mesh_io::PublisherKeyFile`).
    pub fn from_key_text(text: &str, origin: &str) -> Result<PublisherKey> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        let seed = from_hex::<32>(line).ok_or_else(|| {
            MeshError::Config(format!(
                "{origin} is not a mesh key file (expected 64 hex digits)"
            ))
        })?;
        Ok(Self::from_seed(seed))
    }

    /// The text of the secret key file that [`PublisherKey::from_key_text`] reads back.
    pub fn secret_key_text(&self) -> String {
        format!(
            "# rtfs-mesh ed25519 secret key, key-id {}\n{}\n",
            self.key_id(),
            to_hex(&self.key.to_bytes())
        )
    }

    /// Signs `record` in place (its `signature` is replaced).
    pub fn sign(&self, record: &mut FunctionRecord) {
        record.signature = None;
        let sig = self.key.sign(&canonical_bytes(record));
        record.signature = Some(RecordSignature {
            key_id: self.key_id(),
            algorithm: "ed25519".into(),
            value: to_hex(&sig.to_bytes()),
        });
    }
}

pub fn parse_public_key(hex: &str) -> Result<VerifyingKey> {
    let bytes = from_hex::<32>(hex)
        .ok_or_else(|| MeshError::Config(format!("`{hex}` is not a 64-hex-digit public key")))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|e| MeshError::Config(format!("invalid ed25519 public key: {e}")))
}

struct TrustedKey {
    namespace: String,
    key_id: String,
    key: VerifyingKey,
}

/// Which publisher keys are trusted for which namespaces.
#[derive(Default)]
pub struct TrustStore {
    keys: Vec<TrustedKey>,
    require_signatures: bool,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|k| format!("{}={}", k.namespace, k.key_id))
                    .collect::<Vec<_>>(),
            )
            .field("require_signatures", &self.require_signatures)
            .finish()
    }
}

impl TrustStore {
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// When set, unsigned records are refused everywhere; otherwise only in namespaces that
    /// have a key (a namespace with a publisher key must never accept unsigned records).
    pub fn require_signatures(mut self, yes: bool) -> Self {
        self.require_signatures = yes;
        self
    }

    /// Trusts `key` for `namespace` and everything below it (`*` for every name).
    pub fn trust(mut self, namespace: impl Into<String>, key: VerifyingKey) -> Self {
        self.keys.push(TrustedKey {
            namespace: namespace.into(),
            key_id: key_id(&key),
            key,
        });
        self
    }

    /// `NAMESPACE=HEXKEY`, as given on the command line.
    pub fn trust_spec(self, spec: &str) -> Result<Self> {
        let (ns, hex) = spec.split_once('=').ok_or_else(|| {
            MeshError::Config(format!("trust key `{spec}` is not NAMESPACE=PUBLICKEY"))
        })?;
        Ok(self.trust(ns.trim(), parse_public_key(hex)?))
    }

    /// The text of a trust file, `{"require-signatures": bool, "keys": [{"namespace": "...",
    /// "public-key": "hex"}]}`; `origin` names the file in errors. Reading the file is the
    /// host layer's (`rtfs_mesh_io::TrustStoreFile`).
    pub fn from_json_text(text: &str, origin: &str) -> Result<TrustStore> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| MeshError::Config(format!("trust file {origin} is not JSON: {e}")))?;
        let mut ts = TrustStore::new().require_signatures(
            v.get("require-signatures")
                .and_then(|b| b.as_bool())
                .unwrap_or(false),
        );
        let keys = v.get("keys").and_then(|k| k.as_array()).ok_or_else(|| {
            MeshError::Config(format!("trust file {origin}: missing `keys` list"))
        })?;
        for (i, k) in keys.iter().enumerate() {
            let ns = k.get("namespace").and_then(|x| x.as_str());
            let pk = k.get("public-key").and_then(|x| x.as_str());
            match (ns, pk) {
                (Some(ns), Some(pk)) => ts = ts.trust(ns, parse_public_key(pk)?),
                _ => {
                    return Err(MeshError::Config(format!(
                        "trust file {origin}: keys[{i}] needs `namespace` and `public-key`"
                    )));
                }
            }
        }
        Ok(ts)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.require_signatures
    }

    fn covers(&self, r: &FunctionRecord) -> bool {
        self.keys.iter().any(|k| r.func_name.is_under(&k.namespace))
    }

    /// Checks signature, key/namespace binding and expiry. Rollback is [`VersionPins`]' job.
    pub fn verify(&self, r: &FunctionRecord, now: SystemTime) -> Result<(), RejectReason> {
        let Some(sig) = &r.signature else {
            return if self.require_signatures || self.covers(r) {
                Err(RejectReason::Unsigned)
            } else {
                Ok(())
            };
        };
        let mut candidates = self
            .keys
            .iter()
            .filter(|k| k.key_id == sig.key_id)
            .peekable();
        if candidates.peek().is_none() {
            // Signed by someone we do not know: acceptable only where unsigned would be.
            return if self.require_signatures || self.covers(r) {
                Err(RejectReason::UnknownKey(sig.key_id.clone()))
            } else {
                check_expiry(r, now)
            };
        }
        let Some(k) = candidates.find(|k| r.func_name.is_under(&k.namespace)) else {
            return Err(RejectReason::KeyNotForNamespace {
                key_id: sig.key_id.clone(),
                namespace: r.func_name.namespace().to_string(),
            });
        };
        let bytes = from_hex::<64>(&sig.value).ok_or(RejectReason::BadSignature)?;
        k.key
            .verify_strict(&canonical_bytes(r), &Signature::from_bytes(&bytes))
            .map_err(|_| RejectReason::BadSignature)?;
        check_expiry(r, now)
    }
}

impl TrustStore {
    /// Like [`TrustStore::verify`], but the record must be signed by a key this store
    /// trusts for its namespace (what a registry asks before it accepts a write).
    pub fn verify_trusted(&self, r: &FunctionRecord, now: SystemTime) -> Result<(), RejectReason> {
        let Some(sig) = &r.signature else {
            return Err(RejectReason::Unsigned);
        };
        if !self.keys.iter().any(|k| k.key_id == sig.key_id) {
            return Err(RejectReason::UnknownKey(sig.key_id.clone()));
        }
        let Some(k) = self
            .keys
            .iter()
            .find(|k| k.key_id == sig.key_id && r.func_name.is_under(&k.namespace))
        else {
            return Err(RejectReason::KeyNotForNamespace {
                key_id: sig.key_id.clone(),
                namespace: r.func_name.namespace().to_string(),
            });
        };
        verify_signed_by(r, &k.key)?;
        check_expiry(r, now)
    }
}

/// Checks that `key` made the record's signature.
pub fn verify_signed_by(r: &FunctionRecord, key: &VerifyingKey) -> Result<(), RejectReason> {
    let sig = r.signature.as_ref().ok_or(RejectReason::Unsigned)?;
    if sig.key_id != key_id(key) {
        return Err(RejectReason::UnknownKey(sig.key_id.clone()));
    }
    let bytes = from_hex::<64>(&sig.value).ok_or(RejectReason::BadSignature)?;
    key.verify_strict(&canonical_bytes(r), &Signature::from_bytes(&bytes))
        .map_err(|_| RejectReason::BadSignature)
}

fn check_expiry(r: &FunctionRecord, now: SystemTime) -> Result<(), RejectReason> {
    match r.expires {
        Some(t) if t <= now => Err(RejectReason::Expired(format_time(t))),
        _ => Ok(()),
    }
}

/// The highest record-version accepted per name, and the content hash accepted at it.
#[derive(Default)]
pub struct VersionPins {
    pins: Mutex<HashMap<String, (u64, [u8; 32])>>,
}

impl VersionPins {
    pub fn new() -> VersionPins {
        VersionPins::default()
    }

    /// Refuses a record older than, or different at the same version from, the one pinned.
    pub fn check(&self, r: &FunctionRecord) -> Result<(), RejectReason> {
        let pins = self.pins.lock().unwrap_or_else(|p| p.into_inner());
        match pins.get(r.func_name.as_str()) {
            Some((seen, _)) if r.record_version < *seen => Err(RejectReason::Rollback {
                seen: *seen,
                got: r.record_version,
            }),
            Some((seen, hash)) if r.record_version == *seen && *seen > 0 => {
                if *hash == r.content_hash() {
                    Ok(())
                } else {
                    Err(RejectReason::Equivocation {
                        record_version: *seen,
                    })
                }
            }
            _ => Ok(()),
        }
    }

    /// Records `r` as accepted (call after [`VersionPins::check`] passed).
    pub fn accept(&self, r: &FunctionRecord) {
        let mut pins = self.pins.lock().unwrap_or_else(|p| p.into_inner());
        let e = pins.entry(r.func_name.to_string()).or_insert((0, [0; 32]));
        if r.record_version >= e.0 {
            *e = (r.record_version, r.content_hash());
        }
    }

    pub fn get(&self, name: &str) -> Option<u64> {
        let pins = self.pins.lock().unwrap_or_else(|p| p.into_inner());
        pins.get(name).map(|p| p.0)
    }
}
