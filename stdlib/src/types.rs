//! Types as values (spec 13): `(type x)`, `(valid? T x)`, `(instance? T x)` and
//! `check-type`, the check that `let`/`def` annotations and `assert-type` compile to.
//! A type argument is type data (`:int`, `[:vector :int]`, a `deftype`'s value).

use rtfs_ir::types::Type;
use rtfs_ir::validate::{self, TypeEnv};
use rtfs_ir::{Env, RtError, RtResult, Value};

use crate::util::args;

/// Resolves the names in a type through the evaluator's globals, then the built-ins.
struct Resolver<'e>(&'e mut dyn Env);

impl TypeEnv for Resolver<'_> {
    fn lookup(&mut self, name: &str) -> Option<Value> {
        self.0
            .global_named(name)
            .or_else(|| crate::registry::lookup(name).map(Value::Builtin))
    }

    fn call(&mut self, f: &Value, arg: &Value) -> RtResult<Value> {
        self.0.apply(f, std::slice::from_ref(arg))
    }
}

fn type_arg(name: &str, t: &Value) -> RtResult<Type> {
    Type::from_value(t).map_err(|e| {
        RtError::new(
            rtfs_ir::error::kind::TYPE,
            format!("{name}: {} is not a type: {e}", validate::shown(t)),
        )
    })
}

/// `(type x)`: the type of a value as a keyword, like `type-of`.
pub fn type_kw(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("type", args, [a]);
    Ok(Value::keyword(crate::predicates::type_names(a).0))
}

/// `(valid? T x)` / `(instance? T x)`: whether `x` has type `T`.
pub fn valid_p(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("valid?", args, [t, v]);
    let t = type_arg("valid?", t)?;
    Ok(Value::Bool(validate::conforms(&t, v, &mut Resolver(env))?))
}

/// `(check-type T x)` / `(check-type T x "name")`: `x`, or a `type-error` naming where it
/// differs from `T` (`xs[1]: expected :int, got "a"`).
pub fn check_type(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (t, v, name) = match args {
        [t, v] => (t, v, ""),
        [t, v, Value::Str(n)] => (t, v, n.as_str()),
        _ => return Err(crate::util::arity("check-type", args.len())),
    };
    let ty = type_arg("check-type", t)?;
    match validate::check(&ty, v, name, &mut Resolver(env))? {
        None => Ok(v.clone()),
        Some(m) => Err(validate::type_error("", &m)),
    }
}

#[cfg(test)]
mod tests {
    use crate::testenv::{call, err_kind};
    use rtfs_ir::Value;

    fn kw(s: &str) -> Value {
        Value::keyword(s)
    }
    fn v(items: Vec<Value>) -> Value {
        Value::vector(items)
    }

    #[test]
    fn valid_checks_structure_and_refinements() {
        let ints = v(vec![kw("vector"), kw("int")]);
        assert_eq!(
            call(
                "valid?",
                &[ints.clone(), v(vec![Value::Int(1), Value::Int(2)])]
            ),
            Value::Bool(true)
        );
        assert_eq!(
            call("valid?", &[ints, v(vec![Value::Int(1), Value::str("a")])]),
            Value::Bool(false)
        );
        let pos = v(vec![kw("and"), kw("int"), v(vec![kw(">"), Value::Int(0)])]);
        assert_eq!(
            call("valid?", &[pos.clone(), Value::Int(3)]),
            Value::Bool(true)
        );
        assert_eq!(call("valid?", &[pos, Value::Int(0)]), Value::Bool(false));
        assert_eq!(call("type", &[Value::Int(1)]), kw("int"));
    }

    #[test]
    fn check_type_reports_the_path() {
        let ints = v(vec![kw("vector"), kw("int")]);
        let Err(e) = crate::testenv::try_call(
            "check-type",
            &[
                ints,
                v(vec![Value::Int(1), Value::str("a")]),
                Value::str("xs"),
            ],
        ) else {
            panic!("check-type accepted a bad vector");
        };
        assert_eq!(e.0.kind, "type-error");
        assert_eq!(e.0.message, "xs[1]: expected :int, got \"a\"");
        assert_eq!(
            err_kind("valid?", &[v(vec![kw("bogus")]), Value::Int(1)]),
            "type-error"
        );
    }
}
