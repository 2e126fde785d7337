//! JSON: `parse-json` (aliases `json/parse`, `tool/parse-json`) and `to-json` (aliases
//! `json/stringify`, `serialize-json`, `tool/serialize-json`), plus pretty variants.
//!
//! Parsing: objects become maps with keyword keys, in document order; arrays vectors;
//! integers that fit i64 ints; other numbers floats; null nil. Invalid JSON (or nesting
//! deeper than 128) is a `parse-error`.
//!
//! Writing: compact, maps in iteration order; keyword and symbol keys/values are written as
//! their name (no colon), other keys by their display form; lists, vectors and sets are
//! arrays; an error value is `{"type": …, "message": …, "data": …}`. Functions, atoms and
//! NaN/infinite floats are a `type-error`.

use std::fmt;
use std::sync::Arc;

use rtfs_ir::error::kind;
use rtfs_ir::{Env, Map, RtError, RtResult, Seq, Value};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::util::{MAX_DEPTH, args, check_size, depth_err, string, vector};

// ---------------------------------------------------------------------------------------
// parsing: a serde visitor that builds values directly, keeping object key order

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Value, E> {
        Ok(Value::Float(x))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::str(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Seq::new();
        while let Some(v) = seq.next_element_seed(ValueSeed)? {
            out.push_back(v);
        }
        Ok(vector(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(ValueSeed)?;
            out.insert(Value::keyword(k), v);
        }
        Ok(Value::Map(Arc::new(out)))
    }
}

fn parse_text(name: &str, s: &str) -> RtResult<Value> {
    let fail =
        |e: serde_json::Error| RtError::new(kind::PARSE, format!("{name}: cannot parse JSON: {e}"));
    let mut de = serde_json::Deserializer::from_str(s);
    let v = ValueSeed.deserialize(&mut de).map_err(fail)?;
    de.end().map_err(fail)?;
    Ok(v)
}

// ---------------------------------------------------------------------------------------
// writing

fn ser_err(name: &str, what: &str) -> RtError {
    RtError::type_error(format!("{name}: cannot write {what} as JSON"))
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn key_text(k: &Value) -> String {
    match k {
        Value::Str(s) | Value::Keyword(s) | Value::Symbol(s) => s.to_string(),
        other => other.to_display(),
    }
}

struct Writer<'a> {
    name: &'a str,
    out: String,
    /// Indentation unit when pretty-printing.
    pretty: bool,
}

impl Writer<'_> {
    fn newline(&mut self, level: usize) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..level {
                self.out.push_str("  ");
            }
        }
    }

    fn items<'v>(
        &mut self,
        open: char,
        close: char,
        it: impl Iterator<Item = &'v Value>,
        depth: usize,
    ) -> RtResult<()> {
        self.out.push(open);
        let mut any = false;
        for (n, x) in it.enumerate() {
            if n > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            self.value(x, depth + 1)?;
            any = true;
        }
        if any {
            self.newline(depth);
        }
        self.out.push(close);
        Ok(())
    }

    fn entries<'v>(
        &mut self,
        it: impl Iterator<Item = (String, &'v Value)>,
        depth: usize,
    ) -> RtResult<()> {
        self.out.push('{');
        let mut any = false;
        for (n, (k, x)) in it.enumerate() {
            if n > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            write_str(&mut self.out, &k);
            self.out.push(':');
            if self.pretty {
                self.out.push(' ');
            }
            self.value(x, depth + 1)?;
            any = true;
        }
        if any {
            self.newline(depth);
        }
        self.out.push('}');
        Ok(())
    }

    fn value(&mut self, v: &Value, depth: usize) -> RtResult<()> {
        if depth > MAX_DEPTH {
            return Err(depth_err(self.name));
        }
        check_size(self.name, self.out.len())?;
        match v {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => self.out.push_str(&i.to_string()),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => self.out.push_str(&n.to_string()),
                None => return Err(ser_err(self.name, &format!("the float {}", v.pr_str()))),
            },
            Value::Str(s) | Value::Keyword(s) | Value::Symbol(s) => write_str(&mut self.out, s),
            Value::Timestamp(s) | Value::Uuid(s) | Value::Resource(s) => {
                write_str(&mut self.out, s)
            }
            Value::List(items) | Value::Vector(items) => {
                self.items('[', ']', items.iter(), depth)?
            }
            Value::Set(s) => self.items('[', ']', s.iter(), depth)?,
            Value::Map(m) => self.entries(m.iter().map(|(k, x)| (key_text(k), x)), depth)?,
            Value::Error(e) => {
                let ty = Value::str(e.kind.as_str());
                let msg = Value::str(e.message.as_str());
                let mut fields: Vec<(String, &Value)> =
                    vec![("type".into(), &ty), ("message".into(), &msg)];
                if let Some(d) = &e.data {
                    fields.push(("data".into(), d));
                }
                self.entries(fields.into_iter(), depth)?
            }
            Value::Fn(_) | Value::Builtin(_) | Value::Native(_) => {
                return Err(ser_err(self.name, "a function"));
            }
            Value::Atom(_) => return Err(ser_err(self.name, "an atom")),
        }
        Ok(())
    }
}

fn write(name: &str, v: &Value, pretty: bool) -> RtResult<Value> {
    let mut w = Writer {
        name,
        out: String::new(),
        pretty,
    };
    w.value(v, 0)?;
    Ok(Value::str(w.out))
}

// ---------------------------------------------------------------------------------------
// built-ins

fn parse(name: &str, args: &[Value]) -> RtResult<Value> {
    args!(name, args, [a]);
    parse_text(name, string(name, a)?)
}

fn serialise(name: &str, args: &[Value], pretty: bool) -> RtResult<Value> {
    args!(name, args, [a]);
    write(name, a, pretty)
}

macro_rules! parse_fn {
    ($f:ident, $name:expr) => {
        pub fn $f(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
            parse($name, args)
        }
    };
}
macro_rules! ser_fn {
    ($f:ident, $name:expr, $pretty:expr) => {
        pub fn $f(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
            serialise($name, args, $pretty)
        }
    };
}

parse_fn!(parse_json, "parse-json");
parse_fn!(json_parse, "json/parse");
parse_fn!(tool_parse_json, "tool/parse-json");
ser_fn!(to_json, "to-json", false);
ser_fn!(json_stringify, "json/stringify", false);
ser_fn!(serialize_json, "serialize-json", false);
ser_fn!(tool_serialize_json, "tool/serialize-json", false);
ser_fn!(to_json_pretty, "to-json-pretty", true);
ser_fn!(serialize_json_pretty, "serialize-json-pretty", true);
ser_fn!(
    tool_serialize_json_pretty,
    "tool/serialize-json-pretty",
    true
);

/// JSON text of a value (for hosts and capability providers speaking JSON).
pub fn to_json_string(v: &Value) -> RtResult<String> {
    match &write("json", v, false)? {
        Value::Str(s) => Ok(s.to_string()),
        _ => Err(RtError::type_error("json: writer produced no text")),
    }
}

/// A value from JSON text (object keys become keywords).
pub fn from_json_str(s: &str) -> RtResult<Value> {
    parse_text("json", s)
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;

    #[test]
    fn parse_gives_keyword_keys_in_order() {
        let r = call(
            "parse-json",
            &[s(r#"{"name":"John","age":30,"tags":["a",1.5,null,true]}"#)],
        );
        let want = m(&[
            (kw("name"), s("John")),
            (kw("age"), i(30)),
            (kw("tags"), v([s("a"), f(1.5), Value::Nil, b(true)])),
        ]);
        assert_eq!(r, want);
        assert_eq!(
            r.pr_str(),
            r#"{:name "John", :age 30, :tags ["a" 1.5 nil true]}"#
        );
        assert_eq!(call("json/parse", &[s("[1,2]")]), ints(&[1, 2]));
        assert_eq!(call("tool/parse-json", &[s("\"é\\n\"")]), s("é\n"));
        assert_eq!(call("parse-json", &[s("1e3")]), f(1000.0));
        assert_eq!(
            call("parse-json", &[s("18446744073709551615")]),
            f(18446744073709551615.0)
        );
        assert_eq!(err_kind("parse-json", &[s("{bad")]), "parse-error");
        assert_eq!(err_kind("parse-json", &[s("[1, 2")]), "parse-error");
        assert_eq!(err_kind("parse-json", &[s("1 2")]), "parse-error");
        assert_eq!(err_kind("parse-json", &[i(1)]), "type-error");
        let deep = "[".repeat(10_000);
        assert_eq!(err_kind("parse-json", &[s(&deep)]), "parse-error");
    }

    #[test]
    fn write_and_round_trip() {
        let data = m(&[
            (kw("name"), s("John Doe")),
            (kw("age"), i(30)),
            (kw("active"), b(true)),
            (kw("scores"), ints(&[85, 92])),
            (kw("address"), m(&[(kw("city"), s("Anytown"))])),
        ]);
        let text = call("to-json", &[data.clone()]);
        assert_eq!(
            text,
            s(
                r#"{"name":"John Doe","age":30,"active":true,"scores":[85,92],"address":{"city":"Anytown"}}"#
            )
        );
        assert_eq!(call("parse-json", &[text]), data);
        assert_eq!(
            call("to-json", &[v([f(2.5), f(3.0), Value::Nil])]),
            s("[2.5,3.0,null]")
        );
        assert_eq!(call("serialize-json", &[kw("k")]), s("\"k\""));
        assert_eq!(call("to-json", &[s("q\"\u{1}")]), s("\"q\\\"\\u0001\""));
        assert_eq!(
            call("tool/serialize-json", &[Value::list([i(1)])]),
            s("[1]")
        );
        assert_eq!(
            call("to-json", &[m(&[(i(1), Value::Nil)])]),
            s(r#"{"1":null}"#)
        );
        assert_eq!(err_kind("to-json", &[f(f64::NAN)]), "type-error");
        assert_eq!(err_kind("to-json", &[func("inc")]), "type-error");
        assert_eq!(
            call(
                "to-json-pretty",
                &[m(&[(kw("a"), ints(&[1])), (kw("b"), v([]))])]
            ),
            s("{\n  \"a\": [\n    1\n  ],\n  \"b\": []\n}")
        );
        let mut deep = ints(&[]);
        for _ in 0..600 {
            deep = v([deep]);
        }
        assert_eq!(err_kind("to-json", &[deep]), "limit-exceeded");
    }
}
