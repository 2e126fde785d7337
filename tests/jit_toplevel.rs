//! Top-level forms that loop run as compiled code under `jit` and `auto`, with the same
//! guards and bail-outs as function bodies; forms that loop but stay interpreted are
//! reported with their location and the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rtfs::{Runtime, Tier};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

fn runtime(tier: Tier) -> Runtime {
    let mut rt = Runtime::new();
    rt.set_tier(tier);
    rt.set_cache_dir(None);
    rt
}

fn eval(tier: Tier, src: &str) -> (String, rtfs::JitStats, Vec<(String, String)>) {
    let mut rt = runtime(tier);
    let v = match rt.eval_str(src) {
        Ok(v) => v.pr_str(),
        Err(e) => format!("error: {}", rt.render_error(&e)),
    };
    rt.jit_wait();
    (v, rt.jit_stats(), rt.jit_rejections())
}

const LOOPS: &[(&str, &str)] = &[
    (
        "(loop [i 0 acc 0] (if (< i 100000) (recur (inc i) (mod (+ acc (* i i)) 1000000007)) acc))",
        "331016704",
    ),
    (
        "(let [n 1000] (loop [i 0 acc 0] (if (< i n) (recur (inc i) (+ acc (* 2 i))) acc)))",
        "999000",
    ),
    (
        "(->> (loop [i 0 acc 1.0] (if (< i 10) (recur (inc i) (* acc 1.5)) acc)) (* 2.0))",
        "115.330078125",
    ),
    (
        "(loop [i 0 acc 0] (if (< i 30) (recur (inc i) (loop [j 0 a acc] (if (< j i) (recur (inc j) (+ a j)) a))) acc))",
        "4060",
    ),
    (
        "(loop [i 0 out []] (if (< i 5) (recur (inc i) (conj out (str \"x\" i))) out))",
        "[\"x0\" \"x1\" \"x2\" \"x3\" \"x4\"]",
    ),
];

#[test]
fn top_level_loops_run_compiled_with_the_interpreters_value() {
    for (src, want) in LOOPS {
        let (v, s, _) = eval(Tier::Interp, src);
        assert_eq!((v.as_str(), s.toplevel_compiled), (*want, 0), "{src}");
        for tier in [Tier::Jit, Tier::Auto] {
            let (v, s, why) = eval(tier, src);
            assert_eq!(v, *want, "{tier:?} {src}");
            assert_eq!(
                (s.toplevel_compiled, s.toplevel_declined),
                (1, 0),
                "{tier:?} {src}: {why:?}"
            );
        }
    }
}

#[test]
fn a_def_whose_value_loops_is_compiled_and_defined() {
    let src =
        "(def total (loop [i 0 a 0] (if (< i 100) (recur (inc i) (+ a i)) a))) [total (inc total)]";
    for tier in [Tier::Jit, Tier::Auto] {
        let (v, s, _) = eval(tier, src);
        assert_eq!((v.as_str(), s.toplevel_compiled), ("[4950 4951]", 1));
    }
}

#[test]
fn forms_that_do_not_loop_are_left_to_the_interpreter() {
    let (v, s, why) = eval(Tier::Jit, "(defn f [x] (+ x 1)) (def y 2) (f y)");
    assert_eq!(v, "3");
    assert_eq!((s.toplevel_compiled, s.toplevel_declined), (0, 0));
    assert!(
        why.iter().all(|(n, _)| !n.starts_with("top-level")),
        "{why:?}"
    );
}

#[test]
fn a_failed_guard_reruns_the_form_interpreted() {
    // Overflow on the 40th iteration: the interpreter's error, exactly.
    let src = "(loop [i 0 a 1] (if (< i 100) (recur (inc i) (* a 3)) a))";
    let (want, _, _) = eval(Tier::Interp, src);
    assert!(want.contains("overflow"), "{want}");
    for tier in [Tier::Jit, Tier::Auto] {
        let (v, s, _) = eval(tier, src);
        assert_eq!(v, want);
        assert_eq!(s.toplevel_compiled, 1);
    }
    // A type guard: the loop's code is planned for ints, then meets a float.
    let src = "(def xs [1 2 3.5]) (loop [i 0 a 0] (if (< i 3) (recur (inc i) (+ a (nth xs i))) a))";
    assert_eq!(eval(Tier::Jit, src).0, "6.5");
}

#[test]
fn effects_keep_a_form_interpreted_and_say_why() {
    let mut rt = runtime(Tier::Jit);
    rt.capture_output();
    let v = rt
        .eval_str("(dotimes [i 3] (print i)) (let [a (atom 0)] (dotimes [i 5] (swap! a + i)) @a)")
        .expect("runs");
    assert_eq!(
        (v.pr_str(), rt.take_output()),
        ("10".to_string(), "012".to_string())
    );
    let s = rt.jit_stats();
    assert_eq!((s.toplevel_compiled, s.toplevel_declined), (0, 2));
    let why = rt.jit_rejections();
    assert!(
        why.iter()
            .any(|(n, r)| n.starts_with("top-level form at <eval>:1:1") && r.contains("`print`")),
        "{why:?}"
    );
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rtfs-top-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RTFS_CACHE_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run rtfs")
}

#[test]
fn stats_report_top_level_forms_compiled_and_declined() {
    let file = temp_file(
        "top.rtfs",
        "(def n 1000)\n(loop [i 0 a 0] (if (< i n) (recur (inc i) (+ a i)) a))\n\
         (loop [i 0] (when (< i 2) (println i) (recur (inc i))))\n",
    );
    let f = file.to_str().unwrap_or_default();
    for tier in ["jit", "auto"] {
        let out = run(&["run", f, "--tier", tier, "--no-cache", "--stats"]);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n1\nnil\n");
        let err = String::from_utf8_lossy(&out.stderr);
        let s: serde_json::Value =
            serde_json::from_str(err.lines().last().unwrap_or_default()).expect("stats JSON");
        assert_eq!(s["jit_toplevel_compiled"], 1, "{s}");
        assert_eq!(s["jit_toplevel_declined"], 1, "{s}");
        let why = s["jit_rejections"].as_array().cloned().unwrap_or_default();
        assert!(
            why.iter().any(|r| r["function"]
                .as_str()
                .is_some_and(|n| n.ends_with("top.rtfs:3:1"))
                && r["reason"].as_str().is_some_and(|r| r.contains("println"))),
            "{s}"
        );
    }
    // The error of a top-level loop is the interpreter's, location included.
    let bad = temp_file(
        "ovf.rtfs",
        "(loop [i 0 a 1]\n  (if (< i 100) (recur (inc i) (* a 3)) a))\n",
    );
    let b = bad.to_str().unwrap_or_default();
    let a = run(&["run", b, "--tier", "interp"]);
    let j = run(&["run", b, "--tier", "jit", "--no-cache"]);
    assert_eq!(a.status.code(), Some(1));
    assert_eq!((a.status.code(), &a.stderr), (j.status.code(), &j.stderr));
}
