//! The context compiled code runs in, and the helpers it calls for boxed values.
//!
//! Memory discipline: a boxed value in compiled code is an index into the call's arena, a
//! `Vec<Value>` owned by the [`JitCtx`] that `NativeCode::call` creates (one per call, so
//! a callback that runs other compiled code gets its own). Values are only ever pushed,
//! moved down and truncated, never freed by index, so there is no use after free or double
//! drop: whatever the arena holds is dropped exactly once, when it is truncated or when the
//! context is dropped (which is also what a bail does). Regions keep loops bounded: a
//! function marks the arena's length on entry and truncates to it on return (moving a
//! boxed result down to the mark); a loop marks at its header and, at `recur`, moves the
//! carried boxed values down to the mark and truncates. Each helper checks its indices, so
//! a wrong index is a bail, never undefined behaviour.
//!
//! The helpers are found through a table at the start of the context, so the code refers
//! to them by index and stays position independent for the L4 cache.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rtfs_ir::expr::{CallTarget, Lambda};
use rtfs_ir::{Builtin, Closure, Env, Value};

/// The helpers, by their index in the table (the order is part of the code's ABI: change
/// it and the L4 key version together).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Helper {
    /// `(ctx, ty, payload) -> idx`: boxes an int (ty 1), float bits (2) or bool (3).
    Box = 0,
    /// `(ctx, idx) -> 0 | 1 | 2`: truthiness; 2 for a bad index.
    Truthy,
    /// `(ctx, k) -> idx | -1`: pushes constant `k`.
    Const,
    /// `(ctx, b, argv, n) -> idx | -1`: calls built-in `b` on `n` boxed arguments.
    CallBuiltin,
    /// `(ctx) -> len`: the arena's length, a region mark.
    Mark,
    /// `(ctx, mark, idx) -> idx | -1`: moves value `idx` to `mark`, truncating above it.
    Ret,
    /// `(ctx, mark) -> 0`: truncates to `mark`.
    Truncate,
    /// `(ctx, mark, argv, n) -> 0 | 1`: moves the `n` values at indices `argv` to
    /// `mark..mark + n` (rewriting `argv`), truncating above them.
    Recur,
    /// `(ctx, kind, argv, n) -> idx | -1`: builds a vector (0), set (1) or map (2, `n`
    /// values alternating key and value).
    Collection,
    /// `(ctx, lambda, argv, n) -> idx | -1`: a closure of lambda `lambda` capturing the
    /// `n` values at `argv`.
    MakeClosure,
    /// `(ctx, site, argv, n) -> idx | -1`: calls the function value at `argv[0]` on the
    /// `n - 1` values after it, through `Env::apply` (site -1) or, for a call site whose
    /// target is decided at run time, `Env::apply_at` with call site `site`.
    Apply,
}

pub const HELPERS: usize = 11;

/// Per-call state. `#[repr(C)]` with the helper table first: compiled code loads helper
/// `k` from offset `8 * k` of the context pointer it receives.
#[repr(C)]
pub struct JitCtx<'a> {
    helpers: [usize; HELPERS],
    arena: Vec<Value>,
    high_water: usize,
    env: &'a mut dyn Env,
    consts: &'a [Value],
    builtins: &'a [&'static Builtin],
    lambdas: &'a [Arc<Lambda>],
    sites: &'a [(CallTarget, bool)],
}

/// Arguments gathered for a built-in or a call (no allocation for the usual few).
type Args = smallvec::SmallVec<[Value; 6]>;

thread_local! {
    static HIGH_WATER: Cell<usize> = const { Cell::new(0) };
    /// Empty arenas kept for the next calls: a compiled closure called through a
    /// callback a million times would otherwise allocate an arena each time.
    static POOL: RefCell<Vec<Vec<Value>>> = const { RefCell::new(Vec::new()) };
}

/// Arenas kept per thread, and the largest capacity worth keeping.
const POOL_SIZE: usize = 16;
const POOL_MAX_CAPACITY: usize = 4096;

/// The largest arena any compiled call on this thread has used since the last call of
/// this function (which resets it): how tests check that loops run in bounded memory.
pub fn arena_high_water() -> usize {
    HIGH_WATER.with(|h| h.replace(0))
}

/// Native stack a helper wants before calling into the stdlib or the interpreter, which
/// may recurse: compiled code may have used the stack down to the runtime's reserve.
const HELPER_RED_ZONE: usize = 1024 * 1024;
const HELPER_SEGMENT: usize = 16 * 1024 * 1024;

impl<'a> JitCtx<'a> {
    pub fn new(
        env: &'a mut dyn Env,
        consts: &'a [Value],
        builtins: &'a [&'static Builtin],
        lambdas: &'a [Arc<Lambda>],
        sites: &'a [(CallTarget, bool)],
    ) -> JitCtx<'a> {
        JitCtx {
            helpers: [
                h_box as *const () as usize,
                h_truthy as *const () as usize,
                h_const as *const () as usize,
                h_call_builtin as *const () as usize,
                h_mark as *const () as usize,
                h_ret as *const () as usize,
                h_truncate as *const () as usize,
                h_recur as *const () as usize,
                h_collection as *const () as usize,
                h_make_closure as *const () as usize,
                h_apply as *const () as usize,
            ],
            arena: POOL
                .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
                .ok()
                .flatten()
                .unwrap_or_else(|| Vec::with_capacity(16)),
            high_water: 0,
            env,
            consts,
            builtins,
            lambdas,
            sites,
        }
    }

    pub fn push(&mut self, v: Value) -> i64 {
        self.arena.push(v);
        if self.arena.len() > self.high_water {
            self.high_water = self.arena.len();
        }
        (self.arena.len() - 1) as i64
    }

    /// The value at `idx`, moved out (the arena is dropped right after).
    pub fn take(&mut self, idx: u64) -> Option<Value> {
        let i = usize::try_from(idx).ok()?;
        self.arena
            .get_mut(i)
            .map(|v| std::mem::replace(v, Value::Nil))
    }

    fn get(&self, idx: i64) -> Option<&Value> {
        usize::try_from(idx).ok().and_then(|i| self.arena.get(i))
    }

    /// The values at the `n` indices in `argv`, cloned.
    ///
    /// # Safety
    /// `argv` points to `n` readable i64 (compiled code passes a stack slot of that size).
    unsafe fn args(&self, argv: *const i64, n: i64) -> Option<Args> {
        let n = usize::try_from(n).ok()?;
        // SAFETY: the caller's contract.
        let ids = unsafe { std::slice::from_raw_parts(argv, n) };
        ids.iter().map(|&i| self.get(i).cloned()).collect()
    }
}

impl Drop for JitCtx<'_> {
    fn drop(&mut self) {
        let hw = self.high_water;
        let _ = HIGH_WATER.try_with(|h| h.set(h.get().max(hw)));
        let mut arena = std::mem::take(&mut self.arena);
        arena.clear();
        if arena.capacity() <= POOL_MAX_CAPACITY {
            let _ = POOL.try_with(|p| {
                if let Ok(mut p) = p.try_borrow_mut()
                    && p.len() < POOL_SIZE
                {
                    p.push(arena);
                }
            });
        }
    }
}

/// # Safety
/// `ctx` is the live context compiled code was called with; no other reference to it is
/// in use while a helper runs.
unsafe fn cx<'x>(ctx: *mut JitCtx<'static>) -> &'x mut JitCtx<'static> {
    // SAFETY: the caller's contract.
    unsafe { &mut *ctx }
}

unsafe extern "C" fn h_box(ctx: *mut JitCtx<'static>, ty: i64, payload: i64) -> i64 {
    // SAFETY: called by compiled code with its context.
    let c = unsafe { cx(ctx) };
    let v = match ty {
        1 => Value::Int(payload),
        2 => Value::Float(f64::from_bits(payload as u64)),
        _ => Value::Bool(payload & 0xff != 0),
    };
    c.push(v)
}

unsafe extern "C" fn h_truthy(ctx: *mut JitCtx<'static>, idx: i64) -> i64 {
    // SAFETY: called by compiled code with its context.
    let c = unsafe { cx(ctx) };
    match c.get(idx) {
        Some(v) => i64::from(v.truthy()),
        None => 2,
    }
}

unsafe extern "C" fn h_const(ctx: *mut JitCtx<'static>, k: i64) -> i64 {
    // SAFETY: called by compiled code with its context.
    let c = unsafe { cx(ctx) };
    match usize::try_from(k).ok().and_then(|k| c.consts.get(k)) {
        Some(v) => {
            let v = v.clone();
            c.push(v)
        }
        None => -1,
    }
}

unsafe extern "C" fn h_call_builtin(
    ctx: *mut JitCtx<'static>,
    b: i64,
    argv: *const i64,
    n: i64,
) -> i64 {
    // SAFETY: called by compiled code with its context and an argument array of `n`.
    let c = unsafe { cx(ctx) };
    let Some(&b) = usize::try_from(b).ok().and_then(|b| c.builtins.get(b)) else {
        return -1;
    };
    // SAFETY: as above.
    let Some(args) = (unsafe { c.args(argv, n) }) else {
        return -1;
    };
    if !b.accepts(args.len()) {
        return -1;
    }
    let env = &mut *c.env;
    // A built-in that panics must not unwind through compiled frames: that is a bail, and
    // the interpreter's re-run reports whatever it reports.
    let r = stacker::maybe_grow(HELPER_RED_ZONE, HELPER_SEGMENT, || {
        catch_unwind(AssertUnwindSafe(|| (b.func)(env, &args)))
    });
    match r {
        Ok(Ok(v)) => c.push(v),
        // An error (including an effect refused inside a callback): bail; the interpreter
        // re-runs the call and raises the exact error.
        _ => -1,
    }
}

unsafe extern "C" fn h_mark(ctx: *mut JitCtx<'static>) -> i64 {
    // SAFETY: called by compiled code with its context.
    let c = unsafe { cx(ctx) };
    c.arena.len() as i64
}

unsafe extern "C" fn h_ret(ctx: *mut JitCtx<'static>, mark: i64, idx: i64) -> i64 {
    // SAFETY: called by compiled code with its context.
    let c = unsafe { cx(ctx) };
    let Some(v) = c.get(idx).cloned() else {
        return -1;
    };
    match usize::try_from(mark) {
        Ok(m) if m <= c.arena.len() => {
            c.arena.truncate(m);
            c.push(v)
        }
        _ => -1,
    }
}

unsafe extern "C" fn h_truncate(ctx: *mut JitCtx<'static>, mark: i64) -> i64 {
    // SAFETY: called by compiled code with its context.
    let c = unsafe { cx(ctx) };
    if let Ok(m) = usize::try_from(mark) {
        c.arena.truncate(m);
    }
    0
}

unsafe extern "C" fn h_recur(ctx: *mut JitCtx<'static>, mark: i64, argv: *mut i64, n: i64) -> i64 {
    // SAFETY: called by compiled code with its context and an argument array of `n`.
    let c = unsafe { cx(ctx) };
    // SAFETY: as above.
    let Some(vals) = (unsafe { c.args(argv, n) }) else {
        return 1;
    };
    let Ok(m) = usize::try_from(mark) else {
        return 1;
    };
    if m > c.arena.len() {
        return 1;
    }
    c.arena.truncate(m);
    for (k, v) in vals.into_iter().enumerate() {
        let i = c.push(v);
        // SAFETY: `k < n`, inside the array.
        unsafe { *argv.add(k) = i };
    }
    0
}

unsafe extern "C" fn h_collection(
    ctx: *mut JitCtx<'static>,
    kind: i64,
    argv: *const i64,
    n: i64,
) -> i64 {
    // SAFETY: called by compiled code with its context and an argument array of `n`.
    let c = unsafe { cx(ctx) };
    // SAFETY: as above.
    let Some(vals) = (unsafe { c.args(argv, n) }) else {
        return -1;
    };
    // Built exactly as the interpreter builds literals (duplicates: last wins).
    let v = match kind {
        0 => Value::from_seq_vector(vals.into_iter().collect()),
        1 => {
            let mut out = rtfs_ir::Set::new();
            for x in vals {
                out.insert(x);
            }
            Value::Set(Arc::new(out))
        }
        _ => {
            let mut out = rtfs_ir::Map::new();
            let mut it = vals.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.insert(k, v);
            }
            Value::Map(Arc::new(out))
        }
    };
    c.push(v)
}

unsafe extern "C" fn h_make_closure(
    ctx: *mut JitCtx<'static>,
    k: i64,
    argv: *const i64,
    n: i64,
) -> i64 {
    // SAFETY: called by compiled code with its context and an argument array of `n`.
    let c = unsafe { cx(ctx) };
    let Some(lambda) = usize::try_from(k)
        .ok()
        .and_then(|k| c.lambdas.get(k))
        .cloned()
    else {
        return -1;
    };
    // SAFETY: as above.
    let Some(captures) = (unsafe { c.args(argv, n) }) else {
        return -1;
    };
    c.push(Value::Fn(Arc::new(Closure {
        lambda,
        captures: captures.into_vec().into_boxed_slice(),
    })))
}

unsafe extern "C" fn h_apply(
    ctx: *mut JitCtx<'static>,
    site: i64,
    argv: *const i64,
    n: i64,
) -> i64 {
    // SAFETY: called by compiled code with its context and an argument array of `n`.
    let c = unsafe { cx(ctx) };
    // SAFETY: as above.
    let Some(vals) = (unsafe { c.args(argv, n) }) else {
        return -1;
    };
    let Some((f, args)) = vals.split_first() else {
        return -1;
    };
    let site = match site {
        -1 => None,
        s => match usize::try_from(s).ok().and_then(|s| c.sites.get(s)) {
            Some(x) => Some(x),
            None => return -1,
        },
    };
    let env = &mut *c.env;
    let r = stacker::maybe_grow(HELPER_RED_ZONE, HELPER_SEGMENT, || {
        catch_unwind(AssertUnwindSafe(|| match site {
            None => env.apply(f, args),
            Some((t, sensitive)) => env.apply_at(t, *sensitive, f, args),
        }))
    });
    match r {
        Ok(Ok(v)) => c.push(v),
        // The callee's error (or an effect it was refused): bail and re-run interpreted.
        _ => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtfs_ir::RtResult;

    struct NoEnv;
    impl Env for NoEnv {
        fn apply(&mut self, _: &Value, _: &[Value]) -> RtResult<Value> {
            Ok(Value::Nil)
        }
        fn write_out(&mut self, _: &str) -> RtResult<()> {
            Ok(())
        }
    }

    fn ptr(c: &mut JitCtx<'_>) -> *mut JitCtx<'static> {
        (c as *mut JitCtx<'_>).cast()
    }

    /// Regions: `recur` moves carried values down and drops the rest, `ret` moves the
    /// result down, and every value is dropped exactly once (strong counts come back).
    #[test]
    fn regions_move_and_drop_each_value_once() {
        let s = Arc::new("payload".to_string());
        let mut env = NoEnv;
        {
            let mut c = JitCtx::new(&mut env, &[], &[], &[], &[]);
            let below = c.push(Value::Str(s.clone()));
            let p = ptr(&mut c);
            // SAFETY: `p` is the live context; nothing else uses it during the calls.
            unsafe {
                let mark = h_mark(p);
                for i in 0..1000 {
                    let tmp = cx(p).push(Value::Int(i));
                    let carried = cx(p).push(Value::Str(s.clone()));
                    let mut argv = [carried, tmp];
                    assert_eq!(h_recur(p, mark, argv.as_mut_ptr(), 2), 0);
                    assert_eq!(argv, [mark, mark + 1]);
                    assert_eq!(h_mark(p), mark + 2);
                }
                assert_eq!(Arc::strong_count(&s), 3);
                let r = h_ret(p, mark, mark);
                assert_eq!((r, h_mark(p)), (mark, mark + 1));
                assert_eq!(Arc::strong_count(&s), 3);
                h_truncate(p, mark);
                assert_eq!(Arc::strong_count(&s), 2);
                // Bad indices and marks are failures, not undefined behaviour.
                assert_eq!(h_ret(p, mark, 99), -1);
                assert_eq!(h_ret(p, 99, below), -1);
                assert_eq!(h_truthy(p, -5), 2);
                assert_eq!(h_const(p, 0), -1);
                let mut bad = [7i64];
                assert_eq!(h_recur(p, mark, bad.as_mut_ptr(), 1), 1);
            }
            assert!(c.high_water <= 5, "high water {}", c.high_water);
        }
        assert_eq!(Arc::strong_count(&s), 1);
    }
}
