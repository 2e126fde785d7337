//! Mesh benchmarks: cached resolve + select, cold resolve from a git registry, HTTP resolve
//! on loopback (200 and 304), selection among 100 providers, and `list` over 100 000 records.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-mesh cargo bench -p rtfs-mesh -- --quick`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rtfs_mesh_io::registry::http_server;
use rtfs_mesh_io::{
    CacheConfig, FunctionName, FunctionRecord, GitRegistry, GlobalFunctionMesh, HttpRegistry,
    MemoryRegistry, ProviderRef, Registry, SecurityContext, SecurityLevel, SelectionStrategy,
};

fn record(name: &str, n: usize) -> FunctionRecord {
    let providers = (0..n)
        .map(|i| ProviderRef {
            id: format!("provider-{i}"),
            capability_ref: format!("marketplace://offer/{i}"),
            endpoint: format!("https://p{i}.example/call"),
            sla_tier: "standard".into(),
            cost_per_call: 0.001 * ((i * 7919) % 101) as f64,
            avg_response_time_ms: 10.0 + ((i * 104729) % 97) as f64,
        })
        .collect();
    FunctionRecord::new(
        FunctionName::parse(name).unwrap(),
        semver::Version::new(1, 2, 0),
        providers,
    )
}

/// Polls a future that completes without waiting (the cached path) once.
fn poll_once<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("cached path must not wait"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn cached(c: &mut Criterion) {
    let rt = runtime();
    let mem = Arc::new(MemoryRegistry::new());
    mem.put(record("image-processing/sharpen", 2));
    let mesh = GlobalFunctionMesh::builder(mem).build();
    let q = "image-processing/sharpen";
    rt.block_on(mesh.resolve(q)).unwrap();
    let full = SecurityContext::full();
    let controlled = SecurityContext::builder(SecurityLevel::Controlled)
        .allow_function("image-processing/*")
        .allow_provider("provider-0")
        .allow_provider("provider-1")
        .build()
        .unwrap();
    let mut g = c.benchmark_group("cached");
    g.bench_function("resolve+select (sync fast path, full)", |b| {
        b.iter(|| {
            let r = mesh.resolve_cached(black_box(q)).unwrap().unwrap();
            let s = mesh.select_resolved(r, &full).unwrap();
            black_box(s.index)
        })
    });
    g.bench_function("resolve+select (async API, controlled)", |b| {
        b.iter(|| {
            let s = poll_once(mesh.select_provider(black_box(q), &controlled)).unwrap();
            black_box(s.index)
        })
    });
    g.finish();
}

fn git(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("mesh.git");
    GitRegistry::init_bare(&remote).unwrap();
    let url = format!("file://{}", remote.display());
    let reg = Arc::new(
        GitRegistry::open(&url, dir.path().join("clone"), Duration::from_secs(3600)).unwrap(),
    );
    rt.block_on(async {
        for i in 0..50 {
            reg.register(record(&format!("ns{}/fn-{i}", i % 5), 3))
                .await
                .unwrap();
        }
        reg.sync_now().await.unwrap();
    });
    let mesh = GlobalFunctionMesh::builder(reg.clone())
        .with_cache_config(CacheConfig {
            ttl: Duration::ZERO,
            max_stale: Duration::ZERO,
            ..CacheConfig::default()
        })
        .build();
    let mut g = c.benchmark_group("git");
    g.bench_function(
        "cold resolve (registry lookup + verify + build entry)",
        |b| b.iter(|| rt.block_on(mesh.select("ns2/fn-27")).unwrap().index),
    );
    g.finish();
}

fn http(c: &mut Criterion) {
    let rt = runtime();
    let mem = Arc::new(MemoryRegistry::new());
    mem.put(record("image-processing/sharpen", 2));
    let server = rt
        .block_on(http_server::spawn(
            mem,
            "127.0.0.1:0",
            http_server::ServeOptions::default(),
        ))
        .unwrap();
    let client = Arc::new(HttpRegistry::new(&server.url(), Duration::from_secs(5)).unwrap());
    let mesh = GlobalFunctionMesh::builder(client.clone())
        .with_cache_config(CacheConfig {
            ttl: Duration::ZERO,
            max_stale: Duration::ZERO,
            ..CacheConfig::default()
        })
        .build();
    let q = "image-processing/sharpen";
    let mut g = c.benchmark_group("http-loopback");
    g.bench_function("lookup 200 (full body)", |b| {
        b.iter(|| {
            client.forget_etags();
            rt.block_on(client.lookup(q)).unwrap()
        })
    });
    g.bench_function("lookup 304 (revalidated)", |b| {
        b.iter(|| rt.block_on(client.lookup(q)).unwrap())
    });
    g.bench_function("resolve+select via mesh (uncached, 304)", |b| {
        b.iter(|| rt.block_on(mesh.select(q)).unwrap().index)
    });
    g.finish();
    drop(server);
}

fn selection(c: &mut Criterion) {
    let rt = runtime();
    let mem = Arc::new(MemoryRegistry::new());
    mem.put(record("big/fn", 100));
    let mut g = c.benchmark_group("select-100-providers");
    for (label, strategy) in [
        ("lowest-cost", SelectionStrategy::LowestCost),
        ("fastest", SelectionStrategy::FastestResponse),
        ("availability", SelectionStrategy::HighestAvailability),
        ("load-balance", SelectionStrategy::LoadBalance),
    ] {
        let mesh = GlobalFunctionMesh::builder(mem.clone())
            .with_strategy(strategy)
            .build();
        let r = rt.block_on(mesh.resolve("big/fn")).unwrap();
        let ctx = SecurityContext::full();
        g.bench_function(label, |b| {
            b.iter(|| {
                mesh.select_resolved(black_box(r.clone()), &ctx)
                    .unwrap()
                    .index
            })
        });
    }
    g.finish();
}

fn list(c: &mut Criterion) {
    let mem = MemoryRegistry::new();
    let base = record("ns-000/fn-00000", 1);
    for i in 0..100_000 {
        let mut r = base.clone();
        r.func_name = FunctionName::parse(&format!("ns-{:03}/fn-{i:05}", i % 1000)).unwrap();
        r.namespace = r.func_name.namespace().to_string();
        mem.put(r);
    }
    let mut g = c.benchmark_group("list-100k");
    g.sample_size(10);
    g.bench_function("prefix glob ns-042/*", |b| {
        b.iter(|| mem.list_sync("ns-042/*").unwrap().len())
    });
    g.bench_function("full-scan glob */fn-0004?", |b| {
        b.iter(|| mem.list_sync("*/fn-0004?").unwrap().len())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = cached, selection, http, git, list
}
criterion_main!(benches);
