//! A concrete syntax tree for the formatter: the reader's tokens plus what the reader
//! throws away and a formatter must keep — comments (and whether each ended a line of
//! code or stood on its own line) and blank lines between forms.

use rtfs_compiler::diagnostic::DiagnosticSink;
use rtfs_compiler::lexer::{self, Close, Open, PrefixKind, Tok, Token};
use rtfs_compiler::source::FileId;
use rtfs_compiler::syntax::SyntaxKind;

#[derive(Debug)]
pub enum Node {
    /// A leaf exactly as written (numbers, strings and symbols are never respelled).
    Atom { text: String, symbol: bool },
    Coll {
        open: &'static str,
        close: &'static str,
        items: Vec<Item>,
        /// Width on one line, or `None` when the collection cannot be one line (it holds a
        /// comment, a blank line or a multi-line string).
        flat: Option<usize>,
    },
    Prefix {
        prefix: &'static str,
        form: Box<Node>,
    },
    /// `^meta target`.
    Meta { meta: Box<Node>, target: Box<Node> },
}

#[derive(Debug)]
pub struct Item {
    pub kind: ItemKind,
    /// A blank line separated this item from the previous one.
    pub blank_before: bool,
}

#[derive(Debug)]
pub enum ItemKind {
    Node(Node),
    /// `;` to the end of the line, without the line break. `trailing`: code preceded it
    /// on its line.
    Comment {
        text: String,
        trailing: bool,
    },
}

#[derive(Debug)]
pub struct Cst {
    /// A byte-order mark and `#!` line, kept verbatim.
    pub preamble: String,
    pub items: Vec<Item>,
}

impl Node {
    pub fn flat_len(&self) -> Option<usize> {
        match self {
            Node::Atom { text, .. } => (!text.contains('\n')).then(|| text.chars().count()),
            Node::Coll { flat, .. } => *flat,
            Node::Prefix { prefix, form } => Some(prefix.len() + form.flat_len()?),
            Node::Meta { meta, target } => Some(2 + meta.flat_len()? + target.flat_len()?),
        }
    }

    pub fn symbol(&self) -> Option<&str> {
        match self {
            Node::Atom { text, symbol: true } => Some(text),
            _ => None,
        }
    }

    /// The head symbol of a list, and the list's items.
    pub fn list_head(&self) -> Option<(&str, &[Item])> {
        match self {
            Node::Coll {
                open: "(", items, ..
            } => match items.first() {
                Some(Item {
                    kind: ItemKind::Node(h),
                    ..
                }) => h.symbol().map(|s| (s, items.as_slice())),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Builds the tree of `src`, which must already read without errors.
pub fn parse(src: &str) -> Result<Cst, String> {
    let mut sink = DiagnosticSink::new(16);
    let tokens = lexer::lex(FileId(0), src, &mut sink);
    if sink.has_errors() {
        return Err("the file has lexical errors".into());
    }
    let preamble_end = tokens.first().map_or_else(
        || preamble_len(src),
        |t| preamble_len(src).min(t.span.start as usize),
    );
    let mut p = Parser {
        src,
        tokens: &tokens,
        at: 0,
        last_end: preamble_end,
        hoisted: Vec::new(),
    };
    let items = p.seq(None)?;
    Ok(Cst {
        preamble: src[..preamble_end].to_string(),
        items,
    })
}

fn preamble_len(src: &str) -> usize {
    let mut n = 0;
    if src.starts_with('\u{feff}') {
        n = '\u{feff}'.len_utf8();
    }
    if src[n..].starts_with("#!") {
        n = src[n..].find('\n').map_or(src.len(), |i| n + i);
    }
    n
}

struct Parser<'a> {
    src: &'a str,
    tokens: &'a [Token],
    at: usize,
    last_end: usize,
    /// Comments found between a prefix and its form; they move before the prefixed form.
    hoisted: Vec<Item>,
}

impl Parser<'_> {
    /// Comments and blank lines in the text between the last token and `end`.
    fn gap(&mut self, end: usize, out: &mut Vec<Item>) -> bool {
        let text = &self.src[self.last_end..end];
        let mut newlines = 0;
        let mut code_on_line = self.last_end > 0;
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    newlines += 1;
                    code_on_line = false;
                    i += 1;
                }
                b';' => {
                    let stop = text[i..].find('\n').map_or(text.len(), |j| i + j);
                    let body = &text[i..stop];
                    out.push(Item {
                        kind: ItemKind::Comment {
                            text: body.strip_suffix('\r').unwrap_or(body).to_string(),
                            trailing: code_on_line,
                        },
                        blank_before: newlines >= 2,
                    });
                    newlines = 0;
                    i = stop;
                }
                _ => i += 1,
            }
        }
        self.last_end = end;
        newlines >= 2
    }

    fn seq(&mut self, close: Option<Close>) -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        loop {
            let Some(tok) = self.tokens.get(self.at) else {
                self.gap(self.src.len(), &mut items);
                return match close {
                    None => Ok(items),
                    Some(c) => Err(format!("missing `{}`", c.text())),
                };
            };
            let blank = self.gap(tok.span.start as usize, &mut items);
            if let Tok::Close(c) = tok.tok {
                return if Some(c) == close {
                    self.at += 1;
                    self.last_end = tok.span.end as usize;
                    Ok(items)
                } else {
                    Err(format!("unexpected `{}`", c.text()))
                };
            }
            let node = self.form()?;
            items.append(&mut self.hoisted);
            items.push(Item {
                kind: ItemKind::Node(node),
                blank_before: blank,
            });
        }
    }

    fn form(&mut self) -> Result<Node, String> {
        let Some(tok) = self.tokens.get(self.at) else {
            return Err("a form is missing at the end of the file".into());
        };
        self.at += 1;
        self.last_end = tok.span.end as usize;
        match &tok.tok {
            Tok::Atom(s) => Ok(Node::Atom {
                text: self.src[tok.span.range()].to_string(),
                symbol: matches!(s.kind, SyntaxKind::Symbol(_)),
            }),
            Tok::Open(o) => {
                let items = self.seq(Some(o.closer()))?;
                let open = o.text();
                let close = o.closer().text();
                let flat = flat_width(open, close, &items);
                Ok(Node::Coll {
                    open: open_str(*o),
                    close,
                    items,
                    flat,
                })
            }
            Tok::Prefix(PrefixKind::Meta) => {
                let meta = self.prefixed()?;
                let target = self.prefixed()?;
                Ok(Node::Meta {
                    meta: Box::new(meta),
                    target: Box::new(target),
                })
            }
            Tok::Prefix(k) => Ok(Node::Prefix {
                prefix: k.text(),
                form: Box::new(self.prefixed()?),
            }),
            Tok::Close(c) => Err(format!("unexpected `{}`", c.text())),
        }
    }

    fn prefixed(&mut self) -> Result<Node, String> {
        if let Some(t) = self.tokens.get(self.at) {
            let mut comments = Vec::new();
            self.gap(t.span.start as usize, &mut comments);
            for mut c in comments {
                if let ItemKind::Comment { trailing, .. } = &mut c.kind {
                    *trailing = false;
                }
                self.hoisted.push(c);
            }
        }
        self.form()
    }
}

fn open_str(o: Open) -> &'static str {
    o.text()
}

fn flat_width(open: &str, close: &str, items: &[Item]) -> Option<usize> {
    let mut w = open.len() + close.len();
    for (i, it) in items.iter().enumerate() {
        if it.blank_before && i > 0 {
            return None;
        }
        match &it.kind {
            ItemKind::Comment { .. } => return None,
            ItemKind::Node(n) => w += n.flat_len()? + usize::from(i > 0),
        }
    }
    Some(w)
}
