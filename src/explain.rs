//! `rtfs explain FILE [--policy FILE | --config FILE] [--json]`: what the compiler's analyses decided —
//! per top-level function, pure or not and why not (`purity_*`), and per call site, the
//! delegation target and the reason (`delegation_*`).

use std::path::Path;

use rtfs_compiler::delegation::CallSite;
use rtfs_compiler::source::SourceMap;
use rtfs_ir::{CallKind, CallTarget};
use rtfs_runtime::Runtime;
use rtfs_runtime::explain::FnReport;

/// Loads the policy (if any), compiles `file` and prints the delegation listing.
pub fn run(file: &Path, policy: Option<rtfs_delegation::Policy>, json: bool) -> i32 {
    let mut rt = Runtime::new();
    if let Some(p) = policy {
        rt.set_policy(p);
    }
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    match rt.explain_source(&file.display().to_string(), &bytes) {
        Ok(ex) => {
            if json {
                let mut out = purity_json(&ex.functions);
                if let (Some(o), serde_json::Value::Object(d)) = (
                    out.as_object_mut(),
                    delegation_json(&ex.call_sites, rt.sources()),
                ) {
                    o.extend(d);
                }
                println!("{out}");
            } else {
                print!("{}", purity_table(&ex.functions));
                println!();
                print!("{}", delegation_table(&ex.call_sites, rt.sources()));
            }
            0
        }
        Err(e) => {
            eprint!("{}", rt.render_error(&e));
            e.exit_code()
        }
    }
}

pub fn purity_json(reports: &[FnReport]) -> serde_json::Value {
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

pub fn purity_table(reports: &[FnReport]) -> String {
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

fn location(site: &CallSite, sources: &SourceMap) -> String {
    let span = rtfs_compiler::source::Span::new(
        rtfs_compiler::source::FileId(site.loc.file),
        site.loc.start,
        site.loc.end,
    );
    sources.location(span)
}

pub(crate) fn target_text(t: &CallTarget) -> String {
    match t {
        CallTarget::Fixed { target, .. } => target.to_string(),
        CallTarget::Runtime { .. } => "decide at run time".into(),
    }
}

fn kind_text(k: CallKind) -> &'static str {
    match k {
        CallKind::Function => "fn",
        CallKind::Capability => "capability",
    }
}

/// ` [sensitive: arg 1: param `doc`]`: why the call must stay on the device.
fn sensitive_text(s: &CallSite) -> String {
    match (s.sensitive, s.why.is_empty()) {
        (false, _) => String::new(),
        (true, true) => " [sensitive]".into(),
        (true, false) => format!(" [sensitive: {}]", s.why.join("; ")),
    }
}

/// One line per call site: `file:line:col  kind  callee  target  (reason)`.
pub fn delegation_table(sites: &[CallSite], sources: &SourceMap) -> String {
    let mut out = String::new();
    for s in sites {
        let callee = match s.kind {
            CallKind::Capability => format!(":{}", s.callee),
            CallKind::Function => s.callee.clone(),
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t({}){}\n",
            location(s, sources),
            kind_text(s.kind),
            callee,
            target_text(&s.target),
            s.target.reason(),
            sensitive_text(s)
        ));
    }
    if sites.is_empty() {
        out.push_str("no call sites\n");
    }
    out
}

/// The same as one JSON object: `{"call_sites": [{location, kind, callee, target, fixed, reason,
/// sensitive, sensitive_why}]}`.
pub fn delegation_json(sites: &[CallSite], sources: &SourceMap) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = sites
        .iter()
        .map(|s| {
            serde_json::json!({
                "location": location(s, sources),
                "kind": kind_text(s.kind),
                "callee": s.callee,
                "target": target_text(&s.target),
                "fixed": matches!(s.target, CallTarget::Fixed { .. }),
                "reason": s.target.reason().to_string(),
                "sensitive": s.sensitive,
                "sensitive_why": s.why,
            })
        })
        .collect();
    serde_json::json!({ "call_sites": rows })
}
