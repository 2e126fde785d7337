//! The caller's security context and its checks against a function's requirements.
//!
//! `is_global_function_allowed` and `is_provider_allowed` follow the design document exactly:
//! `Pure` allows nothing global, `Controlled` allows the listed names and glob patterns (and
//! listed provider ids), `Full` allows everything. Patterns are compiled once with `globset`;
//! `*` does not cross `/` (so `image-processing/*` does not reach into a vendor's tree) and
//! `**` does. A pattern that does not compile is a configuration error, never a panic.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use globset::GlobSet;

use crate::error::{Result, SecurityError};
use crate::globs::compile_globs;
use crate::level::SecurityLevel;
use crate::requirements::SecurityRequirements;

static NEXT_CONTEXT_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Debug, Clone)]
pub struct SecurityContext {
    id: u64,
    pub security_level: SecurityLevel,
    allowed_global_functions: HashSet<String>,
    allowed_function_patterns: Vec<String>,
    patterns: GlobSet,
    allowed_providers: HashSet<String>,
    permissions: HashSet<String>,
}

impl SecurityContext {
    pub fn pure() -> SecurityContext {
        Self::builder(SecurityLevel::Pure).build_unchecked()
    }

    pub fn full() -> SecurityContext {
        Self::builder(SecurityLevel::Full).build_unchecked()
    }

    /// `functions` are exact names or glob patterns; `providers` are provider ids.
    pub fn controlled<'a>(
        functions: impl IntoIterator<Item = &'a str>,
        providers: impl IntoIterator<Item = &'a str>,
    ) -> Result<SecurityContext> {
        let mut b = Self::builder(SecurityLevel::Controlled);
        for f in functions {
            b = b.allow_function(f);
        }
        for p in providers {
            b = b.allow_provider(p);
        }
        b.build()
    }

    pub fn builder(level: SecurityLevel) -> SecurityContextBuilder {
        SecurityContextBuilder {
            level,
            functions: Vec::new(),
            providers: Vec::new(),
            permissions: Vec::new(),
        }
    }

    /// Identifies this context (and its clones) for memoised decisions in the cache.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn is_global_function_allowed(&self, func_name: &str) -> bool {
        match self.security_level {
            SecurityLevel::Pure => false,
            SecurityLevel::Controlled => {
                self.allowed_global_functions.contains(func_name)
                    || (!self.allowed_function_patterns.is_empty()
                        && self.patterns.is_match(func_name))
            }
            SecurityLevel::Full => true,
        }
    }

    pub fn is_provider_allowed(&self, provider_id: &str) -> bool {
        match self.security_level {
            SecurityLevel::Pure => false,
            SecurityLevel::Controlled => self.allowed_providers.contains(provider_id),
            SecurityLevel::Full => true,
        }
    }

    /// `Full` holds every permission; otherwise only those granted.
    pub fn has_permission(&self, p: &str) -> bool {
        self.security_level == SecurityLevel::Full || self.permissions.contains(p)
    }

    /// Checks a record's requirements against this context: level, then permissions.
    pub fn check_requirements(&self, func_name: &str, req: &SecurityRequirements) -> Result<()> {
        if self.security_level < req.min_security_level {
            return Err(SecurityError::Violation(format!(
                "`{func_name}` requires security level {} or higher, the context is {}",
                req.min_security_level.as_str(),
                self.security_level.as_str()
            )));
        }
        let missing: Vec<&str> = req
            .required_permissions
            .iter()
            .filter(|p| !self.has_permission(p))
            .map(|s| s.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(SecurityError::Violation(format!(
                "`{func_name}` requires permissions not granted: {}",
                missing.join(", ")
            )));
        }
        Ok(())
    }

    /// Everything needed to call `func_name`, as one decision with a reason.
    pub fn check_function(&self, func_name: &str, req: &SecurityRequirements) -> Result<()> {
        if !self.is_global_function_allowed(func_name) {
            return Err(SecurityError::Violation(format!(
                "global function `{func_name}` is not allowed at security level {}",
                self.security_level.as_str()
            )));
        }
        self.check_requirements(func_name, req)
    }
}

#[derive(Debug, Clone)]
pub struct SecurityContextBuilder {
    level: SecurityLevel,
    functions: Vec<String>,
    providers: Vec<String>,
    permissions: Vec<String>,
}

impl SecurityContextBuilder {
    /// An exact function name, or a glob pattern when it contains `*?[{`.
    pub fn allow_function(mut self, name_or_pattern: impl Into<String>) -> Self {
        self.functions.push(name_or_pattern.into());
        self
    }
    pub fn allow_provider(mut self, id: impl Into<String>) -> Self {
        self.providers.push(id.into());
        self
    }
    pub fn grant_permission(mut self, p: impl Into<String>) -> Self {
        self.permissions.push(p.into());
        self
    }

    pub fn build(self) -> Result<SecurityContext> {
        let (patterns, exact): (Vec<String>, Vec<String>) = self
            .functions
            .into_iter()
            .partition(|f| f.contains(['*', '?', '[', '{']));
        let set = compile_globs(patterns.iter().map(|s| s.as_str()))?;
        Ok(SecurityContext {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            security_level: self.level,
            allowed_global_functions: exact.into_iter().collect(),
            allowed_function_patterns: patterns,
            patterns: set,
            allowed_providers: self.providers.into_iter().collect(),
            permissions: self.permissions.into_iter().collect(),
        })
    }

    fn build_unchecked(self) -> SecurityContext {
        debug_assert!(self.functions.is_empty());
        SecurityContext {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            security_level: self.level,
            allowed_global_functions: HashSet::new(),
            allowed_function_patterns: Vec::new(),
            patterns: GlobSet::empty(),
            allowed_providers: HashSet::new(),
            permissions: HashSet::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_document() {
        let pure = SecurityContext::pure();
        assert!(!pure.is_global_function_allowed("a/b"));
        assert!(!pure.is_provider_allowed("p"));
        let full = SecurityContext::full();
        assert!(full.is_global_function_allowed("a/b"));
        assert!(full.is_provider_allowed("p"));
        let c =
            SecurityContext::controlled(["image-processing/*", "data/sentiment"], ["p1"]).unwrap();
        assert!(c.is_global_function_allowed("image-processing/sharpen"));
        assert!(c.is_global_function_allowed("data/sentiment"));
        assert!(!c.is_global_function_allowed("image-processing/x/y"));
        assert!(!c.is_global_function_allowed("acme.com/image-processing/sharpen"));
        assert!(c.is_provider_allowed("p1"));
        assert!(!c.is_provider_allowed("p2"));
        let deep = SecurityContext::controlled(["acme.com/**"], []).unwrap();
        assert!(deep.is_global_function_allowed("acme.com/image-processing/sharpen"));
    }

    #[test]
    fn bad_pattern_is_a_config_error() {
        let e = SecurityContext::controlled(["image-[processing/*"], []).unwrap_err();
        assert!(matches!(e, SecurityError::Config(_)), "{e}");
    }

    #[test]
    fn requirements_are_enforced() {
        let req = SecurityRequirements {
            min_security_level: SecurityLevel::Controlled,
            required_permissions: vec!["image.read".into(), "image.write".into()],
            trusted_providers: vec![],
        };
        let c = SecurityContext::builder(SecurityLevel::Controlled)
            .allow_function("a/b")
            .grant_permission("image.read")
            .build()
            .unwrap();
        let e = c.check_function("a/b", &req).unwrap_err().to_string();
        assert!(e.contains("image.write"), "{e}");
        let ok = SecurityContext::builder(SecurityLevel::Controlled)
            .allow_function("a/b")
            .grant_permission("image.read")
            .grant_permission("image.write")
            .build()
            .unwrap();
        ok.check_function("a/b", &req).unwrap();
        let full_req = SecurityRequirements {
            min_security_level: SecurityLevel::Full,
            ..req
        };
        assert!(ok.check_function("a/b", &full_req).is_err());
        SecurityContext::full()
            .check_function("a/b", &full_req)
            .unwrap();
    }
}
