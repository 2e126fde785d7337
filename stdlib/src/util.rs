//! Helpers shared by the built-in modules: argument checking, conversions between
//! collections and sequences, calling function values, and resource limits.

use std::sync::Arc;

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Seq, VARIADIC, Value};

/// The largest collection or string a single built-in call may build (elements or chars),
/// so that `(range 1e15)` fails cleanly instead of exhausting memory.
pub const MAX_BUILD: usize = 10_000_000;

/// Nesting depth beyond which recursive built-ins (`to-json`, `hash`, ...) give up.
pub const MAX_DEPTH: usize = 500;

/// Binds a fixed number of arguments by slice pattern, or returns an arity error.
macro_rules! args {
    ($name:expr, $args:expr, [$($p:pat),*]) => {
        let [$($p),*] = $args else {
            return Err($crate::util::arity($name, $args.len()));
        };
    };
}
pub(crate) use args;

/// An arity error for `name`, using the bounds recorded in the built-in table.
pub fn arity(name: &str, got: usize) -> RtError {
    let expected = crate::registry::lookup(name)
        .map(|b| b.arity_text())
        .unwrap_or_else(|| "a different number".to_string());
    RtError::arity(name, &expected, got)
}

pub fn type_err(name: &str, what: &str, got: &Value) -> RtError {
    RtError::expected(name, what, got)
}

pub fn limit_err(name: &str) -> RtError {
    RtError::new(
        kind::LIMIT,
        format!("{name}: result would exceed {MAX_BUILD} elements"),
    )
}

pub fn depth_err(name: &str) -> RtError {
    RtError::new(
        kind::LIMIT,
        format!("{name}: value nested deeper than {MAX_DEPTH} levels"),
    )
}

pub fn check_size(name: &str, n: usize) -> RtResult<()> {
    if n > MAX_BUILD {
        Err(limit_err(name))
    } else {
        Ok(())
    }
}

#[inline]
pub fn int(name: &str, v: &Value) -> RtResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(type_err(name, "an integer", v)),
    }
}

/// A non-negative count (negative counts clamp to 0, as Clojure's `take`/`drop` do).
pub fn count_arg(name: &str, v: &Value) -> RtResult<usize> {
    match v {
        Value::Int(i) => Ok(usize::try_from(*i).unwrap_or(if *i < 0 { 0 } else { usize::MAX })),
        Value::Float(f) if f.is_finite() => Ok(if *f <= 0.0 { 0 } else { *f as usize }),
        _ => Err(type_err(name, "an integer", v)),
    }
}

#[inline]
pub fn string<'a>(name: &str, v: &'a Value) -> RtResult<&'a str> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(type_err(name, "a string", v)),
    }
}

pub fn vector(items: Seq) -> Value {
    Value::Vector(Arc::new(items))
}

pub fn list(items: Seq) -> Value {
    Value::List(Arc::new(items))
}

pub fn empty_vector() -> Value {
    Value::Vector(Arc::new(Seq::new()))
}

pub fn pair(a: Value, b: Value) -> Value {
    let mut s = Seq::new();
    s.push_back(a);
    s.push_back(b);
    vector(s)
}

pub fn str_val(s: impl Into<String>) -> Value {
    Value::str(s)
}

pub fn char_val(c: char) -> Value {
    let mut buf = [0u8; 4];
    Value::str(&*c.encode_utf8(&mut buf))
}

/// The elements of a collection, borrowed when it already is a sequence.
pub enum Items<'a> {
    Borrowed(&'a Seq),
    Owned(Seq),
}

impl Items<'_> {
    #[inline]
    pub fn seq(&self) -> &Seq {
        match self {
            Items::Borrowed(s) => s,
            Items::Owned(s) => s,
        }
    }
    pub fn into_seq(self) -> Seq {
        match self {
            Items::Borrowed(s) => s.clone(),
            Items::Owned(s) => s,
        }
    }
}

/// Sequence view of a collection: vectors and lists as they are, maps as `[k v]` entries,
/// sets as their items, strings as one-character strings, nil as empty.
pub fn items<'a>(name: &str, v: &'a Value) -> RtResult<Items<'a>> {
    match v {
        Value::Vector(s) | Value::List(s) => Ok(Items::Borrowed(s)),
        Value::Nil => Ok(Items::Owned(Seq::new())),
        Value::Map(m) => Ok(Items::Owned(
            m.iter().map(|(k, v)| pair(k.clone(), v.clone())).collect(),
        )),
        Value::Set(s) => Ok(Items::Owned(s.iter().cloned().collect())),
        Value::Str(s) => Ok(Items::Owned(s.chars().map(char_val).collect())),
        _ => Err(type_err(name, "a collection", v)),
    }
}

/// Whether `v` can be viewed as a sequence by [`items`].
pub fn is_seqable(v: &Value) -> bool {
    matches!(
        v,
        Value::Vector(_)
            | Value::List(_)
            | Value::Nil
            | Value::Map(_)
            | Value::Set(_)
            | Value::Str(_)
    )
}

/// `s[start..end]`, clamped to the sequence bounds.
pub fn sub_seq(s: &Seq, start: usize, end: usize) -> Seq {
    let end = end.min(s.len());
    if start >= end {
        return Seq::new();
    }
    let mut v = s.clone();
    v.truncate(end);
    v.skip(start)
}

/// Calls a function value. Built-ins are called directly (after an arity check);
/// keywords, maps and sets act as lookup functions; anything else goes to the evaluator.
pub fn call(env: &mut dyn Env, f: &Value, args: &[Value]) -> RtResult<Value> {
    match f {
        Value::Builtin(b) => {
            if !b.accepts(args.len()) {
                return Err(RtError::arity(b.name, &b.arity_text(), args.len()));
            }
            (b.func)(env, args)
        }
        Value::Keyword(_) => match args {
            [m] => Ok(crate::colls::get_key(m, f).unwrap_or(Value::Nil)),
            [m, d] => Ok(crate::colls::get_key(m, f).unwrap_or_else(|| d.clone())),
            _ => Err(RtError::arity(&f.pr_str(), "1 to 2", args.len())),
        },
        Value::Map(_) | Value::Set(_) => match args {
            [k] => Ok(crate::colls::get_key(f, k).unwrap_or(Value::Nil)),
            [k, d] => Ok(crate::colls::get_key(f, k).unwrap_or_else(|| d.clone())),
            _ => Err(RtError::arity(f.type_name(), "1 to 2", args.len())),
        },
        _ => env.apply(f, args),
    }
}

#[inline]
pub fn call1(env: &mut dyn Env, f: &Value, a: &Value) -> RtResult<Value> {
    call(env, f, std::slice::from_ref(a))
}

/// Calls `f` with two arguments the caller gives up (a closure receives them without a
/// copy, so e.g. `reduce`'s accumulator can be updated in place).
pub fn call2(env: &mut dyn Env, f: &Value, a: Value, b: Value) -> RtResult<Value> {
    match f {
        Value::Fn(_) => env.apply2(f, a, b),
        _ => call(env, f, &[a, b]),
    }
}

/// Whether `f` can be called (functions, keywords, maps, sets, vectors). Built-ins do not
/// pre-check their function arguments: a non-callable one fails with `not-callable` when
/// first applied (so `(map 5 [])` is `[]`); this is only for argument-shape dispatch.
pub fn is_callable(f: &Value) -> bool {
    matches!(
        f,
        Value::Fn(_)
            | Value::Builtin(_)
            | Value::Native(_)
            | Value::Keyword(_)
            | Value::Map(_)
            | Value::Set(_)
            | Value::Vector(_)
    )
}

/// Bounds check for index arguments: `Some(i)` when `0 <= i < len`.
pub fn index_in(i: i64, len: usize) -> Option<usize> {
    usize::try_from(i).ok().filter(|&u| u < len)
}

pub fn index_err(name: &str, i: i64, len: usize) -> RtError {
    RtError::new(
        kind::INDEX,
        format!("{name}: index {i} out of bounds for length {len}"),
    )
}

/// Builtins table marker re-exported for arity checks in modules.
pub const V: u16 = VARIADIC;
