//! Delegation policies in TOML: engine order, budgets, privacy marks, models and the routing
//! table. Parsing rejects unknown keys and inconsistent values with an error naming the key.
//!
//! ```toml
//! engines = ["static", "privacy-first", "cost-optimized"]
//! [budget]
//! per_call = 0.05
//! per_run = 1.0
//! [privacy]
//! sensitive = ["patient/*"]          # names treated as ^{:privacy :sensitive}
//! [functions]
//! default = "local"                  # unrouted functions: "local" (fixed) or "engine"
//! [models.phi-mini]
//! kind = "local"                     # "local" (on-device) or "remote"
//! cost_per_call = 0.0
//! latency_ms = 40
//! provider = "rules"                # optional: "rules" ([[models.X.rule]] tables),
//!                                    # "process" (command, timeout_ms) or "openai"
//!                                    # (base_url, model, api_key_env, timeout_ms, retries)
//! [[models.phi-mini.rule]]
//! text = "ok"
//! [cache.l2]
//! ttl_secs = 3600
//! max_entries = 10000
//! [cache.semantic]                   # opt-in L3 for these functions
//! enabled = true
//! threshold = 0.8
//! functions = ["summarize*"]
//! [cache.semantic.embedder]          # optional; default: the built-in hashed embedder
//! kind = "openai"                    # "hashed" or "openai" (POST {base_url}/embeddings)
//! base_url = "https://api.openai.com/v1"
//! model = "text-embedding-3-small"
//! dim = 1536                         # the model's vector length
//! api_key_env = "OPENAI_API_KEY"     # optional: env var holding the key
//! timeout_ms = 2000                  # optional
//! [[route]]
//! match = "summarize*"               # glob over function symbols / capability ids
//! target = "remote"                  # "local", "local-model", "remote" or "engine"
//! model = "gpt4o"
//! fallback = ["phi-mini", "local"]
//! providers = []                     # capability routes: preferred provider ids
//! when = { network = "online", battery_at_least = 20 }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use rtfs_ir::{CallKind, ExecTarget, StaticDecision, StaticPolicy};
use serde::Deserialize;

use crate::context::{CallContext, Candidate, NetworkStatus};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid delegation policy{}: {message}", .file.as_deref().map(|f| format!(" {f}")).unwrap_or_default())]
pub struct PolicyError {
    pub file: Option<String>,
    /// Names the offending key, e.g. "`route[1].model`: unknown model `gpt5`".
    pub message: String,
}

/// Most retries a model provider may ask for: each one may wait out a full timeout.
const MAX_RETRIES: u32 = 10;

fn perr(message: impl Into<String>) -> PolicyError {
    PolicyError {
        file: None,
        message: message.into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    engines: Option<Vec<String>>,
    #[serde(default)]
    budget: RawBudget,
    #[serde(default)]
    privacy: RawPrivacy,
    #[serde(default)]
    functions: RawFunctions,
    #[serde(default)]
    models: BTreeMap<String, RawModel>,
    #[serde(default)]
    route: Vec<RawRoute>,
    #[serde(default)]
    cache: RawCache,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCache {
    l2: Option<RawL2>,
    semantic: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawL2 {
    ttl_secs: Option<u64>,
    max_entries: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    per_call: Option<f64>,
    per_run: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPrivacy {
    #[serde(default)]
    sensitive: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFunctions {
    default: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    kind: String,
    #[serde(default)]
    cost_per_call: f64,
    #[serde(default)]
    latency_ms: f64,
    provider: Option<String>,
    #[serde(default)]
    rule: Vec<toml::Table>,
    command: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    base_url: Option<String>,
    model: Option<String>,
    api_key_env: Option<String>,
    retries: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(rename = "match")]
    pattern: String,
    target: String,
    model: Option<String>,
    #[serde(default)]
    fallback: Vec<String>,
    #[serde(default)]
    providers: Vec<String>,
    when: Option<RawWhen>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    network: Option<String>,
    battery_below: Option<u8>,
    battery_at_least: Option<u8>,
    tenant: Option<String>,
}

/// An engine named in `engines`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    Static,
    PrivacyFirst,
    CostOptimized,
    Performance,
}

impl EngineKind {
    fn parse(s: &str) -> Option<EngineKind> {
        Some(match s {
            "static" => EngineKind::Static,
            "privacy-first" => EngineKind::PrivacyFirst,
            "cost-optimized" => EngineKind::CostOptimized,
            "performance" => EngineKind::Performance,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub id: String,
    pub on_device: bool,
    pub cost_per_call: f64,
    pub latency_ms: f64,
    /// How to build the model's provider, when the policy configures one.
    pub provider: Option<ProviderSpec>,
}

/// A model's provider as configured in `[models.X]` (`provider = "rules" | "process" |
/// "openai"`). The runtime builds the provider; this crate only validates the shape.
#[derive(Clone, Debug, PartialEq)]
pub enum ProviderSpec {
    /// `[[models.X.rule]]` tables, as `RulesProvider::from_table` reads them (`{ rule = [...] }`).
    Rules(toml::Table),
    Process {
        command: Vec<String>,
        timeout_ms: Option<u64>,
    },
    OpenAi {
        base_url: String,
        model: String,
        api_key_env: Option<String>,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
}

/// `[cache.l2]`: the inference cache's bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct L2Settings {
    pub ttl: std::time::Duration,
    pub max_entries: usize,
}

impl Default for L2Settings {
    fn default() -> Self {
        L2Settings {
            ttl: std::time::Duration::from_secs(3600),
            max_entries: 10_000,
        }
    }
}

/// `[cache.semantic.embedder]`: what turns a call's text into the L3 cache's vectors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EmbedderSpec {
    /// The built-in on-device hashed n-gram embedder.
    #[default]
    Hashed,
    /// An OpenAI-compatible `POST {base_url}/embeddings` endpoint (off the device: the
    /// runtime never embeds a sensitive call's text with it).
    OpenAi {
        base_url: String,
        model: String,
        dim: usize,
        api_key_env: Option<String>,
        timeout_ms: Option<u64>,
    },
}

/// `[cache.semantic]`: the opt-in L3 cache and the functions it applies to.
#[derive(Clone, Debug)]
pub struct SemanticSettings {
    pub enabled: bool,
    pub config: crate::l3::SemanticCacheConfig,
    pub embedder: EmbedderSpec,
    /// Function globs whose calls consult the cache.
    pub functions: Vec<String>,
    matcher: GlobSet,
}

impl PartialEq for SemanticSettings {
    fn eq(&self, o: &Self) -> bool {
        self.enabled == o.enabled
            && self.config == o.config
            && self.functions == o.functions
            && self.embedder == o.embedder
    }
}

impl SemanticSettings {
    /// Whether calls of `name` consult the semantic cache.
    pub fn applies_to(&self, name: &str) -> bool {
        self.enabled && self.matcher.is_match(name)
    }
}

fn provider_spec(key: &str, m: &RawModel) -> Result<Option<ProviderSpec>, PolicyError> {
    let Some(kind) = m.provider.as_deref() else {
        for (name, set) in [
            ("rule", !m.rule.is_empty()),
            ("command", m.command.is_some()),
            ("timeout_ms", m.timeout_ms.is_some()),
            ("base_url", m.base_url.is_some()),
            ("model", m.model.is_some()),
            ("api_key_env", m.api_key_env.is_some()),
            ("retries", m.retries.is_some()),
        ] {
            if set {
                return Err(perr(format!("`{key}.{name}`: needs `{key}.provider`")));
            }
        }
        return Ok(None);
    };
    let forbid = |names: &[(&str, bool)]| -> Result<(), PolicyError> {
        match names.iter().find(|(_, set)| *set) {
            Some((n, _)) => Err(perr(format!(
                "`{key}.{n}`: not a setting of provider \"{kind}\""
            ))),
            None => Ok(()),
        }
    };
    Ok(Some(match kind {
        "rules" => {
            forbid(&[
                ("command", m.command.is_some()),
                ("timeout_ms", m.timeout_ms.is_some()),
                ("base_url", m.base_url.is_some()),
                ("model", m.model.is_some()),
                ("api_key_env", m.api_key_env.is_some()),
                ("retries", m.retries.is_some()),
            ])?;
            if m.rule.is_empty() {
                return Err(perr(format!(
                    "`{key}.rule`: provider \"rules\" needs at least one [[{key}.rule]] table"
                )));
            }
            let mut t = toml::Table::new();
            t.insert(
                "rule".into(),
                toml::Value::Array(m.rule.iter().cloned().map(toml::Value::Table).collect()),
            );
            ProviderSpec::Rules(t)
        }
        "process" => {
            forbid(&[
                ("rule", !m.rule.is_empty()),
                ("base_url", m.base_url.is_some()),
                ("model", m.model.is_some()),
                ("api_key_env", m.api_key_env.is_some()),
                ("retries", m.retries.is_some()),
            ])?;
            let command = m.command.clone().unwrap_or_default();
            if command.first().is_none_or(|p| p.is_empty()) {
                return Err(perr(format!(
                    "`{key}.command`: provider \"process\" needs command = [\"program\", \"arg\", …]"
                )));
            }
            ProviderSpec::Process {
                command,
                timeout_ms: positive_ms(m.timeout_ms, key)?,
            }
        }
        "openai" => {
            forbid(&[
                ("rule", !m.rule.is_empty()),
                ("command", m.command.is_some()),
            ])?;
            let base_url = m.base_url.clone().ok_or_else(|| {
                perr(format!(
                    "`{key}.base_url`: provider \"openai\" needs a base URL"
                ))
            })?;
            if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                return Err(perr(format!(
                    "`{key}.base_url`: expected an http:// or https:// URL, got \"{base_url}\""
                )));
            }
            let model = m.model.clone().ok_or_else(|| {
                perr(format!(
                    "`{key}.model`: provider \"openai\" needs a model name"
                ))
            })?;
            ProviderSpec::OpenAi {
                base_url,
                model,
                api_key_env: m.api_key_env.clone(),
                timeout_ms: positive_ms(m.timeout_ms, key)?,
                retries: match m.retries {
                    Some(n) if n > MAX_RETRIES => {
                        return Err(perr(format!(
                            "`{key}.retries`: {n} is too many; at most {MAX_RETRIES}"
                        )));
                    }
                    r => r,
                },
            }
        }
        other => {
            return Err(perr(format!(
                "`{key}.provider`: expected \"rules\", \"process\" or \"openai\", got \"{other}\""
            )));
        }
    }))
}

fn positive_ms(v: Option<u64>, key: &str) -> Result<Option<u64>, PolicyError> {
    match v {
        Some(0) => Err(perr(format!("`{key}.timeout_ms`: must be at least 1"))),
        other => Ok(other),
    }
}

fn embedder_spec(t: &toml::Table) -> Result<EmbedderSpec, PolicyError> {
    const KEY: &str = "cache.semantic.embedder";
    let text = |name: &str| -> Result<Option<String>, PolicyError> {
        match t.get(name) {
            None => Ok(None),
            Some(toml::Value::String(v)) if !v.trim().is_empty() => Ok(Some(v.clone())),
            Some(other) => Err(perr(format!(
                "`{KEY}.{name}`: expected a non-empty string, got {other}"
            ))),
        }
    };
    let positive = |name: &str| -> Result<Option<u64>, PolicyError> {
        match t.get(name) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) if *i > 0 => Ok(Some(*i as u64)),
            Some(other) => Err(perr(format!(
                "`{KEY}.{name}`: expected a positive integer, got {other}"
            ))),
        }
    };
    let kind = text("kind")?.unwrap_or_else(|| "hashed".into());
    let allowed: &[&str] = match kind.as_str() {
        "hashed" => &["kind"],
        "openai" => &[
            "kind",
            "base_url",
            "model",
            "dim",
            "api_key_env",
            "timeout_ms",
        ],
        other => {
            return Err(perr(format!(
                "`{KEY}.kind`: expected \"hashed\" or \"openai\", got \"{other}\""
            )));
        }
    };
    if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(perr(format!(
            "`{KEY}.{k}`: unknown key for kind \"{kind}\" (expected {})",
            allowed.join(", ")
        )));
    }
    if kind == "hashed" {
        return Ok(EmbedderSpec::Hashed);
    }
    let base_url = text("base_url")?
        .ok_or_else(|| perr(format!("`{KEY}.base_url`: required for kind \"openai\"")))?;
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(perr(format!(
            "`{KEY}.base_url`: expected an http:// or https:// URL, got \"{base_url}\""
        )));
    }
    let model = text("model")?
        .ok_or_else(|| perr(format!("`{KEY}.model`: required for kind \"openai\"")))?;
    let dim = positive("dim")?.ok_or_else(|| {
        perr(format!(
            "`{KEY}.dim`: required for kind \"openai\" (the model's vector length)"
        ))
    })?;
    let dim = usize::try_from(dim)
        .ok()
        .filter(|d| *d <= 65_536)
        .ok_or_else(|| perr(format!("`{KEY}.dim`: at most 65536, got {dim}")))?;
    Ok(EmbedderSpec::OpenAi {
        base_url,
        model,
        dim,
        api_key_env: text("api_key_env")?,
        timeout_ms: positive("timeout_ms")?,
    })
}

fn semantic_settings(t: &toml::Table) -> Result<SemanticSettings, PolicyError> {
    let mut rest = t.clone();
    let enabled = match rest.remove("enabled") {
        None => true,
        Some(toml::Value::Boolean(b)) => b,
        Some(other) => {
            return Err(perr(format!(
                "`cache.semantic.enabled`: expected true or false, got {other}"
            )));
        }
    };
    let functions: Vec<String> = match rest.remove("functions") {
        None => vec!["*".into()],
        Some(toml::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(String::from).ok_or_else(|| {
                    perr(format!(
                        "`cache.semantic.functions[{i}]`: expected a glob string, got {v}"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(perr(format!(
                "`cache.semantic.functions`: expected a list of globs, got {other}"
            )));
        }
    };
    let embedder = match rest.remove("embedder") {
        None => EmbedderSpec::Hashed,
        Some(toml::Value::Table(t)) => embedder_spec(&t)?,
        Some(other) => {
            return Err(perr(format!(
                "`cache.semantic.embedder`: expected a table, got {other}"
            )));
        }
    };
    let config = crate::l3::SemanticCacheConfig::from_toml(&rest)
        .map_err(|e| perr(format!("`cache.semantic`: {e}")))?;
    let mut b = GlobSetBuilder::new();
    for (i, f) in functions.iter().enumerate() {
        b.add(glob(f, &format!("cache.semantic.functions[{i}]"))?);
    }
    let matcher = b
        .build()
        .map_err(|e| perr(format!("`cache.semantic.functions`: {e}")))?;
    Ok(SemanticSettings {
        enabled,
        config,
        embedder,
        functions,
        matcher,
    })
}

impl Model {
    pub fn target(&self) -> ExecTarget {
        if self.on_device {
            ExecTarget::LocalModel(self.id.clone())
        } else {
            ExecTarget::RemoteModel(self.id.clone())
        }
    }

    pub fn candidate(&self) -> Candidate {
        Candidate {
            id: self.id.clone(),
            target: self.target(),
            on_device: self.on_device,
            cost: self.cost_per_call,
            latency_ms: self.latency_ms,
            is_provider: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTarget {
    Local,
    Model(String),
    /// Defer to the next engines.
    Engine,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct When {
    pub network: Option<NetworkStatus>,
    pub battery_below: Option<u8>,
    pub battery_at_least: Option<u8>,
    pub tenant: Option<String>,
}

impl When {
    fn holds(&self, ctx: &CallContext<'_>) -> bool {
        let d = ctx.device_context;
        self.network.is_none_or(|n| n == d.network)
            && self
                .battery_below
                .is_none_or(|b| d.battery_percent.is_some_and(|p| p < b))
            && self
                .battery_at_least
                .is_none_or(|b| d.battery_percent.is_none_or(|p| p >= b))
            && self
                .tenant
                .as_deref()
                .is_none_or(|t| ctx.user_context.tenant.as_deref() == Some(t))
    }

    fn is_empty(&self) -> bool {
        *self == When::default()
    }
}

#[derive(Clone, Debug)]
pub struct Route {
    pub pattern: String,
    matcher: GlobMatcher,
    pub target: RouteTarget,
    pub fallback: Vec<String>,
    pub providers: Vec<String>,
    pub when: When,
}

impl Route {
    /// Candidate ids in the order this route prefers them (empty: the route does not
    /// restrict them).
    pub fn candidate_ids(&self, kind: CallKind) -> Vec<String> {
        if kind == CallKind::Capability {
            return self.providers.clone();
        }
        let first = match &self.target {
            RouteTarget::Local => "local".to_string(),
            RouteTarget::Model(m) => m.clone(),
            RouteTarget::Engine => return Vec::new(),
        };
        std::iter::once(first)
            .chain(self.fallback.iter().cloned())
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub engines: Vec<EngineKind>,
    pub per_call: Option<f64>,
    pub per_run: Option<f64>,
    sensitive: GlobSet,
    /// Unrouted functions run locally (fixed at compile time) rather than asking the engine.
    pub functions_local: bool,
    pub models: Vec<Model>,
    pub routes: Vec<Route>,
    pub l2: L2Settings,
    /// `None` when the policy has no `[cache.semantic]` table.
    pub semantic: Option<SemanticSettings>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            engines: vec![EngineKind::Static, EngineKind::PrivacyFirst],
            per_call: None,
            per_run: None,
            sensitive: GlobSet::empty(),
            functions_local: true,
            models: Vec::new(),
            routes: Vec::new(),
            l2: L2Settings::default(),
            semantic: None,
        }
    }
}

fn glob(pattern: &str, key: &str) -> Result<globset::Glob, PolicyError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| perr(format!("`{key}`: bad glob pattern `{pattern}`: {e}")))
}

fn amount(v: Option<f64>, key: &str) -> Result<Option<f64>, PolicyError> {
    match v {
        Some(x) if !x.is_finite() || x < 0.0 => Err(perr(format!(
            "`{key}`: must be a finite number ≥ 0, got {x}"
        ))),
        other => Ok(other),
    }
}

impl Policy {
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            file: Some(path.display().to_string()),
            message: format!("cannot read: {e}"),
        })?;
        Policy::parse(&text).map_err(|mut e| {
            e.file = Some(path.display().to_string());
            e
        })
    }

    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| perr(e.to_string().trim_end()))?;
        let mut p = Policy::default();
        if let Some(engines) = raw.engines {
            if engines.is_empty() {
                return Err(perr("`engines`: list at least one engine"));
            }
            p.engines = engines
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    EngineKind::parse(e).ok_or_else(|| {
                        perr(format!(
                            "`engines[{i}]`: unknown engine `{e}`; expected static, privacy-first, cost-optimized or performance"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?;
            if let Some(i) = (1..p.engines.len()).find(|&i| p.engines[..i].contains(&p.engines[i]))
            {
                return Err(perr(format!(
                    "`engines[{i}]`: engine `{}` is listed twice",
                    engines[i]
                )));
            }
        }
        p.per_call = amount(raw.budget.per_call, "budget.per_call")?;
        p.per_run = amount(raw.budget.per_run, "budget.per_run")?;
        if let (Some(call), Some(run)) = (p.per_call, p.per_run)
            && run < call
        {
            return Err(perr(format!(
                "`budget.per_run` ({run}) is less than `budget.per_call` ({call}): no call could \
                 ever be afforded; raise per_run or lower per_call"
            )));
        }
        let mut sens = GlobSetBuilder::new();
        for (i, s) in raw.privacy.sensitive.iter().enumerate() {
            sens.add(glob(s, &format!("privacy.sensitive[{i}]"))?);
        }
        p.sensitive = sens
            .build()
            .map_err(|e| perr(format!("`privacy.sensitive`: {e}")))?;
        p.functions_local = match raw.functions.default.as_deref() {
            None | Some("local") => true,
            Some("engine") => false,
            Some(other) => {
                return Err(perr(format!(
                    "`functions.default`: expected \"local\" or \"engine\", got \"{other}\""
                )));
            }
        };
        for (id, m) in &raw.models {
            let key = format!("models.{id}");
            let on_device = match m.kind.as_str() {
                "local" => true,
                "remote" => false,
                other => {
                    return Err(perr(format!(
                        "`{key}.kind`: expected \"local\" or \"remote\", got \"{other}\""
                    )));
                }
            };
            if id == "local" {
                return Err(perr(
                    "`models.local`: the id `local` is reserved for the local runtime",
                ));
            }
            p.models.push(Model {
                id: id.clone(),
                on_device,
                cost_per_call: amount(Some(m.cost_per_call), &format!("{key}.cost_per_call"))?
                    .unwrap_or(0.0),
                latency_ms: amount(Some(m.latency_ms), &format!("{key}.latency_ms"))?
                    .unwrap_or(0.0),
                provider: provider_spec(&key, m)?,
            });
        }
        for (i, r) in raw.route.iter().enumerate() {
            p.routes.push(p.route(i, r)?);
        }
        if let Some(l2) = &raw.cache.l2 {
            if l2.ttl_secs == Some(0) {
                return Err(perr("`cache.l2.ttl_secs`: must be at least 1"));
            }
            if l2.max_entries == Some(0) {
                return Err(perr("`cache.l2.max_entries`: must be at least 1"));
            }
            let d = L2Settings::default();
            p.l2 = L2Settings {
                ttl: l2.ttl_secs.map_or(d.ttl, std::time::Duration::from_secs),
                max_entries: l2.max_entries.unwrap_or(d.max_entries),
            };
        }
        if let Some(t) = &raw.cache.semantic {
            p.semantic = Some(semantic_settings(t)?);
        }
        Ok(p)
    }

    fn route(&self, i: usize, r: &RawRoute) -> Result<Route, PolicyError> {
        let key = format!("route[{i}]");
        let model_of = |want_local: bool| -> Result<RouteTarget, PolicyError> {
            let t = &r.target;
            let id = r
                .model
                .as_deref()
                .ok_or_else(|| perr(format!("`{key}.model`: target \"{t}\" needs a model id")))?;
            let m = self.model(id).ok_or_else(|| {
                perr(format!(
                    "`{key}.model`: unknown model `{id}` (declare it under [models.{id}])"
                ))
            })?;
            if m.on_device != want_local {
                return Err(perr(format!(
                    "`{key}.model`: model `{id}` is {} but the target is \"{t}\"",
                    if m.on_device { "local" } else { "remote" }
                )));
            }
            Ok(RouteTarget::Model(id.to_string()))
        };
        let target = match r.target.as_str() {
            "local" => RouteTarget::Local,
            "engine" => RouteTarget::Engine,
            "local-model" => model_of(true)?,
            "remote" => model_of(false)?,
            other => {
                return Err(perr(format!(
                    "`{key}.target`: unknown target \"{other}\"; expected local, local-model, remote or engine"
                )));
            }
        };
        if r.model.is_some() && matches!(target, RouteTarget::Local | RouteTarget::Engine) {
            return Err(perr(format!(
                "`{key}.model`: target \"{}\" takes no model",
                r.target
            )));
        }
        for (j, f) in r.fallback.iter().enumerate() {
            if f != "local" && self.model(f).is_none() {
                return Err(perr(format!(
                    "`{key}.fallback[{j}]`: unknown model `{f}` (use \"local\" or a model under [models])"
                )));
            }
        }
        let w = r.when.as_ref();
        let when = When {
            network: match w.and_then(|w| w.network.as_deref()) {
                None => None,
                Some(n) => Some(NetworkStatus::parse(n).ok_or_else(|| {
                    perr(format!(
                        "`{key}.when.network`: expected \"online\", \"metered\" or \"offline\", got \"{n}\""
                    ))
                })?),
            },
            battery_below: w.and_then(|w| w.battery_below),
            battery_at_least: w.and_then(|w| w.battery_at_least),
            tenant: w.and_then(|w| w.tenant.clone()),
        };
        Ok(Route {
            matcher: glob(&r.pattern, &format!("{key}.match"))?.compile_matcher(),
            pattern: r.pattern.clone(),
            target,
            fallback: r.fallback.clone(),
            providers: r.providers.clone(),
            when,
        })
    }

    /// Whether any route's pattern matches `name` (whatever its conditions).
    pub fn routes_name(&self, name: &str) -> bool {
        self.routes.iter().any(|r| r.matcher.is_match(name))
    }

    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.id == id)
    }

    /// Names the policy marks sensitive (in addition to `^{:privacy :sensitive}`).
    pub fn is_sensitive(&self, name: &str) -> bool {
        !self.sensitive.is_empty() && self.sensitive.is_match(name)
    }

    /// The first route matching the call's subject whose conditions hold.
    pub fn route_for(&self, ctx: &CallContext<'_>) -> Option<(usize, &Route)> {
        let subject = ctx.subject();
        self.routes
            .iter()
            .enumerate()
            .find(|(_, r)| r.matcher.is_match(subject) && r.when.holds(ctx))
    }

    /// Candidates for an RTFS function call: the local runtime, then every declared model.
    pub fn function_candidates(&self) -> Vec<Candidate> {
        std::iter::once(Candidate::local())
            .chain(self.models.iter().map(Model::candidate))
            .collect()
    }
}

impl Policy {
    /// The environment variables the policy reads API keys from (`api_key_env` of models
    /// and of the semantic cache's embedder).
    pub fn api_key_envs(&self) -> impl Iterator<Item = &str> {
        let models = self.models.iter().filter_map(|m| match &m.provider {
            Some(ProviderSpec::OpenAi { api_key_env, .. }) => api_key_env.as_deref(),
            _ => None,
        });
        let embedder = self.semantic.iter().filter_map(|s| match &s.embedder {
            EmbedderSpec::OpenAi { api_key_env, .. } => api_key_env.as_deref(),
            EmbedderSpec::Hashed => None,
        });
        models.chain(embedder)
    }
}

impl StaticPolicy for Policy {
    fn secret_env(&self, name: &str) -> bool {
        self.api_key_envs().any(|n| n == name)
    }

    fn static_decision(&self, kind: CallKind, name: &str, sensitive: bool) -> StaticDecision {
        let sensitive = sensitive || self.is_sensitive(name);
        let runtime = |why: String| StaticDecision::Runtime { why };
        let matching = self
            .routes
            .iter()
            .enumerate()
            .find(|(_, r)| r.matcher.is_match(name));
        if kind == CallKind::Capability {
            return runtime("capability providers are chosen at run time".into());
        }
        let Some((i, r)) = matching else {
            return if self.functions_local {
                StaticDecision::Fixed {
                    target: ExecTarget::LocalPure,
                    rule: "functions.default = \"local\"".into(),
                }
            } else {
                runtime("functions.default = \"engine\"".into())
            };
        };
        let rule = format!("route[{i}] \"{}\"", r.pattern);
        if self.engines.first() != Some(&EngineKind::Static) {
            return runtime(format!(
                "{rule} matches, but the static engine is not first"
            ));
        }
        if !r.when.is_empty() {
            return runtime(format!("{rule} has conditions (when)"));
        }
        if !r.fallback.is_empty() {
            return runtime(format!("{rule} has fallbacks"));
        }
        match &r.target {
            RouteTarget::Engine => runtime(format!("{rule} defers to the engine")),
            RouteTarget::Local => StaticDecision::Fixed {
                target: ExecTarget::LocalPure,
                rule,
            },
            RouteTarget::Model(id) => match self.model(id) {
                Some(m) if sensitive && !m.on_device => runtime(format!(
                    "{rule}: sensitive data, the privacy filter decides"
                )),
                Some(m)
                    if m.cost_per_call > 0.0
                        && (self.per_call.is_some() || self.per_run.is_some()) =>
                {
                    runtime(format!("{rule}: the budget decides"))
                }
                Some(m) => StaticDecision::Fixed {
                    target: m.target(),
                    rule,
                },
                None => runtime(format!("{rule}: unknown model")),
            },
        }
    }
}
