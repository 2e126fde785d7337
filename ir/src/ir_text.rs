//! The text form of the IR, what `rtfs check --emit ir` prints: one s-expression per
//! node, indented, with every call site's delegation annotation and every arity's
//! checked types.
//!
//! ```text
//! (def fib
//!   (fn fib
//!     (arity 1 frame 1 (types n :int -> :int)
//!       (if
//!         (< (slot 0) 2)
//!         (slot 0)
//!         (+ (call [local-pure: self call: runs where its caller runs] (self) (- (slot 0) 1)) …)))))
//! ```
//!
//! Locals are `(slot N)`, captures `(capture N)`, globals by name; a call shows
//! `[target: reason]` or `[run time: reason]`, plus `sensitive` when the pass marked it.

use std::fmt::Write;

use crate::delegation::CallTarget;
use crate::expr::{Arity, CaptureFrom, Expr, GlobalId, Lambda, Pattern, TopLevel};

/// Prints one top-level form; `name` gives a global's name.
pub fn toplevel_text(top: &TopLevel, name: &dyn Fn(GlobalId) -> String) -> String {
    let mut p = Printer {
        out: String::new(),
        name,
    };
    p.expr(&top.expr, 0);
    p.out.push('\n');
    p.out
}

struct Printer<'a> {
    out: String,
    name: &'a dyn Fn(GlobalId) -> String,
}

fn target(t: &CallTarget, sensitive: bool) -> String {
    let s = match t {
        CallTarget::Fixed { target, reason } => format!("[{target}: {reason}]"),
        CallTarget::Runtime { reason } => format!("[run time: {reason}]"),
    };
    if sensitive {
        format!("{s} sensitive")
    } else {
        s
    }
}

impl Printer<'_> {
    fn nl(&mut self, indent: usize) {
        self.out.push('\n');
        for _ in 0..indent {
            self.out.push_str("  ");
        }
    }

    fn node(&mut self, head: &str, kids: &[&Expr], indent: usize) {
        let _ = write!(self.out, "({head}");
        for k in kids {
            self.nl(indent + 1);
            self.expr(k, indent + 1);
        }
        self.out.push(')');
    }

    /// Short operands on one line, e.g. `(+ (slot 0) 1)`.
    fn flat(&mut self, head: &str, kids: &[&Expr], indent: usize) {
        let _ = write!(self.out, "({head}");
        for k in kids {
            self.out.push(' ');
            self.expr(k, indent + 1);
        }
        self.out.push(')');
    }

    fn expr(&mut self, e: &Expr, indent: usize) {
        match e {
            Expr::Const(v) => self.out.push_str(&v.pr_str()),
            Expr::Local(s) => {
                let _ = write!(self.out, "(slot {s})");
            }
            Expr::Capture(i) => {
                let _ = write!(self.out, "(capture {i})");
            }
            Expr::SelfFn => self.out.push_str("(self)"),
            Expr::Global(id, _) => self.out.push_str(&(self.name)(*id)),
            Expr::CellGet(x) => self.flat("cell-get", &[x], indent),
            Expr::If(b) => self.node("if", &[&b.0, &b.1, &b.2], indent),
            Expr::Do(xs) => self.node("do", &xs.iter().collect::<Vec<_>>(), indent),
            Expr::Bind(b) => {
                self.out.push_str("(bind ");
                self.pattern(&b.0);
                self.nl(indent + 1);
                self.expr(&b.1, indent + 1);
                self.out.push(')');
            }
            Expr::SetLocal(s, x) => self.flat(&format!("set-slot {s}"), &[x], indent),
            Expr::Call(c) => {
                let head = format!("call {}", target(&c.target, c.sensitive));
                let mut kids = vec![&c.callee];
                kids.extend(c.args.iter());
                self.flat(&head, &kids, indent);
            }
            Expr::CallBuiltin(b, args, _) => {
                self.flat(b.name, &args.iter().collect::<Vec<_>>(), indent)
            }
            Expr::Prim(op, ab, _) => self.flat(op.name(), &[&ab.0, &ab.1], indent),
            Expr::PrimSlotInt(op, s, k, _) => {
                let _ = write!(self.out, "({} (slot {s}) {k})", op.name());
            }
            Expr::PrimSlotSlot(op, a, b, _) => {
                let _ = write!(self.out, "({} (slot {a}) (slot {b}))", op.name());
            }
            Expr::Prim1(op, x, _) => self.flat(op.name(), &[x], indent),
            Expr::MakeClosure(l, caps) => self.lambda(l, caps, indent),
            Expr::Loop(b) => {
                self.out.push_str("(loop [");
                for (i, (s, init)) in b.0.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    let _ = write!(self.out, "(slot {s}) ");
                    self.expr(init, indent + 2);
                }
                self.out.push(']');
                self.nl(indent + 1);
                self.expr(&b.1, indent + 1);
                self.out.push(')');
            }
            Expr::Recur(args, slots) => {
                let slots: Vec<String> = slots.iter().map(|s| s.to_string()).collect();
                let head = format!("recur [{}]", slots.join(" "));
                self.flat(&head, &args.iter().collect::<Vec<_>>(), indent);
            }
            Expr::Try(t) => {
                self.out.push_str("(try");
                self.nl(indent + 1);
                self.expr(&t.body, indent + 1);
                for c in &t.catches {
                    self.nl(indent + 1);
                    let filter = c
                        .filter
                        .as_ref()
                        .map_or_else(|| "any".to_string(), |f| f.join("|"));
                    let _ = write!(self.out, "(catch {filter} (slot {})", c.slot);
                    self.nl(indent + 2);
                    self.expr(&c.body, indent + 2);
                    self.out.push(')');
                }
                if let Some(f) = &t.finally {
                    self.nl(indent + 1);
                    self.node("finally", &[f], indent + 1);
                }
                self.out.push(')');
            }
            Expr::Throw(x, _) => self.flat("throw", &[x], indent),
            Expr::DefGlobal(id, x) => {
                let head = format!("def {}", (self.name)(*id));
                self.node(&head, &[x], indent);
            }
            Expr::Match(b, _) => {
                self.out.push_str("(match ");
                self.expr(&b.0, indent + 1);
                for c in &b.1 {
                    self.nl(indent + 1);
                    self.out.push('(');
                    self.pattern(&c.pattern);
                    if let Some(g) = &c.guard {
                        self.out.push_str(" :when ");
                        self.expr(g, indent + 2);
                    }
                    self.nl(indent + 2);
                    self.expr(&c.body, indent + 2);
                    self.out.push(')');
                }
                self.out.push(')');
            }
            Expr::Vector(xs) => self.flat("vector", &xs.iter().collect::<Vec<_>>(), indent),
            Expr::Set(xs) => self.flat("set", &xs.iter().collect::<Vec<_>>(), indent),
            Expr::Map(kvs) => {
                let kids: Vec<&Expr> = kvs.iter().flat_map(|(k, v)| [k, v]).collect();
                self.flat("map", &kids, indent);
            }
            Expr::CapCall(c) => {
                let head = format!("cap-call {}", target(&c.target, c.sensitive));
                let mut kids = vec![&c.id];
                kids.extend(c.args.iter());
                self.flat(&head, &kids, indent);
            }
            Expr::Parallel(branches) => {
                self.out.push_str("(parallel");
                for (k, x) in branches.iter() {
                    self.nl(indent + 1);
                    let _ = write!(self.out, "[{} ", k.pr_str());
                    self.expr(x, indent + 2);
                    self.out.push(']');
                }
                self.out.push(')');
            }
            Expr::Plan(p) => {
                match p.as_ref() {
                    crate::expr::PlanForm::Step { name, .. } => {
                        let _ = write!(self.out, "(step {name:?}");
                    }
                    crate::expr::PlanForm::Release {
                        slot, type_name, ..
                    } => {
                        let _ = write!(self.out, "(with-resource (slot {slot}) {type_name:?}");
                    }
                    crate::expr::PlanForm::DefResource { type_name, .. } => {
                        let _ = write!(self.out, "(defresource {type_name}");
                    }
                }
                self.nl(indent + 1);
                self.expr(p.body(), indent + 1);
                self.out.push(')');
            }
        }
    }

    fn lambda(&mut self, l: &Lambda, caps: &[CaptureFrom], indent: usize) {
        let _ = write!(self.out, "(fn {}", l.display_name());
        if !caps.is_empty() {
            let parts: Vec<String> = caps
                .iter()
                .map(|c| match c {
                    CaptureFrom::Local(s) => format!("(slot {s})"),
                    CaptureFrom::Capture(i) => format!("(capture {i})"),
                    CaptureFrom::SelfFn => "(self)".to_string(),
                })
                .collect();
            let _ = write!(self.out, " (captures {})", parts.join(" "));
        }
        for a in &l.arities {
            self.nl(indent + 1);
            self.arity(a, indent + 1);
        }
        self.out.push(')');
    }

    fn arity(&mut self, a: &Arity, indent: usize) {
        let rest = if a.rest { "+" } else { "" };
        let _ = write!(self.out, "(arity {}{rest} frame {}", a.params, a.frame_size);
        if let Some(t) = &a.types {
            self.out.push_str(" (types");
            for pc in &t.params {
                let _ = write!(self.out, " {} {}", pc.name, pc.ty);
            }
            if let Some(r) = &t.ret {
                let _ = write!(self.out, " -> {r}");
            }
            self.out.push(')');
        }
        self.nl(indent + 1);
        self.expr(&a.body, indent + 1);
        self.out.push(')');
    }

    fn pattern(&mut self, p: &Pattern) {
        match p {
            Pattern::Ignore => self.out.push('_'),
            Pattern::Bind(s) => {
                let _ = write!(self.out, "(slot {s})");
            }
            Pattern::Literal(v) => self.out.push_str(&v.pr_str()),
            Pattern::Type(t, inner) => {
                let _ = write!(self.out, "(:{} ", format!("{t:?}").to_lowercase());
                self.pattern(inner);
                self.out.push(')');
            }
            Pattern::Seq {
                items,
                rest,
                as_slot,
                strict,
            } => {
                self.out.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.pattern(it);
                }
                if let Some(r) = rest {
                    self.out.push_str(" & ");
                    self.pattern(r);
                }
                if let Some(s) = as_slot {
                    let _ = write!(self.out, " :as (slot {s})");
                }
                if *strict {
                    self.out.push_str(" :strict");
                }
                self.out.push(']');
            }
            Pattern::Map { entries, as_slot } => {
                self.out.push('{');
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    let _ = write!(self.out, "{} ", e.key.pr_str());
                    self.pattern(&e.pattern);
                    if let Some(d) = &e.default {
                        self.out.push_str(" :or ");
                        self.expr(d, 0);
                    }
                }
                if let Some(s) = as_slot {
                    let _ = write!(self.out, " :as (slot {s})");
                }
                self.out.push('}');
            }
            Pattern::As(s, inner) => {
                let _ = write!(self.out, "(:as (slot {s}) ");
                self.pattern(inner);
                self.out.push(')');
            }
        }
    }
}
