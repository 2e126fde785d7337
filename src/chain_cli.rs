//! `rtfs chain …`: the command line of the Causal Chain, as a library function the `rtfs`
//! binary forwards to. `args` are the words after `rtfs chain` (a leading `rtfs chain` or
//! `chain` is tolerated). Exit codes: 0 the chain verifies (or the command succeeded),
//! 1 the chain is tampered (the first bad entry is named), 2 bad usage or an I/O error.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use rtfs_chain::error::ChainError;
use rtfs_chain::head::{HeadKey, TreeHead};
use rtfs_chain::verify::{Report, Status, verify, verify_with_head};

const USAGE: &str = "\
usage: rtfs chain <command> …

Commands:
  verify FILE [--head HEAD.json [--key KEYFILE]] [--json]
      Check every entry of the chain. Exit 0 when it verifies, 1 when it was tampered with
      (naming the first bad entry), 2 on bad usage or I/O errors. With --head, the chain must
      also still hold the head's entries with the head's root (catches entries dropped from
      the end and rewritten history); with --key, the head's MAC must be right.
  proof FILE N [--json]
      Inclusion proof (RFC 6962 audit path) of entry N against the chain's current root.
  consistency FILE OLD_SIZE [--json]
      Consistency proof from the chain's first OLD_SIZE entries to all of it.
  head FILE [--key KEYFILE] [--out HEAD.json]
      Print (or write atomically) the tree head {tree_size, root[, mac]} to check later.

Examples:
  rtfs chain verify run.chain
  rtfs chain head run.chain --key chain.key --out run.head
  rtfs chain verify run.chain --head run.head --key chain.key
  rtfs chain proof run.chain 3 --json";

/// Exit 2: bad usage (the message is followed by the usage text) or an I/O problem.
enum Fail {
    Usage(String),
    Io(String),
}

fn usage(msg: String) -> Fail {
    Fail::Usage(msg)
}

impl From<ChainError> for Fail {
    fn from(e: ChainError) -> Fail {
        Fail::Io(e.to_string())
    }
}

/// Parsed words: positionals, boolean flags and `--name VALUE` options.
struct Words {
    positional: Vec<String>,
    json: bool,
    head: Option<PathBuf>,
    key: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse(words: &[String]) -> Result<Words, Fail> {
    let mut w = Words {
        positional: Vec::new(),
        json: false,
        head: None,
        key: None,
        out: None,
    };
    let mut it = words.iter();
    while let Some(word) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        match word.as_str() {
            "--json" => w.json = true,
            "--head" => w.head = Some(value("--head")?),
            "--key" => w.key = Some(value("--key")?),
            "--out" => w.out = Some(value("--out")?),
            s if s.starts_with("--") => return Err(usage(format!("unknown option {s}"))),
            s => w.positional.push(s.to_string()),
        }
    }
    Ok(w)
}

/// Runs `rtfs chain ARGS…`, writing results to `out` and diagnostics to `err`.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut args = args;
    if args.first().is_some_and(|a| a == "rtfs") {
        args = &args[1..];
    }
    if args.first().is_some_and(|a| a == "chain") {
        args = &args[1..];
    }
    let Some((cmd, rest)) = args.split_first() else {
        let _ = writeln!(err, "{USAGE}");
        return 2;
    };
    let result = match cmd.as_str() {
        "-h" | "--help" | "help" => {
            let _ = writeln!(out, "{USAGE}");
            return 0;
        }
        "verify" => cmd_verify(rest, out),
        "proof" => cmd_proof(rest, out),
        "consistency" => cmd_consistency(rest, out),
        "head" => cmd_head(rest, out),
        other => Err(usage(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(code) => code,
        Err(Fail::Usage(msg)) => {
            let _ = writeln!(err, "error: {msg}\n\n{USAGE}");
            2
        }
        Err(Fail::Io(msg)) => {
            let _ = writeln!(err, "error: {msg}");
            2
        }
    }
}

fn one_file(w: &Words, what: &str) -> Result<PathBuf, Fail> {
    match w.positional.as_slice() {
        [file] => Ok(PathBuf::from(file)),
        _ => Err(usage(format!("{what} takes exactly one FILE"))),
    }
}

fn file_and_number(w: &Words, what: &str) -> Result<(PathBuf, u64), Fail> {
    match w.positional.as_slice() {
        [file, n] => {
            let n = n
                .parse::<u64>()
                .map_err(|_| usage(format!("{what}: `{n}` is not an entry number")))?;
            Ok((PathBuf::from(file), n))
        }
        _ => Err(usage(format!("{what} takes FILE and a number"))),
    }
}

fn load_head(path: &Path, key: Option<&Path>) -> Result<Result<TreeHead, String>, Fail> {
    let head = TreeHead::load(path)?;
    if let Some(key_path) = key {
        let key = HeadKey::from_file(key_path)?;
        if !head.verify_mac(&key) {
            let why = match head.mac {
                None => "the tree head has no MAC",
                Some(_) => {
                    "the tree head's MAC is wrong for this key (the head was forged or altered)"
                }
            };
            return Ok(Err(why.to_string()));
        }
    }
    Ok(Ok(head))
}

fn cmd_verify(rest: &[String], out: &mut dyn Write) -> Result<i32, Fail> {
    let w = parse(rest)?;
    let file = one_file(&w, "verify")?;
    if w.key.is_some() && w.head.is_none() {
        return Err(usage("--key needs --head".into()));
    }
    let head = match &w.head {
        None => None,
        Some(p) => match load_head(p, w.key.as_deref())? {
            Ok(h) => Some(h),
            Err(why) => {
                if w.json {
                    let v = json!({"file": file.display().to_string(), "status": "bad_head",
                                   "message": why});
                    let _ = writeln!(out, "{v}");
                } else {
                    let _ = writeln!(out, "tampered: {}: {why}", p.display());
                }
                return Ok(1);
            }
        },
    };
    let report = match &head {
        Some(h) => verify_with_head(&file, h)?,
        None => verify(&file)?,
    };
    if w.json {
        let _ = writeln!(out, "{}", report_json(&file, &report, head.as_ref()));
    } else {
        print_report(out, &file, &report, head.as_ref());
    }
    Ok(if report.problem().is_some() { 1 } else { 0 })
}

fn report_json(file: &Path, r: &Report, head: Option<&TreeHead>) -> serde_json::Value {
    let mut v = json!({
        "file": file.display().to_string(),
        "entries": r.entries,
        "root": r.root,
        "valid_bytes": r.valid_bytes,
    });
    match &r.status {
        Status::Valid => v["status"] = json!("valid"),
        Status::IncompleteTail { bytes } => {
            v["status"] = json!("incomplete_tail");
            v["tail_bytes"] = json!(bytes);
        }
        Status::Tampered(p) => {
            v["status"] = json!("tampered");
            v["problem"] = json!({
                "line": p.line,
                "entry": p.entry(),
                "kind": p.kind.code(),
                "message": p.kind.to_string(),
            });
        }
    }
    if let Some(h) = head {
        v["head"] = json!({"tree_size": h.tree_size, "root": h.root});
    }
    v
}

fn print_report(out: &mut dyn Write, file: &Path, r: &Report, head: Option<&TreeHead>) {
    let f = file.display();
    let matched = head
        .map(|h| format!("; matches the tree head of {} entries", h.tree_size))
        .unwrap_or_default();
    let _ = match &r.status {
        Status::Valid => writeln!(
            out,
            "ok: {f}: {} entries verify, root {}{matched}",
            r.entries, r.root
        ),
        Status::IncompleteTail { bytes } => writeln!(
            out,
            "ok: {f}: {} entries verify, root {}{matched}\n\
             incomplete tail: the last {bytes} bytes (line {}) are an unfinished entry from an \
             interrupted write; the prefix of {} entries verifies, and a writer opening the \
             chain cuts the tail off",
            r.entries,
            r.root,
            r.entries + 1,
            r.entries
        ),
        Status::Tampered(p) => writeln!(
            out,
            "tampered: {f}: {p}\nthe first {} entries verify (root {})",
            r.entries, r.root
        ),
    };
}

/// A proof over a tampered file is no proof: say so (exit 1) instead of failing.
fn unless_tampered<T>(
    r: Result<T, ChainError>,
    file: &std::path::Path,
    out: &mut dyn Write,
) -> Result<Option<T>, Fail> {
    match r {
        Ok(p) => Ok(Some(p)),
        Err(ChainError::Tampered { problem, .. }) => {
            let _ = writeln!(out, "tampered: {}: {problem}", file.display());
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn cmd_proof(rest: &[String], out: &mut dyn Write) -> Result<i32, Fail> {
    let w = parse(rest)?;
    let (file, n) = file_and_number(&w, "proof")?;
    let Some(p) = unless_tampered(rtfs_chain::proof::proof(&file, n), &file, out)? else {
        return Ok(1);
    };
    if w.json {
        let _ = writeln!(out, "{}", serde_json::to_string(&p).unwrap_or_default());
    } else {
        let _ = writeln!(
            out,
            "entry {} of {}\nleaf_hash {}\nroot {}\npath ({} hashes, leaf upwards):",
            p.index,
            p.tree_size,
            p.leaf_hash,
            p.root,
            p.path.len()
        );
        for h in &p.path {
            let _ = writeln!(out, "  {h}");
        }
    }
    Ok(0)
}

fn cmd_consistency(rest: &[String], out: &mut dyn Write) -> Result<i32, Fail> {
    let w = parse(rest)?;
    let (file, m) = file_and_number(&w, "consistency")?;
    let Some(p) = unless_tampered(rtfs_chain::proof::consistency(&file, m), &file, out)? else {
        return Ok(1);
    };
    if w.json {
        let _ = writeln!(out, "{}", serde_json::to_string(&p).unwrap_or_default());
    } else {
        let _ = writeln!(
            out,
            "from {} entries (root {})\nto {} entries (root {})\npath ({} hashes):",
            p.old_size,
            p.old_root,
            p.new_size,
            p.new_root,
            p.path.len()
        );
        for h in &p.path {
            let _ = writeln!(out, "  {h}");
        }
    }
    Ok(0)
}

fn cmd_head(rest: &[String], out: &mut dyn Write) -> Result<i32, Fail> {
    let w = parse(rest)?;
    let file = one_file(&w, "head")?;
    let report = verify(&file)?;
    if let Status::Tampered(p) = &report.status {
        let _ = writeln!(out, "tampered: {}: {p}", file.display());
        return Ok(1);
    }
    let mut head = TreeHead::new(report.entries, report.root);
    if let Some(k) = &w.key {
        head = head.signed(&HeadKey::from_file(k)?);
    }
    match &w.out {
        Some(path) => {
            head.save(path)?;
            let _ = writeln!(
                out,
                "wrote {}: {} entries, root {}",
                path.display(),
                head.tree_size,
                head.root
            );
        }
        None => {
            let _ = writeln!(out, "{}", head.to_json());
        }
    }
    Ok(0)
}
