//! What a `catch` selector catches, decided at compile time: the exact error kinds it
//! accepts, or everything. The run time then compares kinds for equality (no prefix or
//! substring matching). The table for the Java-style names the corpus uses is documented in
//! docs/semantics.md §7; keep the two in step.

/// Names that catch every error (compared case-insensitively, after dropping a
/// `java.lang.`-style or `ns/` prefix).
const CATCH_ALL: [&str; 9] = [
    "exception",
    "error",
    "throwable",
    "runtimeerror",
    "runtimeexception",
    "object",
    "any",
    "_",
    "*",
];

/// Java-style class names and the kinds they stand for.
const CLASSES: [(&str, &[&str]); 6] = [
    (
        "arithmeticexception",
        &["division-by-zero", "overflow-error"],
    ),
    ("illegalargumentexception", &["illegal-argument"]),
    ("classcastexception", &["type-error"]),
    ("indexoutofboundsexception", &["index-out-of-bounds"]),
    (
        "hosterror",
        &[
            "capability-error",
            "unknown-capability",
            "permission-denied",
        ],
    ),
    ("exceptioninfo", &["ex-info", "user-error"]),
];

/// One selector as written.
pub enum Selector<'a> {
    /// `:division-by-zero` or `"division-by-zero"`: that kind exactly.
    Kind(&'a str),
    /// `ArithmeticException`, `java.lang.ArithmeticException`, `Foo`.
    Class(&'a str),
}

/// `None` when the selectors catch everything, else the exact kinds they accept.
pub fn kinds<'a>(selectors: impl IntoIterator<Item = Selector<'a>>) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in selectors {
        let (raw, is_class) = match s {
            Selector::Kind(k) => (k, false),
            Selector::Class(c) => (c, true),
        };
        // A kind is taken as written; a class name by its last segment (`rtfs/Error`,
        // `java.lang.Exception`).
        let last = if is_class {
            let l = raw.rsplit('/').next().unwrap_or(raw);
            l.rsplit('.').next().unwrap_or(l)
        } else {
            raw.strip_prefix(':').unwrap_or(raw)
        };
        let lower = last.to_lowercase();
        if CATCH_ALL.contains(&lower.as_str()) {
            return None;
        }
        if !is_class {
            out.push(last.to_string());
            continue;
        }
        // A class catches what `(Foo. msg)` raises, kind `Foo` as written; then the kinds
        // of the table, or else its kebab-case form (`TypeError` → `type-error`).
        out.push(last.to_string());
        if let Some((_, ks)) = CLASSES.iter().find(|(n, _)| *n == lower) {
            out.extend(ks.iter().map(|k| k.to_string()));
            continue;
        }
        let kebab = kebab(last);
        if kebab != last {
            out.push(kebab);
        }
    }
    out.dedup();
    Some(out)
}

/// `TypeError` → `type-error`, `IOError` → `io-error`.
fn kebab(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev_lower = chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || (next_lower && chars[i - 1].is_uppercase()) {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(c: &str) -> Option<Vec<String>> {
        kinds([Selector::Class(c)])
    }

    #[test]
    fn the_table() {
        assert_eq!(class("Exception"), None);
        assert_eq!(class("java.lang.Throwable"), None);
        assert_eq!(kinds([Selector::Kind("error")]), None);
        assert_eq!(
            class("java.lang.ArithmeticException").unwrap(),
            ["ArithmeticException", "division-by-zero", "overflow-error"]
        );
        assert_eq!(class("TypeError").unwrap(), ["TypeError", "type-error"]);
        assert_eq!(class("IOError").unwrap(), ["IOError", "io-error"]);
        assert_eq!(class("Foo").unwrap(), ["Foo", "foo"]);
        assert_eq!(
            kinds([Selector::Kind("division-by-zero")]).unwrap(),
            ["division-by-zero"]
        );
        assert_eq!(
            class("HostError").unwrap(),
            [
                "HostError",
                "capability-error",
                "unknown-capability",
                "permission-denied"
            ]
        );
    }

    #[test]
    fn no_prefixes() {
        // `:division` is not `:division-by-zero`: selectors name kinds exactly.
        assert_eq!(kinds([Selector::Kind("division")]).unwrap(), ["division"]);
    }
}
