//! The compilation driver: a unit (file, REPL input, `eval` string) of top-level forms to
//! runnable `TopLevel`s, collecting one diagnostic per failing form.

use std::collections::HashSet;

use rtfs_ir::expr::TopLevel;

use crate::diagnostic::Diagnostic;
use crate::globals::GlobalTable;
use crate::lower::{CompileHost, Lowerer};
use crate::syntax::Syntax;

#[derive(Default)]
pub struct Compiler {
    pub globals: GlobalTable,
    counter: u64,
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

fn is_defn(form: &Syntax) -> bool {
    matches!(form.list_head_symbol(), Some("defn" | "defn-"))
}

impl Compiler {
    pub fn new() -> Compiler {
        Compiler::default()
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
        let mut out = Vec::with_capacity(forms.len());
        let mut diags = Vec::new();
        for form in forms {
            let mut lowerer = Lowerer::new(&mut self.globals, host, &declared, &mut self.counter);
            match lowerer.lower_toplevel(form) {
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
