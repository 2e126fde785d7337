//! The `rtfs` crate: the embedding facade re-exporting the runtime.
pub fn cli_main() -> i32 { 0 }
