//! The IR interpreter.
//!
//! Locals live on one value stack: a call pushes its arguments where the callee's frame
//! begins, so calls allocate nothing. `recur` and self tail calls set a flag that the
//! enclosing loop or function body checks, turning them into jumps. Deep recursion is
//! bounded by `max_depth` (a catchable "stack depth exceeded" error) and the native stack
//! grows on demand, so no RTFS program can overflow the process stack.

use std::sync::Arc;

use smallvec::SmallVec;

use rtfs_ir::error::kind;
use rtfs_ir::expr::{
    Arity, ArityTypes, CaptureFrom, Expr, Lambda, ParamCheck, Pattern, PrimOp, PrimOp1, TopLevel,
    TypeTest,
};
use rtfs_ir::func::arity_text;
use rtfs_ir::types::Type;
use rtfs_ir::validate::TypeEnv;
use rtfs_ir::{Closure, Env, RtError, RtResult, Value};
use rtfs_stdlib::num;

use crate::last_use::{self, MoveCtx};
use crate::state::State;

mod parallel;
mod plan_forms;
mod toplevel;

type Args = SmallVec<[Value; 6]>;

static NIL: Value = Value::Nil;

/// The frame an expression runs in: where its slots start and which closure (if any) is
/// running, for captures and self references.
#[derive(Clone, Copy)]
struct Frame<'a> {
    base: usize,
    clo: Option<&'a Arc<Closure>>,
}

pub struct Interp<'s> {
    pub(crate) st: &'s mut State,
    stack: Vec<Value>,
    depth: u32,
    recur: bool,
    /// A compiled tier is enabled (checked once per call, before anything else).
    jit_on: bool,
    /// Non-zero while re-running, interpreted, a call whose compiled code bailed: calls
    /// inside it stay interpreted so a failing guard costs one extra run at most.
    jit_suppressed: u32,
    /// Non-zero while running, here, a call that carries sensitive data: every delegated or
    /// capability call made inside it, in any function, is treated as sensitive too (the
    /// compiler's taint does not follow values into other functions).
    pub(crate) sensitive_scope: u32,
    /// Non-zero while compiled code runs: it may call back into this interpreter (built-ins
    /// taking functions, function values), and an effect there would be repeated if the
    /// compiled call later bailed, so effects are refused (see `refuse_effect`).
    pure_only: u32,
}

/// Calls after which `auto` compiles a function.
pub const HOT_CALLS: u32 = 64;
/// Native stack left untouched below compiled code.
const NATIVE_RESERVE: usize = 256 * 1024;

/// What trying the compiled tier gave.
enum Native {
    Done(Value),
    /// A guard failed: run the call interpreted.
    Bailed,
    /// No compiled code for this call.
    No,
}

/// Bytes of native stack kept free before evaluating a function body; below that a new
/// stack segment is allocated.
const RED_ZONE: usize = 2 * 1024 * 1024;
const SEGMENT: usize = 64 * 1024 * 1024;

impl<'s> Interp<'s> {
    pub fn new(st: &'s mut State) -> Interp<'s> {
        Interp {
            stack: Vec::with_capacity(256),
            depth: 0,
            recur: false,
            jit_on: st.jit.tier != crate::state::Tier::Interp,
            jit_suppressed: 0,
            sensitive_scope: 0,
            pure_only: 0,
            st,
        }
    }

    pub fn run_toplevel(&mut self, top: &TopLevel) -> RtResult<Value> {
        self.run_toplevel_named(top, &|| "top-level form".to_string())
    }

    /// Runs a top-level form; `name` is what `--stats` calls it if it loops and stays
    /// interpreted (e.g. "top-level form at plan.rtfs:3:1").
    pub fn run_toplevel_named(
        &mut self,
        top: &TopLevel,
        name: &dyn Fn() -> String,
    ) -> RtResult<Value> {
        let mut bailed = false;
        if self.jit_on && self.jit_suppressed == 0 {
            match self.run_toplevel_native(top, name) {
                Native::Done(v) => return Ok(v),
                Native::Bailed => {
                    bailed = true;
                    self.jit_suppressed += 1;
                }
                Native::No => {}
            }
        }
        let r = self.run_toplevel_interpreted(top);
        if bailed {
            self.jit_suppressed -= 1;
        }
        r
    }

    fn run_toplevel_interpreted(&mut self, top: &TopLevel) -> RtResult<Value> {
        let base = self.stack.len();
        self.stack
            .resize(base + top.frame_size as usize, Value::Nil);
        let r = stacker::maybe_grow(RED_ZONE, SEGMENT, || {
            self.eval_tail(&top.expr, Frame { base, clo: None })
        });
        self.stack.truncate(base);
        self.recur = false;
        r
    }

    /// A local slot, read in place.
    #[inline]
    fn local(&self, f: Frame, s: u32) -> &Value {
        debug_assert!(
            f.base + (s as usize) < self.stack.len(),
            "slot {s} out of the frame"
        );
        self.stack.get(f.base + s as usize).unwrap_or(&NIL)
    }

    #[inline]
    fn slot(&mut self, f: Frame, s: u32) -> &mut Value {
        let i = f.base + s as usize;
        if i >= self.stack.len() {
            self.stack.resize(i + 1, Value::Nil);
        }
        &mut self.stack[i]
    }

    fn capture(f: Frame, i: u32) -> Value {
        debug_assert!(
            f.clo.is_some_and(|c| (i as usize) < c.captures.len()),
            "capture {i} out of range"
        );
        f.clo
            .and_then(|c| c.captures.get(i as usize))
            .cloned()
            .unwrap_or(Value::Nil)
    }

    /// Evaluates an expression. The hottest node kinds are handled here, in a function with
    /// a small stack frame; the rest live in `eval_cold` and friends so they don't make every
    /// recursive `eval` pay for their locals.
    fn eval(&mut self, e: &Expr, f: Frame) -> RtResult<Value> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Local(s) => Ok(self.local(f, *s).clone()),
            Expr::Capture(i) => Ok(Self::capture(f, *i)),
            Expr::SelfFn => Ok(f.clo.map_or(Value::Nil, |c| Value::Fn(c.clone()))),
            Expr::Global(id, loc) => self.st.globals.get(*id).ok_or_else(|| {
                RtError::new(
                    kind::UNBOUND,
                    format!("unbound symbol `{}`", self.st.globals.name(*id)),
                )
                .at(*loc)
            }),
            Expr::CellGet(inner) => match &self.eval(inner, f)? {
                Value::Atom(a) => Ok(a.lock().map(|v| v.clone()).unwrap_or(Value::Nil)),
                other => Ok(other.clone()),
            },
            Expr::If(b) => {
                if self.eval_cond(&b.0, f)? {
                    self.eval(&b.1, f)
                } else {
                    self.eval(&b.2, f)
                }
            }
            Expr::Do(es) => {
                let (last, init) = match es.split_last() {
                    Some(x) => x,
                    None => return Ok(Value::Nil),
                };
                for e in init {
                    self.eval(e, f)?;
                }
                self.eval(last, f)
            }
            Expr::SetLocal(s, e) => {
                let v = self.eval(e, f)?;
                *self.slot(f, *s) = v;
                Ok(Value::Nil)
            }
            Expr::Prim(op, b, loc) => {
                let x = self.eval(&b.0, f)?;
                let y = self.eval(&b.1, f)?;
                let fast = match (&x, &y) {
                    (Value::Int(a), Value::Int(c)) => int_op(*op, *a, *c),
                    (Value::Float(a), Value::Float(c)) => float_op(*op, *a, *c),
                    _ => None,
                };
                match fast {
                    Some(v) => Ok(v),
                    None => prim2(*op, &x, &y).map_err(|e| e.at(*loc)),
                }
            }
            Expr::PrimSlotInt(op, s, k, loc) => {
                let x = self.local(f, *s);
                if let Value::Int(a) = x
                    && let Some(v) = int_op(*op, *a, *k)
                {
                    return Ok(v);
                }
                let x = x.clone();
                prim2(*op, &x, &Value::Int(*k)).map_err(|e| e.at(*loc))
            }
            Expr::PrimSlotSlot(op, a, b, loc) => {
                let (x, y) = (self.local(f, *a), self.local(f, *b));
                match (x, y) {
                    (Value::Int(i), Value::Int(j)) => {
                        if let Some(v) = int_op(*op, *i, *j) {
                            return Ok(v);
                        }
                    }
                    (Value::Float(i), Value::Float(j)) => {
                        if let Some(v) = float_op(*op, *i, *j) {
                            return Ok(v);
                        }
                    }
                    _ => {}
                }
                let (x, y) = (x.clone(), y.clone());
                prim2(*op, &x, &y).map_err(|e| e.at(*loc))
            }
            Expr::Prim1(op, x, loc) => {
                let x = self.eval(x, f)?;
                prim1(*op, &x).map_err(|e| e.at(*loc))
            }
            Expr::Loop(b) => {
                for (slot, init) in &b.0 {
                    let v = self.eval(init, f)?;
                    *self.slot(f, *slot) = v;
                }
                loop {
                    let v = self.eval(&b.1, f)?;
                    if self.recur {
                        self.recur = false;
                        continue;
                    }
                    return Ok(v);
                }
            }
            Expr::Call(c) => self.eval_call(c, f),
            Expr::CallBuiltin(b, args, loc) => self.eval_builtin_call(b, args, *loc, f),
            Expr::Recur(args, slots) => self.eval_recur(args, slots, f),
            _ => self.eval_cold(e, f),
        }
    }

    #[inline(never)]
    fn eval_call(&mut self, c: &rtfs_ir::expr::Call, f: Frame) -> RtResult<Value> {
        let base = self.stack.len();
        let callee = match &c.callee {
            Expr::SelfFn => None,
            other => Some(self.eval(other, f)?),
        };
        for a in c.args.iter() {
            match self.eval(a, f) {
                Ok(v) => self.stack.push(v),
                Err(e) => {
                    self.stack.truncate(base);
                    return Err(e);
                }
            }
        }
        let r = match (&callee, f.clo) {
            (None, Some(clo)) => self.call_closure(clo, base),
            (Some(v), _) if !c.target.is_local_pure() || c.sensitive => {
                if self.pure_only > 0
                    && !self.runs_locally(&c.target, c.sensitive, v, self.stack.len() - base)
                {
                    self.stack.truncate(base);
                    self.refuse_effect("a delegated call")?;
                }
                let args: Vec<Value> = self.stack.drain(base..).collect();
                self.call_delegated(&c.target, c.sensitive, v, &args)
            }
            (Some(v), _) => self.invoke(v, base),
            (None, None) => Err(RtError::new(kind::NOT_CALLABLE, "no enclosing function")),
        };
        r.map_err(|e| e.at(c.loc))
    }

    #[inline(never)]
    fn eval_builtin_call(
        &mut self,
        b: &'static rtfs_ir::Builtin,
        args: &[Expr],
        loc: rtfs_ir::SrcLoc,
        f: Frame,
    ) -> RtResult<Value> {
        if !b.pure_fn {
            self.refuse_effect(b.name)?;
        }
        let mut vals = Args::new();
        for a in args.iter() {
            vals.push(self.eval(a, f)?);
        }
        self.finish_builtin_call(b, vals, loc)
    }

    /// Calls a built-in on evaluated arguments; the in-place variant when there is one
    /// (the arguments are this call's own values: copies, temporaries or moved locals).
    fn finish_builtin_call(
        &mut self,
        b: &'static rtfs_ir::Builtin,
        mut vals: Args,
        loc: rtfs_ir::SrcLoc,
    ) -> RtResult<Value> {
        if !b.accepts(vals.len()) {
            return Err(RtError::arity(b.name, &b.arity_text(), vals.len()).at(loc));
        }
        match b.owned {
            Some(owned) => owned(self, &mut vals),
            None => (b.func)(self, &vals),
        }
        .map_err(|e| e.at(loc))
    }

    /// Evaluates an expression whose value is the frame's result (a function body, a
    /// top-level form): an updating built-in there may take its collection out of a local,
    /// since the frame ends right after (see `last_use`).
    fn eval_tail(&mut self, e: &Expr, f: Frame) -> RtResult<Value> {
        match e {
            Expr::CallBuiltin(b, args, loc) if b.owned.is_some() => {
                self.eval_builtin_moving(b, args, *loc, f, &MoveCtx::tail())
            }
            Expr::If(b) => {
                if self.eval_cond(&b.0, f)? {
                    self.eval_tail(&b.1, f)
                } else {
                    self.eval_tail(&b.2, f)
                }
            }
            Expr::Do(es) => {
                let Some((last, init)) = es.split_last() else {
                    return Ok(Value::Nil);
                };
                for e in init {
                    self.eval(e, f)?;
                }
                self.eval_tail(last, f)
            }
            Expr::Loop(b) => {
                for (slot, init) in &b.0 {
                    let v = self.eval(init, f)?;
                    *self.slot(f, *slot) = v;
                }
                loop {
                    let v = self.eval_tail(&b.1, f)?;
                    if self.recur {
                        self.recur = false;
                        continue;
                    }
                    return Ok(v);
                }
            }
            _ => self.eval(e, f),
        }
    }

    /// An updating built-in (`b.owned` is set) whose first argument is moved out of its
    /// local when `ctx` proves the local dead after the call, or is itself such a call.
    #[inline(never)]
    fn eval_builtin_moving(
        &mut self,
        b: &'static rtfs_ir::Builtin,
        args: &[Expr],
        loc: rtfs_ir::SrcLoc,
        f: Frame,
        ctx: &MoveCtx,
    ) -> RtResult<Value> {
        if !b.pure_fn {
            self.refuse_effect(b.name)?;
        }
        let Some((first, rest)) = args.split_first() else {
            return self.eval_builtin_call(b, args, loc, f);
        };
        let mut vals = Args::new();
        match first {
            // The local is read after the other arguments (they cannot write it, so they
            // see the same value), then moved.
            Expr::Local(s) if ctx.dead_after(*s) && last_use::write_free(rest) => {
                vals.push(Value::Nil);
                for a in rest {
                    vals.push(self.eval(a, f)?);
                }
                let slot = f.base + *s as usize;
                if let Some(v) = self.stack.get_mut(slot) {
                    vals[0] = std::mem::replace(v, Value::Nil);
                }
                return self.finish_builtin_call(b, vals, loc);
            }
            Expr::CallBuiltin(inner, inner_args, inner_loc) if inner.owned.is_some() => {
                let v =
                    self.eval_builtin_moving(inner, inner_args, *inner_loc, f, &ctx.before(rest))?;
                vals.push(v);
            }
            _ => vals.push(self.eval(first, f)?),
        }
        for a in rest {
            vals.push(self.eval(a, f)?);
        }
        self.finish_builtin_call(b, vals, loc)
    }

    /// A `recur` argument: an updating built-in may take a local the `recur` rebinds.
    #[inline]
    fn eval_recur_arg(
        &mut self,
        args: &[Expr],
        i: usize,
        slots: &[u32],
        f: Frame,
    ) -> RtResult<Value> {
        match &args[i] {
            Expr::CallBuiltin(b, cargs, loc) if b.owned.is_some() => {
                self.eval_builtin_moving(b, cargs, *loc, f, &MoveCtx::recur(slots, &args[i + 1..]))
            }
            a => self.eval(a, f),
        }
    }

    #[inline(never)]
    fn eval_recur(&mut self, args: &[Expr], slots: &[u32], f: Frame) -> RtResult<Value> {
        // All arguments are evaluated before any slot is rebound.
        match (args, slots) {
            ([_], [s]) => {
                let v = self.eval_recur_arg(args, 0, slots, f)?;
                *self.slot(f, *s) = v;
            }
            ([_, _], [sa, sb]) => {
                let va = self.eval_recur_arg(args, 0, slots, f)?;
                let vb = self.eval_recur_arg(args, 1, slots, f)?;
                *self.slot(f, *sa) = va;
                *self.slot(f, *sb) = vb;
            }
            _ => {
                let mut vals = Args::new();
                for i in 0..args.len() {
                    vals.push(self.eval_recur_arg(args, i, slots, f)?);
                }
                for (v, s) in vals.into_iter().zip(slots) {
                    *self.slot(f, *s) = v;
                }
            }
        }
        self.recur = true;
        Ok(Value::Nil)
    }

    #[inline(never)]
    fn eval_cold(&mut self, e: &Expr, f: Frame) -> RtResult<Value> {
        match e {
            Expr::Bind(b) => {
                let v = self.eval(&b.1, f)?;
                self.bind(&b.0, v, f, false)?;
                Ok(Value::Nil)
            }
            Expr::MakeClosure(lambda, caps) => {
                let captures: Box<[Value]> = caps
                    .iter()
                    .map(|c| match c {
                        CaptureFrom::Local(s) => self.local(f, *s).clone(),
                        CaptureFrom::Capture(i) => Self::capture(f, *i),
                        CaptureFrom::SelfFn => f.clo.map_or(Value::Nil, |c| Value::Fn(c.clone())),
                    })
                    .collect();
                Ok(Value::Fn(Arc::new(Closure {
                    lambda: lambda.clone(),
                    captures,
                })))
            }
            Expr::Try(t) => self.eval_try(t, f),
            Expr::Throw(x, loc) => {
                let v = self.eval(x, f)?;
                Err(thrown(v).at(*loc))
            }
            Expr::DefGlobal(id, x) => {
                self.refuse_effect("def")?;
                let v = self.eval(x, f)?;
                self.st.globals.set(*id, v.clone());
                Ok(v)
            }
            Expr::Match(b, loc) => {
                let v = self.eval(&b.0, f)?;
                for clause in &b.1 {
                    if !self.bind(&clause.pattern, v.clone(), f, true)? {
                        continue;
                    }
                    if let Some(g) = &clause.guard
                        && !self.eval(g, f)?.truthy()
                    {
                        continue;
                    }
                    return self.eval(&clause.body, f);
                }
                Err(RtError::with_data(
                    kind::MATCH,
                    format!("no match clause matched {}", v.pr_str()),
                    v,
                )
                .at(*loc))
            }
            Expr::Vector(items) => {
                let mut out = rtfs_ir::Seq::new();
                for i in items.iter() {
                    out.push_back(self.eval(i, f)?);
                }
                Ok(Value::from_seq_vector(out))
            }
            Expr::Set(items) => {
                let mut out = rtfs_ir::Set::new();
                for i in items.iter() {
                    out.insert(self.eval(i, f)?);
                }
                Ok(Value::Set(Arc::new(out)))
            }
            Expr::Map(entries) => {
                let mut out = rtfs_ir::Map::new();
                for (k, v) in entries.iter() {
                    let k = self.eval(k, f)?;
                    let v = self.eval(v, f)?;
                    out.insert(k, v);
                }
                Ok(Value::Map(Arc::new(out)))
            }
            Expr::CapCall(c) => {
                self.refuse_effect("a capability call")?;
                let id = self.eval(&c.id, f)?;
                let mut vals = Args::new();
                for a in c.args.iter() {
                    vals.push(self.eval(a, f)?);
                }
                let id = match &id {
                    Value::Keyword(k) | Value::Str(k) | Value::Symbol(k) => k.clone(),
                    other => {
                        return Err(RtError::new(
                            kind::TYPE,
                            format!(
                                "capability id must be a keyword or string, got {}",
                                other.type_name()
                            ),
                        )
                        .at(c.loc));
                    }
                };
                let bare = id.strip_prefix(':').unwrap_or(&id);
                self.capability_call(&c.target, c.sensitive, bare, &vals)
                    .map_err(|e| {
                        // The host's refusals and I/O failures keep their kind (a program can
                        // catch `:permission-denied`); a provider's own error is wrapped.
                        let e = if matches!(
                            e.kind(),
                            kind::CAPABILITY
                                | kind::UNKNOWN_CAPABILITY
                                | kind::PERMISSION
                                | kind::IO
                        ) {
                            e
                        } else {
                            let msg = format!("capability `{id}` failed: {}", e.message());
                            RtError::with_data(kind::CAPABILITY, msg, e.into_value())
                        };
                        e.at(c.loc)
                    })
            }
            Expr::Parallel(branches) => self.eval_parallel(branches, f),
            Expr::Plan(p) => self.eval_plan(p, f),
            _ => Err(RtError::new(
                kind::TYPE,
                "internal: hot expression reached eval_cold",
            )),
        }
    }

    /// Evaluates a condition to a bool, comparing ints directly without building a value.
    #[inline]
    fn eval_cond(&mut self, e: &Expr, f: Frame) -> RtResult<bool> {
        if let Expr::Prim(
            op @ (PrimOp::Lt | PrimOp::Le | PrimOp::Gt | PrimOp::Ge | PrimOp::Eq | PrimOp::NumEq),
            b,
            loc,
        ) = e
        {
            let x = self.eval(&b.0, f)?;
            let y = self.eval(&b.1, f)?;
            if let (Value::Int(a), Value::Int(c)) = (&x, &y) {
                return Ok(match op {
                    PrimOp::Lt => a < c,
                    PrimOp::Le => a <= c,
                    PrimOp::Gt => a > c,
                    PrimOp::Ge => a >= c,
                    _ => a == c,
                });
            }
            return prim2(*op, &x, &y)
                .map(|v| v.truthy())
                .map_err(|e| e.at(*loc));
        }
        match e {
            Expr::PrimSlotInt(op, s, k, _) => {
                if let Value::Int(a) = self.local(f, *s)
                    && let Some(Value::Bool(b)) = int_op(*op, *a, *k)
                {
                    return Ok(b);
                }
            }
            Expr::PrimSlotSlot(op, a, b, _) => {
                if let (Value::Int(i), Value::Int(j)) = (self.local(f, *a), self.local(f, *b))
                    && let Some(Value::Bool(b)) = int_op(*op, *i, *j)
                {
                    return Ok(b);
                }
            }
            _ => {}
        }
        Ok(self.eval(e, f)?.truthy())
    }

    fn eval_try(&mut self, t: &rtfs_ir::expr::Try, f: Frame) -> RtResult<Value> {
        let mut r = self.eval(&t.body, f);
        if let Err(e) = &r
            && e.kind() == kind::JIT_IMPURE
        {
            // Not the program's error: the compiled caller bails and re-runs everything.
            return r;
        }
        if let Err(e) = &r
            && let Some(c) = t
                .catches
                .iter()
                .find(|c| catch_matches(c.filter.as_deref(), e))
        {
            let ev = e.clone().into_value();
            *self.slot(f, c.slot) = ev;
            r = self.eval(&c.body, f);
        }
        if let Some(fin) = &t.finally {
            self.eval(fin, f)?;
        }
        r
    }

    /// Calls any callable whose arguments are on the stack from `base` to the top.
    fn invoke(&mut self, callee: &Value, base: usize) -> RtResult<Value> {
        match callee {
            Value::Fn(clo) => self.call_closure(clo, base),
            Value::Builtin(b) => {
                if !b.pure_fn && self.pure_only > 0 {
                    self.stack.truncate(base);
                    self.refuse_effect(b.name)?;
                }
                let mut args: Args = self.stack.drain(base..).collect();
                if !b.accepts(args.len()) {
                    return Err(RtError::arity(b.name, &b.arity_text(), args.len()));
                }
                match b.owned {
                    Some(owned) => owned(self, &mut args),
                    None => (b.func)(self, &args),
                }
            }
            Value::Native(n) => {
                if self.pure_only > 0 {
                    self.stack.truncate(base);
                    self.refuse_effect(&n.name)?;
                }
                let args: Args = self.stack.drain(base..).collect();
                let ok = args.len() >= n.min_args as usize
                    && (n.max_args == rtfs_ir::VARIADIC || args.len() <= n.max_args as usize);
                if !ok {
                    return Err(RtError::arity(
                        &n.name,
                        &arity_text(n.min_args, n.max_args),
                        args.len(),
                    ));
                }
                (n.func)(self, &args)
            }
            Value::Keyword(_) | Value::Map(_) | Value::Set(_) | Value::Vector(_) => {
                let args: Args = self.stack.drain(base..).collect();
                apply_data(callee, &args)
            }
            other => {
                self.stack.truncate(base);
                Err(RtError::new(
                    kind::NOT_CALLABLE,
                    format!("{} is not callable", short(other)),
                ))
            }
        }
    }

    fn call_closure(&mut self, clo: &Arc<Closure>, base: usize) -> RtResult<Value> {
        let n = self.stack.len() - base;
        let lambda = &clo.lambda;
        let Some(arity) = lambda.arity_for(n) else {
            self.stack.truncate(base);
            return Err(RtError::arity(
                lambda.display_name(),
                &lambda.arity_text(),
                n,
            ));
        };
        if arity.rest {
            let fixed = base + arity.params as usize;
            let rest: rtfs_ir::Seq = self.stack.drain(fixed..).collect();
            self.stack.push(if rest.is_empty() {
                Value::Nil
            } else {
                Value::from_seq_vector(rest)
            });
        }
        let frame_end = base + arity.frame_size as usize;
        if self.stack.len() < frame_end {
            self.stack.resize(frame_end, Value::Nil);
        }
        if let Some(types) = arity.types.as_deref()
            && let Err(e) = self.check_params(types, lambda, base)
        {
            self.stack.truncate(base);
            return Err(e);
        }
        if self.depth >= self.st.max_depth {
            self.stack.truncate(base);
            return Err(RtError::new(
                kind::STACK,
                format!("stack depth exceeded ({} nested calls)", self.st.max_depth),
            ));
        }
        let mut bailed = false;
        if self.jit_on && self.jit_suppressed == 0 && !arity.rest {
            match self.try_native(clo, base, n) {
                Native::Done(v) => {
                    self.stack.truncate(base);
                    if let Some(ret) = arity.types.as_deref().and_then(|t| t.ret.as_ref()) {
                        self.check_return(ret, lambda, &v)?;
                    }
                    return Ok(v);
                }
                Native::Bailed => {
                    bailed = true;
                    self.jit_suppressed += 1;
                }
                Native::No => {}
            }
        }
        self.depth += 1;
        let frame = Frame {
            base,
            clo: Some(clo),
        };
        // Checking the native stack costs a little, so do it every 8 levels; the red zone
        // covers what 8 levels can use, even with deeply nested expressions.
        let r = if self.depth.is_multiple_of(8) {
            stacker::maybe_grow(RED_ZONE, SEGMENT, || self.run_arity(arity, lambda, frame))
        } else {
            self.run_arity(arity, lambda, frame)
        };
        self.depth -= 1;
        if bailed {
            self.jit_suppressed -= 1;
        }
        self.stack.truncate(base);
        r.map_err(|mut e| {
            if e.0.trace.len() < 16 {
                e.push_trace(lambda.display_name());
            }
            e
        })
    }

    /// Runs the call in compiled code when there is some (compiling it first if it is due).
    #[inline(never)]
    fn try_native(&mut self, clo: &Arc<Closure>, base: usize, n: usize) -> Native {
        use rtfs_ir::tier::TierState;
        let lambda = &clo.lambda;
        let slot = &lambda.tier;
        match slot.state() {
            TierState::Rejected | TierState::Queued => return Native::No,
            TierState::Cold => {
                let calls = slot
                    .calls
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                // `jit` compiles before the first call runs (deterministic, for measuring
                // and testing). Under `auto`, a function hot by call count compiles on the
                // background thread while calls go on interpreted; a function with a loop
                // compiles at its first call on this thread, because without on-stack
                // replacement a long loop could not leave the interpreter once entered
                // (the planner's size limits bound that pause: ~0.4 ms per function).
                let eager =
                    self.st.jit.tier == crate::state::Tier::Jit || (calls == 1 && has_loop(lambda));
                let due = eager || calls >= HOT_CALLS;
                if !due || !self.compile(clo, base, n, eager) {
                    return Native::No;
                }
            }
            TierState::Compiled => {}
        }
        let Some(code) = slot.code() else {
            return Native::No;
        };
        if !code.valid(self.st.id, self.st.globals.generation) {
            // A global it inlined was redefined: compile again on a later call.
            slot.reset();
            return Native::No;
        }
        let budget = self.native_budget(&*code);
        // Copied out: compiled code may call back into this interpreter, which needs the
        // stack (and `self`) while the arguments are in use.
        let Some(args) = self.stack.get(base..base + n) else {
            return Native::No;
        };
        let args: Args = args.iter().cloned().collect();
        self.pure_only += 1;
        let r = code.call(&args, &clo.captures, budget, self);
        self.pure_only -= 1;
        match r {
            Some(v) => {
                self.st.native_calls += 1;
                Native::Done(v)
            }
            None => Native::Bailed,
        }
    }

    /// How deep compiled code may recurse from here: what is left of `max_depth`, and what
    /// the native stack holds of the code's frames.
    fn native_budget(&self, code: &dyn rtfs_ir::tier::NativeCode) -> u32 {
        let by_depth = self.st.max_depth.saturating_sub(self.depth);
        let by_stack = stacker::remaining_stack().map_or(0, |r| {
            r.saturating_sub(NATIVE_RESERVE) / code.frame_bytes().max(64) as usize
        });
        by_depth.min(u32::try_from(by_stack).unwrap_or(u32::MAX))
    }

    /// Inside a callback from compiled code, an effect is refused (before it happens) with
    /// an error no `catch` sees: the compiled call bails and the interpreter re-runs it.
    #[inline]
    fn refuse_effect(&self, what: &str) -> RtResult<()> {
        if self.pure_only == 0 {
            return Ok(());
        }
        Err(RtError::new(
            kind::JIT_IMPURE,
            format!("{what} inside a callback from compiled code"),
        ))
    }

    /// Compiles `clo` for the arguments at `base`; false if it stays interpreted.
    #[cold]
    fn compile(&mut self, clo: &Arc<Closure>, base: usize, n: usize, eager: bool) -> bool {
        let slot = &clo.lambda.tier;
        let st = &mut *self.st;
        let (id, generation) = (st.id, st.globals.generation);
        let Some(args) = self.stack.get(base..base + n) else {
            return false;
        };
        let all = st.jit.tier == crate::state::Tier::Jit;
        let Some(engine) = st.jit.engine() else {
            slot.reject();
            return false;
        };
        let (caps, lambda) = (&clo.captures, &clo.lambda);
        if eager {
            let r = if all {
                engine.compile(lambda, caps, args, &st.globals, id, generation)
            } else {
                engine.compile_for_auto(lambda, caps, args, &st.globals, id, generation)
            };
            return match r {
                Ok(code) => {
                    slot.install(code);
                    true
                }
                Err(_) => {
                    slot.reject();
                    false
                }
            };
        }
        if !slot.queue() {
            // Another thread sharing this function queued it first.
            return false;
        }
        match engine.compile_in_background(lambda, caps, args, &st.globals, id, generation) {
            Ok(Some(code)) => {
                slot.install(code);
                true
            }
            Ok(None) => false,
            Err(_) => {
                slot.reject();
                false
            }
        }
    }

    #[inline]
    fn run_arity(&mut self, arity: &Arity, lambda: &Lambda, frame: Frame) -> RtResult<Value> {
        match arity.types.as_deref() {
            None => self.run_body(&arity.body, frame),
            Some(types) => self.run_typed_body(&arity.body, types, lambda, frame),
        }
    }

    /// `run_body` for an annotated arity: a self tail call checks the new arguments, and
    /// the result is checked against the return type.
    fn run_typed_body(
        &mut self,
        body: &Expr,
        types: &ArityTypes,
        lambda: &Lambda,
        frame: Frame,
    ) -> RtResult<Value> {
        loop {
            match self.eval(body, frame) {
                Ok(_) if self.recur => {
                    self.recur = false;
                    self.check_params(types, lambda, frame.base)?;
                }
                Ok(v) => {
                    if let Some(ret) = &types.ret {
                        self.check_return(ret, lambda, &v)?;
                    }
                    return Ok(v);
                }
                r => return r,
            }
        }
    }

    /// Checks annotated arguments in place: a tag test for a primitive type, the
    /// validator otherwise.
    #[inline]
    fn check_params(&mut self, types: &ArityTypes, lambda: &Lambda, base: usize) -> RtResult<()> {
        for pc in &types.params {
            if let Type::Prim(p) = &pc.ty
                && self
                    .stack
                    .get(base + pc.slot as usize)
                    .is_some_and(|v| p.accepts(v))
            {
                continue;
            }
            self.check_param_slow(pc, lambda, base)?;
        }
        Ok(())
    }

    #[cold]
    fn check_param_slow(&mut self, pc: &ParamCheck, lambda: &Lambda, base: usize) -> RtResult<()> {
        let v = self
            .stack
            .get(base + pc.slot as usize)
            .cloned()
            .unwrap_or(Value::Nil);
        match rtfs_ir::validate::check(&pc.ty, &v, &pc.name, self)? {
            None => Ok(()),
            Some(m) => Err(rtfs_ir::validate::type_error(
                &format!("parameter `{}` of `{}`", pc.name, lambda.display_name()),
                &m,
            )),
        }
    }

    #[inline]
    fn check_return(&mut self, ret: &Type, lambda: &Lambda, v: &Value) -> RtResult<()> {
        if let Type::Prim(p) = ret
            && p.accepts(v)
        {
            return Ok(());
        }
        match rtfs_ir::validate::check(ret, v, "", self)? {
            None => Ok(()),
            Some(m) => Err(rtfs_ir::validate::type_error(
                &format!("return value of `{}`", lambda.display_name()),
                &m,
            )),
        }
    }

    /// Runs a function body; a self tail call (`recur` to the parameters) restarts it.
    #[inline]
    fn run_body(&mut self, body: &Expr, frame: Frame) -> RtResult<Value> {
        loop {
            match self.eval_tail(body, frame) {
                Ok(_) if self.recur => self.recur = false,
                r => return r,
            }
        }
    }

    /// Binds `v` to a pattern. Irrefutable patterns (let, params) bind nil for missing parts;
    /// refutable ones (match) return false on a mismatch.
    fn bind(&mut self, p: &Pattern, v: Value, f: Frame, refutable: bool) -> RtResult<bool> {
        match p {
            Pattern::Ignore => Ok(true),
            Pattern::Bind(s) => {
                *self.slot(f, *s) = v;
                Ok(true)
            }
            Pattern::Literal(l) => Ok(*l == v),
            Pattern::Type(t, inner) => {
                if type_matches(*t, &v) {
                    self.bind(inner, v, f, refutable)
                } else {
                    Ok(false)
                }
            }
            Pattern::As(s, inner) => {
                *self.slot(f, *s) = v.clone();
                self.bind(inner, v, f, refutable)
            }
            Pattern::Seq {
                items,
                rest,
                as_slot,
                strict,
            } => {
                let seq = match &v {
                    Value::Vector(s) | Value::List(s) => (**s).clone(),
                    Value::Nil if !refutable => rtfs_ir::Seq::new(),
                    Value::Str(s) if !refutable => {
                        s.chars().map(|c| Value::str(c.to_string())).collect()
                    }
                    _ if refutable => return Ok(false),
                    other => {
                        return Err(RtError::new(
                            kind::TYPE,
                            format!("cannot destructure {} as a sequence", other.type_name()),
                        ));
                    }
                };
                if seq.len() < items.len() || (rest.is_none() && seq.len() != items.len()) {
                    if refutable {
                        return Ok(false);
                    }
                    if *strict {
                        return Err(RtError::new(
                            kind::ARITY,
                            format!(
                                "arity mismatch in vector destructuring: expected {} elements, got {}",
                                items.len(),
                                seq.len()
                            ),
                        ));
                    }
                }
                for (i, p) in items.iter().enumerate() {
                    let x = seq.get(i).cloned().unwrap_or(Value::Nil);
                    if !self.bind(p, x, f, refutable)? {
                        return Ok(false);
                    }
                }
                if let Some(r) = rest {
                    let tail: rtfs_ir::Seq = seq.iter().skip(items.len()).cloned().collect();
                    let tail = if tail.is_empty() && !refutable {
                        Value::Nil
                    } else {
                        Value::from_seq_vector(tail)
                    };
                    if !self.bind(r, tail, f, refutable)? {
                        return Ok(false);
                    }
                }
                if let Some(s) = as_slot {
                    *self.slot(f, *s) = v;
                }
                Ok(true)
            }
            Pattern::Map { entries, as_slot } => {
                let map = match &v {
                    Value::Map(m) => Some(m.clone()),
                    Value::Nil if !refutable => None,
                    // Keyword arguments, `[& {:keys [k]}]` (Clojure): the rest arguments
                    // read as key/value pairs.
                    Value::Vector(s) | Value::List(s) if !refutable && s.len() % 2 == 0 => {
                        let pairs: Vec<(Value, Value)> = s
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .chunks(2)
                            .map(|kv| (kv[0].clone(), kv[1].clone()))
                            .collect();
                        Some(Arc::new(rtfs_ir::Map::from_entries(pairs)))
                    }
                    _ if refutable => return Ok(false),
                    other => {
                        return Err(RtError::new(
                            kind::TYPE,
                            format!("cannot destructure {} as a map", other.type_name()),
                        ));
                    }
                };
                for e in entries {
                    let found = map.as_ref().and_then(|m| m.get(&e.key).cloned());
                    let x = match (found, &e.default) {
                        (Some(x), _) => x,
                        (None, Some(d)) => self.eval(d, f)?,
                        (None, None) if refutable => return Ok(false),
                        (None, None) => Value::Nil,
                    };
                    if !self.bind(&e.pattern, x, f, refutable)? {
                        return Ok(false);
                    }
                }
                if let Some(s) = as_slot {
                    *self.slot(f, *s) = v;
                }
                Ok(true)
            }
        }
    }
}

/// The interpreter's bookkeeping as a callback found it. Compiled code calls back through
/// [`Env::apply`]/[`Env::apply_at`] and catches a panic there (it must not unwind through
/// compiled frames); restoring on drop puts the depth, the value stack and the scope
/// counters back on every exit, a caught panic included, before the bail re-runs the call.
struct Restore<'a, 's> {
    it: &'a mut Interp<'s>,
    stack: usize,
    depth: u32,
    jit_suppressed: u32,
    sensitive_scope: u32,
    pure_only: u32,
    recur: bool,
}

impl<'a, 's> Restore<'a, 's> {
    fn new(it: &'a mut Interp<'s>) -> Self {
        Restore {
            stack: it.stack.len(),
            depth: it.depth,
            jit_suppressed: it.jit_suppressed,
            sensitive_scope: it.sensitive_scope,
            pure_only: it.pure_only,
            recur: it.recur,
            it,
        }
    }
}

impl Drop for Restore<'_, '_> {
    fn drop(&mut self) {
        let it = &mut *self.it;
        it.stack.truncate(self.stack);
        it.depth = self.depth;
        it.jit_suppressed = self.jit_suppressed;
        it.sensitive_scope = self.sensitive_scope;
        it.pure_only = self.pure_only;
        it.recur = self.recur;
    }
}

impl Env for Interp<'_> {
    fn apply(&mut self, f: &Value, args: &[Value]) -> RtResult<Value> {
        let g = Restore::new(self);
        let base = g.it.stack.len();
        g.it.stack.extend(args.iter().cloned());
        g.it.invoke(f, base)
    }

    fn apply2(&mut self, f: &Value, a: Value, b: Value) -> RtResult<Value> {
        let base = self.stack.len();
        self.stack.push(a);
        self.stack.push(b);
        self.invoke(f, base)
    }

    fn apply_at(
        &mut self,
        site: &rtfs_ir::expr::CallTarget,
        sensitive: bool,
        f: &Value,
        args: &[Value],
    ) -> RtResult<Value> {
        if site.is_local_pure() && !sensitive {
            return self.apply(f, args);
        }
        if self.pure_only > 0 && !self.runs_locally(site, sensitive, f, args.len()) {
            self.refuse_effect("a delegated call")?;
        }
        let g = Restore::new(self);
        g.it.call_delegated(site, sensitive, f, args)
    }

    fn write_out(&mut self, text: &str) -> RtResult<()> {
        self.refuse_effect("output")?;
        self.st.write_out(text)
    }

    fn call_capability(&mut self, id: &str, args: &[Value]) -> RtResult<Value> {
        self.refuse_effect("a capability call")?;
        static HOST: rtfs_ir::expr::CallTarget = rtfs_ir::expr::CallTarget::Fixed {
            target: rtfs_ir::ExecTarget::LocalPure,
            reason: rtfs_ir::TargetReason::NoPolicy,
        };
        self.capability_call(&HOST, false, id, args)
    }

    fn global_named(&mut self, name: &str) -> Option<Value> {
        self.st.globals.get_named(name)
    }
}

impl TypeEnv for Interp<'_> {
    fn lookup(&mut self, name: &str) -> Option<Value> {
        self.st
            .globals
            .get_named(name)
            .or_else(|| rtfs_stdlib::lookup(name).map(Value::Builtin))
    }

    fn call(&mut self, f: &Value, arg: &Value) -> RtResult<Value> {
        self.apply(f, std::slice::from_ref(arg))
    }
}

/// Whether a function contains a loop: `auto` compiles those at their first call, since a
/// loop is hot within a single call (there is no on-stack replacement).
fn has_loop(l: &rtfs_ir::expr::Lambda) -> bool {
    fn walk(e: &Expr) -> bool {
        match e {
            Expr::Loop(_) | Expr::Recur(..) => true,
            Expr::If(b) => walk(&b.0) || walk(&b.1) || walk(&b.2),
            Expr::Do(es) => es.iter().any(walk),
            Expr::Bind(b) => walk(&b.1),
            _ => false,
        }
    }
    l.arities.iter().any(|a| walk(&a.body))
}

fn short(v: &Value) -> String {
    let s = v.pr_str();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Keywords, maps, sets and vectors are callable, as in Clojure.
fn apply_data(callee: &Value, args: &[Value]) -> RtResult<Value> {
    let name = callee.type_name();
    let (first, default) = match args {
        [a] => (a, Value::Nil),
        [a, d] => (a, d.clone()),
        _ => return Err(RtError::arity(name, "1 to 2", args.len())),
    };
    Ok(match (callee, first) {
        (Value::Keyword(_), Value::Map(m)) => m.get(callee).cloned().unwrap_or(default),
        (Value::Keyword(_), _) => default,
        (Value::Map(m), k) => m.get(k).cloned().unwrap_or(default),
        (Value::Set(s), k) => {
            if s.contains(k) {
                k.clone()
            } else {
                default
            }
        }
        (Value::Vector(v), Value::Int(i)) => {
            match usize::try_from(*i).ok().and_then(|i| v.get(i)) {
                Some(x) => x.clone(),
                None if args.len() == 2 => default,
                None => {
                    return Err(RtError::new(
                        kind::INDEX,
                        format!("index {i} out of bounds for vector of length {}", v.len()),
                    ));
                }
            }
        }
        (Value::Vector(_), other) => {
            return Err(RtError::expected(
                "vector lookup",
                "an integer index",
                other,
            ));
        }
        _ => {
            return Err(RtError::new(
                kind::NOT_CALLABLE,
                format!("{} is not callable", short(callee)),
            ));
        }
    })
}

fn type_matches(t: TypeTest, v: &Value) -> bool {
    match t {
        TypeTest::Int => matches!(v, Value::Int(_)),
        TypeTest::Float => matches!(v, Value::Float(_)),
        TypeTest::Number => matches!(v, Value::Int(_) | Value::Float(_)),
        TypeTest::String => matches!(v, Value::Str(_)),
        TypeTest::Bool => matches!(v, Value::Bool(_)),
        TypeTest::Nil => v.is_nil(),
        TypeTest::Keyword => matches!(v, Value::Keyword(_)),
        TypeTest::Symbol => matches!(v, Value::Symbol(_)),
        TypeTest::Vector => matches!(v, Value::Vector(_)),
        TypeTest::List => matches!(v, Value::List(_)),
        TypeTest::Map => matches!(v, Value::Map(_)),
        TypeTest::Set => matches!(v, Value::Set(_)),
        TypeTest::Function => v.is_fn(),
        TypeTest::Any => true,
    }
}

/// The int/int fast path of a primitive; `None` means "take the general path" (overflow,
/// division, or an op with no fast path), which then raises the proper error.
#[inline(always)]
fn int_op(op: PrimOp, a: i64, b: i64) -> Option<Value> {
    Some(match op {
        PrimOp::Add => Value::Int(a.checked_add(b)?),
        PrimOp::Sub => Value::Int(a.checked_sub(b)?),
        PrimOp::Mul => Value::Int(a.checked_mul(b)?),
        PrimOp::Lt => Value::Bool(a < b),
        PrimOp::Le => Value::Bool(a <= b),
        PrimOp::Gt => Value::Bool(a > b),
        PrimOp::Ge => Value::Bool(a >= b),
        PrimOp::Eq | PrimOp::NumEq => Value::Bool(a == b),
        PrimOp::NotEq => Value::Bool(a != b),
        PrimOp::Div | PrimOp::Rem | PrimOp::Mod => return None,
    })
}

/// The float/float fast path (IEEE semantics, as `num` implements them).
#[inline(always)]
fn float_op(op: PrimOp, a: f64, b: f64) -> Option<Value> {
    Some(match op {
        PrimOp::Add => Value::Float(a + b),
        PrimOp::Sub => Value::Float(a - b),
        PrimOp::Mul => Value::Float(a * b),
        PrimOp::Lt => Value::Bool(a < b),
        PrimOp::Le => Value::Bool(a <= b),
        PrimOp::Gt => Value::Bool(a > b),
        PrimOp::Ge => Value::Bool(a >= b),
        _ => return None,
    })
}

#[inline]
fn prim2(op: PrimOp, a: &Value, b: &Value) -> RtResult<Value> {
    match op {
        PrimOp::Add => num::add(a, b),
        PrimOp::Sub => num::sub(a, b),
        PrimOp::Mul => num::mul(a, b),
        PrimOp::Div => num::div(a, b),
        PrimOp::Lt => num::lt(a, b),
        PrimOp::Le => num::le(a, b),
        PrimOp::Gt => num::gt(a, b),
        PrimOp::Ge => num::ge(a, b),
        PrimOp::NumEq => num::num_eq(a, b),
        PrimOp::Eq => Ok(Value::Bool(a == b)),
        PrimOp::NotEq => Ok(Value::Bool(a != b)),
        PrimOp::Rem => num::rem(a, b),
        PrimOp::Mod => num::modulo(a, b),
    }
}

#[inline]
fn prim1(op: PrimOp1, a: &Value) -> RtResult<Value> {
    match op {
        PrimOp1::Inc => num::inc(a),
        PrimOp1::Dec => num::dec(a),
        PrimOp1::Not => Ok(Value::Bool(!a.truthy())),
        PrimOp1::IsNil => Ok(Value::Bool(a.is_nil())),
        PrimOp1::IsZero => match a {
            Value::Int(i) => Ok(Value::Bool(*i == 0)),
            Value::Float(x) => Ok(Value::Bool(*x == 0.0)),
            other => Err(RtError::expected("zero?", "a number", other)),
        },
    }
}

/// What `(throw x)` raises: an error value as is; a map with `:type`/`:message` as a user
/// error of that kind; anything else as a user error carrying it.
fn thrown(v: Value) -> RtError {
    match v {
        Value::Error(ref e) => RtError(e.clone()),
        Value::Str(ref s) => RtError::new(kind::USER, s.as_str()),
        Value::Map(ref m) => {
            let kind_name = m
                .get(&Value::keyword("type"))
                .and_then(|t| t.as_keyword().map(str::to_string));
            let msg = m
                .get(&Value::keyword("message"))
                .map(|m| m.to_display())
                .unwrap_or_else(|| v.pr_str());
            RtError::with_data(kind_name.as_deref().unwrap_or(kind::USER), msg, v.clone())
        }
        other => RtError::with_data(kind::USER, other.to_display(), other),
    }
}

/// The compiler resolved each selector to the exact kinds it accepts
/// (`rtfs_compiler::catch_selectors`); `None` catches everything.
fn catch_matches(filter: Option<&[String]>, e: &RtError) -> bool {
    filter.is_none_or(|kinds| kinds.iter().any(|k| k == e.kind()))
}

#[cfg(test)]
#[path = "interp_restore_tests.rs"]
mod restore_tests;
