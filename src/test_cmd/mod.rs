//! `rtfs test [PATH...]`: finds test files, runs their `deftest`s and reports.
//!
//! A directory contributes every `.rtfs` file under it (hidden directories and `target`
//! skipped) whose text mentions `deftest`; a file named explicitly is always run.

mod report;
mod rewrite;
mod runner;

use std::io::Write;
use std::path::PathBuf;

use crate::rtfs_files::collect;

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub filter: Option<String>,
    pub json: bool,
    pub junit: Option<PathBuf>,
}

/// Exit 0 when every test passed, 1 when one failed, 2 on a usage or I/O error.
pub fn run(opts: Options) -> i32 {
    let roots = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths
    };
    let mut files = Vec::new();
    for root in &roots {
        if root.is_dir() {
            if let Err(e) = collect(root, &mut files) {
                eprintln!("error: cannot list {}: {e}", root.display());
                return 2;
            }
        } else if root.is_file() {
            files.push(root.clone());
        } else {
            eprintln!("error: no such file or directory: {}", root.display());
            return 2;
        }
    }
    let mut results = Vec::new();
    for path in &files {
        let text = match std::fs::read(path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return 2;
            }
        };
        let explicit = roots.iter().any(|r| r == path);
        if !explicit && !text.contains("deftest") {
            continue;
        }
        results.push(runner::run_file(
            &path.display().to_string(),
            &text,
            opts.filter.as_deref(),
        ));
    }
    if let Some(junit) = &opts.junit
        && let Err(e) =
            rtfs_mesh_io::fsutil::write_atomic(junit, report::junit(&results).as_bytes(), false)
    {
        eprintln!("error: cannot write {}: {e}", junit.display());
        return 2;
    }
    let text = if opts.json {
        format!("{}\n", report::json(&results))
    } else {
        report::human(&results)
    };
    // A closed pipe (`| head`) is not an error of ours.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if report::totals(&results).failed > 0 {
        1
    } else {
        0
    }
}
