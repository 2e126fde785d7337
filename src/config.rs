//! `rtfs.toml`: finding the configuration file (like Cargo, in the current directory or a
//! parent, or `--config FILE`), validating every key with an error that names it, and
//! merging the command-line flags over it, remembering where each value came from.
//!
//! The delegation-policy sections (`engines`, `budget`, `privacy`, `functions`, `models`,
//! `route`, `cache`) are handed to [`rtfs_delegation::Policy::parse`] unchanged, so a policy
//! file given with `--policy` is a configuration file too. The sections owned here are
//! `[mesh]`, `[security]`, `[device]` and `[tenant]`; their keys are kebab-case.

use std::fmt;
use std::path::{Path, PathBuf};

use rtfs_delegation::{NetworkStatus, Policy};
use rtfs_mesh_io::{RegistrySpec, SecurityLevel, SelectionStrategy};

/// The file name searched for in the current directory and its parents.
pub const FILE_NAME: &str = "rtfs.toml";

const POLICY_SECTIONS: &[&str] = &[
    "engines",
    "budget",
    "privacy",
    "functions",
    "models",
    "route",
    "cache",
];
const MESH_KEYS: &[&str] = &["registries", "cache-dir", "strategy"];
const SECURITY_KEYS: &[&str] = &[
    "level",
    "allow",
    "allow-providers",
    "permissions",
    "trusted-keys",
    "require-signed",
];
const DEVICE_KEYS: &[&str] = &["network", "battery"];
const TENANT_KEYS: &[&str] = &["id"];

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Flag(&'static str),
    /// Read from the machine (`device.* = "auto"`).
    Detected,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Flag(name) => f.write_str(name),
            Source::Detected => f.write_str("detected"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Setting<T> {
    fn default(value: T) -> Setting<T> {
        Setting {
            value,
            source: Source::Default,
        }
    }
    fn set(&mut self, value: T, source: Source) {
        self.value = value;
        self.source = source;
    }
}

/// A publisher key trusted for a namespace (`*` for every name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    pub namespace: String,
    pub file: PathBuf,
    /// The public key, 64 hex digits, as read from `file`.
    pub public_hex: String,
}

/// Everything the configuration file and the flags say, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file read, if any.
    pub file: Option<PathBuf>,
    pub registries: Setting<Vec<String>>,
    /// `None`: the mesh's default (`$RTFS_MESH_CACHE`, else the user's cache directory).
    pub mesh_cache_dir: Setting<Option<PathBuf>>,
    pub strategy: Setting<String>,
    pub level: Setting<SecurityLevel>,
    pub allow: Setting<Vec<String>>,
    pub allow_providers: Setting<Vec<String>>,
    pub permissions: Setting<Vec<String>>,
    pub trusted_keys: Setting<Vec<TrustedKey>>,
    pub require_signed: Setting<bool>,
    pub network: Setting<NetworkStatus>,
    /// Battery charge in percent; `None` on mains power.
    pub battery: Setting<Option<u8>>,
    pub tenant: Setting<Option<String>>,
    /// The delegation policy, when the file has a policy section or came from `--policy`.
    pub policy: Option<Setting<Policy>>,
    /// The policy sections as written (TOML), for `rtfs config`.
    pub policy_text: String,
}

/// Command-line values that override the file (each `None`/empty when not given).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    /// `--policy FILE`: read as a configuration file, like `--config`.
    pub policy: Option<PathBuf>,
    pub registries: Vec<String>,
    pub strategy: Option<String>,
    pub security: Option<String>,
    pub allow: Vec<String>,
    pub allow_providers: Vec<String>,
    pub trust_keys: Vec<String>,
    pub require_signed: bool,
    pub tenant: Option<String>,
}

/// A configuration error: the file (if any) and a message naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "configuration {}: {}", p.display(), self.message),
            None => write!(f, "configuration: {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

fn err(message: impl Into<String>) -> ConfigError {
    ConfigError {
        file: None,
        message: message.into(),
    }
}

/// `rtfs.toml` in `dir` or the nearest parent that has one.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

impl Config {
    /// Nothing configured: the built-in defaults, with the device detected.
    pub fn defaults() -> Config {
        let detected = crate::device_detect::detect();
        Config {
            file: None,
            registries: Setting::default(Vec::new()),
            mesh_cache_dir: Setting::default(None),
            strategy: Setting::default("lowest-cost".into()),
            level: Setting::default(SecurityLevel::Full),
            allow: Setting::default(Vec::new()),
            allow_providers: Setting::default(Vec::new()),
            permissions: Setting::default(Vec::new()),
            trusted_keys: Setting::default(Vec::new()),
            require_signed: Setting::default(false),
            network: Setting {
                value: detected.network,
                source: Source::Detected,
            },
            battery: Setting {
                value: detected.battery_percent,
                source: Source::Detected,
            },
            tenant: Setting::default(None),
            policy: None,
            policy_text: String::new(),
        }
    }

    /// Reads the file the flags name (`--config`, else `--policy`), else `rtfs.toml` found
    /// from `cwd` upwards, then applies the flags.
    pub fn load(cwd: &Path, flags: &Overrides) -> Result<Config, ConfigError> {
        let (path, from_policy_flag) = match (&flags.config, &flags.policy) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "--config and --policy both name a configuration file; give one",
                ));
            }
            (Some(c), None) => (Some(c.clone()), false),
            (None, Some(p)) => (Some(p.clone()), true),
            (None, None) => (discover(cwd), false),
        };
        let mut cfg = Config::defaults();
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                file: Some(path.clone()),
                message: format!("cannot read: {e}"),
            })?;
            cfg.apply_text(&text, &path, from_policy_flag)
                .map_err(|mut e| {
                    e.file = Some(path.clone());
                    e
                })?;
            cfg.file = Some(path);
        }
        cfg.apply_flags(flags, cwd)?;
        Ok(cfg)
    }

    /// Applies one file's text; relative paths in it are relative to the file's directory.
    pub fn apply_text(
        &mut self,
        text: &str,
        path: &Path,
        always_policy: bool,
    ) -> Result<(), ConfigError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let src = Source::File(path.to_path_buf());
        let mut policy = toml::Table::new();
        for (key, value) in table {
            match key.as_str() {
                "mesh" => self.apply_mesh(section(&key, &value, MESH_KEYS)?, base, &src)?,
                "security" => {
                    self.apply_security(section(&key, &value, SECURITY_KEYS)?, base, &src)?
                }
                "device" => self.apply_device(section(&key, &value, DEVICE_KEYS)?, &src)?,
                "tenant" => {
                    let t = section(&key, &value, TENANT_KEYS)?;
                    if let Some(v) = t.get("id") {
                        self.tenant.set(Some(string(v, "tenant.id")?), src.clone());
                    }
                }
                k if POLICY_SECTIONS.contains(&k) => {
                    policy.insert(key, value);
                }
                other => {
                    return Err(err(format!(
                        "`{other}`: unknown key (expected one of mesh, security, device, tenant, {})",
                        POLICY_SECTIONS.join(", ")
                    )));
                }
            }
        }
        if always_policy || !policy.is_empty() {
            let text = toml::to_string(&policy)
                .map_err(|e| err(format!("policy sections cannot be re-read: {e}")))?;
            let p = Policy::parse(&text).map_err(|e| err(e.message))?;
            self.policy = Some(Setting {
                value: p,
                source: src,
            });
            self.policy_text = text;
        }
        Ok(())
    }

    fn apply_mesh(
        &mut self,
        t: &toml::Table,
        base: &Path,
        src: &Source,
    ) -> Result<(), ConfigError> {
        if let Some(v) = t.get("registries") {
            let regs = strings(v, "mesh.registries")?;
            let regs = regs
                .iter()
                .enumerate()
                .map(|(i, r)| registry_relative_to(r, base, &format!("mesh.registries[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            self.registries.set(regs, src.clone());
        }
        if let Some(v) = t.get("cache-dir") {
            let d = string(v, "mesh.cache-dir")?;
            self.mesh_cache_dir.set(Some(base.join(d)), src.clone());
        }
        if let Some(v) = t.get("strategy") {
            let s = string(v, "mesh.strategy")?;
            check_strategy(&s, "mesh.strategy")?;
            self.strategy.set(s, src.clone());
        }
        Ok(())
    }

    fn apply_security(
        &mut self,
        t: &toml::Table,
        base: &Path,
        src: &Source,
    ) -> Result<(), ConfigError> {
        if let Some(v) = t.get("level") {
            let s = string(v, "security.level")?;
            self.level.set(level(&s, "security.level")?, src.clone());
        }
        if let Some(v) = t.get("allow") {
            let globs = strings(v, "security.allow")?;
            check_globs(&globs, "security.allow")?;
            self.allow.set(globs, src.clone());
        }
        if let Some(v) = t.get("allow-providers") {
            self.allow_providers
                .set(strings(v, "security.allow-providers")?, src.clone());
        }
        if let Some(v) = t.get("permissions") {
            self.permissions
                .set(strings(v, "security.permissions")?, src.clone());
        }
        if let Some(v) = t.get("trusted-keys") {
            let specs = strings(v, "security.trusted-keys")?;
            let keys = specs
                .iter()
                .enumerate()
                .map(|(i, s)| trusted_key(s, base, &format!("security.trusted-keys[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            self.trusted_keys.set(keys, src.clone());
        }
        if let Some(v) = t.get("require-signed") {
            let b = v
                .as_bool()
                .ok_or_else(|| err("`security.require-signed`: expected true or false"))?;
            self.require_signed.set(b, src.clone());
        }
        Ok(())
    }

    fn apply_device(&mut self, t: &toml::Table, src: &Source) -> Result<(), ConfigError> {
        if let Some(v) = t.get("network") {
            let s = string(v, "device.network")?;
            if s != "auto" {
                let n = NetworkStatus::parse(&s).ok_or_else(|| {
                    err(format!(
                        "`device.network`: expected \"online\", \"metered\", \"offline\" or \"auto\", got \"{s}\""
                    ))
                })?;
                self.network.set(n, src.clone());
            }
        }
        if let Some(v) = t.get("battery") {
            match v {
                toml::Value::String(s) if s == "auto" => {}
                toml::Value::String(s) if s == "mains" => self.battery.set(None, src.clone()),
                toml::Value::Integer(n) if (0..=100).contains(n) => {
                    self.battery.set(Some(*n as u8), src.clone())
                }
                other => {
                    return Err(err(format!(
                        "`device.battery`: expected a percentage 0–100, \"mains\" or \"auto\", got {other}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Flags replace what the file says (a repeated flag gives the whole list).
    pub fn apply_flags(&mut self, f: &Overrides, cwd: &Path) -> Result<(), ConfigError> {
        if !f.registries.is_empty() {
            for (i, r) in f.registries.iter().enumerate() {
                RegistrySpec::parse(r).map_err(|e| err(format!("--registry #{}: {e}", i + 1)))?;
            }
            self.registries
                .set(f.registries.clone(), Source::Flag("--registry"));
        }
        if let Some(s) = &f.strategy {
            check_strategy(s, "--strategy")?;
            self.strategy.set(s.clone(), Source::Flag("--strategy"));
        }
        if let Some(s) = &f.security {
            self.level
                .set(level(s, "--security")?, Source::Flag("--security"));
        }
        if !f.allow.is_empty() {
            check_globs(&f.allow, "--allow")?;
            self.allow.set(f.allow.clone(), Source::Flag("--allow"));
        }
        if !f.allow_providers.is_empty() {
            self.allow_providers
                .set(f.allow_providers.clone(), Source::Flag("--allow-provider"));
        }
        if !f.trust_keys.is_empty() {
            let keys = f
                .trust_keys
                .iter()
                .map(|s| trusted_key(s, cwd, "--trust-key"))
                .collect::<Result<Vec<_>, _>>()?;
            self.trusted_keys.set(keys, Source::Flag("--trust-key"));
        }
        if f.require_signed {
            self.require_signed
                .set(true, Source::Flag("--require-signed"));
        }
        if let Some(t) = &f.tenant {
            if t.trim().is_empty() {
                return Err(err("--tenant: empty tenant id"));
            }
            self.tenant.set(Some(t.clone()), Source::Flag("--tenant"));
        }
        Ok(())
    }
}

fn section<'a>(
    name: &str,
    v: &'a toml::Value,
    keys: &[&str],
) -> Result<&'a toml::Table, ConfigError> {
    let t = v
        .as_table()
        .ok_or_else(|| err(format!("`{name}`: expected a table ([{name}])")))?;
    for k in t.keys() {
        if !keys.contains(&k.as_str()) {
            return Err(err(format!(
                "`{name}.{k}`: unknown key (expected one of {})",
                keys.join(", ")
            )));
        }
    }
    Ok(t)
}

fn string(v: &toml::Value, key: &str) -> Result<String, ConfigError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| err(format!("`{key}`: expected a string, got {v}")))
}

fn strings(v: &toml::Value, key: &str) -> Result<Vec<String>, ConfigError> {
    let a = v
        .as_array()
        .ok_or_else(|| err(format!("`{key}`: expected a list of strings, got {v}")))?;
    a.iter()
        .enumerate()
        .map(|(i, x)| string(x, &format!("{key}[{i}]")))
        .collect()
}

fn level(s: &str, key: &str) -> Result<SecurityLevel, ConfigError> {
    SecurityLevel::parse(s).ok_or_else(|| {
        err(format!(
            "`{key}`: expected \"pure\", \"controlled\" or \"full\", got \"{s}\""
        ))
    })
}

fn check_strategy(s: &str, key: &str) -> Result<(), ConfigError> {
    SelectionStrategy::parse(s)
        .map(|_| ())
        .map_err(|e| err(format!("`{key}`: {e}")))
}

fn check_globs(globs: &[String], key: &str) -> Result<(), ConfigError> {
    rtfs_mesh_io::security::compile_globs(globs.iter().map(String::as_str))
        .map(|_| ())
        .map_err(|e| err(format!("`{key}`: {e}")))
}

/// A directory registry written relative to the configuration file means relative to it.
fn registry_relative_to(r: &str, base: &Path, key: &str) -> Result<String, ConfigError> {
    match RegistrySpec::parse(r).map_err(|e| err(format!("`{key}`: {e}")))? {
        RegistrySpec::Dir(p) if p.is_relative() => Ok(base.join(p).display().to_string()),
        _ => Ok(r.to_string()),
    }
}

/// `FILE` (trusted for every namespace) or `NAMESPACE=FILE`; the file holds the public key
/// in hex, as `rtfs mesh keygen` writes it to `KEY.pub`.
fn trusted_key(spec: &str, base: &Path, key: &str) -> Result<TrustedKey, ConfigError> {
    let (namespace, file) = match spec.split_once('=') {
        Some((ns, f)) if !ns.trim().is_empty() => (ns.trim().to_string(), f),
        Some(_) => return Err(err(format!("`{key}`: empty namespace in `{spec}`"))),
        None => ("*".to_string(), spec),
    };
    let file = base.join(file.trim());
    let text = std::fs::read_to_string(&file)
        .map_err(|e| err(format!("`{key}`: cannot read {}: {e}", file.display())))?;
    let public_hex = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("")
        .to_string();
    rtfs_mesh_io::signing::parse_public_key(&public_hex).map_err(|e| {
        err(format!(
            "`{key}`: {} does not hold a public key: {e}",
            file.display()
        ))
    })?;
    Ok(TrustedKey {
        namespace,
        file,
        public_hex,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::defaults();
        c.apply_text(text, Path::new("/cfg/rtfs.toml"), false)?;
        Ok(c)
    }

    #[test]
    fn sections_are_read_with_their_source() {
        let c = parse(
            r#"
[mesh]
registries = ["reg", "http://127.0.0.1:7878"]
strategy = "fastest"
[security]
level = "controlled"
allow = ["image-processing/*"]
allow-providers = ["p1"]
require-signed = true
[device]
network = "metered"
battery = 40
[tenant]
id = "acme"
"#,
        )
        .unwrap();
        assert_eq!(
            c.registries.value,
            vec!["/cfg/reg".to_string(), "http://127.0.0.1:7878".into()]
        );
        assert_eq!(c.registries.source, Source::File("/cfg/rtfs.toml".into()));
        assert_eq!(c.strategy.value, "fastest");
        assert_eq!(c.level.value, SecurityLevel::Controlled);
        assert!(c.require_signed.value);
        assert_eq!(c.network.value, NetworkStatus::Metered);
        assert_eq!(c.battery.value, Some(40));
        assert_eq!(c.tenant.value.as_deref(), Some("acme"));
        assert!(c.policy.is_none(), "no policy section, no policy");
        assert_eq!(c.level.source.to_string(), "/cfg/rtfs.toml");
    }

    #[test]
    fn unknown_and_bad_keys_are_named() {
        let e = parse("[security]\nlevle = \"pure\"\n").unwrap_err();
        assert!(e.message.contains("`security.levle`: unknown key"), "{e}");
        let e = parse("[security]\nlevel = \"root\"\n").unwrap_err();
        assert!(e.message.contains("`security.level`"), "{e}");
        let e = parse("[mesh]\nstrategy = \"random\"\n").unwrap_err();
        assert!(e.message.contains("`mesh.strategy`"), "{e}");
        let e = parse("[mesh]\nregistries = [\"ftp://x\"]\n").unwrap_err();
        assert!(e.message.contains("`mesh.registries[0]`"), "{e}");
        let e = parse("[device]\nbattery = 140\n").unwrap_err();
        assert!(e.message.contains("`device.battery`"), "{e}");
        let e = parse("[security]\nallow = [\"a/[b\"]\n").unwrap_err();
        assert!(e.message.contains("`security.allow`"), "{e}");
        let e = parse("[mesh]\nregistries = \"reg\"\n").unwrap_err();
        assert!(e.message.contains("`mesh.registries`"), "{e}");
        let e = parse("[billing]\nx = 1\n").unwrap_err();
        assert!(e.message.contains("`billing`: unknown key"), "{e}");
        let e = parse("[[route]]\nmatch = \"a*\"\ntarget = \"remote\"\nmodel = \"nope\"\n")
            .unwrap_err();
        assert!(e.message.contains("route[0].model"), "{e}");
    }

    #[test]
    fn policy_sections_become_the_policy() {
        let c = parse("engines = [\"static\"]\n[budget]\nper_run = 2.0\n").unwrap();
        let p = c.policy.expect("policy");
        assert_eq!(p.value.per_run, Some(2.0));
    }

    #[test]
    fn flags_override_the_file() {
        let mut c = parse("[security]\nlevel = \"pure\"\n[tenant]\nid = \"a\"\n").unwrap();
        c.apply_flags(
            &Overrides {
                security: Some("controlled".into()),
                allow: vec!["x/*".into()],
                tenant: Some("b".into()),
                registries: vec!["./r".into()],
                ..Overrides::default()
            },
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(c.level.value, SecurityLevel::Controlled);
        assert_eq!(c.level.source, Source::Flag("--security"));
        assert_eq!(c.tenant.value.as_deref(), Some("b"));
        assert_eq!(c.registries.value, vec!["./r".to_string()]);
        let e = c
            .apply_flags(
                &Overrides {
                    security: Some("everything".into()),
                    ..Overrides::default()
                },
                Path::new("/"),
            )
            .unwrap_err();
        assert!(e.message.contains("--security"), "{e}");
    }

    #[test]
    fn discovery_walks_up() {
        let root =
            std::env::temp_dir().join(format!("rtfs-config-discover-{}", std::process::id()));
        let deep = root.join("a").join("b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&deep), Some(root.join(FILE_NAME)));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
