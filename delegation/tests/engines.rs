//! Engines, hard filters, policies and the L1 cache, through the public API.

use std::sync::Arc;

use rtfs_delegation::{
    Budget, CallContext, Candidate, CompositeEngine, DecisionCache, DelegationEngine,
    DeviceContext, NetworkStatus, Policy, UserContext,
};
use rtfs_ir::{CallKind, ExecTarget, StaticDecision, StaticPolicy};
use rtfs_security::SecurityContext;

const POLICY: &str = r#"
engines = ["static", "privacy-first", "cost-optimized"]
[budget]
per_call = 0.5
per_run = 1.0
[privacy]
sensitive = ["patient/*"]
[models.phi]
kind = "local"
latency_ms = 40
[models.gpt]
kind = "remote"
cost_per_call = 0.4
latency_ms = 900
[models.claude]
kind = "remote"
cost_per_call = 0.3
latency_ms = 700
[[route]]
match = "summarize*"
target = "remote"
model = "gpt"
fallback = ["claude", "phi", "local"]
[[route]]
match = "translate"
target = "local-model"
model = "phi"
[[route]]
match = "offline-only"
target = "remote"
model = "gpt"
when = { network = "online" }
[[route]]
match = "ext.*"
target = "local"
providers = ["p-cheap", "p-fast"]
"#;

fn provider(id: &str, on_device: bool, cost: f64, latency: f64) -> Candidate {
    Candidate {
        id: id.into(),
        target: ExecTarget::LocalPure,
        on_device,
        cost,
        latency_ms: latency,
        is_provider: true,
    }
}

struct Fixture {
    policy: Arc<Policy>,
    budget: Arc<Budget>,
    engine: CompositeEngine,
    user: UserContext,
    device: DeviceContext,
    security: SecurityContext,
}

fn fixture(text: &str) -> Fixture {
    let policy = Arc::new(Policy::parse(text).expect("policy parses"));
    let budget = Arc::new(Budget::new(policy.per_call, policy.per_run));
    Fixture {
        engine: CompositeEngine::from_policy(policy.clone(), budget.clone()),
        policy,
        budget,
        user: UserContext::default(),
        device: DeviceContext::default(),
        security: SecurityContext::full(),
    }
}

impl Fixture {
    fn ctx<'a>(&'a self, f: &'a str, cands: &'a [Candidate], sensitive: bool) -> CallContext<'a> {
        CallContext {
            function_symbol: f,
            capability_id: None,
            candidate_providers: cands,
            user_context: &self.user,
            device_context: &self.device,
            arguments_sensitive: sensitive,
            security: &self.security,
        }
    }
}

fn ids(d: &rtfs_delegation::Decision) -> Vec<&str> {
    d.ranked.iter().map(|c| c.id.as_str()).collect()
}

#[test]
fn static_route_orders_primary_then_fallbacks() {
    let fx = fixture(POLICY);
    let cands = fx.policy.function_candidates();
    let d = fx.engine.decide(&fx.ctx("summarize-notes", &cands, false));
    assert_eq!(d.engine, "StaticEngine");
    assert_eq!(ids(&d), ["gpt", "claude", "phi", "local"]);
    assert_eq!(d.target(), Some(&ExecTarget::RemoteModel("gpt".into())));
}

#[test]
fn sensitive_data_never_gets_an_off_device_candidate_in_any_engine() {
    let fx = fixture(POLICY);
    let cands = fx.policy.function_candidates();
    for name in ["summarize-notes", "translate", "unrouted", "offline-only"] {
        let d = fx.engine.decide(&fx.ctx(name, &cands, true));
        assert!(
            !d.ranked.is_empty(),
            "{name}: an on-device candidate remains"
        );
        assert!(
            d.ranked.iter().all(|c| c.on_device),
            "{name}: {:?}",
            ids(&d)
        );
        assert!(
            d.refused
                .iter()
                .any(|(id, r)| id == "gpt" && r.starts_with("privacy"))
        );
    }
    // Marked sensitive by the policy's glob, without an argument mark.
    let d = fx.engine.decide(&fx.ctx("patient/summary", &cands, false));
    assert!(d.ranked.iter().all(|c| c.on_device), "{:?}", ids(&d));
    // Each engine alone, too.
    for kind in ["privacy-first", "cost-optimized", "performance", "static"] {
        let text = POLICY.replace(
            r#"engines = ["static", "privacy-first", "cost-optimized"]"#,
            &format!("engines = [\"{kind}\"]"),
        );
        let fx = fixture(&text);
        let d = fx.engine.decide(&fx.ctx("summarize-x", &cands, true));
        assert!(
            d.ranked.iter().all(|c| c.on_device),
            "{kind}: {:?}",
            ids(&d)
        );
    }
}

#[test]
fn budget_is_a_hard_filter_and_shrinks_the_choice_as_it_is_spent() {
    let fx = fixture(POLICY);
    let cands = fx.policy.function_candidates();
    fx.budget.try_spend(0.35).expect("within budget");
    fx.budget.try_spend(0.35).expect("within budget");
    // 0.3 left: gpt (0.4) is refused, claude (0.3) still fits.
    let d = fx.engine.decide(&fx.ctx("summarize-notes", &cands, false));
    assert_eq!(ids(&d), ["claude", "phi", "local"]);
    assert!(
        d.refused
            .iter()
            .any(|(id, r)| id == "gpt" && r.starts_with("budget"))
    );
}

#[test]
fn cost_and_performance_engines_rank_by_their_metric() {
    let text = POLICY.replace(
        r#"engines = ["static", "privacy-first", "cost-optimized"]"#,
        r#"engines = ["cost-optimized"]"#,
    );
    let fx = fixture(&text);
    let cands = vec![
        provider("p-exp", false, 0.2, 10.0),
        provider("p-cheap", false, 0.01, 300.0),
        provider("p-mid", false, 0.05, 50.0),
    ];
    let d = fx.engine.decide(&fx.ctx("x", &cands, false));
    assert_eq!(ids(&d), ["p-cheap", "p-mid", "p-exp"]);
    let fx = fixture(&text.replace(r#"["cost-optimized"]"#, r#"["performance"]"#));
    let d = fx.engine.decide(&fx.ctx("x", &cands, false));
    assert_eq!(ids(&d), ["p-exp", "p-mid", "p-cheap"]);
}

#[test]
fn security_context_filters_providers() {
    let mut fx = fixture(POLICY);
    fx.security = SecurityContext::builder(rtfs_security::SecurityLevel::Controlled)
        .allow_function("**")
        .allow_provider("p-fast")
        .build()
        .expect("context");
    let cands = vec![
        provider("p-cheap", false, 0.0, 5.0),
        provider("p-fast", false, 0.0, 1.0),
    ];
    let mut ctx = fx.ctx("call", &cands, false);
    ctx.capability_id = Some("ext.weather");
    let d = fx.engine.decide(&ctx);
    assert_eq!(ids(&d), ["p-fast"]);
    assert!(
        d.refused
            .iter()
            .any(|(id, r)| id == "p-cheap" && r.contains("security"))
    );
    fx.security = SecurityContext::pure();
    let mut ctx = fx.ctx("call", &cands, false);
    ctx.capability_id = Some("ext.weather");
    assert!(fx.engine.decide(&ctx).ranked.is_empty());
}

#[test]
fn when_conditions_and_composition_fallback() {
    let mut fx = fixture(POLICY);
    let cands = fx.policy.function_candidates();
    let d = fx.engine.decide(&fx.ctx("offline-only", &cands, false));
    assert_eq!(d.engine, "StaticEngine");
    fx.device.network = NetworkStatus::Offline;
    // The route's condition fails: the static engine yields nothing, privacy-first decides.
    let d = fx.engine.decide(&fx.ctx("offline-only", &cands, false));
    assert_eq!(d.engine, "PrivacyFirstEngine");
    assert_eq!(d.target(), Some(&ExecTarget::LocalPure));
}

#[test]
fn static_decisions_for_the_compiler() {
    let p = Policy::parse(POLICY).expect("parses");
    let fixed = |k, n, s| match p.static_decision(k, n, s) {
        StaticDecision::Fixed { target, .. } => Some(target),
        StaticDecision::Runtime { .. } => None,
    };
    assert_eq!(
        fixed(CallKind::Function, "translate", false),
        Some(ExecTarget::LocalModel("phi".into()))
    );
    assert_eq!(
        fixed(CallKind::Function, "fib", false),
        Some(ExecTarget::LocalPure)
    );
    assert_eq!(
        fixed(CallKind::Function, "summarize", false),
        None,
        "fallbacks"
    );
    assert_eq!(
        fixed(CallKind::Function, "offline-only", false),
        None,
        "when"
    );
    assert_eq!(fixed(CallKind::Capability, "ext.x", false), None);
}

#[test]
fn policy_errors_name_the_key() {
    let cases = [
        ("engines = [\"fast\"]", "engines[0]"),
        ("[budget]\nper_run = -1.0", "budget.per_run"),
        ("[budget]\nper_rnu = 1.0", "per_rnu"),
        (
            "[[route]]\nmatch = \"x\"\ntarget = \"remote\"",
            "route[0].model",
        ),
        (
            "[[route]]\nmatch = \"x\"\ntarget = \"remote\"\nmodel = \"nope\"",
            "route[0].model",
        ),
        (
            "[[route]]\nmatch = \"x\"\ntarget = \"teleport\"",
            "route[0].target",
        ),
        (
            "[[route]]\nmatch = \"[x\"\ntarget = \"local\"",
            "route[0].match",
        ),
        ("[models.m]\nkind = \"cloud\"", "models.m.kind"),
        (
            "[models.m]\nkind = \"local\"\n[[route]]\nmatch = \"x\"\ntarget = \"remote\"\nmodel = \"m\"",
            "route[0].model",
        ),
        (
            "[[route]]\nmatch = \"x\"\ntarget = \"local\"\nwhen = { network = \"5g\" }",
            "route[0].when.network",
        ),
        (
            "[[route]]\nmatch = \"x\"\ntarget = \"local\"\nfallback = [\"ghost\"]",
            "route[0].fallback[0]",
        ),
        ("[functions]\ndefault = \"remote\"", "functions.default"),
        ("not toml at all ===", "TOML"),
        (
            "[models.m]\nkind = \"remote\"\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:1\"\nmodel = \"x\"\nretries = 4000000000",
            "models.m.retries",
        ),
        (
            "engines = [\"static\", \"performance\", \"static\"]",
            "engines[2]",
        ),
        ("[budget]\nper_call = 0.5\nper_run = 0.1", "budget.per_run"),
    ];
    for (text, key) in cases {
        let e = Policy::parse(text).expect_err(text).to_string();
        assert!(
            e.contains(key) || (key == "TOML" && e.contains("invalid delegation policy")),
            "{text:?} → {e}"
        );
    }
}

#[test]
fn l1_hits_and_is_invalidated_by_policy_health_and_budget() {
    let fx = fixture(POLICY);
    let cache = DecisionCache::new(1024);
    let cands = fx.policy.function_candidates();
    let ctx = fx.ctx("summarize-notes", &cands, false);
    let (d1, hit) = cache.decide(&fx.engine, &ctx, &fx.budget);
    assert!(!hit);
    let (d2, hit) = cache.decide(&fx.engine, &ctx, &fx.budget);
    assert!(hit);
    assert_eq!(d1, d2);
    // Any field that changes the decision changes the key.
    let sens = fx.ctx("summarize-notes", &cands, true);
    assert_ne!(cache.key(&ctx), cache.key(&sens));
    assert_ne!(
        cache.key(&ctx),
        cache.key(&fx.ctx("summarize-note", &cands, false))
    );
    cache.generations().bump_policy();
    assert!(cache.get(&ctx, &fx.budget).is_none(), "policy change");
    cache.decide(&fx.engine, &ctx, &fx.budget);
    cache.generations().bump_health();
    assert!(cache.get(&ctx, &fx.budget).is_none(), "health change");
    cache.decide(&fx.engine, &ctx, &fx.budget);
    assert!(cache.get(&ctx, &fx.budget).is_some());
    // Spending below what the cached ranking needs invalidates it.
    fx.budget.try_spend(0.35).expect("spend");
    fx.budget.try_spend(0.35).expect("spend");
    assert!(cache.get(&ctx, &fx.budget).is_none(), "budget change");
    let (d3, _) = cache.decide(&fx.engine, &ctx, &fx.budget);
    assert_eq!(ids(&d3), ["claude", "phi", "local"]);
    fx.budget.reset();
    assert!(cache.get(&ctx, &fx.budget).is_none(), "budget reset");
    let (hits, misses) = cache.stats();
    assert!(hits >= 2 && misses >= 5, "{hits} {misses}");
}

#[test]
fn latency_is_in_the_key_only_when_asked() {
    let fx = fixture(POLICY);
    let a = vec![
        provider("p", false, 0.1, 10.0),
        provider("q", false, 0.1, 40.0),
    ];
    let b = vec![
        provider("p", false, 0.1, 50.0),
        provider("q", false, 0.1, 40.0),
    ];
    let with = DecisionCache::new(64);
    assert_ne!(
        with.key(&fx.ctx("f", &a, false)),
        with.key(&fx.ctx("f", &b, false))
    );
    let without = DecisionCache::new(64).without_latency_in_key();
    assert_eq!(
        without.key(&fx.ctx("f", &a, false)),
        without.key(&fx.ctx("f", &b, false))
    );
    let c = vec![provider("p", false, 0.2, 10.0)];
    assert_ne!(
        without.key(&fx.ctx("f", &a, false)),
        without.key(&fx.ctx("f", &c, false))
    );
}

#[test]
fn performance_engine_l1_keys_on_the_latency_ranking_not_the_latencies() {
    let text = POLICY.replace(
        r#"engines = ["static", "privacy-first", "cost-optimized"]"#,
        r#"engines = ["performance"]"#,
    );
    let fx = fixture(&text);
    let cache = DecisionCache::new(64);
    let at = |p: f64, q: f64, r: f64| {
        vec![
            provider("p", false, 0.0, p),
            provider("q", false, 0.0, q),
            provider("r", true, 0.0, r),
        ]
    };
    let first = at(10.0, 40.0, 200.0);
    let (d, hit) = cache.decide(&fx.engine, &fx.ctx("f", &first, false), &fx.budget);
    assert!(!hit);
    assert_eq!(ids(&d), ["p", "q", "r"]);
    // Every average moved (as an EWMA does after each call), the order did not: a hit.
    for moved in [
        at(11.3, 38.2, 230.0),
        at(6.0, 90.0, 150.0),
        at(10.0, 40.0, 1e6),
    ] {
        let (d, hit) = cache.decide(&fx.engine, &fx.ctx("f", &moved, false), &fx.budget);
        assert!(hit, "{moved:?}");
        assert_eq!(ids(&d), ["p", "q", "r"]);
    }
    // The order changed: a miss, and the fresh decision follows the new order.
    let swapped = at(60.0, 40.0, 200.0);
    let (d, hit) = cache.decide(&fx.engine, &fx.ctx("f", &swapped, false), &fx.budget);
    assert!(!hit);
    assert_eq!(ids(&d), ["q", "p", "r"]);
    // The mesh listing the same providers in another order is the same key.
    let mut reordered = swapped.clone();
    reordered.reverse();
    let (_, hit) = cache.decide(&fx.engine, &fx.ctx("f", &reordered, false), &fx.budget);
    assert!(hit);
    // Jitter inside one bucket (about 19 % wide) does not count as a new order.
    assert_eq!(
        rtfs_delegation::l1::latency_bucket(40.0),
        rtfs_delegation::l1::latency_bucket(41.0)
    );
    assert_eq!(
        rtfs_delegation::l1::latency_ranks(&at(41.0, 40.0, 200.0)).as_slice(),
        &[0, 0, 2]
    );
    assert_ne!(
        rtfs_delegation::l1::latency_bucket(10.0),
        rtfs_delegation::l1::latency_bucket(12.5)
    );
    assert_eq!(rtfs_delegation::l1::latency_bucket(f64::NAN), 0);
    assert_eq!(rtfs_delegation::l1::latency_bucket(-3.0), 0);
}
