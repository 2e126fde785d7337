//! Delegation Engine decision with an L1 hit (target: under 50 ns), and a miss for scale.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rtfs_delegation::{
    Budget, CallContext, CompositeEngine, DecisionCache, DelegationEngine, DeviceContext, Policy,
    UserContext,
};
use rtfs_mesh::SecurityContext;

const POLICY: &str = r#"
engines = ["static", "privacy-first"]
[models.phi]
kind = "local"
[models.gpt]
kind = "remote"
cost_per_call = 0.01
[[route]]
match = "summarize*"
target = "remote"
model = "gpt"
fallback = ["phi", "local"]
"#;

fn bench(c: &mut Criterion) {
    let policy = Arc::new(Policy::parse(POLICY).expect("bench policy parses"));
    let budget = Arc::new(Budget::unlimited());
    let engine = CompositeEngine::from_policy(policy.clone(), budget.clone());
    let cache = DecisionCache::new(4096);
    let cands = policy.function_candidates();
    let user = UserContext::default();
    let device = DeviceContext::default();
    let security = SecurityContext::full();
    let ctx = CallContext {
        function_symbol: "summarize-notes",
        capability_id: None,
        candidate_providers: &cands,
        user_context: &user,
        device_context: &device,
        arguments_sensitive: false,
        security: &security,
    };
    cache.decide(&engine, &ctx, &budget);
    c.bench_function("de_decision_l1_hit", |b| {
        b.iter(|| black_box(cache.decide(&engine, black_box(&ctx), &budget)))
    });
    // The runtime's path for function calls: the candidates' digest is computed once per
    // policy, not per call.
    let digest = cache.candidates_digest(&cands);
    c.bench_function("de_decision_l1_hit_precomputed_candidates", |b| {
        b.iter(|| black_box(cache.decide_with(&engine, black_box(&ctx), digest, &budget)))
    });
    c.bench_function("de_l1_key_only", |b| {
        b.iter(|| black_box(cache.key(black_box(&ctx))))
    });
    c.bench_function("de_decision_uncached", |b| {
        b.iter(|| black_box(engine.decide(black_box(&ctx))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
