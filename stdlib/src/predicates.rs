//! Type predicates (`nil? int? string? map? fn? ...`), `empty?`, `type-of` and `type-name`.

use rtfs_ir::{Env, RtResult, Value};

use crate::util::{args, call1, items, type_err};

macro_rules! type_pred {
    ($fname:ident, $name:expr, $pat:pat) => {
        pub fn $fname(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
            args!($name, args, [a]);
            Ok(Value::Bool(matches!(a, $pat)))
        }
    };
}

type_pred!(nil_p, "nil?", Value::Nil);
type_pred!(true_p, "true?", Value::Bool(true));
type_pred!(false_p, "false?", Value::Bool(false));
type_pred!(bool_p, "bool?", Value::Bool(_));
type_pred!(int_p, "int?", Value::Int(_));
type_pred!(float_p, "float?", Value::Float(_));
type_pred!(number_p, "number?", Value::Int(_) | Value::Float(_));
type_pred!(string_p, "string?", Value::Str(_));
type_pred!(keyword_p, "keyword?", Value::Keyword(_));
type_pred!(symbol_p, "symbol?", Value::Symbol(_));
type_pred!(vector_p, "vector?", Value::Vector(_));
type_pred!(list_p, "list?", Value::List(_));
type_pred!(map_p, "map?", Value::Map(_));
type_pred!(set_p, "set?", Value::Set(_));
type_pred!(
    coll_p,
    "coll?",
    Value::List(_) | Value::Vector(_) | Value::Map(_) | Value::Set(_)
);
type_pred!(seq_p, "seq?", Value::List(_));
type_pred!(
    sequential_p,
    "sequential?",
    Value::List(_) | Value::Vector(_)
);
type_pred!(
    fn_p,
    "fn?",
    Value::Fn(_) | Value::Builtin(_) | Value::Native(_)
);
type_pred!(atom_p, "atom?", Value::Atom(_));
type_pred!(error_p, "error?", Value::Error(_));

/// `(some? x)`: x is not nil. `(some? pred coll)` (the older RTFS form): does any element
/// satisfy pred? Returns a boolean.
pub fn some_p(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [a] => Ok(Value::Bool(!a.is_nil())),
        [pred, coll] => {
            let xs = items("some?", coll)?;
            for x in xs.seq().iter() {
                if call1(env, pred, x)?.truthy() {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        _ => Err(crate::util::arity("some?", args.len())),
    }
}

/// `(empty? x)`: true for nil and empty collections or strings; other types are an error.
pub fn empty_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("empty?", args, [a]);
    Ok(Value::Bool(match a {
        Value::Nil => true,
        Value::List(s) | Value::Vector(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Str(s) => s.is_empty(),
        _ => return Err(type_err("empty?", "a collection", a)),
    }))
}

/// `(boolean x)` / `(bool x)`: truthiness as a boolean.
pub fn boolean(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("boolean", args, [a]);
    Ok(Value::Bool(a.truthy()))
}

/// The `type-of` keyword name and the `type-name` string of a value (semantics note §2).
pub fn type_names(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::Nil => ("nil", "nil"),
        Value::Bool(_) => ("bool", "boolean"),
        Value::Int(_) => ("int", "integer"),
        Value::Float(_) => ("float", "float"),
        Value::Str(_) => ("string", "string"),
        Value::Keyword(_) => ("keyword", "keyword"),
        Value::Symbol(_) => ("symbol", "symbol"),
        Value::List(_) => ("list", "list"),
        Value::Vector(_) => ("vector", "vector"),
        Value::Map(_) => ("map", "map"),
        Value::Set(_) => ("set", "set"),
        Value::Fn(_) | Value::Builtin(_) | Value::Native(_) => ("fn", "function"),
        Value::Error(_) => ("error", "error"),
        Value::Atom(_) => ("atom", "atom"),
        Value::Timestamp(_) => ("timestamp", "timestamp"),
        Value::Uuid(_) => ("uuid", "uuid"),
        Value::Resource(_) => ("resource", "resource"),
    }
}

/// `(type-of x)`: the type as a keyword: `:nil :bool :int :float :string :keyword :symbol
/// :list :vector :map :set :fn :error :atom`.
pub fn type_of(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("type-of", args, [a]);
    Ok(Value::keyword(type_names(a).0))
}

/// `(type-name x)`: the type as a string: `"nil" "boolean" "integer" "float" "string"
/// "keyword" "symbol" "list" "vector" "map" "set" "function" "error" "atom"`.
pub fn type_name(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("type-name", args, [a]);
    Ok(Value::str(type_names(a).1))
}

/// `(not-empty coll)`: coll, or nil when it is empty.
pub fn not_empty(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("not-empty", args, [a]);
    let empty = match a {
        Value::Nil => true,
        Value::List(s) | Value::Vector(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Str(s) => s.is_empty(),
        _ => return Err(type_err("not-empty", "a collection", a)),
    };
    Ok(if empty { Value::Nil } else { a.clone() })
}

/// `(doc f)`: the docstring of a function (`(defn f "doc" …)` or `^{:doc "…"}`), or for a
/// built-in its name and arity; nil for a function without one.
pub fn doc(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("doc", args, [f]);
    match f {
        Value::Fn(c) => Ok(match &c.lambda.meta {
            Value::Map(m) => m.get(&Value::keyword("doc")).cloned().unwrap_or(Value::Nil),
            _ => Value::Nil,
        }),
        Value::Builtin(b) => Ok(Value::str(format!(
            "{}: built-in function taking {} argument(s)",
            b.name,
            b.arity_text()
        ))),
        Value::Native(n) => Ok(Value::str(format!("{}: host function", n.name))),
        other => Err(crate::util::type_err("doc", "a function", other)),
    }
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    #[test]
    fn type_predicates() {
        assert_eq!(call("nil?", &[Value::Nil]), b(true));
        assert_eq!(call("some?", &[Value::Nil]), b(false));
        assert_eq!(call("some?", &[b(false)]), b(true));
        assert_eq!(call("int?", &[i(1)]), b(true));
        assert_eq!(call("integer?", &[f(1.0)]), b(false));
        assert_eq!(call("number?", &[f(1.0)]), b(true));
        assert_eq!(call("string?", &[s("")]), b(true));
        assert_eq!(call("keyword?", &[kw("a")]), b(true));
        assert_eq!(call("vector?", &[ints(&[])]), b(true));
        assert_eq!(call("list?", &[ints(&[])]), b(false));
        assert_eq!(call("map?", &[m(&[])]), b(true));
        assert_eq!(call("coll?", &[s("a")]), b(false));
        assert_eq!(call("fn?", &[func("inc")]), b(true));
        assert_eq!(call("boolean?", &[b(false)]), b(true));
        assert_eq!(call("true?", &[i(1)]), b(false));
    }

    #[test]
    fn some_with_predicate() {
        assert_eq!(call("some?", &[func("even?"), ints(&[1, 3, 4])]), b(true));
        assert_eq!(call("some?", &[func("even?"), ints(&[1, 3])]), b(false));
    }

    #[test]
    fn emptiness_and_types() {
        assert_eq!(call("empty?", &[Value::Nil]), b(true));
        assert_eq!(call("empty?", &[s("")]), b(true));
        assert_eq!(call("empty?", &[ints(&[1])]), b(false));
        assert_eq!(err_kind("empty?", &[i(1)]), "type-error");
        assert_eq!(call("not-empty", &[ints(&[])]), Value::Nil);
        assert_eq!(call("type-of", &[i(1)]), kw("int"));
        assert_eq!(call("type-of", &[func("inc")]), kw("fn"));
        assert_eq!(call("type-of", &[b(true)]), kw("bool"));
        assert_eq!(call("type-name", &[i(1)]), s("integer"));
        assert_eq!(call("type-name", &[b(true)]), s("boolean"));
        assert_eq!(call("type-name", &[func("inc")]), s("function"));
        assert_eq!(call("type-name", &[s("x")]), s("string"));
        assert_eq!(call("type-name", &[m(&[])]), s("map"));
    }
}
