//! Client of a mesh HTTP registry (see `http_server`).
//!
//! Remembers the ETag of every record it fetched and revalidates with `If-None-Match`, so an
//! unchanged record costs a 304 and no parsing. Transport failures, timeouts and 5xx answers
//! are "unavailable" (the resolver may serve stale or fail over); anything that is not a
//! well-formed record is a bad response, never a panic.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_NONE_MATCH};

use super::Registry;
use crate::error::{MeshError, RejectReason, Result};
use crate::json::MAX_RECORD_BYTES;
use crate::name::FunctionName;
use crate::record::FunctionRecord;

const MAX_LIST_BYTES: usize = 256 << 20;

pub struct HttpRegistry {
    base: String,
    client: reqwest::Client,
    etags: Mutex<HashMap<String, (String, FunctionRecord)>>,
    full: AtomicU64,
    not_modified: AtomicU64,
    /// Sent as `Authorization: Bearer` with writes.
    token: Option<String>,
    /// Sent with writes, for servers that let a signing key claim a namespace.
    publisher_key: Option<String>,
}

/// How many lookups were answered with a body and how many with 304.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpStats {
    pub full: u64,
    pub not_modified: u64,
}

fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl HttpRegistry {
    pub fn new(base_url: &str, timeout: Duration) -> Result<HttpRegistry> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(MeshError::Config(format!(
                "`{base_url}` is not an http(s) URL"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| MeshError::Config(format!("HTTP client: {e}")))?;
        Ok(HttpRegistry {
            base,
            client,
            etags: Mutex::new(HashMap::new()),
            full: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            token: None,
            publisher_key: None,
        })
    }

    /// Writes carry `Authorization: Bearer TOKEN`.
    pub fn with_token(mut self, token: Option<String>) -> HttpRegistry {
        self.token = token;
        self
    }

    /// Writes carry the publisher's public key (hex), so a server may let it claim a
    /// namespace.
    pub fn with_publisher_key(mut self, public_hex: Option<String>) -> HttpRegistry {
        self.publisher_key = public_hex;
        self
    }

    pub fn stats(&self) -> HttpStats {
        HttpStats {
            full: self.full.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
        }
    }

    /// Forgets remembered ETags (the next lookups fetch full bodies).
    pub fn forget_etags(&self) {
        self.etags.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn unavailable(&self, e: impl std::fmt::Display) -> MeshError {
        MeshError::unavailable(&self.base, e)
    }

    async fn body(&self, mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unavailable(e))? {
            if buf.len() + chunk.len() > cap {
                return Err(MeshError::bad_response(&self.base, "response too large"));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }

    async fn error_of(&self, resp: reqwest::Response, name: &str) -> MeshError {
        let status = resp.status();
        let text = self
            .body(resp, 64 << 10)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
            .unwrap_or_else(|| status.to_string());
        match status {
            StatusCode::NOT_FOUND => MeshError::NotFound(name.to_string()),
            StatusCode::CONFLICT => MeshError::Conflict(text),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                MeshError::Conflict(format!("{} refused the request: {text}", self.base))
            }
            StatusCode::NOT_IMPLEMENTED => MeshError::Unsupported(text),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                MeshError::SecurityViolation(format!("{} refused the write: {text}", self.base))
            }
            s if s.is_server_error() => self.unavailable(format!("{s}: {text}")),
            s => MeshError::bad_response(&self.base, format!("unexpected status {s}: {text}")),
        }
    }

    async fn send_record(
        &self,
        req: reqwest::RequestBuilder,
        record: &FunctionRecord,
    ) -> Result<()> {
        let mut req = req;
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = &self.publisher_key {
            req = req.header(super::write_auth::PUBLISHER_KEY_HEADER, k.as_str());
        }
        let resp = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(record.to_json_string())
            .send()
            .await
            .map_err(|e| self.unavailable(e))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(self.error_of(resp, record.func_name.as_str()).await)
        }
    }
}

#[async_trait]
impl Registry for HttpRegistry {
    fn describe(&self) -> String {
        self.base.clone()
    }

    async fn lookup(&self, func_name: &str) -> Result<FunctionRecord> {
        let name = FunctionName::parse(func_name)?;
        let url = format!("{}/v1/records/{}", self.base, name);
        let known = self
            .etags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(func_name)
            .map(|(e, _)| e.clone());
        let mut req = self.client.get(url);
        if let Some(etag) = &known {
            req = req.header(IF_NONE_MATCH, etag.as_str());
        }
        let resp = req.send().await.map_err(|e| self.unavailable(e))?;
        match resp.status() {
            StatusCode::NOT_MODIFIED => {
                self.not_modified.fetch_add(1, Ordering::Relaxed);
                self.etags
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(func_name)
                    .map(|(_, r)| r.clone())
                    .ok_or_else(|| {
                        MeshError::bad_response(&self.base, "304 for a record never fetched")
                    })
            }
            StatusCode::OK => {
                let etag = resp
                    .headers()
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let body = self.body(resp, MAX_RECORD_BYTES).await?;
                let record = FunctionRecord::from_json_bytes(&body)
                    .map_err(|e| MeshError::bad_response(&self.base, e))?;
                if record.func_name != name {
                    return Err(MeshError::Rejected {
                        name: func_name.to_string(),
                        reason: RejectReason::WrongName {
                            asked: func_name.to_string(),
                            got: record.func_name.to_string(),
                        },
                    });
                }
                self.full.fetch_add(1, Ordering::Relaxed);
                let mut etags = self.etags.lock().unwrap_or_else(|p| p.into_inner());
                match etag {
                    Some(e) => {
                        etags.insert(func_name.to_string(), (e, record.clone()));
                    }
                    None => {
                        etags.remove(func_name);
                    }
                }
                Ok(record)
            }
            _ => Err(self.error_of(resp, func_name).await),
        }
    }

    async fn register(&self, record: FunctionRecord) -> Result<()> {
        let req = self.client.post(format!("{}/v1/records", self.base));
        self.send_record(req, &record).await
    }

    async fn update(&self, func_name: &str, record: FunctionRecord) -> Result<()> {
        let name = FunctionName::parse(func_name)?;
        let req = self
            .client
            .put(format!("{}/v1/records/{}", self.base, name));
        self.send_record(req, &record).await
    }

    async fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        let url = format!("{}/v1/list?pattern={}", self.base, encode_query(pattern));
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| self.unavailable(e))?;
        if resp.status() != StatusCode::OK {
            return Err(self.error_of(resp, pattern).await);
        }
        let body = self.body(resp, MAX_LIST_BYTES).await?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| MeshError::bad_response(&self.base, format!("not JSON: {e}")))?;
        let items = v
            .as_array()
            .ok_or_else(|| MeshError::bad_response(&self.base, "list is not a JSON array"))?;
        items
            .iter()
            .map(|item| {
                FunctionRecord::from_json(item).map_err(|e| MeshError::bad_response(&self.base, e))
            })
            .collect()
    }
}
