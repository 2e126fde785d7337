//! Criterion benchmark of `rtfs run` process start-up: the wall time of spawning the
//! `rtfs` binary on a one-line program (`benches/programs/startup.rtfs`, `(+ 1 2)`) and
//! waiting for it to exit: exec, dynamic linking, runtime and prelude set-up, reading,
//! compiling and running the line, printing `3`.
//!
//! Run: `cargo bench --bench startup`. The binary is the one cargo builds for this
//! bench (the `bench` profile, which inherits `release`).

use std::hint::black_box;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const RTFS: &str = env!("CARGO_BIN_EXE_rtfs");
const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/programs/startup.rtfs");

fn run(tier: &str) -> Output {
    let out = Command::new(RTFS)
        .args(["run", "--tier", tier, "--no-cache", PROGRAM])
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(out) => out,
        Err(e) => panic!("spawning {RTFS}: {e}"),
    }
}

fn startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("startup");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for tier in ["interp", "jit"] {
        let out = run(tier);
        assert!(
            out.status.success() && out.stdout == b"3\n",
            "rtfs run --tier {tier} {PROGRAM}: {:?}, stdout {:?}, stderr {:?}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        group.bench_function(format!("rtfs_run_one_line_{tier}"), |b| {
            b.iter(|| black_box(run(tier)))
        });
    }
    group.finish();
}

criterion_group!(benches, startup);
criterion_main!(benches);
