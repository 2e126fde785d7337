//! Provider selection: which of a resolved function's providers to call.
//!
//! Eligibility comes first and is the same for every strategy: the caller's context must
//! allow the provider, the record's `trusted-providers` (when non-empty) must list it, and it
//! must not be ejected — unless more than `max_ejected_share` of the allowed providers are
//! ejected, in which case the most recently ejected ones are let back in (the earliest
//! ejections stay out), so ejection alone never leaves a function without providers.
//!
//! Then the strategy ranks the eligible ones. Ties break on record order, so selection is
//! deterministic for everything but `LoadBalance`, which is randomised by design
//! (power of two choices on in-flight requests).

use std::cell::Cell;

use crate::clock::Clock;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use crate::error::{MeshError, Result};
use crate::health::ProviderHealth;
use crate::record::ProviderRef;
use crate::resolve::{ProviderSlot, Resolution};
use crate::security::SecurityContext;

/// What a custom strategy sees of one eligible provider.
pub struct Candidate<'a> {
    pub provider: &'a ProviderRef,
    pub health: &'a ProviderHealth,
}

/// Picks one of `candidates` by index, or none. The runtime wraps RTFS functions in this
/// same closure type to offer RTFS-level strategies.
pub type CustomSelector =
    Arc<dyn Fn(&[Candidate<'_>], &SecurityContext) -> Option<usize> + Send + Sync>;

#[derive(Clone)]
pub enum SelectionStrategy {
    LowestCost,
    /// Lowest EWMA of observed latency, seeded from `avg-response-time-ms`.
    FastestResponse,
    /// Highest EWMA of observed success.
    HighestAvailability,
    /// Power of two choices on in-flight requests.
    LoadBalance,
    Custom(CustomSelector),
}

impl fmt::Debug for SelectionStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl SelectionStrategy {
    pub fn parse(s: &str) -> Result<SelectionStrategy> {
        match s {
            "lowest-cost" | "cost" | "cheapest" => Ok(SelectionStrategy::LowestCost),
            "fastest" | "fastest-response" | "latency" => Ok(SelectionStrategy::FastestResponse),
            "availability" | "highest-availability" => Ok(SelectionStrategy::HighestAvailability),
            "load-balance" | "p2c" => Ok(SelectionStrategy::LoadBalance),
            _ => Err(MeshError::Config(format!(
                "unknown strategy `{s}` (lowest-cost, fastest, availability, load-balance)"
            ))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            SelectionStrategy::LowestCost => "lowest-cost",
            SelectionStrategy::FastestResponse => "fastest",
            SelectionStrategy::HighestAvailability => "availability",
            SelectionStrategy::LoadBalance => "load-balance",
            SelectionStrategy::Custom(_) => "custom",
        }
    }

    pub fn custom(
        f: impl Fn(&[Candidate<'_>], &SecurityContext) -> Option<usize> + Send + Sync + 'static,
    ) -> SelectionStrategy {
        SelectionStrategy::Custom(Arc::new(f))
    }

    /// Ordering of two eligible providers, best first.
    fn compare(&self, a: &ProviderSlot, b: &ProviderSlot) -> Ordering {
        let (ha, hb) = (&a.health, &b.health);
        let cost = || {
            a.provider
                .cost_per_call
                .total_cmp(&b.provider.cost_per_call)
        };
        let lat = || ha.latency_ms().total_cmp(&hb.latency_ms());
        match self {
            SelectionStrategy::LowestCost => cost().then_with(lat),
            SelectionStrategy::FastestResponse => lat().then_with(cost),
            SelectionStrategy::HighestAvailability => hb
                .availability()
                .total_cmp(&ha.availability())
                .then_with(lat),
            SelectionStrategy::LoadBalance => ha.in_flight().cmp(&hb.in_flight()).then_with(lat),
            SelectionStrategy::Custom(_) => cost().then_with(lat),
        }
    }
}

/// The clock, read at most once per selection and only if some provider was ever ejected.
pub struct LazyNow<'a> {
    clock: &'a dyn Clock,
    nanos: Cell<Option<u64>>,
}

impl<'a> LazyNow<'a> {
    pub fn new(clock: &'a dyn Clock) -> LazyNow<'a> {
        LazyNow {
            clock,
            nanos: Cell::new(None),
        }
    }

    fn nanos(&self) -> u64 {
        match self.nanos.get() {
            Some(n) => n,
            None => {
                let n = self.clock.now().as_nanos() as u64;
                self.nanos.set(Some(n));
                n
            }
        }
    }
}

#[inline]
fn is_out(h: &ProviderHealth, now: &LazyNow<'_>) -> bool {
    let until = h.ejected_until_nanos();
    until != 0 && now.nanos() < until
}

/// Why a provider is not eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    NotAllowed,
    NotTrusted,
    Ejected,
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Exclusion::NotAllowed => "not allowed by the security context",
            Exclusion::NotTrusted => "not in the record's trusted-providers",
            Exclusion::Ejected => "ejected (failing)",
        })
    }
}

/// Eligibility of every provider of `res`, computed without allocating.
struct Eligibility {
    allowed: usize,
    ejected: usize,
    cap: usize,
}

fn allowed(slot: &ProviderSlot, ctx: &SecurityContext) -> Result<(), Exclusion> {
    if !slot.trusted {
        return Err(Exclusion::NotTrusted);
    }
    if !slot.is_allowed_by(ctx) {
        return Err(Exclusion::NotAllowed);
    }
    Ok(())
}

fn eligibility(
    res: &Resolution,
    ctx: &SecurityContext,
    now: &LazyNow<'_>,
    share: f64,
) -> Eligibility {
    let (mut allowed_n, mut ejected) = (0, 0);
    for slot in &res.providers {
        if allowed(slot, ctx).is_ok() {
            allowed_n += 1;
            if is_out(&slot.health, now) {
                ejected += 1;
            }
        }
    }
    let cap = ((allowed_n as f64) * share.clamp(0.0, 1.0)).floor() as usize;
    Eligibility {
        allowed: allowed_n,
        ejected,
        cap,
    }
}

fn status(
    res: &Resolution,
    i: usize,
    ctx: &SecurityContext,
    now: &LazyNow<'_>,
    el: &Eligibility,
) -> Result<(), Exclusion> {
    let slot = &res.providers[i];
    allowed(slot, ctx)?;
    if !is_out(&slot.health, now) {
        return Ok(());
    }
    if el.ejected <= el.cap {
        return Err(Exclusion::Ejected);
    }
    // Over the cap: only the `cap` earliest ejections stay out.
    let key = (slot.health.ejected_since(), i);
    let earlier = res
        .providers
        .iter()
        .enumerate()
        .filter(|(j, s)| {
            allowed(s, ctx).is_ok()
                && is_out(&s.health, now)
                && (s.health.ejected_since(), *j) < key
        })
        .count();
    if earlier < el.cap {
        Err(Exclusion::Ejected)
    } else {
        Ok(())
    }
}

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        let x = std::ptr::from_ref(&RNG_SEED) as u64;
        (x ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64))
            | 1
    });
}
static RNG_SEED: u8 = 0;

fn next_random() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        x
    })
}

fn nth_eligible(
    res: &Resolution,
    ctx: &SecurityContext,
    now: &LazyNow<'_>,
    el: &Eligibility,
    n: usize,
) -> Option<usize> {
    (0..res.providers.len())
        .filter(|&i| status(res, i, ctx, now, el).is_ok())
        .nth(n)
}

/// Picks the provider to call; the index is into `res.providers`.
pub fn select(
    res: &Resolution,
    ctx: &SecurityContext,
    strategy: &SelectionStrategy,
    now: &LazyNow<'_>,
    max_ejected_share: f64,
) -> Result<usize> {
    let el = eligibility(res, ctx, now, max_ejected_share);
    let usable = el.allowed - el.ejected.min(el.cap);
    let chosen = match strategy {
        SelectionStrategy::LoadBalance if usable >= 2 => {
            let a = (next_random() % usable as u64) as usize;
            let mut b = (next_random() % (usable as u64 - 1)) as usize;
            if b >= a {
                b += 1;
            }
            let ia = nth_eligible(res, ctx, now, &el, a);
            let ib = nth_eligible(res, ctx, now, &el, b);
            match (ia, ib) {
                (Some(ia), Some(ib)) => {
                    match strategy.compare(&res.providers[ia], &res.providers[ib]) {
                        Ordering::Greater => Some(ib),
                        _ => Some(ia),
                    }
                }
                (x, y) => x.or(y),
            }
        }
        SelectionStrategy::Custom(f) => {
            let idx: Vec<usize> = (0..res.providers.len())
                .filter(|&i| status(res, i, ctx, now, &el).is_ok())
                .collect();
            let cands: Vec<Candidate<'_>> = idx
                .iter()
                .map(|&i| Candidate {
                    provider: &res.providers[i].provider,
                    health: &res.providers[i].health,
                })
                .collect();
            if cands.is_empty() {
                None
            } else {
                match f(&cands, ctx) {
                    Some(k) if k < idx.len() => Some(idx[k]),
                    Some(k) => {
                        return Err(MeshError::Config(format!(
                            "custom strategy returned index {k} of {} candidates",
                            idx.len()
                        )));
                    }
                    None => None,
                }
            }
        }
        _ => {
            let mut best: Option<usize> = None;
            for i in 0..res.providers.len() {
                if status(res, i, ctx, now, &el).is_err() {
                    continue;
                }
                best = match best {
                    Some(b)
                        if strategy.compare(&res.providers[i], &res.providers[b])
                            != Ordering::Less =>
                    {
                        Some(b)
                    }
                    _ => Some(i),
                };
            }
            best
        }
    };
    chosen.ok_or_else(|| no_provider(res, ctx, now, &el))
}

fn no_provider(
    res: &Resolution,
    ctx: &SecurityContext,
    now: &LazyNow<'_>,
    el: &Eligibility,
) -> MeshError {
    let reason = if res.providers.is_empty() {
        "the record lists no providers for this version".to_string()
    } else if el.allowed == 0 {
        let untrusted = res.providers.iter().all(|s| !s.trusted);
        if untrusted {
            "none of its providers is in the record's trusted-providers".to_string()
        } else {
            format!(
                "no provider is allowed by the security context (level {})",
                ctx.security_level.as_str()
            )
        }
    } else if status_all_ejected(res, ctx, now, el) {
        "every allowed provider is ejected after repeated failures".to_string()
    } else {
        "the custom strategy chose none".to_string()
    };
    MeshError::NoProvider {
        name: res.name.to_string(),
        reason,
    }
}

fn status_all_ejected(
    res: &Resolution,
    ctx: &SecurityContext,
    now: &LazyNow<'_>,
    el: &Eligibility,
) -> bool {
    (0..res.providers.len()).all(|i| status(res, i, ctx, now, el).is_err())
}

/// One provider in a full ranking.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub index: usize,
    /// `None` when eligible; otherwise why not.
    pub excluded: Option<Exclusion>,
}

/// Every provider, eligible ones first in strategy order, then the excluded ones.
pub fn rank(
    res: &Resolution,
    ctx: &SecurityContext,
    strategy: &SelectionStrategy,
    now: &LazyNow<'_>,
    max_ejected_share: f64,
) -> Vec<Ranked> {
    let el = eligibility(res, ctx, now, max_ejected_share);
    let mut ok: Vec<usize> = Vec::new();
    let mut out: Vec<Ranked> = Vec::new();
    for i in 0..res.providers.len() {
        match status(res, i, ctx, now, &el) {
            Ok(()) => ok.push(i),
            Err(e) => out.push(Ranked {
                index: i,
                excluded: Some(e),
            }),
        }
    }
    ok.sort_by(|&a, &b| {
        strategy
            .compare(&res.providers[a], &res.providers[b])
            .then(a.cmp(&b))
    });
    // A custom or randomised pick goes first; the rest keep the comparator's order.
    if matches!(
        strategy,
        SelectionStrategy::Custom(_) | SelectionStrategy::LoadBalance
    ) && let Ok(first) = select(res, ctx, strategy, now, max_ejected_share)
        && let Some(pos) = ok.iter().position(|&i| i == first)
    {
        let i = ok.remove(pos);
        ok.insert(0, i);
    }
    let mut ranked: Vec<Ranked> = ok
        .into_iter()
        .map(|index| Ranked {
            index,
            excluded: None,
        })
        .collect();
    ranked.extend(out);
    ranked
}
