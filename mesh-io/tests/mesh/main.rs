//! Integration tests of the mesh: real git repositories in temp dirs, real HTTP servers on
//! 127.0.0.1 port 0, injected registry faults, concurrency.

mod common;

mod dir_registry;
mod federation;
mod git_registry;
mod http_registry;
mod records;
mod resolve;
mod select_health;
mod server_abuse;
mod signing;
