//! `rtfs-security`: the caller's security context ([`SecurityContext`], [`SecurityLevel`])
//! and what a function requires of it ([`SecurityRequirements`]).
//!
//! Both the Delegation Engine (hard filters) and the Global Function Mesh (resolution) check
//! calls against the same context; this crate is the one place the type lives, so neither
//! depends on the other for it.
//!
//! Architecture invariant: pure data and decisions; it depends on no workspace crate and on
//! no I/O crate (scripts/check-layering.sh enforces it). A pattern that does not compile is
//! a [`SecurityError::Config`], never a panic.

mod context;
mod error;
mod globs;
mod level;
mod requirements;

pub use context::{SecurityContext, SecurityContextBuilder};
pub use error::{Result, SecurityError};
pub use globs::compile_globs;
pub use level::SecurityLevel;
pub use requirements::SecurityRequirements;
