//! Who may write to a served registry (`rtfs mesh serve`).
//!
//! A write is accepted when it carries the server's bearer token, or when the record is
//! signed by a publisher key the registry trusts for the record's namespace: a key of the
//! trust store (an allow-list), or — with first-come claims on — the key that first published
//! signed records in that namespace, sent along in the `X-Rtfs-Publisher-Key` header. Anything
//! else is refused before the registry sees it: 401 when no credential came, 403 when the
//! credential does not cover the record. The reason is in the answer.

use std::sync::Arc;
use std::time::SystemTime;

use crate::name::FunctionName;
use crate::record::FunctionRecord;
use crate::signing::{TrustStore, key_id, parse_public_key, verify_signed_by};

use super::Registry;

/// The header carrying the publisher's public key (hex) for a first-come claim.
pub const PUBLISHER_KEY_HEADER: &str = "x-rtfs-publisher-key";

/// The server's write policy.
#[derive(Clone, Default)]
pub struct WriteAuth {
    /// Writes with `Authorization: Bearer TOKEN` are accepted (an operator's credential).
    pub token: Option<String>,
    /// Publisher keys allowed per namespace.
    pub trust: Arc<TrustStore>,
    /// A signed write claims a namespace no other key has published in.
    pub claim_namespaces: bool,
}

/// Why a write was refused: `Unauthenticated` is a 401, `Forbidden` a 403.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Unauthenticated(String),
    Forbidden(String),
}

/// What the request brought besides the record.
pub struct Credentials<'a> {
    pub bearer: Option<&'a str>,
    pub publisher_key: Option<&'a str>,
}

/// Compares in time independent of where the strings differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl WriteAuth {
    /// Whether `record` may be written with `creds`.
    pub async fn check(
        &self,
        registry: &dyn Registry,
        record: &FunctionRecord,
        creds: &Credentials<'_>,
        now: SystemTime,
    ) -> Result<(), Refusal> {
        if let (Some(token), Some(given)) = (&self.token, creds.bearer) {
            return if same_secret(token, given) {
                Ok(())
            } else {
                Err(Refusal::Unauthenticated(
                    "the bearer token is not valid".into(),
                ))
            };
        }
        if record.signature.is_none() {
            return Err(Refusal::Unauthenticated(
                "writes need `Authorization: Bearer TOKEN` or a record signed by a publisher key \
                 this registry trusts for its namespace"
                    .into(),
            ));
        }
        let by_store = self.trust.verify_trusted(record, now);
        if by_store.is_ok() {
            return Ok(());
        }
        if !self.claim_namespaces {
            return Err(Refusal::Forbidden(format!(
                "record refused: {}",
                by_store.err().map(|r| r.to_string()).unwrap_or_default()
            )));
        }
        let Some(hex) = creds.publisher_key else {
            return Err(Refusal::Forbidden(format!(
                "record refused: {}; to claim the namespace, send the public key in the \
                 `{PUBLISHER_KEY_HEADER}` header",
                by_store.err().map(|r| r.to_string()).unwrap_or_default()
            )));
        };
        let key = parse_public_key(hex.trim())
            .map_err(|e| Refusal::Forbidden(format!("bad `{PUBLISHER_KEY_HEADER}`: {e}")))?;
        verify_signed_by(record, &key).map_err(|r| Refusal::Forbidden(r.to_string()))?;
        self.check_claim(registry, &record.func_name, &key_id(&key))
            .await
    }

    /// First come: the namespace may hold only records this key signed.
    async fn check_claim(
        &self,
        registry: &dyn Registry,
        name: &FunctionName,
        key: &str,
    ) -> Result<(), Refusal> {
        let ns = name.namespace();
        let others = registry
            .list(&format!("{ns}/*"))
            .await
            .map_err(|e| Refusal::Forbidden(format!("cannot check the namespace claim: {e}")))?;
        match others
            .iter()
            .find(|r| r.signature.as_ref().map(|s| s.key_id.as_str()) != Some(key))
        {
            None => Ok(()),
            Some(r) => Err(Refusal::Forbidden(format!(
                "namespace `{ns}` is held by {} (record `{}`), not by key `{key}`",
                r.signature
                    .as_ref()
                    .map_or("unsigned records".to_string(), |s| format!(
                        "key `{}`",
                        s.key_id
                    )),
                r.func_name
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::memory::MemoryRegistry;
    use crate::signing::PublisherKey;

    fn rec(name: &str) -> FunctionRecord {
        FunctionRecord::new(
            FunctionName::parse(name).expect("name"),
            semver::Version::new(1, 0, 0),
            vec![],
        )
    }

    fn creds<'a>(bearer: Option<&'a str>, key: Option<&'a str>) -> Credentials<'a> {
        Credentials {
            bearer,
            publisher_key: key,
        }
    }

    #[tokio::test]
    async fn token_allow_list_and_first_come_claims() {
        let mem = MemoryRegistry::new();
        let now = SystemTime::now();
        let alice = PublisherKey::from_seed([1; 32]);
        let mallory = PublisherKey::from_seed([2; 32]);
        let auth = WriteAuth {
            token: Some("s3cret".into()),
            trust: Arc::new(TrustStore::new().trust("team", alice.public())),
            claim_namespaces: true,
        };
        let unsigned = rec("team/f");
        assert!(
            auth.check(&mem, &unsigned, &creds(Some("s3cret"), None), now)
                .await
                .is_ok()
        );
        assert!(matches!(
            auth.check(&mem, &unsigned, &creds(Some("s3cret!"), None), now)
                .await,
            Err(Refusal::Unauthenticated(_))
        ));
        assert!(matches!(
            auth.check(&mem, &unsigned, &creds(None, None), now).await,
            Err(Refusal::Unauthenticated(_))
        ));
        // Allow-list.
        let mut signed = rec("team/f");
        alice.sign(&mut signed);
        assert!(
            auth.check(&mem, &signed, &creds(None, None), now)
                .await
                .is_ok()
        );
        let mut forged = rec("team/f");
        mallory.sign(&mut forged);
        let mk = mallory.public_hex();
        assert!(matches!(
            auth.check(&mem, &forged, &creds(None, None), now).await,
            Err(Refusal::Forbidden(_))
        ));
        // First come: mallory claims a fresh namespace, then alice cannot write there.
        let mut claim = rec("fresh/f");
        mallory.sign(&mut claim);
        assert!(
            auth.check(&mem, &claim, &creds(None, Some(&mk)), now)
                .await
                .is_ok()
        );
        mem.put(claim);
        let mut late = rec("fresh/g");
        alice.sign(&mut late);
        let ak = alice.public_hex();
        let e = auth.check(&mem, &late, &creds(None, Some(&ak)), now).await;
        assert!(
            matches!(&e, Err(Refusal::Forbidden(m)) if m.contains("held by key")),
            "{e:?}"
        );
        // The header key must be the one that signed.
        let mut lie = rec("other/f");
        alice.sign(&mut lie);
        assert!(matches!(
            auth.check(&mem, &lie, &creds(None, Some(&mk)), now).await,
            Err(Refusal::Forbidden(_))
        ));
        // A tampered record fails its signature.
        let mut tampered = rec("third/f");
        mallory.sign(&mut tampered);
        tampered.description = "changed".into();
        assert!(matches!(
            auth.check(&mem, &tampered, &creds(None, Some(&mk)), now)
                .await,
            Err(Refusal::Forbidden(_))
        ));
    }
}
