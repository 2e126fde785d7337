//! The engines. Each one applies the hard filters first, then ranks what is left; a
//! [`Decision`] lists the allowed candidates best first, so the runtime can fall back in
//! order.

use std::sync::Arc;

use rtfs_ir::ExecTarget;

use crate::budget::Budget;
use crate::context::{CallContext, Candidate};
use crate::filters;
use crate::policy::Policy;

/// The outcome of one decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Allowed candidates, best first; empty when nothing may take the call.
    pub ranked: Vec<Candidate>,
    /// The engine that produced the ranking (`PrivacyFirstEngine`, …).
    pub engine: &'static str,
    /// Candidates refused by a hard filter, with the reason.
    pub refused: Vec<(String, String)>,
    /// Why the ranking is empty or how it was obtained (e.g. the matching route).
    pub note: String,
}

impl Decision {
    /// The chosen target (the first ranked candidate's), if any.
    pub fn target(&self) -> Option<&ExecTarget> {
        self.ranked.first().map(|c| &c.target)
    }

    /// The highest cost among ranked candidates: the decision stays valid while at least
    /// this much run budget remains.
    pub fn max_cost(&self) -> f64 {
        self.ranked.iter().map(|c| c.cost).fold(0.0, f64::max)
    }
}

/// A pluggable routing policy (Delegation Engine document, §3.3).
pub trait DelegationEngine: Send + Sync {
    fn name(&self) -> &'static str;
    fn decide(&self, ctx: &CallContext<'_>) -> Decision;
}

fn filtered(
    ctx: &CallContext<'_>,
    policy: &Policy,
    budget: &Budget,
    engine: &'static str,
) -> Decision {
    let (ranked, refused) = filters::apply(ctx, budget, policy.is_sensitive(ctx.subject()));
    Decision {
        ranked,
        engine,
        refused,
        note: String::new(),
    }
}

fn sort_by(v: &mut [Candidate], key: impl Fn(&Candidate) -> f64) {
    // Stable: ties keep the natural order (record order, policy order).
    v.sort_by(|a, b| key(a).total_cmp(&key(b)));
}

/// Keeps data on the device: prefers the local runtime, then local models, then the rest.
pub struct PrivacyFirstEngine {
    pub policy: Arc<Policy>,
    pub budget: Arc<Budget>,
}

impl DelegationEngine for PrivacyFirstEngine {
    fn name(&self) -> &'static str {
        "PrivacyFirstEngine"
    }
    fn decide(&self, ctx: &CallContext<'_>) -> Decision {
        let mut d = filtered(ctx, &self.policy, &self.budget, self.name());
        sort_by(&mut d.ranked, |c| match (&c.target, c.on_device) {
            (ExecTarget::LocalPure, true) => 0.0,
            (ExecTarget::LocalModel(_), true) => 1.0,
            (_, true) => 2.0,
            (_, false) => 3.0,
        });
        d
    }
}

/// Cheapest first; candidates above the policy's per-call limit are already filtered out.
pub struct CostOptimizedEngine {
    pub policy: Arc<Policy>,
    pub budget: Arc<Budget>,
}

impl DelegationEngine for CostOptimizedEngine {
    fn name(&self) -> &'static str {
        "CostOptimizedEngine"
    }
    fn decide(&self, ctx: &CallContext<'_>) -> Decision {
        let mut d = filtered(ctx, &self.policy, &self.budget, self.name());
        sort_by(&mut d.ranked, |c| c.cost);
        d
    }
}

/// Lowest observed latency first.
pub struct PerformanceEngine {
    pub policy: Arc<Policy>,
    pub budget: Arc<Budget>,
}

impl DelegationEngine for PerformanceEngine {
    fn name(&self) -> &'static str {
        "PerformanceEngine"
    }
    fn decide(&self, ctx: &CallContext<'_>) -> Decision {
        let mut d = filtered(ctx, &self.policy, &self.budget, self.name());
        sort_by(&mut d.ranked, |c| c.latency_ms);
        d
    }
}

/// The policy's routing table: the first route whose pattern and conditions match names the
/// candidates, in order. No matching route → an empty decision, so a composition moves on.
pub struct StaticEngine {
    pub policy: Arc<Policy>,
    pub budget: Arc<Budget>,
}

impl DelegationEngine for StaticEngine {
    fn name(&self) -> &'static str {
        "StaticEngine"
    }
    fn decide(&self, ctx: &CallContext<'_>) -> Decision {
        let mut d = filtered(ctx, &self.policy, &self.budget, self.name());
        let Some((i, route)) = self.policy.route_for(ctx) else {
            d.ranked.clear();
            d.note = format!("no route matches `{}`", ctx.subject());
            return d;
        };
        if route.target == crate::policy::RouteTarget::Engine {
            d.ranked.clear();
            d.note = format!("route[{i}] \"{}\" defers to the next engine", route.pattern);
            return d;
        }
        let kind = if ctx.capability_id.is_some() {
            rtfs_ir::CallKind::Capability
        } else {
            rtfs_ir::CallKind::Function
        };
        let order = route.candidate_ids(kind);
        let mut picked = Vec::with_capacity(order.len());
        for id in &order {
            if let Some(c) = d.ranked.iter().find(|c| &c.id == id) {
                picked.push(c.clone());
            }
        }
        if order.is_empty() {
            picked = d.ranked.clone();
        }
        d.ranked = picked;
        d.note = format!("route[{i}] \"{}\"", route.pattern);
        d
    }
}

/// Ordered engines: the first one that yields a candidate decides.
pub struct CompositeEngine {
    pub engines: Vec<Box<dyn DelegationEngine>>,
}

impl DelegationEngine for CompositeEngine {
    fn name(&self) -> &'static str {
        "CompositeEngine"
    }
    fn decide(&self, ctx: &CallContext<'_>) -> Decision {
        let mut last = Decision {
            ranked: Vec::new(),
            engine: self.name(),
            refused: Vec::new(),
            note: "no engine configured".into(),
        };
        for e in &self.engines {
            let d = e.decide(ctx);
            if !d.ranked.is_empty() {
                return d;
            }
            last = d;
        }
        last
    }
}

impl CompositeEngine {
    /// The engines a policy lists, in its order, sharing the policy and the budget.
    pub fn from_policy(policy: Arc<Policy>, budget: Arc<Budget>) -> CompositeEngine {
        use crate::policy::EngineKind;
        let engines = policy
            .engines
            .iter()
            .map(|k| -> Box<dyn DelegationEngine> {
                let (policy, budget) = (policy.clone(), budget.clone());
                match k {
                    EngineKind::Static => Box::new(StaticEngine { policy, budget }),
                    EngineKind::PrivacyFirst => Box::new(PrivacyFirstEngine { policy, budget }),
                    EngineKind::CostOptimized => Box::new(CostOptimizedEngine { policy, budget }),
                    EngineKind::Performance => Box::new(PerformanceEngine { policy, budget }),
                }
            })
            .collect();
        CompositeEngine { engines }
    }
}
