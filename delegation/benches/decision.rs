//! Delegation Engine decision with an L1 hit (target: under 50 ns), and a miss for scale;
//! L3 semantic-cache lookups in a 1 000-entry partition (scan alone, and embed + scan).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rtfs_delegation::{
    Budget, CallContext, CompositeEngine, DecisionCache, DelegationEngine, DeviceContext, Embedder,
    ExecTarget, HashedNgramEmbedder, Policy, SemanticCache, SemanticCacheConfig, UserContext,
};
use rtfs_ir::Value;
use rtfs_security::SecurityContext;

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

/// A partition of `n` entries for one callee and target, with the built-in embedder.
fn l3_cache(n: usize) -> SemanticCache {
    let cache = SemanticCache::new(
        Arc::new(HashedNgramEmbedder::default()),
        SemanticCacheConfig {
            max_entries_per_tenant: n,
            ..SemanticCacheConfig::default()
        },
    )
    .expect("bench cache config is valid");
    let t = ExecTarget::RemoteModel("gpt".into());
    for i in 0..n {
        let text = format!(
            "summarize report number {i} for customer {}",
            i * 7919 % 1000
        );
        cache
            .insert("tenant", "summarize", &t, &text, Value::Int(i as i64))
            .expect("built-in embedder does not fail");
    }
    cache
}

fn bench_l3(c: &mut Criterion) {
    let t = ExecTarget::RemoteModel("gpt".into());
    let query = "please summarise the report for customer 42";
    for n in [1000usize, 5000] {
        let cache = l3_cache(n);
        let v = cache.embed(query).expect("built-in embedder does not fail");
        c.bench_function(&format!("l3_lookup_embedded_{n}"), |b| {
            b.iter(|| black_box(cache.lookup_embedded("tenant", "summarize", &t, black_box(&v))))
        });
    }
    let cache = l3_cache(1000);
    c.bench_function("l3_lookup_text_1000", |b| {
        b.iter(|| black_box(cache.lookup("tenant", "summarize", &t, black_box(query))))
    });
    let e = HashedNgramEmbedder::default();
    c.bench_function("l3_embed_hashed_256", |b| {
        b.iter(|| black_box(e.embed(black_box(query))))
    });
}

criterion_group!(benches, bench, bench_l3);
criterion_main!(benches);
