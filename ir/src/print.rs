//! Printing values: the readable form (`pr-str`, the REPL, `rtfs run`) and the display form
//! (`str`, `println`), which differs only in that strings print raw at the top level and
//! `nil` prints as empty.

use std::fmt::{self, Write};

use crate::value::Value;

/// Beyond this nesting a printed value is cut with `...` rather than recursing further.
const MAX_PRINT_DEPTH: usize = 1_000;

/// Formats a float the Clojure way: always with a decimal point or exponent.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "##NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "##Inf".into()
        } else {
            "##-Inf".into()
        };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-3..1e7).contains(&abs) {
        // Rust's `{:e}` gives "1e21"; Clojure prints "1.0E21".
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        return format!("{mant}E{exp}");
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn write_escaped(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_value(out: &mut String, v: &Value, readable: bool, depth: usize) {
    if depth > MAX_PRINT_DEPTH {
        out.push_str("...");
        return;
    }
    let d = depth + 1;
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::Str(s) => {
            if readable {
                write_escaped(out, s)
            } else {
                out.push_str(s)
            }
        }
        Value::Keyword(k) => {
            out.push(':');
            out.push_str(k);
        }
        Value::Symbol(s) => out.push_str(s),
        Value::List(items) => write_seq(out, "(", ")", items.iter(), readable, d),
        Value::Vector(items) => write_seq(out, "[", "]", items.iter(), readable, d),
        Value::Set(s) => write_seq(out, "#{", "}", s.iter(), readable, d),
        Value::Map(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, k, readable, d);
                out.push(' ');
                write_value(out, v, readable, d);
            }
            out.push('}');
        }
        Value::Fn(c) => {
            let _ = write!(out, "#<fn {}>", c.lambda.display_name());
        }
        Value::Builtin(b) => {
            let _ = write!(out, "#<builtin {}>", b.name);
        }
        Value::Native(n) => {
            let _ = write!(out, "#<native {}>", n.name);
        }
        Value::Error(e) => {
            let _ = write!(out, "#<error {} ", e.kind);
            write_escaped(out, &e.message);
            if let Some(data) = &e.data {
                out.push(' ');
                write_value(out, data, true, d);
            }
            out.push('>');
        }
        Value::Atom(a) => {
            out.push_str("#<atom ");
            // `try_lock`: an atom that holds itself (directly or not) is already locked
            // further up this very print, and waiting for it would never end.
            match a.try_lock() {
                Ok(inner) => write_value(out, &inner, readable, d),
                Err(std::sync::TryLockError::WouldBlock) => out.push_str("..."),
                Err(std::sync::TryLockError::Poisoned(_)) => out.push_str("poisoned"),
            }
            out.push('>');
        }
        Value::Timestamp(t) => {
            let _ = write!(out, "#inst \"{t}\"");
        }
        Value::Uuid(u) => {
            let _ = write!(out, "#uuid \"{u}\"");
        }
        Value::Resource(r) => out.push_str(r),
    }
}

fn write_seq<'a>(
    out: &mut String,
    open: &str,
    close: &str,
    items: impl Iterator<Item = &'a Value>,
    readable: bool,
    depth: usize,
) {
    out.push_str(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(out, item, readable, depth);
    }
    out.push_str(close);
}

impl Value {
    /// The readable form: `(pr-str v)`.
    pub fn pr_str(&self) -> String {
        let mut s = String::new();
        write_value(&mut s, self, true, 0);
        s
    }

    /// What `print`/`println` show: like the readable form but with every string raw, at
    /// any depth (Clojure's `print`): `(println ["a" nil])` shows `[a nil]`.
    pub fn print_form(&self) -> String {
        let mut s = String::new();
        write_value(&mut s, self, false, 0);
        s
    }

    /// The display form: `(str v)`; nil is empty, strings raw, nested strings quoted.
    pub fn to_display(&self) -> String {
        match self {
            Value::Nil => String::new(),
            Value::Str(s) => s.to_string(),
            other => {
                let mut s = String::new();
                write_value(&mut s, other, true, 0);
                s
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pr_str())
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pr_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_clojure() {
        assert_eq!(format_float(3.0), "3.0");
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(1e21), "1.0E21");
        assert_eq!(format_float(1.5e-7), "1.5E-7");
        assert_eq!(format_float(f64::NAN), "##NaN");
    }

    #[test]
    fn collections_print_readably() {
        let m = Value::map([
            (Value::keyword("a"), Value::Int(1)),
            (Value::keyword("b"), Value::str("x")),
        ]);
        assert_eq!(m.pr_str(), "{:a 1, :b \"x\"}");
        assert_eq!(
            Value::vector([Value::Int(1), Value::Nil]).pr_str(),
            "[1 nil]"
        );
        assert_eq!(Value::list([Value::Int(1)]).pr_str(), "(1)");
        assert_eq!(Value::str("a\"b\n").pr_str(), "\"a\\\"b\\n\"");
        assert_eq!(Value::str("hi").to_display(), "hi");
        assert_eq!(Value::Nil.to_display(), "");
    }

    #[test]
    fn small_maps_keep_insertion_order() {
        let m = Value::map([
            (Value::keyword("z"), Value::Int(1)),
            (Value::keyword("a"), Value::Int(2)),
        ]);
        assert_eq!(m.pr_str(), "{:z 1, :a 2}");
    }
}
