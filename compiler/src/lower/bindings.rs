//! Binding forms: `let` (with `letrec` behaviour for functions that refer to bindings made
//! after them), `letrec`, `letfn`, `with-resource` and `loop`.
//!
//! A function bound by `let` may call itself by its binding name (as RTFS programs expect):
//! that resolves to the closure itself, with no cell. A function that refers to a binding
//! made *later* in the same form gets that binding through a cell (an atom) created first
//! and filled in order, so mutual recursion works and nothing else pays for it.

use std::collections::HashSet;

use rtfs_ir::Value;
use rtfs_ir::expr::Expr;

use super::scope::RecurTarget;
use super::{LResult, Lowerer, err};
use crate::source::Span;
use crate::syntax::{Syntax, SyntaxKind};

/// One `let`/`loop` binding: pattern, type annotation (if written), value.
pub(super) type Binding<'s> = (&'s Syntax, Option<&'s Syntax>, &'s Syntax);

impl Lowerer<'_> {
    /// Splits `[p1 v1 p2 :int v2 ...]` into bindings, taking a type written between a
    /// pattern and its value as that binding's annotation.
    pub(super) fn binding_triples<'s>(
        &self,
        items: &'s [Syntax],
        span: Span,
    ) -> LResult<Vec<Binding<'s>>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let pat = &items[i];
            i += 1;
            let mut ann = None;
            if let Some(a) = items.get(i)
                && i + 1 < items.len()
                && self.is_binding_annotation(a)
            {
                ann = Some(a);
                i += 1;
            }
            let Some(value) = items.get(i) else {
                return Err(err(
                    "syntax",
                    "binding vector needs an even number of forms: a pattern and a value each",
                    pat.span,
                )
                .with_label(span, "in this binding vector"));
            };
            out.push((pat, ann, value));
            i += 1;
        }
        Ok(out)
    }
}

/// Whether `form` mentions the symbol `name` anywhere (conservatively ignoring shadowing).
pub(super) fn mentions(form: &Syntax, name: &str) -> bool {
    match &form.kind {
        SyntaxKind::Symbol(s) => &**s == name,
        SyntaxKind::List(items) | SyntaxKind::Vector(items) | SyntaxKind::Set(items) => {
            items.iter().any(|i| mentions(i, name))
        }
        SyntaxKind::Map(entries) => entries
            .iter()
            .any(|(k, v)| mentions(k, name) || mentions(v, name)),
        _ => false,
    }
}

/// Whether a `fn` form somewhere inside `form` mentions `name`.
fn fn_mentions(form: &Syntax, name: &str) -> bool {
    if is_fn_form(form) {
        return mentions(form, name);
    }
    match &form.kind {
        SyntaxKind::List(items) | SyntaxKind::Vector(items) | SyntaxKind::Set(items) => {
            items.iter().any(|i| fn_mentions(i, name))
        }
        SyntaxKind::Map(entries) => entries
            .iter()
            .any(|(k, v)| fn_mentions(k, name) || fn_mentions(v, name)),
        _ => false,
    }
}

pub(super) fn is_fn_form(s: &Syntax) -> bool {
    matches!(s.list_head_symbol(), Some("fn" | "lambda" | "λ"))
}

/// A binding name or pattern marked `^:sensitive` marks the value bound to it.
fn mark_binding(pat: &Syntax, v: Expr) -> Expr {
    if crate::privacy::syntax_is_sensitive(pat) {
        crate::privacy::mark(
            v,
            crate::privacy::describe(pat),
            crate::convert::loc(pat.span),
        )
    } else {
        v
    }
}

/// `x:int` in a binding position names `x`.
pub(super) fn strip_inline_type(name: &str) -> &str {
    match name.split_once(':') {
        Some((base, ty)) if !base.is_empty() && !ty.is_empty() && !name.contains('/') => base,
        _ => name,
    }
}

impl Lowerer<'_> {
    /// Lowers a value, letting an anonymous `fn` refer to itself by `hint`.
    pub(super) fn lower_named_value(
        &mut self,
        value: &Syntax,
        hint: Option<&str>,
    ) -> LResult<Expr> {
        if is_fn_form(value)
            && let Some(items) = value.as_list()
            && !self.is_local(items[0].as_symbol().unwrap_or_default())
        {
            return self.lower_fn(value, &items[1..].iter().collect::<Vec<_>>(), hint);
        }
        self.lower(value, false)
    }

    fn simple_name(pat: &Syntax) -> Option<&str> {
        pat.as_symbol().map(strip_inline_type)
    }

    pub(super) fn lower_let(
        &mut self,
        form_name: &str,
        args: &[Syntax],
        span: Span,
        tail: bool,
        rec: bool,
    ) -> LResult<Expr> {
        let Some((bvec, body)) = args.split_first() else {
            return Err(err(
                "syntax",
                format!("`{form_name}` needs a binding vector and a body"),
                span,
            ));
        };
        let items = bvec.as_vector().ok_or_else(|| {
            err(
                "syntax",
                format!("`{form_name}` needs a binding vector, e.g. ({form_name} [x 1] x)"),
                bvec.span,
            )
        })?;
        let triples: Vec<Binding> = self.binding_triples(items, bvec.span)?;
        let pairs: Vec<(&Syntax, &Syntax)> = triples.iter().map(|(p, _, v)| (*p, *v)).collect();
        // Names that a function bound earlier refers to before they are bound.
        let mut cells: HashSet<&str> = HashSet::new();
        // Names whose init builds a closure that refers to the name itself, e.g.
        // (let [f (let [cache (atom {})] (fn [n] ... (f ...)))] ...): a cell created just
        // before that init.
        let mut self_cells: HashSet<&str> = HashSet::new();
        for (i, (pat, value)) in pairs.iter().enumerate() {
            let Some(name) = Self::simple_name(pat) else {
                continue;
            };
            if !is_fn_form(value) {
                if name != "_" && fn_mentions(value, name) {
                    self_cells.insert(name);
                }
                continue;
            }
            let forward = rec
                || pairs[..i]
                    .iter()
                    .any(|(_, v)| is_fn_form(v) && mentions(v, name));
            if forward {
                cells.insert(name);
            }
        }
        let mark = self.ctx().mark();
        let mut out = Vec::with_capacity(pairs.len() + 1);
        let atom = self
            .builtin("atom")
            .ok_or_else(|| err("internal", "built-in `atom` missing", span))?;
        let reset = self
            .builtin("reset!")
            .ok_or_else(|| err("internal", "built-in `reset!` missing", span))?;
        let mut cell_slots = Vec::new();
        for (pat, _) in &pairs {
            if let Some(name) = Self::simple_name(pat).filter(|n| cells.contains(n)) {
                let slot = self.ctx().new_slot();
                self.ctx().declare(name, slot, true);
                cell_slots.push((name, slot));
                let at = crate::convert::loc(pat.span);
                out.push(Expr::SetLocal(
                    slot,
                    Box::new(Expr::CallBuiltin(
                        atom,
                        vec![Expr::Const(Value::Nil)].into(),
                        at,
                    )),
                ));
            }
        }
        let result = (|| {
            for (pat, ann, value) in &triples {
                let name = Self::simple_name(pat);
                if let Some(n) = name.filter(|n| self_cells.contains(n) && !cells.contains(n)) {
                    let slot = self.ctx().new_slot();
                    let at = crate::convert::loc(pat.span);
                    out.push(Expr::SetLocal(
                        slot,
                        Box::new(Expr::CallBuiltin(
                            atom,
                            vec![Expr::Const(Value::Nil)].into(),
                            at,
                        )),
                    ));
                    self.ctx().declare(n, slot, true);
                    let v = self.lower(value, false)?;
                    out.push(Expr::CallBuiltin(
                        reset,
                        vec![Expr::Local(slot), v].into(),
                        at,
                    ));
                    continue;
                }
                if let Some((_, slot)) = name.and_then(|n| cell_slots.iter().find(|(c, _)| *c == n))
                {
                    let v = self.lower_named_value(value, name)?;
                    let at = crate::convert::loc(pat.span);
                    out.push(Expr::CallBuiltin(
                        reset,
                        vec![Expr::Local(*slot), v].into(),
                        at,
                    ));
                    continue;
                }
                let mut v = self.lower_named_value(value, name)?;
                if let Some(ty) = ann {
                    v = self.checked(v, ty, &crate::convert::syntax_to_value(pat).pr_str())?;
                }
                let v = mark_binding(pat, v);
                match name {
                    Some("_") => out.push(v),
                    Some(n) => {
                        let slot = self.ctx().new_slot();
                        self.ctx().declare(n, slot, false);
                        out.push(Expr::SetLocal(slot, Box::new(v)));
                    }
                    None => {
                        let p = self.lower_pattern(pat, false)?;
                        out.push(Expr::Bind(Box::new((p, v))));
                    }
                }
            }
            out.push(self.lower_body(body, tail)?);
            Ok(Expr::Do(std::mem::take(&mut out).into()))
        })();
        self.ctx().close(mark);
        result
    }

    pub(super) fn lower_letfn(&mut self, args: &[Syntax], span: Span, tail: bool) -> LResult<Expr> {
        let Some((fvec, body)) = args.split_first() else {
            return Err(err(
                "syntax",
                "`letfn` needs a vector of function definitions and a body",
                span,
            ));
        };
        let specs = fvec.as_vector().ok_or_else(|| {
            err(
                "syntax",
                "`letfn` needs a vector like [(f [x] ...) (g [y] ...)]",
                fvec.span,
            )
        })?;
        // Rewrite each `(name params body...)` as a `let` binding of `(fn name params body...)`.
        let mut items = Vec::with_capacity(specs.len() * 2);
        for spec in specs {
            let parts = spec
                .as_list()
                .filter(|p| p.first().and_then(Syntax::as_symbol).is_some())
                .ok_or_else(|| {
                    err(
                        "syntax",
                        "each `letfn` entry is (name [params] body...)",
                        spec.span,
                    )
                })?;
            items.push(parts[0].clone());
            let mut f = vec![Syntax::symbol("fn", spec.span)];
            f.extend(parts.iter().cloned());
            items.push(Syntax::new(SyntaxKind::List(f), spec.span));
        }
        let bvec = Syntax::new(SyntaxKind::Vector(items), fvec.span);
        let mut let_args = vec![bvec];
        let_args.extend(body.iter().cloned());
        self.lower_let("letrec", &let_args, span, tail, true)
    }

    pub(super) fn lower_loop(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let Some((bvec, body)) = args.split_first() else {
            return Err(err(
                "syntax",
                "`loop` needs a binding vector and a body",
                span,
            ));
        };
        let items = bvec.as_vector().ok_or_else(|| {
            err(
                "syntax",
                "`loop` needs a binding vector, e.g. (loop [i 0] ...)",
                bvec.span,
            )
        })?;
        let triples = self.binding_triples(items, bvec.span)?;
        let mark = self.ctx().mark();
        let result = (|| {
            let mut inits = Vec::with_capacity(triples.len());
            let mut prologue = Vec::new();
            let mut slots = Vec::with_capacity(triples.len());
            for (pat, ann, value) in &triples {
                let mut v = self.lower(value, false)?;
                if let Some(ty) = ann {
                    v = self.checked(v, ty, &crate::convert::syntax_to_value(pat).pr_str())?;
                }
                let v = mark_binding(pat, v);
                let slot = self.ctx().new_slot();
                slots.push(slot);
                inits.push((slot, v));
                match Self::simple_name(pat) {
                    Some("_") => {}
                    Some(n) => self.ctx().declare(n, slot, false),
                    None => {
                        let p = self.lower_pattern(pat, false)?;
                        prologue.push(Expr::Bind(Box::new((p, Expr::Local(slot)))));
                    }
                }
            }
            let saved = self.ctx().recur.replace(RecurTarget { slots });
            self.ctx().no_self_jump += 1;
            let in_try = std::mem::take(&mut self.ctx().in_try);
            let body = self.lower_body(body, true);
            self.ctx().in_try = in_try;
            self.ctx().no_self_jump -= 1;
            self.ctx().recur = saved;
            prologue.push(body?);
            let body = if prologue.len() == 1 {
                prologue.pop().unwrap_or(Expr::Const(Value::Nil))
            } else {
                Expr::Do(prologue.into())
            };
            Ok(Expr::Loop(Box::new((inits, body))))
        })();
        self.ctx().close(mark);
        result
    }
}
