//! Per-function lexical scope: slot allocation for locals, captured variables and the
//! recursion targets (`recur`, self tail calls).

use std::sync::Arc;

use rtfs_ir::expr::{CaptureFrom, Slot};

/// How a name resolved.
#[derive(Clone, Copy, Debug)]
pub enum Res {
    Local(Slot, bool),
    Capture(u32, bool),
    SelfFn,
}

/// The slots `recur` rebinds and whether they are the function's parameters.
#[derive(Clone, Debug)]
pub struct RecurTarget {
    pub slots: Vec<Slot>,
}

#[derive(Default)]
pub struct FnCtx {
    /// Visible locals, innermost last: name, slot, whether the slot holds a letrec cell.
    pub locals: Vec<(Arc<str>, Slot, bool)>,
    pub next_slot: u32,
    pub frame_size: u32,
    pub captures: Vec<(Arc<str>, CaptureFrom, bool)>,
    pub self_name: Option<Arc<str>>,
    pub recur: Option<RecurTarget>,
    /// Fixed parameter count of the arity being lowered, for self tail calls.
    pub self_tail_params: Option<u16>,
    /// Inside a `loop` or `try`, a self tail call can't become a jump to the function top.
    pub no_self_jump: u32,
    pub in_try: u32,
}

impl FnCtx {
    pub fn new_slot(&mut self) -> Slot {
        let s = self.next_slot;
        self.next_slot += 1;
        self.frame_size = self.frame_size.max(self.next_slot);
        s
    }

    pub fn declare(&mut self, name: &str, slot: Slot, cell: bool) {
        self.locals.push((Arc::from(name), slot, cell));
    }

    /// Opens a scope; `close` with the returned mark restores names (and reuses slots).
    pub fn mark(&self) -> (usize, u32) {
        (self.locals.len(), self.next_slot)
    }

    pub fn close(&mut self, mark: (usize, u32)) {
        self.locals.truncate(mark.0);
        self.next_slot = mark.1;
    }

    pub fn lookup(&self, name: &str) -> Option<Res> {
        if let Some((_, slot, cell)) = self.locals.iter().rev().find(|(n, ..)| &**n == name) {
            return Some(Res::Local(*slot, *cell));
        }
        if let Some(i) = self.captures.iter().position(|(n, ..)| &**n == name) {
            return Some(Res::Capture(i as u32, self.captures[i].2));
        }
        if self.self_name.as_deref() == Some(name) {
            return Some(Res::SelfFn);
        }
        None
    }
}
