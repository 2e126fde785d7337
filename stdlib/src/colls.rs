//! Maps, sets and associative access: `get get-in assoc assoc-in dissoc update update-in
//! keys vals merge merge-with select-keys contains? find conj into count ...` and the
//! collection constructors (`vector list hash-map hash-set set vec`).

use std::sync::Arc;

use rtfs_ir::{Env, Map, RtError, RtResult, Seq, Set, Value};

use crate::util::{Items, args, call, check_size, index_err, items, pair, type_err, vector};

/// Looks `key` up in `coll`: map key, vector/list/string index, or set member.
/// `None` when absent or when `coll` is not associative.
pub fn get_key(coll: &Value, key: &Value) -> Option<Value> {
    match coll {
        Value::Map(m) => m.get(key).cloned(),
        Value::Vector(s) | Value::List(s) => match key {
            Value::Int(i) => usize::try_from(*i).ok().and_then(|u| s.get(u)).cloned(),
            _ => None,
        },
        Value::Set(s) => s.contains(key).then(|| key.clone()),
        // An error value reads like a map of :type, :message and :data.
        Value::Error(e) => match key.as_keyword() {
            Some("type") => Some(Value::keyword(e.kind.as_str())),
            Some("message") => Some(Value::str(e.message.as_str())),
            Some("data") => e.data.clone(),
            _ => None,
        },
        Value::Str(s) => match key {
            Value::Int(i) => usize::try_from(*i)
                .ok()
                .and_then(|u| crate::char_index::char_at(s, u))
                .map(crate::util::char_val),
            _ => None,
        },
        _ => None,
    }
}

/// `(get coll key [default])`: nil (or default) when absent; never an error.
pub fn get(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [coll, key] => Ok(get_key(coll, key).unwrap_or(Value::Nil)),
        [coll, key, default] => Ok(get_key(coll, key).unwrap_or_else(|| default.clone())),
        _ => Err(crate::util::arity("get", args.len())),
    }
}

/// `(get-in coll path [default])`.
pub fn get_in(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (coll, path, default) = match args {
        [c, p] => (c, p, Value::Nil),
        [c, p, d] => (c, p, d.clone()),
        _ => return Err(crate::util::arity("get-in", args.len())),
    };
    let path = items("get-in", path)?;
    let mut cur = coll.clone();
    for k in path.seq().iter() {
        match get_key(&cur, k) {
            Some(v) => cur = v,
            None => return Ok(default),
        }
    }
    Ok(cur)
}

fn map_with(m: &Map, key: Value, val: Value) -> Value {
    let mut m2 = m.clone();
    m2.insert(key, val);
    Value::Map(Arc::new(m2))
}

/// One association step shared by `assoc`, `assoc-in`, `update`.
pub fn assoc1(name: &str, coll: &Value, key: Value, val: Value) -> RtResult<Value> {
    match coll {
        Value::Map(m) => Ok(map_with(m, key, val)),
        Value::Nil => {
            let mut m = Map::new();
            m.insert(key, val);
            Ok(Value::Map(Arc::new(m)))
        }
        Value::Vector(s) => {
            let i = match key {
                Value::Int(i) => i,
                _ => return Err(type_err(name, "an integer index for a vector", &key)),
            };
            match usize::try_from(i) {
                Ok(u) if u < s.len() => Ok(vector(s.update(u, val))),
                Ok(u) if u == s.len() => {
                    let mut s2 = (**s).clone();
                    s2.push_back(val);
                    Ok(vector(s2))
                }
                _ => Err(index_err(name, i, s.len())),
            }
        }
        _ => Err(type_err(name, "a map or vector", coll)),
    }
}

/// `(assoc coll k v & kvs)`: maps (nil is an empty map) and vectors (index up to count).
pub fn assoc(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let Some((coll, kvs)) = args.split_first() else {
        return Err(crate::util::arity("assoc", 0));
    };
    if kvs.is_empty() || kvs.len() % 2 != 0 {
        return Err(RtError::arity(
            "assoc",
            "a collection then key/value pairs",
            args.len(),
        ));
    }
    if let (Value::Map(m), [k, v]) = (coll, kvs) {
        return Ok(map_with(m, k.clone(), v.clone()));
    }
    let mut acc = coll.clone();
    for kv in kvs.chunks_exact(2) {
        acc = assoc1("assoc", &acc, kv[0].clone(), kv[1].clone())?;
    }
    Ok(acc)
}

/// Rebuilds a nested structure along `path`, setting the leaf to `leaf(old_leaf)`.
fn assoc_path(
    name: &str,
    root: &Value,
    path: &Seq,
    leaf: &mut dyn FnMut(Value) -> RtResult<Value>,
) -> RtResult<Value> {
    let n = path.len();
    if n == 0 {
        let old = get_key(root, &Value::Nil).unwrap_or(Value::Nil);
        return assoc1(name, root, Value::Nil, leaf(old)?);
    }
    let mut chain: Vec<Value> = Vec::with_capacity(n);
    let mut cur = root.clone();
    for k in path.iter().take(n - 1) {
        let next = get_key(&cur, k).unwrap_or(Value::Nil);
        chain.push(std::mem::replace(&mut cur, next));
    }
    let last_key = path.back().cloned().unwrap_or(Value::Nil);
    let old = get_key(&cur, &last_key).unwrap_or(Value::Nil);
    let mut val = assoc1(name, &cur, last_key, leaf(old)?)?;
    for (container, k) in chain.iter().zip(path.iter()).rev() {
        val = assoc1(name, container, k.clone(), val)?;
    }
    Ok(val)
}

/// `(assoc-in m path v)`: missing levels are created as maps.
pub fn assoc_in(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("assoc-in", args, [m, path, v]);
    let path = items("assoc-in", path)?;
    assoc_path("assoc-in", m, path.seq(), &mut |_| Ok(v.clone()))
}

pub(crate) fn call_with(
    env: &mut dyn Env,
    f: &Value,
    first: Value,
    extra: &[Value],
) -> RtResult<Value> {
    if extra.is_empty() {
        return call(env, f, &[first]);
    }
    let mut cargs = Vec::with_capacity(1 + extra.len());
    cargs.push(first);
    cargs.extend_from_slice(extra);
    call(env, f, &cargs)
}

/// `(update m k f & args)`: `(assoc m k (apply f (get m k) args))`. The older form
/// `(update m k default f)` (third argument not callable, fourth callable) uses default when
/// k is absent.
pub fn update(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [m, k, f, extra @ ..] = args else {
        return Err(crate::util::arity("update", args.len()));
    };
    if let (Value::Vector(s), Value::Int(i)) = (m, k)
        && usize::try_from(*i).map_or(true, |u| u >= s.len())
    {
        return Err(index_err("update", *i, s.len()));
    }
    let new = match extra {
        [g] if !crate::util::is_callable(f) && crate::util::is_callable(g) => {
            let old = get_key(m, k).unwrap_or_else(|| f.clone());
            call(env, g, &[old])?
        }
        _ => {
            let old = get_key(m, k).unwrap_or(Value::Nil);
            call_with(env, f, old, extra)?
        }
    };
    assoc1("update", m, k.clone(), new)
}

/// `(update-in m path f & args)`.
pub fn update_in(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [m, path, f, extra @ ..] = args else {
        return Err(crate::util::arity("update-in", args.len()));
    };
    let path = items("update-in", path)?;
    assoc_path("update-in", m, path.seq(), &mut |old| {
        call_with(env, f, old, extra)
    })
}

/// `(dissoc m & ks)`.
pub fn dissoc(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let Some((m, ks)) = args.split_first() else {
        return Err(crate::util::arity("dissoc", 0));
    };
    match m {
        Value::Nil => Ok(Value::Nil),
        Value::Map(map) => {
            if !ks.iter().any(|k| map.contains_key(k)) {
                return Ok(m.clone());
            }
            let mut m2 = (**map).clone();
            for k in ks {
                m2.remove(k);
            }
            Ok(Value::Map(Arc::new(m2)))
        }
        _ => Err(type_err("dissoc", "a map", m)),
    }
}

/// `(keys m)` / `(vals m)`: vectors in the map's iteration order (`[]` for nil).
pub fn keys(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("keys", args, [m]);
    match m {
        Value::Map(map) => Ok(vector(map.keys().cloned().collect())),
        Value::Nil => Ok(crate::util::empty_vector()),
        _ => Err(type_err("keys", "a map", m)),
    }
}

pub fn vals(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("vals", args, [m]);
    match m {
        Value::Map(map) => Ok(vector(map.values().cloned().collect())),
        Value::Nil => Ok(crate::util::empty_vector()),
        _ => Err(type_err("vals", "a map", m)),
    }
}

/// `(merge & maps)`: later keys win; nil arguments are skipped.
pub fn merge(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let mut acc: Option<Map> = None;
    for a in args {
        match a {
            Value::Nil => {}
            Value::Map(m) => match &mut acc {
                None => acc = Some((**m).clone()),
                Some(out) => {
                    for (k, v) in m.iter() {
                        out.insert(k.clone(), v.clone());
                    }
                }
            },
            _ => return Err(type_err("merge", "a map", a)),
        }
    }
    Ok(Value::Map(Arc::new(acc.unwrap_or_default())))
}

/// `(merge-with f & maps)`: on key clashes the value is `(f old new)`.
pub fn merge_with(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let Some((f, maps)) = args.split_first() else {
        return Err(crate::util::arity("merge-with", 0));
    };
    let mut out = Map::new();
    for a in maps {
        match a {
            Value::Nil => {}
            Value::Map(m) => {
                for (k, v) in m.iter() {
                    let nv = match out.get(k) {
                        Some(old) => call(env, f, &[old.clone(), v.clone()])?,
                        None => v.clone(),
                    };
                    out.insert(k.clone(), nv);
                }
            }
            _ => return Err(type_err("merge-with", "a map", a)),
        }
    }
    Ok(Value::Map(Arc::new(out)))
}

/// `(select-keys m ks)`.
pub fn select_keys(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("select-keys", args, [m, ks]);
    let ks = items("select-keys", ks)?;
    let mut out = Map::new();
    match m {
        Value::Nil => {}
        Value::Map(map) => {
            for k in ks.seq().iter() {
                if let Some(v) = map.get(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        _ => return Err(type_err("select-keys", "a map", m)),
    }
    Ok(Value::Map(Arc::new(out)))
}

/// `(rename-keys m kmap)`.
pub fn rename_keys(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("rename-keys", args, [m, kmap]);
    let (Value::Map(map), Value::Map(kmap)) = (m, kmap) else {
        let bad = if matches!(m, Value::Map(_)) { kmap } else { m };
        return Err(type_err("rename-keys", "a map", bad));
    };
    let mut out = (**map).clone();
    for (old, _) in kmap.iter() {
        out.remove(old);
    }
    for (old, new) in kmap.iter() {
        if let Some(v) = map.get(old) {
            out.insert(new.clone(), v.clone());
        }
    }
    Ok(Value::Map(Arc::new(out)))
}

/// `(contains? coll x)`: map key or set member; for vectors, lists and strings, element
/// (or substring) membership, as older RTFS did; nil contains nothing.
pub fn contains_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("contains?", args, [coll, x]);
    Ok(Value::Bool(match coll {
        Value::Map(m) => m.contains_key(x),
        Value::Set(s) => s.contains(x),
        Value::Vector(s) | Value::List(s) => s.iter().any(|e| e == x),
        Value::Str(s) => match x {
            Value::Str(sub) => s.contains(sub.as_str()),
            _ => false,
        },
        Value::Nil => false,
        _ => return Err(type_err("contains?", "a collection", coll)),
    }))
}

/// `(find m k)`: the entry `[k v]`, or nil.
pub fn find(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("find", args, [coll, k]);
    match coll {
        Value::Map(m) => Ok(m.get(k).map_or(Value::Nil, |v| pair(k.clone(), v.clone()))),
        Value::Vector(_) | Value::Nil => {
            Ok(get_key(coll, k).map_or(Value::Nil, |v| pair(k.clone(), v)))
        }
        _ => Err(type_err("find", "a map", coll)),
    }
}

fn entry_part(name: &str, e: &Value, idx: usize) -> RtResult<Value> {
    match e {
        Value::Vector(s) | Value::List(s) if s.len() == 2 => Ok(s[idx].clone()),
        _ => Err(type_err(name, "a map entry", e)),
    }
}

/// `(key e)` / `(val e)` of a map entry `[k v]`.
pub fn key(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("key", args, [e]);
    entry_part("key", e, 0)
}

pub fn val(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("val", args, [e]);
    entry_part("val", e, 1)
}

pub fn vector_(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(vector(args.iter().cloned().collect()))
}

pub fn list(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(crate::util::list(args.iter().cloned().collect()))
}

/// `(vec coll)`: a vector of the collection's elements.
pub fn vec(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("vec", args, [coll]);
    if let Value::Vector(_) = coll {
        return Ok(coll.clone());
    }
    Ok(vector(items("vec", coll)?.into_seq()))
}

pub fn hash_map(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    if !args.len().is_multiple_of(2) {
        return Err(RtError::arity(
            "hash-map",
            "an even number (key/value pairs)",
            args.len(),
        ));
    }
    let mut m = Map::new();
    for kv in args.chunks_exact(2) {
        m.insert(kv[0].clone(), kv[1].clone());
    }
    Ok(Value::Map(Arc::new(m)))
}

pub fn hash_set(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Set(Arc::new(Set::from_items(args.iter().cloned()))))
}

/// `(set coll)`.
pub fn set(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("set", args, [coll]);
    if let Value::Set(_) = coll {
        return Ok(coll.clone());
    }
    let xs = items("set", coll)?;
    Ok(Value::Set(Arc::new(Set::from_items(
        xs.seq().iter().cloned(),
    ))))
}

/// Adds one `[k v]` pair to a map.
fn conj_map(name: &str, m: &mut Map, x: &Value) -> RtResult<()> {
    match x {
        Value::Vector(s) | Value::List(s) if s.len() == 2 => {
            m.insert(s[0].clone(), s[1].clone());
            Ok(())
        }
        _ => Err(type_err(name, "a [key value] pair", x)),
    }
}

/// Adds `xs` to `coll` the way `conj` does: vectors append, lists prepend, maps take
/// `[k v]` pairs, sets add; nil becomes a vector.
fn conj_all(name: &str, coll: &Value, xs: &mut dyn Iterator<Item = Value>) -> RtResult<Value> {
    match coll {
        Value::Vector(s) => {
            let mut s2 = (**s).clone();
            for x in xs {
                s2.push_back(x);
                check_size(name, s2.len())?;
            }
            Ok(vector(s2))
        }
        Value::Nil => {
            let mut s2 = Seq::new();
            for x in xs {
                s2.push_back(x);
                check_size(name, s2.len())?;
            }
            Ok(vector(s2))
        }
        Value::List(s) => {
            let mut s2 = (**s).clone();
            for x in xs {
                s2.push_front(x);
                check_size(name, s2.len())?;
            }
            Ok(crate::util::list(s2))
        }
        Value::Map(m) => {
            let mut m2 = (**m).clone();
            for x in xs {
                conj_map(name, &mut m2, &x)?;
            }
            Ok(Value::Map(Arc::new(m2)))
        }
        Value::Set(s) => {
            let mut s2 = (**s).clone();
            for x in xs {
                s2.insert(x);
            }
            Ok(Value::Set(Arc::new(s2)))
        }
        _ => Err(type_err(name, "a collection", coll)),
    }
}

/// `(conj coll & xs)`.
pub fn conj(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [] => Ok(crate::util::empty_vector()),
        [coll, xs @ ..] => conj_all("conj", coll, &mut xs.iter().cloned()),
    }
}

/// `(disj set & xs)`.
pub fn disj(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let Some((coll, xs)) = args.split_first() else {
        return Err(crate::util::arity("disj", 0));
    };
    match coll {
        Value::Nil => Ok(Value::Nil),
        Value::Set(s) => {
            let mut s2 = (**s).clone();
            for x in xs {
                s2.remove(x);
            }
            Ok(Value::Set(Arc::new(s2)))
        }
        _ => Err(type_err("disj", "a set", coll)),
    }
}

/// `(into to from)`: conj every element of `from` onto `to`.
pub fn into(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [] => Ok(crate::util::empty_vector()),
        [to] => Ok(to.clone()),
        [to, from] => {
            let xs = items("into", from)?;
            if let (Value::Vector(a), Items::Borrowed(b)) = (to, &xs) {
                check_size("into", a.len() + b.len())?;
                let mut s = (**a).clone();
                s.append((*b).clone());
                return Ok(vector(s));
            }
            conj_all("into", to, &mut xs.seq().iter().cloned())
        }
        _ => Err(crate::util::arity("into", args.len())),
    }
}

/// `(count coll)`: O(1) for collections; characters for strings; 0 for nil.
pub fn count(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("count", args, [coll]);
    let n = match coll {
        Value::Vector(s) | Value::List(s) => s.len(),
        Value::Map(m) => m.len(),
        Value::Set(s) => s.len(),
        Value::Str(s) => crate::char_index::char_count(s),
        Value::Nil => 0,
        _ => return Err(type_err("count", "a collection", coll)),
    };
    Ok(Value::Int(n as i64))
}

/// `(empty coll)`: an empty collection of the same type.
pub fn empty(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("empty", args, [coll]);
    Ok(match coll {
        Value::Vector(_) => crate::util::empty_vector(),
        Value::List(_) => crate::util::list(Seq::new()),
        Value::Map(_) => Value::Map(Arc::new(Map::new())),
        Value::Set(_) => Value::Set(Arc::new(Set::new())),
        Value::Str(_) => Value::str(""),
        _ => Value::Nil,
    })
}

/// `(zipmap ks vs)`.
pub fn zipmap(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("zipmap", args, [ks, vs]);
    let ks = items("zipmap", ks)?;
    let vs = items("zipmap", vs)?;
    let mut m = Map::new();
    for (k, v) in ks.seq().iter().zip(vs.seq().iter()) {
        m.insert(k.clone(), v.clone());
    }
    Ok(Value::Map(Arc::new(m)))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    fn abc() -> Value {
        m(&[(kw("a"), i(1)), (kw("b"), i(2)), (kw("c"), i(3))])
    }

    #[test]
    fn get_and_get_in() {
        assert_eq!(call("get", &[abc(), kw("a")]), i(1));
        assert_eq!(call("get", &[abc(), kw("z")]), Value::Nil);
        assert_eq!(call("get", &[abc(), kw("z"), kw("d")]), kw("d"));
        assert_eq!(call("get", &[Value::Nil, kw("a")]), Value::Nil);
        assert_eq!(call("get", &[ints(&[10, 20, 30]), i(1)]), i(20));
        assert_eq!(call("get", &[ints(&[1, 2, 3]), i(5)]), Value::Nil);
        assert_eq!(call("get", &[ints(&[1, 2, 3]), i(-1), kw("d")]), kw("d"));
        assert_eq!(call("get", &[s("héllo"), i(1)]), s("é"));
        let nested = m(&[(kw("a"), m(&[(kw("b"), ints(&[7, 8]))]))]);
        assert_eq!(
            call("get-in", &[nested.clone(), v([kw("a"), kw("b"), i(1)])]),
            i(8)
        );
        assert_eq!(call("get-in", &[nested, v([kw("x"), kw("y")]), i(0)]), i(0));
        let vv = v([ints(&[1, 2]), ints(&[3, 4])]);
        assert_eq!(call("get-in", &[vv, ints(&[1, 0])]), i(3));
    }

    #[test]
    fn assoc_family() {
        let r = call(
            "assoc",
            &[m(&[(kw("a"), i(1))]), kw("b"), i(2), kw("c"), i(3)],
        );
        assert_eq!(r, abc());
        assert_eq!(
            call("assoc", &[Value::Nil, kw("a"), i(1)]),
            m(&[(kw("a"), i(1))])
        );
        assert_eq!(
            call("assoc", &[ints(&[1, 2, 3]), i(1), s("x")]),
            v([i(1), s("x"), i(3)])
        );
        assert_eq!(call("assoc", &[ints(&[1]), i(1), i(2)]), ints(&[1, 2]));
        assert_eq!(
            err_kind("assoc", &[ints(&[1]), i(5), i(2)]),
            "index-out-of-bounds"
        );
        assert_eq!(err_kind("assoc", &[i(1), i(5), i(2)]), "type-error");
        assert_eq!(err_kind("assoc", &[abc(), kw("x")]), "arity-error");
        let r = call(
            "assoc-in",
            &[
                m(&[(kw("u"), m(&[]))]),
                v([kw("u"), kw("p"), kw("n")]),
                s("Eve"),
            ],
        );
        assert_eq!(
            r,
            m(&[(kw("u"), m(&[(kw("p"), m(&[(kw("n"), s("Eve"))]))]))])
        );
        let r = call(
            "assoc-in",
            &[v([ints(&[1, 2]), ints(&[3, 4])]), ints(&[0, 1]), kw("x")],
        );
        assert_eq!(r, v([v([i(1), kw("x")]), ints(&[3, 4])]));
        assert_eq!(
            call("dissoc", &[abc(), kw("b"), kw("c")]),
            m(&[(kw("a"), i(1))])
        );
        assert_eq!(call("dissoc", &[Value::Nil, kw("b")]), Value::Nil);
    }

    #[test]
    fn update_family() {
        let r = call("update", &[m(&[(kw("n"), i(5))]), kw("n"), func("inc")]);
        assert_eq!(r, m(&[(kw("n"), i(6))]));
        let r = call(
            "update",
            &[m(&[(kw("xs"), ints(&[]))]), kw("xs"), func("conj"), s("a")],
        );
        assert_eq!(r, m(&[(kw("xs"), v([s("a")]))]));
        assert_eq!(
            call("update", &[ints(&[1, 2, 3]), i(0), func("inc")]),
            ints(&[2, 2, 3])
        );
        assert_eq!(
            err_kind("update", &[ints(&[1]), i(3), func("inc")]),
            "index-out-of-bounds"
        );
        assert_eq!(err_kind("update", &[abc(), kw("a"), i(3)]), "not-callable");
        let r = call("update", &[m(&[]), kw("n"), i(10), func("inc")]);
        assert_eq!(r, m(&[(kw("n"), i(11))]));
        let e = rtfs_ir::RtError::with_data("boom", "msg", i(1)).into_value();
        assert_eq!(call("get", &[e.clone(), kw("type")]), kw("boom"));
        assert_eq!(call("get", &[e.clone(), kw("message")]), s("msg"));
        assert_eq!(call("get", &[e, kw("data")]), i(1));
        let cm = m(&[(kw("c"), m(&[(kw("a"), i(1)), (kw("b"), i(2))]))]);
        let r = call("update-in", &[cm, v([kw("c"), kw("a")]), func("+"), i(10)]);
        assert_eq!(r, m(&[(kw("c"), m(&[(kw("a"), i(11)), (kw("b"), i(2))]))]));
    }

    #[test]
    fn keys_vals_merge() {
        assert_eq!(call("keys", &[abc()]), v([kw("a"), kw("b"), kw("c")]));
        assert_eq!(call("vals", &[abc()]), ints(&[1, 2, 3]));
        assert_eq!(call("keys", &[Value::Nil]), v([]));
        assert_eq!(err_kind("keys", &[ints(&[1])]), "type-error");
        let r = call(
            "merge",
            &[
                m(&[(kw("a"), i(1)), (kw("b"), i(2))]),
                m(&[(kw("b"), i(3)), (kw("c"), i(4))]),
            ],
        );
        assert_eq!(r, m(&[(kw("a"), i(1)), (kw("b"), i(3)), (kw("c"), i(4))]));
        assert_eq!(call("merge", &[]), m(&[]));
        let r = call(
            "merge-with",
            &[func("+"), m(&[(kw("a"), i(1))]), m(&[(kw("a"), i(2))])],
        );
        assert_eq!(r, m(&[(kw("a"), i(3))]));
        assert_eq!(
            call("select-keys", &[abc(), v([kw("a"), kw("c"), kw("z")])]),
            m(&[(kw("a"), i(1)), (kw("c"), i(3))])
        );
        let r = call(
            "rename-keys",
            &[
                m(&[(kw("a"), i(1)), (kw("b"), i(2))]),
                m(&[(kw("a"), kw("b")), (kw("b"), kw("a"))]),
            ],
        );
        assert_eq!(r, m(&[(kw("b"), i(1)), (kw("a"), i(2))]));
    }

    #[test]
    fn membership_and_construction() {
        assert_eq!(call("contains?", &[abc(), kw("a")]), b(true));
        assert_eq!(call("contains?", &[abc(), kw("z")]), b(false));
        assert_eq!(call("contains?", &[ints(&[1, 2, 3]), i(2)]), b(true));
        assert_eq!(call("contains?", &[v([kw("a")]), kw("a")]), b(true));
        assert_eq!(call("contains?", &[s("hello"), s("ll")]), b(true));
        assert_eq!(call("contains?", &[Value::Nil, i(1)]), b(false));
        assert_eq!(err_kind("contains?", &[i(1), i(1)]), "type-error");
        assert_eq!(call("find", &[abc(), kw("a")]), v([kw("a"), i(1)]));
        assert_eq!(call("find", &[abc(), kw("z")]), Value::Nil);
        assert_eq!(call("hash-map", &[kw("a"), i(1)]), m(&[(kw("a"), i(1))]));
        assert_eq!(err_kind("hash-map", &[kw("a")]), "arity-error");
        assert_eq!(call("count", &[call("set", &[ints(&[1, 2, 2, 3])])]), i(3));
        assert_eq!(call("count", &[call("hash-set", &[i(1), i(1)])]), i(1));
        assert_eq!(call("vec", &[Value::list([i(1)])]), ints(&[1]));
        assert_eq!(call("vec", &[Value::Nil]), v([]));
        assert_eq!(
            call("zipmap", &[v([kw("a"), kw("b")]), ints(&[1, 2, 3])]),
            m(&[(kw("a"), i(1)), (kw("b"), i(2))])
        );
        assert_eq!(call("key", &[v([kw("a"), i(1)])]), kw("a"));
        assert_eq!(call("val", &[v([kw("a"), i(1)])]), i(1));
    }

    #[test]
    fn conj_and_into() {
        assert_eq!(
            call("conj", &[ints(&[1, 2]), i(3), i(4)]),
            ints(&[1, 2, 3, 4])
        );
        assert_eq!(
            call("conj", &[Value::list([i(1)]), i(2), i(3)]),
            Value::list([i(3), i(2), i(1)])
        );
        assert!(matches!(
            call("conj", &[Value::list([i(1)]), i(2)]),
            Value::List(_)
        ));
        assert_eq!(call("conj", &[Value::Nil, i(1)]), ints(&[1]));
        assert_eq!(
            call("conj", &[m(&[]), v([kw("a"), i(1)])]),
            m(&[(kw("a"), i(1))])
        );
        assert_eq!(err_kind("conj", &[m(&[]), i(1)]), "type-error");
        assert_eq!(
            call(
                "count",
                &[call("conj", &[call("hash-set", &[i(1)]), i(1), i(2)])]
            ),
            i(2)
        );
        assert_eq!(
            call(
                "into",
                &[m(&[]), v([v([kw("a"), i(1)]), v([kw("b"), i(2)])])]
            ),
            m(&[(kw("a"), i(1)), (kw("b"), i(2))])
        );
        assert_eq!(
            call("into", &[v([]), m(&[(kw("a"), i(1))])]),
            v([v([kw("a"), i(1)])])
        );
        assert_eq!(call("into", &[ints(&[1]), ints(&[2, 3])]), ints(&[1, 2, 3]));
        assert_eq!(
            call("into", &[Value::list([]), ints(&[1, 2])]),
            Value::list([i(2), i(1)])
        );
        assert_eq!(
            call("disj", &[call("hash-set", &[i(1), i(2)]), i(1)]),
            call("hash-set", &[i(2)])
        );
        assert_eq!(call("count", &[m(&[(i(1), i(2))])]), i(1));
        assert_eq!(call("count", &[Value::Nil]), i(0));
        assert_eq!(err_kind("count", &[i(3)]), "type-error");
        assert_eq!(
            err_msg("count", &[i(3)]),
            "count expects a collection, got int"
        );
    }
}
