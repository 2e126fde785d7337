//! Arithmetic built-ins (`+ - * / mod rem quot inc dec max min abs ...`), variadic folds
//! over the binary operations of [`crate::num`].

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Value};

use crate::num::{self, is_number, overflow, to_f64};
use crate::util::{args, items, type_err};

fn check_number(name: &str, v: &Value) -> RtResult<()> {
    if is_number(v) {
        Ok(())
    } else {
        Err(type_err(name, "a number", v))
    }
}

/// Folds `op` over the arguments, starting from `first`.
#[inline]
fn fold(
    args: &[Value],
    op: fn(&Value, &Value) -> RtResult<Value>,
    identity: Value,
) -> RtResult<Value> {
    match args {
        [] => Ok(identity),
        [a, b] => op(a, b),
        [first, rest @ ..] => {
            let mut acc = first.clone();
            for v in rest {
                acc = op(&acc, v)?;
            }
            Ok(acc)
        }
    }
}

pub fn add(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    if let [a] = args {
        check_number("+", a)?;
    }
    fold(args, num::add, Value::Int(0))
}

pub fn mul(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    if let [a] = args {
        check_number("*", a)?;
    }
    fold(args, num::mul, Value::Int(1))
}

pub fn sub(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [] => Err(crate::util::arity("-", 0)),
        [a] => num::neg(a),
        _ => fold(args, num::sub, Value::Int(0)),
    }
}

pub fn div(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [] => Err(crate::util::arity("/", 0)),
        [a] => num::div(&Value::Int(1), a),
        _ => fold(args, num::div, Value::Int(1)),
    }
}

pub fn modulo(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("mod", args, [a, b]);
    num::modulo(a, b)
}

pub fn rem(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("rem", args, [a, b]);
    num::rem(a, b)
}

pub fn quot(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("quot", args, [a, b]);
    num::quot(a, b)
}

pub fn inc(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("inc", args, [a]);
    num::inc(a)
}

pub fn dec(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("dec", args, [a]);
    num::dec(a)
}

fn extremum(name: &str, args: &[Value], want_greater: bool) -> RtResult<Value> {
    let Some((first, rest)) = args.split_first() else {
        return Err(crate::util::arity(name, 0));
    };
    check_number(name, first)?;
    let mut best = first;
    for v in rest {
        let better = if want_greater {
            num::gt(v, best)?
        } else {
            num::lt(v, best)?
        };
        // NaN is contagious, as in Clojure.
        if better.truthy() || matches!(v, Value::Float(f) if f.is_nan()) {
            best = v;
        }
    }
    Ok(best.clone())
}

pub fn max(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    extremum("max", args, true)
}

pub fn min(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    extremum("min", args, false)
}

pub fn abs(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("abs", args, [a]);
    match a {
        Value::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| overflow("abs")),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        _ => Err(type_err("abs", "a number", a)),
    }
}

fn integer_pred(name: &str, args: &[Value], test: fn(i64) -> bool) -> RtResult<Value> {
    args!(name, args, [a]);
    match a {
        Value::Int(i) => Ok(Value::Bool(test(*i))),
        _ => Err(type_err(name, "an integer", a)),
    }
}

pub fn even_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    integer_pred("even?", args, |i| i % 2 == 0)
}

pub fn odd_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    integer_pred("odd?", args, |i| i % 2 != 0)
}

fn sign_pred(name: &str, args: &[Value], test: fn(f64) -> bool) -> RtResult<Value> {
    args!(name, args, [a]);
    match a {
        Value::Int(i) => Ok(Value::Bool(test((*i).signum() as f64))),
        Value::Float(f) => Ok(Value::Bool(test(*f))),
        _ => Err(type_err(name, "a number", a)),
    }
}

pub fn zero_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    sign_pred("zero?", args, |x| x == 0.0)
}

pub fn pos_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    sign_pred("pos?", args, |x| x > 0.0)
}

pub fn neg_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    sign_pred("neg?", args, |x| x < 0.0)
}

pub fn sqrt(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("sqrt", args, [a]);
    let x = to_f64("sqrt", a)?;
    if x < 0.0 {
        return Err(RtError::new(
            kind::ARGUMENT,
            "sqrt: cannot take the square root of a negative number",
        ));
    }
    Ok(Value::Float(x.sqrt()))
}

/// `(pow base exp)`: int for an int base and a non-negative int exponent (overflow is an
/// error), float otherwise.
pub fn pow(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("pow", args, [a, b]);
    match (a, b) {
        (Value::Int(base), Value::Int(exp)) if *exp >= 0 => {
            let e = u32::try_from(*exp).map_err(|_| overflow("pow"));
            match e {
                Ok(e) => base
                    .checked_pow(e)
                    .map(Value::Int)
                    .ok_or_else(|| overflow("pow")),
                // Only 0, 1 and -1 survive huge exponents.
                Err(err) => match base {
                    0 | 1 => Ok(Value::Int(*base)),
                    -1 => Ok(Value::Int(if exp % 2 == 0 { 1 } else { -1 })),
                    _ => Err(err),
                },
            }
        }
        _ => Ok(Value::Float(to_f64("pow", a)?.powf(to_f64("pow", b)?))),
    }
}

pub fn factorial(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("factorial", args, [a]);
    let n = crate::util::int("factorial", a)?;
    if n < 0 {
        return Err(RtError::new(
            kind::ARGUMENT,
            "factorial: not defined for negative numbers",
        ));
    }
    let mut acc: i64 = 1;
    for k in 2..=n {
        acc = acc.checked_mul(k).ok_or_else(|| overflow("factorial"))?;
    }
    Ok(Value::Int(acc))
}

fn float_to_int(name: &str, f: f64) -> RtResult<Value> {
    // Floats in [-2^63, 2^63) convert exactly after rounding.
    if f.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        Ok(Value::Int(f as i64))
    } else {
        Err(RtError::new(
            kind::OVERFLOW,
            format!(
                "integer overflow in {name}: {} does not fit an integer",
                rtfs_ir::print::format_float(f)
            ),
        ))
    }
}

/// `(floor x)` / `(ceil x)`: an int stays as is; a float gives a (whole) float.
fn rounding(name: &str, args: &[Value], op: fn(f64) -> f64) -> RtResult<Value> {
    args!(name, args, [a]);
    match a {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => Ok(Value::Float(op(*f))),
        _ => Err(type_err(name, "a number", a)),
    }
}

pub fn floor(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    rounding("floor", args, f64::floor)
}

pub fn ceil(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    rounding("ceil", args, f64::ceil)
}

/// `(round x)`: the nearest int, halves away from zero.
pub fn round(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("round", args, [a]);
    match a {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => float_to_int("round", f.round()),
        _ => Err(type_err("round", "a number", a)),
    }
}

/// `(sum coll)`: the sum of a collection of numbers (0 when empty).
pub fn sum(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("sum", args, [coll]);
    let xs = items("sum", coll)?;
    let mut acc = Value::Int(0);
    for v in xs.seq().iter() {
        check_number("sum", v)?;
        acc = num::add(&acc, v)?;
    }
    Ok(acc)
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::*;
    use crate::testenv::{call, err_kind, f, i};

    #[test]
    fn variadic_arith() {
        assert_eq!(call("+", &[]), i(0));
        assert_eq!(call("+", &[i(1), i(2), i(3)]), i(6));
        assert_eq!(call("+", &[i(1), f(0.5)]), f(1.5));
        assert_eq!(call("*", &[]), i(1));
        assert_eq!(call("*", &[i(2), i(3), i(4)]), i(24));
        assert_eq!(call("-", &[i(5)]), i(-5));
        assert_eq!(call("-", &[i(10), i(3), i(2)]), i(5));
        assert_eq!(call("/", &[i(2)]), f(0.5));
        assert_eq!(call("/", &[i(12), i(2), i(3)]), i(2));
        assert_eq!(call("/", &[i(10), i(20)]), f(0.5));
        assert_eq!(err_kind("+", &[i(1), Value::str("a")]), "type-error");
        assert_eq!(err_kind("+", &[Value::Nil]), "type-error");
        assert_eq!(err_kind("+", &[i(i64::MAX), i(1)]), kind::OVERFLOW);
        assert_eq!(err_kind("/", &[i(1), i(0)]), "division-by-zero");
        assert_eq!(err_kind("-", &[]), "arity-error");
    }

    #[test]
    fn min_max_abs() {
        assert_eq!(call("max", &[i(1), i(5), i(3)]), i(5));
        assert_eq!(call("min", &[i(4), f(2.5), i(3)]), f(2.5));
        assert_eq!(err_kind("max", &[i(1), Value::str("x")]), "type-error");
        assert_eq!(call("abs", &[i(-3)]), i(3));
        assert_eq!(err_kind("abs", &[i(i64::MIN)]), kind::OVERFLOW);
    }

    #[test]
    fn predicates_and_misc() {
        assert_eq!(call("even?", &[i(4)]), Value::Bool(true));
        assert_eq!(call("odd?", &[i(-3)]), Value::Bool(true));
        assert_eq!(err_kind("even?", &[f(1.5)]), "type-error");
        assert_eq!(call("zero?", &[f(0.0)]), Value::Bool(true));
        assert_eq!(call("pos?", &[i(2)]), Value::Bool(true));
        assert_eq!(call("neg?", &[i(2)]), Value::Bool(false));
        assert_eq!(call("pow", &[i(2), i(10)]), i(1024));
        assert_eq!(call("pow", &[i(2), i(-1)]), f(0.5));
        assert_eq!(err_kind("pow", &[i(10), i(100)]), kind::OVERFLOW);
        assert_eq!(call("sqrt", &[i(16)]), f(4.0));
        assert_eq!(call("factorial", &[i(5)]), i(120));
        assert_eq!(err_kind("factorial", &[i(30)]), kind::OVERFLOW);
        assert_eq!(call("round", &[f(2.5)]), i(3));
        assert_eq!(call("round", &[f(-2.5)]), i(-3));
        assert_eq!(call("floor", &[f(-2.5)]), f(-3.0));
        assert_eq!(call("ceil", &[f(2.1)]), f(3.0));
        assert_eq!(call("floor", &[i(5)]), i(5));
        assert_eq!(err_kind("round", &[f(f64::INFINITY)]), kind::OVERFLOW);
        assert_eq!(call("mod", &[i(-7), i(3)]), i(2));
        assert_eq!(call("rem", &[i(-7), i(3)]), i(-1));
        assert_eq!(call("quot", &[i(7), i(2)]), i(3));
        assert_eq!(call("sum", &[Value::vector([i(1), i(2), f(0.5)])]), f(3.5));
    }
}
