//! Measuring how deep an IR tree nests without recursing on the native stack.
//!
//! Every pass after lowering (delegation, purity, taint, JIT planning, code generation, the
//! interpreter) walks the IR recursively. The compiler measures each lowered form here, with
//! an explicit work list, and refuses one that nests deeper than those passes can take, so a
//! hostile program gets a `limit-exceeded` diagnostic instead of overflowing the stack.

use crate::expr::{Expr, Pattern};

/// A node still to visit: an expression or a pattern (patterns hold default expressions).
enum Node<'a> {
    Expr(&'a Expr),
    Pattern(&'a Pattern),
}

/// Calls `f` on each expression and pattern directly inside `e` (lambda bodies included).
fn children<'a>(e: &'a Expr, mut f: impl FnMut(Node<'a>)) {
    match e {
        Expr::Const(_)
        | Expr::Local(_)
        | Expr::Capture(_)
        | Expr::SelfFn
        | Expr::Global(..)
        | Expr::PrimSlotInt(..)
        | Expr::PrimSlotSlot(..) => {}
        Expr::CellGet(x)
        | Expr::SetLocal(_, x)
        | Expr::Prim1(_, x, _)
        | Expr::Throw(x, _)
        | Expr::DefGlobal(_, x) => f(Node::Expr(x)),
        Expr::If(b) => {
            f(Node::Expr(&b.0));
            f(Node::Expr(&b.1));
            f(Node::Expr(&b.2));
        }
        Expr::Do(xs) | Expr::Vector(xs) | Expr::Set(xs) | Expr::CallBuiltin(_, xs, _) => {
            xs.iter().for_each(|x| f(Node::Expr(x)));
        }
        Expr::Bind(b) => {
            f(Node::Pattern(&b.0));
            f(Node::Expr(&b.1));
        }
        Expr::Call(c) => {
            f(Node::Expr(&c.callee));
            c.args.iter().for_each(|x| f(Node::Expr(x)));
        }
        Expr::CapCall(c) => {
            f(Node::Expr(&c.id));
            c.args.iter().for_each(|x| f(Node::Expr(x)));
        }
        Expr::Prim(_, b, _) => {
            f(Node::Expr(&b.0));
            f(Node::Expr(&b.1));
        }
        Expr::MakeClosure(l, _) => l.arities.iter().for_each(|a| f(Node::Expr(&a.body))),
        Expr::Loop(b) => {
            b.0.iter().for_each(|(_, x)| f(Node::Expr(x)));
            f(Node::Expr(&b.1));
        }
        Expr::Recur(xs, _) => xs.iter().for_each(|x| f(Node::Expr(x))),
        Expr::Try(t) => {
            f(Node::Expr(&t.body));
            t.catches.iter().for_each(|c| f(Node::Expr(&c.body)));
            if let Some(x) = &t.finally {
                f(Node::Expr(x));
            }
        }
        Expr::Match(b, _) => {
            f(Node::Expr(&b.0));
            for c in &b.1 {
                f(Node::Pattern(&c.pattern));
                if let Some(g) = &c.guard {
                    f(Node::Expr(g));
                }
                f(Node::Expr(&c.body));
            }
        }
        Expr::Map(kvs) => kvs.iter().for_each(|(k, v)| {
            f(Node::Expr(k));
            f(Node::Expr(v));
        }),
        Expr::Parallel(bs) => bs.iter().for_each(|(_, x)| f(Node::Expr(x))),
        Expr::Plan(p) => f(Node::Expr(p.body())),
    }
}

fn pattern_children<'a>(p: &'a Pattern, mut f: impl FnMut(Node<'a>)) {
    match p {
        Pattern::Ignore | Pattern::Bind(_) | Pattern::Literal(_) => {}
        Pattern::Type(_, inner) | Pattern::As(_, inner) => f(Node::Pattern(inner)),
        Pattern::Seq { items, rest, .. } => {
            items.iter().for_each(|i| f(Node::Pattern(i)));
            if let Some(r) = rest {
                f(Node::Pattern(r));
            }
        }
        Pattern::Map { entries, .. } => entries.iter().for_each(|e| {
            f(Node::Pattern(&e.pattern));
            if let Some(d) = &e.default {
                f(Node::Expr(d));
            }
        }),
    }
}

/// True when some path from `root` to a leaf passes through more than `limit` nodes.
pub fn nests_deeper_than(root: &Expr, limit: usize) -> bool {
    let mut work = vec![(Node::Expr(root), 1usize)];
    while let Some((node, depth)) = work.pop() {
        if depth > limit {
            return true;
        }
        let mut push = |n| work.push((n, depth + 1));
        match node {
            Node::Expr(e) => children(e, &mut push),
            Node::Pattern(p) => pattern_children(p, &mut push),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn nested(n: usize) -> Expr {
        let mut e = Expr::Const(Value::Int(1));
        for _ in 1..n {
            e = Expr::Throw(Box::new(e), crate::SrcLoc::default());
        }
        e
    }

    #[test]
    fn measures_depth_exactly() {
        assert!(!nests_deeper_than(&nested(10), 10));
        assert!(nests_deeper_than(&nested(11), 10));
    }

    #[test]
    fn wide_is_not_deep() {
        let wide = Expr::Do((0..100_000).map(|i| Expr::Const(Value::Int(i))).collect());
        assert!(!nests_deeper_than(&wide, 2));
    }

    #[test]
    fn very_deep_trees_are_measured_without_recursion() {
        let deep = nested(1_000_000);
        assert!(nests_deeper_than(&deep, 5000));
        // Dropping a million-deep Expr recurses in drop glue; unwrap it in a loop instead.
        let mut e = deep;
        while let Expr::Throw(inner, _) = e {
            e = *inner;
        }
    }
}
