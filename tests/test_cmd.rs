//! `rtfs test`: deftest/is/testing/are files run through the binary; failures with
//! file:line and expected/actual, the summary line, --filter, --json and --junit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-test-cmd")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn rtfs(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let o: Output = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run rtfs");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "panic: {err}");
    (
        o.status.code().expect("exited by itself"),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
    )
}

const MATH: &str = r#";; arithmetic tests
(defn add [a b] (+ a b))

(deftest adds
  (testing "small numbers"
    (is (= 4 (add 2 2)))
    (is (pos? (add 1 1)))))

(deftest table
  (are [x y] (= x (add y 1))
    2 1
    3 2))

(deftest throws
  (is (thrown? (/ 1 0))))
"#;

const BROKEN: &str = r#"(deftest wrong-sum
  (testing "addition"
    (is (= 5 (+ 2 2)) "two and two")))

(deftest falsy
  (println "looking")
  (is (nil? 1)))

(deftest escapes
  (throw (ex-info "boom" {})))

(deftest no-throw
  (is (thrown? (+ 1 1))))
"#;

#[test]
fn passing_file_prints_only_the_summary_and_exits_0() {
    let d = temp_dir("pass");
    std::fs::write(d.join("math_test.rtfs"), MATH).unwrap();
    let (code, out, err) = rtfs(&["test", "math_test.rtfs"], &d);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "3 passed, 0 failed\n");
}

#[test]
fn failures_name_file_line_expected_and_actual() {
    let d = temp_dir("fail");
    std::fs::write(d.join("broken_test.rtfs"), BROKEN).unwrap();
    let (code, out, err) = rtfs(&["test", "broken_test.rtfs"], &d);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out.lines().last(), Some("0 passed, 4 failed"), "{out}");
    assert!(
        out.contains("FAIL in wrong-sum (broken_test.rtfs:3:5)"),
        "{out}"
    );
    assert!(out.contains("  testing: addition"), "{out}");
    assert!(out.contains("  message: two and two"), "{out}");
    assert!(out.contains("  expected: 5\n    actual: 4"), "{out}");
    assert!(
        out.contains("FAIL in falsy (broken_test.rtfs:7:3)"),
        "{out}"
    );
    assert!(out.contains("    actual: false"), "{out}");
    assert!(out.contains("looking"), "captured output is shown: {out}");
    assert!(
        out.contains("ERROR in escapes (broken_test.rtfs:9)"),
        "{out}"
    );
    assert!(out.contains("boom"), "{out}");
    assert!(out.contains("FAIL in no-throw"), "{out}");
    assert!(out.contains("    actual: returned 2"), "{out}");
}

#[test]
fn filter_runs_only_matching_tests() {
    let d = temp_dir("filter");
    std::fs::write(d.join("broken_test.rtfs"), BROKEN).unwrap();
    let (code, out, _) = rtfs(&["test", "--filter", "sum", "broken_test.rtfs"], &d);
    assert_eq!(code, 1);
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"), "{out}");
    std::fs::write(d.join("math_test.rtfs"), MATH).unwrap();
    let (code, out, _) = rtfs(&["test", "--filter", "table", "."], &d);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "1 passed, 0 failed\n");
}

#[test]
fn directory_finds_test_files_and_skips_others() {
    let d = temp_dir("dir");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/math_test.rtfs"), MATH).unwrap();
    // Not a test file: it would fail if it ran.
    std::fs::write(d.join("plan.rtfs"), "(/ 1 0)").unwrap();
    let (code, out, err) = rtfs(&["test"], &d);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "3 passed, 0 failed\n");
}

#[test]
fn json_report_holds_every_test_and_failure() {
    let d = temp_dir("json");
    std::fs::write(d.join("a_test.rtfs"), MATH).unwrap();
    std::fs::write(d.join("b_test.rtfs"), BROKEN).unwrap();
    let (code, out, _) = rtfs(&["test", "--json", "."], &d);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["passed"], 3);
    assert_eq!(v["failed"], 4);
    let b = &v["files"][1];
    assert!(b["path"].as_str().unwrap().ends_with("b_test.rtfs"));
    let f = &b["tests"][0]["failures"][0];
    assert_eq!(f["line"], 3);
    assert_eq!(f["expected"], "5");
    assert_eq!(f["actual"], "4");
    assert_eq!(f["testing"][0], "addition");
    assert_eq!(v["files"][0]["tests"][1]["assertions"], 2);
}

#[test]
fn junit_report_is_written_beside_the_text_report() {
    let d = temp_dir("junit");
    std::fs::write(d.join("b_test.rtfs"), BROKEN).unwrap();
    std::fs::write(d.join("a_test.rtfs"), MATH).unwrap();
    let (code, out, _) = rtfs(&["test", "--junit", "out/report.xml", "."], &d);
    assert_eq!(code, 1);
    assert_eq!(out.lines().last(), Some("3 passed, 4 failed"));
    let xml = std::fs::read_to_string(d.join("out/report.xml")).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuites name=\"rtfs test\" tests=\"7\" failures=\"4\">"),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"adds\""), "{xml}");
    assert!(xml.contains("expected 5, actual 4"), "{xml}");
    assert!(xml.contains("<error message=\"uncaught error\">"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 7);
}

#[test]
fn broken_files_and_paths_are_errors_not_panics() {
    let d = temp_dir("bad");
    std::fs::write(d.join("unclosed_test.rtfs"), "(deftest t (is (= 1 1))").unwrap();
    std::fs::write(d.join("shape_test.rtfs"), "(deftest \"name\" (is true))").unwrap();
    std::fs::write(
        d.join("runtime_test.rtfs"),
        "(deftest ok (is true))\n(/ 1 0)",
    )
    .unwrap();
    let (code, out, _) = rtfs(&["test", "."], &d);
    assert_eq!(code, 1);
    assert_eq!(out.lines().last(), Some("0 passed, 3 failed"), "{out}");
    assert!(out.contains("ERROR loading ./shape_test.rtfs"), "{out}");
    assert!(out.contains("deftest name must be a symbol"), "{out}");
    assert!(out.contains("division"), "{out}");
    let (code, _, err) = rtfs(&["test", "missing.rtfs"], &d);
    assert_eq!(code, 2);
    assert!(err.contains("no such file"), "{err}");
}
