//! Atoms, the one mutable reference type: `atom deref reset! swap! compare-and-set!
//! assoc!`.
//!
//! `swap!` never holds the lock while calling the update function (which may itself use the
//! atom); it retries, compare-and-set style, if another branch changed the atom meanwhile.

use std::sync::{Arc, Mutex, MutexGuard};

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Value};

use crate::util::{args, call, type_err};

const SWAP_RETRIES: usize = 1_000;

fn cell<'a>(name: &str, a: &'a Value) -> RtResult<&'a Arc<Mutex<Value>>> {
    match a {
        Value::Atom(c) => Ok(c),
        _ => Err(type_err(name, "an atom", a)),
    }
}

/// Locks, recovering from poisoning (a panic elsewhere must not wedge RTFS code).
fn lock(c: &Mutex<Value>) -> MutexGuard<'_, Value> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

fn same(a: &Value, b: &Value) -> bool {
    // Identity first (cheap, and right for values that are not equal to themselves).
    match (a, b) {
        (Value::Vector(x), Value::Vector(y)) | (Value::List(x), Value::List(y)) => {
            Arc::ptr_eq(x, y) || x == y
        }
        (Value::Map(x), Value::Map(y)) => Arc::ptr_eq(x, y) || x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// `(atom x)`.
pub fn atom(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("atom", args, [x]);
    Ok(Value::Atom(Arc::new(Mutex::new(x.clone()))))
}

/// `(deref a)` (also `@a`); on a delay, forces it.
pub fn deref(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("deref", args, [a]);
    let v = lock(cell("deref", a)?).clone();
    if delay_state(&v).is_some() {
        return force(env, args);
    }
    Ok(v)
}

/// A delay is an atom holding `{:rtfs.delay/thunk f}` until forced, then
/// `{:rtfs.delay/value v}`: the one mutable cell type serves both, and `deref` forces.
const THUNK: &str = "rtfs.delay/thunk";
const DONE: &str = "rtfs.delay/value";

enum DelayState {
    Pending(Value),
    Done(Value),
}

fn delay_state(v: &Value) -> Option<DelayState> {
    let Value::Map(m) = v else { return None };
    if m.len() != 1 {
        return None;
    }
    if let Some(f) = m.get(&Value::keyword(THUNK)) {
        return Some(DelayState::Pending(f.clone()));
    }
    m.get(&Value::keyword(DONE))
        .map(|v| DelayState::Done(v.clone()))
}

/// `(make-delay f)`: what `(delay body…)` compiles to, with `f` = `(fn [] body…)`.
pub fn make_delay(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("make-delay", args, [f]);
    if !f.is_fn() {
        return Err(type_err("make-delay", "a function", f));
    }
    let cell = Value::map([(Value::keyword(THUNK), f.clone())]);
    Ok(Value::Atom(Arc::new(Mutex::new(cell))))
}

/// `(force x)`: the value of a delay, computed once (the body runs at the first force);
/// any other value is returned as it is (as Clojure).
pub fn force(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("force", args, [x]);
    let Value::Atom(c) = x else {
        return Ok(x.clone());
    };
    let current = lock(c).clone();
    match delay_state(&current) {
        None => Ok(x.clone()),
        Some(DelayState::Done(v)) => Ok(v),
        Some(DelayState::Pending(f)) => {
            // The lock is not held while the body runs (it may force this delay again).
            let v = call(env, &f, &[])?;
            let mut guard = lock(c);
            if let Some(DelayState::Done(first)) = delay_state(&guard) {
                return Ok(first);
            }
            *guard = Value::map([(Value::keyword(DONE), v.clone())]);
            Ok(v)
        }
    }
}

/// `(realized? d)`: whether a delay has been forced.
pub fn realized_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("realized?", args, [x]);
    let v = lock(cell("realized?", x)?).clone();
    match delay_state(&v) {
        Some(DelayState::Done(_)) => Ok(Value::Bool(true)),
        Some(DelayState::Pending(_)) => Ok(Value::Bool(false)),
        None => Err(type_err("realized?", "a delay", x)),
    }
}

/// `(delay? x)`.
pub fn delay_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("delay?", args, [x]);
    Ok(Value::Bool(match x {
        Value::Atom(c) => delay_state(&lock(c)).is_some(),
        _ => false,
    }))
}

/// `(reset! a x)`: sets the value and returns it.
pub fn reset(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("reset!", args, [a, x]);
    *lock(cell("reset!", a)?) = x.clone();
    Ok(x.clone())
}

/// `(swap! a f & args)`: sets the value to `(f old args...)` and returns it.
pub fn swap(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [a, f, extra @ ..] = args else {
        return Err(crate::util::arity("swap!", args.len()));
    };
    let c = cell("swap!", a)?;
    let mut cargs: Vec<Value> = Vec::with_capacity(1 + extra.len());
    for _ in 0..SWAP_RETRIES {
        let old = lock(c).clone();
        cargs.clear();
        cargs.push(old.clone());
        cargs.extend_from_slice(extra);
        let new = call(env, f, &cargs)?;
        let mut guard = lock(c);
        if same(&guard, &old) {
            *guard = new.clone();
            return Ok(new);
        }
    }
    Err(RtError::new(
        kind::LIMIT,
        format!("swap!: the atom kept changing during {SWAP_RETRIES} attempts"),
    ))
}

/// `(compare-and-set! a old new)`: sets to new only if the current value equals old.
pub fn compare_and_set(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("compare-and-set!", args, [a, old, new]);
    let mut guard = lock(cell("compare-and-set!", a)?);
    if same(&guard, old) {
        *guard = new.clone();
        Ok(Value::Bool(true))
    } else {
        Ok(Value::Bool(false))
    }
}

/// `(assoc! a k v & kvs)`: `(swap! a assoc k v ...)` for an atom holding a map (or nil);
/// returns nil (older RTFS).
pub fn assoc_bang(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [a, kvs @ ..] = args else {
        return Err(crate::util::arity("assoc!", 0));
    };
    if kvs.is_empty() || kvs.len() % 2 != 0 {
        return Err(RtError::arity(
            "assoc!",
            "an atom then key/value pairs",
            args.len(),
        ));
    }
    let c = cell("assoc!", a)?;
    let mut guard = lock(c);
    let mut acc = guard.clone();
    for kv in kvs.chunks_exact(2) {
        acc = crate::colls::assoc1("assoc!", &acc, kv[0].clone(), kv[1].clone())?;
    }
    *guard = acc;
    Ok(Value::Nil)
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;

    #[test]
    fn atom_lifecycle() {
        let a = call("atom", &[i(0)]);
        assert_eq!(call("swap!", &[a.clone(), func("inc")]), i(1));
        for n in 0..5 {
            call("swap!", &[a.clone(), func("+"), i(n)]);
        }
        assert_eq!(call("deref", &[a.clone()]), i(11));
        assert_eq!(call("reset!", &[a.clone(), kw("x")]), kw("x"));
        assert_eq!(call("deref", &[a.clone()]), kw("x"));
        assert_eq!(
            call("compare-and-set!", &[a.clone(), kw("y"), i(1)]),
            b(false)
        );
        assert_eq!(
            call("compare-and-set!", &[a.clone(), kw("x"), i(1)]),
            b(true)
        );
        assert_eq!(call("deref", &[a.clone()]), i(1));
        assert_eq!(err_kind("deref", &[i(1)]), "type-error");
        assert_eq!(err_kind("swap!", &[a.clone(), i(1)]), "not-callable");
        assert_eq!(err_kind("swap!", &[a, func("inc"), i(1)]), "arity-error");
        assert_eq!(call("atom?", &[call("atom", &[i(1)])]), b(true));
        let mm = call("atom", &[m(&[(kw("x"), i(1))])]);
        assert_eq!(
            call("assoc!", &[mm.clone(), kw("y"), i(2)]),
            rtfs_ir::Value::Nil
        );
        assert_eq!(call("deref", &[mm]), m(&[(kw("x"), i(1)), (kw("y"), i(2))]));
    }
}
