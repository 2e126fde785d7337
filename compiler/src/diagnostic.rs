//! Diagnostics (errors, warnings, notes) with source spans, and their plain
//! text rendering:
//!
//! ```text
//! error: unterminated string: expected a closing `"`
//!  --> file.rtfs:3:6
//!   |
//! 3 | (str "abc
//!   |      ^ string starts here
//!   = help: add a `"` at the end of the string
//! ```

use std::fmt;

use crate::source::{SourceFile, SourceMap, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// Stable diagnostic codes of the reader (`R…`). Other phases use their own
/// prefixes.
pub mod codes {
    pub const INVALID_UTF8: &str = "R0001";
    pub const SOURCE_TOO_LARGE: &str = "R0002";
    pub const UNEXPECTED_CHAR: &str = "R0003";
    pub const UNTERMINATED_STRING: &str = "R0004";
    pub const INVALID_ESCAPE: &str = "R0005";
    pub const STRING_TOO_LONG: &str = "R0006";
    pub const INVALID_NUMBER: &str = "R0007";
    pub const INT_OUT_OF_RANGE: &str = "R0008";
    pub const FLOAT_OUT_OF_RANGE: &str = "R0009";
    pub const LONE_COLON: &str = "R0010";
    pub const UNKNOWN_DISPATCH: &str = "R0011";
    pub const INVALID_LITERAL: &str = "R0012";
    pub const UNCLOSED_DELIMITER: &str = "R0013";
    pub const UNEXPECTED_CLOSER: &str = "R0014";
    pub const MISMATCHED_CLOSER: &str = "R0015";
    pub const TOO_DEEP: &str = "R0016";
    pub const ODD_MAP: &str = "R0017";
    pub const MISSING_FORM: &str = "R0018";
    pub const BAD_METADATA: &str = "R0019";
    pub const BAD_DELEGATION: &str = "R0020";
    pub const SYNTAX: &str = "R0021";
    pub const UNTERMINATED_COMMENT: &str = "R0022";
    pub const NESTED_ANON_FN: &str = "R0023";
}

/// One message about the source, anchored at a primary span.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{severity}: {message}")]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// The primary location.
    pub span: Span,
    /// Secondary locations with a short text each. A label whose span equals
    /// `span` is printed next to the primary caret.
    pub labels: Vec<(Span, String)>,
    pub help: Option<String>,
    /// A stable code, see [`codes`].
    pub code: &'static str,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            message: message.into(),
            span,
            labels: Vec::new(),
            help: None,
            code,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message, span)
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message, span)
    }

    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push((span, text.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Plain-text rendering with `file:line:col`, the source line(s) and
    /// carets. No colour. Never panics, whatever the spans.
    pub fn render(&self, map: &SourceMap) -> String {
        let mut out = format!("{}: {}\n", self.severity, self.message);
        let Some(file) = map.get(self.span.file) else {
            out.push_str(&format!(" --> <unknown file {}>:0:0\n", self.span.file.0));
            for (_, text) in &self.labels {
                out.push_str(&format!("  = note: {text}\n"));
            }
            if let Some(h) = &self.help {
                out.push_str(&format!("  = help: {h}\n"));
            }
            return out;
        };

        // Markers in this file: (span, is_primary, text).
        let mut primary_text: Vec<&str> = Vec::new();
        let mut markers: Vec<(Span, bool, String)> = Vec::new();
        let mut foreign: Vec<String> = Vec::new();
        for (span, text) in &self.labels {
            if *span == self.span {
                primary_text.push(text);
            } else if span.file == self.span.file {
                markers.push((*span, false, text.clone()));
            } else {
                foreign.push(format!("{}: {}", map.location(*span), text));
            }
        }
        markers.push((self.span, true, primary_text.join("; ")));
        markers.sort_by_key(|(s, primary, _)| (file.line_index(s.start), !*primary, s.start));

        let max_line = markers
            .iter()
            .map(|(s, _, _)| file.line_index(s.start))
            .max()
            .unwrap_or(1);
        let width = max_line.to_string().len();
        let pad = " ".repeat(width);

        let (line, col) = file.line_col(self.span.start);
        out.push_str(&format!("{pad}--> {}:{}:{}\n", file.name, line, col));
        out.push_str(&format!("{pad} |\n"));

        let mut last_line: Option<usize> = None;
        for (span, primary, text) in &markers {
            let line = file.line_index(span.start);
            if last_line != Some(line) {
                if last_line.is_some_and(|prev| line > prev + 1) {
                    out.push_str(&format!("{pad}...\n"));
                }
                let (shown, _) = window(file, line, span.start);
                out.push_str(&format!("{line:>width$} | {shown}\n"));
                last_line = Some(line);
            }
            let (_, caret_col) = window(file, line, span.start);
            let len = underline_len(file, *span);
            let mark = if *primary { "^" } else { "-" };
            let mut l = format!("{pad} | {}{}", " ".repeat(caret_col), mark.repeat(len));
            if !text.is_empty() {
                l.push(' ');
                l.push_str(text);
            }
            out.push_str(l.trim_end());
            out.push('\n');
        }
        for f in foreign {
            out.push_str(&format!("{pad} = note: {f}\n"));
        }
        if let Some(h) = &self.help {
            out.push_str(&format!("{pad} = help: {h}\n"));
        }
        out
    }
}

/// Collects diagnostics but keeps only the `limit` earliest ones (by start
/// offset, then arrival order), in bounded memory, whatever is pushed.
#[derive(Clone, Debug)]
pub struct DiagnosticSink {
    limit: usize,
    seq: u64,
    kept: Vec<(u32, u64, Diagnostic)>,
    total: usize,
}

impl DiagnosticSink {
    pub fn new(limit: usize) -> DiagnosticSink {
        DiagnosticSink {
            limit,
            seq: 0,
            kept: Vec::new(),
            total: 0,
        }
    }

    /// Whether a diagnostic starting at `start` would be kept (lets callers
    /// skip building messages that would be dropped).
    pub fn would_keep(&self, start: u32) -> bool {
        self.kept.len() < self.limit || self.kept.iter().any(|(s, _, _)| *s > start)
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.total += 1;
        if self.limit == 0 {
            return;
        }
        let key = (d.span.start, self.seq);
        self.seq += 1;
        if self.kept.len() < self.limit {
            self.kept.push((key.0, key.1, d));
            return;
        }
        // Replace the latest kept one if the new one is earlier.
        let mut worst = 0;
        for (i, (s, q, _)) in self.kept.iter().enumerate() {
            let (ws, wq, _) = &self.kept[worst];
            if (*s, *q) > (*ws, *wq) {
                worst = i;
            }
        }
        let (ws, wq, _) = &self.kept[worst];
        if key < (*ws, *wq) {
            self.kept[worst] = (key.0, key.1, d);
        }
    }

    /// Pushes the diagnostic built by `make` if one starting at `start`
    /// would be kept; otherwise only counts it (and never builds it).
    pub fn push_with(&mut self, start: u32, make: impl FnOnce() -> Diagnostic) {
        if self.would_keep(start) {
            self.push(make());
        } else {
            self.total += 1;
        }
    }

    /// Number of diagnostics pushed, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn has_errors(&self) -> bool {
        self.kept.iter().any(|(_, _, d)| d.is_error())
    }

    /// The kept diagnostics, sorted by position.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.kept.sort_by_key(|(s, q, _)| (*s, *q));
        self.kept.into_iter().map(|(_, _, d)| d).collect()
    }
}

/// Longest line excerpt shown, in characters.
const MAX_SHOWN: usize = 160;

/// The displayed text of `line` (tabs shown as single spaces, long lines cut
/// to a window around `offset`) and the 0-based display column of `offset`.
fn window(file: &SourceFile, line: usize, offset: u32) -> (String, usize) {
    let text = file.line_text(line);
    let (_, col) = file.line_col(offset);
    let col0 = col - 1;
    let n = text.chars().count();
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c == '\t' || c.is_control() { ' ' } else { c })
            .collect()
    };
    if n <= MAX_SHOWN {
        return (clean(text), col0);
    }
    let start = col0.saturating_sub(40).min(n.saturating_sub(MAX_SHOWN));
    let body: String = text.chars().skip(start).take(MAX_SHOWN).collect();
    let mut shown = String::new();
    let mut caret = col0 - start;
    if start > 0 {
        shown.push_str("...");
        caret += 3;
    }
    shown.push_str(&clean(&body));
    if start + MAX_SHOWN < n {
        shown.push_str("...");
    }
    (shown, caret)
}

/// Number of carets under `span`: its width in characters on its first line,
/// at least 1, at most up to the end of that line (and the display window).
fn underline_len(file: &SourceFile, span: Span) -> usize {
    let (line, col) = file.line_col(span.start);
    let (end_line, end_col) = file.line_col(span.end);
    let line_len = file.line_text(line).chars().count();
    let len = if end_line == line {
        end_col.saturating_sub(col)
    } else {
        (line_len + 1).saturating_sub(col)
    };
    len.clamp(1, MAX_SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceMap};

    #[test]
    fn render_example_shape() {
        let mut map = SourceMap::new();
        let f = map.add("file.rtfs", "(a)\n(b)\n(str \"abc\n");
        let d = Diagnostic::error(
            codes::UNTERMINATED_STRING,
            "unterminated string: expected a closing `\"`",
            Span::new(f, 13, 14),
        )
        .with_label(Span::new(f, 13, 14), "string starts here")
        .with_help("add a `\"` at the end of the string");
        let r = d.render(&map);
        let expected = "error: unterminated string: expected a closing `\"`\n \
                        --> file.rtfs:3:6\n  \
                        |\n\
                        3 | (str \"abc\n  \
                        |      ^ string starts here\n  \
                        = help: add a `\"` at the end of the string\n";
        assert_eq!(r, expected);
    }

    #[test]
    fn render_secondary_label_and_wide_gutter() {
        let mut map = SourceMap::new();
        let mut text = String::new();
        for _ in 0..11 {
            text.push_str("x\n");
        }
        text.push_str("(foo ]\n");
        let f = map.add("m.rtfs", text);
        let d = Diagnostic::error(
            codes::MISMATCHED_CLOSER,
            "mismatched `]`",
            Span::new(f, 27, 28),
        )
        .with_label(Span::new(f, 22, 23), "`(` opened here")
        .with_label(Span::new(f, 0, 1), "far away");
        let r = d.render(&map);
        assert!(r.contains("  --> m.rtfs:12:6\n"), "{r}");
        assert!(r.contains("12 | (foo ]\n"), "{r}");
        assert!(r.contains("   |      ^\n"), "{r}");
        assert!(r.contains("   | - `(` opened here\n"), "{r}");
        assert!(r.contains(" 1 | x\n"), "{r}");
        assert!(r.contains("\n  ...\n"), "{r}");
    }

    #[test]
    fn render_never_panics_on_odd_spans() {
        let mut map = SourceMap::new();
        let f = map.add("o.rtfs", "é\tx");
        for (s, e) in [(0, 0), (1, 2), (0, 100), (100, 200), (4, 3)] {
            let d = Diagnostic::error(
                codes::SYNTAX,
                "m",
                Span {
                    file: f,
                    start: s,
                    end: e,
                },
            );
            let r = d.render(&map);
            assert!(r.contains("o.rtfs:"), "{r}");
        }
        let d = Diagnostic::error(codes::SYNTAX, "m", Span::new(FileId(9), 0, 1)).with_help("h");
        assert_eq!(
            d.render(&map),
            "error: m\n --> <unknown file 9>:0:0\n  = help: h\n"
        );
    }

    #[test]
    fn long_lines_are_windowed() {
        let mut map = SourceMap::new();
        let mut text = "a".repeat(10_000);
        text.push('"');
        text.push_str(&"b".repeat(10_000));
        let f = map.add("l.rtfs", text);
        let d = Diagnostic::error(codes::SYNTAX, "m", Span::new(f, 10_000, 20_001));
        let r = d.render(&map);
        assert!(r.len() < 1_000, "{r}");
        assert!(r.contains("l.rtfs:1:10001"), "{r}");
        let lines: Vec<&str> = r.lines().collect();
        let code = lines[3];
        let caret = lines[4];
        let pos = caret.find('^').unwrap_or(0);
        assert_eq!(&code[pos..pos + 1], "\"");
    }

    #[test]
    fn sink_keeps_earliest() {
        let mut sink = DiagnosticSink::new(3);
        for start in [50u32, 10, 40, 5, 60, 10] {
            sink.push(Diagnostic::error(
                codes::SYNTAX,
                format!("at {start}"),
                Span::new(FileId(0), start, start),
            ));
        }
        assert_eq!(sink.total(), 6);
        assert!(!sink.would_keep(11));
        assert!(sink.would_keep(9));
        let msgs: Vec<String> = sink.into_sorted().into_iter().map(|d| d.message).collect();
        assert_eq!(msgs, ["at 5", "at 10", "at 10"]);
    }

    #[test]
    fn is_std_error() {
        let d = Diagnostic::error(codes::SYNTAX, "boom", Span::default());
        let e: &dyn std::error::Error = &d;
        assert_eq!(e.to_string(), "error: boom");
    }
}
