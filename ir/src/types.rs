//! Type expressions (spec 13 and the capability-schema forms of spec 05): their
//! representation, how they are read from RTFS data (`:int`, `[:vector :int]`,
//! `[:map [:name :string] [:age :int {:optional true}]]`, …) and how they print back.
//!
//! One parser serves every place a type appears: annotations the compiler reads, `deftype`,
//! `(valid? T x)` at run time and the `:input-schema`/`:output-schema` of a capability. The
//! validator lives in `validate.rs`.

use std::fmt;
use std::sync::Arc;

use crate::value::Value;

/// Primitive (tag-only) types: checking one is a single tag test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prim {
    Int,
    Float,
    /// `Int | Float`.
    Number,
    String,
    Bool,
    Nil,
    Keyword,
    Symbol,
    /// Any callable (closure, built-in, host function).
    Fn,
    /// Any vector, list, map or set (no element type).
    AnyVector,
    AnyList,
    AnyMap,
    AnySet,
    Timestamp,
    Uuid,
    Resource,
}

impl Prim {
    pub fn name(self) -> &'static str {
        match self {
            Prim::Int => "int",
            Prim::Float => "float",
            Prim::Number => "number",
            Prim::String => "string",
            Prim::Bool => "bool",
            Prim::Nil => "nil",
            Prim::Keyword => "keyword",
            Prim::Symbol => "symbol",
            Prim::Fn => "fn",
            Prim::AnyVector => "vector",
            Prim::AnyList => "list",
            Prim::AnyMap => "map",
            Prim::AnySet => "set",
            Prim::Timestamp => "timestamp",
            Prim::Uuid => "uuid",
            Prim::Resource => "resource",
        }
    }

    /// The tag test.
    #[inline]
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            Prim::Int => matches!(v, Value::Int(_)),
            Prim::Float => matches!(v, Value::Float(_)),
            Prim::Number => matches!(v, Value::Int(_) | Value::Float(_)),
            Prim::String => matches!(v, Value::Str(_)),
            Prim::Bool => matches!(v, Value::Bool(_)),
            Prim::Nil => matches!(v, Value::Nil),
            Prim::Keyword => matches!(v, Value::Keyword(_)),
            Prim::Symbol => matches!(v, Value::Symbol(_)),
            Prim::Fn => v.is_fn(),
            Prim::AnyVector => matches!(v, Value::Vector(_)),
            Prim::AnyList => matches!(v, Value::List(_)),
            Prim::AnyMap => matches!(v, Value::Map(_)),
            Prim::AnySet => matches!(v, Value::Set(_)),
            Prim::Timestamp => matches!(v, Value::Timestamp(_)),
            Prim::Uuid => matches!(v, Value::Uuid(_)),
            Prim::Resource => matches!(v, Value::Resource(_)),
        }
    }
}

/// Comparison refinements: `[:> 0]`, `[:<= 10]`, `[:= :ok]`, `[:not= 0]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "=",
            CmpOp::Ne => "not=",
        }
    }
}

/// Which size a length refinement measures against its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Exactly,
    AtLeast,
    AtMost,
}

/// A constraint on a value that is not its shape.
#[derive(Clone, Debug)]
pub enum Refinement {
    Cmp(CmpOp, Value),
    /// `[:in-range lo hi]`, inclusive.
    InRange(Value, Value),
    /// `[:re "regex"]` / `[:matches-regex "…"]`: the pattern matches somewhere in a string.
    Re(Arc<regex::Regex>),
    /// `[:count n]`, `[:min-count n]`, `[:max-length n]`, …: characters of a string,
    /// elements of a collection. The name is kept for printing.
    Size(Bound, usize, &'static str),
    NonEmpty,
    HasKey(Value),
    /// A function (by name, resolved when checked) that must return a truthy value.
    Pred(Arc<str>),
    /// A function value written in the type data.
    PredValue(Value),
}

/// One field of a record type.
#[derive(Clone, Debug)]
pub struct Field {
    pub key: Value,
    pub ty: Type,
    pub optional: bool,
}

/// A type. `Named` refers to a `deftype` (or a predicate function) by name and is resolved
/// when a value is checked, so types may be recursive.
#[derive(Clone, Debug)]
pub enum Type {
    Any,
    Never,
    Prim(Prim),
    Vector(Box<Type>),
    List(Box<Type>),
    Set(Box<Type>),
    Tuple(Vec<Type>),
    /// `[:map [k T] …]`: the listed keys (required unless optional); other keys allowed.
    Record(Vec<Field>),
    /// `[:map-of K V]`: every key is a K and every value a V.
    MapOf(Box<Type>, Box<Type>),
    Or(Vec<Type>),
    And(Vec<Type>),
    Not(Box<Type>),
    Enum(Vec<Value>),
    Refine(Refinement),
    /// `[:=> [args] ret]`, `[:fn [args] ret]`: a callable accepting `params.len()` arguments
    /// (more with `rest`). Argument and result types are not checked on the value itself.
    Fn {
        params: Vec<Type>,
        rest: Option<Box<Type>>,
        ret: Box<Type>,
    },
    /// `[:array T [d1 d2 …]]`: nested vectors of T with the given shape (`?` = any length).
    Array(Box<Type>, Vec<Option<usize>>),
    Named(Arc<str>),
}

/// Why a piece of data is not a type expression.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeSyntaxError(pub String);

impl fmt::Display for TypeSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad<T>(msg: impl Into<String>) -> Result<T, TypeSyntaxError> {
    Err(TypeSyntaxError(msg.into()))
}

/// The primitive or builtin type a bare name stands for (`int`, `Integer`, `string?` …).
/// Type names are case-insensitive for the spec's capitalised spellings.
fn named_builtin(name: &str) -> Option<Type> {
    let t = match name.to_ascii_lowercase().as_str() {
        "int" | "integer" | "long" => Type::Prim(Prim::Int),
        "float" | "double" => Type::Prim(Prim::Float),
        "number" | "num" => Type::Prim(Prim::Number),
        "string" | "str" => Type::Prim(Prim::String),
        "bool" | "boolean" => Type::Prim(Prim::Bool),
        "nil" | "null" => Type::Prim(Prim::Nil),
        "keyword" => Type::Prim(Prim::Keyword),
        "symbol" => Type::Prim(Prim::Symbol),
        "fn" | "function" | "ifn" => Type::Prim(Prim::Fn),
        "vector" => Type::Prim(Prim::AnyVector),
        "list" => Type::Prim(Prim::AnyList),
        "map" => Type::Prim(Prim::AnyMap),
        "set" => Type::Prim(Prim::AnySet),
        "timestamp" => Type::Prim(Prim::Timestamp),
        "uuid" => Type::Prim(Prim::Uuid),
        "resource" => Type::Prim(Prim::Resource),
        "any" => Type::Any,
        "never" => Type::Never,
        _ => return None,
    };
    Some(t)
}

/// Whether `name` is the name of a builtin type (so an annotation, never a parameter).
pub fn is_builtin_type_name(name: &str) -> bool {
    let base = name.strip_suffix('?').unwrap_or(name);
    named_builtin(base).is_some()
}

fn nilable(t: Type) -> Type {
    Type::Or(vec![t, Type::Prim(Prim::Nil)])
}

/// A bare name: a builtin type, `T?` for `T | nil`, or a reference to a named type.
fn from_name(name: &str) -> Result<Type, TypeSyntaxError> {
    if let Some(t) = named_builtin(name) {
        return Ok(t);
    }
    if let Some(base) = name.strip_suffix('?')
        && !base.is_empty()
    {
        return Ok(nilable(from_name(base)?));
    }
    if name.is_empty() {
        return bad("an empty type name");
    }
    Ok(Type::Named(Arc::from(name)))
}

fn elements(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Vector(s) | Value::List(s) => Some(s.iter().cloned().collect()),
        _ => None,
    }
}

fn size_arg(head: &str, args: &[Value]) -> Result<usize, TypeSyntaxError> {
    match args {
        [Value::Int(n)] if *n >= 0 => Ok(*n as usize),
        _ => bad(format!(
            "[:{head} n] needs one non-negative integer, got {}",
            shown(args)
        )),
    }
}

fn shown(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(Value::pr_str).collect();
    format!("[{}]", parts.join(" "))
}

fn one_arg<'a>(head: &str, args: &'a [Value]) -> Result<&'a Value, TypeSyntaxError> {
    match args {
        [a] => Ok(a),
        _ => bad(format!("[:{head} …] takes exactly one argument")),
    }
}

fn regex_of(pattern: &str) -> Result<Type, TypeSyntaxError> {
    regex::Regex::new(pattern)
        .map(|r| Type::Refine(Refinement::Re(Arc::new(r))))
        .map_err(|e| TypeSyntaxError(format!("bad regular expression in type: {e}")))
}

impl Type {
    /// Reads a type expression written as RTFS data.
    pub fn from_value(v: &Value) -> Result<Type, TypeSyntaxError> {
        match v {
            Value::Keyword(k) | Value::Symbol(k) => from_name(k),
            Value::Nil => Ok(Type::Prim(Prim::Nil)),
            // `[:map {:name :string}]` writes a record as a map.
            Value::Map(m) => {
                let mut fields = Vec::with_capacity(m.len());
                for (k, t) in m.iter() {
                    fields.push(Field {
                        key: k.clone(),
                        ty: Type::from_value(t)?,
                        optional: false,
                    });
                }
                Ok(Type::Record(fields))
            }
            Value::Vector(_) | Value::List(_) => {
                let items = elements(v).unwrap_or_default();
                let Some((head, args)) = items.split_first() else {
                    return bad("an empty vector is not a type");
                };
                let head = match head {
                    Value::Keyword(k) | Value::Symbol(k) => k.as_str(),
                    other => {
                        return bad(format!(
                            "a compound type starts with a keyword such as :vector, got {}",
                            other.pr_str()
                        ));
                    }
                };
                compound(head, args)
            }
            Value::Fn(_) | Value::Builtin(_) | Value::Native(_) => {
                Ok(Type::Refine(Refinement::PredValue(v.clone())))
            }
            other => bad(format!("{} is not a type expression", other.pr_str())),
        }
    }

    /// Whether checking this type is a tag test (what the interpreter does inline).
    pub fn as_prim(&self) -> Option<Prim> {
        match self {
            Type::Prim(p) => Some(*p),
            _ => None,
        }
    }
}

fn one_type(head: &str, args: &[Value]) -> Result<Type, TypeSyntaxError> {
    match args {
        [] => Ok(Type::Any),
        [t] => Type::from_value(t),
        _ => bad(format!("[:{head} T] takes one element type")),
    }
}

fn cmp_op(head: &str) -> Option<CmpOp> {
    Some(match head {
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        "=" => CmpOp::Eq,
        "not=" | "!=" => CmpOp::Ne,
        _ => return None,
    })
}

fn types(args: &[Value]) -> Result<Vec<Type>, TypeSyntaxError> {
    args.iter().map(Type::from_value).collect()
}

fn compound(head: &str, args: &[Value]) -> Result<Type, TypeSyntaxError> {
    if let Some(op) = cmp_op(head) {
        return Ok(Type::Refine(Refinement::Cmp(
            op,
            one_arg(head, args)?.clone(),
        )));
    }
    let t = match head {
        "vector" | "sequential" => Type::Vector(Box::new(one_type(head, args)?)),
        "list" => Type::List(Box::new(one_type(head, args)?)),
        "set" => Type::Set(Box::new(one_type(head, args)?)),
        "tuple" => Type::Tuple(types(args)?),
        "map" => map_type(args)?,
        "map-of" => match args {
            [k, v] => Type::MapOf(
                Box::new(Type::from_value(k)?),
                Box::new(Type::from_value(v)?),
            ),
            _ => return bad("[:map-of K V] takes a key type and a value type"),
        },
        "or" | "union" => {
            if args.is_empty() {
                return bad(format!("[:{head} …] needs at least one type"));
            }
            Type::Or(types(args)?)
        }
        "and" | "refined" => {
            if args.is_empty() {
                return bad(format!("[:{head} …] needs at least one type"));
            }
            Type::And(types(args)?)
        }
        "not" => Type::Not(Box::new(Type::from_value(one_arg(head, args)?)?)),
        "maybe" | "optional" => nilable(Type::from_value(one_arg(head, args)?)?),
        "enum" => Type::Enum(args.to_vec()),
        "re" | "regex" | "matches-regex" => match one_arg(head, args)? {
            Value::Str(s) => regex_of(s)?,
            _ => return bad(format!("[:{head} \"pattern\"] needs a string")),
        },
        "count" | "length" => Type::Refine(Refinement::Size(
            Bound::Exactly,
            size_arg(head, args)?,
            name_of(head),
        )),
        "min-count" | "min-length" | "min" => Type::Refine(Refinement::Size(
            Bound::AtLeast,
            size_arg(head, args)?,
            name_of(head),
        )),
        "max-count" | "max-length" | "max" => Type::Refine(Refinement::Size(
            Bound::AtMost,
            size_arg(head, args)?,
            name_of(head),
        )),
        "non-empty" if args.is_empty() => Type::Refine(Refinement::NonEmpty),
        "in-range" => match args {
            [lo, hi] => Type::Refine(Refinement::InRange(lo.clone(), hi.clone())),
            _ => return bad("[:in-range lo hi] takes two bounds"),
        },
        "has-key" => Type::Refine(Refinement::HasKey(one_arg(head, args)?.clone())),
        "required-keys" => match args {
            [keys] => Type::And(
                elements(keys)
                    .ok_or_else(|| TypeSyntaxError("[:required-keys [k …]] needs a vector".into()))?
                    .into_iter()
                    .map(|k| Type::Refine(Refinement::HasKey(k)))
                    .collect(),
            ),
            _ => return bad("[:required-keys [k …]] takes one vector of keys"),
        },
        "is-url" if args.is_empty() => regex_of(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s]+$")?,
        "is-email" if args.is_empty() => regex_of(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")?,
        "pred" => match one_arg(head, args)? {
            Value::Symbol(s) | Value::Keyword(s) => {
                Type::Refine(Refinement::Pred(Arc::from(s.as_str())))
            }
            v if v.is_fn() => Type::Refine(Refinement::PredValue(v.clone())),
            _ => return bad("[:pred f] needs a function name"),
        },
        "=>" | "fn" | "function" => fn_type(head, args)?,
        "array" => array_type(args)?,
        _ => return bad(format!("unknown type constructor :{head}")),
    };
    Ok(t)
}

fn name_of(head: &str) -> &'static str {
    match head {
        "count" => "count",
        "length" => "length",
        "min-count" => "min-count",
        "min-length" => "min-length",
        "min" => "min",
        "max-count" => "max-count",
        "max-length" => "max-length",
        _ => "max",
    }
}

/// `[:map]` any map; `[:map {k T}]` and `[:map [k T] [k {:optional true} T] [k T {…}]]`
/// records; `[:map K V]` (two plain types) a dictionary, as spec 05 writes it.
fn map_type(args: &[Value]) -> Result<Type, TypeSyntaxError> {
    match args {
        [] => return Ok(Type::Prim(Prim::AnyMap)),
        [m @ Value::Map(_)] => return Type::from_value(m),
        [k, v] if elements(k).is_none() && elements(v).is_none() => {
            return Ok(Type::MapOf(
                Box::new(Type::from_value(k)?),
                Box::new(Type::from_value(v)?),
            ));
        }
        _ => {}
    }
    let mut fields = Vec::with_capacity(args.len());
    for entry in args {
        let Some(parts) = elements(entry) else {
            return bad(format!(
                "a record field is [key type], got {}",
                entry.pr_str()
            ));
        };
        let (key, rest) = match parts.split_first() {
            Some((k, rest)) if !rest.is_empty() => (k.clone(), rest),
            _ => {
                return bad(format!(
                    "a record field is [key type], got {}",
                    entry.pr_str()
                ));
            }
        };
        let optional_in = |m: &Value| {
            if let Value::Map(m) = m {
                m.get(&Value::keyword("optional"))
                    .is_some_and(Value::truthy)
            } else {
                false
            }
        };
        let (ty, optional) = match rest {
            [t] => (t, false),
            [props @ Value::Map(_), t] => (t, optional_in(props)),
            [t, props @ Value::Map(_)] => (t, optional_in(props)),
            _ => {
                return bad(format!(
                    "a record field is [key type] or [key type {{:optional true}}], got {}",
                    entry.pr_str()
                ));
            }
        };
        fields.push(Field {
            key,
            ty: Type::from_value(ty)?,
            optional,
        });
    }
    Ok(Type::Record(fields))
}

fn fn_type(head: &str, args: &[Value]) -> Result<Type, TypeSyntaxError> {
    let (params, ret) = match args {
        [p, r] => (p, r),
        _ => return bad(format!("[:{head} [arg-types] return-type] takes two parts")),
    };
    let mut items = elements(params).ok_or_else(|| {
        TypeSyntaxError(format!(
            "[:{head} [arg-types] ret]: the arguments are a vector"
        ))
    })?;
    // Malli writes the arguments as `[:cat T …]`.
    if items.first().and_then(Value::as_keyword) == Some("cat") {
        items.remove(0);
    }
    let mut fixed = Vec::new();
    let mut rest = None;
    let mut i = 0;
    while i < items.len() {
        if matches!(&items[i], Value::Symbol(s) if s.as_str() == "&") {
            let r = items.get(i + 1).ok_or_else(|| {
                TypeSyntaxError("`&` in a function type needs a type after it".into())
            })?;
            rest = Some(Box::new(Type::from_value(r)?));
            break;
        }
        fixed.push(Type::from_value(&items[i])?);
        i += 1;
    }
    Ok(Type::Fn {
        params: fixed,
        rest,
        ret: Box::new(Type::from_value(ret)?),
    })
}

fn array_type(args: &[Value]) -> Result<Type, TypeSyntaxError> {
    let (elem, shape) = match args {
        [e] => (e, None),
        [e, s] => (e, Some(s)),
        _ => return bad("[:array T [dims]] takes an element type and a shape"),
    };
    let dims = match shape.map(elements) {
        None => vec![None],
        Some(None) => return bad("[:array T [dims]]: the shape is a vector"),
        Some(Some(d)) => d
            .iter()
            .map(|d| match d {
                Value::Int(n) if *n >= 0 => Ok(Some(*n as usize)),
                Value::Symbol(s) if s.as_str() == "?" => Ok(None),
                other => bad(format!(
                    "an array dimension is a size or ?, got {}",
                    other.pr_str()
                )),
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Type::Array(Box::new(Type::from_value(elem)?), dims))
}

fn write_all(f: &mut fmt::Formatter<'_>, head: &str, ts: &[Type]) -> fmt::Result {
    write!(f, "[:{head}")?;
    for t in ts {
        write!(f, " {t}")?;
    }
    f.write_str("]")
}

impl fmt::Display for Type {
    /// The RTFS spelling of the type, as a program would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str(":any"),
            Type::Never => f.write_str(":never"),
            Type::Prim(p) => write!(f, ":{}", p.name()),
            Type::Vector(t) => write!(f, "[:vector {t}]"),
            Type::List(t) => write!(f, "[:list {t}]"),
            Type::Set(t) => write!(f, "[:set {t}]"),
            Type::Tuple(ts) => write_all(f, "tuple", ts),
            Type::Record(fields) => {
                f.write_str("[:map")?;
                for fl in fields {
                    write!(f, " [{} {}", fl.key.pr_str(), fl.ty)?;
                    if fl.optional {
                        f.write_str(" {:optional true}")?;
                    }
                    f.write_str("]")?;
                }
                f.write_str("]")
            }
            Type::MapOf(k, v) => write!(f, "[:map-of {k} {v}]"),
            Type::Or(ts) => write_all(f, "or", ts),
            Type::And(ts) => write_all(f, "and", ts),
            Type::Not(t) => write!(f, "[:not {t}]"),
            Type::Enum(vs) => {
                f.write_str("[:enum")?;
                for v in vs {
                    write!(f, " {}", v.pr_str())?;
                }
                f.write_str("]")
            }
            Type::Refine(r) => match r {
                Refinement::Cmp(op, v) => write!(f, "[:{} {}]", op.name(), v.pr_str()),
                Refinement::InRange(lo, hi) => {
                    write!(f, "[:in-range {} {}]", lo.pr_str(), hi.pr_str())
                }
                Refinement::Re(r) => write!(f, "[:re {}]", Value::str(r.as_str()).pr_str()),
                Refinement::Size(_, n, name) => write!(f, "[:{name} {n}]"),
                Refinement::NonEmpty => f.write_str("[:non-empty]"),
                Refinement::HasKey(k) => write!(f, "[:has-key {}]", k.pr_str()),
                Refinement::Pred(name) => f.write_str(name),
                Refinement::PredValue(v) => f.write_str(&v.pr_str()),
            },
            Type::Fn { params, rest, ret } => {
                f.write_str("[:=> [")?;
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{p}")?;
                }
                if let Some(r) = rest {
                    if !params.is_empty() {
                        f.write_str(" ")?;
                    }
                    write!(f, "& {r}")?;
                }
                write!(f, "] {ret}]")
            }
            Type::Array(t, dims) => {
                write!(f, "[:array {t} [")?;
                for (i, d) in dims.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match d {
                        Some(n) => write!(f, "{n}")?,
                        None => f.write_str("?")?,
                    }
                }
                f.write_str("]]")
            }
            Type::Named(n) => f.write_str(n),
        }
    }
}
