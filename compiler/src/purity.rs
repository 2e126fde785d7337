//! Purity analysis: which functions make (transitively) no capability `call`, no I/O and no
//! mutation of shared state. Only pure functions are JIT candidates and L4-cacheable; `rtfs
//! explain` shows the verdict and, for an impure function, the first impure call site.
//!
//! The analysis is conservative: calling a function value that is not known at compile
//! time (a parameter, a local) counts as impure, since it could be anything.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rtfs_ir::expr::{Expr, GlobalId, Lambda, Pattern, TopLevel};
use rtfs_ir::{Builtin, SrcLoc};

/// What a global currently holds, as far as purity is concerned.
pub enum GlobalInfo {
    Lambda(Arc<Lambda>),
    Builtin(&'static Builtin),
    /// A host function: unknown effects.
    Native,
    /// Data (numbers, maps, ...): calling it is a lookup, which is pure.
    Data,
    Unbound,
}

/// Resolves globals for the analysis (the runtime knows their current values).
pub trait GlobalResolver {
    fn info(&self, id: GlobalId) -> GlobalInfo;
    fn name(&self, id: GlobalId) -> String;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purity {
    Pure,
    /// Why not, and where: the first impure site in source order.
    Impure {
        reason: String,
        loc: SrcLoc,
    },
}

impl Purity {
    pub fn is_pure(&self) -> bool {
        matches!(self, Purity::Pure)
    }
}

/// The verdict for one top-level function.
#[derive(Clone, Debug)]
pub struct FnPurity {
    pub name: String,
    pub loc: SrcLoc,
    pub purity: Purity,
}

/// Analyses every function a unit defines at top level (`defn`, `def` of a `fn`), in order.
pub fn analyse(units: &[TopLevel], globals: &dyn GlobalResolver) -> Vec<FnPurity> {
    let mut defs = Vec::new();
    for top in units {
        collect_defs(&top.expr, &mut defs);
    }
    let mut an = Analyser {
        globals,
        memo: HashMap::new(),
        active: HashSet::new(),
    };
    defs.into_iter()
        .map(|(id, lambda)| FnPurity {
            name: globals.name(id),
            loc: lambda.loc,
            purity: an.lambda(&lambda),
        })
        .collect()
}

/// Purity of one lambda on its own (callees resolved through `globals`).
pub fn lambda_purity(lambda: &Arc<Lambda>, globals: &dyn GlobalResolver) -> Purity {
    Analyser {
        globals,
        memo: HashMap::new(),
        active: HashSet::new(),
    }
    .lambda(lambda)
}

fn collect_defs(e: &Expr, out: &mut Vec<(GlobalId, Arc<Lambda>)>) {
    match e {
        Expr::DefGlobal(id, x) => {
            if let Expr::MakeClosure(l, _) = &**x {
                out.push((*id, l.clone()));
            }
        }
        Expr::Do(es) => es.iter().for_each(|x| collect_defs(x, out)),
        _ => {}
    }
}

struct Analyser<'a> {
    globals: &'a dyn GlobalResolver,
    memo: HashMap<*const Lambda, Purity>,
    /// Functions being analysed: a recursive call to one of them is assumed pure (the
    /// function's own body decides).
    active: HashSet<*const Lambda>,
}

impl Analyser<'_> {
    fn lambda(&mut self, l: &Arc<Lambda>) -> Purity {
        let key = Arc::as_ptr(l);
        if let Some(p) = self.memo.get(&key) {
            return p.clone();
        }
        if self.active.contains(&key) {
            return Purity::Pure;
        }
        self.active.insert(key);
        let mut verdict = Purity::Pure;
        for a in &l.arities {
            if let Err(p) = self.expr(&a.body, l.loc) {
                verdict = p;
                break;
            }
        }
        self.active.remove(&key);
        self.memo.insert(key, verdict.clone());
        verdict
    }

    fn impure(reason: String, loc: SrcLoc) -> Result<(), Purity> {
        Err(Purity::Impure { reason, loc })
    }

    /// Walks `e` in evaluation order; `Err` carries the first impure site. `near` is the
    /// closest enclosing location, for nodes that carry none.
    fn expr(&mut self, e: &Expr, near: SrcLoc) -> Result<(), Purity> {
        match e {
            Expr::Const(_)
            | Expr::Local(_)
            | Expr::Capture(_)
            | Expr::SelfFn
            | Expr::Global(..)
            | Expr::PrimSlotInt(..)
            | Expr::PrimSlotSlot(..) => Ok(()),
            Expr::CellGet(x) | Expr::SetLocal(_, x) => self.expr(x, near),
            Expr::If(b) => {
                self.expr(&b.0, near)?;
                self.expr(&b.1, near)?;
                self.expr(&b.2, near)
            }
            Expr::Do(es) | Expr::Vector(es) | Expr::Set(es) | Expr::Recur(es, _) => {
                es.iter().try_for_each(|x| self.expr(x, near))
            }
            Expr::Bind(b) => {
                self.pattern(&b.0, near)?;
                self.expr(&b.1, near)
            }
            Expr::Call(c) => {
                // The callee first: an indirect call is impure for that reason already.
                self.callee(&c.callee, c.loc)?;
                match &c.target {
                    _ if c.target.is_local_pure() => {}
                    rtfs_ir::CallTarget::Fixed { target, .. } => {
                        return Self::impure(format!("delegates a call to {target}"), c.loc);
                    }
                    rtfs_ir::CallTarget::Runtime { .. } => {
                        return Self::impure(
                            "makes a call the Delegation Engine routes at run time".into(),
                            c.loc,
                        );
                    }
                }
                c.args.iter().try_for_each(|x| self.arg(x, c.loc))
            }
            Expr::CallBuiltin(b, args, loc) => {
                if !b.pure_fn {
                    return Self::impure(format!("calls `{}`, which has effects", b.name), *loc);
                }
                args.iter().try_for_each(|x| self.arg(x, *loc))
            }
            Expr::Prim(_, b, loc) => {
                self.expr(&b.0, *loc)?;
                self.expr(&b.1, *loc)
            }
            Expr::Prim1(_, x, loc) => self.expr(x, *loc),
            // Creating a closure has no effect; calling one is judged at the call.
            Expr::MakeClosure(..) => Ok(()),
            Expr::Loop(b) => {
                for (_, init) in &b.0 {
                    self.expr(init, near)?;
                }
                self.expr(&b.1, near)
            }
            Expr::Try(t) => {
                self.expr(&t.body, near)?;
                for c in &t.catches {
                    self.expr(&c.body, near)?;
                }
                match &t.finally {
                    Some(f) => self.expr(f, near),
                    None => Ok(()),
                }
            }
            Expr::Throw(x, loc) => self.expr(x, *loc),
            Expr::DefGlobal(id, _) => Self::impure(
                format!("defines the global `{}`", self.globals.name(*id)),
                near,
            ),
            Expr::Match(b, loc) => {
                self.expr(&b.0, *loc)?;
                for c in &b.1 {
                    self.pattern(&c.pattern, *loc)?;
                    if let Some(g) = &c.guard {
                        self.expr(g, *loc)?;
                    }
                    self.expr(&c.body, *loc)?;
                }
                Ok(())
            }
            Expr::Map(entries) => entries.iter().try_for_each(|(k, v)| {
                self.expr(k, near)?;
                self.expr(v, near)
            }),
            Expr::CapCall(c) => {
                let what = match &c.id {
                    Expr::Const(v) => format!("capability call {}", v.pr_str()),
                    _ => "capability call".to_string(),
                };
                Self::impure(what, c.loc)
            }
            Expr::Parallel(branches) => branches.iter().try_for_each(|(_, x)| self.expr(x, near)),
            // The host acts around the body: chain entries, a release, a registration.
            Expr::Plan(p) => Self::impure(format!("plan form `{}`", p.form_name()), p.loc()),
        }
    }

    fn pattern(&mut self, p: &Pattern, near: SrcLoc) -> Result<(), Purity> {
        match p {
            Pattern::Ignore | Pattern::Bind(_) | Pattern::Literal(_) => Ok(()),
            Pattern::Type(_, inner) | Pattern::As(_, inner) => self.pattern(inner, near),
            Pattern::Seq { items, rest, .. } => {
                items.iter().try_for_each(|i| self.pattern(i, near))?;
                match rest {
                    Some(r) => self.pattern(r, near),
                    None => Ok(()),
                }
            }
            Pattern::Map { entries, .. } => entries.iter().try_for_each(|e| {
                self.pattern(&e.pattern, near)?;
                match &e.default {
                    Some(d) => self.expr(d, near),
                    None => Ok(()),
                }
            }),
        }
    }

    /// An argument: passing an impure function (e.g. `(map println xs)`) lets the callee
    /// run its effects, so it counts as an impure site.
    fn arg(&mut self, e: &Expr, loc: SrcLoc) -> Result<(), Purity> {
        match e {
            Expr::Global(id, gloc) => self.global_fn(*id, *gloc, "passes"),
            Expr::Const(rtfs_ir::Value::Builtin(b)) if !b.pure_fn => {
                Self::impure(format!("passes `{}`, which has effects", b.name), loc)
            }
            Expr::MakeClosure(l, _) => match self.lambda(l) {
                Purity::Pure => Ok(()),
                p => Err(p),
            },
            other => self.expr(other, loc),
        }
    }

    fn callee(&mut self, e: &Expr, loc: SrcLoc) -> Result<(), Purity> {
        match e {
            Expr::SelfFn => Ok(()),
            Expr::Global(id, _) => self.global_fn(*id, loc, "calls"),
            Expr::Const(rtfs_ir::Value::Builtin(b)) => {
                if b.pure_fn {
                    Ok(())
                } else {
                    Self::impure(format!("calls `{}`, which has effects", b.name), loc)
                }
            }
            Expr::MakeClosure(l, _) => match self.lambda(l) {
                Purity::Pure => Ok(()),
                Purity::Impure { reason, .. } => {
                    Self::impure(format!("calls an inline fn that {reason}"), loc)
                }
            },
            _ => Self::impure(
                "calls a function value not known at compile time".to_string(),
                loc,
            ),
        }
    }

    fn global_fn(&mut self, id: GlobalId, loc: SrcLoc, verb: &str) -> Result<(), Purity> {
        let name = self.globals.name(id);
        match self.globals.info(id) {
            GlobalInfo::Data => Ok(()),
            GlobalInfo::Builtin(b) if b.pure_fn => Ok(()),
            GlobalInfo::Builtin(_) => {
                Self::impure(format!("{verb} `{name}`, which has effects"), loc)
            }
            GlobalInfo::Native => Self::impure(
                format!("{verb} host function `{name}` (effects unknown)"),
                loc,
            ),
            GlobalInfo::Unbound if verb == "passes" => Ok(()),
            GlobalInfo::Unbound => Self::impure(format!("{verb} unbound `{name}`"), loc),
            GlobalInfo::Lambda(l) => match self.lambda(&l) {
                Purity::Pure => Ok(()),
                Purity::Impure { reason, .. } => {
                    Self::impure(format!("{verb} impure `{name}` ({reason})"), loc)
                }
            },
        }
    }
}
