//! Hostile input against the `rtfs` binary (issue 15): programs wide or expansive enough to
//! overflow the stack or exhaust memory in a naive compiler, and the smaller holes found by
//! adversarial testing. Each runs as a subprocess, since an abort would kill a test binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

fn temp_file(tag: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-hostile-tests")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join("prog.rtfs");
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn rtfs(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env(
            "RTFS_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-l4"),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the rtfs binary");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("wait for rtfs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exited by itself (no signal, no panic) with `code`.
#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    let short = |s: &str| s.chars().take(1500).collect::<String>();
    assert_eq!(
        o.status.code(),
        Some(code),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        short(&out),
        short(&err)
    );
    assert!(!err.contains("panicked"), "panic: {}", short(&err));
}

fn wide(head: &str, n: usize, arg: &str) -> String {
    let mut s = String::with_capacity(n * (arg.len() + 1) + 16);
    s.push('(');
    s.push_str(head);
    for _ in 0..n {
        s.push(' ');
        s.push_str(arg);
    }
    s.push_str(")\n");
    s
}

#[test]
fn wide_variadic_forms_run_and_check_without_overflowing() {
    let cases = [
        (wide("and", 150_000, "1"), "1"),
        (wide("or", 150_000, "nil"), "nil"),
        (wide("+", 270_000, "1"), "270000"),
        (wide("*", 200_000, "1"), "1"),
        (wide("-", 200_000, "1"), "-199998"),
        (format!("(#(+{}) 1)\n", " %1".repeat(100_000)), "100000"),
    ];
    for (src, want) in &cases {
        let f = temp_file("wide", src);
        let f = f.to_str().unwrap_or_default();
        for tier in ["interp", "jit", "auto"] {
            let o = rtfs(&["run", f, "--tier", tier], None);
            assert_exit(&o, 0);
            assert_eq!(text(&o.stdout).trim(), *want, "{tier}: {}", &src[..20]);
        }
        assert_exit(&rtfs(&["check", f], None), 0);
    }
}

#[test]
fn wide_and_keeps_short_circuit_and_order() {
    let mut src = String::from("(def log (atom []))\n(defn t [x] (swap! log conj x) x)\n(and");
    for i in 0..1000 {
        src.push_str(&format!(" (t {i})"));
    }
    src.push_str(" (t false) (t 7))\n@log\n");
    let f = temp_file("order", &src);
    let o = rtfs(&["run", f.to_str().unwrap_or_default()], None);
    assert_exit(&o, 0);
    let want: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    assert_eq!(
        text(&o.stdout).trim(),
        format!("[{} false]", want.join(" "))
    );
}

#[test]
fn long_threading_and_cond_end_quickly_with_an_error() {
    let mut arrow = String::from("(-> 1");
    for _ in 0..32_000 {
        arrow.push_str(" inc");
    }
    arrow.push_str(")\n");
    let mut cond = String::from("(cond");
    for i in 0..150_000 {
        cond.push_str(&format!(" (= 1 {i}) {i}"));
    }
    cond.push_str(")\n");
    for src in [arrow, cond] {
        let f = temp_file("expand", &src);
        for cmd in ["run", "check"] {
            let o = rtfs(&[cmd, f.to_str().unwrap_or_default()], None);
            assert_exit(&o, 2);
            assert!(text(&o.stderr).contains("nest"), "{}", text(&o.stderr));
        }
    }
}

#[test]
fn long_but_shallow_cond_and_threading_still_work() {
    let mut src = String::from("(def x 499)\n(cond");
    for i in 0..500 {
        src.push_str(&format!(" (= x {i}) {i}"));
    }
    src.push_str(" :else :none)\n(-> 1");
    for _ in 0..500 {
        src.push_str(" inc");
    }
    src.push_str(")\n(cond)\n(->> [1 2] (map inc) (reduce +))\n");
    let f = temp_file("shallow", &src);
    let o = rtfs(&["run", f.to_str().unwrap_or_default()], None);
    assert_exit(&o, 0);
    assert_eq!(text(&o.stdout).trim(), "5");
    let f = temp_file("odd-cond", "(cond true)\n");
    let o = rtfs(&["run", f.to_str().unwrap_or_default()], None);
    assert_exit(&o, 2);
    assert!(
        text(&o.stderr).contains("even number"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn macros_whose_output_doubles_hit_the_expansion_budget() {
    // Doubles its argument at every step: 2^24 copies of `x` if nothing stopped it.
    let recursive = "(defmacro dbl [n x] (if (= n 0) x `(dbl ~(dec n) (do ~x ~x))))\n(dbl 24 1)\n";
    // Builds the doubled data in one go, sharing structure: small in memory, huge as code.
    let shared = "(defmacro big [] (loop [x 1 n 24] (if (= n 0) x (recur (list 'do x x) (dec n)))))\n(big)\n";
    for (src, name) in [(recursive, "`dbl`"), (shared, "`big`")] {
        let f = temp_file("double", src);
        for cmd in ["run", "check", "explain"] {
            let o = rtfs(&[cmd, f.to_str().unwrap_or_default()], None);
            assert_exit(&o, 2);
            let err = text(&o.stderr);
            assert!(
                err.contains("limit-exceeded") && err.contains(name),
                "{cmd}: {err}"
            );
            assert!(err.contains(":2:"), "names the call site: {err}");
        }
    }
}

#[test]
fn repl_survives_a_line_of_invalid_utf8() {
    let o = rtfs(&["repl"], Some(b"(+ 1 2)\n\xff\xfe(oops\n(+ 3 4)\n"));
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    assert!(out.contains('3') && out.contains('7'), "{out}");
    assert!(
        text(&o.stderr).contains("not valid UTF-8"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn max_depth_out_of_range_is_a_usage_error() {
    let f = temp_file(
        "depth",
        "(defn f [n] (if (= n 0) 0 (inc (f (dec n)))))\n(f 100)\n",
    );
    let f = f.to_str().unwrap_or_default();
    let o = rtfs(&["run", f, "--max-depth", "4294967295"], None);
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains("max-depth"), "{}", text(&o.stderr));
    let o = rtfs(&["run", f, "--max-depth", "50"], None);
    assert_exit(&o, 1);
    assert!(text(&o.stderr).contains("stack depth exceeded"));
    let o = rtfs(&["run", f, "--max-depth", "2000000"], None);
    assert_exit(&o, 0);
    assert_eq!(text(&o.stdout).trim(), "100");
}

#[test]
fn block_comments_are_read_and_nested_anonymous_functions_refused() {
    let f = temp_file("block", "#| a block\n comment (+ |# (+ 1 #| inline |# 2)\n");
    let o = rtfs(&["run", f.to_str().unwrap_or_default()], None);
    assert_exit(&o, 0);
    assert_eq!(text(&o.stdout).trim(), "3");
    let f = temp_file("unterminated", "(+ 1 2) #| never closed\n");
    let o = rtfs(&["run", f.to_str().unwrap_or_default()], None);
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains("unterminated block comment"));
    let f = temp_file("nested", "(#(map #(+ % 1) %) [1 2])\n");
    let o = rtfs(&["run", f.to_str().unwrap_or_default()], None);
    assert_exit(&o, 2);
    assert!(
        text(&o.stderr).contains("nested `#(...)`"),
        "{}",
        text(&o.stderr)
    );
    // A written `fn` inside `#(...)` is fine.
    let f = temp_file("fn-inside", "(#(map (fn [x] (+ x 1)) %) [1 2])\n");
    let o = rtfs(&["run", f.to_str().unwrap_or_default()], None);
    assert_exit(&o, 0);
    assert_eq!(text(&o.stdout).trim(), "[2 3]");
}
