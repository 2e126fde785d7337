//! One open (or workspace) document: its text, line index, syntax index, and — computed
//! only when hover asks and kept until the text changes — what `rtfs explain` knows.

use std::collections::HashMap;

use rtfs_compiler::reader;
use rtfs_compiler::source::FileId;

use super::index::Index;
use super::text::LineIndex;

pub struct Explained {
    /// Function name → (pure, why not).
    pub purity: HashMap<String, (bool, Option<String>)>,
    /// Call sites: byte range of the call, callee, target text, reason.
    pub sites: Vec<(std::ops::Range<usize>, String, String, String)>,
}

pub struct Document {
    pub text: String,
    pub lines: LineIndex,
    pub index: Index,
    /// Whether the last text read; when it did not, `index` is the last one that did.
    pub reads: bool,
    pub explained: Option<Explained>,
}

impl Document {
    pub fn new(text: String) -> Document {
        let mut d = Document {
            lines: LineIndex::new(&text),
            text: String::new(),
            index: Index::default(),
            reads: false,
            explained: None,
        };
        d.set_text(text);
        d
    }

    pub fn set_text(&mut self, text: String) {
        self.lines = LineIndex::new(&text);
        self.explained = None;
        match reader::read(FileId(0), &text) {
            Ok(forms) => {
                self.index = Index::build(&text, &forms);
                self.reads = true;
            }
            // Keep the last good index: mid-edit text rarely reads, and navigation should
            // keep working meanwhile.
            Err(_) => self.reads = false,
        }
        self.text = text;
    }

    /// Compiles the text in a fresh runtime to learn purity and delegation targets.
    pub fn explain(&mut self, name: &str) -> Option<&Explained> {
        if self.explained.is_none() {
            let mut rt = rtfs_runtime::Runtime::new();
            let e = rt.explain_source(name, self.text.as_bytes()).ok()?;
            let purity = e
                .functions
                .iter()
                .map(|f| (f.name.clone(), (f.pure, f.reason.clone())))
                .collect();
            let sites = e
                .call_sites
                .iter()
                .map(|s| {
                    (
                        s.loc.start as usize..s.loc.end as usize,
                        s.callee.clone(),
                        crate::explain::target_text(&s.target),
                        s.target.reason().to_string(),
                    )
                })
                .collect();
            self.explained = Some(Explained { purity, sites });
        }
        self.explained.as_ref()
    }
}
