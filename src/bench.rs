//! `rtfs bench FILE`: runs a program under each tier (interpreter, JIT, auto) in a fresh
//! runtime, checks they agree, and prints a table of run times (best of N runs; reading
//! and lowering the source are not timed) with the JIT's compile counters.

use std::path::Path;
use std::time::{Duration, Instant};

use rtfs_runtime::{Runtime, Tier};

struct Row {
    tier: Tier,
    best: Duration,
    value: String,
    compiled: u64,
    compile_ms: f64,
}

fn run_tier(name: &str, bytes: &[u8], tier: Tier, runs: u32) -> Result<Row, String> {
    let mut best = Duration::MAX;
    let mut row = None;
    for _ in 0..runs.max(1) {
        let mut rt = Runtime::new();
        rt.set_tier(tier);
        // Memory-only cache: each run compiles, so JIT times include compilation.
        rt.set_cache_dir(None);
        let units = rt
            .compile_source(name, bytes)
            .map_err(|e| rt.render_error(&e))?;
        let start = Instant::now();
        let v = rt.run_units(&units).map_err(|e| rt.render_error(&e))?;
        let took = start.elapsed();
        rt.jit_wait();
        let s = rt.jit_stats();
        best = best.min(took);
        row = Some(Row {
            tier,
            best,
            value: v.pr_str(),
            compiled: s.functions_compiled,
            compile_ms: s.compile_ns as f64 / 1e6,
        });
    }
    row.ok_or_else(|| "no run".to_string())
}

fn fmt(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

pub fn run(file: &Path, runs: u32) -> i32 {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    let name = file.display().to_string();
    let mut rows = Vec::new();
    for tier in [Tier::Interp, Tier::Jit, Tier::Auto] {
        match run_tier(&name, &bytes, tier, runs) {
            Ok(r) => rows.push(r),
            Err(msg) => {
                eprint!("{msg}");
                return 1;
            }
        }
    }
    let base = rows[0].best.as_secs_f64();
    println!("{name}: best of {runs} runs, run time only (fresh runtime, no disk cache)\n");
    println!("| tier | time | speed-up vs interp | functions compiled | jit compile |");
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        let speedup = base / r.best.as_secs_f64().max(1e-9);
        println!(
            "| {} | {} | {speedup:.1}x | {} | {:.2} ms |",
            r.tier.name(),
            fmt(r.best),
            r.compiled,
            r.compile_ms
        );
    }
    let first = &rows[0].value;
    if let Some(r) = rows.iter().find(|r| &r.value != first) {
        eprintln!(
            "error: tiers disagree: interp gave {first}, {} gave {}",
            r.tier.name(),
            r.value
        );
        return 1;
    }
    println!("\nvalue: {first}");
    0
}
