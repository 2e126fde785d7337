//! Differential testing of the tiers: every conformance case, and random arithmetic/loop
//! programs, give the same value (or the same error, kind and message) and the same
//! output under the interpreter and under the JIT.

use std::path::Path;

use proptest::prelude::*;
use rtfs::{Runtime, Tier};

#[path = "support/cases.rs"]
#[allow(dead_code)]
mod cases;

/// What a run produced, in comparable form.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    result: Result<String, String>,
    output: String,
}

/// Conformance cases in which compiled code ran to completion at least once under `jit`
/// (151 when the floor was set). A floor, so a change that quietly stops the JIT from
/// running (every call declined or bailing) fails here instead of comparing the
/// interpreter with itself. Raise it when the JIT covers more.
const NATIVE_CASES_FLOOR: usize = 140;

fn run(src: &str, tier: Tier) -> (Outcome, rtfs::JitStats) {
    let (o, stats, _) = run_counting(src, tier);
    (o, stats)
}

/// `run`, and the number of calls that completed in compiled code.
fn run_counting(src: &str, tier: Tier) -> (Outcome, rtfs::JitStats, u64) {
    let mut rt = Runtime::new();
    rt.set_tier(tier);
    rt.capture_output();
    let r = rt.eval_source("<diff>", src.as_bytes());
    let result = match r {
        Ok(v) => Ok(v.pr_str()),
        Err(rtfs::Error::Runtime(e)) => {
            Err(format!("{}: {} @{:?}", e.kind(), e.message(), e.loc()))
        }
        Err(e) => Err(rt.render_error(&e)),
    };
    let output = rt.take_output();
    (
        Outcome { result, output },
        rt.jit_stats(),
        rt.native_calls(),
    )
}

#[test]
fn conformance_cases_agree_across_tiers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/conformance exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rtfs"))
        .collect();
    files.sort();
    let (mut total, mut compiled, mut native_cases) = (0, 0, 0);
    let mut diffs = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable conformance file");
        let name = path.display().to_string();
        for case in cases::parse_cases(&name, &text) {
            total += 1;
            let (interp, _) = run(&case.source, Tier::Interp);
            for tier in [Tier::Jit, Tier::Auto] {
                let (other, stats, native) = run_counting(&case.source, tier);
                compiled += stats.functions_compiled;
                if tier == Tier::Jit && native > 0 {
                    native_cases += 1;
                }
                if other != interp {
                    diffs.push(format!(
                        "{}:{} under {tier:?}: interp {interp:?} vs {other:?}",
                        case.file, case.line
                    ));
                }
            }
        }
    }
    for d in &diffs {
        eprintln!("DIFF {d}");
    }
    eprintln!(
        "differential: {total} cases, {compiled} functions compiled by the JIT, \
         compiled code ran in {native_cases} cases"
    );
    assert_eq!(
        total,
        cases::CASE_COUNT,
        "tests/conformance holds {total} cases, CASE_COUNT says {}",
        cases::CASE_COUNT
    );
    assert!(
        native_cases >= NATIVE_CASES_FLOOR,
        "compiled code ran in only {native_cases} cases (floor {NATIVE_CASES_FLOOR}): the \
         comparison is turning vacuous"
    );
    assert!(
        diffs.is_empty(),
        "{} cases differ between tiers",
        diffs.len()
    );
}

/// Programs over the benchmark kernels and edge cases the guards must catch.
#[test]
fn kernels_and_guards_agree() {
    let programs = [
        "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 20)",
        "(defn tak [x y z] (if (< y x) (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y)) z)) (tak 12 8 4)",
        "(defn s [n] (loop [i 0 acc 0] (if (< i n) (recur (inc i) (mod (+ acc (* i i)) 1000000007)) acc))) (s 10000)",
        // Overflow inside compiled code: the interpreter reports it.
        "(defn f [n] (* n n n n)) (f 100000000)",
        "(defn f [n] (loop [i 0 acc 1] (if (< i n) (recur (inc i) (* acc 3)) acc))) (f 50)",
        // Inexact and zero divisions.
        "(defn f [a b] (/ a b)) [(f 6 3) (f 7 2)]",
        "(defn f [a b] (mod a b)) [(f 7 -2) (f -7 2) (f 7 2)]",
        "(defn f [a b] (rem a b)) (f 7 0)",
        "(defn f [a] (quot a 0)) (f 1)",
        // Types: a float argument after int calls; mixed arithmetic.
        "(defn f [a b] (+ (* a 2) b)) [(f 1 2) (f 1.5 2) (f 1 2.5)]",
        "(defn f [x] (if (> x 0.5) (* x 2.0) (- x))) [(f 1.0) (f 0.25) (f -0.0)]",
        // Mutual recursion through globals, booleans.
        "(defn ev? [n] (if (= n 0) true (od? (- n 1)))) (defn od? [n] (if (= n 0) false (ev? (- n 1)))) [(ev? 10) (od? 7)]",
        // Deep recursion: the depth budget bails, the interpreter raises.
        "(defn down [n] (if (= n 0) 0 (+ 1 (down (- n 1))))) (down 1000000)",
        // A global constant inlined, then redefined.
        "(def k 3) (defn f [x] (* x k)) (def a (f 2)) (def k 5) [a (f 2)]",
        // Redefining a callee.
        "(defn g [x] (+ x 1)) (defn f [x] (g x)) (def a (f 1)) (defn g [x] (+ x 10)) [a (f 1)]",
        "(defn f [x] (let [y (* x 2) z (+ y 1)] (if (zero? (mod z 3)) y z))) [(f 1) (f 4) (f 7)]",
        "(defn f [a b] [(< a b) (= a b) (not= a b) (== a b)]) (f 1 2)",
        "(defn f [n] (cond (< n 0) -1 (= n 0) 0 :else 1)) [(f -5) (f 0) (f 5)]",
        // Division by a positive constant: unsigned when the dividend is provably >= 0,
        // signed with the floor fix-up otherwise; a loop variable that starts at 0 and turns
        // negative refutes the non-negative assumption.
        "(defn f [n] (loop [i 0 acc 3] (if (< i n) (recur (inc i) (- acc 2)) (+ (* 1000 (mod acc 7)) (* 10 (rem acc 7)) (quot acc 7))))) [(f 0) (f 1) (f 2) (f 9)]",
        "(defn f [n] (loop [i 0 acc 0] (if (< i n) (recur (inc i) (+ (* acc 3) (- 5 i))) (+ (mod acc 1000000007) (rem acc 13))))) [(f 3) (f 10) (f 40)]",
        "(defn f [x] [(mod x 7) (rem x 7) (quot x 7)]) [(f -15) (f 15) (f 0) (f -7)]",
        "(defn f [x] (+ (mod x 7) (rem x 7) (quot x 7))) [(f -15) (f 15) (f 0) (f -7) (f -9223372036854775807)]",
        "(defn f [x] (/ (* x x) 4)) [(f 4) (f 3) (f -6)]",
        "(defn f [x] (/ x 4)) [(f 8) (f -8) (f -6)]",
    ];
    let mut compiled = 0;
    for p in programs {
        let (a, _) = run(p, Tier::Interp);
        let (b, stats) = run(p, Tier::Jit);
        compiled += stats.functions_compiled;
        assert_eq!(a, b, "tiers differ on {p}");
    }
    assert!(
        compiled >= 10,
        "expected most kernels compiled, got {compiled}"
    );
}

/// The generic path: boxed values, constants, pure built-ins, callbacks, guards failing
/// with boxed values live, errors and effects inside callbacks.
#[test]
fn boxed_values_agree() {
    let programs = [
        // Strings and numbers mixed; a float where an int was seen before.
        r#"(defn f [s n] (str s "-" n)) [(f "a" 1) (f "b" 2.5) (f nil :k)]"#,
        r#"(defn f [s] (if (= s "x") :yes (count s))) [(f "x") (f "hello") (f [1 2])]"#,
        // Collections: literals, conj/assoc/get, nested.
        "(defn f [v] (conj v (count v))) [(f [1 2]) (f []) (f '(1))]",
        "(defn f [m k] (assoc m k (inc (get m k 0)))) [(f {} :a) (f {:a 41} :a)]",
        "(defn f [x y] {:sum (+ x y) :both [x y] :set #{x}}) [(f 1 2) (f 1.5 \"s\")]",
        // Branches of different types join as boxed values; nil from `when`.
        r#"(defn f [x] (if (> x 0) x "neg")) [(f 3) (f -3)]"#,
        "(defn f [x] (when (> x 0) (* x 2))) [(f 3) (f -3)]",
        "(defn f [x] (cond (< x 0) :neg (= x 0) nil :else (/ x 2))) [(f -1) (f 0) (f 4) (f 3)]",
        // Loops carrying boxed values (widened by recur), and region discipline.
        "(defn f [n] (loop [i 0 v []] (if (< i n) (recur (inc i) (conj v (* 2 i))) v))) (f 20)",
        "(defn f [n] (loop [i 0 acc 0] (if (< i n) (recur (inc i) (if (even? i) (+ acc i) (str acc))) acc))) [(f 0) (f 1) (f 6)]",
        r#"(defn f [n] (loop [i 0 s ""] (if (< i n) (recur (inc i) (str s i)) (count s)))) (f 200)"#,
        // A guard fails mid-loop with boxed values live (overflow; then a built-in error).
        r#"(defn f [n] (loop [i 0 acc "" m 1] (if (< i n) (recur (inc i) (str acc i) (* m 1000000)) [acc m]))) (f 9)"#,
        r#"(defn f [v] (loop [i 0 acc []] (if (< i 5) (recur (inc i) (conj acc (nth v i))) acc))) [(f [1 2 3 4 5]) (f [1 2])]"#,
        // Global constants of every kind, then redefined.
        "(def v [1 2 3]) (def k :x) (defn f [i] [(nth v i) k]) (def a (f 0)) (def v [7 8 9]) [a (f 2)]",
        // map/filter/reduce with compiled callbacks (global functions as values) ...
        "(defn sq [x] (* x x)) (defn f [v] (reduce + 0 (map sq v))) (f [1 2 3 4])",
        "(defn f [v] (filter even? (map inc v))) (f [1 2 3 4 5])",
        "(defn f [v] (reduce (fn [a b] (+ a b)) 0 v)) (f [1 2 3])",
        // ... and interpreted ones (a callback with try stays interpreted).
        "(defn cb [x] (try (quot 10 x) (catch :error e -1))) (defn f [v] (map cb v)) (f [1 0 5])",
        // An error thrown inside a callback: bail, the interpreter reports it.
        r#"(defn bad [x] (if (> x 2) (throw "too big") x)) (defn f [v] (map bad v)) (f [1 2 3])"#,
        r#"(defn bad [x] (if (> x 2) (throw "too big") x)) (defn f [v] (try (map bad v) (catch e :caught))) (f [1 2 3])"#,
        // Effects inside callbacks happen exactly once (refused in compiled code, re-run).
        r#"(defn noisy [x] (println "saw" x) x) (defn f [v] (reduce + 0 (map noisy v))) (f [1 2 3])"#,
        r#"(defn noisy [x] (try (println "saw" x) (catch e :caught)) x) (defn f [v] (map noisy v)) (f [1 2])"#,
        r#"(def a (atom 0)) (defn bump [x] (swap! a inc) x) (defn f [v] (count (map bump v))) [(f [1 2 3]) @a]"#,
        // A built-in held by a global, called; apply with a built-in.
        "(def plus +) (defn f [a b] (plus a b)) [(f 1 2) (f 1.5 2)]",
        "(defn f [v] (apply str v)) (f [1 \"a\" :b])",
        // Closures: created in compiled code, called through function values, compiled
        // with their captures (closures.rtfs in small).
        "(defn make-adder [n] (fn [x] (+ x n))) (defn compose [f g] (fn [x] (f (g x)))) (defn run [n] (loop [i 0 acc 0] (if (< i n) (let [step (compose (make-adder i) (make-adder 1))] (recur (inc i) (mod (step acc) 999983))) acc))) (run 300)",
        "(defn twice [f x] (f (f x))) [(twice inc 1) (twice (fn [s] (str s \"!\")) \"a\") (twice :a {:a {:a 3}})]",
        "(defn f [n] (let [g (fn [x] (* x n))] (reduce + 0 (map g [1 2 3])))) [(f 2) (f 2.5)]",
        "(defn f [xs k] (filter (fn [x] (> x k)) xs)) (f [1 5 2 7] 3)",
        // A closure's capture changes type: a guard at entry, the interpreter re-runs.
        "(defn mk [n] (fn [x] (+ x n))) (defn f [] [((mk 1) 1) ((mk 1.5) 1) ((mk \"s\") 1)]) (f)",
        // A closure overflowing inside a callback, and one throwing.
        "(defn f [v m] (map (fn [x] (* x m)) v)) [(f [1 2] 3) (f [1 4611686018427387904] 4)]",
        r#"(defn f [v] (map (fn [x] (if (neg? x) (throw "neg") x)) v)) (f [1 -1])"#,
        // A closure printing: refused inside compiled code, printed once by the re-run.
        r#"(defn f [v] (map (fn [x] (println "x" x) x) v)) (f [1 2])"#,
        // Self-recursive closure (letfn-style via a named fn) and a closure returned out.
        "(defn f [n] (let [g (fn g [k acc] (if (zero? k) acc (g (dec k) (+ acc n))))] (g 10 0))) [(f 3) (f 0.5)]",
        // Errors from built-ins on boxed values: the interpreter's exact error.
        r#"(defn f [s] (+ s 1)) (f "x")"#,
        "(defn f [v i] (nth v i)) (f [1 2] 5)",
    ];
    let mut compiled = 0;
    for p in programs {
        let (a, _) = run(p, Tier::Interp);
        for tier in [Tier::Jit, Tier::Auto] {
            let (b, stats) = run(p, tier);
            compiled += stats.functions_compiled;
            assert_eq!(a, b, "tiers differ on {p} under {tier:?}");
        }
    }
    assert!(
        compiled >= 30,
        "expected the boxed kernels compiled, got {compiled}"
    );
}

/// Random well-typed integer/float expressions over two parameters.
fn arb_expr(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        (-5i64..50).prop_map(|n| n.to_string()),
        prop_oneof![
            Just(i64::MAX.to_string()),
            Just((i64::MIN + 1).to_string()),
            Just("4611686018427387904".to_string()),
            Just("0.5".to_string()),
            Just("-2.25".to_string()),
        ],
    ];
    leaf.prop_recursive(depth, 48, 3, |inner| {
        let bin = prop_oneof![
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
            Just("mod"),
            Just("rem"),
            Just("quot"),
        ];
        let cmp = prop_oneof![Just("<"), Just("<="), Just(">"), Just(">="), Just("==")];
        prop_oneof![
            (bin, inner.clone(), inner.clone()).prop_map(|(o, x, y)| format!("({o} {x} {y})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(x, y, z)| format!("(+ {x} {y} {z})")),
            (
                cmp,
                inner.clone(),
                inner.clone(),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(c, x, y, t, e)| format!("(if ({c} {x} {y}) {t} {e})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("(let [t {x}] (- t {y}))")),
            inner.clone().prop_map(|x| format!("(inc {x})")),
            (
                prop_oneof![Just("mod"), Just("rem"), Just("quot"), Just("/")],
                inner.clone(),
                prop_oneof![1i64..13, Just(1_000_000_007)]
            )
                .prop_map(|(o, x, k)| format!("({o} {x} {k})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!(
                "(loop [i 0 acc 0] (if (< i 4) (recur (inc i) (+ (mod acc 9) (- {x} {y}))) (mod acc 5)))"
            )),
            inner.clone().prop_map(|x| format!("(- {x})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!(
                "(loop [i 0 acc {x}] (if (< i 5) (recur (inc i) (+ acc {y})) acc))"
            )),
        ]
    })
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_agree(body in arb_expr(4), args in proptest::collection::vec((-20i64..20, -3i64..1000), 1..4)) {
        let calls: Vec<String> = args.iter().map(|(a, b)| format!("(f {a} {b})")).collect();
        let src = format!("(defn f [a b] {body}) (def r [{}]) r", calls.join(" "));
        let (a, _) = run(&src, Tier::Interp);
        let (b, _) = run(&src, Tier::Jit);
        prop_assert_eq!(a, b, "program: {}", src);
    }

    /// The same expressions in a loop at the top level of a program: compiled as a thunk
    /// under `jit` and `auto` (bounded increments, the sign analysis, bail-outs).
    #[test]
    fn random_top_level_loops_agree(body in arb_expr(4), a in -20i64..20, b in -3i64..1000) {
        let src = format!(
            "(def b {b}) (loop [i 0 a {a} out []] (if (< i 3) (recur (inc i) (+ a 1) (conj out {body})) out))"
        );
        let (want, _) = run(&src, Tier::Interp);
        for tier in [Tier::Jit, Tier::Auto] {
            let (got, _) = run(&src, tier);
            prop_assert_eq!(&want, &got, "{:?} program: {}", tier, src);
        }
    }
}

/// Random expressions mixing numbers with strings, keywords, nil and collections: the
/// generic path (and errors from built-ins on the wrong types) must agree.
fn arb_boxed_expr(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        (-3i64..10).prop_map(|n| n.to_string()),
        Just("\"x\"".to_string()),
        Just(":k".to_string()),
        Just("nil".to_string()),
        Just("[1 2]".to_string()),
        Just("2.5".to_string()),
    ];
    leaf.prop_recursive(depth, 40, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("(str {x} {y})")),
            inner.clone().prop_map(|x| format!("(count (str {x}))")),
            (inner.clone(), inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(x, y, t, e)| format!("(if (= {x} {y}) {t} {e})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("(conj [{x}] {y})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("(+ {x} {y})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("(get {{:k {x}}} {y})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("[{x} {y}]")),
            inner.clone().prop_map(|x| format!("(not {x})")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!(
                "(loop [i 0 acc {x}] (if (< i 3) (recur (inc i) (str acc {y})) acc))"
            )),
        ]
    })
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_boxed_programs_agree(
        body in arb_boxed_expr(3),
        args in proptest::collection::vec(
            (prop_oneof![Just("1"), Just("\"s\""), Just("nil"), Just("[3]")],
             prop_oneof![Just("0"), Just(":k"), Just("\"x\""), Just("1.5")]),
            1..4,
        ),
    ) {
        let calls: Vec<String> = args.iter().map(|(a, b)| format!("(f {a} {b})")).collect();
        let src = format!("(defn f [a b] {body}) (def r [{}]) r", calls.join(" "));
        let (x, _) = run(&src, Tier::Interp);
        let (y, _) = run(&src, Tier::Jit);
        prop_assert_eq!(x, y, "program: {}", src);
    }
}
