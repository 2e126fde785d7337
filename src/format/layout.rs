//! The canonical layout (Clojure community style): a form that fits in the line width
//! stays on one line; otherwise special forms and macros keep their leading arguments on
//! the first line and indent their body by two spaces, function calls align their
//! arguments under the first one, and maps and binding vectors put one pair per line
//! with the values aligned. Comments stay where they were relative to the code: a comment
//! that ended a line of code still ends that line.

use super::cst::{Cst, Item, ItemKind, Node};

pub const WIDTH: usize = 80;
/// Keys longer than this are not padded to, so one long key does not push every value
/// far right.
const MAX_ALIGN_KEY: usize = 24;

/// How a special form or macro lays out when it does not fit on one line.
struct Block {
    /// Arguments kept on the first line.
    header: usize,
    /// The body is test/expression pairs (`cond`, `case`).
    pairs: bool,
    /// A pair may carry a guard: `pattern when guard expr` (`match`).
    guards: bool,
    /// The first argument is a binding vector of name/value pairs.
    bindings: bool,
}

fn block(head: &str, items: &[Item]) -> Option<Block> {
    let args: Vec<&Node> = items
        .iter()
        .skip(1)
        .filter_map(|i| match &i.kind {
            ItemKind::Node(n) => Some(n),
            ItemKind::Comment { .. } => None,
        })
        .collect();
    let is_vec = |n: Option<&&Node>| matches!(n, Some(Node::Coll { open: "[", .. }));
    let is_name = |n: Option<&&Node>| match n {
        Some(Node::Meta { target, .. }) => target.symbol().is_some(),
        Some(n) => n.symbol().is_some(),
        None => false,
    };
    let b = |header, pairs, bindings| {
        Some(Block {
            header,
            pairs,
            guards: head == "match",
            bindings,
        })
    };
    match head {
        "defn" | "defn-" | "defmacro" | "deftest" => {
            b(1 + usize::from(is_vec(args.get(1))), false, false)
        }
        "fn" | "lambda" | "λ" => {
            let named = is_name(args.first());
            let n = usize::from(named);
            b(n + usize::from(is_vec(args.get(n))), false, false)
        }
        "def" | "defonce" | "if" | "if-not" | "when" | "when-not" | "while" | "testing" | "ns"
        | "letfn" => b(1, false, false),
        "let" | "loop" | "binding" | "when-let" | "if-let" | "when-some" | "if-some" | "for"
        | "doseq" | "dotimes" | "with-open" | "with-redefs" => b(1, false, true),
        "catch" => b(
            args.iter()
                .take(2)
                .take_while(|a| a.symbol().is_some())
                .count(),
            false,
            false,
        ),
        "do" | "try" | "finally" | "comment" => b(0, false, false),
        "cond" => b(0, true, false),
        "case" | "match" => b(1, true, false),
        "condp" => b(2, true, false),
        "are" => b(2, false, false),
        _ => None,
    }
}

/// Definitions with a body always put the body on its own lines.
fn always_breaks(node: &Node) -> bool {
    match node.list_head() {
        Some(("defn" | "defn-" | "defmacro" | "deftest", items)) => items.len() > 3,
        _ => false,
    }
}

/// One item's place: on the line of the previous item (after `pad_to`'s column when
/// set), or on a new line at `indent`. A same-line item that cannot stay there (a
/// comment or blank line before it) goes to a new line at `indent`.
#[derive(Clone, Copy)]
struct Plan {
    same_line: bool,
    indent: usize,
    pad_to: Option<usize>,
}

impl Plan {
    fn same(indent: usize) -> Plan {
        Plan {
            same_line: true,
            indent,
            pad_to: None,
        }
    }
    fn line(indent: usize) -> Plan {
        Plan {
            same_line: false,
            indent,
            pad_to: None,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Plain,
    Bindings,
}

struct Out {
    s: String,
    col: usize,
}

impl Out {
    fn push(&mut self, t: &str) {
        match t.rfind('\n') {
            Some(i) => self.col = t[i + 1..].chars().count(),
            None => self.col += t.chars().count(),
        }
        self.s.push_str(t);
    }

    fn newline(&mut self, indent: usize, blank: bool) {
        self.s.push('\n');
        if blank {
            self.s.push('\n');
        }
        self.s.extend(std::iter::repeat_n(' ', indent));
        self.col = indent;
    }
}

pub fn render(cst: &Cst) -> String {
    let mut out = Out {
        s: String::with_capacity(cst.items.len() * 40),
        col: 0,
    };
    out.push(&cst.preamble);
    let mut first = cst.preamble.is_empty();
    for item in &cst.items {
        match &item.kind {
            ItemKind::Comment {
                text,
                trailing: true,
            } if !first => {
                out.push(" ");
                out.push(text);
            }
            kind => {
                if !first {
                    out.newline(0, item.blank_before);
                }
                match kind {
                    ItemKind::Comment { text, .. } => out.push(text),
                    ItemKind::Node(n) => node(&mut out, n, Role::Plain),
                }
            }
        }
        first = false;
    }
    if !out.s.is_empty() {
        out.push("\n");
    }
    out.s
}

fn fits(out: &Out, n: &Node) -> Option<usize> {
    n.flat_len()
        .filter(|w| out.col + w <= WIDTH && !always_breaks(n))
}

fn node(out: &mut Out, n: &Node, role: Role) {
    match n {
        Node::Atom { text, .. } => out.push(text),
        Node::Prefix { prefix, form } => {
            out.push(prefix);
            node(out, form, Role::Plain);
        }
        Node::Meta { meta, target } => {
            out.push("^");
            node(out, meta, Role::Plain);
            out.push(" ");
            node(out, target, role);
        }
        Node::Coll {
            open, close, items, ..
        } => {
            let pairs = role == Role::Bindings && items.len() > 2;
            if !pairs && fits(out, n).is_some() {
                flat(out, n);
            } else {
                broken(out, n, open, close, items, role);
            }
        }
    }
}

fn flat(out: &mut Out, n: &Node) {
    match n {
        Node::Atom { text, .. } => out.push(text),
        Node::Prefix { prefix, form } => {
            out.push(prefix);
            flat(out, form);
        }
        Node::Meta { meta, target } => {
            out.push("^");
            flat(out, meta);
            out.push(" ");
            flat(out, target);
        }
        Node::Coll {
            open, close, items, ..
        } => {
            out.push(open);
            for (i, it) in items.iter().enumerate() {
                if let ItemKind::Node(c) = &it.kind {
                    if i > 0 {
                        out.push(" ");
                    }
                    flat(out, c);
                }
            }
            out.push(close);
        }
    }
}

fn nodes(items: &[Item]) -> Vec<&Node> {
    items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Node(n) => Some(n),
            ItemKind::Comment { .. } => None,
        })
        .collect()
}

fn broken(out: &mut Out, n: &Node, open: &str, close: &str, items: &[Item], role: Role) {
    let start = out.col;
    out.push(open);
    let inner = out.col;
    let ns = nodes(items);
    let mut roles = vec![Role::Plain; ns.len()];
    let plans: Vec<Plan> = match open {
        "(" | "#(" => match n.list_head().and_then(|(h, _)| block(h, items)) {
            Some(b) => {
                let body = start + 2;
                if b.bindings && matches!(ns.get(1), Some(Node::Coll { open: "[", .. })) {
                    roles[1] = Role::Bindings;
                }
                let mut plans: Vec<Plan> = (0..ns.len().min(b.header + 1))
                    .map(|_| Plan::same(body))
                    .collect();
                if b.pairs {
                    let clauses = &ns[plans.len()..];
                    clause_plans(clauses, &clause_sizes(clauses, b.guards), body, &mut plans);
                } else {
                    plans.resize(ns.len(), Plan::line(body));
                }
                plans
            }
            None => call_plans(&ns, inner),
        },
        "{" => {
            let mut plans = Vec::new();
            pair_plans(&ns, inner, &mut plans);
            plans
        }
        _ if role == Role::Bindings => {
            let mut plans = Vec::new();
            pair_plans(&ns, inner, &mut plans);
            plans
        }
        _ => fill_plans(&ns, items, inner),
    };
    emit(out, items, &plans, &roles, inner);
    out.push(close);
}

/// Function calls: arguments aligned under the first one; a head that is not a name, or
/// a very long head, indents the arguments by one column instead.
fn call_plans(ns: &[&Node], inner: usize) -> Vec<Plan> {
    let align = match ns.first() {
        Some(h @ Node::Atom { .. }) => h.flat_len().map(|w| inner + w + 1),
        _ => None,
    }
    .filter(|c| *c <= WIDTH / 2 && ns.len() > 1);
    let mut plans = vec![Plan::same(inner)];
    match align {
        Some(col) => {
            plans.push(Plan::same(col));
            plans.resize(ns.len(), Plan::line(col));
        }
        None => plans.resize(ns.len(), Plan::line(inner)),
    }
    plans.truncate(ns.len());
    plans
}

/// Vectors and sets of leaves are filled line by line; others put one element per line.
fn fill_plans(ns: &[&Node], items: &[Item], inner: usize) -> Vec<Plan> {
    let leaves = items.iter().all(|i| {
        !i.blank_before && matches!(&i.kind, ItemKind::Node(n) if matches!(n, Node::Atom { .. }) && n.flat_len().is_some())
    });
    if !leaves {
        let mut plans = vec![Plan::same(inner)];
        plans.resize(ns.len(), Plan::line(inner));
        plans.truncate(ns.len());
        return plans;
    }
    let mut col = inner;
    ns.iter()
        .enumerate()
        .map(|(i, n)| {
            let w = n.flat_len().unwrap_or(0);
            if i == 0 {
                col += w;
                Plan::same(inner)
            } else if col + 1 + w < WIDTH {
                col += 1 + w;
                Plan::same(inner)
            } else {
                col = inner + w;
                Plan::line(inner)
            }
        })
        .collect()
}

/// Clause lengths: pairs, or for `match` `pattern when guard expr` quadruples.
fn clause_sizes(ns: &[&Node], guards: bool) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut i = 0;
    while i < ns.len() {
        let n = if guards && ns.get(i + 1).and_then(|n| n.symbol()) == Some("when") {
            4
        } else {
            2
        };
        let n = n.min(ns.len() - i);
        sizes.push(n);
        i += n;
    }
    sizes
}

/// One clause per line when it fits on one; otherwise each of its forms on its own line.
fn clause_plans(ns: &[&Node], sizes: &[usize], indent: usize, plans: &mut Vec<Plan>) {
    let mut at = 0;
    for &n in sizes {
        let clause = &ns[at..at + n];
        at += n;
        let width = clause
            .iter()
            .try_fold(0, |w, c| c.flat_len().map(|x| w + x + 1));
        let one_line = width.is_some_and(|w| indent + w <= WIDTH + 1);
        plans.push(Plan::line(indent));
        for _ in 1..n {
            plans.push(if one_line {
                Plan::same(indent)
            } else {
                Plan::line(indent)
            });
        }
    }
}

/// Name/value pairs, one per line, values starting in one column.
fn pair_plans(ns: &[&Node], indent: usize, plans: &mut Vec<Plan>) {
    let keys = ns.chunks(2).filter(|p| p.len() == 2).map(|p| p[0]);
    let widest = keys
        .map(|k| k.flat_len())
        .try_fold(0, |m, w| w.map(|w| m.max(w)));
    let value_col = widest
        .filter(|w| *w <= MAX_ALIGN_KEY)
        .map(|w| indent + w + 1);
    for (i, pair) in ns.chunks(2).enumerate() {
        plans.push(if i == 0 {
            Plan::same(indent)
        } else {
            Plan::line(indent)
        });
        if pair.len() == 2 {
            plans.push(Plan {
                same_line: true,
                indent,
                pad_to: value_col,
            });
        }
    }
}

fn emit(out: &mut Out, items: &[Item], plans: &[Plan], roles: &[Role], inner: usize) {
    let mut k = 0;
    // The line holds a comment (or was opened for one): the next item starts a new line.
    let mut must_break = false;
    let mut any = false;
    for item in items {
        let plan = plans.get(k).copied().unwrap_or(Plan::line(inner));
        let blank = item.blank_before && any;
        match &item.kind {
            ItemKind::Comment { text, trailing } => {
                if *trailing && !blank {
                    if any || out.col > inner {
                        out.push(" ");
                    }
                } else {
                    out.newline(plan.indent, blank);
                }
                out.push(text);
                must_break = true;
            }
            ItemKind::Node(n) => {
                if must_break || blank || !plan.same_line {
                    if any || must_break {
                        out.newline(plan.indent, blank);
                    }
                } else if any {
                    let pad = plan.pad_to.map_or(1, |c| c.saturating_sub(out.col).max(1));
                    out.s.extend(std::iter::repeat_n(' ', pad));
                    out.col += pad;
                }
                node(out, n, roles.get(k).copied().unwrap_or(Role::Plain));
                must_break = false;
                any = true;
                k += 1;
            }
        }
    }
    if must_break {
        let indent = plans.last().map_or(inner, |p| p.indent);
        out.newline(indent, false);
    }
}
