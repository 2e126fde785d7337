//! Model targets on real providers: a rules model, and an OpenAI-compatible "remote" model
//! and embeddings endpoint served by axum on 127.0.0.1:0 with fault injection; the L2 and
//! L3 caches in front of them, as the causal chain reports them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use rtfs_delegation::{Policy, SemanticCache, UserContext};
use rtfs_models::{OpenAiEmbedder, OpenAiEmbedderConfig, RulesProvider};
use rtfs_runtime::{Error, ModelRegistry, Runtime};
use serde_json::json;

#[derive(Clone, Debug)]
enum Fault {
    Status(u16),
    Sleep(u64),
}

#[derive(Default)]
struct Script {
    faults: VecDeque<Fault>,
    always: Option<Fault>,
    chats: Vec<String>,
    embeds: usize,
}

struct Server {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(faults: Vec<Fault>, always: Option<Fault>) -> Server {
        let script = Arc::new(Mutex::new(Script {
            faults: faults.into(),
            always,
            ..Script::default()
        }));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio");
        let (s1, s2) = (script.clone(), script.clone());
        let app = Router::new()
            .route(
                "/v1/chat/completions",
                post(move |body: String| {
                    let s = s1.clone();
                    async move { chat(s, body).await }
                }),
            )
            .route(
                "/v1/embeddings",
                post(move |_body: String| {
                    let s = s2.clone();
                    async move {
                        s.lock().expect("lock").embeds += 1;
                        json!({"data": [{"index": 0, "embedding": [1.0, 0.0, 0.0, 0.0]}]})
                            .to_string()
                    }
                }),
            );
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server {
            addr,
            script,
            _rt: rt,
        }
    }

    fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn chats(&self) -> usize {
        self.script.lock().expect("lock").chats.len()
    }

    fn embeds(&self) -> usize {
        self.script.lock().expect("lock").embeds
    }
}

async fn chat(s: Arc<Mutex<Script>>, body: String) -> (StatusCode, String) {
    let fault = {
        let mut s = s.lock().expect("lock");
        s.chats.push(body);
        s.faults.pop_front().or_else(|| s.always.clone())
    };
    match fault {
        Some(Fault::Status(c)) => (
            StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({"error": {"message": "injected"}}).to_string(),
        ),
        Some(Fault::Sleep(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (StatusCode::OK, completion("late"))
        }
        None => (
            StatusCode::OK,
            completion("{\"summary\": \"sales went up\"}"),
        ),
    }
}

fn completion(content: &str) -> String {
    json!({
        "id": "c1", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}]
    })
    .to_string()
}

const RULES: &str = r#"
[[rule]]
function = "*"
args = '(?i)(love|great)'
value = "positive"
text = "positive"

[[rule]]
text = "neutral"
"#;

fn remote_policy(server: &Server, timeout_ms: u64, retries: u32, extra: &str) -> Policy {
    let text = format!(
        r#"
[models.gpt]
kind = "remote"
provider = "openai"
base_url = "{}"
model = "test-model"
timeout_ms = {timeout_ms}
retries = {retries}
{extra}
"#,
        server.base()
    );
    match Policy::parse(&text) {
        Ok(p) => p,
        Err(e) => panic!("policy: {e}"),
    }
}

fn eval(rt: &mut Runtime, src: &str) -> String {
    match rt.eval_str(src) {
        Ok(v) => v.pr_str(),
        Err(e) => panic!("{src}: {}", rt.render_error(&e)),
    }
}

#[test]
fn rules_model_through_a_fixed_local_model_hint_and_l2_hit_in_the_chain() {
    let sink = Arc::new(rtfs_chain::MemorySink::new(true));
    let rules = RulesProvider::from_toml("rules-x", RULES).expect("rules");
    let mut rt = Runtime::builder()
        .model(Arc::new(rules))
        .chain(sink.clone())
        .build()
        .expect("runtime");
    let src = "(defn classify ^:delegation :local-model \"rules-x\" [s] :never)";
    eval(&mut rt, src);
    assert_eq!(eval(&mut rt, "(classify \"I love it\")"), "\"positive\"");
    assert_eq!(eval(&mut rt, "(classify \"meh\")"), "\"neutral\"");
    assert_eq!(eval(&mut rt, "(classify \"I love it\")"), "\"positive\"");
    let a = sink.actions();
    assert_eq!(a.len(), 3);
    assert_eq!(a[0].cache_level, None);
    assert_eq!(
        a[0].delegation.chosen_target,
        rtfs_chain::ExecTarget::LocalModel {
            id: "rules-x".into()
        }
    );
    assert_eq!(a[2].cache_level, Some(2));
    assert!(matches!(
        &a[2].delegation.chosen_target,
        rtfs_chain::ExecTarget::CacheHit { cache_level: 2, storage_pointer } if storage_pointer.starts_with("l2:")
    ));
}

#[test]
fn policy_configured_rules_model_and_unknown_model_error() {
    let policy = Policy::parse(
        r#"
[models.rules-x]
kind = "local"
provider = "rules"
[[models.rules-x.rule]]
function = "classify"
args = 'great'
text = "1"
value = 1
[[models.rules-x.rule]]
text = "0"
value = 0
"#,
    )
    .expect("policy");
    let mut rt = Runtime::builder().policy(policy).build().expect("runtime");
    eval(
        &mut rt,
        "(defn classify ^:delegation :local-model \"rules-x\" [s] :never)
         (defn other ^:delegation :local-model \"nope\" [s] :never)",
    );
    assert_eq!(eval(&mut rt, "(classify \"great stuff\")"), "1");
    assert_eq!(eval(&mut rt, "(classify \"bad stuff\")"), "0");
    let msg = eval(&mut rt, "(try (other 1) (catch e (str e)))");
    assert!(msg.contains("nope"), "{msg}");
}

#[test]
fn policy_provider_errors_name_the_key() {
    let cases = [
        (
            "[models.m]\nkind = \"local\"\nprovider = \"magic\"",
            "models.m.provider",
        ),
        (
            "[models.m]\nkind = \"local\"\nprovider = \"rules\"",
            "models.m.rule",
        ),
        (
            "[models.m]\nkind = \"local\"\nprovider = \"process\"",
            "models.m.command",
        ),
        (
            "[models.m]\nkind = \"remote\"\nprovider = \"openai\"\nmodel = \"x\"",
            "models.m.base_url",
        ),
        (
            "[models.m]\nkind = \"local\"\ncommand = [\"x\"]",
            "models.m.command",
        ),
        ("[cache.l2]\nmax_entries = 0", "cache.l2.max_entries"),
        ("[cache.semantic]\nthreshold = 3.0", "cache.semantic"),
        (
            "[cache.semantic]\nfunctions = [1]",
            "cache.semantic.functions[0]",
        ),
        (
            "[cache.semantic]\nenabled = \"yes\"",
            "cache.semantic.enabled",
        ),
    ];
    for (text, key) in cases {
        match Policy::parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => assert!(e.to_string().contains(key), "{text}: {e}"),
        }
    }
}

#[test]
fn remote_model_recovers_from_a_500_and_second_call_is_an_l2_hit() {
    let server = Server::start(vec![Fault::Status(500)], None);
    let sink = Arc::new(rtfs_chain::MemorySink::new(true));
    let mut rt = Runtime::builder()
        .policy(remote_policy(&server, 2000, 2, ""))
        .chain(sink.clone())
        .build()
        .expect("runtime");
    eval(
        &mut rt,
        "(defn summarize ^:delegation :remote \"gpt\" [s] :never)",
    );
    let first = eval(&mut rt, "(summarize \"the sales report\")");
    assert!(first.contains("sales went up"), "{first}");
    assert_eq!(server.chats(), 2, "one 500, then one 200");
    let second = eval(&mut rt, "(summarize \"the sales report\")");
    assert_eq!(first, second);
    assert_eq!(server.chats(), 2, "the second call is served by L2");
    let a = sink.actions();
    assert_eq!(
        a[0].delegation.chosen_target,
        rtfs_chain::ExecTarget::RemoteModel { id: "gpt".into() }
    );
    assert_eq!(a[1].cache_level, Some(2));
}

#[test]
fn remote_model_timeout_is_a_catchable_error_naming_the_model() {
    let server = Server::start(vec![], Some(Fault::Sleep(2000)));
    let mut rt = Runtime::builder()
        .policy(remote_policy(&server, 150, 0, ""))
        .build()
        .expect("runtime");
    eval(
        &mut rt,
        "(defn summarize ^:delegation :remote \"gpt\" [s] :never)",
    );
    let msg = eval(&mut rt, "(try (summarize \"x\") (catch e (str e)))");
    assert!(msg.contains("gpt") && msg.contains("summarize"), "{msg}");
    match rt.eval_str("(summarize \"y\")") {
        Err(Error::Runtime(e)) => assert!(e.message().contains("did not answer"), "{e}"),
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn semantic_cache_serves_a_paraphrase_within_a_tenant_only() {
    let server = Server::start(vec![], None);
    let policy = remote_policy(
        &server,
        2000,
        0,
        "[cache.semantic]\nthreshold = 0.7\nfunctions = [\"summarize\"]",
    );
    let shared = Arc::new(ModelRegistry::from_policy(&policy).expect("registry"));
    let tenant = |t: &str| UserContext {
        tenant: Some(t.into()),
        ..UserContext::default()
    };
    let sink = Arc::new(rtfs_chain::MemorySink::new(true));
    let mut acme = Runtime::builder()
        .policy(policy.clone())
        .user(tenant("acme"))
        .chain(sink.clone())
        .build()
        .expect("runtime");
    acme.set_model_registry(Some(shared.clone()));
    let mut beta = Runtime::builder()
        .policy(policy)
        .user(tenant("beta"))
        .build()
        .expect("runtime");
    beta.set_model_registry(Some(shared.clone()));
    let def = "(defn summarize ^:delegation :remote \"gpt\" [s] :never)";
    eval(&mut acme, def);
    eval(&mut beta, def);
    eval(
        &mut acme,
        "(summarize \"please summarize the quarterly sales report for the board\")",
    );
    assert_eq!(server.chats(), 1);
    let para = "(summarize \"please summarise the quarterly sales reports for the board\")";
    let v = eval(&mut acme, para);
    assert!(v.contains("sales went up"), "{v}");
    assert_eq!(server.chats(), 1, "the paraphrase is an L3 hit");
    let a = sink.actions();
    assert_eq!(a[1].cache_level, Some(3));
    assert!(matches!(
        &a[1].delegation.chosen_target,
        rtfs_chain::ExecTarget::CacheHit { cache_level: 3, storage_pointer } if storage_pointer.starts_with("l3:acme:")
    ));
    eval(&mut beta, para);
    assert_eq!(
        server.chats(),
        2,
        "another tenant never sees acme's entries"
    );
    let m = shared.semantic_metrics().expect("metrics");
    assert_eq!((m.hits, m.misses), (1, 2));
}

#[test]
fn sensitive_calls_never_reach_a_remote_embedder_or_model() {
    let server = Server::start(vec![], None);
    let mut reg = ModelRegistry::default();
    reg.register(Arc::new(
        RulesProvider::from_toml("rules-x", RULES).expect("rules"),
    ));
    let mut cfg = rtfs_models::OpenAiConfig::new(server.base(), "test-model");
    cfg.max_retries = 0;
    reg.register(Arc::new(
        rtfs_models::OpenAiProvider::new("gpt", cfg).expect("openai"),
    ));
    let embedder =
        OpenAiEmbedder::new(OpenAiEmbedderConfig::new(&server.base(), "emb", 4)).expect("emb");
    let l3 = SemanticCache::new(
        Arc::new(embedder),
        rtfs_delegation::SemanticCacheConfig::default(),
    )
    .expect("l3");
    reg.set_semantic_cache(l3, None);
    let mut rt = Runtime::new();
    rt.set_model_registry(Some(Arc::new(reg)));
    eval(
        &mut rt,
        "(defn secret ^{:delegation [:local-model \"rules-x\"] :privacy :sensitive :cache :semantic} [s] :never)
         (defn open ^{:delegation [:local-model \"rules-x\"] :cache :semantic} [s] :never)",
    );
    let hinted = "(defn leak ^{:delegation [:remote \"gpt\"] :privacy :sensitive} [s] :never)";
    assert!(matches!(rt.eval_str(hinted), Err(Error::Compile(_))));
    assert_eq!(
        eval(&mut rt, "(secret \"I love my diagnosis\")"),
        "\"positive\""
    );
    assert_eq!(
        server.embeds(),
        0,
        "sensitive text never goes to the remote embedder"
    );
    assert_eq!(eval(&mut rt, "(open \"I love it\")"), "\"positive\"");
    assert!(
        server.embeds() > 0,
        "non-sensitive opted-in calls do use it"
    );
    // Routed by policy to the remote model: the privacy filter refuses that target at run
    // time and the call stays on the device.
    let policy = remote_policy(
        &server,
        2000,
        0,
        "[privacy]\nsensitive = [\"leak\"]\n[[route]]\nmatch = \"leak\"\ntarget = \"remote\"\nmodel = \"gpt\"",
    );
    let mut rt = Runtime::builder().policy(policy).build().expect("runtime");
    let msg = eval(
        &mut rt,
        "(defn leak [s] :never) (try (leak \"my diagnosis\") (catch e (str e)))",
    );
    assert_eq!(msg, ":never", "ran locally");
    assert_eq!(
        server.chats(),
        0,
        "the sensitive call never reached the remote model"
    );
}

#[test]
fn engine_routed_model_call_answered_by_l2_does_not_spend_the_budget() {
    let policy = Policy::parse(
        r#"
[budget]
per_run = 1.5
[models.rules-x]
kind = "local"
provider = "rules"
cost_per_call = 0.6
[[models.rules-x.rule]]
text = "ok"
value = "ok"
[[route]]
match = "classify"
target = "local-model"
model = "rules-x"
"#,
    )
    .expect("policy");
    let sink = Arc::new(rtfs_chain::MemorySink::new(true));
    let mut rt = Runtime::builder()
        .policy(policy)
        .chain(sink.clone())
        .build()
        .expect("runtime");
    eval(&mut rt, "(defn classify [s] :never)");
    // 0.6 spent, then an L2 hit (reserved, refunded), then 0.6 more: 1.2 ≤ 1.5. Without
    // the refund the third call would find 0.3 left.
    assert_eq!(eval(&mut rt, "(classify \"a\")"), "\"ok\"");
    assert_eq!(eval(&mut rt, "(classify \"a\")"), "\"ok\"");
    assert_eq!(eval(&mut rt, "(classify \"b\")"), "\"ok\"");
    let a = sink.actions();
    assert_eq!(a.len(), 3);
    assert_ne!(a[0].delegation.decision_engine, "hint");
    assert_eq!(
        a.iter().map(|x| x.cache_level).collect::<Vec<_>>(),
        vec![None, Some(2), None]
    );
    // The fourth would exceed the run budget: the engine falls back to running it here.
    assert_eq!(eval(&mut rt, "(classify \"c\")"), ":never");
    assert_eq!(
        sink.actions()[3].delegation.chosen_target,
        rtfs_chain::ExecTarget::LocalPure
    );
}
