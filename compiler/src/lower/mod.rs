//! Lowering: syntax (after macro expansion, which happens on demand here) to IR.
//!
//! One `Lowerer` handles one top-level form. Names resolve, innermost first, to a local
//! slot, a captured variable, the enclosing function itself, a global, or a built-in;
//! anything else is a compile error with its span. Special forms live in the sibling
//! modules, one concern each.

mod annotations;
mod bindings;
mod control;
mod functions;
mod patterns;
mod plan_forms;
pub mod scope;

use std::collections::HashSet;
use std::sync::Arc;

use rtfs_ir::expr::{CaptureFrom, Expr, PrimOp, PrimOp1, TopLevel};
use rtfs_ir::{RtResult, Value};

use crate::convert::{ToSyntaxError, loc, syntax_to_value, value_to_syntax};
use crate::diagnostic::Diagnostic;
use crate::globals::GlobalTable;
use crate::limits::{ExpansionBudget, MAX_EXPANSIONS, MAX_NESTING};
use crate::quasi::Quasi;
use crate::source::Span;
use crate::syntax::{Syntax, SyntaxKind};
use scope::{FnCtx, Res};

pub type LResult<T> = Result<T, Diagnostic>;

/// What the compiler needs from the runtime: running code at compile time (macro
/// transformers, and top-level `defn`s so macros may call them).
pub trait CompileHost {
    /// `globals` names every id the code may refer to, so errors raised at compile time
    /// (say, a macro calling an undefined function) can name it.
    fn run(&mut self, top: &TopLevel, globals: &GlobalTable) -> RtResult<Value>;
    fn apply(&mut self, f: &Value, args: &[Value], globals: &GlobalTable) -> RtResult<Value>;
    /// The built-in function named `name`, if any.
    fn builtin(&self, name: &str) -> Option<&'static rtfs_ir::Builtin>;
}

pub struct Lowerer<'a> {
    pub globals: &'a mut GlobalTable,
    pub host: &'a mut dyn CompileHost,
    /// Top-level names defined anywhere in the unit being compiled (forward references).
    pub declared: &'a HashSet<String>,
    pub counter: &'a mut u64,
    /// Macro expansion work left for the whole unit (shared by its forms).
    pub budget: &'a mut ExpansionBudget,
    fns: Vec<FnCtx>,
    depth: usize,
    expansions: usize,
    /// Tests a `match` pattern adds to its clause's guard: `(:when p test)`, compound type
    /// patterns, nested literal alternatives.
    pattern_guards: Vec<Expr>,
}

fn budget_exhausted(name: &str, limit: usize, span: Span) -> Diagnostic {
    err(
        "limit",
        format!(
            "limit-exceeded while expanding macro `{name}`: the unit's macro expansion budget \
             ({limit} nodes) is used up"
        ),
        span,
    )
    .with_help("a macro whose output grows with every expansion step; expand less at a time")
}

pub fn err(code: &'static str, msg: impl Into<String>, span: Span) -> Diagnostic {
    Diagnostic::error(code, msg, span)
}

/// Special forms recognised by name when the name is not shadowed by a local.
const SPECIAL_FORMS: &[&str] = &[
    "quote",
    "quasiquote",
    "if",
    "do",
    "let",
    "letrec",
    "letfn",
    "fn",
    "lambda",
    "defn",
    "defn-",
    "def",
    "defmacro",
    "loop",
    "recur",
    "try",
    "throw",
    "match",
    "call",
    "and",
    "or",
    "with-resource",
    "defresource",
    "parallel",
    "log-step",
    "step",
    "set!",
    "unquote",
    "unquote-splicing",
    "λ",
    "deftype",
    "assert-type",
    "delay",
];

pub fn is_special_form(name: &str) -> bool {
    SPECIAL_FORMS.contains(&name)
}

impl<'a> Lowerer<'a> {
    pub fn new(
        globals: &'a mut GlobalTable,
        host: &'a mut dyn CompileHost,
        declared: &'a HashSet<String>,
        counter: &'a mut u64,
        budget: &'a mut ExpansionBudget,
    ) -> Lowerer<'a> {
        Lowerer {
            globals,
            host,
            declared,
            counter,
            budget,
            fns: vec![FnCtx::default()],
            depth: 0,
            expansions: 0,
            pattern_guards: Vec::new(),
        }
    }

    /// Lowers one top-level form into a runnable unit.
    pub fn lower_toplevel(&mut self, form: &Syntax) -> LResult<TopLevel> {
        self.fns = vec![FnCtx::default()];
        let expr = self.lower(form, false)?;
        let frame_size = self.fns[0].frame_size;
        Ok(TopLevel {
            expr,
            frame_size,
            loc: loc(form.span),
        })
    }

    fn ctx(&mut self) -> &mut FnCtx {
        let n = self.fns.len() - 1;
        &mut self.fns[n]
    }

    fn resolve_at(&mut self, level: usize, name: &str) -> Option<Res> {
        if let Some(r) = self.fns[level].lookup(name) {
            return Some(r);
        }
        if level == 0 {
            return None;
        }
        let (from, cell) = match self.resolve_at(level - 1, name)? {
            Res::Local(s, c) => (CaptureFrom::Local(s), c),
            Res::Capture(i, c) => (CaptureFrom::Capture(i), c),
            Res::SelfFn => (CaptureFrom::SelfFn, false),
        };
        let f = &mut self.fns[level];
        f.captures.push((Arc::from(name), from, cell));
        Some(Res::Capture((f.captures.len() - 1) as u32, cell))
    }

    fn resolve_local(&mut self, name: &str) -> Option<Res> {
        let top = self.fns.len() - 1;
        self.resolve_at(top, name)
    }

    fn is_local(&self, name: &str) -> bool {
        self.fns.iter().any(|f| f.lookup(name).is_some())
    }

    fn is_user_global(&self, name: &str) -> bool {
        self.declared.contains(name) || self.globals.is_defined(name)
    }

    fn res_expr(r: Res) -> Expr {
        match r {
            Res::Local(s, false) => Expr::Local(s),
            Res::Local(s, true) => Expr::CellGet(Box::new(Expr::Local(s))),
            Res::Capture(i, false) => Expr::Capture(i),
            Res::Capture(i, true) => Expr::CellGet(Box::new(Expr::Capture(i))),
            Res::SelfFn => Expr::SelfFn,
        }
    }

    fn builtin(&self, name: &str) -> Option<&'static rtfs_ir::Builtin> {
        self.host
            .builtin(name.strip_prefix("rtfs.core/").unwrap_or(name))
    }

    fn resolve_symbol(&mut self, name: &str, span: Span) -> LResult<Expr> {
        if name.starts_with("rtfs.core/") {
            return self
                .builtin(name)
                .map(|b| Expr::Const(Value::Builtin(b)))
                .ok_or_else(|| {
                    err(
                        "unbound-symbol",
                        format!("no built-in named `{name}`"),
                        span,
                    )
                });
        }
        if let Some(r) = self.resolve_local(name) {
            return Ok(Self::res_expr(r));
        }
        if self.is_user_global(name) {
            return Ok(Expr::Global(self.globals.intern(name), loc(span)));
        }
        if let Some(b) = self.builtin(name) {
            return Ok(Expr::Const(Value::Builtin(b)));
        }
        if self.globals.macro_named(name).is_some() || is_special_form(name) {
            return Err(err(
                "syntax",
                format!("`{name}` is a macro or special form, not a value"),
                span,
            ));
        }
        // Unknown here, but a later unit (REPL input, host registration) may define it:
        // reading it before then raises a catchable `unbound-symbol` error.
        Ok(Expr::Global(self.globals.intern(name), loc(span)))
    }

    /// Lowers an expression; `tail` says whether it is in tail position of its function or
    /// loop (where `recur` is allowed).
    pub fn lower(&mut self, form: &Syntax, tail: bool) -> LResult<Expr> {
        if self.depth >= MAX_NESTING {
            return Err(err(
                "limit",
                format!("expression nests too deeply (limit {MAX_NESTING})"),
                form.span,
            ));
        }
        self.depth += 1;
        let r = if form.meta.is_some() && marks_value(form) {
            // Not in tail position: the marker call wraps the value.
            self.lower_inner(form, false)
                .map(|v| crate::privacy::mark(v, crate::privacy::describe(form), loc(form.span)))
        } else {
            self.lower_inner(form, tail)
        };
        self.depth -= 1;
        r
    }

    fn lower_inner(&mut self, form: &Syntax, tail: bool) -> LResult<Expr> {
        match &form.kind {
            SyntaxKind::Symbol(name) => self.resolve_symbol(name, form.span),
            SyntaxKind::List(items) if items.is_empty() => Ok(Expr::Const(Value::list([]))),
            SyntaxKind::List(items) => self.lower_list(form, items, tail),
            SyntaxKind::Vector(items) => {
                if items.iter().all(is_constant) {
                    return Ok(Expr::Const(syntax_to_value(form)));
                }
                let exprs = self.lower_all(items)?;
                Ok(Expr::Vector(exprs.into()))
            }
            SyntaxKind::Set(items) => {
                reject_duplicate_literals(items.iter())?;
                if items.iter().all(is_constant) {
                    return Ok(Expr::Const(syntax_to_value(form)));
                }
                let exprs = self.lower_all(items)?;
                Ok(Expr::Set(exprs.into()))
            }
            SyntaxKind::Map(entries) => {
                reject_duplicate_literals(entries.iter().map(|(k, _)| k))?;
                if entries
                    .iter()
                    .all(|(k, v)| is_constant(k) && is_constant(v))
                {
                    return Ok(Expr::Const(syntax_to_value(form)));
                }
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((self.lower(k, false)?, self.lower(v, false)?));
                }
                Ok(Expr::Map(out.into()))
            }
            _ => Ok(Expr::Const(syntax_to_value(form))),
        }
    }

    fn lower_all(&mut self, items: &[Syntax]) -> LResult<Vec<Expr>> {
        items.iter().map(|i| self.lower(i, false)).collect()
    }

    /// Lowers a body (implicit `do`): the last form is in tail position.
    pub fn lower_body(&mut self, forms: &[Syntax], tail: bool) -> LResult<Expr> {
        match forms {
            [] => Ok(Expr::Const(Value::Nil)),
            [one] => self.lower(one, tail),
            _ => {
                let mut out = Vec::with_capacity(forms.len());
                for (i, f) in forms.iter().enumerate() {
                    out.push(self.lower(f, tail && i + 1 == forms.len())?);
                }
                Ok(Expr::Do(out.into()))
            }
        }
    }

    fn lower_list(&mut self, form: &Syntax, items: &[Syntax], tail: bool) -> LResult<Expr> {
        let head = &items[0];
        if let Some(name) = head.as_symbol()
            && !self.is_local(name)
        {
            if is_special_form(name) && !self.is_user_global(name) {
                return self.lower_special(name, form, items, tail);
            }
            if let Some(transformer) = self.globals.macro_named(name).cloned() {
                let expanded = self.expand_macro(name, &transformer, form, items)?;
                return self.lower(&expanded, tail);
            }
        }
        self.lower_call(form, items, tail)
    }

    fn expand_macro(
        &mut self,
        name: &str,
        transformer: &Value,
        form: &Syntax,
        items: &[Syntax],
    ) -> LResult<Syntax> {
        self.expansions += 1;
        if self.expansions > MAX_EXPANSIONS {
            return Err(err(
                "limit",
                format!(
                    "too many macro expansions (limit {MAX_EXPANSIONS}); is `{name}` recursive?"
                ),
                form.span,
            ));
        }
        let input: usize = items[1..].iter().map(Syntax::node_count).sum();
        if !self.budget.charge(input) {
            return Err(budget_exhausted(name, self.budget.limit(), form.span));
        }
        let args: Vec<Value> = items[1..].iter().map(syntax_to_value).collect();
        let out = self
            .host
            .apply(transformer, &args, self.globals)
            .map_err(|e| {
                err(
                    "macro",
                    format!("error while expanding macro `{name}`: {e}"),
                    form.span,
                )
            })?;
        value_to_syntax(&out, form.span, 0, self.budget).map_err(|e| match e {
            ToSyntaxError::Limit(why) => err(
                "limit",
                format!("limit-exceeded while expanding macro `{name}`: {why}"),
                form.span,
            ),
            ToSyntaxError::NotCode(why) => err(
                "macro",
                format!("macro `{name}` produced invalid code: {why}"),
                form.span,
            ),
        })
    }

    /// `(macroexpand-1 'form)` / `(macroexpand 'form)` with a quoted form: expanded now.
    fn lower_macroexpand(&mut self, form: &Syntax, fully: bool) -> LResult<Expr> {
        let mut current = form.clone();
        while let Some(items) = current.as_list() {
            let Some(name) = items.first().and_then(Syntax::as_symbol) else {
                break;
            };
            let Some(t) = self.globals.macro_named(name).cloned() else {
                break;
            };
            let items = items.to_vec();
            current = self.expand_macro(name, &t, &current, &items)?;
            if !fully {
                break;
            }
        }
        Ok(Expr::Const(syntax_to_value(&current)))
    }

    fn lower_call(&mut self, form: &Syntax, items: &[Syntax], tail: bool) -> LResult<Expr> {
        let head = &items[0];
        let args_syn = &items[1..];
        let at = loc(form.span);
        if let Some(kw) = head.as_keyword() {
            // `(:k m)` / `(:k m default)`: keyword lookup.
            if args_syn.is_empty() || args_syn.len() > 2 {
                return Err(err(
                    "arity",
                    format!("keyword `:{kw}` used as a function takes 1 or 2 arguments"),
                    form.span,
                ));
            }
            let get = self
                .builtin("get")
                .ok_or_else(|| err("internal", "built-in `get` missing", form.span))?;
            let mut args = vec![
                self.lower(&args_syn[0], false)?,
                Expr::Const(Value::keyword(kw)),
            ];
            if let Some(d) = args_syn.get(1) {
                args.push(self.lower(d, false)?);
            }
            return Ok(Expr::CallBuiltin(get, args.into(), at));
        }
        // `(Foo. "message" data?)` builds an error value of type :Foo.
        if let Some(name) = head.as_symbol()
            && let Some(ty) = name.strip_suffix('.')
            && ty.chars().next().is_some_and(char::is_uppercase)
            && !self.is_local(name)
            && let Some(ctor) = self.builtin("rtfs.host/new-error")
        {
            let mut args = vec![Expr::Const(Value::keyword(ty))];
            args.extend(self.lower_all(args_syn)?);
            return Ok(Expr::CallBuiltin(ctor, args.into(), at));
        }
        if let Some(which @ ("macroexpand" | "macroexpand-1")) = head.as_symbol()
            && !self.is_local(which)
            && let [arg] = args_syn
            && let Some([q, form]) = arg.as_list()
            && q.is_symbol("quote")
        {
            return self.lower_macroexpand(form, which == "macroexpand");
        }
        let callee = self.lower(head, false)?;
        if let Expr::Const(Value::Builtin(b)) = &callee {
            let b: &'static rtfs_ir::Builtin = b;
            let args = self.lower_all(args_syn)?;
            return Ok(prim_or_builtin(b, args, at));
        }
        let args = self.lower_all(args_syn)?;
        if matches!(callee, Expr::SelfFn) && tail {
            let ctx = self.ctx();
            if ctx.no_self_jump == 0
                && ctx.self_tail_params == Some(args.len() as u16)
                && let Some(t) = &ctx.recur
                && t.slots.len() == args.len()
            {
                return Ok(Expr::Recur(args.into(), t.slots.clone().into()));
            }
        }
        Ok(Expr::Call(Box::new(rtfs_ir::expr::Call {
            callee,
            args: args.into(),
            loc: at,
            target: Default::default(),
            sensitive: false,
        })))
    }

    /// Lowers a special form; its syntax errors name the form ("let: ...").
    fn lower_special(
        &mut self,
        name: &str,
        form: &Syntax,
        items: &[Syntax],
        tail: bool,
    ) -> LResult<Expr> {
        self.lower_special_form(name, form, items, tail)
            .map_err(|mut d| {
                if d.code == "syntax"
                    && !d.message.starts_with('`')
                    && !d.message.contains(&format!("`{name}`"))
                {
                    d.message = format!("{name}: {}", d.message);
                }
                d
            })
    }

    fn lower_special_form(
        &mut self,
        name: &str,
        form: &Syntax,
        items: &[Syntax],
        tail: bool,
    ) -> LResult<Expr> {
        let span = form.span;
        let args = &items[1..];
        match name {
            "quote" => match args {
                [x] => Ok(Expr::Const(syntax_to_value(x))),
                _ => Err(err("syntax", "`quote` takes exactly one form", span)),
            },
            "quasiquote" => match args {
                [x] => {
                    let code = Quasi::new(self.counter).expand(x)?;
                    self.lower(&code, tail)
                }
                _ => Err(err("syntax", "`quasiquote` takes exactly one form", span)),
            },
            "unquote" | "unquote-splicing" => Err(err(
                "syntax",
                format!("`{name}` (~ or ~@) is only valid inside a quasiquote (`)"),
                span,
            )),
            "if" => self.lower_if(args, span, tail),
            "do" => self.lower_body(args, tail),
            "and" => self.lower_and_or(args, true, tail),
            "or" => self.lower_and_or(args, false, tail),
            "let" => self.lower_let(name, args, span, tail, false),
            "with-resource" => self.lower_with_resource(args, span),
            "defresource" => self.lower_defresource(args, span),
            "letrec" => self.lower_let(name, args, span, tail, true),
            "letfn" => self.lower_letfn(args, span, tail),
            "loop" => self.lower_loop(args, span),
            "recur" => self.lower_recur(args, span, tail),
            "fn" | "lambda" | "λ" => self.lower_fn(form, &args.iter().collect::<Vec<_>>(), None),
            "defn" | "defn-" => self.lower_defn(form, args),
            "def" => self.lower_def(args, span),
            "deftype" => self.lower_deftype(args, span),
            "assert-type" => self.lower_assert_type(args, span),
            "delay" => self.lower_delay(form, args, span),
            "defmacro" => self.lower_defmacro(args, span),
            "try" => self.lower_try(args, span),
            "throw" => match args {
                [x] => Ok(Expr::Throw(Box::new(self.lower(x, false)?), loc(span))),
                _ => Err(err("syntax", "`throw` takes exactly one value", span)),
            },
            "match" => self.lower_match(args, span, tail),
            "call" => self.lower_capability_call(args, span),
            "parallel" => self.lower_parallel(args, span),
            "step" => self.lower_step(args, span),
            "log-step" => self.lower_log_step(args, span),
            "set!" => Err(err(
                "syntax",
                "`set!` is not supported: RTFS values are immutable",
                span,
            )
            .with_help("use `let` to rebind, or an atom with `reset!`/`swap!` for state")),
            _ => Err(err(
                "internal",
                format!("unhandled special form `{name}`"),
                span,
            )),
        }
    }

    /// `(log-step :level "message" data...)`: evaluates its arguments and logs them.
    fn lower_log_step(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let log = self
            .builtin("rtfs.host/log-step")
            .ok_or_else(|| err("internal", "log-step is not available", span))?;
        let args = self.lower_all(args)?;
        Ok(Expr::CallBuiltin(log, args.into(), loc(span)))
    }

    fn lower_capability_call(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let Some((id, rest)) = args.split_first() else {
            return Err(err(
                "syntax",
                "`call` needs a capability id, e.g. (call :ccos.echo \"hi\")",
                span,
            ));
        };
        let id = self.lower(id, false)?;
        let args = self.lower_all(rest)?;
        Ok(Expr::CapCall(Box::new(rtfs_ir::expr::CapCall {
            id,
            args: args.into(),
            loc: loc(span),
            target: Default::default(),
            sensitive: false,
        })))
    }

    fn lower_parallel(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let mut branches = Vec::new();
        for b in args {
            match b.as_vector() {
                Some([name, value]) | Some([name, _, value]) if name.as_symbol().is_some() => {
                    let raw = name.as_symbol().unwrap_or_default();
                    let key = Value::keyword(bindings::strip_inline_type(raw));
                    branches.push((key, self.lower(value, false)?));
                }
                _ => {
                    return Err(err(
                        "syntax",
                        "`parallel` takes bindings like [name expr]",
                        b.span,
                    )
                    .with_label(span, "in this parallel"));
                }
            }
        }
        Ok(Expr::Parallel(branches.into()))
    }
}

/// Literal syntax that evaluates to itself.
fn is_constant(s: &Syntax) -> bool {
    match &s.kind {
        SyntaxKind::Symbol(_) | SyntaxKind::List(_) => false,
        SyntaxKind::Vector(items) | SyntaxKind::Set(items) => items.iter().all(is_constant),
        SyntaxKind::Map(entries) => entries
            .iter()
            .all(|(k, v)| is_constant(k) && is_constant(v)),
        _ => true,
    }
}

fn prim2(name: &str) -> Option<PrimOp> {
    Some(match name {
        "+" => PrimOp::Add,
        "-" => PrimOp::Sub,
        "*" => PrimOp::Mul,
        "/" => PrimOp::Div,
        "<" => PrimOp::Lt,
        "<=" => PrimOp::Le,
        ">" => PrimOp::Gt,
        ">=" => PrimOp::Ge,
        "==" => PrimOp::NumEq,
        "=" => PrimOp::Eq,
        "not=" | "!=" => PrimOp::NotEq,
        "rem" => PrimOp::Rem,
        "mod" => PrimOp::Mod,
        _ => return None,
    })
}

fn prim1(name: &str) -> Option<PrimOp1> {
    Some(match name {
        "inc" => PrimOp1::Inc,
        "dec" => PrimOp1::Dec,
        "not" => PrimOp1::Not,
        "nil?" => PrimOp1::IsNil,
        "zero?" => PrimOp1::IsZero,
        _ => return None,
    })
}

/// Arithmetic calls up to this many arguments lower to a chain of inline operations.
const NARROW_FOLD: usize = 16;

fn prim_or_builtin(b: &'static rtfs_ir::Builtin, mut args: Vec<Expr>, at: rtfs_ir::SrcLoc) -> Expr {
    // `(+ a b c)` is `(+ (+ a b) c)`: same result and same errors, evaluated left to right.
    // Wider calls go to the built-in, which folds in a loop: a left-nested chain of
    // thousands of operations would be as deep as it is wide for every later pass.
    if (3..=NARROW_FOLD).contains(&args.len())
        && matches!(b.name, "+" | "-" | "*" | "/")
        && let Some(op) = prim2(b.name)
    {
        let folded = args
            .into_iter()
            .reduce(|acc, next| Expr::Prim(op, Box::new((acc, next)), at));
        return folded.unwrap_or(Expr::Const(Value::Nil));
    }
    if args.len() == 2
        && let Some(op) = prim2(b.name)
        && let (Some(y), Some(x)) = (args.pop(), args.pop())
    {
        return match (x, y) {
            (Expr::Local(a), Expr::Const(Value::Int(k))) => Expr::PrimSlotInt(op, a, k, at),
            (Expr::Local(a), Expr::Local(b)) => Expr::PrimSlotSlot(op, a, b, at),
            (x, y) => Expr::Prim(op, Box::new((x, y)), at),
        };
    }
    if args.len() == 1
        && let Some(op) = prim1(b.name)
        && let Some(x) = args.pop()
    {
        return Expr::Prim1(op, Box::new(x), at);
    }
    Expr::CallBuiltin(b, args.into(), at)
}

/// `{:a 1 :a 2}` and `#{1 1}` are mistakes in the source (Clojure rejects them too): a
/// literal map or set must not repeat a constant key.
// Constants read from source are never atoms, so no key here can change while stored.
#[allow(clippy::mutable_key_type)]
fn reject_duplicate_literals<'s>(keys: impl Iterator<Item = &'s Syntax>) -> LResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    for k in keys.filter(|k| is_constant(k)) {
        let v = syntax_to_value(k);
        if seen.contains(&v) {
            return Err(err(
                "duplicate-key",
                format!("duplicate key {} in a map or set literal", v.pr_str()),
                k.span,
            ));
        }
        seen.insert(v);
    }
    Ok(())
}

/// A privacy mark on an expression marks its value, except on the forms that define
/// functions or globals, where the mark belongs to the definition.
fn marks_value(form: &Syntax) -> bool {
    crate::privacy::syntax_is_sensitive(form)
        && !matches!(
            form.list_head_symbol(),
            Some("fn" | "lambda" | "λ" | "defn" | "defn-" | "def" | "defmacro")
        )
}
