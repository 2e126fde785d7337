//! Quasiquote (syntax-quote) expansion: `` `(a ~b ~@c) `` becomes code that builds the list
//! at run time. Generated calls name built-ins through the `rtfs.core/` prefix, which always
//! resolves to the built-in whatever the user has shadowed — that is our macro hygiene for
//! the expansion's own helpers. Symbols ending in `#` become one fresh name per template
//! (Clojure's auto-gensym), so prelude macros never capture user names.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::{Syntax, SyntaxKind};

pub struct Quasi<'a> {
    gensyms: HashMap<String, String>,
    counter: &'a mut u64,
}

fn sym(name: &str, span: Span) -> Syntax {
    Syntax::symbol(name, span)
}

fn list(items: Vec<Syntax>, span: Span) -> Syntax {
    Syntax::new(SyntaxKind::List(items), span)
}

fn has_unquote(s: &Syntax) -> bool {
    match &s.kind {
        SyntaxKind::List(items) => {
            matches!(
                items.first().and_then(Syntax::as_symbol),
                Some("unquote" | "unquote-splicing")
            ) || items.iter().any(has_unquote)
        }
        SyntaxKind::Vector(items) | SyntaxKind::Set(items) => items.iter().any(has_unquote),
        SyntaxKind::Map(entries) => entries
            .iter()
            .any(|(k, v)| has_unquote(k) || has_unquote(v)),
        SyntaxKind::Symbol(s) => s.ends_with('#') && s.len() > 1,
        _ => false,
    }
}

impl<'a> Quasi<'a> {
    pub fn new(counter: &'a mut u64) -> Quasi<'a> {
        Quasi {
            gensyms: HashMap::new(),
            counter,
        }
    }

    /// The code that builds `form` (the argument of `quasiquote`).
    pub fn expand(&mut self, form: &Syntax) -> Result<Syntax, Diagnostic> {
        let span = form.span;
        if !has_unquote(form) {
            return Ok(list(vec![sym("quote", span), form.clone()], span));
        }
        match &form.kind {
            SyntaxKind::Symbol(s) => {
                let name = self.gensym(s);
                Ok(list(vec![sym("quote", span), sym(&name, span)], span))
            }
            SyntaxKind::List(items) => {
                match items.first().and_then(Syntax::as_symbol) {
                    Some("unquote") => {
                        return items.get(1).cloned().ok_or_else(|| {
                            Diagnostic::error("syntax", "`~` needs a form after it", span)
                        });
                    }
                    Some("unquote-splicing") => {
                        return Err(Diagnostic::error(
                            "syntax",
                            "`~@` can only splice inside a list, vector or set",
                            span,
                        ));
                    }
                    _ => {}
                }
                let parts = self.parts(items)?;
                Ok(list(
                    vec![
                        sym("rtfs.core/apply", span),
                        sym("rtfs.core/list", span),
                        parts,
                    ],
                    span,
                ))
            }
            SyntaxKind::Vector(items) => {
                let parts = self.parts(items)?;
                Ok(list(vec![sym("rtfs.core/vec", span), parts], span))
            }
            SyntaxKind::Set(items) => {
                let parts = self.parts(items)?;
                Ok(list(
                    vec![
                        sym("rtfs.core/apply", span),
                        sym("rtfs.core/hash-set", span),
                        parts,
                    ],
                    span,
                ))
            }
            SyntaxKind::Map(entries) => {
                let mut out = vec![sym("rtfs.core/hash-map", span)];
                for (k, v) in entries {
                    out.push(self.expand(k)?);
                    out.push(self.expand(v)?);
                }
                Ok(list(out, span))
            }
            _ => Ok(form.clone()),
        }
    }

    /// `(rtfs.core/concat [a'] b [c'] ...)` for the elements of a collection template.
    fn parts(&mut self, items: &[Syntax]) -> Result<Syntax, Diagnostic> {
        let mut out = Vec::with_capacity(items.len() + 1);
        let span = items.first().map_or(Span::default(), |s| s.span);
        out.push(sym("rtfs.core/concat", span));
        for item in items {
            let spliced = item.as_list().and_then(|l| {
                (l.len() == 2 && l[0].is_symbol("unquote-splicing")).then(|| l[1].clone())
            });
            match spliced {
                Some(code) => out.push(code),
                None => {
                    let built = self.expand(item)?;
                    out.push(Syntax::new(SyntaxKind::Vector(vec![built]), item.span));
                }
            }
        }
        Ok(list(out, span))
    }

    fn gensym(&mut self, name: &str) -> String {
        match name.strip_suffix('#') {
            Some(base) if !base.is_empty() => {
                if let Some(g) = self.gensyms.get(name) {
                    return g.clone();
                }
                *self.counter += 1;
                let g = format!("{base}__{}__auto", self.counter);
                self.gensyms.insert(name.to_string(), g.clone());
                g
            }
            _ => name.to_string(),
        }
    }
}

/// A fresh symbol name no user code can write by accident.
pub fn fresh_name(counter: &mut u64, base: &str) -> Arc<str> {
    *counter += 1;
    Arc::from(format!("{base}__{}__gen", counter))
}
