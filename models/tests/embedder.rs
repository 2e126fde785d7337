//! The OpenAI-compatible embedder against a real axum server on 127.0.0.1:0 with fault
//! injection, through the L3 cache, and on a runtime the host hands in.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rtfs_delegation::{EmbedError, Embedder, ExecTarget, SemanticCache, SemanticCacheConfig};
use rtfs_io_runtime::IoRuntime;
use rtfs_ir::Value;
use rtfs_models::{OpenAiEmbedder, OpenAiEmbedderConfig};
use serde_json::json;

#[derive(Clone)]
enum Reply {
    Ok(Vec<f32>),
    Status(u16),
    Body(&'static str),
    Sleep(u64),
    Huge(usize),
}

/// Each request's `Authorization` header and JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;

struct Server {
    addr: SocketAddr,
    seen: Seen,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(replies: Vec<Reply>) -> Server {
        let queue = Arc::new(Mutex::new(VecDeque::from(replies)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (q, s) = (Arc::clone(&queue), Arc::clone(&seen));
        let app = Router::new().route(
            "/v1/embeddings",
            post(move |headers: HeaderMap, body: String| {
                let (q, s) = (Arc::clone(&q), Arc::clone(&s));
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|h| h.to_str().ok())
                        .map(String::from);
                    let body: serde_json::Value =
                        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
                    s.lock().unwrap().push((auth, body));
                    let reply = q.lock().unwrap().pop_front();
                    match reply {
                        Some(Reply::Ok(v)) => (
                            StatusCode::OK,
                            json!({"object": "list",
                                   "data": [{"object": "embedding", "index": 0, "embedding": v}],
                                   "model": "m"})
                            .to_string(),
                        ),
                        Some(Reply::Status(code)) => (
                            StatusCode::from_u16(code).unwrap(),
                            "{\"error\":\"boom\"}".to_string(),
                        ),
                        Some(Reply::Body(b)) => (StatusCode::OK, b.to_string()),
                        Some(Reply::Sleep(ms)) => {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            (StatusCode::OK, "{}".to_string())
                        }
                        Some(Reply::Huge(n)) => (StatusCode::OK, " ".repeat(n)),
                        None => (StatusCode::GONE, "no more replies".to_string()),
                    }
                }
            }),
        );
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server {
            addr,
            seen,
            _rt: rt,
        }
    }

    fn config(&self, dim: usize) -> OpenAiEmbedderConfig {
        let mut c = OpenAiEmbedderConfig::new(
            &format!("http://{}/v1/", self.addr),
            "text-embedding-3-small",
            dim,
        );
        c.timeout = Duration::from_millis(500);
        c
    }
}

#[test]
fn embeds_normalises_and_sends_model_input_and_key() {
    let s = Server::start(vec![Reply::Ok(vec![3.0, 4.0])]);
    let mut cfg = s.config(2);
    // SAFETY: the variable is unique to this test and read only through std::env, whose
    // accesses are serialised by std.
    let var = "RTFS_L3_TEST_EMBED_KEY_OK";
    unsafe { std::env::set_var(var, "sk-test") };
    cfg.api_key_env = Some(var.into());
    let e = OpenAiEmbedder::new(cfg).unwrap();
    assert_eq!(e.dim(), 2);
    assert!(
        !e.is_on_device(),
        "the runtime must keep sensitive text away from it"
    );
    let v = e.embed("hello").unwrap();
    assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.as_deref(), Some("Bearer sk-test"));
    assert_eq!(seen[0].1["model"], "text-embedding-3-small");
    assert_eq!(seen[0].1["input"], "hello");
}

#[test]
fn faults_are_clear_errors() {
    let s = Server::start(vec![
        Reply::Status(500),
        Reply::Status(429),
        Reply::Body("not json"),
        Reply::Body("{\"data\": []}"),
        Reply::Body("{\"data\": [{\"embedding\": [1.0, \"x\"]}]}"),
        Reply::Ok(vec![1.0, 0.0, 0.0]),
        Reply::Sleep(2000),
        Reply::Huge(17 << 20),
    ]);
    let e = OpenAiEmbedder::new(s.config(2)).unwrap();
    let errs: Vec<EmbedError> = (0..8).map(|_| e.embed("x").unwrap_err()).collect();
    assert!(
        matches!(&errs[0], EmbedError::Status { status: 500, body, .. } if body.contains("boom"))
    );
    assert!(matches!(&errs[1], EmbedError::Status { status: 429, .. }));
    assert!(
        matches!(&errs[2], EmbedError::Malformed { reason, .. } if reason.contains("not JSON"))
    );
    assert!(matches!(&errs[3], EmbedError::Malformed { reason, .. } if reason.contains("data[0]")));
    assert!(
        matches!(&errs[4], EmbedError::Malformed { reason, .. } if reason.contains("embedding[1]"))
    );
    assert!(matches!(
        &errs[5],
        EmbedError::Dimension {
            expected: 2,
            got: 3,
            ..
        }
    ));
    assert!(
        matches!(&errs[6], EmbedError::Transport { reason, .. } if reason.contains("timed out")),
        "{:?}",
        errs[6]
    );
    assert!(
        matches!(&errs[7], EmbedError::Malformed { reason, .. } if reason.contains("larger than")),
        "{:?}",
        errs[7]
    );
    for e in &errs {
        assert!(
            e.to_string().contains("openai:text-embedding-3-small"),
            "{e}"
        );
    }
}

#[test]
fn closed_port_and_missing_key() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut cfg = OpenAiEmbedderConfig::new(&format!("http://{addr}/v1"), "m", 2);
    cfg.timeout = Duration::from_millis(500);
    let e = OpenAiEmbedder::new(cfg.clone()).unwrap();
    assert!(matches!(e.embed("x"), Err(EmbedError::Transport { .. })));
    cfg.api_key_env = Some("RTFS_L3_TEST_EMBED_KEY_UNSET".into());
    assert!(matches!(
        OpenAiEmbedder::new(cfg),
        Err(EmbedError::MissingKey { var, .. }) if var == "RTFS_L3_TEST_EMBED_KEY_UNSET"
    ));
}

#[test]
fn usable_from_inside_a_tokio_runtime_through_the_cache() {
    let s = Server::start(vec![Reply::Ok(vec![1.0, 0.0]), Reply::Ok(vec![0.99, 0.1])]);
    let e = OpenAiEmbedder::new(s.config(2)).unwrap();
    let c = SemanticCache::new(Arc::new(e), SemanticCacheConfig::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = ExecTarget::RemoteModel("gpt".into());
    let hit = rt.block_on(async {
        c.insert("t", "f", &t, "a", Value::Int(7)).unwrap();
        c.lookup("t", "f", &t, "b").unwrap()
    });
    assert_eq!(hit.map(|h| h.value), Some(Value::Int(7)));
}

#[test]
fn runs_on_the_runtime_the_host_hands_in() {
    let s = Server::start(vec![Reply::Ok(vec![0.0, 2.0])]);
    let host = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let e = OpenAiEmbedder::new(s.config(2))
        .unwrap()
        .with_io_runtime(IoRuntime::from_handle(host.handle().clone()));
    assert_eq!(e.embed("x").unwrap(), vec![0.0, 1.0]);
}
