//! The effect capabilities: every file and environment access an RTFS program can make.
//! `:ccos.fs/read`, `:ccos.fs/read-lines`, `:ccos.fs/exists?`, `:ccos.fs/list`,
//! `:ccos.fs/write` and `:ccos.env/get` check the runtime's [`Grants`] before touching the
//! host; the spec's built-in names (`tool/open-file`, `read-lines`, `file-exists?`,
//! `get-env`) are aliases that make the same capability call, so they also meet the
//! security context, the chain and the grants (see `host_builtins.rs`).

use std::sync::Arc;

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Value};

use crate::grants::{Access, Grants};
use crate::state::CapabilityFn;

/// The capability whose values may be secrets: the chain keeps no raw copy of its output.
pub const ENV_GET: &str = "ccos.env/get";

fn str_arg<'a>(id: &str, args: &'a [Value], n: usize, what: &str) -> RtResult<&'a str> {
    match args.get(n) {
        Some(Value::Str(s)) => Ok(s.as_str()),
        Some(other) => Err(RtError::expected(id, what, other)),
        None => Err(RtError::arity(id, &(n + 1).to_string(), args.len())),
    }
}

fn arity(id: &str, args: &[Value], n: usize) -> RtResult<()> {
    if args.len() == n {
        Ok(())
    } else {
        Err(RtError::arity(id, &n.to_string(), args.len()))
    }
}

fn io_err(what: &str, path: &str, e: impl std::fmt::Display) -> RtError {
    RtError::new(kind::IO, format!("{what} {path}: {e}"))
}

fn read(id: &str, g: &Grants, args: &[Value]) -> RtResult<String> {
    arity(id, args, 1)?;
    let path = str_arg(id, args, 0, "a path string")?;
    let at = g.check(Access::Read, path)?;
    std::fs::read_to_string(&at).map_err(|e| io_err("cannot read", path, e))
}

fn exists(g: &Grants, args: &[Value]) -> RtResult<Value> {
    const ID: &str = "ccos.fs/exists?";
    arity(ID, args, 1)?;
    let path = str_arg(ID, args, 0, "a path string")?;
    let at = g.check(Access::Read, path)?;
    Ok(Value::Bool(at.exists()))
}

/// Entry names of a directory, sorted (the order the OS gives is arbitrary).
fn list(g: &Grants, args: &[Value]) -> RtResult<Value> {
    const ID: &str = "ccos.fs/list";
    arity(ID, args, 1)?;
    let path = str_arg(ID, args, 0, "a directory path string")?;
    let at = g.check(Access::Read, path)?;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&at).map_err(|e| io_err("cannot list", path, e))? {
        let entry = entry.map_err(|e| io_err("cannot list", path, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(Value::vector(names.into_iter().map(Value::str)))
}

/// Replaces the file atomically (a reader sees the old content or the new, never half).
fn write(g: &Grants, args: &[Value]) -> RtResult<Value> {
    const ID: &str = "ccos.fs/write";
    arity(ID, args, 2)?;
    let path = str_arg(ID, args, 0, "a path string")?;
    let text = str_arg(ID, args, 1, "a string to write")?;
    let at = g.check(Access::Write, path)?;
    if at.is_dir() {
        return Err(io_err("cannot write", path, "it is a directory"));
    }
    rtfs_atomic_write::write_atomic(&at, text.as_bytes(), rtfs_atomic_write::Options::default())
        .map_err(|e| io_err("cannot write", path, e))?;
    Ok(Value::Nil)
}

fn env_get(g: &Grants, args: &[Value]) -> RtResult<Value> {
    arity(ENV_GET, args, 1)?;
    let name = str_arg(ENV_GET, args, 0, "an environment variable name")?;
    Ok(g.env_var(name)?.map_or(Value::Nil, Value::str))
}

/// The effect capabilities bound to `grants`, by id (without colon).
pub fn capabilities(grants: Arc<Grants>) -> Vec<(&'static str, CapabilityFn)> {
    let cap = |f: fn(&Grants, &[Value]) -> RtResult<Value>| -> CapabilityFn {
        let g = grants.clone();
        Arc::new(move |_: &mut dyn Env, args: &[Value]| f(&g, args))
    };
    vec![
        (
            "ccos.fs/read",
            cap(|g, a| read("ccos.fs/read", g, a).map(Value::str)),
        ),
        (
            "ccos.fs/read-lines",
            cap(|g, a| {
                read("ccos.fs/read-lines", g, a).map(|t| Value::vector(t.lines().map(Value::str)))
            }),
        ),
        ("ccos.fs/exists?", cap(exists)),
        ("ccos.fs/list", cap(list)),
        ("ccos.fs/write", cap(write)),
        (ENV_GET, cap(env_get)),
    ]
}
