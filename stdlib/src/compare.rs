//! Equality, ordering and hashing: `= not= != == < > <= >= compare not identical? hash`.
//!
//! `=` is Clojure equality (`(= 1 1.0)` is false, a list equals a vector with the same
//! elements); `==` and the ordering comparisons are numeric and reject non-numbers;
//! `compare` is Clojure's (comparable types only), see [`compare_values`].

use std::cmp::Ordering;
use std::sync::Arc;

use rtfs_ir::{Env, RtResult, Value};

use crate::num;
use crate::util::{MAX_DEPTH, args, depth_err};

pub fn eq(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [a, b] => Ok(Value::Bool(a == b)),
        [first, rest @ ..] => Ok(Value::Bool(rest.iter().all(|v| v == first))),
        [] => Ok(Value::Bool(true)),
    }
}

pub fn not_eq(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Bool(!eq(env, args)?.truthy()))
}

/// Applies a numeric comparison pairwise: `(< 1 2 3)` is `(and (< 1 2) (< 2 3))`.
fn chain(name: &str, args: &[Value], op: fn(&Value, &Value) -> RtResult<Value>) -> RtResult<Value> {
    match args {
        [a, b] => op(a, b),
        [a] => {
            if num::is_number(a) {
                Ok(Value::Bool(true))
            } else {
                Err(crate::util::type_err(name, "a number", a))
            }
        }
        [] => Err(crate::util::arity(name, 0)),
        _ => {
            let mut result = true;
            for w in args.windows(2) {
                // Keep type-checking the remaining arguments even once false.
                if !op(&w[0], &w[1])?.truthy() {
                    result = false;
                }
            }
            Ok(Value::Bool(result))
        }
    }
}

pub fn lt(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    chain("<", args, num::lt)
}
pub fn le(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    chain("<=", args, num::le)
}
pub fn gt(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    chain(">", args, num::gt)
}
pub fn ge(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    chain(">=", args, num::ge)
}
pub fn num_eq(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    chain("==", args, num::num_eq)
}

/// Clojure's `compare`: nil sorts below everything; numbers compare numerically (int and
/// float mixed); strings, keywords, symbols and booleans compare within their own type;
/// vectors and lists by length, then element by element. Any other pairing is a type error.
/// This is also the default order of `sort` and `sort-by`.
pub fn compare_values(name: &str, a: &Value, b: &Value) -> RtResult<Ordering> {
    compare_at(name, a, b, 0)
}

fn compare_at(name: &str, a: &Value, b: &Value, depth: usize) -> RtResult<Ordering> {
    use Value::*;
    if depth > MAX_DEPTH {
        return Err(depth_err(name));
    }
    Ok(match (a, b) {
        (Nil, Nil) => Ordering::Equal,
        (Nil, _) => Ordering::Less,
        (_, Nil) => Ordering::Greater,
        (Int(x), Int(y)) => x.cmp(y),
        (Float(x), Float(y)) => x.total_cmp(y),
        (Int(x), Float(y)) => num::cmp_int_float(*x, *y).unwrap_or_else(|| a.cmp(b)),
        (Float(x), Int(y)) => num::cmp_int_float(*y, *x)
            .map(Ordering::reverse)
            .unwrap_or_else(|| a.cmp(b)),
        (Str(x), Str(y)) | (Keyword(x), Keyword(y)) | (Symbol(x), Symbol(y)) => x.cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (List(x) | Vector(x), List(y) | Vector(y)) => {
            let by_len = x.len().cmp(&y.len());
            if by_len != Ordering::Equal {
                return Ok(by_len);
            }
            for (p, q) in x.iter().zip(y.iter()) {
                let o = compare_at(name, p, q, depth + 1)?;
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            Ordering::Equal
        }
        _ => {
            return Err(rtfs_ir::RtError::type_error(format!(
                "{name} cannot compare {} with {}",
                a.type_name(),
                b.type_name()
            )));
        }
    })
}

/// `(compare a b)`: -1, 0 or 1 (see [`compare_values`]).
pub fn compare(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("compare", args, [a, b]);
    Ok(Value::Int(match compare_values("compare", a, b)? {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

pub fn not(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("not", args, [a]);
    Ok(Value::Bool(!a.truthy()))
}

/// `(identical? a b)`: the same object (pointer equality for heap values).
pub fn identical_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("identical?", args, [a, b]);
    use Value::*;
    let same = match (a, b) {
        (Nil, Nil) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => x.to_bits() == y.to_bits(),
        (Str(x), Str(y)) | (Keyword(x), Keyword(y)) | (Symbol(x), Symbol(y)) => {
            Arc::ptr_eq(x, y) || (matches!(a, Keyword(_)) && x == y)
        }
        (List(x), List(y)) | (Vector(x), Vector(y)) => Arc::ptr_eq(x, y),
        (Map(x), Map(y)) => Arc::ptr_eq(x, y),
        (Set(x), Set(y)) => Arc::ptr_eq(x, y),
        (Atom(x), Atom(y)) => Arc::ptr_eq(x, y),
        (Error(x), Error(y)) => Arc::ptr_eq(x, y),
        (Builtin(x), Builtin(y)) => std::ptr::eq(*x, *y),
        (Fn(x), Fn(y)) => Arc::ptr_eq(x, y),
        (Native(x), Native(y)) => Arc::ptr_eq(x, y),
        _ => false,
    };
    Ok(Value::Bool(same))
}

/// `(hash v)`: a deterministic 64-bit hash consistent with `=` (equal values hash equally:
/// lists and vectors alike, maps and sets independently of order).
pub fn hash(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("hash", args, [a]);
    Ok(Value::Int(hash_value(a, 0)? as i64))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finalizer
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn hash_value(v: &Value, depth: usize) -> RtResult<u64> {
    if depth > MAX_DEPTH {
        return Err(depth_err("hash"));
    }
    let d = depth + 1;
    Ok(match v {
        Value::Nil => mix(1),
        Value::Bool(b) => mix(2 + u64::from(*b)),
        Value::Int(i) => mix((*i as u64) ^ 0x1000),
        Value::Float(f) => {
            let bits = if *f == 0.0 { 0 } else { f.to_bits() };
            mix(bits ^ 0x2000_0000)
        }
        Value::Str(s) => fnv(FNV_OFFSET ^ 3, s.as_bytes()),
        Value::Keyword(s) => fnv(FNV_OFFSET ^ 4, s.as_bytes()),
        Value::Symbol(s) => fnv(FNV_OFFSET ^ 5, s.as_bytes()),
        Value::Timestamp(s) => fnv(FNV_OFFSET ^ 6, s.as_bytes()),
        Value::Uuid(s) => fnv(FNV_OFFSET ^ 7, s.as_bytes()),
        Value::Resource(s) => fnv(FNV_OFFSET ^ 8, s.as_bytes()),
        Value::List(items) | Value::Vector(items) => {
            let mut h: u64 = 9;
            for x in items.iter() {
                h = mix(h.wrapping_mul(31).wrapping_add(hash_value(x, d)?));
            }
            h
        }
        Value::Map(m) => {
            let mut h: u64 = 10;
            for (k, x) in m.iter() {
                let e = mix(hash_value(k, d)?.wrapping_mul(31) ^ hash_value(x, d)?);
                h = h.wrapping_add(e);
            }
            mix(h)
        }
        Value::Set(s) => {
            let mut h: u64 = 11;
            for x in s.iter() {
                h = h.wrapping_add(hash_value(x, d)?);
            }
            mix(h)
        }
        Value::Error(e) => fnv(
            fnv(FNV_OFFSET ^ 12, e.kind.as_bytes()),
            e.message.as_bytes(),
        ),
        Value::Atom(a) => mix(Arc::as_ptr(a) as *const u8 as usize as u64 ^ 13),
        Value::Builtin(b) => fnv(FNV_OFFSET ^ 14, b.name.as_bytes()),
        Value::Fn(c) => mix(Arc::as_ptr(c) as *const u8 as usize as u64 ^ 15),
        Value::Native(n) => mix(Arc::as_ptr(n) as *const u8 as usize as u64 ^ 16),
    })
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    #[test]
    fn equality() {
        assert_eq!(call("=", &[i(1), i(1), i(1)]), b(true));
        assert_eq!(call("=", &[i(1), f(1.0)]), b(false));
        assert_eq!(
            call("=", &[ints(&[1, 2]), Value::list([i(1), i(2)])]),
            b(true)
        );
        assert_eq!(call("not=", &[i(1), i(2)]), b(true));
        assert_eq!(call("!=", &[s("a"), s("a")]), b(false));
        assert_eq!(call("==", &[i(1), f(1.0)]), b(true));
    }

    #[test]
    fn ordering() {
        assert_eq!(call("<", &[i(1), i(2), i(3)]), b(true));
        assert_eq!(call("<", &[i(1), i(3), i(2)]), b(false));
        assert_eq!(call(">=", &[i(3), i(3), f(1.0)]), b(true));
        assert_eq!(call("<", &[i(1)]), b(true));
        assert_eq!(
            err_msg("<", &[i(1), s("a")]),
            "< expects a number, got string"
        );
        assert_eq!(call("<", &[s("apple"), s("banana"), s("cherry")]), b(true));
        assert_eq!(err_kind(">", &[i(3), i(1), Value::Nil]), "type-error");
        assert_eq!(call("compare", &[i(1), i(2)]), i(-1));
        assert_eq!(call("compare", &[s("b"), s("a")]), i(1));
        assert_eq!(call("compare", &[Value::Nil, i(1)]), i(-1));
        assert_eq!(call("compare", &[i(1), f(0.5)]), i(1));
        assert_eq!(call("compare", &[ints(&[9]), ints(&[1, 2])]), i(-1));
        assert_eq!(err_kind("compare", &[i(1), s("a")]), "type-error");
        assert_eq!(call("not", &[Value::Nil]), b(true));
        assert_eq!(call("not", &[i(0)]), b(false));
    }

    #[test]
    fn hashing_agrees_with_equality() {
        let l = Value::list([i(1), s("x")]);
        let v = v([i(1), s("x")]);
        assert_eq!(call("hash", &[l]), call("hash", &[v]));
        let m1 = m(&[(kw("a"), i(1)), (kw("b"), i(2))]);
        let m2 = m(&[(kw("b"), i(2)), (kw("a"), i(1))]);
        assert_eq!(call("hash", &[m1]), call("hash", &[m2]));
        assert_ne!(call("hash", &[i(1)]), call("hash", &[f(1.0)]));
        assert_eq!(call("hash", &[f(0.0)]), call("hash", &[f(-0.0)]));
    }
}
