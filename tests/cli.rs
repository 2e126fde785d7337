//! Integration tests of the `rtfs` binary: output, exit codes, diagnostics, hostile input,
//! `check`, `mesh` and the example programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

/// A fresh, empty directory for one test (under cargo's per-target temp dir).
fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-cli-tests")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Writes `contents` to `name` inside a fresh temp dir and returns the path.
fn temp_file(tag: &str, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = temp_dir(tag).join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn rtfs<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run the rtfs binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or("")
}

/// The process ended by itself (no signal), without a Rust panic, with exit status `code`.
#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    let (out, err) = (stdout(o), stderr(o));
    let shown = |s: &str| -> String { s.chars().take(2000).collect() };
    assert!(
        o.status.code().is_some(),
        "killed by a signal: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        shown(&out),
        shown(&err)
    );
    for text in [&out, &err] {
        assert!(
            !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
            "panic output:\nstdout: {}\nstderr: {}",
            shown(&out),
            shown(&err)
        );
    }
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status\nstdout: {}\nstderr: {}",
        shown(&out),
        shown(&err)
    );
}

/// Runs a program file and returns its output.
fn run_src(tag: &str, src: impl AsRef<[u8]>, extra: &[&str]) -> (PathBuf, Output) {
    let path = temp_file(tag, "prog.rtfs", src);
    let mut args = vec!["run".to_string(), path.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = rtfs(&args);
    (path, o)
}

// ---------------------------------------------------------------------------------------
// Output

#[test]
fn eval_prints_the_value_readably() {
    let o = rtfs(["eval", "(+ 1 2)"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "3\n");

    let o = rtfs(["eval", r#"{:a [1 2.5 "x\ny"] :b nil}"#]);
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), r#"{:a [1 2.5 "x\ny"], :b nil}"#);

    let o = rtfs(["eval", "(map inc [1 2 3])"]);
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), "[2 3 4]");
}

#[test]
fn eval_quiet_prints_nothing() {
    let o = rtfs(["eval", "-q", "(+ 1 2)"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "");
}

#[test]
fn run_prints_output_then_the_final_value_last() {
    let src = "(println \"hello\")\n(defn sq [x] (* x x))\n(str \"v=\" (sq 7))\n";
    let (_, o) = run_src("run-final", src, &[]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, ["hello", "\"v=49\""], "stdout: {out}");
}

#[test]
fn run_quiet_keeps_program_output_but_not_the_value() {
    let src = "(println \"side effect\")\n42\n";
    let (_, o) = run_src("run-quiet", src, &["-q"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "side effect\n");

    let (_, o) = run_src("run-quiet-long", src, &["--quiet"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "side effect\n");
}

#[test]
fn run_empty_program_prints_nil() {
    let (_, o) = run_src("run-empty", ";; nothing here\n", &[]);
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), "nil");
}

#[test]
fn run_stats_writes_one_json_object_to_stderr() {
    let (_, o) = run_src("stats", "(reduce + (range 100))", &["--stats"]);
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), "4950");
    let err = stderr(&o);
    let objects: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect();
    assert_eq!(objects.len(), 1, "stderr: {err}");
    let obj = objects[0].as_object().expect("a JSON object");
    for key in [
        "tier",
        "functions_compiled",
        "l4_hits",
        "l4_misses",
        "compile_ms",
        "run_ms",
    ] {
        assert!(obj.contains_key(key), "missing {key} in {err}");
    }
    assert!(obj["tier"].is_string());
    for key in ["functions_compiled", "l4_hits", "l4_misses"] {
        assert!(obj[key].as_u64().is_some(), "{key} is not a count: {err}");
    }
    for key in ["compile_ms", "run_ms"] {
        let ms = obj[key].as_f64().unwrap_or(-1.0);
        assert!(ms >= 0.0, "{key} is not a duration: {err}");
    }
}

#[test]
fn run_stats_is_written_on_error_too() {
    let (_, o) = run_src("stats-err", "(/ 1 0)", &["--stats"]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    let n = err
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object()))
        .count();
    assert_eq!(n, 1, "stderr: {err}");
}

// ---------------------------------------------------------------------------------------
// Exit codes and diagnostics

#[test]
fn runtime_error_exits_1_with_location_source_line_and_caret() {
    let src = "(defn f [x]\n  (+ x 1))\n(let [y 2]\n    (inc y y))\n";
    let (path, o) = run_src("rt-err", src, &[]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("arity"), "stderr: {err}");
    let loc = format!("{}:4:5", path.display());
    assert!(err.contains(&loc), "expected {loc} in stderr: {err}");
    assert!(err.contains("(inc y y)"), "source line missing: {err}");
    assert!(err.contains('^'), "caret missing: {err}");
    assert_eq!(stdout(&o), "", "no final value after an error");
}

#[test]
fn uncaught_throw_exits_1() {
    let (path, o) = run_src("throw", "(println \"before\")\n(throw \"boom\")\n", &[]);
    assert_exit(&o, 1);
    assert_eq!(stdout(&o), "before\n");
    let err = stderr(&o);
    assert!(err.contains("boom"), "stderr: {err}");
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
}

#[test]
fn eval_runtime_error_exits_1() {
    let o = rtfs(["eval", "(/ 1 0)"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("division by zero"), "{}", stderr(&o));
}

#[test]
fn parse_error_exits_2_with_location() {
    let (path, o) = run_src("parse-err", "(def x 1)\n(+ 1\n", &[]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
    assert!(err.contains('^'), "{err}");
    assert_eq!(stdout(&o), "");
}

#[test]
fn compile_error_exits_2_and_runs_nothing() {
    let src = "(println \"must not run\")\n(let [x] x)\n";
    let (path, o) = run_src("compile-err", src, &[]);
    assert_exit(&o, 2);
    assert_eq!(
        stdout(&o),
        "",
        "a compile error anywhere means no side effects"
    );
    let err = stderr(&o);
    assert!(err.contains("let"), "{err}");
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["frobnicate"][..],
        &["run"][..],
        &["eval"][..],
        &["run", "--max-depth", "lots", "x.rtfs"][..],
        &[][..],
    ] {
        let o = rtfs(args);
        assert_exit(&o, 2);
        assert!(!stderr(&o).trim().is_empty(), "no message for {args:?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let o = rtfs(["--help"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("run"));
    let o = rtfs(["--version"]);
    assert_exit(&o, 0);
}

#[test]
fn missing_file_exits_2() {
    let path = temp_dir("missing").join("no-such-file.rtfs");
    let o = rtfs(["run", &path.display().to_string()]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("no-such-file.rtfs"), "{}", stderr(&o));
    let o = rtfs(["check", &path.display().to_string()]);
    assert_exit(&o, 2);
}

// ---------------------------------------------------------------------------------------
// Hostile input: an error with a clear message, never a crash

#[test]
fn hostile_deep_nesting_is_a_parse_error() {
    let src = "(".repeat(100_000);
    let (_, o) = run_src("deep-nest", &src, &[]);
    assert_exit(&o, 2);
    let err = stderr(&o).to_lowercase();
    assert!(err.contains("nest") || err.contains("deep"), "{err}");

    let balanced = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let (_, o) = run_src("deep-nest-balanced", &balanced, &[]);
    assert_exit(&o, 2);
}

#[test]
fn hostile_huge_string_literal_is_a_parse_error() {
    let mut src = String::with_capacity(10_000_010);
    src.push('"');
    src.extend(std::iter::repeat_n('a', 10 * 1024 * 1024));
    src.push('"');
    let (_, o) = run_src("huge-string", &src, &[]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(
        err.to_lowercase().contains("string"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(
        err.len() < 100_000,
        "the diagnostic echoes the whole literal"
    );
}

#[test]
fn hostile_runaway_recursion_is_a_stack_depth_error() {
    let src = "(defn d [n] (if (= n 0) 0 (+ 1 (d (- n 1)))))\n(d 1000000)\n";
    let (_, o) = run_src("deep-rec", src, &[]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("stack depth"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(
        err.len() < 100_000,
        "the trace is not collapsed: {} bytes",
        err.len()
    );
}

#[test]
fn deep_but_bounded_recursion_succeeds() {
    let src = "(defn d [n] (if (= n 0) 0 (+ 1 (d (- n 1)))))\n(d 100000)\n";
    let (_, o) = run_src("deep-ok", src, &[]);
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), "100000");
}

#[test]
fn deeply_nested_runtime_data_is_not_a_crash() {
    // The reader bounds literal nesting; a program can still build deep data at run time.
    // Comparing, set insertion, printing (cut at depth 1000) and freeing a million-deep
    // vector must neither recurse without bound nor abort.
    let src = "(defn nest [n] (reduce (fn [acc _] [acc]) [] (range n)))
(let [a (nest 1000000) b (nest 1000000)]
  [(= a b) (count #{a b}) (count (pr-str a)) (count (flatten a))
   (try (hash a) (catch e :limit)) (try (to-json a) (catch e :limit))])
";
    let (_, o) = run_src("deep-data", src, &[]);
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), "[true 1 2005 0 :limit :limit]");
}

#[test]
fn max_depth_flag_limits_recursion() {
    let src = "(defn d [n] (if (= n 0) 0 (+ 1 (d (- n 1)))))\n(d 500)\n";
    let (_, o) = run_src("max-depth", src, &["--max-depth", "100"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("stack depth"), "{}", stderr(&o));
    let (_, o) = run_src("max-depth-ok", src, &["--max-depth", "1000"]);
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), "500");
}

#[test]
fn hostile_invalid_utf8_is_a_parse_error() {
    let mut src = b"(def x \"ok\")\n(str \"".to_vec();
    src.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    src.extend_from_slice(b"\")\n");
    let (_, o) = run_src("bad-utf8", &src, &[]);
    assert_exit(&o, 2);
    assert!(stderr(&o).to_lowercase().contains("utf"), "{}", stderr(&o));

    // Invalid bytes outside a string, and a lone continuation byte at the very start.
    for bytes in [&b"(+ 1 \x80)"[..], &b"\xc0"[..], &b"\xed\xa0\x80"[..]] {
        let (_, o) = run_src("bad-utf8-2", bytes, &[]);
        assert_exit(&o, 2);
    }
}

#[test]
fn hostile_unterminated_string_is_a_parse_error() {
    let (path, o) = run_src("unterminated", "(println \"hello)\n(+ 1 2)\n", &[]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.to_lowercase().contains("unterminated"), "{err}");
    assert!(err.contains(&format!("{}:1:", path.display())), "{err}");
}

#[test]
fn hostile_inputs_through_eval() {
    for expr in ["(((", ")", "\"abc", "#{1 1", "{:a}", "#", "\\", "(quote)"] {
        let o = rtfs(["eval", expr]);
        let code = o.status.code();
        assert!(
            code == Some(2) || code == Some(1),
            "{expr:?}: {:?}",
            o.status
        );
        assert_exit(&o, code.unwrap_or(-1));
        assert!(!stderr(&o).trim().is_empty(), "{expr:?}: no message");
    }
}

// ---------------------------------------------------------------------------------------
// check

#[test]
fn check_good_file_exits_0_and_runs_nothing() {
    let src = "(println \"must not run\")\n(defn f [x] (* x 2))\n(f 21)\n";
    let path = temp_file("check-ok", "ok.rtfs", src);
    let o = rtfs(["check", &path.display().to_string()]);
    assert_exit(&o, 0);
    assert!(!stdout(&o).contains("must not run"), "{}", stdout(&o));
}

#[test]
fn check_reports_every_parse_error() {
    let src = "(def a \"bad \\q escape\")\n(def ok 1)\n\n(def b 0x)\n(def c 3)\n";
    let path = temp_file("check-two", "two.rtfs", src);
    let o = rtfs(["check", &path.display().to_string()]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    let p = path.display().to_string();
    assert!(
        err.contains(&format!("{p}:1:")),
        "first error missing: {err}"
    );
    assert!(
        err.contains(&format!("{p}:4:")),
        "second error missing: {err}"
    );
}

#[test]
fn check_reports_a_compile_error() {
    let path = temp_file("check-compile", "c.rtfs", "(def x 1)\n(if)\n");
    let o = rtfs(["check", &path.display().to_string()]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(&format!("{}:2:", path.display())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_emit_ir_prints_types_and_call_annotations() {
    let src = "(defn fib [n :int] :int (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n";
    let path = temp_file("check-ir", "ir.rtfs", src);
    let o = rtfs(["check", "--emit", "ir", &path.display().to_string()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("(def fib"), "{out}");
    assert!(out.contains("(types n :int -> :int)"), "{out}");
    assert!(
        out.contains("(call [local-pure: self call: runs where its caller runs] (self)"),
        "{out}"
    );
    let o = rtfs(["check", "--emit", "asm", &path.display().to_string()]);
    assert_exit(&o, 2);
}

#[test]
fn type_error_at_a_call_names_the_parameter_and_path() {
    let src = "(defn sum [xs [:vector :int]] (reduce + 0 xs))\n(sum [1 \"a\"])\n";
    let path = temp_file("type-err", "t.rtfs", src);
    let o = rtfs(["run", &path.display().to_string()]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("parameter `xs` of `sum`: xs[1]: expected :int, got \"a\""),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------
// mesh

const RECORD: &str = r#"{:type :ccos.mesh:v0.func-record
 :func-name "image-processing/sharpen"
 :namespace "image-processing"
 :description "Sharpen images using various algorithms"
 :latest-version "1.2.0"
 :providers [{:id "provider-123"
              :capability-ref "marketplace://offer/abc"
              :endpoint "https://api.provider123.com/sharpen"
              :sla-tier "premium"
              :cost-per-call 0.01
              :avg-response-time-ms 150}
             {:id "provider-456"
              :capability-ref "marketplace://offer/def"
              :endpoint "mcp://image-server.local/sharpen"
              :sla-tier "standard"
              :cost-per-call 0.005
              :avg-response-time-ms 300}]
 :versions {"1.0.0" {:providers [{:id "provider-old" :endpoint "https://old.example/sharpen"}]
                     :deprecated true}
            "1.2.0" {:providers [] :deprecated false}}
 :security-requirements {:min-security-level :controlled
                         :required-permissions []
                         :trusted-providers ["provider-123" "provider-456" "provider-old"]}}
"#;

#[test]
fn mesh_init_publish_resolve() {
    let dir = temp_dir("mesh");
    let reg = dir.join("registry").display().to_string();
    let cache = dir.join("cache").display().to_string();
    let record = dir.join("sharpen.rtfs");
    std::fs::write(&record, RECORD).unwrap();

    let o = rtfs(["mesh", "init", &reg]);
    assert_exit(&o, 0);

    let record = record.display().to_string();
    let o = rtfs([
        "mesh",
        "publish",
        "--registry",
        &reg,
        "--cache-dir",
        &cache,
        &record,
    ]);
    assert_exit(&o, 0);

    let o = rtfs([
        "mesh",
        "resolve",
        "image-processing/sharpen",
        "--registry",
        &reg,
        "--cache-dir",
        &cache,
    ]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    // lowest-cost (the default strategy) picks the cheaper provider.
    assert_eq!(out.lines().next(), Some("provider-456"), "stdout: {out}");

    let o = rtfs([
        "mesh",
        "resolve",
        "image-processing/sharpen@=1.0.0",
        "--registry",
        &reg,
        "--cache-dir",
        &cache,
    ]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().next(), Some("provider-old"));

    let o = rtfs([
        "mesh",
        "resolve",
        "image-processing/no-such-function",
        "--registry",
        &reg,
        "--cache-dir",
        &cache,
    ]);
    let code = o.status.code();
    assert!(code.is_some_and(|c| c != 0), "{:?}", o.status);
    assert_exit(&o, code.unwrap_or(-1));
    assert!(!stderr(&o).trim().is_empty());
}

#[test]
fn mesh_publish_rejects_a_bad_record() {
    let dir = temp_dir("mesh-bad");
    let reg = dir.join("registry").display().to_string();
    let cache = dir.join("cache").display().to_string();
    assert_exit(&rtfs(["mesh", "init", &reg]), 0);
    for (name, text) in [
        ("missing.rtfs", "{:func-name \"a/b\"}"),
        ("unparsable.rtfs", "{:func-name \"a/b\""),
        ("two-forms.rtfs", "{} {}"),
    ] {
        let record = dir.join(name);
        std::fs::write(&record, text).unwrap();
        let o = rtfs([
            "mesh",
            "publish",
            "--registry",
            &reg,
            "--cache-dir",
            &cache,
            &record.display().to_string(),
        ]);
        let code = o.status.code();
        assert!(code.is_some_and(|c| c != 0), "{name}: {:?}", o.status);
        assert_exit(&o, code.unwrap_or(-1));
    }
}

// ---------------------------------------------------------------------------------------
// Example programs

#[test]
fn example_programs_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rtfs-examples/programs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("rtfs-examples/programs")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rtfs"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no example programs in {}",
        dir.display()
    );
    for file in files {
        let o = rtfs(["run", &file.display().to_string()]);
        assert_exit(&o, 0);
        assert!(
            !stdout(&o).trim().is_empty(),
            "{}: no final value",
            file.display()
        );
    }
}

const DELEGATION_PROGRAM: &str = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(defn summarize ^:delegation :remote \"gpt4o\" [t] t)
(defn classify [x] (call :ccos.echo x))
(fib 10)
(try (summarize \"x\") (catch e :no-model))
(classify 7)
";

const DELEGATION_POLICY: &str = "engines = [\"static\", \"privacy-first\"]
[models.phi]
kind = \"local\"
[[route]]
match = \"classify\"
target = \"local-model\"
model = \"phi\"
";

#[test]
fn explain_lists_every_call_site_with_location_target_and_reason() {
    let prog = temp_file("explain", "plan.rtfs", DELEGATION_PROGRAM);
    let o = rtfs(["explain".as_ref(), prog.as_os_str()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let p = prog.display().to_string();
    assert!(
        out.contains(&format!("{p}:1:32\tfn\tfib\tlocal-pure\t(self call")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{p}:5:6\tfn\tsummarize\tremote-model \"gpt4o\"\t(hint)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{p}:3:20\tcapability\t:ccos.echo\tlocal-pure\t(no policy: local)"
        )),
        "{out}"
    );
    let policy = temp_file("explain", "policy.toml", DELEGATION_POLICY);
    let o = rtfs([
        "explain".as_ref(),
        prog.as_os_str(),
        "--policy".as_ref(),
        policy.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_exit(&o, 0);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON object");
    let sites = v["call_sites"].as_array().expect("call_sites");
    let classify = sites
        .iter()
        .find(|s| s["callee"] == "classify")
        .expect("classify site");
    assert_eq!(classify["target"], "local-model \"phi\"");
    assert_eq!(classify["reason"], "policy route[0] \"classify\"");
    let echo = sites
        .iter()
        .find(|s| s["callee"] == "ccos.echo")
        .expect("cap site");
    assert_eq!(echo["fixed"], false);
}

#[test]
fn explain_shows_which_call_sites_carry_sensitive_arguments_and_why() {
    let prog = temp_file(
        "explain-priv",
        "plan.rtfs",
        "(defn summarize [^{:privacy :sensitive} doc style]
  (let [head (str doc \"...\")]
    (call :ccos.llm/summarize head style)))
(defn open [t] (call :ccos.llm/summarize ^:sensitive t \"x\") (call :ccos.echo t))
",
    );
    let o = rtfs(["explain".as_ref(), prog.as_os_str()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let p = prog.display().to_string();
    assert!(
        out.contains(&format!(
            "{p}:3:5\tcapability\t:ccos.llm/summarize\tlocal-pure\t(no policy: local) [sensitive: arg 1: param `doc`]"
        )),
        "{out}"
    );
    assert!(out.contains("[sensitive: arg 1: marked `t`]"), "{out}");
    assert!(
        out.contains(&format!(
            "{p}:4:61\tcapability\t:ccos.echo\tlocal-pure\t(no policy: local)\n"
        )),
        "{out}"
    );
    let o = rtfs(["explain".as_ref(), prog.as_os_str(), "--json".as_ref()]);
    assert_exit(&o, 0);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON object");
    let sites = v["call_sites"].as_array().expect("call_sites");
    assert_eq!(sites[0]["sensitive"], true);
    assert_eq!(sites[0]["sensitive_why"][0], "arg 1: param `doc`");
}

#[test]
fn run_with_policy_and_chain_then_verify() {
    let dir = temp_dir("deleg-run");
    let prog = dir.join("plan.rtfs");
    std::fs::write(&prog, DELEGATION_PROGRAM).expect("write");
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, DELEGATION_POLICY).expect("write");
    let chain = dir.join("run.chain");
    let o = rtfs([
        "run".as_ref(),
        prog.as_os_str(),
        "--policy".as_ref(),
        policy.as_os_str(),
        "--chain".as_ref(),
        chain.as_os_str(),
    ]);
    // classify is routed to a local model and no model provider is registered in the CLI.
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("no model provider"), "{}", stderr(&o));
    let v = rtfs(["chain".as_ref(), "verify".as_ref(), chain.as_os_str()]);
    assert_exit(&v, 0);
    // A bad policy is a usage error naming the key.
    std::fs::write(&policy, "[budget]\nper_rnu = 1").expect("write");
    let o = rtfs([
        "run".as_ref(),
        prog.as_os_str(),
        "--policy".as_ref(),
        policy.as_os_str(),
    ]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("per_rnu"), "{}", stderr(&o));
}

#[test]
fn run_with_a_policy_routes_a_local_model_hint_to_its_rules_provider() {
    let policy = temp_file(
        "policy-rules",
        "policy.toml",
        r#"
[models.rules-x]
kind = "local"
provider = "rules"
[[models.rules-x.rule]]
function = "classify"
args = '(?i)love'
text = "positive"
value = "positive"
[[models.rules-x.rule]]
text = "neutral"
"#,
    );
    let src = "(defn classify ^:delegation :local-model \"rules-x\" [s] :never)\n\
               [(classify \"I love it\") (classify \"meh\")]\n";
    let (_, o) = run_src(
        "policy-rules",
        src,
        &["--policy", &policy.display().to_string()],
    );
    assert_exit(&o, 0);
    assert_eq!(last_line(&stdout(&o)), "[\"positive\" \"neutral\"]");
}

#[test]
fn run_with_a_bad_provider_policy_exits_2_naming_the_key() {
    let policy = temp_file(
        "policy-bad-provider",
        "policy.toml",
        "[models.m]\nkind = \"local\"\nprovider = \"process\"\n",
    );
    let (_, o) = run_src(
        "policy-bad-provider",
        "1\n",
        &["--policy", &policy.display().to_string()],
    );
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("models.m.command"), "{}", stderr(&o));
}
