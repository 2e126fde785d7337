//! A registry in a local directory: one JSON file per name, sharded like the crates.io index
//! (see [`super::record_path`]), written atomically. A git registry's tree has the same
//! layout, so a checkout of one is also a directory registry.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    MARKER_CONTENT, MARKER_FILE, Registry, check_update, name_from_file, record_file_text,
    record_path,
};
use crate::error::{MeshError, RejectReason, Result};
use crate::fsutil::write_atomic;
use crate::json::MAX_RECORD_BYTES;
use crate::name::FunctionName;
use crate::record::FunctionRecord;
use crate::security::compile_globs;
use crate::validate::validate;

pub struct DirRegistry {
    root: PathBuf,
    /// Serialises check-then-write within this process; separate processes writing the same
    /// name race (last rename wins) — use a git or HTTP registry for shared writers.
    write_lock: Mutex<()>,
}

impl DirRegistry {
    /// Opens an existing registry directory (one made by `rtfs mesh init`, or any directory
    /// holding the sharded layout).
    pub fn open(root: impl AsRef<Path>) -> Result<DirRegistry> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(MeshError::Config(format!(
                "registry directory {} does not exist (create it with `rtfs mesh init {}`)",
                root.display(),
                root.display()
            )));
        }
        Ok(DirRegistry {
            root,
            write_lock: Mutex::new(()),
        })
    }

    /// Opens the directory, creating it and its marker if needed.
    pub fn create(root: impl AsRef<Path>) -> Result<DirRegistry> {
        let root = root.as_ref();
        std::fs::create_dir_all(root)
            .map_err(|e| MeshError::Io(format!("{}: {e}", root.display())))?;
        let marker = root.join(MARKER_FILE);
        if !marker.exists() {
            write_atomic(&marker, MARKER_CONTENT.as_bytes(), false)?;
        }
        Self::open(root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file_of(&self, name: &FunctionName) -> PathBuf {
        self.root.join(record_path(name))
    }

    fn read(&self, name: &FunctionName) -> Result<Option<FunctionRecord>> {
        let path = self.file_of(name);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(MeshError::Io(format!("{}: {e}", path.display()))),
        };
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(MeshError::bad_response(
                self.describe(),
                "record file over 1 MiB",
            ));
        }
        let record = FunctionRecord::from_json_bytes(&bytes).map_err(|e| {
            MeshError::bad_response(self.describe(), format!("{}: {e}", path.display()))
        })?;
        if record.func_name != *name {
            return Err(MeshError::Rejected {
                name: name.to_string(),
                reason: RejectReason::WrongName {
                    asked: name.to_string(),
                    got: record.func_name.to_string(),
                },
            });
        }
        Ok(Some(record))
    }

    fn write(&self, record: &FunctionRecord) -> Result<()> {
        let text = record_file_text(record)?;
        write_atomic(&self.file_of(&record.func_name), text.as_bytes(), false)
    }

    /// Inserts or replaces without the register/update split, but never replaces a record
    /// with an older record-version (used by the federation's local cache).
    pub fn store(&self, record: &FunctionRecord) -> Result<()> {
        validate(record)?;
        let _g = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(Some(old)) = self.read(&record.func_name)
            && (old.record_version > record.record_version || old == *record)
        {
            return Ok(());
        }
        self.write(record)
    }

    /// Every record name present, from file names alone (no parsing).
    pub fn names(&self) -> Result<Vec<FunctionName>> {
        let mut out = Vec::new();
        walk(&self.root, 0, &mut out)?;
        out.sort();
        Ok(out)
    }

    fn list_sync(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        let globs = compile_globs([pattern])?;
        let mut out = Vec::new();
        for name in self.names()? {
            if globs.is_match(name.as_str()) {
                // A corrupt file must not hide every other record from a listing.
                if let Ok(Some(r)) = self.read(&name) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<FunctionName>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(MeshError::Io(format!("{}: {e}", dir.display()))),
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        // Only the root holds hidden entries of its own (`.git`); below it a shard may start
        // with a dot (`hp.com/…` is stored under `hp/.c/`), and temporary files never end in
        // `.json`.
        if depth == 0 && file_name.starts_with('.') {
            continue;
        }
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() && depth < 2 {
            walk(&entry.path(), depth + 1, out)?;
        } else if ft.is_file()
            && depth > 0
            && let Some(n) = name_from_file(file_name)
        {
            out.push(n);
        }
    }
    Ok(())
}

#[async_trait]
impl Registry for DirRegistry {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn lookup(&self, func_name: &str) -> Result<FunctionRecord> {
        let name = FunctionName::parse(func_name)?;
        self.read(&name)?
            .ok_or_else(|| MeshError::NotFound(func_name.to_string()))
    }

    async fn register(&self, record: FunctionRecord) -> Result<()> {
        validate(&record)?;
        let _g = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.file_of(&record.func_name).exists() {
            return Err(MeshError::Conflict(format!(
                "`{}` is already registered in {} (use update)",
                record.func_name,
                self.describe()
            )));
        }
        self.write(&record)
    }

    async fn update(&self, func_name: &str, record: FunctionRecord) -> Result<()> {
        let name = FunctionName::parse(func_name)?;
        validate(&record)?;
        let _g = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let old = self
            .read(&name)?
            .ok_or_else(|| MeshError::NotFound(func_name.to_string()))?;
        check_update(func_name, &old, &record)?;
        self.write(&record)
    }

    async fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        self.list_sync(pattern)
    }
}
