//! `rtfs-mesh-io`: the Global Function Mesh's I/O — the registries that live in directories,
//! git repositories and HTTP servers (client and server), their federation, opening them
//! from `--registry` strings, key and trust files on disk, and atomic record writes.
//!
//! The mesh's logic — records, names, versions, validation, signatures, resolution with its
//! cache, selection, health, the security context — is `rtfs-mesh`, which does no I/O; this
//! crate re-exports all of it, so a host that opens real registries needs only this crate.
//! Async work runs on whatever runtime drives the futures (the `rtfs` binary and the
//! runtime use the one of `rtfs-io-runtime`); blocking git work goes to that runtime's
//! blocking pool.
//!
//! Architecture invariant: host layer; core crates never depend on it. Nothing read from a
//! record file, a git repository or the network may panic.

pub mod fsutil;
pub mod keyfile;
pub mod registry;

pub use keyfile::{PublisherKeyFile, TrustStoreFile};
pub use registry::{
    ConflictPolicy, DirRegistry, Federation, GitRegistry, HttpRegistry, OpenOptions, RegistrySpec,
    open_registries,
};
pub use rtfs_mesh::*;
