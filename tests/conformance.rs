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
        (Expect::Error { kind, text }, Ok(v)) => Some(format!(
            "expected an error {kind}{}, got value {}",
            text.as_ref()
                .map(|t| format!(" with {t:?}"))
                .unwrap_or_default(),
            v.pr_str()
        )),
        (Expect::Error { kind, text }, Err(e)) => {
            let (got_kind, message) = match &e {
                rtfs::Error::Runtime(r) => (r.kind().to_string(), r.message().to_string()),
                rtfs::Error::Parse(d) | rtfs::Error::Compile(d) => (
                    if matches!(e, rtfs::Error::Parse(_)) {
                        "parse-error"
                    } else {
                        "compile-error"
                    }
                    .to_string(),
                    d.iter()
                        .map(|d| d.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                other => ("host-error".to_string(), rt.render_error(other)),
            };
            let text_ok = text
                .as_ref()
                .is_none_or(|t| message.to_lowercase().contains(&t.to_lowercase()));
            (got_kind != *kind || !text_ok).then(|| {
                format!(
                    "expected an error {kind}{}, got {got_kind}: {message}",
                    text.as_ref()
                        .map(|t| format!(" with {t:?}"))
                        .unwrap_or_default()
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
                    "{}:{}: (case from line {}) {}\n    {}",
                    case.file,
                    case.expect_line,
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
    match &only {
        Some(f) => assert!(
            total > 0,
            "CONFORMANCE_FILTER={f:?} selects no case: a run that checks nothing is not a pass"
        ),
        None => assert_eq!(
            total,
            cases::CASE_COUNT,
            "tests/conformance holds {total} cases but CASE_COUNT (tests/support/cases.rs) says \
             {}: update it when adding or removing cases",
            cases::CASE_COUNT
        ),
    }
    assert!(
        failures.is_empty(),
        "{} of {total} conformance cases failed",
        failures.len()
    );
}
