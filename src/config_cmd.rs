//! The configuration flags shared by `rtfs run|eval|repl|explain|config`, and `rtfs config`,
//! which prints the effective configuration with the source of every value.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::{Config, Overrides, Setting};

/// Flags that override `rtfs.toml` (see docs/config.md).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConfigArgs {
    /// Configuration file [default: rtfs.toml in the current directory or a parent]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A delegation policy or configuration file (read like --config)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Mesh registry (directory, git URL or http(s) URL); repeatable, federated in order
    #[arg(long = "registry", value_name = "REG")]
    pub registries: Vec<String>,
    /// Provider selection: lowest-cost | fastest | availability | load-balance
    #[arg(long, value_name = "STRATEGY")]
    pub strategy: Option<String>,
    /// Security level: pure | controlled | full
    #[arg(long, value_name = "LEVEL")]
    pub security: Option<String>,
    /// Allowed capability / function name or glob (controlled level); repeatable
    #[arg(long, value_name = "GLOB")]
    pub allow: Vec<String>,
    /// Allowed provider id (controlled level); repeatable
    #[arg(long = "allow-provider", value_name = "ID")]
    pub allow_providers: Vec<String>,
    /// Trusted publisher key: FILE or NAMESPACE=FILE (the KEY.pub `rtfs mesh keygen` writes)
    #[arg(long = "trust-key", value_name = "[NS=]FILE")]
    pub trust_keys: Vec<String>,
    /// Refuse every unsigned or unverifiable mesh record
    #[arg(long)]
    pub require_signed: bool,
    /// Tenant id (scopes the model caches)
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
}

impl ConfigArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            policy: self.policy.clone(),
            registries: self.registries.clone(),
            strategy: self.strategy.clone(),
            security: self.security.clone(),
            allow: self.allow.clone(),
            allow_providers: self.allow_providers.clone(),
            trust_keys: self.trust_keys.clone(),
            require_signed: self.require_signed,
            tenant: self.tenant.clone(),
        }
    }

    /// The effective configuration, or the error printed and exit code 2.
    pub fn load(&self) -> Result<Config, i32> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Config::load(&cwd, &self.overrides()).map_err(|e| {
            eprintln!("error: {e}");
            2
        })
    }

    /// A runtime wired from the effective configuration, or the error printed and exit 2.
    pub fn runtime(&self) -> Result<rtfs_runtime::Runtime, i32> {
        let cfg = self.load()?;
        crate::session::runtime(&cfg).map_err(|e| {
            eprintln!("error: {e}");
            2
        })
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", items.join(", "))
}

fn line<T>(out: &mut String, key: &str, s: &Setting<T>, shown: String) {
    let _ = writeln!(out, "{key} = {shown}  # {}", s.source);
}

/// The effective configuration as TOML-like lines, each with its source as a comment.
pub fn render(cfg: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# configuration file: {}",
        cfg.file
            .as_deref()
            .map(Path::display)
            .map(|d| d.to_string())
            .unwrap_or_else(|| "none".into())
    );
    out.push_str("[mesh]\n");
    line(
        &mut out,
        "registries",
        &cfg.registries,
        list(&cfg.registries.value),
    );
    let cache = match &cfg.mesh_cache_dir.value {
        Some(d) => toml_str(&d.display().to_string()),
        None => toml_str(
            &rtfs_mesh_io::registry::OpenOptions::default_cache_dir()
                .display()
                .to_string(),
        ),
    };
    line(&mut out, "cache-dir", &cfg.mesh_cache_dir, cache);
    line(
        &mut out,
        "strategy",
        &cfg.strategy,
        toml_str(&cfg.strategy.value),
    );
    out.push_str("[security]\n");
    line(
        &mut out,
        "level",
        &cfg.level,
        toml_str(cfg.level.value.as_str()),
    );
    line(&mut out, "allow", &cfg.allow, list(&cfg.allow.value));
    line(
        &mut out,
        "allow-providers",
        &cfg.allow_providers,
        list(&cfg.allow_providers.value),
    );
    line(
        &mut out,
        "permissions",
        &cfg.permissions,
        list(&cfg.permissions.value),
    );
    let keys: Vec<String> = cfg
        .trusted_keys
        .value
        .iter()
        .map(|k| format!("{}={}", k.namespace, k.file.display()))
        .collect();
    line(&mut out, "trusted-keys", &cfg.trusted_keys, list(&keys));
    line(
        &mut out,
        "require-signed",
        &cfg.require_signed,
        cfg.require_signed.value.to_string(),
    );
    out.push_str("[device]\n");
    let network = match cfg.network.value {
        rtfs_delegation::NetworkStatus::Online => "online",
        rtfs_delegation::NetworkStatus::Metered => "metered",
        rtfs_delegation::NetworkStatus::Offline => "offline",
    };
    line(&mut out, "network", &cfg.network, toml_str(network));
    let battery = match cfg.battery.value {
        Some(p) => p.to_string(),
        None => toml_str("mains"),
    };
    line(&mut out, "battery", &cfg.battery, battery);
    out.push_str("[tenant]\n");
    match &cfg.tenant.value {
        Some(t) => line(&mut out, "id", &cfg.tenant, toml_str(t)),
        None => {
            let _ = writeln!(out, "# id unset  # {}", cfg.tenant.source);
        }
    }
    match &cfg.policy {
        Some(p) => {
            let _ = writeln!(out, "# delegation policy  # {}", p.source);
            out.push_str(&cfg.policy_text);
        }
        None => out.push_str("# no delegation policy\n"),
    }
    out
}

/// `rtfs config`: prints the effective configuration; exit 2 when it is invalid.
pub fn run(args: &ConfigArgs) -> i32 {
    match args.load() {
        Ok(cfg) => {
            print!("{}", render(&cfg));
            0
        }
        Err(code) => code,
    }
}
