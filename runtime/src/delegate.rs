//! The run-time half of delegation: calls the compiler could not fix to `LocalPure`, and
//! capability calls. Asks the Delegation Engine (through the L1 cache), then walks the
//! ranked candidates in order, re-checking the hard filters (privacy, security, budget)
//! before every hop, so no fallback path can send sensitive data off the device or spend
//! beyond the budget. Every failure is a catchable RTFS error naming the function or
//! capability and the reason of each attempt.

use std::sync::Arc;
use std::time::Instant;

use rtfs_delegation::{
    Budget, CallContext, Candidate, CompositeEngine, DecisionCache, DelegationEngine,
    DeviceContext, Policy, UserContext, filters,
};
use rtfs_ir::error::kind;
use rtfs_ir::expr::CallTarget;
use rtfs_ir::{Env, ExecTarget, RtError, RtResult, Value};
use rtfs_mesh::{GlobalFunctionMesh, SecurityContext};

use crate::interp::Interp;
use crate::providers::Io;

/// What one delegated or capability call did, for the causal chain.
struct Trace {
    started: Instant,
    start_us: u64,
    considered: Vec<String>,
    engine: String,
    chosen: ExecTarget,
    is_override: bool,
    /// Record the output's hash only, never its text.
    redact_output: bool,
}

impl Trace {
    fn new() -> Trace {
        Trace {
            started: Instant::now(),
            start_us: rtfs_chain::now_unix_us(),
            considered: Vec::new(),
            engine: "none".into(),
            chosen: ExecTarget::LocalPure,
            is_override: false,
            redact_output: false,
        }
    }

    fn record(
        self,
        sink: &dyn rtfs_chain::ChainSink,
        kind: rtfs_chain::ActionType,
        args: &[Value],
        result: &RtResult<Value>,
    ) {
        let chosen = match self.chosen {
            ExecTarget::LocalPure => rtfs_chain::ExecTarget::LocalPure,
            ExecTarget::LocalModel(id) => rtfs_chain::ExecTarget::LocalModel { id },
            ExecTarget::RemoteModel(id) => rtfs_chain::ExecTarget::RemoteModel { id },
            ExecTarget::CacheHit {
                cache_level,
                storage_pointer,
            } => rtfs_chain::ExecTarget::CacheHit {
                cache_level,
                storage_pointer,
            },
        };
        let info = rtfs_chain::DelegationInfo {
            providers_considered: self.considered,
            decision_engine: self.engine,
            chosen_target: chosen,
            is_override: self.is_override,
        };
        let raw = sink.keeps_raw();
        let level = match &info.chosen_target {
            rtfs_chain::ExecTarget::CacheHit { cache_level, .. } => Some(*cache_level),
            _ => None,
        };
        let mut a = rtfs_chain::Action::new(kind, info)
            .with_inputs(
                &rtfs_delegation::l2::canonical_bytes(args),
                raw.then(|| Value::vector(args.iter().cloned()).pr_str()),
            )
            .with_timing(
                self.start_us,
                u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            );
        if let Some(l) = level {
            a = a.with_cache_level(l);
        }
        a = match result {
            Ok(v) => a.with_output(
                &rtfs_delegation::l2::canonical_bytes(std::slice::from_ref(v)),
                (raw && !self.redact_output).then(|| v.pr_str()),
            ),
            Err(e) => a.with_error(e.kind(), e.message()),
        };
        sink.record(a);
    }
}

/// Error kind of delegation failures (no target left, model missing, privacy refusal).
pub const DELEGATION: &str = "delegation-error";

/// Runs a function on a model: `(target, function symbol, arguments) → value`. The
/// integration point for on-device and remote model providers.
pub type ModelInvoker =
    Arc<dyn Fn(&ExecTarget, &str, &[Value]) -> Result<Value, String> + Send + Sync>;

/// Policy, engine, budget and decision cache of one runtime.
pub struct Delegation {
    pub policy: Arc<Policy>,
    pub engine: Box<dyn DelegationEngine>,
    pub budget: Arc<Budget>,
    pub l1: DecisionCache,
    pub user: UserContext,
    pub device: DeviceContext,
    fn_candidates: Vec<Candidate>,
    /// L1 digest of `fn_candidates`, which only change with the policy.
    fn_digest: u64,
}

impl Delegation {
    pub fn new(policy: Arc<Policy>, user: UserContext, device: DeviceContext) -> Delegation {
        let budget = Arc::new(Budget::new(policy.per_call, policy.per_run));
        let mut l1 = DecisionCache::new(4096);
        if !policy
            .engines
            .contains(&rtfs_delegation::policy::EngineKind::Performance)
        {
            l1 = l1.without_latency_in_key();
        }
        let fn_candidates = policy.function_candidates();
        Delegation {
            engine: Box::new(CompositeEngine::from_policy(policy.clone(), budget.clone())),
            fn_digest: l1.candidates_digest(&fn_candidates),
            fn_candidates,
            policy,
            budget,
            l1,
            user,
            device,
        }
    }
}

/// The parts of the state a delegated call needs, cloned out so the interpreter stays free.
#[derive(Clone)]
pub struct Wiring {
    pub delegation: Option<Arc<Delegation>>,
    pub mesh: Option<Arc<GlobalFunctionMesh>>,
    pub io: Option<Arc<Io>>,
    pub models: Option<ModelInvoker>,
    /// Model providers with the L2/L3 caches; asked before `models`.
    pub registry: Option<Arc<crate::models::ModelRegistry>>,
    pub security: Arc<SecurityContext>,
    /// Every delegated call and capability call is recorded here.
    pub chain: Option<Arc<dyn rtfs_chain::ChainSink>>,
    /// Set inside a branch of `parallel`: the branch stops when a sibling fails.
    pub cancel: Option<Arc<crate::cancel::CancelToken>>,
}

impl Default for Wiring {
    fn default() -> Self {
        Wiring {
            delegation: None,
            mesh: None,
            io: None,
            models: None,
            registry: None,
            security: Arc::new(SecurityContext::full()),
            chain: None,
            cancel: None,
        }
    }
}

fn fail(kind_: &str, msg: String) -> RtError {
    RtError::new(kind_, msg)
}

fn fn_name(callee: &Value) -> String {
    match callee {
        Value::Fn(c) => c.lambda.display_name().to_string(),
        Value::Builtin(b) => b.name.to_string(),
        other => other.type_name().to_string(),
    }
}

/// A hint carried by the closure itself, for calls the compiler could not resolve.
fn closure_hint(callee: &Value) -> Option<ExecTarget> {
    match callee {
        Value::Fn(c) if !c.lambda.meta.is_nil() => {
            rtfs_compiler::delegation::parse_hint(&c.lambda.meta)
                .ok()
                .flatten()
        }
        _ => None,
    }
}

/// `^{:cache :semantic}` on the callee opts its model calls into the L3 cache.
fn closure_semantic(callee: &Value) -> bool {
    matches!(callee, Value::Fn(c) if c.lambda.meta.as_map()
        .and_then(|m| m.get(&Value::keyword("cache")))
        .and_then(Value::as_keyword)
        == Some("semantic"))
}

/// The closure is marked sensitive, or the arity `nargs` arguments reach takes a parameter
/// marked sensitive (so whatever is passed in that position is sensitive by declaration).
fn closure_sensitive(callee: &Value, nargs: usize) -> bool {
    matches!(callee, Value::Fn(c) if rtfs_compiler::delegation::is_sensitive(&c.lambda.meta)
        || c.lambda.arity_for(nargs).is_some_and(|a| !a.sensitive_params.is_empty()))
}

impl Interp<'_> {
    /// Inside a `parallel` branch whose sibling failed: stop here.
    pub(crate) fn check_cancelled(&self) -> RtResult<()> {
        match &self.st.wiring.cancel {
            Some(c) if c.is_cancelled() => Err(crate::cancel::CancelToken::error()),
            _ => Ok(()),
        }
    }

    /// Runs `callee` here with everything it calls treated as sensitive.
    fn apply_sensitive(&mut self, callee: &Value, args: &[Value]) -> RtResult<Value> {
        self.sensitive_scope += 1;
        let r = self.apply(callee, args);
        self.sensitive_scope -= 1;
        r
    }

    /// Whether a call at `site` to `callee` would simply run here, with no decision
    /// recorded, no budget spent and no provider invoked (the first branches of
    /// `delegated_inner`): such a call may happen inside a callback from compiled code.
    pub(crate) fn runs_locally(
        &self,
        site: &CallTarget,
        sensitive_site: bool,
        callee: &Value,
        nargs: usize,
    ) -> bool {
        let fixed = match site {
            CallTarget::Fixed { target, .. } => Some(target.clone()),
            CallTarget::Runtime { .. } => closure_hint(callee),
        };
        if let Some(t) = fixed {
            return matches!(t, ExecTarget::LocalPure);
        }
        let Some(d) = &self.st.wiring.delegation else {
            return true;
        };
        let name = fn_name(callee);
        let sensitive =
            sensitive_site || closure_sensitive(callee, nargs) || self.sensitive_scope > 0;
        d.policy.functions_local
            && !sensitive
            && !d.policy.routes_name(&name)
            && !d.policy.is_sensitive(&name)
    }

    #[allow(clippy::too_many_arguments)]
    fn invoke_model(
        &mut self,
        w: &Wiring,
        trace: &mut Trace,
        target: &ExecTarget,
        callee: &Value,
        name: &str,
        args: &[Value],
        sensitive: bool,
    ) -> Result<Value, String> {
        let id = match target {
            ExecTarget::LocalModel(id) | ExecTarget::RemoteModel(id) => id.as_str(),
            _ => "",
        };
        if let Some(reg) = w.registry.as_ref().filter(|r| r.has(id)) {
            let tenant = w
                .delegation
                .as_ref()
                .and_then(|d| d.user.tenant.as_deref())
                .unwrap_or("");
            let answer = reg.invoke(&crate::models::ModelCall {
                target,
                function: name,
                args,
                tenant,
                sensitive,
                semantic: closure_semantic(callee),
            })?;
            if let Some(hit) = answer.cache_hit {
                trace.chosen = hit;
            }
            return Ok(answer.value);
        }
        match &w.models {
            Some(m) => m(target, name, args),
            None => Err(format!("no model provider is registered for {target}")),
        }
    }

    /// A function call whose site is not statically `LocalPure`.
    #[cold]
    #[inline(never)]
    pub(crate) fn call_delegated(
        &mut self,
        site: &CallTarget,
        sensitive_site: bool,
        callee: &Value,
        args: &[Value],
    ) -> RtResult<Value> {
        // A sensitive call the compiler kept here: no engine, but what it calls is sensitive.
        if site.is_local_pure() {
            return self.apply_sensitive(callee, args);
        }
        self.check_cancelled()?;
        let w = self.st.wiring.clone();
        let mut trace = Trace::new();
        let r = self.delegated_inner(&w, &mut trace, site, sensitive_site, callee, args);
        // Calls that simply ran here, undelegated, are not delegation events.
        if let Some(sink) = &w.chain
            && trace.engine != "none"
        {
            trace.record(
                &**sink,
                rtfs_chain::ActionType::function(fn_name(callee)),
                args,
                &r,
            );
        }
        r
    }

    fn delegated_inner(
        &mut self,
        w: &Wiring,
        trace: &mut Trace,
        site: &CallTarget,
        sensitive_site: bool,
        callee: &Value,
        args: &[Value],
    ) -> RtResult<Value> {
        let name = fn_name(callee);
        let sensitive =
            sensitive_site || closure_sensitive(callee, args.len()) || self.sensitive_scope > 0;
        let fixed = match site {
            CallTarget::Fixed { target, .. } => Some(target.clone()),
            CallTarget::Runtime { .. } => closure_hint(callee),
        };
        if let Some(t) = fixed {
            let by_hint = matches!(
                site,
                CallTarget::Fixed {
                    reason: rtfs_ir::TargetReason::Hint,
                    ..
                } | CallTarget::Runtime { .. }
            );
            if !matches!(t, ExecTarget::LocalPure) {
                trace.engine = if by_hint { "hint" } else { "static-policy" }.into();
                trace.is_override = by_hint;
                trace.chosen = t.clone();
                trace.considered = vec![t.to_string()];
            }
            return match t {
                ExecTarget::LocalPure | ExecTarget::CacheHit { .. } if sensitive => {
                    self.apply_sensitive(callee, args)
                }
                ExecTarget::LocalPure | ExecTarget::CacheHit { .. } => self.apply(callee, args),
                t if sensitive && !t.is_on_device() => Err(fail(
                    DELEGATION,
                    format!(
                        "`{name}` carries a sensitive argument and may not run on {t}: sensitive data stays on the device"
                    ),
                )),
                t => self
                    .invoke_model(w, trace, &t, callee, &name, args, sensitive)
                    .map_err(|e| {
                        fail(
                            DELEGATION,
                            format!("delegated call `{name}` to {t} failed: {e}"),
                        )
                    }),
            };
        }
        let Some(d) = w.delegation.clone() else {
            return if sensitive {
                self.apply_sensitive(callee, args)
            } else {
                self.apply(callee, args)
            };
        };
        // What the pass would have fixed to local had it known the callee.
        if d.policy.functions_local
            && !sensitive
            && !d.policy.routes_name(&name)
            && !d.policy.is_sensitive(&name)
        {
            return self.apply(callee, args);
        }
        let ctx = CallContext {
            function_symbol: &name,
            capability_id: None,
            candidate_providers: &d.fn_candidates,
            user_context: &d.user,
            device_context: &d.device,
            arguments_sensitive: sensitive,
            security: &w.security,
        };
        let (decision, _hit) = d.l1.decide_with(&*d.engine, &ctx, d.fn_digest, &d.budget);
        trace.engine = decision.engine.to_string();
        trace.considered = d.fn_candidates.iter().map(|c| c.id.clone()).collect();
        if let Some(t) = decision.target() {
            trace.chosen = t.clone();
        }
        let sensitive = sensitive || d.policy.is_sensitive(&name);
        let mut attempts: Vec<String> = decision
            .refused
            .iter()
            .map(|(id, r)| format!("{id}: {r}"))
            .collect();
        for cand in &decision.ranked {
            if let Some(r) = filters::refusal(&ctx, &d.budget, sensitive, cand) {
                attempts.push(format!("{}: {r}", cand.id));
                continue;
            }
            if let Err(r) = d.budget.try_spend(cand.cost) {
                attempts.push(format!("{}: budget: {r}", cand.id));
                continue;
            }
            trace.chosen = cand.target.clone();
            match &cand.target {
                // A local run's own errors are the program's, not a provider failure.
                ExecTarget::LocalPure | ExecTarget::CacheHit { .. } if sensitive => {
                    return self.apply_sensitive(callee, args);
                }
                ExecTarget::LocalPure | ExecTarget::CacheHit { .. } => {
                    return self.apply(callee, args);
                }
                t => match self.invoke_model(w, trace, t, callee, &name, args, sensitive) {
                    Ok(v) => {
                        // A cache answered: the model was not paid for.
                        if matches!(trace.chosen, ExecTarget::CacheHit { .. }) {
                            d.budget.refund(cand.cost);
                        }
                        return Ok(v);
                    }
                    Err(e) => {
                        d.budget.refund(cand.cost);
                        attempts.push(format!("{}: {e}", cand.id));
                    }
                },
            }
        }
        Err(fail(
            DELEGATION,
            format!(
                "no target could run `{name}`{} ({}): {}",
                if sensitive {
                    " with a sensitive argument"
                } else {
                    ""
                },
                decision.engine,
                if attempts.is_empty() {
                    decision.note.clone()
                } else {
                    attempts.join("; ")
                }
            ),
        ))
    }

    /// `(call :id args…)`: security context, candidates (host registry, then the mesh),
    /// engine ranking, invocation with failover. `site` and `sensitive` are the call
    /// site's annotations from the delegation pass.
    #[inline(never)]
    pub(crate) fn capability_call(
        &mut self,
        site: &CallTarget,
        sensitive: bool,
        id: &str,
        args: &[Value],
    ) -> RtResult<Value> {
        self.check_cancelled()?;
        let w = self.st.wiring.clone();
        let Some(sink) = w.chain.clone() else {
            return self.capability_inner(&w, None, site, sensitive, id, args);
        };
        let mut trace = Trace::new();
        let r = self.capability_inner(&w, Some(&mut trace), site, sensitive, id, args);
        // An environment variable may hold a secret: only its hash goes to the chain.
        trace.redact_output = id == crate::effects::ENV_GET;
        trace.record(&*sink, rtfs_chain::ActionType::capability(id), args, &r);
        r
    }

    fn capability_inner(
        &mut self,
        w: &Wiring,
        mut trace: Option<&mut Trace>,
        site: &CallTarget,
        site_sensitive: bool,
        id: &str,
        args: &[Value],
    ) -> RtResult<Value> {
        if !w.security.is_global_function_allowed(id) {
            return Err(fail(
                kind::CAPABILITY,
                format!(
                    "capability `:{id}` refused: the {} security context does not allow it",
                    w.security.security_level.as_str()
                ),
            ));
        }
        let host = self.st.capabilities.get(id).cloned();
        if let Some(t) = trace.as_deref_mut() {
            t.considered.push("host".into());
        }
        if w.delegation.is_none() && w.mesh.is_none() {
            return match host {
                Some(cap) => cap(self, args),
                None => Err(fail(
                    kind::UNKNOWN_CAPABILITY,
                    format!("unknown capability: :{id}"),
                )),
            };
        }
        let mut cands: Vec<Candidate> = Vec::new();
        let mut endpoints: Vec<String> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        if host.is_some() {
            cands.push(Candidate {
                id: "host".into(),
                target: ExecTarget::LocalPure,
                on_device: true,
                cost: 0.0,
                latency_ms: 0.0,
                is_provider: false,
            });
            endpoints.push(String::new());
        }
        if let (Some(mesh), Some(io)) = (&w.mesh, &w.io) {
            let (mesh2, query, sec) = (mesh.clone(), id.to_string(), w.security.clone());
            match io.run(w.cancel.as_deref(), async move {
                mesh2.rank(&query, &sec).await
            }) {
                Ok(Ok((resolved, ranked))) => {
                    for r in ranked {
                        let slot = &resolved.entry.providers[r.index];
                        if let Some(why) = r.excluded {
                            notes.push(format!("{}: {why}", slot.provider.id));
                            continue;
                        }
                        let p = &slot.provider;
                        cands.push(Candidate {
                            id: p.id.clone(),
                            target: ExecTarget::LocalPure,
                            on_device: p.endpoint.starts_with("local:"),
                            cost: p.cost_per_call,
                            latency_ms: slot.health.latency_ms(),
                            is_provider: true,
                        });
                        endpoints.push(p.endpoint.clone());
                    }
                }
                Ok(Err(e)) => notes.push(format!("mesh: {e}")),
                Err(e) => notes.push(format!("mesh: {e}")),
            }
        }
        if cands.is_empty() {
            let why = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            return Err(fail(
                kind::UNKNOWN_CAPABILITY,
                format!("unknown capability: :{id}{why}"),
            ));
        }
        let unlimited = Budget::unlimited();
        let (user, device) = (UserContext::default(), DeviceContext::default());
        let (budget, user, device) = match &w.delegation {
            Some(d) => (&*d.budget, &d.user, &d.device),
            None => (&unlimited, &user, &device),
        };
        let ctx = CallContext {
            function_symbol: "call",
            capability_id: Some(id),
            candidate_providers: &cands,
            user_context: user,
            device_context: device,
            arguments_sensitive: site_sensitive || self.sensitive_scope > 0,
            security: &w.security,
        };
        let sensitive = ctx.arguments_sensitive
            || w.delegation
                .as_ref()
                .is_some_and(|d| d.policy.is_sensitive(id));
        if let Some(t) = trace.as_deref_mut() {
            t.considered = cands.iter().map(|c| c.id.clone()).collect();
        }
        let ranked: Vec<Candidate> = match (&w.delegation, site) {
            (Some(d), CallTarget::Runtime { .. }) => {
                let (decision, _) = d.l1.decide(&*d.engine, &ctx, &d.budget);
                if let Some(t) = trace {
                    t.engine = decision.engine.to_string();
                }
                notes.extend(decision.refused.iter().map(|(p, r)| format!("{p}: {r}")));
                decision.ranked.clone()
            }
            _ => cands.clone(),
        };
        for cand in &ranked {
            if let Some(r) = filters::refusal(&ctx, budget, sensitive, cand) {
                notes.push(format!("{}: {r}", cand.id));
                continue;
            }
            if let Err(r) = budget.try_spend(cand.cost) {
                notes.push(format!("{}: budget: {r}", cand.id));
                continue;
            }
            let at = cands.iter().position(|x| x.id == cand.id).unwrap_or(0);
            let outcome = if cand.id == "host" && !cand.is_provider {
                match &host {
                    Some(cap) => return cap(self, args),
                    None => Err("host capability vanished".to_string()),
                }
            } else {
                let endpoint = endpoints.get(at).cloned().unwrap_or_default();
                self.invoke_endpoint(w, id, &endpoint, args, &cand.id)
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) => {
                    budget.refund(cand.cost);
                    notes.push(format!("{}: {e}", cand.id));
                }
            }
        }
        Err(fail(
            kind::CAPABILITY,
            format!(
                "capability `:{id}`{} failed: {}",
                if sensitive {
                    " with a sensitive argument"
                } else {
                    ""
                },
                if notes.is_empty() {
                    "no provider may take the call".to_string()
                } else {
                    notes.join("; ")
                }
            ),
        ))
    }

    fn invoke_endpoint(
        &mut self,
        w: &Wiring,
        id: &str,
        endpoint: &str,
        args: &[Value],
        provider: &str,
    ) -> Result<Value, String> {
        if let Some(local) = endpoint.strip_prefix("local:") {
            let local = local.trim_start_matches(':');
            let cap = self
                .st
                .capabilities
                .get(local)
                .cloned()
                .ok_or_else(|| format!("no in-process capability `{local}`"))?;
            return cap(self, args).map_err(|e| e.message().to_string());
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!("unsupported endpoint `{endpoint}`"));
        }
        let io = w.io.as_ref().ok_or("no I/O runtime")?;
        let started = Instant::now();
        let r = io.post_json(w.cancel.as_deref(), endpoint, id, args);
        if let Some(mesh) = &w.mesh {
            match &r {
                Ok(_) => mesh.report_success(provider, started.elapsed()),
                Err(_) => mesh.report_failure(provider),
            }
        }
        r
    }
}
