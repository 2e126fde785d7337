//! Compile-time limits that keep hostile input from exhausting the stack.

/// Deepest syntax nesting the compiler recurses into (the reader enforces the same bound).
pub const MAX_NESTING: usize = 1000;
/// Macro expansions allowed for one form before we call it runaway recursion.
pub const MAX_EXPANSIONS: usize = 10_000;
