//! Serves any [`Registry`] over HTTP.
//!
//! `GET /v1/records/{name}` answers with the record's JSON and a strong ETag (blake3 of the
//! body); a request whose `If-None-Match` carries that ETag gets `304 Not Modified` with no
//! body, so polling an unchanged record costs a header exchange. `POST /v1/records`
//! registers, `PUT /v1/records/{name}` updates, `GET /v1/list?pattern=GLOB` lists, and
//! `GET /v1/health` answers `ok`. Errors are JSON `{"error": ..., "kind": ...}` with a
//! status that tells clients whether to fail over (5xx) or not (4xx).
//!
//! Writes are authorised by [`WriteAuth`] (a bearer token, or a record signed by a publisher
//! key trusted for its namespace); others get 401/403 and nothing is stored. The server
//! bounds what one client can hold ([`ServerLimits`]): the time to send request headers (also
//! the idle time between requests), the time to send a body and be answered, the lifetime of
//! a connection, the number of open connections, the request rate per client address, and
//! the records and bytes stored through it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

use super::Registry;
use super::write_auth::{Credentials, PUBLISHER_KEY_HEADER, Refusal, WriteAuth};
use crate::error::{MeshError, Result};
use crate::json::MAX_RECORD_BYTES;
use crate::record::FunctionRecord;
use crate::signing::to_hex;

/// What one client may hold of a server.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// To send a request's headers, from the connection's start or the previous answer
    /// (so also the longest idle time between requests).
    pub header_timeout: Duration,
    /// To send a request's body and get the answer.
    pub request_timeout: Duration,
    /// Longest a connection stays open, however busy.
    pub connection_lifetime: Duration,
    /// Open connections at once; further ones are closed as they arrive.
    pub max_connections: usize,
    /// Requests per second per client address (a token bucket of `rate_burst`).
    pub rate_per_sec: f64,
    pub rate_burst: f64,
    /// Records a registry may hold before writes of new names are refused (507).
    pub max_records: usize,
    /// Bytes of record JSON a registry may hold before writes are refused (507).
    pub max_bytes: u64,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            connection_lifetime: Duration::from_secs(300),
            max_connections: 1024,
            rate_per_sec: 100.0,
            rate_burst: 200.0,
            max_records: 100_000,
            max_bytes: 1 << 30,
        }
    }
}

/// How a registry is served: who may write, and the limits.
#[derive(Clone, Default)]
pub struct ServeOptions {
    pub auth: WriteAuth,
    pub limits: ServerLimits,
}

/// Records and bytes stored, counted once from the registry and kept up to date by writes.
#[derive(Clone, Copy)]
struct Usage {
    records: usize,
    bytes: u64,
}

/// Most client addresses whose request rate is tracked; past it the table starts afresh.
const RATE_TABLE_MAX: usize = 65_536;

struct App {
    reg: Arc<dyn Registry>,
    opts: ServeOptions,
    /// Per client address: tokens left and when they were last counted.
    rate: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    /// Writes run one at a time, so the quota check and the write cannot interleave.
    writes: tokio::sync::Mutex<Option<Usage>>,
}

type Shared = Arc<App>;

pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", to_hex(&blake3::hash(body).as_bytes()[..16]))
}

fn error_response(e: &MeshError) -> Response {
    let (status, kind) = match e {
        MeshError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
        MeshError::InvalidRecord { .. } => (StatusCode::BAD_REQUEST, "invalid-record"),
        MeshError::InvalidName { .. } => (StatusCode::BAD_REQUEST, "invalid-name"),
        MeshError::InvalidVersion { .. } => (StatusCode::BAD_REQUEST, "invalid-version"),
        MeshError::Config(_) => (StatusCode::BAD_REQUEST, "bad-request"),
        MeshError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        MeshError::Rejected { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "rejected"),
        MeshError::Unsupported(_) => (StatusCode::NOT_IMPLEMENTED, "unsupported"),
        e if e.is_unavailable() => (StatusCode::BAD_GATEWAY, "upstream-unavailable"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    let body = json!({"error": e.to_string(), "kind": kind}).to_string();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

fn json_with_etag(headers: &HeaderMap, body: String) -> Response {
    let etag = etag_of(body.as_bytes());
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    if matches_etag(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag_value),
        ],
        body,
    )
        .into_response()
}

fn refusal_response(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"error": message, "kind": kind}).to_string();
    let mut resp = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

fn credentials(headers: &HeaderMap) -> Credentials<'_> {
    Credentials {
        bearer: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim),
        publisher_key: headers
            .get(PUBLISHER_KEY_HEADER)
            .and_then(|v| v.to_str().ok()),
    }
}

impl App {
    /// Authorises a write of `record`; `Err` is the answer to send.
    async fn authorise(&self, record: &FunctionRecord, headers: &HeaderMap) -> Option<Response> {
        let creds = credentials(headers);
        match self
            .opts
            .auth
            .check(&*self.reg, record, &creds, SystemTime::now())
            .await
        {
            Ok(()) => None,
            Err(Refusal::Unauthenticated(m)) => Some(refusal_response(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                &m,
            )),
            Err(Refusal::Forbidden(m)) => {
                Some(refusal_response(StatusCode::FORBIDDEN, "forbidden", &m))
            }
        }
    }

    async fn usage(&self) -> std::result::Result<Usage, MeshError> {
        let records = self.reg.list("**").await?;
        Ok(Usage {
            records: records.len(),
            bytes: records
                .iter()
                .map(|r| r.to_json_string().len() as u64)
                .sum(),
        })
    }

    /// Refuses a write that would take the registry past its quota.
    fn over_quota(&self, u: Usage, new_records: usize, new_bytes: u64) -> Option<Response> {
        let l = &self.opts.limits;
        let (records, bytes) = (u.records + new_records, u.bytes.saturating_add(new_bytes));
        (records > l.max_records || bytes > l.max_bytes).then(|| {
            refusal_response(
                StatusCode::INSUFFICIENT_STORAGE,
                "quota",
                &format!(
                    "storage quota reached: this write would make {records} records / {bytes} \
                     bytes (limits {} / {})",
                    l.max_records, l.max_bytes
                ),
            )
        })
    }

    /// Takes a token from `ip`'s bucket; false when it is empty.
    fn admit(&self, ip: IpAddr) -> bool {
        let l = &self.opts.limits;
        let now = Instant::now();
        let mut table = self.rate.lock().unwrap_or_else(|p| p.into_inner());
        if table.len() >= RATE_TABLE_MAX && !table.contains_key(&ip) {
            table.clear();
        }
        let (tokens, last) = table.entry(ip).or_insert((l.rate_burst, now));
        let refill = now.duration_since(*last).as_secs_f64() * l.rate_per_sec;
        *tokens = (*tokens + refill).min(l.rate_burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-client rate limit, then the request (body included) under the request timeout.
async fn guard(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = peer
        && !app.admit(ip)
    {
        let mut r = refusal_response(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "too many requests from this address; retry later",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    match tokio::time::timeout(app.opts.limits.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => refusal_response(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request was not received and answered in time",
        ),
    }
}

async fn get_record(
    State(app): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    match app.reg.lookup(&name).await {
        Ok(r) => json_with_etag(&headers, r.to_json_string()),
        Err(e) => error_response(&e),
    }
}

async fn post_record(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let record = match FunctionRecord::from_json_bytes(&body) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    if let Some(refused) = app.authorise(&record, &headers).await {
        return refused;
    }
    let mut usage = app.writes.lock().await;
    let u = match *usage {
        Some(u) => u,
        None => match app.usage().await {
            Ok(u) => u,
            Err(e) => return error_response(&e),
        },
    };
    let size = record.to_json_string().len() as u64;
    if let Some(refused) = app.over_quota(u, 1, size) {
        return refused;
    }
    match app.reg.register(record).await {
        Ok(()) => {
            *usage = Some(Usage {
                records: u.records + 1,
                bytes: u.bytes + size,
            });
            (StatusCode::CREATED, "{\"ok\":true}").into_response()
        }
        Err(e) => error_response(&e),
    }
}

async fn put_record(
    State(app): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let record = match FunctionRecord::from_json_bytes(&body) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    if let Some(refused) = app.authorise(&record, &headers).await {
        return refused;
    }
    let mut usage = app.writes.lock().await;
    let u = match *usage {
        Some(u) => u,
        None => match app.usage().await {
            Ok(u) => u,
            Err(e) => return error_response(&e),
        },
    };
    let old = match app.reg.lookup(&name).await {
        Ok(old) => old.to_json_string().len() as u64,
        Err(e) => return error_response(&e),
    };
    let size = record.to_json_string().len() as u64;
    if let Some(refused) = app.over_quota(u, 0, size.saturating_sub(old)) {
        return refused;
    }
    match app.reg.update(&name, record).await {
        Ok(()) => {
            *usage = Some(Usage {
                records: u.records,
                bytes: (u.bytes + size).saturating_sub(old),
            });
            (StatusCode::OK, "{\"ok\":true}").into_response()
        }
        Err(e) => error_response(&e),
    }
}

#[derive(serde::Deserialize)]
struct ListQuery {
    pattern: Option<String>,
}

async fn list(
    State(app): State<Shared>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let pattern = q.pattern.unwrap_or_else(|| "**".into());
    match app.reg.list(&pattern).await {
        Ok(records) => {
            let mut body = String::from("[");
            for (i, r) in records.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&r.to_json_string());
            }
            body.push(']');
            json_with_etag(&headers, body)
        }
        Err(e) => error_response(&e),
    }
}

/// The HTTP routes over `registry`, with `opts`' write policy, rate limit and request
/// timeout (the connection limits are the accept loop's: see [`serve_with`]).
pub fn router(registry: Arc<dyn Registry>, opts: ServeOptions) -> Router {
    let app = Arc::new(App {
        reg: registry,
        opts,
        rate: Mutex::new(HashMap::new()),
        writes: tokio::sync::Mutex::new(None),
    });
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/records", axum::routing::post(post_record))
        .route("/v1/records/{*name}", get(get_record).put(put_record))
        .route("/v1/list", get(list))
        .layer(DefaultBodyLimit::max(MAX_RECORD_BYTES))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Serves `registry` on `listener` with `opts` until the future is dropped.
pub async fn serve_with(
    registry: Arc<dyn Registry>,
    listener: TcpListener,
    opts: ServeOptions,
) -> Result<()> {
    serve_until(registry, listener, opts, std::future::pending()).await;
    Ok(())
}

/// The accept loop: one task per connection, at most `max_connections` at once, each under
/// the header timeout and the connection lifetime.
async fn serve_until(
    registry: Arc<dyn Registry>,
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let limits = opts.limits.clone();
    let app = router(registry, opts);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            // Out of file descriptors, say: wait for connections to close instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Full: closing at once keeps the descriptors for the connections being served.
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone().layer(Extension(ConnectInfo(peer))));
        let limits = limits.clone();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true);
            let conn = http.serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(limits.connection_lifetime, conn).await;
            drop(slot);
        });
    }
}

/// A server running in the background; dropping the handle stops it.
pub struct ServerHandle {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ServerHandle {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Binds `addr` (port 0 picks a free one) and serves `registry` with `opts` on the current
/// runtime.
pub async fn spawn(
    registry: Arc<dyn Registry>,
    addr: &str,
    opts: ServeOptions,
) -> Result<ServerHandle> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| MeshError::Config(format!("cannot bind {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| MeshError::Io(e.to_string()))?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_until(registry, listener, opts, async move {
        let _ = rx.await;
    }));
    Ok(ServerHandle {
        addr: local,
        shutdown: Some(tx),
        task: Some(task),
    })
}
