//! How much a caller may reach beyond the local process.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecurityLevel {
    Pure,
    Controlled,
    Full,
}

impl SecurityLevel {
    pub fn parse(s: &str) -> Option<SecurityLevel> {
        match s.strip_prefix(':').unwrap_or(s) {
            "pure" => Some(SecurityLevel::Pure),
            "controlled" => Some(SecurityLevel::Controlled),
            "full" => Some(SecurityLevel::Full),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::Pure => "pure",
            SecurityLevel::Controlled => "controlled",
            SecurityLevel::Full => "full",
        }
    }
}
