//! Conversions between syntax and values: `quote` turns syntax into data, and macro
//! expansion turns the data a macro returns back into syntax.

use std::sync::Arc;

use rtfs_ir::{SrcLoc, Value};

use crate::source::Span;
use crate::syntax::{Syntax, SyntaxKind};

pub fn loc(span: Span) -> SrcLoc {
    SrcLoc {
        file: span.file.0,
        start: span.start,
        end: span.end,
    }
}

/// Syntax as data (what `quote` yields). Metadata is dropped; a type annotation yields its
/// type expression.
pub fn syntax_to_value(s: &Syntax) -> Value {
    match &s.kind {
        SyntaxKind::Nil => Value::Nil,
        SyntaxKind::Bool(b) => Value::Bool(*b),
        SyntaxKind::Int(i) => Value::Int(*i),
        SyntaxKind::Float(f) => Value::Float(*f),
        SyntaxKind::Str(t) => Value::str(t.as_ref()),
        SyntaxKind::Keyword(k) => Value::keyword(k.as_ref()),
        SyntaxKind::Symbol(k) => Value::symbol(k.as_ref()),
        SyntaxKind::List(items) => Value::list(items.iter().map(syntax_to_value)),
        SyntaxKind::Vector(items) => Value::vector(items.iter().map(syntax_to_value)),
        SyntaxKind::Set(items) => Value::set(items.iter().map(syntax_to_value)),
        SyntaxKind::Map(entries) => Value::map(
            entries
                .iter()
                .map(|(k, v)| (syntax_to_value(k), syntax_to_value(v))),
        ),
        SyntaxKind::Timestamp(t) => Value::Timestamp(Arc::new(t.to_string())),
        SyntaxKind::Uuid(t) => Value::Uuid(Arc::new(t.to_string())),
        SyntaxKind::ResourceHandle(t) => Value::Resource(Arc::new(t.to_string())),
        SyntaxKind::TypeExpr(inner) => syntax_to_value(inner),
    }
}

/// Why data returned by a macro could not become syntax.
#[derive(Debug)]
pub enum ToSyntaxError {
    /// It nests deeper than the compiler recurses, or is bigger than `budget` allowed.
    Limit(String),
    /// It holds a value that is not code (a function, an atom, ...).
    NotCode(String),
}

/// Data returned by a macro, as syntax located at the macro call. Each node built is charged
/// to `budget`, so data that shares structure (a list holding the same list twice, 24 times
/// over) cannot unfold into gigabytes of syntax.
pub fn value_to_syntax(
    v: &Value,
    span: Span,
    depth: usize,
    budget: &mut crate::limits::ExpansionBudget,
) -> Result<Syntax, ToSyntaxError> {
    if depth > crate::limits::MAX_NESTING {
        return Err(ToSyntaxError::Limit(format!(
            "its expansion nests more than {} levels deep",
            crate::limits::MAX_NESTING
        )));
    }
    if !budget.charge(1) {
        return Err(ToSyntaxError::Limit(format!(
            "the unit's macro expansion budget ({} nodes) is used up",
            budget.limit()
        )));
    }
    let d = depth + 1;
    let kind = match v {
        Value::Nil => SyntaxKind::Nil,
        Value::Bool(b) => SyntaxKind::Bool(*b),
        Value::Int(i) => SyntaxKind::Int(*i),
        Value::Float(f) => SyntaxKind::Float(*f),
        Value::Str(s) => SyntaxKind::Str(Arc::from(s.as_str())),
        Value::Keyword(s) => SyntaxKind::Keyword(Arc::from(s.as_str())),
        Value::Symbol(s) => SyntaxKind::Symbol(Arc::from(s.as_str())),
        Value::List(items) => SyntaxKind::List(
            items
                .iter()
                .map(|x| value_to_syntax(x, span, d, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Vector(items) => SyntaxKind::Vector(
            items
                .iter()
                .map(|x| value_to_syntax(x, span, d, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Set(s) => SyntaxKind::Set(
            s.iter()
                .map(|x| value_to_syntax(x, span, d, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => SyntaxKind::Map(
            m.iter()
                .map(|(k, v)| {
                    Ok((
                        value_to_syntax(k, span, d, budget)?,
                        value_to_syntax(v, span, d, budget)?,
                    ))
                })
                .collect::<Result<_, ToSyntaxError>>()?,
        ),
        Value::Timestamp(t) => SyntaxKind::Timestamp(Arc::from(t.as_str())),
        Value::Uuid(t) => SyntaxKind::Uuid(Arc::from(t.as_str())),
        Value::Resource(t) => SyntaxKind::ResourceHandle(Arc::from(t.as_str())),
        other => {
            return Err(ToSyntaxError::NotCode(format!(
                "a macro returned a {} value, which is not code",
                other.type_name()
            )));
        }
    };
    Ok(Syntax::new(kind, span))
}
