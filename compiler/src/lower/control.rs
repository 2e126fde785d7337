//! Control-flow special forms: `if`, `and`/`or`, `recur`, `try`/`catch`/`finally`, `match`.

use rtfs_ir::Value;
use rtfs_ir::expr::{Catch, Expr, MatchClause, Try};

use super::{LResult, Lowerer, err};
use crate::convert::loc;
use crate::source::Span;
use crate::syntax::Syntax;

/// `and`/`or` forms up to this many arguments lower to the plain right-nested chain.
const NARROW_AND_OR: usize = 8;

impl Lowerer<'_> {
    pub(super) fn lower_if(&mut self, args: &[Syntax], span: Span, tail: bool) -> LResult<Expr> {
        let (c, t, e) = match args {
            [c, t] => (c, t, None),
            [c, t, e] => (c, t, Some(e)),
            _ => {
                return Err(err(
                    "syntax",
                    format!(
                        "`if` takes a condition, a then-branch and an optional else-branch; got {} forms",
                        args.len()
                    ),
                    span,
                ));
            }
        };
        let c = self.lower(c, false)?;
        let t = self.lower(t, tail)?;
        let e = match e {
            Some(e) => self.lower(e, tail)?,
            None => Expr::Const(Value::Nil),
        };
        Ok(Expr::If(Box::new((c, t, e))))
    }

    /// `and`/`or` as nested `if`s over a temporary slot, so each operand runs once.
    pub(super) fn lower_and_or(
        &mut self,
        args: &[Syntax],
        is_and: bool,
        tail: bool,
    ) -> LResult<Expr> {
        match args {
            [] => Ok(Expr::Const(if is_and {
                Value::Bool(true)
            } else {
                Value::Nil
            })),
            [one] => self.lower(one, tail),
            _ => {
                // `(and a b c d)` is `(and (and a b) (and c d))`: same values, same order of
                // evaluation, same short-circuit. Wide forms split in halves so the IR nests
                // logarithmically in the number of arguments, not linearly.
                let split = if args.len() <= NARROW_AND_OR {
                    1
                } else {
                    args.len() / 2
                };
                let (first, rest) = args.split_at(split);
                let first = self.lower_and_or(first, is_and, false)?;
                let mark = self.ctx().mark();
                let slot = self.ctx().new_slot();
                let rest = self.lower_and_or(rest, is_and, tail)?;
                self.ctx().close(mark);
                let t = Expr::Local(slot);
                let (then, els) = if is_and { (rest, t) } else { (t, rest) };
                Ok(Expr::Do(
                    vec![
                        Expr::SetLocal(slot, Box::new(first)),
                        Expr::If(Box::new((Expr::Local(slot), then, els))),
                    ]
                    .into(),
                ))
            }
        }
    }

    pub(super) fn lower_recur(&mut self, args: &[Syntax], span: Span, tail: bool) -> LResult<Expr> {
        if !tail {
            return Err(err("syntax", "`recur` must be in tail position", span)
                .with_help("recur replaces the current loop iteration; nothing may run after it"));
        }
        if self.ctx().in_try > 0 {
            return Err(err("syntax", "`recur` cannot cross a `try`", span));
        }
        let Some(target) = self.ctx().recur.clone() else {
            return Err(err(
                "syntax",
                "`recur` outside of a `loop` or function",
                span,
            ));
        };
        if target.slots.len() != args.len() {
            return Err(err(
                "arity",
                format!(
                    "`recur` expects {} argument(s), got {}",
                    target.slots.len(),
                    args.len()
                ),
                span,
            ));
        }
        let exprs = self.lower_all(args)?;
        Ok(Expr::Recur(exprs.into(), target.slots.into()))
    }

    pub(super) fn lower_try(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let is_clause = |s: &Syntax, name: &str| s.list_head_symbol() == Some(name);
        let body_end = args
            .iter()
            .position(|a| is_clause(a, "catch") || is_clause(a, "finally"))
            .unwrap_or(args.len());
        self.ctx().in_try += 1;
        self.ctx().no_self_jump += 1;
        let result = (|| {
            let body = self.lower_body(&args[..body_end], false)?;
            let mut catches = Vec::new();
            let mut finally = None;
            for clause in &args[body_end..] {
                let parts = clause.as_list().unwrap_or_default();
                if finally.is_some() {
                    return Err(err(
                        "syntax",
                        "`finally` must be the last clause of `try`",
                        clause.span,
                    ));
                }
                if is_clause(clause, "finally") {
                    finally = Some(self.lower_body(&parts[1..], false)?);
                } else if is_clause(clause, "catch") {
                    catches.push(self.lower_catch(clause, &parts[1..])?);
                } else {
                    return Err(err(
                        "syntax",
                        "only `catch` and `finally` clauses may follow the body of `try`",
                        clause.span,
                    )
                    .with_label(span, "in this try"));
                }
            }
            Ok(Expr::Try(Box::new(Try {
                body,
                catches,
                finally,
            })))
        })();
        self.ctx().in_try -= 1;
        self.ctx().no_self_jump -= 1;
        result
    }

    /// `(catch e body...)` or `(catch Type e body...)`; `Exception`/`Error` catch all.
    fn lower_catch(&mut self, clause: &Syntax, parts: &[Syntax]) -> LResult<Catch> {
        let (filter, name, body) = match parts {
            [name, body @ ..] if name.as_symbol().is_some() && !looks_like_type(name, body) => {
                (None, name, body)
            }
            [ty, name, body @ ..] if name.as_symbol().is_some() => (catch_filter(ty), name, body),
            _ => {
                return Err(err(
                    "syntax",
                    "`catch` needs a binding name: (catch e body) or (catch Type e body)",
                    clause.span,
                ));
            }
        };
        let mark = self.ctx().mark();
        let slot = self.ctx().new_slot();
        let sym = name.as_symbol().unwrap_or("_");
        if sym != "_" {
            self.ctx().declare(sym, slot, false);
        }
        let body = self.lower_body(body, false);
        self.ctx().close(mark);
        Ok(Catch {
            filter,
            slot,
            body: body?,
        })
    }

    pub(super) fn lower_match(&mut self, args: &[Syntax], span: Span, tail: bool) -> LResult<Expr> {
        let Some((scrutinee, clauses)) = args.split_first() else {
            return Err(err("syntax", "`match` needs a value and clauses", span));
        };
        let scrutinee = self.lower(scrutinee, false)?;
        let mut out = Vec::new();
        let mut i = 0;
        while i < clauses.len() {
            let pat = &clauses[i];
            // `(:or p1 p2 …)` at the top of a clause: one clause per alternative.
            let alternatives: Vec<&Syntax> = match pat.as_list() {
                Some([head, alts @ ..]) if head.is_keyword("or") || head.is_symbol("|") => {
                    if alts.is_empty() {
                        return Err(err(
                            "syntax",
                            "`(:or …)` needs at least one pattern",
                            pat.span,
                        ));
                    }
                    alts.iter().collect()
                }
                _ => vec![pat],
            };
            let mut next = i;
            for alt in alternatives {
                next = self.lower_match_clause(clauses, i, alt, span, tail, &mut out)?;
            }
            i = next;
        }
        Ok(Expr::Match(Box::new((scrutinee, out)), loc(span)))
    }

    /// Lowers the clause at `clauses[i]` with pattern `pat` (the clause's own, or one of its
    /// alternatives); returns the index of the next clause.
    fn lower_match_clause(
        &mut self,
        clauses: &[Syntax],
        i: usize,
        pat: &Syntax,
        span: Span,
        tail: bool,
        out: &mut Vec<MatchClause>,
    ) -> LResult<usize> {
        {
            let mark = self.ctx().mark();
            let saved = std::mem::take(&mut self.pattern_guards);
            let pattern = self.lower_pattern(pat, true);
            let tests = std::mem::replace(&mut self.pattern_guards, saved);
            let pattern = pattern?;
            let mut j = i + 1;
            let mut guard = None;
            if clauses
                .get(j)
                .is_some_and(|s| s.is_symbol("when") || s.is_keyword("when"))
            {
                let g = clauses.get(j + 1).ok_or_else(|| {
                    err(
                        "syntax",
                        "`when` guard needs an expression",
                        clauses[j].span,
                    )
                })?;
                guard = Some(self.lower(g, false)?);
                j += 2;
            }
            let Some(body) = clauses.get(j) else {
                self.ctx().close(mark);
                return Err(err("syntax", "match pattern without a body", pat.span)
                    .with_label(span, "in this match"));
            };
            let body = self.lower(body, tail)?;
            self.ctx().close(mark);
            // Pattern tests run first, then the clause's `when` guard.
            let guard = tests.into_iter().rev().fold(guard, |inner, test| {
                Some(Expr::If(Box::new((
                    test,
                    inner.unwrap_or(Expr::Const(Value::Bool(true))),
                    Expr::Const(Value::Bool(false)),
                ))))
            });
            // Keep slots used by this clause reserved: later clauses reuse them freely, since
            // only one clause's bindings are ever live.
            out.push(MatchClause {
                pattern,
                guard,
                body,
            });
            Ok(j + 1)
        }
    }
}

impl Lowerer<'_> {
    /// `(delay body…)`: `(make-delay (fn [] body…))`; `force`/`deref` run the body once.
    pub(super) fn lower_delay(
        &mut self,
        form: &Syntax,
        args: &[Syntax],
        span: Span,
    ) -> LResult<Expr> {
        let make = self
            .builtin("make-delay")
            .ok_or_else(|| err("internal", "built-in `make-delay` missing", span))?;
        let params = Syntax {
            kind: crate::syntax::SyntaxKind::Vector(Vec::new()),
            span,
            meta: None,
        };
        let mut parts: Vec<&Syntax> = vec![&params];
        parts.extend(args.iter());
        let thunk = self.lower_fn(form, &parts, Some("delay"))?;
        Ok(Expr::CallBuiltin(make, vec![thunk].into(), loc(span)))
    }
}

/// In `(catch X e body)` the first symbol is a type when a symbol follows it.
fn looks_like_type(first: &Syntax, rest: &[Syntax]) -> bool {
    let Some(name) = first.as_symbol() else {
        return false;
    };
    // `java.lang.ArithmeticException` and `rtfs/Error` are types too: look at the last part.
    let last = name.rsplit(['/', '.']).next().unwrap_or(name);
    last.chars().next().is_some_and(char::is_uppercase)
        && rest.first().is_some_and(|s| s.as_symbol().is_some())
}

fn catch_filter(ty: &Syntax) -> Option<Vec<String>> {
    use crate::catch_selectors::{Selector, kinds};
    fn one(s: &Syntax) -> Option<Selector<'_>> {
        match (s.as_symbol(), s.as_keyword(), s.as_str()) {
            (Some(c), _, _) => Some(Selector::Class(c)),
            (_, Some(k), _) | (_, _, Some(k)) => Some(Selector::Kind(k)),
            _ => None,
        }
    }
    match ty.as_vector() {
        Some(items) => kinds(items.iter().filter_map(one)),
        None => kinds(one(ty)),
    }
}
