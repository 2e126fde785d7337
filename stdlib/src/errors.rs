//! Errors: `error` raises one; `ex-info` builds an error value (kind `ex-info`) for `throw`;
//! accessors `ex-message ex-data error-message error-type ...` inspect `Value::Error`s.
//! (The Java-style `(Exception. msg)` constructors belong to the runtime.)

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Value};

use crate::util::type_err;

fn kind_text(name: &str, v: &Value) -> RtResult<String> {
    match v {
        Value::Keyword(k) | Value::Str(k) | Value::Symbol(k) => Ok(k.to_string()),
        _ => Err(type_err(name, "a keyword naming the error kind", v)),
    }
}

fn message_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => other.to_display(),
    }
}

fn build(kind: &str, message: String, data: Option<&Value>) -> Value {
    match data {
        Some(Value::Nil) | None => RtError::new(kind, message).into_value(),
        Some(d) => RtError::with_data(kind, message, d.clone()).into_value(),
    }
}

/// `(error msg)`, `(error msg data)`, `(error :kind msg)`, `(error :kind msg data)`: raises
/// an error (kind `user-error` unless given).
pub fn error(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (kind, msg, data) = match args {
        [msg] => (kind::USER.to_string(), msg, None),
        [Value::Keyword(k), msg] => (k.to_string(), msg, None),
        [msg, data] => (kind::USER.to_string(), msg, Some(data)),
        [k, msg, data] => (kind_text("error", k)?, msg, Some(data)),
        _ => return Err(crate::util::arity("error", args.len())),
    };
    Err(match data {
        Some(Value::Nil) | None => RtError::new(&kind, message_text(msg)),
        Some(d) => RtError::with_data(&kind, message_text(msg), d.clone()),
    })
}

/// The kind of errors built by `ex-info`.
pub const EX_INFO: &str = "ex-info";

/// `(ex-info msg data [cause])`: an error value of kind `ex-info` (not raised).
pub fn ex_info(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [msg, data] | [msg, data, _] => {
            if !matches!(data, Value::Map(_) | Value::Nil) {
                return Err(type_err("ex-info", "a map of data", data));
            }
            Ok(build(EX_INFO, message_text(msg), Some(data)))
        }
        _ => Err(crate::util::arity("ex-info", args.len())),
    }
}

fn the_error<'a>(name: &str, args: &'a [Value]) -> RtResult<&'a Value> {
    match args {
        [e] => Ok(e),
        _ => Err(crate::util::arity(name, args.len())),
    }
}

/// `(ex-message e)`: the message of an error, nil for other values.
pub fn ex_message(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(match the_error("ex-message", args)? {
        Value::Error(e) => Value::str(e.message.as_str()),
        _ => Value::Nil,
    })
}

/// `(ex-data e)`: the data map of an error, or nil.
pub fn ex_data(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(match the_error("ex-data", args)? {
        Value::Error(e) => e.data.clone().unwrap_or(Value::Nil),
        _ => Value::Nil,
    })
}

/// `(ex-cause e)`: always nil (RTFS errors do not chain).
pub fn ex_cause(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    the_error("ex-cause", args)?;
    Ok(Value::Nil)
}

fn strict<'a>(name: &str, args: &'a [Value]) -> RtResult<&'a rtfs_ir::ErrorValue> {
    match the_error(name, args)? {
        Value::Error(e) => Ok(e),
        other => Err(type_err(name, "an error", other)),
    }
}

/// `(error-message e)`, also `getMessage` / `.getMessage`.
pub fn error_message(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::str(strict("error-message", args)?.message.as_str()))
}

pub fn get_message(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::str(strict("getMessage", args)?.message.as_str()))
}

pub fn dot_get_message(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::str(strict(".getMessage", args)?.message.as_str()))
}

/// `(error-type e)`: the kind as a keyword, e.g. `:division-by-zero`.
pub fn error_type(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::keyword(strict("error-type", args)?.kind.as_str()))
}

/// `(error-data e)`: the data, or nil.
pub fn error_data(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(strict("error-data", args)?
        .data
        .clone()
        .unwrap_or(Value::Nil))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    #[test]
    fn constructing_and_inspecting() {
        let e = try_call("error", &[s("boom")])
            .err()
            .map(|e| (e.kind().to_string(), e.message().to_string()));
        assert_eq!(e, Some(("user-error".into(), "boom".into())));
        let e = try_call("error", &[s("with data"), m(&[(kw("code"), i(7))])]).err();
        assert_eq!(
            e.and_then(|e| e.0.data.clone()),
            Some(m(&[(kw("code"), i(7))]))
        );
        let e = try_call("error", &[kw("timeout"), s("slow"), m(&[])]).err();
        assert_eq!(e.map(|e| e.kind().to_string()).as_deref(), Some("timeout"));
        let e = call("ex-info", &[s("bad"), m(&[(kw("k"), i(1))])]);
        assert_eq!(call("error?", &[e.clone()]), b(true));
        assert_eq!(call("ex-data", &[e.clone()]), m(&[(kw("k"), i(1))]));
        assert_eq!(call("ex-message", &[e.clone()]), s("bad"));
        assert_eq!(call("error-type", &[e.clone()]), kw("ex-info"));
        assert_eq!(call("error-message", &[e.clone()]), s("bad"));
        assert_eq!(call("getMessage", &[e.clone()]), s("bad"));
        assert_eq!(call("error-data", &[e.clone()]), m(&[(kw("k"), i(1))]));
        assert_eq!(e.pr_str(), "#<error ex-info \"bad\" {:k 1}>");
        assert_eq!(err_kind("ex-info", &[s("bad"), i(1)]), "type-error");
        assert_eq!(call("ex-message", &[i(1)]), Value::Nil);
        assert_eq!(call("ex-data", &[i(1)]), Value::Nil);
        assert_eq!(err_kind("error-message", &[i(1)]), "type-error");
    }
}
