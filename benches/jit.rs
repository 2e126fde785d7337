//! Criterion benchmarks of the JIT tier: fib(35), tak, a 10^8-iteration loop/recur sum,
//! the Mandelbrot float kernel, the cold compile latency of one function, and the warm
//! L4 load of one function from the disk cache.
//!
//! Run: `cargo bench --bench jit` (a few minutes); one: `cargo bench --bench jit -- fib35`.
//! The kernels load their definitions once into a runtime on `--tier jit`, run the entry
//! call once (compiling it, and checking the value), then time the call alone.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use rtfs::{Runtime, Tier, Value};

struct Kernel {
    name: &'static str,
    source: &'static str,
    entry: &'static str,
    call: &'static str,
    expected: &'static str,
}

const KERNELS: &[Kernel] = &[
    Kernel {
        name: "fib35",
        source: include_str!("programs/fib35.rtfs"),
        entry: "(fib 35)",
        call: "(fib 35)",
        expected: "9227465",
    },
    Kernel {
        name: "tak",
        source: include_str!("programs/tak.rtfs"),
        entry: "(tak 24 16 8)",
        call: "(tak 24 16 8)",
        expected: "9",
    },
    Kernel {
        name: "loop_sum_1e8",
        source: include_str!("programs/loop_sum_1e8.rtfs"),
        entry: "(loop-sum 100000000)",
        call: "(loop-sum 100000000)",
        expected: "68000000",
    },
    Kernel {
        name: "float_kernel",
        source: include_str!("programs/float_kernel.rtfs"),
        entry: "(mandelbrot size)",
        call: "(mandelbrot size)",
        expected: "24161",
    },
];

fn jit_runtime(defs: &str) -> Runtime {
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    if let Err(e) = rt.eval_str(defs) {
        panic!("definitions failed: {}", rt.render_error(&e));
    }
    rt
}

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("jit");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(8));
    for k in KERNELS {
        let defs = k.source.replace(k.entry, "");
        let mut rt = jit_runtime(&defs);
        let v = rt.eval_str(k.call).map(|v| v.pr_str());
        assert_eq!(v.ok().as_deref(), Some(k.expected), "{}", k.name);
        assert!(
            rt.jit_stats().functions_compiled > 0,
            "{} was not compiled",
            k.name
        );
        g.bench_function(k.name, |b| b.iter(|| black_box(rt.eval_str(k.call))));
    }
    g.finish();
}

const ONE_FN: &str = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))";

fn fib_value(rt: &mut Runtime) -> Value {
    rt.eval_str("fib").unwrap_or(Value::Nil)
}

fn compile_latency(c: &mut Criterion) {
    let mut g = c.benchmark_group("jit_compile");
    // Cold: plan, generate, compile with Cranelift, link into executable memory.
    let mut rt = jit_runtime(ONE_FN);
    let f = fib_value(&mut rt);
    g.bench_function("cold_compile_per_fn", |b| {
        b.iter(|| {
            rt.clear_jit_memory();
            black_box(rt.jit_compile(&f, &[Value::Int(1)]))
        })
    });
    // Warm: the entry is on disk; read, verify, copy into executable memory, patch.
    let dir = std::env::temp_dir().join(format!("rtfs-jit-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    rt.set_cache_dir(Some(dir.clone()));
    let _ = rt.eval_str(ONE_FN);
    let f = fib_value(&mut rt);
    assert!(rt.jit_compile(&f, &[Value::Int(1)]).is_ok());
    g.bench_function("l4_warm_load_per_fn", |b| {
        b.iter(|| {
            rt.clear_jit_memory();
            black_box(rt.jit_compile(&f, &[Value::Int(1)]))
        })
    });
    let s = rt.jit_stats();
    assert_eq!(s.functions_compiled, 1, "warm loads must not compile");
    let _ = std::fs::remove_dir_all(&dir);
    g.finish();
}

criterion_group!(benches, compile_latency, kernels);
criterion_main!(benches);
