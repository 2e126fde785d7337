//! In-place variants of the updating built-ins: `conj`, `into`, `assoc`, `dissoc`,
//! `update`, `assoc-in`, `update-in`.
//!
//! RTFS collections are persistent: `(assoc m k v)` returns a new map and `m` is unchanged.
//! When the evaluator knows nothing else will read the collection it passes (a local at its
//! last use, `reduce`'s accumulator), it calls these variants with the argument moved into
//! the slice. `Arc::make_mut` then updates the collection in place when that was the only
//! reference, and copies it (exactly like the persistent version) when it is shared, so a
//! shared value is never changed.
//!
//! Each variant returns what the persistent built-in in `colls` returns. Anything outside
//! the in-place paths (other types, bad keys or indexes, odd argument counts) goes to the
//! persistent built-in with the arguments untouched, so errors are the same too, and the
//! first argument is only taken once nothing can fail any more.

use std::sync::Arc;

use rtfs_ir::{Env, Map, RtResult, Value};

use crate::colls;
use crate::util::{MAX_BUILD, is_callable};

fn take(v: &mut Value) -> Value {
    std::mem::replace(v, Value::Nil)
}

/// `(conj coll & xs)` onto a vector, list or set.
pub fn conj(env: &mut dyn Env, args: &mut [Value]) -> RtResult<Value> {
    let fits = match args.first() {
        Some(Value::Vector(s) | Value::List(s)) => s.len() + args.len() - 1 <= MAX_BUILD,
        Some(Value::Set(_)) => true,
        _ => false,
    };
    if !fits {
        return colls::conj(env, args);
    }
    let (coll, xs) = args.split_at_mut(1);
    let coll = &mut coll[0];
    match coll {
        Value::Vector(s) => {
            let seq = Arc::make_mut(s);
            for x in xs {
                seq.push_back(take(x));
            }
        }
        Value::List(s) => {
            let seq = Arc::make_mut(s);
            for x in xs {
                seq.push_front(take(x));
            }
        }
        Value::Set(s) => {
            let set = Arc::make_mut(s);
            for x in xs {
                set.insert(take(x));
            }
        }
        _ => unreachable!("checked above"),
    }
    Ok(take(coll))
}

/// `(into to from)` onto a vector.
pub fn into(env: &mut dyn Env, args: &mut [Value]) -> RtResult<Value> {
    let fits = match args {
        [Value::Vector(a), Value::Vector(b) | Value::List(b)] => a.len() + b.len() <= MAX_BUILD,
        _ => false,
    };
    if !fits {
        return colls::into(env, args);
    }
    let [to, Value::Vector(from) | Value::List(from)] = args else {
        unreachable!("checked above")
    };
    let from = (**from).clone();
    let Value::Vector(a) = to else {
        unreachable!("checked above")
    };
    Arc::make_mut(a).append(from);
    Ok(take(to))
}

/// `(assoc m k v & kvs)` on a map, or `(assoc v i x)` on a vector with `0 <= i <= count`.
pub fn assoc(env: &mut dyn Env, args: &mut [Value]) -> RtResult<Value> {
    let ok = match args {
        [Value::Map(_), kvs @ ..] => !kvs.is_empty() && kvs.len() % 2 == 0,
        [Value::Vector(s), Value::Int(i), _] => usize::try_from(*i).is_ok_and(|u| u <= s.len()),
        _ => false,
    };
    if !ok {
        return colls::assoc(env, args);
    }
    let (coll, kvs) = args.split_at_mut(1);
    let coll = &mut coll[0];
    match coll {
        Value::Map(m) => {
            let map = Arc::make_mut(m);
            for kv in kvs.chunks_exact_mut(2) {
                map.insert(take(&mut kv[0]), take(&mut kv[1]));
            }
        }
        Value::Vector(s) => {
            let i = kvs[0].as_int().unwrap_or_default() as usize;
            let x = take(&mut kvs[1]);
            let seq = Arc::make_mut(s);
            if i == seq.len() {
                seq.push_back(x);
            } else {
                seq.set(i, x);
            }
        }
        _ => unreachable!("checked above"),
    }
    Ok(take(coll))
}

/// `(dissoc m & ks)` on a map.
pub fn dissoc(env: &mut dyn Env, args: &mut [Value]) -> RtResult<Value> {
    if !matches!(args.first(), Some(Value::Map(_))) {
        return colls::dissoc(env, args);
    }
    let (coll, ks) = args.split_at_mut(1);
    let coll = &mut coll[0];
    let Value::Map(m) = coll else {
        unreachable!("checked above")
    };
    if ks.iter().any(|k| m.contains_key(k)) {
        let map = Arc::make_mut(m);
        for k in ks.iter() {
            map.remove(k);
        }
    }
    Ok(take(coll))
}

/// `(update m k f & args)` on a map (or a vector at an existing index).
pub fn update(env: &mut dyn Env, args: &mut [Value]) -> RtResult<Value> {
    let ok = match args {
        [Value::Map(_), _, _, ..] => true,
        [Value::Vector(s), Value::Int(i), _, ..] => usize::try_from(*i).is_ok_and(|u| u < s.len()),
        _ => false,
    };
    if !ok {
        return colls::update(env, args);
    }
    let [m, k, f, extra @ ..] = args else {
        unreachable!("checked above")
    };
    // The new value is computed before the collection is touched: if `f` fails, the
    // collection is still whole.
    let new = match &*extra {
        [g] if !is_callable(f) && is_callable(g) => {
            let old = colls::get_key(m, k).unwrap_or_else(|| f.clone());
            crate::util::call(env, g, &[old])?
        }
        _ => {
            let old = colls::get_key(m, k).unwrap_or(Value::Nil);
            colls::call_with(env, f, old, extra)?
        }
    };
    set_in(m, std::slice::from_ref(k), new);
    Ok(take(m))
}

/// `(assoc-in m path v)`.
pub fn assoc_in(env: &mut dyn Env, args: &mut [Value]) -> RtResult<Value> {
    let ok = match args {
        [m, Value::Vector(path) | Value::List(path), _] => {
            let path: Vec<Value> = path.iter().cloned().collect();
            settable(m, &path)
        }
        _ => false,
    };
    if !ok {
        return colls::assoc_in(env, args);
    }
    let path: Vec<Value> = args[1]
        .as_seq()
        .map(|p| p.iter().cloned().collect())
        .unwrap_or_default();
    let leaf = take(&mut args[2]);
    set_in(&mut args[0], &path, leaf);
    Ok(take(&mut args[0]))
}

/// `(update-in m path f & args)`.
pub fn update_in(env: &mut dyn Env, args: &mut [Value]) -> RtResult<Value> {
    let path: Vec<Value> = match args {
        [m, Value::Vector(path) | Value::List(path), _, ..] => {
            let path: Vec<Value> = path.iter().cloned().collect();
            if !settable(m, &path) {
                return colls::update_in(env, args);
            }
            path
        }
        _ => return colls::update_in(env, args),
    };
    let [m, _, f, extra @ ..] = args else {
        unreachable!("checked above")
    };
    let old = get_in(m, &path);
    let new = colls::call_with(env, f, old, extra)?;
    set_in(m, &path, new);
    Ok(take(m))
}

fn get_in(root: &Value, path: &[Value]) -> Value {
    let mut cur = root.clone();
    for k in path {
        cur = colls::get_key(&cur, k).unwrap_or(Value::Nil);
    }
    cur
}

/// Whether `set_in` can set `path` (non-empty) in `root` the way the persistent
/// `assoc-in` would: every level a map, nil (made a map) or a vector indexed within
/// `0..=count`.
fn settable(root: &Value, path: &[Value]) -> bool {
    if path.is_empty() {
        return false;
    }
    let mut cur = root.clone();
    for k in path {
        let ok = match (&cur, k) {
            (Value::Map(_) | Value::Nil, _) => true,
            (Value::Vector(s), Value::Int(i)) => usize::try_from(*i).is_ok_and(|u| u <= s.len()),
            _ => false,
        };
        if !ok {
            return false;
        }
        cur = colls::get_key(&cur, k).unwrap_or(Value::Nil);
    }
    true
}

/// Sets `path` in `node` to `leaf`, updating every level in place where it is referenced
/// once. The caller checked `settable`.
fn set_in(node: &mut Value, path: &[Value], leaf: Value) {
    let Some((k, rest)) = path.split_first() else {
        *node = leaf;
        return;
    };
    match node {
        Value::Map(m) => {
            let map = Arc::make_mut(m);
            match map.get_mut(k) {
                Some(child) => set_in(child, rest, leaf),
                None => {
                    let mut child = Value::Nil;
                    set_in(&mut child, rest, leaf);
                    map.insert(k.clone(), child);
                }
            }
        }
        Value::Vector(s) => {
            let seq = Arc::make_mut(s);
            let i = k.as_int().unwrap_or_default() as usize;
            match seq.get_mut(i) {
                Some(child) => set_in(child, rest, leaf),
                None => {
                    let mut child = Value::Nil;
                    set_in(&mut child, rest, leaf);
                    seq.push_back(child);
                }
            }
        }
        _ => {
            let mut child = Value::Nil;
            set_in(&mut child, rest, leaf);
            let mut map = Map::new();
            map.insert(k.clone(), child);
            *node = Value::Map(Arc::new(map));
        }
    }
}
