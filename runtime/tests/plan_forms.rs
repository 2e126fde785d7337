//! The plan forms through the embedding API: `step` entries in the causal chain, host
//! release hooks for `with-resource`, and `parallel` branches whose capability calls
//! overlap and are cancelled when a sibling fails.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtfs_chain::{ActionType, ChainSink, MemorySink, Outcome};
use rtfs_ir::Value;
use rtfs_runtime::Runtime;

#[test]
fn step_records_start_and_end_with_outcome() {
    let sink = Arc::new(MemorySink::new(true));
    let mut rt = Runtime::builder()
        .chain(sink.clone() as Arc<dyn ChainSink>)
        .build()
        .unwrap();
    let v = rt
        .eval_str("(step \"fetch\" (step \"inner\" (+ 1 2)))")
        .unwrap();
    assert_eq!(v, Value::Int(3));
    let kinds: Vec<ActionType> = sink.actions().into_iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ActionType::step_start("fetch"),
            ActionType::step_start("inner"),
            ActionType::step_end("inner"),
            ActionType::step_end("fetch"),
        ]
    );
    let end = &sink.actions()[3];
    assert_eq!(end.outcome, Outcome::Ok);
    assert_eq!(end.raw_output.as_deref(), Some("3"));
    let start = &sink.actions()[0];
    assert_eq!(end.timing.start_unix_us, start.timing.start_unix_us);

    let e = rt
        .eval_str("(step \"boom\" (/ 1 0))")
        .expect_err("the step's error propagates");
    assert!(e.to_string().contains("division"), "{e}");
    let last = sink.actions().pop().unwrap();
    assert_eq!(last.kind, ActionType::step_end("boom"));
    assert!(
        matches!(&last.outcome, Outcome::Error { kind, .. } if kind == "division-by-zero"),
        "{:?}",
        last.outcome
    );
}

#[test]
fn host_release_hooks_run_on_every_exit() {
    let released: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = released.clone();
    let mut rt = Runtime::builder()
        .resource("Session", move |v| {
            seen.lock().unwrap().push(v.pr_str());
            Ok(())
        })
        .build()
        .unwrap();
    rt.register_resource("Broken", |_| Err("socket already closed".into()));
    let v = rt
        .eval_str("(with-resource [s Session :s1] (str s))")
        .unwrap();
    assert_eq!(v, Value::str(":s1"));
    let v = rt
        .eval_str(
            "(try (with-resource [s Session :s2] (throw (ex-info \"x\" {}))) (catch e :caught))",
        )
        .unwrap();
    assert_eq!(v, Value::keyword("caught"));
    assert_eq!(*released.lock().unwrap(), vec![":s1", ":s2"]);
    let e = rt
        .eval_str("(with-resource [b Broken 1] :ok)")
        .expect_err("a failing release is an error");
    assert!(e.to_string().contains("socket already closed"), "{e}");
    let v = rt
        .eval_str("(try (with-resource [b Broken 1] :ok) (catch e (error-type e)))")
        .unwrap();
    assert_eq!(v, Value::keyword("resource-error"));
}

/// A host capability that sleeps and counts how many calls are in flight at once.
fn overlap_probe(rt: &mut Runtime) -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (in_flight.clone(), peak.clone());
    rt.register_capability("test/slow", move |_, args| {
        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        let ms = match args.first() {
            Some(Value::Int(ms)) => *ms as u64,
            _ => 100,
        };
        std::thread::sleep(Duration::from_millis(ms));
        f.fetch_sub(1, Ordering::SeqCst);
        Ok(args.first().cloned().unwrap_or(Value::Nil))
    });
    (in_flight, peak)
}

#[test]
fn parallel_capability_calls_overlap() {
    let mut rt = Runtime::new();
    let (_, peak) = overlap_probe(&mut rt);
    let v = rt
        .eval_str(
            "(parallel [a (call :test/slow 200)] [b (call :test/slow 200)]
                       [c (call :test/slow 200)] [d (call :test/slow 200)])",
        )
        .unwrap();
    assert_eq!(
        v.pr_str(),
        "{:a 200, :b 200, :c 200, :d 200}",
        "written order"
    );
    assert_eq!(
        peak.load(Ordering::SeqCst),
        4,
        "all four calls were in flight at once"
    );
}

#[test]
fn the_first_failure_cancels_the_other_branches() {
    let mut rt = Runtime::new();
    let (_, _) = overlap_probe(&mut rt);
    let marks = Arc::new(AtomicUsize::new(0));
    let m = marks.clone();
    rt.register_capability("test/mark", move |_, _| {
        m.fetch_add(1, Ordering::SeqCst);
        Ok(Value::Nil)
    });
    let v = rt
        .eval_str(
            "(try
               (parallel [slow (do (call :test/slow 300) (call :test/mark) :done)]
                         [bad (do (call :test/slow 10) (throw (ex-info \"bad branch\" {})))])
               (catch e (ex-message e)))",
        )
        .unwrap();
    assert_eq!(v, Value::str("bad branch"));
    assert_eq!(
        marks.load(Ordering::SeqCst),
        0,
        "the slow branch went on after its sibling failed"
    );
    // Without a failure the same branch runs to the end.
    rt.eval_str("(parallel [slow (do (call :test/slow 10) (call :test/mark))] [ok 1])")
        .unwrap();
    assert_eq!(marks.load(Ordering::SeqCst), 1);
}
