//! `rtfs fmt [--check] PATH...`: rewrites files in the canonical layout (atomically), or
//! with `--check` prints a unified diff of each file that is not formatted and exits 1.

use std::io::Write;
use std::path::PathBuf;

use crate::format::{FormatError, format_source};

use crate::rtfs_files::collect;

/// Exit 0 all formatted (or rewritten), 1 `--check` found a difference, 2 a file could not
/// be read, parsed or written.
pub fn run(paths: Vec<PathBuf>, check: bool) -> i32 {
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
    let mut code = 0;
    for file in &files {
        let name = file.display().to_string();
        let src = match std::fs::read(file) {
            Ok(b) => match String::from_utf8(b) {
                Ok(s) => s,
                Err(_) => {
                    eprintln!("error: {name} is not UTF-8 text");
                    code = 2;
                    continue;
                }
            },
            Err(e) => {
                eprintln!("error: cannot read {name}: {e}");
                code = 2;
                continue;
            }
        };
        let formatted = match format_source(&src) {
            Ok(t) => t,
            Err(FormatError::Read(diags)) => {
                let mut map = rtfs_compiler::source::SourceMap::new();
                map.add(name.clone(), src.as_str());
                for d in &diags {
                    eprint!("{}", d.render(&map));
                }
                code = 2;
                continue;
            }
            Err(FormatError::Changed(why)) => {
                eprintln!("error: {name} left unchanged: the formatter failed ({why})");
                code = 2;
                continue;
            }
        };
        if formatted == src {
            continue;
        }
        if check {
            // A closed pipe (`| head`) is not an error of ours.
            let _ = write!(
                std::io::stdout().lock(),
                "{}",
                similar::TextDiff::from_lines(&src, &formatted)
                    .unified_diff()
                    .header(&name, &format!("{name} (formatted)"))
            );
            code = code.max(1);
        } else if let Err(e) = rtfs_mesh_io::fsutil::write_atomic(file, formatted.as_bytes(), false)
        {
            eprintln!("error: cannot write {name}: {e}");
            code = 2;
        }
    }
    code
}
