//! Fixtures shared by the integration tests: records, and registries that misbehave on
//! command.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rtfs_mesh_io::{FunctionName, FunctionRecord, MeshError, ProviderRef, Registry, Result};

/// The design document's data model, as JSON.
pub const DOC_RECORD_JSON: &str = r#"{
  "type": "ccos.mesh:v0.func-record",
  "func-name": "image-processing/sharpen",
  "latest-version": "1.2.0",
  "namespace": "image-processing",
  "description": "Sharpen images using various algorithms",
  "providers": [
    {"id": "provider-123", "capability-ref": "marketplace://offer/abc",
     "endpoint": "https://api.provider123.com/sharpen", "sla-tier": "premium",
     "cost-per-call": 0.01, "avg-response-time-ms": 150},
    {"id": "provider-456", "capability-ref": "marketplace://offer/def",
     "endpoint": "mcp://image-server.local/sharpen", "sla-tier": "standard",
     "cost-per-call": 0.005, "avg-response-time-ms": 300}
  ],
  "versions": {
    "1.0.0": {"providers": [{"id": "provider-old", "endpoint": "https://old.example/sharpen"}], "deprecated": true},
    "1.1.0": {"providers": [{"id": "provider-11", "endpoint": "https://v11.example/sharpen", "cost-per-call": 0.002}], "deprecated": false},
    "1.2.0": {"providers": [], "deprecated": false}
  },
  "security-requirements": {
    "min-security-level": "controlled",
    "required-permissions": ["image.read", "image.write"],
    "trusted-providers": ["provider-123", "provider-456", "provider-11", "provider-old"]
  }
}"#;

pub fn doc_record() -> FunctionRecord {
    FunctionRecord::from_json_str(DOC_RECORD_JSON).expect("doc record parses")
}

/// A record with providers given as (id, cost-per-call, avg-response-time-ms).
pub fn record(name: &str, version: &str, providers: &[(&str, f64, f64)]) -> FunctionRecord {
    let providers = providers
        .iter()
        .map(|(id, cost, ms)| ProviderRef {
            id: id.to_string(),
            capability_ref: format!("marketplace://{id}"),
            endpoint: format!("https://{id}.example/call"),
            sla_tier: "standard".into(),
            cost_per_call: *cost,
            avg_response_time_ms: *ms,
        })
        .collect();
    FunctionRecord::new(
        FunctionName::parse(name).expect("valid name"),
        semver::Version::parse(version).expect("valid version"),
        providers,
    )
}

#[derive(Clone)]
pub enum Fault {
    None,
    Down,
    Slow(Duration),
    /// Answers every lookup with this record (a stale or malicious mirror).
    Serve(Box<FunctionRecord>),
    Garbage,
}

/// Wraps a registry, counts lookups, and injects faults.
pub struct Faulty {
    pub inner: Arc<dyn Registry>,
    fault: Mutex<Fault>,
    delay: Mutex<Duration>,
    pub lookups: AtomicU64,
    name: String,
}

impl Faulty {
    pub fn new(name: &str, inner: Arc<dyn Registry>) -> Arc<Faulty> {
        Arc::new(Faulty {
            inner,
            fault: Mutex::new(Fault::None),
            delay: Mutex::new(Duration::ZERO),
            lookups: AtomicU64::new(0),
            name: name.into(),
        })
    }
    pub fn set(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
    }
    /// Delay every lookup (to widen race windows in concurrency tests).
    pub fn set_delay(&self, d: Duration) {
        *self.delay.lock().unwrap() = d;
    }
    pub fn count(&self) -> u64 {
        self.lookups.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Registry for Faulty {
    fn describe(&self) -> String {
        self.name.clone()
    }
    async fn lookup(&self, func_name: &str) -> Result<FunctionRecord> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fault = self.fault.lock().unwrap().clone();
        match fault {
            Fault::None => self.inner.lookup(func_name).await,
            Fault::Down => Err(MeshError::unavailable(&self.name, "connection refused")),
            Fault::Slow(d) => {
                tokio::time::sleep(d).await;
                self.inner.lookup(func_name).await
            }
            Fault::Serve(r) => Ok(*r),
            Fault::Garbage => Err(MeshError::bad_response(&self.name, "expected a record")),
        }
    }
    async fn register(&self, record: FunctionRecord) -> Result<()> {
        self.inner.register(record).await
    }
    async fn update(&self, name: &str, record: FunctionRecord) -> Result<()> {
        self.inner.update(name, record).await
    }
    async fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        let fault = self.fault.lock().unwrap().clone();
        match fault {
            Fault::Down => Err(MeshError::unavailable(&self.name, "connection refused")),
            _ => self.inner.list(pattern).await,
        }
    }
}
