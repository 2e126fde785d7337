//! Checking a value against a [`Type`], reporting where it fails as a value path
//! (`xs[1]: expected :int, got "a"`).
//!
//! Named types and predicate functions are reached through [`TypeEnv`], which the
//! interpreter (and any other evaluator) supplies; the validator itself runs no code.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::{RtError, RtResult, kind};
use crate::types::{Bound, CmpOp, Refinement, Type};
use crate::value::Value;

/// What validation needs from the evaluator.
pub trait TypeEnv {
    /// The value a name in a type refers to: a `deftype`'s type data, or a function used as
    /// a predicate; `None` if nothing by that name is defined.
    fn lookup(&mut self, name: &str) -> Option<Value>;
    /// Calls a predicate function on a value.
    fn call(&mut self, f: &Value, arg: &Value) -> RtResult<Value>;
}

/// Where and why a value does not have a type.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// `xs[1]`, `user[:name]`; empty for the value itself.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Named types more deeply nested than this (without reaching a value) are an error:
/// `(deftype A A)` must not loop.
const MAX_DEPTH: u32 = 400;

/// A value printed for an error message, shortened.
pub fn shown(v: &Value) -> String {
    let s = v.pr_str();
    if s.chars().count() > 60 {
        let head: String = s.chars().take(57).collect();
        format!("{head}...")
    } else {
        s
    }
}

/// Checks `v` against `t`; `root` names the value in the report (a parameter name, or
/// empty). `Ok(None)` when it conforms; an `Err` when a predicate fails to run or a named
/// type is undefined.
pub fn check(t: &Type, v: &Value, root: &str, env: &mut dyn TypeEnv) -> RtResult<Option<Mismatch>> {
    if let Type::Prim(p) = t {
        return Ok((!p.accepts(v)).then(|| Mismatch {
            path: root.to_string(),
            message: format!("expected :{}, got {}", p.name(), shown(v)),
        }));
    }
    let mut cx = Checker {
        env,
        cache: HashMap::new(),
        depth: 0,
    };
    let mut path = root.to_string();
    cx.check(t, v, &mut path)
}

/// Whether `v` has type `t` (no report).
pub fn conforms(t: &Type, v: &Value, env: &mut dyn TypeEnv) -> RtResult<bool> {
    Ok(check(t, v, "", env)?.is_none())
}

/// A `type-error` for a mismatch, with the context (`parameter x of f`) before it.
pub fn type_error(context: &str, m: &Mismatch) -> RtError {
    if context.is_empty() {
        RtError::new(kind::TYPE, m.to_string())
    } else {
        RtError::new(kind::TYPE, format!("{context}: {m}"))
    }
}

struct Checker<'e> {
    env: &'e mut dyn TypeEnv,
    cache: HashMap<Arc<str>, Arc<Type>>,
    depth: u32,
}

fn mismatch(path: &str, t: &Type, v: &Value) -> Option<Mismatch> {
    Some(Mismatch {
        path: path.to_string(),
        message: format!("expected {t}, got {}", shown(v)),
    })
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn ordering(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => num(a)?.partial_cmp(&num(b)?),
    }
}

fn size(v: &Value) -> Option<usize> {
    match v {
        Value::Str(s) => Some(s.chars().count()),
        Value::Vector(s) | Value::List(s) => Some(s.len()),
        Value::Map(m) => Some(m.len()),
        Value::Set(s) => Some(s.len()),
        Value::Nil => Some(0),
        _ => None,
    }
}

fn num_eq(a: &Value, b: &Value) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl Checker<'_> {
    fn check(&mut self, t: &Type, v: &Value, path: &mut String) -> RtResult<Option<Mismatch>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RtError::new(
                kind::TYPE,
                format!("type {t} nests too deeply (a named type that refers only to itself?)"),
            ));
        }
        let r = self.check_inner(t, v, path);
        self.depth -= 1;
        r
    }

    fn elems(
        &mut self,
        t: &Type,
        items: impl Iterator<Item = Value>,
        path: &mut String,
        key_style: bool,
    ) -> RtResult<Option<Mismatch>> {
        for (i, item) in items.enumerate() {
            let len = path.len();
            if key_style {
                path.push_str(&format!("[{}]", shown(&item)));
            } else {
                path.push_str(&format!("[{i}]"));
            }
            let r = self.check(t, &item, path)?;
            path.truncate(len);
            if r.is_some() {
                return Ok(r);
            }
        }
        Ok(None)
    }

    fn check_inner(
        &mut self,
        t: &Type,
        v: &Value,
        path: &mut String,
    ) -> RtResult<Option<Mismatch>> {
        match t {
            Type::Any => Ok(None),
            Type::Never => Ok(mismatch(path, t, v)),
            Type::Prim(p) => Ok((!p.accepts(v)).then(|| mismatch(path, t, v)).flatten()),
            Type::Vector(et) => match v {
                Value::Vector(s) => self.elems(et, s.iter().cloned(), path, false),
                _ => Ok(mismatch(path, t, v)),
            },
            Type::List(et) => match v {
                Value::List(s) => self.elems(et, s.iter().cloned(), path, false),
                _ => Ok(mismatch(path, t, v)),
            },
            Type::Set(et) => match v {
                Value::Set(s) => {
                    let items: Vec<Value> = s.iter().cloned().collect();
                    self.elems(et, items.into_iter(), path, true)
                }
                _ => Ok(mismatch(path, t, v)),
            },
            Type::Tuple(ts) => match v {
                Value::Vector(s) | Value::List(s) if s.len() == ts.len() => {
                    for (i, (et, item)) in ts.iter().zip(s.iter()).enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        let r = self.check(et, item, path)?;
                        path.truncate(len);
                        if r.is_some() {
                            return Ok(r);
                        }
                    }
                    Ok(None)
                }
                _ => Ok(mismatch(path, t, v)),
            },
            Type::Record(fields) => {
                let Value::Map(m) = v else {
                    return Ok(mismatch(path, t, v));
                };
                for fl in fields {
                    let len = path.len();
                    path.push_str(&format!("[{}]", fl.key.pr_str()));
                    let r = match m.get(&fl.key) {
                        Some(item) => self.check(&fl.ty, item, path)?,
                        None if fl.optional => None,
                        // A missing key reads as nil: a nilable field may be left out.
                        None => self.check(&fl.ty, &Value::Nil, path)?.map(|_| Mismatch {
                            path: path[..len].to_string(),
                            message: format!("missing required key {}", fl.key.pr_str()),
                        }),
                    };
                    path.truncate(len);
                    if r.is_some() {
                        return Ok(r);
                    }
                }
                Ok(None)
            }
            Type::MapOf(kt, vt) => {
                let Value::Map(m) = v else {
                    return Ok(mismatch(path, t, v));
                };
                let entries: Vec<(Value, Value)> =
                    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                for (k, item) in entries {
                    let len = path.len();
                    path.push_str(&format!("[{}]", shown(&k)));
                    if let Some(mut r) = self.check(kt, &k, path)? {
                        r.message = format!("key {}", r.message);
                        return Ok(Some(r));
                    }
                    let r = self.check(vt, &item, path)?;
                    path.truncate(len);
                    if r.is_some() {
                        return Ok(r);
                    }
                }
                Ok(None)
            }
            Type::Or(ts) => {
                for alt in ts {
                    if self.check(alt, v, path)?.is_none() {
                        return Ok(None);
                    }
                }
                Ok(mismatch(path, t, v))
            }
            Type::And(ts) => {
                for part in ts {
                    if let Some(r) = self.check(part, v, path)? {
                        // A failed refinement reads better against the whole type.
                        return Ok(if matches!(part, Type::Refine(_)) {
                            mismatch(path, t, v)
                        } else {
                            Some(r)
                        });
                    }
                }
                Ok(None)
            }
            Type::Not(inner) => Ok(if self.check(inner, v, path)?.is_none() {
                mismatch(path, t, v)
            } else {
                None
            }),
            Type::Enum(vs) => Ok((!vs.iter().any(|e| e == v))
                .then(|| mismatch(path, t, v))
                .flatten()),
            Type::Refine(r) => {
                let ok = self.refinement(r, v)?;
                Ok((!ok).then(|| mismatch(path, t, v)).flatten())
            }
            Type::Fn { params, rest, .. } => {
                let ok = match v {
                    Value::Fn(c) => c.lambda.arity_for(params.len()).is_some(),
                    Value::Builtin(b) => b.accepts(params.len()),
                    Value::Native(n) => {
                        params.len() >= n.min_args as usize
                            && (n.max_args == crate::func::VARIADIC
                                || params.len() <= n.max_args as usize)
                    }
                    // Keywords, maps, sets and vectors are callable with one argument.
                    Value::Keyword(_) | Value::Map(_) | Value::Set(_) | Value::Vector(_) => {
                        params.len() == 1 && rest.is_none()
                    }
                    _ => false,
                };
                Ok((!ok).then(|| mismatch(path, t, v)).flatten())
            }
            Type::Array(et, dims) => self.array(t, et, dims, v, path),
            Type::Named(name) => match self.resolve(name)? {
                Resolved::Type(rt) => self.check(&rt, v, path),
                Resolved::Pred(f) => {
                    let ok = self.env.call(&f, v)?.truthy();
                    Ok((!ok).then(|| mismatch(path, t, v)).flatten())
                }
            },
        }
    }

    fn array(
        &mut self,
        whole: &Type,
        et: &Type,
        dims: &[Option<usize>],
        v: &Value,
        path: &mut String,
    ) -> RtResult<Option<Mismatch>> {
        let Some((d, more)) = dims.split_first() else {
            return self.check(et, v, path);
        };
        let Value::Vector(s) = v else {
            return Ok(mismatch(path, whole, v));
        };
        if d.is_some_and(|n| n != s.len()) {
            return Ok(mismatch(path, whole, v));
        }
        for (i, item) in s.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let r = self.array(whole, et, more, item, path)?;
            path.truncate(len);
            if r.is_some() {
                return Ok(r);
            }
        }
        Ok(None)
    }

    fn refinement(&mut self, r: &Refinement, v: &Value) -> RtResult<bool> {
        Ok(match r {
            Refinement::Cmp(CmpOp::Eq, x) => num_eq(v, x),
            Refinement::Cmp(CmpOp::Ne, x) => !num_eq(v, x),
            Refinement::Cmp(op, x) => match ordering(v, x) {
                Some(o) => match op {
                    CmpOp::Gt => o.is_gt(),
                    CmpOp::Ge => o.is_ge(),
                    CmpOp::Lt => o.is_lt(),
                    _ => o.is_le(),
                },
                None => false,
            },
            Refinement::InRange(lo, hi) => {
                ordering(v, lo).is_some_and(|o| o.is_ge())
                    && ordering(v, hi).is_some_and(|o| o.is_le())
            }
            Refinement::Re(re) => v.as_str().is_some_and(|s| re.is_match(s)),
            Refinement::Size(bound, n, _) => size(v).is_some_and(|len| match bound {
                Bound::Exactly => len == *n,
                Bound::AtLeast => len >= *n,
                Bound::AtMost => len <= *n,
            }),
            Refinement::NonEmpty => size(v).is_some_and(|n| n > 0),
            Refinement::HasKey(k) => matches!(v, Value::Map(m) if m.contains_key(k)),
            Refinement::Pred(name) => match self.env.lookup(name) {
                Some(f) if f.is_fn() => self.env.call(&f, v)?.truthy(),
                _ => {
                    return Err(RtError::new(
                        kind::TYPE,
                        format!("`{name}` in a type is not a defined function"),
                    ));
                }
            },
            Refinement::PredValue(f) => self.env.call(f, v)?.truthy(),
        })
    }

    fn resolve(&mut self, name: &Arc<str>) -> RtResult<Resolved> {
        if let Some(t) = self.cache.get(name) {
            return Ok(Resolved::Type(t.clone()));
        }
        let Some(def) = self.env.lookup(name) else {
            return Err(RtError::new(
                kind::TYPE,
                format!("unknown type `{name}` (define it with deftype)"),
            ));
        };
        if def.is_fn() {
            return Ok(Resolved::Pred(def));
        }
        let t = Arc::new(
            Type::from_value(&def)
                .map_err(|e| RtError::new(kind::TYPE, format!("`{name}` is not a type: {e}")))?,
        );
        self.cache.insert(name.clone(), t.clone());
        Ok(Resolved::Type(t))
    }
}

enum Resolved {
    Type(Arc<Type>),
    Pred(Value),
}
