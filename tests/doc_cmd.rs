//! `rtfs doc`: signatures, docstrings, purity and delegation hints in Markdown and HTML.

use std::path::PathBuf;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

const SRC: &str = r#"(defn square
  "Multiplies x by itself."
  [x]
  (* x x))

(defn ^{:delegation :local} shout [s] (println s) s)

(defn area
  ([r] (area r r))
  ([w h] (* w h)))

(def limit 10)

(deftest not-documented (is true))
"#;

fn dir(tag: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("doc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rtfs(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn markdown_reference_of_a_file() {
    let d = dir("md");
    let f = d.join("lib.rtfs");
    std::fs::write(&f, SRC).unwrap();
    let (code, out, err) = rtfs(&["doc", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("### `square`\n\n```clojure\n(square [x])\n```\n\nMultiplies x by itself.\n\n- purity: pure\n"), "{out}");
    assert!(out.contains("### `shout`"), "{out}");
    assert!(out.contains("- purity: impure"), "{out}");
    assert!(out.contains("- delegation: local-pure"), "{out}");
    assert!(out.contains("(area [r])\n(area [w h])"), "{out}");
    assert!(out.contains("(def limit)"), "{out}");
    assert!(!out.contains("not-documented"), "tests are not API: {out}");
}

#[test]
fn html_and_builtins_written_to_a_directory() {
    let d = dir("html");
    std::fs::write(d.join("lib.rtfs"), SRC).unwrap();
    let out = d.join("out");
    let (code, _, err) = rtfs(&[
        "doc",
        d.to_str().unwrap(),
        "--builtins",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(out.join("reference.html")).unwrap();
    assert!(
        html.contains("<h3 id=\"square\"><code>square</code></h3>"),
        "{html}"
    );
    assert!(html.contains("<li>purity: pure</li>"), "{html}");
    assert!(html.contains("<tr><td><code>map</code></td>"), "{html}");
    let md = std::fs::read_to_string(out.join("reference.md")).unwrap();
    assert!(md.contains("## Built-ins"), "{md}");
    assert!(md.contains("| `+` |"), "{md}");
}

#[test]
fn unreadable_input_is_an_error() {
    let d = dir("bad");
    let f = d.join("bad.rtfs");
    std::fs::write(&f, "(defn f [x]").unwrap();
    let (code, _, err) = rtfs(&["doc", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.rtfs:1"), "{err}");
    let (code, _, err) = rtfs(&["doc", "/nonexistent/x.rtfs"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}
