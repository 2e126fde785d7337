//! iai-callgrind binary benchmark of `rtfs run` process start-up: the instructions the
//! `rtfs` binary executes, from exec to exit, on a one-line program
//! (`benches/programs/startup.rtfs`, `(+ 1 2)`), on the interpreter and on the JIT tier
//! (L4 cache off, so nothing is read from or written to disk).
//!
//! Run: `cargo bench --bench iai_startup` (needs valgrind and `iai-callgrind-runner`
//! 0.16.1: `scripts/install-bench-tools.sh`). The library benchmarks are in
//! `benches/iai.rs`.

use iai_callgrind::{Command, binary_benchmark, binary_benchmark_group, main};

const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/programs/startup.rtfs");

#[binary_benchmark]
#[bench::interp("interp")]
#[bench::jit("jit")]
fn rtfs_run_one_line(tier: &str) -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtfs"))
        .args(["run", "--tier", tier, "--no-cache", PROGRAM])
        .build()
}

binary_benchmark_group!(
    name = startup;
    benchmarks = rtfs_run_one_line
);

main!(binary_benchmark_groups = startup);
