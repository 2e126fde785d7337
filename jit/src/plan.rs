//! Planning a compilation: starting from one function and the argument types seen at
//! tier-up, find every function it calls (each specialised on its own argument types),
//! infer each one's return type by fixpoint, and resolve the global constants it reads.
//! Anything outside the compiled subset rejects the whole group with a reason.
//!
//! The subset: int/float/bool values, constants, locals, `if`, `do`, `let` of plain
//! names, the inline primitives, the numeric built-ins, `loop`/`recur`, and calls to
//! itself or to other global functions without captures.

use std::collections::HashMap;
use std::sync::Arc;

use rtfs_ir::Value;
use rtfs_ir::expr::{Expr, GlobalId, Lambda, Pattern, PrimOp, PrimOp1};

use crate::Globals;

/// The machine-level types of the subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Int,
    Float,
    Bool,
}

impl Ty {
    pub fn of(v: &Value) -> Option<Ty> {
        match v {
            Value::Int(_) => Some(Ty::Int),
            Value::Float(_) => Some(Ty::Float),
            Value::Bool(_) => Some(Ty::Bool),
            _ => None,
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Ty::Int => 1,
            Ty::Float => 2,
            Ty::Bool => 3,
        }
    }

    pub fn from_code(c: u8) -> Option<Ty> {
        match c {
            1 => Some(Ty::Int),
            2 => Some(Ty::Float),
            3 => Some(Ty::Bool),
            _ => None,
        }
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
    Func(Arc<Lambda>),
}

/// One function specialised on its argument types.
pub struct Spec {
    pub lambda: Arc<Lambda>,
    pub arity: usize,
    pub params: Vec<Ty>,
    pub ret: ITy,
}

pub struct Plan {
    /// `specs[0]` is the function being compiled.
    pub specs: Vec<Spec>,
    pub globals: HashMap<GlobalId, GlobalUse>,
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
        let arity = arity_index(lambda, args.len())?;
        self.specs.push(Spec {
            lambda: lambda.clone(),
            arity,
            params: args.to_vec(),
            ret: None,
        });
        Ok(self.specs.len() - 1)
    }

    pub fn global(&mut self, id: GlobalId, g: &dyn Globals) -> PResult<GlobalUse> {
        if let Some(u) = self.globals.get(&id) {
            return Ok(u.clone());
        }
        let u = match g.value(id) {
            Some(v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => GlobalUse::Const(v),
            Some(Value::Fn(ref c)) if c.captures.is_empty() => GlobalUse::Func(c.lambda.clone()),
            Some(Value::Fn(_)) => return reject("calls a global closure with captures"),
            Some(other) => {
                return reject(format!(
                    "uses a global holding {}, not a number, boolean or function",
                    other.type_name()
                ));
            }
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
pub fn plan(root: &Arc<Lambda>, args: &[Ty], g: &dyn Globals) -> PResult<Plan> {
    if args.len() > MAX_PARAMS {
        return reject(format!("more than {MAX_PARAMS} parameters"));
    }
    let mut p = Plan {
        specs: Vec::new(),
        globals: HashMap::new(),
    };
    p.spec_for(root, args)?;
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
            };
            let params: Vec<Ty> = inf.plan.specs[i].params.clone();
            for (s, t) in params.iter().enumerate() {
                inf.set(s as u32, *t)?;
            }
            inf.loops.push(params.clone());
            let t = inf.expr(&arity.body, true)?;
            let old = p.specs[i].ret;
            match (old, t) {
                (_, None) => {}
                (None, Some(t)) => {
                    p.specs[i].ret = Some(t);
                    changed = true;
                }
                (Some(a), Some(b)) if a == b => {}
                (Some(_), Some(_)) => return reject("returns values of different types"),
            }
            i += 1;
        }
        if !changed {
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

pub fn count_nodes(e: &Expr) -> usize {
    1 + match e {
        Expr::If(b) => count_nodes(&b.0) + count_nodes(&b.1) + count_nodes(&b.2),
        Expr::Do(es) | Expr::Recur(es, _) | Expr::CallBuiltin(_, es, _) => {
            es.iter().map(count_nodes).sum()
        }
        Expr::Bind(b) => count_nodes(&b.1),
        Expr::Call(c) => c.args.iter().map(count_nodes).sum(),
        Expr::Prim(_, b, _) => count_nodes(&b.0) + count_nodes(&b.1),
        Expr::Prim1(_, x, _) => count_nodes(x),
        Expr::Loop(b) => b.0.iter().map(|(_, x)| count_nodes(x)).sum::<usize>() + count_nodes(&b.1),
        _ => 0,
    }
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
        Ty::Bool => reject("`-` on a boolean"),
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
    /// Slot types of the enclosing loops (the function body is the outermost).
    loops: Vec<Vec<Ty>>,
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
            _ => reject("reads a local that is not a number or boolean"),
        }
    }

    fn known(t: ITy) -> PResult<Ty> {
        // An operand still at bottom: the whole expression is bottom for this round.
        t.ok_or(Reject(String::new()))
    }

    /// Infers `e`'s type; `tail` tells whether `recur` is allowed here.
    fn expr(&mut self, e: &Expr, tail: bool) -> PResult<ITy> {
        match self.expr_inner(e, tail) {
            Err(Reject(w)) if w.is_empty() => Ok(None),
            r => r,
        }
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

    fn expr_inner(&mut self, e: &Expr, tail: bool) -> PResult<ITy> {
        Ok(Some(match e {
            Expr::Const(v) => match Ty::of(v) {
                Some(t) => t,
                None => return reject(format!("uses a {} constant", v.type_name())),
            },
            Expr::Local(s) => self.local(*s)?,
            Expr::Global(id, _) => match self.plan.global(*id, self.g)? {
                GlobalUse::Const(v) => Ty::of(&v).ok_or(Reject("bad constant".into()))?,
                GlobalUse::Func(_) => return reject("uses a function as a value"),
            },
            Expr::If(b) => {
                let (c, t, f) = &**b;
                match const_test(c) {
                    Some(true) => return self.expr(t, tail),
                    Some(false) => return self.expr(f, tail),
                    None => {}
                }
                let ct = self.expr(c, false)?;
                if ct.is_none() {
                    return Ok(None);
                }
                let a = self.expr(t, tail)?;
                let b = self.expr(f, tail)?;
                return match (a, b) {
                    (x, None) | (None, x) => Ok(x),
                    (Some(x), Some(y)) if x == y => Ok(Some(x)),
                    _ => reject("`if` branches of different types"),
                };
            }
            Expr::Do(es) => {
                let Some((last, init)) = es.split_last() else {
                    return reject("empty `do` (nil)");
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
                prim_ty(*op, x, y)?
            }
            Expr::PrimSlotInt(op, s, _, _) => prim_ty(*op, self.local(*s)?, Ty::Int)?,
            Expr::PrimSlotSlot(op, a, b, _) => prim_ty(*op, self.local(*a)?, self.local(*b)?)?,
            Expr::Prim1(op, x, _) => {
                let x = self.operand(x)?;
                prim1_ty(*op, x)?
            }
            Expr::CallBuiltin(b, args, _) => {
                let op = builtin_op(b.name, args.len())?;
                let mut tys = Vec::with_capacity(args.len());
                for a in args.iter() {
                    tys.push(self.operand(a)?);
                }
                match op {
                    BuiltinOp::Fold(p) => {
                        let mut acc = tys[0];
                        for t in &tys[1..] {
                            acc = prim_ty(p, acc, *t)?;
                        }
                        acc
                    }
                    BuiltinOp::Neg => neg_ty(tys[0])?,
                    BuiltinOp::Unary(p) => prim1_ty(p, tys[0])?,
                    BuiltinOp::Binary(p) => prim_ty(p, tys[0], tys[1])?,
                    BuiltinOp::Quot => prim_ty(PrimOp::Div, tys[0], tys[1])?,
                }
            }
            Expr::Loop(b) => {
                let mut tys = Vec::with_capacity(b.0.len());
                for (s, init) in &b.0 {
                    let t = self.operand(init)?;
                    self.set(*s, t)?;
                    tys.push(t);
                }
                self.loops.push(tys);
                let r = self.expr(&b.1, true);
                self.loops.pop();
                return r;
            }
            Expr::Recur(args, slots) => {
                if !tail {
                    return reject("`recur` not in tail position");
                }
                let Some(want) = self.loops.last().cloned() else {
                    return reject("`recur` outside a loop");
                };
                if want.len() != args.len() || slots.len() != args.len() {
                    return reject("`recur` with the wrong number of values");
                }
                for (a, w) in args.iter().zip(&want) {
                    let t = self.operand(a)?;
                    if t != *w {
                        return reject(format!("`recur` passes {t:?} where the loop has {w:?}"));
                    }
                }
                return Ok(None);
            }
            Expr::Call(c) => {
                // A call the delegation pass did not fix to LocalPure may be routed to a
                // model or a remote target at run time: only the interpreter does that.
                if !c.target.is_local_pure() {
                    return reject("makes a call the Delegation Engine routes at run time");
                }
                let lambda = match &c.callee {
                    Expr::SelfFn => self.plan.specs[self.me].lambda.clone(),
                    Expr::Global(id, _) => match self.plan.global(*id, self.g)? {
                        GlobalUse::Func(l) => l,
                        GlobalUse::Const(_) => return reject("calls a number"),
                    },
                    _ => return reject("calls a function value"),
                };
                let mut tys = Vec::with_capacity(c.args.len());
                for a in c.args.iter() {
                    tys.push(self.operand(a)?);
                }
                let i = self.plan.spec_for(&lambda, &tys)?;
                return Ok(self.plan.specs[i].ret);
            }
            Expr::Capture(_) | Expr::SelfFn => return reject("uses a closure value"),
            Expr::SetLocal(..) => return reject("a binding's nil value is used"),
            Expr::CellGet(_) => return reject("uses a mutable cell"),
            Expr::MakeClosure(..) => return reject("creates a closure"),
            Expr::Try(_) | Expr::Throw(..) => return reject("uses try/throw"),
            Expr::Match(..) => return reject("uses match"),
            Expr::Vector(_) | Expr::Map(_) | Expr::Set(_) => return reject("builds a collection"),
            Expr::DefGlobal(..) | Expr::CapCall(_) | Expr::Parallel(_) => {
                return reject("has effects");
            }
        }))
    }
}
