//! `rtfs-runtime`: the IR interpreter, the host capability registry and the embedding
//! `Runtime`. Architecture invariant: it runs IR produced by `rtfs-compiler`; it never
//! parses or lowers source itself.

pub mod builder;
mod capabilities;
pub mod delegate;
pub mod error;
pub mod explain;
mod host_builtins;
mod interp;
mod last_use;
pub mod models;
mod providers;
pub mod runtime;
pub mod state;

pub use builder::{RuntimeBuilder, SharedRuntime};
pub use error::Error;
pub use models::ModelRegistry;
pub use rtfs_jit::{
    CacheConfig, DirStats, DiskCache, Stats as JitStats, arena_high_water as jit_arena_high_water,
    default_dir as default_cache_dir,
};
pub use runtime::{Runtime, value_as};
pub use state::{CapabilityFn, Tier};
