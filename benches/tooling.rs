//! Criterion benchmarks of the tooling: `rtfs fmt` on 10 000 lines (the conformance corpus
//! repeated), and the language server's work for a one-form edit of a 5 000-line file
//! (incremental check for diagnostics plus the document's syntax index).
//!
//! Run: `cargo bench --bench tooling`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

/// The conformance files concatenated and repeated to at least `lines` lines.
fn corpus(lines: usize) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|x| x == "rtfs"));
    paths.sort();
    let mut one = String::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        if rtfs::format::format_source(&text).is_ok() {
            one.push_str(&text);
            one.push('\n');
        }
    }
    assert!(!one.is_empty(), "no conformance files under {dir}");
    let mut out = String::new();
    while out.lines().count() < lines {
        out.push_str(&one);
    }
    out
}

/// `n` lines of small functions, each a top-level form of 5 lines.
fn program(lines: usize) -> String {
    (0..lines / 5)
        .map(|i| format!("(defn f{i} [x]\n  (let [y (* x {i})]\n    (if (> y 10)\n      (- y 1)\n      (+ y 1))))\n"))
        .collect()
}

fn fmt(c: &mut Criterion) {
    let src = corpus(10_000);
    let mut g = c.benchmark_group("fmt");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("10k_lines", |b| {
        b.iter(|| rtfs::format::format_source(black_box(&src)).map(|s| s.len()))
    });
    g.finish();
}

fn lsp_edit(c: &mut Criterion) {
    let base = program(5_000);
    let mut rt = rtfs::Runtime::new();
    rt.check_incremental("big.rtfs", &base)
        .expect("the program compiles");
    let mut g = c.benchmark_group("lsp");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    let mut n = 0u64;
    g.bench_function("one_form_edit_5k_lines", |b| {
        b.iter(|| {
            // A different body for f500 each time, so every iteration is a real edit.
            n += 1;
            let edited = base.replacen("(* x 500)", &format!("(* x {})", 500 + n), 1);
            let report = rt.check_incremental("big.rtfs", &edited);
            let doc = rtfs::lsp::DocumentIndex::new(edited);
            (report.is_ok(), doc.definitions())
        })
    });
    g.finish();
}

criterion_group!(benches, fmt, lsp_edit);
criterion_main!(benches);
