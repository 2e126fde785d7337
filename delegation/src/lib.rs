//! `rtfs-delegation`: the Delegation Engine — where a delegatable call runs.
//!
//! This crate owns the call context ([`CallContext`]: function symbol, capability id,
//! candidates, user and device context, argument sensitivity), the [`DelegationEngine`]
//! trait and its engines (privacy-first, cost-optimized, performance, static routing table,
//! ordered composition), the hard filters applied before any ranking (privacy, security
//! context, budget), TOML policies ([`Policy`]) with validation, the run budget, the L1
//! decision cache, the L2 inference cache and the L3 semantic cache with its embedders.
//!
//! Architecture invariant: it depends on `rtfs-ir` and `rtfs-security` only and on no I/O
//! crate (scripts/check-layering.sh enforces it); it decides, it never invokes a provider,
//! a model or an embedder that does I/O (the host layer does: the runtime re-checks budget
//! and privacy on every fallback hop, and `rtfs-models` holds the network embedder behind
//! the [`Embedder`] trait). Nothing in a policy file may panic: bad input is a
//! [`PolicyError`] naming the key.

pub mod budget;
pub mod clock;
pub mod context;
pub mod embed;
pub mod engines;
pub mod filters;
pub mod l1;
pub mod l2;
pub mod l3;
pub mod policy;

pub use budget::Budget;
pub use context::{CallContext, Candidate, DeviceContext, NetworkStatus, UserContext};
pub use embed::{EmbedError, Embedder, HashedNgramEmbedder};
pub use engines::{
    CompositeEngine, CostOptimizedEngine, Decision, DelegationEngine, PerformanceEngine,
    PrivacyFirstEngine, StaticEngine,
};
pub use l1::{DecisionCache, Generations};
pub use l2::{InferenceCache, InferenceKey};
pub use l3::{L3Error, L3Hit, L3Metrics, SemanticCache, SemanticCacheConfig};
pub use policy::{Policy, PolicyError};
pub use rtfs_ir::ExecTarget;
