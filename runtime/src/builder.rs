//! `Runtime::builder()`: one place for a host to wire policy, mesh, capabilities, model
//! providers and the security context; and [`SharedRuntime`], the async facade.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtfs_delegation::{DeviceContext, Policy, UserContext};
use rtfs_io_runtime::IoRuntime;
use rtfs_ir::{Env, RtResult, Value};
use rtfs_mesh::{GlobalFunctionMesh, SecurityContext};

use crate::delegate::ModelInvoker;
use crate::error::Error;
use crate::providers::Io;
use crate::runtime::Runtime;

type Capability = Arc<dyn Fn(&mut dyn Env, &[Value]) -> RtResult<Value> + Send + Sync>;

#[derive(Default)]
pub struct RuntimeBuilder {
    policy: Option<Arc<Policy>>,
    mesh: Option<Arc<GlobalFunctionMesh>>,
    capabilities: Vec<(String, Capability)>,
    resources: Vec<(String, crate::state::HostRelease)>,
    models: Option<ModelInvoker>,
    providers: Vec<Arc<dyn rtfs_models::ModelProvider>>,
    security: Option<SecurityContext>,
    user: UserContext,
    device: DeviceContext,
    provider_timeout: Option<Duration>,
    chain: Option<Arc<dyn rtfs_chain::ChainSink>>,
    io_runtime: Option<IoRuntime>,
    read_roots: Vec<std::path::PathBuf>,
    write_roots: Vec<std::path::PathBuf>,
    env_names: Vec<String>,
    env_source: Option<crate::grants::EnvSource>,
}

impl RuntimeBuilder {
    pub fn policy(mut self, p: Policy) -> Self {
        self.policy = Some(Arc::new(p));
        self
    }
    pub fn mesh(mut self, m: Arc<GlobalFunctionMesh>) -> Self {
        self.mesh = Some(m);
        self
    }
    pub fn capability(
        mut self,
        id: &str,
        f: impl Fn(&mut dyn Env, &[Value]) -> RtResult<Value> + Send + Sync + 'static,
    ) -> Self {
        let id = id.strip_prefix(':').unwrap_or(id).to_string();
        self.capabilities.push((id, Arc::new(f)));
        self
    }
    /// The host release hook of a resource type (see [`Runtime::register_resource`]).
    pub fn resource(
        mut self,
        type_name: &str,
        release: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.resources
            .push((type_name.to_string(), Arc::new(release)));
        self
    }
    /// Runs `LocalModel`/`RemoteModel` targets (the model-provider integration point).
    pub fn model_provider(mut self, f: ModelInvoker) -> Self {
        self.models = Some(f);
        self
    }
    /// Adds a model provider, routed by its id (`^:delegation :local-model "id"` or a
    /// policy model of that id). Providers the policy configures are built as well.
    pub fn model(mut self, p: Arc<dyn rtfs_models::ModelProvider>) -> Self {
        self.providers.push(p);
        self
    }
    pub fn security(mut self, ctx: SecurityContext) -> Self {
        self.security = Some(ctx);
        self
    }
    pub fn user(mut self, u: UserContext) -> Self {
        self.user = u;
        self
    }
    pub fn device(mut self, d: DeviceContext) -> Self {
        self.device = d;
        self
    }
    /// Records every delegated call and capability call.
    pub fn chain(mut self, sink: Arc<dyn rtfs_chain::ChainSink>) -> Self {
        self.chain = Some(sink);
        self
    }
    /// Runs HTTP providers, mesh lookups and the policy's network model clients on the
    /// host's own tokio runtime (which must have I/O and time enabled) instead of the
    /// shared I/O runtime.
    pub fn io_runtime(mut self, io: IoRuntime) -> Self {
        self.io_runtime = Some(io);
        self
    }
    /// Timeout of one HTTP provider call (default 5 s).
    pub fn provider_timeout(mut self, t: Duration) -> Self {
        self.provider_timeout = Some(t);
        self
    }

    /// Lets programs read files under `dir` (`:ccos.fs/read`, `tool/open-file`, …).
    /// Nothing is readable unless granted; `build` fails if `dir` is not a directory.
    pub fn allow_read(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.read_roots.push(dir.into());
        self
    }
    /// Lets programs create and replace files under `dir` (`:ccos.fs/write`).
    pub fn allow_write(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.write_roots.push(dir.into());
        self
    }
    /// Lets programs read the environment variable `name` (`*` matches any run of
    /// characters: `"APP_*"`, `"*"`).
    pub fn allow_env(mut self, name: impl Into<String>) -> Self {
        self.env_names.push(name.into());
        self
    }
    /// Where granted environment reads look (default: the process environment).
    pub fn env_source(
        mut self,
        f: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env_source = Some(Arc::new(f));
        self
    }

    pub fn build(self) -> Result<Runtime, Error> {
        let mut rt = Runtime::new();
        let mut grants = crate::grants::Grants::default();
        for d in &self.read_roots {
            grants.allow_read(d).map_err(Error::Io)?;
        }
        for d in &self.write_roots {
            grants.allow_write(d).map_err(Error::Io)?;
        }
        for n in &self.env_names {
            grants.allow_env(n).map_err(Error::Io)?;
        }
        if let Some(src) = self.env_source {
            grants.set_env_source(src);
        }
        rt.set_grants(grants);
        for (id, f) in self.capabilities {
            rt.state_mut().capabilities.insert(id, f);
        }
        for (ty, f) in self.resources {
            rt.state_mut()
                .resources
                .insert(ty, crate::state::ReleaseHook::Host(f));
        }
        let w = &mut rt.state_mut().wiring;
        if let Some(ctx) = self.security {
            w.security = Arc::new(ctx);
        }
        w.models = self.models;
        if self.policy.is_some() || !self.providers.is_empty() {
            let mut reg = match &self.policy {
                Some(p) => {
                    crate::models::ModelRegistry::from_policy_on(p, self.io_runtime.as_ref())
                        .map_err(Error::Io)?
                }
                None => crate::models::ModelRegistry::default(),
            };
            for p in self.providers {
                reg.register(p);
            }
            w.registry = Some(Arc::new(reg));
        }
        w.chain = self.chain;
        if self.mesh.is_some() || self.provider_timeout.is_some() {
            let rt = match self.io_runtime {
                Some(rt) => rt,
                None => IoRuntime::shared().map_err(Error::Io)?,
            };
            let io = Io::new(rt, self.provider_timeout.unwrap_or(Duration::from_secs(5)))
                .map_err(Error::Io)?;
            w.io = Some(Arc::new(io));
        }
        if let Some(m) = self.mesh {
            w.mesh = Some(m);
        }
        if let Some(p) = self.policy {
            rt.set_policy_with(p, self.user, self.device);
        }
        Ok(rt)
    }
}

/// A runtime shared between tasks: `eval_async` runs the evaluation on tokio's blocking
/// pool, so the async caller never blocks its worker thread.
#[derive(Clone)]
pub struct SharedRuntime {
    inner: Arc<Mutex<Runtime>>,
}

impl SharedRuntime {
    pub fn new(rt: Runtime) -> SharedRuntime {
        SharedRuntime {
            inner: Arc::new(Mutex::new(rt)),
        }
    }

    pub async fn eval_async(&self, src: impl Into<String>) -> Result<Value, Error> {
        let inner = self.inner.clone();
        let src = src.into();
        tokio::task::spawn_blocking(move || {
            let mut rt = inner
                .lock()
                .map_err(|_| Error::Io("runtime poisoned by an earlier panic".into()))?;
            rt.eval_str(&src)
        })
        .await
        .map_err(|e| Error::Io(format!("evaluation task failed: {e}")))?
    }

    /// Direct access for synchronous use.
    pub fn lock(&self) -> Result<std::sync::MutexGuard<'_, Runtime>, Error> {
        self.inner
            .lock()
            .map_err(|_| Error::Io("runtime poisoned by an earlier panic".into()))
    }
}
