//! The compiled tier end to end: `--tier`, `--stats`, the L4 cache on disk (second run
//! compiles nothing; truncated, corrupt and foreign entries are misses that get rewritten;
//! the size bound), `rtfs cache`, and `rtfs explain`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use rtfs::{Runtime, Tier, Value};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rtfs-jit-tests")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Writes a file atomically (temp file + rename).
fn write_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).expect("write temp file");
    std::fs::rename(&tmp, path).expect("rename into place");
}

fn rtfs(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RTFS_CACHE_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run the rtfs binary")
}

fn stats_of(out: &Output) -> serde_json::Value {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("stats JSON ({e}): {err}"))
}

const FIB: &str = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(fib 25)\n";

fn run_fib(cache: &Path) -> (Value, rtfs::JitStats) {
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    rt.set_cache_dir(Some(cache.to_path_buf()));
    let v = rt.eval_str(FIB).expect("fib runs");
    (v, rt.jit_stats())
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "l4"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn second_run_compiles_nothing() {
    let dir = temp_dir("warm");
    let (v1, s1) = run_fib(&dir);
    assert_eq!(v1, Value::Int(75025));
    assert_eq!((s1.functions_compiled, s1.l4_misses, s1.l4_hits), (1, 1, 0));
    assert_eq!(entries(&dir).len(), 1);
    let (v2, s2) = run_fib(&dir);
    assert_eq!(v2, Value::Int(75025));
    assert_eq!((s2.functions_compiled, s2.l4_misses, s2.l4_hits), (0, 0, 1));
}

/// Damages the one cache entry with `damage`, then checks that the next run treats it as
/// a miss (same value, recompiled, entry rewritten) and the run after that hits again.
fn damaged_entry_is_a_miss(tag: &str, damage: impl Fn(&mut Vec<u8>)) {
    let dir = temp_dir(tag);
    run_fib(&dir);
    let files = entries(&dir);
    assert_eq!(files.len(), 1);
    let mut bytes = std::fs::read(&files[0]).expect("read entry");
    damage(&mut bytes);
    write_file(&files[0], &bytes);
    let (v, s) = run_fib(&dir);
    assert_eq!(v, Value::Int(75025), "{tag}");
    assert_eq!(s.invalid_entries, 1, "{tag}: damaged entry detected");
    assert_eq!(s.functions_compiled, 1, "{tag}: recompiled");
    let (v, s) = run_fib(&dir);
    assert_eq!(v, Value::Int(75025), "{tag}");
    assert_eq!(
        (s.l4_hits, s.functions_compiled),
        (1, 0),
        "{tag}: rewritten entry hits"
    );
}

#[test]
fn truncated_entry_is_a_miss() {
    damaged_entry_is_a_miss("truncated", |b| b.truncate(b.len() / 2));
    damaged_entry_is_a_miss("empty", |b| b.clear());
}

#[test]
fn corrupt_entry_is_a_miss() {
    // A flipped bit in the code, then one in the header.
    damaged_entry_is_a_miss("flip-code", |b| {
        let i = b.len() - 40;
        b[i] ^= 0x01;
    });
    damaged_entry_is_a_miss("flip-header", |b| b[9] ^= 0x80);
}

#[test]
fn foreign_entry_is_a_miss() {
    // Another compiler/ISA environment: the env hash (bytes 40..72) differs, with a
    // checksum that is valid for the altered bytes, as a genuine foreign file would have.
    damaged_entry_is_a_miss("foreign", |b| {
        b[40] ^= 0xff;
        let n = b.len() - 32;
        let sum = *blake3_of(&b[..n]);
        b[n..].copy_from_slice(&sum);
    });
    damaged_entry_is_a_miss("bad-magic", |b| b[0] = b'X');
}

fn blake3_of(bytes: &[u8]) -> Box<[u8; 32]> {
    Box::new(*blake3::hash(bytes).as_bytes())
}

#[test]
fn cache_size_is_bounded() {
    let dir = temp_dir("bound");
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    rt.set_cache_dir(Some(dir.clone()));
    rt.eval_str("(defn f [x] (* x 2)) (f 1)").expect("runs");
    let one = std::fs::metadata(&entries(&dir)[0]).expect("entry").len();
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    rt.set_cache_dir(Some(dir.clone()));
    rt.set_cache_max_bytes(one + one / 2);
    let v = rt
        .eval_str("(defn g [x] (+ x 1)) (defn h [x] (- x 1)) [(g 1) (h 1)]")
        .expect("runs");
    assert_eq!(v.pr_str(), "[2 0]");
    let total: u64 = entries(&dir)
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(total <= one + one / 2, "cache holds {total} bytes");
    assert!(!entries(&dir).is_empty());
}

#[test]
fn cli_tiers_report_stats() {
    let dir = temp_dir("cli");
    let file = dir.join("fib.rtfs");
    write_file(&file, FIB.as_bytes());
    let cache = dir.join("cache");
    let f = file.to_str().unwrap_or_default();
    let c = cache.to_str().unwrap_or_default();
    for tier in ["interp", "jit", "auto"] {
        let out = rtfs(&["run", f, "--tier", tier, "--stats", "--cache-dir", c]);
        assert!(out.status.success(), "{tier}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "75025");
        let s = stats_of(&out);
        assert_eq!(s["tier"], tier);
        for k in [
            "functions_compiled",
            "l4_hits",
            "l4_misses",
            "compile_ms",
            "run_ms",
        ] {
            assert!(s.get(k).is_some(), "{tier}: missing {k} in {s}");
        }
        if tier == "interp" {
            assert_eq!(s["functions_compiled"], 0);
        }
    }
    // jit compiled fib and stored it; auto found it in the cache.
    let out = rtfs(&["run", f, "--tier", "jit", "--stats", "--cache-dir", c]);
    let s = stats_of(&out);
    assert_eq!(
        (s["functions_compiled"].as_u64(), s["l4_hits"].as_u64()),
        (Some(0), Some(1))
    );

    let out = rtfs(&["cache", "stats", "--cache-dir", c]);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cache stats is JSON");
    assert_eq!(st["entries"], 1);
    let out = rtfs(&["cache", "clear", "--cache-dir", c]);
    assert!(out.status.success());
    let out = rtfs(&["cache", "stats", "--cache-dir", c]);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(st["entries"], 0);

    // --no-cache writes nothing, even with a cache dir in the environment.
    let out = Command::new(BIN)
        .args(["run", f, "--tier", "jit", "--no-cache", "--stats"])
        .env("RTFS_CACHE_DIR", c)
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(stats_of(&out)["functions_compiled"], 1);
    assert!(entries(&cache).is_empty());
    // RTFS_CACHE_DIR is the default directory.
    let out = Command::new(BIN)
        .args(["run", f, "--tier", "jit"])
        .env("RTFS_CACHE_DIR", c)
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(entries(&cache).len(), 1);
}

#[test]
fn jit_errors_match_the_interpreter() {
    let dir = temp_dir("err");
    let file = dir.join("ovf.rtfs");
    write_file(&file, b"(defn sq [n] (* n n))\n(sq 3)\n(sq 4000000000)\n");
    let f = file.to_str().unwrap_or_default();
    let a = rtfs(&["run", f, "--tier", "interp"]);
    let b = rtfs(&["run", f, "--tier", "jit", "--no-cache"]);
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(a.status.code(), b.status.code());
    assert_eq!(a.stderr, b.stderr);
}

const PURITY: &str = r#"(defn square [x] (* x x))
(defn sum-sq [a b] (+ (square a) (square b)))
(defn shout [x]
  (println "value:" x)
  x)
(defn use-shout [x] (+ 1 (shout x)))
(defn fetch [k] (call :ccos.state.kv/get k))
(defn apply-it [f x] (f x))
"#;

#[test]
fn explain_reports_purity_with_locations() {
    let dir = temp_dir("explain");
    let file = dir.join("p.rtfs");
    write_file(&file, PURITY.as_bytes());
    let f = file.to_str().unwrap_or_default();
    let out = rtfs(&["explain", f]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("square  pure"), "{text}");
    assert!(text.contains("sum-sq  pure"), "{text}");
    assert!(text.contains("shout  impure"), "{text}");
    assert!(
        text.contains(&format!("calls `println`, which has effects at {f}:4:3")),
        "{text}"
    );
    assert!(text.contains("calls impure `shout`"), "{text}");
    assert!(text.contains(&format!("at {f}:6:26")), "{text}");

    let out = rtfs(&["explain", "--json", f]);
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("explain --json");
    let fns = j["functions"].as_array().cloned().unwrap_or_default();
    let by_name = |n: &str| {
        fns.iter()
            .find(|x| x["name"] == n)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(fns.len(), 6);
    assert_eq!(by_name("square")["pure"], true);
    assert_eq!(by_name("fetch")["pure"], false);
    assert!(
        by_name("fetch")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("capability call :ccos.state.kv/get")),
        "{j}"
    );
    assert_eq!(by_name("fetch")["reason_at"], format!("{f}:7:17"));
    assert!(
        by_name("apply-it")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not known at compile time")),
        "{j}"
    );
}

#[test]
fn explain_rejects_bad_files() {
    let dir = temp_dir("explain-bad");
    let file = dir.join("bad.rtfs");
    write_file(&file, b"(defn f [x] (+ x");
    let out = rtfs(&["explain", file.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(2));
    let out = rtfs(&[
        "explain",
        dir.join("missing.rtfs").to_str().unwrap_or_default(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_command_prints_every_tier() {
    let dir = temp_dir("bench");
    let file = dir.join("fib.rtfs");
    write_file(&file, FIB.as_bytes());
    let out = rtfs(&["bench", file.to_str().unwrap_or_default(), "--runs", "1"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    for tier in ["| interp |", "| jit |", "| auto |", "value: 75025"] {
        assert!(text.contains(tier), "{text}");
    }
}

#[test]
fn deep_compiled_recursion_on_a_small_stack_is_safe() {
    // Compiled frames are bounded by the stack left: past it the call bails and the
    // interpreter (which grows its stack on demand) finishes it.
    let h = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let mut rt = Runtime::new();
            rt.set_tier(Tier::Jit);
            let src =
                "(defn down [n] (if (= n 0) 0 (+ 1 (down (- n 1))))) [(down 10) (down 150000)]";
            let v = rt.eval_str(src).map(|v| v.pr_str());
            (v.ok(), rt.jit_stats().functions_compiled)
        })
        .expect("spawn");
    let (v, compiled) = h.join().expect("no crash");
    assert_eq!(v.as_deref(), Some("[10 150000]"));
    assert_eq!(compiled, 1);
}

/// Under `auto`, a function hot by call count compiles on the background thread: the
/// program keeps running interpreted, and once the code is installed later calls use it.
#[test]
fn auto_compiles_hot_functions_in_the_background() {
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Auto);
    rt.set_cache_dir(None);
    let v = rt
        .eval_str(
            "(defn sq [x] (if (< x 0) (* 1 (sq (- x))) (* x x))) (reduce + (map sq (range 200)))",
        )
        .expect("runs");
    assert_eq!(v, Value::Int(2_646_700));
    rt.jit_wait();
    let s = rt.jit_stats();
    assert_eq!((s.functions_compiled, s.background_groups), (1, 1), "{s:?}");
    let Ok(Value::Fn(ref f)) = rt.eval_str("sq") else {
        panic!("sq is a function");
    };
    assert_eq!(f.lambda.tier.state(), rtfs_ir::tier::TierState::Compiled);
    // The installed code gives the interpreter's answers, guards included.
    let v = rt
        .eval_str("[(sq 12) (sq 1.5) (try (sq 4000000000) (catch Exception e :overflow))]")
        .expect("runs");
    assert_eq!(v.pr_str(), "[144 2.25 :overflow]");
}

/// `--tier jit` compiles on the calling thread before the first call runs, and a function
/// with a loop compiles at its first call under `auto` too (it cannot leave the
/// interpreter mid-loop): neither goes to the background thread.
#[test]
fn eager_compiles_stay_on_the_calling_thread() {
    for (tier, src) in [
        (Tier::Jit, "(defn sq [x] (* x x)) (sq 3)"),
        (
            Tier::Auto,
            "(defn s [n] (loop [i 0 a 0] (if (< i n) (recur (inc i) (+ a i)) a))) (s 10)",
        ),
    ] {
        let mut rt = Runtime::new();
        rt.set_tier(tier);
        rt.set_cache_dir(None);
        rt.eval_str(src).expect("runs");
        let s = rt.jit_stats();
        assert_eq!(
            (s.functions_compiled, s.background_groups),
            (1, 0),
            "{src}: {s:?}"
        );
    }
}

/// A compiled loop of 10^6 iterations building a string and a vector each iteration keeps
/// the arena of boxed values bounded: `recur` releases each iteration's temporaries.
#[test]
fn compiled_loops_keep_the_arena_bounded() {
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    let src = r#"
        (defn f [n]
          (loop [i 0 acc 0 v []]
            (if (< i n)
              (recur (inc i) (+ acc (count (str "x" i))) (conj [] (vector i "y")))
              [acc (count v)])))
        (f 1000000)"#;
    rtfs::jit_arena_high_water();
    let v = rt.eval_source("<arena>", src.as_bytes()).expect("runs");
    let high = rtfs::jit_arena_high_water();
    assert_eq!(v.pr_str(), "[6888890 1]");
    assert!(
        rt.jit_stats().functions_compiled >= 1,
        "the loop must run compiled"
    );
    assert!(high > 0, "the compiled loop used no boxed values");
    assert!(
        high < 32,
        "arena grew with iterations: high-water mark {high}"
    );
}

/// Boxed code (constants, built-ins, collection literals, a loop carrying a string) goes
/// to the disk cache and, loaded from it by a fresh runtime, gives the same values: the
/// code names its constants and built-ins by index, and the tables are rebuilt at load.
#[test]
fn boxed_code_round_trips_through_the_disk_cache() {
    let dir = temp_dir("boxed");
    let src = r#"
        (defn f [n sep]
          (loop [i 0 s "" v []]
            (if (< i n)
              (recur (inc i) (str s i sep) (conj v {:i i :k :x}))
              [s (count v) (get (nth v 1) :k) (+ 1 (count s))])))
        [(f 3 ",") (f 2 :-)]"#;
    let run = || {
        let mut rt = Runtime::new();
        rt.set_tier(Tier::Jit);
        rt.set_cache_dir(Some(dir.clone()));
        let v = rt.eval_str(src).expect("runs");
        (v.pr_str(), rt.jit_stats())
    };
    let want = r#"[["0,1,2," 3 :x 7] ["0:-1:-" 2 :x 7]]"#;
    let (v1, s1) = run();
    assert_eq!(v1, want);
    assert_eq!((s1.functions_compiled, s1.l4_hits), (1, 0));
    assert_eq!(entries(&dir).len(), 1);
    let (v2, s2) = run();
    assert_eq!(v2, want);
    assert_eq!((s2.functions_compiled, s2.l4_hits), (0, 1));
}

/// `auto` leaves interpreted what would run slower compiled: a small leaf function hot on
/// its own (the switch into native code costs more than its body) and a group that calls
/// function values (each call leaves native code); `--tier jit` compiles both. Each
/// verdict is explained in the rejections.
#[test]
fn auto_declines_code_that_would_run_slower_compiled() {
    let src = "(defn add1 [x] (+ x 1)) \
               (defn twice [f n] (loop [i 0 a n] (if (< i 2) (recur (inc i) (f a)) a))) \
               [(reduce + (map add1 (range 100))) (twice add1 5)]";
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Auto);
    rt.set_cache_dir(None);
    assert_eq!(rt.eval_str(src).expect("runs").pr_str(), "[5050 7]");
    rt.jit_wait();
    assert_eq!(rt.jit_stats().functions_compiled, 0);
    let why = rt.jit_rejections();
    let reason = |f: &str| {
        why.iter()
            .find(|(n, _)| n == f)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert!(reason("add1").contains("small leaf"), "{why:?}");
    assert!(reason("twice").contains("function values"), "{why:?}");

    let mut rt = Runtime::new();
    rt.set_tier(Tier::Jit);
    rt.set_cache_dir(None);
    assert_eq!(rt.eval_str(src).expect("runs").pr_str(), "[5050 7]");
    assert!(
        rt.jit_stats().functions_compiled >= 2,
        "{:?}",
        rt.jit_stats()
    );
}
