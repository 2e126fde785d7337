//! Bit operations on 64-bit integers, as Clojure has them. Shift counts are taken modulo
//! 64 (the JVM's rule, so results match Clojure's); `unsigned-bit-shift-right` shifts in
//! zeros.

use rtfs_ir::{Env, RtResult, Value};

use crate::util::{args, type_err};

fn int(name: &str, v: &Value) -> RtResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(type_err(name, "an integer", other)),
    }
}

fn fold(name: &str, args: &[Value], f: fn(i64, i64) -> i64) -> RtResult<Value> {
    let Some((first, more)) = args.split_first() else {
        return Err(crate::util::arity(name, 0));
    };
    let mut acc = int(name, first)?;
    for a in more {
        acc = f(acc, int(name, a)?);
    }
    Ok(Value::Int(acc))
}

/// `(bit-and x y & more)`.
pub fn bit_and(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    fold("bit-and", args, |a, b| a & b)
}

/// `(bit-or x y & more)`.
pub fn bit_or(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    fold("bit-or", args, |a, b| a | b)
}

/// `(bit-xor x y & more)`.
pub fn bit_xor(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    fold("bit-xor", args, |a, b| a ^ b)
}

/// `(bit-not x)`.
pub fn bit_not(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("bit-not", args, [a]);
    Ok(Value::Int(!int("bit-not", a)?))
}

fn shift(name: &str, args: &[Value], f: fn(i64, u32) -> i64) -> RtResult<Value> {
    args!(name, args, [x, n]);
    let (x, n) = (int(name, x)?, int(name, n)?);
    Ok(Value::Int(f(x, (n & 63) as u32)))
}

/// `(bit-shift-left x n)`.
pub fn shl(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    shift("bit-shift-left", args, |x, n| x.wrapping_shl(n))
}

/// `(bit-shift-right x n)`: arithmetic (sign-extending).
pub fn shr(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    shift("bit-shift-right", args, |x, n| x.wrapping_shr(n))
}

/// `(unsigned-bit-shift-right x n)`: logical (zero-filling).
pub fn ushr(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    shift("unsigned-bit-shift-right", args, |x, n| {
        ((x as u64).wrapping_shr(n)) as i64
    })
}

#[cfg(test)]
mod tests {
    use crate::testenv::{call, err_kind};
    use rtfs_ir::Value;

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    #[test]
    fn bit_ops_match_clojure() {
        assert_eq!(call("bit-and", &[i(12), i(10)]), i(8));
        assert_eq!(call("bit-and", &[i(15), i(7), i(3)]), i(3));
        assert_eq!(call("bit-or", &[i(12), i(10)]), i(14));
        assert_eq!(call("bit-xor", &[i(12), i(10)]), i(6));
        assert_eq!(call("bit-not", &[i(0)]), i(-1));
        assert_eq!(call("bit-shift-left", &[i(1), i(10)]), i(1024));
        assert_eq!(call("bit-shift-left", &[i(1), i(64)]), i(1));
        assert_eq!(call("bit-shift-right", &[i(-16), i(2)]), i(-4));
        assert_eq!(call("unsigned-bit-shift-right", &[i(-1), i(60)]), i(15));
        assert_eq!(
            err_kind("bit-and", &[i(1), Value::Float(1.0)]),
            "type-error"
        );
        assert_eq!(err_kind("bit-not", &[Value::Nil]), "type-error");
    }
}
