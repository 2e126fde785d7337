//! The `rtfs` crate: the embedding facade (re-exporting the runtime API) and the `rtfs`
//! command-line interface.
//!
//! ```
//! let mut rt = rtfs::Runtime::new();
//! rt.register_fn("double", 1, 1, |_, args| match args {
//!     [rtfs::Value::Int(n)] => Ok(rtfs::Value::Int(n * 2)),
//!     _ => Err(rtfs::RtError::type_error("double expects an int")),
//! });
//! let v = rt.eval_str("(double (+ 1 2))").unwrap();
//! assert_eq!(v, rtfs::Value::Int(6));
//! ```

mod bench;
pub mod chain_cli;
pub mod cli;
pub mod config;
pub mod config_cmd;
mod device_detect;
mod doc_cmd;
pub mod explain;
mod fmt_cmd;
pub mod format;
mod grants;
pub mod lsp;
pub mod mesh_cli;
mod repl;
mod rtfs_files;
pub mod session;
mod test_cmd;
mod watch;

pub use rtfs_ir::{Env, RtError, RtResult, Value};
pub use rtfs_runtime::{Error, Grants, JitStats, Runtime, Tier, jit_arena_high_water, value_as};

pub use cli::main as cli_main;
