//! Invoking capability providers that live outside the process: JSON over HTTP POST, run on
//! the host layer's I/O runtime (the shared one of `rtfs-io-runtime`, or the one the host
//! handed the builder) so the synchronous interpreter can wait for them from any thread
//! (including a `spawn_blocking` thread of the host's own runtime).
//!
//! Wire format: request `{"capability": ID, "args": [ARG…]}`; a 2xx reply whose JSON body is
//! an object with `"result"` yields that value, any other JSON body is the value itself.
//! Non-2xx statuses, timeouts, transport errors and malformed JSON are failures whose
//! message names the provider and the reason.

use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtfs_io_runtime::IoRuntime;
use rtfs_ir::Value;

use crate::cancel::CancelToken;

/// How often a wait for a provider looks whether its `parallel` branch was cancelled.
const CANCEL_POLL: Duration = Duration::from_millis(5);

/// The I/O runtime and the HTTP client.
pub struct Io {
    rt: IoRuntime,
    client: reqwest::Client,
    pub timeout: Duration,
}

impl Io {
    pub fn new(rt: IoRuntime, timeout: Duration) -> Result<Io, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Io {
            rt,
            client,
            timeout,
        })
    }

    /// Runs `fut` on the I/O runtime and waits for it, at most `timeout` plus a margin;
    /// when `cancel` fires first, the future is dropped and the wait ends.
    pub fn run<T: Send + 'static>(
        &self,
        cancel: Option<&CancelToken>,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = mpsc::sync_channel(1);
        let task = self.rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        let deadline = Instant::now() + self.timeout + Duration::from_secs(1);
        let Some(cancel) = cancel else {
            return rx
                .recv_timeout(self.timeout + Duration::from_secs(1))
                .map_err(|_| format!("no answer within {:?}", self.timeout));
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(CANCEL_POLL)) {
                Ok(v) => return Ok(v),
                Err(mpsc::RecvTimeoutError::Timeout) if cancel.is_cancelled() => {
                    task.abort();
                    return Err(CancelToken::error().message().to_string());
                }
                Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(_) => {
                    task.abort();
                    return Err(format!("no answer within {:?}", self.timeout));
                }
            }
        }
    }

    /// POSTs the call to `endpoint`; the reply's value or why it failed.
    pub fn post_json(
        &self,
        cancel: Option<&CancelToken>,
        endpoint: &str,
        capability: &str,
        args: &[Value],
    ) -> Result<Value, String> {
        let mut body = String::from("{\"capability\":");
        body.push_str(
            &rtfs_stdlib::json::to_json_string(&Value::str(capability))
                .map_err(|e| e.message().to_string())?,
        );
        body.push_str(",\"args\":");
        body.push_str(
            &rtfs_stdlib::json::to_json_string(&Value::vector(args.iter().cloned()))
                .map_err(|e| format!("arguments cannot be sent as JSON: {}", e.message()))?,
        );
        body.push('}');
        let req = self
            .client
            .post(endpoint)
            .header("content-type", "application/json")
            .body(body);
        let timeout = self.timeout;
        let text = self.run(cancel, async move {
            let resp = req.send().await.map_err(|e| {
                if e.is_timeout() {
                    format!("timed out after {timeout:?}")
                } else {
                    format!("transport error: {e}")
                }
            })?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| {
                if e.is_timeout() {
                    format!("timed out after {timeout:?}")
                } else {
                    format!("reading the reply failed: {e}")
                }
            })?;
            if !status.is_success() {
                let excerpt: String = text.chars().take(200).collect();
                return Err(format!("HTTP {status}: {excerpt}"));
            }
            Ok(text)
        })??;
        let v = rtfs_stdlib::json::from_json_str(&text)
            .map_err(|e| format!("malformed JSON reply: {}", e.message()))?;
        Ok(
            match v.as_map().and_then(|m| m.get(&Value::keyword("result"))) {
                Some(r) => r.clone(),
                None => v,
            },
        )
    }
}
