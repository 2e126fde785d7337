//! Effects as checked capabilities: file and environment access is refused without a grant
//! (with an error naming the grant), confined to granted roots (no `..`, absolute-path or
//! symlink escapes), checked against the security context, and secret-named variables are
//! sensitive. Through the embedding API and through the `rtfs` binary's flags.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rtfs::{Runtime, Value};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

/// A fresh directory, canonical (so messages can be compared with it).
fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-permission-tests")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir.canonicalize().expect("canonical temp dir")
}

/// `root/` holding `data/a.txt` and `data/sub/b.txt`, and `outside.txt` next to `data/`.
fn tree(tag: &str) -> (PathBuf, PathBuf) {
    let root = temp_dir(tag);
    let data = root.join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.txt"), "alpha\nbeta\n").unwrap();
    std::fs::write(data.join("sub/b.txt"), "bee").unwrap();
    std::fs::write(root.join("outside.txt"), "secret").unwrap();
    (root, data)
}

fn q(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

fn err_of(rt: &mut Runtime, src: &str) -> (String, String) {
    match rt.eval_str(src) {
        Err(rtfs::Error::Runtime(e)) => (e.kind().to_string(), e.message().to_string()),
        other => panic!("{src}: expected a runtime error, got {other:?}"),
    }
}

#[track_caller]
fn assert_denied(rt: &mut Runtime, src: &str, needs: &str) {
    let (kind, msg) = err_of(rt, src);
    assert_eq!(kind, "permission-denied", "{src}: {msg}");
    assert!(msg.contains(needs), "{src}: {msg:?} should name {needs:?}");
}

#[test]
fn nothing_is_granted_by_default() {
    let (root, data) = tree("deny");
    let a = data.join("a.txt");
    let mut rt = Runtime::new();
    let needs_read = format!("needs --allow-read {} (or a parent)", data.display());
    for src in [
        format!("(tool/open-file {})", q(&a)),
        format!("(read-lines {})", q(&a)),
        format!("(file-exists? {})", q(&a)),
        format!("(call :ccos.fs/read {})", q(&a)),
        format!("(call :ccos.fs/read-lines {})", q(&a)),
        format!("(call :ccos.fs/exists? {})", q(&a)),
    ] {
        assert_denied(&mut rt, &src, &needs_read);
    }
    assert_denied(
        &mut rt,
        &format!("(call :ccos.fs/list {})", q(&data)),
        &format!(
            "reading {} needs --allow-read {}",
            data.display(),
            data.display()
        ),
    );
    assert_denied(
        &mut rt,
        &format!("(call :ccos.fs/write {} \"x\")", q(&root.join("new.txt"))),
        &format!("needs --allow-write {}", root.display()),
    );
    assert!(!root.join("new.txt").exists());
    for src in ["(get-env \"HOME\")", "(call :ccos.env/get \"HOME\")"] {
        assert_denied(&mut rt, src, "reading env var HOME needs --allow-env HOME");
    }
    // A refusal is an ordinary RTFS error: a program can catch it by kind.
    let v = rt
        .eval_str("(try (get-env \"PATH\") (catch :permission-denied e (ex-message e)))")
        .unwrap();
    assert_eq!(v, Value::str("reading env var PATH needs --allow-env PATH"));
}

#[test]
fn granted_roots_are_readable_and_listable() {
    let (_root, data) = tree("read");
    let mut rt = Runtime::builder().allow_read(&data).build().unwrap();
    let a = q(&data.join("a.txt"));
    assert_eq!(
        rt.eval_str(&format!("(tool/open-file {a})")).unwrap(),
        Value::str("alpha\nbeta\n")
    );
    assert_eq!(
        rt.eval_str(&format!("(read-lines {a})")).unwrap().pr_str(),
        "[\"alpha\" \"beta\"]"
    );
    assert_eq!(
        rt.eval_str(&format!(
            "(call :ccos.fs/read {})",
            q(&data.join("sub/b.txt"))
        ))
        .unwrap(),
        Value::str("bee")
    );
    let exists = format!(
        "[(file-exists? {a}) (file-exists? {})]",
        q(&data.join("nope"))
    );
    assert_eq!(rt.eval_str(&exists).unwrap().pr_str(), "[true false]");
    assert_eq!(
        rt.eval_str(&format!("(call :ccos.fs/list {})", q(&data)))
            .unwrap()
            .pr_str(),
        "[\"a.txt\" \"sub\"]"
    );
    // A missing file under a root is an I/O error, not a refusal.
    let (kind, _) = err_of(&mut rt, &format!("(tool/open-file {})", q(&data.join("x"))));
    assert_eq!(kind, "io-error");
    // Reading is not writing.
    assert_denied(
        &mut rt,
        &format!("(call :ccos.fs/write {} \"x\")", q(&data.join("w.txt"))),
        "needs --allow-write",
    );
}

#[test]
fn traversal_out_of_a_root_is_refused() {
    let (root, data) = tree("escape");
    let mut rt = Runtime::builder().allow_read(&data).build().unwrap();
    let outside = root.join("outside.txt");
    let needs = format!("needs --allow-read {} (or a parent)", root.display());
    // `..` out of the root, however deep.
    let dotdot = format!("{}/sub/../../outside.txt", data.display());
    assert_denied(&mut rt, &format!("(tool/open-file {dotdot:?})"), &needs);
    let many = format!("{}/{}etc/passwd", data.display(), "../".repeat(30));
    assert_denied(
        &mut rt,
        &format!("(tool/open-file {many:?})"),
        "reading /etc/passwd needs --allow-read /etc (or a parent)",
    );
    // An absolute path outside every root.
    assert_denied(
        &mut rt,
        &format!("(tool/open-file {})", q(&outside)),
        &needs,
    );
    // Existence is not leaked either.
    assert_denied(&mut rt, &format!("(file-exists? {})", q(&outside)), &needs);
    #[cfg(unix)]
    {
        // A symlink inside the root pointing out of it, to a file and to a directory.
        std::os::unix::fs::symlink(&outside, data.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(&root, data.join("up")).unwrap();
        let (kind, msg) = err_of(
            &mut rt,
            &format!("(tool/open-file {})", q(&data.join("link.txt"))),
        );
        assert_eq!(kind, "permission-denied");
        assert!(
            msg.contains(&format!(
                "resolves through a symlink to {}",
                outside.display()
            )),
            "{msg}"
        );
        assert_denied(
            &mut rt,
            &format!("(read-lines {})", q(&data.join("up/outside.txt"))),
            &needs,
        );
        // A symlink that stays inside the root is fine.
        std::os::unix::fs::symlink(data.join("a.txt"), data.join("same.txt")).unwrap();
        assert_eq!(
            rt.eval_str(&format!("(tool/open-file {})", q(&data.join("same.txt"))))
                .unwrap(),
            Value::str("alpha\nbeta\n")
        );
    }
}

#[test]
fn writes_stay_inside_write_roots() {
    let (root, data) = tree("write");
    let mut rt = Runtime::builder()
        .allow_write(&data)
        .allow_read(&data)
        .build()
        .unwrap();
    let new = data.join("sub/new.txt");
    let v = rt
        .eval_str(&format!(
            "(call :ccos.fs/write {} \"hello\") (tool/open-file {})",
            q(&new),
            q(&new)
        ))
        .unwrap();
    assert_eq!(v, Value::str("hello"));
    let escape = format!("{}/../escaped.txt", data.display());
    assert_denied(
        &mut rt,
        &format!("(call :ccos.fs/write {escape:?} \"x\")"),
        &format!("writing {}/escaped.txt needs --allow-write", root.display()),
    );
    assert!(!root.join("escaped.txt").exists());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("outside.txt"), data.join("out.txt")).unwrap();
        assert_denied(
            &mut rt,
            &format!("(call :ccos.fs/write {} \"x\")", q(&data.join("out.txt"))),
            "resolves through a symlink",
        );
        assert_eq!(
            std::fs::read_to_string(root.join("outside.txt")).unwrap(),
            "secret"
        );
    }
    let (kind, _) = err_of(
        &mut rt,
        &format!("(call :ccos.fs/write {} \"x\")", q(&data.join("sub"))),
    );
    assert_eq!(kind, "io-error");
}

#[test]
fn env_grants_by_name_and_pattern() {
    let mut rt = Runtime::builder()
        .allow_env("APP_MODE")
        .allow_env("TEAM_*")
        .env_source(|name| match name {
            "APP_MODE" => Some("prod".into()),
            "TEAM_A" => Some("a".into()),
            "OTHER" => Some("no".into()),
            _ => None,
        })
        .build()
        .unwrap();
    let v = rt
        .eval_str("[(get-env \"APP_MODE\") (call :ccos.env/get \"TEAM_A\") (get-env \"TEAM_B\")]")
        .unwrap();
    assert_eq!(v.pr_str(), "[\"prod\" \"a\" nil]");
    assert_denied(
        &mut rt,
        "(get-env \"OTHER\")",
        "reading env var OTHER needs --allow-env OTHER",
    );
    let (kind, _) = err_of(&mut rt, "(get-env 42)");
    assert_eq!(kind, "type-error");
    assert!(
        Runtime::builder()
            .allow_read("/definitely/not/a/dir")
            .build()
            .is_err()
    );
}

#[test]
fn the_security_context_sees_effects_too() {
    let dir = temp_dir("pure");
    let mut rt = Runtime::builder()
        .allow_read(&dir)
        .allow_env("*")
        .security(rtfs_mesh_io::SecurityContext::pure())
        .build()
        .unwrap();
    for src in [
        "(get-env \"HOME\")".to_string(),
        format!("(file-exists? {})", q(&dir)),
    ] {
        let (kind, msg) = err_of(&mut rt, &src);
        assert_eq!(kind, "capability-error", "{src}");
        assert!(msg.contains("security context does not allow it"), "{msg}");
    }
    let mut rt = Runtime::builder()
        .allow_env("*")
        .env_source(|_| Some("v".into()))
        .security(rtfs_mesh_io::SecurityContext::controlled(["ccos.env/*"], []).unwrap())
        .build()
        .unwrap();
    assert_eq!(rt.eval_str("(get-env \"X\")").unwrap(), Value::str("v"));
    let (kind, _) = err_of(&mut rt, &format!("(file-exists? {})", q(&dir)));
    assert_eq!(kind, "capability-error");
}

fn sensitive_why(rt: &mut Runtime, src: &str) -> Vec<String> {
    let ex = rt.explain_source("<t>", src.as_bytes()).unwrap();
    let site = ex
        .call_sites
        .iter()
        .find(|s| s.callee == "acme/summarize")
        .expect("the capability call site");
    site.why.clone()
}

#[test]
fn values_of_secret_env_vars_are_sensitive() {
    let mut rt = Runtime::new();
    for (src, why) in [
        (
            "(call :acme/summarize (get-env \"OPENAI_API_KEY\"))",
            "secret env var `OPENAI_API_KEY`",
        ),
        (
            "(let [t (call :ccos.env/get \"GH_TOKEN\")] (call :acme/summarize t))",
            "secret env var `GH_TOKEN`",
        ),
        (
            "(defn f [n] (call :acme/summarize (get-env n)))",
            "env var with a computed name",
        ),
    ] {
        let got = sensitive_why(&mut rt, src);
        assert!(got.iter().any(|w| w.contains(why)), "{src}: {got:?}");
    }
    assert!(sensitive_why(&mut rt, "(call :acme/summarize (get-env \"LANG\"))").is_empty());
    // A variable the policy reads an API key from is a secret whatever its name.
    let policy = rtfs_delegation::Policy::parse(
        "[models.gpt]\nkind = \"remote\"\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\napi_key_env = \"ACME_CRED_VAR\"\n",
    )
    .unwrap();
    let mut rt = Runtime::new();
    rt.set_policy(policy);
    let got = sensitive_why(
        &mut rt,
        "(call :acme/summarize (get-env \"ACME_CRED_VAR\"))",
    );
    assert!(
        got.iter()
            .any(|w| w.contains("secret env var `ACME_CRED_VAR`")),
        "{got:?}"
    );
}

#[test]
fn the_chain_keeps_no_copy_of_an_env_value() {
    let sink = Arc::new(rtfs_chain::MemorySink::new(true));
    let mut rt = Runtime::builder()
        .allow_env("DB_PASSWORD")
        .env_source(|_| Some("hunter2".into()))
        .chain(sink.clone())
        .build()
        .unwrap();
    rt.eval_str("(get-env \"DB_PASSWORD\") (call :ccos.echo \"shown\")")
        .unwrap();
    let actions = sink.actions();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0].raw_output, None);
    assert!(actions[0].output_hash.is_some());
    assert_eq!(actions[1].raw_output.as_deref(), Some("\"shown\""));
    let jsonl = String::from_utf8(sink.jsonl()).unwrap();
    assert!(!jsonl.contains("hunter2"));
}

fn rtfs(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run the rtfs binary")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn cli_denies_by_default_and_grants_by_flag() {
    let (_root, data) = tree("cli");
    let prog = data.join("plan.rtfs");
    let a = data.join("a.txt");
    std::fs::write(
        &prog,
        format!("[(read-lines {}) (get-env \"RTFS_PERM_T\")]", q(&a)),
    )
    .unwrap();
    let p = prog.display().to_string();
    let env = [("RTFS_PERM_T", "on")];
    let o = rtfs(&["run", &p], &env);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("permission-denied"), "{err}");
    assert!(
        err.contains(&format!(
            "reading {} needs --allow-read {} (or a parent)",
            a.display(),
            data.display()
        )),
        "{err}"
    );
    let d = data.display().to_string();
    let o = rtfs(&["run", &p, "--allow-read", &d], &env);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("needs --allow-env RTFS_PERM_T"),
        "{}",
        text(&o.stderr)
    );
    let o = rtfs(
        &["run", &p, "--allow-read", &d, "--allow-env", "RTFS_PERM_*"],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "[[\"alpha\" \"beta\"] \"on\"]");
    let o = rtfs(
        &[
            "eval",
            "--allow-env",
            "RTFS_PERM_T",
            "(get-env \"RTFS_PERM_T\")",
        ],
        &env,
    );
    assert_eq!(text(&o.stdout).trim(), "\"on\"");
    let o = rtfs(&["eval", "(tool/open-file \"/etc/passwd\")"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("reading /etc/passwd needs --allow-read /etc (or a parent)"),
        "{}",
        text(&o.stderr)
    );
    let o = rtfs(&["run", &p, "--allow-read", "/definitely/not/here"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--allow-read /definitely/not/here"));
}
