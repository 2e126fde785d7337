//! Conversions between numbers and strings: `parse-int parse-float int float double`.

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Value};

use crate::util::{args, type_err};

fn parse_i64(s: &str) -> Option<i64> {
    let t = s.trim();
    t.strip_prefix('+')
        .unwrap_or(t)
        .parse::<i64>()
        .ok()
        .filter(|_| !t.starts_with("+-"))
}

fn parse_f64(s: &str) -> Option<f64> {
    let t = s.trim();
    // Rust also accepts "inf"/"nan"; RTFS does not treat those words as numbers.
    let lower = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if lower.starts_with("inf") || lower.starts_with("nan") {
        return None;
    }
    t.parse::<f64>().ok()
}

/// `(parse-int s)`: the integer in s (surrounding whitespace allowed), or nil when s is not
/// an integer. Numbers pass through (floats truncate); other types give nil.
pub fn parse_int(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("parse-int", args, [a]);
    Ok(match a {
        Value::Str(s) => parse_i64(s).map_or(Value::Nil, Value::Int),
        Value::Int(_) => a.clone(),
        Value::Float(f) => float_to_int(*f).unwrap_or(Value::Nil),
        _ => Value::Nil,
    })
}

/// `(parse-long s)`: alias of `parse-int`.
pub fn parse_long(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    parse_int(env, args)
}

/// `(parse-double s)`: alias of `parse-float`.
pub fn parse_double(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    parse_float(env, args)
}

/// `(parse-float s)`: the number in s as a float, or nil.
pub fn parse_float(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("parse-float", args, [a]);
    Ok(match a {
        Value::Str(s) => parse_f64(s).map_or(Value::Nil, Value::Float),
        Value::Int(i) => Value::Float(*i as f64),
        Value::Float(_) => a.clone(),
        _ => Value::Nil,
    })
}

fn float_to_int(f: f64) -> Option<Value> {
    (f.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f))
        .then(|| Value::Int(f as i64))
}

/// `(int x)`: truncates floats, parses strings (an unparsable string gives 0), booleans
/// give 1/0 and nil gives 0. NaN, infinities and out-of-range floats are overflow errors.
pub fn int(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("int", args, [a]);
    match a {
        Value::Int(_) => Ok(a.clone()),
        Value::Float(f) => float_to_int(*f).ok_or_else(|| {
            RtError::new(
                kind::OVERFLOW,
                format!(
                    "integer overflow in int: {} does not fit an integer",
                    a.pr_str()
                ),
            )
        }),
        Value::Str(s) => Ok(Value::Int(
            parse_i64(s)
                .or_else(|| parse_f64(s).and_then(float_to_int).and_then(|v| v.as_int()))
                .unwrap_or(0),
        )),
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        Value::Nil => Ok(Value::Int(0)),
        _ => Err(type_err("int", "a number, string or boolean", a)),
    }
}

fn to_float(name: &str, args: &[Value]) -> RtResult<Value> {
    args!(name, args, [a]);
    match a {
        Value::Float(_) => Ok(a.clone()),
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Str(s) => Ok(Value::Float(parse_f64(s).unwrap_or(0.0))),
        Value::Bool(b) => Ok(Value::Float(if *b { 1.0 } else { 0.0 })),
        Value::Nil => Ok(Value::Float(0.0)),
        _ => Err(type_err(name, "a number, string or boolean", a)),
    }
}

/// `(float x)` / `(double x)`: like `int`, to a float.
pub fn float(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    to_float("float", args)
}

pub fn double(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    to_float("double", args)
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;
    use rtfs_ir::error::kind;

    #[test]
    fn parsing() {
        assert_eq!(call("parse-int", &[s(" 42 ")]), i(42));
        assert_eq!(call("parse-int", &[s("-7")]), i(-7));
        assert_eq!(call("parse-int", &[s("abc")]), Value::Nil);
        assert_eq!(call("parse-int", &[s("99999999999999999999")]), Value::Nil);
        assert_eq!(call("parse-int", &[f(3.9)]), i(3));
        assert_eq!(call("parse-float", &[s("3.5")]), f(3.5));
        assert_eq!(call("parse-long", &[s("4x")]), Value::Nil);
        assert_eq!(call("parse-double", &[s("2.5")]), f(2.5));
        assert_eq!(call("parse-float", &[s("inf")]), Value::Nil);
        assert_eq!(call("parse-float", &[s("x")]), Value::Nil);
    }

    #[test]
    fn coercions() {
        assert_eq!(call("int", &[f(3.7)]), i(3));
        assert_eq!(call("int", &[f(-3.7)]), i(-3));
        assert_eq!(call("int", &[s("42")]), i(42));
        assert_eq!(call("int", &[s("nope")]), i(0));
        assert_eq!(call("int", &[b(true)]), i(1));
        assert_eq!(err_kind("int", &[f(f64::NAN)]), kind::OVERFLOW);
        assert_eq!(err_kind("int", &[ints(&[])]), "type-error");
        assert_eq!(call("float", &[i(2)]), f(2.0));
        assert_eq!(call("double", &[s("2.5")]), f(2.5));
    }
}
