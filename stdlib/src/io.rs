//! Printing. `print`/`println` write the print form (strings raw at any depth:
//! `(println ["a"])` shows `[a]`), `pr`/`prn` the readable form, through `Env::write_out`;
//! they return nil. `pr-str`, `print-str`, ... are the pure string-building counterparts.

use rtfs_ir::{Env, RtResult, Value};

fn joined(args: &[Value], readable: bool, newline: bool) -> String {
    let mut out = String::new();
    for (n, a) in args.iter().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        match a {
            Value::Str(s) if !readable => out.push_str(s),
            _ if readable => out.push_str(&a.pr_str()),
            _ => out.push_str(&a.print_form()),
        }
    }
    if newline {
        out.push('\n');
    }
    out
}

pub fn println(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.write_out(&joined(args, false, true))?;
    Ok(Value::Nil)
}

/// `(log x…)` / `(tool/log x…)`: like `println`.
pub fn log(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    println(env, args)
}

pub fn print(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.write_out(&joined(args, false, false))?;
    Ok(Value::Nil)
}

pub fn prn(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.write_out(&joined(args, true, true))?;
    Ok(Value::Nil)
}

pub fn pr(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.write_out(&joined(args, true, false))?;
    Ok(Value::Nil)
}

pub fn newline(env: &mut dyn Env, _args: &[Value]) -> RtResult<Value> {
    env.write_out("\n")?;
    Ok(Value::Nil)
}

/// `(pr-str & xs)`: the readable forms joined by spaces.
pub fn pr_str(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::str(joined(args, true, false)))
}

pub fn prn_str(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::str(joined(args, true, true)))
}

/// `(print-str & xs)`: the display forms joined by spaces.
pub fn print_str(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::str(joined(args, false, false)))
}

pub fn println_str(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::str(joined(args, false, true)))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    #[test]
    fn printing_goes_through_env() {
        let mut env = TestEnv::default();
        let r = try_call_in(
            &mut env,
            "println",
            &[s("a"), i(1), v([s("x")]), Value::Nil],
        );
        assert_eq!(r.ok(), Some(Value::Nil));
        let _ = try_call_in(&mut env, "print", &[s("b")]);
        let _ = try_call_in(&mut env, "prn", &[s("c"), kw("k")]);
        let _ = try_call_in(&mut env, "println", &[]);
        assert_eq!(env.out, "a 1 [x] nil\nb\"c\" :k\n\n");
        assert_eq!(call("pr-str", &[s("a"), i(1)]), s("\"a\" 1"));
        assert_eq!(call("print-str", &[s("a"), i(1)]), s("a 1"));
        assert_eq!(call("pr-str", &[]), s(""));
    }
}
