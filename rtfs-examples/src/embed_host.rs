//! An example host application embedding RTFS: it registers a host function and a
//! capability, evaluates a plan, and calls an RTFS function from Rust.

use rtfs::{RtError, Runtime, Value};

fn main() {
    let mut rt = Runtime::new();

    // A host function callable as (tax-rate "FR").
    rt.register_fn("tax-rate", 1, 1, |_, args| match args {
        [Value::Str(country)] if country.as_str() == "FR" => Ok(Value::Float(0.2)),
        [Value::Str(_)] => Ok(Value::Float(0.1)),
        [other] => Err(RtError::expected(
            "tax-rate",
            "a country code string",
            other,
        )),
        _ => Err(RtError::arity("tax-rate", "1", args.len())),
    });

    // A capability reached with (call :shop/price sku).
    rt.register_capability("shop/price", |_, args| match args {
        [Value::Str(sku)] if sku.as_str() == "book" => Ok(Value::Int(12)),
        [Value::Str(sku)] => Err(RtError::new(
            "capability-error",
            format!("no price for {sku}"),
        )),
        _ => Err(RtError::arity("shop/price", "1", args.len())),
    });

    let plan = r#"
        (defn price-with-tax [sku country]
          (let [net (call :shop/price sku)]
            (* net (+ 1 (tax-rate country)))))
        {:book (price-with-tax "book" "FR")
         :missing (try (price-with-tax "pen" "FR") (catch e (ex-message e)))}
    "#;
    match rt.eval_str(plan) {
        Ok(v) => println!("plan result: {}", v.pr_str()),
        Err(e) => {
            eprint!("{}", rt.render_error(&e));
            std::process::exit(e.exit_code());
        }
    }

    // Call back into RTFS from Rust.
    let f = match rt.eval_str("price-with-tax") {
        Ok(f) => f,
        Err(e) => {
            eprint!("{}", rt.render_error(&e));
            std::process::exit(1);
        }
    };
    match rt.call(&f, &[Value::str("book"), Value::str("DE")]) {
        Ok(v) => println!("book in DE: {}", v.pr_str()),
        Err(e) => eprint!("{}", rt.render_error(&e)),
    }
}
