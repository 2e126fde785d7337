//! Built-ins that belong to the runtime rather than the standard library because they touch
//! the host: logging of plan steps, the `(Foo. msg)` error constructors, `gensym`, and the
//! spec's tooling functions (time, sleep, environment, files: the last two are aliases of
//! capabilities, see `effects.rs`). The compiler reaches them by name or as
//! `rtfs.host/NAME`. All but `new-error` are impure.

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

// The spec's names for file and environment access: aliases of the effect capabilities
// (`effects.rs`), called as `(call :id …)` would be, so the same checks apply.
fn get_env(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.call_capability("ccos.env/get", args)
}

fn file_exists(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.call_capability("ccos.fs/exists?", args)
}

fn open_file(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.call_capability("ccos.fs/read", args)
}

fn read_lines(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    env.call_capability("ccos.fs/read-lines", args)
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
