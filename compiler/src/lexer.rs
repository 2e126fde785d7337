//! The RTFS lexer: a [`logos`] scanner ([`RawToken`]) plus a cooking step
//! that turns atoms into [`Syntax`] leaves (numbers parsed, strings
//! unescaped, extended literals validated) and reports lexical errors.
//!
//! The output is a flat [`Token`] stream of brackets, reader-macro prefixes
//! and atoms, which the LALRPOP grammar (`grammar.lalrpop`) assembles into
//! trees. A token that is malformed but clearly meant as a form (a bad
//! number, a lone `:`, ...) still yields a placeholder atom so that the
//! structure of the rest of the file is checked too.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use logos::Logos;

use crate::diagnostic::{Diagnostic, DiagnosticSink, codes};
use crate::source::{FileId, Span};
use crate::syntax::{Syntax, SyntaxKind};

/// Longest accepted string literal, in bytes of source text.
pub const MAX_STRING_LEN: usize = 1 << 20;

/// Whether a string scan found its closing quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminated {
    Yes,
    No,
}

/// Scans a string body after its opening delimiter (`"` or `#"`): a `\`
/// escapes the next character, `"` ends the literal. Consumes up to and
/// including the closing quote, or to the end of input.
fn scan_string<'s>(lex: &mut logos::Lexer<'s, RawToken>) -> Terminated {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'"' => {
                lex.bump(i + 1);
                return Terminated::Yes;
            }
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    lex.bump(rest.len());
    Terminated::No
}

/// Skips a `#| … |#` block comment (they do not nest); the opening `#|` is already read.
fn scan_block_comment<'s>(lex: &mut logos::Lexer<'s, RawToken>) -> Terminated {
    let rest = lex.remainder();
    match rest.find("|#") {
        Some(i) => {
            lex.bump(i + 2);
            Terminated::Yes
        }
        None => {
            lex.bump(rest.len());
            Terminated::No
        }
    }
}

/// Raw tokens as recognised by logos. Whitespace, commas and `;` comments are
/// skipped.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\x0C,]+")]
#[logos(skip(r";[^\n]*", allow_greedy = true))]
#[logos(subpattern sym_start = r"[\p{L}_$+\-*/=<>!?.&%]")]
#[logos(subpattern sym_char = r"[\p{L}\p{M}\p{N}_$+\-*/=<>!?.&%:'#]")]
#[logos(subpattern sym_end = r"[\p{L}\p{M}\p{N}_$+\-*/=<>!?.&%'#]")]
#[logos(subpattern kw_start = r"[\p{L}\p{N}_$+\-*/=<>!?.&%]")]
pub enum RawToken {
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("#{")]
    HashBrace,
    /// `#(` — opens an anonymous function literal.
    #[token("#(")]
    HashParen,
    /// `:[` — opens a type expression.
    #[token(":[")]
    ColonBracket,
    #[token("'")]
    Quote,
    #[token("`")]
    Backquote,
    #[token("~")]
    Tilde,
    #[token("~@")]
    TildeAt,
    #[token("@")]
    At,
    #[token("^")]
    Caret,
    #[token("#_")]
    Discard,
    #[token("#|", scan_block_comment)]
    BlockComment(Terminated),
    #[token("\"", scan_string)]
    Str(Terminated),
    #[token("#\"", scan_string)]
    Regex(Terminated),
    /// A `:` not followed by a keyword name or `[` (an error).
    #[token(":")]
    Colon,
    /// `::name` (auto-resolved keywords are not supported: an error).
    #[regex(r"::(?&sym_char)*")]
    DoubleColon,
    #[regex(r":(?&kw_start)((?&sym_char)*(?&sym_end))?")]
    Keyword,
    #[regex(r"[+-]?[0-9]+", priority = 10)]
    Int,
    #[regex(r"[+-]?0[xX][0-9a-fA-F]+", priority = 10)]
    HexInt,
    #[regex(r"[+-]?0[bB][01]+", priority = 10)]
    BinInt,
    #[regex(r"[+-]?0[oO][0-7]+", priority = 10)]
    OctInt,
    #[regex(
        r"[+-]?[0-9]+(\.[0-9]+([eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)",
        priority = 10
    )]
    Float,
    #[token("##Inf")]
    Inf,
    #[token("##-Inf")]
    NegInf,
    #[token("##NaN")]
    NaN,
    /// `##` followed by anything else (an error).
    #[regex(r"##(?&sym_char)*", priority = 3)]
    BadSpecialFloat,
    /// A `#` that starts no known dispatch (an error).
    #[token("#")]
    Hash,
    /// Starts like a number but is not one, e.g. `1.`, `12abc` (an error).
    #[regex(r"[+-]?[0-9](?&sym_char)*", priority = 5)]
    BadNumber,
    #[regex(r"(?&sym_start)((?&sym_char)*(?&sym_end))?", priority = 4)]
    Symbol,
    #[regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([._][0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})",
        priority = 100
    )]
    Timestamp,
    #[regex(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        priority = 100
    )]
    Uuid,
    #[regex(r#"resource://[^\s,;"()\[\]{}]+"#, priority = 100)]
    Resource,
}

/// Opening delimiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Open {
    /// `(`
    Paren,
    /// `[`
    Bracket,
    /// `{`
    Brace,
    /// `#{`
    Set,
    /// `:[`
    Type,
    /// `#(`
    AnonFn,
}

/// Closing delimiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Close {
    /// `)`
    Paren,
    /// `]`
    Bracket,
    /// `}`
    Brace,
}

impl Open {
    /// The delimiter that closes this one.
    pub fn closer(self) -> Close {
        match self {
            Open::Paren | Open::AnonFn => Close::Paren,
            Open::Bracket | Open::Type => Close::Bracket,
            Open::Brace | Open::Set => Close::Brace,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Open::Paren => "(",
            Open::Bracket => "[",
            Open::Brace => "{",
            Open::Set => "#{",
            Open::Type => ":[",
            Open::AnonFn => "#(",
        }
    }

    /// What the delimiter opens: "list", "vector", ...
    pub fn what(self) -> &'static str {
        match self {
            Open::Paren => "list",
            Open::Bracket => "vector",
            Open::Brace => "map",
            Open::Set => "set",
            Open::Type => "type expression",
            Open::AnonFn => "anonymous function",
        }
    }
}

impl Close {
    pub fn text(self) -> &'static str {
        match self {
            Close::Paren => ")",
            Close::Bracket => "]",
            Close::Brace => "}",
        }
    }
}

/// Reader macros that apply to the following form(s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrefixKind {
    /// `'x` → `(quote x)`
    Quote,
    /// `` `x `` → `(quasiquote x)`
    Quasiquote,
    /// `~x` → `(unquote x)`
    Unquote,
    /// `~@x` → `(unquote-splicing x)`
    UnquoteSplicing,
    /// `@x` → `(deref x)`
    Deref,
    /// `^meta form`
    Meta,
    /// `#_form` (the form is dropped)
    Discard,
}

impl PrefixKind {
    pub fn text(self) -> &'static str {
        match self {
            PrefixKind::Quote => "'",
            PrefixKind::Quasiquote => "`",
            PrefixKind::Unquote => "~",
            PrefixKind::UnquoteSplicing => "~@",
            PrefixKind::Deref => "@",
            PrefixKind::Meta => "^",
            PrefixKind::Discard => "#_",
        }
    }

    /// The symbol a wrapping prefix expands to (`quote`, ...); `None` for
    /// `^` and `#_`.
    pub fn symbol(self) -> Option<&'static str> {
        match self {
            PrefixKind::Quote => Some("quote"),
            PrefixKind::Quasiquote => Some("quasiquote"),
            PrefixKind::Unquote => Some("unquote"),
            PrefixKind::UnquoteSplicing => Some("unquote-splicing"),
            PrefixKind::Deref => Some("deref"),
            PrefixKind::Meta | PrefixKind::Discard => None,
        }
    }
}

/// A cooked token, the input of the grammar.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Open(Open),
    Close(Close),
    Prefix(PrefixKind),
    /// A complete leaf form (with its span).
    Atom(Syntax),
}

/// A token with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Lexes `src` into cooked tokens, reporting lexical errors into `diags`.
/// A leading byte-order mark and a `#!` first line are skipped. Never
/// panics. Offsets must fit in `u32` (the reader limits sources to 64 MiB).
pub fn lex(file: FileId, src: &str, diags: &mut DiagnosticSink) -> Vec<Token> {
    let mut base = 0usize;
    if src.starts_with('\u{feff}') {
        base = '\u{feff}'.len_utf8();
    }
    if src[base..].starts_with("#!") {
        base = src[base..]
            .find('\n')
            .map(|i| base + i)
            .unwrap_or(src.len());
    }
    let body = &src[base..];
    let mut cx = Cooker {
        file,
        src: body,
        base: base as u32,
        diags,
        names: HashMap::default(),
    };
    let mut out = Vec::with_capacity(body.len() / 8 + 1);
    let mut lexer = RawToken::lexer(body);
    while let Some(res) = lexer.next() {
        let r = lexer.span();
        let span = cx.span(r.start, r.end);
        match res {
            Ok(raw) => {
                if let Some(tok) = cx.cook(raw, r.start, r.end) {
                    out.push(Token { tok, span });
                }
            }
            Err(()) => cx.unexpected(r.start, r.end),
        }
    }
    out
}

struct Cooker<'a, 's> {
    file: FileId,
    src: &'s str,
    base: u32,
    diags: &'a mut DiagnosticSink,
    /// Interned symbol and keyword names: repeated names share one `Arc`.
    names: HashMap<&'s str, Arc<str>, BuildHasherDefault<FxHasher>>,
}

/// A small, fast, non-cryptographic hasher (FxHash) for interning names.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl<'s> Cooker<'_, 's> {
    fn intern(&mut self, name: &'s str) -> Arc<str> {
        if let Some(a) = self.names.get(name) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(name);
        self.names.insert(name, a.clone());
        a
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start as u32, self.base + end as u32)
    }

    fn unexpected(&mut self, start: usize, end: usize) {
        let span = self.span(start, end);
        if !self.diags.would_keep(span.start) {
            return;
        }
        let text = self.src.get(start..end).unwrap_or("");
        let shown = describe_chars(text);
        self.diags.push(Diagnostic::error(
            codes::UNEXPECTED_CHAR,
            format!("unexpected character {shown}: expected a form, whitespace or a comment"),
            span,
        ));
    }

    fn cook(&mut self, raw: RawToken, start: usize, end: usize) -> Option<Tok> {
        use RawToken as R;
        let src: &'s str = self.src;
        let text: &'s str = src.get(start..end).unwrap_or("");
        let span = self.span(start, end);
        let atom = |kind: SyntaxKind| Some(Tok::Atom(Syntax::new(kind, span)));
        match raw {
            R::LParen => Some(Tok::Open(Open::Paren)),
            R::LBracket => Some(Tok::Open(Open::Bracket)),
            R::LBrace => Some(Tok::Open(Open::Brace)),
            R::HashBrace => Some(Tok::Open(Open::Set)),
            R::HashParen => Some(Tok::Open(Open::AnonFn)),
            R::ColonBracket => Some(Tok::Open(Open::Type)),
            R::RParen => Some(Tok::Close(Close::Paren)),
            R::RBracket => Some(Tok::Close(Close::Bracket)),
            R::RBrace => Some(Tok::Close(Close::Brace)),
            R::Quote => Some(Tok::Prefix(PrefixKind::Quote)),
            R::Backquote => Some(Tok::Prefix(PrefixKind::Quasiquote)),
            R::Tilde => Some(Tok::Prefix(PrefixKind::Unquote)),
            R::TildeAt => Some(Tok::Prefix(PrefixKind::UnquoteSplicing)),
            R::At => Some(Tok::Prefix(PrefixKind::Deref)),
            R::Caret => Some(Tok::Prefix(PrefixKind::Meta)),
            R::Discard => Some(Tok::Prefix(PrefixKind::Discard)),
            R::BlockComment(Terminated::Yes) => None,
            R::BlockComment(Terminated::No) => {
                let opener = self.span(start, (start + 2).min(end));
                self.report(span.start, || {
                    Diagnostic::error(
                        codes::UNTERMINATED_COMMENT,
                        "unterminated block comment: expected `|#` to close this `#|`",
                        opener,
                    )
                });
                None
            }
            R::Str(t) => atom(self.string(text, span, t, false)),
            R::Regex(t) => atom(self.string(text, span, t, true)),
            // Spec 03 §8 writes annotations with a spaced colon, `[a : Integer] : Integer`;
            // the compiler reads the `:` symbol there and rejects it anywhere else.
            R::Colon => atom(SyntaxKind::Symbol(self.intern(":"))),
            R::DoubleColon => {
                self.report(span.start, || Diagnostic::error(
                        codes::INVALID_LITERAL,
                        format!(
                            "auto-resolved keyword `{text}` is not supported: expected a keyword with a single `:`"
                        ),
                        span,
                    )
                    .with_help(format!("write `:{}`", &text[2..])),
                );
                atom(SyntaxKind::Nil)
            }
            R::Keyword => atom(SyntaxKind::Keyword(self.intern(&text[1..]))),
            R::Symbol => atom(match text {
                "nil" => SyntaxKind::Nil,
                "true" => SyntaxKind::Bool(true),
                "false" => SyntaxKind::Bool(false),
                _ => SyntaxKind::Symbol(self.intern(text)),
            }),
            R::Int => atom(self.int(text, span)),
            R::HexInt => atom(self.radix_int(text, span, 16)),
            R::BinInt => atom(self.radix_int(text, span, 2)),
            R::OctInt => atom(self.radix_int(text, span, 8)),
            R::Float => atom(self.float(text, span)),
            R::Inf => atom(SyntaxKind::Float(f64::INFINITY)),
            R::NegInf => atom(SyntaxKind::Float(f64::NEG_INFINITY)),
            R::NaN => atom(SyntaxKind::Float(f64::NAN)),
            R::BadSpecialFloat => {
                self.report(span.start, || {
                    Diagnostic::error(
                        codes::INVALID_LITERAL,
                        format!(
                            "invalid special float `{text}`: expected `##Inf`, `##-Inf` or `##NaN`"
                        ),
                        span,
                    )
                });
                atom(SyntaxKind::Nil)
            }
            R::Hash => {
                let next = self.src.get(end..).and_then(|s| s.chars().next());
                let found = match next {
                    Some(c) => format!("`#{c}`"),
                    None => "`#` at end of input".to_string(),
                };
                self.report(span.start, || Diagnostic::error(
                    codes::UNKNOWN_DISPATCH,
                    format!(
                        "unknown reader dispatch {found}: expected `#{{` (set), `#_` (discard), `#\"` (regex) or `##Inf`/`##-Inf`/`##NaN`"
                    ),
                    span,
                ));
                None
            }
            R::BadNumber => {
                self.report(span.start, || Diagnostic::error(
                    codes::INVALID_NUMBER,
                    format!(
                        "invalid number literal `{}`: expected an integer (`42`, `-7`, `0x1F`) or a float (`3.14`, `-0.5`, `1e10`)",
                        clip(text)
                    ),
                    span,
                ));
                atom(SyntaxKind::Nil)
            }
            R::Timestamp => atom(self.timestamp(text, span)),
            R::Uuid => atom(SyntaxKind::Uuid(Arc::from(text.to_ascii_lowercase()))),
            R::Resource => atom(SyntaxKind::ResourceHandle(Arc::from(text))),
        }
    }

    /// Reports the diagnostic built by `make`, unless the sink would drop a
    /// diagnostic at `start` anyway (keeps floods of errors cheap).
    fn report(&mut self, start: u32, make: impl FnOnce() -> Diagnostic) {
        self.diags.push_with(start, make);
    }

    fn int(&mut self, text: &str, span: Span) -> SyntaxKind {
        match text.parse::<i64>() {
            Ok(n) => SyntaxKind::Int(n),
            Err(_) => {
                self.out_of_range(text, span);
                SyntaxKind::Int(0)
            }
        }
    }

    fn out_of_range(&mut self, text: &str, span: Span) {
        self.report(span.start, || {
            Diagnostic::error(
                codes::INT_OUT_OF_RANGE,
                format!(
                    "integer literal out of range: expected a value between {} and {}, found `{}`",
                    i64::MIN,
                    i64::MAX,
                    clip(text)
                ),
                span,
            )
        });
    }

    /// `0x1F`, `0b1010`, `0o17` (with an optional sign).
    fn radix_int(&mut self, text: &str, span: Span, radix: u32) -> SyntaxKind {
        let (neg, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let digits = rest.get(2..).unwrap_or("");
        let value = u64::from_str_radix(digits, radix).ok().and_then(|m| {
            if neg {
                0i64.checked_sub_unsigned(m)
            } else {
                i64::try_from(m).ok()
            }
        });
        match value {
            Some(n) => SyntaxKind::Int(n),
            None => {
                self.out_of_range(text, span);
                SyntaxKind::Int(0)
            }
        }
    }

    fn float(&mut self, text: &str, span: Span) -> SyntaxKind {
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => SyntaxKind::Float(x),
            _ => {
                self.report(span.start, || Diagnostic::error(
                        codes::FLOAT_OUT_OF_RANGE,
                        format!(
                            "float literal out of range: expected a finite float (magnitude at most {:e}), found `{}`",
                            f64::MAX,
                            clip(text)
                        ),
                        span,
                    )
                    .with_help("write `##Inf` or `##-Inf` for infinities"),
                );
                SyntaxKind::Float(0.0)
            }
        }
    }

    /// Cooks a string (`regex == false`, with escapes) or `#"..."` literal.
    fn string(&mut self, text: &str, span: Span, t: Terminated, regex: bool) -> SyntaxKind {
        let open_len = if regex { 2 } else { 1 };
        let open = Span::new(self.file, span.start, span.start + open_len);
        let close_len = usize::from(t == Terminated::Yes);
        let body = text
            .get(open_len as usize..text.len() - close_len)
            .unwrap_or("");
        if t == Terminated::No {
            let what = if regex { "regex literal" } else { "string" };
            self.report(open.start, || {
                Diagnostic::error(
                    codes::UNTERMINATED_STRING,
                    format!("unterminated {what}: expected a closing `\"` before end of input"),
                    open,
                )
                .with_label(open, format!("{what} starts here"))
                .with_help(
                    "add a `\"` where the string should end; write `\\\"` for a quote inside it",
                )
            });
        }
        if body.len() > MAX_STRING_LEN {
            self.report(open.start, || Diagnostic::error(
                    codes::STRING_TOO_LONG,
                    format!(
                        "string literal too long (limit 1 MiB): expected at most {MAX_STRING_LEN} bytes, found {}",
                        body.len()
                    ),
                    open,
                )
                .with_label(open, "string starts here")
                .with_help("load large data from a file or resource instead"),
            );
            return SyntaxKind::Str(Arc::from(""));
        }
        let body_start = span.start + open_len;
        let cooked = if regex {
            body.replace("\\\"", "\"")
        } else {
            self.unescape(body, body_start)
        };
        SyntaxKind::Str(Arc::from(cooked))
    }

    fn unescape(&mut self, body: &str, body_start: u32) -> String {
        if !body.contains('\\') {
            return body.to_string();
        }
        let mut out = String::with_capacity(body.len());
        let mut it = body.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((j, e)) = it.next() else {
                // A trailing `\` only happens in an unterminated string,
                // which is reported already.
                break;
            };
            let esc_span = |len: usize| {
                Span::new(
                    self.file,
                    body_start + i as u32,
                    body_start + (j + len) as u32,
                )
            };
            match e {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                'u' => {
                    let hex = body.get(j + 1..j + 5).unwrap_or("");
                    let code = if hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        None
                    };
                    match code {
                        Some(code) => {
                            for _ in 0..4 {
                                it.next();
                            }
                            match char::from_u32(code) {
                                Some(ch) => out.push(ch),
                                None => {
                                    let sp = esc_span(5);
                                    self.report(sp.start, || Diagnostic::error(
                                        codes::INVALID_ESCAPE,
                                        format!(
                                            "invalid unicode escape `\\u{hex}`: expected a Unicode scalar value, not a surrogate (D800-DFFF)"
                                        ),
                                        sp,
                                    ));
                                }
                            }
                        }
                        None => {
                            let sp = esc_span(1);
                            self.report(sp.start, || Diagnostic::error(
                                codes::INVALID_ESCAPE,
                                "invalid unicode escape: expected exactly four hex digits after `\\u`, e.g. `\\u00e9`",
                                sp,
                            ));
                        }
                    }
                }
                other => {
                    let sp = esc_span(other.len_utf8());
                    let shown = describe_chars(&other.to_string());
                    self.report(sp.start, || Diagnostic::error(
                            codes::INVALID_ESCAPE,
                            format!(
                                "invalid escape `\\` + {shown} in string: expected one of `\\\"` `\\\\` `\\n` `\\t` `\\r` `\\0` `\\uXXXX`"
                            ),
                            sp,
                        )
                        .with_help("write `\\\\` for a literal backslash"),
                    );
                }
            }
        }
        out
    }

    fn timestamp(&mut self, text: &str, span: Span) -> SyntaxKind {
        match check_timestamp(text) {
            Ok(()) => {
                let canon: String = text
                    .chars()
                    .map(|c| match c {
                        't' => 'T',
                        'z' => 'Z',
                        '_' => '.',
                        c => c,
                    })
                    .collect();
                SyntaxKind::Timestamp(Arc::from(canon))
            }
            Err(why) => {
                self.report(span.start, || {
                    Diagnostic::error(
                        codes::INVALID_LITERAL,
                        format!("invalid timestamp `{text}`: {why}"),
                        span,
                    )
                });
                SyntaxKind::Nil
            }
        }
    }
}

/// Validates the ranges of a lexically well-formed timestamp.
fn check_timestamp(t: &str) -> Result<(), String> {
    let num = |r: std::ops::Range<usize>| -> u32 {
        t.get(r).and_then(|s| s.parse().ok()).unwrap_or(u32::MAX)
    };
    let year = num(0..4);
    let month = num(5..7);
    let day = num(8..10);
    let hour = num(11..13);
    let minute = num(14..16);
    let second = num(17..19);
    if !(1..=12).contains(&month) {
        return Err(format!("month {month:02} out of range: expected 01 to 12"));
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return Err(format!(
            "day {day:02} out of range: expected 01 to {days} for month {month:02}"
        ));
    }
    if hour > 23 {
        return Err(format!("hour {hour:02} out of range: expected 00 to 23"));
    }
    if minute > 59 {
        return Err(format!(
            "minute {minute:02} out of range: expected 00 to 59"
        ));
    }
    if second > 60 {
        return Err(format!(
            "second {second:02} out of range: expected 00 to 60"
        ));
    }
    // Offset `+HH:MM` / `-HH:MM` are the last 6 characters when present.
    let bytes = t.as_bytes();
    if bytes.len() >= 6 {
        let k = bytes.len() - 6;
        if matches!(bytes[k], b'+' | b'-') && bytes[k + 3] == b':' {
            let oh = num(k + 1..k + 3);
            let om = num(k + 4..k + 6);
            if oh > 23 || om > 59 {
                return Err(format!(
                    "UTC offset {oh:02}:{om:02} out of range: expected at most 23:59"
                ));
            }
        }
    }
    Ok(())
}

/// Shortens long token texts quoted in messages.
fn clip(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_string()
    } else {
        let head: String = text.chars().take(37).collect();
        format!("{head}...")
    }
}

/// Names characters for messages: "`x`" or "U+00A0" for invisible ones.
fn describe_chars(text: &str) -> String {
    let mut c = text.chars();
    match (c.next(), c.next()) {
        (Some(ch), None) if !ch.is_control() && !ch.is_whitespace() => format!("`{ch}`"),
        (Some(ch), None) => format!("U+{:04X}", ch as u32),
        _ => format!("`{}`", clip(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(src: &str) -> Vec<(Result<RawToken, ()>, &str)> {
        let mut l = RawToken::lexer(src);
        let mut v = Vec::new();
        while let Some(t) = l.next() {
            v.push((t, l.slice()));
        }
        v
    }

    fn kinds(src: &str) -> Vec<RawToken> {
        raw(src).into_iter().filter_map(|(t, _)| t.ok()).collect()
    }

    #[test]
    fn raw_numbers_and_symbols() {
        use RawToken as R;
        assert_eq!(
            kinds("12 -12 +5 0x1F -0x1f"),
            [R::Int, R::Int, R::Int, R::HexInt, R::HexInt]
        );
        assert_eq!(kinds("3.14 -0.5 1e10 2.5E-3"), [R::Float; 4]);
        assert_eq!(kinds("1. 12abc"), [R::BadNumber, R::BadNumber]);
        assert_eq!(kinds("- -x + / foo ns/name a.b/c x:int &"), [R::Symbol; 9]);
        assert_eq!(kinds(".5"), [R::Symbol]);
        assert_eq!(
            kinds("##Inf ##-Inf ##NaN ##foo"),
            [R::Inf, R::NegInf, R::NaN, R::BadSpecialFloat]
        );
        assert_eq!(kinds(":a :a/b :com.acme:v1/x :a.b.c/d-e?"), [R::Keyword; 4]);
        assert_eq!(
            kinds(": ::x :["),
            [R::Colon, R::DoubleColon, R::ColonBracket]
        );
        assert_eq!(
            kinds("x:[:int]"),
            [R::Symbol, R::ColonBracket, R::Keyword, R::RBracket]
        );
        assert_eq!(kinds("λ x' x# a->b"), [R::Symbol; 4]);
    }

    #[test]
    fn raw_extended_literals() {
        use RawToken as R;
        assert_eq!(
            kinds("2024-01-31T12:00:00Z 2024-01-31T12:00:00.123+02:00 2024-01-31T12:00:00_123Z"),
            [R::Timestamp; 3]
        );
        assert_eq!(
            kinds("550e8400-e29b-41d4-a716-446655440000 abcdefab-cdef-abcd-efab-cdefabcdefab"),
            [R::Uuid; 2]
        );
        assert_eq!(kinds("abcdefab-cdef-abcd-efab-cdefabcdefabx"), [R::Symbol]);
        assert_eq!(
            kinds("resource://handle resource://a/b?c=d#e)"),
            [R::Resource, R::Resource, R::RParen]
        );
    }

    #[test]
    fn raw_strings_and_dispatch() {
        use RawToken as R;
        assert_eq!(
            kinds(r#""a\"b" #"x\d" "open"#),
            [
                R::Str(Terminated::Yes),
                R::Regex(Terminated::Yes),
                R::Str(Terminated::No)
            ]
        );
        assert_eq!(
            kinds("#{ #_ # ~ ~@ @ ^ ' `"),
            [
                R::HashBrace,
                R::Discard,
                R::Hash,
                R::Tilde,
                R::TildeAt,
                R::At,
                R::Caret,
                R::Quote,
                R::Backquote
            ]
        );
        assert_eq!(
            kinds("a ; comment ( \n b,c"),
            [R::Symbol, R::Symbol, R::Symbol]
        );
        let errs: Vec<_> = raw("\\ a")
            .into_iter()
            .filter(|(t, _)| t.is_err())
            .collect();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].1, "\\");
        let errs: Vec<_> = raw("\u{a0}")
            .into_iter()
            .filter(|(t, _)| t.is_err())
            .collect();
        assert_eq!(errs[0].1, "\u{a0}");
    }

    fn cook(src: &str) -> (Vec<Tok>, Vec<Diagnostic>) {
        let mut sink = DiagnosticSink::new(100);
        let toks = lex(FileId(0), src, &mut sink);
        (
            toks.into_iter().map(|t| t.tok).collect(),
            sink.into_sorted(),
        )
    }

    fn atoms(src: &str) -> Vec<SyntaxKind> {
        let (toks, diags) = cook(src);
        assert!(diags.is_empty(), "{src}: {diags:?}");
        toks.into_iter()
            .filter_map(|t| match t {
                Tok::Atom(s) => Some(s.kind),
                _ => None,
            })
            .collect()
    }

    fn errors(src: &str) -> Vec<String> {
        cook(src).1.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn cooked_ints() {
        use SyntaxKind::*;
        assert_eq!(
            atoms("42 -12 +5 0x1F -0x1f 0"),
            [Int(42), Int(-12), Int(5), Int(31), Int(-31), Int(0)]
        );
        assert_eq!(
            atoms("0b1010 -0B11 0o17 +0O777 0b0"),
            [Int(10), Int(-3), Int(15), Int(511), Int(0)]
        );
        assert_eq!(
            atoms(
                "9223372036854775807 -9223372036854775808 -0x8000000000000000 0x7fffffffffffffff"
            ),
            [Int(i64::MAX), Int(i64::MIN), Int(i64::MIN), Int(i64::MAX)]
        );
        for bad in [
            "9223372036854775808",
            "-9223372036854775809",
            "0x8000000000000000",
            "0b10000000000000000000000000000000000000000000000000000000000000000",
            "0o2000000000000000000000",
            "0x1ffffffffffffffff",
            "99999999999999999999999",
        ] {
            let e = errors(bad);
            assert_eq!(e.len(), 1, "{bad}");
            assert!(e[0].starts_with("integer literal out of range"), "{e:?}");
        }
    }

    #[test]
    fn cooked_floats() {
        use SyntaxKind::*;
        assert_eq!(
            atoms("2.75 -0.5 1e10 2.5E-3"),
            [Float(2.75), Float(-0.5), Float(1e10), Float(2.5e-3)]
        );
        let k = atoms("##Inf ##-Inf ##NaN");
        assert_eq!(k[0], Float(f64::INFINITY));
        assert_eq!(k[1], Float(f64::NEG_INFINITY));
        assert!(matches!(k[2], Float(x) if x.is_nan()));
        assert!(errors("1e400")[0].starts_with("float literal out of range"));
        assert!(errors("1.")[0].starts_with("invalid number literal `1.`"));
        assert!(errors("##Infinity")[0].contains("expected `##Inf`"));
    }

    #[test]
    fn cooked_strings() {
        use SyntaxKind::*;
        let s = |x: &str| Str(Arc::from(x));
        assert_eq!(
            atoms(r#""a\"b\\c\nd\te\rf\0g""#),
            [s("a\"b\\c\nd\te\rf\0g")]
        );
        assert_eq!(atoms(r#""\u00e9\u0041" "é" """#), [s("éA"), s("é"), s("")]);
        assert_eq!(atoms("\"multi\nline\""), [s("multi\nline")]);
        assert_eq!(atoms(r#"#"\d+\.\"x\\""#), [s(r#"\d+\."x\\"#)]);
        let e = errors(r#""a\qb""#);
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("invalid escape `\\` + `q`"), "{e:?}");
        let e = errors(r#""\u12" "\uD800" "\x" "#);
        assert_eq!(e.len(), 3, "{e:?}");
        let e = errors("(str \"abc");
        assert_eq!(
            e,
            ["unterminated string: expected a closing `\"` before end of input"]
        );
    }

    #[test]
    fn invalid_escape_span() {
        let (_, d) = cook(r#"  "ab\qc""#);
        assert_eq!((d[0].span.start, d[0].span.end), (5, 7));
        let (_, d) = cook("\"\\é\"");
        assert_eq!((d[0].span.start, d[0].span.end), (1, 4));
    }

    #[test]
    fn cooked_keywords_symbols_literals() {
        use SyntaxKind::*;
        let kw = |x: &str| Keyword(Arc::from(x));
        let sym = |x: &str| Symbol(Arc::from(x));
        assert_eq!(
            atoms(":a :a/b :com.acme:v1/x"),
            [kw("a"), kw("a/b"), kw("com.acme:v1/x")]
        );
        assert_eq!(
            atoms("nil true false nil? truex"),
            [Nil, Bool(true), Bool(false), sym("nil?"), sym("truex")]
        );
        assert_eq!(
            atoms("/ & - -x x:int"),
            [sym("/"), sym("&"), sym("-"), sym("-x"), sym("x:int")]
        );
    }

    #[test]
    fn cooked_extended_literals() {
        use SyntaxKind::*;
        assert_eq!(
            atoms(
                "2024-02-29T23:59:60z 2024-01-31t00:00:00_5+05:30 550E8400-E29B-41D4-A716-446655440000 resource://x/y"
            ),
            [
                Timestamp(Arc::from("2024-02-29T23:59:60Z")),
                Timestamp(Arc::from("2024-01-31T00:00:00.5+05:30")),
                Uuid(Arc::from("550e8400-e29b-41d4-a716-446655440000")),
                ResourceHandle(Arc::from("resource://x/y")),
            ]
        );
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00+24:00",
        ] {
            let e = errors(bad);
            assert_eq!(e.len(), 1, "{bad}");
            assert!(e[0].starts_with("invalid timestamp"), "{e:?}");
        }
    }

    #[test]
    fn bom_and_shebang() {
        let (t, d) = cook("\u{feff}#!/usr/bin/env rtfs\n(x)");
        assert!(d.is_empty());
        assert_eq!(t.len(), 3);
        let mut sink = DiagnosticSink::new(10);
        let toks = lex(FileId(0), "#!x\nfoo", &mut sink);
        assert_eq!(toks[0].span, Span::new(FileId(0), 4, 7));
        let (t, _) = cook("#!only");
        assert!(t.is_empty());
    }

    #[test]
    fn lone_colon_is_a_symbol_for_spaced_annotations() {
        assert_eq!(
            atoms(": Integer"),
            [
                SyntaxKind::Symbol(":".into()),
                SyntaxKind::Symbol("Integer".into())
            ]
        );
    }

    #[test]
    fn lexical_errors_say_what_was_expected() {
        for src in [
            "::x", "#<", "#", "\\", "1.", "12abc", "##x", "\"\\q\"", "\"open",
        ] {
            let e = errors(src);
            assert!(!e.is_empty(), "{src}");
            assert!(e.iter().all(|m| m.contains("expected")), "{src}: {e:?}");
        }
    }
}
