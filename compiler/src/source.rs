//! Source files, byte-offset spans and line/column lookup.
//!
//! Every syntax node and every diagnostic carries a [`Span`]: a file id plus a
//! half-open byte range `start..end` into that file's text. A [`SourceMap`]
//! owns the texts so that spans can be turned back into `file:line:col`
//! positions and source excerpts when diagnostics are rendered.

use std::ops::Range;
use std::sync::Arc;

/// Identifies one source file inside a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A half-open byte range `start..end` in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span; `end` is raised to `start` if it is smaller.
    pub fn new(file: FileId, start: u32, end: u32) -> Span {
        Span {
            file,
            start,
            end: end.max(start),
        }
    }

    /// An empty span at `offset`.
    pub fn point(file: FileId, offset: u32) -> Span {
        Span::new(file, offset, offset)
    }

    /// Length in bytes.
    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest span covering both `self` and `other` (file of `self`).
    pub fn join(self, other: Span) -> Span {
        Span::new(
            self.file,
            self.start.min(other.start),
            self.end.max(other.end),
        )
    }

    /// The byte range, for slicing the file's text.
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Whether `offset` lies inside this span (`start <= offset < end`).
    pub fn contains(&self, offset: u32) -> bool {
        self.start <= offset && offset < self.end
    }
}

/// One source file: its display name, its text and the byte offset at which
/// every line starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// Byte offset of the first byte of each line; `line_starts[0] == 0`.
    pub line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// A file from raw bytes; invalid UTF-8 is replaced by U+FFFD. Offsets up
    /// to the first invalid byte are the same as in `bytes`.
    pub fn from_bytes(name: impl Into<String>, bytes: &[u8]) -> SourceFile {
        SourceFile::new(name, String::from_utf8_lossy(bytes).into_owned())
    }

    /// Number of lines (a file always has at least one, possibly empty, line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The largest char boundary `<= offset`, clamped to the text length.
    fn floor_boundary(&self, offset: u32) -> usize {
        let mut o = (offset as usize).min(self.text.len());
        while o > 0 && !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// 1-based line index containing byte `offset` (clamped to the text).
    pub fn line_index(&self, offset: u32) -> usize {
        let o = self.floor_boundary(offset) as u32;
        match self.line_starts.binary_search(&o) {
            Ok(i) => i + 1,
            Err(i) => i, // i >= 1 because line_starts[0] == 0
        }
    }

    /// 1-based `(line, column)` of byte `offset`; the column counts characters.
    /// Offsets past the end are clamped to the end; offsets inside a
    /// multi-byte character point at that character.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let o = self.floor_boundary(offset);
        let line = self.line_index(o as u32);
        let start = self
            .line_starts
            .get(line - 1)
            .map(|s| *s as usize)
            .unwrap_or(0)
            .min(o);
        let col = self
            .text
            .get(start..o)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }

    /// Text of 1-based `line` without its line terminator (`\n` or `\r\n`);
    /// empty for a line number out of range.
    pub fn line_text(&self, line: usize) -> &str {
        if line == 0 || line > self.line_starts.len() {
            return "";
        }
        let start = self.line_starts[line - 1] as usize;
        let end = self
            .line_starts
            .get(line)
            .map(|e| *e as usize)
            .unwrap_or(self.text.len());
        let s = self.text.get(start..end).unwrap_or("");
        let s = s.strip_suffix('\n').unwrap_or(s);
        s.strip_suffix('\r').unwrap_or(s)
    }

    /// The text covered by `span` (empty if out of range or not on char
    /// boundaries).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// All source files of a compilation, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.add_file(SourceFile::new(name, text))
    }

    /// Adds a file given as raw bytes (invalid UTF-8 replaced, see
    /// [`SourceFile::from_bytes`]).
    pub fn add_bytes(&mut self, name: impl Into<String>, bytes: &[u8]) -> FileId {
        self.add_file(SourceFile::from_bytes(name, bytes))
    }

    pub fn add_file(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// `name:line:col` of the start of `span`, or `<unknown>:0:0`.
    pub fn location(&self, span: Span) -> String {
        match self.get(span.file) {
            Some(f) => {
                let (l, c) = f.line_col(span.start);
                format!("{}:{}:{}", f.name, l, c)
            }
            None => format!("<unknown file {}>:0:0", span.file.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_basic() {
        let f = SourceFile::new("a.rtfs", "ab\ncd\n\nxyz");
        assert_eq!(f.line_count(), 4);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(1), (1, 2));
        assert_eq!(f.line_col(2), (1, 3)); // the '\n' itself
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(6), (3, 1));
        assert_eq!(f.line_col(7), (4, 1));
        assert_eq!(f.line_col(10), (4, 4)); // end of file
        assert_eq!(f.line_col(1000), (4, 4)); // clamped
        assert_eq!(f.line_text(1), "ab");
        assert_eq!(f.line_text(3), "");
        assert_eq!(f.line_text(4), "xyz");
        assert_eq!(f.line_text(0), "");
        assert_eq!(f.line_text(5), "");
    }

    #[test]
    fn columns_count_chars() {
        let f = SourceFile::new("u.rtfs", "λé x\r\ny");
        // 'λ' and 'é' are 2 bytes each: 'x' is at byte 5, column 4.
        assert_eq!(f.line_col(5), (1, 4));
        // An offset inside 'é' points at 'é'.
        assert_eq!(f.line_col(3), (1, 2));
        assert_eq!(f.line_text(1), "λé x");
        assert_eq!(f.line_col(8), (2, 1));
    }

    #[test]
    fn source_map() {
        let mut m = SourceMap::new();
        let a = m.add("a.rtfs", "x");
        let b = m.add_bytes("b.rtfs", b"(\xff)");
        assert_eq!(a, FileId(0));
        assert_eq!(b, FileId(1));
        assert_eq!(m.get(b).map(|f| f.line_text(1)), Some("(\u{fffd})"));
        assert_eq!(m.location(Span::new(a, 0, 1)), "a.rtfs:1:1");
        assert!(m.get(FileId(7)).is_none());
    }

    #[test]
    fn span_ops() {
        let f = FileId(3);
        let s = Span::new(f, 5, 2);
        assert_eq!(s.end, 5);
        assert!(s.is_empty());
        let j = Span::new(f, 1, 3).join(Span::new(f, 7, 9));
        assert_eq!((j.start, j.end), (1, 9));
        assert!(j.contains(1) && !j.contains(9));
    }
}
