//! An example host wiring the Delegation Engine end to end: a policy (a string), a local
//! rules model and a "remote" OpenAI-compatible model configured by that policy, the
//! remote model served by a loopback server this program starts on 127.0.0.1:0, and a
//! Global Function Mesh over a directory registry (in a temp dir) whose one capability
//! record points at an in-process provider. It runs a small plan, prints the result, then
//! prints the causal chain and verifies it.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use rtfs_mesh_io::{
    DirRegistry, FunctionName, FunctionRecord, GlobalFunctionMesh, ProviderRef, Registry,
};
use rtfs_runtime::Runtime;

const PLAN: &str = r#"
(defn classify ^:delegation :local-model "sentiment-rules" [text] :never)
(defn summarize ^:delegation :remote "summarizer" [text] :never)
(let [report "Q3 sales rose 12% while costs stayed flat"]
  {:sentiment (classify "I love this product")
   :summary (summarize report)
   :summary-again (summarize report)
   :vat (call :acme.tax/rate "FR")})
"#;

fn policy(remote_base: &str) -> String {
    format!(
        r#"
[models.sentiment-rules]
kind = "local"
provider = "rules"
[[models.sentiment-rules.rule]]
function = "classify"
args = '(?i)(love|great)'
text = "positive"
value = "positive"
[[models.sentiment-rules.rule]]
text = "neutral"
value = "neutral"

[models.summarizer]
kind = "remote"
provider = "openai"
base_url = "{remote_base}"
model = "loopback-summarizer"
timeout_ms = 2000
retries = 1

[cache.l2]
ttl_secs = 600
max_entries = 1000
"#
    )
}

/// The loopback "remote" model: an OpenAI-compatible chat-completions endpoint.
fn start_model_server(rt: &tokio::runtime::Runtime) -> Result<String, String> {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|_body: String| async {
            serde_json::json!({
                "id": "c1", "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant",
                    "content": "{\"summary\": \"sales up, costs flat\"}"}}]
            })
            .to_string()
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| format!("addr: {e}"))?;
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/v1"))
}

/// A directory registry holding one record: `acme.tax/rate`, served in process.
fn mesh(rt: &tokio::runtime::Runtime, dir: &Path) -> Result<Arc<GlobalFunctionMesh>, String> {
    let reg = DirRegistry::create(dir).map_err(|e| format!("registry: {e}"))?;
    let name = FunctionName::parse("acme.tax/rate").map_err(|e| format!("name: {e}"))?;
    let mut provider = ProviderRef::new("acme-tax-inproc", "local:acme.tax.rate-impl");
    provider.sla_tier = "standard".into();
    let record = FunctionRecord::new(name, semver::Version::new(1, 0, 0), vec![provider]);
    rt.block_on(reg.register(record))
        .map_err(|e| format!("register: {e}"))?;
    Ok(Arc::new(GlobalFunctionMesh::builder(Arc::new(reg)).build()))
}

fn run(work: &Path) -> Result<(), String> {
    let io = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let base = start_model_server(&io)?;
    let policy = rtfs_delegation::Policy::parse(&policy(&base)).map_err(|e| e.to_string())?;
    let chain_path = work.join("chain.jsonl");
    let sink = Arc::new(
        rtfs_chain::FileSink::open(&chain_path, rtfs_chain::ChainConfig::default())
            .map_err(|e| format!("chain: {e}"))?,
    );
    let mut rt = Runtime::builder()
        .policy(policy)
        .mesh(mesh(&io, &work.join("registry"))?)
        .capability("acme.tax.rate-impl", |_, args| match args {
            [rtfs_ir::Value::Str(c)] if c.as_str() == "FR" => Ok(rtfs_ir::Value::Float(0.2)),
            _ => Ok(rtfs_ir::Value::Float(0.1)),
        })
        .chain(sink.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let v = rt.eval_str(PLAN).map_err(|e| rt.render_error(&e))?;
    println!("plan result: {}", v.pr_str());
    drop(rt);
    drop(sink);

    println!("\ncausal chain ({}):", chain_path.display());
    let text = std::fs::read_to_string(&chain_path).map_err(|e| format!("read chain: {e}"))?;
    for line in text.lines() {
        println!("  {line}");
    }
    let report = rtfs_chain::verify(&chain_path).map_err(|e| format!("verify: {e}"))?;
    println!(
        "\nchain verify: {:?}, {} entries, root {:?}",
        report.status, report.entries, report.root
    );
    Ok(())
}

fn main() {
    let work = std::env::temp_dir().join(format!("rtfs-delegation-host-{}", std::process::id()));
    let r = std::fs::create_dir_all(&work)
        .map_err(|e| format!("temp dir: {e}"))
        .and_then(|_| run(&work));
    let _ = std::fs::remove_dir_all(&work);
    if let Err(e) = r {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
