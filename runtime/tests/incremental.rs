//! `Runtime::check_incremental`: only forms whose text or environment changed are expanded
//! and lowered again (counters, no timing).

use rtfs_runtime::{Error, Runtime};

const FILE: &str = "plan.rtfs";

fn check(rt: &mut Runtime, text: &str) -> rtfs_compiler::db::CheckStats {
    match rt.check_incremental(FILE, text) {
        Ok(report) => report.stats,
        Err(e) => panic!("check failed: {}", rt.render_error(&e)),
    }
}

const THREE: &str = "
(defn area [w h] (* w h))
(def small (area 2 3))
(def big (area 20 30))
";

#[test]
fn editing_one_of_three_forms_relowers_exactly_one() {
    let mut rt = Runtime::new();
    let s = check(&mut rt, THREE);
    assert_eq!((s.forms, s.forms_lowered, s.forms_reused), (3, 3, 0));

    let s = check(&mut rt, &THREE.replace("(area 2 3)", "(area 2 300)"));
    assert_eq!(s.forms, 3);
    assert_eq!(s.forms_parsed, 3);
    assert_eq!(s.forms_lowered, 1);
    assert_eq!(s.forms_reused, 2);
    // The unchanged `defn` was not lowered again, but still defined (from its cached IR).
    assert_eq!(s.defns_rerun, 1);
}

#[test]
fn unchanged_text_relowers_nothing() {
    let mut rt = Runtime::new();
    check(&mut rt, THREE);
    let s = check(&mut rt, THREE);
    assert_eq!(s.forms_parsed, 0, "salsa reuses the parse");
    assert_eq!(s.forms_lowered, 0);
    assert_eq!(s.forms_reused, 3);
}

const MACROS: &str = "
(defmacro twice [x] `(do ~x ~x))
(defn helper [x] (+ x 1))
(def uses-macro (fn [] (twice (println 1))))
(def plain (helper 41))
";

#[test]
fn unchanged_macros_are_reused() {
    let mut rt = Runtime::new();
    let s = check(&mut rt, MACROS);
    assert_eq!((s.forms, s.forms_lowered), (4, 4));
    let s = check(&mut rt, MACROS);
    assert_eq!((s.forms_lowered, s.forms_reused), (0, 4));
}

#[test]
fn a_changed_defmacro_relowers_the_forms_using_macros() {
    let mut rt = Runtime::new();
    check(&mut rt, MACROS);
    let rev = check(&mut rt, MACROS).macro_env_revision;

    let edited = MACROS.replace("`(do ~x ~x)", "`(do ~x ~x ~x)");
    let s = check(&mut rt, &edited);
    assert_eq!(s.macro_env_revision, rev + 1);
    // The defmacro itself and the one form that uses it; `helper` and `plain` are reused.
    assert_eq!(s.forms_lowered, 2);
    assert_eq!(s.forms_reused, 2);

    // The form really is expanded with the new macro: one that expands to an invalid
    // special form now makes it fail to compile.
    let broken = MACROS.replace("`(do ~x ~x)", "`(if)");
    match rt.check_incremental(FILE, &broken) {
        Err(Error::Compile(diags)) => assert_eq!(diags.len(), 1, "{diags:?}"),
        other => panic!("expected a compile error, got {other:?}"),
    }
    let s = check(&mut rt, MACROS);
    assert_eq!(s.forms_lowered, 2);
}

#[test]
fn a_changed_compile_time_helper_relowers_macro_users() {
    // `shout` calls `helper` while expanding, so editing `helper` can change expansions.
    let text = "
(defn helper [x] (list 'inc x))
(defmacro shout [x] (helper x))
(def a (shout 1))
(def b 2)
";
    let mut rt = Runtime::new();
    check(&mut rt, text);
    let s = check(&mut rt, &text.replace("(list 'inc x)", "(list 'dec x)"));
    // `helper` (edited), then every form mentioning a user macro: `shout` and `a`.
    assert_eq!(s.forms_lowered, 3);
    assert_eq!(s.forms_reused, 1);
    rt.eval_str("(def got (shout 10))").ok();
    assert_eq!(
        rt.eval_str("got").ok(),
        Some(rtfs_ir::Value::Int(9)),
        "the macro uses the new helper"
    );
}

#[test]
fn parse_errors_are_reported_then_cleared() {
    let mut rt = Runtime::new();
    check(&mut rt, THREE);
    let broken = THREE.replace("(area 20 30))", "(area 20 30)");
    match rt.check_incremental(FILE, &broken) {
        Err(e @ Error::Parse(_)) => {
            let text = rt.render_error(&e);
            assert!(text.contains(FILE), "{text}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert!(rt.last_incremental_check().is_some());
    let s = check(&mut rt, THREE);
    assert_eq!(s.forms, 3);
    // The forms are the same as before the broken version: nothing to lower.
    assert_eq!(s.forms_lowered, 0);
}

#[test]
fn diagnostics_point_at_the_current_text() {
    let mut rt = Runtime::new();
    check(&mut rt, THREE);
    let bad = format!("(def pad 0)\n{THREE}(def oops (if))\n");
    let err = rt
        .check_incremental(FILE, &bad)
        .err()
        .map(|e| rt.render_error(&e))
        .unwrap_or_default();
    assert!(err.contains("plan.rtfs:6:"), "{err}");
}

#[test]
fn removed_definitions_are_reported() {
    let mut rt = Runtime::new();
    check(&mut rt, THREE);
    let r = rt
        .check_incremental(FILE, "(defn area [w h] (* w h))\n(def small (area 2 3))\n")
        .ok();
    assert_eq!(
        r.map(|r| r.removed_definitions),
        Some(vec!["big".to_string()])
    );
}
