//! Resolution: function name → providers, following the design document's flow
//! (local marketplace fast path → resolution cache → registry → providers), then selection.
//!
//! The cached path (`resolve` on a fresh entry, then `select_resolved`) takes no lock but a
//! shard read lock, allocates nothing and returns an `Arc` of the resolved entry; security
//! decisions for a context are memoised in the entry. The slow path is single-flight per
//! query: concurrent resolves of a cold name share one registry lookup. When the lookup
//! fails because registries are down, the expired entry is served (with a warning); when a
//! record fails verification (signature, expiry, rollback), the previously accepted entry
//! stays in use (with a warning). Provider health changes expire the entries that list the
//! provider so the next resolve re-reads the registry.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use semver::Version;

use crate::cache::{CacheConfig, Lookup, ResolutionCache};
use crate::clock::{Clock, SystemClock};
use crate::error::{MeshError, RejectReason, Result};
use crate::flight::OnceFlight;
use crate::health::{HealthConfig, HealthTracker, ProviderHealth};
use crate::name::{FunctionQuery, split_query};
use crate::record::{FunctionRecord, ProviderRef, SecurityRequirements};
use crate::registry::Registry;
use crate::security::SecurityContext;
use crate::select::{self, LazyNow, Ranked, SelectionStrategy};
use crate::signing::{TrustStore, VersionPins};
use crate::version::choose_version;

/// One provider of a resolved function, with its live health.
pub struct ProviderSlot {
    pub provider: ProviderRef,
    pub health: Arc<ProviderHealth>,
    /// Listed in the record's `trusted-providers` (or that list is empty).
    pub trusted: bool,
    /// `context id << 1 | allowed` for the last context asked about.
    memo: AtomicU64,
}

impl ProviderSlot {
    fn new(provider: ProviderRef, health: Arc<ProviderHealth>, trusted: bool) -> ProviderSlot {
        ProviderSlot {
            provider,
            health,
            trusted,
            memo: AtomicU64::new(0),
        }
    }

    /// `ctx.is_provider_allowed(id)`, memoised per context.
    #[inline]
    pub fn is_allowed_by(&self, ctx: &SecurityContext) -> bool {
        let m = self.memo.load(Ordering::Relaxed);
        if m >> 1 == ctx.id() {
            return m & 1 == 1;
        }
        let ok = ctx.is_provider_allowed(&self.provider.id);
        self.memo
            .store((ctx.id() << 1) | ok as u64, Ordering::Relaxed);
        ok
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolutionSource {
    LocalMarketplace,
    Registry(String),
}

static DEFAULT_REQUIREMENTS: LazyLock<SecurityRequirements> =
    LazyLock::new(SecurityRequirements::default);

/// A resolved function: the version chosen and its providers. Shared through `Arc`.
pub struct Resolution {
    pub query: Arc<str>,
    pub name: Arc<str>,
    /// `None` for local marketplace entries.
    pub version: Option<Version>,
    pub record: Option<Arc<FunctionRecord>>,
    pub providers: Vec<ProviderSlot>,
    pub source: ResolutionSource,
    /// Lasting warnings (deprecated version, registry fallbacks at fetch time).
    pub warnings: Vec<String>,
    /// Context id whose function-level check passed.
    allowed_for: AtomicU64,
}

impl fmt::Debug for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolution")
            .field("query", &self.query)
            .field("version", &self.version)
            .field(
                "providers",
                &self
                    .providers
                    .iter()
                    .map(|p| p.provider.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("source", &self.source)
            .finish()
    }
}

impl Resolution {
    /// A locally provided capability (no record, no version), for the marketplace fast path.
    pub fn local(name: &str, providers: Vec<ProviderRef>, health: &HealthTracker) -> Resolution {
        Resolution {
            query: Arc::from(name),
            name: Arc::from(name),
            version: None,
            record: None,
            providers: providers
                .into_iter()
                .map(|p| {
                    let h = health.provider(&p.id, p.avg_response_time_ms);
                    ProviderSlot::new(p, h, true)
                })
                .collect(),
            source: ResolutionSource::LocalMarketplace,
            warnings: Vec::new(),
            allowed_for: AtomicU64::new(0),
        }
    }

    fn from_record(
        query: Arc<str>,
        record: Arc<FunctionRecord>,
        version: Version,
        providers: &[ProviderRef],
        warnings: Vec<String>,
        source: String,
        health: &HealthTracker,
    ) -> Resolution {
        let trusted = &record.security_requirements.trusted_providers;
        Resolution {
            name: record.func_name.as_arc().clone(),
            query,
            version: Some(version),
            providers: providers
                .iter()
                .map(|p| {
                    let h = health.provider(&p.id, p.avg_response_time_ms);
                    let ok = trusted.is_empty() || trusted.contains(&p.id);
                    ProviderSlot::new(p.clone(), h, ok)
                })
                .collect(),
            record: Some(record),
            source: ResolutionSource::Registry(source),
            warnings,
            allowed_for: AtomicU64::new(0),
        }
    }

    pub fn requirements(&self) -> &SecurityRequirements {
        match &self.record {
            Some(r) => &r.security_requirements,
            None => &DEFAULT_REQUIREMENTS,
        }
    }

    /// Function-level security: global-function allowance and the record's requirements.
    /// Local marketplace capabilities are not global functions and skip it.
    #[inline]
    pub fn check_function(&self, ctx: &SecurityContext) -> Result<()> {
        if self.record.is_none() || self.allowed_for.load(Ordering::Relaxed) == ctx.id() {
            return Ok(());
        }
        ctx.check_function(&self.name, self.requirements())?;
        self.allowed_for.store(ctx.id(), Ordering::Relaxed);
        Ok(())
    }

    pub fn provider_ids(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(|s| s.provider.id.as_str())
    }
}

/// A resolution as handed to a caller: the shared entry, plus a warning when it is stale or
/// kept after a refused update.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub entry: Arc<Resolution>,
    pub note: Option<Arc<str>>,
}

impl Resolved {
    pub fn is_stale(&self) -> bool {
        self.note.is_some()
    }

    pub fn warnings(&self) -> impl Iterator<Item = &str> {
        self.entry
            .warnings
            .iter()
            .map(|s| s.as_str())
            .chain(self.note.as_deref())
    }

    pub fn providers(&self) -> impl Iterator<Item = &ProviderRef> {
        self.entry.providers.iter().map(|s| &s.provider)
    }
}

/// The provider chosen for one call.
#[derive(Clone, Debug)]
pub struct Selected {
    pub resolved: Resolved,
    pub index: usize,
}

impl Selected {
    #[inline]
    pub fn provider(&self) -> &ProviderRef {
        &self.resolved.entry.providers[self.index].provider
    }

    pub fn health(&self) -> &Arc<ProviderHealth> {
        &self.resolved.entry.providers[self.index].health
    }

    /// Marks a call as in flight (for load balancing) until the guard reports or drops.
    pub fn start(&self, tracker: &Arc<HealthTracker>) -> CallGuard {
        let health = self.health().clone();
        health.begin();
        CallGuard {
            health,
            tracker: tracker.clone(),
            started: Instant::now(),
            done: false,
        }
    }
}

/// Reports the outcome of one provider call to the health tracker.
pub struct CallGuard {
    health: Arc<ProviderHealth>,
    tracker: Arc<HealthTracker>,
    started: Instant,
    done: bool,
}

impl CallGuard {
    pub fn success(mut self) {
        self.done = true;
        self.health.end();
        self.tracker
            .record_success(self.health.id(), self.started.elapsed());
    }

    pub fn failure(mut self) {
        self.done = true;
        self.health.end();
        self.tracker.record_failure(self.health.id());
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if !self.done {
            self.health.end();
        }
    }
}

/// Capabilities available in process, consulted before anything else.
pub trait LocalMarketplace: Send + Sync {
    fn get_capability(&self, func_name: &str) -> Option<Arc<Resolution>>;
}

/// Retry budget for failover: at most `max_attempts` providers per call, and retries overall
/// limited to `ratio` of calls (plus a reserve of `reserve` retries), so a wide outage does
/// not multiply the load on the providers still standing.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    pub max_attempts: u32,
    pub ratio: f64,
    pub reserve: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            ratio: 0.2,
            reserve: 10.0,
        }
    }
}

struct RetryBudget {
    cfg: RetryConfig,
    milli_tokens: AtomicI64,
}

impl RetryBudget {
    fn new(cfg: RetryConfig) -> RetryBudget {
        RetryBudget {
            milli_tokens: AtomicI64::new((cfg.reserve * 1000.0) as i64),
            cfg,
        }
    }

    fn on_call(&self) {
        let add = (self.cfg.ratio * 1000.0) as i64;
        let cap = (self.cfg.reserve * 1000.0) as i64;
        let _ = self
            .milli_tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some((t + add).min(cap))
            });
    }

    fn try_retry(&self) -> bool {
        self.milli_tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (t >= 1000).then_some(t - 1000)
            })
            .is_ok()
    }
}

/// Why `call_with_failover` gave up.
#[derive(Debug)]
pub enum FailoverError<E> {
    /// Resolution or selection failed before any provider was called.
    Mesh(MeshError),
    /// Every attempted provider failed; attempts in order.
    AllFailed {
        attempts: Vec<(String, E)>,
        budget_exhausted: bool,
    },
}

impl<E: fmt::Display> fmt::Display for FailoverError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailoverError::Mesh(e) => write!(f, "{e}"),
            FailoverError::AllFailed {
                attempts,
                budget_exhausted,
            } => {
                write!(f, "every provider failed:")?;
                for (id, e) in attempts {
                    write!(f, " [{id}: {e}]")?;
                }
                if *budget_exhausted {
                    write!(f, " (retry budget exhausted)")?;
                }
                Ok(())
            }
        }
    }
}

impl<E> From<MeshError> for FailoverError<E> {
    fn from(e: MeshError) -> Self {
        FailoverError::Mesh(e)
    }
}

type Flight = Arc<OnceFlight<Result<Resolved>>>;

/// The Global Function Mesh: resolves names through the registry, caches, selects providers.
pub struct GlobalFunctionMesh {
    registry: Arc<dyn Registry>,
    marketplace: Option<Arc<dyn LocalMarketplace>>,
    local: RwLock<HashMap<String, Arc<Resolution>>>,
    has_local: AtomicBool,
    cache: Arc<ResolutionCache>,
    inflight: Mutex<HashMap<Arc<str>, Flight>>,
    health: Arc<HealthTracker>,
    strategy: SelectionStrategy,
    context: SecurityContext,
    trust: Option<Arc<TrustStore>>,
    pins: VersionPins,
    clock: Arc<dyn Clock>,
    retry: RetryBudget,
    upstream_lookups: AtomicU64,
}

pub struct MeshBuilder {
    registry: Arc<dyn Registry>,
    marketplace: Option<Arc<dyn LocalMarketplace>>,
    strategy: SelectionStrategy,
    context: SecurityContext,
    trust: Option<Arc<TrustStore>>,
    cache: CacheConfig,
    health: HealthConfig,
    retry: RetryConfig,
    clock: Arc<dyn Clock>,
}

impl MeshBuilder {
    pub fn with_strategy(mut self, s: SelectionStrategy) -> Self {
        self.strategy = s;
        self
    }
    /// The context used by [`GlobalFunctionMesh::select`] (default: `Full`).
    pub fn with_security_context(mut self, ctx: SecurityContext) -> Self {
        self.context = ctx;
        self
    }
    pub fn with_trust_store(mut self, t: Arc<TrustStore>) -> Self {
        self.trust = Some(t);
        self
    }
    pub fn with_cache_config(mut self, c: CacheConfig) -> Self {
        self.cache = c;
        self
    }
    pub fn with_health_config(mut self, h: HealthConfig) -> Self {
        self.health = h;
        self
    }
    pub fn with_retry_config(mut self, r: RetryConfig) -> Self {
        self.retry = r;
        self
    }
    pub fn with_clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = c;
        self
    }
    pub fn with_marketplace(mut self, m: Arc<dyn LocalMarketplace>) -> Self {
        self.marketplace = Some(m);
        self
    }

    pub fn build(self) -> GlobalFunctionMesh {
        let cache = Arc::new(ResolutionCache::new(self.cache));
        let health = Arc::new(HealthTracker::new(self.health, self.clock.clone()));
        let weak = Arc::downgrade(&cache);
        health.on_change(move |id, _| {
            if let Some(cache) = weak.upgrade() {
                cache.expire_where(|_, e| e.is_some_and(|e| e.provider_ids().any(|p| p == id)));
            }
        });
        GlobalFunctionMesh {
            registry: self.registry,
            marketplace: self.marketplace,
            local: RwLock::new(HashMap::new()),
            has_local: AtomicBool::new(false),
            cache,
            inflight: Mutex::new(HashMap::new()),
            health,
            strategy: self.strategy,
            context: self.context,
            trust: self.trust,
            pins: VersionPins::new(),
            clock: self.clock,
            retry: RetryBudget::new(self.retry),
            upstream_lookups: AtomicU64::new(0),
        }
    }
}

impl GlobalFunctionMesh {
    pub fn builder(registry: Arc<dyn Registry>) -> MeshBuilder {
        MeshBuilder {
            registry,
            marketplace: None,
            strategy: SelectionStrategy::LowestCost,
            context: SecurityContext::full(),
            trust: None,
            cache: CacheConfig::default(),
            health: HealthConfig::default(),
            retry: RetryConfig::default(),
            clock: Arc::new(SystemClock::new()),
        }
    }

    pub fn registry(&self) -> &Arc<dyn Registry> {
        &self.registry
    }

    pub fn health(&self) -> &Arc<HealthTracker> {
        &self.health
    }

    pub fn cache(&self) -> &ResolutionCache {
        &self.cache
    }

    pub fn strategy(&self) -> &SelectionStrategy {
        &self.strategy
    }

    pub fn security_context(&self) -> &SecurityContext {
        &self.context
    }

    /// How many times the registry was asked (single-flight makes this one per cold name).
    pub fn upstream_lookups(&self) -> u64 {
        self.upstream_lookups.load(Ordering::Relaxed)
    }

    /// Registers an in-process capability; it wins over any registry record of that name.
    pub fn register_local(&self, func_name: &str, providers: Vec<ProviderRef>) {
        let entry = Arc::new(Resolution::local(func_name, providers, &self.health));
        self.local
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(func_name.to_string(), entry);
        self.has_local.store(true, Ordering::Release);
    }

    #[inline]
    fn local_get(&self, name: &str) -> Option<Arc<Resolution>> {
        if self.has_local.load(Ordering::Acquire)
            && let Some(e) = self
                .local
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(name)
        {
            return Some(e.clone());
        }
        self.marketplace.as_ref()?.get_capability(name)
    }

    /// The resolution if it can be had without I/O: local marketplace, fresh cache entry or
    /// cached "not found". `None` means the registry must be asked.
    #[inline]
    pub fn resolve_cached(&self, query: &str) -> Option<Result<Resolved>> {
        if self.has_local.load(Ordering::Relaxed) || self.marketplace.is_some() {
            let (name, _) = split_query(query);
            if let Some(entry) = self.local_get(name) {
                return Some(Ok(Resolved { entry, note: None }));
            }
        }
        match self.cache.get(query, self.clock.now()) {
            Lookup::Fresh(entry, note) => Some(Ok(Resolved { entry, note })),
            Lookup::NotFound => Some(Err(MeshError::NotFound(split_query(query).0.to_string()))),
            Lookup::Stale(..) | Lookup::Miss => None,
        }
    }

    /// Resolves `NAME[@REQ]` to its providers.
    pub async fn resolve(&self, query: &str) -> Result<Resolved> {
        if let Some(r) = self.resolve_cached(query) {
            return r;
        }
        self.resolve_slow(query).await
    }

    /// The document's `resolve_function`: just the providers.
    pub async fn resolve_function(&self, query: &str) -> Result<Vec<ProviderRef>> {
        Ok(self.resolve(query).await?.providers().cloned().collect())
    }

    async fn resolve_slow(&self, query: &str) -> Result<Resolved> {
        let key: Arc<str> = Arc::from(query);
        let flight = {
            let mut m = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            m.entry(key.clone()).or_default().clone()
        };
        let result = flight.get_or_init(|| self.fetch(key.clone())).await.clone();
        let mut m = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if m.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            m.remove(&key);
        }
        result
    }

    fn verify(&self, record: &FunctionRecord) -> Result<(), RejectReason> {
        if let Some(trust) = &self.trust {
            trust.verify(record, SystemTime::now())?;
        }
        self.pins.check(record)
    }

    async fn fetch(&self, key: Arc<str>) -> Result<Resolved> {
        let now = self.clock.now();
        let previous = match self.cache.get(&key, now) {
            Lookup::Fresh(entry, note) => return Ok(Resolved { entry, note }),
            Lookup::NotFound => {
                return Err(MeshError::NotFound(split_query(&key).0.to_string()));
            }
            Lookup::Stale(entry, _) => Some(entry),
            Lookup::Miss => None,
        };
        let q = FunctionQuery::parse(&key)?;
        self.upstream_lookups.fetch_add(1, Ordering::Relaxed);
        let looked = self.registry.lookup(q.name.as_str()).await;
        let registry_warnings = self.registry.take_warnings();
        let keep_previous = |e: MeshError, what: &str| -> Result<Resolved> {
            match &previous {
                Some(prev) => {
                    let note: Arc<str> = Arc::from(format!("{e}; {what}"));
                    let retry_in = self.cache.config().negative_ttl;
                    self.cache.insert_noted(
                        key.clone(),
                        prev.clone(),
                        now,
                        retry_in,
                        Some(note.clone()),
                    );
                    Ok(Resolved {
                        entry: prev.clone(),
                        note: Some(note),
                    })
                }
                None => Err(e),
            }
        };
        let record = match looked {
            Ok(r) => r,
            Err(MeshError::NotFound(n)) => {
                self.cache.insert_negative(key.clone(), now);
                return Err(MeshError::NotFound(n));
            }
            Err(e @ MeshError::Rejected { .. }) => {
                return keep_previous(e, "keeping the previously accepted record");
            }
            Err(e) if e.is_unavailable() => {
                return keep_previous(e, "serving a stale cached entry");
            }
            Err(e) => return Err(e),
        };
        if record.func_name != q.name {
            let e = MeshError::Rejected {
                name: q.name.to_string(),
                reason: RejectReason::WrongName {
                    asked: q.name.to_string(),
                    got: record.func_name.to_string(),
                },
            };
            return keep_previous(e, "keeping the previously accepted record");
        }
        if let Err(reason) = self.verify(&record) {
            let e = MeshError::Rejected {
                name: q.name.to_string(),
                reason,
            };
            return keep_previous(e, "keeping the previously accepted record");
        }
        self.pins.accept(&record);
        let record = Arc::new(record);
        let chosen = choose_version(&record, &q.version)?;
        let mut warnings = chosen.warnings;
        warnings.extend(registry_warnings);
        let entry = Arc::new(Resolution::from_record(
            key.clone(),
            record.clone(),
            chosen.version,
            chosen.providers,
            warnings,
            self.registry.describe(),
            &self.health,
        ));
        self.cache.insert(key, entry.clone(), now);
        Ok(Resolved { entry, note: None })
    }

    /// Picks a provider of an already resolved function for `ctx`.
    #[inline]
    pub fn select_resolved(&self, resolved: Resolved, ctx: &SecurityContext) -> Result<Selected> {
        self.select_resolved_with(resolved, ctx, &self.strategy)
    }

    pub fn select_resolved_with(
        &self,
        resolved: Resolved,
        ctx: &SecurityContext,
        strategy: &SelectionStrategy,
    ) -> Result<Selected> {
        resolved.entry.check_function(ctx)?;
        let index = select::select(
            &resolved.entry,
            ctx,
            strategy,
            &LazyNow::new(&*self.clock),
            self.health.config().max_ejected_share,
        )?;
        Ok(Selected { resolved, index })
    }

    /// The document's `select_provider`: resolve, apply security, pick by strategy.
    /// The cache is consulted when the future is created, so a cached call completes on its
    /// first poll without carrying the slow path's state around.
    #[inline]
    pub fn select_provider<'a>(
        &'a self,
        query: &'a str,
        ctx: &'a SecurityContext,
    ) -> impl Future<Output = Result<Selected>> + Send + 'a {
        let fast = self.resolve_cached(query);
        async move {
            let resolved = match fast {
                Some(r) => r?,
                None => self.resolve_slow(query).await?,
            };
            self.select_resolved(resolved, ctx)
        }
    }

    /// `select_provider` with the mesh's own security context.
    pub async fn select(&self, query: &str) -> Result<Selected> {
        self.select_provider(query, &self.context).await
    }

    /// Every provider ranked best first, with exclusions explained (for `--all`).
    pub async fn rank(
        &self,
        query: &str,
        ctx: &SecurityContext,
    ) -> Result<(Resolved, Vec<Ranked>)> {
        let resolved = self.resolve(query).await?;
        resolved.entry.check_function(ctx)?;
        let ranked = select::rank(
            &resolved.entry,
            ctx,
            &self.strategy,
            &LazyNow::new(&*self.clock),
            self.health.config().max_ejected_share,
        );
        Ok((resolved, ranked))
    }

    /// Calls `call` on the best provider, failing over to the next ones on error within the
    /// retry budget, and reports every outcome to the health tracker.
    pub async fn call_with_failover<T, E, F, Fut>(
        &self,
        query: &str,
        ctx: &SecurityContext,
        mut call: F,
    ) -> Result<T, FailoverError<E>>
    where
        F: FnMut(&ProviderRef) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let (resolved, ranked) = self.rank(query, ctx).await?;
        let order: Vec<usize> = ranked
            .iter()
            .filter(|r| r.excluded.is_none())
            .map(|r| r.index)
            .collect();
        if order.is_empty() {
            return Err(FailoverError::Mesh(
                select::select(
                    &resolved.entry,
                    ctx,
                    &self.strategy,
                    &LazyNow::new(&*self.clock),
                    self.health.config().max_ejected_share,
                )
                .err()
                .unwrap_or_else(|| MeshError::NoProvider {
                    name: resolved.entry.name.to_string(),
                    reason: "no eligible provider".into(),
                }),
            ));
        }
        self.retry.on_call();
        let mut attempts = Vec::new();
        let mut budget_exhausted = false;
        for (n, &i) in order.iter().enumerate() {
            if n as u32 >= self.retry.cfg.max_attempts.max(1) {
                break;
            }
            if n > 0 && !self.retry.try_retry() {
                budget_exhausted = true;
                break;
            }
            let slot = &resolved.entry.providers[i];
            slot.health.begin();
            let started = Instant::now();
            let outcome = call(&slot.provider).await;
            slot.health.end();
            match outcome {
                Ok(v) => {
                    self.health
                        .record_success(&slot.provider.id, started.elapsed());
                    return Ok(v);
                }
                Err(e) => {
                    self.health.record_failure(&slot.provider.id);
                    attempts.push((slot.provider.id.clone(), e));
                }
            }
        }
        Err(FailoverError::AllFailed {
            attempts,
            budget_exhausted,
        })
    }

    pub fn report_success(&self, provider_id: &str, latency: Duration) {
        self.health.record_success(provider_id, latency);
    }

    pub fn report_failure(&self, provider_id: &str) {
        self.health.record_failure(provider_id);
    }

    /// Forgets cached resolutions of `func_name` (every version query).
    pub fn invalidate(&self, func_name: &str) {
        self.cache
            .expire_where(|k, _| split_query(k).0 == func_name);
    }

    /// Registers a record with the registry and drops stale cache entries for it.
    pub async fn register_function(&self, record: FunctionRecord) -> Result<()> {
        let name = record.func_name.to_string();
        self.registry.register(record).await?;
        self.invalidate(&name);
        Ok(())
    }

    pub async fn update_function(&self, record: FunctionRecord) -> Result<()> {
        let name = record.func_name.to_string();
        self.registry.update(&name, record).await?;
        self.invalidate(&name);
        Ok(())
    }
}
