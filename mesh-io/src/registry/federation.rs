//! Several registries as one, in priority order, with a local cache behind them.
//!
//! Order (as the design document proposes): HTTP(S) registries first, then git, then
//! directories — `open_registries` sorts them so — and the local record cache last, consulted
//! only when no other registry could be reached.
//!
//! **Which record wins** when registries disagree about a name ([`ConflictPolicy`]):
//! 1. Records that do not parse, are for another name, or fail the trust store (bad or
//!    missing signature where one is required, wrong key for the namespace, expired) are
//!    discarded, with a warning.
//! 2. `HighestRecordVersion` (default): the surviving record with the highest
//!    `record-version` wins — a stale mirror cannot shadow a newer publication, and with
//!    signatures nobody without the publisher key can forge a higher one. Ties go to the
//!    registry earliest in priority order, with a warning if the contents differ.
//!    `FirstByPriority`: the earliest registry that has a valid record wins outright.
//! 3. If no registry has a valid record: a rejected record makes the answer "rejected", else
//!    any "not found" makes it "not found", else every registry was unreachable and the local
//!    cache answers (with a warning), or the lookup fails as unavailable.
//!
//! Names themselves never conflict across namespaces: `acme.com/x/y` and `x/y` are different
//! names (see `name.rs`). Writes go to the first (primary) registry only.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{DirRegistry, Registry};
use crate::error::{MeshError, Result};
use crate::record::FunctionRecord;
use crate::signing::TrustStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictPolicy {
    #[default]
    HighestRecordVersion,
    FirstByPriority,
}

pub struct Federation {
    members: Vec<Arc<dyn Registry>>,
    cache: Option<Arc<DirRegistry>>,
    trust: Option<Arc<TrustStore>>,
    policy: ConflictPolicy,
    member_timeout: Duration,
    warnings: Mutex<Vec<String>>,
}

impl Default for Federation {
    fn default() -> Self {
        Self::new()
    }
}

type Outcome<T> = (usize, String, Result<T>);

impl Federation {
    pub fn new() -> Federation {
        Federation {
            members: Vec::new(),
            cache: None,
            trust: None,
            policy: ConflictPolicy::default(),
            member_timeout: Duration::from_secs(5),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// Adds a registry after those already added (lower priority).
    pub fn with_member(mut self, r: Arc<dyn Registry>) -> Self {
        self.members.push(r);
        self
    }

    pub fn with_local_cache(mut self, cache: Arc<DirRegistry>) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn with_trust(mut self, trust: Arc<TrustStore>) -> Self {
        self.trust = Some(trust);
        self
    }

    pub fn with_policy(mut self, policy: ConflictPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A member slower than this counts as unavailable for that request.
    pub fn with_member_timeout(mut self, t: Duration) -> Self {
        self.member_timeout = t;
        self
    }

    fn warn(&self, w: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(w);
    }

    async fn ask_all<T, F, Fut>(&self, f: F) -> Vec<Outcome<T>>
    where
        T: Send + 'static,
        F: Fn(Arc<dyn Registry>) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let mut set = tokio::task::JoinSet::new();
        for (i, m) in self.members.iter().enumerate() {
            let fut = f(m.clone());
            let desc = m.describe();
            let limit = self.member_timeout;
            set.spawn(async move {
                let r = match tokio::time::timeout(limit, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(MeshError::unavailable(
                        &desc,
                        format!("no answer within {limit:?}"),
                    )),
                };
                (i, desc, r)
            });
        }
        let mut out = Vec::with_capacity(self.members.len());
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(o) => out.push(o),
                Err(e) => self.warn(format!("registry task failed: {e}")),
            }
        }
        out.sort_by_key(|o| o.0);
        for m in &self.members {
            for w in m.take_warnings() {
                self.warn(w);
            }
        }
        out
    }

    fn admissible(&self, desc: &str, r: &FunctionRecord) -> Result<(), MeshError> {
        if let Some(trust) = &self.trust
            && let Err(reason) = trust.verify(r, SystemTime::now())
        {
            self.warn(format!("ignoring `{}` from {desc}: {reason}", r.func_name));
            return Err(MeshError::Rejected {
                name: r.func_name.to_string(),
                reason,
            });
        }
        Ok(())
    }

    /// Applies the conflict policy to valid candidates given in priority order.
    fn choose(
        &self,
        name: &str,
        candidates: Vec<(String, FunctionRecord)>,
    ) -> Option<FunctionRecord> {
        let mut best: Option<(String, FunctionRecord)> = None;
        for (desc, rec) in candidates {
            best = match best {
                None => Some((desc, rec)),
                Some((bdesc, brec)) => {
                    if rec.record_version == brec.record_version && rec != brec {
                        self.warn(format!(
                            "registries disagree on `{name}` at record-version {}: using {bdesc}, ignoring {desc}",
                            brec.record_version
                        ));
                    }
                    let newer = self.policy == ConflictPolicy::HighestRecordVersion
                        && rec.record_version > brec.record_version;
                    if newer {
                        Some((desc, rec))
                    } else {
                        Some((bdesc, brec))
                    }
                }
            };
        }
        best.map(|(_, r)| r)
    }

    fn remember(&self, r: &FunctionRecord) {
        if let Some(cache) = &self.cache
            && let Err(e) = cache.store(r)
        {
            self.warn(format!("local cache not updated: {e}"));
        }
    }
}

#[async_trait]
impl Registry for Federation {
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self.members.iter().map(|m| m.describe()).collect();
        if let Some(c) = &self.cache {
            parts.push(format!("cache:{}", c.describe()));
        }
        format!("federation[{}]", parts.join(", "))
    }

    fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    async fn lookup(&self, func_name: &str) -> Result<FunctionRecord> {
        let name = func_name.to_string();
        let outcomes = self
            .ask_all(|m| {
                let name = name.clone();
                async move { m.lookup(&name).await }
            })
            .await;
        let mut candidates = Vec::new();
        let mut rejected = None;
        let mut not_found = false;
        let mut down = Vec::new();
        for (_, desc, r) in outcomes {
            match r {
                Ok(rec) => match self.admissible(&desc, &rec) {
                    Ok(()) => candidates.push((desc, rec)),
                    Err(e) => {
                        rejected.get_or_insert(e);
                    }
                },
                Err(MeshError::NotFound(_)) => not_found = true,
                Err(e @ MeshError::Rejected { .. }) => {
                    self.warn(format!("{desc}: {e}"));
                    rejected.get_or_insert(e);
                }
                Err(e) => down.push(format!("{desc}: {e}")),
            }
        }
        if let Some(rec) = self.choose(func_name, candidates) {
            self.remember(&rec);
            return Ok(rec);
        }
        if let Some(e) = rejected {
            return Err(e);
        }
        if not_found {
            return Err(MeshError::NotFound(func_name.to_string()));
        }
        if let Some(cache) = &self.cache
            && let Ok(rec) = cache.lookup(func_name).await
            && self.admissible(&cache.describe(), &rec).is_ok()
        {
            self.warn(format!(
                "every registry is unreachable; `{func_name}` served from the local cache ({})",
                down.join("; ")
            ));
            return Ok(rec);
        }
        Err(MeshError::AllUnavailable(if down.is_empty() {
            "no registry configured".into()
        } else {
            down.join("; ")
        }))
    }

    async fn register(&self, record: FunctionRecord) -> Result<()> {
        let primary = self
            .members
            .first()
            .ok_or_else(|| MeshError::Config("federation has no registry".into()))?;
        primary.register(record).await
    }

    async fn update(&self, func_name: &str, record: FunctionRecord) -> Result<()> {
        let primary = self
            .members
            .first()
            .ok_or_else(|| MeshError::Config("federation has no registry".into()))?;
        primary.update(func_name, record).await
    }

    async fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        crate::security::compile_globs([pattern])?;
        let pat = pattern.to_string();
        let outcomes = self
            .ask_all(|m| {
                let pat = pat.clone();
                async move { m.list(&pat).await }
            })
            .await;
        let mut by_name: BTreeMap<String, Vec<(String, FunctionRecord)>> = BTreeMap::new();
        let mut answered = false;
        let mut down = Vec::new();
        for (_, desc, r) in outcomes {
            match r {
                Ok(records) => {
                    answered = true;
                    for rec in records {
                        if self.admissible(&desc, &rec).is_ok() {
                            by_name
                                .entry(rec.func_name.to_string())
                                .or_default()
                                .push((desc.clone(), rec));
                        }
                    }
                }
                Err(e) => down.push(format!("{desc}: {e}")),
            }
        }
        if !answered {
            if let Some(cache) = &self.cache {
                self.warn(format!(
                    "every registry is unreachable; listing the local cache ({})",
                    down.join("; ")
                ));
                return cache.list(pattern).await;
            }
            return Err(MeshError::AllUnavailable(down.join("; ")));
        }
        for d in down {
            self.warn(format!("listing is partial: {d}"));
        }
        Ok(by_name
            .into_iter()
            .filter_map(|(name, cands)| self.choose(&name, cands))
            .collect())
    }
}
