//! Planning a compilation: starting from one function and the argument types seen at
//! tier-up, find every function it calls (each specialised on its own argument types),
//! infer each one's return type by fixpoint, and resolve the global constants it reads.
//! Anything outside the compiled subset rejects the whole group with a reason.
//!
//! The subset: constants, locals, `if`, `do`, `let` of plain names, the inline
//! primitives, pure built-ins, `loop`/`recur`, and calls to itself or to other global
//! functions without captures. Values known to be int/float/bool are unboxed; anything
//! else (strings, collections, nil, keywords, function values, results of built-ins,
//! branches of different types) is [`Ty::Val`], a boxed value the code handles through
//! runtime helpers. Numeric operations on unboxed operands keep the fast path; on a boxed
//! operand they call the built-in of the same name.

use std::collections::HashMap;
use std::sync::Arc;

use rtfs_ir::expr::{CallTarget, CaptureFrom, Expr, GlobalId, Lambda, Pattern, PrimOp, PrimOp1};
use rtfs_ir::{Builtin, Value};

use crate::Globals;

/// The machine-level types of the subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Int,
    Float,
    Bool,
    /// Any value, boxed: an index into the call's arena of values (see `rt`).
    Val,
}

impl Ty {
    pub fn of(v: &Value) -> Ty {
        match v {
            Value::Int(_) => Ty::Int,
            Value::Float(_) => Ty::Float,
            Value::Bool(_) => Ty::Bool,
            _ => Ty::Val,
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Ty::Int => 1,
            Ty::Float => 2,
            Ty::Bool => 3,
            Ty::Val => 4,
        }
    }

    pub fn from_code(c: u8) -> Option<Ty> {
        match c {
            1 => Some(Ty::Int),
            2 => Some(Ty::Float),
            3 => Some(Ty::Bool),
            4 => Some(Ty::Val),
            _ => None,
        }
    }

    /// The type of a value that is either `self` or `other`.
    pub fn join(self, other: Ty) -> Ty {
        if self == other { self } else { Ty::Val }
    }
}

/// A type during inference: `None` is "no value yet" (bottom) — a recursive call whose
/// return type is still unknown, or a `recur`, which jumps instead of producing a value.
pub type ITy = Option<Ty>;

/// Why a function stays interpreted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject(pub String);

pub type PResult<T> = Result<T, Reject>;

pub fn reject<T>(why: impl Into<String>) -> PResult<T> {
    Err(Reject(why.into()))
}

/// A global's value as the compiled code sees it: a constant or a function to call.
#[derive(Clone)]
pub enum GlobalUse {
    Const(Value),
    /// A function without captures (called directly) and its value (when used as one).
    Func(Arc<Lambda>, Value),
}

/// One function specialised on its argument types.
pub struct Spec {
    pub lambda: Arc<Lambda>,
    pub arity: usize,
    /// The closure's captures come first in `params` (the root only: other functions of
    /// the group are globals without captures).
    pub ncaps: usize,
    pub params: Vec<Ty>,
    pub ret: ITy,
    /// Handles boxed values (so it marks and releases a region of the arena).
    pub boxed: bool,
    /// Types of the values each `loop` carries (keyed by the loop expression's address),
    /// widened to `Val` where `recur` passes another type.
    pub loop_tys: HashMap<usize, Vec<Ty>>,
    /// Types of the parameters as the body's own loop (self `recur`) carries them.
    pub body_tys: Vec<Ty>,
}

pub struct Plan {
    /// `specs[0]` is the function being compiled.
    pub specs: Vec<Spec>,
    pub globals: HashMap<GlobalId, GlobalUse>,
    /// Boxed constants, by index; the code refers to them by index only, and the table is
    /// rebuilt from the plan when the code is loaded (also from the L4 cache).
    pub consts: Vec<Value>,
    const_ids: HashMap<Vec<u8>, u32>,
    /// Built-ins called through the generic helper, by index (same discipline).
    pub builtins: Vec<&'static Builtin>,
    /// Lambdas of the closures the code creates, by index.
    pub lambdas: Vec<Arc<Lambda>>,
    /// Call sites of function values whose target is decided at run time (and whether
    /// they carry sensitive data), by index.
    pub sites: Vec<(CallTarget, bool)>,
    /// Some function handles boxed values: every function of the group takes the context.
    pub boxed: bool,
    /// Every constant has a canonical encoding, so the group may go to the disk cache (a
    /// function value is identified by its address, which means nothing in another process).
    pub cacheable: bool,
    /// Some function of the group calls a function value (through the runtime).
    pub calls_values: bool,
}

/// Most parameters a compiled function may take (the entry passes them in a buffer).
pub const MAX_PARAMS: usize = 16;
/// Most functions compiled as one group.
const MAX_SPECS: usize = 64;
/// Largest body (in IR nodes) worth compiling: keeps one compilation cheap.
const MAX_NODES: usize = 20_000;

impl Plan {
    /// Index of the spec for `lambda` called with `args`, adding it if new.
    fn spec_for(&mut self, lambda: &Arc<Lambda>, args: &[Ty]) -> PResult<usize> {
        self.spec_with(lambda, 0, args)
    }

    /// Same, for a function whose first `ncaps` parameters are its captures.
    fn spec_with(&mut self, lambda: &Arc<Lambda>, ncaps: usize, args: &[Ty]) -> PResult<usize> {
        if let Some(i) = self
            .specs
            .iter()
            .position(|s| Arc::ptr_eq(&s.lambda, lambda) && s.params == args)
        {
            return Ok(i);
        }
        if self.specs.len() >= MAX_SPECS {
            return reject("calls too many distinct functions");
        }
        let arity = arity_index(lambda, args.len() - ncaps.min(args.len()))?;
        self.specs.push(Spec {
            lambda: lambda.clone(),
            arity,
            ncaps,
            params: args.to_vec(),
            ret: None,
            boxed: false,
            loop_tys: HashMap::new(),
            body_tys: args[ncaps.min(args.len())..].to_vec(),
        });
        Ok(self.specs.len() - 1)
    }

    /// Index of boxed constant `v`, adding it if new.
    pub fn intern(&mut self, v: &Value) -> PResult<u32> {
        let mut enc = Vec::new();
        if !crate::key::canon(v, &mut enc, 0)? {
            self.cacheable = false;
        }
        if let Some(&i) = self.const_ids.get(&enc) {
            return Ok(i);
        }
        let i = self.consts.len() as u32;
        self.consts.push(v.clone());
        self.const_ids.insert(enc, i);
        Ok(i)
    }

    /// Index of an interned constant (the code generator only looks up).
    pub fn const_index(&self, v: &Value) -> PResult<u32> {
        let mut enc = Vec::new();
        crate::key::canon(v, &mut enc, 0)?;
        self.const_ids
            .get(&enc)
            .copied()
            .ok_or(Reject("constant not planned".into()))
    }

    /// Index of built-in `b` in the group's table, adding it if new.
    pub fn add_builtin(&mut self, b: &'static Builtin) -> PResult<u32> {
        if !b.pure_fn {
            return reject(format!("calls `{}`, which has effects", b.name));
        }
        if let Some(i) = self.builtin_index(b.name) {
            return Ok(i);
        }
        self.builtins.push(b);
        Ok(self.builtins.len() as u32 - 1)
    }

    /// Index of a closure's lambda in the group's table. Lambdas are named by address in
    /// the key, so such code stays out of the disk cache.
    pub fn add_lambda(&mut self, l: &Arc<Lambda>) -> u32 {
        self.cacheable = false;
        if let Some(i) = self.lambda_index(l) {
            return i;
        }
        self.lambdas.push(l.clone());
        self.lambdas.len() as u32 - 1
    }

    pub fn add_site(&mut self, t: &CallTarget, sensitive: bool) -> u32 {
        if let Some(i) = self.site_index(t, sensitive) {
            return i;
        }
        self.sites.push((t.clone(), sensitive));
        self.sites.len() as u32 - 1
    }

    pub fn site_index(&self, t: &CallTarget, sensitive: bool) -> Option<u32> {
        self.sites
            .iter()
            .position(|(x, s)| x == t && *s == sensitive)
            .map(|i| i as u32)
    }

    pub fn lambda_index(&self, l: &Arc<Lambda>) -> Option<u32> {
        self.lambdas
            .iter()
            .position(|x| Arc::ptr_eq(x, l))
            .map(|i| i as u32)
    }

    pub fn builtin_index(&self, name: &str) -> Option<u32> {
        self.builtins
            .iter()
            .position(|x| x.name == name)
            .map(|i| i as u32)
    }

    pub fn global(&mut self, id: GlobalId, g: &dyn Globals) -> PResult<GlobalUse> {
        if let Some(u) = self.globals.get(&id) {
            return Ok(u.clone());
        }
        let u = match g.value(id) {
            Some(Value::Fn(ref c)) if c.captures.is_empty() => {
                GlobalUse::Func(c.lambda.clone(), Value::Fn(c.clone()))
            }
            Some(v) => GlobalUse::Const(v),
            None => return reject("uses an unbound global"),
        };
        self.globals.insert(id, u.clone());
        Ok(u)
    }
}

/// The fixed arity of `lambda` that takes `n` arguments.
pub fn arity_index(lambda: &Lambda, n: usize) -> PResult<usize> {
    match lambda.arity_for(n) {
        Some(a) if !a.rest => lambda
            .arities
            .iter()
            .position(|b| std::ptr::eq(a, b))
            .ok_or_else(|| Reject("arity lookup failed".into())),
        Some(_) => reject("variadic functions are not compiled"),
        None => reject(format!("no arity for {n} arguments")),
    }
}

/// Plans the compilation of `root` called with arguments of types `args`.
pub fn plan(root: &Arc<Lambda>, caps: &[Ty], args: &[Ty], g: &dyn Globals) -> PResult<Plan> {
    if caps.len() + args.len() > MAX_PARAMS {
        return reject(format!("more than {MAX_PARAMS} parameters"));
    }
    let mut p = Plan {
        specs: Vec::new(),
        globals: HashMap::new(),
        consts: Vec::new(),
        const_ids: HashMap::new(),
        builtins: Vec::new(),
        lambdas: Vec::new(),
        sites: Vec::new(),
        boxed: false,
        cacheable: true,
        calls_values: false,
    };
    let all: Vec<Ty> = caps.iter().chain(args).copied().collect();
    p.spec_with(root, caps.len(), &all)?;
    // Return types only move up from bottom to a type (a second type rejects), so this
    // reaches a fixpoint within a few rounds per function.
    for _round in 0..(2 * MAX_SPECS + 4) {
        let mut changed = false;
        let mut i = 0;
        while i < p.specs.len() {
            let lambda = p.specs[i].lambda.clone();
            let arity = &lambda.arities[p.specs[i].arity];
            if count_nodes(&arity.body) > MAX_NODES {
                return reject("function body too large to compile");
            }
            let mut inf = Infer {
                plan: &mut p,
                g,
                me: i,
                slots: vec![None; arity.frame_size as usize],
                loops: Vec::new(),
                boxed: false,
                loop_tys: HashMap::new(),
                caps: Vec::new(),
            };
            let ncaps = inf.plan.specs[i].ncaps;
            let mut params: Vec<Ty> = inf.plan.specs[i].params.clone();
            inf.caps = params.drain(..ncaps.min(params.len())).collect();
            // The body is the outermost loop: a self `recur` may widen what it carries.
            let (t, body_tys) = inf.with_loop(params.clone(), |inf, tys| {
                for (s, t) in tys.iter().enumerate() {
                    inf.set(s as u32, *t)?;
                }
                inf.expr(&arity.body, true)
            })?;
            let boxed = inf.boxed || body_tys.contains(&Ty::Val);
            let loop_tys = std::mem::take(&mut inf.loop_tys);
            let spec = &mut p.specs[i];
            spec.boxed = boxed || t == Some(Ty::Val);
            spec.loop_tys = loop_tys;
            spec.body_tys = body_tys;
            let old = spec.ret;
            match (old, t) {
                (_, None) => {}
                (None, Some(t)) => {
                    spec.ret = Some(t);
                    changed = true;
                }
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) => {
                    spec.ret = Some(a.join(b));
                    changed = true;
                }
            }
            i += 1;
        }
        if !changed {
            proven_annotations(&p)?;
            p.boxed = p.specs.iter().any(|s| s.boxed);
            if let Some(s) = p.specs.iter().find(|s| s.ret.is_none()) {
                return reject(format!(
                    "`{}` never returns a value (endless recursion)",
                    s.lambda.display_name()
                ));
            }
            return Ok(p);
        }
    }
    reject("return types did not settle")
}

/// Annotated parameter and return types (spec 13) must be what the specialisation proves
/// (an `:int` parameter carried as an unboxed i64), so the compiled code checks nothing:
/// the interpreter checks the arguments on entry, and inside the group the types are
/// proven. Anything else stays interpreted, where every call is checked.
fn proven_annotations(p: &Plan) -> PResult<()> {
    for s in &p.specs {
        let Some(types) = s.lambda.arities[s.arity].types.as_deref() else {
            continue;
        };
        for pc in &types.params {
            let t = s.body_tys.get(pc.slot as usize).copied();
            if !t.is_some_and(|t| proves(t, &pc.ty)) {
                return reject(format!(
                    "`{}`: the type of parameter `{}` ({}) is not proven",
                    s.lambda.display_name(),
                    pc.name,
                    pc.ty
                ));
            }
        }
        if let Some(r) = &types.ret
            && !s.ret.is_some_and(|t| proves(t, r))
        {
            return reject(format!(
                "`{}`: the return type {r} is not proven",
                s.lambda.display_name()
            ));
        }
    }
    Ok(())
}

fn proves(t: Ty, ann: &rtfs_ir::types::Type) -> bool {
    use rtfs_ir::types::{Prim, Type};
    matches!(
        (t, ann),
        (_, Type::Any)
            | (Ty::Int, Type::Prim(Prim::Int | Prim::Number))
            | (Ty::Float, Type::Prim(Prim::Float | Prim::Number))
            | (Ty::Bool, Type::Prim(Prim::Bool))
    )
}

/// Calls `f` on each direct sub-expression the compiled subset can contain (what
/// `count_nodes` counts and `small_leaf` searches; other forms are rejected anyway).
fn for_each_child(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match e {
        Expr::If(b) => {
            f(&b.0);
            f(&b.1);
            f(&b.2);
        }
        Expr::Do(es)
        | Expr::Recur(es, _)
        | Expr::CallBuiltin(_, es, _)
        | Expr::Vector(es)
        | Expr::Set(es) => es.iter().for_each(f),
        Expr::Bind(b) => f(&b.1),
        Expr::Call(c) => {
            f(&c.callee);
            c.args.iter().for_each(f);
        }
        Expr::Prim(_, b, _) => {
            f(&b.0);
            f(&b.1);
        }
        Expr::Prim1(_, x, _) => f(x),
        Expr::Loop(b) => {
            b.0.iter().for_each(|(_, x)| f(x));
            f(&b.1);
        }
        Expr::Map(kvs) => kvs.iter().for_each(|(k, v)| {
            f(k);
            f(v);
        }),
        _ => {}
    }
}

pub fn count_nodes(e: &Expr) -> usize {
    let mut n = 1;
    for_each_child(e, &mut |c| n += count_nodes(c));
    n
}

/// Bodies at most this large (IR nodes) that neither loop nor call a known function are
/// not worth entering from the interpreter: the switch into native code and back (arguments
/// copied, a context set up, the result boxed) costs more than interpreting them. Measured
/// on the closure and map/filter/reduce benchmarks, where such bodies are called back once
/// per element.
const SMALL_LEAF_NODES: usize = 12;

/// Whether `body` is a small leaf: few nodes, no loop, no call of a global or of itself.
/// `auto` leaves such functions interpreted when they get hot on their own (they are still
/// compiled inside the group of a compiled caller that calls them directly).
pub fn small_leaf(body: &Expr) -> bool {
    fn loops_or_calls(e: &Expr) -> bool {
        let mut found = match e {
            Expr::Loop(_) | Expr::Recur(..) => true,
            Expr::Call(c) => matches!(c.callee, Expr::SelfFn | Expr::Global(..)),
            _ => false,
        };
        for_each_child(e, &mut |c| found = found || loops_or_calls(c));
        found
    }
    count_nodes(body) <= SMALL_LEAF_NODES && !loops_or_calls(body)
}

/// The result type of a binary primitive on operand types (both known).
pub fn prim_ty(op: PrimOp, a: Ty, b: Ty) -> PResult<Ty> {
    use PrimOp::*;
    use Ty::*;
    match (op, a, b) {
        (Add | Sub | Mul, Int, Int) => Ok(Int),
        (Add | Sub | Mul, Int | Float, Int | Float) => Ok(Float),
        // An int quotient is an int only when exact; the code bails otherwise.
        (Div, Int, Int) => Ok(Int),
        (Div, Int | Float, Int | Float) => Ok(Float),
        (Rem | Mod, Int, Int) => Ok(Int),
        (Lt | Le | Gt | Ge | NumEq, Int, Int) | (Lt | Le | Gt | Ge | NumEq, Float, Float) => {
            Ok(Bool)
        }
        (Eq | NotEq, Int, Int) | (Eq | NotEq, Bool, Bool) => Ok(Bool),
        _ => reject(format!(
            "`{}` on {a:?} and {b:?} is not compiled",
            op.name()
        )),
    }
}

pub fn prim1_ty(op: PrimOp1, a: Ty) -> PResult<Ty> {
    match (op, a) {
        (PrimOp1::Inc | PrimOp1::Dec, Ty::Int | Ty::Float) => Ok(a),
        (PrimOp1::Not | PrimOp1::IsNil, _) => Ok(Ty::Bool),
        (PrimOp1::IsZero, Ty::Int | Ty::Float) => Ok(Ty::Bool),
        _ => reject(format!("`{}` on {a:?} is not compiled", op.name())),
    }
}

/// The unboxed result of a binary primitive, or `None`: call the built-in of that name.
pub fn prim_plan(op: PrimOp, a: Ty, b: Ty) -> Option<Ty> {
    if a == Ty::Val || b == Ty::Val {
        return None;
    }
    prim_ty(op, a, b).ok()
}

/// Same for a unary primitive (`not` of a boxed value is a truthiness test).
pub fn prim1_plan(op: PrimOp1, a: Ty) -> Option<Ty> {
    match (op, a) {
        (PrimOp1::Not, Ty::Val) => Some(Ty::Bool),
        (_, Ty::Val) => None,
        _ => prim1_ty(op, a).ok(),
    }
}

/// How a call of a built-in with arguments of types `tys` is compiled: inline on unboxed
/// numbers, else through the generic helper (pure built-ins only).
pub fn builtin_plan(b: &Builtin, tys: &[Ty]) -> PResult<Option<(BuiltinOp, Ty)>> {
    if let Ok(op) = builtin_op(b.name, tys.len())
        && !tys.contains(&Ty::Val)
        && let Ok(t) = numeric_ty(op, tys)
    {
        return Ok(Some((op, t)));
    }
    if !b.pure_fn {
        return reject(format!("calls `{}`, which has effects", b.name));
    }
    Ok(None)
}

fn numeric_ty(op: BuiltinOp, tys: &[Ty]) -> PResult<Ty> {
    match op {
        BuiltinOp::Fold(p) => {
            let mut acc = tys[0];
            for t in &tys[1..] {
                acc = prim_ty(p, acc, *t)?;
            }
            Ok(acc)
        }
        BuiltinOp::Neg => neg_ty(tys[0]),
        BuiltinOp::Unary(p) => prim1_ty(p, tys[0]),
        BuiltinOp::Binary(p) => prim_ty(p, tys[0], tys[1]),
        BuiltinOp::Quot => prim_ty(PrimOp::Div, tys[0], tys[1]),
    }
}

/// How a call to a built-in is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinOp {
    /// A left fold of a binary primitive (`+`, `*`, `-` with 2+ arguments, `/`).
    Fold(PrimOp),
    /// `(- x)`.
    Neg,
    /// A unary primitive (`inc`, `dec`, `not`, `zero?`).
    Unary(PrimOp1),
    /// A binary primitive with exactly two arguments (comparisons, `mod`, `rem`).
    Binary(PrimOp),
    /// `quot`: truncating division (an int for ints, a truncated float otherwise).
    Quot,
}

pub fn builtin_op(name: &str, nargs: usize) -> PResult<BuiltinOp> {
    use PrimOp::*;
    let op = match (name, nargs) {
        ("+", n) if n >= 2 => BuiltinOp::Fold(Add),
        ("*", n) if n >= 2 => BuiltinOp::Fold(Mul),
        ("-", 1) => BuiltinOp::Neg,
        ("-", n) if n >= 2 => BuiltinOp::Fold(Sub),
        ("/", n) if n >= 2 => BuiltinOp::Fold(Div),
        ("inc", 1) => BuiltinOp::Unary(PrimOp1::Inc),
        ("dec", 1) => BuiltinOp::Unary(PrimOp1::Dec),
        ("not", 1) => BuiltinOp::Unary(PrimOp1::Not),
        ("zero?", 1) => BuiltinOp::Unary(PrimOp1::IsZero),
        ("<", 2) => BuiltinOp::Binary(Lt),
        ("<=", 2) => BuiltinOp::Binary(Le),
        (">", 2) => BuiltinOp::Binary(Gt),
        (">=", 2) => BuiltinOp::Binary(Ge),
        ("==", 2) => BuiltinOp::Binary(NumEq),
        ("=", 2) => BuiltinOp::Binary(Eq),
        ("not=", 2) => BuiltinOp::Binary(NotEq),
        ("mod", 2) => BuiltinOp::Binary(Mod),
        ("rem", 2) => BuiltinOp::Binary(Rem),
        ("quot", 2) => BuiltinOp::Quot,
        _ => return reject(format!("calls `{name}` with {nargs} arguments")),
    };
    Ok(op)
}

/// `(- x)` keeps the operand's type.
pub fn neg_ty(a: Ty) -> PResult<Ty> {
    match a {
        Ty::Int | Ty::Float => Ok(a),
        Ty::Bool | Ty::Val => reject("`-` on a boolean or boxed value"),
    }
}

/// The value of an `if` test known at compile time (a constant that is not a number or
/// boolean, e.g. `:else` in `cond`).
pub fn const_test(e: &Expr) -> Option<bool> {
    match e {
        Expr::Const(v) => Some(v.truthy()),
        _ => None,
    }
}

struct Infer<'a> {
    plan: &'a mut Plan,
    g: &'a dyn Globals,
    me: usize,
    slots: Vec<Option<Ty>>,
    /// For each enclosing loop (the function body is the outermost): the types its values
    /// are assumed to have, and the join of what `recur` passes.
    loops: Vec<(Vec<Ty>, Vec<Ty>)>,
    /// A boxed value appeared in this function.
    boxed: bool,
    loop_tys: HashMap<usize, Vec<Ty>>,
    /// Types of the closure's captures.
    caps: Vec<Ty>,
}

impl Infer<'_> {
    fn set(&mut self, s: u32, t: Ty) -> PResult<()> {
        match self.slots.get_mut(s as usize) {
            Some(x) => {
                *x = Some(t);
                Ok(())
            }
            None => reject("slot out of frame"),
        }
    }

    fn local(&self, s: u32) -> PResult<Ty> {
        match self.slots.get(s as usize) {
            Some(Some(t)) => Ok(*t),
            _ => reject("reads a local before it is bound"),
        }
    }

    fn known(t: ITy) -> PResult<Ty> {
        // An operand still at bottom: the whole expression is bottom for this round.
        t.ok_or(Reject(String::new()))
    }

    /// Runs `body` as a loop carrying values of types `init`, widening them until what
    /// `recur` passes fits; returns the body's type and the settled types.
    fn with_loop(
        &mut self,
        init: Vec<Ty>,
        mut body: impl FnMut(&mut Self, &[Ty]) -> PResult<ITy>,
    ) -> PResult<(ITy, Vec<Ty>)> {
        let mut tys = init;
        // Each round widens at least one value to `Val`, the top: few rounds.
        for _ in 0..=tys.len() + 1 {
            self.loops.push((tys.clone(), tys.clone()));
            let r = body(self, &tys);
            let joined = self.loops.pop().map(|l| l.1).unwrap_or_default();
            let t = r?;
            if joined == tys {
                return Ok((t, tys));
            }
            tys = joined;
        }
        reject("loop types did not settle")
    }

    /// Infers `e`'s type; `tail` tells whether `recur` is allowed here.
    fn expr(&mut self, e: &Expr, tail: bool) -> PResult<ITy> {
        let r = match self.expr_inner(e, tail) {
            Err(Reject(w)) if w.is_empty() => Ok(None),
            r => r,
        };
        if let Ok(Some(Ty::Val)) = r {
            self.boxed = true;
        }
        r
    }

    /// A `let` binding inside a `do`; the bound value's type (bottom stops the `do`).
    fn bind(&mut self, p: &Pattern, e: &Expr) -> PResult<ITy> {
        let Some(t) = self.expr(e, false)? else {
            return Ok(None);
        };
        match p {
            Pattern::Bind(s) => self.set(*s, t)?,
            Pattern::Ignore => {}
            _ => return reject("destructuring is not compiled"),
        }
        Ok(Some(t))
    }

    fn operand(&mut self, e: &Expr) -> PResult<Ty> {
        let t = self.expr(e, false)?;
        Self::known(t)
    }

    /// A boxed constant: interned so the code can name it by index.
    fn konst(&mut self, v: &Value) -> PResult<Ty> {
        let t = Ty::of(v);
        if t == Ty::Val {
            self.plan.intern(v)?;
        }
        Ok(t)
    }

    /// The built-in a primitive falls back to on boxed operands.
    fn generic_prim(&mut self, name: &str) -> PResult<Ty> {
        match self.g.builtin(name) {
            Some(b) => {
                self.plan.add_builtin(b)?;
                self.boxed = true;
                Ok(Ty::Val)
            }
            None => reject(format!("`{name}` on these operand types is not compiled")),
        }
    }

    fn prim(&mut self, op: PrimOp, x: Ty, y: Ty) -> PResult<Ty> {
        match prim_plan(op, x, y) {
            Some(t) => Ok(t),
            None => self.generic_prim(op.name()),
        }
    }

    fn expr_inner(&mut self, e: &Expr, tail: bool) -> PResult<ITy> {
        Ok(Some(match e {
            Expr::Const(v) => self.konst(v)?,
            Expr::Local(s) => self.local(*s)?,
            Expr::Global(id, _) => match self.plan.global(*id, self.g)? {
                GlobalUse::Const(v) | GlobalUse::Func(_, v) => self.konst(&v)?,
            },
            Expr::If(b) => {
                let (c, t, f) = &**b;
                match const_test(c) {
                    Some(true) => return self.expr(t, tail),
                    Some(false) => return self.expr(f, tail),
                    None => {}
                }
                let ct = self.expr(c, false)?;
                match ct {
                    None => return Ok(None),
                    // A number is always truthy: the code has no else branch.
                    Some(Ty::Int | Ty::Float) => return self.expr(t, tail),
                    _ => {}
                }
                let a = self.expr(t, tail)?;
                let b = self.expr(f, tail)?;
                return Ok(match (a, b) {
                    (x, None) | (None, x) => x,
                    (Some(x), Some(y)) => Some(x.join(y)),
                });
            }
            Expr::Do(es) => {
                let Some((last, init)) = es.split_last() else {
                    return Ok(Some(self.konst(&Value::Nil)?));
                };
                for x in init {
                    let t = match x {
                        Expr::Bind(b) => self.bind(&b.0, &b.1)?,
                        Expr::SetLocal(s, v) => self.bind(&Pattern::Bind(*s), v)?,
                        _ => self.expr(x, false)?,
                    };
                    if t.is_none() {
                        return Ok(None);
                    }
                }
                return self.expr(last, tail);
            }
            Expr::Bind(_) => return reject("a binding's nil value is used"),
            Expr::Prim(op, b, _) => {
                let x = self.operand(&b.0)?;
                let y = self.operand(&b.1)?;
                self.prim(*op, x, y)?
            }
            Expr::PrimSlotInt(op, s, _, _) => {
                let x = self.local(*s)?;
                self.prim(*op, x, Ty::Int)?
            }
            Expr::PrimSlotSlot(op, a, b, _) => {
                let (x, y) = (self.local(*a)?, self.local(*b)?);
                self.prim(*op, x, y)?
            }
            Expr::Prim1(op, x, _) => {
                let x = self.operand(x)?;
                match prim1_plan(*op, x) {
                    Some(t) => t,
                    None => self.generic_prim(op.name())?,
                }
            }
            Expr::CallBuiltin(b, args, _) => {
                let mut tys = Vec::with_capacity(args.len());
                for a in args.iter() {
                    tys.push(self.operand(a)?);
                }
                match builtin_plan(b, &tys)? {
                    Some((_, t)) => t,
                    None => {
                        self.plan.add_builtin(b)?;
                        Ty::Val
                    }
                }
            }
            Expr::Loop(b) => {
                let mut init = Vec::with_capacity(b.0.len());
                for (_, x) in &b.0 {
                    init.push(self.operand(x)?);
                }
                let (t, tys) = self.with_loop(init, |inf, tys| {
                    for ((s, _), t) in b.0.iter().zip(tys) {
                        inf.set(*s, *t)?;
                    }
                    inf.expr(&b.1, true)
                })?;
                if tys.contains(&Ty::Val) {
                    self.boxed = true;
                }
                self.loop_tys.insert(e as *const Expr as usize, tys);
                return Ok(t);
            }
            Expr::Recur(args, slots) => {
                if !tail {
                    return reject("`recur` not in tail position");
                }
                let Some(want) = self.loops.last().map(|l| l.0.len()) else {
                    return reject("`recur` outside a loop");
                };
                if want != args.len() || slots.len() != args.len() {
                    return reject("`recur` with the wrong number of values");
                }
                let mut tys = Vec::with_capacity(args.len());
                for a in args.iter() {
                    tys.push(self.operand(a)?);
                }
                if let Some((_, joined)) = self.loops.last_mut() {
                    for (j, t) in joined.iter_mut().zip(tys) {
                        *j = j.join(t);
                    }
                }
                return Ok(None);
            }
            Expr::Call(c) => {
                // A call the delegation pass did not fix to LocalPure may be routed to a
                // model or a remote target: only the interpreter does that. A call of a
                // function value decided at run time goes through the runtime (which
                // bails, before any effect, unless it would simply run here).
                let known = match &c.callee {
                    Expr::SelfFn => true,
                    Expr::Global(id, _) => {
                        matches!(self.plan.global(*id, self.g)?, GlobalUse::Func(..))
                    }
                    _ => false,
                };
                if !c.target.is_local_pure() {
                    if known || !matches!(c.target, CallTarget::Runtime { .. }) {
                        return reject("makes a call the Delegation Engine routes");
                    }
                    self.plan.add_site(&c.target, c.sensitive);
                    self.operand(&c.callee)?;
                    for a in c.args.iter() {
                        self.operand(a)?;
                    }
                    self.boxed = true;
                    self.plan.calls_values = true;
                    return Ok(Some(Ty::Val));
                }
                let lambda = match &c.callee {
                    Expr::SelfFn => {
                        // The closure calling itself: same captures, passed along.
                        let mut tys = self.caps.clone();
                        for a in c.args.iter() {
                            tys.push(self.operand(a)?);
                        }
                        let me = self.plan.specs[self.me].lambda.clone();
                        let i = self.plan.spec_with(&me, self.caps.len(), &tys)?;
                        return Ok(self.plan.specs[i].ret);
                    }
                    Expr::Global(id, _) => match self.plan.global(*id, self.g)? {
                        GlobalUse::Func(l, _) => l,
                        GlobalUse::Const(Value::Builtin(b)) => {
                            let mut tys = Vec::with_capacity(c.args.len());
                            for a in c.args.iter() {
                                tys.push(self.operand(a)?);
                            }
                            self.plan.add_builtin(b)?;
                            return Ok(Some(Ty::Val));
                        }
                        GlobalUse::Const(v) => {
                            // A closure with captures, a keyword, a map...: called through
                            // the runtime like any function value.
                            self.konst(&v)?;
                            for a in c.args.iter() {
                                self.operand(a)?;
                            }
                            self.boxed = true;
                            self.plan.calls_values = true;
                            return Ok(Some(Ty::Val));
                        }
                    },
                    other => {
                        // A function value: called through the runtime (`Env::apply`),
                        // which runs it compiled or interpreted.
                        self.operand(other)?;
                        for a in c.args.iter() {
                            self.operand(a)?;
                        }
                        self.boxed = true;
                        self.plan.calls_values = true;
                        return Ok(Some(Ty::Val));
                    }
                };
                let mut tys = Vec::with_capacity(c.args.len());
                for a in c.args.iter() {
                    tys.push(self.operand(a)?);
                }
                let i = self.plan.spec_for(&lambda, &tys)?;
                return Ok(self.plan.specs[i].ret);
            }
            Expr::Capture(i) => match self.caps.get(*i as usize) {
                Some(t) => *t,
                None => return reject("reads a capture out of range"),
            },
            Expr::SelfFn => return reject("uses the running closure as a value"),
            Expr::SetLocal(..) => return reject("a binding's nil value is used"),
            Expr::CellGet(_) => return reject("uses a mutable cell"),
            Expr::MakeClosure(l, from) => {
                for f in from.iter() {
                    match f {
                        CaptureFrom::Local(s) => {
                            self.local(*s)?;
                        }
                        CaptureFrom::Capture(i) => {
                            if self.caps.get(*i as usize).is_none() {
                                return reject("reads a capture out of range");
                            }
                        }
                        CaptureFrom::SelfFn => {
                            return reject("creates a closure capturing the running one");
                        }
                    }
                }
                self.plan.add_lambda(l);
                Ty::Val
            }
            Expr::Try(_) | Expr::Throw(..) => return reject("uses try/throw"),
            Expr::Match(..) => return reject("uses match"),
            Expr::Vector(xs) | Expr::Set(xs) => {
                for x in xs.iter() {
                    self.operand(x)?;
                }
                Ty::Val
            }
            Expr::Map(kvs) => {
                for (k, v) in kvs.iter() {
                    self.operand(k)?;
                    self.operand(v)?;
                }
                Ty::Val
            }
            Expr::DefGlobal(..) | Expr::CapCall(_) | Expr::Parallel(_) | Expr::Plan(_) => {
                return reject("has effects");
            }
        }))
    }
}
