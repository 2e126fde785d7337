//! The three renderings of a test run: the human one, one JSON object, JUnit XML.

use std::fmt::Write;

use super::runner::{FileResult, TestResult};

pub struct Totals {
    pub passed: usize,
    pub failed: usize,
}

pub fn totals(files: &[FileResult]) -> Totals {
    let mut t = Totals {
        passed: 0,
        failed: 0,
    };
    for f in files {
        if f.load_error.is_some() {
            t.failed += 1;
        }
        for r in &f.tests {
            if r.passed() {
                t.passed += 1;
            } else {
                t.failed += 1;
            }
        }
    }
    t
}

/// Failures with file:line and expected/actual; the summary alone on the last line.
pub fn human(files: &[FileResult]) -> String {
    let mut out = String::new();
    for f in files {
        if let Some(e) = &f.load_error {
            let _ = writeln!(out, "ERROR loading {}:\n{}", f.path, e.trim_end());
        }
        for t in f.tests.iter().filter(|t| !t.passed()) {
            for fail in &t.failures {
                let _ = writeln!(
                    out,
                    "FAIL in {} ({}:{}:{})",
                    t.name, f.path, fail.line, fail.col
                );
                for c in &fail.contexts {
                    let _ = writeln!(out, "  testing: {c}");
                }
                if let Some(m) = &fail.message {
                    let _ = writeln!(out, "  message: {m}");
                }
                let _ = writeln!(out, "  form:     {}", fail.form);
                let _ = writeln!(out, "  expected: {}", fail.expected);
                let _ = writeln!(out, "    actual: {}", fail.actual);
            }
            if let Some(e) = &t.error {
                let _ = writeln!(
                    out,
                    "ERROR in {} ({}:{}):\n{}",
                    t.name,
                    f.path,
                    t.line,
                    e.trim_end()
                );
            }
            if !t.output.is_empty() {
                let _ = writeln!(out, "  output:\n{}", t.output.trim_end());
            }
        }
    }
    let t = totals(files);
    let _ = writeln!(out, "{} passed, {} failed", t.passed, t.failed);
    out
}

fn test_json(t: &TestResult) -> serde_json::Value {
    serde_json::json!({
        "name": t.name,
        "line": t.line,
        "passed": t.passed(),
        "assertions": t.assertions,
        "seconds": t.seconds,
        "error": t.error,
        "output": t.output,
        "failures": t.failures.iter().map(|f| serde_json::json!({
            "line": f.line,
            "col": f.col,
            "form": f.form,
            "testing": f.contexts,
            "message": f.message,
            "expected": f.expected,
            "actual": f.actual,
        })).collect::<Vec<_>>(),
    })
}

pub fn json(files: &[FileResult]) -> serde_json::Value {
    let t = totals(files);
    serde_json::json!({
        "passed": t.passed,
        "failed": t.failed,
        "files": files.iter().map(|f| serde_json::json!({
            "path": f.path,
            "load_error": f.load_error,
            "tests": f.tests.iter().map(test_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// One `<testsuite>` per file; a file that failed to load is a suite with one errored case.
pub fn junit(files: &[FileResult]) -> String {
    let t = totals(files);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"rtfs test\" tests=\"{}\" failures=\"{}\">",
        t.passed + t.failed,
        t.failed
    );
    for f in files {
        let p = esc(&f.path);
        if let Some(e) = &f.load_error {
            let _ = writeln!(
                x,
                "  <testsuite name=\"{p}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase name=\"(load)\" classname=\"{p}\">\n      <error message=\"file failed to load\">{}</error>\n    </testcase>\n  </testsuite>",
                esc(e)
            );
            continue;
        }
        let failures = f.tests.iter().filter(|t| !t.failures.is_empty()).count();
        let errors = f
            .tests
            .iter()
            .filter(|t| t.failures.is_empty() && t.error.is_some())
            .count();
        let secs: f64 = f.tests.iter().map(|t| t.seconds).sum();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{p}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{secs:.6}\">",
            f.tests.len()
        );
        for t in &f.tests {
            let _ = write!(
                x,
                "    <testcase name=\"{}\" classname=\"{p}\" time=\"{:.6}\"",
                esc(&t.name),
                t.seconds
            );
            if t.passed() {
                x.push_str("/>\n");
                continue;
            }
            x.push_str(">\n");
            for fail in &t.failures {
                let _ = writeln!(
                    x,
                    "      <failure message=\"{}:{}:{}: expected {}, actual {}\">{}</failure>",
                    p,
                    fail.line,
                    fail.col,
                    esc(&fail.expected),
                    esc(&fail.actual),
                    esc(&fail.form)
                );
            }
            if let Some(e) = &t.error {
                let _ = writeln!(
                    x,
                    "      <error message=\"uncaught error\">{}</error>",
                    esc(e)
                );
            }
            if !t.output.is_empty() {
                let _ = writeln!(x, "      <system-out>{}</system-out>", esc(&t.output));
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
