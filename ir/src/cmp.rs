//! Equality and total ordering of values.
//!
//! Equality is Clojure's `=`: `1` and `1.0` differ, a list equals a vector with the same
//! elements, maps and sets compare by content whatever their representation. The total
//! order (used by sorted maps, sets and `sort`) ranks types first, then compares within
//! a type; numbers compare numerically across int/float with ints first on ties so the
//! order agrees with equality.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::value::Value;

/// Runs a comparison that recurses into nested collections on a stack that grows on
/// demand: values built at run time can nest far deeper than any native stack.
#[inline]
fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 16 * 1024 * 1024, f)
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Nil => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 2,
        Value::Str(_) => 3,
        Value::Keyword(_) => 4,
        Value::Symbol(_) => 5,
        Value::List(_) | Value::Vector(_) => 6,
        Value::Map(_) => 7,
        Value::Set(_) => 8,
        Value::Timestamp(_) => 9,
        Value::Uuid(_) => 10,
        Value::Resource(_) => 11,
        Value::Error(_) => 12,
        Value::Fn(_) | Value::Builtin(_) | Value::Native(_) => 13,
        Value::Atom(_) => 14,
    }
}

/// Compares an int with a float numerically; on a numeric tie the int sorts first.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    match (i as f64).partial_cmp(&f) {
        Some(Ordering::Equal) | None => Ordering::Less,
        Some(o) => o,
    }
}

fn fn_addr(v: &Value) -> usize {
    match v {
        Value::Fn(c) => Arc::as_ptr(c) as *const u8 as usize,
        Value::Builtin(b) => *b as *const _ as *const u8 as usize,
        Value::Native(n) => Arc::as_ptr(n) as *const u8 as usize,
        _ => 0,
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        let (ra, rb) = (rank(self), rank(other));
        if ra != rb {
            return ra.cmp(&rb);
        }
        match (self, other) {
            (Nil, Nil) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Int(a), Float(b)) => cmp_int_float(*a, *b),
            (Float(a), Int(b)) => cmp_int_float(*b, *a).reverse(),
            (Str(a), Str(b)) | (Keyword(a), Keyword(b)) | (Symbol(a), Symbol(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) | (Uuid(a), Uuid(b)) | (Resource(a), Resource(b)) => {
                a.cmp(b)
            }
            (List(a) | Vector(a), List(b) | Vector(b)) => deep(|| a.iter().cmp(b.iter())),
            (Map(a), Map(b)) => deep(|| a.cmp(b)),
            (Set(a), Set(b)) => deep(|| a.cmp(b)),
            (Error(a), Error(b)) => (&a.kind, &a.message).cmp(&(&b.kind, &b.message)),
            (Atom(a), Atom(b)) => (Arc::as_ptr(a) as usize).cmp(&(Arc::as_ptr(b) as usize)),
            _ => fn_addr(self).cmp(&fn_addr(other)),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (Int(_), Float(_)) | (Float(_), Int(_)) => false,
            (Str(a), Str(b)) | (Keyword(a), Keyword(b)) | (Symbol(a), Symbol(b)) => {
                Arc::ptr_eq(a, b) || a == b
            }
            (List(a) | Vector(a), List(b) | Vector(b)) => {
                Arc::ptr_eq(a, b) || (a.len() == b.len() && deep(|| a.iter().eq(b.iter())))
            }
            (Map(a), Map(b)) => Arc::ptr_eq(a, b) || deep(|| **a == **b),
            (Set(a), Set(b)) => Arc::ptr_eq(a, b) || deep(|| **a == **b),
            _ => self.cmp(other) == Ordering::Equal,
        }
    }
}

impl Eq for Value {}
