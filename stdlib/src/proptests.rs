//! Property test: no built-in panics, whatever the arguments (including wrong arities, which
//! the evaluator normally rejects first), and results of pure built-ins are deterministic.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use rtfs_ir::{RtError, Value};

use crate::BUILTINS;
use crate::testenv::TestEnv;

/// Functions handed to higher-order built-ins.
const FNS: &[&str] = &[
    "inc", "+", "str", "identity", "even?", "vector", "first", "=", "compare", "max", "conj",
    "nil?", "count", "<", "list", "assoc", "keyword", "apply", "partial", "comp", "map",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..40).prop_map(Value::Int),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(-1i64), Just(0i64)].prop_map(Value::Int),
        prop_oneof![
            Just(0.5f64),
            Just(-0.0),
            Just(2.0),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(1e300),
            Just(-3.75)
        ]
        .prop_map(Value::Float),
        prop_oneof![
            Just(""),
            Just("a"),
            Just("héllo wörld"),
            Just("日本語"),
            Just("%s %d %5.2f %x %%"),
            Just("a,b,,c"),
            Just("(\\d+)-(\\w)"),
            Just("{\"k\": [1, 2.5, null]}"),
            Just("["),
            Just("  x  "),
        ]
        .prop_map(Value::str),
        prop_oneof![Just("a"), Just("ns/k"), Just("type"), Just("message")]
            .prop_map(Value::keyword),
        Just(Value::symbol("sym")),
        (0..FNS.len()).prop_map(|i| Value::Builtin(crate::lookup(FNS[i]).expect("fn"))),
        Just(()).prop_map(|_| Value::Atom(Arc::new(Mutex::new(Value::Int(1))))),
        Just(()).prop_map(|_| RtError::with_data("boom", "bad", Value::Int(1)).into_value()),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::vector),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::list),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::set),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Value::map),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn builtins_never_panic(idx in 0..BUILTINS.len(), args in prop::collection::vec(value(), 0..5)) {
        let b = &BUILTINS[idx];
        let mut env = TestEnv::default();
        let _ = (b.func)(&mut env, &args);
    }

    #[test]
    fn every_builtin_with_two_or_three_args(args in prop::collection::vec(value(), 2..4)) {
        for b in BUILTINS {
            let mut env = TestEnv::default();
            let _ = (b.func)(&mut env, &args);
        }
    }

    #[test]
    fn pure_builtins_are_deterministic(idx in 0..BUILTINS.len(), args in prop::collection::vec(value(), 0..4)) {
        let b = &BUILTINS[idx];
        // memoize/constantly/... return fresh closures, which are equal only to themselves.
        if b.pure_fn {
            let r1 = (b.func)(&mut TestEnv::default(), &args);
            let r2 = (b.func)(&mut TestEnv::default(), &args);
            match (r1, r2) {
                (Ok(Value::Native(_)), Ok(Value::Native(_))) => {}
                (Ok(a), Ok(c)) => {
                    if !contains_nan(&a) {
                        prop_assert_eq!(a, c, "{} not deterministic", b.name);
                    }
                }
                (Err(a), Err(c)) => prop_assert_eq!(a.kind(), c.kind()),
                (a, c) => prop_assert!(false, "{}: {:?} vs {:?}", b.name, a, c),
            }
        }
    }
}

fn contains_nan(v: &Value) -> bool {
    match v {
        Value::Float(f) => f.is_nan(),
        Value::List(s) | Value::Vector(s) => s.iter().any(contains_nan),
        Value::Set(s) => s.iter().any(contains_nan),
        Value::Map(m) => m.iter().any(|(k, v)| contains_nan(k) || contains_nan(v)),
        // Errors and atoms compare by identity or content that may hold NaN.
        Value::Error(_) | Value::Atom(_) => true,
        _ => false,
    }
}
