//! Provider health: observed latency and success, in-flight counts, and outlier ejection.
//!
//! A provider is ejected after `eject_after_failures` consecutive failures, for
//! `base_ejection * 2^(k-1)` (capped at `max_ejection`) on its k-th ejection, so a provider
//! that keeps failing is tried less and less often. After the ejection ends it is tried
//! again; one more failure re-ejects it at once with the next back-off step, one success
//! clears the failure streak. The share of a function's providers that may be ejected at
//! once is capped at selection time (see `select.rs`), so ejection can never empty a
//! provider list that is merely having a bad minute.
//!
//! Every number is an atomic so that selection reads health without locks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::clock::Clock;

#[derive(Debug, Clone)]
pub struct HealthConfig {
    pub eject_after_failures: u32,
    pub base_ejection: Duration,
    pub max_ejection: Duration,
    /// Largest share (0.0–1.0) of one function's providers kept out at once.
    pub max_ejected_share: f64,
    /// Weight of a new observation in the latency and availability averages.
    pub ewma_alpha: f64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            eject_after_failures: 5,
            base_ejection: Duration::from_secs(30),
            max_ejection: Duration::from_secs(600),
            max_ejected_share: 0.5,
            ewma_alpha: 0.2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange {
    Ejected,
    Restored,
}

/// Live health of one provider id (shared by every function that lists it).
#[derive(Debug)]
pub struct ProviderHealth {
    id: Arc<str>,
    consecutive_failures: AtomicU32,
    ejections: AtomicU32,
    /// Nanoseconds on the tracker's clock; 0 means not ejected.
    ejected_until: AtomicU64,
    ejected_since: AtomicU64,
    latency_us: AtomicU64,
    availability: AtomicU64,
    observed: AtomicU64,
    in_flight: AtomicU32,
    successes: AtomicU64,
    failures: AtomicU64,
    seeded: bool,
}

fn f64_atomic(x: f64) -> AtomicU64 {
    AtomicU64::new(x.to_bits())
}

impl ProviderHealth {
    fn new(id: &str, seed_latency_ms: f64) -> ProviderHealth {
        ProviderHealth {
            id: Arc::from(id),
            consecutive_failures: AtomicU32::new(0),
            ejections: AtomicU32::new(0),
            ejected_until: AtomicU64::new(0),
            ejected_since: AtomicU64::new(0),
            latency_us: f64_atomic(seed_latency_ms * 1000.0),
            availability: f64_atomic(1.0),
            observed: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            successes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            seeded: seed_latency_ms > 0.0,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// EWMA of observed latency in milliseconds, seeded from `avg-response-time-ms`.
    #[inline]
    pub fn latency_ms(&self) -> f64 {
        f64::from_bits(self.latency_us.load(Ordering::Relaxed)) / 1000.0
    }

    /// EWMA of call outcomes (1 = success), starting at 1.
    #[inline]
    pub fn availability(&self) -> f64 {
        f64::from_bits(self.availability.load(Ordering::Relaxed))
    }

    #[inline]
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn successes(&self) -> u64 {
        self.successes.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures.load(Ordering::Relaxed)
    }

    /// Whether the provider is ejected at clock time `now`.
    #[inline]
    pub fn is_ejected_at(&self, now: Duration) -> bool {
        let until = self.ejected_until.load(Ordering::Relaxed);
        until != 0 && (now.as_nanos() as u64) < until
    }

    /// Raw end of the current ejection (0 when never ejected); lets selection skip reading
    /// the clock when nothing is ejected.
    #[inline]
    pub fn ejected_until_nanos(&self) -> u64 {
        self.ejected_until.load(Ordering::Relaxed)
    }

    /// When the current ejection started (for choosing which ejections the cap lifts).
    pub fn ejected_since(&self) -> u64 {
        self.ejected_since.load(Ordering::Relaxed)
    }

    pub fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn end(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    fn update_ewma(cell: &AtomicU64, sample: f64, alpha: f64, first: bool) {
        let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            let old = f64::from_bits(bits);
            let new = if first {
                sample
            } else {
                old + alpha * (sample - old)
            };
            Some(new.to_bits())
        });
    }
}

type Listener = Box<dyn Fn(&str, HealthChange) + Send + Sync>;

/// Health of every provider seen, shared by the resolver and whoever makes the calls.
pub struct HealthTracker {
    cfg: HealthConfig,
    clock: Arc<dyn Clock>,
    providers: RwLock<HashMap<Arc<str>, Arc<ProviderHealth>>>,
    listeners: Mutex<Vec<Listener>>,
}

impl HealthTracker {
    pub fn new(cfg: HealthConfig, clock: Arc<dyn Clock>) -> HealthTracker {
        HealthTracker {
            cfg,
            clock,
            providers: RwLock::new(HashMap::new()),
            listeners: Mutex::new(Vec::new()),
        }
    }

    pub fn config(&self) -> &HealthConfig {
        &self.cfg
    }

    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// The health cell for `id`, created (seeded with `seed_latency_ms`) on first sight.
    pub fn provider(&self, id: &str, seed_latency_ms: f64) -> Arc<ProviderHealth> {
        if let Some(h) = self
            .providers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            return h.clone();
        }
        let mut w = self.providers.write().unwrap_or_else(|p| p.into_inner());
        w.entry(Arc::from(id))
            .or_insert_with(|| Arc::new(ProviderHealth::new(id, seed_latency_ms)))
            .clone()
    }

    pub fn get(&self, id: &str) -> Option<Arc<ProviderHealth>> {
        self.providers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Called on every ejection and restoration (the resolver invalidates its cache here).
    pub fn on_change(&self, f: impl Fn(&str, HealthChange) + Send + Sync + 'static) {
        self.listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(f));
    }

    fn notify(&self, id: &str, change: HealthChange) {
        for l in self
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            l(id, change);
        }
    }

    pub fn record_success(&self, id: &str, latency: Duration) {
        let h = self.provider(id, latency.as_secs_f64() * 1000.0);
        // The advertised latency is the prior; without one the first sample is.
        let first = h.observed.fetch_add(1, Ordering::Relaxed) == 0 && !h.seeded;
        h.successes.fetch_add(1, Ordering::Relaxed);
        ProviderHealth::update_ewma(
            &h.latency_us,
            latency.as_secs_f64() * 1e6,
            self.cfg.ewma_alpha,
            first,
        );
        ProviderHealth::update_ewma(&h.availability, 1.0, self.cfg.ewma_alpha, false);
        h.consecutive_failures.store(0, Ordering::Relaxed);
        let now = self.now().as_nanos() as u64;
        let until = h.ejected_until.load(Ordering::Relaxed);
        if until != 0 {
            h.ejected_until.store(0, Ordering::Relaxed);
            self.notify(id, HealthChange::Restored);
        }
        // Back-off memory fades once the provider has behaved for as long as its last ejection.
        let k = h.ejections.load(Ordering::Relaxed);
        if k > 0 {
            let span = self.ejection_for(k).as_nanos() as u64;
            if now
                > h.ejected_since
                    .load(Ordering::Relaxed)
                    .saturating_add(2 * span)
            {
                h.ejections.store(0, Ordering::Relaxed);
            }
        }
    }

    pub fn record_failure(&self, id: &str) {
        let h = self.provider(id, 0.0);
        h.observed.fetch_add(1, Ordering::Relaxed);
        h.failures.fetch_add(1, Ordering::Relaxed);
        ProviderHealth::update_ewma(&h.availability, 0.0, self.cfg.ewma_alpha, false);
        let streak = h.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        let now = self.now();
        if streak >= self.cfg.eject_after_failures && !h.is_ejected_at(now) {
            let k = h.ejections.fetch_add(1, Ordering::Relaxed) + 1;
            let until = now.saturating_add(self.ejection_for(k));
            h.ejected_since
                .store(now.as_nanos() as u64, Ordering::Relaxed);
            h.ejected_until
                .store((until.as_nanos() as u64).max(1), Ordering::Relaxed);
            self.notify(id, HealthChange::Ejected);
        }
    }

    /// Length of the k-th consecutive ejection.
    pub fn ejection_for(&self, k: u32) -> Duration {
        let factor = 1u32
            .checked_shl(k.saturating_sub(1).min(20))
            .unwrap_or(u32::MAX);
        self.cfg
            .base_ejection
            .saturating_mul(factor)
            .min(self.cfg.max_ejection)
    }

    pub fn is_ejected(&self, id: &str) -> bool {
        let now = self.now();
        self.get(id).is_some_and(|h| h.is_ejected_at(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn ejection_backs_off_exponentially() {
        let clock = Arc::new(ManualClock::new());
        let cfg = HealthConfig {
            eject_after_failures: 3,
            base_ejection: Duration::from_secs(10),
            max_ejection: Duration::from_secs(35),
            ..Default::default()
        };
        let t = HealthTracker::new(cfg, clock.clone());
        for _ in 0..2 {
            t.record_failure("p");
        }
        assert!(!t.is_ejected("p"));
        t.record_failure("p");
        assert!(t.is_ejected("p"));
        clock.advance(Duration::from_secs(11));
        assert!(!t.is_ejected("p"));
        // Still failing after coming back: out again, for twice as long.
        t.record_failure("p");
        assert!(t.is_ejected("p"));
        clock.advance(Duration::from_secs(19));
        assert!(t.is_ejected("p"));
        clock.advance(Duration::from_secs(2));
        assert!(!t.is_ejected("p"));
        t.record_failure("p");
        clock.advance(Duration::from_secs(34));
        assert!(
            t.is_ejected("p"),
            "third ejection is capped at 35s, not 40s"
        );
        clock.advance(Duration::from_secs(2));
        assert!(!t.is_ejected("p"));
        t.record_success("p", Duration::from_millis(5));
        assert_eq!(t.get("p").unwrap().consecutive_failures(), 0);
    }

    #[test]
    fn latency_is_seeded_then_averaged() {
        let t = HealthTracker::new(HealthConfig::default(), Arc::new(ManualClock::new()));
        let h = t.provider("p", 150.0);
        assert_eq!(h.latency_ms(), 150.0);
        t.record_success("p", Duration::from_millis(50));
        assert!((h.latency_ms() - 130.0).abs() < 1e-9);
        t.record_success("p", Duration::from_millis(100));
        assert!((h.latency_ms() - 124.0).abs() < 1e-9);
        let fresh = t.provider("q", 0.0);
        t.record_success("q", Duration::from_millis(40));
        assert!((fresh.latency_ms() - 40.0).abs() < 1e-9);
    }
}
