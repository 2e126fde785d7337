//! Criterion benchmarks of the RTFS interpreter on the programs in `benches/programs/`
//! (the same programs `benches/compare` runs against C, Lua and Python), plus start-up.
//!
//! Run: `cargo bench --bench interp` (the whole suite takes about a minute or two);
//! one benchmark: `cargo bench --bench interp -- fib30`.
//!
//! Each program file ends with its entry call, e.g. `(fib 30)`. A benchmark evaluates
//! the file without that call once (the definitions persist in the `Runtime`), checks
//! the timed call's result once, then times `eval_str(call)` alone, so reading and
//! compiling the definitions is not measured. The timed call is the file's entry call,
//! except for the slowest programs, which run a smaller size here (noted in the name)
//! so the suite stays short; `benches/compare` runs the full sizes. `fib35` is left to
//! `benches/compare` altogether.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use rtfs::Runtime;

/// One benchmark program: its source, the entry call its file ends with, the call timed
/// here and the value that call prints.
struct Program {
    name: &'static str,
    source: &'static str,
    entry: &'static str,
    call: &'static str,
    expected: &'static str,
}

const PROGRAMS: &[Program] = &[
    Program {
        name: "fib30",
        source: include_str!("programs/fib.rtfs"),
        entry: "(fib 30)",
        call: "(fib 30)",
        expected: "832040",
    },
    Program {
        name: "tak",
        source: include_str!("programs/tak.rtfs"),
        entry: "(tak 24 16 8)",
        call: "(tak 24 16 8)",
        expected: "9",
    },
    Program {
        name: "loop_sum_1e6",
        source: include_str!("programs/loop_sum.rtfs"),
        entry: "(loop-sum 10000000)",
        call: "(loop-sum 1000000)",
        expected: "170183",
    },
    Program {
        name: "float_kernel_100",
        source: include_str!("programs/float_kernel.rtfs"),
        entry: "(mandelbrot size)",
        call: "(mandelbrot 100)",
        expected: "3849",
    },
    Program {
        name: "vector_reduce",
        source: include_str!("programs/vector_reduce.rtfs"),
        entry: "(reduce + 0 (build 1000000))",
        call: "(reduce + 0 (build 1000000))",
        expected: "999999000000",
    },
    Program {
        name: "closures_3e5",
        source: include_str!("programs/closures.rtfs"),
        entry: "(run 1000000)",
        call: "(run 300000)",
        expected: "915000",
    },
    Program {
        name: "string_build",
        source: include_str!("programs/string_build.rtfs"),
        entry: "(count (build 100000))",
        call: "(count (build 100000))",
        expected: "1088890",
    },
    Program {
        name: "word_count_2e4",
        source: include_str!("programs/word_count.rtfs"),
        entry: "(run 200000)",
        call: "(run 20000)",
        expected: "500000040",
    },
    Program {
        name: "closure_compose",
        source: include_str!("programs/closure_compose.rtfs"),
        entry: "(run 3000 100)",
        call: "(run 3000 100)",
        expected: "88006",
    },
    Program {
        name: "records_1e4",
        source: include_str!("programs/records.rtfs"),
        entry: "(run 100000)",
        call: "(run 10000)",
        expected: "67363240",
    },
    Program {
        name: "substring_scan_8e3",
        source: include_str!("programs/substring_scan.rtfs"),
        entry: "(run 80000)",
        call: "(run 8000)",
        expected: "1774",
    },
    Program {
        name: "string_format",
        source: include_str!("programs/string_format.rtfs"),
        entry: "(run 100000)",
        call: "(run 100000)",
        expected: "2041539",
    },
    Program {
        name: "nested_update_1e4",
        source: include_str!("programs/nested_update.rtfs"),
        entry: "(run 100000)",
        call: "(run 10000)",
        expected: "40151",
    },
];

/// Evaluates `src` in `rt`, panicking with the runtime's rendered error on failure.
fn eval(rt: &mut Runtime, what: &str, src: &str) -> rtfs::Value {
    match rt.eval_str(src) {
        Ok(v) => v,
        Err(e) => panic!(
            "{what}: evaluating {src:?} failed:\n{}",
            rt.render_error(&e)
        ),
    }
}

/// A runtime holding the program's definitions, its timed call already checked once.
fn prepared_runtime(p: &Program) -> Runtime {
    let definitions = p
        .source
        .trim_end()
        .strip_suffix(p.entry)
        .unwrap_or_else(|| {
            panic!(
                "{}: the program must end with its entry call {}",
                p.name, p.entry
            )
        });
    let mut rt = Runtime::new();
    eval(&mut rt, p.name, definitions);
    let result = eval(&mut rt, p.name, p.call).pr_str();
    assert_eq!(
        result, p.expected,
        "{}: {} printed the wrong value",
        p.name, p.call
    );
    rt
}

fn programs(c: &mut Criterion) {
    let mut group = c.benchmark_group("interp");
    // Programs run for tens of milliseconds to seconds: flat sampling with few samples
    // keeps the suite short (criterion extends the time if one sample needs longer).
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for p in PROGRAMS {
        let mut rt = prepared_runtime(p);
        group.bench_function(p.name, |b| {
            b.iter(|| black_box(rt.eval_str(black_box(p.call)).unwrap()))
        });
    }
    group.finish();
}

fn startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("interp");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    // A fresh runtime (prelude, builtins) plus reading, compiling and running one line.
    group.bench_function("startup", |b| {
        b.iter(|| {
            let mut rt = Runtime::new();
            black_box(rt.eval_str(black_box("(+ 1 2)")).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, startup, programs);
criterion_main!(benches);
