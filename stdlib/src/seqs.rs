//! Sequence functions. RTFS has no lazy sequences: these accept vectors, lists, sets, maps
//! (as `[k v]` entries), strings (as one-character strings) and nil (as empty), and return
//! vectors. Exception, kept from older RTFS: `take`, `drop`, `reverse`, `distinct` and `sort`
//! of a string return a string.

use std::cmp::Ordering;
use std::sync::Arc;

use rtfs_ir::error::kind;
use rtfs_ir::{Env, Map, RtError, RtResult, Seq, Set, Value};

use crate::util::{
    Items, MAX_BUILD, args, call, call1, call2, check_size, count_arg, index_err, int, items, list,
    sub_seq, type_err, vector,
};

fn first_of(name: &str, coll: &Value) -> RtResult<Value> {
    Ok(match coll {
        Value::Vector(s) | Value::List(s) => s.front().cloned().unwrap_or(Value::Nil),
        Value::Str(s) => s.chars().next().map_or(Value::Nil, crate::util::char_val),
        Value::Map(m) => m
            .iter()
            .next()
            .map_or(Value::Nil, |(k, v)| crate::util::pair(k.clone(), v.clone())),
        Value::Set(s) => s.iter().next().cloned().unwrap_or(Value::Nil),
        Value::Nil => Value::Nil,
        _ => return Err(type_err(name, "a collection", coll)),
    })
}

pub fn first(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("first", args, [coll]);
    first_of("first", coll)
}

pub fn second(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("second", args, [coll]);
    Ok(items("second", coll)?
        .seq()
        .get(1)
        .cloned()
        .unwrap_or(Value::Nil))
}

pub fn last(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("last", args, [coll]);
    Ok(match coll {
        Value::Str(s) => s
            .chars()
            .next_back()
            .map_or(Value::Nil, crate::util::char_val),
        _ => items("last", coll)?
            .seq()
            .back()
            .cloned()
            .unwrap_or(Value::Nil),
    })
}

fn rest_of(name: &str, coll: &Value) -> RtResult<Value> {
    Ok(match coll {
        Value::Vector(s) | Value::List(s) => vector(s.skip(1)),
        _ => vector(items(name, coll)?.seq().skip(1)),
    })
}

/// `(rest coll)`: all but the first element, as a vector (`[]` when there are none).
pub fn rest(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("rest", args, [coll]);
    rest_of("rest", coll)
}

/// `(next coll)`: like `rest`, but nil instead of an empty result.
pub fn next(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("next", args, [coll]);
    let r = rest_of("next", coll)?;
    Ok(match &r {
        Value::Vector(s) if s.is_empty() => Value::Nil,
        _ => r,
    })
}

/// `(cons x coll)`: a vector of x followed by the elements of coll.
pub fn cons(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("cons", args, [x, coll]);
    let mut s = items("cons", coll)?.into_seq();
    s.push_front(x.clone());
    Ok(vector(s))
}

/// `(nth coll i [default])`: out of range is an `index-out-of-bounds` error unless a
/// default is given.
pub fn nth(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (coll, idx, default) = match args {
        [c, i] => (c, i, None),
        [c, i, d] => (c, i, Some(d)),
        _ => return Err(crate::util::arity("nth", args.len())),
    };
    let i = int("nth", idx)?;
    let (found, len) = match coll {
        Value::Vector(s) | Value::List(s) => (
            usize::try_from(i).ok().and_then(|u| s.get(u)).cloned(),
            s.len(),
        ),
        Value::Str(s) => (
            usize::try_from(i)
                .ok()
                .and_then(|u| crate::char_index::char_at(s, u))
                .map(crate::util::char_val),
            crate::char_index::char_count(s),
        ),
        Value::Nil => (None, 0),
        _ => return Err(type_err("nth", "a vector, list or string", coll)),
    };
    match (found, default) {
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.clone()),
        (None, None) if coll.is_nil() => Ok(Value::Nil),
        (None, None) => Err(index_err("nth", i, len)),
    }
}

/// `(concat & colls)`: all elements in order, as a vector.
pub fn concat(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let mut out = Seq::new();
    for a in args {
        out.append(items("concat", a)?.into_seq());
        check_size("concat", out.len())?;
    }
    Ok(vector(out))
}

/// `(reverse coll)`.
pub fn reverse(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("reverse", args, [coll]);
    if let Value::Str(s) = coll {
        return Ok(Value::str(s.chars().rev().collect::<String>()));
    }
    let xs = items("reverse", coll)?;
    Ok(vector(xs.seq().iter().rev().cloned().collect()))
}

/// A stable bottom-up merge sort with a fallible "less than" (user comparators may fail or
/// be inconsistent; this never panics whatever they answer).
pub fn merge_sort<T: Clone>(
    mut v: Vec<T>,
    less: &mut dyn FnMut(&T, &T) -> RtResult<bool>,
) -> RtResult<Vec<T>> {
    let n = v.len();
    if n < 2 {
        return Ok(v);
    }
    let mut buf: Vec<T> = Vec::with_capacity(n);
    let mut width = 1usize;
    while width < n {
        buf.clear();
        let mut start = 0;
        while start < n {
            let mid = start.saturating_add(width).min(n);
            let end = start.saturating_add(width.saturating_mul(2)).min(n);
            let (mut a, mut b) = (start, mid);
            while a < mid && b < end {
                if less(&v[b], &v[a])? {
                    buf.push(v[b].clone());
                    b += 1;
                } else {
                    buf.push(v[a].clone());
                    a += 1;
                }
            }
            buf.extend_from_slice(&v[a..mid]);
            buf.extend_from_slice(&v[b..end]);
            start = end;
        }
        std::mem::swap(&mut v, &mut buf);
        width = width.saturating_mul(2);
    }
    Ok(v)
}

/// Interprets a comparator's answer for `(f a b)`: a boolean means "a before b", a number
/// is negative when a sorts first.
fn comparator_less(env: &mut dyn Env, f: &Value, a: &Value, b: &Value) -> RtResult<bool> {
    match call2(env, f, a.clone(), b.clone())? {
        Value::Bool(x) => Ok(x),
        Value::Int(n) => Ok(n < 0),
        Value::Float(x) => Ok(x < 0.0),
        Value::Nil => Ok(false),
        other => Err(type_err(
            "sort",
            "a comparator returning a boolean or number",
            &other,
        )),
    }
}

/// `(sort coll)` by the total order of values, or `(sort comparator coll)`.
pub fn sort(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (cmp, coll) = match args {
        [coll] => (None, coll),
        [f, coll] => (Some(f), coll),
        _ => return Err(crate::util::arity("sort", args.len())),
    };
    if let (Value::Str(s), None) = (coll, cmp) {
        let mut cs: Vec<char> = s.chars().collect();
        cs.sort_unstable();
        return Ok(Value::str(cs.into_iter().collect::<String>()));
    }
    let xs: Vec<Value> = items("sort", coll)?.seq().iter().cloned().collect();
    let sorted = match cmp {
        None => merge_sort(xs, &mut |a, b| {
            Ok(crate::compare::compare_values("sort", a, b)? == Ordering::Less)
        })?,
        Some(f) => merge_sort(xs, &mut |a, b| comparator_less(env, f, a, b))?,
    };
    Ok(vector(sorted.into_iter().collect()))
}

/// `(sort-by keyfn coll)` or `(sort-by keyfn comparator coll)`.
pub fn sort_by(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (keyfn, cmp, coll) = match args {
        [k, coll] => (k, None, coll),
        [k, c, coll] => (k, Some(c), coll),
        _ => return Err(crate::util::arity("sort-by", args.len())),
    };
    let xs = items("sort-by", coll)?;
    let mut keyed: Vec<(Value, Value)> = Vec::with_capacity(xs.seq().len());
    for x in xs.seq().iter() {
        keyed.push((call1(env, keyfn, x)?, x.clone()));
    }
    let sorted = match cmp {
        None => merge_sort(keyed, &mut |a, b| {
            Ok(crate::compare::compare_values("sort-by", &a.0, &b.0)? == Ordering::Less)
        })?,
        Some(f) => merge_sort(keyed, &mut |a, b| comparator_less(env, f, &a.0, &b.0))?,
    };
    Ok(vector(sorted.into_iter().map(|(_, v)| v).collect()))
}

/// `(map f coll & colls)`: f applied to successive elements (stopping at the shortest
/// collection), as a vector.
pub fn map(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let [f, colls @ ..] = args else {
        return Err(crate::util::arity("map", args.len()));
    };
    match colls {
        [] => Err(crate::util::arity("map", args.len())),
        [coll] => {
            let xs = items("map", coll)?;
            let mut out = Seq::new();
            for x in xs.seq().iter() {
                out.push_back(call1(env, f, x)?);
            }
            Ok(vector(out))
        }
        _ => {
            let seqs: Vec<Items> = colls
                .iter()
                .map(|c| items("map", c))
                .collect::<RtResult<_>>()?;
            let n = seqs.iter().map(|s| s.seq().len()).min().unwrap_or(0);
            let mut iters: Vec<_> = seqs.iter().map(|s| s.seq().iter()).collect();
            let mut out = Seq::new();
            let mut cargs: Vec<Value> = Vec::with_capacity(iters.len());
            for _ in 0..n {
                cargs.clear();
                for it in iters.iter_mut() {
                    cargs.push(it.next().cloned().unwrap_or(Value::Nil));
                }
                out.push_back(call(env, f, &cargs)?);
            }
            Ok(vector(out))
        }
    }
}

/// `(map-indexed f coll)`: `(f index item)`.
pub fn map_indexed(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("map-indexed", args, [f, coll]);
    let xs = items("map-indexed", coll)?;
    let mut out = Seq::new();
    for (n, x) in xs.seq().iter().enumerate() {
        out.push_back(call2(env, f, Value::Int(n as i64), x.clone())?);
    }
    Ok(vector(out))
}

fn filter_impl(name: &str, env: &mut dyn Env, args: &[Value], keep: bool) -> RtResult<Value> {
    args!(name, args, [pred, coll]);
    let xs = items(name, coll)?;
    let mut out = Seq::new();
    for x in xs.seq().iter() {
        if call1(env, pred, x)?.truthy() == keep {
            out.push_back(x.clone());
        }
    }
    Ok(vector(out))
}

/// `(filter pred coll)` / `(remove pred coll)`.
pub fn filter(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    filter_impl("filter", env, args, true)
}

pub fn remove(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    filter_impl("remove", env, args, false)
}

/// `(reduce f coll)` / `(reduce f init coll)`. Without init: an empty collection gives
/// `(f)`, a single element is returned as is. Maps reduce over `[k v]` entries.
pub fn reduce(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (f, init, coll) = match args {
        [f, coll] => (f, None, coll),
        [f, init, coll] => (f, Some(init), coll),
        _ => return Err(crate::util::arity("reduce", args.len())),
    };
    let xs = items("reduce", coll)?;
    let mut it = xs.seq().iter();
    let mut acc = match init {
        Some(v) => v.clone(),
        None => match it.next() {
            Some(v) => v.clone(),
            None => return call(env, f, &[]),
        },
    };
    for x in it {
        acc = call2(env, f, acc, x.clone())?;
    }
    Ok(acc)
}

/// `(reductions f coll)` / `(reductions f init coll)`: the intermediate values of reduce.
pub fn reductions(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (f, init, coll) = match args {
        [f, coll] => (f, None, coll),
        [f, init, coll] => (f, Some(init), coll),
        _ => return Err(crate::util::arity("reductions", args.len())),
    };
    let xs = items("reductions", coll)?;
    let mut it = xs.seq().iter();
    let mut acc = match init {
        Some(v) => v.clone(),
        None => match it.next() {
            Some(v) => v.clone(),
            None => return Ok(vector(std::iter::once(call(env, f, &[])?).collect())),
        },
    };
    let mut out = Seq::new();
    out.push_back(acc.clone());
    for x in it {
        acc = call2(env, f, acc, x.clone())?;
        out.push_back(acc.clone());
    }
    Ok(vector(out))
}

/// `(reduce-kv f init coll)`: `(f acc k v)` over a map, or over a vector with indexes.
pub fn reduce_kv(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("reduce-kv", args, [f, init, coll]);
    let mut acc = init.clone();
    match coll {
        Value::Map(m) => {
            for (k, v) in m.iter() {
                acc = call(env, f, &[acc, k.clone(), v.clone()])?;
            }
        }
        Value::Vector(s) | Value::List(s) => {
            for (n, v) in s.iter().enumerate() {
                acc = call(env, f, &[acc, Value::Int(n as i64), v.clone()])?;
            }
        }
        Value::Nil => {}
        _ => return Err(type_err("reduce-kv", "a map or vector", coll)),
    }
    Ok(acc)
}

/// `(some pred coll)`: the first truthy `(pred x)`, or nil.
pub fn some(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("some", args, [pred, coll]);
    for x in items("some", coll)?.seq().iter() {
        let r = call1(env, pred, x)?;
        if r.truthy() {
            return Ok(r);
        }
    }
    Ok(Value::Nil)
}

fn all_impl(name: &str, env: &mut dyn Env, args: &[Value], want: bool) -> RtResult<bool> {
    args!(name, args, [pred, coll]);
    for x in items(name, coll)?.seq().iter() {
        if call1(env, pred, x)?.truthy() != want {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `(every? pred coll)`, `(not-any? pred coll)`, `(not-every? pred coll)`.
pub fn every_p(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Bool(all_impl("every?", env, args, true)?))
}

pub fn not_any_p(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Bool(all_impl("not-any?", env, args, false)?))
}

pub fn not_every_p(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    Ok(Value::Bool(!all_impl("not-every?", env, args, true)?))
}

fn take_drop(name: &str, args: &[Value], take: bool) -> RtResult<Value> {
    args!(name, args, [n, coll]);
    let n = count_arg(name, n)?;
    if let Value::Str(s) = coll {
        let split = crate::char_index::byte_offset(s, n.min(crate::char_index::char_count(s)))
            .unwrap_or(s.len());
        return Ok(Value::str(if take { &s[..split] } else { &s[split..] }));
    }
    let xs = items(name, coll)?;
    let s = xs.seq();
    Ok(vector(if take {
        sub_seq(s, 0, n)
    } else {
        sub_seq(s, n, s.len())
    }))
}

/// `(take n coll)` / `(drop n coll)`.
pub fn take(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    take_drop("take", args, true)
}

pub fn drop(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    take_drop("drop", args, false)
}

/// `(take-last n coll)`.
pub fn take_last(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("take-last", args, [n, coll]);
    let n = count_arg("take-last", n)?;
    let xs = items("take-last", coll)?;
    let s = xs.seq();
    Ok(vector(sub_seq(s, s.len().saturating_sub(n), s.len())))
}

/// `(drop-last coll)` / `(drop-last n coll)`.
pub fn drop_last(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (n, coll) = match args {
        [coll] => (1, coll),
        [n, coll] => (count_arg("drop-last", n)?, coll),
        _ => return Err(crate::util::arity("drop-last", args.len())),
    };
    let xs = items("drop-last", coll)?;
    let s = xs.seq();
    Ok(vector(sub_seq(s, 0, s.len().saturating_sub(n))))
}

/// `(butlast coll)`.
pub fn butlast(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("butlast", args, [coll]);
    let xs = items("butlast", coll)?;
    let s = xs.seq();
    Ok(vector(sub_seq(s, 0, s.len().saturating_sub(1))))
}

fn while_split(env: &mut dyn Env, pred: &Value, s: &Seq) -> RtResult<usize> {
    for (n, x) in s.iter().enumerate() {
        if !call1(env, pred, x)?.truthy() {
            return Ok(n);
        }
    }
    Ok(s.len())
}

/// `(take-while pred coll)` / `(drop-while pred coll)`.
pub fn take_while(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("take-while", args, [pred, coll]);
    let xs = items("take-while", coll)?;
    let n = while_split(env, pred, xs.seq())?;
    Ok(vector(sub_seq(xs.seq(), 0, n)))
}

pub fn drop_while(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("drop-while", args, [pred, coll]);
    let xs = items("drop-while", coll)?;
    let n = while_split(env, pred, xs.seq())?;
    Ok(vector(sub_seq(xs.seq(), n, xs.seq().len())))
}

/// `(split-at n coll)`: `[(take n coll) (drop n coll)]`.
pub fn split_at(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("split-at", args, [n, coll]);
    let n = count_arg("split-at", n)?;
    let xs = items("split-at", coll)?;
    let s = xs.seq();
    Ok(crate::util::pair(
        vector(sub_seq(s, 0, n)),
        vector(sub_seq(s, n, s.len())),
    ))
}

/// `(split-with pred coll)`: `[(take-while pred coll) (drop-while pred coll)]`.
pub fn split_with(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("split-with", args, [pred, coll]);
    let xs = items("split-with", coll)?;
    let s = xs.seq();
    let n = while_split(env, pred, s)?;
    Ok(crate::util::pair(
        vector(sub_seq(s, 0, n)),
        vector(sub_seq(s, n, s.len())),
    ))
}

fn range_err(msg: &str) -> RtError {
    RtError::new(kind::ARGUMENT, format!("range: illegal argument: {msg}"))
}

/// `(range end)`, `(range start end)`,
/// `(range start end step)` with ints or floats, end exclusive.
pub fn range(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (start, end, step) = match args {
        [end] => (&Value::Int(0), end, &Value::Int(1)),
        [start, end] => (start, end, &Value::Int(1)),
        [start, end, step] => (start, end, step),
        _ => return Err(crate::util::arity("range", args.len())),
    };
    if let (Value::Int(a), Value::Int(b), Value::Int(st)) = (start, end, step) {
        let (a, b, st) = (*a as i128, *b as i128, *st as i128);
        if st == 0 {
            return if a == b {
                Ok(crate::util::empty_vector())
            } else {
                Err(range_err("step must not be zero"))
            };
        }
        let count = if (st > 0 && b > a) || (st < 0 && b < a) {
            ((b - a).abs() + st.abs() - 1) / st.abs()
        } else {
            0
        };
        if count > MAX_BUILD as i128 {
            return Err(crate::util::limit_err("range"));
        }
        let mut out = Seq::new();
        let mut x = a;
        for _ in 0..count {
            out.push_back(Value::Int(x as i64));
            x += st;
        }
        return Ok(vector(out));
    }
    let a = crate::num::to_f64("range", start)?;
    let b = crate::num::to_f64("range", end)?;
    let st = crate::num::to_f64("range", step)?;
    if !(a.is_finite() && b.is_finite() && st.is_finite()) {
        return Err(range_err("bounds and step must be finite"));
    }
    if st == 0.0 {
        return Err(range_err("step must not be zero"));
    }
    let span = (b - a) / st;
    let count = if span > 0.0 { span.ceil() } else { 0.0 };
    if count > MAX_BUILD as f64 {
        return Err(crate::util::limit_err("range"));
    }
    let mut out = Seq::new();
    for n in 0..count as usize {
        let x = a + n as f64 * st;
        if (st > 0.0 && x >= b) || (st < 0.0 && x <= b) {
            break;
        }
        out.push_back(Value::Float(x));
    }
    Ok(vector(out))
}

/// `(numbers start end)`: integers from start to end inclusive (older RTFS helper).
pub fn numbers(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("numbers", args, [a, b]);
    let (a, b) = (int("numbers", a)?, int("numbers", b)?);
    if b < a {
        return Ok(crate::util::empty_vector());
    }
    if (b as i128 - a as i128) >= MAX_BUILD as i128 {
        return Err(crate::util::limit_err("numbers"));
    }
    Ok(vector((a..=b).map(Value::Int).collect()))
}

fn repeat_count(name: &str, n: &Value) -> RtResult<usize> {
    match n {
        Value::Int(i) if *i < 0 => Err(RtError::new(
            kind::ARGUMENT,
            format!("{name}: illegal argument: negative count {i}"),
        )),
        Value::Int(i) => {
            let n = usize::try_from(*i).unwrap_or(usize::MAX);
            check_size(name, n)?;
            Ok(n)
        }
        _ => Err(type_err(name, "an integer count", n)),
    }
}

/// `(repeat n x)`: a vector of n copies of x (no infinite form).
pub fn repeat(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("repeat", args, [n, x]);
    let n = repeat_count("repeat", n)?;
    Ok(vector(std::iter::repeat_n(x.clone(), n).collect()))
}

/// `(repeatedly n f)`: a vector of n results of calling f with no arguments.
pub fn repeatedly(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("repeatedly", args, [n, f]);
    let n = repeat_count("repeatedly", n)?;
    let mut out = Seq::new();
    for _ in 0..n {
        out.push_back(call(env, f, &[])?);
    }
    Ok(vector(out))
}

fn chunks(
    name: &str,
    n: &Value,
    step: Option<&Value>,
    pad: Option<&Value>,
    coll: &Value,
    keep_partial: bool,
) -> RtResult<Value> {
    let n = count_arg(name, n)?;
    let step = match step {
        Some(s) => count_arg(name, s)?,
        None => n,
    };
    if n == 0 || step == 0 {
        return Err(RtError::new(
            kind::ARGUMENT,
            format!("{name}: illegal argument: size and step must be positive"),
        ));
    }
    let xs = items(name, coll)?;
    let s = xs.seq();
    let pad = match pad {
        Some(p) => Some(items(name, p)?.into_seq()),
        None => None,
    };
    let mut out = Seq::new();
    let mut start = 0usize;
    while start < s.len() {
        let end = start.saturating_add(n);
        let mut chunk = sub_seq(s, start, end);
        if chunk.len() < n {
            match &pad {
                Some(p) => {
                    for x in p.iter().take(n - chunk.len()) {
                        chunk.push_back(x.clone());
                    }
                    out.push_back(vector(chunk));
                }
                None if keep_partial => out.push_back(vector(chunk)),
                None => {}
            }
            break;
        }
        out.push_back(vector(chunk));
        start = start.saturating_add(step);
    }
    Ok(vector(out))
}

/// `(partition n coll)`, `(partition n step coll)`, `(partition n step pad coll)`: vectors
/// of n elements; an incomplete last chunk is dropped unless padding is given.
pub fn partition(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [n, coll] => chunks("partition", n, None, None, coll, false),
        [n, step, coll] => chunks("partition", n, Some(step), None, coll, false),
        [n, step, pad, coll] => chunks("partition", n, Some(step), Some(pad), coll, false),
        _ => Err(crate::util::arity("partition", args.len())),
    }
}

/// `(partition-all n coll)` / `(partition-all n step coll)`: keeps the incomplete last chunk.
pub fn partition_all(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    match args {
        [n, coll] => chunks("partition-all", n, None, None, coll, true),
        [n, step, coll] => chunks("partition-all", n, Some(step), None, coll, true),
        _ => Err(crate::util::arity("partition-all", args.len())),
    }
}

/// `(partition-by f coll)`: splits each time `(f x)` changes.
pub fn partition_by(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("partition-by", args, [f, coll]);
    let xs = items("partition-by", coll)?;
    let mut out = Seq::new();
    let mut cur = Seq::new();
    let mut last_key: Option<Value> = None;
    for x in xs.seq().iter() {
        let k = call1(env, f, x)?;
        if last_key.as_ref().is_some_and(|lk| *lk != k) {
            out.push_back(vector(std::mem::take(&mut cur)));
        }
        cur.push_back(x.clone());
        last_key = Some(k);
    }
    if !cur.is_empty() {
        out.push_back(vector(cur));
    }
    Ok(vector(out))
}

/// `(group-by f coll)`: a map from `(f x)` to the vector of the xs giving it, in order.
pub fn group_by(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("group-by", args, [f, coll]);
    let xs = items("group-by", coll)?;
    let mut keys: Vec<Value> = Vec::new();
    let mut groups: Vec<Seq> = Vec::new();
    let mut index = Map::new();
    for x in xs.seq().iter() {
        let k = call1(env, f, x)?;
        match index.get(&k).and_then(Value::as_int) {
            Some(g) => groups[g as usize].push_back(x.clone()),
            None => {
                index.insert(k.clone(), Value::Int(groups.len() as i64));
                keys.push(k);
                groups.push(std::iter::once(x.clone()).collect());
            }
        }
    }
    let m = Map::from_entries(keys.into_iter().zip(groups.into_iter().map(vector)));
    Ok(Value::Map(Arc::new(m)))
}

/// `(frequencies coll)`: a map from element to number of occurrences.
pub fn frequencies(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("frequencies", args, [coll]);
    let xs = items("frequencies", coll)?;
    let mut m = Map::new();
    for x in xs.seq().iter() {
        let n = m.get(x).and_then(Value::as_int).unwrap_or(0);
        m.insert(x.clone(), Value::Int(n + 1));
    }
    Ok(Value::Map(Arc::new(m)))
}

/// `(distinct coll)`: first occurrences in order.
pub fn distinct(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("distinct", args, [coll]);
    if let Value::Str(s) = coll {
        let mut seen = std::collections::HashSet::new();
        return Ok(Value::str(
            s.chars().filter(|c| seen.insert(*c)).collect::<String>(),
        ));
    }
    let xs = items("distinct", coll)?;
    let mut seen = Set::new();
    let mut out = Seq::new();
    for x in xs.seq().iter() {
        if !seen.contains(x) {
            seen.insert(x.clone());
            out.push_back(x.clone());
        }
    }
    Ok(vector(out))
}

/// `(dedupe coll)`: drops consecutive duplicates.
pub fn dedupe(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("dedupe", args, [coll]);
    let xs = items("dedupe", coll)?;
    let mut out = Seq::new();
    for x in xs.seq().iter() {
        if out.back() != Some(x) {
            out.push_back(x.clone());
        }
    }
    Ok(vector(out))
}

/// `(mapcat f & colls)`: `(apply concat (map f colls...))`.
pub fn mapcat(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let mapped = map(env, args)?;
    let mut out = Seq::new();
    if let Value::Vector(parts) = &mapped {
        for p in parts.iter() {
            let part = items("mapcat", p)?.into_seq();
            // Checked before appending: the result is never built past the limit.
            check_size("mapcat", out.len().saturating_add(part.len()))?;
            out.append(part);
        }
    }
    Ok(vector(out))
}

/// `(interleave & colls)`: first elements, then second elements, ... up to the shortest.
pub fn interleave(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let seqs: Vec<Items> = args
        .iter()
        .map(|c| items("interleave", c))
        .collect::<RtResult<_>>()?;
    let n = seqs.iter().map(|s| s.seq().len()).min().unwrap_or(0);
    check_size("interleave", n.saturating_mul(seqs.len()))?;
    let mut out = Seq::new();
    for i in 0..n {
        for s in &seqs {
            if let Some(x) = s.seq().get(i) {
                out.push_back(x.clone());
            }
        }
    }
    Ok(vector(out))
}

/// `(interpose sep coll)`.
pub fn interpose(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("interpose", args, [sep, coll]);
    let xs = items("interpose", coll)?;
    let mut out = Seq::new();
    for (n, x) in xs.seq().iter().enumerate() {
        if n > 0 {
            out.push_back(sep.clone());
        }
        out.push_back(x.clone());
    }
    Ok(vector(out))
}

/// `(flatten coll)`: the non-sequential leaves of nested vectors and lists, in order.
pub fn flatten(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("flatten", args, [coll]);
    let root = match coll {
        Value::Vector(s) | Value::List(s) => s.clone(),
        _ => return Ok(crate::util::empty_vector()),
    };
    let mut out = Seq::new();
    // Explicit stack of iterators: no recursion, whatever the nesting depth.
    let mut stack: Vec<(Arc<Seq>, usize)> = vec![(root, 0)];
    while let Some((s, i)) = stack.pop() {
        let Some(x) = s.get(i) else { continue };
        let x = x.clone();
        stack.push((s, i + 1));
        match x {
            Value::Vector(ref inner) | Value::List(ref inner) => stack.push((inner.clone(), 0)),
            other => {
                out.push_back(other);
                check_size("flatten", out.len())?;
            }
        }
    }
    Ok(vector(out))
}

/// `(keep f coll)`: the non-nil results of `(f x)`.
pub fn keep(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("keep", args, [f, coll]);
    let mut out = Seq::new();
    for x in items("keep", coll)?.seq().iter() {
        let r = call1(env, f, x)?;
        if !r.is_nil() {
            out.push_back(r);
        }
    }
    Ok(vector(out))
}

/// `(keep-indexed f coll)`: the non-nil results of `(f index x)`.
pub fn keep_indexed(env: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("keep-indexed", args, [f, coll]);
    let mut out = Seq::new();
    for (n, x) in items("keep-indexed", coll)?.seq().iter().enumerate() {
        let r = call2(env, f, Value::Int(n as i64), x.clone())?;
        if !r.is_nil() {
            out.push_back(r);
        }
    }
    Ok(vector(out))
}

/// `(peek coll)`: last of a vector, first of a list.
pub fn peek(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("peek", args, [coll]);
    match coll {
        Value::Vector(s) => Ok(s.back().cloned().unwrap_or(Value::Nil)),
        Value::List(s) => Ok(s.front().cloned().unwrap_or(Value::Nil)),
        Value::Nil => Ok(Value::Nil),
        _ => Err(type_err("peek", "a vector or list", coll)),
    }
}

/// `(pop coll)`: a vector without its last element, a list without its first.
pub fn pop(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("pop", args, [coll]);
    let empty = || RtError::new(kind::ARGUMENT, "pop: cannot pop an empty collection");
    match coll {
        Value::Vector(s) if s.is_empty() => Err(empty()),
        Value::List(s) if s.is_empty() => Err(empty()),
        Value::Vector(s) => Ok(vector(sub_seq(s, 0, s.len() - 1))),
        Value::List(s) => Ok(list(s.skip(1))),
        Value::Nil => Ok(Value::Nil),
        _ => Err(type_err("pop", "a vector or list", coll)),
    }
}

/// `(subvec v start [end])`: out of range is an error.
pub fn subvec(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    let (coll, start, end) = match args {
        [c, s] => (c, int("subvec", s)?, None),
        [c, s, e] => (c, int("subvec", s)?, Some(int("subvec", e)?)),
        _ => return Err(crate::util::arity("subvec", args.len())),
    };
    let s = match coll {
        Value::Vector(s) | Value::List(s) => s,
        _ => return Err(type_err("subvec", "a vector", coll)),
    };
    let len = s.len() as i64;
    let end = end.unwrap_or(len);
    if start < 0 || start > len {
        return Err(index_err("subvec", start, s.len()));
    }
    if end < start || end > len {
        return Err(index_err("subvec", end, s.len()));
    }
    Ok(vector(sub_seq(s, start as usize, end as usize)))
}

/// `(seq coll)`: nil for an empty collection, otherwise its elements as a vector.
pub fn seq(_: &mut dyn Env, args: &[Value]) -> RtResult<Value> {
    args!("seq", args, [coll]);
    match coll {
        Value::Vector(s) if !s.is_empty() => Ok(coll.clone()),
        _ => {
            let xs = items("seq", coll)?.into_seq();
            Ok(if xs.is_empty() {
                Value::Nil
            } else {
                vector(xs)
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use crate::testenv::*;
    use rtfs_ir::Value;
    use rtfs_ir::error::kind;

    #[test]
    fn mapcat_and_interleave_refuse_results_past_the_limit() {
        let big = call("range", &[i(6_000_000)]);
        assert_eq!(
            err_kind("interleave", &[big.clone(), big.clone()]),
            kind::LIMIT
        );
        let vector_fn = Value::Builtin(crate::registry::lookup("vec").expect("vec"));
        assert_eq!(
            err_kind("mapcat", &[vector_fn, v([big.clone(), big])]),
            kind::LIMIT
        );
    }

    #[test]
    fn accessors() {
        assert_eq!(call("first", &[ints(&[1, 2])]), i(1));
        assert_eq!(call("first", &[ints(&[])]), Value::Nil);
        assert_eq!(call("first", &[Value::Nil]), Value::Nil);
        assert_eq!(call("first", &[s("héllo")]), s("h"));
        assert_eq!(call("first", &[m(&[(kw("a"), i(1))])]), v([kw("a"), i(1)]));
        assert_eq!(
            err_msg("first", &[i(1)]),
            "first expects a collection, got int"
        );
        assert_eq!(call("second", &[ints(&[1, 2])]), i(2));
        assert_eq!(call("last", &[ints(&[1, 2, 3])]), i(3));
        assert_eq!(call("last", &[s("abé")]), s("é"));
        assert_eq!(call("rest", &[ints(&[1, 2, 3])]), ints(&[2, 3]));
        assert_eq!(call("rest", &[ints(&[])]), ints(&[]));
        assert_eq!(call("rest", &[Value::list([i(1), i(2)])]), ints(&[2]));
        assert!(matches!(
            call("rest", &[Value::list([i(1), i(2)])]),
            Value::Vector(_)
        ));
        assert_eq!(call("rest", &[s("hé")]), v([s("é")]));
        assert_eq!(call("rest", &[Value::Nil]), ints(&[]));
        assert_eq!(call("next", &[ints(&[1])]), Value::Nil);
        assert_eq!(call("cons", &[i(0), ints(&[1, 2])]), ints(&[0, 1, 2]));
        assert!(matches!(
            call("cons", &[i(0), Value::list([])]),
            Value::Vector(_)
        ));
        assert_eq!(err_kind("cons", &[i(1), i(2)]), "type-error");
        assert_eq!(call("cons", &[i(0), Value::Nil]), ints(&[0]));
    }

    #[test]
    fn nth_bounds() {
        assert_eq!(call("nth", &[ints(&[10, 20, 30]), i(0)]), i(10));
        assert_eq!(call("nth", &[s("日本語"), i(1)]), s("本"));
        assert_eq!(err_kind("nth", &[ints(&[1]), i(1)]), "index-out-of-bounds");
        assert_eq!(err_kind("nth", &[ints(&[1]), i(-1)]), "index-out-of-bounds");
        assert_eq!(call("nth", &[ints(&[1]), i(5), kw("d")]), kw("d"));
        assert_eq!(err_kind("nth", &[ints(&[1]), s("0")]), "type-error");
        assert_eq!(err_kind("nth", &[m(&[]), i(0)]), "type-error");
    }

    #[test]
    fn transforming() {
        assert_eq!(
            call("map", &[func("inc"), ints(&[1, 2, 3])]),
            ints(&[2, 3, 4])
        );
        assert_eq!(
            call("map", &[func("+"), ints(&[1, 2, 3]), ints(&[10, 20])]),
            ints(&[11, 22])
        );
        assert_eq!(
            call("map", &[func("str"), ints(&[1, 2])]),
            v([s("1"), s("2")])
        );
        assert_eq!(
            call("map", &[kw("a"), v([m(&[(kw("a"), i(1))]), m(&[])])]),
            v([i(1), Value::Nil])
        );
        assert_eq!(
            call("map", &[func("first"), m(&[(kw("a"), i(1))])]),
            v([kw("a")])
        );
        assert_eq!(err_kind("map", &[i(1), ints(&[1])]), "not-callable");
        assert_eq!(call("map", &[i(5), ints(&[])]), ints(&[]));
        assert_eq!(
            err_kind("map", &[func("inc"), ints(&[1]), i(2)]),
            "type-error"
        );
        assert_eq!(
            call("map-indexed", &[func("vector"), v([kw("a"), kw("b")])]),
            v([v([i(0), kw("a")]), v([i(1), kw("b")])])
        );
        assert_eq!(
            call("filter", &[func("even?"), ints(&[1, 2, 3, 4])]),
            ints(&[2, 4])
        );
        assert_eq!(
            call("remove", &[func("even?"), ints(&[1, 2, 3, 4])]),
            ints(&[1, 3])
        );
        assert_eq!(
            call(
                "keep",
                &[func("first"), v([ints(&[1]), ints(&[]), ints(&[3])])]
            ),
            ints(&[1, 3])
        );
        assert_eq!(
            call(
                "mapcat",
                &[func("reverse"), v([ints(&[1, 2]), ints(&[3, 4])])]
            ),
            ints(&[2, 1, 4, 3])
        );
        assert_eq!(
            err_kind("map", &[func("inc"), ints(&[1, 2]), ints(&[1])]),
            "arity-error"
        );
    }

    #[test]
    fn reducing() {
        assert_eq!(call("reduce", &[func("+"), ints(&[1, 2, 3, 4, 5])]), i(15));
        assert_eq!(call("reduce", &[func("+"), i(10), ints(&[1, 2])]), i(13));
        assert_eq!(call("reduce", &[func("+"), ints(&[])]), i(0));
        assert_eq!(call("reduce", &[func("+"), i(7), ints(&[])]), i(7));
        assert_eq!(call("reduce", &[func("max"), ints(&[3])]), i(3));
        assert_eq!(
            call("reduce", &[func("conj"), v([]), m(&[(kw("a"), i(1))])]),
            v([v([kw("a"), i(1)])])
        );
        assert_eq!(err_kind("reduce", &[func("+"), i(1)]), "type-error");
        assert_eq!(
            call("reductions", &[func("+"), ints(&[1, 2, 3])]),
            ints(&[1, 3, 6])
        );
        let r = call("reduce-kv", &[func("+"), i(0), ints(&[10, 20])]);
        assert_eq!(r, i(31)); // 0 + 0 + 10 + 1 + 20
        assert_eq!(call("some", &[func("even?"), ints(&[1, 3, 4])]), b(true));
        assert_eq!(call("some", &[func("even?"), ints(&[1, 3])]), Value::Nil);
        assert_eq!(call("every?", &[func("number?"), ints(&[1, 2])]), b(true));
        assert_eq!(call("every?", &[func("even?"), ints(&[])]), b(true));
        assert_eq!(call("not-any?", &[func("even?"), ints(&[1, 3])]), b(true));
        assert_eq!(call("not-every?", &[func("even?"), ints(&[2, 3])]), b(true));
    }

    #[test]
    fn slicing() {
        assert_eq!(call("take", &[i(2), ints(&[1, 2, 3])]), ints(&[1, 2]));
        assert_eq!(call("take", &[i(10), ints(&[1, 2, 3])]), ints(&[1, 2, 3]));
        assert_eq!(call("take", &[i(-1), ints(&[1, 2, 3])]), ints(&[]));
        assert_eq!(call("take", &[i(2), s("héllo")]), s("hé"));
        assert_eq!(call("drop", &[i(2), ints(&[1, 2, 3])]), ints(&[3]));
        assert_eq!(call("drop", &[i(9), ints(&[1, 2, 3])]), ints(&[]));
        assert_eq!(call("drop", &[i(1), s("héllo")]), s("éllo"));
        assert_eq!(call("take-last", &[i(2), ints(&[1, 2, 3])]), ints(&[2, 3]));
        assert_eq!(call("drop-last", &[ints(&[1, 2, 3])]), ints(&[1, 2]));
        assert_eq!(call("butlast", &[ints(&[1, 2, 3])]), ints(&[1, 2]));
        assert_eq!(
            call("take-while", &[func("odd?"), ints(&[1, 3, 4, 5])]),
            ints(&[1, 3])
        );
        assert_eq!(
            call("drop-while", &[func("odd?"), ints(&[1, 3, 4, 5])]),
            ints(&[4, 5])
        );
        assert_eq!(
            call("split-at", &[i(1), ints(&[1, 2])]),
            v([ints(&[1]), ints(&[2])])
        );
        assert_eq!(
            call("subvec", &[ints(&[1, 2, 3, 4, 5]), i(1), i(4)]),
            ints(&[2, 3, 4])
        );
        assert_eq!(
            err_kind("subvec", &[ints(&[1, 2]), i(1), i(3)]),
            "index-out-of-bounds"
        );
        assert_eq!(
            err_kind("subvec", &[ints(&[1, 2]), i(-1)]),
            "index-out-of-bounds"
        );
        assert_eq!(call("peek", &[ints(&[1, 2])]), i(2));
        assert_eq!(call("pop", &[ints(&[1, 2])]), ints(&[1]));
        assert_eq!(
            call("pop", &[Value::list([i(1), i(2)])]),
            Value::list([i(2)])
        );
        assert_eq!(err_kind("pop", &[ints(&[])]), kind::ARGUMENT);
    }

    #[test]
    fn ranges() {
        assert_eq!(call("range", &[i(3)]), ints(&[0, 1, 2]));
        assert_eq!(call("range", &[i(1), i(4)]), ints(&[1, 2, 3]));
        assert_eq!(call("range", &[i(10), i(0), i(-3)]), ints(&[10, 7, 4, 1]));
        assert_eq!(call("range", &[i(3), i(1)]), ints(&[]));
        assert_eq!(
            call("range", &[i(0), i(1), f(0.25)]),
            v([f(0.0), f(0.25), f(0.5), f(0.75)])
        );
        assert_eq!(call("count", &[call("range", &[i(1000)])]), i(1000));
        assert_eq!(call("last", &[call("range", &[i(100)])]), i(99));
        assert_eq!(err_kind("range", &[i(0), i(5), i(0)]), kind::ARGUMENT);
        assert_eq!(err_kind("range", &[i(i64::MAX)]), "limit-exceeded");
        assert_eq!(
            err_kind("range", &[i(i64::MIN), i(i64::MAX)]),
            "limit-exceeded"
        );
        assert_eq!(err_kind("range", &[]), "arity-error");
        assert_eq!(err_kind("repeat", &[i(-1), i(1)]), kind::ARGUMENT);
        assert_eq!(err_kind("repeat", &[i(1)]), "arity-error");
        assert_eq!(
            call("repeatedly", &[i(2), call("constantly", &[i(7)])]),
            ints(&[7, 7])
        );
        assert_eq!(
            call("repeat", &[i(3), kw("x")]),
            v([kw("x"), kw("x"), kw("x")])
        );
        assert_eq!(err_kind("repeat", &[i(i64::MAX), i(1)]), "limit-exceeded");
        assert_eq!(call("numbers", &[i(1), i(3)]), ints(&[1, 2, 3]));
    }

    #[test]
    fn sorting() {
        assert_eq!(
            call("sort", &[ints(&[3, 1, 4, 1, 5, 9])]),
            ints(&[1, 1, 3, 4, 5, 9])
        );
        assert_eq!(
            call("sort", &[func(">"), ints(&[3, 1, 4, 1, 5, 9])]),
            ints(&[9, 5, 4, 3, 1, 1])
        );
        assert_eq!(
            call("sort", &[func("compare"), ints(&[2, 1])]),
            ints(&[1, 2])
        );
        assert_eq!(
            call("sort", &[v([s("b"), s("a"), Value::Nil])]),
            v([Value::Nil, s("a"), s("b")])
        );
        assert_eq!(err_kind("sort", &[v([i(1), s("a")])]), "type-error");
        assert_eq!(call("sort", &[s("cba")]), s("abc"));
        assert_eq!(
            err_kind("sort", &[func("<"), v([i(1), s("a")])]),
            "type-error"
        );
        let pairs = m(&[(kw("c"), i(3)), (kw("a"), i(1)), (kw("b"), i(2))]);
        let sorted = v([v([kw("a"), i(1)]), v([kw("b"), i(2)]), v([kw("c"), i(3)])]);
        assert_eq!(call("sort-by", &[func("key"), pairs.clone()]), sorted);
        assert_eq!(call("sort-by", &[func("val"), pairs]), sorted);
        assert_eq!(
            call(
                "sort-by",
                &[func("count"), func(">"), v([s("a"), s("ccc"), s("bb")])]
            ),
            v([s("ccc"), s("bb"), s("a")])
        );
        // Stability.
        let xs = v([v([i(1), kw("a")]), v([i(0), kw("b")]), v([i(1), kw("c")])]);
        assert_eq!(
            call("sort-by", &[func("first"), xs]),
            v([v([i(0), kw("b")]), v([i(1), kw("a")]), v([i(1), kw("c")])])
        );
        // An inconsistent comparator must not panic.
        let _ = call(
            "sort",
            &[
                func("="),
                ints(&[
                    5, 3, 9, 1, 1, 2, 8, 7, 6, 4, 3, 2, 1, 0, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                    20, 21,
                ]),
            ],
        );
    }

    #[test]
    fn grouping() {
        assert_eq!(
            call("partition", &[i(2), ints(&[1, 2, 3, 4, 5, 6])]),
            v([ints(&[1, 2]), ints(&[3, 4]), ints(&[5, 6])])
        );
        assert_eq!(
            call("partition", &[i(2), ints(&[1, 2, 3])]),
            v([ints(&[1, 2])])
        );
        assert_eq!(
            call("partition", &[i(2), i(1), ints(&[1, 2, 3])]),
            v([ints(&[1, 2]), ints(&[2, 3])])
        );
        assert_eq!(
            call("partition", &[i(2), i(2), v([kw("p")]), ints(&[1, 2, 3])]),
            v([ints(&[1, 2]), v([i(3), kw("p")])])
        );
        assert_eq!(
            call("partition-all", &[i(2), ints(&[1, 2, 3])]),
            v([ints(&[1, 2]), ints(&[3])])
        );
        assert_eq!(err_kind("partition", &[i(0), ints(&[1])]), kind::ARGUMENT);
        assert_eq!(
            call(
                "partition-by",
                &[func("odd?"), ints(&[1, 3, 2, 4, 5, 7, 6])]
            ),
            v([ints(&[1, 3]), ints(&[2, 4]), ints(&[5, 7]), ints(&[6])])
        );
        assert_eq!(
            call("group-by", &[func("even?"), ints(&[1, 2, 3, 4, 5, 6])]),
            m(&[(b(false), ints(&[1, 3, 5])), (b(true), ints(&[2, 4, 6]))])
        );
        assert_eq!(
            call("frequencies", &[ints(&[1, 2, 1, 3, 2, 1])]),
            m(&[(i(1), i(3)), (i(2), i(2)), (i(3), i(1))])
        );
        assert_eq!(
            call("distinct", &[ints(&[1, 2, 2, 3, 3, 3, 4])]),
            ints(&[1, 2, 3, 4])
        );
        assert_eq!(call("distinct", &[s("hello")]), s("helo"));
        assert_eq!(call("dedupe", &[ints(&[1, 1, 2, 1])]), ints(&[1, 2, 1]));
        assert_eq!(
            call("interleave", &[ints(&[1, 2, 3]), v([kw("a"), kw("b")])]),
            v([i(1), kw("a"), i(2), kw("b")])
        );
        assert_eq!(
            call("interpose", &[s(","), v([s("a"), s("b")])]),
            v([s("a"), s(","), s("b")])
        );
        assert_eq!(
            call(
                "concat",
                &[ints(&[1, 2]), ints(&[3]), Value::Nil, Value::list([i(4)])]
            ),
            ints(&[1, 2, 3, 4])
        );
        assert_eq!(call("concat", &[]), ints(&[]));
        assert_eq!(err_kind("concat", &[ints(&[1]), i(2)]), "type-error");
        assert_eq!(call("reverse", &[ints(&[1, 2, 3])]), ints(&[3, 2, 1]));
        assert_eq!(call("reverse", &[s("héllo")]), s("olléh"));
    }

    #[test]
    fn flatten_deep() {
        let nested = v([i(1), v([i(2), Value::list([i(3), v([i(4)])])]), v([])]);
        assert_eq!(call("flatten", &[nested]), ints(&[1, 2, 3, 4]));
        let mut deep = v([i(1)]);
        for _ in 0..100_000 {
            deep = v([deep]);
        }
        assert_eq!(call("flatten", &[deep.clone()]), ints(&[1]));
        // Dropping a 100k-deep value recursively is the value model's business; leak it.
        std::mem::forget(deep);
        assert_eq!(call("flatten", &[Value::Nil]), ints(&[]));
        assert_eq!(call("seq", &[ints(&[])]), Value::Nil);
        assert_eq!(call("seq", &[s("ab")]), v([s("a"), s("b")]));
        assert_eq!(call("seq", &[Value::list([i(1)])]), ints(&[1]));
    }
}
