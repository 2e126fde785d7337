//! Sensitive arguments end to end: parameter, call-site and derived (let-bound) marks keep
//! a value off every remote target — a capability provider over real loopback HTTP (axum on
//! 127.0.0.1:0) and an OpenAI-compatible remote model — under every engine and on every
//! fallback hop, while the same calls without sensitive data still go remote.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use rtfs_delegation::Policy;
use rtfs_ir::Value;
use rtfs_mesh::{GlobalFunctionMesh, MemoryRegistry, ProviderRef};
use rtfs_runtime::Runtime;
use serde_json::json;

/// The value no remote server may ever see.
const SECRET: &str = "SSN-078-05-1120";

/// A loopback server that keeps every request body: `POST /` answers as a mesh provider
/// (`{"result": "remote"}`), `POST /v1/chat/completions` as an OpenAI-compatible model.
struct Server {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (b1, b2) = (bodies.clone(), bodies.clone());
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::post(move |body: String| {
                    let b = b1.clone();
                    async move {
                        b.lock().expect("lock").push(body);
                        (StatusCode::OK, json!({"result": "remote"}).to_string())
                    }
                }),
            )
            .route(
                "/v1/chat/completions",
                axum::routing::post(move |body: String| {
                    let b = b2.clone();
                    async move {
                        b.lock().expect("lock").push(body);
                        let reply = json!({
                            "id": "c1", "object": "chat.completion",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant",
                                                     "content": "remote-model"}}]
                        });
                        (StatusCode::OK, reply.to_string())
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
        Server {
            url: format!("http://{addr}"),
            bodies,
            _rt: rt,
        }
    }

    fn requests(&self) -> usize {
        self.bodies.lock().expect("lock").len()
    }

    /// Requests whose body contains `needle`.
    fn carrying(&self, needle: &str) -> usize {
        self.bodies
            .lock()
            .expect("lock")
            .iter()
            .filter(|b| b.contains(needle))
            .count()
    }
}

fn eval(rt: &mut Runtime, src: &str) -> String {
    match rt.eval_str(src) {
        Ok(v) => v.pr_str(),
        Err(e) => panic!("{src}: {}", rt.render_error(&e)),
    }
}

const CAPABILITY_PROGRAM: &str = r#"
(defn by-param [^{:privacy :sensitive} doc style] (call :acme/summarize doc style))
(defn by-shorthand [^:sensitive doc] (call :acme/summarize doc))
(defn at-site [text] (call :acme/summarize ^{:privacy :sensitive} text "short"))
(defn derived [^:sensitive doc]
  (let [head (str "head:" doc)
        [w1 w2] (split head " ")]
    (call :acme/summarize (str w1 " " w2))))
(defn destructured [^:sensitive {:keys [ssn]}] (call :acme/summarize ssn))
(defn multi ([x] (call :acme/summarize x)) ([^:sensitive x y] (call :acme/summarize x y)))
(defn plain [text] (call :acme/summarize text "short"))
(defn relay [x] (call :acme/summarize x))
(defn via-function [^:sensitive doc] (relay doc))
(defn via-builtin [^:sensitive doc] (first (map relay [doc])))
"#;

#[test]
fn sensitive_arguments_never_reach_a_remote_capability_provider_on_any_fallback_path() {
    let remote = Server::start();
    let registry = GlobalFunctionMesh::builder(Arc::new(MemoryRegistry::new())).build();
    // The remote provider is cheaper and faster: every engine but privacy-first ranks it
    // first, and privacy-first falls back to it when the on-device provider fails.
    let mut p_remote = ProviderRef::new("p-remote", format!("{}/", remote.url));
    p_remote.avg_response_time_ms = 1.0;
    let mut p_onbox = ProviderRef::new("p-onbox", "local:onbox");
    p_onbox.cost_per_call = 0.01;
    p_onbox.avg_response_time_ms = 500.0;
    registry.register_local("acme/summarize", vec![p_remote, p_onbox]);
    let mesh = Arc::new(registry);
    let failing = format!("{SECRET} fail");
    let calls = [
        format!("(by-param \"{failing}\" \"short\")"),
        format!("(by-shorthand \"{failing}\")"),
        format!("(at-site \"{failing}\")"),
        format!("(derived \"{failing}\")"),
        format!("(destructured {{:ssn \"{failing}\"}})"),
        format!("(multi \"{failing}\" 2)"),
        // Through another function and through a built-in calling back: the runtime's
        // sensitive scope covers what the compiler's intraprocedural taint cannot see.
        format!("(via-function \"{failing}\")"),
        format!("(via-builtin \"{failing}\")"),
    ];
    for engines in [
        r#"["privacy-first"]"#,
        r#"["static", "privacy-first", "cost-optimized"]"#,
        r#"["cost-optimized"]"#,
        r#"["performance"]"#,
    ] {
        let policy = Policy::parse(&format!("engines = {engines}")).expect("policy");
        let mut rt = Runtime::builder()
            .mesh(mesh.clone())
            .policy(policy)
            .build()
            .expect("runtime");
        // On-device provider: answers, except for inputs containing "fail".
        rt.register_capability("onbox", |_, args| {
            if args
                .iter()
                .any(|a| a.as_str().is_some_and(|s| s.contains("fail")))
            {
                return Err(rtfs_ir::RtError::new(
                    "capability-error",
                    "on-box model down",
                ));
            }
            Ok(Value::str("onbox"))
        });
        eval(&mut rt, CAPABILITY_PROGRAM);
        assert_eq!(
            eval(&mut rt, &format!("(by-param \"{SECRET}\" \"short\")")),
            "\"onbox\"",
            "{engines}"
        );
        for call in &calls {
            let msg = eval(&mut rt, &format!("(try {call} (catch e (:message e)))"));
            assert!(
                msg.contains(":acme/summarize") && msg.contains("sensitive argument"),
                "{engines} {call}: {msg}"
            );
        }
        assert_eq!(remote.carrying("SSN-"), 0, "{engines}: {:?}", remote.bodies);
        // The same call without a mark goes remote (first choice, or as the fallback once
        // the on-device provider fails).
        let before = remote.requests();
        eval(&mut rt, "(plain \"public fail\")");
        eval(&mut rt, "(multi \"public fail\")");
        eval(&mut rt, "(relay \"public fail\")");
        assert_eq!(remote.requests(), before + 3, "{engines}");
    }
    assert_eq!(remote.carrying("public fail"), 3 * 4);
    assert_eq!(remote.requests(), 3 * 4);
}

#[test]
fn sensitive_arguments_never_reach_a_remote_model_and_fall_back_on_device() {
    let server = Server::start();
    let policy = Policy::parse(&format!(
        r#"
engines = ["static", "privacy-first"]
[models.gpt]
kind = "remote"
provider = "openai"
base_url = "{}/v1"
model = "test-model"
retries = 0
[models.rules-x]
kind = "local"
provider = "rules"
[[models.rules-x.rule]]
text = "on-device"
value = "on-device"
[[route]]
match = "summarize*"
target = "remote"
model = "gpt"
fallback = ["rules-x", "local"]
"#,
        server.url
    ))
    .expect("policy");
    let mut rt = Runtime::builder().policy(policy).build().expect("runtime");
    eval(
        &mut rt,
        r#"(defn summarize-doc [text] :ran-here)
           (defn by-param [^:sensitive doc] (summarize-doc doc))
           (defn at-site [t] (summarize-doc ^{:privacy :sensitive} t))
           (defn derived [^:sensitive doc] (let [d (str doc "!")] (summarize-doc d)))"#,
    );
    for call in ["by-param", "at-site", "derived"] {
        assert_eq!(
            eval(&mut rt, &format!("({call} \"{SECRET}\")")),
            "\"on-device\"",
            "{call}"
        );
    }
    assert_eq!(
        server.requests(),
        0,
        "no sensitive call reached the remote model"
    );
    // Without a mark the route's first choice, the remote model, answers.
    assert_eq!(
        eval(&mut rt, "(summarize-doc \"public\")"),
        "\"remote-model\""
    );
    assert_eq!(server.carrying("public"), 1);
    assert_eq!(server.carrying(SECRET), 0);
}

#[test]
fn with_nothing_on_device_left_the_call_fails_naming_function_and_sensitive_argument() {
    let server = Server::start();
    let policy = Policy::parse(&format!(
        r#"
engines = ["static"]
[models.gpt]
kind = "remote"
provider = "openai"
base_url = "{}/v1"
model = "test-model"
retries = 0
[[route]]
match = "summarize*"
target = "remote"
model = "gpt"
"#,
        server.url
    ))
    .expect("policy");
    let mut rt = Runtime::builder().policy(policy).build().expect("runtime");
    eval(&mut rt, "(defn summarize-doc [text] :ran-here)");
    let msg = eval(
        &mut rt,
        &format!("(try (summarize-doc ^:sensitive \"{SECRET}\") (catch e (:message e)))"),
    );
    assert!(
        msg.contains("summarize-doc") && msg.contains("sensitive argument"),
        "{msg}"
    );
    assert_eq!(server.requests(), 0);
    assert_eq!(
        eval(&mut rt, "(summarize-doc \"public\")"),
        "\"remote-model\""
    );
}

#[test]
fn a_remote_hint_refuses_a_call_carrying_a_sensitive_argument() {
    let server = Server::start();
    let policy = Policy::parse(&format!(
        "[models.gpt]\nkind = \"remote\"\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\nretries = 0",
        server.url
    ))
    .expect("policy");
    let mut rt = Runtime::builder().policy(policy).build().expect("runtime");
    eval(
        &mut rt,
        r#"(defn big ^:delegation :remote "gpt" [t] :never)
           (defn wrap [^:sensitive t] (big t))"#,
    );
    let msg = eval(
        &mut rt,
        &format!("(try (wrap \"{SECRET}\") (catch e (:message e)))"),
    );
    assert!(
        msg.contains("`big`") && msg.contains("sensitive argument"),
        "{msg}"
    );
    // Through an indirect call, too: the closure passed in is the hinted function.
    let msg = eval(
        &mut rt,
        &format!("(try ((fn [f x] (f ^:sensitive x)) big \"{SECRET}\") (catch e (:message e)))"),
    );
    assert!(msg.contains("sensitive argument"), "{msg}");
    assert_eq!(server.requests(), 0);
    assert_eq!(eval(&mut rt, "(big \"public\")"), "\"remote-model\"");
}

#[test]
fn l1_keeps_separate_decisions_for_sensitive_and_plain_calls_of_one_function() {
    let server = Server::start();
    let policy = Policy::parse(&format!(
        r#"
engines = ["static", "privacy-first"]
[models.gpt]
kind = "remote"
provider = "openai"
base_url = "{}/v1"
model = "test-model"
retries = 0
[[route]]
match = "summarize*"
target = "remote"
model = "gpt"
fallback = ["local"]
"#,
        server.url
    ))
    .expect("policy");
    let mut rt = Runtime::builder().policy(policy).build().expect("runtime");
    eval(&mut rt, "(defn summarize-doc [text] :ran-here)");
    // Plain first: its cached decision (remote first) must not serve the sensitive call.
    assert_eq!(eval(&mut rt, "(summarize-doc \"a\")"), "\"remote-model\"");
    assert_eq!(
        eval(
            &mut rt,
            &format!("(summarize-doc ^:sensitive \"{SECRET}\")")
        ),
        ":ran-here"
    );
    assert_eq!(eval(&mut rt, "(summarize-doc \"b\")"), "\"remote-model\"");
    assert_eq!(
        eval(
            &mut rt,
            &format!("(summarize-doc ^:sensitive \"{SECRET}x\")")
        ),
        ":ran-here"
    );
    let d = rt.delegation().expect("policy set");
    assert_eq!(
        d.l1.stats(),
        (2, 2),
        "one entry per sensitivity, each hit once"
    );
    assert_eq!(server.carrying(SECRET), 0);
}

#[test]
fn explain_names_the_sensitive_call_sites_and_why() {
    let mut rt = Runtime::new();
    let ex = rt
        .explain_source("plan.rtfs", CAPABILITY_PROGRAM.as_bytes())
        .expect("explain");
    let why: Vec<(String, Vec<String>)> = ex
        .call_sites
        .iter()
        .filter(|s| s.sensitive)
        .map(|s| (s.callee.clone(), s.why.clone()))
        .collect();
    let expect = |w: &str| why.iter().any(|(_, ws)| ws.iter().any(|x| x == w));
    assert!(expect("arg 1: param `doc`"), "{why:?}");
    assert!(expect("arg 1: marked `text`"), "{why:?}");
    assert!(expect("arg 1: param `{:keys [ssn]}`"), "{why:?}");
    let plain = ex.call_sites.iter().filter(|s| !s.sensitive).count();
    // `plain`, the one-argument arity of `multi` and `relay`'s capability call (the
    // runtime's sensitive scope covers it when a sensitive caller runs it).
    assert_eq!(plain, 3, "{:?}", ex.call_sites);
}
