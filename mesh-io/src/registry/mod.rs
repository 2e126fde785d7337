//! The registries that do I/O, beside the core's trait, layout rules and in-memory
//! registry (re-exported here so that one path reaches every backend).
//!
//! Backends: [`DirRegistry`] (a directory of sharded JSON files), [`GitRegistry`] (the same
//! layout in a git repository, cloned and synced with gix), [`HttpRegistry`] (a client of
//! `http_server`), and [`Federation`] (several of them in priority order with a conflict
//! policy); [`open_registries`] builds them from their strings.

pub use rtfs_mesh::registry::*;

pub mod dir;
pub mod federation;
pub mod git;
pub mod http_client;
pub mod http_server;
pub mod open;

pub use dir::DirRegistry;
pub use federation::{ConflictPolicy, Federation};
pub use git::GitRegistry;
pub use http_client::HttpRegistry;
pub use open::{OpenOptions, RegistrySpec, open_one, open_registries};
