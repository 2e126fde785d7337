//! The model registry: runs `LocalModel(id)` / `RemoteModel(id)` targets on
//! [`rtfs_models::ModelProvider`]s, behind the L2 inference cache and, for opted-in
//! functions, the L3 semantic cache. RTFS values cross to providers as JSON and come back
//! from the response's `value` (or its `text`, as a string).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rtfs_delegation::policy::{EmbedderSpec, L2Settings, ProviderSpec, SemanticSettings};
use rtfs_delegation::{
    Embedder, HashedNgramEmbedder, InferenceCache, InferenceKey, Policy, SemanticCache, l3,
};
use rtfs_io_runtime::IoRuntime;
use rtfs_ir::{ExecTarget, Value};
use rtfs_models::{
    ModelProvider, ModelRequest, OpenAiConfig, OpenAiEmbedder, OpenAiEmbedderConfig,
    OpenAiProvider, ProcessConfig, ProcessProvider, RulesProvider,
};

/// Dimension of the built-in hashed n-gram embedder used by the semantic cache.
const EMBED_DIM: usize = 256;

/// One model call as the delegation layer sees it.
pub struct ModelCall<'a> {
    pub target: &'a ExecTarget,
    pub function: &'a str,
    pub args: &'a [Value],
    /// L2 key part and L3 partition; calls without a tenant share the `""` partition.
    pub tenant: &'a str,
    /// The call carries `^{:privacy :sensitive}` data (or the policy says so).
    pub sensitive: bool,
    /// The callee asked for the semantic cache (`^{:cache :semantic}`).
    pub semantic: bool,
}

/// The answer, and the cache that gave it if one did.
pub struct ModelAnswer {
    pub value: Value,
    /// `ExecTarget::CacheHit { cache_level: 2 | 3, .. }` when a cache answered.
    pub cache_hit: Option<ExecTarget>,
}

struct Semantic {
    cache: SemanticCache,
    /// `None`: only `^{:cache :semantic}` functions use it.
    settings: Option<SemanticSettings>,
}

pub struct ModelRegistry {
    providers: HashMap<String, Arc<dyn ModelProvider>>,
    params: BTreeMap<String, serde_json::Value>,
    params_key: Value,
    l2: InferenceCache,
    semantic: Option<Semantic>,
}

impl Default for ModelRegistry {
    fn default() -> Self {
        ModelRegistry::new(&L2Settings::default())
    }
}

impl ModelRegistry {
    pub fn new(l2: &L2Settings) -> ModelRegistry {
        ModelRegistry {
            providers: HashMap::new(),
            params: BTreeMap::new(),
            params_key: Value::Nil,
            l2: InferenceCache::new(l2.max_entries, l2.ttl),
            semantic: None,
        }
    }

    /// Builds the providers configured in the policy's `[models.X]` tables, the L2 cache
    /// from `[cache.l2]` and, when `[cache.semantic]` is enabled, the L3 cache with the
    /// embedder of `[cache.semantic.embedder]` (default: the built-in on-device one).
    pub fn from_policy(policy: &Policy) -> Result<ModelRegistry, String> {
        ModelRegistry::from_policy_on(policy, None)
    }

    /// As [`ModelRegistry::from_policy`], with the network clients (OpenAI-compatible
    /// models and embedders) running on `io` instead of the shared I/O runtime.
    pub fn from_policy_on(
        policy: &Policy,
        io: Option<&IoRuntime>,
    ) -> Result<ModelRegistry, String> {
        let mut r = ModelRegistry::new(&policy.l2);
        for m in &policy.models {
            if let Some(spec) = &m.provider {
                r.register(build_provider(&m.id, spec, io)?);
            }
        }
        if let Some(s) = &policy.semantic
            && s.enabled
        {
            let cache = SemanticCache::new(build_embedder(&s.embedder, io)?, s.config.clone())
                .map_err(|e| format!("semantic cache: {e}"))?;
            r.semantic = Some(Semantic {
                cache,
                settings: Some(s.clone()),
            });
        }
        Ok(r)
    }

    /// Adds (or replaces) a provider under its own id.
    pub fn register(&mut self, p: Arc<dyn ModelProvider>) {
        self.providers.insert(p.id().to_string(), p);
    }

    /// Uses `cache` as the L3 cache for `^{:cache :semantic}` functions (and, with
    /// `settings`, for the functions the policy lists).
    pub fn set_semantic_cache(&mut self, cache: SemanticCache, settings: Option<SemanticSettings>) {
        self.semantic = Some(Semantic { cache, settings });
    }

    /// Parameters passed to every provider (and part of the L2 key).
    pub fn set_params(
        &mut self,
        params: BTreeMap<String, serde_json::Value>,
    ) -> Result<(), String> {
        let text = serde_json::to_string(&params).map_err(|e| format!("model params: {e}"))?;
        self.params_key =
            rtfs_stdlib::json::from_json_str(&text).map_err(|e| format!("model params: {e}"))?;
        self.params = params;
        Ok(())
    }

    pub fn has(&self, id: &str) -> bool {
        self.providers.contains_key(id)
    }

    pub fn semantic_metrics(&self) -> Option<l3::L3Metrics> {
        self.semantic.as_ref().map(|s| s.cache.metrics())
    }

    /// Runs one call: L2 (keyed per tenant), then L3 when enabled for the function (one
    /// partition per tenant), then the provider.
    pub fn invoke(&self, call: &ModelCall<'_>) -> Result<ModelAnswer, String> {
        let id = match call.target {
            ExecTarget::LocalModel(id) | ExecTarget::RemoteModel(id) => id,
            other => return Err(format!("{other} is not a model target")),
        };
        let provider = self
            .providers
            .get(id.as_str())
            .ok_or_else(|| format!("no model provider is registered for model `{id}`"))?;
        let key = InferenceKey::for_tenant(call.tenant, call.target, &self.params_key, call.args);
        if let Some(v) = self.l2.get(&key) {
            return Ok(ModelAnswer {
                value: v,
                cache_hit: Some(ExecTarget::CacheHit {
                    cache_level: 2,
                    storage_pointer: format!("l2:{}", key.hex()),
                }),
            });
        }
        let l3 = self.semantic.as_ref().filter(|s| {
            (call.semantic || s.settings.as_ref().is_some_and(|c| c.applies_to(call.function)))
                // A sensitive call's text never goes to an embedder off the device.
                && (!call.sensitive || s.cache.embedder().is_on_device())
        });
        // Embedding failures only cost the cache, never the call.
        let vector = l3.and_then(|s| s.cache.embed(&l3::query_text(call.args)).ok());
        if let (Some(s), Some(v)) = (l3, &vector)
            && let Ok(Some(hit)) =
                s.cache
                    .lookup_embedded(call.tenant, call.function, call.target, v)
        {
            return Ok(ModelAnswer {
                cache_hit: Some(hit.target()),
                value: hit.value,
            });
        }
        let value = self.ask(id, &**provider, call)?;
        self.l2.insert(key, value.clone());
        if let (Some(s), Some(v)) = (l3, vector) {
            let _ =
                s.cache
                    .insert_embedded(call.tenant, call.function, call.target, v, value.clone());
        }
        Ok(ModelAnswer {
            value,
            cache_hit: None,
        })
    }

    fn ask(
        &self,
        id: &str,
        provider: &dyn ModelProvider,
        call: &ModelCall<'_>,
    ) -> Result<Value, String> {
        let args = call
            .args
            .iter()
            .map(|a| {
                let text = rtfs_stdlib::json::to_json_string(a).map_err(|e| {
                    format!("model `{id}`: argument not representable as JSON: {e}")
                })?;
                serde_json::from_str(&text).map_err(|e| format!("model `{id}`: argument: {e}"))
            })
            .collect::<Result<Vec<serde_json::Value>, String>>()?;
        let req = ModelRequest {
            function: call.function.to_string(),
            args,
            prompt: None,
            params: self.params.clone(),
        };
        let resp = provider
            .infer(&req)
            .map_err(|e| format!("model `{id}`: {e}"))?;
        match resp.value {
            Some(v) => {
                let text = serde_json::to_string(&v)
                    .map_err(|e| format!("model `{id}`: reply value: {e}"))?;
                rtfs_stdlib::json::from_json_str(&text)
                    .map_err(|e| format!("model `{id}`: reply value: {e}"))
            }
            None => Ok(Value::str(resp.text)),
        }
    }
}

/// The L3 embedder the policy's `[cache.semantic.embedder]` names.
fn build_embedder(
    spec: &EmbedderSpec,
    io: Option<&IoRuntime>,
) -> Result<Arc<dyn Embedder>, String> {
    let err = |e: rtfs_delegation::EmbedError| format!("semantic cache embedder: {e}");
    Ok(match spec {
        EmbedderSpec::Hashed => Arc::new(HashedNgramEmbedder::new(EMBED_DIM).map_err(err)?),
        EmbedderSpec::OpenAi {
            base_url,
            model,
            dim,
            api_key_env,
            timeout_ms,
        } => {
            let mut cfg = OpenAiEmbedderConfig::new(base_url, model, *dim);
            cfg.api_key_env = api_key_env.clone();
            if let Some(ms) = timeout_ms {
                cfg.timeout = Duration::from_millis(*ms);
            }
            let e = OpenAiEmbedder::new(cfg).map_err(err)?;
            Arc::new(match io {
                Some(io) => e.with_io_runtime(io.clone()),
                None => e,
            })
        }
    })
}

fn build_provider(
    id: &str,
    spec: &ProviderSpec,
    io: Option<&IoRuntime>,
) -> Result<Arc<dyn ModelProvider>, String> {
    let err = |e: rtfs_models::ModelError| format!("model `{id}`: {e}");
    Ok(match spec {
        ProviderSpec::Rules(table) => {
            Arc::new(RulesProvider::from_table(id, table.clone()).map_err(err)?)
        }
        ProviderSpec::Process {
            command,
            timeout_ms,
        } => {
            let (prog, args) = command
                .split_first()
                .ok_or_else(|| format!("model `{id}`: empty command"))?;
            let mut cfg = ProcessConfig::new(prog.clone());
            cfg.args = args.to_vec();
            if let Some(ms) = timeout_ms {
                cfg.timeout = Duration::from_millis(*ms);
            }
            Arc::new(ProcessProvider::new(id, cfg))
        }
        ProviderSpec::OpenAi {
            base_url,
            model,
            api_key_env,
            timeout_ms,
            retries,
        } => {
            let mut cfg = OpenAiConfig::new(base_url.clone(), model.clone());
            cfg.api_key_env = api_key_env.clone();
            if let Some(ms) = timeout_ms {
                cfg.timeout = Duration::from_millis(*ms);
            }
            if let Some(n) = retries {
                cfg.max_retries = *n;
            }
            let p = OpenAiProvider::new(id, cfg).map_err(err)?;
            Arc::new(match io {
                Some(io) => p.with_io_runtime(io.clone()),
                None => p,
            })
        }
    })
}
