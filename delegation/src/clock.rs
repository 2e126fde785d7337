//! The time source of the caches' expiry (L2, L3): the system clock in production, a
//! manual one in tests, so a TTL is tested by advancing time rather than by sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Returns the current instant.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// `Instant::now`.
pub fn system() -> Clock {
    Arc::new(Instant::now)
}

/// A clock that moves only when told to.
#[derive(Clone)]
pub struct ManualClock {
    start: Instant,
    elapsed_ns: Arc<AtomicU64>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock {
            start: Instant::now(),
            elapsed_ns: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.elapsed_ns.fetch_add(ns, Ordering::SeqCst);
    }

    /// The clock to hand to a cache; it follows every later `advance`.
    pub fn clock(&self) -> Clock {
        let (start, elapsed) = (self.start, self.elapsed_ns.clone());
        Arc::new(move || start + Duration::from_nanos(elapsed.load(Ordering::SeqCst)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_time_moves_only_when_advanced() {
        let m = ManualClock::default();
        let c = m.clock();
        let t0 = c();
        assert_eq!(c(), t0);
        m.advance(Duration::from_secs(5));
        assert_eq!(c() - t0, Duration::from_secs(5));
    }
}
