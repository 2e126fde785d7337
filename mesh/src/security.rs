//! The security context lives in `rtfs-security` (shared with the Delegation Engine); the
//! mesh checks records against it and lists registries with its glob rules.

pub use rtfs_security::{
    SecurityContext, SecurityContextBuilder, SecurityLevel, SecurityRequirements, compile_globs,
};
