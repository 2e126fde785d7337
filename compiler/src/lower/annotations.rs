//! Type annotations (spec 13) where the source writes them: after a parameter or a binding
//! name (`[x :int]`, `[xs [:vector :int]]`, `[p Point]`), before a function body (the
//! return type), in `def`, and the forms `deftype` and `assert-type`.
//!
//! Parameters and returns become `ArityTypes` the interpreter checks at each call; a
//! `let`/`def`/`assert-type` check is a call of the built-in `check-type` on the value.

use rtfs_ir::Value;
use rtfs_ir::expr::Expr;
use rtfs_ir::types::{Type, is_builtin_type_name};

use super::{LResult, Lowerer, err};
use crate::convert::{loc, syntax_to_value};
use crate::source::Span;
use crate::syntax::{Syntax, SyntaxKind};

/// Heads of compound type expressions: a vector starting with one of these, after a name,
/// is an annotation rather than a pattern or a value.
const TYPE_HEADS: &[&str] = &[
    "vector",
    "list",
    "set",
    "tuple",
    "map",
    "map-of",
    "or",
    "union",
    "and",
    "refined",
    "not",
    "maybe",
    "optional",
    "enum",
    "re",
    "regex",
    "matches-regex",
    "count",
    "length",
    "min-count",
    "max-count",
    "min-length",
    "max-length",
    "non-empty",
    "in-range",
    "has-key",
    "=>",
    "fn",
    "function",
    "array",
    ">",
    ">=",
    "<",
    "<=",
    "=",
    "not=",
    "sequential",
    "pred",
];

impl Lowerer<'_> {
    /// The annotation at `items[*i]` after a parameter, if there is one (`:int`, or the
    /// spaced `: Integer` of spec 03), moving `*i` past it.
    pub(super) fn take_annotation<'s>(
        &self,
        items: &'s [Syntax],
        i: &mut usize,
    ) -> Option<&'s Syntax> {
        let first = items.get(*i)?;
        if first.is_symbol(":") {
            let ty = items.get(*i + 1)?;
            *i += 2;
            return Some(ty);
        }
        if self.is_param_annotation(first) {
            *i += 1;
            return Some(first);
        }
        None
    }

    /// Whether `s`, written right after a parameter, is its type annotation.
    pub(super) fn is_param_annotation(&self, s: &Syntax) -> bool {
        match &s.kind {
            SyntaxKind::TypeExpr(_) | SyntaxKind::Keyword(_) => true,
            SyntaxKind::Vector(items) => items
                .first()
                .and_then(Syntax::as_keyword)
                .is_some_and(|h| TYPE_HEADS.contains(&h)),
            SyntaxKind::Symbol(n) => self.is_type_symbol(n),
            _ => false,
        }
    }

    /// A symbol that can only be a type: a `deftype` name, or a capitalised builtin type
    /// (`Integer`, `String`), as spec 03 writes them.
    fn is_type_symbol(&self, n: &str) -> bool {
        self.globals.is_type(n)
            || (n.starts_with(|c: char| c.is_ascii_uppercase()) && is_builtin_type_name(n))
    }

    /// Whether `s`, after a `let`/`loop` binding name and followed by a value, is a type.
    /// Stricter than for parameters: a keyword is data unless it names a type.
    pub(super) fn is_binding_annotation(&self, s: &Syntax) -> bool {
        match &s.kind {
            SyntaxKind::Keyword(k) => is_builtin_type_name(k) || self.globals.is_type(k),
            SyntaxKind::Vector(_) => self.is_param_annotation(s) && self.parse_type(s).is_ok(),
            _ => self.is_param_annotation(s),
        }
    }

    /// Whether `s`, before the rest of a function body, is its return type.
    pub(super) fn is_return_annotation(&self, s: &Syntax) -> bool {
        match &s.kind {
            SyntaxKind::TypeExpr(_) | SyntaxKind::Keyword(_) => true,
            SyntaxKind::Vector(_) => self.is_param_annotation(s) && self.parse_type(s).is_ok(),
            SyntaxKind::Symbol(n) => self.is_type_symbol(n),
            _ => false,
        }
    }

    /// Reads a type expression, with a compile error at its span if it is malformed or
    /// names a type nothing defines.
    pub(super) fn parse_type(&self, s: &Syntax) -> LResult<Type> {
        let t = Type::from_value(&syntax_to_value(s))
            .map_err(|e| err("type", format!("malformed type: {e}"), s.span))?;
        self.check_names(&t, s.span)?;
        Ok(t)
    }

    /// Every name a type refers to must be a `deftype`, a global or a built-in function
    /// (a predicate) by the time the annotation is compiled.
    fn check_names(&self, t: &Type, span: Span) -> LResult<()> {
        let mut names = Vec::new();
        named_in(t, &mut names);
        for n in names {
            let known = self.globals.is_type(&n)
                || self.globals.is_defined(&n)
                || self.declared.contains(n.as_str())
                || self.host.builtin(&n).is_some();
            if !known {
                return Err(err("type", format!("unknown type `{n}`"), span)
                    .with_help("define it first: (deftype Name type-expr)"));
            }
        }
        Ok(())
    }

    /// `(check-type 'T value "name")`: the value, or a `type-error`.
    pub(super) fn checked(&mut self, v: Expr, ty: &Syntax, name: &str) -> LResult<Expr> {
        self.parse_type(ty)?;
        let check = self
            .builtin("check-type")
            .ok_or_else(|| err("internal", "built-in `check-type` missing", ty.span))?;
        Ok(Expr::CallBuiltin(
            check,
            vec![
                Expr::Const(syntax_to_value(ty)),
                v,
                Expr::Const(Value::str(name)),
            ]
            .into(),
            loc(ty.span),
        ))
    }

    /// `(deftype Name type-expr)`: the global `Name` holds the type as data, and the name
    /// may annotate parameters from here on. The type may refer to `Name` (recursion).
    pub(super) fn lower_deftype(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let (name_syn, ty) = match args {
            [n, t] => (n, t),
            [n, doc, t] if doc.as_str().is_some() => (n, t),
            _ => {
                return Err(err(
                    "syntax",
                    "`deftype` takes a name and a type: (deftype Name [:map [:x :int]])",
                    span,
                ));
            }
        };
        let name = name_syn.as_symbol().ok_or_else(|| {
            err(
                "syntax",
                "`deftype` needs a symbol as its name",
                name_syn.span,
            )
        })?;
        if is_builtin_type_name(name) {
            return Err(err(
                "type",
                format!("`{name}` is a builtin type and cannot be redefined"),
                name_syn.span,
            ));
        }
        self.globals.define_type(name);
        let id = self.globals.intern(name);
        self.globals.mark_defined(id);
        self.parse_type(ty)?;
        Ok(Expr::DefGlobal(
            id,
            Box::new(Expr::Const(syntax_to_value(ty))),
        ))
    }

    /// `(assert-type expr T)`: the value of `expr`, or a `type-error`.
    pub(super) fn lower_assert_type(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let [value, ty] = args else {
            return Err(err(
                "syntax",
                "`assert-type` takes a value and a type: (assert-type x :int)",
                span,
            ));
        };
        let v = self.lower(value, false)?;
        self.checked(v, ty, "")
    }
}

fn named_in(t: &Type, out: &mut Vec<String>) {
    match t {
        Type::Named(n) => out.push(n.to_string()),
        Type::Refine(rtfs_ir::types::Refinement::Pred(n)) => out.push(n.to_string()),
        Type::Vector(e) | Type::List(e) | Type::Set(e) | Type::Not(e) | Type::Array(e, _) => {
            named_in(e, out)
        }
        Type::Tuple(ts) | Type::Or(ts) | Type::And(ts) => ts.iter().for_each(|t| named_in(t, out)),
        Type::Record(fs) => fs.iter().for_each(|f| named_in(&f.ty, out)),
        Type::MapOf(k, v) => {
            named_in(k, out);
            named_in(v, out);
        }
        Type::Fn { params, rest, ret } => {
            params.iter().for_each(|t| named_in(t, out));
            if let Some(r) = rest {
                named_in(r, out);
            }
            named_in(ret, out);
        }
        Type::Any | Type::Never | Type::Prim(_) | Type::Enum(_) | Type::Refine(_) => {}
    }
}
