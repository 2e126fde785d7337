//! The compilation driver: a unit (file, REPL input, `eval` string) of top-level forms to
//! runnable `TopLevel`s, collecting one diagnostic per failing form.

use std::collections::HashSet;

use std::sync::Arc;

use rtfs_ir::StaticPolicy;
use rtfs_ir::expr::TopLevel;

use crate::delegation::{self, CallSite, DelegationTable, PassInput};
use crate::diagnostic::Diagnostic;
use crate::globals::GlobalTable;
use crate::limits::{ExpansionBudget, MAX_IR_NESTING};
use crate::lower::{CompileHost, Lowerer};
use crate::syntax::Syntax;

/// The static part of a delegation policy, shared with the runtime's engine.
pub type SharedStaticPolicy = Arc<dyn StaticPolicy + Send + Sync>;

#[derive(Default)]
pub struct Compiler {
    pub globals: GlobalTable,
    counter: u64,
    delegation: DelegationTable,
    policy: Option<SharedStaticPolicy>,
    /// Annotated call sites, collected only when `record_call_sites` asked for them.
    sites: Option<Vec<CallSite>>,
}

/// Top-level names a unit defines, so forms may refer to definitions further down.
fn declared_names(forms: &[Syntax], out: &mut HashSet<String>) {
    for f in forms {
        let Some(items) = f.as_list() else { continue };
        match items.first().and_then(Syntax::as_symbol) {
            Some("def" | "defn" | "defn-") => {
                if let Some(name) = items.get(1).and_then(Syntax::as_symbol) {
                    let name = name
                        .split_once(':')
                        .map_or(name, |(b, _)| if b.is_empty() { name } else { b });
                    out.insert(name.to_string());
                }
            }
            Some("do") => declared_names(&items[1..], out),
            _ => {}
        }
    }
}

/// Every pass after lowering and the interpreter recurse over the IR: refuse here what they
/// could not take (the syntax depth limit bounds most of it already).
pub(crate) fn check_ir_depth(top: &TopLevel, form: &Syntax) -> Result<(), Diagnostic> {
    if rtfs_ir::walk::nests_deeper_than(&top.expr, MAX_IR_NESTING) {
        return Err(Diagnostic::error(
            "limit",
            format!(
                "limit-exceeded: this form compiles to code nested more than {MAX_IR_NESTING} \
                 levels deep"
            ),
            form.span,
        ));
    }
    Ok(())
}

fn is_defn(form: &Syntax) -> bool {
    matches!(form.list_head_symbol(), Some("defn" | "defn-"))
}

impl Compiler {
    pub fn new() -> Compiler {
        Compiler::default()
    }

    /// Sets the policy the delegation pass consults for units compiled from now on.
    pub fn set_policy(&mut self, policy: Option<SharedStaticPolicy>) {
        self.policy = policy;
    }

    /// Starts collecting the delegation annotation of every call site (`rtfs explain`).
    pub fn record_call_sites(&mut self) {
        self.sites.get_or_insert_with(Vec::new);
    }

    /// The call sites collected since `record_call_sites`, in compilation order.
    pub fn take_call_sites(&mut self) -> Vec<CallSite> {
        self.sites.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Compiles every form; on any error returns all diagnostics and nothing to run.
    /// Top-level `defn`s are also defined right away through `host`, so macros defined
    /// later in the unit can call them while expanding.
    pub fn compile_unit(
        &mut self,
        forms: &[Syntax],
        host: &mut dyn CompileHost,
    ) -> Result<Vec<TopLevel>, Vec<Diagnostic>> {
        let mut declared = HashSet::new();
        declared_names(forms, &mut declared);
        delegation::predeclare(forms, &mut self.globals, &mut self.delegation);
        let mut out = Vec::with_capacity(forms.len());
        let mut diags = Vec::new();
        let mut budget = ExpansionBudget::for_unit(forms);
        for form in forms {
            let mut lowerer = Lowerer::new(
                &mut self.globals,
                host,
                &declared,
                &mut self.counter,
                &mut budget,
            );
            let lowered = lowerer.lower_toplevel(form).and_then(|mut top| {
                check_ir_depth(&top, form)?;
                let input = PassInput {
                    globals: &self.globals,
                    policy: self.policy.as_deref().map(|p| p as &dyn StaticPolicy),
                    sites: self.sites.as_mut(),
                };
                delegation::annotate(&mut top, &mut self.delegation, input).map(|()| top)
            });
            match lowered {
                Ok(top) => {
                    if is_defn(form)
                        && let Err(e) = host.run(&top, &self.globals)
                    {
                        diags.push(Diagnostic::error(
                            "compile",
                            format!("defining function failed: {e}"),
                            form.span,
                        ));
                    }
                    out.push(top);
                }
                Err(d) => diags.push(d),
            }
        }
        if diags.is_empty() {
            Ok(out)
        } else {
            Err(diags)
        }
    }
}
