//! The data model of one Causal Chain entry: an [`Action`] records a delegated function
//! call or a capability call, the Delegation Engine's decision ([`DelegationInfo`]), its
//! timing, cache level, outcome and blake3 hashes of inputs and output.
//!
//! Field names are part of the file format: renaming one breaks every verifier of every
//! existing chain, so they are spelled out with serde attributes rather than left to the
//! Rust names.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::hash::content_hash_hex;

/// One recorded call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Position in the chain, assigned when the action is appended (callers leave 0).
    pub seq: u64,
    /// Wall-clock time the action was created, Unix milliseconds.
    pub timestamp_ms: u64,
    /// The plan (or run) this action belongs to, when the caller has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// `seq` of the action that caused this one (e.g. the enclosing call), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_seq: Option<u64>,
    pub kind: ActionType,
    pub delegation: DelegationInfo,
    pub timing: Timing,
    /// The cache level (1–4) that answered, if a cache did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_level: Option<u8>,
    pub outcome: Outcome,
    /// blake3 hex of the caller's canonical encoding of the arguments.
    pub input_hash: String,
    /// blake3 hex of the canonical encoding of the result; absent when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_hash: Option<String>,
    /// The arguments themselves, kept only when the chain is configured to keep raw values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_inputs: Option<String>,
    /// The result itself, kept only when the chain is configured to keep raw values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_output: Option<String>,
}

/// What was called.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionType {
    /// An RTFS function call routed by the Delegation Engine, e.g. `(my-func x)`.
    FunctionCall { function_symbol: String },
    /// A capability call `(call :id …)`.
    CapabilityCall { capability_id: String },
    /// A plan's `(step "name" …)` began.
    StepStart { step_name: String },
    /// A plan's `(step "name" …)` ended; the entry's timing spans the whole step and its
    /// outcome is the step's.
    StepEnd { step_name: String },
}

/// Why the call went where it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationInfo {
    /// Every candidate the engine looked at (provider or model ids), in the order seen.
    pub providers_considered: Vec<String>,
    /// The policy engine that decided, e.g. `"StaticEngine"`, or `"hint"`.
    pub decision_engine: String,
    pub chosen_target: ExecTarget,
    /// True when a `^:delegation` hint bypassed the engine.
    pub is_override: bool,
}

/// Mirrors the runtime's `ExecTarget` (the Delegation Engine's decision) so that this crate
/// depends on no other workspace crate. Written as `{"target": "local_model", "id": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum ExecTarget {
    LocalPure,
    LocalModel {
        id: String,
    },
    RemoteModel {
        id: String,
    },
    CacheHit {
        cache_level: u8,
        storage_pointer: String,
    },
}

/// When the call started and how long it took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Start, Unix microseconds.
    pub start_unix_us: u64,
    pub duration_us: u64,
}

/// How the call ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// `kind` is the RTFS error kind (e.g. `"timeout"`), `message` its text.
    Error {
        kind: String,
        message: String,
    },
}

/// Milliseconds since the Unix epoch; 0 if the clock is before it.
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Microseconds since the Unix epoch; 0 if the clock is before it.
pub fn now_unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Action {
    /// An action stamped now, with outcome `Ok`, no timing and the hash of empty input.
    /// Fill in the rest with the `with_*` methods.
    pub fn new(kind: ActionType, delegation: DelegationInfo) -> Action {
        Action {
            seq: 0,
            timestamp_ms: now_unix_ms(),
            plan_id: None,
            parent_seq: None,
            kind,
            delegation,
            timing: Timing::default(),
            cache_level: None,
            outcome: Outcome::Ok,
            input_hash: content_hash_hex(b""),
            output_hash: None,
            raw_inputs: None,
            raw_output: None,
        }
    }

    /// Records the inputs by the hash of their canonical encoding; `raw` is kept only if
    /// the chain is configured to keep raw values.
    pub fn with_inputs(mut self, canonical: &[u8], raw: Option<String>) -> Action {
        self.input_hash = content_hash_hex(canonical);
        self.raw_inputs = raw;
        self
    }

    /// Records a successful result (hash of its canonical encoding, optional raw text).
    pub fn with_output(mut self, canonical: &[u8], raw: Option<String>) -> Action {
        self.outcome = Outcome::Ok;
        self.output_hash = Some(content_hash_hex(canonical));
        self.raw_output = raw;
        self
    }

    /// Records a failure; there is no output.
    pub fn with_error(mut self, kind: impl Into<String>, message: impl Into<String>) -> Action {
        self.outcome = Outcome::Error {
            kind: kind.into(),
            message: message.into(),
        };
        self.output_hash = None;
        self.raw_output = None;
        self
    }

    pub fn with_timing(mut self, start_unix_us: u64, duration_us: u64) -> Action {
        self.timing = Timing {
            start_unix_us,
            duration_us,
        };
        self
    }

    pub fn with_cache_level(mut self, level: u8) -> Action {
        self.cache_level = Some(level);
        self
    }

    pub fn with_plan(mut self, plan_id: impl Into<String>) -> Action {
        self.plan_id = Some(plan_id.into());
        self
    }

    pub fn with_parent(mut self, parent_seq: u64) -> Action {
        self.parent_seq = Some(parent_seq);
        self
    }
}

impl ActionType {
    pub fn function(symbol: impl Into<String>) -> ActionType {
        ActionType::FunctionCall {
            function_symbol: symbol.into(),
        }
    }

    pub fn capability(id: impl Into<String>) -> ActionType {
        ActionType::CapabilityCall {
            capability_id: id.into(),
        }
    }

    pub fn step_start(name: impl Into<String>) -> ActionType {
        ActionType::StepStart {
            step_name: name.into(),
        }
    }

    pub fn step_end(name: impl Into<String>) -> ActionType {
        ActionType::StepEnd {
            step_name: name.into(),
        }
    }
}

impl DelegationInfo {
    /// A decision by `engine` among `considered`.
    pub fn decided(
        engine: impl Into<String>,
        considered: Vec<String>,
        target: ExecTarget,
    ) -> DelegationInfo {
        DelegationInfo {
            providers_considered: considered,
            decision_engine: engine.into(),
            chosen_target: target,
            is_override: false,
        }
    }

    /// A developer hint (`^:delegation`) that bypassed the engine.
    pub fn hinted(target: ExecTarget) -> DelegationInfo {
        DelegationInfo {
            providers_considered: Vec::new(),
            decision_engine: "hint".into(),
            chosen_target: target,
            is_override: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_stable() {
        let a = Action::new(
            ActionType::capability("ccos.echo"),
            DelegationInfo::hinted(ExecTarget::RemoteModel { id: "gpt4o".into() }),
        )
        .with_error("timeout", "no answer")
        .with_cache_level(2);
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["kind"]["type"], "capability_call");
        assert_eq!(v["kind"]["capability_id"], "ccos.echo");
        assert_eq!(v["delegation"]["chosen_target"]["target"], "remote_model");
        assert_eq!(v["delegation"]["chosen_target"]["id"], "gpt4o");
        assert_eq!(v["delegation"]["is_override"], true);
        assert_eq!(v["outcome"]["status"], "error");
        assert_eq!(v["outcome"]["kind"], "timeout");
        assert_eq!(v["cache_level"], 2);
        assert!(v.get("output_hash").is_none());
        let back: Action = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn every_target_round_trips() {
        for t in [
            ExecTarget::LocalPure,
            ExecTarget::LocalModel { id: "phi".into() },
            ExecTarget::RemoteModel { id: "gpt".into() },
            ExecTarget::CacheHit {
                cache_level: 2,
                storage_pointer: "l2:abc".into(),
            },
        ] {
            let s = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<ExecTarget>(&s).unwrap(), t, "{s}");
        }
    }
}
