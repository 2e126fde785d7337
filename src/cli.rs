//! The `rtfs` command line: argument parsing and the `run`, `eval`, `check`, `explain`,
//! `repl`, `mesh` and `chain` commands. Exit codes: 0 success, 1 RTFS runtime error, 2
//! compile error or usage.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use rtfs_runtime::{Error, Runtime};

const EXAMPLES: &str = "Examples:
  rtfs run rtfs-examples/programs/fib.rtfs
  rtfs run plan.rtfs --stats
  rtfs eval '(map inc [1 2 3])'
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
        /// Delegation policy (TOML) the analysis consults.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// One JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate an expression and print its value.
    #[command(after_help = "Example:\n  rtfs eval '(reduce + (range 10))'")]
    Eval {
        expr: String,
        #[arg(short, long)]
        quiet: bool,
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
    Repl,
    /// Global Function Mesh: records, registries, resolution (`rtfs mesh --help`).
    #[command(disable_help_flag = true)]
    Mesh {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
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
    /// Maximum nested calls before a `stack-depth-exceeded` error.
    #[arg(long)]
    max_depth: Option<u32>,
    /// Delegation policy (TOML): engines, budgets, models, routes.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Append every delegated call and capability call to this Causal Chain file.
    #[arg(long)]
    chain: Option<PathBuf>,
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
        Command::Explain { file, policy, json } => {
            crate::explain::run(&file, policy.as_deref(), json)
        }
        Command::Eval { expr, quiet } => {
            let mut rt = Runtime::new();
            let r = rt.eval_source("<eval>", expr.as_bytes());
            finish(&rt, r, quiet)
        }
        Command::Check {
            file, watch: true, ..
        } => crate::watch::run(file),
        Command::Check {
            file,
            watch: false,
            emit,
        } => check(file, emit.is_some()),
        Command::Repl => crate::repl::run(),
        Command::Mesh { args } => mesh(args),
        Command::Chain { args } => chain(args),
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
            let j = serde_json::json!({
                "dir": dir.display().to_string(),
                "entries": s.entries,
                "bytes": s.bytes,
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
        policy,
        chain,
    } = args;
    let cache = &cache;
    let start = Instant::now();
    let mut rt = Runtime::new();
    rt.set_tier(run_tier(tier));
    rt.set_cache_dir(cache.dir());
    if let Some(d) = max_depth {
        rt.set_max_depth(d);
    }
    if let Some(path) = policy {
        match rtfs_delegation::Policy::from_file(&path) {
            Ok(p) => match rtfs_runtime::ModelRegistry::from_policy(&p) {
                Ok(reg) => {
                    rt.set_model_registry(Some(std::sync::Arc::new(reg)));
                    rt.set_policy(p);
                }
                Err(e) => {
                    eprintln!("error: policy {}: {e}", path.display());
                    return 2;
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
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

/// `rtfs mesh …` is the mesh crate's CLI; `.rtfs` record files are read with our reader.
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
    rtfs_mesh::cli::run_with_reader(args, &mut out, &mut err, &read_rtfs)
}

/// `rtfs chain …` is the chain crate's CLI: exit 0 valid, 1 tampered, 2 usage or I/O.
fn chain(args: Vec<String>) -> i32 {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    rtfs_chain::cli::run(&args, &mut out, &mut err)
}
