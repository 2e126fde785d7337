//! An in-process registry: the reference implementation of the write rules, the backing
//! store of tests and benchmarks, and a way for a host to publish functions without files.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{Registry, check_update, literal_prefix};
use crate::error::{MeshError, Result};
use crate::name::FunctionName;
use crate::record::FunctionRecord;
use crate::security::compile_globs;
use crate::validate::validate;

#[derive(Default)]
pub struct MemoryRegistry {
    records: RwLock<BTreeMap<String, FunctionRecord>>,
    lookups: AtomicU64,
}

impl MemoryRegistry {
    pub fn new() -> MemoryRegistry {
        MemoryRegistry::default()
    }

    /// Number of `lookup` calls served so far.
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// Inserts or replaces without the write rules (for seeding and tests).
    pub fn put(&self, record: FunctionRecord) {
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.func_name.to_string(), record);
    }

    pub fn len(&self) -> usize {
        self.records.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `list` without the async wrapper (benchmarks call it directly).
    pub fn list_sync(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        let globs = compile_globs([pattern])?;
        let prefix = literal_prefix(pattern);
        let records = self.records.read().unwrap_or_else(|p| p.into_inner());
        Ok(records
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| globs.is_match(k.as_str()))
            .map(|(_, r)| r.clone())
            .collect())
    }
}

#[async_trait]
impl Registry for MemoryRegistry {
    fn describe(&self) -> String {
        "memory".into()
    }

    async fn lookup(&self, func_name: &str) -> Result<FunctionRecord> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        self.records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(func_name)
            .cloned()
            .ok_or_else(|| MeshError::NotFound(func_name.to_string()))
    }

    async fn register(&self, record: FunctionRecord) -> Result<()> {
        validate(&record)?;
        let mut records = self.records.write().unwrap_or_else(|p| p.into_inner());
        let key = record.func_name.to_string();
        if records.contains_key(&key) {
            return Err(MeshError::Conflict(format!(
                "`{key}` is already registered (use update)"
            )));
        }
        records.insert(key, record);
        Ok(())
    }

    async fn update(&self, func_name: &str, record: FunctionRecord) -> Result<()> {
        FunctionName::parse(func_name)?;
        validate(&record)?;
        let mut records = self.records.write().unwrap_or_else(|p| p.into_inner());
        let old = records
            .get(func_name)
            .ok_or_else(|| MeshError::NotFound(func_name.to_string()))?;
        check_update(func_name, old, &record)?;
        records.insert(func_name.to_string(), record);
        Ok(())
    }

    async fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        self.list_sync(pattern)
    }
}
