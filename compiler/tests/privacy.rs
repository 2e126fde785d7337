//! The delegation pass's privacy analysis: parameter, binding and call-site marks, and the
//! taint that carries them to every call computed from sensitive data.

use rtfs_compiler::delegation::CallSite;
use rtfs_compiler::globals::GlobalTable;
use rtfs_compiler::source::FileId;
use rtfs_compiler::{CompileHost, Compiler};
use rtfs_ir::expr::{Expr, TopLevel};
use rtfs_ir::{RtError, RtResult, Value};

/// Runs nothing: the pass needs no evaluator for forms without macros of their own.
struct NoRun;

impl CompileHost for NoRun {
    fn run(&mut self, _top: &TopLevel, _globals: &GlobalTable) -> RtResult<Value> {
        Ok(Value::Nil)
    }
    fn apply(&mut self, _f: &Value, _args: &[Value], _g: &GlobalTable) -> RtResult<Value> {
        Err(RtError::type_error("no evaluator in this test"))
    }
    fn builtin(&self, name: &str) -> Option<&'static rtfs_ir::Builtin> {
        rtfs_stdlib::lookup(name)
    }
}

fn compile(src: &str) -> (Vec<TopLevel>, Vec<CallSite>) {
    let forms = match rtfs_compiler::reader::read(FileId(0), src) {
        Ok(f) => f,
        Err(d) => panic!("{src}: {d:?}"),
    };
    let mut c = Compiler::new();
    c.record_call_sites();
    let units = match c.compile_unit(&forms, &mut NoRun) {
        Ok(u) => u,
        Err(d) => panic!("{src}: {d:?}"),
    };
    (units, c.take_call_sites())
}

/// The call sites naming `callee`, in source order.
fn sites<'a>(all: &'a [CallSite], callee: &str) -> Vec<&'a CallSite> {
    all.iter().filter(|s| s.callee == callee).collect()
}

fn sensitivity(src: &str, callee: &str) -> Vec<bool> {
    let (_, all) = compile(src);
    sites(&all, callee).iter().map(|s| s.sensitive).collect()
}

#[test]
fn a_marked_parameter_taints_calls_that_pass_it() {
    let src = "(defn summarize [^{:privacy :sensitive} doc style]
                 (call :ccos.llm/summarize doc)
                 (call :ccos.llm/summarize style))";
    assert_eq!(sensitivity(src, "ccos.llm/summarize"), vec![true, false]);
    let (_, all) = compile(src);
    let first = sites(&all, "ccos.llm/summarize")[0];
    assert_eq!(first.why, vec!["arg 1: param `doc`".to_string()]);
}

#[test]
fn the_shorthand_marks_like_the_map_form() {
    let src = "(defn f [^:sensitive doc style] (call :c doc) (call :c style))";
    assert_eq!(sensitivity(src, "c"), vec![true, false]);
}

#[test]
fn fn_multi_arity_and_rest_parameters_are_tracked() {
    let src = "(def g (fn [^:sensitive a b] (call :c a) (call :c b)))
               (defn m
                 ([x] (call :c x))
                 ([^:sensitive x y] (call :c x) (call :c y)))
               (defn r [a & ^:sensitive more] (call :c a) (call :c more))";
    assert_eq!(
        sensitivity(src, "c"),
        vec![true, false, false, true, false, false, true]
    );
}

#[test]
fn every_slot_bound_from_a_destructured_sensitive_parameter_is_tainted() {
    let src = "(defn f [^:sensitive {:keys [name ssn]} [a b] plain]
                 (call :c name) (call :c ssn) (call :c a) (call :c plain))
               (defn g [^:sensitive [x [y z]] w] (call :c z) (call :c w))";
    assert_eq!(
        sensitivity(src, "c"),
        vec![true, true, false, false, true, false]
    );
}

#[test]
fn call_site_marks_on_arguments() {
    let src = "(defn send [x] x)
               (defn h [text other]
                 (call :ccos.llm/summarize ^{:privacy :sensitive} text)
                 (call :ccos.llm/summarize other)
                 (send ^:sensitive (str text \"!\"))
                 (send other))";
    assert_eq!(sensitivity(src, "ccos.llm/summarize"), vec![true, false]);
    assert_eq!(sensitivity(src, "send"), vec![true, false]);
    let (_, all) = compile(src);
    assert_eq!(
        sites(&all, "ccos.llm/summarize")[0].why,
        vec!["arg 1: marked `text`".to_string()]
    );
}

#[test]
fn the_marker_is_removed_from_the_ir() {
    let (units, _) = compile("(defn h [t] (call :c ^:sensitive t) (let [^:sensitive u t] u))");
    fn has_marker(e: &Expr) -> bool {
        match e {
            Expr::CallBuiltin(b, xs, _) => {
                rtfs_compiler::privacy::is_mark(b) || xs.iter().any(has_marker)
            }
            Expr::DefGlobal(_, x) => has_marker(x),
            Expr::MakeClosure(l, _) => l.arities.iter().any(|a| has_marker(&a.body)),
            Expr::Do(xs) => xs.iter().any(has_marker),
            Expr::SetLocal(_, x) => has_marker(x),
            Expr::CapCall(c) => c.args.iter().any(has_marker),
            _ => false,
        }
    }
    assert!(!units.iter().any(|u| has_marker(&u.expr)));
}

#[test]
fn taint_follows_let_bound_locals_and_stops_at_unrelated_ones() {
    let src = "(defn f [^:sensitive doc n]
                 (let [head (subs doc 0 10)
                       label (str \"n=\" n)
                       [w1 w2] (split head \" \")
                       twice (+ (count w1) 1)
                       t2 label]
                   (call :c head) (call :c label) (call :c w2) (call :c twice) (call :c t2)
                   (call :c (if (= doc \"\") \"empty\" \"full\"))))";
    assert_eq!(
        sensitivity(src, "c"),
        vec![true, false, true, true, false, true]
    );
}

#[test]
fn a_marked_let_binding_is_a_source() {
    let src = "(defn f [a] (let [^:sensitive s (str a) t (str a)] (call :c s) (call :c t)))";
    assert_eq!(sensitivity(src, "c"), vec![true, false]);
}

#[test]
fn loops_and_recur_carry_taint_to_a_fixpoint() {
    // `acc` starts clean and becomes sensitive only through `recur`.
    let src = "(defn f [^:sensitive doc]
                 (loop [i 0 acc \"\"]
                   (call :c acc)
                   (call :c i)
                   (if (< i 3) (recur (inc i) (str acc doc)) acc)))";
    assert_eq!(sensitivity(src, "c"), vec![true, false]);
    // Self tail calls (lowered to jumps) and plain self calls taint parameters the same way.
    let src = "(defn g [^:sensitive doc acc n]
                 (call :c acc)
                 (if (> n 0) (g doc (str acc doc) (dec n)) acc))";
    assert_eq!(sensitivity(src, "c"), vec![true]);
    let src = "(defn h [^:sensitive doc acc n]
                 (call :c acc)
                 (if (> n 0) (str (h doc (str acc doc) (dec n))) acc))";
    assert_eq!(sensitivity(src, "c"), vec![true]);
}

#[test]
fn closures_over_sensitive_data_and_closures_created_beside_it() {
    let src = "(defn f [^:sensitive doc]
                 (let [g (fn [] (call :c doc))
                       k (fn [x] (call :c x))]
                   (map k [doc])
                   (g)))
               (defn clean [x] (let [k (fn [y] (call :c y))] (k x)))";
    assert_eq!(sensitivity(src, "c"), vec![true, true, false]);
}

#[test]
fn match_try_and_catch_bindings_inherit_taint() {
    let src = "(defn f [^:sensitive doc]
                 (match doc [a b] (call :c a) _ nil)
                 (try (throw (ex-info doc {})) (catch e (call :c e))))";
    assert_eq!(sensitivity(src, "c"), vec![true, true]);
}

#[test]
fn calls_to_a_function_with_a_sensitive_parameter_carry_sensitive_data() {
    // Forward reference: `caller` is compiled before `summarize`.
    let src = "(defn caller [t] (summarize t \"short\"))
               (defn summarize [^:sensitive doc style] (str doc style))
               (defn other [t] (str t))
               (defn caller2 [t] (other t))";
    assert_eq!(sensitivity(src, "summarize"), vec![true]);
    assert_eq!(sensitivity(src, "other"), vec![false]);
    let (_, all) = compile(src);
    assert_eq!(
        sites(&all, "summarize")[0].why,
        vec!["`summarize` takes sensitive param `doc`".to_string()]
    );
}

#[test]
fn a_remote_hint_on_a_function_with_a_sensitive_parameter_is_an_error() {
    let src = "(defn f ^:delegation :remote \"gpt\" [^:sensitive doc] doc)";
    let forms = rtfs_compiler::reader::read(FileId(0), src).expect("reads");
    let mut c = Compiler::new();
    let Err(diags) = c.compile_unit(&forms, &mut NoRun) else {
        panic!("compiled");
    };
    assert!(
        diags[0].message.contains("sensitive parameter `doc`")
            && diags[0].message.contains("off the device"),
        "{diags:?}"
    );
}

#[test]
fn unmarked_programs_have_no_sensitive_call_sites() {
    let src = "(defn f [a b] (let [c (str a b)] (call :c c) (f c b)))";
    let (_, all) = compile(src);
    assert!(all.iter().all(|s| !s.sensitive && s.why.is_empty()));
}

#[test]
fn a_builtin_given_sensitive_data_becomes_a_sensitive_local_call() {
    // `map` may call back into RTFS functions: the runtime must run it in its sensitive
    // scope, so the pass turns it into a call carrying the sensitive bit.
    let (units, all) = compile("(defn f [^:sensitive d e] (map str [d]) (map str [e]))");
    fn sensitive_builtin_calls(e: &Expr, out: &mut Vec<(String, bool)>) {
        match e {
            Expr::Call(c) => {
                if let Expr::Const(Value::Builtin(b)) = &c.callee {
                    out.push((b.name.to_string(), c.sensitive));
                }
                c.args.iter().for_each(|a| sensitive_builtin_calls(a, out));
            }
            Expr::CallBuiltin(b, xs, _) => {
                out.push((format!("builtin {}", b.name), false));
                xs.iter().for_each(|a| sensitive_builtin_calls(a, out));
            }
            Expr::DefGlobal(_, x) => sensitive_builtin_calls(x, out),
            Expr::MakeClosure(l, _) => l
                .arities
                .iter()
                .for_each(|a| sensitive_builtin_calls(&a.body, out)),
            Expr::Do(xs) | Expr::Vector(xs) => {
                xs.iter().for_each(|a| sensitive_builtin_calls(a, out))
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for u in &units {
        sensitive_builtin_calls(&u.expr, &mut found);
    }
    assert_eq!(
        found,
        vec![
            ("map".to_string(), true),
            ("builtin map".to_string(), false)
        ]
    );
    // Not a delegation call site: `rtfs explain` does not list it.
    assert!(all.is_empty(), "{all:?}");
}
