//! The `rtfs` command line: argument parsing and the `run`, `eval`, `check`, `explain`,
//! `test`, `fmt`, `lsp`, `doc`,
//! `repl`, `mesh` and `chain` commands. Exit codes: 0 success, 1 RTFS runtime error, 2
//! compile error or usage.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use rtfs_runtime::{Error, Runtime};

use crate::config_cmd::ConfigArgs;

const EXAMPLES: &str = "Examples:
  rtfs run rtfs-examples/programs/fib.rtfs
  rtfs run plan.rtfs --stats
  rtfs eval '(map inc [1 2 3])'
  rtfs run plan.rtfs --allow-read ./data --allow-env HOME
  rtfs check plan.rtfs
  rtfs repl
  rtfs mesh resolve image-processing/sharpen@^1.1 --registry ./registry
  rtfs chain verify run.chain";

#[derive(Parser)]
#[command(name = "rtfs", version, about = "RTFS 2.0 runtime: run, check and explore RTFS programs", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Tier {
    Interp,
    Jit,
    Auto,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program and print its final value.
    #[command(after_help = "Example:\n  rtfs run rtfs-examples/programs/fib.rtfs --stats")]
    Run(RunArgs),
    /// What the compiler decided: per function, pure or not (and why not); per call site,
    /// the delegation target and the reason.
    #[command(
        after_help = "Examples:\n  rtfs explain plan.rtfs\n  rtfs explain plan.rtfs --policy policy.toml --json"
    )]
    Explain {
        file: PathBuf,
        /// One JSON object instead of the table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Evaluate an expression and print its value.
    #[command(after_help = "Example:\n  rtfs eval '(reduce + (range 10))'")]
    Eval {
        expr: String,
        #[arg(short, long)]
        quiet: bool,
        #[command(flatten)]
        grants: crate::grants::GrantArgs,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Read and compile a file without running it; report every error.
    #[command(
        after_help = "Examples:\n  rtfs check plan.rtfs\n  rtfs check --watch plan.rtfs\n  rtfs check --emit ir plan.rtfs"
    )]
    Check {
        file: PathBuf,
        /// Check again whenever the file changes, recompiling only the forms that changed.
        #[arg(long)]
        watch: bool,
        /// Also print what the compiler produced: `ir` is the lowered IR of every form, with
        /// the delegation annotation of each call site.
        #[arg(long, value_parser = ["ir"])]
        emit: Option<String>,
    },
    /// Time a program under the interpreter, the JIT and auto, and print a table.
    #[command(after_help = "Example:\n  rtfs bench benches/programs/fib.rtfs --runs 3")]
    Bench {
        file: PathBuf,
        /// Runs per tier; the best time is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// The L4 code cache: `rtfs cache stats`, `rtfs cache clear`.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Interactive read-eval-print loop (history, multi-line input).
    Repl {
        #[command(flatten)]
        grants: crate::grants::GrantArgs,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print the effective configuration (rtfs.toml and flags) and where each value came from.
    #[command(
        after_help = "Examples:\n  rtfs config\n  rtfs config --config ./node.toml --security controlled --allow 'data/*'"
    )]
    Config {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Global Function Mesh: records, registries, resolution (`rtfs mesh --help`).
    #[command(disable_help_flag = true)]
    Mesh {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Markdown (and with --out, HTML) reference of a project's definitions.
    #[command(
        after_help = "Examples:\n  rtfs doc src/\n  rtfs doc plan.rtfs --builtins --out docs/api"
    )]
    Doc {
        /// Files, or directories searched for `.rtfs` files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write reference.md and reference.html into this directory instead of printing
        /// the Markdown.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Add a table of the built-in functions.
        #[arg(long)]
        builtins: bool,
    },
    /// Language server on stdin/stdout (diagnostics, hover, definition, references,
    /// completion, symbols, semantic tokens, rename).
    Lsp,
    /// Lay files out in the one canonical style (comments kept); `--check` only reports.
    #[command(after_help = "Examples:\n  rtfs fmt plan.rtfs\n  rtfs fmt --check src/")]
    Fmt {
        /// Files, or directories searched for `.rtfs` files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; print a diff of each unformatted file and exit 1 if there is one.
        #[arg(long)]
        check: bool,
    },
    /// Run `deftest` tests written in RTFS; prints failures and `N passed, N failed`.
    #[command(
        after_help = "Examples:\n  rtfs test tests/\n  rtfs test math_test.rtfs --filter add --junit report.xml"
    )]
    Test {
        /// Test files, or directories searched for `.rtfs` files holding `deftest` (default: .).
        paths: Vec<PathBuf>,
        /// Run only tests whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Print one JSON object (every test and failure) instead of the text report.
        #[arg(long)]
        json: bool,
        /// Also write a JUnit XML report to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Causal Chain: verify a chain file, inclusion proofs, tree heads (`rtfs chain --help`).
    #[command(disable_help_flag = true)]
    Chain {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

// Everything `rtfs run` is asked for (its help text is on `Command::Run`).
#[derive(clap::Args)]
struct RunArgs {
    file: PathBuf,
    /// Execution tier: `interp` only interprets; `jit` compiles every pure numeric
    /// function at its first call; `auto` compiles them once hot.
    #[arg(long, value_enum, default_value = "auto")]
    tier: Tier,
    #[command(flatten)]
    cache: CacheArgs,
    /// Print one JSON object of statistics to stderr.
    #[arg(long)]
    stats: bool,
    /// Don't print the final value.
    #[arg(short, long)]
    quiet: bool,
    /// Maximum nested calls before a `stack-depth-exceeded` error (1 to 2000000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(rtfs_runtime::MAX_MAX_DEPTH)))]
    max_depth: Option<u32>,
    #[command(flatten)]
    config: ConfigArgs,
    /// Append every delegated call and capability call to this Causal Chain file.
    #[arg(long)]
    chain: Option<PathBuf>,
    #[command(flatten)]
    grants: crate::grants::GrantArgs,
}

#[derive(clap::Args, Clone, Debug)]
struct CacheArgs {
    /// Directory of the L4 code cache (default: $RTFS_CACHE_DIR, else the user's cache
    /// directory + rtfs/l4).
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
    /// Keep compiled code in memory only.
    #[arg(long, global = true)]
    no_cache: bool,
}

impl CacheArgs {
    fn dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        self.cache_dir
            .clone()
            .or_else(rtfs_runtime::default_cache_dir)
    }
}

#[derive(Subcommand, Clone, Copy, Debug)]
enum CacheAction {
    /// Entries and bytes in the cache directory (JSON).
    Stats,
    /// Remove every entry.
    Clear,
}

/// Runs the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run(args) => run(args),
        Command::Cache { action, cache } => cache_cmd(action, &cache),
        Command::Bench { file, runs } => crate::bench::run(&file, runs),
        Command::Explain { file, json, config } => match config.load() {
            Ok(cfg) => crate::explain::run(&file, cfg.policy.map(|p| p.value), json),
            Err(code) => code,
        },
        Command::Eval {
            expr,
            quiet,
            grants,
            config,
        } => match config.runtime() {
            Ok(mut rt) => {
                if !grants.apply_or_report(&mut rt) {
                    return 2;
                }
                let r = rt.eval_source("<eval>", expr.as_bytes());
                finish(&rt, r, quiet)
            }
            Err(code) => code,
        },
        Command::Check {
            file, watch: true, ..
        } => crate::watch::run(file),
        Command::Check {
            file,
            watch: false,
            emit,
        } => check(file, emit.is_some()),
        Command::Repl { grants, config } => match config.runtime() {
            Ok(mut rt) => {
                if !grants.apply_or_report(&mut rt) {
                    return 2;
                }
                crate::repl::run(rt)
            }
            Err(code) => code,
        },
        Command::Config { config } => crate::config_cmd::run(&config),
        Command::Mesh { args } => mesh(args),
        Command::Chain { args } => chain(args),
        Command::Lsp => crate::lsp::run(),
        Command::Doc {
            paths,
            out,
            builtins,
        } => crate::doc_cmd::run(paths, out, builtins),
        Command::Fmt { paths, check } => crate::fmt_cmd::run(paths, check),
        Command::Test {
            paths,
            filter,
            json,
            junit,
        } => crate::test_cmd::run(crate::test_cmd::Options {
            paths,
            filter,
            json,
            junit,
        }),
    }
}

fn finish(rt: &Runtime, r: Result<rtfs_ir::Value, Error>, quiet: bool) -> i32 {
    match r {
        Ok(v) => {
            if !quiet {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", v.pr_str());
            }
            0
        }
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprint!("{}", rt.render_error(&e));
            e.exit_code()
        }
    }
}

fn run_tier(t: Tier) -> rtfs_runtime::Tier {
    match t {
        Tier::Interp => rtfs_runtime::Tier::Interp,
        Tier::Jit => rtfs_runtime::Tier::Jit,
        Tier::Auto => rtfs_runtime::Tier::Auto,
    }
}

fn cache_cmd(action: CacheAction, cache: &CacheArgs) -> i32 {
    let Some(dir) = cache.dir() else {
        eprintln!("error: no cache directory (set --cache-dir or RTFS_CACHE_DIR)");
        return 2;
    };
    let disk = rtfs_runtime::DiskCache::new(dir.clone(), u64::MAX);
    match action {
        CacheAction::Stats => {
            let s = disk.stats();
            // Why the cache would not be used (shown only for a directory that exists:
            // asking creates the directory's key).
            let refused = dir.is_dir().then(|| disk.mac_key().err()).flatten();
            let j = serde_json::json!({
                "dir": dir.display().to_string(),
                "entries": s.entries,
                "bytes": s.bytes,
                "refused": refused,
            });
            println!("{j}");
            0
        }
        CacheAction::Clear => match disk.clear() {
            Ok(n) => {
                println!("removed {n} entries from {}", dir.display());
                0
            }
            Err(e) => {
                eprintln!("error: cannot clear {}: {e}", dir.display());
                1
            }
        },
    }
}

fn run(args: RunArgs) -> i32 {
    let RunArgs {
        file,
        tier,
        cache,
        stats,
        quiet,
        max_depth,
        config,
        chain,
        grants,
    } = args;
    let cache = &cache;
    let start = Instant::now();
    let mut rt = match config.runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    if !grants.apply_or_report(&mut rt) {
        return 2;
    }
    rt.set_tier(run_tier(tier));
    rt.set_cache_dir(cache.dir());
    if let Some(d) = max_depth {
        rt.set_max_depth(d);
    }
    let sink = match chain {
        None => None,
        Some(path) => match rtfs_chain::FileSink::open(&path, rtfs_chain::ChainConfig::default()) {
            Ok(s) => Some(std::sync::Arc::new(s)),
            Err(e) => {
                eprintln!("error: cannot open chain {}: {e}", path.display());
                return 2;
            }
        },
    };
    if let Some(s) = &sink {
        rt.set_chain(Some(s.clone() as std::sync::Arc<dyn rtfs_chain::ChainSink>));
    }
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    let name = file.display().to_string();
    let startup = start.elapsed();
    let compile_start = Instant::now();
    let compiled = rt.compile_source(&name, &bytes);
    let compile = compile_start.elapsed();
    let run_start = Instant::now();
    let r = compiled.and_then(|units| rt.run_units(&units));
    let run = run_start.elapsed();
    // Lets background compilations land in the L4 cache, so the next run finds them.
    rt.jit_wait();
    let mut code = finish(&rt, r, quiet);
    if let Some(s) = &sink
        && let Err(e) = rtfs_chain::ChainSink::flush(&**s)
    {
        eprintln!("error: recording the causal chain failed: {e}");
        code = code.max(1);
    }
    if stats {
        let j = rt.jit_stats();
        // `compile_ms` is the front end (read + lower); `jit_compile_ms` the compiled tier
        // (planning, code generation, cache loads) on any thread: under `auto` most of it
        // runs on the background compiler while `run_ms` goes on.
        let s = serde_json::json!({
            "tier": rt.tier().name(),
            "functions_compiled": j.functions_compiled,
            "l4_hits": j.l4_hits,
            "l4_misses": j.l4_misses,
            "jit_rejected": j.rejected,
            "jit_compile_ms": j.compile_ns as f64 / 1e6,
            "l4_invalid_entries": j.invalid_entries,
            "jit_background_groups": j.background_groups,
            "jit_toplevel_compiled": j.toplevel_compiled,
            "jit_toplevel_declined": j.toplevel_declined,
            "jit_rejections": rt.jit_rejections().iter().map(|(f, why)| {
                serde_json::json!({"function": f, "reason": why})
            }).collect::<Vec<_>>(),
            "startup_ms": startup.as_secs_f64() * 1e3,
            "compile_ms": compile.as_secs_f64() * 1e3,
            "run_ms": run.as_secs_f64() * 1e3,
        });
        eprintln!("{s}");
    }
    code
}

fn check(file: PathBuf, emit_ir: bool) -> i32 {
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    let mut rt = Runtime::new();
    match rt.compile_source(&file.display().to_string(), &bytes) {
        Ok(units) => {
            if emit_ir {
                for u in &units {
                    print!(
                        "{}",
                        rtfs_ir::ir_text::toplevel_text(u, &|id| rt.global_name(id))
                    );
                }
            }
            println!("ok: {} ({} top-level forms)", file.display(), units.len());
            0
        }
        Err(e) => {
            eprint!("{}", rt.render_error(&e));
            e.exit_code()
        }
    }
}

/// `rtfs mesh …` is [`crate::mesh_cli`]; `.rtfs` record files are read with our reader.
fn mesh(args: Vec<String>) -> i32 {
    let read_rtfs = |text: &str| -> Result<rtfs_ir::Value, String> {
        let forms = rtfs_compiler::reader::read(rtfs_compiler::source::FileId(0), text).map_err(
            |diags| {
                diags
                    .iter()
                    .map(|d| d.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        )?;
        match forms.as_slice() {
            [form] => Ok(rtfs_compiler::convert::syntax_to_value(form)),
            _ => Err(format!(
                "a record file holds exactly one RTFS map, found {} forms",
                forms.len()
            )),
        }
    };
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    crate::mesh_cli::run_with_reader(args, &mut out, &mut err, &read_rtfs)
}

/// `rtfs chain …` is [`crate::chain_cli`]: exit 0 valid, 1 tampered, 2 usage or I/O.
fn chain(args: Vec<String>) -> i32 {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    crate::chain_cli::run(&args, &mut out, &mut err)
}
