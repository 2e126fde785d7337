//! The numeric tower: i64 integers that never wrap (overflow is an `integer-overflow`
//! error) and IEEE f64 floats. Any operation with a float operand yields a float.
//!
//! The ordering comparisons also accept two strings (lexicographic by code point); any
//! other mix is a type error.
//!
//! These binary operations are what the interpreter's hot path and the JIT helpers call, so
//! each keeps the int/int case in a small `#[inline]` function and moves the rest to a
//! `#[cold]` slow path.

use rtfs_ir::error::kind;
use rtfs_ir::{RtError, RtResult, Value};

#[cold]
pub fn overflow(op: &str) -> RtError {
    RtError::new(kind::OVERFLOW, format!("integer overflow in {op}"))
}

#[cold]
pub fn div_zero(op: &str) -> RtError {
    RtError::new(kind::DIV_ZERO, format!("division by zero in {op}"))
}

#[cold]
fn not_number(op: &str, v: &Value) -> RtError {
    RtError::expected(op, "a number", v)
}

/// A number as f64, or a type error naming `op`.
#[inline]
pub fn to_f64(op: &str, v: &Value) -> RtResult<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        _ => Err(not_number(op, v)),
    }
}

/// Both operands as floats (at least one is known not to be an int/int pair).
#[inline]
fn floats(op: &str, a: &Value, b: &Value) -> RtResult<(f64, f64)> {
    Ok((to_f64(op, a)?, to_f64(op, b)?))
}

#[inline]
pub fn add(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return match x.checked_add(*y) {
            Some(r) => Ok(Value::Int(r)),
            None => Err(overflow("+")),
        };
    }
    add_slow(a, b)
}

#[cold]
fn add_slow(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = floats("+", a, b)?;
    Ok(Value::Float(x + y))
}

#[inline]
pub fn sub(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return match x.checked_sub(*y) {
            Some(r) => Ok(Value::Int(r)),
            None => Err(overflow("-")),
        };
    }
    sub_slow(a, b)
}

#[cold]
fn sub_slow(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = floats("-", a, b)?;
    Ok(Value::Float(x - y))
}

#[inline]
pub fn mul(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return match x.checked_mul(*y) {
            Some(r) => Ok(Value::Int(r)),
            None => Err(overflow("*")),
        };
    }
    mul_slow(a, b)
}

#[cold]
fn mul_slow(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = floats("*", a, b)?;
    Ok(Value::Float(x * y))
}

/// `/`: an exact int/int quotient stays an int (`(/ 6 2)` is 3), an inexact one becomes a
/// float (`(/ 5 2)` is 2.5). Int division by zero is an error; float division follows IEEE.
#[inline]
pub fn div(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return div_int(*x, *y);
    }
    div_slow(a, b)
}

#[inline]
fn div_int(x: i64, y: i64) -> RtResult<Value> {
    if y == 0 {
        return Err(div_zero("/"));
    }
    if x.wrapping_rem(y) == 0 {
        match x.checked_div(y) {
            Some(q) => Ok(Value::Int(q)),
            None => Err(overflow("/")),
        }
    } else {
        Ok(Value::Float(x as f64 / y as f64))
    }
}

#[cold]
fn div_slow(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = floats("/", a, b)?;
    Ok(Value::Float(x / y))
}

/// `rem`: remainder of truncating division; the sign follows the dividend.
#[inline]
pub fn rem(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if *y == 0 {
            return Err(div_zero("rem"));
        }
        // i64::MIN rem -1 is mathematically 0; wrapping_rem gives exactly that.
        return Ok(Value::Int(x.wrapping_rem(*y)));
    }
    rem_slow(a, b)
}

#[cold]
fn rem_slow(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = floats("rem", a, b)?;
    Ok(Value::Float(x % y))
}

/// `mod`: remainder of floored division; the sign follows the divisor (Clojure).
#[inline]
pub fn modulo(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if *y == 0 {
            return Err(div_zero("mod"));
        }
        let m = x.wrapping_rem(*y);
        // m + y cannot overflow: m and y have opposite signs here.
        let r = if m != 0 && ((m < 0) != (*y < 0)) {
            m + y
        } else {
            m
        };
        return Ok(Value::Int(r));
    }
    modulo_slow(a, b)
}

#[cold]
fn modulo_slow(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = floats("mod", a, b)?;
    let m = x % y;
    Ok(Value::Float(if m != 0.0 && ((m < 0.0) != (y < 0.0)) {
        m + y
    } else {
        m
    }))
}

/// `quot`: truncating division (an int for ints, a truncated float otherwise).
#[inline]
pub fn quot(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if *y == 0 {
            return Err(div_zero("quot"));
        }
        return match x.checked_div(*y) {
            Some(q) => Ok(Value::Int(q)),
            None => Err(overflow("quot")),
        };
    }
    quot_slow(a, b)
}

#[cold]
fn quot_slow(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = floats("quot", a, b)?;
    Ok(Value::Float((x / y).trunc()))
}

macro_rules! comparison {
    ($name:ident, $slow:ident, $op:tt, $text:expr) => {
        #[doc = concat!("`", $text, "` on two numbers; non-numbers are a type error.")]
        #[inline]
        pub fn $name(a: &Value, b: &Value) -> RtResult<Value> {
            if let (Value::Int(x), Value::Int(y)) = (a, b) {
                return Ok(Value::Bool(x $op y));
            }
            $slow(a, b)
        }

        #[cold]
        fn $slow(a: &Value, b: &Value) -> RtResult<Value> {
            Ok(Value::Bool(cmp_mixed($text, a, b, |o| o $op std::cmp::Ordering::Equal)?))
        }
    };
}

/// Compares mixed int/float numerically (exactly, without rounding the int); false on NaN.
fn cmp_mixed(
    op: &str,
    a: &Value,
    b: &Value,
    test: impl Fn(std::cmp::Ordering) -> bool,
) -> RtResult<bool> {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => cmp_int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => cmp_int_float(*y, *x).map(Ordering::reverse),
        // Strings compare lexicographically (by code point), as older RTFS allowed.
        (Value::Str(x), Value::Str(y)) if op != "==" => Some(x.as_str().cmp(y.as_str())),
        (Value::Int(_) | Value::Float(_), _) => return Err(not_number(op, b)),
        (Value::Str(_), _) if op != "==" => return Err(RtError::expected(op, "a string", b)),
        _ => return Err(not_number(op, a)),
    };
    Ok(ord.is_some_and(test))
}

/// Exact comparison of an i64 with an f64 (`None` for NaN).
pub fn cmp_int_float(i: i64, f: f64) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    if f.is_nan() {
        return None;
    }
    // 2^63 as f64: every i64 is below it and at least -2^63.
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO63 {
        return Some(Ordering::Less);
    }
    if f < -TWO63 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64; // exact: |t| < 2^63
    match i.cmp(&ti) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - t)),
        o => Some(o),
    }
}

comparison!(lt, lt_slow, <, "<");
comparison!(le, le_slow, <=, "<=");
comparison!(gt, gt_slow, >, ">");
comparison!(ge, ge_slow, >=, ">=");

/// `==`: numeric equality across int and float (`(== 1 1.0)` is true).
#[inline]
pub fn num_eq(a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(Value::Bool(x == y));
    }
    num_eq_slow(a, b)
}

#[cold]
fn num_eq_slow(a: &Value, b: &Value) -> RtResult<Value> {
    Ok(Value::Bool(cmp_mixed("==", a, b, |o| {
        o == std::cmp::Ordering::Equal
    })?))
}

#[inline]
pub fn inc(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(x) => x
            .checked_add(1)
            .map(Value::Int)
            .ok_or_else(|| overflow("inc")),
        Value::Float(f) => Ok(Value::Float(f + 1.0)),
        _ => Err(not_number("inc", a)),
    }
}

#[inline]
pub fn dec(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(x) => x
            .checked_sub(1)
            .map(Value::Int)
            .ok_or_else(|| overflow("dec")),
        Value::Float(f) => Ok(Value::Float(f - 1.0)),
        _ => Err(not_number("dec", a)),
    }
}

#[inline]
pub fn neg(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(x) => x.checked_neg().map(Value::Int).ok_or_else(|| overflow("-")),
        Value::Float(f) => Ok(Value::Float(-f)),
        _ => Err(not_number("-", a)),
    }
}

/// Is `v` an int or a float?
#[inline]
pub fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::*;

    fn i(x: i64) -> Value {
        Value::Int(x)
    }
    fn f(x: f64) -> Value {
        Value::Float(x)
    }
    fn kind_of(r: RtResult<Value>) -> String {
        r.err().map(|e| e.kind().to_string()).unwrap_or_default()
    }

    #[test]
    fn int_arithmetic_and_overflow() {
        assert_eq!(add(&i(2), &i(3)).ok(), Some(i(5)));
        assert_eq!(sub(&i(2), &i(3)).ok(), Some(i(-1)));
        assert_eq!(mul(&i(4), &i(3)).ok(), Some(i(12)));
        assert_eq!(kind_of(add(&i(i64::MAX), &i(1))), kind::OVERFLOW);
        assert_eq!(kind_of(sub(&i(i64::MIN), &i(1))), kind::OVERFLOW);
        assert_eq!(kind_of(mul(&i(i64::MAX), &i(2))), kind::OVERFLOW);
        assert_eq!(kind_of(neg(&i(i64::MIN))), kind::OVERFLOW);
        assert_eq!(kind_of(inc(&i(i64::MAX))), kind::OVERFLOW);
        assert_eq!(kind_of(dec(&i(i64::MIN))), kind::OVERFLOW);
        let e = add(&i(i64::MAX), &i(1))
            .err()
            .map(|e| e.message().to_string());
        assert_eq!(e.as_deref(), Some("integer overflow in +"));
    }

    #[test]
    fn mixed_arithmetic_is_float() {
        assert_eq!(add(&i(1), &f(0.5)).ok(), Some(f(1.5)));
        assert_eq!(mul(&f(2.0), &i(3)).ok(), Some(f(6.0)));
        assert_eq!(sub(&f(2.0), &i(3)).ok(), Some(f(-1.0)));
    }

    #[test]
    fn division() {
        assert_eq!(div(&i(6), &i(2)).ok(), Some(i(3)));
        assert_eq!(div(&i(5), &i(2)).ok(), Some(f(2.5)));
        assert_eq!(div(&i(-6), &i(3)).ok(), Some(i(-2)));
        assert_eq!(div(&i(6), &f(2.0)).ok(), Some(f(3.0)));
        assert_eq!(kind_of(div(&i(1), &i(0))), kind::DIV_ZERO);
        assert_eq!(kind_of(div(&i(i64::MIN), &i(-1))), kind::OVERFLOW);
        assert_eq!(div(&f(1.0), &i(0)).ok(), Some(f(f64::INFINITY)));
        assert_eq!(div(&i(-1), &f(0.0)).ok(), Some(f(f64::NEG_INFINITY)));
    }

    #[test]
    fn rem_mod_quot_signs() {
        assert_eq!(rem(&i(-7), &i(2)).ok(), Some(i(-1)));
        assert_eq!(modulo(&i(-7), &i(2)).ok(), Some(i(1)));
        assert_eq!(modulo(&i(7), &i(-2)).ok(), Some(i(-1)));
        assert_eq!(rem(&i(7), &i(-2)).ok(), Some(i(1)));
        assert_eq!(modulo(&i(6), &i(3)).ok(), Some(i(0)));
        assert_eq!(modulo(&i(i64::MIN), &i(-1)).ok(), Some(i(0)));
        assert_eq!(modulo(&f(-7.5), &i(2)).ok(), Some(f(0.5)));
        assert_eq!(quot(&i(-7), &i(2)).ok(), Some(i(-3)));
        assert_eq!(kind_of(rem(&i(1), &i(0))), kind::DIV_ZERO);
        assert_eq!(kind_of(modulo(&i(1), &i(0))), kind::DIV_ZERO);
        assert_eq!(kind_of(quot(&i(1), &i(0))), kind::DIV_ZERO);
    }

    #[test]
    fn comparisons() {
        assert_eq!(lt(&i(1), &i(2)).ok(), Some(Value::Bool(true)));
        assert_eq!(ge(&i(1), &f(1.0)).ok(), Some(Value::Bool(true)));
        assert_eq!(gt(&f(1.5), &i(1)).ok(), Some(Value::Bool(true)));
        assert_eq!(le(&f(f64::NAN), &i(1)).ok(), Some(Value::Bool(false)));
        assert_eq!(num_eq(&i(1), &f(1.0)).ok(), Some(Value::Bool(true)));
        // Exact: 2^53 + 1 is not equal to the float 2^53.
        let big = (1i64 << 53) + 1;
        assert_eq!(
            num_eq(&i(big), &f((1i64 << 53) as f64)).ok(),
            Some(Value::Bool(false))
        );
        assert_eq!(lt(&i(i64::MAX), &f(9.3e18)).ok(), Some(Value::Bool(true)));
        let e = lt(&i(1), &Value::str("a"))
            .err()
            .map(|e| e.message().to_string());
        assert_eq!(e.as_deref(), Some("< expects a number, got string"));
        assert_eq!(kind_of(gt(&Value::Nil, &i(1))), kind::TYPE);
        let (a, b) = (Value::str("apple"), Value::str("banana"));
        assert_eq!(lt(&a, &b).ok(), Some(Value::Bool(true)));
        assert_eq!(ge(&a, &b).ok(), Some(Value::Bool(false)));
        assert_eq!(kind_of(lt(&a, &i(1))), kind::TYPE);
        assert_eq!(kind_of(num_eq(&a, &a)), kind::TYPE);
        assert_eq!(
            kind_of(lt(&Value::keyword("a"), &Value::keyword("b"))),
            kind::TYPE
        );
    }
}
