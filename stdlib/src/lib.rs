//! `rtfs-stdlib`: the built-in functions of RTFS (pure ones usable from both tiers) and the
//! RTFS prelude macros. It knows values, not the compiler or the runtime.
//!
//! Every built-in is a plain `fn(&mut dyn Env, &[Value]) -> RtResult<Value>` listed once in
//! [`BUILTINS`] with its arity bounds and purity; [`lookup`] finds one by name. The numeric
//! tower in [`num`] is shared with the interpreter's hot path and the JIT helpers.
//!
//! Behaviour follows `docs/semantics.md` §8 (and its conformance corpus).
//!
//! Conventions: sequence functions return vectors (RTFS has no lazy sequences) and accept
//! vectors, lists, sets, maps (as `[k v]` entries), strings (as one-character strings) and
//! nil (as empty); string lengths and indexes count characters; errors are `RtError`s whose
//! message names the function and what it expected.

pub mod arith;
pub mod atoms;
pub mod bits;
pub mod char_index;
pub mod colls;
pub mod compare;
pub mod convert;
pub mod errors;
pub mod higher_order;
pub mod in_place;
pub mod io;
pub mod json;
pub mod num;
pub mod predicates;
pub mod regex;
pub mod registry;
pub mod seqs;
pub mod strings;
pub mod types;
pub mod util;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testenv;

pub use registry::{BUILTINS, lookup};
