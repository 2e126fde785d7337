//! Turns a test file into plain RTFS: `deftest` becomes `defn` of no arguments, `testing`
//! becomes `do`, `are` is expanded into `is` forms, and every `is` becomes a call to a
//! recording host function that carries the assertion's number. The rewrite edits the
//! source text in place and adds no line breaks of its own, so runtime errors in the
//! rewritten text still point at the lines the author wrote.

use std::ops::Range;

use rtfs_compiler::diagnostic::Diagnostic;
use rtfs_compiler::reader;
use rtfs_compiler::source::{FileId, SourceFile, Span};
use rtfs_compiler::syntax::{Syntax, SyntaxKind};

/// Host function names the rewritten text calls (registered by the runner).
pub const IS_FN: &str = "rtfs-test-is";
pub const EQ_FN: &str = "rtfs-test-is-eq";
pub const THROWN_FN: &str = "rtfs-test-is-thrown";

/// One `is` in the file, identified by its index in [`Rewritten::assertions`].
#[derive(Clone, Debug)]
pub struct Assertion {
    pub line: usize,
    pub col: usize,
    /// The `is` form as written (for an `are` row: the expanded form).
    pub form: String,
    /// Descriptions of the enclosing `testing` forms, outermost first.
    pub contexts: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct TestDecl {
    pub name: String,
    pub line: usize,
}

#[derive(Debug)]
pub struct Rewritten {
    pub text: String,
    pub tests: Vec<TestDecl>,
    pub assertions: Vec<Assertion>,
}

/// Rewrites a whole test file; errors are diagnostics against `text`.
pub fn rewrite_file(text: &str) -> Result<Rewritten, Vec<Diagnostic>> {
    let file = SourceFile::new("", text);
    let forms = reader::read(FileId(0), text)?;
    let mut w = Walker {
        file: &file,
        text,
        origin: None,
        edits: Vec::new(),
        tests: Vec::new(),
        assertions: Vec::new(),
        errors: Vec::new(),
    };
    for form in &forms {
        w.top_level(form);
    }
    if !w.errors.is_empty() {
        return Err(w.errors);
    }
    let Walker {
        edits,
        tests,
        assertions,
        ..
    } = w;
    Ok(Rewritten {
        text: apply(text, edits),
        tests,
        assertions,
    })
}

struct Walker<'a> {
    file: &'a SourceFile,
    text: &'a str,
    /// Inside an `are` expansion: the `are` form's line and column, which every assertion
    /// of the expansion reports.
    origin: Option<(usize, usize)>,
    edits: Vec<(Range<usize>, String)>,
    tests: Vec<TestDecl>,
    assertions: Vec<Assertion>,
    errors: Vec<Diagnostic>,
}

fn head(node: &Syntax) -> Option<(&str, &[Syntax])> {
    match &node.kind {
        SyntaxKind::List(items) => match items.first().map(|h| &h.kind) {
            Some(SyntaxKind::Symbol(s)) => Some((s, &items[1..])),
            _ => None,
        },
        _ => None,
    }
}

fn children(node: &Syntax) -> Vec<&Syntax> {
    match &node.kind {
        SyntaxKind::List(v) | SyntaxKind::Vector(v) | SyntaxKind::Set(v) => v.iter().collect(),
        SyntaxKind::Map(entries) => entries.iter().flat_map(|(k, v)| [k, v]).collect(),
        SyntaxKind::TypeExpr(inner) => vec![&**inner],
        _ => Vec::new(),
    }
}

/// Blanks `range` of `text` but keeps its line breaks, so line numbers do not move.
fn blank(text: &str, range: Range<usize>) -> String {
    text[range]
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect()
}

fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(text.len() + edits.len() * 16);
    let mut at = 0;
    for (r, s) in edits {
        out.push_str(&text[at..r.start]);
        out.push_str(&s);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

impl Walker<'_> {
    fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.errors.push(Diagnostic::error("test", msg, span));
    }

    fn position(&self, span: Span) -> (usize, usize) {
        self.origin
            .unwrap_or_else(|| self.file.line_col(span.start))
    }

    fn top_level(&mut self, form: &Syntax) {
        match head(form) {
            Some(("deftest", args)) => self.deftest(form, args),
            _ => self.walk(form, &[]),
        }
    }

    fn deftest(&mut self, form: &Syntax, args: &[Syntax]) {
        let Some(name) = args.first() else {
            return self.error(form.span, "deftest needs a name: (deftest name body...)");
        };
        let SyntaxKind::Symbol(n) = &name.kind else {
            return self.error(
                name.span,
                format!(
                    "deftest name must be a symbol, found a {}",
                    name.kind.describe()
                ),
            );
        };
        if self.tests.iter().any(|t| t.name == **n) {
            return self.error(name.span, format!("deftest {n} is defined twice"));
        }
        if let SyntaxKind::List(items) = &form.kind {
            self.edits.push((items[0].span.range(), "defn".into()));
        }
        self.edits
            .push((name.span.end as usize..name.span.end as usize, " []".into()));
        let (line, _) = self.file.line_col(form.span.start);
        self.tests.push(TestDecl {
            name: n.to_string(),
            line,
        });
        for body in &args[1..] {
            self.walk(body, &[]);
        }
    }

    fn walk(&mut self, node: &Syntax, ctx: &[String]) {
        match head(node) {
            Some(("is", args)) => self.is(node, args, ctx),
            Some(("testing", args)) => self.testing(node, args, ctx),
            Some(("are", args)) => self.are(node, args, ctx),
            Some(("deftest", _)) => self.error(node.span, "deftest is only allowed at top level"),
            _ => {
                for c in children(node) {
                    self.walk(c, ctx);
                }
            }
        }
    }

    fn is(&mut self, node: &Syntax, args: &[Syntax], ctx: &[String]) {
        if args.is_empty() || args.len() > 2 {
            return self.error(
                node.span,
                format!(
                    "is takes a form and an optional message, found {} arguments",
                    args.len()
                ),
            );
        }
        let id = self.assertions.len();
        let (line, col) = self.position(node.span);
        self.assertions.push(Assertion {
            line,
            col,
            form: self.text[node.span.range()].to_string(),
            contexts: ctx.to_vec(),
        });
        let SyntaxKind::List(items) = &node.kind else {
            return;
        };
        let is_head = items[0].span.range();
        let tested = &args[0];
        match head(tested) {
            Some(("=", [expected, actual])) => {
                let SyntaxKind::List(inner) = &tested.kind else {
                    return;
                };
                self.edits.push((is_head, format!("{EQ_FN} {id}")));
                let open = tested.span.start as usize..inner[0].span.end as usize;
                self.edits.push((open.clone(), blank(self.text, open)));
                let close = tested.span.end as usize - 1..tested.span.end as usize;
                self.edits.push((close, " ".into()));
                self.walk(expected, ctx);
                self.walk(actual, ctx);
            }
            Some(("thrown?", body)) => {
                let SyntaxKind::List(inner) = &tested.kind else {
                    return;
                };
                self.edits.push((is_head, format!("{THROWN_FN} {id}")));
                self.edits.push((inner[0].span.range(), "fn []".into()));
                for b in body {
                    self.walk(b, ctx);
                }
            }
            _ => {
                self.edits.push((is_head, format!("{IS_FN} {id}")));
                self.walk(tested, ctx);
            }
        }
        if let Some(msg) = args.get(1) {
            self.walk(msg, ctx);
        }
    }

    fn testing(&mut self, node: &Syntax, args: &[Syntax], ctx: &[String]) {
        let Some(desc) = args.first() else {
            return self.error(
                node.span,
                "testing needs a description: (testing \"what\" body...)",
            );
        };
        let SyntaxKind::Str(d) = &desc.kind else {
            return self.error(
                desc.span,
                format!(
                    "testing's description must be a string, found a {}",
                    desc.kind.describe()
                ),
            );
        };
        if let SyntaxKind::List(items) = &node.kind {
            self.edits.push((items[0].span.range(), "do".into()));
        }
        let mut inner = ctx.to_vec();
        inner.push(d.to_string());
        for b in &args[1..] {
            self.walk(b, &inner);
        }
    }

    /// `(are [x y] (= x y) 1 1 2 2)` is `(do (is (= 1 1)) (is (= 2 2)))`: the template's
    /// parameter symbols replaced by each row's argument text.
    fn are(&mut self, node: &Syntax, args: &[Syntax], ctx: &[String]) {
        let (Some(params), Some(template)) = (args.first(), args.get(1)) else {
            return self.error(node.span, "are needs (are [params] template args...)");
        };
        let SyntaxKind::Vector(ps) = &params.kind else {
            return self.error(params.span, "are's parameters must be a vector of symbols");
        };
        let mut names = Vec::new();
        for p in ps {
            match &p.kind {
                SyntaxKind::Symbol(s) => names.push(s.to_string()),
                _ => return self.error(p.span, "are's parameters must be symbols"),
            }
        }
        let rows = &args[2..];
        if names.is_empty() || rows.is_empty() || !rows.len().is_multiple_of(names.len()) {
            return self.error(
                node.span,
                format!(
                    "are has {} parameters but {} arguments; the arguments must fill whole rows",
                    names.len(),
                    rows.len()
                ),
            );
        }
        let mut expansion = String::from("(do");
        for row in rows.chunks(names.len()) {
            let mut subst = Vec::new();
            self.substitutions(template, &names, row, &mut subst);
            let base = template.span.start as usize;
            let shifted = subst
                .into_iter()
                .map(|(r, s)| (r.start - base..r.end - base, s))
                .collect();
            expansion.push_str(" (is ");
            expansion.push_str(&apply(&self.text[template.span.range()], shifted));
            expansion.push(')');
        }
        expansion.push(')');
        let written = self.text[node.span.range()].matches('\n').count();
        let made = expansion.matches('\n').count();
        let Ok(forms) = reader::read(FileId(0), &expansion) else {
            return self.error(node.span, "are's expansion does not read as RTFS");
        };
        let file = SourceFile::new("", expansion.as_str());
        let mut sub = Walker {
            file: &file,
            text: &expansion,
            origin: Some(self.position(node.span)),
            edits: Vec::new(),
            tests: Vec::new(),
            assertions: std::mem::take(&mut self.assertions),
            errors: Vec::new(),
        };
        for f in &forms {
            sub.walk(f, ctx);
        }
        self.assertions = sub.assertions;
        for e in sub.errors {
            self.error(node.span, e.message);
        }
        let mut text = apply(&expansion, sub.edits);
        text.extend(std::iter::repeat_n('\n', written.saturating_sub(made)));
        self.edits.push((node.span.range(), text));
    }

    fn substitutions(
        &self,
        node: &Syntax,
        names: &[String],
        row: &[Syntax],
        out: &mut Vec<(Range<usize>, String)>,
    ) {
        if let SyntaxKind::Symbol(s) = &node.kind
            && let Some(i) = names.iter().position(|n| **n == **s)
        {
            out.push((
                node.span.range(),
                self.text[row[i].span.range()].to_string(),
            ));
            return;
        }
        for c in children(node) {
            self.substitutions(c, names, row, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_line_count_and_numbers_assertions() {
        let src = "(deftest t\n  (testing \"adds\"\n    (is (= 2 (+ 1 1)))\n    (is (pos? 1) \"msg\")))\n";
        let r = rewrite_file(src).unwrap();
        assert_eq!(r.text.matches('\n').count(), src.matches('\n').count());
        assert_eq!(r.tests.len(), 1);
        assert_eq!(r.tests[0].name, "t");
        assert_eq!(r.assertions.len(), 2);
        assert_eq!((r.assertions[0].line, r.assertions[0].col), (3, 5));
        assert_eq!(r.assertions[1].contexts, vec!["adds".to_string()]);
        assert!(r.text.contains("(defn t []"), "{}", r.text);
        assert!(r.text.contains(&format!("({EQ_FN} 0")), "{}", r.text);
        assert!(
            r.text.contains(&format!("({IS_FN} 1 (pos? 1) \"msg\")")),
            "{}",
            r.text
        );
    }

    #[test]
    fn are_expands_rows_at_the_are_line() {
        let src = "(deftest t\n  (are [x y] (= x (inc y))\n    2 1\n    3 2))";
        let r = rewrite_file(src).unwrap();
        assert_eq!(r.assertions.len(), 2);
        assert!(r.assertions.iter().all(|a| a.line == 2));
        assert_eq!(r.assertions[1].form, "(is (= 3 (inc 2)))");
        assert_eq!(r.text.matches('\n').count(), 3);
    }

    #[test]
    fn malformed_forms_are_errors() {
        for bad in [
            "(deftest)",
            "(deftest \"x\")",
            "(deftest t (is))",
            "(deftest t (testing 1 (is true)))",
            "(deftest t (are [x] (pos? x)))",
            "(deftest t (are [x y] (= x y) 1))",
            "(defn f [] (deftest g))",
            "(deftest t) (deftest t)",
        ] {
            assert!(rewrite_file(bad).is_err(), "{bad}");
        }
    }
}
