//! `rtfs-echo-model`: a reference model process for [`rtfs_models::ProcessProvider`]'s
//! JSON-lines protocol. It answers each request with `"<function> <args as JSON>"` and the
//! arguments as `value`. Request `params` let tests inject faults: `sleep_ms` delays the
//! reply, `crash` exits without replying, `garbage` replies with a line that is not JSON,
//! `error` replies with a provider error, `stderr` writes text to stderr first.

use std::io::{BufRead, Write};
use std::time::Duration;

use serde_json::{Value, json};

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        let req: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = writeln!(out, "{}", json!({"error": format!("bad request: {e}")}));
                let _ = out.flush();
                continue;
            }
        };
        let params = &req["params"];
        if let Some(text) = params["stderr"].as_str() {
            eprintln!("{text}");
        }
        if let Some(ms) = params["sleep_ms"].as_u64() {
            std::thread::sleep(Duration::from_millis(ms));
        }
        if params["crash"].as_bool() == Some(true) {
            std::process::exit(3);
        }
        let reply = if params["garbage"].as_bool() == Some(true) {
            "this is not json".to_string()
        } else if let Some(e) = params["error"].as_str() {
            json!({"id": req["id"], "error": e}).to_string()
        } else {
            let function = req["function"].as_str().unwrap_or("");
            json!({
                "id": req["id"],
                "text": format!("{function} {}", req["args"]),
                "value": req["args"],
                "usage": {"prompt_tokens": req["args"].as_array().map_or(0, |a| a.len())},
            })
            .to_string()
        };
        if writeln!(out, "{reply}").and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}
