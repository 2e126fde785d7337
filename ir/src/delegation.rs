//! Where a call runs: the Delegation Engine's `ExecTarget`, the per-call-site annotation the
//! delegation-analysis pass writes into the IR, and the view of a policy the pass needs.
//!
//! These types live in `ir` because the compiler writes them, the runtime reads them and the
//! `rtfs-delegation` crate produces them, and `ir` is the one crate all three share.

use std::fmt;

/// The Delegation Engine's decision (Delegation Engine document, §3.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExecTarget {
    /// The local, deterministic RTFS runtime (interpreter or JIT).
    LocalPure,
    /// A registered on-device model provider (tiny LLM, rules engine), by id.
    LocalModel(String),
    /// A remote model service, by id.
    RemoteModel(String),
    /// A result served from a cache (`cache_level` 1–4).
    CacheHit {
        cache_level: u8,
        storage_pointer: String,
    },
}

impl ExecTarget {
    /// Whether running here keeps the function and its arguments on this device.
    pub fn is_on_device(&self) -> bool {
        !matches!(self, ExecTarget::RemoteModel(_))
    }
}

impl fmt::Display for ExecTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecTarget::LocalPure => f.write_str("local-pure"),
            ExecTarget::LocalModel(id) => write!(f, "local-model \"{id}\""),
            ExecTarget::RemoteModel(id) => write!(f, "remote-model \"{id}\""),
            ExecTarget::CacheHit {
                cache_level,
                storage_pointer,
            } => write!(f, "cache-hit L{cache_level} \"{storage_pointer}\""),
        }
    }
}

/// Why a call site got its annotation (shown by `rtfs explain`, kept for the causal chain).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum TargetReason {
    /// The delegation-analysis pass has not looked at this call site.
    #[default]
    NotAnalysed,
    /// A `^:delegation` hint on the callee: the engine is bypassed.
    Hint,
    /// A policy rule, by its description (e.g. `route[2] "summarize-*"`).
    Policy(String),
    /// No policy was given: RTFS functions run locally.
    NoPolicy,
    /// The callee is not known at compile time (a local or a computed function).
    Indirect,
    /// A function calling itself: it runs wherever its caller's call was sent.
    SelfCall,
    /// Some rule needs run-time context (network, battery, providers, budget).
    RuntimeContext(String),
}

impl fmt::Display for TargetReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetReason::NotAnalysed => f.write_str("not analysed"),
            TargetReason::Hint => f.write_str("hint"),
            TargetReason::Policy(rule) => write!(f, "policy {rule}"),
            TargetReason::NoPolicy => f.write_str("no policy: local"),
            TargetReason::Indirect => f.write_str("indirect call: callee known only at run time"),
            TargetReason::SelfCall => f.write_str("self call: runs where its caller runs"),
            TargetReason::RuntimeContext(why) => write!(f, "run time: {why}"),
        }
    }
}

/// The annotation of one call site: a fixed target, or "ask the engine at run time".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallTarget {
    Fixed {
        target: ExecTarget,
        reason: TargetReason,
    },
    Runtime {
        reason: TargetReason,
    },
}

impl Default for CallTarget {
    fn default() -> Self {
        CallTarget::Runtime {
            reason: TargetReason::NotAnalysed,
        }
    }
}

impl CallTarget {
    pub fn fixed(target: ExecTarget, reason: TargetReason) -> CallTarget {
        CallTarget::Fixed { target, reason }
    }

    /// True when the call runs in the local runtime with no engine involvement.
    #[inline(always)]
    pub fn is_local_pure(&self) -> bool {
        matches!(
            self,
            CallTarget::Fixed {
                target: ExecTarget::LocalPure,
                ..
            }
        )
    }

    pub fn reason(&self) -> &TargetReason {
        match self {
            CallTarget::Fixed { reason, .. } | CallTarget::Runtime { reason } => reason,
        }
    }
}

/// What kind of call a policy is asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// An RTFS function, by its symbol.
    Function,
    /// A capability `(call :id …)`, by its id without the colon.
    Capability,
}

/// The compile-time answer of a policy for one callee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaticDecision {
    /// The policy fixes the target whatever the run-time context; `rule` names the rule.
    Fixed { target: ExecTarget, rule: String },
    /// The policy's answer depends on run-time context; `why` says which.
    Runtime { why: String },
}

/// The part of a delegation policy the compiler can consult. Implemented by
/// `rtfs_delegation::Policy`; the compiler sees only this trait so it stays free of the
/// engine's dependencies.
pub trait StaticPolicy {
    /// `sensitive`: the callee is marked `^{:privacy :sensitive}`; a policy must not fix
    /// such a call to an off-device target.
    fn static_decision(&self, kind: CallKind, name: &str, sensitive: bool) -> StaticDecision;
    /// Whether the policy names the environment variable `name` as holding a secret (an
    /// `api_key_env`): a value read from it is sensitive, like one from a `*KEY*` name.
    fn secret_env(&self, name: &str) -> bool {
        let _ = name;
        false
    }
}
