//! `rtfs repl`: line editing and history (rustyline), multi-line input until brackets
//! balance, and errors that are reported without ending the session.

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use rtfs_runtime::Runtime;

/// Whether `src` has unclosed brackets or an unterminated string (so more lines follow).
fn incomplete(src: &str) -> bool {
    let mut depth: i64 = 0;
    let mut in_str = false;
    let mut chars = src.chars();
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            ';' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    in_str || depth > 0
}

/// Undecodable lines in a row after which the session ends.
const MAX_BAD_LINES: u32 = 100;

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".rtfs_history"))
}

pub fn run(mut rt: Runtime) -> i32 {
    let mut editor = match DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return 2;
        }
    };
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "RTFS {} — :quit or Ctrl-D to leave",
        env!("CARGO_PKG_VERSION")
    );
    let mut buf = String::new();
    let mut bad_lines = 0;
    loop {
        let prompt = if buf.is_empty() { "rtfs> " } else { "  ... " };
        match editor.readline(prompt) {
            Ok(line) => {
                bad_lines = 0;
                if buf.is_empty() && matches!(line.trim(), ":quit" | ":q" | ":exit") {
                    break;
                }
                buf.push_str(&line);
                buf.push('\n');
                if incomplete(&buf) {
                    continue;
                }
                let src = std::mem::take(&mut buf);
                if src.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(src.trim_end());
                match rt.eval_source("<repl>", src.as_bytes()) {
                    Ok(v) => println!("{}", v.pr_str()),
                    Err(e) => eprint!("{}", rt.render_error(&e)),
                }
            }
            Err(ReadlineError::Interrupted) => buf.clear(),
            Err(ReadlineError::Eof) => break,
            // The bad line has been consumed: report it and read on (a bounded number of
            // times in a row, in case the terminal keeps failing the same way).
            Err(ReadlineError::Io(e))
                if e.kind() == std::io::ErrorKind::InvalidData && bad_lines < MAX_BAD_LINES =>
            {
                bad_lines += 1;
                buf.clear();
                eprintln!("error: that line is not valid UTF-8; it was skipped");
                continue;
            }
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::incomplete;

    #[test]
    fn detects_open_forms() {
        assert!(incomplete("(defn f [x]"));
        assert!(incomplete("(str \"a)"));
        assert!(!incomplete("(+ 1 2) ; (comment"));
        assert!(!incomplete("\"(\""));
    }
}
