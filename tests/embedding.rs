//! Integration tests of the embedding API (`rtfs::Runtime`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rtfs::{Error, RtError, Runtime, Value};

fn eval(rt: &mut Runtime, src: &str) -> Value {
    match rt.eval_str(src) {
        Ok(v) => v,
        Err(e) => panic!("{src}\n{}", rt.render_error(&e)),
    }
}

fn eval1(src: &str) -> Value {
    eval(&mut Runtime::new(), src)
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn kw(s: &str) -> Value {
    Value::keyword(s)
}

#[test]
fn eval_str_returns_values() {
    assert_eq!(eval1("(+ 1 2)"), int(3));
    assert_eq!(eval1("nil"), Value::Nil);
    assert_eq!(eval1(""), Value::Nil);
    assert_eq!(eval1("true"), Value::Bool(true));
    assert_eq!(eval1("(/ 5 2)"), Value::Float(2.5));
    assert_eq!(eval1("(/ 6 2)"), int(3));
    assert_eq!(eval1("\"héllo ✓\""), Value::str("héllo ✓"));
    assert_eq!(eval1(":ns/k"), kw("ns/k"));
    assert_eq!(eval1("'sym"), Value::symbol("sym"));
    assert_eq!(
        eval1("(map inc [1 2 3])"),
        Value::vector([int(2), int(3), int(4)])
    );
    assert_eq!(eval1("'(1 2)"), Value::list([int(1), int(2)]));
    assert!(matches!(eval1("'(1 2)"), Value::List(_)));
    assert_eq!(
        eval1("{:a 1 :b [true nil]}"),
        Value::map([
            (kw("a"), int(1)),
            (kw("b"), Value::vector([Value::Bool(true), Value::Nil])),
        ])
    );
    assert_eq!(eval1("#{1 2}"), Value::set([int(2), int(1)]));
    assert_eq!(eval1("(do 1 2 3)"), int(3));
    assert_eq!(eval1("1 2 3"), int(3), "the last form's value");
    assert_eq!(
        eval1("(->> (range 10) (filter odd?) (map #(* % %)) (reduce +))"),
        int(165)
    );
    assert_eq!(
        eval1(r#"(pr-str {:a "x\"y"})"#).as_str(),
        Some(r#"{:a "x\"y"}"#)
    );
    assert!(eval1("(fn [x] x)").is_fn());
}

#[test]
fn definitions_persist_across_eval_str_calls() {
    let mut rt = Runtime::new();
    eval(&mut rt, "(def base 10)");
    eval(&mut rt, "(defn add-base [x] (+ x base))");
    assert_eq!(eval(&mut rt, "(add-base 5)"), int(15));
    eval(&mut rt, "(def base 100)");
    assert_eq!(
        eval(&mut rt, "(add-base 5)"),
        int(105),
        "globals are late-bound"
    );
    eval(&mut rt, "(defmacro twice [x] `(do ~x ~x))");
    eval(&mut rt, "(def counter (atom 0))");
    eval(&mut rt, "(twice (swap! counter inc))");
    assert_eq!(eval(&mut rt, "@counter"), int(2), "macros persist");

    // A reference to a not-yet-defined global compiles, and works once it is defined.
    eval(&mut rt, "(defn uses-later [] (later 1))");
    let e = rt.eval_str("(uses-later)").unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "unbound-symbol"),
        "{e}"
    );
    eval(&mut rt, "(defn later [x] (* x 7))");
    assert_eq!(eval(&mut rt, "(uses-later)"), int(7));

    // A failing evaluation does not lose earlier definitions.
    assert!(rt.eval_str("(let [x] x)").is_err());
    assert!(rt.eval_str("(+ 1").is_err());
    assert!(rt.eval_str("(/ 1 0)").is_err());
    assert_eq!(eval(&mut rt, "(add-base 1)"), int(101));

    // Separate runtimes share nothing.
    let mut other = Runtime::new();
    assert!(other.eval_str("(add-base 1)").is_err());
}

#[test]
fn eval_file_and_eval_source() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rtfs-embedding-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("prog-{}.rtfs", std::process::id()));
    std::fs::write(&path, "(defn sq [x] (* x x))\n(sq 9)\n").unwrap();
    let mut rt = Runtime::new();
    assert_eq!(rt.eval_file(&path).unwrap(), int(81));
    assert_eq!(eval(&mut rt, "(sq 3)"), int(9));

    let missing = dir.join("does-not-exist.rtfs");
    let e = rt.eval_file(&missing).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    assert_eq!(e.exit_code(), 2);

    assert_eq!(rt.eval_source("mem.rtfs", b"(sq 4)").unwrap(), int(16));
    let e = rt.eval_source("bad.rtfs", b"(str \"\xff\")").unwrap_err();
    assert!(matches!(e, Error::Parse(_)), "{e:?}");
}

#[test]
fn register_fn_is_callable_and_arity_checked() {
    let mut rt = Runtime::new();
    rt.register_fn("double", 1, 1, |_, args| match args {
        [Value::Int(n)] => Ok(Value::Int(n * 2)),
        _ => Err(RtError::type_error("double expects an int")),
    });
    rt.register_fn("sum-all", 0, rtfs_ir::VARIADIC, |_, args| {
        let mut total = 0;
        for a in args {
            match a {
                Value::Int(n) => total += n,
                other => return Err(RtError::expected("sum-all", "ints", other)),
            }
        }
        Ok(Value::Int(total))
    });
    assert_eq!(eval(&mut rt, "(double 21)"), int(42));
    assert_eq!(
        eval(&mut rt, "(map double [1 2])"),
        Value::vector([int(2), int(4)])
    );
    assert_eq!(eval(&mut rt, "(sum-all)"), int(0));
    assert_eq!(eval(&mut rt, "(apply sum-all (range 5))"), int(10));
    assert!(eval(&mut rt, "double").is_fn());

    // Arity errors, uncaught and caught.
    let e = rt.eval_str("(double 1 2)").unwrap_err();
    match &e {
        Error::Runtime(r) => {
            assert_eq!(r.kind(), "arity-error", "{r}");
            assert!(r.message().contains("double"), "{r}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    assert_eq!(e.exit_code(), 1);
    assert_eq!(
        eval(&mut rt, "(try (double) (catch :arity-error e :caught))"),
        kw("caught")
    );
    assert_eq!(
        eval(
            &mut rt,
            "(try (double 1 2 3) (catch ArityError e (error-type e)))"
        ),
        kw("arity-error")
    );

    // Errors returned by the host function are catchable.
    assert_eq!(
        eval(&mut rt, "(try (double \"x\") (catch e (ex-message e)))"),
        Value::str("double expects an int")
    );
    assert_eq!(
        eval(
            &mut rt,
            "(try (double \"x\") (catch :type-error e (error-type e)))"
        ),
        kw("type-error")
    );
    let e = rt.eval_str("(double :k)").unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "type-error"),
        "{e}"
    );
}

#[test]
fn register_fn_can_call_back_into_rtfs() {
    let mut rt = Runtime::new();
    rt.register_fn("call-twice", 2, 2, |env, args| {
        let once = env.apply(&args[0], &args[1..])?;
        env.apply(&args[0], &[once])
    });
    assert_eq!(eval(&mut rt, "(call-twice inc 5)"), int(7));
    assert_eq!(eval(&mut rt, "(call-twice (fn [x] (* x x)) 3)"), int(81));
    // An RTFS error raised inside the callback propagates through the host fn.
    assert_eq!(
        eval(
            &mut rt,
            "(try (call-twice (fn [x] (/ x 0)) 1) (catch :division-by-zero e :div0))"
        ),
        kw("div0")
    );
}

#[test]
fn register_fn_errors_with_data_are_catchable() {
    let mut rt = Runtime::new();
    rt.register_fn("fail", 0, 0, |_, _| {
        Err(RtError::with_data(
            "host-failure",
            "the host said no",
            Value::map([(kw("code"), int(42))]),
        ))
    });
    assert_eq!(
        eval(
            &mut rt,
            "(try (fail) (catch :host-failure e (:code (ex-data e))))"
        ),
        int(42)
    );
    assert_eq!(
        eval(
            &mut rt,
            "(try (fail) (catch e [(error-type e) (ex-message e)]))"
        ),
        Value::vector([kw("host-failure"), Value::str("the host said no")])
    );
    // Not caught by an unrelated selector.
    let e = rt
        .eval_str("(try (fail) (catch :type-error e :wrong))")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "host-failure"),
        "{e}"
    );
}

#[test]
fn register_capability_and_call() {
    let mut rt = Runtime::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    rt.register_capability("shop/price", move |_, args| {
        seen.fetch_add(1, Ordering::SeqCst);
        match args {
            [Value::Str(sku)] if sku.as_str() == "book" => Ok(Value::Int(12)),
            [Value::Str(sku)] => Err(RtError::new(
                "capability-error",
                format!("no price for {sku}"),
            )),
            _ => Err(RtError::arity("shop/price", "1", args.len())),
        }
    });
    // A leading colon in the registered id is accepted too.
    rt.register_capability(":shop/stock", |_, _| Ok(Value::Int(3)));

    assert_eq!(eval(&mut rt, "(call :shop/price \"book\")"), int(12));
    assert_eq!(eval(&mut rt, "(call \"shop/price\" \"book\")"), int(12));
    assert_eq!(eval(&mut rt, "(call :shop/stock)"), int(3));
    assert_eq!(
        eval(
            &mut rt,
            "(try (call :shop/price \"pen\") (catch e (ex-message e)))"
        ),
        Value::str("no price for pen")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // Unknown capabilities: a catchable error.
    let e = rt.eval_str("(call :no.such/cap 1)").unwrap_err();
    match &e {
        Error::Runtime(r) => {
            assert_eq!(r.kind(), "unknown-capability");
            assert!(r.message().contains("capability"), "{r}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        eval(
            &mut rt,
            "(try (call :no.such/cap 1) (catch :unknown-capability e :nope))"
        ),
        kw("nope")
    );
    assert_eq!(
        eval(
            &mut rt,
            "(try (call :no.such/cap) (catch e (error-type e)))"
        ),
        kw("unknown-capability")
    );
}

#[test]
fn builtin_capabilities() {
    let mut rt = Runtime::new();
    rt.capture_output();
    assert_eq!(eval(&mut rt, "(call :ccos.echo 5)"), int(5));
    assert_eq!(
        eval(&mut rt, "(call :ccos.echo 1 \"two\")"),
        Value::vector([int(1), Value::str("two")])
    );
    assert_eq!(
        eval(&mut rt, "(call :ccos.state.kv/put \"k\" {:n 42})"),
        Value::map([(kw("n"), int(42))])
    );
    assert_eq!(
        eval(&mut rt, "(:n (call :ccos.state.kv/get \"k\"))"),
        int(42)
    );
    assert_eq!(
        eval(&mut rt, "(call :ccos.state.kv/get \"missing\")"),
        Value::Nil
    );
    // A failing capability raises a catchable capability error naming the capability.
    assert_eq!(
        eval(
            &mut rt,
            "(try (call :ccos.state.kv/get) (catch HostError e :host))"
        ),
        kw("host")
    );
    assert_eq!(
        eval(
            &mut rt,
            "(try (call :ccos.state.kv/get) (catch :capability-error e :bad))"
        ),
        kw("bad")
    );
    let msg = eval(
        &mut rt,
        "(try (call :ccos.state.kv/get) (catch e (ex-message e)))",
    );
    assert!(
        msg.as_str()
            .is_some_and(|m| m.contains("ccos.state.kv/get")),
        "{msg}"
    );
    assert!(matches!(eval(&mut rt, "(call :ccos.time/now)"), Value::Int(ms) if ms > 0));

    assert_eq!(
        eval(&mut rt, "(call :ccos.io/println \"hello\" 42 [\"x\"])"),
        Value::Nil
    );
    let out = rt.take_output();
    assert!(out.starts_with("hello 42 "), "{out:?}");
    assert!(out.ends_with('\n'));
    assert_eq!(rt.take_output(), "", "take_output drains the buffer");

    // The kv store is per runtime.
    let mut other = Runtime::new();
    assert_eq!(
        eval(&mut other, "(call :ccos.state.kv/get \"k\")"),
        Value::Nil
    );
}

#[test]
fn capture_output_collects_print_functions() {
    let mut rt = Runtime::new();
    rt.capture_output();
    eval(
        &mut rt,
        r#"(println "a" 1 nil) (print "b") (prn "c") (newline) (println ["d"])"#,
    );
    assert_eq!(rt.take_output(), "a 1 nil\nb\"c\"\n\n[d]\n");
    eval(&mut rt, "(dotimes [i 3] (print i))");
    assert_eq!(rt.take_output(), "012");
    // Output produced before an error is kept.
    assert!(rt.eval_str("(println \"before\") (/ 1 0)").is_err());
    assert_eq!(rt.take_output(), "before\n");
}

#[test]
fn call_an_rtfs_function_from_rust() {
    let mut rt = Runtime::new();
    let f = eval(&mut rt, "(fn [x] (* x 10))");
    assert_eq!(rt.call(&f, &[int(4)]).unwrap(), int(40));

    eval(
        &mut rt,
        "(defn greet ([] \"hi\") ([who & more] (str \"hi \" who (count more))))",
    );
    let g = eval(&mut rt, "greet");
    assert_eq!(rt.call(&g, &[]).unwrap(), Value::str("hi"));
    assert_eq!(
        rt.call(&g, &[Value::str("ada"), int(1), int(2)]).unwrap(),
        Value::str("hi ada2")
    );

    // Closures keep their captures.
    let adder = eval(&mut rt, "(let [n 5] (fn [x] (+ x n)))");
    assert_eq!(rt.call(&adder, &[int(1)]).unwrap(), int(6));

    // Builtins and keywords are callable too.
    let plus = eval(&mut rt, "+");
    assert_eq!(rt.call(&plus, &[int(1), int(2)]).unwrap(), int(3));
    let k = eval(&mut rt, ":a");
    let m = eval(&mut rt, "{:a 1}");
    assert_eq!(rt.call(&k, &[m]).unwrap(), int(1));

    // Errors come back as Error::Runtime.
    let e = rt.call(&f, &[Value::str("x")]).unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "type-error"),
        "{e}"
    );
    let e = rt.call(&f, &[]).unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "arity-error"),
        "{e}"
    );
    let e = rt.call(&int(5), &[]).unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "not-callable"),
        "{e}"
    );
}

#[test]
fn set_max_depth_gives_a_catchable_stack_depth_error() {
    let mut rt = Runtime::new();
    rt.set_max_depth(500);
    eval(&mut rt, "(defn d [n] (if (= n 0) 0 (+ 1 (d (- n 1)))))");
    assert_eq!(eval(&mut rt, "(d 400)"), int(400));
    let e = rt.eval_str("(d 1000)").unwrap_err();
    match &e {
        Error::Runtime(r) => {
            assert_eq!(r.kind(), "stack-depth-exceeded");
            assert!(r.message().contains("stack depth"), "{r}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        eval(
            &mut rt,
            "(try (d 1000) (catch :stack-depth-exceeded e :too-deep))"
        ),
        kw("too-deep")
    );
    assert_eq!(
        eval(&mut rt, "(try (d 1000) (catch e (ex-message e)))")
            .as_str()
            .map(|m| m.contains("stack depth")),
        Some(true)
    );
    // The runtime is usable afterwards, and tail recursion is not limited.
    assert_eq!(eval(&mut rt, "(d 10)"), int(10));
    assert_eq!(
        eval(&mut rt, "(loop [i 0] (if (< i 100000) (recur (inc i)) i))"),
        int(100_000)
    );
    eval(
        &mut rt,
        "(defn count-down [n] (if (= n 0) :done (count-down (dec n))))",
    );
    assert_eq!(eval(&mut rt, "(count-down 100000)"), kw("done"));

    rt.set_max_depth(50_000);
    assert_eq!(eval(&mut rt, "(d 10000)"), int(10_000));
}

#[test]
fn default_depth_allows_deep_recursion_and_stops_runaway_recursion() {
    // The embedding thread has an ordinary stack; the interpreter must grow its own.
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let mut rt = Runtime::new();
            eval(&mut rt, "(defn d [n] (if (= n 0) 0 (+ 1 (d (- n 1)))))");
            let deep = eval(&mut rt, "(d 20000)");
            let runaway = rt.eval_str("(defn r [n] (+ 1 (r n))) (r 0)");
            (deep, runaway.map_err(|e| e.to_string()))
        })
        .unwrap();
    let (deep, runaway) = handle.join().expect("no native stack overflow");
    assert_eq!(deep, int(20_000));
    let msg = runaway.unwrap_err();
    assert!(msg.contains("stack depth"), "{msg}");
}

#[test]
fn error_variants_and_exit_codes() {
    let mut rt = Runtime::new();

    let e = rt.eval_str("(+ 1").unwrap_err();
    assert!(matches!(&e, Error::Parse(d) if !d.is_empty()), "{e:?}");
    assert_eq!(e.exit_code(), 2);

    let e = rt.eval_str("\"unterminated").unwrap_err();
    assert!(matches!(&e, Error::Parse(_)), "{e:?}");

    let e = rt.eval_str("(let [x] x)").unwrap_err();
    assert!(matches!(&e, Error::Compile(d) if !d.is_empty()), "{e:?}");
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("let"), "{e}");

    let e = rt.eval_str("(if)").unwrap_err();
    assert!(matches!(&e, Error::Compile(_)), "{e:?}");

    let e = rt.eval_str("(loop [i 0] (+ 1 (recur i)))").unwrap_err();
    assert!(matches!(&e, Error::Compile(_)), "{e:?}");

    let e = rt.eval_str("(/ 1 0)").unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "division-by-zero"),
        "{e:?}"
    );
    assert_eq!(e.exit_code(), 1);

    let e = rt
        .eval_str("(throw {:type :my-error :message \"m\"})")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "my-error"),
        "{e:?}"
    );

    // A compile error anywhere in the unit means nothing ran.
    rt.capture_output();
    let e = rt
        .eval_str("(println \"side effect\") (def y 1) (if)")
        .unwrap_err();
    assert!(matches!(e, Error::Compile(_)));
    assert_eq!(rt.take_output(), "");
    let e = rt.eval_str("y").unwrap_err();
    assert!(
        matches!(&e, Error::Runtime(r) if r.kind() == "unbound-symbol"),
        "{e:?}"
    );
}

#[test]
fn render_error_names_file_line_col_with_caret() {
    let mut rt = Runtime::new();

    let e = rt
        .eval_source("plan.rtfs", b"(def x 1)\n(let [y 2]\n    (inc x y))\n")
        .unwrap_err();
    let r = rt.render_error(&e);
    assert!(r.contains("plan.rtfs:3:5"), "{r}");
    assert!(r.contains("(inc x y)"), "{r}");
    assert!(r.contains('^'), "{r}");
    assert!(r.contains("arity"), "{r}");

    let e = rt
        .eval_source("parse.rtfs", b"(def x 1)\n  (+ 1 2\n")
        .unwrap_err();
    let r = rt.render_error(&e);
    assert!(r.contains("parse.rtfs:2:"), "{r}");
    assert!(r.contains('^'), "{r}");

    let e = rt
        .eval_source("compile.rtfs", b"\n\n(let [x] x)\n")
        .unwrap_err();
    assert!(matches!(e, Error::Compile(_)), "{e:?}");
    let r = rt.render_error(&e);
    assert!(r.contains("compile.rtfs:3:"), "{r}");
    assert!(r.contains('^'), "{r}");

    // eval_str sources are named too.
    let e = rt.eval_str("(nth [1 2] 5)").unwrap_err();
    let r = rt.render_error(&e);
    assert!(r.contains(":1:1"), "{r}");
    assert!(r.contains("index"), "{r}");

    // Columns count characters: a multi-byte prefix does not shift them.
    let e = rt
        .eval_source("utf8.rtfs", "(str \"é✓\" (/ 1 0))".as_bytes())
        .unwrap_err();
    let r = rt.render_error(&e);
    assert!(r.contains("utf8.rtfs:1:11"), "{r}");
}

#[test]
fn errors_from_try_catch_finally_in_the_host() {
    let mut rt = Runtime::new();
    rt.capture_output();
    assert_eq!(
        eval(
            &mut rt,
            "(try (/ 1 0) (catch :division-by-zero e (str \"caught: \" (ex-message e))) (finally (println \"cleanup\")))"
        )
        .as_str()
        .map(|s| s.starts_with("caught: ")),
        Some(true)
    );
    assert_eq!(rt.take_output(), "cleanup\n");
    // No matching catch: the error propagates after finally.
    let e = rt
        .eval_str("(try (/ 1 0) (catch :type-error e 0) (finally (println \"f\")))")
        .unwrap_err();
    assert!(matches!(&e, Error::Runtime(r) if r.kind() == "division-by-zero"));
    assert_eq!(rt.take_output(), "f\n");
}

#[test]
fn runtimes_are_independent_and_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = Runtime::new();
    assert_send(&rt);
    let handles: Vec<_> = (0..2)
        .map(|i| {
            std::thread::spawn(move || {
                let mut rt = Runtime::new();
                rt.eval_str(&format!("(def n {i}) (reduce + n (range 100))"))
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results, [Ok(int(4950)), Ok(int(4951))]);
}

#[test]
fn catch_selectors() {
    let mut rt = Runtime::new();
    eval(&mut rt, "(defstruct Point :x Int :y Int)");
    let cases = [
        ("(/ 1 0)", ":division-by-zero"),
        ("(/ 1 0)", "Exception"),
        ("(/ 1 0)", "Error"),
        ("(/ 1 0)", "Throwable"),
        ("(/ 1 0)", "RuntimeError"),
        ("(/ 1 0)", "ArithmeticException"),
        ("(+ 9223372036854775807 1)", "ArithmeticException"),
        ("(inc \"a\")", "TypeError"),
        ("(inc 1 2)", "ArityError"),
        ("(Point {:x 1})", "ValidationError"),
        ("(throw (Foo. \"m\"))", "Foo"),
        ("(throw {:type :my-kind :message \"m\"})", ":my-kind"),
        ("(error \"plain\")", "Exception"),
        ("(call :no.such/cap)", ":unknown-capability"),
        ("(/ 1 0)", "Object"),
        ("(/ 1 0)", "RuntimeException"),
        ("(call :ccos.state.kv/get)", "HostError"),
        ("(call :no.such/cap)", "HostError"),
        ("(get-env \"HOME\")", "HostError"),
    ];
    for (body, selector) in cases {
        let src = format!("(try {body} (catch {selector} e :caught))");
        assert_eq!(eval(&mut rt, &src), kw("caught"), "{src}");
    }
    // A selector for another kind does not catch.
    for (body, selector) in [
        ("(/ 1 0)", "TypeError"),
        ("(inc \"a\")", ":arity-error"),
        // Exact kinds: no prefix of a kind, no other spelling of a keyword.
        ("(/ 1 0)", ":division"),
        ("(inc \"a\")", ":type"),
        ("(inc \"a\")", ":TypeError"),
    ] {
        let src = format!("(try {body} (catch {selector} e :caught))");
        assert!(rt.eval_str(&src).is_err(), "{src} should not be caught");
    }
    // The first matching clause wins.
    assert_eq!(
        eval(
            &mut rt,
            "(try (/ 1 0) (catch :type-error e 1) (catch ArithmeticException e 2) (catch e 3))"
        ),
        int(2)
    );
}

#[test]
fn deeply_nested_values_built_at_run_time() {
    // Values 100 times deeper than the reader's nesting limit, built by the program on a
    // thread with an ordinary 2 MiB stack: printing (cut at depth 1000), comparing, set
    // insertion and dropping them must neither overflow the native stack nor abort.
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let mut rt = Runtime::new();
            eval(
                &mut rt,
                "(defn nest [n] (reduce (fn [acc _] [acc]) [] (range n)))",
            );
            let a = eval(&mut rt, "(def a (nest 100000))");
            let b = eval(&mut rt, "(def b (nest 100000))");
            assert_eq!(a, b);
            let printed = a.pr_str();
            assert_eq!(printed.len(), 2005);
            let results = eval(
                &mut rt,
                "[(= a b) (count #{a b}) (count (pr-str a)) (count (flatten a))
                  (try (compare a b) (catch :limit-exceeded e 0))]",
            );
            let m = eval(
                &mut rt,
                "(count (str (reduce (fn [acc _] {:k acc}) nil (range 100000))))",
            );
            (results, m)
        })
        .unwrap();
    let (results, m) = handle.join().expect("no native stack overflow");
    assert_eq!(
        results,
        Value::vector([Value::Bool(true), int(1), int(2005), int(0), int(0)])
    );
    assert!(matches!(m, Value::Int(n) if n > 3000), "{m}");
}

#[test]
fn results_convert_to_rust_types_through_serde() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Step {
        name: String,
        cost: f64,
        tags: Vec<String>,
        done: Option<bool>,
    }
    let mut rt = Runtime::new();
    let steps: Vec<Step> = rt
        .eval_as(
            r#"[{:name "fetch" :cost 1.5 :tags [:io "net"] :done nil}
                     {:name "sum" :cost 2.0 :tags [] :done true}]"#,
        )
        .expect("typed result");
    assert_eq!(
        steps,
        vec![
            Step {
                name: "fetch".into(),
                cost: 1.5,
                tags: vec!["io".into(), "net".into()],
                done: None
            },
            Step {
                name: "sum".into(),
                cost: 2.0,
                tags: vec![],
                done: Some(true)
            },
        ]
    );
    // The wrong shape, or a value JSON cannot hold, is an error naming the problem.
    let err = rt
        .eval_as::<Vec<i64>>("{:a 1}")
        .expect_err("a map is not a Vec");
    assert!(err.to_string().contains("cannot convert map"), "{err}");
    assert!(rt.eval_as::<i64>("(fn [x] x)").is_err());
    let v = rt.eval_str("[1 2 3]").expect("value");
    assert_eq!(rtfs::value_as::<Vec<u8>>(&v).expect("bytes"), vec![1, 2, 3]);
}
