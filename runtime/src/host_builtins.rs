//! Built-ins that belong to the runtime rather than the standard library: logging of plan
//! steps and the `(Foo. msg)` error constructors. The compiler reaches them as
//! `rtfs.host/NAME`.

use std::sync::atomic::{AtomicU64, Ordering};

use rtfs_ir::error::kind;
use rtfs_ir::{Builtin, Env, RtError, RtResult, VARIADIC, Value};

fn log_step(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (level, rest) = match args.split_first() {
        Some((Value::Keyword(k), rest)) => (k.to_string(), rest),
        _ => ("info".to_string(), args),
    };
    let text: Vec<String> = rest.iter().map(Value::to_display).collect();
    eprintln!("[{level}] {}", text.join(" "));
    Ok(Value::Nil)
}

fn new_error(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let ty = args
        .first()
        .and_then(Value::as_keyword)
        .unwrap_or(kind::USER)
        .to_string();
    let msg = args.get(1).map(Value::to_display).unwrap_or_default();
    let err = match args.get(2) {
        Some(data) => RtError::with_data(&ty, msg, data.clone()),
        None => RtError::new(&ty, msg),
    };
    Ok(err.into_value())
}

static GENSYM_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh symbol for macro-generated bindings.
fn gensym(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let base = args
        .first()
        .map(Value::to_display)
        .unwrap_or_else(|| "G".to_string());
    let n = GENSYM_COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(Value::symbol(format!("{base}__{n}__auto")))
}

static HOST_BUILTINS: &[Builtin] = &[
    Builtin {
        name: "log-step",
        min_args: 0,
        max_args: VARIADIC,
        func: log_step,
        pure_fn: false,
    },
    Builtin {
        name: "gensym",
        min_args: 0,
        max_args: 1,
        func: gensym,
        pure_fn: false,
    },
    Builtin {
        name: "new-error",
        min_args: 1,
        max_args: 3,
        func: new_error,
        pure_fn: true,
    },
];

pub fn lookup(name: &str) -> Option<&'static Builtin> {
    HOST_BUILTINS.iter().find(|b| b.name == name)
}
