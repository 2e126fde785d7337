//! The delegation-analysis pass: reads `^:delegation` hints and `^{:privacy :sensitive}`
//! marks on `defn`/`fn`, validates them, and annotates every call site of the IR with a fixed
//! `ExecTarget` (from a hint, which bypasses the engine, or from a policy rule decidable at
//! compile time) or "decide at run time". Entry point: [`annotate`].
//!
//! A call annotated `LocalPure` costs the interpreter one tag test; nothing else of the
//! Delegation Engine runs for it.

use std::collections::HashMap;
use std::sync::Arc;

use rtfs_ir::expr::{Expr, GlobalId, Lambda, Pattern, TopLevel};
use rtfs_ir::{
    CallKind, CallTarget, ExecTarget, SrcLoc, StaticDecision, StaticPolicy, TargetReason, Value,
};

use crate::convert::syntax_to_value;
use crate::diagnostic::{Diagnostic, codes};
use crate::globals::GlobalTable;
use crate::source::{FileId, Span};
use crate::syntax::{Syntax, SyntaxKind};

/// What the pass knows about a named function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FnFacts {
    pub hint: Option<ExecTarget>,
    pub sensitive: bool,
}

/// Facts about global functions, kept by the compiler across units (REPL inputs, files).
#[derive(Default)]
pub struct DelegationTable {
    globals: HashMap<GlobalId, FnFacts>,
}

impl DelegationTable {
    pub fn get(&self, id: GlobalId) -> Option<&FnFacts> {
        self.globals.get(&id)
    }
}

/// One annotated call site, as `rtfs explain` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSite {
    pub loc: SrcLoc,
    pub kind: CallKind,
    /// Function symbol or capability id (without colon); `<indirect>` when computed.
    pub callee: String,
    pub target: CallTarget,
    pub sensitive: bool,
}

/// What the pass needs besides the IR.
pub struct PassInput<'a> {
    pub globals: &'a GlobalTable,
    pub policy: Option<&'a dyn StaticPolicy>,
    /// When set, every annotated call site is appended here (for `rtfs explain`).
    pub sites: Option<&'a mut Vec<CallSite>>,
}

/// Reads the delegation hint of a metadata map: `:delegation :local`,
/// `:delegation [:local-model "id"]` (what the reader makes of `^:delegation :local-model
/// "id"`), `[:remote "id"]`, or a map `{:target :remote :id "id"}`. `Ok(None)` when absent.
pub fn parse_hint(meta: &Value) -> Result<Option<ExecTarget>, String> {
    let Some(v) = meta
        .as_map()
        .and_then(|m| m.get(&Value::keyword("delegation")))
    else {
        return Ok(None);
    };
    let (target, id) = match v {
        Value::Keyword(k) => (k.as_str(), None),
        Value::Vector(items) | Value::List(items) => match items.len() {
            1 | 2 => (
                items[0].as_keyword().ok_or_else(|| {
                    format!(
                        "`:delegation` target must be a keyword, found {}",
                        items[0].type_name()
                    )
                })?,
                items.get(1),
            ),
            n => {
                return Err(format!(
                    "`:delegation` takes a target and an id, found {n} items"
                ));
            }
        },
        Value::Map(m) => (
            m.get(&Value::keyword("target"))
                .and_then(Value::as_keyword)
                .ok_or("`:delegation` map needs `:target` with a keyword")?,
            m.get(&Value::keyword("id")),
        ),
        other => {
            return Err(format!(
                "`:delegation` must be :local, [:local-model \"id\"] or [:remote \"id\"], found {}",
                other.type_name()
            ));
        }
    };
    let id = match id {
        None => None,
        Some(Value::Str(s)) if !s.trim().is_empty() => Some(s.to_string()),
        Some(other) => {
            return Err(format!(
                "`:delegation :{target}` id must be a non-empty string, found {}",
                if other.as_str().is_some() {
                    "an empty string"
                } else {
                    other.type_name()
                }
            ));
        }
    };
    match (target, id) {
        ("local", None) => Ok(Some(ExecTarget::LocalPure)),
        ("local", Some(_)) => Err("`:delegation :local` takes no id".into()),
        ("local-model", Some(id)) => Ok(Some(ExecTarget::LocalModel(id))),
        ("remote", Some(id)) => Ok(Some(ExecTarget::RemoteModel(id))),
        (t @ ("local-model" | "remote"), None) => Err(format!(
            "`:delegation :{t}` needs a model id, e.g. :{t} \"model-id\""
        )),
        (other, _) => Err(format!(
            "unknown delegation target `:{other}`; expected :local, :local-model or :remote"
        )),
    }
}

/// Whether metadata marks a function `^{:privacy :sensitive}`.
pub fn is_sensitive(meta: &Value) -> bool {
    meta.as_map()
        .and_then(|m| m.get(&Value::keyword("privacy")))
        .and_then(Value::as_keyword)
        == Some("sensitive")
}

/// Records the hints of the unit's top-level `defn`s before anything is lowered, so a call
/// to a function defined further down the unit sees its hint. Invalid hints are skipped
/// here: the pass reports them when it reaches the definition.
pub fn predeclare(forms: &[Syntax], globals: &mut GlobalTable, table: &mut DelegationTable) {
    for form in forms {
        let Some(items) = form.as_list() else {
            continue;
        };
        match items.first().and_then(Syntax::as_symbol) {
            Some("defn" | "defn-") => {}
            Some("do") => {
                predeclare(&items[1..], globals, table);
                continue;
            }
            _ => continue,
        }
        let Some(name_syn) = items.get(1) else {
            continue;
        };
        let Some(name) = name_syn.as_symbol() else {
            continue;
        };
        let mut metas: Vec<&Syntax> = Vec::new();
        metas.extend(form.meta.as_deref());
        metas.extend(name_syn.meta.as_deref());
        let mut rest = &items[2..];
        if rest.first().and_then(Syntax::as_str).is_some() && rest.len() > 1 {
            rest = &rest[1..];
        }
        if let Some(first) = rest.first()
            && matches!(first.kind, SyntaxKind::Map(_))
            && rest.len() > 1
        {
            metas.push(first);
            rest = &rest[1..];
        }
        for part in rest {
            match &part.kind {
                SyntaxKind::Vector(_) => metas.extend(part.meta.as_deref()),
                SyntaxKind::List(l) => {
                    if let Some(v) = l.first().filter(|v| v.as_vector().is_some()) {
                        metas.extend(v.meta.as_deref());
                    }
                }
                _ => {}
            }
        }
        let mut facts = FnFacts::default();
        for m in metas {
            let v = syntax_to_value(m);
            if let Ok(Some(h)) = parse_hint(&v) {
                facts.hint = Some(h);
            }
            facts.sensitive |= is_sensitive(&v);
        }
        if facts != FnFacts::default() {
            let id = globals.intern(name);
            table.globals.insert(id, facts);
        }
    }
}

/// The pass. Annotates every `Call` and `CapCall` in `top` (including those inside nested
/// functions) and records the facts of functions it defines. An invalid hint, or a function
/// marked sensitive with an off-device hint, is an error at the function's span.
pub fn annotate(
    top: &mut TopLevel,
    table: &mut DelegationTable,
    input: PassInput<'_>,
) -> Result<(), Diagnostic> {
    let mut pass = Pass {
        table,
        globals: input.globals,
        policy: input.policy,
        sites: input.sites,
        enclosing: Vec::new(),
    };
    pass.expr(&mut top.expr)
}

struct Enclosing {
    name: Option<Arc<String>>,
    facts: FnFacts,
}

struct Pass<'a> {
    table: &'a mut DelegationTable,
    globals: &'a GlobalTable,
    policy: Option<&'a dyn StaticPolicy>,
    sites: Option<&'a mut Vec<CallSite>>,
    enclosing: Vec<Enclosing>,
}

fn span_of(loc: SrcLoc) -> Span {
    Span::new(FileId(loc.file), loc.start, loc.end)
}

fn lambda_facts(lambda: &Lambda) -> Result<FnFacts, Diagnostic> {
    let hint = parse_hint(&lambda.meta).map_err(|msg| {
        Diagnostic::error(
            codes::BAD_DELEGATION,
            format!(
                "invalid delegation metadata on `{}`: {msg}",
                lambda.display_name()
            ),
            span_of(lambda.loc),
        )
    })?;
    let sensitive = is_sensitive(&lambda.meta);
    if sensitive && let Some(h) = hint.as_ref().filter(|h| !h.is_on_device()) {
        return Err(Diagnostic::error(
            codes::BAD_DELEGATION,
            format!(
                "`{}` is marked ^{{:privacy :sensitive}} but its delegation hint sends it off the device ({h})",
                lambda.display_name()
            ),
            span_of(lambda.loc),
        )
        .with_help("use :local or :local-model for sensitive functions"));
    }
    Ok(FnFacts { hint, sensitive })
}

impl Pass<'_> {
    fn in_sensitive(&self) -> bool {
        self.enclosing.last().is_some_and(|e| e.facts.sensitive)
    }

    fn record(
        &mut self,
        loc: SrcLoc,
        kind: CallKind,
        callee: String,
        target: &CallTarget,
        sensitive: bool,
    ) {
        if let Some(sites) = self.sites.as_deref_mut() {
            sites.push(CallSite {
                loc,
                kind,
                callee,
                target: target.clone(),
                sensitive,
            });
        }
    }

    fn decide(&self, kind: CallKind, name: &str, sensitive: bool) -> CallTarget {
        match self.policy {
            None => CallTarget::fixed(ExecTarget::LocalPure, TargetReason::NoPolicy),
            Some(p) => match p.static_decision(kind, name, sensitive) {
                StaticDecision::Fixed { target, rule } => {
                    CallTarget::fixed(target, TargetReason::Policy(rule))
                }
                StaticDecision::Runtime { why } => CallTarget::Runtime {
                    reason: TargetReason::RuntimeContext(why),
                },
            },
        }
    }

    fn lambda(&mut self, lambda: &mut Arc<Lambda>, facts: FnFacts) -> Result<(), Diagnostic> {
        // A freshly lowered lambda is not shared yet; one that is (a constant from elsewhere)
        // keeps its call sites as they are, which the runtime treats as "decide at run time".
        let Some(l) = Arc::get_mut(lambda) else {
            return Ok(());
        };
        let inherited = self.in_sensitive();
        self.enclosing.push(Enclosing {
            name: l.name.clone(),
            facts: FnFacts {
                sensitive: facts.sensitive || inherited,
                ..facts
            },
        });
        let mut r = Ok(());
        for a in &mut l.arities {
            r = self.expr(&mut a.body);
            if r.is_err() {
                break;
            }
        }
        self.enclosing.pop();
        r
    }

    fn pattern(&mut self, p: &mut Pattern) -> Result<(), Diagnostic> {
        match p {
            Pattern::Ignore | Pattern::Bind(_) | Pattern::Literal(_) => Ok(()),
            Pattern::Type(_, inner) | Pattern::As(_, inner) => self.pattern(inner),
            Pattern::Seq { items, rest, .. } => {
                for i in items {
                    self.pattern(i)?;
                }
                match rest {
                    Some(r) => self.pattern(r),
                    None => Ok(()),
                }
            }
            Pattern::Map { entries, .. } => {
                for e in entries {
                    self.pattern(&mut e.pattern)?;
                    if let Some(d) = &mut e.default {
                        self.expr(d)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn exprs(&mut self, es: &mut [Expr]) -> Result<(), Diagnostic> {
        for e in es {
            self.expr(e)?;
        }
        Ok(())
    }

    fn expr(&mut self, e: &mut Expr) -> Result<(), Diagnostic> {
        match e {
            Expr::Const(_)
            | Expr::Local(_)
            | Expr::Capture(_)
            | Expr::SelfFn
            | Expr::Global(..)
            | Expr::PrimSlotInt(..)
            | Expr::PrimSlotSlot(..) => Ok(()),
            Expr::CellGet(x) | Expr::SetLocal(_, x) | Expr::Prim1(_, x, _) | Expr::Throw(x, _) => {
                self.expr(x)
            }
            Expr::If(b) => {
                self.expr(&mut b.0)?;
                self.expr(&mut b.1)?;
                self.expr(&mut b.2)
            }
            Expr::Do(xs) | Expr::Vector(xs) | Expr::Set(xs) | Expr::Recur(xs, _) => self.exprs(xs),
            Expr::CallBuiltin(_, xs, _) => self.exprs(xs),
            Expr::Bind(b) => {
                self.pattern(&mut b.0)?;
                self.expr(&mut b.1)
            }
            Expr::Prim(_, b, _) => {
                self.expr(&mut b.0)?;
                self.expr(&mut b.1)
            }
            Expr::MakeClosure(lambda, _) => {
                let facts = lambda_facts(lambda)?;
                self.lambda(lambda, facts)
            }
            Expr::DefGlobal(id, value) => {
                if let Expr::MakeClosure(lambda, _) = value.as_mut() {
                    let facts = lambda_facts(lambda)?;
                    if facts == FnFacts::default() {
                        self.table.globals.remove(id);
                    } else {
                        self.table.globals.insert(*id, facts.clone());
                    }
                    self.lambda(lambda, facts)
                } else {
                    self.expr(value)
                }
            }
            Expr::Loop(b) => {
                for (_, init) in &mut b.0 {
                    self.expr(init)?;
                }
                self.expr(&mut b.1)
            }
            Expr::Try(t) => {
                self.expr(&mut t.body)?;
                for c in &mut t.catches {
                    self.expr(&mut c.body)?;
                }
                match &mut t.finally {
                    Some(f) => self.expr(f),
                    None => Ok(()),
                }
            }
            Expr::Match(b, _) => {
                self.expr(&mut b.0)?;
                for c in &mut b.1 {
                    self.pattern(&mut c.pattern)?;
                    if let Some(g) = &mut c.guard {
                        self.expr(g)?;
                    }
                    self.expr(&mut c.body)?;
                }
                Ok(())
            }
            Expr::Map(entries) => {
                for (k, v) in entries.iter_mut() {
                    self.expr(k)?;
                    self.expr(v)?;
                }
                Ok(())
            }
            Expr::Parallel(branches) => {
                for (_, x) in branches.iter_mut() {
                    self.expr(x)?;
                }
                Ok(())
            }
            Expr::Call(c) => {
                self.expr(&mut c.callee)?;
                self.exprs(&mut c.args)?;
                let (callee, target, sensitive) = self.call_target(&c.callee);
                self.record(c.loc, CallKind::Function, callee, &target, sensitive);
                c.target = target;
                c.sensitive = sensitive;
                Ok(())
            }
            Expr::CapCall(c) => {
                self.expr(&mut c.id)?;
                self.exprs(&mut c.args)?;
                let sensitive = self.in_sensitive();
                let (callee, target) = match &c.id {
                    Expr::Const(Value::Keyword(k) | Value::Str(k) | Value::Symbol(k)) => {
                        let id = k.strip_prefix(':').unwrap_or(k).to_string();
                        let t = self.decide(CallKind::Capability, &id, sensitive);
                        (id, t)
                    }
                    _ => (
                        "<indirect>".to_string(),
                        CallTarget::Runtime {
                            reason: TargetReason::Indirect,
                        },
                    ),
                };
                self.record(c.loc, CallKind::Capability, callee, &target, sensitive);
                c.target = target;
                c.sensitive = sensitive;
                Ok(())
            }
        }
    }

    /// The callee's name, the annotation and whether the call carries sensitive data.
    fn call_target(&self, callee: &Expr) -> (String, CallTarget, bool) {
        let here = self.in_sensitive();
        match callee {
            Expr::Global(id, _) => {
                let name = self.globals.name(*id).to_string();
                let facts = self.table.get(*id).cloned().unwrap_or_default();
                let sensitive = here || facts.sensitive;
                let target = match facts.hint {
                    Some(h) => CallTarget::fixed(h, TargetReason::Hint),
                    None => self.decide(CallKind::Function, &name, sensitive),
                };
                (name, target, sensitive)
            }
            // The body of the enclosing function is running here already: its own
            // recursive calls stay where it runs.
            Expr::SelfFn => (
                self.enclosing
                    .last()
                    .and_then(|e| e.name.as_deref())
                    .map_or_else(|| "<self>".to_string(), |n| n.to_string()),
                CallTarget::fixed(ExecTarget::LocalPure, TargetReason::SelfCall),
                here,
            ),
            _ => (
                "<indirect>".to_string(),
                CallTarget::Runtime {
                    reason: TargetReason::Indirect,
                },
                here,
            ),
        }
    }
}
