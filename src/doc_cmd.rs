//! `rtfs doc PATH... [--out DIR] [--builtins]`: a Markdown and HTML reference of a
//! project's definitions — signature, docstring, purity (the compiler's analysis, as in
//! `rtfs explain`) and delegation hint — and, with `--builtins`, of the built-ins.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rtfs_compiler::reader;
use rtfs_compiler::source::FileId;
use rtfs_compiler::syntax::{Syntax, SyntaxKind};

use crate::lsp::index::{DefKind, Index};

use crate::rtfs_files::collect;

struct Entry {
    name: String,
    kind: &'static str,
    signatures: Vec<String>,
    doc: Option<String>,
    purity: Option<(bool, Option<String>)>,
    delegation: Option<String>,
}

struct FileDoc {
    path: String,
    entries: Vec<Entry>,
}

/// Exit 0 written, 2 a file could not be read, read as RTFS, or the output written.
pub fn run(paths: Vec<PathBuf>, out: Option<PathBuf>, builtins: bool) -> i32 {
    let mut files = Vec::new();
    for p in &paths {
        if p.is_dir() {
            if let Err(e) = collect(p, &mut files) {
                eprintln!("error: cannot list {}: {e}", p.display());
                return 2;
            }
        } else {
            files.push(p.clone());
        }
    }
    let mut docs = Vec::new();
    for f in &files {
        match document(f) {
            Ok(d) => docs.push(d),
            Err(e) => {
                eprint!("{e}");
                return 2;
            }
        }
    }
    let md = markdown(&docs, builtins);
    match out {
        None => {
            let _ = std::io::stdout().lock().write_all(md.as_bytes());
            0
        }
        Some(dir) => {
            let html = html(&docs, builtins);
            for (name, text) in [("reference.md", md), ("reference.html", html)] {
                let path = dir.join(name);
                if let Err(e) = rtfs_mesh_io::fsutil::write_atomic(&path, text.as_bytes(), false) {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return 2;
                }
            }
            println!("wrote {}/reference.md and reference.html", dir.display());
            0
        }
    }
}

fn document(path: &Path) -> Result<FileDoc, String> {
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("error: cannot read {name}: {e}\n"))?;
    let forms = reader::read(FileId(0), &text).map_err(|diags| {
        let mut map = rtfs_compiler::source::SourceMap::new();
        map.add(name.clone(), text.as_str());
        diags.iter().map(|d| d.render(&map)).collect::<String>()
    })?;
    let index = Index::build(&text, &forms);
    // Purity needs the compiler; a file that does not compile is still documented.
    let mut rt = rtfs_runtime::Runtime::new();
    let explained = rt.explain_source(&name, text.as_bytes()).ok();
    let mut entries = Vec::new();
    for d in index.defs.iter().filter(|d| d.kind != DefKind::Local) {
        let kind = match d.kind {
            DefKind::Function => "defn",
            DefKind::Macro => "defmacro",
            DefKind::Test => continue,
            _ => "def",
        };
        let purity = explained.as_ref().and_then(|e| {
            e.functions
                .iter()
                .find(|f| f.name == d.name)
                .map(|f| (f.pure, f.reason.clone()))
        });
        let form = forms.iter().find(|f| f.span.range() == d.form_range);
        entries.push(Entry {
            name: d.name.clone(),
            kind,
            signatures: d
                .params
                .iter()
                .map(|p| format!("({} {p})", d.name))
                .collect(),
            doc: d.doc.clone(),
            purity,
            delegation: form.and_then(delegation_hint),
        });
    }
    Ok(FileDoc {
        path: name,
        entries,
    })
}

/// The `^{:delegation ...}` hint on a definition's name (or on the form), as the
/// delegation pass reads it.
fn delegation_hint(form: &Syntax) -> Option<String> {
    let SyntaxKind::List(items) = &form.kind else {
        return None;
    };
    [
        items.get(1).and_then(|n| n.meta.as_deref()),
        form.meta.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(|m| {
        let v = rtfs_compiler::convert::syntax_to_value(m);
        match rtfs_compiler::delegation::parse_hint(&v) {
            Ok(Some(t)) => Some(t.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("invalid hint: {e}")),
        }
    })
}

fn purity_text(p: &Option<(bool, Option<String>)>) -> Option<String> {
    p.as_ref().map(|(pure, why)| match (pure, why) {
        (true, _) => "pure".to_string(),
        (false, Some(w)) => format!("impure ({w})"),
        (false, None) => "impure".to_string(),
    })
}

fn markdown(docs: &[FileDoc], builtins: bool) -> String {
    let mut s = String::from("# Reference\n");
    for f in docs {
        let _ = writeln!(s, "\n## {}\n", f.path);
        if f.entries.is_empty() {
            s.push_str("No definitions.\n");
        }
        for e in &f.entries {
            let _ = writeln!(s, "### `{}`\n", e.name);
            s.push_str("```clojure\n");
            if e.signatures.is_empty() {
                let _ = writeln!(s, "({} {})", e.kind, e.name);
            }
            for sig in &e.signatures {
                let _ = writeln!(s, "{sig}");
            }
            s.push_str("```\n\n");
            if let Some(d) = &e.doc {
                let _ = writeln!(s, "{d}\n");
            }
            if let Some(p) = purity_text(&e.purity) {
                let _ = writeln!(s, "- purity: {p}");
            }
            if let Some(h) = &e.delegation {
                let _ = writeln!(s, "- delegation: {h}");
            }
            s.push('\n');
        }
    }
    if builtins {
        s.push_str("\n## Built-ins\n\n| name | arguments | purity |\n|---|---|---|\n");
        for b in rtfs_stdlib::BUILTINS {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} |",
                b.name.replace('|', "\\|"),
                b.arity_text(),
                if b.pure_fn { "pure" } else { "impure" }
            );
        }
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(docs: &[FileDoc], builtins: bool) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>RTFS reference</title></head><body>\n<h1>Reference</h1>\n",
    );
    for f in docs {
        let _ = writeln!(s, "<h2>{}</h2>", esc(&f.path));
        for e in &f.entries {
            let _ = writeln!(s, "<h3 id=\"{0}\"><code>{0}</code></h3>", esc(&e.name));
            let sigs = if e.signatures.is_empty() {
                vec![format!("({} {})", e.kind, e.name)]
            } else {
                e.signatures.clone()
            };
            let _ = writeln!(s, "<pre><code>{}</code></pre>", esc(&sigs.join("\n")));
            if let Some(d) = &e.doc {
                let _ = writeln!(s, "<p>{}</p>", esc(d));
            }
            s.push_str("<ul>");
            if let Some(p) = purity_text(&e.purity) {
                let _ = write!(s, "<li>purity: {}</li>", esc(&p));
            }
            if let Some(h) = &e.delegation {
                let _ = write!(s, "<li>delegation: {}</li>", esc(h));
            }
            s.push_str("</ul>\n");
        }
    }
    if builtins {
        s.push_str(
            "<h2>Built-ins</h2>\n<table><tr><th>name</th><th>arguments</th><th>purity</th></tr>\n",
        );
        for b in rtfs_stdlib::BUILTINS {
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(b.name),
                esc(&b.arity_text()),
                if b.pure_fn { "pure" } else { "impure" }
            );
        }
        s.push_str("</table>\n");
    }
    s.push_str("</body></html>\n");
    s
}
