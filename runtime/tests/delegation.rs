//! Delegation end to end: the compiler pass, the engine, the mesh and real loopback HTTP
//! capability providers (axum on 127.0.0.1:0) with fault injection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use rtfs_delegation::Policy;
use rtfs_ir::{ExecTarget, Value};
use rtfs_mesh::{GlobalFunctionMesh, MemoryRegistry, ProviderRef, SecurityContext};
use rtfs_runtime::{Error, Runtime};

#[derive(Clone, Copy)]
enum Fault {
    Ok,
    Status500,
    Malformed,
    Slow(u64),
}

/// A provider on 127.0.0.1:0 answering `{"result": {"via": NAME, "args": ARGS}}`, or the
/// fault; counts requests.
struct Server {
    url: String,
    hits: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

fn serve(name: &'static str, fault: Fault) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("test runtime");
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: String| {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let req: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                match fault {
                    Fault::Ok => {}
                    Fault::Status500 => {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "boom".to_string());
                    }
                    Fault::Malformed => return (StatusCode::OK, "{\"result\": [1, 2".to_string()),
                    Fault::Slow(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                }
                let reply = serde_json::json!({"result": {"via": name, "args": req["args"]}});
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
        url: format!("http://{addr}/"),
        hits,
        _rt: rt,
    }
}

fn provider(id: &str, endpoint: &str, cost: f64, latency: f64) -> ProviderRef {
    let mut p = ProviderRef::new(id, endpoint);
    p.cost_per_call = cost;
    p.avg_response_time_ms = latency;
    p
}

fn mesh(name: &str, providers: Vec<ProviderRef>) -> Arc<GlobalFunctionMesh> {
    let m = GlobalFunctionMesh::builder(Arc::new(MemoryRegistry::new())).build();
    m.register_local(name, providers);
    Arc::new(m)
}

fn eval(rt: &mut Runtime, src: &str) -> Value {
    match rt.eval_str(src) {
        Ok(v) => v,
        Err(e) => panic!("{src}: {}", rt.render_error(&e)),
    }
}

fn text(v: &Value) -> String {
    v.pr_str()
}

#[test]
fn failover_across_500_malformed_and_timeout_to_a_good_provider() {
    let bad = serve("bad", Fault::Status500);
    let garbled = serve("garbled", Fault::Malformed);
    let slow = serve("slow", Fault::Slow(3_000));
    let good = serve("good", Fault::Ok);
    let m = mesh(
        "acme/report",
        vec![
            provider("p-bad", &bad.url, 0.0, 1.0),
            provider("p-garbled", &garbled.url, 0.0, 1.0),
            provider("p-slow", &slow.url, 0.0, 1.0),
            provider("p-good", &good.url, 0.0, 1.0),
        ],
    );
    let mut rt = Runtime::builder()
        .mesh(m)
        .provider_timeout(Duration::from_millis(300))
        .build()
        .expect("runtime");
    let v = eval(&mut rt, "(get (call :acme/report 7 \"x\") :via)");
    assert_eq!(text(&v), "\"good\"");
    for s in [&bad, &garbled, &slow, &good] {
        assert_eq!(s.hits.load(Ordering::SeqCst), 1, "{}", s.url);
    }
}

#[test]
fn every_provider_failing_is_a_catchable_error_naming_capability_and_reasons() {
    let bad = serve("bad", Fault::Status500);
    let garbled = serve("garbled", Fault::Malformed);
    let slow = serve("slow", Fault::Slow(2_000));
    let m = mesh(
        "acme/report",
        vec![
            provider("p-bad", &bad.url, 0.0, 1.0),
            provider("p-garbled", &garbled.url, 0.0, 1.0),
            provider("p-slow", &slow.url, 0.0, 1.0),
        ],
    );
    let mut rt = Runtime::builder()
        .mesh(m)
        .provider_timeout(Duration::from_millis(200))
        .build()
        .expect("runtime");
    let v = eval(
        &mut rt,
        "(try (call :acme/report 1) (catch e (:message e)))",
    );
    let msg = text(&v);
    assert!(msg.contains(":acme/report"), "{msg}");
    assert!(msg.contains("p-bad: HTTP 500"), "{msg}");
    assert!(msg.contains("p-garbled: malformed JSON"), "{msg}");
    assert!(msg.contains("p-slow: timed out"), "{msg}");
    // Uncaught, it is a runtime error (exit code 1), not a crash.
    let e = rt.eval_str("(call :acme/report 1)").expect_err("fails");
    assert!(matches!(e, Error::Runtime(_)));
    // An unknown capability is as clear.
    let v = eval(&mut rt, "(try (call :acme/none 1) (catch e (:message e)))");
    assert!(text(&v).contains("acme/none"), "{}", text(&v));
}

#[test]
fn sensitive_data_never_reaches_a_remote_provider_on_any_fallback_path() {
    let remote = serve("remote", Fault::Ok);
    let local_fails = Arc::new(AtomicUsize::new(0));
    // The remote provider is both cheaper and faster: every engine would rank it first.
    let m = mesh(
        "acme/report",
        vec![
            provider("p-remote", &remote.url, 0.0, 1.0),
            provider("p-onbox", "local:onbox", 0.0, 500.0),
        ],
    );
    for engines in [
        None,
        Some("performance"),
        Some("cost-optimized"),
        Some("privacy-first"),
    ] {
        let mut b = Runtime::builder().mesh(m.clone());
        if let Some(e) = engines {
            b = b.policy(Policy::parse(&format!("engines = [\"{e}\"]")).expect("policy"));
        }
        let mut rt = b.build().expect("runtime");
        let base = remote.hits.load(Ordering::SeqCst);
        let fails = local_fails.clone();
        rt.register_capability("onbox", move |_, args| {
            if args.first().and_then(Value::as_str) == Some("fail") {
                fails.fetch_add(1, Ordering::SeqCst);
                return Err(rtfs_ir::RtError::new(
                    "capability-error",
                    "on-box model down",
                ));
            }
            Ok(Value::str("onbox"))
        });
        eval(
            &mut rt,
            "(defn ^{:privacy :sensitive} scrub [x] (call :acme/report x))
             (defn plain [x] (call :acme/report x))",
        );
        assert_eq!(
            text(&eval(&mut rt, "(scrub \"ssn\")")),
            "\"onbox\"",
            "{engines:?}"
        );
        // The on-device provider fails: the call fails rather than leave the device.
        let v = eval(&mut rt, "(try (scrub \"fail\") (catch e (:message e)))");
        assert!(text(&v).contains("privacy"), "{engines:?}: {}", text(&v));
        assert_eq!(remote.hits.load(Ordering::SeqCst), base, "{engines:?}");
        // Closures made inside a sensitive function inherit the mark.
        eval(
            &mut rt,
            "(defn ^{:privacy :sensitive} via-closure [x] ((fn [y] (call :acme/report y)) x))",
        );
        eval(&mut rt, "(try (via-closure \"fail\") (catch e nil))");
        assert_eq!(remote.hits.load(Ordering::SeqCst), base, "{engines:?}");
        // Unmarked data may go remote.
        let before = remote.hits.load(Ordering::SeqCst);
        eval(&mut rt, "(plain \"public\")");
        if engines != Some("privacy-first") {
            assert_eq!(
                remote.hits.load(Ordering::SeqCst),
                before + 1,
                "{engines:?}"
            );
        }
    }
    assert!(local_fails.load(Ordering::SeqCst) >= 4);
}

#[test]
fn policy_sending_a_sensitive_function_remote_falls_back_on_device() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let invoker: rtfs_runtime::delegate::ModelInvoker = Arc::new(move |t, _name, _args| {
        c.fetch_add(1, Ordering::SeqCst);
        Ok(Value::str(format!("model {t}")))
    });
    let policy = Policy::parse(
        r#"
engines = ["static"]
[models.gpt]
kind = "remote"
[[route]]
match = "*"
target = "remote"
model = "gpt"
fallback = ["local"]
"#,
    )
    .expect("policy");
    let mut rt = Runtime::builder()
        .policy(policy)
        .model_provider(invoker)
        .build()
        .expect("runtime");
    eval(
        &mut rt,
        "(defn ^{:privacy :sensitive} scrub [x] (str \"local:\" x))
         (defn open-fn [x] (str \"local:\" x))",
    );
    assert_eq!(text(&eval(&mut rt, "(scrub 1)")), "\"local:1\"");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "sensitive never reaches the model"
    );
    assert_eq!(
        text(&eval(&mut rt, "(open-fn 1)")),
        "\"model remote-model \\\"gpt\\\"\""
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn hints_bypass_the_engine() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    let invoker: rtfs_runtime::delegate::ModelInvoker = Arc::new(move |t, name, args| {
        if let Ok(mut v) = s.lock() {
            v.push(format!("{t} {name} {}", args.len()));
        }
        match t {
            ExecTarget::LocalModel(id) => Ok(Value::str(format!("rules:{id}"))),
            _ => Err("remote unreachable".into()),
        }
    });
    // The policy would keep everything local; the hints still win.
    let policy = Policy::parse("engines = [\"privacy-first\"]\n[functions]\ndefault = \"engine\"")
        .expect("policy");
    let mut rt = Runtime::builder()
        .policy(policy)
        .model_provider(invoker)
        .build()
        .expect("runtime");
    eval(
        &mut rt,
        "(defn sentiment ^:delegation :local-model \"sentiment-rules\" [t] :never-run)
         (defn big ^:delegation :remote \"gpt4o\" [t] :never-run)
         (defn here ^:delegation :local [t] (str \"here:\" t))",
    );
    assert_eq!(
        text(&eval(&mut rt, "(sentiment \"great\")")),
        "\"rules:sentiment-rules\""
    );
    assert_eq!(text(&eval(&mut rt, "(here 1)")), "\"here:1\"");
    let v = eval(&mut rt, "(try (big 1) (catch e (:message e)))");
    assert!(
        text(&v).contains("big") && text(&v).contains("remote unreachable"),
        "{}",
        text(&v)
    );
    let d = rt.delegation().expect("policy set");
    assert_eq!(d.l1.stats(), (0, 0), "no decision was asked of the engine");
    // A hint carried by a closure value is honoured through an indirect call too.
    let v = eval(&mut rt, "((fn [f] (f \"x\")) sentiment)");
    assert_eq!(text(&v), "\"rules:sentiment-rules\"");
    assert_eq!(seen.lock().map(|v| v.len()).unwrap_or(0), 3);
}

#[test]
fn invalid_hints_are_compile_errors_with_a_span() {
    let mut rt = Runtime::new();
    for (src, needle) in [
        (
            "(defn f ^{:delegation :cloud} [x] x)",
            "unknown delegation target",
        ),
        ("(defn f ^{:delegation :remote} [x] x)", "needs a model id"),
        (
            "(defn f ^{:delegation [:local-model 3]} [x] x)",
            "non-empty string",
        ),
        (
            "(defn ^{:privacy :sensitive} f ^:delegation :remote \"gpt\" [x] x)",
            "off the device",
        ),
    ] {
        let e = rt.eval_str(src).expect_err(src);
        let shown = rt.render_error(&e);
        assert!(matches!(e, Error::Compile(_)), "{src}: {shown}");
        assert!(
            shown.contains(needle) && shown.contains("<eval>:1:"),
            "{src}: {shown}"
        );
    }
}

#[test]
fn pure_security_context_refuses_every_capability() {
    let mut rt = Runtime::builder()
        .security(SecurityContext::pure())
        .build()
        .expect("runtime");
    for cap in [
        "(call :ccos.echo 1)",
        "(call :ccos.io/println \"x\")",
        "(call :ccos.state.kv/get :k)",
        "(call :ccos.state.kv/put :k 1)",
        "(call :ccos.time/now)",
    ] {
        let v = eval(&mut rt, &format!("(try {cap} (catch e (:message e)))"));
        let m = text(&v);
        assert!(m.contains("refused") && m.contains("pure"), "{cap}: {m}");
    }
    let mut open = Runtime::new();
    assert_eq!(text(&eval(&mut open, "(call :ccos.echo 1)")), "1");
}

#[test]
fn budget_exhausted_between_hops_refuses_the_next_provider() {
    let good = serve("good", Fault::Ok);
    let m = mesh(
        "acme/report",
        vec![
            provider("p-drain", "local:drain", 0.0, 1.0),
            provider("p-good", &good.url, 0.4, 2.0),
        ],
    );
    let policy =
        Policy::parse("engines = [\"performance\"]\n[budget]\nper_run = 0.6").expect("policy");
    let mut rt = Runtime::builder()
        .mesh(m)
        .policy(policy)
        .build()
        .expect("runtime");
    let budget = rt.delegation().expect("policy").budget.clone();
    // The first provider fails after something else spent most of the run budget (a
    // parallel branch, say): the fallback hop must see it.
    rt.register_capability("drain", move |_, _| {
        let _ = budget.try_spend(0.5);
        Err(rtfs_ir::RtError::new("capability-error", "drained"))
    });
    let v = eval(
        &mut rt,
        "(try (call :acme/report 1) (catch e (:message e)))",
    );
    let m = text(&v);
    assert!(
        m.contains("p-drain: drained") && m.contains("p-good: budget"),
        "{m}"
    );
    assert_eq!(good.hits.load(Ordering::SeqCst), 0);
    let spent = rt.delegation().map(|d| d.budget.spent()).unwrap_or(0.0);
    assert!((spent - 0.5).abs() < 1e-9, "{spent}");
}

#[test]
fn eval_async_runs_on_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let shared = rtfs_runtime::SharedRuntime::new(Runtime::new());
    let v = rt.block_on(async {
        let a = shared.eval_async("(defn sq [x] (* x x)) (sq 12)").await;
        let b = shared.eval_async("(sq 3)").await;
        (a.map(|v| v.pr_str()).ok(), b.map(|v| v.pr_str()).ok())
    });
    assert_eq!(v, (Some("144".into()), Some("9".into())));
}

#[test]
fn delegated_and_capability_calls_are_recorded_in_the_chain() {
    let sink = Arc::new(rtfs_chain::MemorySink::new(true));
    let invoker: rtfs_runtime::delegate::ModelInvoker =
        Arc::new(|_, _, _| Ok(Value::str("model says hi")));
    let mut rt = Runtime::builder()
        .chain(sink.clone())
        .model_provider(invoker)
        .build()
        .expect("runtime");
    eval(
        &mut rt,
        "(defn greet ^:delegation :local-model \"rules\" [x] :never)
         (defn plain [x] (+ x 1))
         (plain 1)
         (greet \"bob\")
         (call :ccos.echo 42)
         (try (call :ccos.nope 1) (catch e nil))",
    );
    let actions = sink.actions();
    assert_eq!(
        actions.len(),
        3,
        "statically local calls are not recorded: {actions:?}"
    );
    let kinds: Vec<String> = actions.iter().map(|a| format!("{:?}", a.kind)).collect();
    assert!(
        kinds[0].contains("greet")
            && kinds[1].contains("ccos.echo")
            && kinds[2].contains("ccos.nope")
    );
    assert!(actions[0].delegation.is_override);
    assert_eq!(actions[0].delegation.decision_engine, "hint");
    assert_eq!(
        actions[0].delegation.chosen_target,
        rtfs_chain::ExecTarget::LocalModel { id: "rules".into() }
    );
    assert_eq!(actions[1].raw_output.as_deref(), Some("42"));
    assert!(actions[1].output_hash.is_some());
    assert!(matches!(
        actions[2].outcome,
        rtfs_chain::Outcome::Error { .. }
    ));
    assert_eq!(actions[1].input_hash.len(), 64);
}

#[test]
fn provider_ejection_invalidates_cached_decisions() {
    let good = serve("good", Fault::Ok);
    let m = mesh(
        "acme/report",
        vec![
            provider("p-a", &good.url, 0.0, 1.0),
            provider("p-b", &good.url, 0.0, 2.0),
            provider("p-c", &good.url, 0.0, 3.0),
        ],
    );
    let policy = Policy::parse("engines = [\"cost-optimized\"]").expect("policy");
    let mut rt = Runtime::builder()
        .mesh(m.clone())
        .policy(policy)
        .build()
        .expect("runtime");
    eval(&mut rt, "(defn go [] (call :acme/report 1))");
    eval(&mut rt, "(go)");
    eval(&mut rt, "(go)");
    let stats = |rt: &Runtime| rt.delegation().map(|d| d.l1.stats()).unwrap_or_default();
    let (hits, misses) = stats(&rt);
    assert!(hits >= 1, "second call hits L1: {hits} {misses}");
    for _ in 0..5 {
        m.report_failure("p-c");
    }
    let (h0, m0) = stats(&rt);
    eval(&mut rt, "(go)");
    let (h1, m1) = stats(&rt);
    assert_eq!(
        (h1, m1),
        (h0, m0 + 1),
        "an ejection makes the next decision a miss"
    );
}

#[test]
fn performance_engine_hits_l1_while_http_providers_keep_their_latency_order() {
    let fast = serve("fast", Fault::Ok);
    let slow = serve("slow", Fault::Slow(60));
    let m = mesh(
        "acme/report",
        vec![
            provider("p-slow", &slow.url, 0.0, 80.0),
            provider("p-fast", &fast.url, 0.0, 2.0),
        ],
    );
    let policy = Policy::parse("engines = [\"performance\"]").expect("policy");
    let mut rt = Runtime::builder()
        .mesh(m)
        .policy(policy)
        .build()
        .expect("runtime");
    eval(&mut rt, "(defn go [] (get (call :acme/report 1) :via))");
    for _ in 0..6 {
        assert_eq!(text(&eval(&mut rt, "(go)")), "\"fast\"");
    }
    // Each call moves p-fast's observed average; its rank does not change, so after the
    // first decision every one is an L1 hit (with raw latencies in the key, none was).
    let (hits, misses) = rt.delegation().map(|d| d.l1.stats()).unwrap_or_default();
    assert_eq!((hits, misses), (5, 1));
    assert_eq!(slow.hits.load(Ordering::SeqCst), 0);
}
