//! Filetest-style snapshots of the Cranelift IR the JIT emits for key lowering cases
//! (before Cranelift's own optimisations): a change to the code generator shows up here as
//! a reviewable diff of `tests/jit_ir/NAME.clif`. After an intended change, regenerate
//! them with `RTFS_BLESS=1 cargo test --test jit_ir` and review the diff.
//!
//! The IR names the host's calling convention, so the snapshots are those of x86-64 Linux.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::path::Path;

use rtfs::{Runtime, Tier, Value};

/// Defines the functions in `src`, then returns the IR of `f` called with `args`.
fn ir_of(src: &str, f: &str, args: &[Value]) -> String {
    let mut rt = Runtime::new();
    rt.set_tier(Tier::Interp);
    rt.set_cache_dir(None);
    rt.eval_str(src).expect("definitions compile");
    let fv = rt.eval_str(f).expect("function value");
    rt.jit_ir(&fv, args).expect("compiles")
}

fn check(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/jit_ir")
        .join(format!("{name}.clif"));
    if std::env::var_os("RTFS_BLESS").is_some() {
        let tmp = path.with_extension("clif.tmp");
        std::fs::write(&tmp, got).expect("write snapshot");
        std::fs::rename(&tmp, &path).expect("rename snapshot");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (RTFS_BLESS=1 writes it)", path.display()));
    assert!(
        want == got,
        "IR of {name} changed (RTFS_BLESS=1 rewrites the snapshot):\n--- want\n{want}\n--- got\n{got}"
    );
}

/// An int loop: overflow guards on `+`/`*`/`inc`, and `mod` by a positive constant as an
/// unsigned remainder (the loop variables start non-negative and stay so).
#[test]
fn int_loop_with_mod_by_a_constant() {
    let src = "(defn loop-sum [n] (loop [i 0 acc 0] (if (< i n) \
               (recur (inc i) (mod (+ acc (* i i)) 1000000007)) acc)))";
    check("int_loop_mod", &ir_of(src, "loop-sum", &[Value::Int(10)]));
}

/// Float arithmetic unboxed, a global constant inlined, `cond` as branches.
#[test]
fn float_loop_with_a_global_constant() {
    let src = "(def max-iter 100) (defn escapes? [cr ci] (loop [zr 0.0 zi 0.0 k 0] (cond \
               (>= k max-iter) false (> (+ (* zr zr) (* zi zi)) 4.0) true \
               :else (recur (+ (- (* zr zr) (* zi zi)) cr) (+ (* 2.0 zr zi) ci) (inc k)))))";
    check(
        "float_loop",
        &ir_of(src, "escapes?", &[Value::Float(0.1), Value::Float(0.2)]),
    );
}

/// Recursion: the depth budget, one level of the self call inlined, the status of each
/// call checked.
#[test]
fn self_recursion() {
    let src = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))";
    check("fib", &ir_of(src, "fib", &[Value::Int(10)]));
}

/// Boxed values: a string argument, a pure built-in through the generic helper, the
/// arena region released at `recur` and at return.
#[test]
fn boxed_values_through_helpers() {
    let src =
        "(defn join-n [s n] (loop [i 0 acc \"\"] (if (< i n) (recur (inc i) (str acc s)) acc)))";
    check(
        "boxed_loop",
        &ir_of(src, "join-n", &[Value::from("ab"), Value::Int(3)]),
    );
}
