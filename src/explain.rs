//! `rtfs explain FILE [--json]`: what the compiler's analyses decided about a program.
//! So far, per top-level function: pure or not, and why not (first impure call site).

use std::path::Path;

use rtfs_runtime::Runtime;
use rtfs_runtime::explain::FnReport;

pub fn run(file: &Path, json: bool) -> i32 {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    let mut rt = Runtime::new();
    let reports = match rt.explain_source(&file.display().to_string(), &bytes) {
        Ok(r) => r,
        Err(e) => {
            eprint!("{}", rt.render_error(&e));
            return e.exit_code();
        }
    };
    if json {
        println!("{}", to_json(&reports));
    } else {
        print!("{}", to_text(&reports));
    }
    0
}

pub fn to_json(reports: &[FnReport]) -> serde_json::Value {
    let fns: Vec<_> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "at": r.at,
                "pure": r.pure,
                "reason": r.reason,
                "reason_at": r.reason_at,
            })
        })
        .collect();
    serde_json::json!({ "functions": fns })
}

pub fn to_text(reports: &[FnReport]) -> String {
    let mut out = String::new();
    if reports.is_empty() {
        out.push_str("no top-level functions\n");
    }
    for r in reports {
        match (&r.reason, &r.reason_at) {
            (Some(why), Some(at)) => out.push_str(&format!(
                "{}  impure  ({})\n    {why} at {at}\n",
                r.name, r.at
            )),
            _ => out.push_str(&format!("{}  pure  ({})\n", r.name, r.at)),
        }
    }
    out
}
