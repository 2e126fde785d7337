//! The state of the intraprocedural privacy taint the delegation pass keeps while it walks
//! one function body: which frame slots and captures currently hold a value computed from
//! sensitive data, and why.
//!
//! The rules (applied by `delegation::Pass`): a marked parameter or marked value is a
//! source; a binding (`let`, destructuring, `loop`, `match`, `catch`) takes the taint of the
//! expression it binds from; an expression is tainted when it reads a tainted slot or
//! capture anywhere (so an `if` on sensitive data taints its result), except that binding
//! forms yield only their body's taint; a call's result is tainted when its callee or an
//! argument is. `loop`/`recur` and self calls are solved by iterating to a fixpoint.
//! Globals, atoms and calls into other functions are not followed (see docs/delegation.md).

use std::collections::HashMap;
use std::sync::Arc;

use rtfs_ir::expr::{Pattern, Slot};

/// Why a value is sensitive, as `rtfs explain` prints it (e.g. "param `doc`").
pub type Why = Arc<str>;

/// Taint of an expression: `None` when it reads no sensitive data.
pub type Taint = Option<Why>;

/// The first reason wins: one is enough to explain a refusal.
pub fn join(a: Taint, b: Taint) -> Taint {
    a.or(b)
}

/// One function body (or the top level) being walked.
#[derive(Default)]
pub struct Frame {
    pub slots: HashMap<Slot, Why>,
    pub captures: Vec<Taint>,
    /// Taint flowing into slots through `recur` and self calls, for the fixpoints.
    pub recur: HashMap<Slot, Why>,
}

impl Frame {
    pub fn slot(&self, s: Slot) -> Taint {
        self.slots.get(&s).cloned()
    }

    pub fn capture(&self, i: u32) -> Taint {
        self.captures.get(i as usize).cloned().flatten()
    }

    pub fn set(&mut self, s: Slot, t: Taint) {
        match t {
            Some(w) => {
                self.slots.insert(s, w);
            }
            None => {
                self.slots.remove(&s);
            }
        }
    }

    /// Some reason when any slot or capture holds sensitive data (possibly a binding that
    /// went out of scope: this errs on the side of caution).
    pub fn any(&self) -> Taint {
        // The lowest slot, so the reason shown does not depend on hash order.
        self.slots
            .iter()
            .min_by_key(|(s, _)| **s)
            .map(|(_, w)| w.clone())
            .or_else(|| self.captures.iter().flatten().next().cloned())
    }

    pub fn add_recur(&mut self, s: Slot, t: Taint) {
        if let Some(w) = t {
            self.recur.entry(s).or_insert(w);
        }
    }
}

/// Every slot a pattern binds.
pub fn pattern_slots(p: &Pattern, out: &mut Vec<Slot>) {
    match p {
        Pattern::Ignore | Pattern::Literal(_) => {}
        Pattern::Bind(s) => out.push(*s),
        Pattern::Type(_, inner) => pattern_slots(inner, out),
        Pattern::As(s, inner) => {
            out.push(*s);
            pattern_slots(inner, out);
        }
        Pattern::Seq {
            items,
            rest,
            as_slot,
            ..
        } => {
            out.extend(*as_slot);
            for i in items {
                pattern_slots(i, out);
            }
            if let Some(r) = rest {
                pattern_slots(r, out);
            }
        }
        Pattern::Map { entries, as_slot } => {
            out.extend(*as_slot);
            for e in entries {
                pattern_slots(&e.pattern, out);
            }
        }
    }
}
