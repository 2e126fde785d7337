//! From a validated [`Config`] to a wired [`Runtime`]: the delegation policy and its model
//! providers, the security context, the caller's tenant and device, and — when registries
//! are configured — a Global Function Mesh (federated registries, trust store, selection
//! strategy) that capability calls resolve through.

use std::sync::Arc;

use rtfs_delegation::{DeviceContext, UserContext};
use rtfs_mesh_io::registry::{OpenOptions, open_registries};
use rtfs_mesh_io::{GlobalFunctionMesh, SecurityContext, SelectionStrategy, TrustStore};
use rtfs_runtime::Runtime;

use crate::config::Config;

/// The security context the configuration describes.
pub fn security_context(cfg: &Config) -> Result<SecurityContext, String> {
    let mut b = SecurityContext::builder(cfg.level.value);
    for f in &cfg.allow.value {
        b = b.allow_function(f.clone());
    }
    for p in &cfg.allow_providers.value {
        b = b.allow_provider(p.clone());
    }
    for p in &cfg.permissions.value {
        b = b.grant_permission(p.clone());
    }
    b.build().map_err(|e| format!("security: {e}"))
}

/// The publisher keys records must be signed with; `None` when none are configured and
/// signatures are not required.
pub fn trust_store(cfg: &Config) -> Result<Option<TrustStore>, String> {
    if cfg.trusted_keys.value.is_empty() && !cfg.require_signed.value {
        return Ok(None);
    }
    let mut ts = TrustStore::new().require_signatures(cfg.require_signed.value);
    for k in &cfg.trusted_keys.value {
        ts = ts
            .trust_spec(&format!("{}={}", k.namespace, k.public_hex))
            .map_err(|e| format!("trusted key {}: {e}", k.file.display()))?;
    }
    Ok(Some(ts))
}

/// The mesh over the configured registries, or `None` when there are none.
pub fn mesh(cfg: &Config, ctx: &SecurityContext) -> Result<Option<GlobalFunctionMesh>, String> {
    if cfg.registries.value.is_empty() {
        return Ok(None);
    }
    let strategy =
        SelectionStrategy::parse(&cfg.strategy.value).map_err(|e| format!("mesh.strategy: {e}"))?;
    let trust = trust_store(cfg)?.map(Arc::new);
    let mut opts = OpenOptions::new(
        cfg.mesh_cache_dir
            .value
            .clone()
            .unwrap_or_else(OpenOptions::default_cache_dir),
    );
    opts.trust = trust.clone();
    let registry =
        open_registries(&cfg.registries.value, &opts).map_err(|e| format!("mesh: {e}"))?;
    let mut b = GlobalFunctionMesh::builder(registry)
        .with_strategy(strategy)
        .with_security_context(ctx.clone());
    if let Some(t) = trust {
        b = b.with_trust_store(t);
    }
    Ok(Some(b.build()))
}

/// A runtime wired as the configuration says.
pub fn runtime(cfg: &Config) -> Result<Runtime, String> {
    let ctx = security_context(cfg)?;
    let mut b = Runtime::builder().security(ctx.clone()).user(UserContext {
        permissions: cfg.permissions.value.iter().cloned().collect(),
        tenant: cfg.tenant.value.clone(),
    });
    b = b.device(DeviceContext {
        network: cfg.network.value,
        battery_percent: cfg.battery.value,
    });
    if let Some(p) = &cfg.policy {
        b = b.policy(p.value.clone());
    }
    if let Some(m) = mesh(cfg, &ctx)? {
        b = b.mesh(Arc::new(m));
    }
    b.build().map_err(|e| e.to_string())
}
