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

fn run(src: &str, tier: Tier) -> (Outcome, rtfs::JitStats) {
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
    (Outcome { result, output }, rt.jit_stats())
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
    let (mut total, mut compiled) = (0, 0);
    let mut diffs = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable conformance file");
        let name = path.display().to_string();
        for case in cases::parse_cases(&name, &text) {
            total += 1;
            let (interp, _) = run(&case.source, Tier::Interp);
            for tier in [Tier::Jit, Tier::Auto] {
                let (other, stats) = run(&case.source, tier);
                compiled += stats.functions_compiled;
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
    eprintln!("differential: {total} cases, {compiled} functions compiled by the JIT");
    assert!(
        total >= 400,
        "expected the full conformance suite, found {total}"
    );
    assert!(
        compiled > 0,
        "the JIT compiled nothing: the comparison would be vacuous"
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
}
