//! The delegation-analysis pass: reads `^:delegation` hints and `^{:privacy :sensitive}`
//! marks (on `defn`/`fn`, parameters, `let` names and values), validates them, tracks which
//! values are computed from sensitive data (`taint.rs`), and annotates every call site of
//! the IR with a fixed `ExecTarget` (from a hint, which bypasses the engine, or from a
//! policy rule decidable at compile time) or "decide at run time", plus whether it carries
//! sensitive data. Entry point: [`annotate`].
//!
//! A call annotated `LocalPure` costs the interpreter one tag test; nothing else of the
//! Delegation Engine runs for it.

use std::collections::HashMap;
use std::sync::Arc;

use rtfs_ir::expr::{CaptureFrom, Expr, GlobalId, Lambda, Pattern, Slot, TopLevel};
use rtfs_ir::{
    CallKind, CallTarget, ExecTarget, SrcLoc, StaticDecision, StaticPolicy, TargetReason, Value,
};

use crate::convert::syntax_to_value;
use crate::diagnostic::{Diagnostic, codes};
use crate::globals::GlobalTable;
use crate::source::{FileId, Span};
use crate::syntax::{Syntax, SyntaxKind};
use crate::taint::{self, Frame, Taint, Why, join};

/// What the pass knows about a named function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FnFacts {
    pub hint: Option<ExecTarget>,
    /// The whole function is marked sensitive.
    pub sensitive: bool,
    /// Parameters marked sensitive, as written, with the shape (fixed parameters, rest) of
    /// the arity declaring them (`None`: not known yet, any arity). A call that reaches
    /// such an arity carries sensitive data by declaration.
    pub sensitive_params: Vec<(Option<ArityShape>, Arc<str>)>,
}

/// An arity's fixed parameter count and whether it takes a rest parameter.
pub type ArityShape = (u16, bool);

impl FnFacts {
    /// The first sensitive parameter of the arity a call with `n` arguments reaches.
    fn sensitive_param_for(&self, n: usize) -> Option<&Arc<str>> {
        let accepts =
            |(p, rest): (u16, bool)| usize::from(p) == n && !rest || rest && n >= usize::from(p);
        self.sensitive_params
            .iter()
            .find(|(shape, _)| shape.is_none_or(accepts))
            .map(|(_, name)| name)
    }
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
    /// Why the call carries sensitive data (e.g. "arg 1: param `doc`"); empty when it does not.
    pub why: Vec<String>,
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

/// Whether metadata marks a function `^{:privacy :sensitive}` (or `^:sensitive`).
pub fn is_sensitive(meta: &Value) -> bool {
    crate::privacy::is_sensitive(meta)
}

/// Sensitive parameters in a parameter vector's syntax (before lowering), as written.
fn marked_params(params: &Syntax, out: &mut Vec<(Option<ArityShape>, Arc<str>)>) {
    for p in params.as_vector().unwrap_or_default() {
        if crate::privacy::syntax_is_sensitive(p) {
            out.push((None, Arc::from(crate::privacy::describe(p))));
        }
    }
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
        let mut facts = FnFacts::default();
        for part in rest {
            match &part.kind {
                SyntaxKind::Vector(_) => {
                    metas.extend(part.meta.as_deref());
                    marked_params(part, &mut facts.sensitive_params);
                }
                SyntaxKind::List(l) => {
                    if let Some(v) = l.first().filter(|v| v.as_vector().is_some()) {
                        metas.extend(v.meta.as_deref());
                        marked_params(v, &mut facts.sensitive_params);
                    }
                }
                _ => {}
            }
        }
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
/// marked sensitive (or with a sensitive parameter) with an off-device hint, is an error at
/// the function's span. Privacy marks on values are taint sources (see `taint.rs`); the
/// marker calls lowering left in the IR are removed here.
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
        frames: vec![Frame::default()],
        dry: 0,
    };
    pass.expr(&mut top.expr).map(|_| ())
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
    /// Taint state of the function bodies being walked, innermost last.
    frames: Vec<Frame>,
    /// Above zero while a fixpoint estimates taint: nothing is annotated, recorded or
    /// rewritten, and nested functions are not entered.
    dry: u32,
}

/// Fixpoint rounds before giving up and treating every slot involved as sensitive.
const MAX_ROUNDS: usize = 8;

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
    let mut sensitive_params = Vec::new();
    for a in &lambda.arities {
        for (_, name) in &a.sensitive_params {
            sensitive_params.push((Some((a.params, a.rest)), name.clone()));
        }
    }
    if let Some(h) = hint.as_ref().filter(|h| !h.is_on_device()) {
        let what = if sensitive {
            Some("is marked ^{:privacy :sensitive}".to_string())
        } else {
            sensitive_params
                .first()
                .map(|(_, p)| format!("has a sensitive parameter {p}"))
        };
        if let Some(what) = what {
            return Err(Diagnostic::error(
                codes::BAD_DELEGATION,
                format!(
                    "`{}` {what} but its delegation hint sends it off the device ({h})",
                    lambda.display_name()
                ),
                span_of(lambda.loc),
            )
            .with_help("use :local or :local-model for functions that take sensitive data"));
        }
    }
    Ok(FnFacts {
        hint,
        sensitive,
        sensitive_params,
    })
}

fn param_taint(a: &rtfs_ir::expr::Arity) -> HashMap<Slot, Why> {
    a.sensitive_params
        .iter()
        .map(|(slot, name)| (*slot, Why::from(format!("param {name}"))))
        .collect()
}

impl Pass<'_> {
    fn in_sensitive(&self) -> bool {
        self.enclosing.last().is_some_and(|e| e.facts.sensitive)
    }

    fn frame(&mut self) -> &mut Frame {
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }

    fn record(&mut self, site: CallSite) {
        if self.dry > 0 {
            return;
        }
        if let Some(sites) = self.sites.as_deref_mut() {
            sites.push(site);
        }
    }

    /// The taint of an environment read whose name is `name`: a secret-looking name, one
    /// the policy names in `api_key_env`, or a name computed at run time (which could be
    /// either) make the value sensitive.
    fn env_taint(&self, name: Option<&Expr>) -> Taint {
        match name? {
            Expr::Const(Value::Str(n)) => (crate::privacy::is_secret_env_name(n)
                || self.policy.is_some_and(|p| p.secret_env(n)))
            .then(|| Why::from(format!("secret env var `{n}`"))),
            _ => Some(Why::from("env var with a computed name")),
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

    /// Walks a function. Its parameters start tainted where marked, or all of them when
    /// the function is created where sensitive data is in scope (a closure may be called
    /// with it: `(map (fn [x] …) docs)`); `recur` and self calls are iterated to a fixpoint.
    fn lambda(
        &mut self,
        lambda: &mut Arc<Lambda>,
        facts: FnFacts,
        captures: Vec<Taint>,
        scope: Taint,
    ) -> Result<(), Diagnostic> {
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
        let scope = scope.map(|w| Why::from(format!("closure over {w}")));
        let entry: Vec<HashMap<Slot, Why>> = l
            .arities
            .iter()
            .map(|a| {
                let mut m = param_taint(a);
                if let Some(w) = &scope {
                    let n = u32::from(a.params) + u32::from(a.rest);
                    for s in 0..n {
                        m.entry(s).or_insert_with(|| w.clone());
                    }
                }
                m
            })
            .collect();
        let r = self.arities(l, entry, captures);
        self.enclosing.pop();
        r
    }

    fn arities(
        &mut self,
        l: &mut Lambda,
        mut entry: Vec<HashMap<Slot, Why>>,
        captures: Vec<Taint>,
    ) -> Result<(), Diagnostic> {
        let shapes: Vec<u32> = l
            .arities
            .iter()
            .map(|a| u32::from(a.params) + u32::from(a.rest))
            .collect();
        // Taint reaching parameters through `recur` and self calls, estimated by dry walks.
        let mut converged = false;
        for _ in 0..MAX_ROUNDS {
            let mut inflow: HashMap<Slot, Why> = HashMap::new();
            for (a, slots) in l.arities.iter_mut().zip(&entry) {
                self.frames.push(Frame {
                    slots: slots.clone(),
                    captures: captures.clone(),
                    recur: HashMap::new(),
                });
                self.dry += 1;
                let r = self.expr(&mut a.body);
                self.dry -= 1;
                let f = self.frames.pop().unwrap_or_default();
                r?;
                for (s, w) in f.recur {
                    inflow.entry(s).or_insert(w);
                }
            }
            let mut changed = false;
            for (slots, n) in entry.iter_mut().zip(&shapes) {
                for (s, w) in &inflow {
                    if *s < *n && !slots.contains_key(s) {
                        slots.insert(*s, w.clone());
                        changed = true;
                    }
                }
            }
            if !changed {
                converged = true;
                break;
            }
        }
        if !converged {
            let w: Why = Why::from("recursion over sensitive data");
            for (slots, n) in entry.iter_mut().zip(&shapes) {
                for s in 0..*n {
                    slots.entry(s).or_insert_with(|| w.clone());
                }
            }
        }
        for (a, slots) in l.arities.iter_mut().zip(entry) {
            self.frames.push(Frame {
                slots,
                captures: captures.clone(),
                recur: HashMap::new(),
            });
            let r = self.expr(&mut a.body);
            self.frames.pop();
            r?;
        }
        Ok(())
    }

    /// Walks a pattern's default expressions and binds its slots to `t` joined with them.
    fn bind(&mut self, p: &mut Pattern, t: Taint) -> Result<(), Diagnostic> {
        let t = join(t, self.pattern(p)?);
        let mut slots = Vec::new();
        taint::pattern_slots(p, &mut slots);
        let f = self.frame();
        for s in slots {
            f.set(s, t.clone());
        }
        Ok(())
    }

    fn pattern(&mut self, p: &mut Pattern) -> Result<Taint, Diagnostic> {
        match p {
            Pattern::Ignore | Pattern::Bind(_) | Pattern::Literal(_) => Ok(None),
            Pattern::Type(_, inner) | Pattern::As(_, inner) => self.pattern(inner),
            Pattern::Seq { items, rest, .. } => {
                let mut t = None;
                for i in items {
                    t = join(t, self.pattern(i)?);
                }
                match rest {
                    Some(r) => Ok(join(t, self.pattern(r)?)),
                    None => Ok(t),
                }
            }
            Pattern::Map { entries, .. } => {
                let mut t = None;
                for e in entries {
                    t = join(t, self.pattern(&mut e.pattern)?);
                    if let Some(d) = &mut e.default {
                        t = join(t, self.expr(d)?);
                    }
                }
                Ok(t)
            }
        }
    }

    fn exprs(&mut self, es: &mut [Expr]) -> Result<(Taint, Vec<Taint>), Diagnostic> {
        let mut all = None;
        let mut each = Vec::with_capacity(es.len());
        for e in es {
            let t = self.expr(e)?;
            all = join(all, t.clone());
            each.push(t);
        }
        Ok((all, each))
    }

    fn union(&mut self, es: &mut [Expr]) -> Result<Taint, Diagnostic> {
        Ok(self.exprs(es)?.0)
    }

    /// `(loop [slots inits] body)`: the slots' taint is the inits' joined with what `recur`
    /// passes back, found by dry walks (a nested loop inside a dry walk takes, instead, the
    /// taint of anything sensitive in scope, which keeps the walk linear).
    fn loop_expr(&mut self, b: &mut (Vec<(Slot, Expr)>, Expr)) -> Result<Taint, Diagnostic> {
        let mut entry: Vec<(Slot, Taint)> = Vec::with_capacity(b.0.len());
        for (slot, init) in &mut b.0 {
            let t = self.expr(init)?;
            entry.push((*slot, t));
        }
        if self.dry > 0 {
            let any = self.frame().any();
            for (slot, t) in entry {
                let t = join(t, any.clone());
                self.frame().set(slot, t);
            }
            return self.expr(&mut b.1);
        }
        let mut converged = false;
        for _ in 0..MAX_ROUNDS {
            for (slot, t) in &entry {
                self.frame().set(*slot, t.clone());
                self.frame().recur.remove(slot);
            }
            self.dry += 1;
            let r = self.expr(&mut b.1);
            self.dry -= 1;
            r?;
            let mut changed = false;
            for (slot, t) in &mut entry {
                if t.is_none()
                    && let Some(w) = self.frame().recur.get(slot).cloned()
                {
                    *t = Some(w);
                    changed = true;
                }
            }
            if !changed {
                converged = true;
                break;
            }
        }
        let any = if converged { None } else { self.frame().any() };
        for (slot, t) in entry {
            self.frame().set(slot, join(t, any.clone()));
        }
        self.expr(&mut b.1)
    }

    /// The taint of `e`'s value; annotates the calls inside it.
    fn expr(&mut self, e: &mut Expr) -> Result<Taint, Diagnostic> {
        match e {
            Expr::Const(_) | Expr::SelfFn | Expr::Global(..) => Ok(None),
            Expr::Local(s) => Ok(self.frame().slot(*s)),
            Expr::Capture(i) => Ok(self.frame().capture(*i)),
            Expr::PrimSlotInt(_, s, _, _) => Ok(self.frame().slot(*s)),
            Expr::PrimSlotSlot(_, a, b, _) => {
                let f = self.frame();
                Ok(join(f.slot(*a), f.slot(*b)))
            }
            Expr::CellGet(x) | Expr::Prim1(_, x, _) | Expr::Throw(x, _) => self.expr(x),
            Expr::SetLocal(s, x) => {
                let t = self.expr(x)?;
                self.frame().set(*s, t);
                Ok(None)
            }
            Expr::If(b) => {
                let c = self.expr(&mut b.0)?;
                let t = self.expr(&mut b.1)?;
                let f = self.expr(&mut b.2)?;
                Ok(join(c, join(t, f)))
            }
            Expr::Do(xs) | Expr::Vector(xs) | Expr::Set(xs) => self.union(xs),
            Expr::Recur(xs, slots) => {
                let (_, each) = self.exprs(xs)?;
                let f = self.frame();
                for (slot, t) in slots.iter().zip(each) {
                    f.add_recur(*slot, t);
                }
                Ok(None)
            }
            Expr::CallBuiltin(b, xs, _) if crate::privacy::is_mark(b) && xs.len() == 2 => {
                let inner = self.expr(&mut xs[0])?;
                let what = match &xs[1] {
                    Expr::Const(Value::Str(s)) => s.to_string(),
                    _ => "a marked value".to_string(),
                };
                if self.dry == 0 {
                    let value = std::mem::replace(&mut xs[0], Expr::Const(Value::Nil));
                    *e = value;
                }
                Ok(join(Some(Why::from(format!("marked {what}"))), inner))
            }
            Expr::CallBuiltin(b, xs, loc) => {
                let read = (b.name == crate::privacy::ENV_BUILTIN)
                    .then(|| self.env_taint(xs.first()))
                    .flatten();
                let t = self.union(xs)?;
                if t.is_some() && self.dry == 0 {
                    // A built-in given sensitive data may call back into RTFS functions
                    // (`map`, `reduce`, …): as a sensitive call it runs them in the
                    // runtime's sensitive scope, where their own calls stay on the device.
                    let args = std::mem::take(xs);
                    *e = Expr::Call(Box::new(rtfs_ir::expr::Call {
                        callee: Expr::Const(Value::Builtin(b)),
                        args,
                        loc: *loc,
                        target: CallTarget::fixed(ExecTarget::LocalPure, TargetReason::NoPolicy),
                        sensitive: true,
                    }));
                }
                Ok(join(t, read))
            }
            Expr::Bind(b) => {
                let t = self.expr(&mut b.1)?;
                self.bind(&mut b.0, t)?;
                Ok(None)
            }
            Expr::Prim(_, b, _) => {
                let x = self.expr(&mut b.0)?;
                let y = self.expr(&mut b.1)?;
                Ok(join(x, y))
            }
            Expr::MakeClosure(lambda, from) => {
                let f = self.frame();
                let captures: Vec<Taint> = from
                    .iter()
                    .map(|c| match c {
                        CaptureFrom::Local(s) => f.slot(*s),
                        CaptureFrom::Capture(i) => f.capture(*i),
                        CaptureFrom::SelfFn => None,
                    })
                    .collect();
                let scope = f.any();
                let value = captures.iter().flatten().next().cloned();
                if self.dry == 0 {
                    let facts = lambda_facts(lambda)?;
                    self.lambda(lambda, facts, captures, scope)?;
                }
                Ok(value)
            }
            Expr::DefGlobal(id, value) => {
                if self.dry > 0 {
                    return Ok(None);
                }
                if let Expr::MakeClosure(lambda, _) = value.as_mut() {
                    let facts = lambda_facts(lambda)?;
                    if facts == FnFacts::default() {
                        self.table.globals.remove(id);
                    } else {
                        self.table.globals.insert(*id, facts.clone());
                    }
                    let scope = self.frame().any();
                    self.lambda(lambda, facts, Vec::new(), scope)?;
                } else {
                    self.expr(value)?;
                }
                Ok(None)
            }
            Expr::Loop(b) => self.loop_expr(b),
            Expr::Try(t) => {
                let body = self.expr(&mut t.body)?;
                let mut all = body.clone();
                for c in &mut t.catches {
                    self.frame().set(c.slot, body.clone());
                    all = join(all, self.expr(&mut c.body)?);
                }
                if let Some(f) = &mut t.finally {
                    self.expr(f)?;
                }
                Ok(all)
            }
            Expr::Match(b, _) => {
                let scrutinee = self.expr(&mut b.0)?;
                let mut all = scrutinee.clone();
                for c in &mut b.1 {
                    self.bind(&mut c.pattern, scrutinee.clone())?;
                    if let Some(g) = &mut c.guard {
                        all = join(all, self.expr(g)?);
                    }
                    all = join(all, self.expr(&mut c.body)?);
                }
                Ok(all)
            }
            Expr::Map(entries) => {
                let mut all = None;
                for (k, v) in entries.iter_mut() {
                    all = join(all, self.expr(k)?);
                    all = join(all, self.expr(v)?);
                }
                Ok(all)
            }
            Expr::Parallel(branches) => {
                let mut all = None;
                for (_, x) in branches.iter_mut() {
                    all = join(all, self.expr(x)?);
                }
                Ok(all)
            }
            Expr::Plan(p) => self.expr(p.body_mut()),
            Expr::Call(c) => {
                let callee_taint = self.expr(&mut c.callee)?;
                let (args_taint, each) = self.exprs(&mut c.args)?;
                if matches!(c.callee, Expr::SelfFn) {
                    let f = self.frame();
                    for (i, t) in each.iter().enumerate() {
                        f.add_recur(i as Slot, t.clone());
                    }
                }
                let (callee, facts) = self.callee_facts(&c.callee);
                let mut why = self.context_why(&callee, &facts, each.len());
                arg_reasons(&each, &mut why);
                if let Some(w) = &callee_taint {
                    why.push(format!("callee computed from {w}"));
                }
                let sensitive = !why.is_empty();
                let result = join(
                    join(callee_taint, args_taint),
                    facts
                        .sensitive
                        .then(|| Why::from(format!("result of sensitive `{callee}`"))),
                );
                if self.dry > 0 {
                    return Ok(result);
                }
                let target = self.call_target(&c.callee, &callee, &facts, sensitive);
                self.record(CallSite {
                    loc: c.loc,
                    kind: CallKind::Function,
                    callee,
                    target: target.clone(),
                    sensitive,
                    why,
                });
                c.target = target;
                c.sensitive = sensitive;
                Ok(result)
            }
            Expr::CapCall(c) => {
                let id_taint = self.expr(&mut c.id)?;
                let (args_taint, each) = self.exprs(&mut c.args)?;
                let mut why = Vec::new();
                if self.in_sensitive() {
                    why.push(self.inside_why());
                }
                arg_reasons(&each, &mut why);
                let sensitive = !why.is_empty();
                let read = match &c.id {
                    Expr::Const(Value::Keyword(k) | Value::Str(k))
                        if k.strip_prefix(':').unwrap_or(k) == crate::privacy::ENV_CAPABILITY =>
                    {
                        self.env_taint(c.args.first())
                    }
                    _ => None,
                };
                let result = join(join(id_taint, args_taint), read);
                if self.dry > 0 {
                    return Ok(result);
                }
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
                self.record(CallSite {
                    loc: c.loc,
                    kind: CallKind::Capability,
                    callee,
                    target: target.clone(),
                    sensitive,
                    why,
                });
                c.target = target;
                c.sensitive = sensitive;
                Ok(result)
            }
        }
    }

    fn inside_why(&self) -> String {
        let name = self
            .enclosing
            .iter()
            .rev()
            .find(|e| e.facts.sensitive)
            .and_then(|e| e.name.as_deref())
            .map_or("fn", |n| n.as_str());
        format!("inside sensitive `{name}`")
    }

    /// The callee's display name and what the pass knows about it.
    fn callee_facts(&self, callee: &Expr) -> (String, FnFacts) {
        match callee {
            Expr::Global(id, _) => (
                self.globals.name(*id).to_string(),
                self.table.get(*id).cloned().unwrap_or_default(),
            ),
            Expr::SelfFn => (
                self.enclosing
                    .last()
                    .and_then(|e| e.name.as_deref())
                    .map_or_else(|| "<self>".to_string(), |n| n.to_string()),
                FnFacts::default(),
            ),
            _ => ("<indirect>".to_string(), FnFacts::default()),
        }
    }

    /// Reasons a call is sensitive that do not depend on its arguments' values.
    fn context_why(&self, callee: &str, facts: &FnFacts, nargs: usize) -> Vec<String> {
        let mut why = Vec::new();
        if self.in_sensitive() {
            why.push(self.inside_why());
        }
        if facts.sensitive {
            why.push(format!("`{callee}` is marked sensitive"));
        }
        if let Some(p) = facts.sensitive_param_for(nargs) {
            why.push(format!("`{callee}` takes sensitive param {p}"));
        }
        why
    }

    /// The annotation of a function call.
    fn call_target(
        &self,
        callee: &Expr,
        name: &str,
        facts: &FnFacts,
        sensitive: bool,
    ) -> CallTarget {
        match callee {
            Expr::Global(..) => match &facts.hint {
                Some(h) => CallTarget::fixed(h.clone(), TargetReason::Hint),
                None => self.decide(CallKind::Function, name, sensitive),
            },
            // The body of the enclosing function is running here already: its own
            // recursive calls stay where it runs.
            Expr::SelfFn => CallTarget::fixed(ExecTarget::LocalPure, TargetReason::SelfCall),
            _ => CallTarget::Runtime {
                reason: TargetReason::Indirect,
            },
        }
    }
}

fn arg_reasons(each: &[Taint], why: &mut Vec<String>) {
    for (i, t) in each.iter().enumerate() {
        if let Some(w) = t {
            why.push(format!("arg {}: {w}", i + 1));
        }
    }
}
