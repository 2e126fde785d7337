//! When the interpreter may move a local into an updating built-in instead of copying it.
//!
//! `(recur (inc i) (conj acc x))` or a function ending in `(assoc m k v)` reads a local
//! for the last time: the loop rebinds `acc` right after, the frame of `m` ends. Moving
//! the value out of the slot (leaving nil) hands the built-in the only reference, so
//! `Arc::make_mut` updates the collection in place instead of copying it
//! (`rtfs_stdlib::in_place`). A move is only made where this module proves the slot is not
//! read again: a [`MoveCtx`] says which slots die once the call returns, and the
//! expressions still to be evaluated before then are scanned for reads of the slot.
//!
//! Scans are syntactic and bounded ([`SCAN_BUDGET`] nodes): a large expression, or one
//! that could rebind locals, counts as reading and writing everything, so the interpreter
//! falls back to a copy, never to a wrong result.

use rtfs_ir::expr::{CaptureFrom, Expr, Slot};
use smallvec::SmallVec;

/// Nodes a scan may visit before giving up (and answering "may touch the slot").
const SCAN_BUDGET: u32 = 64;

/// The slots that die when the call being evaluated returns.
pub(crate) struct MoveCtx<'a> {
    /// Every slot of the frame (the call's value is the frame's result).
    pub all: bool,
    /// Slots a `recur` rebinds right after the call.
    pub rebound: &'a [Slot],
    /// Expressions evaluated after the call but before the slots die (later `recur`
    /// arguments, later arguments of enclosing calls).
    pub later: SmallVec<[&'a [Expr]; 4]>,
}

impl<'a> MoveCtx<'a> {
    pub fn tail() -> MoveCtx<'a> {
        MoveCtx {
            all: true,
            rebound: &[],
            later: SmallVec::new(),
        }
    }

    pub fn recur(rebound: &'a [Slot], later: &'a [Expr]) -> MoveCtx<'a> {
        let mut ctx = MoveCtx {
            all: false,
            rebound,
            later: SmallVec::new(),
        };
        ctx.later.push(later);
        ctx
    }

    /// The context of an argument evaluated before `later` (the rest of its call's
    /// arguments), inside this context.
    pub fn before<'b>(&self, later: &'b [Expr]) -> MoveCtx<'b>
    where
        'a: 'b,
    {
        let mut ctx = MoveCtx {
            all: self.all,
            rebound: self.rebound,
            later: self.later.iter().copied().collect(),
        };
        ctx.later.push(later);
        ctx
    }

    /// Whether slot `s` is read by nothing after the call and dies when it returns.
    pub fn dead_after(&self, s: Slot) -> bool {
        (self.all || self.rebound.contains(&s))
            && self
                .later
                .iter()
                .all(|es| es.iter().all(|e| !scan(e, s).mentions))
    }
}

/// What a scan of an expression found about one slot.
#[derive(Default)]
pub(crate) struct Scan {
    /// The slot may be read or written.
    pub mentions: bool,
    /// Some local may be written (a binding, a loop, `set!`...).
    pub writes: bool,
}

pub(crate) fn scan(e: &Expr, s: Slot) -> Scan {
    let mut out = Scan::default();
    let mut budget = SCAN_BUDGET;
    if !walk(e, s, &mut out, &mut budget) {
        return Scan {
            mentions: true,
            writes: true,
        };
    }
    out
}

/// Whether none of `es` may write a local: then evaluating them before reading a slot
/// gives the same values as evaluating them after.
pub(crate) fn write_free(es: &[Expr]) -> bool {
    es.iter().all(|e| !scan(e, Slot::MAX).writes)
}

/// Visits `e`; false when the budget ran out.
fn walk(e: &Expr, s: Slot, out: &mut Scan, budget: &mut u32) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let all =
        |es: &[Expr], out: &mut Scan, budget: &mut u32| es.iter().all(|x| walk(x, s, out, budget));
    match e {
        Expr::Const(_) | Expr::Capture(_) | Expr::SelfFn | Expr::Global(..) => true,
        Expr::Local(x) => {
            out.mentions |= *x == s;
            true
        }
        Expr::PrimSlotInt(_, x, _, _) => {
            out.mentions |= *x == s;
            true
        }
        Expr::PrimSlotSlot(_, x, y, _) => {
            out.mentions |= *x == s || *y == s;
            true
        }
        Expr::CellGet(x) | Expr::Prim1(_, x, _) | Expr::Throw(x, _) => walk(x, s, out, budget),
        Expr::If(b) => {
            walk(&b.0, s, out, budget) && walk(&b.1, s, out, budget) && walk(&b.2, s, out, budget)
        }
        Expr::Prim(_, b, _) => walk(&b.0, s, out, budget) && walk(&b.1, s, out, budget),
        Expr::Do(es) | Expr::Vector(es) | Expr::Set(es) => all(es, out, budget),
        Expr::CallBuiltin(_, args, _) => all(args, out, budget),
        Expr::Call(c) => walk(&c.callee, s, out, budget) && all(&c.args, out, budget),
        Expr::Map(entries) => entries
            .iter()
            .all(|(k, v)| walk(k, s, out, budget) && walk(v, s, out, budget)),
        Expr::MakeClosure(_, caps) => {
            out.mentions |= caps.contains(&CaptureFrom::Local(s));
            true
        }
        // Anything that binds or rebinds locals, or runs code this scan does not follow
        // (capability calls, parallel branches, plan forms): assume the worst.
        Expr::SetLocal(..)
        | Expr::Bind(_)
        | Expr::Loop(_)
        | Expr::Recur(..)
        | Expr::Try(_)
        | Expr::Match(..)
        | Expr::DefGlobal(..)
        | Expr::CapCall(_)
        | Expr::Parallel(_)
        | Expr::Plan(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtfs_ir::Value;
    use rtfs_ir::expr::PrimOp;

    fn loc() -> rtfs_ir::SrcLoc {
        rtfs_ir::SrcLoc::default()
    }

    #[test]
    fn a_read_of_the_slot_is_seen_anywhere_in_the_expression() {
        let e = Expr::If(Box::new((
            Expr::Const(Value::Bool(true)),
            Expr::Const(Value::Nil),
            Expr::Prim(
                PrimOp::Add,
                Box::new((Expr::Local(3), Expr::Const(Value::Int(1)))),
                loc(),
            ),
        )));
        assert!(scan(&e, 3).mentions);
        assert!(!scan(&e, 2).mentions);
        assert!(!scan(&e, 3).writes);
    }

    #[test]
    fn binding_forms_count_as_touching_everything() {
        let e = Expr::SetLocal(7, Box::new(Expr::Const(Value::Nil)));
        let found = scan(&e, 1);
        assert!(found.mentions && found.writes);
        assert!(!write_free(std::slice::from_ref(&e)));
    }

    #[test]
    fn a_slot_read_later_is_not_dead() {
        let later = [Expr::Local(0)];
        assert!(!MoveCtx::recur(&[0, 1], &later).dead_after(0));
        assert!(MoveCtx::recur(&[0, 1], &later).dead_after(1));
        assert!(
            !MoveCtx::recur(&[0, 1], &later).dead_after(2),
            "not rebound"
        );
        assert!(MoveCtx::tail().dead_after(2));
        assert!(!MoveCtx::tail().before(&later).dead_after(0));
    }

    #[test]
    fn a_huge_expression_is_assumed_to_read_the_slot() {
        let mut e = Expr::Const(Value::Int(0));
        for _ in 0..(SCAN_BUDGET + 1) {
            e = Expr::Prim1(rtfs_ir::expr::PrimOp1::Inc, Box::new(e), loc());
        }
        assert!(scan(&e, 5).mentions);
    }
}
