//! The interpreter's state after a callback that unwinds: compiled code catches a panic in
//! a callback and bails, and the re-run must start from the state the callback found.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rtfs_ir::{Env, Value};

use super::Interp;
use crate::runtime::Runtime;

fn runtime_with_boom() -> Runtime {
    let mut rt = Runtime::new();
    rt.register_fn("boom", 1, 1, |_, _| panic!("a host function with a bug"));
    rt
}

#[test]
fn a_panic_in_a_callback_leaves_depth_and_stack_as_they_were() {
    let mut rt = runtime_with_boom();
    // Two closure frames deep when the host function panics.
    let f = rt
        .eval_str("(fn [x] ((fn [y] (inc (boom y))) x))")
        .expect("a function");
    let mut it = Interp::new(rt.state_mut());
    it.stack.push(Value::Int(7));
    it.sensitive_scope = 1;
    let r = catch_unwind(AssertUnwindSafe(|| it.apply(&f, &[Value::Int(1)])));
    assert!(r.is_err(), "the host function panics");
    assert_eq!(it.depth, 0);
    assert_eq!(it.stack, [Value::Int(7)]);
    assert_eq!(it.sensitive_scope, 1);
    assert_eq!((it.pure_only, it.jit_suppressed, it.recur), (0, 0, false));
}

#[test]
fn a_callback_that_returns_leaves_the_same_state() {
    let mut rt = Runtime::new();
    let f = rt.eval_str("(fn [x] (* x 6))").expect("a function");
    let mut it = Interp::new(rt.state_mut());
    assert_eq!(it.apply(&f, &[Value::Int(7)]).ok(), Some(Value::Int(42)));
    assert_eq!((it.depth, it.stack.len()), (0, 0));
}
