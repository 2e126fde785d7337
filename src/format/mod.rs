//! The RTFS formatter: one canonical layout of a source file (see `layout`), comments
//! kept, checked to read as the same forms before and after.

mod cst;
mod layout;

use rtfs_compiler::reader;
use rtfs_compiler::source::FileId;
use rtfs_compiler::syntax::{Syntax, SyntaxKind};

pub use layout::WIDTH;

#[derive(Debug)]
pub enum FormatError {
    /// The text does not read as RTFS; the messages say where.
    Read(Vec<rtfs_compiler::diagnostic::Diagnostic>),
    /// The formatter would have changed what the file means: a bug, and nothing is written.
    Changed(String),
}

/// Formats `src`. The result reads as the same forms as `src`.
pub fn format_source(src: &str) -> Result<String, FormatError> {
    let before = reader::read(FileId(0), src).map_err(FormatError::Read)?;
    let tree = cst::parse(src).map_err(FormatError::Changed)?;
    let text = layout::render(&tree);
    match reader::read(FileId(0), &text) {
        Ok(after) if same_forms(&before, &after) => Ok(text),
        Ok(_) => Err(FormatError::Changed(
            "the formatted text reads as different forms".into(),
        )),
        Err(d) => Err(FormatError::Changed(format!(
            "the formatted text does not read: {}",
            d.first().map_or("", |d| d.message.as_str())
        ))),
    }
}

/// Equality of read forms, ignoring where they were in the text.
pub fn same_forms(a: &[Syntax], b: &[Syntax]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

fn same(a: &Syntax, b: &Syntax) -> bool {
    use SyntaxKind::*;
    let meta = match (&a.meta, &b.meta) {
        (None, None) => true,
        (Some(x), Some(y)) => same(x, y),
        _ => false,
    };
    meta && match (&a.kind, &b.kind) {
        (List(x), List(y)) | (Vector(x), Vector(y)) | (Set(x), Set(y)) => same_forms(x, y),
        (Map(x), Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        (TypeExpr(x), TypeExpr(y)) => same(x, y),
        (x, y) => !matches!(x, List(_) | Vector(_) | Set(_) | Map(_) | TypeExpr(_)) && x == y,
    }
}
