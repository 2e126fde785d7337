//! The one `Value` type shared by the interpreter, the JIT helpers, the stdlib and the host.
//!
//! Every variant is at most one machine word of payload so a `Value` is 16 bytes: strings,
//! collections and functions sit behind an `Arc`. Values are `Send + Sync` so a host can move
//! them across threads and `parallel` can evaluate branches concurrently.

use std::sync::{Arc, Mutex};

use crate::error::{ErrorValue, RtError};
use crate::func::{Builtin, Closure, NativeFn};
use crate::map::Map;
use crate::set::Set;

/// An immutable, persistent sequence (used by both lists and vectors).
pub type Seq = imbl::Vector<Value>;

#[derive(Clone)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<String>),
    Keyword(Arc<String>),
    Symbol(Arc<String>),
    List(Arc<Seq>),
    Vector(Arc<Seq>),
    Map(Arc<Map>),
    Set(Arc<Set>),
    Fn(Arc<Closure>),
    Builtin(&'static Builtin),
    Native(Arc<NativeFn>),
    Error(Arc<ErrorValue>),
    Atom(Arc<Mutex<Value>>),
    /// Extended literals of spec 03: kept as their canonical text.
    Timestamp(Arc<String>),
    Uuid(Arc<String>),
    Resource(Arc<String>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Arc::new(s.into()))
    }
    pub fn keyword(s: impl Into<String>) -> Value {
        Value::Keyword(Arc::new(s.into()))
    }
    pub fn symbol(s: impl Into<String>) -> Value {
        Value::Symbol(Arc::new(s.into()))
    }
    pub fn vector(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Vector(Arc::new(items.into_iter().collect()))
    }
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(Arc::new(items.into_iter().collect()))
    }
    pub fn from_seq_vector(seq: Seq) -> Value {
        Value::Vector(Arc::new(seq))
    }
    pub fn map(entries: impl IntoIterator<Item = (Value, Value)>) -> Value {
        Value::Map(Arc::new(Map::from_entries(entries)))
    }
    pub fn set(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(Arc::new(Set::from_items(items)))
    }
    pub fn error(err: RtError) -> Value {
        Value::Error(err.0)
    }

    /// Only `nil` and `false` are falsy.
    #[inline]
    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn is_fn(&self) -> bool {
        matches!(self, Value::Fn(_) | Value::Builtin(_) | Value::Native(_))
    }

    /// The RTFS type name, as returned by `type-of`/`type-name` (without colon).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Keyword(_) => "keyword",
            Value::Symbol(_) => "symbol",
            Value::List(_) => "list",
            Value::Vector(_) => "vector",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Fn(_) | Value::Builtin(_) | Value::Native(_) => "function",
            Value::Error(_) => "error",
            Value::Atom(_) => "atom",
            Value::Timestamp(_) => "timestamp",
            Value::Uuid(_) => "uuid",
            Value::Resource(_) => "resource",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_keyword(&self) -> Option<&str> {
        match self {
            Value::Keyword(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// Lists and vectors both expose their elements as a sequence.
    pub fn as_seq(&self) -> Option<&Seq> {
        match self {
            Value::List(s) | Value::Vector(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::str(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::str(v)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::vector(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}
