//! `rtfs-runtime`: the IR interpreter, the host capability registry and the embedding
//! `Runtime`. Architecture invariant: it runs IR produced by `rtfs-compiler`; it never
//! parses or lowers source itself. It is the host layer: HTTP providers and mesh lookups
//! run on the one I/O runtime of `rtfs-io-runtime` ([`IoRuntime`]), or on the host's own
//! handed to [`RuntimeBuilder::io_runtime`].

pub mod builder;
pub mod cancel;
mod capabilities;
pub mod delegate;
mod effects;
pub mod error;
pub mod explain;
pub mod grants;
mod host_builtins;
mod interp;
mod last_use;
pub mod models;
mod providers;
pub mod runtime;
pub mod state;

pub use builder::{RuntimeBuilder, SharedRuntime};
pub use error::Error;
pub use grants::Grants;
pub use models::ModelRegistry;
pub use rtfs_io_runtime::IoRuntime;
pub use rtfs_jit::{
    CacheConfig, DirStats, DiskCache, Stats as JitStats, arena_high_water as jit_arena_high_water,
    default_dir as default_cache_dir,
};
pub use runtime::{Runtime, value_as};
pub use state::{CapabilityFn, DEFAULT_MAX_DEPTH, MAX_MAX_DEPTH, Tier};
