//! The OpenAI-compatible client against a real axum server on 127.0.0.1:0 with fault
//! injection: 5xx, 429, 401, slow replies, malformed JSON, a closed port.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rtfs_models::{ModelError, ModelProvider, ModelRequest, OpenAiConfig, OpenAiProvider};
use serde_json::{Value, json};

/// What the server does with one request.
#[derive(Clone, Debug)]
enum Fault {
    Status(u16, &'static str),
    Sleep(u64),
    Malformed,
}

#[derive(Default)]
struct Script {
    faults: VecDeque<Fault>,
    /// Fault repeated forever once `faults` is empty (None: answer normally).
    always: Option<Fault>,
    seen: Vec<(Option<String>, Value)>,
}

struct Server {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start(faults: Vec<Fault>, always: Option<Fault>) -> Server {
        let script = Arc::new(Mutex::new(Script {
            faults: faults.into(),
            always,
            seen: Vec::new(),
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::clone(&script);
        let app = Router::new().route(
            "/v1/chat/completions",
            post(move |headers: HeaderMap, body: String| {
                let state = Arc::clone(&state);
                async move { handle(state, headers, body).await }
            }),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server {
            addr,
            script,
            _runtime: runtime,
        }
    }

    fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn requests(&self) -> usize {
        self.script.lock().unwrap().seen.len()
    }

    fn seen(&self) -> Vec<(Option<String>, Value)> {
        self.script.lock().unwrap().seen.clone()
    }
}

async fn handle(
    state: Arc<Mutex<Script>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let fault = {
        let mut s = state.lock().unwrap();
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        s.seen
            .push((auth, serde_json::from_str(&body).unwrap_or(Value::Null)));
        s.faults.pop_front().or_else(|| s.always.clone())
    };
    match fault {
        Some(Fault::Status(code, msg)) => (
            StatusCode::from_u16(code).unwrap(),
            json!({"error": {"message": msg}}).to_string(),
        ),
        Some(Fault::Sleep(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (StatusCode::OK, completion("late"))
        }
        Some(Fault::Malformed) => (StatusCode::OK, "{\"choices\": [".to_string()),
        None => {
            let req: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let prompt = req["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["content"].as_str())
                .unwrap_or("")
                .to_string();
            let answer = if prompt.contains("json please") {
                "{\"label\": \"positive\"}".to_string()
            } else {
                format!("echo: {prompt}")
            };
            (StatusCode::OK, completion(&answer))
        }
    }
}

fn completion(content: &str) -> String {
    json!({
        "id": "cmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    })
    .to_string()
}

fn config(server: &Server) -> OpenAiConfig {
    let mut c = OpenAiConfig::new(server.base(), "test-model");
    c.timeout = Duration::from_millis(500);
    c.max_retries = 3;
    c.backoff_base = Duration::from_millis(5);
    c.backoff_max = Duration::from_millis(20);
    c
}

fn request() -> ModelRequest {
    ModelRequest::new("sentiment/classify", vec![json!("I love it")])
}

#[test]
fn a_normal_call_sends_model_messages_params_and_key() {
    let server = Server::start(vec![], None);
    let mut c = config(&server);
    c.system_prompt = Some("be brief".into());
    let p = OpenAiProvider::with_api_key("gpt", c, "sk-test".into()).unwrap();
    let r = p
        .infer(&request().with_param("temperature", json!(0.2)))
        .unwrap();
    assert!(
        r.text
            .starts_with("echo: Call the function `sentiment/classify`"),
        "{}",
        r.text
    );
    assert_eq!(r.attempts, 1);
    assert_eq!(r.usage.prompt_tokens, Some(7));
    assert_eq!(r.usage.completion_tokens, Some(3));
    assert_eq!(r.value, None);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let (auth, body) = &seen[0];
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["role"], "user");

    let r = p.infer(&request().with_prompt("json please")).unwrap();
    assert_eq!(r.value, Some(json!({"label": "positive"})));
}

#[test]
fn server_errors_are_retried_with_back_off_until_success() {
    let server = Server::start(
        vec![
            Fault::Status(500, "boom"),
            Fault::Status(503, "busy"),
            Fault::Status(429, "slow down"),
        ],
        None,
    );
    let p = OpenAiProvider::new("gpt", config(&server)).unwrap();
    let r = p.infer(&request()).unwrap();
    assert_eq!(r.attempts, 4);
    assert_eq!(server.requests(), 4);
    assert_eq!(server.seen()[0].0, None, "no key configured, none sent");
}

#[test]
fn persistent_server_errors_exhaust_the_retries() {
    let server = Server::start(vec![], Some(Fault::Status(502, "bad gateway")));
    let mut c = config(&server);
    c.max_retries = 2;
    let p = OpenAiProvider::new("gpt", c).unwrap();
    let e = p.infer(&request()).unwrap_err();
    match &e {
        ModelError::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert!(
                matches!(**last, ModelError::Http { status: 502, .. }),
                "{e}"
            );
            assert!(e.to_string().contains("bad gateway"), "{e}");
        }
        other => panic!("wrong error: {other}"),
    }
    assert_eq!(server.requests(), 3);
}

#[test]
fn a_client_error_is_not_retried() {
    let server = Server::start(vec![Fault::Status(401, "invalid api key")], None);
    let p = OpenAiProvider::new("gpt", config(&server)).unwrap();
    let e = p.infer(&request()).unwrap_err();
    assert_eq!(
        e,
        ModelError::Http {
            provider: "gpt".into(),
            status: 401,
            body: "invalid api key".into()
        }
    );
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_slow_reply_times_out_and_is_retried() {
    let server = Server::start(vec![Fault::Sleep(2_000)], None);
    let mut c = config(&server);
    c.timeout = Duration::from_millis(200);
    let p = OpenAiProvider::new("gpt", c).unwrap();
    let r = p.infer(&request()).unwrap();
    assert_eq!(r.attempts, 2);
    assert!(r.text.starts_with("echo:"));
}

#[test]
fn malformed_json_is_retried_and_then_reported() {
    let server = Server::start(vec![Fault::Malformed], None);
    let p = OpenAiProvider::new("gpt", config(&server)).unwrap();
    assert_eq!(p.infer(&request()).unwrap().attempts, 2);

    let server = Server::start(vec![], Some(Fault::Malformed));
    let mut c = config(&server);
    c.max_retries = 1;
    let p = OpenAiProvider::new("gpt", c).unwrap();
    let e = p.infer(&request()).unwrap_err();
    assert!(
        matches!(&e, ModelError::RetriesExhausted { attempts: 2, last, .. }
            if matches!(**last, ModelError::Malformed { .. })),
        "{e}"
    );
}

#[test]
fn a_closed_port_is_a_transport_error() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut c = OpenAiConfig::new(format!("http://{addr}/v1"), "m");
    c.max_retries = 1;
    c.backoff_base = Duration::from_millis(5);
    let p = OpenAiProvider::new("gpt", c).unwrap();
    let e = p.infer(&request()).unwrap_err();
    assert!(
        matches!(&e, ModelError::RetriesExhausted { last, .. }
            if matches!(**last, ModelError::Transport { .. })),
        "{e}"
    );
}

#[test]
fn configuration_errors_are_reported_up_front() {
    let mut c = OpenAiConfig::new("http://127.0.0.1:1/v1", "m");
    c.api_key_env = Some("RTFS_MODELS_TEST_KEY_THAT_IS_NEVER_SET".into());
    let e = OpenAiProvider::new("gpt", c).err().unwrap();
    assert!(
        e.to_string()
            .contains("RTFS_MODELS_TEST_KEY_THAT_IS_NEVER_SET"),
        "{e}"
    );
    let e = OpenAiProvider::new("gpt", OpenAiConfig::new("not a url", "m"))
        .err()
        .unwrap();
    assert!(matches!(e, ModelError::Config(_)), "{e}");
}

#[test]
fn it_can_be_called_from_inside_an_async_runtime() {
    let server = Server::start(vec![], None);
    let p = OpenAiProvider::new("gpt", config(&server)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let text = rt
        .block_on(async move {
            let text = p.infer(&request()).map(|r| r.text);
            // Dropping the provider inside the runtime must not panic either.
            drop(p);
            text
        })
        .unwrap();
    assert!(text.starts_with("echo:"));
}
