//! The error type of the embedding API, and its rendering as a diagnostic.

use rtfs_compiler::diagnostic::Diagnostic;
use rtfs_compiler::source::{FileId, SourceMap, Span};
use rtfs_ir::RtError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source is not well-formed RTFS text; nothing ran.
    #[error("parse error: {}", .0.first().map_or("", |d| d.message.as_str()))]
    Parse(Vec<Diagnostic>),
    /// The source did not compile; nothing ran.
    #[error("{} compile error(s); first: {}", .0.len(), .0.first().map_or("", |d| d.message.as_str()))]
    Compile(Vec<Diagnostic>),
    /// The program raised an error that nothing caught.
    #[error("{0}")]
    Runtime(RtError),
    #[error("{0}")]
    Io(String),
}

impl Error {
    /// Exit status per the CLI contract: 2 for compile errors and I/O, 1 for runtime errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Runtime(_) => 1,
            Error::Parse(_) | Error::Compile(_) | Error::Io(_) => 2,
        }
    }

    /// A human-readable report naming file:line:col with the source line and a caret.
    pub fn render(&self, sources: &SourceMap) -> String {
        match self {
            Error::Parse(diags) => diags
                .iter()
                .map(|d| {
                    let r = d.render(sources);
                    match r.strip_prefix("error: ") {
                        Some(rest) => format!("parse error: {rest}"),
                        None => r,
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Error::Compile(diags) => diags
                .iter()
                .map(|d| d.render(sources))
                .collect::<Vec<_>>()
                .join("\n"),
            Error::Io(msg) => format!("error: {msg}\n"),
            Error::Runtime(e) => {
                let title = format!("{}: {}", e.kind(), e.message());
                let mut out = match e.loc() {
                    Some(l) => Diagnostic::error(
                        "runtime",
                        title,
                        Span::new(FileId(l.file), l.start, l.end),
                    )
                    .render(sources),
                    None => format!("error: {title}\n"),
                };
                if !e.0.trace.is_empty() {
                    out.push_str(&format!("  = in: {}\n", collapse_trace(&e.0.trace)));
                }
                out
            }
        }
    }
}

/// "f <- f <- f <- g" as "f (3 frames) <- g".
fn collapse_trace(trace: &[String]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < trace.len() {
        let run = trace[i..].iter().take_while(|t| **t == trace[i]).count();
        parts.push(if run > 1 {
            format!("{} ({run} frames)", trace[i])
        } else {
            trace[i].clone()
        });
        i += run;
    }
    parts.join(" <- ")
}
