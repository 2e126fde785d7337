//! `rtfs lsp`: a language server on stdin/stdout (JSON-RPC framing by `lsp-server`).
//!
//! Diagnostics come from the incremental compiler (`Runtime::check_incremental`, over the
//! salsa database of `rtfs_compiler::db`): an edit re-lowers only the forms it changed. The
//! editor features (hover, definition, references, completion, symbols, semantic tokens,
//! rename) work on a per-document syntax index, rebuilt from the read forms on each edit.
//! Documents are synchronised whole (`TextDocumentSyncKind::Full`).

mod analysis;
mod features;
pub(crate) mod index;
mod text;

use std::collections::HashMap;
use std::path::Path;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use serde_json::{Value as Json, json};

use analysis::Document;

pub use features::TOKEN_TYPES;

/// A document's text and syntax index as the server keeps it, for benchmarks and embedders
/// that want the server's analysis without the protocol.
pub struct DocumentIndex(Document);

impl DocumentIndex {
    pub fn new(text: String) -> DocumentIndex {
        DocumentIndex(Document::new(text))
    }

    /// Definitions found (top-level and local).
    pub fn definitions(&self) -> usize {
        self.0.index.defs.len()
    }
}

/// Workspace files indexed at start-up, at most (a guard against huge trees).
const MAX_WORKSPACE_FILES: usize = 5000;

pub struct Server {
    /// Open documents and workspace files, by URI.
    docs: HashMap<String, Document>,
    open: std::collections::HashSet<String>,
    rt: rtfs_runtime::Runtime,
}

/// Runs the server until the client says `exit`. Exit code 0 after `shutdown`, 1 otherwise.
pub fn run() -> i32 {
    let (conn, io) = Connection::stdio();
    let code = match serve(&conn) {
        Ok(clean) => i32::from(!clean),
        Err(e) => {
            eprintln!("rtfs lsp: {e}");
            1
        }
    };
    drop(conn);
    let _ = io.join();
    code
}

fn capabilities() -> Json {
    json!({
        "textDocumentSync": 1,
        "hoverProvider": true,
        "definitionProvider": true,
        "referencesProvider": true,
        "documentSymbolProvider": true,
        "renameProvider": {"prepareProvider": true},
        "completionProvider": {"triggerCharacters": [":", "("]},
        "semanticTokensProvider": {
            "legend": {"tokenTypes": TOKEN_TYPES, "tokenModifiers": ["defaultLibrary"]},
            "full": true,
        },
    })
}

fn serve(conn: &Connection) -> Result<bool, String> {
    let (id, params) = conn.initialize_start().map_err(|e| e.to_string())?;
    conn.initialize_finish(
        id,
        json!({"capabilities": capabilities(), "serverInfo": {"name": "rtfs", "version": env!("CARGO_PKG_VERSION")}}),
    )
    .map_err(|e| e.to_string())?;
    let mut server = Server {
        docs: HashMap::new(),
        open: Default::default(),
        rt: rtfs_runtime::Runtime::new(),
    };
    if let Some(root) = params
        .get("rootUri")
        .and_then(Json::as_str)
        .and_then(uri_to_path)
    {
        server.index_workspace(Path::new(&root));
    }
    let mut shutdown = false;
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) => {
                if req.method == "shutdown" {
                    shutdown = true;
                    send(
                        conn,
                        Message::Response(Response::new_ok(req.id, Json::Null)),
                    )?;
                    continue;
                }
                let resp = server.request(req);
                send(conn, Message::Response(resp))?;
            }
            Message::Notification(n) => {
                if n.method == "exit" {
                    return Ok(shutdown);
                }
                for out in server.notification(n) {
                    send(conn, Message::Notification(out))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(shutdown)
}

fn send(conn: &Connection, m: Message) -> Result<(), String> {
    conn.sender.send(m).map_err(|e| e.to_string())
}

fn uri_to_path(uri: &str) -> Option<String> {
    let p = uri.strip_prefix("file://")?;
    let mut out = Vec::with_capacity(p.len());
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn path_to_uri(p: &Path) -> String {
    let mut s = String::from("file://");
    for b in p.display().to_string().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

impl Server {
    fn index_workspace(&mut self, root: &Path) {
        let mut stack = vec![root.to_path_buf()];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    if !name.starts_with('.') && name != "target" && name != "node_modules" {
                        stack.push(p);
                    }
                } else if name.ends_with(".rtfs")
                    && seen < MAX_WORKSPACE_FILES
                    && let Ok(text) = std::fs::read_to_string(&p)
                {
                    self.docs.insert(path_to_uri(&p), Document::new(text));
                    seen += 1;
                }
            }
        }
    }

    fn notification(&mut self, n: Notification) -> Vec<Notification> {
        let p = &n.params;
        let uri = p["textDocument"]["uri"].as_str().unwrap_or("").to_string();
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let text = p["textDocument"]["text"].as_str().unwrap_or("").to_string();
                self.open.insert(uri.clone());
                self.docs.insert(uri.clone(), Document::new(text));
                vec![self.diagnostics(&uri)]
            }
            "textDocument/didChange" => {
                let Some(text) = p["contentChanges"]
                    .as_array()
                    .and_then(|c| c.last())
                    .and_then(|c| c["text"].as_str())
                else {
                    return Vec::new();
                };
                match self.docs.get_mut(&uri) {
                    Some(d) => d.set_text(text.to_string()),
                    None => {
                        self.docs
                            .insert(uri.clone(), Document::new(text.to_string()));
                    }
                }
                vec![self.diagnostics(&uri)]
            }
            "textDocument/didClose" => {
                self.open.remove(&uri);
                vec![Notification::new(
                    "textDocument/publishDiagnostics".into(),
                    json!({"uri": uri, "diagnostics": []}),
                )]
            }
            _ => Vec::new(),
        }
    }

    /// Checks the document with the incremental compiler and publishes what it found.
    pub fn diagnostics(&mut self, uri: &str) -> Notification {
        let Some(doc) = self.docs.get(uri) else {
            return Notification::new(
                "textDocument/publishDiagnostics".into(),
                json!({"uri": uri, "diagnostics": []}),
            );
        };
        let diags = match self.rt.check_incremental(uri, &doc.text) {
            Ok(_) => Vec::new(),
            Err(rtfs_runtime::Error::Parse(d) | rtfs_runtime::Error::Compile(d)) => d,
            Err(e) => {
                return Notification::new(
                    "textDocument/publishDiagnostics".into(),
                    json!({"uri": uri, "diagnostics": [{
                        "range": doc.lines.range(&doc.text, 0, 0),
                        "severity": 1, "source": "rtfs", "message": e.to_string(),
                    }]}),
                );
            }
        };
        let items: Vec<Json> = diags
            .iter()
            .map(|d| {
                let r = d.span.range();
                let mut m = d.message.clone();
                if let Some(h) = &d.help {
                    m.push_str("\nhelp: ");
                    m.push_str(h);
                }
                json!({
                    "range": doc.lines.range(&doc.text, r.start, r.end),
                    "severity": if d.is_error() { 1 } else { 2 },
                    "code": d.code,
                    "source": "rtfs",
                    "message": m,
                })
            })
            .collect();
        Notification::new(
            "textDocument/publishDiagnostics".into(),
            json!({"uri": uri, "diagnostics": items}),
        )
    }

    fn request(&mut self, req: Request) -> Response {
        let result = match req.method.as_str() {
            "textDocument/hover" => features::hover(self, &req.params),
            "textDocument/definition" => features::definition(self, &req.params),
            "textDocument/references" => features::references(self, &req.params),
            "textDocument/completion" => features::completion(self, &req.params),
            "textDocument/documentSymbol" => features::document_symbols(self, &req.params),
            "textDocument/semanticTokens/full" => features::semantic_tokens(self, &req.params),
            "textDocument/prepareRename" => features::prepare_rename(self, &req.params),
            "textDocument/rename" => features::rename(self, &req.params),
            m => {
                return Response::new_err(
                    req.id,
                    ErrorCode::MethodNotFound as i32,
                    format!("rtfs lsp does not handle {m}"),
                );
            }
        };
        match result {
            Ok(v) => Response::new_ok(req.id, v),
            Err(msg) => Response::new_err(req.id, ErrorCode::InvalidParams as i32, msg),
        }
    }
}
