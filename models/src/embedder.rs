//! [`OpenAiEmbedder`]: the L3 semantic cache's client of an OpenAI-compatible
//! `POST {base_url}/embeddings` endpoint. Vectors are L2-normalised on receipt (not every
//! compatible server normalises). Requests run on the shared I/O runtime (or the one the
//! host hands in), like every other network client of the host layer.

use std::time::Duration;

use rtfs_delegation::embed::normalize;
use rtfs_delegation::{EmbedError, Embedder};
use rtfs_io_runtime::IoRuntime;

/// A 3 072-dimension embedding is about 70 kB of JSON; far more means a broken server.
const MAX_BODY: usize = 16 << 20;

#[derive(Clone, Debug)]
pub struct OpenAiEmbedderConfig {
    /// Up to and including the version segment, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// Name of the environment variable holding the API key (None: send no key).
    pub api_key_env: Option<String>,
    /// The dimension the model returns; any other length is an error.
    pub dim: usize,
    pub timeout: Duration,
}

impl OpenAiEmbedderConfig {
    pub fn new(base_url: &str, model: &str, dim: usize) -> OpenAiEmbedderConfig {
        OpenAiEmbedderConfig {
            base_url: base_url.to_string(),
            model: model.to_string(),
            api_key_env: None,
            dim,
            timeout: Duration::from_secs(10),
        }
    }
}

pub struct OpenAiEmbedder {
    id: String,
    url: String,
    model: String,
    key: Option<String>,
    dim: usize,
    timeout: Duration,
    client: reqwest::Client,
    /// The host's runtime if it handed one; else the shared one, started on first use.
    io: Option<IoRuntime>,
}

impl OpenAiEmbedder {
    /// Checks the configuration and reads the API key variable now, so a missing key is a
    /// start-up error rather than a failure on the first lookup.
    pub fn new(cfg: OpenAiEmbedderConfig) -> Result<OpenAiEmbedder, EmbedError> {
        let id = format!("openai:{}@{}", cfg.model, cfg.base_url);
        if cfg.dim == 0 {
            return Err(EmbedError::Config(format!("{id}: dimension must be > 0")));
        }
        if cfg.model.is_empty() {
            return Err(EmbedError::Config(format!("{id}: model is empty")));
        }
        let key = match &cfg.api_key_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(k) if !k.is_empty() => Some(k),
                _ => {
                    return Err(EmbedError::MissingKey {
                        embedder: id,
                        var: var.clone(),
                    });
                }
            },
        };
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .build()
            .map_err(|e| EmbedError::Config(format!("{id}: HTTP client: {e}")))?;
        Ok(OpenAiEmbedder {
            url: format!("{}/embeddings", cfg.base_url.trim_end_matches('/')),
            id,
            model: cfg.model,
            key,
            dim: cfg.dim,
            timeout: cfg.timeout,
            client,
            io: None,
        })
    }

    /// Runs requests on `io` instead of the shared I/O runtime.
    pub fn with_io_runtime(mut self, io: IoRuntime) -> OpenAiEmbedder {
        self.io = Some(io);
        self
    }

    fn transport(&self, reason: String) -> EmbedError {
        EmbedError::Transport {
            embedder: self.id.clone(),
            reason,
        }
    }

    async fn request(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let body = serde_json::json!({ "model": self.model, "input": text });
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let describe = |e: reqwest::Error| {
            if e.is_timeout() {
                format!("timed out: {e}")
            } else {
                e.to_string()
            }
        };
        let exchange = async {
            let mut resp = req.send().await.map_err(|e| self.transport(describe(e)))?;
            let status = resp.status().as_u16();
            let mut bytes = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| self.transport(format!("reading the body: {}", describe(e))))?
            {
                if bytes.len() + chunk.len() > MAX_BODY {
                    return Err(EmbedError::Malformed {
                        embedder: self.id.clone(),
                        reason: format!("body larger than {MAX_BODY} bytes"),
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| self.transport(format!("timed out after {:?}", self.timeout)))??;
        let text = String::from_utf8_lossy(&bytes);
        if status != 200 {
            let mut body: String = text.chars().take(200).collect();
            if body.len() < text.len() {
                body.push('…');
            }
            return Err(EmbedError::Status {
                embedder: self.id.clone(),
                status,
                body,
            });
        }
        self.parse(&text)
    }

    fn parse(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let malformed = |reason: String| EmbedError::Malformed {
            embedder: self.id.clone(),
            reason,
        };
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| malformed(format!("not JSON: {e}")))?;
        let items = json
            .get("data")
            .and_then(|d| d.get(0))
            .and_then(|d| d.get("embedding"))
            .and_then(|e| e.as_array())
            .ok_or_else(|| malformed("no `data[0].embedding` array".into()))?;
        if items.len() != self.dim {
            return Err(EmbedError::Dimension {
                embedder: self.id.clone(),
                expected: self.dim,
                got: items.len(),
            });
        }
        let mut v = Vec::with_capacity(items.len());
        for (i, x) in items.iter().enumerate() {
            match x.as_f64() {
                Some(f) if f.is_finite() => v.push(f as f32),
                _ => return Err(malformed(format!("embedding[{i}] is not a finite number"))),
            }
        }
        normalize(&mut v);
        Ok(v)
    }
}

impl Embedder for OpenAiEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let io = match &self.io {
            Some(io) => io.clone(),
            None => IoRuntime::shared().map_err(|e| self.transport(e))?,
        };
        io.block_on(self.request(text))
    }

    fn is_on_device(&self) -> bool {
        false
    }
}
