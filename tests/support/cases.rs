//! The conformance file format (`tests/conformance/README.md`): cases and their
//! expectations, shared by the conformance and differential tests.

/// Cases checked in under tests/conformance. Whoever adds or removes cases updates this
/// (the conformance and differential tests fail otherwise), so a file that silently stops
/// yielding cases cannot go unnoticed.
pub const CASE_COUNT: usize = 1536;

#[derive(Debug)]
pub enum Expect {
    Value(String),
    /// `;; !! kind` or `;; !! kind: text`: the error's kind exactly, and (when given) its
    /// message containing `text`, case-insensitively.
    Error {
        kind: String,
        text: Option<String>,
    },
}

fn parse_error(e: &str) -> Expect {
    match e.split_once(": ") {
        Some((kind, text)) => Expect::Error {
            kind: kind.trim().to_string(),
            text: Some(text.trim().to_string()),
        },
        None => Expect::Error {
            kind: e.trim().to_string(),
            text: None,
        },
    }
}

pub struct Case {
    pub file: String,
    pub line: usize,
    /// Line of the expectation (`;; =>` / `;; !!`).
    pub expect_line: usize,
    pub source: String,
    pub prints: Vec<String>,
    pub expect: Expect,
}

pub fn parse_cases(file: &str, text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut source = String::new();
    let mut prints = Vec::new();
    let mut start_line = 0;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        let expect = if let Some(v) = trimmed.strip_prefix(";; =>") {
            Some(Expect::Value(v.trim().to_string()))
        } else {
            trimmed.strip_prefix(";; !!").map(parse_error)
        };
        if let Some(expect) = expect {
            cases.push(Case {
                file: file.to_string(),
                line: start_line + 1,
                expect_line: i + 1,
                source: std::mem::take(&mut source),
                prints: std::mem::take(&mut prints),
                expect,
            });
            continue;
        }
        if let Some(p) = trimmed.strip_prefix(";; prints:") {
            prints.push(p.trim().to_string());
            continue;
        }
        if source.trim().is_empty() && !trimmed.is_empty() && !trimmed.starts_with(';') {
            start_line = i;
        }
        source.push_str(line);
        source.push('\n');
    }
    cases
}
