//! Built-ins that belong to the runtime rather than the standard library because they touch
//! the host: logging of plan steps, the `(Foo. msg)` error constructors, `gensym`, and the
//! spec's tooling functions (time, sleep, environment, files). The compiler reaches them by
//! name or as `rtfs.host/NAME`. All but `new-error` are impure.

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

fn io_err(what: &str, path: &str, e: std::io::Error) -> RtError {
    RtError::new(kind::IO, format!("{what} {path}: {e}"))
}

fn path_arg<'a>(name: &str, args: &'a [Value]) -> RtResult<&'a str> {
    match args.first() {
        Some(Value::Str(s)) => Ok(s.as_str()),
        Some(other) => Err(RtError::expected(name, "a path string", other)),
        None => Err(RtError::arity(name, "1", 0)),
    }
}

fn time_ms(_: &mut dyn Env, _: &[Value]) -> RtResult<Value> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Ok(Value::Int(ms))
}

/// Sleeps at most a minute per call: a plan can't park the runtime indefinitely.
fn sleep(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args.first() {
        Some(Value::Int(ms)) if *ms >= 0 => {
            std::thread::sleep(std::time::Duration::from_millis((*ms).min(60_000) as u64));
            Ok(Value::Nil)
        }
        Some(other) => Err(RtError::expected(
            "thread/sleep",
            "a non-negative number of milliseconds",
            other,
        )),
        None => Err(RtError::arity("thread/sleep", "1", 0)),
    }
}

fn get_env(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let name = path_arg("get-env", args)?;
    Ok(std::env::var(name).map(Value::str).unwrap_or(Value::Nil))
}

fn file_exists(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Bool(
        std::path::Path::new(path_arg("file-exists?", args)?).exists(),
    ))
}

fn open_file(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let path = path_arg("tool/open-file", args)?;
    std::fs::read_to_string(path)
        .map(Value::str)
        .map_err(|e| io_err("cannot read", path, e))
}

fn read_lines(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let path = path_arg("read-lines", args)?;
    let text = std::fs::read_to_string(path).map_err(|e| io_err("cannot read", path, e))?;
    Ok(Value::vector(text.lines().map(Value::str)))
}

const fn host(
    name: &'static str,
    min_args: u16,
    max_args: u16,
    func: rtfs_ir::func::BuiltinFn,
) -> Builtin {
    Builtin {
        name,
        min_args,
        max_args,
        func,
        pure_fn: false,
        owned: None,
    }
}

static HOST_BUILTINS: &[Builtin] = &[
    host("log-step", 0, VARIADIC, log_step),
    host("gensym", 0, 1, gensym),
    Builtin {
        name: "new-error",
        min_args: 1,
        max_args: 3,
        func: new_error,
        pure_fn: true,
        owned: None,
    },
    host("tool/time-ms", 0, 0, time_ms),
    host("current-time-millis", 0, 0, time_ms),
    host("thread/sleep", 1, 1, sleep),
    host("get-env", 1, 1, get_env),
    host("file-exists?", 1, 1, file_exists),
    host("tool/open-file", 1, 1, open_file),
    host("read-lines", 1, 1, read_lines),
];

pub fn lookup(name: &str) -> Option<&'static Builtin> {
    HOST_BUILTINS.iter().find(|b| b.name == name)
}
