//! String built-ins. Strings are UTF-8; every length and index counts characters (Unicode
//! scalar values), never bytes.

use std::sync::Arc;

use rtfs_ir::error::kind;
use rtfs_ir::{Env, RtError, RtResult, Seq, Value};

use crate::char_index;
use crate::util::{args, check_size, index_err, int, items, str_val, string, type_err, vector};

/// A string argument as its shared allocation (the key of its character index).
fn string_arc<'a>(name: &str, v: &'a Value) -> RtResult<&'a Arc<String>> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(type_err(name, "a string", v)),
    }
}

/// Byte offset of the char at char index `idx` (`idx == char count` gives `s.len()`).
pub fn byte_offset(s: &str, idx: usize) -> Option<usize> {
    if s.is_ascii() {
        return (idx <= s.len()).then_some(idx);
    }
    if idx == 0 {
        return Some(0);
    }
    match s.char_indices().nth(idx) {
        Some((b, _)) => Some(b),
        None => (s.chars().count() == idx).then_some(s.len()),
    }
}

pub fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// `(str & xs)`: concatenation of the display forms (nil is empty).
pub fn str_(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [] => Ok(Value::str("")),
        [Value::Str(s)] => Ok(Value::Str(s.clone())),
        _ => {
            let mut out = String::with_capacity(display_size_hint(args.iter()));
            for a in args {
                push_display(&mut out, a);
                check_size("str", out.len())?;
            }
            Ok(Value::str(out))
        }
    }
}

/// Appends the display form of `v` (what `str` shows) without an intermediate string for
/// the common pieces (strings, nil, integers).
fn push_display(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) => out.push_str(s),
        Value::Nil => {}
        Value::Int(i) => {
            use std::fmt::Write;
            // Writing to a String cannot fail.
            let _ = write!(out, "{i}");
        }
        other => out.push_str(&other.to_display()),
    }
}

/// A capacity for the display forms of `items` joined: exact for strings, a guess for
/// the rest, so building a long string from many pieces reallocates little.
fn display_size_hint<'a>(items: impl Iterator<Item = &'a Value>) -> usize {
    items
        .map(|v| match v {
            Value::Str(s) => s.len(),
            Value::Nil => 0,
            _ => 8,
        })
        .sum::<usize>()
        .min(crate::util::MAX_BUILD)
}

fn substring_impl(name: &str, args: &[Value]) -> RtResult<Value> {
    let (s, start, end) = match args {
        [s, start] => (string_arc(name, s)?, int(name, start)?, None),
        [s, start, end] => (
            string_arc(name, s)?,
            int(name, start)?,
            Some(int(name, end)?),
        ),
        _ => return Err(crate::util::arity(name, args.len())),
    };
    let len = char_index::char_count(s);
    let end_idx = end.unwrap_or(len as i64);
    if start < 0 || end_idx < start || end_idx > len as i64 {
        let bad = if start < 0 || start > len as i64 {
            start
        } else {
            end_idx
        };
        return Err(RtError::new(
            kind::INDEX,
            format!(
                "{name}: range [{start}, {end_idx}) out of bounds for string of length {len} (index {bad})"
            ),
        ));
    }
    let (b0, b1) = match (
        char_index::byte_offset(s, start as usize),
        char_index::byte_offset(s, end_idx as usize),
    ) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(index_err(name, end_idx, len)),
    };
    Ok(Value::str(&s[b0..b1]))
}

/// `(subs s start [end])`: characters `start..end`; out of range is an error.
pub fn subs(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    substring_impl("subs", args)
}

pub fn substring(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    substring_impl("substring", args)
}

pub fn string_length(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("string-length", args, [a]);
    Ok(Value::Int(
        char_index::char_count(string_arc("string-length", a)?) as i64,
    ))
}

fn two_strings<'a>(name: &str, args: &'a [Value]) -> RtResult<(Option<&'a str>, &'a str)> {
    args!(name, args, [a, b]);
    Ok((Some(string(name, a)?), string(name, b)?))
}

/// `(includes? s sub)` / `(string-contains s sub)`.
pub fn includes_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (hay, needle) = two_strings("includes?", args)?;
    Ok(Value::Bool(hay.is_some_and(|h| h.contains(needle))))
}

pub fn string_contains(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (hay, needle) = two_strings("string-contains", args)?;
    Ok(Value::Bool(hay.is_some_and(|h| h.contains(needle))))
}

pub fn starts_with_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (hay, needle) = two_strings("starts-with?", args)?;
    Ok(Value::Bool(hay.is_some_and(|h| h.starts_with(needle))))
}

pub fn ends_with_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (hay, needle) = two_strings("ends-with?", args)?;
    Ok(Value::Bool(hay.is_some_and(|h| h.ends_with(needle))))
}

/// `(split s sep [limit])`: splits on a literal separator (an empty separator splits into
/// characters); keeps empty fields; returns a vector of strings. A nil string gives `[""]`.
pub fn split(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (s, sep, limit) = match args {
        [s, sep] => (s, sep, None),
        [s, sep, limit] => (s, sep, Some(int("split", limit)?)),
        _ => return Err(crate::util::arity("split", args.len())),
    };
    let s = match s {
        Value::Nil => "",
        _ => string("split", s)?,
    };
    let sep = string("split", sep)?;
    let limit = limit.filter(|l| *l > 0).map(|l| l as usize);
    let out: Seq = if sep.is_empty() {
        let mut out: Seq = Seq::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if limit.is_some_and(|l| out.len() + 1 >= l) {
                out.push_back(Value::str(rest));
                break;
            }
            out.push_back(crate::util::char_val(c));
            rest = &rest[c.len_utf8()..];
        }
        out
    } else {
        match limit {
            Some(l) => s.splitn(l, sep).map(Value::str).collect(),
            None => s.split(sep).map(Value::str).collect(),
        }
    };
    Ok(vector(out))
}

/// `(split-lines s)`: splits on `\n` or `\r\n`.
pub fn split_lines(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("split-lines", args, [s]);
    let s = string("split-lines", s)?;
    Ok(vector(s.lines().map(Value::str).collect()))
}

fn join_items(sep: &str, coll: &Value) -> RtResult<Value> {
    let xs = items("join", coll)?;
    let seps = sep.len().saturating_mul(xs.seq().len().saturating_sub(1));
    let hint = display_size_hint(xs.seq().iter()).saturating_add(seps);
    let mut out = String::with_capacity(hint.min(crate::util::MAX_BUILD));
    for (n, x) in xs.seq().iter().enumerate() {
        if n > 0 {
            out.push_str(sep);
        }
        push_display(&mut out, x);
        check_size("join", out.len())?;
    }
    Ok(Value::str(out))
}

/// `(join coll)`, `(join sep coll)`; `(join coll sep)` is accepted too (older RTFS order).
pub fn join(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [coll] => join_items("", coll),
        [Value::Str(sep), coll] if !matches!(coll, Value::Str(_)) => join_items(sep, coll),
        [coll, Value::Str(sep)] if !matches!(coll, Value::Str(_)) => join_items(sep, coll),
        [Value::Str(sep), coll] => join_items(sep, coll),
        [sep, _] => Err(type_err("join", "a string separator", sep)),
        _ => Err(crate::util::arity("join", args.len())),
    }
}

macro_rules! string_fn {
    ($fname:ident, $name:expr, |$s:ident| $body:expr) => {
        pub fn $fname(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
            args!($name, args, [a]);
            let $s: &str = string($name, a)?;
            Ok(Value::str($body))
        }
    };
}

string_fn!(upper_case, "upper-case", |s| s.to_uppercase());
string_fn!(lower_case, "lower-case", |s| s.to_lowercase());
string_fn!(trim, "trim", |s| s.trim());
string_fn!(triml, "triml", |s| s.trim_start());
string_fn!(trimr, "trimr", |s| s.trim_end());
string_fn!(trim_newline, "trim-newline", |s| s
    .trim_end_matches(['\n', '\r']));
string_fn!(capitalize, "capitalize", |s| {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) => {
            let mut out: String = c.to_uppercase().collect();
            out.push_str(&cs.as_str().to_lowercase());
            out
        }
        None => String::new(),
    }
});

/// `(blank? s)`: nil, empty or only whitespace.
pub fn blank_p(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("blank?", args, [a]);
    match a {
        Value::Nil => Ok(Value::Bool(true)),
        _ => Ok(Value::Bool(string("blank?", a)?.trim().is_empty())),
    }
}

fn replace_impl(name: &str, args: &[Value], first_only: bool) -> RtResult<Value> {
    args!(name, args, [s, from, to]);
    let s = string(name, s)?;
    let from = string(name, from)?;
    let to = string(name, to)?;
    if from.is_empty() {
        return Err(RtError::new(
            kind::ARGUMENT,
            format!("{name}: the string to replace must not be empty"),
        ));
    }
    let out = if first_only {
        s.replacen(from, to, 1)
    } else {
        let n = s.matches(from).count();
        check_size(name, s.len() + n.saturating_mul(to.len()))?;
        s.replace(from, to)
    };
    Ok(Value::str(out))
}

/// `(replace s match replacement)`: replaces every occurrence of a literal substring.
pub fn replace(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    replace_impl("replace", args, false)
}

pub fn replace_first(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    replace_impl("replace-first", args, true)
}

/// `(char-at s i)`: the character at index i, as a one-character string.
pub fn char_at(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("char-at", args, [s, idx]);
    let s = string_arc("char-at", s)?;
    let i = int("char-at", idx)?;
    usize::try_from(i)
        .ok()
        .and_then(|u| char_index::char_at(s, u))
        .map(crate::util::char_val)
        .ok_or_else(|| index_err("char-at", i, char_index::char_count(s)))
}

fn char_index_of(s: &Arc<String>, byte: usize) -> i64 {
    if s.len() < char_index::INDEXED_MIN {
        return s[..byte].chars().count() as i64;
    }
    char_index::index_of_string(s).char_index_of(s, byte) as i64
}

/// `(index-of s sub [from])`: char index of the first occurrence, or nil. On a vector or
/// list, `(index-of coll x)` is the index of the first element equal to x, or nil.
pub fn index_of(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [Value::Vector(xs) | Value::List(xs), x] => {
            Ok(xs.index_of(x).map_or(Value::Nil, |i| Value::Int(i as i64)))
        }
        [s, sub] | [s, sub, _] => {
            let s = string_arc("index-of", s)?;
            let sub = string("index-of", sub)?;
            let from = match args.get(2) {
                Some(v) => int("index-of", v)?.max(0) as usize,
                None => 0,
            };
            let Some(start) = char_index::byte_offset(s, from.min(char_index::char_count(s)))
            else {
                return Ok(Value::Nil);
            };
            Ok(s[start..]
                .find(sub)
                .map_or(Value::Nil, |b| Value::Int(char_index_of(s, start + b))))
        }
        _ => Err(crate::util::arity("index-of", args.len())),
    }
}

/// `(last-index-of s sub)`: char index of the last occurrence, or nil.
pub fn last_index_of(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("last-index-of", args, [s, sub]);
    let s = string_arc("last-index-of", s)?;
    let sub = string("last-index-of", sub)?;
    Ok(s.rfind(sub)
        .map_or(Value::Nil, |b| Value::Int(char_index_of(s, b))))
}

/// `(name x)`: the name of a keyword or symbol (without namespace), or a string itself.
pub fn name(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("name", args, [a]);
    match a {
        Value::Str(_) => Ok(a.clone()),
        Value::Keyword(k) | Value::Symbol(k) => Ok(Value::str(split_ns(k).1)),
        _ => Err(type_err("name", "a keyword, symbol or string", a)),
    }
}

/// `(namespace x)`: the namespace of a keyword or symbol, or nil.
pub fn namespace(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("namespace", args, [a]);
    match a {
        Value::Keyword(k) | Value::Symbol(k) => Ok(split_ns(k).0.map_or(Value::Nil, Value::str)),
        _ => Err(type_err("namespace", "a keyword or symbol", a)),
    }
}

fn split_ns(s: &str) -> (Option<&str>, &str) {
    match s.find('/') {
        Some(i) if i > 0 && i + 1 < s.len() => (Some(&s[..i]), &s[i + 1..]),
        _ => (None, s),
    }
}

/// `(keyword s)` / `(keyword ns name)`: a keyword (a leading `:` in s is dropped).
pub fn keyword(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [Value::Keyword(_)] => Ok(args[0].clone()),
        [Value::Str(s)] => {
            let s: &str = s;
            Ok(Value::keyword(s.strip_prefix(':').unwrap_or(s)))
        }
        [a] => Err(type_err("keyword", "a string", a)),
        [Value::Nil, n] => {
            let n = string("keyword", n)?;
            Ok(Value::keyword(n))
        }
        [ns, n] => {
            let ns = string("keyword", ns)?;
            let n = string("keyword", n)?;
            Ok(Value::keyword(format!("{ns}/{n}")))
        }
        _ => Err(crate::util::arity("keyword", args.len())),
    }
}

/// `(symbol s)` / `(symbol ns name)`.
pub fn symbol(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [Value::Symbol(_)] => Ok(args[0].clone()),
        [Value::Str(s)] => Ok(Value::Symbol(s.clone())),
        [a] => Err(type_err("symbol", "a string", a)),
        [Value::Nil, n] => Ok(Value::symbol(string("symbol", n)?)),
        [ns, n] => Ok(Value::symbol(format!(
            "{}/{}",
            string("symbol", ns)?,
            string("symbol", n)?
        ))),
        _ => Err(crate::util::arity("symbol", args.len())),
    }
}

/// `(char n)`: the character with code point n, as a one-character string.
pub fn char_(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("char", args, [a]);
    match a {
        Value::Int(n) => u32::try_from(*n)
            .ok()
            .and_then(char::from_u32)
            .map(crate::util::char_val)
            .ok_or_else(|| {
                RtError::new(
                    kind::ARGUMENT,
                    format!("char: {n} is not a valid code point"),
                )
            }),
        Value::Str(s) if s.chars().count() == 1 => Ok(a.clone()),
        _ => Err(type_err("char", "an integer code point", a)),
    }
}

// ---------------------------------------------------------------------------------------
// format

const MAX_WIDTH: usize = 10_000;

struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    group: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
}

fn fmt_err(msg: impl Into<String>) -> RtError {
    RtError::new(
        kind::ARGUMENT,
        format!("format: illegal argument: {}", msg.into()),
    )
}

/// A format argument of the wrong type for its conversion.
fn fmt_type_err(conv: char, what: &str, arg: &Value) -> RtError {
    RtError::type_error(format!(
        "format: %{conv} expects {what}, got {}",
        arg.type_name()
    ))
}

fn group_digits(digits: &str) -> String {
    let bytes = digits.as_bytes();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in bytes.iter().enumerate() {
        if i > 0 && (bytes.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*c as char);
    }
    out
}

/// Pads a formatted number: sign, then zero padding or spaces per the flags.
fn pad_number(spec: &Spec, negative: bool, body: &str, out: &mut String) {
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let len = sign.len() + body.chars().count();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        out.push_str(sign);
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero {
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(body);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(sign);
        out.push_str(body);
    }
}

fn pad_text(spec: &Spec, text: &str, out: &mut String) {
    let fill = spec.width.saturating_sub(text.chars().count());
    if spec.left {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(text);
    }
}

fn exp_form(x: f64, precision: usize, upper: bool) -> String {
    let s = format!("{x:.precision$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (esign, edigits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let e = if upper { 'E' } else { 'e' };
    format!("{mant}{e}{esign}{edigits:0>2}")
}

fn format_one(spec: &Spec, conv: char, arg: &Value, out: &mut String) -> RtResult<()> {
    match conv {
        's' | 'S' => {
            let mut text = arg.print_form();
            if let Some(p) = spec.precision {
                text = text.chars().take(p).collect();
            }
            if conv == 'S' {
                text = text.to_uppercase();
            }
            pad_text(spec, &text, out);
        }
        'd' => {
            let n = match arg {
                Value::Int(n) => *n,
                _ => return Err(fmt_type_err('d', "an integer", arg)),
            };
            let digits = n.unsigned_abs().to_string();
            let body = if spec.group {
                group_digits(&digits)
            } else {
                digits
            };
            pad_number(spec, n < 0, &body, out);
        }
        'x' | 'X' | 'o' => {
            let n = match arg {
                Value::Int(n) => *n as u64,
                _ => return Err(fmt_type_err(conv, "an integer", arg)),
            };
            let mut body = match conv {
                'x' => format!("{n:x}"),
                'X' => format!("{n:X}"),
                _ => format!("{n:o}"),
            };
            if spec.alt {
                body.insert_str(
                    0,
                    if conv == 'o' {
                        "0"
                    } else if conv == 'x' {
                        "0x"
                    } else {
                        "0X"
                    },
                );
            }
            pad_number(
                &Spec {
                    plus: false,
                    space: false,
                    ..*spec
                },
                false,
                &body,
                out,
            );
        }
        'f' | 'e' | 'E' => {
            let x = match arg {
                Value::Int(n) => *n as f64,
                Value::Float(x) => *x,
                _ => return Err(fmt_type_err(conv, "a number", arg)),
            };
            if x.is_nan() {
                pad_text(spec, "NaN", out);
                return Ok(());
            }
            if x.is_infinite() {
                let t = if x > 0.0 {
                    if spec.plus { "+Infinity" } else { "Infinity" }
                } else {
                    "-Infinity"
                };
                pad_text(spec, t, out);
                return Ok(());
            }
            let p = spec.precision.unwrap_or(6).min(MAX_WIDTH);
            let a = x.abs();
            let body = if conv == 'f' {
                let s = format!("{a:.p$}");
                if spec.group {
                    let (int_part, frac) = s
                        .split_once('.')
                        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
                    let mut g = group_digits(int_part);
                    if let Some(fr) = frac {
                        g.push('.');
                        g.push_str(fr);
                    }
                    g
                } else {
                    s
                }
            } else {
                exp_form(a, p, conv == 'E')
            };
            pad_number(spec, x.is_sign_negative() && x != 0.0, &body, out);
        }
        'b' | 'B' => {
            let t = if arg.truthy() { "true" } else { "false" };
            pad_text(
                spec,
                &if conv == 'B' {
                    t.to_uppercase()
                } else {
                    t.to_string()
                },
                out,
            );
        }
        'c' => {
            let c = match arg {
                Value::Int(n) => u32::try_from(*n).ok().and_then(char::from_u32),
                Value::Str(s) if s.chars().count() == 1 => s.chars().next(),
                _ => None,
            }
            .ok_or_else(|| fmt_type_err('c', "a character", arg))?;
            pad_text(spec, &c.to_string(), out);
        }
        other => return Err(fmt_err(format!("unsupported conversion %{other}"))),
    }
    Ok(())
}

/// `(format fmt & args)`: Java-style formatting: `%s %d %f %.2f %5d %-5s %05d %x %X %o %e
/// %b %c %n %% %,d` and explicit argument indexes (`%2$s`).
pub fn format(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let Some((fmt, rest)) = args.split_first() else {
        return Err(crate::util::arity("format", 0));
    };
    let fmt = string("format", fmt)?;
    let mut out = String::with_capacity(fmt.len());
    let mut chars = fmt.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Optional argument index "n$", flags, width, precision.
        let mut num = String::new();
        while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
            num.push(d);
            chars.next();
        }
        let mut explicit: Option<usize> = None;
        if !num.is_empty() && chars.peek() == Some(&'$') {
            chars.next();
            let n: usize = num.parse().map_err(|_| fmt_err("bad argument index"))?;
            if n == 0 {
                return Err(fmt_err("argument index must be at least 1"));
            }
            explicit = Some(n - 1);
            num.clear();
        }
        let mut spec = Spec {
            left: false,
            zero: false,
            plus: false,
            space: false,
            group: false,
            alt: false,
            width: 0,
            precision: None,
        };
        let mut width_digits = String::new();
        if num.is_empty() {
            while let Some(&f) = chars.peek() {
                match f {
                    '-' => spec.left = true,
                    '0' => spec.zero = true,
                    '+' => spec.plus = true,
                    ' ' => spec.space = true,
                    ',' => spec.group = true,
                    '#' => spec.alt = true,
                    _ => break,
                }
                chars.next();
            }
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                width_digits.push(d);
                chars.next();
            }
        } else {
            // Leading zeros of a bare number are the '0' flag.
            let trimmed = num.trim_start_matches('0');
            spec.zero = trimmed.len() < num.len();
            width_digits = trimmed.to_string();
        }
        if !width_digits.is_empty() {
            spec.width = width_digits.parse().unwrap_or(usize::MAX);
            if spec.width > MAX_WIDTH {
                return Err(fmt_err(format!("width larger than {MAX_WIDTH}")));
            }
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(*d);
                chars.next();
            }
            let p: usize = p
                .parse()
                .map_err(|_| fmt_err("missing precision after '.'"))?;
            if p > MAX_WIDTH {
                return Err(fmt_err(format!("precision larger than {MAX_WIDTH}")));
            }
            spec.precision = Some(p);
        }
        let Some(conv) = chars.next() else {
            return Err(fmt_err("format string ends in the middle of a specifier"));
        };
        match conv {
            '%' => pad_text(&spec, "%", &mut out),
            'n' => out.push('\n'),
            _ => {
                let idx = match explicit {
                    Some(i) => i,
                    None => {
                        next_arg += 1;
                        next_arg - 1
                    }
                };
                let arg = rest.get(idx).ok_or_else(|| {
                    fmt_err(format!(
                        "missing argument for %{conv} (argument {})",
                        idx + 1
                    ))
                })?;
                format_one(&spec, conv, arg, &mut out)?;
            }
        }
        check_size("format", out.len())?;
    }
    Ok(str_val(out))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;
    use rtfs_ir::error::kind;

    #[test]
    fn str_and_lengths() {
        assert_eq!(call("str", &[]), s(""));
        assert_eq!(
            call("str", &[s("a"), i(1), Value::Nil, f(2.0), kw("k")]),
            s("a12.0:k")
        );
        assert_eq!(call("str", &[ints(&[1, 2])]), s("[1 2]"));
        assert_eq!(call("string-length", &[s("héllo")]), i(5));
        assert_eq!(call("count", &[s("日本語")]), i(3));
        assert_eq!(err_kind("string-length", &[i(1)]), "type-error");
    }

    #[test]
    fn substrings_count_chars() {
        assert_eq!(call("subs", &[s("héllo"), i(1), i(3)]), s("él"));
        assert_eq!(call("subs", &[s("héllo"), i(2)]), s("llo"));
        assert_eq!(call("subs", &[s("abc"), i(3)]), s(""));
        assert_eq!(err_kind("subs", &[s("abc"), i(4)]), "index-out-of-bounds");
        assert_eq!(
            err_kind("subs", &[s("abc"), i(2), i(1)]),
            "index-out-of-bounds"
        );
        assert_eq!(err_kind("subs", &[s("abc"), i(-1)]), "index-out-of-bounds");
        assert_eq!(call("substring", &[s("日本語"), i(1), i(2)]), s("本"));
        assert_eq!(call("char-at", &[s("日本語"), i(2)]), s("語"));
        assert_eq!(err_kind("char-at", &[s("ab"), i(2)]), "index-out-of-bounds");
    }

    #[test]
    fn searching() {
        assert_eq!(call("includes?", &[s("hello"), s("ell")]), b(true));
        assert_eq!(call("string-contains", &[s("hello"), s("x")]), b(false));
        assert_eq!(call("starts-with?", &[s("hello"), s("he")]), b(true));
        assert_eq!(
            err_kind("starts-with?", &[Value::Nil, s("he")]),
            "type-error"
        );
        assert_eq!(err_kind("includes?", &[s("a"), i(1)]), "type-error");
        assert_eq!(call("ends-with?", &[s("hello"), s("lo")]), b(true));
        assert_eq!(call("index-of", &[s("héllo"), s("l")]), i(2));
        assert_eq!(call("index-of", &[s("héllo"), s("l"), i(3)]), i(3));
        assert_eq!(call("index-of", &[s("abc"), s("z")]), Value::Nil);
        assert_eq!(call("last-index-of", &[s("héllo"), s("l")]), i(3));
        assert_eq!(call("index-of", &[ints(&[5, 6, 7]), i(7)]), i(2));
    }

    #[test]
    fn split_join_case_trim() {
        assert_eq!(
            call("split", &[s("a,b,,c"), s(",")]),
            v([s("a"), s("b"), s(""), s("c")])
        );
        assert_eq!(
            call("split", &[s("héy"), s("")]),
            v([s("h"), s("é"), s("y")])
        );
        assert_eq!(
            call("split", &[s("a,b,c"), s(","), i(2)]),
            v([s("a"), s("b,c")])
        );
        assert_eq!(
            call("split-lines", &[s("a\nb\r\nc")]),
            v([s("a"), s("b"), s("c")])
        );
        assert_eq!(call("join", &[s(", "), ints(&[1, 2, 3])]), s("1, 2, 3"));
        assert_eq!(call("join", &[v([s("a"), s("b")]), s("-")]), s("a-b"));
        assert_eq!(call("join", &[v([s("a"), Value::Nil, kw("b")])]), s("a:b"));
        assert_eq!(call("str/join", &[s("/"), v([s("x"), s("y")])]), s("x/y"));
        assert_eq!(call("upper-case", &[s("straße")]), s("STRASSE"));
        assert_eq!(call("lower-case", &[s("ÀB")]), s("àb"));
        assert_eq!(call("capitalize", &[s("hELLO")]), s("Hello"));
        assert_eq!(call("trim", &[s("  x \n")]), s("x"));
        assert_eq!(call("triml", &[s("  x ")]), s("x "));
        assert_eq!(call("trimr", &[s("  x ")]), s("  x"));
        assert_eq!(call("blank?", &[s(" \t")]), b(true));
        assert_eq!(call("blank?", &[Value::Nil]), b(true));
        assert_eq!(call("replace", &[s("a-b-c"), s("-"), s("+")]), s("a+b+c"));
        assert_eq!(
            call("replace-first", &[s("a-b-c"), s("-"), s("+")]),
            s("a+b-c")
        );
        assert_eq!(err_kind("upper-case", &[i(1)]), "type-error");
    }

    #[test]
    fn names_and_keywords() {
        assert_eq!(call("name", &[kw("a/b")]), s("b"));
        assert_eq!(call("name", &[kw("abc")]), s("abc"));
        assert_eq!(call("namespace", &[kw("a/b")]), s("a"));
        assert_eq!(call("namespace", &[kw("b")]), Value::Nil);
        assert_eq!(call("keyword", &[s("x")]), kw("x"));
        assert_eq!(call("keyword", &[s(":x")]), kw("x"));
        assert_eq!(call("keyword", &[s("ns"), s("x")]), kw("ns/x"));
        assert_eq!(call("symbol", &[s("foo")]), Value::symbol("foo"));
        assert_eq!(call("char", &[i(233)]), s("é"));
        assert_eq!(err_kind("char", &[i(-1)]), kind::ARGUMENT);
        assert_eq!(err_kind("keyword", &[i(5)]), "type-error");
        assert_eq!(call("keyword", &[kw("k")]), kw("k"));
    }

    #[test]
    fn format_java_style() {
        assert_eq!(call("format", &[s("%s is %d"), s("x"), i(5)]), s("x is 5"));
        assert_eq!(call("format", &[s("%.2f"), f(1.23456)]), s("1.23"));
        assert_eq!(
            call("format", &[s("%5d|%-5d|%05d"), i(42), i(42), i(-42)]),
            s("   42|42   |-0042")
        );
        assert_eq!(
            call("format", &[s("%x %X %o"), i(255), i(255), i(8)]),
            s("ff FF 10")
        );
        assert_eq!(call("format", &[s("100%% %s"), Value::Nil]), s("100% nil"));
        assert_eq!(call("format", &[s("%,d"), i(1234567)]), s("1,234,567"));
        assert_eq!(call("format", &[s("%+.1f"), i(2)]), s("+2.0"));
        assert_eq!(call("format", &[s("%e"), f(12345.678)]), s("1.234568e+04"));
        assert_eq!(call("format", &[s("%2$s %1$s"), s("a"), s("b")]), s("b a"));
        assert_eq!(
            call("format", &[s("%b %c"), Value::Nil, i(65)]),
            s("false A")
        );
        assert_eq!(
            call(
                "format",
                &[s("%s|%s"), v([i(1), s("a")]), m(&[(kw("k"), s("v"))])]
            ),
            s("[1 a]|{:k v}")
        );
        assert_eq!(
            call("format", &[s("%s %s"), kw("k"), Value::Nil]),
            s(":k nil")
        );
        assert_eq!(call("format", &[s("%8.3f"), f(-1.5)]), s("  -1.500"));
        assert_eq!(err_kind("format", &[s("%d"), s("x")]), "type-error");
        assert_eq!(err_kind("format", &[s("%f"), kw("x")]), "type-error");
        assert_eq!(err_kind("format", &[s("%d")]), kind::ARGUMENT);
        assert_eq!(err_kind("format", &[s("%q"), i(1)]), kind::ARGUMENT);
        assert_eq!(err_kind("format", &[s("%99999999d"), i(1)]), kind::ARGUMENT);
        assert_eq!(err_kind("format", &[s("abc%")]), kind::ARGUMENT);
    }
}
