//! L3: the semantic cache. A result is reused for a call whose text is *close* (cosine
//! similarity ≥ threshold under an [`Embedder`]) to an earlier call of the same callee on
//! the same target, within the same tenant. Opt-in: the runtime consults it only for calls
//! marked `^{:cache :semantic}` or routed to it by policy.
//!
//! Layout: tenant → callee → target → bucket; a bucket keeps its vectors in one contiguous
//! `Vec<f32>` in insertion order, so a lookup is one linear scan of the comparable entries
//! and expired entries are always a prefix. Eviction (per tenant, oldest first) and TTL are
//! exact; the lock is held for the scan only, never while embedding.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rtfs_ir::{ExecTarget, Value};
use thiserror::Error;

use crate::embed::{EmbedError, Embedder};

/// The `cache_level` reported in `ExecTarget::CacheHit` for this cache.
pub const CACHE_LEVEL: u8 = 3;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum L3Error {
    #[error("semantic cache: {0}")]
    Config(String),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SemanticCacheConfig {
    /// Minimum cosine similarity for a hit, in `[-1, 1]` (default 0.92, meant for neural
    /// embedders; the built-in hashed embedder scores paraphrases lower, around 0.7–0.9).
    pub threshold: f32,
    /// Entries older than this are never served (default one hour).
    pub ttl: Duration,
    /// Per tenant; inserting beyond it evicts that tenant's oldest entry (default 1 000).
    pub max_entries_per_tenant: usize,
}

impl Default for SemanticCacheConfig {
    fn default() -> Self {
        SemanticCacheConfig {
            threshold: 0.92,
            ttl: Duration::from_secs(3600),
            max_entries_per_tenant: 1000,
        }
    }
}

impl SemanticCacheConfig {
    pub fn validate(&self) -> Result<(), L3Error> {
        if !(-1.0..=1.0).contains(&self.threshold) {
            return Err(L3Error::Config(format!(
                "threshold must be in [-1, 1], got {}",
                self.threshold
            )));
        }
        if self.max_entries_per_tenant == 0 {
            return Err(L3Error::Config(
                "max_entries_per_tenant must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Reads a TOML table with the optional keys `threshold` (float), `ttl_secs` and
    /// `max_entries_per_tenant` (positive integers); anything else is an error naming the key.
    pub fn from_toml(table: &toml::Table) -> Result<SemanticCacheConfig, L3Error> {
        let mut cfg = SemanticCacheConfig::default();
        for (k, v) in table {
            match (k.as_str(), v) {
                ("threshold", toml::Value::Float(f)) => cfg.threshold = *f as f32,
                ("threshold", toml::Value::Integer(i)) => cfg.threshold = *i as f32,
                ("ttl_secs", toml::Value::Integer(i)) if *i > 0 => {
                    cfg.ttl = Duration::from_secs(*i as u64)
                }
                ("max_entries_per_tenant", toml::Value::Integer(i)) if *i > 0 => {
                    cfg.max_entries_per_tenant = usize::try_from(*i).map_err(|_| {
                        L3Error::Config(format!("`max_entries_per_tenant` too large: {i}"))
                    })?
                }
                ("threshold" | "ttl_secs" | "max_entries_per_tenant", other) => {
                    return Err(L3Error::Config(format!(
                        "`{k}`: invalid value {other} (threshold: number in [-1, 1]; \
                         ttl_secs, max_entries_per_tenant: positive integers)"
                    )));
                }
                _ => {
                    return Err(L3Error::Config(format!(
                        "unknown key `{k}` (expected threshold, ttl_secs, max_entries_per_tenant)"
                    )));
                }
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// A served entry.
#[derive(Clone, Debug, PartialEq)]
pub struct L3Hit {
    pub value: Value,
    pub similarity: f32,
    /// `l3:<tenant>:<entry id>`, stable for the life of the entry.
    pub storage_pointer: String,
}

impl L3Hit {
    /// The decision to report for this hit.
    pub fn target(&self) -> ExecTarget {
        ExecTarget::CacheHit {
            cache_level: CACHE_LEVEL,
            storage_pointer: self.storage_pointer.clone(),
        }
    }
}

/// Counters since creation (`clear` does not reset them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L3Metrics {
    pub hits: u64,
    pub misses: u64,
    pub inserts: u64,
    /// Entries removed to respect `max_entries_per_tenant`.
    pub evictions: u64,
    /// Entries dropped because their TTL had passed.
    pub expirations: u64,
    /// Lookups or inserts that failed because the embedder failed.
    pub embed_errors: u64,
    /// Entries held now, all tenants.
    pub entries: u64,
}

/// The text that stands for a call's arguments: strings as they are (their content is what
/// carries meaning), other values printed, one argument per line.
pub fn query_text(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match a.as_str() {
            Some(s) => out.push_str(s),
            None => out.push_str(&a.to_string()),
        }
    }
    out
}

struct Bucket {
    ids: Vec<u64>,
    /// `ids.len() * dim` floats, entry `i` at `i * dim`.
    vectors: Vec<f32>,
    values: Vec<Value>,
    inserted: Vec<Instant>,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            ids: Vec::new(),
            vectors: Vec::new(),
            values: Vec::new(),
            inserted: Vec::new(),
        }
    }

    fn drop_front(&mut self, n: usize, dim: usize) {
        self.ids.drain(..n);
        self.vectors.drain(..n * dim);
        self.values.drain(..n);
        self.inserted.drain(..n);
    }

    /// Drops the expired prefix; returns how many went.
    fn expire(&mut self, now: Instant, ttl: Duration, dim: usize) -> usize {
        let n = self
            .inserted
            .iter()
            .take_while(|t| now.saturating_duration_since(**t) > ttl)
            .count();
        if n > 0 {
            self.drop_front(n, dim);
        }
        n
    }
}

#[derive(Default)]
struct Partition {
    /// callee → (target, bucket); a callee has few targets, so a short list.
    callees: HashMap<String, Vec<(ExecTarget, Bucket)>>,
    len: usize,
}

impl Partition {
    fn bucket_mut(&mut self, callee: &str, target: &ExecTarget) -> Option<&mut Bucket> {
        self.callees
            .get_mut(callee)?
            .iter_mut()
            .find(|(t, _)| t == target)
            .map(|(_, b)| b)
    }

    /// Removes the entry with the smallest id (the oldest) of the whole partition.
    fn evict_oldest(&mut self, dim: usize) -> bool {
        let mut oldest: Option<(u64, &str, usize)> = None;
        for (callee, targets) in &self.callees {
            for (i, (_, b)) in targets.iter().enumerate() {
                if let Some(&id) = b.ids.first()
                    && oldest.is_none_or(|(o, _, _)| id < o)
                {
                    oldest = Some((id, callee.as_str(), i));
                }
            }
        }
        let Some((_, callee, i)) = oldest else {
            return false;
        };
        let callee = callee.to_string();
        if let Some(targets) = self.callees.get_mut(&callee) {
            targets[i].1.drop_front(1, dim);
            self.len -= 1;
            self.prune(&callee);
            return true;
        }
        false
    }

    fn prune(&mut self, callee: &str) {
        if let Some(targets) = self.callees.get_mut(callee) {
            targets.retain(|(_, b)| !b.ids.is_empty());
            if targets.is_empty() {
                self.callees.remove(callee);
            }
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators let the compiler vectorise the float sum.
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// The L3 cache. `Send + Sync`; share it behind an `Arc`.
pub struct SemanticCache {
    embedder: Arc<dyn Embedder>,
    dim: usize,
    config: SemanticCacheConfig,
    partitions: Mutex<HashMap<String, Partition>>,
    next_id: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    inserts: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
    embed_errors: AtomicU64,
    clock: crate::clock::Clock,
}

impl SemanticCache {
    /// Measures entry ages with `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> SemanticCache {
        self.clock = clock;
        self
    }

    pub fn new(
        embedder: Arc<dyn Embedder>,
        config: SemanticCacheConfig,
    ) -> Result<SemanticCache, L3Error> {
        config.validate()?;
        let dim = embedder.dim();
        if dim == 0 {
            return Err(L3Error::Config(format!(
                "embedder `{}` has dimension 0",
                embedder.id()
            )));
        }
        Ok(SemanticCache {
            embedder,
            dim,
            config,
            partitions: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            inserts: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            expirations: AtomicU64::new(0),
            embed_errors: AtomicU64::new(0),
            clock: crate::clock::system(),
        })
    }

    pub fn config(&self) -> &SemanticCacheConfig {
        &self.config
    }

    pub fn embedder(&self) -> &dyn Embedder {
        self.embedder.as_ref()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Partition>> {
        // A panic elsewhere while holding the lock leaves consistent data (every mutation
        // completes before the guard drops), so a poisoned lock is still usable.
        self.partitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Embeds `text`, checking the vector's length (so a misbehaving embedder cannot corrupt
    /// the contiguous store). Use it to embed once for a lookup followed by an insert.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, L3Error> {
        let r = self.embedder.embed(text).and_then(|v| {
            if v.len() == self.dim {
                Ok(v)
            } else {
                Err(EmbedError::Dimension {
                    embedder: self.embedder.id().to_string(),
                    expected: self.dim,
                    got: v.len(),
                })
            }
        });
        if r.is_err() {
            self.embed_errors.fetch_add(1, Ordering::Relaxed);
        }
        Ok(r?)
    }

    /// The closest entry of `tenant` for the same callee and target whose similarity to
    /// `text` is at least the threshold.
    pub fn lookup(
        &self,
        tenant: &str,
        callee: &str,
        target: &ExecTarget,
        text: &str,
    ) -> Result<Option<L3Hit>, L3Error> {
        let v = self.embed(text)?;
        self.lookup_embedded(tenant, callee, target, &v)
    }

    /// [`lookup`](Self::lookup) with a vector from [`embed`](Self::embed).
    pub fn lookup_embedded(
        &self,
        tenant: &str,
        callee: &str,
        target: &ExecTarget,
        vector: &[f32],
    ) -> Result<Option<L3Hit>, L3Error> {
        self.check_dim(vector)?;
        let dim = self.dim;
        let now = (self.clock)();
        let mut parts = self.lock();
        let best = parts.get_mut(tenant).and_then(|p| {
            let b = p.bucket_mut(callee, target)?;
            let expired = b.expire(now, self.config.ttl, dim);
            let mut best: Option<(usize, f32)> = None;
            for (i, row) in b.vectors.chunks_exact(dim).enumerate() {
                let s = dot(row, vector);
                if s >= self.config.threshold && best.is_none_or(|(_, bs)| s > bs) {
                    best = Some((i, s));
                }
            }
            let hit = best.map(|(i, s)| (b.ids[i], b.values[i].clone(), s));
            if expired > 0 {
                p.len -= expired;
                p.prune(callee);
                self.expirations
                    .fetch_add(expired as u64, Ordering::Relaxed);
            }
            hit
        });
        drop(parts);
        match best {
            Some((id, value, similarity)) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok(Some(L3Hit {
                    value,
                    similarity,
                    storage_pointer: format!("l3:{tenant}:{id}"),
                }))
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
        }
    }

    /// Stores `value` as the result of `callee` on `target` for `text`; returns the entry's
    /// storage pointer. Evicts the tenant's oldest entries beyond the size bound.
    pub fn insert(
        &self,
        tenant: &str,
        callee: &str,
        target: &ExecTarget,
        text: &str,
        value: Value,
    ) -> Result<String, L3Error> {
        let v = self.embed(text)?;
        self.insert_embedded(tenant, callee, target, v, value)
    }

    /// [`insert`](Self::insert) with a vector from [`embed`](Self::embed).
    pub fn insert_embedded(
        &self,
        tenant: &str,
        callee: &str,
        target: &ExecTarget,
        vector: Vec<f32>,
        value: Value,
    ) -> Result<String, L3Error> {
        self.check_dim(&vector)?;
        let dim = self.dim;
        let now = (self.clock)();
        let mut parts = self.lock();
        let p = parts.entry(tenant.to_string()).or_default();
        let targets = p.callees.entry(callee.to_string()).or_default();
        let b = match targets.iter().position(|(t, _)| t == target) {
            Some(i) => &mut targets[i].1,
            None => {
                targets.push((target.clone(), Bucket::new()));
                let last = targets.len() - 1;
                &mut targets[last].1
            }
        };
        let expired = b.expire(now, self.config.ttl, dim);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        b.ids.push(id);
        b.vectors.extend_from_slice(&vector);
        b.values.push(value);
        b.inserted.push(now);
        p.len = p.len + 1 - expired;
        let mut evicted = 0u64;
        while p.len > self.config.max_entries_per_tenant && p.evict_oldest(dim) {
            evicted += 1;
        }
        drop(parts);
        self.inserts.fetch_add(1, Ordering::Relaxed);
        self.evictions.fetch_add(evicted, Ordering::Relaxed);
        self.expirations
            .fetch_add(expired as u64, Ordering::Relaxed);
        Ok(format!("l3:{tenant}:{id}"))
    }

    fn check_dim(&self, v: &[f32]) -> Result<(), L3Error> {
        if v.len() == self.dim {
            Ok(())
        } else {
            Err(EmbedError::Dimension {
                embedder: self.embedder.id().to_string(),
                expected: self.dim,
                got: v.len(),
            }
            .into())
        }
    }

    /// Entries held for `tenant` (expired ones not yet swept included).
    pub fn len(&self, tenant: &str) -> usize {
        self.lock().get(tenant).map_or(0, |p| p.len)
    }

    pub fn is_empty(&self) -> bool {
        self.lock().values().all(|p| p.len == 0)
    }

    /// Drops every entry of every tenant; counters keep running.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Drops every entry of one tenant.
    pub fn clear_tenant(&self, tenant: &str) {
        self.lock().remove(tenant);
    }

    pub fn metrics(&self) -> L3Metrics {
        let entries = self.lock().values().map(|p| p.len as u64).sum();
        L3Metrics {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            inserts: self.inserts.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            expirations: self.expirations.load(Ordering::Relaxed),
            embed_errors: self.embed_errors.load(Ordering::Relaxed),
            entries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::HashedNgramEmbedder;

    fn cache(threshold: f32, max: usize, ttl: Duration) -> SemanticCache {
        SemanticCache::new(
            Arc::new(HashedNgramEmbedder::default()),
            SemanticCacheConfig {
                threshold,
                ttl,
                max_entries_per_tenant: max,
            },
        )
        .unwrap()
    }

    #[test]
    fn dot_matches_naive_sum_on_odd_lengths() {
        let a: Vec<f32> = (0..13).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..13).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }

    #[test]
    fn eviction_spans_callees_and_keeps_the_newest() {
        let c = cache(0.99, 3, Duration::from_secs(60));
        let t = ExecTarget::LocalPure;
        c.insert("a", "f", &t, "one", Value::Int(1)).unwrap();
        c.insert("a", "g", &t, "two", Value::Int(2)).unwrap();
        c.insert("a", "f", &t, "three", Value::Int(3)).unwrap();
        c.insert("a", "g", &t, "four", Value::Int(4)).unwrap();
        assert_eq!(c.len("a"), 3);
        assert!(c.lookup("a", "f", &t, "one").unwrap().is_none());
        assert!(c.lookup("a", "g", &t, "two").unwrap().is_some());
        assert_eq!(c.metrics().evictions, 1);
    }

    #[test]
    fn wrong_vector_length_is_an_error_not_a_corruption() {
        let c = cache(0.5, 10, Duration::from_secs(60));
        let t = ExecTarget::LocalPure;
        let err = c
            .insert_embedded("a", "f", &t, vec![1.0; 3], Value::Nil)
            .unwrap_err();
        assert!(matches!(err, L3Error::Embed(EmbedError::Dimension { .. })));
        assert!(c.lookup_embedded("a", "f", &t, &[0.0; 7]).is_err());
        assert!(c.is_empty());
    }

    #[test]
    fn config_from_toml() {
        let t: toml::Table =
            toml::from_str("threshold = 0.8\nttl_secs = 60\nmax_entries_per_tenant = 10").unwrap();
        let cfg = SemanticCacheConfig::from_toml(&t).unwrap();
        assert_eq!(cfg.threshold, 0.8);
        assert_eq!(cfg.ttl, Duration::from_secs(60));
        assert_eq!(cfg.max_entries_per_tenant, 10);
        for bad in [
            "threshold = 1.5",
            "ttl_secs = 0",
            "max_entries_per_tenant = -1",
            "threshold = \"high\"",
            "treshold = 0.5",
        ] {
            let t: toml::Table = toml::from_str(bad).unwrap();
            assert!(SemanticCacheConfig::from_toml(&t).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_text_keeps_string_content() {
        let t = query_text(&[Value::str("hello world"), Value::Int(3)]);
        assert_eq!(t, "hello world\n3");
    }
}
