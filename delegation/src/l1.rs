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
use crate::context::CallContext;
use crate::engines::{Decision, DelegationEngine};

const SHARDS: usize = 16;

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

pub struct DecisionCache {
    shards: Vec<RwLock<HashMap<u64, Entry>>>,
    per_shard: usize,
    hasher: ahash::RandomState,
    gens: Arc<Generations>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl DecisionCache {
    pub fn new(capacity: usize) -> DecisionCache {
        DecisionCache {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
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
        }
    }

    pub fn generations(&self) -> &Arc<Generations> {
        &self.gens
    }

    /// The canonical digest of the decision-relevant fields of `ctx`.
    pub fn key(&self, ctx: &CallContext<'_>) -> u64 {
        let mut h = self.hasher.build_hasher();
        let s = |h: &mut ahash::AHasher, s: &str| {
            h.write_usize(s.len());
            h.write(s.as_bytes());
        };
        s(&mut h, ctx.function_symbol);
        match ctx.capability_id {
            None => h.write_u8(0),
            Some(c) => {
                h.write_u8(1);
                s(&mut h, c);
            }
        }
        h.write_u8(ctx.arguments_sensitive as u8);
        h.write_u64(ctx.security.id());
        let u = ctx.user_context;
        match &u.tenant {
            None => h.write_u8(0),
            Some(t) => {
                h.write_u8(1);
                s(&mut h, t);
            }
        }
        h.write_usize(u.permissions.len());
        for p in &u.permissions {
            s(&mut h, p);
        }
        let d = ctx.device_context;
        h.write_u8(d.network as u8);
        h.write_u16(d.battery_percent.map_or(u16::MAX, u16::from));
        h.write_usize(ctx.candidate_providers.len());
        for c in ctx.candidate_providers {
            s(&mut h, &c.id);
            h.write_u64(c.cost.to_bits());
            h.write_u64(c.latency_ms.to_bits());
            h.write_u8(c.on_device as u8 | (c.is_provider as u8) << 1);
        }
        h.finish()
    }

    fn shard(&self, key: u64) -> &RwLock<HashMap<u64, Entry>> {
        &self.shards[(key >> 60) as usize % SHARDS]
    }

    /// A still-valid cached decision for `ctx`.
    #[inline]
    pub fn get(&self, ctx: &CallContext<'_>, budget: &Budget) -> Option<Arc<Decision>> {
        let key = self.key(ctx);
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
        if let Some(d) = self.get(ctx, budget) {
            return (d, true);
        }
        let (policy, health, bgen) = (
            self.gens.policy.load(Ordering::Acquire),
            self.gens.health.load(Ordering::Acquire),
            budget.generation(),
        );
        let decision = Arc::new(engine.decide(ctx));
        let key = self.key(ctx);
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
