//! Per-call and per-run cost budgets. Amounts are kept in micro-units in an atomic so that
//! concurrent calls (`parallel`) spend without a lock and never overspend.

use std::sync::atomic::{AtomicU64, Ordering};

const MICRO: f64 = 1_000_000.0;

fn to_micro(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        (x * MICRO).round().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

#[derive(Debug)]
pub struct Budget {
    per_call: Option<u64>,
    per_run: Option<u64>,
    spent: AtomicU64,
    /// Bumped when the limits or the spent amount are reset (not on each spend): the
    /// decision cache keys its validity on it.
    generation: AtomicU64,
}

impl Budget {
    pub fn new(per_call: Option<f64>, per_run: Option<f64>) -> Budget {
        Budget {
            per_call: per_call.map(to_micro),
            per_run: per_run.map(to_micro),
            spent: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    pub fn unlimited() -> Budget {
        Budget::new(None, None)
    }

    /// What is left of the run budget (`f64::INFINITY` when unlimited).
    pub fn remaining(&self) -> f64 {
        match self.per_run {
            None => f64::INFINITY,
            Some(limit) => limit.saturating_sub(self.spent.load(Ordering::Acquire)) as f64 / MICRO,
        }
    }

    pub fn spent(&self) -> f64 {
        self.spent.load(Ordering::Acquire) as f64 / MICRO
    }

    /// Why a call of this cost may not be made now, or `None` if it may.
    pub fn refusal(&self, cost: f64) -> Option<String> {
        let c = to_micro(cost);
        if let Some(pc) = self.per_call
            && c > pc
        {
            return Some(format!(
                "cost {cost} exceeds the per-call budget {}",
                pc as f64 / MICRO
            ));
        }
        if let Some(limit) = self.per_run {
            let spent = self.spent.load(Ordering::Acquire);
            if spent.saturating_add(c) > limit {
                return Some(format!(
                    "cost {cost} exceeds the remaining run budget {}",
                    limit.saturating_sub(spent) as f64 / MICRO
                ));
            }
        }
        None
    }

    /// Reserves `cost` atomically; on refusal nothing is spent.
    pub fn try_spend(&self, cost: f64) -> Result<(), String> {
        let c = to_micro(cost);
        if let Some(r) = self
            .per_call
            .filter(|&pc| c > pc)
            .map(|_| self.refusal(cost))
        {
            return Err(r.unwrap_or_default());
        }
        let limit = self.per_run.unwrap_or(u64::MAX);
        self.spent
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                s.checked_add(c).filter(|&n| n <= limit)
            })
            .map(|_| ())
            .map_err(|spent| {
                format!(
                    "cost {cost} exceeds the remaining run budget {}",
                    limit.saturating_sub(spent) as f64 / MICRO
                )
            })
    }

    /// Gives back a reservation whose call was not made or failed before being billed.
    pub fn refund(&self, cost: f64) {
        let c = to_micro(cost);
        let _ = self
            .spent
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some(s.saturating_sub(c))
            });
    }

    /// Starts a new run: spent goes back to zero.
    pub fn reset(&self) {
        self.spent.store(0, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_call_and_per_run_limits() {
        let b = Budget::new(Some(0.5), Some(1.0));
        assert!(b.try_spend(0.6).is_err());
        assert!(b.try_spend(0.4).is_ok());
        assert!(b.try_spend(0.4).is_ok());
        let e = b.try_spend(0.4).unwrap_err();
        assert!(e.contains("remaining run budget"), "{e}");
        assert!((b.spent() - 0.8).abs() < 1e-9);
        b.refund(0.4);
        assert!((b.remaining() - 0.6).abs() < 1e-9);
        let g = b.generation();
        b.reset();
        assert_eq!(b.spent(), 0.0);
        assert_eq!(b.generation(), g + 1);
    }
}
