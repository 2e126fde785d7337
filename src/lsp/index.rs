//! What the editor features need to know about one document, from its read forms: the
//! definitions (top-level and local, with their scopes), every symbol occurrence resolved
//! to a definition or left as a free name, and the keywords used.

use std::collections::BTreeSet;
use std::ops::Range;

use rtfs_compiler::syntax::{Syntax, SyntaxKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefKind {
    Function,
    Macro,
    Variable,
    Test,
    Local,
}

#[derive(Clone, Debug)]
pub struct Def {
    pub name: String,
    /// The name's own text range.
    pub name_range: Range<usize>,
    /// The whole defining form (for globals) or the binding form (for locals).
    pub form_range: Range<usize>,
    pub kind: DefKind,
    /// Parameter vectors as written, one per arity.
    pub params: Vec<String>,
    pub doc: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Occurrence {
    pub range: Range<usize>,
    pub name: String,
    /// Index into [`Index::defs`] when the name is defined in this document.
    pub def: Option<usize>,
}

#[derive(Default, Debug)]
pub struct Index {
    pub defs: Vec<Def>,
    pub occurrences: Vec<Occurrence>,
    pub keywords: BTreeSet<String>,
    /// Local bindings with the text range where each is visible.
    pub scopes: Vec<(usize, Range<usize>)>,
}

impl Index {
    pub fn build(text: &str, forms: &[Syntax]) -> Index {
        let mut ix = Index::default();
        for f in forms {
            ix.declare_global(text, f);
        }
        let globals: Vec<(String, usize)> = ix
            .defs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        let mut w = Walker {
            ix: &mut ix,
            globals: &globals,
            scope: Vec::new(),
        };
        for f in forms {
            w.form(f);
        }
        ix.occurrences.sort_by_key(|o| o.range.start);
        ix
    }

    /// The occurrence under `offset` (a name's end counts as on it).
    pub fn occurrence_at(&self, offset: usize) -> Option<&Occurrence> {
        let i = self.occurrences.partition_point(|o| o.range.end < offset);
        self.occurrences
            .get(i)
            .filter(|o| o.range.start <= offset && offset <= o.range.end)
    }

    pub fn global(&self, name: &str) -> Option<usize> {
        self.defs
            .iter()
            .position(|d| d.kind != DefKind::Local && d.name == name)
    }

    /// Locals visible at `offset`, innermost last.
    pub fn locals_at(&self, offset: usize) -> impl Iterator<Item = &Def> {
        self.scopes
            .iter()
            .filter(move |(_, r)| r.contains(&offset))
            .map(|(d, _)| &self.defs[*d])
    }

    fn declare_global(&mut self, text: &str, form: &Syntax) {
        let SyntaxKind::List(items) = &form.kind else {
            return;
        };
        let Some(SyntaxKind::Symbol(head)) = items.first().map(|h| &h.kind) else {
            return;
        };
        let kind = match &**head {
            "defn" | "defn-" => DefKind::Function,
            "defmacro" => DefKind::Macro,
            "def" | "defonce" => DefKind::Variable,
            "deftest" => DefKind::Test,
            "do" => {
                for f in &items[1..] {
                    self.declare_global(text, f);
                }
                return;
            }
            _ => return,
        };
        let Some((name, name_range)) = items.get(1).and_then(symbol_name) else {
            return;
        };
        let mut doc = None;
        let mut params = Vec::new();
        for (i, it) in items.iter().enumerate().skip(2) {
            match &it.kind {
                SyntaxKind::Str(s) if i == 2 && items.len() > 3 => doc = Some(s.to_string()),
                SyntaxKind::Vector(_) if params.is_empty() && kind != DefKind::Variable => {
                    params.push(slice(text, it));
                    break;
                }
                SyntaxKind::List(arity) => {
                    if let Some(
                        p @ Syntax {
                            kind: SyntaxKind::Vector(_),
                            ..
                        },
                    ) = arity.first()
                    {
                        params.push(slice(text, p));
                    }
                }
                _ => {}
            }
        }
        if kind == DefKind::Test {
            params.clear();
        }
        self.defs.push(Def {
            name,
            name_range,
            form_range: form.span.range(),
            kind,
            params,
            doc,
        });
    }
}

fn slice(text: &str, s: &Syntax) -> String {
    text.get(s.span.range()).unwrap_or("").to_string()
}

/// The bound name of a binding symbol: `x` for `x` and for the annotated `x:int`.
fn symbol_name(s: &Syntax) -> Option<(String, Range<usize>)> {
    let SyntaxKind::Symbol(name) = &s.kind else {
        return None;
    };
    let base = match name.find(':') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    };
    let start = s.span.start as usize;
    Some((base.to_string(), start..start + base.len()))
}

struct Walker<'a> {
    ix: &'a mut Index,
    globals: &'a [(String, usize)],
    /// Locals in scope, innermost last.
    scope: Vec<(String, usize)>,
}

impl Walker<'_> {
    fn resolve(&self, name: &str) -> Option<usize> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .or_else(|| self.globals.iter().find(|(n, _)| n == name))
            .map(|(_, d)| *d)
    }

    fn occurrence(&mut self, s: &Syntax) {
        if let Some((name, range)) = symbol_name(s) {
            let def = self.resolve(&name);
            self.ix.occurrences.push(Occurrence { range, name, def });
        }
    }

    /// Binds every name in a binding pattern, visible over `visible`.
    fn bind(&mut self, pat: &Syntax, form: &Syntax, visible: Range<usize>) {
        match &pat.kind {
            SyntaxKind::Symbol(s) if &**s == "&" => {}
            SyntaxKind::Symbol(_) => {
                if let Some((name, name_range)) = symbol_name(pat) {
                    let d = self.ix.defs.len();
                    self.ix.defs.push(Def {
                        name: name.clone(),
                        name_range: name_range.clone(),
                        form_range: form.span.range(),
                        kind: DefKind::Local,
                        params: Vec::new(),
                        doc: None,
                    });
                    self.ix.scopes.push((d, visible));
                    self.ix.occurrences.push(Occurrence {
                        range: name_range,
                        name: name.clone(),
                        def: Some(d),
                    });
                    self.scope.push((name, d));
                }
            }
            SyntaxKind::Vector(items) => {
                let mut it = items.iter();
                while let Some(p) = it.next() {
                    if matches!(&p.kind, SyntaxKind::Keyword(k) if &**k == "as") {
                        if let Some(n) = it.next() {
                            self.bind(n, form, visible.clone());
                        }
                    } else {
                        self.bind(p, form, visible.clone());
                    }
                }
            }
            SyntaxKind::Map(entries) => {
                for (k, v) in entries {
                    match &k.kind {
                        SyntaxKind::Keyword(kw) if matches!(&**kw, "keys" | "strs" | "syms") => {
                            if let SyntaxKind::Vector(names) = &v.kind {
                                for n in names {
                                    self.bind(n, form, visible.clone());
                                }
                            }
                        }
                        SyntaxKind::Keyword(kw) if &**kw == "as" => {
                            self.bind(v, form, visible.clone())
                        }
                        SyntaxKind::Keyword(kw) if &**kw == "or" => self.form(v),
                        _ => {
                            self.bind(k, form, visible.clone());
                            self.form(v);
                        }
                    }
                }
            }
            SyntaxKind::TypeExpr(_) | SyntaxKind::Keyword(_) => {}
            _ => self.form(pat),
        }
    }

    fn form(&mut self, s: &Syntax) {
        if let Some(m) = &s.meta {
            self.form(m);
        }
        match &s.kind {
            SyntaxKind::Symbol(_) => self.occurrence(s),
            SyntaxKind::Keyword(k) => {
                self.ix.keywords.insert(k.to_string());
            }
            SyntaxKind::List(items) => self.list(s, items),
            SyntaxKind::Vector(v) | SyntaxKind::Set(v) => v.iter().for_each(|c| self.form(c)),
            SyntaxKind::Map(entries) => {
                for (k, v) in entries {
                    self.form(k);
                    self.form(v);
                }
            }
            _ => {}
        }
    }

    fn list(&mut self, s: &Syntax, items: &[Syntax]) {
        let head = match items.first().map(|h| &h.kind) {
            Some(SyntaxKind::Symbol(h)) => &**h,
            _ => {
                items.iter().for_each(|c| self.form(c));
                return;
            }
        };
        let mark = self.scope.len();
        let end = s.span.end as usize;
        match head {
            "quote" => {}
            "defn" | "defn-" | "defmacro" | "fn" | "lambda" | "λ" | "deftest" => {
                self.form(&items[0]);
                let mut rest = &items[1..];
                if let Some(n) = rest.first()
                    && matches!(n.kind, SyntaxKind::Symbol(_))
                {
                    if head == "fn" || head == "lambda" || head == "λ" {
                        self.bind(n, s, n.span.start as usize..end);
                    } else {
                        self.occurrence(n);
                    }
                    rest = &rest[1..];
                }
                self.fn_tail(s, rest);
            }
            "let" | "loop" | "when-let" | "if-let" | "when-some" | "if-some" | "for" | "doseq"
            | "dotimes" | "with-open" | "binding" | "letrec" => {
                self.form(&items[0]);
                if let Some(b) = items.get(1) {
                    self.bindings(s, b, head == "letrec");
                }
                items.iter().skip(2).for_each(|c| self.form(c));
            }
            "letfn" => {
                self.form(&items[0]);
                if let Some(Syntax {
                    kind: SyntaxKind::Vector(fns),
                    ..
                }) = items.get(1)
                {
                    let visible = s.span.start as usize..end;
                    for f in fns {
                        if let SyntaxKind::List(parts) = &f.kind
                            && let Some(n) = parts.first()
                        {
                            self.bind(n, f, visible.clone());
                        }
                    }
                    for f in fns {
                        if let SyntaxKind::List(parts) = &f.kind {
                            let inner = self.scope.len();
                            self.fn_tail(f, parts.get(1..).unwrap_or_default());
                            self.scope.truncate(inner);
                        }
                    }
                }
                items.iter().skip(2).for_each(|c| self.form(c));
            }
            "catch" => {
                self.form(&items[0]);
                let syms = items[1..]
                    .iter()
                    .take(2)
                    .take_while(|a| matches!(a.kind, SyntaxKind::Symbol(_)))
                    .count();
                if syms == 2 {
                    self.form(&items[1]);
                }
                if syms > 0 {
                    let b = &items[syms];
                    self.bind(b, s, b.span.start as usize..end);
                }
                items.iter().skip(syms + 1).for_each(|c| self.form(c));
            }
            _ => items.iter().for_each(|c| self.form(c)),
        }
        self.scope.truncate(mark);
    }

    /// `[params] body...` or `([params] body...)...` after a function's name.
    fn fn_tail(&mut self, s: &Syntax, rest: &[Syntax]) {
        let end = s.span.end as usize;
        let mut i = 0;
        while let Some(it) = rest.get(i) {
            match &it.kind {
                SyntaxKind::Vector(_) => {
                    let mark = self.scope.len();
                    self.bind(it, s, it.span.start as usize..end);
                    rest[i + 1..].iter().for_each(|c| self.form(c));
                    self.scope.truncate(mark);
                    return;
                }
                SyntaxKind::List(arity)
                    if matches!(arity.first().map(|a| &a.kind), Some(SyntaxKind::Vector(_))) =>
                {
                    let mark = self.scope.len();
                    let a_end = it.span.end as usize;
                    self.bind(&arity[0], it, arity[0].span.start as usize..a_end);
                    arity[1..].iter().for_each(|c| self.form(c));
                    self.scope.truncate(mark);
                }
                _ => self.form(it),
            }
            i += 1;
        }
    }

    fn bindings(&mut self, s: &Syntax, b: &Syntax, recursive: bool) {
        let SyntaxKind::Vector(items) = &b.kind else {
            return self.form(b);
        };
        let end = s.span.end as usize;
        let mut pairs = items.chunks(2);
        for pair in pairs.by_ref() {
            match pair {
                [
                    k @ Syntax {
                        kind: SyntaxKind::Keyword(kw),
                        ..
                    },
                    v,
                ] => {
                    if &**kw == "let" {
                        self.bindings(s, v, false);
                    } else {
                        self.form(k);
                        self.form(v);
                    }
                }
                [pat, value] if recursive => {
                    self.bind(pat, b, pat.span.start as usize..end);
                    self.form(value);
                }
                [pat, value] => {
                    self.form(value);
                    self.bind(pat, b, value.span.end as usize..end);
                }
                [lone] => self.form(lone),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtfs_compiler::reader;
    use rtfs_compiler::source::FileId;

    fn index(t: &str) -> Index {
        Index::build(t, &reader::read(FileId(0), t).unwrap())
    }

    #[test]
    fn resolves_locals_params_and_globals() {
        let t = "(defn add \"Adds.\" [a b] (+ a b))\n(let [x 1 y (add x 2)] (* x y))";
        let ix = index(t);
        let add = ix.global("add").unwrap();
        assert_eq!(ix.defs[add].doc.as_deref(), Some("Adds."));
        assert_eq!(ix.defs[add].params, vec!["[a b]".to_string()]);
        let use_of_add = t.rfind("add").unwrap();
        assert_eq!(ix.occurrence_at(use_of_add + 1).unwrap().def, Some(add));
        let last_x = t.rfind('x').unwrap();
        let d = ix.occurrence_at(last_x).unwrap().def.unwrap();
        assert_eq!(ix.defs[d].kind, DefKind::Local);
        assert_eq!(ix.defs[d].name_range.start, t.find("x 1").unwrap());
        assert!(
            ix.occurrence_at(t.find('+').unwrap())
                .unwrap()
                .def
                .is_none()
        );
    }

    #[test]
    fn let_binding_is_not_visible_in_its_own_value() {
        let t = "(let [x 1] (let [x (inc x)] x))";
        let ix = index(t);
        let inner_value_x = t.find("(inc x)").unwrap() + 5;
        let d = ix.occurrence_at(inner_value_x).unwrap().def.unwrap();
        assert_eq!(ix.defs[d].name_range.start, t.find("x 1").unwrap());
    }

    #[test]
    fn destructuring_and_keywords() {
        let t = "(fn [{:keys [a b] :as m} [c & more]] [a b c m more :done])";
        let ix = index(t);
        let names: Vec<_> = ix.defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "m", "c", "more"]);
        assert!(ix.keywords.contains("done"));
        assert_eq!(ix.locals_at(t.find(":done").unwrap()).count(), 5);
    }
}
