//! What delegation costs at run time.
//! - `fib30/engine_off` vs `fib30/engine_on`: a policy is set but every call site is
//!   statically `LocalPure` (target: within 2 %).
//! - `call/plain` vs `call/hinted_local`: 1000 calls through plain vs `^:delegation :local`
//!   sites.
//! - `capability/loopback_http`: `(call :acme/echo 1)` through the mesh to an axum provider on
//!   127.0.0.1, JSON both ways.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rtfs_delegation::Policy;
use rtfs_ir::Value;
use rtfs_mesh::{GlobalFunctionMesh, MemoryRegistry, ProviderRef};
use rtfs_runtime::Runtime;

const FIB: &str = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))";
const POLICY: &str = r#"
engines = ["static", "privacy-first"]
[models.phi]
kind = "local"
[[route]]
match = "summarize*"
target = "local-model"
model = "phi"
"#;

fn function(rt: &mut Runtime, defs: &str, name: &str) -> Value {
    rt.eval_str(defs).ok();
    rt.eval_str(name).unwrap_or(Value::Nil)
}

fn bench_fib(c: &mut Criterion) {
    let mut g = c.benchmark_group("fib30");
    g.sample_size(10);
    let mut off = Runtime::new();
    let f_off = function(&mut off, FIB, "fib");
    g.bench_function("engine_off", |b| {
        b.iter(|| black_box(off.call(&f_off, &[Value::Int(30)]).ok()))
    });
    let mut on = Runtime::new();
    on.set_policy(Policy::parse(POLICY).unwrap_or_default());
    let f_on = function(&mut on, FIB, "fib");
    g.bench_function("engine_on", |b| {
        b.iter(|| black_box(on.call(&f_on, &[Value::Int(30)]).ok()))
    });
    g.finish();
}

fn bench_calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("call");
    let mut rt = Runtime::new();
    rt.set_policy(Policy::parse(POLICY).unwrap_or_default());
    let plain = function(
        &mut rt,
        "(defn id1 [x] x) (defn run-plain [] (loop [i 0] (if (< i 1000) (do (id1 i) (recur (inc i))) i)))",
        "run-plain",
    );
    let hinted = function(
        &mut rt,
        "(defn id2 ^:delegation :local [x] x) (defn run-hinted [] (loop [i 0] (if (< i 1000) (do (id2 i) (recur (inc i))) i)))",
        "run-hinted",
    );
    g.bench_function("plain", |b| b.iter(|| black_box(rt.call(&plain, &[]).ok())));
    g.bench_function("hinted_local", |b| {
        b.iter(|| black_box(rt.call(&hinted, &[]).ok()))
    });
    g.finish();
}

fn bench_capability(c: &mut Criterion) {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build();
    let Ok(server) = server else { return };
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(|body: String| async move {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            serde_json::json!({"result": v["args"][0]}).to_string()
        }),
    );
    let Ok(listener) = server.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")) else {
        return;
    };
    let Ok(addr) = listener.local_addr() else {
        return;
    };
    server.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mesh = GlobalFunctionMesh::builder(Arc::new(MemoryRegistry::new())).build();
    mesh.register_local(
        "acme/echo",
        vec![ProviderRef::new("p1", format!("http://{addr}/"))],
    );
    let Ok(mut rt) = Runtime::builder()
        .mesh(Arc::new(mesh))
        .provider_timeout(Duration::from_secs(5))
        .build()
    else {
        return;
    };
    let go = function(&mut rt, "(defn go [] (call :acme/echo 1))", "go");
    c.bench_function("capability/loopback_http", |b| {
        b.iter(|| black_box(rt.call(&go, &[]).ok()))
    });
}

criterion_group!(benches, bench_fib, bench_calls, bench_capability);
criterion_main!(benches);
