//! Property tests: the reader never panics, and its results are well formed
//! (spans inside the source, children inside parents, at most 20
//! diagnostics, every diagnostic renders), on random bytes and on random
//! sequences of RTFS-ish token texts.

use proptest::prelude::*;
use rtfs_compiler::diagnostic::Diagnostic;
use rtfs_compiler::reader::{MAX_DIAGNOSTICS, read, read_bytes};
use rtfs_compiler::source::{FileId, SourceMap};
use rtfs_compiler::syntax::{Syntax, SyntaxKind};

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "#{",
    ":[",
    "'",
    "`",
    "~",
    "~@",
    "@",
    "^",
    "#_",
    "#",
    "##Inf",
    "##-Inf",
    "##NaN",
    "##x",
    "\"",
    "\"abc\"",
    "\"a\\nb\"",
    "\"\\q\"",
    "\"\\u12\"",
    "#\"re\\d\"",
    ":",
    "::x",
    ":kw",
    ":a/b",
    ":com.acme:v1/x",
    "sym",
    "ns/name",
    "x:int",
    "-",
    "-1",
    "+5",
    "0x1F",
    "-0x8000000000000000",
    "1.5",
    "1e400",
    "1.",
    "12abc",
    "99999999999999999999",
    "nil",
    "true",
    "false",
    ";comment\n",
    " ",
    "\n",
    ",",
    "\t",
    "^:delegation",
    ":local",
    ":remote",
    ":local-model",
    "\"id\"",
    "2024-01-31T12:00:00Z",
    "2024-13-31T12:00:00Z",
    "550e8400-e29b-41d4-a716-446655440000",
    "resource://x/y",
    "\\",
    "λ",
    "\u{a0}",
    "#!",
    "\u{feff}",
    "\r\n",
    "^{:a 1}",
    "^String",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(TOKENS), any::<bool>()), 0..200).prop_map(|v| {
        let mut s = String::new();
        for (t, space) in v {
            s.push_str(t);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

fn check_node(node: &Syntax, len: u32, depth: usize) {
    assert!(depth < 1100, "tree deeper than the limit");
    assert!(
        node.span.start <= node.span.end && node.span.end <= len,
        "{node:?}"
    );
    let children: Vec<&Syntax> = match &node.kind {
        SyntaxKind::List(v) | SyntaxKind::Vector(v) | SyntaxKind::Set(v) => v.iter().collect(),
        SyntaxKind::Map(v) => v.iter().flat_map(|(k, e)| [k, e]).collect(),
        SyntaxKind::TypeExpr(b) => vec![b.as_ref()],
        _ => vec![],
    };
    for c in children {
        assert!(
            node.span.start <= c.span.start && c.span.end <= node.span.end,
            "child {c:?} outside parent {:?}",
            node.span
        );
        check_node(c, len, depth + 1);
    }
    if let Some(m) = &node.meta {
        assert!(
            matches!(m.kind, SyntaxKind::Map(_)),
            "meta must be a map: {m:?}"
        );
        check_node(m, len, depth + 1);
    }
}

fn check_diags(diags: &[Diagnostic], map: &SourceMap, len: u32) {
    assert!(!diags.is_empty(), "Err without diagnostics");
    assert!(diags.len() <= MAX_DIAGNOSTICS);
    for d in diags {
        assert!(d.span.start <= d.span.end && d.span.end <= len, "{d:?}");
        assert!(d.message.contains("expected"), "{}", d.message);
        let r = d.render(map);
        assert!(r.contains("t.rtfs:"), "{r}");
    }
}

fn check_src(src: &str) {
    let mut map = SourceMap::new();
    let f = map.add("t.rtfs", src);
    let len = src.len() as u32;
    match read(f, src) {
        Ok(forms) => forms.iter().for_each(|n| check_node(n, len, 0)),
        Err(d) => check_diags(&d, &map, len),
    }
}

fn check_bytes(bytes: &[u8]) {
    let mut map = SourceMap::new();
    let f = map.add_bytes("t.rtfs", bytes);
    let len = bytes.len() as u32;
    match read_bytes(FileId(0), bytes) {
        Ok(forms) => forms.iter().for_each(|n| check_node(n, len, 0)),
        Err(d) => check_diags(
            &d,
            &map,
            len.max(map.get(f).map_or(0, |x| x.text.len() as u32)),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_bytes(&bytes);
    }

    #[test]
    fn random_ascii_never_panics(bytes in prop::collection::vec(0x00u8..0x80, 0..2048)) {
        check_bytes(&bytes);
    }

    #[test]
    fn random_strings_never_panic(src in "\\PC{0,512}") {
        check_src(&src);
    }

    #[test]
    fn token_soup_never_panics(src in token_soup()) {
        check_src(&src);
        check_bytes(src.as_bytes());
    }

    #[test]
    fn token_soup_truncated_bytes_never_panic(src in token_soup(), cut in any::<prop::sample::Index>()) {
        let bytes = src.as_bytes();
        let at = if bytes.is_empty() { 0 } else { cut.index(bytes.len() + 1) };
        check_bytes(&bytes[..at]);
    }
}

#[test]
fn balanced_soup_reads() {
    // A fixed, valid program exercising every construct reads without errors.
    let src = r#"#!/usr/bin/env rtfs
; comment
(defn f ^:delegation :remote "gpt4o" [x :[:vector :int]]
  ^{:doc "d"} `(a ~x ~@[1 2] @y '#{:k} {:m 0x1F, :n ##Inf} #"\d" #_ignored))
(def t [2024-01-31T12:00:00Z 550e8400-e29b-41d4-a716-446655440000 resource://h nil true -1.5e3])
"#;
    let forms = read(FileId(0), src).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(forms.len(), 2);
    check_src(src);
}
