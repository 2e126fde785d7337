//! Top-level forms as compiled code. A script's loop sits at the top level as often as in a
//! function, and a form runs only once, so it never gets hot by call count: a form that
//! loops is wrapped as a function of no arguments (its frame becomes the function's frame,
//! its slots the function's locals) and compiled before it runs, under the same plan,
//! guards and bail-outs as a function body. A `def` whose value loops compiles the value
//! and defines it here. Forms that do not loop (definitions, calls) gain nothing and stay
//! interpreted; their hot functions tier up on their own.

use std::sync::Arc;

use rtfs_ir::Value;
use rtfs_ir::expr::{Arity, Expr, Lambda, TopLevel};

use super::{Interp, Native};
use crate::state::Tier;

/// Whether `e` runs a loop itself (not only inside a function it creates).
fn loops(e: &Expr) -> bool {
    match e {
        Expr::Loop(_) | Expr::Recur(..) => true,
        Expr::MakeClosure(..)
        | Expr::Const(_)
        | Expr::Local(_)
        | Expr::Capture(_)
        | Expr::SelfFn
        | Expr::Global(..)
        | Expr::PrimSlotInt(..)
        | Expr::PrimSlotSlot(..) => false,
        Expr::CellGet(x) | Expr::SetLocal(_, x) | Expr::Prim1(_, x, _) | Expr::Throw(x, _) => {
            loops(x)
        }
        Expr::DefGlobal(_, x) => loops(x),
        Expr::If(b) => loops(&b.0) || loops(&b.1) || loops(&b.2),
        Expr::Do(es) | Expr::CallBuiltin(_, es, _) | Expr::Vector(es) | Expr::Set(es) => {
            es.iter().any(loops)
        }
        Expr::Bind(b) => loops(&b.1),
        Expr::Call(c) => loops(&c.callee) || c.args.iter().any(loops),
        Expr::Prim(_, b, _) => loops(&b.0) || loops(&b.1),
        Expr::Map(kvs) => kvs.iter().any(|(k, v)| loops(k) || loops(v)),
        Expr::Try(t) => loops(&t.body),
        Expr::Match(b, _) => loops(&b.0) || b.1.iter().any(|c| loops(&c.body)),
        Expr::CapCall(_) | Expr::Parallel(_) | Expr::Plan(_) => false,
    }
}

/// The part of a top-level form worth compiling: the form, or the value of a `def`.
fn compiled_part(top: &TopLevel) -> Option<&Expr> {
    let e = match &top.expr {
        Expr::DefGlobal(_, x) => &**x,
        e => e,
    };
    loops(e).then_some(e)
}

impl Interp<'_> {
    /// Runs `top` as compiled code when it loops and compiles; `Native::No` when it is not
    /// worth compiling or stays interpreted, `Native::Bailed` when a guard failed (the
    /// caller runs it interpreted, which gives the exact value or error).
    pub(super) fn run_toplevel_native(
        &mut self,
        top: &TopLevel,
        name: &dyn Fn() -> String,
    ) -> Native {
        let Some(body) = compiled_part(top) else {
            return Native::No;
        };
        let thunk = Arc::new(Lambda {
            name: Some(Arc::new(name())),
            arities: vec![Arity {
                params: 0,
                rest: false,
                frame_size: top.frame_size,
                body: body.clone(),
                sensitive_params: Vec::new(),
                types: None,
            }],
            loc: top.loc,
            meta: Value::Nil,
            tier: Default::default(),
        });
        let st = &mut *self.st;
        let auto = st.jit.tier == Tier::Auto;
        let (id, generation) = (st.id, st.globals.generation);
        let Some(engine) = st.jit.engine() else {
            return Native::No;
        };
        let Ok(code) = engine.compile_toplevel(&thunk, &st.globals, id, generation, auto) else {
            return Native::No;
        };
        let budget = self.native_budget(&*code);
        self.pure_only += 1;
        let r = code.call(&[], &[], budget, self);
        self.pure_only -= 1;
        match (r, &top.expr) {
            (Some(v), Expr::DefGlobal(id, _)) => {
                self.st.globals.set(*id, v.clone());
                Native::Done(v)
            }
            (Some(v), _) => Native::Done(v),
            (None, _) => Native::Bailed,
        }
    }
}
