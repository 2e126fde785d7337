//! `rtfs-ir`: the value model shared by every tier (`Value`, persistent collections, errors),
//! the IR data types that the compiler produces and the interpreter and JIT consume, and
//! printing. Architecture invariant: this crate does no I/O and depends on no other crate of
//! the workspace.

pub mod cmp;
mod deep_drop;
pub mod delegation;
pub mod error;
pub mod expr;
pub mod func;
pub mod ir_text;
pub mod map;
pub mod print;
pub mod set;
pub mod tier;
pub mod types;
pub mod validate;
pub mod value;
pub mod walk;

pub use delegation::{
    CallKind, CallTarget, ExecTarget, StaticDecision, StaticPolicy, TargetReason,
};
pub use error::{ErrorValue, RtError, RtResult, SrcLoc};
pub use func::{Builtin, Closure, Env, NativeFn, VARIADIC};
pub use map::Map;
pub use set::Set;
pub use value::{Seq, Value};
