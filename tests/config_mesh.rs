//! `rtfs.toml` and `rtfs config`, and `rtfs run` resolving capability calls through the
//! mesh: real HTTP providers on 127.0.0.1 (one dead, one alive, for failover), the security
//! context from the configuration, and signed records checked against trusted keys.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-config-tests")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Runs `rtfs ARGS` in `cwd` (so `rtfs.toml` is discovered from there).
fn rtfs_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .expect("run the rtfs binary")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
}

/// A capability provider speaking the runtime's JSON-over-HTTP protocol: answers every
/// POST with `{"result": "<name>: <first argument>"}` and counts the calls. Serves at most
/// 64 connections, then stops.
fn provider(name: &'static str) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", l.local_addr().expect("addr"));
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().take(64) {
            let Ok(stream) = stream else { continue };
            let mut r = BufReader::new(stream);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; len];
            if r.read_exact(&mut body).is_err() {
                continue;
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let req: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let arg = req["args"][0].as_str().unwrap_or("?").to_string();
            let reply = serde_json::json!({ "result": format!("{name}: {arg}") }).to_string();
            let mut s = r.into_inner();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (url, calls)
}

/// A loopback URL nobody listens on.
fn dead_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", l.local_addr().expect("addr"));
    drop(l);
    url
}

/// The record of `data/sentiment`: a cheap provider first (lowest-cost picks it), then a
/// dearer one.
fn record(cheap: &str, dear: &str) -> String {
    serde_json::json!({
        "type": "ccos.mesh:v0.func-record",
        "func-name": "data/sentiment",
        "latest-version": "1.0.0",
        "providers": [
            {"id": "cheap", "endpoint": cheap, "cost-per-call": 0.001},
            {"id": "dear", "endpoint": dear, "cost-per-call": 0.01}
        ],
        "security-requirements": {"min-security-level": "controlled",
                                  "required-permissions": [], "trusted-providers": []}
    })
    .to_string()
}

/// A directory registry in `dir/registry` holding `record` (signed with `key` if given).
fn publish(dir: &Path, record: &str, key: Option<&Path>) {
    let reg = dir.join("registry");
    if !reg.exists() {
        assert_exit(&rtfs_in(dir, &["mesh", "init", "registry"]), 0);
    }
    std::fs::write(dir.join("record.json"), record).unwrap();
    let mut args = vec!["mesh", "publish", "--registry", "registry", "--no-cache"];
    let key = key.map(|k| k.display().to_string());
    if let Some(k) = &key {
        args.extend(["--key", k.as_str()]);
    }
    args.push("record.json");
    assert_exit(&rtfs_in(dir, &args), 0);
}

/// The stored JSON file of the record (the registry shards it into subdirectories).
fn stored_record(reg: &Path) -> PathBuf {
    let mut stack = vec![reg.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "data~sentiment.json") {
                return p;
            }
        }
    }
    panic!("no stored record under {}", reg.display());
}

const PLAN: &str = "(call :data/sentiment \"great\")\n";

fn write_plan(dir: &Path) {
    std::fs::write(dir.join("plan.rtfs"), PLAN).unwrap();
}

#[test]
fn config_prints_values_with_their_sources() {
    let dir = temp_dir("show");
    std::fs::write(
        dir.join("rtfs.toml"),
        "[security]\nlevel = \"controlled\"\nallow = [\"data/*\"]\n[tenant]\nid = \"acme\"\n[mesh]\nregistries = [\"registry\"]\nstrategy = \"fastest\"\n",
    )
    .unwrap();
    let sub = dir.join("a").join("b");
    std::fs::create_dir_all(&sub).unwrap();
    let file = dir.join("rtfs.toml").display().to_string();
    // Found from a subdirectory, like Cargo.toml.
    let o = rtfs_in(&sub, &["config"]);
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!("# configuration file: {file}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("level = \"controlled\"  # {file}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("allow = [\"data/*\"]  # {file}")),
        "{out}"
    );
    assert!(out.contains(&format!("id = \"acme\"  # {file}")), "{out}");
    assert!(
        out.contains(&format!("strategy = \"fastest\"  # {file}")),
        "{out}"
    );
    let reg = dir.join("registry").display().to_string();
    assert!(out.contains(&format!("registries = [\"{reg}\"]")), "{out}");
    assert!(out.contains("require-signed = false  # default"), "{out}");
    assert!(out.contains("network = "), "{out}");
    // Flags override the file.
    let o = rtfs_in(
        &sub,
        &[
            "config",
            "--security",
            "full",
            "--tenant",
            "beta",
            "--allow",
            "x/*",
        ],
    );
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    assert!(out.contains("level = \"full\"  # --security"), "{out}");
    assert!(out.contains("id = \"beta\"  # --tenant"), "{out}");
    assert!(out.contains("allow = [\"x/*\"]  # --allow"), "{out}");
    // --config names another file; --policy reads a policy file as a configuration.
    std::fs::write(
        dir.join("other.toml"),
        "[device]\nnetwork = \"offline\"\nbattery = 12\n",
    )
    .unwrap();
    let o = rtfs_in(&sub, &["config", "--config", "../../other.toml"]);
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    assert!(
        out.contains("network = \"offline\"  # ../../other.toml"),
        "{out}"
    );
    assert!(out.contains("battery = 12  # ../../other.toml"), "{out}");
    assert!(out.contains("level = \"full\"  # default"), "{out}");
    std::fs::write(dir.join("policy.toml"), "[budget]\nper_run = 1.5\n").unwrap();
    let o = rtfs_in(&dir, &["config", "--policy", "policy.toml"]);
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    assert!(out.contains("# delegation policy  # policy.toml"), "{out}");
    assert!(out.contains("per_run = 1.5"), "{out}");
}

#[test]
fn bad_configuration_exits_2_naming_the_key() {
    let dir = temp_dir("bad");
    for (toml, key) in [
        ("[mesh]\nregistry = [\"r\"]\n", "`mesh.registry`"),
        ("[security]\nlevel = \"root\"\n", "`security.level`"),
        (
            "[security]\nrequire-signed = \"yes\"\n",
            "`security.require-signed`",
        ),
        (
            "[security]\ntrusted-keys = [\"missing.pub\"]\n",
            "`security.trusted-keys[0]`",
        ),
        ("[device]\nnetwork = \"wifi\"\n", "`device.network`"),
        ("[tenant]\nname = \"x\"\n", "`tenant.name`"),
        ("[budget]\nper_rnu = 1\n", "per_rnu"),
        ("[mesh\n", "rtfs.toml"),
    ] {
        std::fs::write(dir.join("rtfs.toml"), toml).unwrap();
        for cmd in [&["config"][..], &["eval", "1"][..]] {
            let o = rtfs_in(&dir, cmd);
            assert_exit(&o, 2);
            let err = text(&o.stderr);
            assert!(err.contains(key), "{toml}: {err}");
        }
    }
    std::fs::write(dir.join("rtfs.toml"), "").unwrap();
    let o = rtfs_in(&dir, &["eval", "1", "--security", "root"]);
    assert_exit(&o, 2);
    assert!(
        text(&o.stderr).contains("--security"),
        "{}",
        text(&o.stderr)
    );
    let o = rtfs_in(&dir, &["eval", "1", "--registry", "ftp://x"]);
    assert_exit(&o, 2);
    assert!(
        text(&o.stderr).contains("--registry"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn run_resolves_through_the_mesh_and_fails_over() {
    let dir = temp_dir("mesh-run");
    let (live, calls) = provider("dear");
    publish(&dir, &record(&dead_endpoint(), &live), None);
    write_plan(&dir);
    std::fs::write(
        dir.join("rtfs.toml"),
        "[mesh]\nregistries = [\"registry\"]\n",
    )
    .unwrap();
    let o = rtfs_in(&dir, &["run", "plan.rtfs"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o.stdout).trim(), "\"dear: great\"");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Without the registry the capability is unknown, as before.
    let o = rtfs_in(&dir, &["run", "plan.rtfs", "--config", "/dev/null"]);
    assert_exit(&o, 1);
    assert!(
        text(&o.stderr).contains("unknown capability"),
        "{}",
        text(&o.stderr)
    );
    // The security context comes from the configuration and the flags.
    let o = rtfs_in(&dir, &["run", "plan.rtfs", "--security", "controlled"]);
    assert_exit(&o, 1);
    assert!(
        text(&o.stderr).contains("does not allow"),
        "{}",
        text(&o.stderr)
    );
    let o = rtfs_in(
        &dir,
        &[
            "run",
            "plan.rtfs",
            "--security",
            "controlled",
            "--allow",
            "data/*",
        ],
    );
    assert_exit(&o, 1);
    assert!(text(&o.stderr).contains("dear"), "{}", text(&o.stderr));
    let o = rtfs_in(
        &dir,
        &[
            "run",
            "plan.rtfs",
            "--security",
            "controlled",
            "--allow",
            "data/*",
            "--allow-provider",
            "dear",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o.stdout).trim(), "\"dear: great\"");
    // The selection strategy is honoured: the dead provider is cheapest, and with every
    // provider dead the error names both attempts.
    std::fs::write(
        dir.join("rtfs.toml"),
        "[mesh]\nregistries = [\"registry\"]\n",
    )
    .unwrap();
    publish(&dir, &record(&dead_endpoint(), &dead_endpoint()), None);
    let o = rtfs_in(&dir, &["run", "plan.rtfs"]);
    assert_exit(&o, 1);
    let err = text(&o.stderr);
    assert!(err.contains("cheap:") && err.contains("dear:"), "{err}");
}

#[test]
fn trusted_keys_refuse_unsigned_and_tampered_records() {
    let dir = temp_dir("mesh-signed");
    let (live, _) = provider("signed");
    assert_exit(&rtfs_in(&dir, &["mesh", "keygen", "--out", "acme.key"]), 0);
    publish(
        &dir,
        &record(&live, &dead_endpoint()),
        Some(&dir.join("acme.key")),
    );
    write_plan(&dir);
    std::fs::write(
        dir.join("rtfs.toml"),
        "[mesh]\nregistries = [\"registry\"]\n[security]\ntrusted-keys = [\"data=acme.key.pub\"]\n",
    )
    .unwrap();
    let o = rtfs_in(&dir, &["run", "plan.rtfs"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o.stdout).trim(), "\"signed: great\"");

    // Someone with write access to the registry redirects the cheap provider.
    let stored = stored_record(&dir.join("registry"));
    let original = std::fs::read_to_string(&stored).unwrap();
    let (evil, evil_calls) = provider("evil");
    std::fs::write(&stored, original.replacen(&live, &evil, 1)).unwrap();
    let o = rtfs_in(&dir, &["run", "plan.rtfs"]);
    assert_exit(&o, 1);
    assert!(
        text(&o.stderr).contains("signature does not verify"),
        "{}",
        text(&o.stderr)
    );
    // --require-signed without the key: a signature nobody can check is refused too.
    let o = rtfs_in(
        &dir,
        &[
            "run",
            "plan.rtfs",
            "--config",
            "/dev/null",
            "--registry",
            "registry",
            "--require-signed",
        ],
    );
    assert_exit(&o, 1);
    assert!(
        text(&o.stderr).contains("unknown key"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        evil_calls.load(Ordering::SeqCst),
        0,
        "the tampered record was used"
    );

    // An unsigned record in a namespace that has a trusted key is refused: the registry
    // will not let an unsigned record replace a signed one, and one written into the
    // registry behind its back is refused when it resolves.
    std::fs::write(&stored, &original).unwrap();
    std::fs::write(dir.join("record.json"), record(&live, &live)).unwrap();
    let o = rtfs_in(
        &dir,
        &[
            "mesh",
            "publish",
            "--registry",
            "registry",
            "--no-cache",
            "record.json",
        ],
    );
    assert_exit(&o, 1);
    assert!(
        text(&o.stderr).contains("not signed"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(&stored, record(&live, &live)).unwrap();
    let o = rtfs_in(&dir, &["run", "plan.rtfs"]);
    assert_exit(&o, 1);
    assert!(
        text(&o.stderr).contains("not signed"),
        "{}",
        text(&o.stderr)
    );
    // A key file given on the command line is read relative to the current directory.
    let o = rtfs_in(&dir, &["run", "plan.rtfs", "--trust-key", "nope.pub"]);
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains("nope.pub"), "{}", text(&o.stderr));
}
