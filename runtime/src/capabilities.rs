//! Host capabilities available out of the box: `:ccos.echo`, `:ccos.io/println`,
//! `:ccos.state.kv/get`, `:ccos.state.kv/put` (in memory, per runtime) and `:ccos.time/now`.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Value};

use crate::state::CapabilityFn;

fn cap(
    f: impl Fn(&mut dyn Env, &[Value]) -> RtResult<Value> + Send + Sync + 'static,
) -> CapabilityFn {
    Arc::new(f)
}

pub fn builtin_capabilities() -> Vec<(&'static str, CapabilityFn)> {
    let kv: Arc<Mutex<rtfs_ir::Map>> = Arc::new(Mutex::new(rtfs_ir::Map::new()));
    let kv_get = kv.clone();
    vec![
        (
            "ccos.echo",
            cap(|_, args| {
                Ok(match args {
                    [one] => one.clone(),
                    many => Value::vector(many.iter().cloned()),
                })
            }),
        ),
        (
            "ccos.io/println",
            cap(|env, args| {
                let line: Vec<String> = args.iter().map(Value::to_display).collect();
                env.write_out(&format!("{}\n", line.join(" ")))?;
                Ok(Value::Nil)
            }),
        ),
        (
            "ccos.state.kv/get",
            cap(move |_, args| {
                let [key] = args else {
                    return Err(RtError::arity("ccos.state.kv/get", "1", args.len()));
                };
                let store = kv_get
                    .lock()
                    .map_err(|_| RtError::new(kind::CAPABILITY, "kv store poisoned"))?;
                Ok(store.get(key).cloned().unwrap_or(Value::Nil))
            }),
        ),
        (
            "ccos.state.kv/put",
            cap(move |_, args| {
                let [key, value] = args else {
                    return Err(RtError::arity("ccos.state.kv/put", "2", args.len()));
                };
                let mut store = kv
                    .lock()
                    .map_err(|_| RtError::new(kind::CAPABILITY, "kv store poisoned"))?;
                store.insert(key.clone(), value.clone());
                Ok(value.clone())
            }),
        ),
        (
            "ccos.time/now",
            cap(|_, _| {
                let ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                Ok(Value::Int(ms))
            }),
        ),
    ]
}
