//! What a function demands of its caller's context (a record's `:security-requirements`).

use crate::level::SecurityLevel;

#[derive(Debug, Clone, PartialEq)]
pub struct SecurityRequirements {
    pub min_security_level: SecurityLevel,
    pub required_permissions: Vec<String>,
    /// When non-empty, only these providers may serve the function, whatever the caller allows.
    pub trusted_providers: Vec<String>,
}

impl Default for SecurityRequirements {
    fn default() -> Self {
        SecurityRequirements {
            min_security_level: SecurityLevel::Controlled,
            required_permissions: Vec::new(),
            trusted_providers: Vec::new(),
        }
    }
}
