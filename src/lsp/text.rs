//! Byte offsets ↔ LSP positions (line, UTF-16 code unit), the protocol's default encoding.

use serde_json::{Value as Json, json};

pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let col: usize = text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum());
        (line as u32, col as u32)
    }

    pub fn offset(&self, text: &str, line: u32, col: u32) -> usize {
        let Some(&start) = self.starts.get(line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(line as usize + 1)
            .map_or(text.len(), |e| e - 1);
        let mut units = 0u32;
        for (i, c) in text[start..end].char_indices() {
            if units >= col {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        end
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Json {
        let (l1, c1) = self.position(text, start);
        let (l2, c2) = self.position(text, end);
        json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        let t = "(def π 1)\n(str \"😀\" x)\n";
        let ix = LineIndex::new(t);
        let x = t.find('x').unwrap();
        assert_eq!(ix.position(t, x), (1, 10));
        assert_eq!(ix.offset(t, 1, 10), x);
        assert_eq!(ix.offset(t, 9, 0), t.len());
        assert_eq!(ix.offset(t, 0, 99), t.find('\n').unwrap());
    }
}
