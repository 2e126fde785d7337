//! Function forms: `fn`/`lambda` (single and multi-arity, `&` rest, destructured and
//! type-annotated parameters), `defn`, `def` and `defmacro`.

use std::sync::Arc;

use rtfs_ir::Value;
use rtfs_ir::expr::{Arity, ArityTypes, Expr, Lambda, ParamCheck, TopLevel};
use rtfs_ir::types::Type;

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
        // Parameters first, so they occupy slots 0..n (+ rest). Each may be followed by
        // its type: `[x :int xs [:vector :int] & more]`.
        let mut fixed: Vec<(&Syntax, Option<&Syntax>)> = Vec::new();
        let mut rest: Option<(&Syntax, Option<&Syntax>)> = None;
        let mut i = 0;
        while i < items.len() {
            let p = &items[i];
            if p.is_symbol("&") {
                let r = items
                    .get(i + 1)
                    .ok_or_else(|| err("syntax", "`&` needs a rest parameter after it", p.span))?;
                if !matches!(
                    r.kind,
                    SyntaxKind::Symbol(_) | SyntaxKind::Vector(_) | SyntaxKind::Map(_)
                ) {
                    return Err(err(
                        "syntax",
                        "the rest parameter must be a symbol or a destructuring pattern",
                        r.span,
                    ));
                }
                i += 2;
                let ann = self.take_annotation(items, &mut i);
                rest = Some((r, ann));
                if let Some(extra) = items.get(i) {
                    return Err(err(
                        "syntax",
                        "nothing may follow the rest parameter",
                        extra.span,
                    ));
                }
                break;
            }
            if self.is_param_annotation(p) && !matches!(p.kind, SyntaxKind::Symbol(_)) {
                return Err(err(
                    "syntax",
                    "a type annotation must follow a parameter",
                    p.span,
                ));
            }
            i += 1;
            let ann = self.take_annotation(items, &mut i);
            fixed.push((p, ann));
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
        let all: Vec<(&Syntax, Option<&Syntax>)> = fixed.iter().copied().chain(rest).collect();
        let sensitive_params = all
            .iter()
            .zip(&slots)
            .filter(|((p, _), _)| crate::privacy::syntax_is_sensitive(p))
            .map(|((p, _), slot)| (*slot, Arc::from(crate::privacy::describe(p))))
            .collect();
        let mut checks = Vec::new();
        for (k, ((p, ann), slot)) in all.iter().zip(&slots).enumerate() {
            let ty = match (ann, p.as_symbol().and_then(inline_type)) {
                (Some(a), _) => Some(self.parse_type(a)?),
                (None, Some(t)) => Some(
                    Type::from_value(&Value::keyword(t))
                        .map_err(|e| err("type", format!("malformed type: {e}"), p.span))?,
                ),
                (None, None) => None,
            };
            if let Some(mut ty) = ty {
                // No rest arguments bind nil; a typed rest parameter accepts that too.
                if rest.is_some() && k == all.len() - 1 {
                    ty = Type::Or(vec![ty, Type::Prim(rtfs_ir::types::Prim::Nil)]);
                }
                if !matches!(ty, Type::Any) {
                    checks.push(ParamCheck {
                        slot: *slot,
                        name: Arc::from(param_name(p)),
                        ty,
                    });
                }
            }
            match p.as_symbol().map(strip_inline_type) {
                Some("_") => {}
                Some(name) => self.ctx().declare(name, *slot, false),
                None => {
                    let mut pat = self.lower_pattern(p, false)?;
                    if k < fixed.len()
                        && let rtfs_ir::expr::Pattern::Seq { strict, .. } = &mut pat
                    {
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
        let (ret, body) = match body {
            [colon, ty, more @ ..] if colon.is_symbol(":") && !more.is_empty() => {
                (Some(self.parse_type(ty)?), more)
            }
            [ty, more @ ..] if !more.is_empty() && self.is_return_annotation(ty) => {
                (Some(self.parse_type(ty)?), more)
            }
            _ => (None, body),
        };
        let ret = ret.filter(|t| !matches!(t, Type::Any));
        let types = (!checks.is_empty() || ret.is_some()).then(|| {
            Box::new(ArityTypes {
                params: checks,
                ret,
            })
        });
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
            types,
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
        // Spec 05 §5 writes a single map parameter without its vector:
        // (defn greet {:keys [name title]} body).
        let bare_map_param = matches!(rest.first().map(|s| &s.kind), Some(SyntaxKind::Map(_)))
            && rest.get(1).is_some_and(|next| !is_params_or_arity(next));
        let mut typed: Vec<Syntax> = Vec::new();
        if bare_map_param {
            typed.push(Syntax {
                kind: SyntaxKind::Vector(vec![rest[0].clone()]),
                span: rest[0].span,
                meta: None,
            });
            typed.extend(rest[1..].iter().cloned());
        } else if let Some(SyntaxKind::Map(entries)) = rest.first().map(|s| &s.kind)
            && rest.len() > 1
        {
            if let Value::Map(m) = &syntax_to_value(&rest[0]) {
                meta.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            let sig = entries
                .iter()
                .find(|(k, _)| k.is_keyword("type"))
                .map(|(_, v)| v);
            rest = &rest[1..];
            if let Some(sig) = sig {
                typed = with_signature(sig, rest)?;
            }
        }
        let id = self.globals.intern(name);
        self.globals.mark_defined(id);
        let refs: Vec<&Syntax> = if typed.is_empty() {
            rest.iter().collect()
        } else {
            typed.iter().collect()
        };
        let closure = self.build_lambda(form.span, Some(name), &refs, meta)?;
        Ok(Expr::DefGlobal(id, Box::new(closure)))
    }

    pub(super) fn lower_def(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let (name_syn, value, ty) = match args {
            [n] => (n, None, None),
            [n, v] => (n, Some(v), None),
            [n, doc, v] if doc.as_str().is_some() => (n, Some(v), None),
            [n, ty, v] if self.is_param_annotation(ty) => (n, Some(v), Some(ty)),
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
        let mut v = match value {
            Some(v) => self.lower_named_value(v, Some(name))?,
            None => Expr::Const(Value::Nil),
        };
        if let Some(ty) = ty {
            v = self.checked(v, ty, name)?;
        }
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

/// A parameter vector, or one `([params] body...)` arity.
fn is_params_or_arity(s: &Syntax) -> bool {
    match &s.kind {
        SyntaxKind::Vector(_) => true,
        SyntaxKind::List(items) => items.first().is_some_and(|f| f.as_vector().is_some()),
        _ => false,
    }
}

fn as_type(s: &Syntax) -> Syntax {
    Syntax {
        kind: SyntaxKind::TypeExpr(Box::new(s.clone())),
        span: s.span,
        meta: None,
    }
}

/// Applies an attribute-map signature, `{:type {:args [T …] :return R}}` (spec 05 §10), to
/// `[params] body…`: each parameter gets its type and the body its return type.
fn with_signature(sig: &Syntax, rest: &[Syntax]) -> LResult<Vec<Syntax>> {
    let SyntaxKind::Map(entries) = &sig.kind else {
        return Err(err(
            "type",
            "`:type` in a defn attribute map is {:args [types] :return type}",
            sig.span,
        ));
    };
    let field = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| k.is_keyword(name))
            .map(|(_, v)| v)
    };
    let Some((params, body)) = rest.split_first() else {
        return Ok(Vec::new());
    };
    let Some(items) = params.as_vector() else {
        return Err(err(
            "type",
            "a `:type` signature needs a single parameter vector",
            sig.span,
        ));
    };
    let mut out_params = Vec::with_capacity(items.len() * 2);
    if let Some(args) = field("args") {
        let types = args
            .as_vector()
            .ok_or_else(|| err("type", "`:args` is a vector of types", args.span))?;
        let names: Vec<&Syntax> = items.iter().filter(|p| !p.is_symbol("&")).collect();
        if types.len() != names.len() || items.iter().any(|p| p.is_symbol("&")) {
            return Err(err(
                "type",
                format!(
                    "`:args` gives {} types for {} parameters",
                    types.len(),
                    names.len()
                ),
                args.span,
            ));
        }
        for (p, t) in items.iter().zip(types) {
            out_params.push(p.clone());
            out_params.push(as_type(t));
        }
    } else {
        out_params.extend(items.iter().cloned());
    }
    let mut out = vec![Syntax {
        kind: SyntaxKind::Vector(out_params),
        span: params.span,
        meta: params.meta.clone(),
    }];
    if let Some(r) = field("return")
        && !body.is_empty()
    {
        out.push(as_type(r));
    }
    out.extend(body.iter().cloned());
    Ok(out)
}

/// The `int` of an inline-typed name such as `x:int`.
fn inline_type(name: &str) -> Option<&str> {
    let base = strip_inline_type(name);
    (base.len() < name.len()).then(|| &name[base.len() + 1..])
}

/// How a parameter is named in a type error: its symbol, or the pattern as written.
fn param_name(p: &Syntax) -> String {
    match p.as_symbol() {
        Some(n) => strip_inline_type(n).to_string(),
        None => syntax_to_value(p).pr_str(),
    }
}
