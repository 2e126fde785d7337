//! Dropping values without recursing on the native stack.
//!
//! A program can build values nested millions deep (`(reduce (fn [a _] [a]) [] (range
//! 1000000))`, a chain of closures each capturing the last). Rust's drop glue would free
//! them recursively and overflow the stack. Here a value that owns the last reference to a
//! nested payload takes the payload out; payloads are freed recursively up to a small depth
//! and past it queued on a per-thread list that the outermost drop empties in a loop.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::map::Map;
use crate::set::Set;
use crate::value::{Seq, Value};

/// Nested drops run recursively up to this depth (cheap, no queue traffic for ordinary
/// values); deeper payloads wait in the queue.
const MAX_RECURSIVE_DROP: u32 = 64;

// The fields are never read: a payload exists only to be dropped at the right moment.
#[allow(dead_code)]
enum Payload {
    Seq(Seq),
    Map(Map),
    Set(Set),
    Values(Box<[Value]>),
    One(Value),
}

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static PENDING: RefCell<Vec<Payload>> = const { RefCell::new(Vec::new()) };
}

/// Takes the nested payload out of `v` when `v` holds the last reference to it.
fn take_payload(v: &mut Value) -> Option<Payload> {
    // `strong_count` is a plain load: shared values (the common case when a collection is
    // passed around) pay nothing more.
    match v {
        Value::List(a) | Value::Vector(a) if Arc::strong_count(a) == 1 => {
            Arc::get_mut(a).map(|s| Payload::Seq(std::mem::take(s)))
        }
        Value::Map(a) if Arc::strong_count(a) == 1 => {
            Arc::get_mut(a).map(|m| Payload::Map(std::mem::take(m)))
        }
        Value::Set(a) if Arc::strong_count(a) == 1 => {
            Arc::get_mut(a).map(|s| Payload::Set(std::mem::take(s)))
        }
        Value::Fn(c) if Arc::strong_count(c) == 1 => Arc::get_mut(c)
            .filter(|c| !c.captures.is_empty())
            .map(|c| Payload::Values(std::mem::take(&mut c.captures))),
        Value::Atom(a) if Arc::strong_count(a) == 1 => Arc::get_mut(a)
            .and_then(|m| m.get_mut().ok())
            .map(|inner| Payload::One(std::mem::replace(inner, Value::Nil))),
        Value::Error(e) if Arc::strong_count(e) == 1 => Arc::get_mut(e)
            .and_then(|e| e.data.take())
            .map(Payload::One),
        _ => None,
    }
}

impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        if matches!(
            self,
            Value::List(_)
                | Value::Vector(_)
                | Value::Map(_)
                | Value::Set(_)
                | Value::Fn(_)
                | Value::Atom(_)
                | Value::Error(_)
        ) {
            drop_nested(self);
        }
    }
}

#[cold]
fn drop_nested(v: &mut Value) {
    let Some(payload) = take_payload(v) else {
        return;
    };
    // During thread teardown the thread-locals may be gone: fall back to plain recursion.
    let Ok(depth) = DEPTH.try_with(Cell::get) else {
        return;
    };
    if depth >= MAX_RECURSIVE_DROP {
        let mut payload = Some(payload);
        // If the queue is gone (thread teardown), `payload` is dropped here, recursively.
        let _ = PENDING.try_with(|q| {
            if let Some(p) = payload.take() {
                q.borrow_mut().push(p);
            }
        });
        return;
    }
    DEPTH.set(depth + 1);
    drop(payload);
    if depth == 0 {
        // The outermost drop frees what deeper ones queued, one payload at a time; each
        // may queue more, but the native stack never holds more than the bounded depth.
        while let Some(p) = PENDING.with(|q| q.borrow_mut().pop()) {
            drop(p);
        }
    }
    DEPTH.set(depth);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nest(depth: usize) -> Value {
        let mut v = Value::vector([]);
        for _ in 0..depth {
            v = Value::vector([v]);
        }
        v
    }

    #[test]
    fn dropping_a_million_deep_vector_does_not_overflow_the_stack() {
        // A 2 MiB test thread would overflow after a few thousand recursive drops.
        let v = nest(1_000_000);
        drop(v);
    }

    #[test]
    fn deep_maps_and_atoms_drop_iteratively() {
        let mut v = Value::Nil;
        for i in 0..300_000 {
            v = if i % 2 == 0 {
                Value::Map(Arc::new(Map::from_entries([(Value::Int(1), v)])))
            } else {
                Value::Atom(Arc::new(std::sync::Mutex::new(v)))
            };
        }
        drop(v);
    }

    #[test]
    fn shared_payloads_survive_the_drop_of_one_owner() {
        let inner = nest(10);
        let outer = Value::vector([inner.clone(), inner.clone()]);
        drop(outer);
        assert_eq!(inner, nest(10));
    }
}
