//! The resolution cache: query string → resolved entry, with TTLs, negative entries and
//! stale-serving.
//!
//! Built for the hot path of a capability call: the key is hashed once to pick one of
//! `SHARDS` read-mostly maps, a read lock is held for one probe, and the hit hands out a
//! clone of an `Arc` — no allocation, no global lock. Expired entries are kept (up to
//! `max_stale`) so that they can be served when every registry is down.
//!
//! TTL tiers follow the design document: the in-process cache is the *local* tier (5 min by
//! default); a mesh server fronting other registries is a *regional* cache (1 h); *global* is
//! 24 h. Each is configurable through [`CacheConfig`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::resolve::Resolution;

const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheTier {
    Local,
    Regional,
    Global,
}

impl CacheTier {
    pub fn default_ttl(self) -> Duration {
        match self {
            CacheTier::Local => Duration::from_secs(5 * 60),
            CacheTier::Regional => Duration::from_secs(60 * 60),
            CacheTier::Global => Duration::from_secs(24 * 60 * 60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// How long a resolved entry is fresh.
    pub ttl: Duration,
    /// How long "not found" is remembered.
    pub negative_ttl: Duration,
    /// How long past its TTL an entry may still be served while registries are down.
    pub max_stale: Duration,
}

impl CacheConfig {
    pub fn for_tier(tier: CacheTier) -> CacheConfig {
        CacheConfig {
            ttl: tier.default_ttl(),
            negative_ttl: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self::for_tier(CacheTier::Local)
    }
}

#[derive(Clone)]
enum Slot {
    Positive {
        entry: Arc<Resolution>,
        expires_at: Duration,
        note: Option<Arc<str>>,
    },
    Negative {
        expires_at: Duration,
    },
}

pub enum Lookup {
    /// With the warning it was stored with (stale-serving, refused update), if any.
    Fresh(Arc<Resolution>, Option<Arc<str>>),
    /// Past its TTL but within `max_stale`: refresh, and fall back to it if that fails.
    Stale(Arc<Resolution>, Option<Arc<str>>),
    NotFound,
    Miss,
}

type Shard = RwLock<HashMap<Arc<str>, Slot, ahash::RandomState>>;

pub struct ResolutionCache {
    shards: Box<[Shard]>,
    hasher: ahash::RandomState,
    cfg: CacheConfig,
}

impl ResolutionCache {
    pub fn new(cfg: CacheConfig) -> ResolutionCache {
        ResolutionCache {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::with_hasher(ahash::RandomState::new())))
                .collect(),
            hasher: ahash::RandomState::new(),
            cfg,
        }
    }

    pub fn config(&self) -> &CacheConfig {
        &self.cfg
    }

    #[inline]
    fn shard(&self, key: &str) -> &Shard {
        let h = self.hasher.hash_one(key) as usize;
        &self.shards[h % SHARDS]
    }

    #[inline]
    pub fn get(&self, key: &str, now: Duration) -> Lookup {
        let shard = self.shard(key).read().unwrap_or_else(|p| p.into_inner());
        match shard.get(key) {
            Some(Slot::Positive {
                entry,
                expires_at,
                note,
            }) => {
                if now < *expires_at {
                    Lookup::Fresh(entry.clone(), note.clone())
                } else if now < expires_at.saturating_add(self.cfg.max_stale) {
                    Lookup::Stale(entry.clone(), note.clone())
                } else {
                    Lookup::Miss
                }
            }
            Some(Slot::Negative { expires_at }) if now < *expires_at => Lookup::NotFound,
            _ => Lookup::Miss,
        }
    }

    pub fn insert(&self, key: Arc<str>, entry: Arc<Resolution>, now: Duration) {
        self.insert_for(key, entry, now, self.cfg.ttl);
    }

    pub fn insert_for(&self, key: Arc<str>, entry: Arc<Resolution>, now: Duration, ttl: Duration) {
        self.insert_noted(key, entry, now, ttl, None);
    }

    /// Stores an entry that carries a warning for every caller until it is refreshed.
    pub fn insert_noted(
        &self,
        key: Arc<str>,
        entry: Arc<Resolution>,
        now: Duration,
        ttl: Duration,
        note: Option<Arc<str>>,
    ) {
        let slot = Slot::Positive {
            entry,
            expires_at: now.saturating_add(ttl),
            note,
        };
        self.shard(&key)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, slot);
    }

    /// Remembers "not found" (the registry said so, so any older entry is gone too).
    pub fn insert_negative(&self, key: Arc<str>, now: Duration) {
        self.shard(&key)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key,
                Slot::Negative {
                    expires_at: now.saturating_add(self.cfg.negative_ttl),
                },
            );
    }

    /// Makes every entry matching `pred` stale (kept for stale-serving, refreshed on next use).
    pub fn expire_where(&self, pred: impl Fn(&str, Option<&Resolution>) -> bool) -> usize {
        let mut n = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.write().unwrap_or_else(|p| p.into_inner());
            for (k, slot) in shard.iter_mut() {
                match slot {
                    Slot::Positive {
                        entry, expires_at, ..
                    } if pred(k, Some(entry)) => {
                        *expires_at = Duration::ZERO;
                        n += 1;
                    }
                    Slot::Negative { expires_at } if pred(k, None) => {
                        *expires_at = Duration::ZERO;
                    }
                    _ => {}
                }
            }
        }
        n
    }

    pub fn remove(&self, key: &str) {
        self.shard(key)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        for s in self.shards.iter() {
            s.write().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }
}
