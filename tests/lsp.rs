//! `rtfs lsp` driven over stdio with real JSON-RPC messages: the binary is spawned and
//! spoken to as an editor would.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_rtfs");

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications seen while waiting for responses.
    notes: Vec<Value>,
}

impl Client {
    fn start(root: Option<&std::path::Path>) -> Client {
        let mut child = Command::new(BIN)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rtfs lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 1,
            notes: Vec::new(),
        };
        let root_uri = root.map(|p| format!("file://{}", p.display()));
        let init = c.request(
            "initialize",
            json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
        );
        assert!(init["capabilities"]["hoverProvider"].as_bool().unwrap());
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn recv(&mut self) -> Value {
        self.rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answered within 60 s")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.recv();
            if m["id"] == json!(id) {
                if let Some(e) = m.get("error") {
                    return json!({"error": e});
                }
                return m["result"].clone();
            }
            self.notes.push(m);
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next publishDiagnostics for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.notes.iter().position(|n| n["params"]["uri"] == uri) {
            let n = self.notes.remove(i);
            return n["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.recv();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.notes.push(m);
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "rtfs", "version": 1, "text": text}}),
        );
        self.diagnostics(uri)
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        self.diagnostics(uri)
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32, extra: Value) -> Value {
        let mut p = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
        if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.request(method, p)
    }

    fn shutdown(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
    }
}

const MAIN: &str = "file:///project/main.rtfs";
const LIB: &str = "file:///project/lib.rtfs";

const LIB_SRC: &str = "(defn square\n  \"Multiplies x by itself.\"\n  [x]\n  (* x x))\n";
const MAIN_SRC: &str = "(defn total [xs]\n  (let [n (count xs)\n        sq (map square xs)]\n    (+ n (reduce + sq))))\n(total [1 2 :three])\n";

#[test]
fn diagnostics_follow_edits() {
    let mut c = Client::start(None);
    assert!(c.open(MAIN, "(defn f [x] (* x 2))\n(f 1)\n").is_empty());
    let d = c.change(MAIN, 2, "(defn f [x] (* x 2))\n(f 1\n");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["severity"], 1);
    assert_eq!(d[0]["source"], "rtfs");
    let d = c.change(MAIN, 3, "(defn f [x] (* x 2))\n(let [y] y)\n");
    assert!(!d.is_empty(), "a compile error is reported");
    assert_eq!(d[0]["range"]["start"]["line"], 1, "{d:?}");
    assert!(
        c.change(MAIN, 4, "(defn f [x] (* x 3))\n(f 1)\n")
            .is_empty()
    );
    c.shutdown();
}

#[test]
fn hover_definition_references_across_files() {
    let mut c = Client::start(None);
    c.open(LIB, LIB_SRC);
    c.open(MAIN, MAIN_SRC);
    // `square` in main.rtfs, line 2 (0-based), inside "(map square xs)".
    let col = MAIN_SRC.lines().nth(2).unwrap().find("square").unwrap() as u32 + 2;
    let h = c.at("textDocument/hover", MAIN, 2, col, json!({}));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("(defn square [x])"), "{md}");
    assert!(md.contains("Multiplies x by itself."), "{md}");
    assert!(md.contains("**pure**"), "{md}");
    let def = c.at("textDocument/definition", MAIN, 2, col, json!({}));
    assert_eq!(def["uri"], LIB);
    assert_eq!(def["range"]["start"], json!({"line": 0, "character": 6}));
    let refs = c.at(
        "textDocument/references",
        LIB,
        0,
        8,
        json!({"context": {"includeDeclaration": true}}),
    );
    let uris: Vec<_> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(uris, vec![LIB.to_string(), MAIN.to_string()], "{refs}");
    // A local: `n` in "(+ n ...)" goes to its let binding.
    let def = c.at("textDocument/definition", MAIN, 3, 7, json!({}));
    assert_eq!(def["range"]["start"], json!({"line": 1, "character": 8}));
    // A built-in.
    let h = c.at("textDocument/hover", MAIN, 1, 12, json!({}));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("built-in"),
        "{h}"
    );
    c.shutdown();
}

#[test]
fn completion_symbols_tokens_and_rename() {
    let mut c = Client::start(None);
    c.open(LIB, LIB_SRC);
    c.open(MAIN, MAIN_SRC);
    let items = c.at("textDocument/completion", MAIN, 3, 8, json!({}));
    let labels: Vec<String> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect();
    // Cursor after "(+ n" is after `n`: locals, globals and built-ins starting with "n".
    assert!(labels.contains(&"n".to_string()), "{labels:?}");
    assert!(labels.iter().all(|l| l.starts_with('n')), "{labels:?}");
    let text2 = format!("{MAIN_SRC}(total [:th])\n");
    c.change(MAIN, 2, &text2);
    let line = text2.lines().count() as u32 - 1;
    let items = c.at("textDocument/completion", MAIN, line, 11, json!({}));
    let labels: Vec<String> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels, vec![":three".to_string()]);

    let syms = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": MAIN}}),
    );
    assert_eq!(syms[0]["name"], "total");
    assert_eq!(syms[0]["detail"], "[xs]");

    let toks = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": LIB}}),
    );
    let data = toks["data"].as_array().unwrap();
    assert_eq!(data.len() % 5, 0);
    // First token: `defn` (a special form → keyword type 3) at 0:1, length 4.
    assert_eq!(&data[..4], &[json!(0), json!(1), json!(4), json!(3)]);

    let edit = c.at("textDocument/rename", LIB, 0, 8, json!({"newName": "sq2"}));
    let ch = &edit["changes"];
    assert_eq!(ch[LIB].as_array().unwrap().len(), 1);
    assert_eq!(ch[MAIN].as_array().unwrap().len(), 1);
    assert_eq!(ch[MAIN][0]["newText"], "sq2");
    // Locals: `xs` has three occurrences in total.
    let edit = c.at(
        "textDocument/rename",
        MAIN,
        0,
        13,
        json!({"newName": "items"}),
    );
    assert_eq!(edit["changes"][MAIN].as_array().unwrap().len(), 3, "{edit}");
    let bad = c.at(
        "textDocument/rename",
        MAIN,
        0,
        13,
        json!({"newName": "(oops"}),
    );
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a valid"),
        "{bad}"
    );
    let builtin = c.at(
        "textDocument/rename",
        MAIN,
        1,
        12,
        json!({"newName": "cnt"}),
    );
    assert!(builtin.get("error").is_some(), "{builtin}");
    c.shutdown();
}

#[test]
fn workspace_files_are_found_without_opening_them() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lsp-ws-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lib.rtfs"), LIB_SRC).unwrap();
    let mut c = Client::start(Some(&dir));
    let main = format!("file://{}/main.rtfs", dir.display());
    c.open(&main, MAIN_SRC);
    let col = MAIN_SRC.lines().nth(2).unwrap().find("square").unwrap() as u32;
    let def = c.at("textDocument/definition", &main, 2, col, json!({}));
    assert_eq!(def["uri"], format!("file://{}/src/lib.rtfs", dir.display()));
    c.shutdown();
}

#[test]
fn unknown_requests_and_garbage_get_errors_not_crashes() {
    let mut c = Client::start(None);
    let r = c.request("textDocument/formatting-nonsense", json!({}));
    assert!(r.get("error").is_some());
    let r = c.request("textDocument/hover", json!({"textDocument": {"uri": "file:///nope.rtfs"}, "position": {"line": 0, "character": 0}}));
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown document")
    );
    let r = c.request("textDocument/hover", json!({}));
    assert!(r.get("error").is_some());
    c.shutdown();
}
