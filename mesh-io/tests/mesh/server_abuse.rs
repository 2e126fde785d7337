//! `rtfs mesh serve` under abuse: unauthenticated and forged writes, slow and idle
//! connections, floods, and storage quotas. Real servers on 127.0.0.1 port 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rtfs_mesh_io::registry::http_server::{self, ServeOptions, ServerLimits};
use rtfs_mesh_io::registry::write_auth::{PUBLISHER_KEY_HEADER, WriteAuth};
use rtfs_mesh_io::{MemoryRegistry, PublisherKey, Registry, TrustStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::record;

const TOKEN: &str = "operator-token";

async fn serve(
    mem: Arc<MemoryRegistry>,
    auth: WriteAuth,
    limits: ServerLimits,
) -> http_server::ServerHandle {
    http_server::spawn(mem, "127.0.0.1:0", ServeOptions { auth, limits })
        .await
        .expect("server starts")
}

fn signed(name: &str, key: &PublisherKey, rv: u64) -> rtfs_mesh_io::FunctionRecord {
    let mut r = record(name, "1.0.0", &[("p", 0.1, 10.0)]);
    r.record_version = rv;
    key.sign(&mut r);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_a_token_or_a_trusted_signature() {
    let alice = PublisherKey::from_seed([1; 32]);
    let mallory = PublisherKey::from_seed([2; 32]);
    let mem = Arc::new(MemoryRegistry::new());
    let auth = WriteAuth {
        token: Some(TOKEN.into()),
        trust: Arc::new(TrustStore::new().trust("acme", alice.public())),
        claim_namespaces: false,
    };
    let server = serve(mem.clone(), auth, ServerLimits::default()).await;
    let http = reqwest::Client::new();
    let post = |body: String| {
        http.post(format!("{}/v1/records", server.url()))
            .header("content-type", "application/json")
            .body(body)
    };
    let unsigned = record("acme/f", "1.0.0", &[("p", 0.1, 10.0)]).to_json_string();

    let r = post(unsigned.clone()).send().await.expect("send");
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap_or_default().contains("Bearer"));
    let r = post(unsigned.clone())
        .bearer_auth("guess")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let r = post(signed("acme/f", &mallory, 1).to_json_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap_or_default().contains("unknown key"));
    // A record alice signed, then edited: the signature no longer holds.
    let mut forged = signed("acme/f", &alice, 1);
    forged.providers[0].endpoint = "https://evil.example/x".into();
    let r = post(forged.to_json_string()).send().await.expect("send");
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap_or_default().contains("signature"));
    // Alice, outside her namespace.
    let r = post(signed("other/f", &alice, 1).to_json_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    assert!(
        mem.list("**").await.expect("list").is_empty(),
        "nothing stored"
    );

    // Accepted: alice's signed record, and an operator's unsigned one.
    let r = post(signed("acme/f", &alice, 1).to_json_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let r = post(record("ops/g", "1.0.0", &[("p", 0.1, 10.0)]).to_json_string())
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);

    // Even the operator cannot replace alice's signed record with an unsigned one at the
    // highest record-version (which would lock her out for good).
    let mut lockout = record("acme/f", "9.0.0", &[("p", 0.1, 10.0)]);
    lockout.record_version = i64::MAX as u64;
    let r = http
        .put(format!("{}/v1/records/acme/f", server.url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(lockout.to_json_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 422);
    let kept = mem.lookup("acme/f").await.expect("lookup");
    assert_eq!(kept.record_version, 1);
    assert!(kept.signature.is_some());
    // Alice can still publish the next version.
    let r = http
        .put(format!("{}/v1/records/acme/f", server.url()))
        .header("content-type", "application/json")
        .body(signed("acme/f", &alice, 2).to_json_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_come_claims_bind_a_namespace_to_its_key() {
    let alice = PublisherKey::from_seed([3; 32]);
    let mallory = PublisherKey::from_seed([4; 32]);
    let mem = Arc::new(MemoryRegistry::new());
    let auth = WriteAuth {
        claim_namespaces: true,
        ..WriteAuth::default()
    };
    let server = serve(mem.clone(), auth, ServerLimits::default()).await;
    let http = reqwest::Client::new();
    let post = |r: rtfs_mesh_io::FunctionRecord, key: &PublisherKey| {
        http.post(format!("{}/v1/records", server.url()))
            .header(PUBLISHER_KEY_HEADER, key.public_hex())
            .body(r.to_json_string())
            .send()
    };
    assert_eq!(
        post(signed("team/a", &alice, 1), &alice)
            .await
            .expect("send")
            .status(),
        201
    );
    assert_eq!(
        post(signed("team/b", &alice, 1), &alice)
            .await
            .expect("send")
            .status(),
        201
    );
    let r = post(signed("team/c", &mallory, 1), &mallory)
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap_or_default().contains("held by key"));
    // Claiming with someone else's public key does not verify.
    let r = post(signed("fresh/c", &mallory, 1), &alice)
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    assert_eq!(mem.list("**").await.expect("list").len(), 2);
    server.stop().await;
}

/// Reads until the server closes the connection; how long that took.
async fn time_to_close(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_cut_and_health_keeps_answering() {
    let limits = ServerLimits {
        header_timeout: Duration::from_millis(400),
        request_timeout: Duration::from_millis(400),
        max_connections: 8,
        ..ServerLimits::default()
    };
    let server = serve(
        Arc::new(MemoryRegistry::new()),
        WriteAuth::default(),
        limits,
    )
    .await;
    let addr = server.addr;
    // Slowloris: a few header bytes, then nothing; and connections that send nothing.
    let mut slow = Vec::new();
    for i in 0..8 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        if i % 2 == 0 {
            s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("write");
        }
        slow.push(s);
    }
    // Every slot is taken: one more connection is closed at once.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut extra = TcpStream::connect(addr).await.expect("connect");
    let closed = time_to_close(&mut extra, Duration::from_millis(300)).await;
    assert!(closed.is_some(), "a connection past the cap is closed");
    // The header timeout frees every slot.
    for s in &mut slow {
        let t = time_to_close(s, Duration::from_secs(5)).await;
        assert!(t.is_some(), "a slow connection was never closed");
    }
    let health = reqwest::get(format!("{}/v1/health", server.url()))
        .await
        .expect("health answers");
    assert_eq!(health.status(), 200);

    // A body that never finishes: answered 408 (or cut) after the request timeout.
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(
        b"POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"partial\":",
    )
    .await
    .expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "a stalled body holds the connection");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_are_rate_limited_and_storage_has_a_quota() {
    let limits = ServerLimits {
        rate_per_sec: 5.0,
        rate_burst: 5.0,
        max_records: 1,
        ..ServerLimits::default()
    };
    let mem = Arc::new(MemoryRegistry::new());
    let auth = WriteAuth {
        token: Some(TOKEN.into()),
        ..WriteAuth::default()
    };
    let server = serve(mem.clone(), auth, limits).await;
    let http = reqwest::Client::new();
    let post = |name: &str| {
        http.post(format!("{}/v1/records", server.url()))
            .bearer_auth(TOKEN)
            .body(record(name, "1.0.0", &[("p", 0.1, 10.0)]).to_json_string())
            .send()
    };
    assert_eq!(post("q/a").await.expect("send").status(), 201);
    let r = post("q/b").await.expect("send");
    assert_eq!(r.status(), 507);
    assert!(r.text().await.unwrap_or_default().contains("quota"));
    assert_eq!(mem.list("**").await.expect("list").len(), 1);

    let mut limited = 0;
    for _ in 0..20 {
        let r = http
            .get(format!("{}/v1/health", server.url()))
            .send()
            .await
            .expect("send");
        if r.status() == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 10, "only {limited} of 20 requests were limited");
    server.stop().await;
}
