//! [`ProcessProvider`]: a model running as a local child process that speaks JSON lines.
//! One request per line on its stdin, one reply per line on its stdout:
//!
//! ```text
//! → {"id":1,"function":"sentiment/classify","args":["I love it"],"prompt":…,"params":{…}}
//! ← {"id":1,"text":"positive","value":"positive","usage":{"prompt_tokens":3}}
//! ← {"id":1,"error":"model not loaded"}              (a failure of that request)
//! ```
//!
//! The process is started on the first request. A reply that is late past the timeout,
//! malformed, or for another id leaves the stream out of step, so the process is killed;
//! a process that exits is noticed when its stdout closes. Either way the next request
//! starts a fresh one — the crash costs one request, not the provider.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use crate::provider::{ModelError, ModelProvider, ModelRequest, ModelResponse, Usage, clip};

/// Longest reply line read from a model process.
const MAX_REPLY: usize = 16 << 20;
/// How much of the process's stderr is kept for error messages.
const STDERR_TAIL: usize = 2048;

#[derive(Clone, Debug)]
pub struct ProcessConfig {
    pub program: String,
    pub args: Vec<String>,
    /// Time allowed per request (including starting the process if needed).
    pub timeout: Duration,
}

impl ProcessConfig {
    pub fn new(program: impl Into<String>) -> ProcessConfig {
        ProcessConfig {
            program: program.into(),
            args: Vec::new(),
            timeout: Duration::from_secs(30),
        }
    }
}

pub struct ProcessProvider {
    id: String,
    config: ProcessConfig,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: Option<Running>,
    next_id: u64,
    starts: u64,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<Result<String, String>>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    stderr_reader: std::thread::JoinHandle<()>,
}

impl Running {
    fn stderr_tail(&self) -> String {
        let buf = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let bytes: Vec<u8> = buf.iter().copied().collect();
        String::from_utf8_lossy(&bytes).trim().to_string()
    }

    /// Kills and reaps the process; says how it ended for the error message.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let status = self
            .child
            .wait()
            .map(|s| s.to_string())
            .unwrap_or_else(|e| format!("unknown status ({e})"));
        // Give the stderr reader a moment to drain what the process wrote before dying;
        // not forever, since a grandchild may still hold the pipe open.
        for _ in 0..20 {
            if self.stderr_reader.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let tail = self.stderr_tail();
        if tail.is_empty() {
            status
        } else {
            format!("{status}; stderr: {}", clip(&tail, 400))
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<String>,
}

impl ProcessProvider {
    pub fn new(id: impl Into<String>, config: ProcessConfig) -> ProcessProvider {
        ProcessProvider {
            id: id.into(),
            config,
            state: Mutex::new(State::default()),
        }
    }

    /// How many times the process has been started (1 + restarts).
    pub fn starts(&self) -> u64 {
        self.lock().starts
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self, message: String) -> ModelError {
        ModelError::Process {
            provider: self.id.clone(),
            message,
        }
    }

    fn spawn(&self) -> Result<Running, ModelError> {
        let mut child = Command::new(&self.config.program)
            .args(&self.config.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.err(format!("cannot start `{}`: {e}", self.config.program)))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(self.err("the process has no pipes".into()));
        };
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match (&mut r)
                    .take(MAX_REPLY as u64 + 1)
                    .read_until(b'\n', &mut buf)
                {
                    Ok(0) => break,
                    Ok(_) if buf.last() != Some(&b'\n') && buf.len() > MAX_REPLY => {
                        let _ = tx.send(Err(format!("a reply line over {MAX_REPLY} bytes")));
                        break;
                    }
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                        if tx.send(Ok(line)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        break;
                    }
                }
            }
        });
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
        let sink = Arc::clone(&tail);
        let stderr_reader = std::thread::spawn(move || {
            let mut stderr = stderr;
            let mut chunk = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut t = sink.lock().unwrap_or_else(|e| e.into_inner());
                t.extend(&chunk[..n]);
                let excess = t.len().saturating_sub(STDERR_TAIL);
                t.drain(..excess);
            }
        });
        Ok(Running {
            child,
            stdin,
            replies,
            stderr: tail,
            stderr_reader,
        })
    }
}

impl ModelProvider for ProcessProvider {
    fn id(&self) -> &str {
        &self.id
    }

    fn infer(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let start = Instant::now();
        let mut st = self.lock();
        let mut running = match st.running.take() {
            Some(r) => r,
            None => {
                let r = self.spawn()?;
                st.starts += 1;
                r
            }
        };
        st.next_id += 1;
        let id = st.next_id;
        let mut line = json!({
            "id": id,
            "function": req.function,
            "args": req.args,
            "prompt": req.prompt,
            "params": req.params,
        })
        .to_string();
        line.push('\n');
        if let Err(e) = running
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| running.stdin.flush())
        {
            let how = running.stop();
            return Err(self.err(format!("writing the request failed ({e}); process {how}")));
        }
        let reply = match running.replies.recv_timeout(self.config.timeout) {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                let how = running.stop();
                return Err(self.err(format!("reading the reply failed ({e}); process {how}")));
            }
            Err(RecvTimeoutError::Timeout) => {
                running.stop();
                return Err(ModelError::Timeout {
                    provider: self.id.clone(),
                    after: self.config.timeout,
                });
            }
            Err(RecvTimeoutError::Disconnected) => {
                let how = running.stop();
                return Err(self.err(format!("exited before answering: {how}")));
            }
        };
        let malformed = |message: String| ModelError::Malformed {
            provider: self.id.clone(),
            message,
        };
        let parsed: Reply = match serde_json::from_str(&reply) {
            Ok(r) => r,
            Err(e) => {
                running.stop();
                return Err(malformed(format!("{e} in {}", clip(&reply, 200))));
            }
        };
        if parsed.id.is_some_and(|got| got != id) {
            running.stop();
            return Err(malformed(format!(
                "reply for request {:?}, expected {id}",
                parsed.id
            )));
        }
        // The exchange completed in step: keep the process for the next request.
        st.running = Some(running);
        if let Some(message) = parsed.error {
            return Err(ModelError::Provider {
                provider: self.id.clone(),
                message: clip(&message, 400),
            });
        }
        let text = match (parsed.text, &parsed.value) {
            (Some(t), _) => t,
            (None, Some(v)) => v.to_string(),
            (None, None) => return Err(malformed("a reply with neither text nor value".into())),
        };
        Ok(ModelResponse {
            text,
            value: parsed.value,
            usage: parsed.usage.unwrap_or_default(),
            latency: start.elapsed(),
            attempts: 1,
        })
    }
}

impl Drop for ProcessProvider {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = st.running.take() {
            r.stop();
        }
    }
}
