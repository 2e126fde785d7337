//! `rtfs-compiler`: reader (lexer + grammar), macro expansion, lowering to IR and the analysis
//! passes. It produces IR; it never runs a program except through a host-supplied evaluator
//! (macro transformers and compile-time `defn`s). Architecture invariant: no I/O here.

pub mod catch_selectors;
pub mod compile;
pub mod diagnostic;
pub mod lexer;
pub mod reader;
lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_qualifications)]
    pub(crate) grammar
);
pub mod convert;
pub mod db;
pub mod delegation;
pub mod globals;
pub mod limits;
pub mod lower;
pub mod privacy;
pub mod purity;
pub mod quasi;
pub mod source;
pub mod syntax;
mod taint;

pub use compile::Compiler;
pub use lower::CompileHost;
