//! L1: the decision cache. Maps the context fields that can change a decision to the
//! decision. The key is one ahash digest over a canonical, length-prefixed encoding of those
//! fields (never a combination of separate hashes); a hit also compares the call's subject,
//! so a digest collision between different callees cannot return a wrong route.
//!
//! Validity is tracked with generation counters instead of scanning: an entry stores the
//! policy, health and budget generations it was computed under and is ignored once any of
//! them moved. Spending does not move the budget generation; instead an entry stays valid
//! only while the run budget left still covers every candidate it ranked.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::budget::Budget;
use crate::context::{CallContext, Candidate};
use crate::engines::{Decision, DelegationEngine};

const SHARDS: usize = 16;

/// The map's keys are already digests: hashing them again would only cost time.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map = HashMap<u64, Entry, std::hash::BuildHasherDefault<PassThrough>>;

/// Policy and provider-health generations (the budget keeps its own).
#[derive(Debug, Default)]
pub struct Generations {
    policy: AtomicU64,
    health: AtomicU64,
}

impl Generations {
    pub fn bump_policy(&self) {
        self.policy.fetch_add(1, Ordering::AcqRel);
    }
    pub fn bump_health(&self) {
        self.health.fetch_add(1, Ordering::AcqRel);
    }
}

struct Entry {
    subject: Box<str>,
    decision: Arc<Decision>,
    policy: u64,
    health: u64,
    budget: u64,
    needs_budget: f64,
}

/// A candidate's latency bucket: quarter octaves of `1 + ms` (each about 19 % wide), so
/// the jitter of an observed average does not move it while a real change does.
pub fn latency_bucket(ms: f64) -> u32 {
    if ms.is_finite() && ms > 0.0 {
        // At most 4 × 1024 for any finite f64: the cast cannot truncate.
        ((ms + 1.0).log2() * 4.0) as u32
    } else {
        0
    }
}

/// Each candidate's rank when ordered by latency bucket: how many candidates sit in a
/// strictly faster bucket. This, not the latencies, is what the L1 key holds for the
/// performance engine: an entry stays valid while the providers keep their order, so
/// HTTP providers whose averages move on every call still hit. Inside one bucket
/// candidates count as equally fast (a cached ranking may keep their earlier order).
pub fn latency_ranks(cands: &[Candidate]) -> smallvec::SmallVec<[u32; 8]> {
    let buckets: smallvec::SmallVec<[u32; 8]> =
        cands.iter().map(|c| latency_bucket(c.latency_ms)).collect();
    let mut sorted = buckets.clone();
    sorted.sort_unstable();
    buckets
        .iter()
        .map(|b| sorted.partition_point(|x| x < b) as u32)
        .collect()
}

pub struct DecisionCache {
    shards: Vec<RwLock<Map>>,
    per_shard: usize,
    hasher: ahash::RandomState,
    gens: Arc<Generations>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Observed latencies change on every call; their ranking (see [`latency_ranks`])
    /// belongs in the key only when an engine that ranks by them is in use.
    latency_in_key: bool,
}

impl DecisionCache {
    pub fn new(capacity: usize) -> DecisionCache {
        DecisionCache {
            shards: (0..SHARDS).map(|_| RwLock::new(Map::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            // Fixed seeds: keys are stable for the life of the process and reproducible
            // in tests; nothing outside the process sees them.
            hasher: ahash::RandomState::with_seeds(
                0x5254_4653_4445_4c31,
                0x243f_6a88_85a3_08d3,
                0x1319_8a2e_0370_7344,
                0xa409_3822_299f_31d0,
            ),
            gens: Arc::new(Generations::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            latency_in_key: true,
        }
    }

    /// Leaves candidate latencies out of the key entirely (for engine lists without the
    /// performance engine, whose decisions do not depend on them).
    pub fn without_latency_in_key(mut self) -> DecisionCache {
        self.latency_in_key = false;
        self
    }

    pub fn generations(&self) -> &Arc<Generations> {
        &self.gens
    }

    /// Digest of a candidate set (ids, costs, flags and, when asked, the latency ranking).
    /// Order does not count: the mesh may list the same providers in a different order from
    /// one call to the next (its own ranking moves with observed latencies), and that must
    /// not make every decision a miss. A caller whose candidates do not change between calls
    /// computes it once and uses [`Self::decide_with`].
    pub fn candidates_digest(&self, cands: &[Candidate]) -> u64 {
        let ranks = if self.latency_in_key {
            latency_ranks(cands)
        } else {
            smallvec::SmallVec::new()
        };
        // Inline for the usual handful of candidates: no allocation per decision.
        let mut each: smallvec::SmallVec<[u64; 8]> = cands
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut h = self.hasher.build_hasher();
                h.write_usize(c.id.len());
                h.write(c.id.as_bytes());
                h.write_u64(c.cost.to_bits());
                if let Some(r) = ranks.get(i) {
                    h.write_u32(*r);
                }
                h.write_u8(c.on_device as u8 | (c.is_provider as u8) << 1);
                h.finish()
            })
            .collect();
        each.sort_unstable();
        let mut h = self.hasher.build_hasher();
        h.write_usize(each.len());
        for d in each {
            h.write_u64(d);
        }
        h.finish()
    }

    /// The canonical digest of the decision-relevant fields of `ctx`.
    pub fn key(&self, ctx: &CallContext<'_>) -> u64 {
        self.key_with(ctx, self.candidates_digest(ctx.candidate_providers))
    }

    /// [`Self::key`] with the candidates' digest supplied. Fixed-size fields are packed into
    /// one word; strings are length-prefixed, so the encoding stays unambiguous.
    #[inline]
    pub fn key_with(&self, ctx: &CallContext<'_>, candidates: u64) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_usize(ctx.function_symbol.len());
        h.write(ctx.function_symbol.as_bytes());
        if let Some(c) = ctx.capability_id {
            h.write_usize(c.len());
            h.write(c.as_bytes());
        }
        let u = ctx.user_context;
        if let Some(t) = &u.tenant {
            h.write_usize(t.len());
            h.write(t.as_bytes());
        }
        for p in &u.permissions {
            h.write_usize(p.len());
            h.write(p.as_bytes());
        }
        let d = ctx.device_context;
        let packed = (ctx.capability_id.is_some() as u64)
            | (u.tenant.is_some() as u64) << 1
            | (ctx.arguments_sensitive as u64) << 2
            | (d.network as u64) << 3
            | (d.battery_percent.map_or(0x1ff, u64::from)) << 8
            | (u.permissions.len() as u64 & 0xffff) << 20;
        h.write_u64(packed);
        h.write_u64(ctx.security.id());
        h.write_u64(candidates);
        h.finish()
    }

    fn shard(&self, key: u64) -> &RwLock<Map> {
        &self.shards[(key >> 32) as usize % SHARDS]
    }

    /// A still-valid cached decision for `ctx`.
    pub fn get(&self, ctx: &CallContext<'_>, budget: &Budget) -> Option<Arc<Decision>> {
        self.get_keyed(ctx, self.key(ctx), budget)
    }

    #[inline]
    fn get_keyed(&self, ctx: &CallContext<'_>, key: u64, budget: &Budget) -> Option<Arc<Decision>> {
        let hit = self.shard(key).read().ok().and_then(|m| {
            m.get(&key)
                .filter(|e| {
                    *e.subject == *ctx.subject()
                        && e.policy == self.gens.policy.load(Ordering::Acquire)
                        && e.health == self.gens.health.load(Ordering::Acquire)
                        && e.budget == budget.generation()
                        && (e.needs_budget == 0.0 || budget.remaining() >= e.needs_budget)
                })
                .map(|e| e.decision.clone())
        });
        match hit {
            Some(d) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(d)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Decides through the cache: a valid entry, else `engine` (and the result is stored
    /// under the generations read before deciding, so a concurrent change is never masked).
    pub fn decide(
        &self,
        engine: &dyn DelegationEngine,
        ctx: &CallContext<'_>,
        budget: &Budget,
    ) -> (Arc<Decision>, bool) {
        let digest = self.candidates_digest(ctx.candidate_providers);
        self.decide_with(engine, ctx, digest, budget)
    }

    /// [`Self::decide`] with the candidates' digest precomputed (see
    /// [`Self::candidates_digest`]).
    #[inline]
    pub fn decide_with(
        &self,
        engine: &dyn DelegationEngine,
        ctx: &CallContext<'_>,
        candidates: u64,
        budget: &Budget,
    ) -> (Arc<Decision>, bool) {
        let key = self.key_with(ctx, candidates);
        if let Some(d) = self.get_keyed(ctx, key, budget) {
            return (d, true);
        }
        let (policy, health, bgen) = (
            self.gens.policy.load(Ordering::Acquire),
            self.gens.health.load(Ordering::Acquire),
            budget.generation(),
        );
        let decision = Arc::new(engine.decide(ctx));
        if let Ok(mut m) = self.shard(key).write() {
            if m.len() >= self.per_shard {
                m.clear();
            }
            m.insert(
                key,
                Entry {
                    subject: ctx.subject().into(),
                    needs_budget: decision.max_cost(),
                    decision: decision.clone(),
                    policy,
                    health,
                    budget: bgen,
                },
            );
        }
        (decision, false)
    }

    /// (hits, misses) since creation.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}
