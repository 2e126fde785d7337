//! Hard filters: applied to every candidate before any engine ranks them. A candidate that
//! fails one is never chosen, by any engine or any fallback.

use crate::budget::Budget;
use crate::context::{CallContext, Candidate};

/// Splits candidates into those allowed and those refused (with the reason).
pub fn apply(
    ctx: &CallContext<'_>,
    budget: &Budget,
    sensitive_by_policy: bool,
) -> (Vec<Candidate>, Vec<(String, String)>) {
    let sensitive = ctx.arguments_sensitive || sensitive_by_policy;
    let mut kept = Vec::with_capacity(ctx.candidate_providers.len());
    let mut refused = Vec::new();
    for c in ctx.candidate_providers {
        match refusal(ctx, budget, sensitive, c) {
            None => kept.push(c.clone()),
            Some(r) => refused.push((c.id.clone(), r)),
        }
    }
    (kept, refused)
}

/// Why `c` may not take this call, if it may not. Also used by the runtime before each
/// fallback hop.
pub fn refusal(
    ctx: &CallContext<'_>,
    budget: &Budget,
    sensitive: bool,
    c: &Candidate,
) -> Option<String> {
    if sensitive && !c.on_device {
        return Some("privacy: a sensitive argument may not leave the device".into());
    }
    if c.is_provider && !ctx.security.is_provider_allowed(&c.id) {
        return Some("security context does not allow this provider".into());
    }
    budget.refusal(c.cost).map(|r| format!("budget: {r}"))
}
