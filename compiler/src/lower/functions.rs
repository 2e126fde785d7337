//! Function forms: `fn`/`lambda` (single and multi-arity, `&` rest, destructured and
//! type-annotated parameters), `defn`, `def` and `defmacro`.

use std::sync::Arc;

use rtfs_ir::Value;
use rtfs_ir::expr::{Arity, Expr, Lambda, TopLevel};

use super::bindings::strip_inline_type;
use super::scope::{FnCtx, RecurTarget};
use super::{LResult, Lowerer, err};
use crate::convert::{loc, syntax_to_value};
use crate::source::Span;
use crate::syntax::{Syntax, SyntaxKind};

/// Merges reader metadata maps into one RTFS map value.
fn merge_meta(target: &mut Vec<(Value, Value)>, s: Option<&Syntax>) {
    if let Some(meta) = s.and_then(|s| s.meta.as_deref())
        && let Value::Map(m) = &syntax_to_value(meta)
    {
        for (k, v) in m.iter() {
            target.retain(|(ek, _)| ek != k);
            target.push((k.clone(), v.clone()));
        }
    }
}

impl Lowerer<'_> {
    /// `args` are the forms after `fn`: `[name?] params body...` or `[name?] (params body...)+`.
    pub(super) fn lower_fn(
        &mut self,
        form: &Syntax,
        args: &[&Syntax],
        hint: Option<&str>,
    ) -> LResult<Expr> {
        let mut rest = args;
        let mut name: Option<&str> = hint;
        let mut meta = Vec::new();
        merge_meta(&mut meta, Some(form));
        if let Some(first) = rest.first()
            && let Some(n) = first.as_symbol()
        {
            name = Some(n);
            merge_meta(&mut meta, Some(first));
            rest = &rest[1..];
        }
        self.build_lambda(form.span, name, rest, meta)
    }

    fn build_lambda(
        &mut self,
        span: Span,
        name: Option<&str>,
        rest: &[&Syntax],
        mut meta: Vec<(Value, Value)>,
    ) -> LResult<Expr> {
        // Normalise into owned (params, body) clauses.
        let owned: Vec<(Syntax, Vec<Syntax>)> = match rest.first().map(|s| &s.kind) {
            Some(SyntaxKind::Vector(_)) => {
                merge_meta(&mut meta, Some(rest[0]));
                vec![(
                    rest[0].clone(),
                    rest[1..].iter().map(|s| (*s).clone()).collect(),
                )]
            }
            Some(SyntaxKind::List(_)) => {
                let mut v = Vec::new();
                for c in rest {
                    let parts = c
                        .as_list()
                        .filter(|p| p.first().is_some_and(|f| f.as_vector().is_some()))
                        .ok_or_else(|| {
                            err(
                                "syntax",
                                "each arity of a multi-arity function is ([params] body...)",
                                c.span,
                            )
                        })?;
                    merge_meta(&mut meta, Some(&parts[0]));
                    v.push((parts[0].clone(), parts[1..].to_vec()));
                }
                v
            }
            _ => {
                return Err(err(
                    "syntax",
                    "a function needs a parameter vector, e.g. (fn [x] body)",
                    span,
                ));
            }
        };
        self.fns.push(FnCtx {
            self_name: name.map(Arc::from),
            ..FnCtx::default()
        });
        let mut arities: Vec<Arity> = Vec::with_capacity(owned.len());
        let mut result = Ok(());
        for (params, body) in &owned {
            match self.lower_arity(params, body) {
                Ok(a) => {
                    let clash = arities
                        .iter()
                        .any(|b| b.params == a.params && b.rest == a.rest)
                        || (a.rest && arities.iter().any(|b| b.rest));
                    if clash {
                        result = Err(err(
                            "syntax",
                            "two arities of this function accept the same number of arguments",
                            params.span,
                        ));
                        break;
                    }
                    arities.push(a);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let ctx = self.fns.pop().unwrap_or_default();
        result?;
        let lambda = Lambda {
            name: name.map(|n| Arc::new(n.to_string())),
            arities,
            loc: loc(span),
            meta: if meta.is_empty() {
                Value::Nil
            } else {
                Value::map(meta)
            },
            tier: Default::default(),
        };
        let captures: Vec<_> = ctx.captures.iter().map(|c| c.1).collect();
        Ok(Expr::MakeClosure(Arc::new(lambda), captures.into()))
    }

    fn lower_arity(&mut self, params: &Syntax, body: &[Syntax]) -> LResult<Arity> {
        let items = params.as_vector().unwrap_or_default();
        {
            let ctx = self.ctx();
            ctx.locals.clear();
            ctx.next_slot = 0;
            ctx.frame_size = 0;
        }
        // Parameters first, so they occupy slots 0..n (+ rest).
        let mut fixed: Vec<&Syntax> = Vec::new();
        let mut rest: Option<&Syntax> = None;
        let mut i = 0;
        while i < items.len() {
            let p = &items[i];
            if p.is_symbol("&") {
                let r = items
                    .get(i + 1)
                    .ok_or_else(|| err("syntax", "`&` needs a rest parameter after it", p.span))?;
                if r.as_symbol().is_none() {
                    return Err(err("syntax", "variadic parameter must be a symbol", r.span)
                        .with_help(
                            "destructure the rest inside the body: (let [[a b] rest] ...)",
                        ));
                }
                rest = Some(r);
                i += 2;
                while items.get(i).is_some_and(is_annotation) {
                    i += 1;
                }
                if let Some(extra) = items.get(i) {
                    return Err(err(
                        "syntax",
                        "nothing may follow the rest parameter",
                        extra.span,
                    ));
                }
                break;
            }
            if is_annotation(p) {
                if fixed.is_empty() {
                    return Err(err(
                        "syntax",
                        "a type annotation must follow a parameter",
                        p.span,
                    ));
                }
                i += 1;
                continue;
            }
            fixed.push(p);
            i += 1;
        }
        if fixed.len() > 255 {
            return Err(err("limit", "too many parameters (limit 255)", params.span));
        }
        let n = fixed.len() as u16;
        let mut slots = Vec::new();
        for _ in 0..(n as usize + rest.is_some() as usize) {
            slots.push(self.ctx().new_slot());
        }
        let mut prologue = Vec::new();
        let all: Vec<&Syntax> = fixed.iter().copied().chain(rest).collect();
        let sensitive_params = all
            .iter()
            .zip(&slots)
            .filter(|(p, _)| crate::privacy::syntax_is_sensitive(p))
            .map(|(p, slot)| (*slot, Arc::from(crate::privacy::describe(p))))
            .collect();
        for (p, slot) in all.iter().zip(&slots) {
            match p.as_symbol().map(strip_inline_type) {
                Some("_") => {}
                Some(name) => self.ctx().declare(name, *slot, false),
                None => {
                    let mut pat = self.lower_pattern(p, false)?;
                    if let rtfs_ir::expr::Pattern::Seq { strict, .. } = &mut pat {
                        *strict = true;
                    }
                    prologue.push(Expr::Bind(Box::new((pat, Expr::Local(*slot)))));
                }
            }
        }
        {
            let ctx = self.ctx();
            ctx.recur = Some(RecurTarget {
                slots: slots.clone(),
            });
            ctx.self_tail_params = if rest.is_none() { Some(n) } else { None };
        }
        // A return-type annotation may precede the body: (fn [x] :int (+ x 1)).
        let body = match body {
            [ty, more @ ..]
                if !more.is_empty()
                    && (matches!(ty.kind, SyntaxKind::TypeExpr(_))
                        || ty.as_keyword().is_some()) =>
            {
                more
            }
            _ => body,
        };
        let body_expr = self.lower_body(body, true)?;
        prologue.push(body_expr);
        let body = if prologue.len() == 1 {
            prologue.pop().unwrap_or(Expr::Const(Value::Nil))
        } else {
            Expr::Do(prologue.into())
        };
        Ok(Arity {
            params: n,
            rest: rest.is_some(),
            frame_size: self.ctx().frame_size,
            body,
            sensitive_params,
        })
    }

    /// `(defn name doc? attr-map? params body...)` or with several `(params body...)` arities.
    pub(super) fn lower_defn(&mut self, form: &Syntax, args: &[Syntax]) -> LResult<Expr> {
        let Some((name_syn, mut rest)) = args.split_first() else {
            return Err(err("syntax", "`defn` needs a name", form.span));
        };
        let name = name_syn
            .as_symbol()
            .ok_or_else(|| err("syntax", "`defn` needs a symbol as its name", name_syn.span))?;
        let mut meta = Vec::new();
        merge_meta(&mut meta, Some(form));
        merge_meta(&mut meta, Some(name_syn));
        if let Some(doc) = rest.first().and_then(Syntax::as_str)
            && rest.len() > 1
        {
            meta.push((Value::keyword("doc"), Value::str(doc)));
            rest = &rest[1..];
        }
        if let Some(SyntaxKind::Map(_)) = rest.first().map(|s| &s.kind)
            && rest.len() > 1
        {
            if let Value::Map(m) = &syntax_to_value(&rest[0]) {
                meta.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            rest = &rest[1..];
        }
        let id = self.globals.intern(name);
        self.globals.mark_defined(id);
        let refs: Vec<&Syntax> = rest.iter().collect();
        let closure = self.build_lambda(form.span, Some(name), &refs, meta)?;
        Ok(Expr::DefGlobal(id, Box::new(closure)))
    }

    pub(super) fn lower_def(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let (name_syn, value) = match args {
            [n] => (n, None),
            [n, v] => (n, Some(v)),
            [n, doc_or_type, v] if doc_or_type.as_str().is_some() || is_annotation(doc_or_type) => {
                (n, Some(v))
            }
            _ => {
                return Err(err(
                    "syntax",
                    "`def` takes a name and a value: (def name value)",
                    span,
                ));
            }
        };
        let name = name_syn
            .as_symbol()
            .map(strip_inline_type)
            .ok_or_else(|| err("syntax", "`def` needs a symbol as its name", name_syn.span))?;
        let id = self.globals.intern(name);
        self.globals.mark_defined(id);
        let v = match value {
            Some(v) => self.lower_named_value(v, Some(name))?,
            None => Expr::Const(Value::Nil),
        };
        Ok(Expr::DefGlobal(id, Box::new(v)))
    }

    /// Compiles the transformer and registers it now, so later forms can use the macro.
    pub(super) fn lower_defmacro(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        if self.fns.len() != 1 {
            return Err(err(
                "syntax",
                "`defmacro` is only allowed at the top level",
                span,
            ));
        }
        let Some((name_syn, mut rest)) = args.split_first() else {
            return Err(err("syntax", "`defmacro` needs a name", span));
        };
        let name = name_syn.as_symbol().ok_or_else(|| {
            err(
                "syntax",
                "`defmacro` needs a symbol as its name",
                name_syn.span,
            )
        })?;
        if rest.first().and_then(Syntax::as_str).is_some() && rest.len() > 1 {
            rest = &rest[1..];
        }
        let refs: Vec<&Syntax> = rest.iter().collect();
        let closure = self.build_lambda(span, Some(name), &refs, Vec::new())?;
        let top = TopLevel {
            expr: closure,
            frame_size: self.fns[0].frame_size,
            loc: loc(span),
        };
        let transformer = self.host.run(&top, self.globals).map_err(|e| {
            err(
                "macro",
                format!("defining macro `{name}` failed: {e}"),
                span,
            )
        })?;
        self.globals.define_macro(name, transformer);
        Ok(Expr::Const(Value::symbol(name)))
    }
}

fn is_annotation(s: &Syntax) -> bool {
    matches!(s.kind, SyntaxKind::TypeExpr(_) | SyntaxKind::Keyword(_))
}
