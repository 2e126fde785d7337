//! Runs every case of `tests/conformance/*.rtfs` (format in `tests/conformance/README.md`)
//! through the runtime and reports each failure with its file and line.

use std::path::Path;

use rtfs::Runtime;

#[path = "support/cases.rs"]
mod cases;
use cases::{Case, Expect, parse_cases};

/// Runs one case; `None` when it passes, else what went wrong.
fn run_case(case: &Case) -> Option<String> {
    let mut rt = Runtime::new();
    rt.capture_output();
    let result = rt.eval_source(&case.file, case.source.as_bytes());
    let output = rt.take_output();
    for p in &case.prints {
        if !output.contains(p.as_str()) {
            return Some(format!("expected output containing {p:?}, got {output:?}"));
        }
    }
    match (&case.expect, result) {
        (Expect::Value(want), Ok(v)) => {
            let got = v.pr_str();
            (got != *want).then(|| format!("expected {want}, got {got}"))
        }
        (Expect::Value(want), Err(e)) => Some(format!(
            "expected {want}, got error: {}",
            rt.render_error(&e).trim_end()
        )),
        (Expect::Error(want), Ok(v)) => Some(format!(
            "expected an error matching {want:?}, got value {}",
            v.pr_str()
        )),
        (Expect::Error(want), Err(e)) => {
            let text = match &e {
                rtfs::Error::Runtime(r) => format!("{} {}", r.kind(), r.message()),
                rtfs::Error::Parse(d) | rtfs::Error::Compile(d) => {
                    format!(
                        "{e} {}",
                        d.iter()
                            .map(|d| format!("{} {}", d.code, d.message))
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                }
                other => format!("{other} {}", rt.render_error(other)),
            }
            .to_lowercase();
            let want_l = want.to_lowercase();
            let ok = text.contains(&want_l)
                || text.replace('-', " ").contains(&want_l.replace('-', " "));
            (!ok).then(|| {
                format!(
                    "expected an error matching {want:?}, got: {}",
                    text.trim_end()
                )
            })
        }
    }
}

#[test]
fn conformance_suite() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/conformance exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rtfs"))
        .collect();
    files.sort();
    let only = std::env::var("CONFORMANCE_FILTER").ok();
    let mut total = 0;
    let mut failures = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if only.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable conformance file");
        for case in parse_cases(&format!("tests/conformance/{name}"), &text) {
            total += 1;
            if let Some(why) = run_case(&case) {
                failures.push(format!(
                    "{}:{}: {}\n    {}",
                    case.file,
                    case.line,
                    why,
                    case.source.trim().replace('\n', "\n    ")
                ));
            }
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    eprintln!(
        "conformance: {} passed, {} failed",
        total - failures.len(),
        failures.len()
    );
    assert!(
        only.is_some() || total >= 400,
        "expected at least 400 conformance cases, found {total}"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} conformance cases failed",
        failures.len()
    );
}
