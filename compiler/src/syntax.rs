//! The syntax tree produced by the reader: s-expressions with spans and
//! optional metadata.
//!
//! # Extended literals
//!
//! Spec 03 lists timestamps, UUIDs and resource handles as literal kinds
//! without giving a lexical form; the reader uses the form of the reference
//! RTFS 2.0 grammar, written bare (unquoted), as whole tokens:
//!
//! * **Timestamp** — ISO 8601 / RFC 3339 date-time, UTC or with an offset:
//!   `YYYY-MM-DDTHH:MM:SSZ`, with optional fractional seconds of 1 to 9
//!   digits written `.fff` or (legacy RTFS form) `_fff`, and `Z`/`z` or
//!   `+HH:MM`/`-HH:MM`. Ranges are checked (month 1–12, day valid for the
//!   month, hour ≤ 23, minute ≤ 59, second ≤ 60, offset ≤ 23:59). The
//!   canonical text stored in [`SyntaxKind::Timestamp`] is the literal with
//!   `T` and `Z` upper-cased and a `_` fraction separator replaced by `.`,
//!   e.g. `2024-01-31T12:00:00.250Z`.
//! * **UUID** — `8-4-4-4-12` hexadecimal digits, e.g.
//!   `550e8400-e29b-41d4-a716-446655440000`; stored lower-cased. A token that
//!   has that shape is always a UUID, never a symbol.
//! * **Resource handle** — `resource://` followed by one or more characters
//!   up to whitespace, `,`, `;`, `"` or a bracket, e.g.
//!   `resource://db/conn-1?mode=ro`; stored as written, including the
//!   `resource://` prefix.
//!
//! Other reader decisions: a symbol may also contain `#` after its first
//! character (Clojure-style auto-gensym names such as `x#` inside
//! quasiquote templates); keywords may start with a digit (`:1`);
//! `#"..."` regex literals read as [`SyntaxKind::Str`] with backslashes kept.

use std::sync::Arc;

use crate::source::Span;

/// One node of the syntax tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Syntax {
    pub kind: SyntaxKind,
    pub span: Span,
    /// Reader metadata (`^{...}`, `^:kw`, `^Tag`): a node of kind
    /// [`SyntaxKind::Map`], or `None`.
    pub meta: Option<Box<Syntax>>,
}

/// What a node is.
#[derive(Clone, Debug)]
pub enum SyntaxKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    /// Text without the leading `:`, e.g. `a`, `a/b`, `com.acme:v1/x`.
    Keyword(Arc<str>),
    /// E.g. `foo`, `ns/name`, `a.b/c`, `+`, `x:int`.
    Symbol(Arc<str>),
    List(Vec<Syntax>),
    Vector(Vec<Syntax>),
    /// Entries in source order.
    Map(Vec<(Syntax, Syntax)>),
    /// Elements in source order.
    Set(Vec<Syntax>),
    /// Canonical ISO 8601 text, see the module docs.
    Timestamp(Arc<str>),
    /// Canonical lower-case `8-4-4-4-12` text.
    Uuid(Arc<str>),
    /// Full text including `resource://`.
    ResourceHandle(Arc<str>),
    /// `:[ ... ]` — a type annotation; always wraps a [`SyntaxKind::Vector`].
    TypeExpr(Box<Syntax>),
}

impl PartialEq for SyntaxKind {
    fn eq(&self, other: &SyntaxKind) -> bool {
        use SyntaxKind::*;
        match (self, other) {
            (Nil, Nil) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            // By bits: NaN equals NaN, 0.0 differs from -0.0.
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Str(a), Str(b)) => a == b,
            (Keyword(a), Keyword(b)) => a == b,
            (Symbol(a), Symbol(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Vector(a), Vector(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (Set(a), Set(b)) => a == b,
            (Timestamp(a), Timestamp(b)) => a == b,
            (Uuid(a), Uuid(b)) => a == b,
            (ResourceHandle(a), ResourceHandle(b)) => a == b,
            (TypeExpr(a), TypeExpr(b)) => a == b,
            _ => false,
        }
    }
}

impl SyntaxKind {
    /// A short name of the kind for messages: "list", "symbol", ...
    pub fn describe(&self) -> &'static str {
        use SyntaxKind::*;
        match self {
            Nil => "nil",
            Bool(_) => "boolean",
            Int(_) => "integer",
            Float(_) => "float",
            Str(_) => "string",
            Keyword(_) => "keyword",
            Symbol(_) => "symbol",
            List(_) => "list",
            Vector(_) => "vector",
            Map(_) => "map",
            Set(_) => "set",
            Timestamp(_) => "timestamp",
            Uuid(_) => "uuid",
            ResourceHandle(_) => "resource handle",
            TypeExpr(_) => "type expression",
        }
    }
}

impl Syntax {
    /// Nodes in this tree, metadata included (counted with a work list: hostile syntax may
    /// nest deeply).
    pub fn node_count(&self) -> usize {
        let mut count = 0;
        let mut work = vec![self];
        while let Some(s) = work.pop() {
            count += 1;
            if let Some(m) = &s.meta {
                work.push(m);
            }
            match &s.kind {
                SyntaxKind::List(xs) | SyntaxKind::Vector(xs) | SyntaxKind::Set(xs) => {
                    work.extend(xs.iter());
                }
                SyntaxKind::Map(kvs) => kvs.iter().for_each(|(k, v)| {
                    work.push(k);
                    work.push(v);
                }),
                SyntaxKind::TypeExpr(x) => work.push(x),
                _ => {}
            }
        }
        count
    }

    /// A node without metadata.
    pub fn new(kind: SyntaxKind, span: Span) -> Syntax {
        Syntax {
            kind,
            span,
            meta: None,
        }
    }

    pub fn symbol(name: &str, span: Span) -> Syntax {
        Syntax::new(SyntaxKind::Symbol(Arc::from(name)), span)
    }

    pub fn keyword(name: &str, span: Span) -> Syntax {
        Syntax::new(SyntaxKind::Keyword(Arc::from(name)), span)
    }

    /// The symbol's name, if this is a symbol.
    pub fn as_symbol(&self) -> Option<&str> {
        match &self.kind {
            SyntaxKind::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The keyword's text (without `:`), if this is a keyword.
    pub fn as_keyword(&self) -> Option<&str> {
        match &self.kind {
            SyntaxKind::Keyword(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            SyntaxKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Syntax]> {
        match &self.kind {
            SyntaxKind::List(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_vector(&self) -> Option<&[Syntax]> {
        match &self.kind {
            SyntaxKind::Vector(v) => Some(v),
            _ => None,
        }
    }

    /// Whether this is the symbol `name`.
    pub fn is_symbol(&self, name: &str) -> bool {
        self.as_symbol() == Some(name)
    }

    pub fn is_keyword(&self, name: &str) -> bool {
        self.as_keyword() == Some(name)
    }

    /// For a list whose first element is a symbol, that symbol's name.
    pub fn list_head_symbol(&self) -> Option<&str> {
        self.as_list()?.first()?.as_symbol()
    }

    /// The value of metadata key `:key`, if any.
    pub fn meta_get(&self, key: &str) -> Option<&Syntax> {
        match &self.meta.as_ref()?.kind {
            SyntaxKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.is_keyword(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Structural equality ignoring spans (metadata ignored too).
    pub fn same_datum(&self, other: &Syntax) -> bool {
        use SyntaxKind::*;
        match (&self.kind, &other.kind) {
            (List(a), List(b)) | (Vector(a), Vector(b)) | (Set(a), Set(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_datum(y))
            }
            (Map(a), Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((k1, v1), (k2, v2))| k1.same_datum(k2) && v1.same_datum(v2))
            }
            (TypeExpr(a), TypeExpr(b)) => a.same_datum(b),
            (a, b) => !matches!(a, List(_) | Vector(_) | Set(_) | Map(_) | TypeExpr(_)) && a == b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn sp(a: u32, b: u32) -> Span {
        Span::new(FileId(0), a, b)
    }

    #[test]
    fn helpers() {
        let head = Syntax::symbol("defn", sp(1, 5));
        let l = Syntax::new(
            SyntaxKind::List(vec![head, Syntax::keyword("a", sp(6, 8))]),
            sp(0, 9),
        );
        assert_eq!(l.list_head_symbol(), Some("defn"));
        assert!(l.as_list().is_some_and(|v| v[0].is_symbol("defn")));
        assert!(l.as_list().is_some_and(|v| v[1].as_keyword() == Some("a")));
        assert_eq!(l.as_symbol(), None);
        let empty = Syntax::new(SyntaxKind::List(vec![]), sp(0, 2));
        assert_eq!(empty.list_head_symbol(), None);
    }

    #[test]
    fn float_eq_by_bits() {
        let a = SyntaxKind::Float(f64::NAN);
        assert_eq!(a, SyntaxKind::Float(f64::NAN));
        assert_ne!(SyntaxKind::Float(0.0), SyntaxKind::Float(-0.0));
    }

    #[test]
    fn same_datum_ignores_spans() {
        let a = Syntax::new(
            SyntaxKind::Vector(vec![Syntax::keyword("k", sp(1, 3))]),
            sp(0, 4),
        );
        let b = Syntax::new(
            SyntaxKind::Vector(vec![Syntax::keyword("k", sp(9, 11))]),
            sp(8, 12),
        );
        assert!(a.same_datum(&b));
        assert_ne!(a, b);
        let c = Syntax::new(
            SyntaxKind::List(vec![Syntax::keyword("k", sp(1, 3))]),
            sp(0, 4),
        );
        assert!(!a.same_datum(&c));
    }
}
