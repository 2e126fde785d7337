//! Binding patterns: destructuring in `let`, parameters and `loop`, and the refutable
//! patterns of `match`. Lowering a pattern declares its names in the current scope.

use rtfs_ir::Value;
use rtfs_ir::expr::{Expr, MapEntryPattern, Pattern, TypeTest};

use super::{LResult, Lowerer, err};
use crate::convert::syntax_to_value;
use crate::syntax::{Syntax, SyntaxKind};

pub fn type_test(name: &str) -> Option<TypeTest> {
    Some(match name {
        "int" | "integer" => TypeTest::Int,
        "float" | "double" => TypeTest::Float,
        "number" | "num" => TypeTest::Number,
        "string" | "str" => TypeTest::String,
        "bool" | "boolean" => TypeTest::Bool,
        "nil" => TypeTest::Nil,
        "keyword" => TypeTest::Keyword,
        "symbol" => TypeTest::Symbol,
        "vector" => TypeTest::Vector,
        "list" => TypeTest::List,
        "map" => TypeTest::Map,
        "set" => TypeTest::Set,
        "fn" | "function" => TypeTest::Function,
        "any" => TypeTest::Any,
        _ => return None,
    })
}

impl Lowerer<'_> {
    fn bind_name(&mut self, name: &str) -> Pattern {
        if name == "_" {
            return Pattern::Ignore;
        }
        let slot = self.ctx().new_slot();
        self.ctx().declare(name, slot, false);
        Pattern::Bind(slot)
    }

    /// Lowers a pattern. `refutable` (in `match`) allows literals and type tests and makes
    /// vector patterns match on length.
    pub(super) fn lower_pattern(&mut self, pat: &Syntax, refutable: bool) -> LResult<Pattern> {
        match &pat.kind {
            SyntaxKind::Symbol(name) if name.as_ref() == "&" => Err(err(
                "syntax",
                "`&` must be followed by a rest binding inside a vector pattern",
                pat.span,
            )),
            SyntaxKind::Symbol(name) => Ok(self.bind_name(name)),
            SyntaxKind::Vector(items) => self.lower_seq_pattern(items, refutable),
            SyntaxKind::Map(entries) => self.lower_map_pattern(pat, entries, refutable),
            SyntaxKind::List(items) if refutable => self.lower_list_pattern(pat, items),
            _ if refutable => Ok(Pattern::Literal(syntax_to_value(pat))),
            _ => Err(err(
                "syntax",
                format!(
                    "cannot bind to a {}: expected a symbol, a vector or a map pattern",
                    pat.kind.describe()
                ),
                pat.span,
            )),
        }
    }

    /// `(:int n)`, `(:as name pat)`, `(quote x)`.
    fn lower_list_pattern(&mut self, pat: &Syntax, items: &[Syntax]) -> LResult<Pattern> {
        match items {
            [head, x] if head.is_symbol("quote") => Ok(Pattern::Literal(syntax_to_value(x))),
            [head, name, inner] if head.is_keyword("as") && name.as_symbol().is_some() => {
                let inner = self.lower_pattern(inner, true)?;
                let Pattern::Bind(slot) = self.bind_name(name.as_symbol().unwrap_or("_")) else {
                    return Ok(inner);
                };
                Ok(Pattern::As(slot, Box::new(inner)))
            }
            [head, inner, test] if head.is_keyword("when") => {
                let inner = self.lower_pattern(inner, true)?;
                let test = self.lower(test, false)?;
                self.pattern_guards.push(test);
                Ok(inner)
            }
            [head, alts @ ..] if head.is_keyword("or") || head.is_symbol("|") => {
                // Nested alternatives: literals only (top-level ones split the clause).
                if alts.is_empty() || alts.iter().any(|a| !is_literal_pattern(a)) {
                    return Err(err(
                        "syntax",
                        "a nested `(:or …)` pattern takes literals only; alternatives with bindings go at the top of a clause",
                        pat.span,
                    ));
                }
                let slot = self.ctx().new_slot();
                let eq = self
                    .builtin("=")
                    .ok_or_else(|| err("internal", "built-in `=` missing", pat.span))?;
                let at = crate::convert::loc(pat.span);
                let test = alts
                    .iter()
                    .rev()
                    .fold(Expr::Const(Value::Bool(false)), |acc, a| {
                        Expr::If(Box::new((
                            Expr::CallBuiltin(
                                eq,
                                vec![Expr::Local(slot), Expr::Const(syntax_to_value(a))].into(),
                                at,
                            ),
                            Expr::Const(Value::Bool(true)),
                            acc,
                        )))
                    });
                self.pattern_guards.push(test);
                Ok(Pattern::Bind(slot))
            }
            [head, rest @ ..]
                if rest.len() <= 1
                    && (head.as_keyword().is_some_and(|k| type_test(k).is_none())
                        || matches!(
                            head.kind,
                            SyntaxKind::Vector(_) | SyntaxKind::TypeExpr(_)
                        )
                        || head.as_symbol().is_some_and(|n| self.globals.is_type(n))) =>
            {
                self.compound_type_pattern(head, rest.first())
            }
            [head, rest @ ..] if head.as_keyword().is_some() && rest.len() <= 1 => {
                let tname = head.as_keyword().unwrap_or_default();
                let test = type_test(tname).ok_or_else(|| {
                    err("syntax", format!("unknown type `:{tname}` in pattern"), head.span)
                        .with_help("known types: :int :float :number :string :bool :nil :keyword :symbol :vector :list :map :set :fn :any")
                })?;
                let inner = match rest.first() {
                    Some(p) => self.lower_pattern(p, true)?,
                    None => Pattern::Ignore,
                };
                Ok(Pattern::Type(test, Box::new(inner)))
            }
            _ => Err(err(
                "syntax",
                "unsupported list pattern: expected (:type name), (:as name pattern), (:or p …) or (:when pattern test)",
                pat.span,
            )),
        }
    }

    /// `([:vector :int] xs)`, `(Point p)`, `(:Point p)`: binds the value, and the clause
    /// matches only if it has the type (checked with `valid?`).
    fn compound_type_pattern(&mut self, ty: &Syntax, inner: Option<&Syntax>) -> LResult<Pattern> {
        self.parse_type(ty)?;
        let valid = self
            .builtin("valid?")
            .ok_or_else(|| err("internal", "built-in `valid?` missing", ty.span))?;
        let slot = self.ctx().new_slot();
        let inner = match inner {
            Some(p) => self.lower_pattern(p, true)?,
            None => Pattern::Ignore,
        };
        self.pattern_guards.push(Expr::CallBuiltin(
            valid,
            vec![Expr::Const(syntax_to_value(ty)), Expr::Local(slot)].into(),
            crate::convert::loc(ty.span),
        ));
        Ok(Pattern::As(slot, Box::new(inner)))
    }

    fn lower_seq_pattern(&mut self, items: &[Syntax], refutable: bool) -> LResult<Pattern> {
        let mut out = Vec::new();
        let mut rest = None;
        let mut as_slot = None;
        let mut i = 0;
        while i < items.len() {
            let item = &items[i];
            if item.is_symbol("&") {
                let r = items
                    .get(i + 1)
                    .ok_or_else(|| err("syntax", "`&` needs a rest binding after it", item.span))?;
                rest = Some(Box::new(self.lower_pattern(r, refutable)?));
                i += 2;
                continue;
            }
            if item.is_keyword("as") {
                let name = items
                    .get(i + 1)
                    .and_then(Syntax::as_symbol)
                    .ok_or_else(|| err("syntax", "`:as` needs a symbol after it", item.span))?;
                if let Pattern::Bind(s) = self.bind_name(name) {
                    as_slot = Some(s);
                }
                i += 2;
                continue;
            }
            if rest.is_some() {
                return Err(err(
                    "syntax",
                    "nothing but `:as name` may follow the rest binding",
                    item.span,
                ));
            }
            out.push(self.lower_pattern(item, refutable)?);
            // A type annotation after a binding (`[x :int]` is not a refutable literal here).
            if !refutable
                && matches!(
                    items.get(i + 1).map(|s| &s.kind),
                    Some(SyntaxKind::TypeExpr(_))
                )
            {
                i += 1;
            }
            i += 1;
        }
        Ok(Pattern::Seq {
            items: out,
            rest,
            as_slot,
            strict: false,
        })
    }

    fn lower_map_pattern(
        &mut self,
        pat: &Syntax,
        entries: &[(Syntax, Syntax)],
        refutable: bool,
    ) -> LResult<Pattern> {
        let mut out = Vec::new();
        let mut as_slot = None;
        let mut defaults: Vec<(String, Syntax)> = Vec::new();
        for (k, v) in entries {
            if k.is_keyword("or") {
                match &v.kind {
                    SyntaxKind::Map(d) => {
                        for (name, expr) in d {
                            if let Some(n) = name.as_symbol().or(name.as_keyword()) {
                                defaults.push((n.to_string(), expr.clone()));
                            }
                        }
                    }
                    _ => return Err(err("syntax", "`:or` takes a map of defaults", v.span)),
                }
            }
        }
        for (k, v) in entries {
            match k.as_keyword() {
                Some("or") => {}
                Some("as") => {
                    let name = v
                        .as_symbol()
                        .ok_or_else(|| err("syntax", "`:as` needs a symbol", v.span))?;
                    if let Pattern::Bind(s) = self.bind_name(name) {
                        as_slot = Some(s);
                    }
                }
                Some(which @ ("keys" | "strs" | "syms")) => {
                    let names = v.as_vector().ok_or_else(|| {
                        err(
                            "syntax",
                            format!("`:{which}` takes a vector of names"),
                            v.span,
                        )
                    })?;
                    for n in names {
                        let name = n
                            .as_symbol()
                            .or(n.as_keyword())
                            .ok_or_else(|| err("syntax", "expected a name", n.span))?;
                        let local = name.rsplit('/').next().unwrap_or(name);
                        let key = match which {
                            "keys" => Value::keyword(name),
                            "strs" => Value::str(name),
                            _ => Value::symbol(name),
                        };
                        let default = self.lower_default(&defaults, local)?;
                        let pattern = self.bind_name(local);
                        out.push(MapEntryPattern {
                            key,
                            pattern,
                            default,
                        });
                    }
                }
                _ => {
                    // RTFS order `{:key pattern}` or Clojure order `{pattern :key}`.
                    let (key_syn, pat_syn) = if is_key_literal(k) { (k, v) } else { (v, k) };
                    if !is_key_literal(key_syn) {
                        return Err(err("syntax", "map pattern entries pair a key (keyword, string or number) with a pattern", k.span).with_label(pat.span, "in this pattern"));
                    }
                    let key = syntax_to_value(key_syn);
                    let default = match pat_syn.as_symbol() {
                        Some(n) => self.lower_default(&defaults, n)?,
                        None => None,
                    };
                    let pattern = self.lower_pattern(pat_syn, refutable)?;
                    out.push(MapEntryPattern {
                        key,
                        pattern,
                        default,
                    });
                }
            }
        }
        Ok(Pattern::Map {
            entries: out,
            as_slot,
        })
    }

    fn lower_default(
        &mut self,
        defaults: &[(String, Syntax)],
        name: &str,
    ) -> LResult<Option<rtfs_ir::expr::Expr>> {
        match defaults.iter().find(|(n, _)| n == name) {
            Some((_, e)) => Ok(Some(self.lower(e, false)?)),
            None => Ok(None),
        }
    }
}

fn is_literal_pattern(s: &Syntax) -> bool {
    !matches!(
        s.kind,
        SyntaxKind::Symbol(_)
            | SyntaxKind::List(_)
            | SyntaxKind::Vector(_)
            | SyntaxKind::Map(_)
            | SyntaxKind::Set(_)
    )
}

fn is_key_literal(s: &Syntax) -> bool {
    matches!(
        s.kind,
        SyntaxKind::Keyword(_)
            | SyntaxKind::Str(_)
            | SyntaxKind::Int(_)
            | SyntaxKind::Bool(_)
            | SyntaxKind::Nil
            | SyntaxKind::Float(_)
    )
}
