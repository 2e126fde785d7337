//! Model providers and caches configured from a policy, through the runtime: the L2 cache
//! keyed per tenant, the remote L3 embedder from `[cache.semantic.embedder]` (a loopback
//! axum server on 127.0.0.1:0 serving `/v1/embeddings`), and a `process` model (a python3
//! one-liner speaking JSON lines) answering a `^:delegation :local-model` function.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtfs_delegation::{Policy, UserContext};
use rtfs_models::{ModelError, ModelProvider, ModelRequest, ModelResponse, Usage};
use rtfs_runtime::{ModelRegistry, Runtime};
use serde_json::json;

fn eval(rt: &mut Runtime, src: &str) -> String {
    match rt.eval_str(src) {
        Ok(v) => v.pr_str(),
        Err(e) => panic!("{src}: {}", rt.render_error(&e)),
    }
}

/// Answers with the number of requests it has served: a cached answer shows as a repeat.
struct Counter {
    served: AtomicUsize,
}

impl ModelProvider for Counter {
    fn id(&self) -> &str {
        "counter"
    }
    fn infer(&self, _req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let n = self.served.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(ModelResponse {
            text: n.to_string(),
            value: Some(json!(n)),
            usage: Usage::default(),
            latency: Duration::ZERO,
            attempts: 1,
        })
    }
}

fn tenant_runtime(policy: &Policy, registry: &Arc<ModelRegistry>, tenant: &str) -> Runtime {
    let mut rt = Runtime::builder()
        .policy(policy.clone())
        .user(UserContext {
            tenant: Some(tenant.to_string()),
            ..UserContext::default()
        })
        .build()
        .expect("runtime");
    rt.set_model_registry(Some(registry.clone()));
    eval(
        &mut rt,
        "(defn ask ^:delegation :local-model \"counter\" [q] :never)",
    );
    rt
}

#[test]
fn l2_answers_are_never_shared_between_tenants() {
    let policy = Policy::parse("[models.counter]\nkind = \"local\"").expect("policy");
    let mut reg = ModelRegistry::default();
    let counter = Arc::new(Counter {
        served: AtomicUsize::new(0),
    });
    reg.register(counter.clone());
    // One registry (one L2) shared by both tenants' runtimes.
    let reg = Arc::new(reg);
    let mut a = tenant_runtime(&policy, &reg, "acme");
    let mut b = tenant_runtime(&policy, &reg, "globex");
    assert_eq!(eval(&mut a, "(ask \"q1\")"), "1");
    assert_eq!(eval(&mut a, "(ask \"q1\")"), "1", "tenant A: L2 hit");
    assert_eq!(
        eval(&mut b, "(ask \"q1\")"),
        "2",
        "tenant B: its own answer"
    );
    assert_eq!(eval(&mut b, "(ask \"q1\")"), "2", "tenant B: L2 hit");
    assert_eq!(eval(&mut a, "(ask \"q1\")"), "1");
    assert_eq!(counter.served.load(Ordering::SeqCst), 2);
}

/// `/v1/embeddings` on 127.0.0.1:0: a fixed unit vector per input, counting requests and
/// keeping their `model` field and `Authorization` header.
struct Embeddings {
    base: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
    _rt: tokio::runtime::Runtime,
}

fn serve_embeddings() -> Embeddings {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let r = requests.clone();
    let app = axum::Router::new().route(
        "/v1/embeddings",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let r = r.clone();
            async move {
                let req: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                r.lock()
                    .expect("lock")
                    .push((req["model"].as_str().unwrap_or("").to_string(), auth));
                json!({"data": [{"index": 0, "embedding": [0.6, 0.8, 0.0]}]}).to_string()
            }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Embeddings {
        base: format!("http://{addr}/v1"),
        requests,
        _rt: rt,
    }
}

#[test]
fn the_remote_embedder_is_configured_from_the_policy() {
    let server = serve_embeddings();
    let var = "RTFS_TEST_EMBED_KEY_7f3a";
    // SAFETY: set_var races with concurrent reads of the environment; no other test in
    // this binary reads this name, and the embedder reads it only after this returns.
    unsafe { std::env::set_var(var, "sk-test") };
    let policy = Policy::parse(&format!(
        r#"
[models.counter]
kind = "local"
[cache.semantic]
threshold = 0.99
functions = ["ask"]
[cache.semantic.embedder]
kind = "openai"
base_url = "{}"
model = "emb-small"
dim = 3
api_key_env = "{var}"
timeout_ms = 2000
"#,
        server.base
    ))
    .expect("policy");
    let mut reg = ModelRegistry::from_policy(&policy).expect("registry");
    let counter = Arc::new(Counter {
        served: AtomicUsize::new(0),
    });
    reg.register(counter.clone());
    let mut rt = Runtime::builder().policy(policy).build().expect("runtime");
    rt.set_model_registry(Some(Arc::new(reg)));
    eval(
        &mut rt,
        "(defn ask ^:delegation :local-model \"counter\" [q] :never)",
    );
    assert_eq!(eval(&mut rt, "(ask \"how big is the moon\")"), "1");
    // Another text, the same vector from this server: an L3 hit, not a second model call.
    assert_eq!(eval(&mut rt, "(ask \"what size is the moon\")"), "1");
    assert_eq!(counter.served.load(Ordering::SeqCst), 1);
    let reqs = server.requests.lock().expect("lock").clone();
    assert_eq!(reqs.len(), 2, "one embedding per lookup");
    assert!(
        reqs.iter()
            .all(|(m, auth)| m == "emb-small" && auth == "Bearer sk-test"),
        "{reqs:?}"
    );
    // A sensitive call is never embedded off the device.
    assert_eq!(eval(&mut rt, "(ask ^:sensitive \"my diagnosis\")"), "2");
    assert_eq!(server.requests.lock().expect("lock").len(), 2);
}

#[test]
fn embedder_policy_errors_name_the_key() {
    for (table, needle) in [
        ("kind = \"bert\"", "`cache.semantic.embedder.kind`"),
        (
            "kind = \"openai\"\nmodel = \"m\"\ndim = 3",
            "`cache.semantic.embedder.base_url`: required",
        ),
        (
            "kind = \"openai\"\nbase_url = \"ftp://x\"\nmodel = \"m\"\ndim = 3",
            "`cache.semantic.embedder.base_url`: expected an http",
        ),
        (
            "kind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"",
            "`cache.semantic.embedder.dim`: required",
        ),
        (
            "kind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\ndim = 0",
            "`cache.semantic.embedder.dim`: expected a positive integer",
        ),
        (
            "kind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\ndim = 3\ntimeout_ms = -1",
            "`cache.semantic.embedder.timeout_ms`",
        ),
        (
            "kind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\ndim = 3\nurl = \"x\"",
            "`cache.semantic.embedder.url`: unknown key",
        ),
        ("kind = \"hashed\"\nmodel = \"m\"", "unknown key"),
    ] {
        let text = format!("[cache.semantic]\n[cache.semantic.embedder]\n{table}\n");
        let e = Policy::parse(&text).expect_err(table).to_string();
        assert!(e.contains(needle), "{table}: {e}");
    }
    // A named key variable that is not set fails when the registry is built, naming it.
    let policy = Policy::parse(
        "[cache.semantic.embedder]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\ndim = 3\napi_key_env = \"RTFS_TEST_UNSET_KEY_91c2\"",
    )
    .expect("policy");
    let e = ModelRegistry::from_policy(&policy)
        .err()
        .expect("missing key is an error");
    assert!(e.contains("RTFS_TEST_UNSET_KEY_91c2"), "{e}");
}

/// A model process: one JSON request per line in, one reply per line out, echoing the
/// function and upper-casing the first argument.
const PROCESS_MODEL: &str = r#"
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    text = str(req["args"][0]).upper()
    print(json.dumps({"id": req["id"], "text": text,
                      "value": {"fn": req["function"], "up": text}}), flush=True)
"#;

#[test]
fn a_process_model_answers_a_local_model_function_through_the_runtime() {
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| {
            std::process::Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("python3 is on the machine");
    let policy = Policy::parse(&format!(
        "[models.shout]\nkind = \"local\"\nprovider = \"process\"\ncommand = [{}, \"-c\", {}]\ntimeout_ms = 10000\n",
        json!(python),
        json!(PROCESS_MODEL)
    ))
    .expect("policy");
    let sink = Arc::new(rtfs_chain::MemorySink::new(true));
    let mut rt = Runtime::builder()
        .policy(policy)
        .chain(sink.clone())
        .build()
        .expect("runtime");
    eval(
        &mut rt,
        "(defn shout ^:delegation :local-model \"shout\" [s] :never-run-here)",
    );
    assert_eq!(
        eval(&mut rt, "(shout \"hello\")"),
        "{:fn \"shout\", :up \"HELLO\"}"
    );
    // The process stays up between calls; a repeat is an L2 hit.
    assert_eq!(eval(&mut rt, "(:up (shout \"again\"))"), "\"AGAIN\"");
    assert_eq!(eval(&mut rt, "(:up (shout \"hello\"))"), "\"HELLO\"");
    let actions = sink.actions();
    assert_eq!(actions.len(), 3);
    assert_eq!(
        actions[0].delegation.chosen_target,
        rtfs_chain::ExecTarget::LocalModel { id: "shout".into() }
    );
    assert_eq!(actions[2].cache_level, Some(2));
}
