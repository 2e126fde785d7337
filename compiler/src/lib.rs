//! `rtfs-compiler`: reader (lexer + grammar), macro expansion, lowering to IR and the analysis passes. It produces IR; it never runs a program except to expand macros through a host-supplied evaluator.

pub mod diagnostic;
pub mod lexer;
pub mod reader;
lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_qualifications)]
    pub(crate) grammar
);
pub mod source;
pub mod syntax;
