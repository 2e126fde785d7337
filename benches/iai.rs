//! iai-callgrind benchmarks: instruction counts (stable on a noisy, shared machine) of
//! the interpreter and the JIT tier on the programs in `benches/programs/`, of the cold
//! compile and the warm L4 load of one function, and of a fresh runtime evaluating one
//! line. Process start-up of `rtfs run` is in `benches/iai_startup.rs` (iai-callgrind
//! cannot mix library and binary benchmarks in one target).
//!
//! Run: `cargo bench --bench iai` (needs valgrind and `iai-callgrind-runner` 0.16.1:
//! `scripts/install-bench-tools.sh`). One benchmark: `cargo bench --bench iai -- fib`.
//!
//! Each benchmark's setup function (not measured) builds a runtime, evaluates the
//! program's definitions and, on the JIT tier, makes one small call so the entry
//! function is compiled before the measured call. The measured part is one
//! `Runtime::call` of the entry function (or one `jit_compile`). The teardown (not
//! measured) checks the value the call returned, so a wrong result fails the run.
//!
//! Sizes are smaller than in `benches/compare` so one callgrind run stays within
//! seconds; the case names say which size (see benches/README.md).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use rtfs::{Error, Runtime, Tier, Value};

/// A runtime holding a program's definitions and the call to measure.
struct Prepared {
    rt: Runtime,
    f: Value,
    args: Vec<Value>,
    expected: &'static str,
}

/// What a measured call hands to the teardown: the runtime (so dropping it is not
/// measured) and the call's result.
struct Outcome {
    prepared: Prepared,
    result: Result<Value, Error>,
}

fn eval(rt: &mut Runtime, src: &str) -> Value {
    match rt.eval_str(src) {
        Ok(v) => v,
        Err(e) => panic!("evaluating {src:?} failed:\n{}", rt.render_error(&e)),
    }
}

/// Builds a runtime on `tier`, evaluates `defs`, and looks up the function `entry`.
/// On a compiled tier, calls it once with `warm_args` so the measured call runs
/// compiled code where the tier accepts it; `must_compile` asserts that it did.
fn prepare(
    tier: Tier,
    must_compile: bool,
    defs: &str,
    entry: &str,
    warm_args: &[i64],
    args: &[i64],
    expected: &'static str,
) -> Prepared {
    let mut rt = Runtime::new();
    rt.set_tier(tier);
    eval(&mut rt, defs);
    let f = eval(&mut rt, entry);
    if tier != Tier::Interp {
        let warm: Vec<Value> = warm_args.iter().map(|&n| Value::Int(n)).collect();
        if let Err(e) = rt.call(&f, &warm) {
            panic!("warm-up call of {entry} failed:\n{}", rt.render_error(&e));
        }
        assert!(
            !must_compile || rt.jit_stats().functions_compiled > 0,
            "{entry} was not compiled: {:?}",
            rt.jit_rejections()
        );
    }
    Prepared {
        rt,
        f,
        args: args.iter().map(|&n| Value::Int(n)).collect(),
        expected,
    }
}

/// The measured part of every program benchmark: one call of the entry function.
fn call(mut p: Prepared) -> Outcome {
    let result = p.rt.call(black_box(&p.f), black_box(&p.args));
    Outcome {
        prepared: p,
        result,
    }
}

fn check(out: Outcome) {
    let Outcome {
        prepared: p,
        result,
    } = out;
    match result {
        Ok(v) => assert_eq!(v.pr_str(), p.expected, "wrong value"),
        Err(e) => panic!("the measured call failed:\n{}", p.rt.render_error(&e)),
    }
}

/// A program's definitions: its file without the entry call it ends with.
fn definitions(source: &str, entry_call: &str) -> String {
    match source.trim_end().strip_suffix(entry_call) {
        Some(defs) => defs.to_string(),
        None => panic!("the program must end with its entry call {entry_call}"),
    }
}

const FIB: &str = include_str!("programs/fib.rtfs");
const TAK: &str = include_str!("programs/tak.rtfs");
const LOOP_SUM: &str = include_str!("programs/loop_sum.rtfs");
const FLOAT_KERNEL: &str = include_str!("programs/float_kernel.rtfs");
const CLOSURES: &str = include_str!("programs/closures.rtfs");
const PIPELINE: &str = include_str!("programs/pipeline.rtfs");
const WORD_COUNT: &str = include_str!("programs/word_count.rtfs");
const CLOSURE_COMPOSE: &str = include_str!("programs/closure_compose.rtfs");
const RECORDS: &str = include_str!("programs/records.rtfs");
const SUBSTRING_SCAN: &str = include_str!("programs/substring_scan.rtfs");
const STRING_FORMAT: &str = include_str!("programs/string_format.rtfs");
const NESTED_UPDATE: &str = include_str!("programs/nested_update.rtfs");

fn fib_case(tier: Tier, n: i64, expected: &'static str) -> Prepared {
    let defs = definitions(FIB, "(fib 30)");
    prepare(tier, true, &defs, "fib", &[2], &[n], expected)
}

fn tak_case(tier: Tier) -> Prepared {
    let defs = definitions(TAK, "(tak 24 16 8)");
    prepare(tier, true, &defs, "tak", &[3, 2, 1], &[24, 16, 8], "9")
}

fn loop_sum_case(tier: Tier, n: i64, expected: &'static str) -> Prepared {
    let defs = definitions(LOOP_SUM, "(loop-sum 10000000)");
    prepare(tier, true, &defs, "loop-sum", &[10], &[n], expected)
}

fn float_kernel_case(tier: Tier, n: i64, expected: &'static str) -> Prepared {
    let defs = definitions(FLOAT_KERNEL, "(mandelbrot size)");
    prepare(tier, true, &defs, "mandelbrot", &[2], &[n], expected)
}

fn closures_case(tier: Tier, n: i64, expected: &'static str) -> Prepared {
    let defs = definitions(CLOSURES, "(run 1000000)");
    prepare(tier, false, &defs, "run", &[2], &[n], expected)
}

/// The programs of the kinds plans are made of (maps, closures, records, strings): each
/// ends with `(run SIZE...)`; the measured call is `run` at the sizes given. Whether the
/// JIT tier compiles `run` is the tier's decision, so it is not asserted.
fn plan_kind_case(
    tier: Tier,
    source: &'static str,
    entry_call: &'static str,
    args: &'static [i64],
    expected: &'static str,
) -> Prepared {
    let defs = definitions(source, entry_call);
    let warm: Vec<i64> = args.iter().map(|_| 1).collect();
    prepare(tier, false, &defs, "run", &warm, args, expected)
}

/// The pipeline takes a vector, built here (not measured) at `n` elements.
fn pipeline_case(tier: Tier, n: i64, expected: &'static str) -> Prepared {
    let defs =
        definitions(PIPELINE, "(pipeline data)").replace("(def data (vec (range 1000000)))", "");
    let mut rt = Runtime::new();
    rt.set_tier(tier);
    eval(&mut rt, &defs);
    let f = eval(&mut rt, "pipeline");
    let data = eval(&mut rt, &format!("(vec (range {n}))"));
    if tier != Tier::Interp {
        let warm = eval(&mut rt, "[1 2 3]");
        if let Err(e) = rt.call(&f, &[warm]) {
            panic!("warm-up call of pipeline failed:\n{}", rt.render_error(&e));
        }
    }
    Prepared {
        rt,
        f,
        args: vec![data],
        expected,
    }
}

#[library_benchmark]
#[bench::interp_25(args = (Tier::Interp, 25, "75025"), setup = fib_case, teardown = check)]
#[bench::jit_30(args = (Tier::Jit, 30, "832040"), setup = fib_case, teardown = check)]
fn fib(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_24_16_8(args = (Tier::Interp), setup = tak_case, teardown = check)]
#[bench::jit_24_16_8(args = (Tier::Jit), setup = tak_case, teardown = check)]
fn tak(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_1e6(args = (Tier::Interp, 1_000_000, "170183"), setup = loop_sum_case, teardown = check)]
#[bench::jit_1e8(args = (Tier::Jit, 100_000_000, "68000000"), setup = loop_sum_case, teardown = check)]
fn loop_sum(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_100(args = (Tier::Interp, 100, "3849"), setup = float_kernel_case, teardown = check)]
#[bench::jit_250(args = (Tier::Jit, 250, "24161"), setup = float_kernel_case, teardown = check)]
fn float_kernel(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_1e5(args = (Tier::Interp, 100_000, "135000"), setup = closures_case, teardown = check)]
#[bench::jit_1e5(args = (Tier::Jit, 100_000, "135000"), setup = closures_case, teardown = check)]
fn closures(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_1e5(args = (Tier::Interp, 100_000, "7499850000"), setup = pipeline_case, teardown = check)]
#[bench::jit_1e5(args = (Tier::Jit, 100_000, "7499850000"), setup = pipeline_case, teardown = check)]
fn pipeline(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_2e4(args = (Tier::Interp, WORD_COUNT, "(run 200000)", &[20_000], "500000040"), setup = plan_kind_case, teardown = check)]
#[bench::jit_2e4(args = (Tier::Jit, WORD_COUNT, "(run 200000)", &[20_000], "500000040"), setup = plan_kind_case, teardown = check)]
fn word_count(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_300x100(args = (Tier::Interp, CLOSURE_COMPOSE, "(run 3000 100)", &[300, 100], "808092"), setup = plan_kind_case, teardown = check)]
#[bench::jit_300x100(args = (Tier::Jit, CLOSURE_COMPOSE, "(run 3000 100)", &[300, 100], "808092"), setup = plan_kind_case, teardown = check)]
fn closure_compose(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_1e4(args = (Tier::Interp, RECORDS, "(run 100000)", &[10_000], "67363240"), setup = plan_kind_case, teardown = check)]
#[bench::jit_1e4(args = (Tier::Jit, RECORDS, "(run 100000)", &[10_000], "67363240"), setup = plan_kind_case, teardown = check)]
fn records(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_8e3(args = (Tier::Interp, SUBSTRING_SCAN, "(run 80000)", &[8_000], "1774"), setup = plan_kind_case, teardown = check)]
#[bench::jit_8e3(args = (Tier::Jit, SUBSTRING_SCAN, "(run 80000)", &[8_000], "1774"), setup = plan_kind_case, teardown = check)]
fn substring_scan(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_1e4(args = (Tier::Interp, STRING_FORMAT, "(run 100000)", &[10_000], "184144"), setup = plan_kind_case, teardown = check)]
#[bench::jit_1e4(args = (Tier::Jit, STRING_FORMAT, "(run 100000)", &[10_000], "184144"), setup = plan_kind_case, teardown = check)]
fn string_format(p: Prepared) -> Outcome {
    call(p)
}

#[library_benchmark]
#[bench::interp_1e4(args = (Tier::Interp, NESTED_UPDATE, "(run 100000)", &[10_000], "40151"), setup = plan_kind_case, teardown = check)]
#[bench::jit_1e4(args = (Tier::Jit, NESTED_UPDATE, "(run 100000)", &[10_000], "40151"), setup = plan_kind_case, teardown = check)]
fn nested_update(p: Prepared) -> Outcome {
    call(p)
}

library_benchmark_group!(
    name = programs;
    benchmarks = fib, tak, loop_sum, float_kernel, closures, pipeline, word_count,
        closure_compose, records, substring_scan, string_format, nested_update
);

/// One typical function: what the compile benchmarks plan, generate and load.
const ONE_FN: &str = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))";
/// Compiled first in the L4 setup so the measured load is not the engine's first use.
const WARM_FN: &str = "(defn warm [n] (+ n 1))";

/// A runtime on the JIT tier and its compiled function, before a measured compile.
struct CompileCase {
    rt: Runtime,
    f: Value,
    /// The L4 directory of the warm-load case, removed by the teardown.
    cache_dir: Option<PathBuf>,
    /// `functions_compiled` the teardown expects: proves a compile or a load happened.
    expect_compiled: u64,
}

fn jit_runtime(cache_dir: Option<PathBuf>) -> Runtime {
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    rt.set_cache_dir(cache_dir);
    eval(&mut rt, ONE_FN);
    eval(&mut rt, WARM_FN);
    rt
}

fn compile_now(rt: &mut Runtime, name: &str) -> Value {
    let f = eval(rt, name);
    if let Err(e) = rt.jit_compile(&f, &[Value::Int(1)]) {
        panic!("compiling {name} failed: {e}");
    }
    f
}

/// L4 disabled (memory only): the engine is created and `fib` compiled once, then the
/// compiled code is dropped so the measured `jit_compile` plans, generates with
/// Cranelift, links and loads it again.
fn cold_case() -> CompileCase {
    let mut rt = jit_runtime(None);
    let f = compile_now(&mut rt, "fib");
    rt.clear_jit_memory();
    CompileCase {
        rt,
        f,
        cache_dir: None,
        expect_compiled: 2,
    }
}

static CACHE_DIRS: AtomicU32 = AtomicU32::new(0);

/// A populated L4 directory: one runtime compiles `fib` and `warm` into it; a new
/// runtime on the same directory loads `warm` (creating its engine), so the measured
/// `jit_compile` of `fib` is a disk load: find, read, verify, copy into executable
/// memory, patch.
fn warm_case() -> CompileCase {
    let dir = std::env::temp_dir().join(format!(
        "rtfs-iai-l4-{}-{}",
        std::process::id(),
        CACHE_DIRS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut first = jit_runtime(Some(dir.clone()));
        compile_now(&mut first, "fib");
        compile_now(&mut first, "warm");
        assert_eq!(first.jit_stats().functions_compiled, 2);
    }
    let mut rt = jit_runtime(Some(dir.clone()));
    compile_now(&mut rt, "warm");
    let f = eval(&mut rt, "fib");
    CompileCase {
        rt,
        f,
        cache_dir: Some(dir),
        expect_compiled: 0,
    }
}

fn check_compile(out: (CompileCase, Result<(), String>)) {
    let (case, result) = out;
    if let Some(dir) = &case.cache_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Err(e) = result {
        panic!("the measured jit_compile failed: {e}");
    }
    assert_eq!(
        case.rt.jit_stats().functions_compiled,
        case.expect_compiled,
        "functions_compiled"
    );
}

#[library_benchmark]
#[bench::cold_compile_per_fn(setup = cold_case, teardown = check_compile)]
#[bench::l4_warm_load_per_fn(setup = warm_case, teardown = check_compile)]
fn jit_compile(mut case: CompileCase) -> (CompileCase, Result<(), String>) {
    let result = case.rt.jit_compile(black_box(&case.f), &[Value::Int(1)]);
    (case, result)
}

library_benchmark_group!(
    name = compile;
    benchmarks = jit_compile
);

// A fresh runtime (builtins, prelude) reading, compiling and running `(+ 1 2)`; the
// runtime is returned so its drop is not measured.
#[library_benchmark]
fn runtime_new_eval() -> (Runtime, Result<Value, Error>) {
    let mut rt = Runtime::new();
    let v = rt.eval_str(black_box("(+ 1 2)"));
    (rt, v)
}

library_benchmark_group!(
    name = startup;
    benchmarks = runtime_new_eval
);

main!(library_benchmark_groups = programs, compile, startup);
