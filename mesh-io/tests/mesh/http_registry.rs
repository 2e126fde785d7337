use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::get;
use rtfs_mesh_io::registry::http_server;
use rtfs_mesh_io::registry::write_auth::WriteAuth;
use rtfs_mesh_io::{
    GlobalFunctionMesh, HttpRegistry, ManualClock, MemoryRegistry, MeshError, PublisherKey,
    Registry, TrustStore,
};

use crate::common::record;

const TOKEN: &str = "test-token";

async fn server_with(
    records: Vec<rtfs_mesh_io::FunctionRecord>,
) -> (Arc<MemoryRegistry>, http_server::ServerHandle) {
    let mem = Arc::new(MemoryRegistry::new());
    for r in records {
        mem.put(r);
    }
    let opts = http_server::ServeOptions {
        auth: WriteAuth {
            token: Some(TOKEN.into()),
            ..WriteAuth::default()
        },
        ..Default::default()
    };
    let h = http_server::spawn(mem.clone(), "127.0.0.1:0", opts)
        .await
        .unwrap();
    (mem, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etags_turn_unchanged_records_into_304s() {
    let (mem, server) = server_with(vec![record("a/b", "1.0.0", &[("p", 0.1, 10.0)])]).await;
    let client = HttpRegistry::new(&server.url(), Duration::from_secs(5)).unwrap();
    let r1 = client.lookup("a/b").await.unwrap();
    let r2 = client.lookup("a/b").await.unwrap();
    assert_eq!(r1, r2);
    let s = client.stats();
    assert_eq!((s.full, s.not_modified), (1, 1));
    // A change on the server gives a new body and a new ETag.
    let mut changed = record("a/b", "1.1.0", &[("q", 0.1, 10.0)]);
    changed.record_version = 1;
    mem.put(changed);
    assert_eq!(client.lookup("a/b").await.unwrap().providers[0].id, "q");
    assert_eq!(client.stats().full, 2);
    assert!(matches!(
        client.lookup("a/missing").await,
        Err(MeshError::NotFound(_))
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_http_304_exchange() {
    let (_mem, server) = server_with(vec![record("a/b", "1.0.0", &[("p", 0.1, 10.0)])]).await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/records/a/b", server.url());
    let first = http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let second = http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 304);
    assert!(second.bytes().await.unwrap().is_empty());
    let health = http
        .get(format!("{}/v1/health", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_update_and_list_over_http() {
    let (mem, server) = server_with(vec![]).await;
    let client = HttpRegistry::new(&server.url(), Duration::from_secs(5))
        .unwrap()
        .with_token(Some(TOKEN.into()));
    client
        .register(record("img/sharpen", "1.0.0", &[("p", 0.1, 10.0)]))
        .await
        .unwrap();
    assert!(matches!(
        client
            .register(record("img/sharpen", "1.0.0", &[("p", 0.1, 10.0)]))
            .await,
        Err(MeshError::Conflict(_))
    ));
    client
        .update(
            "img/sharpen",
            record("img/sharpen", "1.1.0", &[("p2", 0.1, 10.0)]),
        )
        .await
        .unwrap();
    assert_eq!(
        mem.lookup("img/sharpen").await.unwrap().providers[0].id,
        "p2"
    );
    client
        .register(record("img/blur", "1.0.0", &[("p", 0.1, 10.0)]))
        .await
        .unwrap();
    client
        .register(record("txt/upper", "1.0.0", &[("p", 0.1, 10.0)]))
        .await
        .unwrap();
    let names: Vec<String> = client
        .list("img/*")
        .await
        .unwrap()
        .iter()
        .map(|r| r.func_name.to_string())
        .collect();
    assert_eq!(names, ["img/blur", "img/sharpen"]);
    assert!(client.list("img/[").await.is_err());
}

async fn fake_server(app: Router) -> (String, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let t = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_down_slow_garbage_and_impostors() {
    // Down: nothing listens on the port.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let client = HttpRegistry::new(&dead, Duration::from_secs(2)).unwrap();
    assert!(client.lookup("a/b").await.unwrap_err().is_unavailable());

    // Slow: the client times out.
    let (slow, _t1) = fake_server(Router::new().route(
        "/v1/records/{*name}",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    ))
    .await;
    let client = HttpRegistry::new(&slow, Duration::from_millis(200)).unwrap();
    assert!(client.lookup("a/b").await.unwrap_err().is_unavailable());

    // Garbage: 200 with junk, a bogus 304, a 500.
    let (junk, _t2) = fake_server(
        Router::new()
            .route("/v1/records/a/junk", get(|| async { "<html>not json" }))
            .route(
                "/v1/records/a/weird",
                get(|| async { (axum::http::StatusCode::NOT_MODIFIED, "") }),
            )
            .route(
                "/v1/records/a/boom",
                get(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
            )
            .route(
                "/v1/records/a/other",
                get(|| async {
                    record("a/impostor", "1.0.0", &[("p", 0.0, 1.0)]).to_json_string()
                }),
            )
            .route("/v1/list", get(|| async { "{\"not\": \"a list\"}" })),
    )
    .await;
    let client = HttpRegistry::new(&junk, Duration::from_secs(2)).unwrap();
    assert!(matches!(
        client.lookup("a/junk").await,
        Err(MeshError::BadResponse { .. })
    ));
    assert!(matches!(
        client.lookup("a/weird").await,
        Err(MeshError::BadResponse { .. })
    ));
    assert!(client.lookup("a/boom").await.unwrap_err().is_unavailable());
    assert!(matches!(
        client.lookup("a/other").await,
        Err(MeshError::Rejected { .. })
    ));
    assert!(matches!(
        client.list("*/*").await,
        Err(MeshError::BadResponse { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_over_http_with_signed_records() {
    let key = PublisherKey::from_seed([9; 32]);
    let mut r = record("acme.com/img/sharpen", "1.0.0", &[("p", 0.1, 10.0)]);
    r.record_version = 1;
    key.sign(&mut r);
    let (mem, server) = server_with(vec![r]).await;
    let client = Arc::new(HttpRegistry::new(&server.url(), Duration::from_secs(5)).unwrap());
    let clock = Arc::new(ManualClock::new());
    let mesh = GlobalFunctionMesh::builder(client.clone())
        .with_clock(clock.clone())
        .with_trust_store(Arc::new(TrustStore::new().trust("acme.com", key.public())))
        .build();
    let name = "acme.com/img/sharpen";
    assert_eq!(mesh.select(name).await.unwrap().provider().id, "p");

    // The server starts serving bad records: each is refused, "p" stays in use.
    let mallory = PublisherKey::from_seed([10; 32]);
    let bad = |rv: u64, signer: &PublisherKey, expired: bool| {
        let mut r = record(name, "1.0.0", &[("evil", 0.0, 1.0)]);
        r.record_version = rv;
        if expired {
            r.expires = Some(SystemTime::now() - Duration::from_secs(60));
        }
        signer.sign(&mut r);
        r
    };
    for (r, why) in [
        (bad(0, &key, false), "rollback"),
        (bad(5, &key, true), "expired"),
        (bad(5, &mallory, false), "unknown key"),
    ] {
        mem.put(r);
        clock.advance(Duration::from_secs(600));
        let res = mesh.resolve(name).await.unwrap();
        assert_eq!(res.entry.providers[0].provider.id, "p", "{why}");
        assert!(res.warnings().any(|w| w.contains(why)), "{why}");
    }
    // The server goes away: the entry is served stale.
    server.stop().await;
    clock.advance(Duration::from_secs(600));
    let res = mesh.resolve(name).await.unwrap();
    assert!(res.is_stale());
    assert_eq!(res.entry.providers[0].provider.id, "p");
}
