//! Glob patterns over function names: `*` stays within a `/` segment, `**` crosses them.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::{Result, SecurityError};

/// Compiles glob patterns for names; shared with the mesh's registry listing.
pub fn compile_globs<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| SecurityError::Config(format!("bad glob pattern `{p}`: {e}")))?;
        b.add(g);
    }
    b.build()
        .map_err(|e| SecurityError::Config(format!("bad glob patterns: {e}")))
}
