//! Privacy marks as the source writes them, and how lowering carries them into the IR for
//! the delegation pass.
//!
//! The specs say only that metadata is a map on a form; this runtime reads two spellings:
//! `^{:privacy :sensitive}` and the shorthand `^:sensitive` (which the reader makes
//! `{:sensitive true}`, as Clojure does for any `^:kw`). On a `defn`/`fn` (form, name or
//! parameter vector) a mark covers the whole function; on a parameter or `let` name it
//! covers that binding; on any other expression (typically a call argument) it covers
//! that value.
//!
//! A marked expression is lowered to `(rtfs.privacy/sensitive value "description")`, an
//! identity built-in the delegation pass recognises as a taint source and then removes, so
//! marks cost nothing at run time. Code the pass never sees (a macro transformer run at
//! compile time) still runs correctly: the built-in returns its first argument.

use rtfs_ir::expr::Expr;
use rtfs_ir::{Builtin, RtResult, SrcLoc, Value};

use crate::convert::syntax_to_value;
use crate::syntax::Syntax;

/// The built-in and the capability that read environment variables: their result is a
/// taint source when the variable may hold a secret (see [`is_secret_env_name`]).
pub const ENV_BUILTIN: &str = "get-env";
pub const ENV_CAPABILITY: &str = "ccos.env/get";

/// Whether an environment variable's name says it holds a secret: it contains `KEY`,
/// `TOKEN`, `SECRET`, `PASSWORD`, `PASSWD` or `CREDENTIAL` (any case). Such values are
/// sensitive by default, so the delegation machinery keeps them on the device.
pub fn is_secret_env_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|w| up.contains(w))
}

/// Whether a metadata map marks its form sensitive.
pub fn is_sensitive(meta: &Value) -> bool {
    let Some(m) = meta.as_map() else {
        return false;
    };
    m.get(&Value::keyword("privacy"))
        .and_then(Value::as_keyword)
        == Some("sensitive")
        || matches!(m.get(&Value::keyword("sensitive")), Some(Value::Bool(true)))
}

/// Whether a form's own reader metadata marks it sensitive.
pub fn syntax_is_sensitive(s: &Syntax) -> bool {
    s.meta
        .as_deref()
        .is_some_and(|m| is_sensitive(&syntax_to_value(m)))
}

fn mark_value(_: &mut dyn rtfs_ir::Env, args: &[Value]) -> RtResult<Value> {
    Ok(args.first().cloned().unwrap_or(Value::Nil))
}

/// The marker built-in. Only lowering creates calls to it; it is not in the stdlib table,
/// so programs cannot name it.
pub static SENSITIVE_MARK: Builtin = Builtin {
    name: "rtfs.privacy/sensitive",
    min_args: 2,
    max_args: 2,
    func: mark_value,
    pure_fn: true,
    owned: None,
};

/// Wraps a lowered value in the marker; `what` says what was marked (for `rtfs explain`).
pub fn mark(value: Expr, what: String, loc: SrcLoc) -> Expr {
    Expr::CallBuiltin(
        &SENSITIVE_MARK,
        vec![value, Expr::Const(Value::str(what))].into(),
        loc,
    )
}

/// Whether `b` is the marker built-in.
pub fn is_mark(b: &Builtin) -> bool {
    std::ptr::eq(b, &SENSITIVE_MARK)
}

/// How explanations name a marked form: symbols by name, anything else printed, cut short.
pub fn describe(s: &Syntax) -> String {
    if let Some(name) = s.as_symbol() {
        return format!("`{name}`");
    }
    let text = syntax_to_value(s).pr_str();
    if text.chars().count() > 40 {
        let head: String = text.chars().take(37).collect();
        format!("`{head}...`")
    } else {
        format!("`{text}`")
    }
}
