//! A minimal `Env` for unit tests: applies built-ins and native functions, and captures
//! output.

use rtfs_ir::{Env, RtError, RtResult, Value};

#[derive(Default)]
pub struct TestEnv {
    pub out: String,
}

impl Env for TestEnv {
    fn apply(&mut self, f: &Value, args: &[Value]) -> RtResult<Value> {
        match f {
            Value::Builtin(b) => {
                if !b.accepts(args.len()) {
                    return Err(RtError::arity(b.name, &b.arity_text(), args.len()));
                }
                (b.func)(self, args)
            }
            Value::Native(n) => (n.func)(self, args),
            _ => Err(RtError::new(
                rtfs_ir::error::kind::NOT_CALLABLE,
                format!("{} is not callable", f.type_name()),
            )),
        }
    }
    fn write_out(&mut self, text: &str) -> RtResult<()> {
        self.out.push_str(text);
        Ok(())
    }
}

pub fn try_call(name: &str, args: &[Value]) -> RtResult<Value> {
    let mut env = TestEnv::default();
    try_call_in(&mut env, name, args)
}

pub fn try_call_in(env: &mut TestEnv, name: &str, args: &[Value]) -> RtResult<Value> {
    let b = crate::lookup(name).unwrap_or_else(|| panic!("no builtin {name}"));
    if !b.accepts(args.len()) {
        return Err(RtError::arity(b.name, &b.arity_text(), args.len()));
    }
    (b.func)(env, args)
}

/// Calls a builtin and expects success.
pub fn call(name: &str, args: &[Value]) -> Value {
    match try_call(name, args) {
        Ok(v) => v,
        Err(e) => panic!("({name} {args:?}) failed: {e}"),
    }
}

/// Calls a builtin and expects an error; returns its kind.
pub fn err_kind(name: &str, args: &[Value]) -> String {
    match try_call(name, args) {
        Ok(v) => panic!("({name} {args:?}) unexpectedly returned {v:?}"),
        Err(e) => e.kind().to_string(),
    }
}

/// Calls a builtin and expects an error; returns its message.
pub fn err_msg(name: &str, args: &[Value]) -> String {
    match try_call(name, args) {
        Ok(v) => panic!("({name} {args:?}) unexpectedly returned {v:?}"),
        Err(e) => e.message().to_string(),
    }
}

pub fn i(x: i64) -> Value {
    Value::Int(x)
}
pub fn f(x: f64) -> Value {
    Value::Float(x)
}
pub fn s(x: &str) -> Value {
    Value::str(x)
}
pub fn kw(x: &str) -> Value {
    Value::keyword(x)
}
pub fn b(x: bool) -> Value {
    Value::Bool(x)
}
pub fn v(items: impl IntoIterator<Item = Value>) -> Value {
    Value::vector(items)
}
pub fn ints(xs: &[i64]) -> Value {
    Value::vector(xs.iter().map(|x| Value::Int(*x)))
}
pub fn func(name: &str) -> Value {
    Value::Builtin(crate::lookup(name).unwrap_or_else(|| panic!("no builtin {name}")))
}
pub fn m(entries: &[(Value, Value)]) -> Value {
    Value::map(entries.iter().cloned())
}
