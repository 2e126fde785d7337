//! `rtfs-models`: model providers for the Delegation Engine — the things behind
//! `LocalModel(id)` and `RemoteModel(id)`.
//!
//! This crate owns the [`ModelProvider`] trait with its request, response and error
//! types, and three providers: [`RulesProvider`] (ordered function-glob + argument-regex
//! rules from TOML), [`ProcessProvider`] (a local child process speaking JSON lines, with
//! a timeout and restart after a crash) and [`OpenAiProvider`] (an OpenAI-compatible
//! chat-completions client with timeouts and retries with exponential back-off), and the
//! L3 cache's network embedder [`OpenAiEmbedder`]. Network clients run on the host layer's
//! one I/O runtime (`rtfs-io-runtime`), or on one the host hands them.
//!
//! Architecture invariant: host layer. Within the workspace it depends only on
//! `rtfs-delegation` (for the [`rtfs_delegation::Embedder`] trait) and `rtfs-io-runtime`,
//! and never sees RTFS values (arguments arrive as JSON); it does not decide *which*
//! provider to call — that is the Delegation Engine's job. No reply from a server or a
//! child process may panic it.
//!
//! ```
//! use rtfs_models::{ModelProvider, ModelRequest, RulesProvider};
//! use serde_json::json;
//!
//! let rules = RulesProvider::from_toml("sentiment-rules", r#"
//!     [[rule]]
//!     function = "sentiment/*"
//!     args = '(?i)(love|great)'
//!     text = "positive ($1)"
//!     value = "positive"
//!
//!     [[rule]]
//!     text = "neutral"
//! "#)?;
//! let r = rules.infer(&ModelRequest::new("sentiment/classify", vec![json!("I love it")]))?;
//! assert_eq!(r.text, "positive (love)");
//! assert_eq!(r.value, Some(json!("positive")));
//! # Ok::<(), rtfs_models::ModelError>(())
//! ```

pub mod embedder;
mod glob;
pub mod openai;
pub mod process;
pub mod provider;
pub mod rules;

pub use embedder::{OpenAiEmbedder, OpenAiEmbedderConfig};
pub use openai::{OpenAiConfig, OpenAiProvider};
pub use process::{ProcessConfig, ProcessProvider};
pub use provider::{ModelError, ModelProvider, ModelRequest, ModelResponse, Usage};
pub use rules::{RuleSpec, RulesProvider};
