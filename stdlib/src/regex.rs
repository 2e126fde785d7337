//! Regular expressions (Rust `regex` syntax, linear time): `re-pattern re-find re-matches
//! re-seq re-split`. Patterns are strings; `re-pattern` validates one and returns it.
//! Arguments are Clojure-ordered: pattern first. A match is the matched string, or, when the
//! pattern has groups, a vector `[whole group1 ...]` (nil for groups that did not take part).

use std::cell::RefCell;
use std::collections::HashMap;

use ::regex::{Captures, Regex, RegexBuilder};
use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Seq, Value};

use crate::util::{args, check_size, string, vector};

const CACHE_MAX: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), Regex>> = RefCell::new(HashMap::new());
}

/// Compiles (or fetches from a small per-thread cache) `pattern`; `whole` anchors it to
/// the entire text.
fn compile(name: &str, pattern: &str, whole: bool) -> RtResult<Regex> {
    let key = (pattern.to_string(), whole);
    if let Some(re) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let source = if whole {
        format!(r"\A(?:{pattern})\z")
    } else {
        pattern.to_string()
    };
    let re = RegexBuilder::new(&source)
        .size_limit(4 << 20)
        .build()
        .map_err(|e| {
            RtError::new(
                kind::PARSE,
                format!("{name}: cannot parse regular expression {pattern:?}: {e}"),
            )
        })?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(key, re.clone());
    });
    Ok(re)
}

fn match_value(re: &Regex, caps: &Captures) -> Value {
    if re.captures_len() <= 1 {
        return caps.get(0).map_or(Value::Nil, |m| Value::str(m.as_str()));
    }
    vector(
        caps.iter()
            .map(|g| g.map_or(Value::Nil, |m| Value::str(m.as_str())))
            .collect(),
    )
}

/// `(re-pattern s)`: checks that s is a valid pattern and returns it.
pub fn re_pattern(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("re-pattern", args, [p]);
    compile("re-pattern", string("re-pattern", p)?, false)?;
    Ok(p.clone())
}

/// `(re-find re s)`: the first match in s, or nil.
pub fn re_find(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("re-find", args, [p, s]);
    let re = compile("re-find", string("re-find", p)?, false)?;
    if s.is_nil() {
        return Ok(Value::Nil);
    }
    let s = string("re-find", s)?;
    Ok(re.captures(s).map_or(Value::Nil, |c| match_value(&re, &c)))
}

/// `(re-matches re s)`: the match when the whole of s matches, else nil.
pub fn re_matches(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("re-matches", args, [p, s]);
    let re = compile("re-matches", string("re-matches", p)?, true)?;
    if s.is_nil() {
        return Ok(Value::Nil);
    }
    let s = string("re-matches", s)?;
    Ok(re.captures(s).map_or(Value::Nil, |c| match_value(&re, &c)))
}

/// `(re-seq re s)`: all successive matches, as a vector.
pub fn re_seq(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("re-seq", args, [p, s]);
    let re = compile("re-seq", string("re-seq", p)?, false)?;
    let mut out = Seq::new();
    if s.is_nil() {
        return Ok(vector(out));
    }
    let s = string("re-seq", s)?;
    for c in re.captures_iter(s) {
        out.push_back(match_value(&re, &c));
        check_size("re-seq", out.len())?;
    }
    Ok(vector(out))
}

/// `(re-split re s)`: s split around matches of re.
pub fn re_split(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("re-split", args, [p, s]);
    let re = compile("re-split", string("re-split", p)?, false)?;
    let s = string("re-split", s)?;
    let mut out = Seq::new();
    for part in re.split(s) {
        out.push_back(Value::str(part));
        check_size("re-split", out.len())?;
    }
    Ok(vector(out))
}

/// `(re-replace re s replacement)`: every match replaced (`$1` refers to groups).
pub fn re_replace(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("re-replace", args, [p, s, r]);
    let re = compile("re-replace", string("re-replace", p)?, false)?;
    let s = string("re-replace", s)?;
    let r = string("re-replace", r)?;
    let out = re.replace_all(s, r);
    check_size("re-replace", out.len())?;
    Ok(Value::str(out.into_owned()))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    #[test]
    fn finding() {
        assert_eq!(call("re-find", &[s(r"\d+"), s("abc 123 def 45")]), s("123"));
        assert_eq!(call("re-find", &[s(r"\d+"), s("abc")]), Value::Nil);
        assert_eq!(
            call("re-find", &[s(r"(\w+)@(\w+)"), s("x joe@site y")]),
            v([s("joe@site"), s("joe"), s("site")])
        );
        assert_eq!(call("re-find", &[s("a"), Value::Nil]), Value::Nil);
        assert_eq!(
            call("re-seq", &[s(r"\d"), s("a1b2é3")]),
            v([s("1"), s("2"), s("3")])
        );
        assert_eq!(call("re-matches", &[s(r"\d+"), s("123")]), s("123"));
        assert_eq!(call("re-matches", &[s(r"\d+"), s("123a")]), Value::Nil);
        assert_eq!(call("re-matches", &[s(r"a|ab"), s("ab")]), s("ab"));
        assert_eq!(
            call("re-split", &[s(r"\s*,\s*"), s("a , b,c")]),
            v([s("a"), s("b"), s("c")])
        );
        assert_eq!(
            call("re-replace", &[s(r"(\d)"), s("a1b2"), s("<$1>")]),
            s("a<1>b<2>")
        );
        assert_eq!(call("re-pattern", &[s("a+")]), s("a+"));
        assert_eq!(err_kind("re-pattern", &[s("(")]), "parse-error");
        assert_eq!(err_kind("re-find", &[i(1), s("a")]), "type-error");
    }
}
