//! Callable values: compiled closures, built-in functions and host (native) functions,
//! and the `Env` through which a built-in calls back into the evaluator.

use std::fmt;
use std::sync::Arc;

use crate::error::RtResult;
use crate::expr::Lambda;
use crate::value::Value;

/// What a built-in may ask of the evaluator that runs it.
pub trait Env {
    /// Calls any callable value (closure, builtin, native) with arguments.
    fn apply(&mut self, f: &Value, args: &[Value]) -> RtResult<Value>;
    /// Calls `f` from a call site whose target is `site` (`sensitive`: the site carries
    /// sensitive data): an evaluator with a Delegation Engine routes it as the
    /// interpreter would; without one, it is a plain [`Env::apply`].
    fn apply_at(
        &mut self,
        site: &crate::delegation::CallTarget,
        sensitive: bool,
        f: &Value,
        args: &[Value],
    ) -> RtResult<Value> {
        let _ = (site, sensitive);
        self.apply(f, args)
    }
    /// Writes program output (`print`, `println`); the host decides where it goes.
    fn write_out(&mut self, text: &str) -> RtResult<()>;
    /// Calls the capability `id` (no colon) exactly as `(call :id args…)` would: the
    /// built-ins that are aliases of effect capabilities (`get-env` for `:ccos.env/get`, …)
    /// go through here, so they meet the same security context and grants. An environment
    /// without a host has no capabilities.
    fn call_capability(&mut self, id: &str, args: &[Value]) -> RtResult<Value> {
        let _ = args;
        Err(crate::RtError::new(
            crate::error::kind::UNKNOWN_CAPABILITY,
            format!("unknown capability: :{id} (no host runtime here)"),
        ))
    }

    /// The value of the global named `name` (a `deftype`'s type data, a function), so a
    /// type check can resolve the names a type refers to. `None` if undefined or unknown.
    fn global_named(&mut self, name: &str) -> Option<Value> {
        let _ = name;
        None
    }

    /// [`Env::apply`] with two arguments the caller gives up (e.g. `reduce`'s accumulator):
    /// an evaluator that can pass them on without a copy keeps a unique collection unique,
    /// so the callee may update it in place.
    fn apply2(&mut self, f: &Value, a: Value, b: Value) -> RtResult<Value> {
        self.apply(f, &[a, b])
    }
}

pub type BuiltinFn = fn(&mut dyn Env, &[Value]) -> RtResult<Value>;

/// The variant of a built-in that may take its arguments out of the slice (leaving nil)
/// instead of cloning them. The evaluator calls it only with values nothing else will read,
/// so when such a collection is referenced once (`Arc` count 1) it is updated in place.
/// It must leave the first argument untouched when it returns an error it can foresee
/// (bad types, bad indexes).
pub type OwnedBuiltinFn = fn(&mut dyn Env, &mut [Value]) -> RtResult<Value>;

/// Marks a variadic upper bound.
pub const VARIADIC: u16 = u16::MAX;

pub struct Builtin {
    pub name: &'static str,
    pub min_args: u16,
    pub max_args: u16,
    pub func: BuiltinFn,
    /// Pure built-ins do no I/O and touch no shared state: JIT-able and cacheable.
    pub pure_fn: bool,
    /// Same result as `func`, reusing a uniquely referenced first argument (see
    /// [`OwnedBuiltinFn`]); `None` when the built-in has no such variant.
    pub owned: Option<OwnedBuiltinFn>,
}

impl Builtin {
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min_args as usize && (self.max_args == VARIADIC || n <= self.max_args as usize)
    }
    pub fn arity_text(&self) -> String {
        arity_text(self.min_args, self.max_args)
    }
}

pub fn arity_text(min: u16, max: u16) -> String {
    if max == VARIADIC {
        format!("at least {min}")
    } else if min == max {
        format!("{min}")
    } else {
        format!("{min} to {max}")
    }
}

pub type NativeFnBox = Box<dyn Fn(&mut dyn Env, &[Value]) -> RtResult<Value> + Send + Sync>;

/// A function supplied by the embedding host.
pub struct NativeFn {
    pub name: String,
    pub min_args: u16,
    pub max_args: u16,
    pub func: NativeFnBox,
}

/// A closure: a compiled lambda plus the values it captured, by slot, at creation.
pub struct Closure {
    pub lambda: Arc<Lambda>,
    pub captures: Box<[Value]>,
}

impl fmt::Debug for Closure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#<fn {}>",
            self.lambda.name.as_deref().map_or("anonymous", |n| n)
        )
    }
}
