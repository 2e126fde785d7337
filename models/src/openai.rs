//! [`OpenAiProvider`]: a client for OpenAI-compatible `POST {base_url}/chat/completions`
//! servers (OpenAI, llama.cpp, vLLM, Ollama, …). Timeouts per attempt; retries with
//! exponential back-off on 5xx, 429, timeouts, connection failures and malformed replies;
//! other 4xx fail at once with the server's message.

use std::time::{Duration, Instant};

use rtfs_io_runtime::IoRuntime;
use serde_json::{Value, json};

use crate::provider::{ModelError, ModelProvider, ModelRequest, ModelResponse, Usage, clip};

#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    /// e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    pub model: String,
    /// Name of the environment variable holding the API key; `None` sends no key (local
    /// servers). The key itself never appears in configuration or errors.
    pub api_key_env: Option<String>,
    /// Time allowed for one attempt.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub system_prompt: Option<String>,
}

impl OpenAiConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> OpenAiConfig {
        OpenAiConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            timeout: Duration::from_secs(60),
            max_retries: 3,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            system_prompt: None,
        }
    }
}

pub struct OpenAiProvider {
    id: String,
    config: OpenAiConfig,
    url: String,
    api_key: Option<String>,
    client: reqwest::Client,
    /// Where requests run: the host's runtime if it handed one, else the shared one
    /// (started on the first request, not when the provider is built).
    io: Option<IoRuntime>,
}

/// Why one attempt failed, and whether another might succeed.
struct Attempt {
    error: ModelError,
    retry: bool,
}

impl OpenAiProvider {
    /// Checks the configuration and reads the API key variable now, so a missing key is
    /// a startup error rather than a failure on the first call.
    pub fn new(id: impl Into<String>, config: OpenAiConfig) -> Result<OpenAiProvider, ModelError> {
        let api_key = match &config.api_key_env {
            None => None,
            Some(var) => Some(std::env::var(var).map_err(|_| {
                ModelError::Config(format!(
                    "environment variable {var} (the API key) is not set"
                ))
            })?),
        };
        OpenAiProvider::build(id.into(), config, api_key)
    }

    /// As [`OpenAiProvider::new`], with a key the host got elsewhere (a secrets store);
    /// `api_key_env` is ignored.
    pub fn with_api_key(
        id: impl Into<String>,
        config: OpenAiConfig,
        api_key: String,
    ) -> Result<OpenAiProvider, ModelError> {
        OpenAiProvider::build(id.into(), config, Some(api_key))
    }

    fn build(
        id: String,
        config: OpenAiConfig,
        api_key: Option<String>,
    ) -> Result<OpenAiProvider, ModelError> {
        let base = config.base_url.trim_end_matches('/');
        let url = format!("{base}/chat/completions");
        reqwest::Url::parse(&url)
            .map_err(|e| ModelError::Config(format!("base URL `{}`: {e}", config.base_url)))?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| ModelError::Config(format!("HTTP client: {e}")))?;
        Ok(OpenAiProvider {
            id,
            config,
            url,
            api_key,
            client,
            io: None,
        })
    }

    /// Runs requests on `io` instead of the shared I/O runtime.
    pub fn with_io_runtime(mut self, io: IoRuntime) -> OpenAiProvider {
        self.io = Some(io);
        self
    }

    fn body(&self, req: &ModelRequest) -> Value {
        let mut messages = Vec::new();
        if let Some(system) = &self.config.system_prompt {
            messages.push(json!({"role": "system", "content": system}));
        }
        let args = Value::Array(req.args.clone());
        let content = match &req.prompt {
            Some(p) => p.clone(),
            None => format!(
                "Call the function `{}` with arguments {args}. Reply with the result only.",
                req.function
            ),
        };
        messages.push(json!({"role": "user", "content": content}));
        let mut body = json!({"model": self.config.model, "messages": messages});
        if let Value::Object(map) = &mut body {
            for (k, v) in &req.params {
                map.insert(k.clone(), v.clone());
            }
        }
        body
    }

    async fn attempt(&self, body: &Value) -> Result<(String, Usage), Attempt> {
        let provider = || self.id.clone();
        let mut rb = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(key) = &self.api_key {
            rb = rb.bearer_auth(key);
        }
        let sent = tokio::time::timeout(self.config.timeout, async {
            let resp = rb.send().await?;
            let status = resp.status();
            let text = resp.text().await?;
            Ok::<_, reqwest::Error>((status, text))
        })
        .await;
        let (status, text) = match sent {
            Err(_) => {
                return Err(Attempt {
                    error: ModelError::Timeout {
                        provider: provider(),
                        after: self.config.timeout,
                    },
                    retry: true,
                });
            }
            Ok(Err(e)) if e.is_timeout() => {
                return Err(Attempt {
                    error: ModelError::Timeout {
                        provider: provider(),
                        after: self.config.timeout,
                    },
                    retry: true,
                });
            }
            Ok(Err(e)) => {
                return Err(Attempt {
                    error: ModelError::Transport {
                        provider: provider(),
                        message: e.to_string(),
                    },
                    retry: true,
                });
            }
            Ok(Ok(st)) => st,
        };
        if !status.is_success() {
            let code = status.as_u16();
            return Err(Attempt {
                error: ModelError::Http {
                    provider: provider(),
                    status: code,
                    body: clip(&error_message(&text), 300),
                },
                retry: status.is_server_error() || code == 429,
            });
        }
        parse_reply(&text).map_err(|message| Attempt {
            error: ModelError::Malformed {
                provider: provider(),
                message,
            },
            retry: true,
        })
    }

    async fn infer_async(&self, req: &ModelRequest) -> Result<(String, Usage, u32), ModelError> {
        let body = self.body(req);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match self.attempt(&body).await {
                Ok((text, usage)) => return Ok((text, usage, attempts)),
                Err(a) if !a.retry => return Err(a.error),
                Err(a) if attempts > self.config.max_retries => {
                    return Err(if attempts == 1 {
                        a.error
                    } else {
                        ModelError::RetriesExhausted {
                            provider: self.id.clone(),
                            attempts,
                            last: Box::new(a.error),
                        }
                    });
                }
                Err(_) => {
                    let exp = 2u32.saturating_pow(attempts - 1);
                    let delay = self
                        .config
                        .backoff_base
                        .saturating_mul(exp)
                        .min(self.config.backoff_max);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// The server's own error text when it sends OpenAI's `{"error":{"message":…}}`.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

fn parse_reply(text: &str) -> Result<(String, Usage), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("{e} in {}", clip(text, 200)))?;
    let content = v["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| format!("no choices[0].message.content in {}", clip(text, 200)))?;
    let usage = Usage {
        prompt_tokens: v["usage"]["prompt_tokens"].as_u64(),
        completion_tokens: v["usage"]["completion_tokens"].as_u64(),
        cost_usd: None,
    };
    Ok((content.to_string(), usage))
}

impl ModelProvider for OpenAiProvider {
    fn id(&self) -> &str {
        &self.id
    }

    fn infer(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let start = Instant::now();
        let io = match &self.io {
            Some(io) => io.clone(),
            None => IoRuntime::shared().map_err(ModelError::Config)?,
        };
        let result = io.block_on(self.infer_async(req));
        let (text, usage, attempts) = result?;
        let value = serde_json::from_str::<Value>(text.trim())
            .ok()
            .filter(|v| v.is_object() || v.is_array());
        Ok(ModelResponse {
            text,
            value,
            usage,
            latency: start.elapsed(),
            attempts,
        })
    }
}
