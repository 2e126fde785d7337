//! Conversions between syntax and values: `quote` turns syntax into data, and macro
//! expansion turns the data a macro returns back into syntax.

use std::sync::Arc;

use rtfs_ir::{RtError, SrcLoc, Value};

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

/// Data returned by a macro, as syntax located at the macro call.
pub fn value_to_syntax(v: &Value, span: Span, depth: usize) -> Result<Syntax, RtError> {
    if depth > crate::limits::MAX_NESTING {
        return Err(RtError::new(
            rtfs_ir::error::kind::LIMIT,
            "macro expansion nests too deeply",
        ));
    }
    let d = depth + 1;
    let seq = |items: &rtfs_ir::Seq| -> Result<Vec<Syntax>, RtError> {
        items.iter().map(|x| value_to_syntax(x, span, d)).collect()
    };
    let kind = match v {
        Value::Nil => SyntaxKind::Nil,
        Value::Bool(b) => SyntaxKind::Bool(*b),
        Value::Int(i) => SyntaxKind::Int(*i),
        Value::Float(f) => SyntaxKind::Float(*f),
        Value::Str(s) => SyntaxKind::Str(Arc::from(s.as_str())),
        Value::Keyword(s) => SyntaxKind::Keyword(Arc::from(s.as_str())),
        Value::Symbol(s) => SyntaxKind::Symbol(Arc::from(s.as_str())),
        Value::List(items) => SyntaxKind::List(seq(items)?),
        Value::Vector(items) => SyntaxKind::Vector(seq(items)?),
        Value::Set(s) => SyntaxKind::Set(
            s.iter()
                .map(|x| value_to_syntax(x, span, d))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => SyntaxKind::Map(
            m.iter()
                .map(|(k, v)| Ok((value_to_syntax(k, span, d)?, value_to_syntax(v, span, d)?)))
                .collect::<Result<_, RtError>>()?,
        ),
        Value::Timestamp(t) => SyntaxKind::Timestamp(Arc::from(t.as_str())),
        Value::Uuid(t) => SyntaxKind::Uuid(Arc::from(t.as_str())),
        Value::Resource(t) => SyntaxKind::ResourceHandle(Arc::from(t.as_str())),
        other => {
            return Err(RtError::new(
                rtfs_ir::error::kind::TYPE,
                format!(
                    "a macro returned a {} value, which is not code",
                    other.type_name()
                ),
            ));
        }
    };
    Ok(Syntax::new(kind, span))
}
