//! The provider interface the Delegation Engine calls: [`ModelProvider`], its request and
//! response, and the one error type.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A model that can stand in for a function: the DE's `LocalModel(id)` / `RemoteModel(id)`.
/// Implementations are shared between threads and must not panic on any reply they get.
pub trait ModelProvider: Send + Sync {
    /// The id the Delegation Engine routes by (e.g. `"sentiment-rules"`, `"gpt4o"`).
    fn id(&self) -> &str;
    /// Answers one call. Blocking; safe to call from inside or outside a tokio runtime.
    fn infer(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError>;
}

/// One delegated call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// The RTFS function (or capability id) being delegated, e.g. `"sentiment/classify"`.
    pub function: String,
    /// Its arguments, as JSON.
    #[serde(default)]
    pub args: Vec<serde_json::Value>,
    /// Free text for the model, when the caller has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Provider parameters (`temperature`, `max_tokens`, …), passed through.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
}

impl ModelRequest {
    pub fn new(function: impl Into<String>, args: Vec<serde_json::Value>) -> ModelRequest {
        ModelRequest {
            function: function.into(),
            args,
            prompt: None,
            params: BTreeMap::new(),
        }
    }

    pub fn with_prompt(mut self, prompt: impl Into<String>) -> ModelRequest {
        self.prompt = Some(prompt.into());
        self
    }

    pub fn with_param(mut self, name: impl Into<String>, value: serde_json::Value) -> ModelRequest {
        self.params.insert(name.into(), value);
        self
    }
}

/// Token counts and cost, as far as the provider reports them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// A provider's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelResponse {
    /// The answer as text.
    pub text: String,
    /// The answer as a structured value, when there is one (a rule's `value`, a process's
    /// `value`, or chat text that is itself JSON).
    pub value: Option<serde_json::Value>,
    pub usage: Usage,
    /// Wall time of the call, retries and back-off included.
    pub latency: Duration,
    /// How many attempts it took (1 without retries).
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The provider is misconfigured (bad rule, missing API key variable, bad URL).
    #[error("configuration: {0}")]
    Config(String),
    /// No rule of a rules provider matches the request.
    #[error("no rule of `{provider}` matches {function}")]
    NoMatch { provider: String, function: String },
    #[error("`{provider}` did not answer within {after:?}")]
    Timeout { provider: String, after: Duration },
    /// Could not reach the provider (connection refused, reset, DNS).
    #[error("`{provider}` unreachable: {message}")]
    Transport { provider: String, message: String },
    /// An HTTP status that retrying will not fix (or the last of several that might have).
    #[error("`{provider}` answered HTTP {status}: {body}")]
    Http {
        provider: String,
        status: u16,
        body: String,
    },
    /// The reply was not what the protocol promises.
    #[error("`{provider}` sent a malformed reply: {message}")]
    Malformed { provider: String, message: String },
    /// The local model process could not be started or died.
    #[error("`{provider}` process: {message}")]
    Process { provider: String, message: String },
    /// The provider answered with an error of its own.
    #[error("`{provider}` reported an error: {message}")]
    Provider { provider: String, message: String },
    /// Every attempt failed; `last` is the last failure.
    #[error("`{provider}` failed after {attempts} attempts; last: {last}")]
    RetriesExhausted {
        provider: String,
        attempts: u32,
        last: Box<ModelError>,
    },
}

/// At most `max` characters of text that came from elsewhere, for error messages.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
