//! `rtfs-mesh`: the Global Function Mesh — "DNS for functions".
//!
//! This crate owns function records (their JSON and RTFS forms, validation, versions and
//! namespaces), the registries that store them (directory, git, HTTP client and server,
//! federation), resolution with its cache, provider selection strategies, provider health,
//! the security context checks, record signatures, and the `rtfs mesh` command line.
//!
//! Architecture invariant: it depends on `rtfs-ir` only within the workspace (records are
//! also RTFS values); it knows nothing of the compiler or the runtime, which reach it through
//! [`GlobalFunctionMesh`] and [`cli::run_with_reader`]. Nothing read from a record, a config
//! file or the network may panic.
//!
//! Entry points: build a mesh with [`GlobalFunctionMesh::builder`] over a registry from
//! [`registry::open_registries`] (or any [`Registry`]), call
//! [`GlobalFunctionMesh::select_provider`] per call, report outcomes through
//! [`Selected::start`] / [`CallGuard`] or [`GlobalFunctionMesh::call_with_failover`].

pub mod cache;
pub mod cli;
pub mod clock;
pub mod error;
pub mod fsutil;
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
pub use registry::{
    ConflictPolicy, DirRegistry, Federation, GitRegistry, HttpRegistry, MemoryRegistry,
    OpenOptions, Registry, RegistrySpec,
};
pub use resolve::{
    CallGuard, FailoverError, GlobalFunctionMesh, LocalMarketplace, MeshBuilder, ProviderSlot,
    Resolution, ResolutionSource, Resolved, RetryConfig, Selected,
};
pub use security::{SecurityContext, SecurityLevel};
pub use select::{Candidate, CustomSelector, SelectionStrategy};
pub use signing::{PublisherKey, TrustStore, VersionPins};
pub use version::VersionSpec;
