//! L2: the inference cache. Results of model calls keyed by tenant, target, model,
//! parameters and the canonical form of the arguments (blake3 over a tagged encoding in
//! which map and set entries are sorted, so equal values give equal keys whatever their
//! insertion order). The tenant is in the key so one tenant is never served another's
//! answer, as with the per-tenant partitions of L3.
//! Bounded in size (quick_cache, weighted by entry count) and in age (TTL checked on read).

use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use rtfs_ir::{ExecTarget, Value};

/// 32-byte blake3 digest of (tenant, target, model, params, args).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InferenceKey(pub [u8; 32]);

impl InferenceKey {
    /// The key in the shared partition (no tenant), as [`Self::for_tenant`] with `""`.
    pub fn new(target: &ExecTarget, params: &Value, args: &[Value]) -> InferenceKey {
        InferenceKey::for_tenant("", target, params, args)
    }

    /// The key of a call made for `tenant` (`""`: calls without a tenant).
    pub fn for_tenant(
        tenant: &str,
        target: &ExecTarget,
        params: &Value,
        args: &[Value],
    ) -> InferenceKey {
        let mut h = blake3::Hasher::new();
        h.update(b"rtfs-l2-v2\0");
        let mut buf = Vec::new();
        encode_str(&mut buf, tenant);
        encode_str(&mut buf, &target.to_string());
        encode(&mut buf, params);
        buf.extend_from_slice(&(args.len() as u64).to_le_bytes());
        for a in args {
            encode(&mut buf, a);
        }
        h.update(&buf);
        InferenceKey(*h.finalize().as_bytes())
    }

    /// Hex form, used as the `storage_pointer` of a `CacheHit`.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The canonical encoding of a list of values (what the causal chain hashes).
pub fn canonical_bytes(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    for v in values {
        encode(&mut out, v);
    }
    out
}

fn encode_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Canonical, injective encoding of a value. Functions, atoms and other values with identity
/// encode by their printed form: they are not meant to be cache keys.
fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Nil => out.push(0),
        Value::Bool(b) => out.extend_from_slice(&[1, *b as u8]),
        Value::Int(i) => {
            out.push(2);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Str(s) => {
            out.push(4);
            encode_str(out, s);
        }
        Value::Keyword(s) => {
            out.push(5);
            encode_str(out, s);
        }
        Value::Symbol(s) => {
            out.push(6);
            encode_str(out, s);
        }
        Value::List(items) | Value::Vector(items) => {
            out.push(if matches!(v, Value::List(_)) { 7 } else { 8 });
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for i in items.iter() {
                encode(out, i);
            }
        }
        Value::Map(m) => {
            let mut entries: Vec<Vec<u8>> = m
                .iter()
                .map(|(k, v)| {
                    let mut e = Vec::new();
                    encode(&mut e, k);
                    encode(&mut e, v);
                    e
                })
                .collect();
            entries.sort();
            out.push(9);
            out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
            for e in entries {
                out.extend_from_slice(&e);
            }
        }
        Value::Set(s) => {
            let mut items: Vec<Vec<u8>> = s
                .iter()
                .map(|x| {
                    let mut e = Vec::new();
                    encode(&mut e, x);
                    e
                })
                .collect();
            items.sort();
            out.push(10);
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for e in items {
                out.extend_from_slice(&e);
            }
        }
        other => {
            out.push(11);
            encode_str(out, &other.to_string());
        }
    }
}

pub struct InferenceCache {
    cache: Cache<InferenceKey, (Value, Instant)>,
    ttl: Duration,
    clock: crate::clock::Clock,
}

impl InferenceCache {
    pub fn new(capacity: usize, ttl: Duration) -> InferenceCache {
        InferenceCache {
            cache: Cache::new(capacity.max(1)),
            ttl,
            clock: crate::clock::system(),
        }
    }

    /// Measures entry ages with `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> InferenceCache {
        self.clock = clock;
        self
    }

    pub fn get(&self, key: &InferenceKey) -> Option<Value> {
        let (v, at) = self.cache.get(key)?;
        if (self.clock)().saturating_duration_since(at) <= self.ttl {
            Some(v)
        } else {
            self.cache.remove(key);
            None
        }
    }

    pub fn insert(&self, key: InferenceKey, value: Value) {
        self.cache.insert(key, (value, (self.clock)()));
    }

    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, i64)]) -> Value {
        Value::map(
            pairs
                .iter()
                .map(|(k, v)| (Value::keyword(*k), Value::Int(*v))),
        )
    }

    #[test]
    fn key_is_canonical_over_map_order_and_distinguishes_args() {
        let t = ExecTarget::RemoteModel("gpt".into());
        let a = InferenceKey::new(&t, &Value::Nil, &[kv(&[("a", 1), ("b", 2)])]);
        let b = InferenceKey::new(&t, &Value::Nil, &[kv(&[("b", 2), ("a", 1)])]);
        assert_eq!(a, b);
        let c = InferenceKey::new(&t, &Value::Nil, &[kv(&[("a", 1), ("b", 3)])]);
        let args = [kv(&[("a", 1), ("b", 2)])];
        assert_eq!(a, InferenceKey::for_tenant("", &t, &Value::Nil, &args));
        let tenant_a = InferenceKey::for_tenant("acme", &t, &Value::Nil, &args);
        let tenant_b = InferenceKey::for_tenant("globex", &t, &Value::Nil, &args);
        assert_ne!(tenant_a, tenant_b);
        assert_ne!(tenant_a, a);
        // Length-prefixed: moving bytes between tenant and target cannot collide.
        assert_ne!(
            InferenceKey::for_tenant("ab", &ExecTarget::LocalModel("c".into()), &Value::Nil, &[]),
            InferenceKey::for_tenant("a", &ExecTarget::LocalModel("bc".into()), &Value::Nil, &[])
        );
        assert_ne!(a, c);
        let other_model = InferenceKey::new(
            &ExecTarget::RemoteModel("gpt2".into()),
            &Value::Nil,
            &[kv(&[("a", 1), ("b", 2)])],
        );
        assert_ne!(a, other_model);
        // A string is not a keyword; a vector is not a list.
        assert_ne!(
            InferenceKey::new(&t, &Value::Nil, &[Value::str("x")]),
            InferenceKey::new(&t, &Value::Nil, &[Value::keyword("x")])
        );
        assert_ne!(
            InferenceKey::new(&t, &Value::Nil, &[Value::vector([Value::Int(1)])]),
            InferenceKey::new(&t, &Value::Nil, &[Value::list([Value::Int(1)])])
        );
    }

    #[test]
    fn ttl_and_size_bound() {
        let time = crate::clock::ManualClock::default();
        let c = InferenceCache::new(4, Duration::from_millis(30)).with_clock(time.clock());
        let t = ExecTarget::LocalModel("rules".into());
        let k = InferenceKey::new(&t, &Value::Nil, &[Value::Int(1)]);
        c.insert(k, Value::str("yes"));
        assert_eq!(
            c.get(&k).and_then(|v| v.as_str().map(String::from)),
            Some("yes".into())
        );
        time.advance(Duration::from_millis(30));
        assert!(c.get(&k).is_some(), "an entry lives for its whole TTL");
        time.advance(Duration::from_millis(1));
        assert!(c.get(&k).is_none(), "expired entries are not served");
        for i in 0..100 {
            c.insert(
                InferenceKey::new(&t, &Value::Nil, &[Value::Int(i)]),
                Value::Int(i),
            );
        }
        assert!(c.len() <= 8, "size bound holds: {}", c.len());
    }
}
