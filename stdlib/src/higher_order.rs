//! Functions on functions: `apply identity constantly comp partial juxt complement fnil
//! every-pred some-fn min-key max-key`. Functions built here are `Value::Native` closures.

use std::sync::Arc;

use rtfs_ir::func::NativeFn;
use rtfs_ir::{Env, RtResult, VARIADIC, Value};

use crate::util::{args, call, call1, is_seqable, items, type_err};

fn native(
    name: &str,
    f: impl Fn(&mut dyn Env, &[Value]) -> RtResult<Value> + Send + Sync + 'static,
) -> Value {
    Value::Native(Arc::new(NativeFn {
        name: name.to_string(),
        min_args: 0,
        max_args: VARIADIC,
        func: Box::new(f),
    }))
}

/// `(apply f x y ... coll)`: calls f with the leading arguments and the elements of coll.
pub fn apply(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [f, mid @ .., last] = args else {
        return Err(crate::util::arity("apply", args.len()));
    };
    if !is_seqable(last) {
        return Err(type_err("apply", "a collection as its last argument", last));
    }
    let xs = items("apply", last)?;
    let mut cargs: Vec<Value> = Vec::with_capacity(mid.len() + xs.seq().len());
    cargs.extend_from_slice(mid);
    cargs.extend(xs.seq().iter().cloned());
    call(env, f, &cargs)
}

pub fn identity(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("identity", args, [a]);
    Ok(a.clone())
}

/// `(constantly x)`: a function of any arguments returning x.
pub fn constantly(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("constantly", args, [x]);
    let x = x.clone();
    Ok(native("constantly", move |_, _| Ok(x.clone())))
}

/// `(comp f g h)`: `(f (g (h args...)))`; `(comp)` is identity.
pub fn comp(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [] => Ok(Value::Builtin(
            crate::registry::lookup("identity").ok_or_else(|| crate::util::arity("comp", 0))?,
        )),
        [f] => Ok(f.clone()),
        _ => {
            let fs: Vec<Value> = args.to_vec();
            Ok(native("comp", move |env, cargs| {
                let Some((innermost, outer)) = fs.split_last() else {
                    return Ok(Value::Nil);
                };
                let mut acc = call(env, innermost, cargs)?;
                for f in outer.iter().rev() {
                    acc = call1(env, f, &acc)?;
                }
                Ok(acc)
            }))
        }
    }
}

/// `(partial f a b)`: a function of more arguments calling `(f a b more...)`.
pub fn partial(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [f, fixed @ ..] = args else {
        return Err(crate::util::arity("partial", 0));
    };
    if fixed.is_empty() {
        return Ok(f.clone());
    }
    let f = f.clone();
    let fixed: Vec<Value> = fixed.to_vec();
    Ok(native("partial", move |env, more| {
        let mut cargs = Vec::with_capacity(fixed.len() + more.len());
        cargs.extend_from_slice(&fixed);
        cargs.extend_from_slice(more);
        call(env, &f, &cargs)
    }))
}

/// `(juxt f g)`: a function returning `[(f args...) (g args...)]`.
pub fn juxt(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    if args.is_empty() {
        return Err(crate::util::arity("juxt", 0));
    }
    let fs: Vec<Value> = args.to_vec();
    Ok(native("juxt", move |env, cargs| {
        let mut out = rtfs_ir::Seq::new();
        for f in &fs {
            out.push_back(call(env, f, cargs)?);
        }
        Ok(crate::util::vector(out))
    }))
}

/// `(complement f)`: a function returning the boolean negation of f.
pub fn complement(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("complement", args, [f]);
    let f = f.clone();
    Ok(native("complement", move |env, cargs| {
        Ok(Value::Bool(!call(env, &f, cargs)?.truthy()))
    }))
}

/// `(fnil f default)`: f, with a nil first argument replaced by default.
pub fn fnil(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [f, defaults @ ..] = args else {
        return Err(crate::util::arity("fnil", 0));
    };
    let f = f.clone();
    let defaults: Vec<Value> = defaults.to_vec();
    Ok(native("fnil", move |env, cargs| {
        let patched: Vec<Value> = cargs
            .iter()
            .enumerate()
            .map(|(n, a)| match (a, defaults.get(n)) {
                (Value::Nil, Some(d)) => d.clone(),
                _ => a.clone(),
            })
            .collect();
        call(env, &f, &patched)
    }))
}

/// `(every-pred p q)`: a predicate true when every p holds for every argument.
pub fn every_pred(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    if args.is_empty() {
        return Err(crate::util::arity("every-pred", 0));
    }
    let ps: Vec<Value> = args.to_vec();
    Ok(native("every-pred", move |env, cargs| {
        for p in &ps {
            for a in cargs {
                if !call1(env, p, a)?.truthy() {
                    return Ok(Value::Bool(false));
                }
            }
        }
        Ok(Value::Bool(true))
    }))
}

/// `(some-fn p q)`: a function returning the first truthy `(p arg)`, or nil.
pub fn some_fn(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    if args.is_empty() {
        return Err(crate::util::arity("some-fn", 0));
    }
    let ps: Vec<Value> = args.to_vec();
    Ok(native("some-fn", move |env, cargs| {
        for p in &ps {
            for a in cargs {
                let r = call1(env, p, a)?;
                if r.truthy() {
                    return Ok(r);
                }
            }
        }
        Ok(Value::Nil)
    }))
}

/// `(memoize f)`: f with a cache of results by argument list (shared by all callers).
pub fn memoize(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("memoize", args, [f]);
    let f = f.clone();
    let cache: std::sync::Mutex<rtfs_ir::Map> = std::sync::Mutex::new(rtfs_ir::Map::new());
    Ok(native("memoize", move |env, cargs| {
        let key = crate::util::vector(cargs.iter().cloned().collect());
        let hit = cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(v) = hit {
            return Ok(v);
        }
        let v = call(env, &f, cargs)?;
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, v.clone());
        Ok(v)
    }))
}

fn by_key(name: &str, env: &mut dyn Env, args: &[Value], greatest: bool) -> RtResult<Value> {
    let [k, xs @ ..] = args else {
        return Err(crate::util::arity(name, args.len()));
    };
    let Some((first, rest)) = xs.split_first() else {
        return Err(crate::util::arity(name, args.len()));
    };
    let mut best = first;
    let mut best_key = call1(env, k, first)?;
    if !crate::num::is_number(&best_key) {
        return Err(type_err(
            name,
            "a key function returning numbers",
            &best_key,
        ));
    }
    // On ties the last one wins, as in Clojure.
    for x in rest {
        let kx = call1(env, k, x)?;
        let better = if greatest {
            crate::num::ge(&kx, &best_key)
        } else {
            crate::num::le(&kx, &best_key)
        }
        .map_err(|_| type_err(name, "a key function returning numbers", &kx))?;
        if better.truthy() {
            best = x;
            best_key = kx;
        }
    }
    Ok(best.clone())
}

/// `(min-key k x & more)` / `(max-key k x & more)`: the x whose `(k x)` is least/greatest.
pub fn min_key(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    by_key("min-key", env, args, false)
}

pub fn max_key(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    by_key("max-key", env, args, true)
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    fn call_fn(f: &Value, args: &[Value]) -> Value {
        let mut env = TestEnv::default();
        crate::util::call(&mut env, f, args).expect("call")
    }

    #[test]
    fn apply_and_identity() {
        assert_eq!(call("apply", &[func("+"), ints(&[1, 2, 3])]), i(6));
        assert_eq!(call("apply", &[func("+"), i(1), i(2), ints(&[3])]), i(6));
        assert_eq!(call("apply", &[func("min"), ints(&[5, 2, 8, 1, 9])]), i(1));
        assert_eq!(call("apply", &[func("+"), Value::Nil]), i(0));
        assert_eq!(err_kind("apply", &[func("+"), i(1)]), "type-error");
        assert_eq!(err_kind("apply", &[i(1), ints(&[])]), "not-callable");
        assert_eq!(call("identity", &[kw("x")]), kw("x"));
    }

    #[test]
    fn combinators() {
        let k = call("constantly", &[i(7)]);
        assert_eq!(call_fn(&k, &[i(1), i(2)]), i(7));
        let c = call("comp", &[func("inc"), func("+")]);
        assert_eq!(call_fn(&c, &[i(1), i(2)]), i(4));
        let id = call("comp", &[]);
        assert_eq!(call_fn(&id, &[i(1)]), i(1));
        let p = call("partial", &[func("+"), i(10)]);
        assert_eq!(call_fn(&p, &[i(1), i(2)]), i(13));
        let j = call("juxt", &[func("first"), func("count")]);
        assert_eq!(call_fn(&j, &[ints(&[5, 6])]), v([i(5), i(2)]));
        let n = call("complement", &[func("even?")]);
        assert_eq!(call_fn(&n, &[i(3)]), b(true));
        let fz = call("fnil", &[func("inc"), i(0)]);
        assert_eq!(call_fn(&fz, &[Value::Nil]), i(1));
        let ep = call("every-pred", &[func("int?"), func("pos?")]);
        assert_eq!(call_fn(&ep, &[i(1), i(2)]), b(true));
        assert_eq!(call_fn(&ep, &[i(1), i(-2)]), b(false));
        let sf = call("some-fn", &[func("even?")]);
        assert_eq!(call_fn(&sf, &[i(1), i(2)]), b(true));
        let memo = call("memoize", &[func("inc")]);
        assert_eq!(call_fn(&memo, &[i(4)]), i(5));
        assert_eq!(call_fn(&memo, &[i(4)]), i(5));
        // Natives work as arguments to other higher-order built-ins.
        assert_eq!(call("map", &[p, ints(&[1, 2])]), ints(&[11, 12]));
    }

    #[test]
    fn min_max_key() {
        let xs = [s("aaa"), s("b"), s("cc")];
        let mut args = vec![func("count")];
        args.extend(xs.iter().cloned());
        assert_eq!(call("max-key", &args), s("aaa"));
        assert_eq!(call("min-key", &args), s("b"));
        assert_eq!(
            err_kind("max-key", &[func("str"), i(1), i(2)]),
            "type-error"
        );
    }
}
