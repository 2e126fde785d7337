//! Serves any [`Registry`] over HTTP.
//!
//! `GET /v1/records/{name}` answers with the record's JSON and a strong ETag (blake3 of the
//! body); a request whose `If-None-Match` carries that ETag gets `304 Not Modified` with no
//! body, so polling an unchanged record costs a header exchange. `POST /v1/records`
//! registers, `PUT /v1/records/{name}` updates, `GET /v1/list?pattern=GLOB` lists, and
//! `GET /v1/health` answers `ok`. Errors are JSON `{"error": ..., "kind": ...}` with a
//! status that tells clients whether to fail over (5xx) or not (4xx).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::Registry;
use crate::error::{MeshError, Result};
use crate::record::FunctionRecord;
use crate::signing::to_hex;

type Shared = Arc<dyn Registry>;

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

async fn get_record(
    State(reg): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    match reg.lookup(&name).await {
        Ok(r) => json_with_etag(&headers, r.to_json_string()),
        Err(e) => error_response(&e),
    }
}

async fn post_record(State(reg): State<Shared>, body: Bytes) -> Response {
    let record = match FunctionRecord::from_json_bytes(&body) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    match reg.register(record).await {
        Ok(()) => (StatusCode::CREATED, "{\"ok\":true}").into_response(),
        Err(e) => error_response(&e),
    }
}

async fn put_record(State(reg): State<Shared>, Path(name): Path<String>, body: Bytes) -> Response {
    let record = match FunctionRecord::from_json_bytes(&body) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    match reg.update(&name, record).await {
        Ok(()) => (StatusCode::OK, "{\"ok\":true}").into_response(),
        Err(e) => error_response(&e),
    }
}

#[derive(serde::Deserialize)]
struct ListQuery {
    pattern: Option<String>,
}

async fn list(
    State(reg): State<Shared>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let pattern = q.pattern.unwrap_or_else(|| "**".into());
    match reg.list(&pattern).await {
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

/// The HTTP routes over `registry`.
pub fn router(registry: Arc<dyn Registry>) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/records", axum::routing::post(post_record))
        .route("/v1/records/{*name}", get(get_record).put(put_record))
        .route("/v1/list", get(list))
        .with_state(registry)
}

/// Serves `registry` on `listener` until the future is dropped.
pub async fn serve(registry: Arc<dyn Registry>, listener: TcpListener) -> Result<()> {
    axum::serve(listener, router(registry))
        .await
        .map_err(|e| MeshError::Io(format!("server failed: {e}")))
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

/// Binds `addr` (port 0 picks a free one) and serves `registry` on the current runtime.
pub async fn spawn(registry: Arc<dyn Registry>, addr: &str) -> Result<ServerHandle> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| MeshError::Config(format!("cannot bind {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| MeshError::Io(e.to_string()))?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(registry);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok(ServerHandle {
        addr: local,
        shutdown: Some(tx),
        task: Some(task),
    })
}
