//! The request handlers: each reads the document(s) it needs from the server and answers
//! in the protocol's JSON shapes.

use std::ops::Range;

use rtfs_compiler::diagnostic::DiagnosticSink;
use rtfs_compiler::lexer::{self, Tok};
use rtfs_compiler::source::FileId;
use rtfs_compiler::syntax::SyntaxKind;
use serde_json::{Value as Json, json};

use super::Server;
use super::analysis::Document;
use super::index::{DefKind, Occurrence};

/// Semantic token legend; RTFS keywords (`:k`) are `property`, special forms `keyword`.
pub const TOKEN_TYPES: [&str; 8] = [
    "function", "variable", "property", "keyword", "string", "number", "comment", "macro",
];
const T_FUNCTION: u32 = 0;
const T_VARIABLE: u32 = 1;
const T_PROPERTY: u32 = 2;
const T_KEYWORD: u32 = 3;
const T_STRING: u32 = 4;
const T_NUMBER: u32 = 5;
const T_COMMENT: u32 = 6;
const T_MACRO: u32 = 7;

type Res = Result<Json, String>;

fn uri(params: &Json) -> Result<&str, String> {
    params["textDocument"]["uri"]
        .as_str()
        .ok_or_else(|| "textDocument.uri is missing".to_string())
}

fn doc<'a>(s: &'a Server, params: &Json) -> Result<(&'a str, &'a Document), String> {
    let u = uri(params)?;
    s.docs
        .get_key_value(u)
        .map(|(k, d)| (k.as_str(), d))
        .ok_or_else(|| format!("unknown document {u}"))
}

fn offset(d: &Document, params: &Json) -> Result<usize, String> {
    let p = &params["position"];
    match (p["line"].as_u64(), p["character"].as_u64()) {
        (Some(l), Some(c)) => Ok(d.lines.offset(&d.text, l as u32, c as u32)),
        _ => Err("position is missing".into()),
    }
}

fn location(uri: &str, d: &Document, r: &Range<usize>) -> Json {
    json!({"uri": uri, "range": d.lines.range(&d.text, r.start, r.end)})
}

fn is_builtin(name: &str) -> Option<&'static rtfs_ir::func::Builtin> {
    rtfs_stdlib::lookup(name)
}

/// Where a name is defined: (uri, def index), this document first.
fn find_global<'a>(s: &'a Server, here: &str, name: &str) -> Option<(&'a str, usize)> {
    let this = s.docs.get(here).and_then(|d| d.index.global(name));
    if let Some(i) = this {
        return s.docs.get_key_value(here).map(|(k, _)| (k.as_str(), i));
    }
    let mut found: Vec<(&str, usize)> = s
        .docs
        .iter()
        .filter_map(|(u, d)| d.index.global(name).map(|i| (u.as_str(), i)))
        .collect();
    found.sort();
    found.into_iter().next()
}

/// The definition an occurrence refers to: (uri, def index).
fn target<'a>(s: &'a Server, here: &'a str, occ: &Occurrence) -> Option<(&'a str, usize)> {
    match occ.def {
        Some(d) => Some((here, d)),
        None => find_global(s, here, &occ.name),
    }
}

pub fn hover(s: &mut Server, params: &Json) -> Res {
    let u = uri(params)?.to_string();
    let (occ, off) = {
        let (_, d) = doc(s, params)?;
        let off = offset(d, params)?;
        match d.index.occurrence_at(off) {
            Some(o) => (o.clone(), off),
            None => return Ok(Json::Null),
        }
    };
    let mut md = String::new();
    let range;
    {
        let d = &s.docs[&u];
        range = d.lines.range(&d.text, occ.range.start, occ.range.end);
    }
    match target(s, &u, &occ).map(|(a, b)| (a.to_string(), b)) {
        Some((du, di)) => {
            let def = s.docs[&du].index.defs[di].clone();
            match def.kind {
                DefKind::Local => {
                    let d = &s.docs[&du];
                    let (line, _) = d.lines.position(&d.text, def.name_range.start);
                    md.push_str(&format!(
                        "```rtfs\n{}\n```\nlocal, bound on line {}",
                        def.name,
                        line + 1
                    ));
                }
                kind => {
                    let head = match kind {
                        DefKind::Function => "defn",
                        DefKind::Macro => "defmacro",
                        DefKind::Test => "deftest",
                        _ => "def",
                    };
                    md.push_str("```rtfs\n");
                    if def.params.is_empty() {
                        md.push_str(&format!("({head} {})\n", def.name));
                    }
                    for p in &def.params {
                        md.push_str(&format!("({head} {} {p})\n", def.name));
                    }
                    md.push_str("```\n");
                    if let Some(doc) = &def.doc {
                        md.push_str(doc);
                        md.push('\n');
                    }
                    let name = def.name.clone();
                    if let Some(e) = s.docs.get_mut(&du).and_then(|d| d.explain(&du))
                        && let Some((pure, why)) = e.purity.get(&name)
                    {
                        md.push_str(&match (pure, why) {
                            (true, _) => "\n**pure** (JIT candidate, cacheable)\n".to_string(),
                            (false, Some(w)) => format!("\n**impure**: {w}\n"),
                            (false, None) => "\n**impure**\n".to_string(),
                        });
                    }
                }
            }
        }
        None => {
            if let Some(b) = is_builtin(&occ.name) {
                md.push_str(&format!(
                    "```rtfs\n({} …)\n```\nbuilt-in, {} argument(s), {}\n",
                    b.name,
                    b.arity_text(),
                    if b.pure_fn { "pure" } else { "impure" }
                ));
            } else if rtfs_compiler::lower::is_special_form(&occ.name) {
                md.push_str(&format!("`{}`: special form", occ.name));
            } else {
                return Ok(Json::Null);
            }
        }
    }
    // The delegation decision of the innermost call site naming this symbol.
    if let Some(e) = s.docs.get_mut(&u).and_then(|d| d.explain(&u)) {
        let site = e
            .sites
            .iter()
            .filter(|(r, callee, _, _)| r.start < off && off <= r.end && *callee == occ.name)
            .min_by_key(|(r, ..)| r.end - r.start);
        if let Some((_, _, t, why)) = site {
            md.push_str(&format!("\ndelegation: **{t}** ({why})\n"));
        }
    }
    Ok(json!({"contents": {"kind": "markdown", "value": md}, "range": range}))
}

pub fn definition(s: &mut Server, params: &Json) -> Res {
    let (u, d) = doc(s, params)?;
    let off = offset(d, params)?;
    let Some(occ) = d.index.occurrence_at(off) else {
        return Ok(Json::Null);
    };
    Ok(match target(s, u, occ) {
        Some((du, di)) => {
            let dd = &s.docs[du];
            location(du, dd, &dd.index.defs[di].name_range)
        }
        None => Json::Null,
    })
}

/// Every occurrence, in every document, of what the occurrence under the cursor names.
fn all_occurrences<'a>(
    s: &'a Server,
    u: &'a str,
    occ: &Occurrence,
) -> Vec<(&'a str, Range<usize>)> {
    let Some((du, di)) = target(s, u, occ) else {
        return Vec::new();
    };
    let def = &s.docs[du].index.defs[di];
    let mut out: Vec<(&str, Range<usize>)> = s.docs[du]
        .index
        .occurrences
        .iter()
        .filter(|o| o.def == Some(di))
        .map(|o| (du, o.range.clone()))
        .collect();
    if def.kind != DefKind::Local {
        for (ou, od) in &s.docs {
            if ou.as_str() == du {
                continue;
            }
            out.extend(
                od.index
                    .occurrences
                    .iter()
                    .filter(|o| o.def.is_none() && o.name == def.name)
                    .map(|o| (ou.as_str(), o.range.clone())),
            );
        }
    }
    out.sort_by(|a, b| (a.0, a.1.start).cmp(&(b.0, b.1.start)));
    out
}

pub fn references(s: &mut Server, params: &Json) -> Res {
    let (u, d) = doc(s, params)?;
    let off = offset(d, params)?;
    let Some(occ) = d.index.occurrence_at(off) else {
        return Ok(json!([]));
    };
    let with_decl = params["context"]["includeDeclaration"]
        .as_bool()
        .unwrap_or(true);
    let decl = target(s, u, occ).map(|(du, di)| (du, s.docs[du].index.defs[di].name_range.clone()));
    let locs: Vec<Json> = all_occurrences(s, u, occ)
        .into_iter()
        .filter(|(ou, r)| with_decl || decl.as_ref() != Some(&(*ou, r.clone())))
        .map(|(ou, r)| location(ou, &s.docs[ou], &r))
        .collect();
    Ok(Json::Array(locs))
}

fn valid_symbol(name: &str) -> bool {
    let mut sink = DiagnosticSink::new(4);
    let toks = lexer::lex(FileId(0), name, &mut sink);
    !sink.has_errors()
        && matches!(toks.as_slice(), [t] if matches!(&t.tok, Tok::Atom(a) if matches!(&a.kind, SyntaxKind::Symbol(s) if !s.contains(':'))))
}

pub fn prepare_rename(s: &mut Server, params: &Json) -> Res {
    let (u, d) = doc(s, params)?;
    let off = offset(d, params)?;
    match d.index.occurrence_at(off) {
        Some(o) if target(s, u, o).is_some() => Ok(
            json!({"range": d.lines.range(&d.text, o.range.start, o.range.end), "placeholder": o.name}),
        ),
        _ => Ok(Json::Null),
    }
}

pub fn rename(s: &mut Server, params: &Json) -> Res {
    let new = params["newName"].as_str().ok_or("newName is missing")?;
    if !valid_symbol(new) {
        return Err(format!("`{new}` is not a valid RTFS name"));
    }
    let (u, d) = doc(s, params)?;
    let off = offset(d, params)?;
    let Some(occ) = d.index.occurrence_at(off) else {
        return Err("no name under the cursor".into());
    };
    if target(s, u, occ).is_none() {
        return Err(format!(
            "`{}` is not defined in the project (a built-in?)",
            occ.name
        ));
    }
    let mut changes = serde_json::Map::new();
    for (ou, r) in all_occurrences(s, u, occ) {
        let od = &s.docs[ou];
        let edit = json!({"range": od.lines.range(&od.text, r.start, r.end), "newText": new});
        if let Some(a) = changes
            .entry(ou.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            a.push(edit);
        }
    }
    Ok(json!({"changes": changes}))
}

const SPECIAL: &[&str] = &[
    "def",
    "defn",
    "defn-",
    "defmacro",
    "fn",
    "let",
    "loop",
    "recur",
    "if",
    "do",
    "when",
    "when-not",
    "cond",
    "case",
    "match",
    "try",
    "catch",
    "finally",
    "throw",
    "quote",
    "call",
    "and",
    "or",
    "letfn",
    "step",
    "parallel",
    "with-resource",
    "deftest",
    "is",
    "testing",
    "are",
];

pub fn completion(s: &mut Server, params: &Json) -> Res {
    let (u, d) = doc(s, params)?;
    let off = offset(d, params)?;
    let before = &d.text[..off];
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| !c.is_whitespace() && !"()[]{}\"',;@^`~".contains(*c))
        .last()
        .map_or(off, |(i, _)| i);
    let prefix = &d.text[start..off];
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |label: String, kind: u32, detail: String| {
        if label.starts_with(prefix) && seen.insert(label.clone()) {
            items.push(json!({"label": label, "kind": kind, "detail": detail}));
        }
    };
    if let Some(kw) = prefix.strip_prefix(':') {
        // The keyword being typed is in the file's set too; it is not a suggestion.
        for k in d
            .index
            .keywords
            .iter()
            .filter(|k| k.starts_with(kw) && k.as_str() != kw)
        {
            add(format!(":{k}"), 21, "keyword in this file".into());
        }
    } else {
        let locals: Vec<_> = d.index.locals_at(off).collect();
        for l in locals.iter().rev() {
            add(l.name.clone(), 6, "local".into());
        }
        for (du, dd) in &s.docs {
            for g in dd.index.defs.iter().filter(|g| g.kind != DefKind::Local) {
                let detail = match g.params.first() {
                    Some(p) => format!("{} {p}", g.name),
                    None => g.name.clone(),
                };
                let kind = if g.kind == DefKind::Variable { 6 } else { 3 };
                add(
                    g.name.clone(),
                    kind,
                    if du.as_str() == u {
                        detail
                    } else {
                        format!("{detail} ({du})")
                    },
                );
            }
        }
        for b in rtfs_stdlib::BUILTINS {
            add(
                b.name.to_string(),
                3,
                format!("built-in, {} argument(s)", b.arity_text()),
            );
        }
        for sp in SPECIAL {
            add(sp.to_string(), 14, "special form".into());
        }
    }
    Ok(json!({"isIncomplete": false, "items": items}))
}

pub fn document_symbols(s: &mut Server, params: &Json) -> Res {
    let (_, d) = doc(s, params)?;
    let syms: Vec<Json> = d
        .index
        .defs
        .iter()
        .filter(|g| g.kind != DefKind::Local)
        .map(|g| {
            json!({
                "name": g.name,
                "detail": g.params.join(" "),
                "kind": match g.kind { DefKind::Variable => 13, DefKind::Macro => 12, _ => 12 },
                "range": d.lines.range(&d.text, g.form_range.start, g.form_range.end),
                "selectionRange": d.lines.range(&d.text, g.name_range.start, g.name_range.end),
            })
        })
        .collect();
    Ok(Json::Array(syms))
}

/// Tokens from the lexer (comments from the gaps between tokens), classified by the index.
pub fn semantic_tokens(s: &mut Server, params: &Json) -> Res {
    let (_, d) = doc(s, params)?;
    let mut sink = DiagnosticSink::new(1);
    let toks = lexer::lex(FileId(0), &d.text, &mut sink);
    let mut spans: Vec<(Range<usize>, u32, u32)> = Vec::new();
    let mut last = 0;
    for t in &toks {
        let r = t.span.range();
        comments(&d.text, last, r.start, &mut spans);
        last = r.end;
        let Tok::Atom(a) = &t.tok else {
            continue;
        };
        let class = match &a.kind {
            SyntaxKind::Str(_) => Some((T_STRING, 0)),
            SyntaxKind::Int(_) | SyntaxKind::Float(_) => Some((T_NUMBER, 0)),
            SyntaxKind::Keyword(_) => Some((T_PROPERTY, 0)),
            SyntaxKind::Bool(_) | SyntaxKind::Nil => Some((T_KEYWORD, 0)),
            SyntaxKind::Symbol(name) => match d
                .index
                .occurrence_at(r.start)
                .filter(|o| o.range.start == r.start)
            {
                Some(o) => match o.def.map(|i| d.index.defs[i].kind) {
                    Some(DefKind::Local) => Some((T_VARIABLE, 0)),
                    Some(DefKind::Macro) => Some((T_MACRO, 0)),
                    Some(DefKind::Variable) => Some((T_VARIABLE, 0)),
                    Some(_) => Some((T_FUNCTION, 0)),
                    None if SPECIAL.contains(&&**name) => Some((T_KEYWORD, 0)),
                    None if is_builtin(name).is_some() => Some((T_FUNCTION, 1)),
                    None => None,
                },
                None => None,
            },
            _ => None,
        };
        if let Some((ty, m)) = class {
            spans.push((r, ty, m));
        }
    }
    comments(&d.text, last, d.text.len(), &mut spans);
    let mut data = Vec::with_capacity(spans.len() * 5);
    let (mut pl, mut pc) = (0u32, 0u32);
    for (r, ty, m) in spans {
        if d.text[r.clone()].contains('\n') {
            continue;
        }
        let (l, c) = d.lines.position(&d.text, r.start);
        let (_, c2) = d.lines.position(&d.text, r.end);
        let dc = if l == pl { c - pc } else { c };
        data.extend([l - pl, dc, c2 - c, ty, m]);
        (pl, pc) = (l, c);
    }
    Ok(json!({"data": data}))
}

fn comments(text: &str, from: usize, to: usize, out: &mut Vec<(Range<usize>, u32, u32)>) {
    let gap = &text[from..to];
    let mut i = 0;
    while let Some(j) = gap[i..].find(';') {
        let start = i + j;
        let end = gap[start..].find('\n').map_or(gap.len(), |k| start + k);
        out.push((from + start..from + end, T_COMMENT, 0));
        i = end;
    }
}
