//! `rtfs-mesh`: the Global Function Mesh — "DNS for functions".
//!
//! This crate owns function records (their JSON and RTFS forms, validation, versions and
//! namespaces), the [`Registry`] trait with the write rules every backend shares and the
//! in-memory registry, resolution with its cache and single-flight lookups, provider
//! selection strategies, provider health, the security context checks (the context itself
//! is `rtfs-security`'s) and record signatures.
//!
//! Architecture invariant: the pure core of the mesh. Within the workspace it depends on
//! `rtfs-ir` (records are also RTFS values) and `rtfs-security` only, and on no network,
//! file-system, environment, process or async-runtime crate (scripts/check-layering.sh
//! enforces it): the registries that do I/O, key files and the `rtfs mesh` command line
//! live in `rtfs-mesh-io` and the `rtfs` binary. Nothing read from a record may panic.
//!
//! Entry points: build a mesh with [`GlobalFunctionMesh::builder`] over a registry (any
//! [`Registry`]; `rtfs_mesh_io::open_registries` opens real ones from strings), call
//! [`GlobalFunctionMesh::select_provider`] per call, report outcomes through
//! [`Selected::start`] / [`CallGuard`] or [`GlobalFunctionMesh::call_with_failover`].

pub mod cache;
pub mod clock;
pub mod error;
mod flight;
pub mod health;
pub mod json;
pub mod name;
pub mod record;
pub mod registry;
pub mod resolve;
pub mod security;
pub mod select;
pub mod signing;
pub mod validate;
pub mod value_codec;
pub mod version;

pub use cache::{CacheConfig, CacheTier};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{MeshError, RejectReason, Result};
pub use health::{HealthChange, HealthConfig, HealthTracker, ProviderHealth};
pub use name::{FunctionName, FunctionQuery};
pub use record::{
    FunctionRecord, ProviderRef, RECORD_TYPE, RecordSignature, SecurityRequirements, VersionEntry,
};
pub use registry::{MemoryRegistry, Registry};
pub use resolve::{
    CallGuard, FailoverError, GlobalFunctionMesh, LocalMarketplace, MeshBuilder, ProviderSlot,
    Resolution, ResolutionSource, Resolved, RetryConfig, Selected,
};
pub use security::{SecurityContext, SecurityLevel};
pub use select::{Candidate, CustomSelector, SelectionStrategy};
pub use signing::{PublisherKey, TrustStore, VersionPins};
pub use version::VersionSpec;
