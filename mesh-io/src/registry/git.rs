//! A registry kept in a git repository, crates.io-index style.
//!
//! Records sit at [`super::record_path`] in the tree of branch `main`. The registry keeps a
//! bare local clone (fetched with gix into `refs/remotes/origin/*`) and reads records
//! straight from the fetched commit's tree, so lookups need no checkout and keep working
//! from the clone when the remote is unreachable. The remote is fetched again once
//! `sync_interval` has passed since the last attempt.
//!
//! Writes (`register`, `update`) create one commit each. gix does not push, so writes go
//! straight into the remote repository when it is local (`file://` or a path): the commit is
//! built there and `refs/heads/main` is moved with a compare-and-swap against the commit the
//! edit was based on, which makes concurrent publishers safe (the loser retries on the new
//! tip). Remote URLs of other schemes are read-only here.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use gix::ObjectId;
use gix::bstr::ByteSlice;

use super::{
    MARKER_CONTENT, MARKER_FILE, Registry, check_update, literal_prefix, name_from_file,
    record_file_text, record_path,
};
use crate::error::{MeshError, RejectReason, Result};
use crate::json::MAX_RECORD_BYTES;
use crate::name::FunctionName;
use crate::record::FunctionRecord;
use crate::security::compile_globs;
use crate::validate::validate;

const BRANCH: &str = "refs/heads/main";
const TRACKING: [&str; 2] = ["refs/remotes/origin/main", "refs/remotes/origin/master"];

fn git_err(e: impl std::fmt::Display) -> MeshError {
    MeshError::Git(e.to_string())
}

struct SyncState {
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

struct Inner {
    url: String,
    clone_dir: PathBuf,
    sync_interval: Duration,
    /// Reopened after every fetch: gix sizes its pack-index table when a repository is
    /// opened, and each fetch can add a pack.
    repo: std::sync::RwLock<gix::ThreadSafeRepository>,
    sync: Mutex<SyncState>,
    warnings: Mutex<Vec<String>>,
}

#[derive(Clone)]
pub struct GitRegistry {
    inner: Arc<Inner>,
}

fn signature() -> gix::actor::Signature {
    gix::actor::Signature {
        name: "rtfs-mesh".into(),
        email: "mesh@localhost".into(),
        time: gix::date::Time::now_utc(),
    }
}

/// The local path of a `file://` URL or a plain path; `None` for network URLs.
fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(p) = url.strip_prefix("file://") {
        return Some(PathBuf::from(p));
    }
    if url.contains("://") || (url.contains('@') && url.contains(':')) {
        return None;
    }
    Some(PathBuf::from(url))
}

fn tree_of(repo: &gix::Repository, commit: Option<ObjectId>) -> Result<ObjectId> {
    match commit {
        Some(c) => Ok(repo
            .find_commit(c)
            .map_err(git_err)?
            .tree_id()
            .map_err(git_err)?
            .detach()),
        None => Ok(ObjectId::empty_tree(repo.object_hash())),
    }
}

fn read_record(
    repo: &gix::Repository,
    tree: ObjectId,
    name: &FunctionName,
    source: &str,
) -> Result<Option<FunctionRecord>> {
    let tree = repo.find_tree(tree).map_err(git_err)?;
    let Some(entry) = tree
        .lookup_entry_by_path(record_path(name))
        .map_err(git_err)?
    else {
        return Ok(None);
    };
    let obj = entry.object().map_err(git_err)?;
    if obj.data.len() > MAX_RECORD_BYTES {
        return Err(MeshError::bad_response(source, "record blob over 1 MiB"));
    }
    let record = FunctionRecord::from_json_bytes(&obj.data)
        .map_err(|e| MeshError::bad_response(source, format!("{}: {e}", record_path(name))))?;
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

fn branch_tip(repo: &gix::Repository, refs: &[&str]) -> Result<Option<ObjectId>> {
    for r in refs {
        if let Some(mut reference) = repo.try_find_reference(*r).map_err(git_err)? {
            return Ok(Some(reference.peel_to_id().map_err(git_err)?.detach()));
        }
    }
    Ok(None)
}

#[derive(Clone, Copy, PartialEq)]
enum WriteMode {
    Register,
    Update,
}

/// Commits `record` into the repository at `path`, compare-and-swapping `refs/heads/main`.
fn commit_record(path: &Path, record: &FunctionRecord, mode: WriteMode) -> Result<ObjectId> {
    let repo = gix::open(path).map_err(|e| {
        MeshError::unavailable(path.display().to_string(), format!("cannot open: {e}"))
    })?;
    let text = record_file_text(record)?;
    let file = record_path(&record.func_name);
    let mut last_err = None;
    for _ in 0..8 {
        let parent = branch_tip(&repo, &[BRANCH])?;
        let base = tree_of(&repo, parent)?;
        let old = read_record(&repo, base, &record.func_name, &path.display().to_string())?;
        match (mode, &old) {
            (WriteMode::Register, Some(_)) => {
                return Err(MeshError::Conflict(format!(
                    "`{}` is already registered in {} (use update)",
                    record.func_name,
                    path.display()
                )));
            }
            (WriteMode::Update, None) => {
                return Err(MeshError::NotFound(record.func_name.to_string()));
            }
            (WriteMode::Update, Some(old)) => check_update(record.func_name.as_str(), old, record)?,
            (WriteMode::Register, None) => {}
        }
        let blob = repo.write_blob(text.as_bytes()).map_err(git_err)?.detach();
        let mut editor = repo.edit_tree(base).map_err(git_err)?;
        editor
            .upsert(file.as_str(), gix::object::tree::EntryKind::Blob, blob)
            .map_err(git_err)?;
        if parent.is_none() {
            let marker = repo.write_blob(MARKER_CONTENT).map_err(git_err)?.detach();
            editor
                .upsert(MARKER_FILE, gix::object::tree::EntryKind::Blob, marker)
                .map_err(git_err)?;
        }
        let tree = editor.write().map_err(git_err)?.detach();
        let sig = signature();
        let (mut b1, mut b2) = (Default::default(), Default::default());
        let verb = if mode == WriteMode::Register {
            "register"
        } else {
            "update"
        };
        let message = format!(
            "{verb} {} {} (record-version {})",
            record.func_name, record.latest_version, record.record_version
        );
        match repo.commit_as(
            sig.to_ref(&mut b1),
            sig.to_ref(&mut b2),
            BRANCH,
            message,
            tree,
            parent,
        ) {
            Ok(id) => return Ok(id.detach()),
            // Someone else moved main (or holds its lock): rebuild on the new tip.
            Err(e) => {
                last_err = Some(e.to_string());
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    Err(MeshError::Conflict(format!(
        "could not update {} after retries: {}",
        path.display(),
        last_err.unwrap_or_default()
    )))
}

impl GitRegistry {
    /// Creates a bare registry repository at `path` with an initial commit holding the
    /// registry marker, usable as `file://PATH`.
    pub fn init_bare(path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if path.join("HEAD").exists() || path.join(".git").exists() {
            return Err(MeshError::Conflict(format!(
                "{} already holds a git repository",
                path.display()
            )));
        }
        let repo = gix::init_bare(path).map_err(git_err)?;
        let marker = repo.write_blob(MARKER_CONTENT).map_err(git_err)?.detach();
        let mut editor = repo
            .edit_tree(ObjectId::empty_tree(repo.object_hash()))
            .map_err(git_err)?;
        editor
            .upsert(MARKER_FILE, gix::object::tree::EntryKind::Blob, marker)
            .map_err(git_err)?;
        let tree = editor.write().map_err(git_err)?.detach();
        let sig = signature();
        let (mut b1, mut b2) = (Default::default(), Default::default());
        repo.commit_as(
            sig.to_ref(&mut b1),
            sig.to_ref(&mut b2),
            BRANCH,
            "initialise function mesh registry",
            tree,
            None::<ObjectId>,
        )
        .map_err(git_err)?;
        // HEAD names main whatever the local git default is, so clones find the branch.
        crate::fsutil::write_atomic(&path.join("HEAD"), b"ref: refs/heads/main\n", false)?;
        Ok(())
    }

    /// A registry for the repository at `url`, cloned into `clone_dir` on first use.
    pub fn open(
        url: &str,
        clone_dir: impl Into<PathBuf>,
        sync_interval: Duration,
    ) -> Result<GitRegistry> {
        let clone_dir = clone_dir.into();
        if !clone_dir.join("HEAD").exists() {
            std::fs::create_dir_all(&clone_dir)?;
            gix::init_bare(&clone_dir).map_err(git_err)?;
        }
        let repo = open_clone(&clone_dir)?;
        Ok(GitRegistry {
            inner: Arc::new(Inner {
                url: url.to_string(),
                clone_dir,
                sync_interval,
                repo: std::sync::RwLock::new(repo),
                sync: Mutex::new(SyncState {
                    last_attempt: None,
                    last_error: None,
                }),
                warnings: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn clone_dir(&self) -> &Path {
        &self.inner.clone_dir
    }

    /// Fetches from the remote now, whatever the interval.
    pub async fn sync_now(&self) -> Result<()> {
        let inner = self.inner.clone();
        blocking(move || inner.sync(true).map(|_| ())).await
    }

    /// The error of the last failed fetch, if the last attempt failed.
    pub fn last_sync_error(&self) -> Option<String> {
        self.inner
            .sync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_error
            .clone()
    }

    /// The commit the registry currently reads from.
    pub fn tip(&self) -> Result<Option<ObjectId>> {
        let repo = self.inner.local_repo();
        branch_tip(&repo, &TRACKING)
    }
}

fn open_clone(path: &Path) -> Result<gix::ThreadSafeRepository> {
    let opts = gix::open::Options::isolated().object_store_slots(
        gix::odb::store::init::Slots::AsNeededByDiskState {
            multiplier: 2.0,
            minimum: 64,
        },
    );
    gix::open_opts(path, opts)
        .map(|r| r.into_sync())
        .map_err(git_err)
}

impl Inner {
    fn local_repo(&self) -> gix::Repository {
        self.repo
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .to_thread_local()
    }

    fn reopen(&self) -> Result<()> {
        let fresh = open_clone(&self.clone_dir)?;
        *self.repo.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    fn fetch(&self) -> Result<()> {
        let repo = self.local_repo();
        let remote = repo
            .remote_at(self.url.as_str())
            .map_err(git_err)?
            .with_refspecs(
                Some("+refs/heads/*:refs/remotes/origin/*"),
                gix::remote::Direction::Fetch,
            )
            .map_err(git_err)?;
        let conn = remote
            .connect(gix::remote::Direction::Fetch)
            .map_err(git_err)?;
        let prepared = conn
            .prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(git_err)?;
        prepared
            .receive(gix::progress::Discard, &AtomicBool::new(false))
            .map_err(git_err)?;
        drop(repo);
        self.reopen()
    }

    /// Fetches if due (or `force`); on failure keeps serving the clone when it has content.
    /// Returns the tip to read from.
    fn sync(&self, force: bool) -> Result<Option<ObjectId>> {
        let mut st = self.sync.lock().unwrap_or_else(|p| p.into_inner());
        let due = force
            || st
                .last_attempt
                .is_none_or(|t| t.elapsed() >= self.sync_interval);
        if due {
            st.last_attempt = Some(Instant::now());
            match self.fetch() {
                Ok(()) => st.last_error = None,
                Err(e) => {
                    let msg = format!("cannot fetch {}: {e}", self.url);
                    st.last_error = Some(msg.clone());
                    let repo = self.local_repo();
                    if branch_tip(&repo, &TRACKING)?.is_none() {
                        return Err(MeshError::unavailable(&self.url, msg));
                    }
                    self.warnings
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(format!("{msg}; using the local clone (offline)"));
                    if force {
                        return Err(MeshError::unavailable(&self.url, msg));
                    }
                }
            }
        }
        drop(st);
        let repo = self.local_repo();
        branch_tip(&repo, &TRACKING)
    }

    fn lookup(&self, name: &FunctionName) -> Result<FunctionRecord> {
        let tip = self.sync(false)?;
        let repo = self.local_repo();
        let tree = tree_of(&repo, tip)?;
        read_record(&repo, tree, name, &self.url)?
            .ok_or_else(|| MeshError::NotFound(name.to_string()))
    }

    fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        let globs = compile_globs([pattern])?;
        let _ = literal_prefix(pattern);
        let tip = self.sync(false)?;
        let repo = self.local_repo();
        let tree = repo.find_tree(tree_of(&repo, tip)?).map_err(git_err)?;
        let files = tree.traverse().breadthfirst.files().map_err(git_err)?;
        let mut out = Vec::new();
        for f in files {
            let path = f.filepath.to_str_lossy();
            let file_name = path.rsplit('/').next().unwrap_or("");
            let Some(name) = name_from_file(file_name) else {
                continue;
            };
            if !globs.is_match(name.as_str()) {
                continue;
            }
            let Ok(obj) = repo.find_object(f.oid) else {
                continue;
            };
            if let Ok(r) = FunctionRecord::from_json_bytes(&obj.data)
                && r.func_name == name
            {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.func_name.cmp(&b.func_name));
        Ok(out)
    }

    fn write(&self, record: FunctionRecord, mode: WriteMode) -> Result<()> {
        validate(&record)?;
        let Some(path) = local_path(&self.url) else {
            return Err(MeshError::Unsupported(format!(
                "cannot publish to {}: pushing over the network is not implemented; publish to a \
                 file:// or directory registry and push with git, or use an HTTP registry",
                self.url
            )));
        };
        commit_record(&path, &record, mode)?;
        // Read-your-writes: the next lookup must see the commit just made.
        self.sync(true)?;
        Ok(())
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| MeshError::Git(format!("git task failed: {e}")))?
}

#[async_trait]
impl Registry for GitRegistry {
    fn describe(&self) -> String {
        self.inner.url.clone()
    }

    fn take_warnings(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .inner
                .warnings
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    async fn lookup(&self, func_name: &str) -> Result<FunctionRecord> {
        let name = FunctionName::parse(func_name)?;
        let inner = self.inner.clone();
        blocking(move || inner.lookup(&name)).await
    }

    async fn register(&self, record: FunctionRecord) -> Result<()> {
        let inner = self.inner.clone();
        blocking(move || inner.write(record, WriteMode::Register)).await
    }

    async fn update(&self, func_name: &str, record: FunctionRecord) -> Result<()> {
        if record.func_name.as_str() != func_name {
            return Err(MeshError::Conflict(format!(
                "update of `{func_name}` carries a record for `{}`",
                record.func_name
            )));
        }
        let inner = self.inner.clone();
        blocking(move || inner.write(record, WriteMode::Update)).await
    }

    async fn list(&self, pattern: &str) -> Result<Vec<FunctionRecord>> {
        let inner = self.inner.clone();
        let pattern = pattern.to_string();
        blocking(move || inner.list(&pattern)).await
    }
}
