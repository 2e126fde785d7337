//! `rtfs mesh …`: the command line of the mesh (over `rtfs-mesh-io`), run on the shared I/O
//! runtime. `args` are the words after `rtfs mesh` (a leading `rtfs mesh` or `mesh` is
//! tolerated). Exit codes: 0 success, 1 failure (not found, not allowed, registry error),
//! 2 bad usage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};
use rtfs_ir::Value;
use serde_json::json;

use rtfs_mesh_io::error::{MeshError, Result};
use rtfs_mesh_io::json::record_to_json;
use rtfs_mesh_io::record::FunctionRecord;
use rtfs_mesh_io::registry::{
    DirRegistry, GitRegistry, OpenOptions, RegistrySpec, http_server, open_one, open_registries,
};
use rtfs_mesh_io::resolve::{GlobalFunctionMesh, Resolved};
use rtfs_mesh_io::security::{SecurityContext, SecurityLevel};
use rtfs_mesh_io::select::{Ranked, SelectionStrategy};
use rtfs_mesh_io::signing::{PublisherKey, TrustStore};
use rtfs_mesh_io::value_codec::record_from_rtfs;
use rtfs_mesh_io::{PublisherKeyFile, TrustStoreFile};

const EXAMPLES: &str = "\
Examples:
  rtfs mesh init ./registry                       # a directory registry
  rtfs mesh init --git /srv/mesh.git              # a bare git registry (use as file:///srv/mesh.git)
  rtfs mesh keygen --out acme.key                 # writes acme.key and acme.key.pub
  rtfs mesh publish --registry ./registry --key acme.key sharpen.rtfs
  rtfs mesh resolve image-processing/sharpen@^1.1 --registry ./registry
  rtfs mesh resolve image-processing/sharpen --registry http://127.0.0.1:7878 \\
      --registry file:///srv/mesh.git --strategy fastest --all
  rtfs mesh resolve image-processing/sharpen --registry ./registry \\
      --security controlled --allow 'image-processing/*' --allow-provider provider-456
  rtfs mesh list 'image-processing/*' --registry ./registry --json
  rtfs mesh serve --registry ./registry --addr 127.0.0.1:7878

Registries (REG): a directory path, a git URL (file://, git+https://, ssh://) or an
http(s):// URL (or HOST:PORT). Several --registry flags federate them: HTTP first, then
git, then directories, then the local cache.";

#[derive(Parser, Debug)]
#[command(
    name = "rtfs mesh",
    about = "Global Function Mesh: publish, resolve and serve function records",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Where git clones and the local record cache live [default: $RTFS_MESH_CACHE or ~/.cache/rtfs/mesh]
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not keep or use a local copy of fetched records
    #[arg(long)]
    no_cache: bool,
    /// Network timeout per registry request (e.g. 500ms, 5s)
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    timeout: String,
    /// How often a git registry is fetched again
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    sync_interval: String,
    /// Machine-readable JSON output
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug, Clone)]
struct Trust {
    /// Trust a publisher key for a namespace: NAMESPACE=HEXKEY (`*` for all); repeatable
    #[arg(long = "trust-key", value_name = "NS=KEY")]
    trust_keys: Vec<String>,
    /// A trust file: {"require-signatures": true, "keys": [{"namespace", "public-key"}]}
    #[arg(long = "trust", value_name = "FILE")]
    trust_file: Option<PathBuf>,
    /// Refuse unsigned records everywhere
    #[arg(long)]
    require_signatures: bool,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Create an empty registry (a directory, or with --git a bare git repository)
    #[command(
        after_help = "Example:\n  rtfs mesh init ./registry\n  rtfs mesh init --git /srv/mesh.git"
    )]
    Init {
        dir: PathBuf,
        /// Create a bare git repository usable as file://DIR
        #[arg(long)]
        git: bool,
        #[arg(long)]
        json: bool,
    },
    /// Generate an ed25519 publisher key
    #[command(
        after_help = "Example:\n  rtfs mesh keygen --out acme.key   # prints the key id and public key"
    )]
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Publish a record (register, or update if the name exists), signing it with --key
    #[command(
        after_help = "Example:\n  rtfs mesh publish --registry file:///srv/mesh.git --key acme.key sharpen.json"
    )]
    Publish {
        #[arg(long, value_name = "REG")]
        registry: String,
        /// Sign with this key file (written by keygen)
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// Expiry of the signature, from now
        #[arg(long, default_value = "365d", value_name = "DURATION")]
        expires_in: String,
        /// Set record-version (default: one past the registry's, when signing or versioned)
        #[arg(long)]
        record_version: Option<u64>,
        /// The record: RTFS map (.rtfs) or JSON (.json)
        record: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Resolve NAME[@REQ] and select a provider; prints the provider id on the first line
    #[command(
        after_help = "Examples:\n  rtfs mesh resolve image-processing/sharpen --registry ./registry\n  rtfs mesh resolve image-processing/sharpen@=1.0.0 --registry ./registry --all\n  rtfs mesh resolve data/sentiment --registry ./reg --security controlled --allow 'data/*' --allow-provider nlp-pro"
    )]
    Resolve {
        query: String,
        #[arg(long = "registry", value_name = "REG", required = true)]
        registries: Vec<String>,
        /// lowest-cost | fastest | availability | load-balance
        #[arg(long, default_value = "lowest-cost")]
        strategy: String,
        /// pure | controlled | full
        #[arg(long, default_value = "full")]
        security: String,
        /// Allowed function name or glob pattern (controlled); repeatable
        #[arg(long, value_name = "PATTERN")]
        allow: Vec<String>,
        /// Allowed provider id (controlled); repeatable
        #[arg(long = "allow-provider", value_name = "ID")]
        allow_provider: Vec<String>,
        /// Granted permission (checked against the record's required-permissions); repeatable
        #[arg(long, value_name = "PERM")]
        permission: Vec<String>,
        /// Show every provider, ranked, with exclusions explained
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        trust: Trust,
        #[command(flatten)]
        common: Common,
    },
    /// List records whose names match a glob (`*` within a segment, `**` across)
    #[command(after_help = "Example:\n  rtfs mesh list 'image-processing/*' --registry ./registry")]
    List {
        pattern: String,
        #[arg(long = "registry", value_name = "REG", required = true)]
        registries: Vec<String>,
        #[command(flatten)]
        trust: Trust,
        #[command(flatten)]
        common: Common,
    },
    /// Serve registries over HTTP; prints the bound address on the first line
    #[command(after_help = "Example:\n  rtfs mesh serve --registry ./registry --addr 127.0.0.1:0")]
    Serve {
        #[arg(long = "registry", value_name = "REG", required = true)]
        registries: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:7878")]
        addr: String,
        /// Accept writes carrying `Authorization: Bearer TOKEN` (default: $RTFS_MESH_TOKEN)
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Accept writes of records signed by a key not in the trust store for a namespace
        /// no other key holds (first come, first served)
        #[arg(long)]
        claim_namespaces: bool,
        /// Most open connections
        #[arg(long, default_value_t = 1024)]
        max_connections: usize,
        /// Most records stored through this server
        #[arg(long, default_value_t = 100_000)]
        max_records: usize,
        /// Most bytes of record JSON stored through this server
        #[arg(long, default_value_t = 1 << 30)]
        max_bytes: u64,
        /// Requests per second per client address
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Time to send request headers (and longest idle time between requests)
        #[arg(long, default_value = "10s")]
        header_timeout: String,
        /// Time to send a request body and be answered
        #[arg(long, default_value = "30s")]
        request_timeout: String,
        #[command(flatten)]
        trust: Trust,
        #[command(flatten)]
        common: Common,
    },
}

/// Runs `rtfs mesh ARGS`; `.rtfs` record files are refused (no RTFS reader here).
pub fn run(args: Vec<String>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let no_reader = |_: &str| -> std::result::Result<Value, String> {
        Err(
            "this build reads .rtfs records only through `rtfs mesh` (run_with_reader); \
             use the JSON form (.json) here"
                .into(),
        )
    };
    run_with_reader(args, out, err, &no_reader)
}

/// Runs `rtfs mesh ARGS`; `read_rtfs` turns RTFS source text into a value (the binary
/// passes the real reader, since this crate does not depend on the compiler).
pub fn run_with_reader(
    args: Vec<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    read_rtfs: &dyn Fn(&str) -> std::result::Result<Value, String>,
) -> i32 {
    let mut words: Vec<String> = args;
    if words.first().is_some_and(|w| w == "mesh") {
        words.remove(0);
    } else if words.len() >= 2
        && words[1] == "mesh"
        && Path::new(&words[0])
            .file_stem()
            .is_some_and(|s| s.to_string_lossy().starts_with("rtfs"))
    {
        words.drain(..2);
    }
    let argv = std::iter::once("rtfs mesh".to_string()).chain(words);
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let text = e.render().to_string();
            return if e.use_stderr() {
                let _ = write!(err, "{text}");
                2
            } else {
                let _ = write!(out, "{text}");
                0
            };
        }
    };
    let rt = match rtfs_io_runtime::IoRuntime::shared() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    // The output streams are not `Send`, so this future is driven on this thread (never a
    // runtime worker: the CLI is synchronous) rather than through `IoRuntime::block_on`.
    let result = rt.handle().block_on(dispatch(cli.cmd, out, err, read_rtfs));
    let code = match result {
        Ok(()) => 0,
        Err(CliError::Usage(m)) => {
            let _ = writeln!(err, "error: {m}");
            2
        }
        Err(CliError::Failed(m)) => {
            let _ = writeln!(err, "error: {m}");
            1
        }
    };
    let _ = out.flush();
    // Background registry tasks (HTTP pools, blocking git threads) stay on the shared
    // runtime, which is never waited for, so they cannot delay exit.
    code
}

enum CliError {
    Usage(String),
    Failed(String),
}

impl From<MeshError> for CliError {
    fn from(e: MeshError) -> Self {
        match e {
            MeshError::Config(m) => CliError::Usage(m),
            e => CliError::Failed(e.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Failed(format!("output: {e}"))
    }
}

type CliResult = std::result::Result<(), CliError>;

fn duration(s: &str, what: &str) -> std::result::Result<Duration, CliError> {
    humantime::parse_duration(s).map_err(|e| CliError::Usage(format!("bad {what} `{s}`: {e}")))
}

fn open_options(
    c: &Common,
    trust: Option<Arc<TrustStore>>,
) -> std::result::Result<OpenOptions, CliError> {
    let mut o = OpenOptions::new(
        c.cache_dir
            .clone()
            .unwrap_or_else(OpenOptions::default_cache_dir),
    );
    o.http_timeout = duration(&c.timeout, "--timeout")?;
    o.sync_interval = duration(&c.sync_interval, "--sync-interval")?;
    o.local_cache = !c.no_cache;
    o.trust = trust;
    o.http_token = std::env::var("RTFS_MESH_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    Ok(o)
}

fn trust_store(t: &Trust) -> Result<Option<Arc<TrustStore>>> {
    let mut ts = match &t.trust_file {
        Some(f) => TrustStore::load(f)?,
        None => TrustStore::new(),
    };
    for spec in &t.trust_keys {
        ts = ts.trust_spec(spec)?;
    }
    if t.require_signatures {
        ts = ts.require_signatures(true);
    }
    Ok((!ts.is_empty()).then(|| Arc::new(ts)))
}

fn read_record(
    path: &Path,
    read_rtfs: &dyn Fn(&str) -> std::result::Result<Value, String>,
) -> Result<FunctionRecord> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| MeshError::Config(format!("cannot read {}: {e}", path.display())))?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => FunctionRecord::from_json_str(&text),
        Some("rtfs") => record_from_rtfs(&text, read_rtfs),
        _ => Err(MeshError::Config(format!(
            "{}: record files end in .rtfs (RTFS map) or .json",
            path.display()
        ))),
    }
}

fn print_warnings(err: &mut dyn Write, warnings: impl IntoIterator<Item = String>) {
    for w in warnings {
        let _ = writeln!(err, "warning: {w}");
    }
}

async fn dispatch(
    cmd: Cmd,
    out: &mut dyn Write,
    err: &mut dyn Write,
    read_rtfs: &dyn Fn(&str) -> std::result::Result<Value, String>,
) -> CliResult {
    match cmd {
        Cmd::Init { dir, git, json } => {
            if git {
                GitRegistry::init_bare(&dir)?;
            } else {
                DirRegistry::create(&dir)?;
            }
            let kind = if git { "git" } else { "directory" };
            let url = if git {
                format!("file://{}", absolute(&dir).display())
            } else {
                absolute(&dir).display().to_string()
            };
            if json {
                writeln!(out, "{}", json!({"kind": kind, "registry": url}))?;
            } else {
                writeln!(out, "initialised {kind} registry: {url}")?;
            }
            Ok(())
        }
        Cmd::Keygen { out: file, json } => {
            let key = PublisherKey::generate()?;
            key.save(&file)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    json!({"key-id": key.key_id(), "public-key": key.public_hex(),
                           "secret-key-file": file.display().to_string()})
                )?;
            } else {
                writeln!(out, "key-id: {}", key.key_id())?;
                writeln!(out, "public-key: {}", key.public_hex())?;
                writeln!(
                    out,
                    "secret key written to {} (public key in {}.pub)",
                    file.display(),
                    file.display()
                )?;
            }
            Ok(())
        }
        Cmd::Publish {
            registry,
            key,
            expires_in,
            record_version,
            record,
            common,
        } => {
            let mut rec = read_record(&record, read_rtfs)?;
            let key = match &key {
                Some(k) => Some(PublisherKey::load(k)?),
                None => None,
            };
            let mut opts = open_options(&common, None)?;
            opts.publisher_key = key.as_ref().map(PublisherKey::public_hex);
            let reg = open_one(&RegistrySpec::parse(&registry)?, &opts)?;
            let old = match reg.lookup(rec.func_name.as_str()).await {
                Ok(r) => Some(r),
                Err(MeshError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            let old_rv = old.as_ref().map_or(0, |o| o.record_version);
            if let Some(rv) = record_version {
                rec.record_version = rv;
            } else if rec.record_version <= old_rv && (key.is_some() || old_rv > 0) {
                rec.record_version = old_rv + 1;
            }
            if let Some(k) = &key {
                if rec.expires.is_none() {
                    let d = duration(&expires_in, "--expires-in")?;
                    rec.expires = Some(SystemTime::now().checked_add(d).ok_or_else(|| {
                        CliError::Usage(format!("--expires-in {expires_in} is too far away"))
                    })?);
                }
                k.sign(&mut rec);
            }
            let verb = if old.is_some() {
                reg.update(rec.func_name.as_str(), rec.clone()).await?;
                "updated"
            } else {
                reg.register(rec.clone()).await?;
                "registered"
            };
            print_warnings(err, reg.take_warnings());
            if common.json {
                writeln!(
                    out,
                    "{}",
                    json!({"action": verb, "func-name": rec.func_name.as_str(),
                           "latest-version": rec.latest_version.to_string(),
                           "record-version": rec.record_version,
                           "signed-by": rec.signature.as_ref().map(|s| s.key_id.clone()),
                           "registry": reg.describe()})
                )?;
            } else {
                writeln!(
                    out,
                    "{verb} {} {} (record-version {}{}) in {}",
                    rec.func_name,
                    rec.latest_version,
                    rec.record_version,
                    rec.signature
                        .as_ref()
                        .map(|s| format!(", signed by {}", s.key_id))
                        .unwrap_or_default(),
                    reg.describe()
                )?;
            }
            Ok(())
        }
        Cmd::Resolve {
            query,
            registries,
            strategy,
            security,
            allow,
            allow_provider,
            permission,
            all,
            trust,
            common,
        } => {
            let level = SecurityLevel::parse(&security).ok_or_else(|| {
                CliError::Usage(format!(
                    "unknown security level `{security}` (pure, controlled, full)"
                ))
            })?;
            let mut b = SecurityContext::builder(level);
            for a in allow {
                b = b.allow_function(a);
            }
            for p in allow_provider {
                b = b.allow_provider(p);
            }
            for p in permission {
                b = b.grant_permission(p);
            }
            let ctx = b.build().map_err(MeshError::from)?;
            let strategy = SelectionStrategy::parse(&strategy)?;
            let trust = trust_store(&trust)?;
            let opts = open_options(&common, trust.clone())?;
            let reg = open_registries(&registries, &opts)?;
            let mut builder = GlobalFunctionMesh::builder(reg).with_strategy(strategy);
            if let Some(t) = trust {
                builder = builder.with_trust_store(t);
            }
            let mesh = builder.build();
            let (resolved, ranked) = mesh.rank(&query, &ctx).await?;
            let first = ranked
                .iter()
                .find(|r| r.excluded.is_none())
                .map(|r| r.index);
            let warnings: Vec<String> = resolved.warnings().map(String::from).collect();
            print_warnings(err, warnings.clone());
            let Some(first) = first else {
                // Let selection phrase the reason.
                let e = mesh
                    .select_resolved(resolved.clone(), &ctx)
                    .err()
                    .unwrap_or_else(|| MeshError::NoProvider {
                        name: query.clone(),
                        reason: "no eligible provider".into(),
                    });
                if all && !common.json {
                    print_ranking(out, &resolved, &ranked, mesh.strategy())?;
                }
                return Err(e.into());
            };
            if common.json {
                let cands: Vec<serde_json::Value> = ranked
                    .iter()
                    .filter(|r| all || r.index == first)
                    .map(|r| candidate_json(&resolved, r))
                    .collect();
                let e = &resolved.entry;
                writeln!(
                    out,
                    "{}",
                    json!({
                        "query": query,
                        "function": e.name.as_ref(),
                        "version": e.version.as_ref().map(|v| v.to_string()),
                        "source": source_text(&resolved),
                        "selected": e.providers[first].provider.id,
                        "strategy": mesh.strategy().name(),
                        "candidates": cands,
                        "warnings": warnings,
                        "stale": resolved.is_stale(),
                    })
                )?;
                return Ok(());
            }
            let e = &resolved.entry;
            let p = &e.providers[first].provider;
            writeln!(out, "{}", p.id)?;
            writeln!(
                out,
                "function: {} {} ({})",
                e.name,
                e.version
                    .as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                source_text(&resolved)
            )?;
            if all {
                print_ranking(out, &resolved, &ranked, mesh.strategy())?;
            } else {
                writeln!(out, "endpoint: {}", p.endpoint)?;
                if !p.capability_ref.is_empty() {
                    writeln!(out, "capability-ref: {}", p.capability_ref)?;
                }
                writeln!(
                    out,
                    "sla-tier: {}  cost-per-call: {}  avg-response-time-ms: {}",
                    p.sla_tier, p.cost_per_call, p.avg_response_time_ms
                )?;
            }
            Ok(())
        }
        Cmd::List {
            pattern,
            registries,
            trust,
            common,
        } => {
            let trust = trust_store(&trust)?;
            let opts = open_options(&common, trust.clone())?;
            let reg = open_registries(&registries, &opts)?;
            let records = reg.list(&pattern).await?;
            print_warnings(err, reg.take_warnings());
            let records: Vec<FunctionRecord> = match &trust {
                Some(t) => records
                    .into_iter()
                    .filter(|r| t.verify(r, SystemTime::now()).is_ok())
                    .collect(),
                None => records,
            };
            if common.json {
                let arr: Vec<serde_json::Value> =
                    records.iter().map(|r| record_to_json(r, true)).collect();
                writeln!(out, "{}", serde_json::Value::Array(arr))?;
            } else {
                for r in &records {
                    writeln!(
                        out,
                        "{}\t{}\t{} provider(s)\t{}",
                        r.func_name,
                        r.latest_version,
                        r.providers_for(&r.latest_version).len(),
                        r.description
                    )?;
                }
            }
            Ok(())
        }
        Cmd::Serve {
            registries,
            addr,
            token,
            claim_namespaces,
            max_connections,
            max_records,
            max_bytes,
            rate,
            header_timeout,
            request_timeout,
            trust,
            common,
        } => {
            let opts = open_options(&common, None)?;
            let reg = open_registries(&registries, &opts)?;
            if !(rate.is_finite() && rate > 0.0) {
                return Err(CliError::Failed(format!(
                    "--rate: expected a positive number of requests per second, got {rate}"
                )));
            }
            let token = token
                .or_else(|| std::env::var("RTFS_MESH_TOKEN").ok())
                .filter(|t| !t.is_empty());
            let serve_opts = http_server::ServeOptions {
                auth: write_policy(token, trust_store(&trust)?, claim_namespaces),
                limits: http_server::ServerLimits {
                    header_timeout: duration(&header_timeout, "--header-timeout")?,
                    request_timeout: duration(&request_timeout, "--request-timeout")?,
                    max_connections,
                    rate_per_sec: rate,
                    rate_burst: (rate * 2.0).max(1.0),
                    max_records,
                    max_bytes,
                    ..Default::default()
                },
            };
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|e| CliError::Failed(format!("cannot bind {addr}: {e}")))?;
            let local = listener
                .local_addr()
                .map_err(|e| CliError::Failed(e.to_string()))?;
            writeln!(out, "{local}")?;
            writeln!(out, "serving {} at http://{local}", reg.describe())?;
            out.flush()?;
            http_server::serve_with(reg, listener, serve_opts).await?;
            Ok(())
        }
    }
}

fn write_policy(
    token: Option<String>,
    trust: Option<Arc<TrustStore>>,
    claim_namespaces: bool,
) -> rtfs_mesh_io::registry::write_auth::WriteAuth {
    rtfs_mesh_io::registry::write_auth::WriteAuth {
        token,
        trust: trust.unwrap_or_default(),
        claim_namespaces,
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn source_text(r: &Resolved) -> String {
    match &r.entry.source {
        rtfs_mesh_io::resolve::ResolutionSource::LocalMarketplace => "local marketplace".into(),
        rtfs_mesh_io::resolve::ResolutionSource::Registry(s) => format!("from {s}"),
    }
}

fn candidate_json(r: &Resolved, rank: &Ranked) -> serde_json::Value {
    let slot = &r.entry.providers[rank.index];
    let p = &slot.provider;
    json!({
        "id": p.id,
        "endpoint": p.endpoint,
        "capability-ref": p.capability_ref,
        "sla-tier": p.sla_tier,
        "cost-per-call": p.cost_per_call,
        "avg-response-time-ms": p.avg_response_time_ms,
        "observed-latency-ms": slot.health.latency_ms(),
        "availability": slot.health.availability(),
        "excluded": rank.excluded.map(|e| e.to_string()),
    })
}

fn print_ranking(
    out: &mut dyn Write,
    r: &Resolved,
    ranked: &[Ranked],
    strategy: &SelectionStrategy,
) -> std::io::Result<()> {
    writeln!(out, "candidates ({}):", strategy.name())?;
    let mut n = 0;
    for rank in ranked {
        let p = &r.entry.providers[rank.index].provider;
        let head = match rank.excluded {
            None => {
                n += 1;
                format!("{n:>3}.")
            }
            Some(_) => "   -".to_string(),
        };
        write!(
            out,
            "{head} {}  cost {}  {}ms  {}  {}",
            p.id, p.cost_per_call, p.avg_response_time_ms, p.sla_tier, p.endpoint
        )?;
        match rank.excluded {
            Some(e) => writeln!(out, "  [excluded: {e}]")?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}
