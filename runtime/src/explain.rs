//! What `rtfs explain` reports about a unit: per top-level function, whether it is pure and,
//! if not, why and where; and the delegation pass's verdict per call site. The analysis itself is `rtfs_compiler::purity`; this module
//! resolves globals against the running state and turns locations into file:line:col.

use rtfs_compiler::purity::{self, GlobalInfo, GlobalResolver, Purity};
use rtfs_compiler::source::{FileId, SourceMap};
use rtfs_ir::expr::GlobalId;
use rtfs_ir::{SrcLoc, Value};

use crate::state::State;

/// Everything `rtfs explain` shows about a unit.
pub struct Explanation {
    /// Per top-level function, in definition order.
    pub functions: Vec<FnReport>,
    /// Per call site of a non-built-in function or capability, in source order.
    pub call_sites: Vec<rtfs_compiler::delegation::CallSite>,
}

/// One function's entry in an explanation.
#[derive(Clone, Debug)]
pub struct FnReport {
    pub name: String,
    /// `file:line:col` of the definition.
    pub at: String,
    pub pure: bool,
    /// For an impure function: the first impure site and why.
    pub reason: Option<String>,
    pub reason_at: Option<String>,
}

impl GlobalResolver for State {
    fn info(&self, id: GlobalId) -> GlobalInfo {
        match self.globals.get(id) {
            Some(Value::Fn(ref c)) => GlobalInfo::Lambda(c.lambda.clone()),
            Some(Value::Builtin(b)) => GlobalInfo::Builtin(b),
            Some(Value::Native(_)) => GlobalInfo::Native,
            Some(_) => GlobalInfo::Data,
            None => GlobalInfo::Unbound,
        }
    }

    fn name(&self, id: GlobalId) -> String {
        self.globals.name(id)
    }
}

/// `file:line:col` of a location (1-based), or `?` for an unknown file.
pub fn describe_loc(sources: &SourceMap, loc: SrcLoc) -> String {
    match sources.get(FileId(loc.file)) {
        Some(f) => {
            let (line, col) = f.line_col(loc.start);
            format!("{}:{line}:{col}", f.name)
        }
        None => "?".to_string(),
    }
}

pub(crate) fn report(
    units: &[rtfs_ir::expr::TopLevel],
    st: &State,
    sources: &SourceMap,
) -> Vec<FnReport> {
    purity::analyse(units, st)
        .into_iter()
        .map(|f| {
            let (pure, reason, reason_at) = match f.purity {
                Purity::Pure => (true, None, None),
                Purity::Impure { reason, loc } => {
                    (false, Some(reason), Some(describe_loc(sources, loc)))
                }
            };
            FnReport {
                name: f.name,
                at: describe_loc(sources, f.loc),
                pure,
                reason,
                reason_at,
            }
        })
        .collect()
}
