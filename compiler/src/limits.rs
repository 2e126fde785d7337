//! Compile-time limits that keep hostile input from exhausting the stack.

/// Deepest syntax nesting the compiler recurses into (the reader enforces the same bound).
pub const MAX_NESTING: usize = 1000;
/// Macro expansions allowed for one form before we call it runaway recursion.
pub const MAX_EXPANSIONS: usize = 10_000;
/// Deepest IR tree the passes after lowering (and the tiers) are given: a syntax level
/// lowers to a few IR levels, so this leaves room for every form within `MAX_NESTING`.
pub const MAX_IR_NESTING: usize = 8 * MAX_NESTING;

/// Macro expansion work (syntax nodes handed to transformers plus nodes they return) every
/// unit may spend, on top of [`EXPANSION_WORK_PER_NODE`] per node of its own source.
pub const EXPANSION_WORK_BASE: usize = 400_000;
/// Extra expansion work each source node buys: large files expand more.
pub const EXPANSION_WORK_PER_NODE: usize = 8;

/// What a compilation unit may still spend on macro expansion. Charged as expansion
/// proceeds — before a transformer runs, for its arguments, and node by node while its
/// result turns back into syntax — so a macro whose output doubles at every step stops at
/// the limit instead of after building gigabytes.
#[derive(Clone, Debug)]
pub struct ExpansionBudget {
    limit: usize,
    spent: usize,
}

impl ExpansionBudget {
    /// The budget of a unit made of `forms`.
    pub fn for_unit(forms: &[crate::syntax::Syntax]) -> ExpansionBudget {
        let nodes: usize = forms.iter().map(crate::syntax::Syntax::node_count).sum();
        ExpansionBudget::with_limit(
            EXPANSION_WORK_BASE.saturating_add(nodes.saturating_mul(EXPANSION_WORK_PER_NODE)),
        )
    }

    pub fn with_limit(limit: usize) -> ExpansionBudget {
        ExpansionBudget { limit, spent: 0 }
    }

    /// Spends `n` units; false (and nothing spent) when that would pass the limit.
    pub fn charge(&mut self, n: usize) -> bool {
        match self.spent.checked_add(n) {
            Some(total) if total <= self.limit => {
                self.spent = total;
                true
            }
            _ => false,
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}
