//! Monotonic time as a `Duration` since an arbitrary epoch, injectable so that TTL and
//! back-off tests are deterministic instead of sleeping.
//!
//! The system clock is the kernel's *coarse* monotonic clock on Linux (a few ns to read,
//! millisecond resolution): it is read on every cached resolve, and TTLs and ejection
//! back-offs are seconds long. Call latencies are measured with `Instant` instead.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
#[cfg(not(target_os = "linux"))]
use std::time::Instant;

pub trait Clock: Send + Sync {
    fn now(&self) -> Duration;
}

pub struct SystemClock {
    epoch: Duration,
}

#[cfg(target_os = "linux")]
#[inline]
fn monotonic() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every
    // Linux the toolchain supports, and on failure `ts` simply stays zero.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts);
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

#[cfg(not(target_os = "linux"))]
fn monotonic() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock { epoch: monotonic() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Duration {
        monotonic().saturating_sub(self.epoch)
    }
}

/// A clock that moves only when told to.
#[derive(Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }
    pub fn advance(&self, d: Duration) {
        self.nanos
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}
