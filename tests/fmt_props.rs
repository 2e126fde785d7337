//! The formatter's laws: fmt(fmt(x)) == fmt(x), the read forms are unchanged, and every
//! comment survives verbatim — over the conformance corpus, the examples and random
//! programs.

use proptest::prelude::*;
use rtfs::format::{format_source, same_forms};
use rtfs_compiler::reader;
use rtfs_compiler::source::FileId;

fn comments(s: &str) -> Vec<String> {
    // Comment text outside strings, in order (the test programs hold no `;` in strings
    // that would confuse this, except where checked separately).
    let mut out = Vec::new();
    let mut in_str = false;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            ';' if !in_str => {
                let end = s[i..].find('\n').map_or(s.len(), |j| i + j);
                out.push(s[i..end].trim_end_matches('\r').to_string());
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    out
}

fn check_laws(name: &str, src: &str) {
    let once = format_source(src).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let twice = format_source(&once).unwrap_or_else(|e| panic!("{name} (again): {e:?}"));
    assert_eq!(once, twice, "{name}: not idempotent");
    let a = reader::read(FileId(0), src).expect("reads");
    let b = reader::read(FileId(0), &once).expect("formatted reads");
    assert!(same_forms(&a, &b), "{name}: meaning changed");
    assert_eq!(comments(src), comments(&once), "{name}: comments changed");
    for line in once.lines() {
        assert!(
            !line.ends_with(' ') || line.contains(';'),
            "{name}: trailing space: {line:?}"
        );
    }
}

#[test]
fn corpus_is_a_fixed_point_after_one_pass() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut n = 0;
    for dir in [
        "tests/conformance",
        "rtfs-examples/programs",
        "benches/programs",
    ] {
        let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "rtfs") {
                let src = std::fs::read_to_string(&p).unwrap();
                if reader::read(FileId(0), &src).is_ok() {
                    check_laws(&p.display().to_string(), &src);
                    n += 1;
                }
            }
        }
    }
    assert!(n >= 20, "only {n} corpus files found");
}

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i64..1000).prop_map(|i| i.to_string()),
        prop::sample::select(vec![
            "x",
            "foo",
            "a-long-symbol-name",
            "+",
            "nil",
            "true",
            ":k",
            ":key/ns",
            "\"s\"",
            "\"a ; not a comment\"",
            "\"two\nlines\"",
            "1.5",
            "#\"re+\"",
            "'q",
            "@a",
        ])
        .prop_map(str::to_string),
    ]
}

fn ws() -> BoxedStrategy<String> {
    prop::sample::select(vec![
        " ",
        "\n",
        "  \n\n ",
        ", ",
        " ; note\n",
        "\n;; own line\n",
    ])
    .prop_map(str::to_string)
    .boxed()
}

fn form() -> impl Strategy<Value = String> {
    atom().prop_recursive(5, 80, 8, |inner| {
        let body = prop::collection::vec((inner.clone(), ws()), 0..8);
        let heads = prop::sample::select(vec![
            "defn f [x]",
            "let [a 1 b 2]",
            "if (pos? x)",
            "cond",
            "fn [y]",
            "map inc",
            "some-function-with-a-long-name",
            "when x",
            "try",
            "do",
            "case x",
        ]);
        prop_oneof![
            (heads, body.clone()).prop_map(|(h, b)| format!("({h} {})", join(b))),
            body.clone().prop_map(|b| format!("[{}]", join(b))),
            prop::collection::vec((inner.clone(), ws()), 0..6).prop_map(|kv| {
                let s: Vec<String> = kv
                    .into_iter()
                    .enumerate()
                    .map(|(i, (v, w))| format!(":key{} {v}{w}", "-k".repeat(i)))
                    .collect();
                format!("{{{}}}", s.join(" "))
            }),
            body.prop_map(|b| format!("#{{{}}}", join(b))),
            inner.prop_map(|f| format!("^:private {f}")),
        ]
    })
}

fn join(items: Vec<(String, String)>) -> String {
    items.into_iter().map(|(f, w)| format!("{f}{w}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_programs_keep_the_laws(forms in prop::collection::vec((form(), ws()), 1..6)) {
        let src = join(forms);
        // Sets and maps with duplicate entries do not read; only readable programs count.
        prop_assume!(reader::read(FileId(0), &src).is_ok());
        check_laws("random", &src);
    }
}
