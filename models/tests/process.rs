//! The local-process provider against a real child (`rtfs-echo-model`, this crate's
//! reference implementation of the protocol): replies, reuse of one process, and recovery
//! from a crash, a timeout, garbage and provider errors.

use std::sync::Arc;
use std::time::Duration;

use rtfs_models::{ModelError, ModelProvider, ModelRequest, ProcessConfig, ProcessProvider};
use serde_json::json;

fn provider(timeout_ms: u64) -> ProcessProvider {
    let mut config = ProcessConfig::new(env!("CARGO_BIN_EXE_rtfs-echo-model"));
    config.timeout = Duration::from_millis(timeout_ms);
    ProcessProvider::new("echo", config)
}

fn ask(p: &ProcessProvider, n: i64) -> rtfs_models::ModelResponse {
    p.infer(&ModelRequest::new("math/double", vec![json!(n)]))
        .expect("the echo model answers")
}

#[test]
fn one_process_answers_many_requests() {
    let p = provider(5_000);
    for n in 0..20 {
        let r = ask(&p, n);
        assert_eq!(r.text, format!("math/double [{n}]"));
        assert_eq!(r.value, Some(json!([n])));
        assert_eq!(r.usage.prompt_tokens, Some(1));
    }
    assert_eq!(p.starts(), 1);
    assert_eq!(p.id(), "echo");
}

#[test]
fn a_crash_costs_one_request_and_the_next_restarts_the_process() {
    let p = provider(5_000);
    ask(&p, 1);
    let crash = ModelRequest::new("f", vec![])
        .with_param("stderr", json!("model ran out of memory"))
        .with_param("crash", json!(true));
    let e = p.infer(&crash).unwrap_err();
    match &e {
        ModelError::Process { message, .. } => {
            assert!(message.contains("exited before answering"), "{e}");
            assert!(message.contains("model ran out of memory"), "{e}");
        }
        other => panic!("wrong error: {other}"),
    }
    assert_eq!(ask(&p, 2).value, Some(json!([2])));
    assert_eq!(p.starts(), 2);
}

#[test]
fn a_slow_reply_times_out_and_the_process_is_replaced() {
    let p = provider(300);
    ask(&p, 1);
    let slow = ModelRequest::new("f", vec![]).with_param("sleep_ms", json!(3_000));
    let e = p.infer(&slow).unwrap_err();
    assert!(matches!(e, ModelError::Timeout { .. }), "{e}");
    // The late reply belongs to the killed process and cannot be mistaken for this one.
    assert_eq!(ask(&p, 5).value, Some(json!([5])));
    assert_eq!(p.starts(), 2);
}

#[test]
fn garbage_is_malformed_and_a_provider_error_keeps_the_process() {
    let p = provider(5_000);
    let e = p
        .infer(&ModelRequest::new("f", vec![]).with_param("garbage", json!(true)))
        .unwrap_err();
    assert!(matches!(e, ModelError::Malformed { .. }), "{e}");
    assert_eq!(ask(&p, 1).value, Some(json!([1])));
    assert_eq!(p.starts(), 2);
    let e = p
        .infer(&ModelRequest::new("f", vec![]).with_param("error", json!("model not loaded")))
        .unwrap_err();
    assert_eq!(
        e,
        ModelError::Provider {
            provider: "echo".into(),
            message: "model not loaded".into()
        }
    );
    assert_eq!(ask(&p, 2).value, Some(json!([2])));
    assert_eq!(p.starts(), 2);
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let p = ProcessProvider::new("nope", ProcessConfig::new("/nonexistent/model-binary"));
    let e = p.infer(&ModelRequest::new("f", vec![])).unwrap_err();
    assert!(e.to_string().contains("cannot start"), "{e}");
}

#[test]
fn threads_share_one_provider() {
    let p = Arc::new(provider(5_000));
    let handles: Vec<_> = (0..4i64)
        .map(|t| {
            let p = Arc::clone(&p);
            std::thread::spawn(move || {
                for i in 0..10 {
                    let n = t * 100 + i;
                    assert_eq!(ask(&p, n).value, Some(json!([n])));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(p.starts(), 1);
}
