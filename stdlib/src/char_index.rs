//! Character positions in strings without rescanning them.
//!
//! RTFS indexes strings by character, but a `String` is UTF-8, so finding character `k`
//! (or counting characters) is a linear scan. A loop of `(subs s i (+ i 3))` over a long
//! string would rescan it on every call, which makes a scan quadratic. For strings of at
//! least [`INDEXED_MIN`] bytes this module builds, once per string, a [`CharIndex`]: the
//! character count, whether the string is ASCII (then char index = byte index, O(1)), and
//! otherwise the byte offset of every [`STRIDE`]-th character (then a position costs at
//! most `STRIDE` steps: amortised O(1)).
//!
//! Indexes are kept in a small per-thread cache keyed by the string's allocation. An entry
//! holds a `Weak` to the `Arc<String>`: while it exists the allocation cannot be reused by
//! another string, so "same address and still alive" means "same string" (strings are
//! never mutated in place while shared: `Arc::make_mut` moves the value away from weak
//! references).

use std::cell::RefCell;
use std::sync::{Arc, Weak};

/// Shorter strings are scanned directly: cheaper than a cache lookup.
pub const INDEXED_MIN: usize = 256;
/// Characters between two recorded byte offsets in a non-ASCII string.
pub const STRIDE: usize = 32;
/// Strings whose index is kept per thread (most scans work on one or two strings).
const CACHE_SLOTS: usize = 4;

pub struct CharIndex {
    chars: usize,
    /// Byte offset of character `k * STRIDE`; empty for ASCII strings.
    marks: Box<[usize]>,
}

impl CharIndex {
    fn build(s: &str) -> CharIndex {
        if s.is_ascii() {
            return CharIndex {
                chars: s.len(),
                marks: Box::new([]),
            };
        }
        let mut marks = Vec::with_capacity(s.len() / STRIDE + 1);
        let mut chars = 0;
        for (b, _) in s.char_indices() {
            if chars % STRIDE == 0 {
                marks.push(b);
            }
            chars += 1;
        }
        CharIndex {
            chars,
            marks: marks.into_boxed_slice(),
        }
    }

    pub fn char_count(&self) -> usize {
        self.chars
    }

    /// Byte offset of character `idx` in `s` (the string this index was built for);
    /// `idx == char_count` gives `s.len()`, beyond it `None`.
    pub fn byte_offset(&self, s: &str, idx: usize) -> Option<usize> {
        if idx > self.chars {
            return None;
        }
        if self.marks.is_empty() || idx == self.chars {
            return Some(if idx == self.chars { s.len() } else { idx });
        }
        let start = self.marks[idx / STRIDE];
        s[start..]
            .char_indices()
            .nth(idx % STRIDE)
            .map(|(b, _)| start + b)
    }

    /// Character index of the character starting at byte `byte` of `s`.
    pub fn char_index_of(&self, s: &str, byte: usize) -> usize {
        if self.marks.is_empty() {
            return byte;
        }
        let k = self.marks.partition_point(|&m| m <= byte) - 1;
        k * STRIDE + s[self.marks[k]..byte].chars().count()
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const { RefCell::new(Cache { slots: Vec::new(), next: 0 }) };
}

struct Cache {
    slots: Vec<(Weak<String>, Arc<CharIndex>)>,
    next: usize,
}

/// The index of `s`, from the cache or built now. Only worth it for long strings.
pub fn index_of_string(s: &Arc<String>) -> Arc<CharIndex> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let ptr = Arc::as_ptr(s);
        if let Some((_, ix)) = cache
            .slots
            .iter()
            .find(|(w, _)| w.as_ptr() == ptr && w.strong_count() > 0)
        {
            return ix.clone();
        }
        let ix = Arc::new(CharIndex::build(s));
        let entry = (Arc::downgrade(s), ix.clone());
        if cache.slots.len() < CACHE_SLOTS {
            cache.slots.push(entry);
        } else {
            let at = cache.next;
            cache.slots[at] = entry;
            cache.next = (at + 1) % CACHE_SLOTS;
        }
        ix
    })
}

/// Character count of `s`.
pub fn char_count(s: &Arc<String>) -> usize {
    if s.len() < INDEXED_MIN {
        return crate::strings::char_count(s);
    }
    index_of_string(s).char_count()
}

/// Byte offset of character `idx` of `s` (`idx == count` gives `s.len()`).
pub fn byte_offset(s: &Arc<String>, idx: usize) -> Option<usize> {
    if s.len() < INDEXED_MIN {
        return crate::strings::byte_offset(s, idx);
    }
    index_of_string(s).byte_offset(s, idx)
}

/// Character `idx` of `s`.
pub fn char_at(s: &Arc<String>, idx: usize) -> Option<char> {
    if s.len() < INDEXED_MIN {
        return s.chars().nth(idx);
    }
    let b = index_of_string(s).byte_offset(s, idx)?;
    s[b..].chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(piece: &str, n: usize) -> Arc<String> {
        Arc::new(piece.repeat(n))
    }

    #[test]
    fn ascii_positions_are_byte_positions() {
        let s = long("abcd", 100);
        assert_eq!(char_count(&s), 400);
        assert_eq!(byte_offset(&s, 0), Some(0));
        assert_eq!(byte_offset(&s, 399), Some(399));
        assert_eq!(byte_offset(&s, 400), Some(400));
        assert_eq!(byte_offset(&s, 401), None);
        assert_eq!(char_at(&s, 5), Some('b'));
        assert_eq!(char_at(&s, 400), None);
    }

    #[test]
    fn non_ascii_positions_match_a_linear_scan() {
        let s = long("aé€😀b", 97);
        let expected: Vec<usize> = s.char_indices().map(|(b, _)| b).collect();
        assert_eq!(char_count(&s), expected.len());
        let ix = index_of_string(&s);
        for (k, &b) in expected.iter().enumerate() {
            assert_eq!(byte_offset(&s, k), Some(b), "char {k}");
            assert_eq!(ix.char_index_of(&s, b), k, "byte {b}");
            assert_eq!(char_at(&s, k), s[b..].chars().next());
        }
        assert_eq!(byte_offset(&s, expected.len()), Some(s.len()));
        assert_eq!(byte_offset(&s, expected.len() + 1), None);
    }

    #[test]
    fn replaced_and_dropped_strings_are_never_confused() {
        // Several long strings in turn: more than the cache holds, so entries are replaced,
        // and a dropped string's slot must never answer for a new one.
        for round in 0..3 {
            let strings: Vec<Arc<String>> = (0..CACHE_SLOTS + 2)
                .map(|i| long(if (i + round) % 2 == 0 { "xy" } else { "é" }, 200 + i))
                .collect();
            for s in &strings {
                assert_eq!(char_count(s), s.chars().count());
            }
        }
    }
}
