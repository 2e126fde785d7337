//! Runs one rewritten test file in a fresh runtime and records every assertion's outcome.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rtfs_ir::{RtError, Value};
use rtfs_runtime::Runtime;

use super::rewrite::{self, Assertion, EQ_FN, IS_FN, THROWN_FN};

/// A failed `is`.
#[derive(Clone, Debug)]
pub struct Failure {
    pub line: usize,
    pub col: usize,
    pub form: String,
    pub contexts: Vec<String>,
    pub message: Option<String>,
    pub expected: String,
    pub actual: String,
}

#[derive(Clone, Debug)]
pub struct TestResult {
    pub name: String,
    pub line: usize,
    pub assertions: usize,
    pub failures: Vec<Failure>,
    /// An error that escaped the test body.
    pub error: Option<String>,
    /// Program output while the test ran.
    pub output: String,
    pub seconds: f64,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.error.is_none()
    }
}

/// The outcome of one file: either it loaded and its tests ran, or it failed to load.
#[derive(Debug)]
pub struct FileResult {
    pub path: String,
    pub load_error: Option<String>,
    pub tests: Vec<TestResult>,
}

#[derive(Default)]
struct Recorder {
    assertions: usize,
    failures: Vec<Failure>,
}

type Shared = Arc<Mutex<Recorder>>;

fn lock(r: &Shared) -> std::sync::MutexGuard<'_, Recorder> {
    r.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the tests of `path` (with `text`) whose names contain `filter`.
pub fn run_file(path: &str, text: &str, filter: Option<&str>) -> FileResult {
    let mut result = FileResult {
        path: path.to_string(),
        load_error: None,
        tests: Vec::new(),
    };
    let rewritten = match rewrite::rewrite_file(text) {
        Ok(r) => r,
        Err(diags) => {
            let mut map = rtfs_compiler::source::SourceMap::new();
            map.add(path, text);
            result.load_error = Some(diags.iter().map(|d| d.render(&map)).collect());
            return result;
        }
    };
    let assertions = Arc::new(rewritten.assertions);
    let recorder: Shared = Arc::default();
    let mut rt = Runtime::new();
    rt.capture_output();
    register(&mut rt, &assertions, &recorder);
    if let Err(e) = rt.eval_source(path, rewritten.text.as_bytes()) {
        result.load_error = Some(rt.render_error(&e));
        return result;
    }
    let _ = rt.take_output();
    for test in &rewritten.tests {
        if filter.is_some_and(|f| !test.name.contains(f)) {
            continue;
        }
        *lock(&recorder) = Recorder::default();
        let start = Instant::now();
        let error = match rt.eval_str(&test.name).and_then(|f| rt.call(&f, &[])) {
            Ok(_) => None,
            Err(e) => Some(rt.render_error(&e)),
        };
        let rec = std::mem::take(&mut *lock(&recorder));
        result.tests.push(TestResult {
            name: test.name.clone(),
            line: test.line,
            assertions: rec.assertions,
            failures: rec.failures,
            error,
            output: rt.take_output(),
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    result
}

fn assertion_id(v: &Value, table: &[Assertion]) -> Result<usize, RtError> {
    match v {
        Value::Int(i) if usize::try_from(*i).is_ok_and(|i| i < table.len()) => Ok(*i as usize),
        _ => Err(RtError::type_error(
            "rtfs.test internals called with a bad assertion id",
        )),
    }
}

fn message(v: Option<&Value>) -> Option<String> {
    v.map(|m| match m {
        Value::Str(s) => s.to_string(),
        other => other.pr_str(),
    })
}

fn record(rec: &Shared, a: &Assertion, ok: bool, msg: Option<String>, exp: String, act: String) {
    let mut r = lock(rec);
    r.assertions += 1;
    if !ok {
        r.failures.push(Failure {
            line: a.line,
            col: a.col,
            form: a.form.clone(),
            contexts: a.contexts.clone(),
            message: msg,
            expected: exp,
            actual: act,
        });
    }
}

fn register(rt: &mut Runtime, table: &Arc<Vec<Assertion>>, rec: &Shared) {
    let (t, r) = (table.clone(), rec.clone());
    // (is form msg?): the form's value must be truthy; the `is` returns it.
    rt.register_fn(IS_FN, 2, 3, move |_, args| {
        let a = &t[assertion_id(&args[0], &t)?];
        let v = &args[1];
        let form = a.form.trim_start_matches("(is").trim_start();
        record(
            &r,
            a,
            v.truthy(),
            message(args.get(2)),
            format!("truthy: {form}"),
            v.pr_str(),
        );
        Ok(v.clone())
    });
    let (t, r) = (table.clone(), rec.clone());
    // (is (= expected actual) msg?)
    rt.register_fn(EQ_FN, 3, 4, move |_, args| {
        let a = &t[assertion_id(&args[0], &t)?];
        let ok = args[1] == args[2];
        record(
            &r,
            a,
            ok,
            message(args.get(3)),
            args[1].pr_str(),
            args[2].pr_str(),
        );
        Ok(Value::Bool(ok))
    });
    let (t, r) = (table.clone(), rec.clone());
    // (is (thrown? body...) msg?): the body, wrapped in a function, must raise an error.
    rt.register_fn(THROWN_FN, 2, 3, move |env, args| {
        let a = &t[assertion_id(&args[0], &t)?];
        let (ok, actual) = match env.apply(&args[1], &[]) {
            Ok(v) => (false, format!("returned {}", v.pr_str())),
            Err(e) => (true, format!("{}: {}", e.kind(), e.message())),
        };
        record(&r, a, ok, message(args.get(2)), "an error".into(), actual);
        Ok(Value::Bool(ok))
    });
}
