//! The on-disk half of the L4 code cache: one file per group key, written atomically
//! (temp file + rename), authenticated and verified on load, bounded in total size (oldest
//! entries evicted).
//!
//! Entry layout (little endian):
//! `magic(8) key(32) env_hash(32) entry(u32) ret(u8) nparams(u8) params(nparams)
//!  nfuncs(u32) funcs(u32 × nfuncs) nrelocs(u32) relocs((u32,u32,i64) × nrelocs)
//!  frame_bound(u32) code_len(u32) code mac(32)`, the MAC being blake3 keyed with the
//! cache's secret key over everything before it.
//! Anything that does not parse, does not match the key and the environment (compiler and
//! Cranelift versions, ISA, flags) or fails the MAC is a miss: the file is removed and the
//! group recompiled and written again.
//!
//! # Threat model
//!
//! An entry is machine code that `rtfs` maps executable and runs, so whoever can make the
//! loader accept an entry runs code as the user. The cache defends against another local
//! user (or a sandboxed process) that can write to the cache directory but not read the
//! user's private files:
//!
//! * every entry carries a MAC under a 32-byte key kept in `mac.key` beside the entries,
//!   created atomically with mode 0600 and accepted only as a regular file owned by the
//!   current user with no group or other permissions; an entry forged without the key (a
//!   valid unkeyed checksum, an entry copied from another user's cache) is a miss;
//! * the cache is refused (no reads, no writes; compilation still works) when its directory
//!   is not owned by the current user or is writable by others, or when the key file is not
//!   private; the directory is created with mode 0700;
//! * entries and the key are opened without following symlinks and without blocking (a FIFO
//!   or a device in the directory is a miss, never a hang), checked to be regular files with
//!   `fstat` and read with a size bound; temporary files are created exclusively.
//!
//! Out of scope: an attacker who runs as the same user (they can read the key and could
//! run code directly anyway), and the denial of service of deleting entries (a miss only
//! costs a recompilation).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::key::{Key, hex};
use crate::link::{Blob, Reloc8};
use crate::plan::Ty;

const MAGIC: &[u8; 8] = b"RTFSL4\x00\x04";
const EXT: &str = "l4";
/// The file holding the MAC key, beside the entries.
const KEY_FILE: &str = "mac.key";
/// Default bound on the cache directory's size.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Largest entry the loader reads; a group's code is far smaller.
const MAX_ENTRY_BYTES: u64 = 16 * 1024 * 1024;

/// The secret that authenticates entries.
pub type MacKey = [u8; 32];

pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Loaded (or created) at first use; `Err` says why the cache is refused.
    mac_key: OnceLock<Result<MacKey, String>>,
}

/// What a lookup found.
pub enum Lookup {
    Hit(Blob),
    Miss,
    /// A file was there but unusable (truncated, corrupt, forged, foreign, not a regular
    /// file); it has been removed when it could be.
    Invalid(String),
}

/// Contents of the cache directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirStats {
    pub entries: u64,
    pub bytes: u64,
}

impl DiskCache {
    pub fn new(dir: PathBuf, max_bytes: u64) -> DiskCache {
        DiskCache {
            dir,
            max_bytes,
            mac_key: OnceLock::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.{EXT}", hex(key)))
    }

    /// The MAC key, creating the directory and the key on first use; `Err` when the cache is
    /// refused (the reason names the directory or file at fault).
    pub fn mac_key(&self) -> Result<&MacKey, &str> {
        self.mac_key
            .get_or_init(|| secure::load_or_create_key(&self.dir))
            .as_ref()
            .map_err(String::as_str)
    }

    pub fn get(&self, key: &Key, env_hash: &[u8; 32]) -> Lookup {
        let Ok(mac) = self.mac_key() else {
            return Lookup::Miss;
        };
        let path = self.path(key);
        let (file, bytes) = match secure::read_regular(&path, MAX_ENTRY_BYTES) {
            Ok(Some(read)) => read,
            Ok(None) => return Lookup::Miss,
            Err(why) => {
                let _ = fs::remove_file(&path);
                return Lookup::Invalid(format!("discarded cache entry {}: {why}", path.display()));
            }
        };
        match decode(&bytes, key, env_hash, mac) {
            Some(blob) => {
                // Recently used entries are evicted last.
                let _ = file.set_modified(SystemTime::now());
                Lookup::Hit(blob)
            }
            None => {
                let _ = fs::remove_file(&path);
                Lookup::Invalid(format!("discarded invalid cache entry {}", path.display()))
            }
        }
    }

    /// Writes an entry atomically, then trims the directory to its size bound.
    pub fn put(&self, key: &Key, env_hash: &[u8; 32], blob: &Blob) -> std::io::Result<()> {
        let mac = self
            .mac_key()
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::PermissionDenied, why))?;
        let bytes = encode(key, env_hash, blob, mac);
        let tmp = self
            .dir
            .join(format!(".{}.{}.tmp", hex(key), std::process::id()));
        let _ = fs::remove_file(&tmp);
        {
            let mut f = secure::create_private(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.path(key))?;
        self.evict();
        Ok(())
    }

    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == EXT))
            .filter_map(|e| {
                // The directory entry's own metadata: a symlink is never followed.
                let m = fs::symlink_metadata(e.path()).ok()?;
                Some((
                    e.path(),
                    m.len(),
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ))
            })
            .collect()
    }

    /// Removes the least recently used entries until the total size fits the bound.
    pub fn evict(&self) {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort_by_key(|e| e.2);
        for (path, len, _) in entries {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
    }

    pub fn stats(&self) -> DirStats {
        let entries = self.entries();
        DirStats {
            entries: entries.len() as u64,
            bytes: entries.iter().map(|e| e.1).sum(),
        }
    }

    /// Removes every entry; returns how many.
    pub fn clear(&self) -> std::io::Result<u64> {
        let mut n = 0;
        for (path, _, _) in self.entries() {
            fs::remove_file(path)?;
            n += 1;
        }
        Ok(n)
    }
}

pub fn encode(key: &Key, env_hash: &[u8; 32], blob: &Blob, mac_key: &MacKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(blob.code.len() + 256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(key);
    out.extend_from_slice(env_hash);
    out.extend(blob.entry.to_le_bytes());
    out.push(blob.ret.code());
    out.push(blob.params.len() as u8);
    out.extend(blob.params.iter().map(|t| t.code()));
    out.extend((blob.funcs.len() as u32).to_le_bytes());
    for f in &blob.funcs {
        out.extend(f.to_le_bytes());
    }
    out.extend((blob.relocs.len() as u32).to_le_bytes());
    for r in &blob.relocs {
        out.extend(r.offset.to_le_bytes());
        out.extend(r.target.to_le_bytes());
        out.extend(r.addend.to_le_bytes());
    }
    out.extend(blob.frame_bound.to_le_bytes());
    out.extend((blob.code.len() as u32).to_le_bytes());
    out.extend_from_slice(&blob.code);
    let mac = blake3::keyed_hash(mac_key, &out);
    out.extend_from_slice(mac.as_bytes());
    out
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.b.len() {
            return None;
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Some(h)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Parses and verifies an entry; `None` for anything not exactly right.
pub fn decode(bytes: &[u8], key: &Key, env_hash: &[u8; 32], mac_key: &MacKey) -> Option<Blob> {
    if bytes.len() < 32 {
        return None;
    }
    let (body, mac) = bytes.split_at(bytes.len() - 32);
    // `blake3::Hash` compares in constant time.
    if blake3::keyed_hash(mac_key, body) != blake3::Hash::from_bytes(mac.try_into().ok()?) {
        return None;
    }
    let mut r = Reader { b: body };
    if r.take(8)? != MAGIC || r.take(32)? != key || r.take(32)? != env_hash {
        return None;
    }
    let entry = r.u32()?;
    let ret = Ty::from_code(r.u8()?)?;
    let np = r.u8()? as usize;
    let params = r
        .take(np)?
        .iter()
        .map(|c| Ty::from_code(*c))
        .collect::<Option<Vec<_>>>()?;
    let nf = r.u32()? as usize;
    if nf > body.len() / 4 {
        return None;
    }
    let funcs = (0..nf).map(|_| r.u32()).collect::<Option<Vec<_>>>()?;
    let nr = r.u32()? as usize;
    if nr > body.len() / 16 {
        return None;
    }
    let relocs = (0..nr)
        .map(|_| {
            Some(Reloc8 {
                offset: r.u32()?,
                target: r.u32()?,
                addend: r.i64()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let frame_bound = r.u32()?;
    let code_len = r.u32()? as usize;
    let code = r.take(code_len)?.to_vec();
    if !r.b.is_empty() {
        return None;
    }
    let blob = Blob {
        code,
        funcs,
        relocs,
        entry,
        params,
        ret,
        frame_bound,
    };
    blob.check().ok()?;
    Some(blob)
}

/// Opening and creating the cache's files without trusting what else is in the directory.
mod secure {
    use std::fs::{self, File, OpenOptions};
    use std::io::{self, Read};
    use std::path::Path;

    use super::{KEY_FILE, MacKey};

    /// Opens `path` for reading without following a symlink and without blocking on a
    /// FIFO, and reads it if it is a regular file of at most `max` bytes. `Ok(None)`: no
    /// such file; `Err`: something else is there.
    pub fn read_regular(path: &Path, max: u64) -> Result<Option<(File, Vec<u8>)>, String> {
        let mut opts = OpenOptions::new();
        opts.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        }
        #[cfg(not(unix))]
        if fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
            return Err("not a regular file".into());
        }
        let file = match opts.open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot open it ({e})")),
        };
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot stat it ({e})"))?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if meta.len() > max {
            return Err(format!("{} bytes, more than the {max} allowed", meta.len()));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        // Bounded even if the file grows while it is read.
        (&file)
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read it ({e})"))?;
        if bytes.len() as u64 > max {
            return Err(format!("more than the {max} bytes allowed"));
        }
        Ok(Some((file, bytes)))
    }

    /// Creates `path` exclusively (never through an existing file or symlink), mode 0600.
    pub fn create_private(path: &Path) -> io::Result<File> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
        }
        opts.open(path)
    }

    fn create_dir(dir: &Path) -> io::Result<()> {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir)
    }

    /// The directory must belong to the current user and not be writable by others.
    #[cfg(unix)]
    fn check_dir(dir: &Path) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(dir).map_err(|e| format!("cannot stat {} ({e})", dir.display()))?;
        if !m.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if m.uid() != me {
            return Err(format!(
                "{} belongs to another user (uid {}); refusing to load code from it",
                dir.display(),
                m.uid()
            ));
        }
        if m.mode() & 0o002 != 0 {
            return Err(format!(
                "{} is writable by every user (mode {:o}); refusing to load code from it \
                 (chmod o-w it, or choose another --cache-dir)",
                dir.display(),
                m.mode() & 0o7777
            ));
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_dir(dir: &Path) -> Result<(), String> {
        match fs::metadata(dir) {
            Ok(m) if m.is_dir() => Ok(()),
            _ => Err(format!("{} is not a directory", dir.display())),
        }
    }

    /// The key file must be private to the current user.
    #[cfg(unix)]
    fn check_key_file(file: &File, path: &Path) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        let m = file
            .metadata()
            .map_err(|e| format!("cannot stat {} ({e})", path.display()))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if m.uid() != me || m.mode() & 0o077 != 0 {
            return Err(format!(
                "{} is not private to this user (owner uid {}, mode {:o}); refusing the cache",
                path.display(),
                m.uid(),
                m.mode() & 0o7777
            ));
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_key_file(_: &File, _: &Path) -> Result<(), String> {
        Ok(())
    }

    fn read_key(path: &Path) -> Result<Option<MacKey>, String> {
        let Some((file, bytes)) =
            read_regular(path, 32).map_err(|why| format!("cache key {}: {why}", path.display()))?
        else {
            return Ok(None);
        };
        check_key_file(&file, path)?;
        let key: MacKey = bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("cache key {} is not 32 bytes", path.display()))?;
        Ok(Some(key))
    }

    /// The directory's MAC key: read if it is there, else created — written to a private
    /// temporary file and linked into place, so a reader never sees half a key and two
    /// processes creating it at once end up using the same one.
    pub fn load_or_create_key(dir: &Path) -> Result<MacKey, String> {
        create_dir(dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
        check_dir(dir)?;
        let path = dir.join(KEY_FILE);
        if let Some(key) = read_key(&path)? {
            return Ok(key);
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| format!("no random source for the cache key ({e})"))?;
        let tmp = dir.join(format!(".{KEY_FILE}.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let written = create_private(&tmp).and_then(|mut f| {
            use std::io::Write;
            f.write_all(&key)?;
            f.sync_all()
        });
        let linked = written.and_then(|()| fs::hard_link(&tmp, &path));
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(key),
            // Another process created it first: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                read_key(&path)?.ok_or_else(|| format!("cache key {} vanished", path.display()))
            }
            Err(e) => Err(format!("cannot create cache key {} ({e})", path.display())),
        }
    }
}

/// The default cache directory: `$RTFS_CACHE_DIR`, else the user's cache directory
/// (`$XDG_CACHE_HOME/rtfs/l4` or `~/.cache/rtfs/l4`; `%LOCALAPPDATA%\rtfs\l4` on Windows).
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("RTFS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("LOCALAPPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("rtfs").join("l4"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob() -> Blob {
        Blob {
            code: (0u8..64).collect(),
            funcs: vec![0, 32],
            relocs: vec![Reloc8 {
                offset: 8,
                target: 1,
                addend: -4,
            }],
            entry: 1,
            params: vec![Ty::Int, Ty::Float, Ty::Bool],
            ret: Ty::Float,
            frame_bound: 400,
        }
    }

    const KEY: Key = [7; 32];
    const ENV: [u8; 32] = [9; 32];
    const MAC: MacKey = [3; 32];

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rtfs-l4-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn round_trip() {
        let b = blob();
        let bytes = encode(&KEY, &ENV, &b, &MAC);
        assert_eq!(decode(&bytes, &KEY, &ENV, &MAC), Some(b));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        let bytes = encode(&KEY, &ENV, &blob(), &MAC);
        for n in 0..bytes.len() {
            assert!(
                decode(&bytes[..n], &KEY, &ENV, &MAC).is_none(),
                "truncated to {n}"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(decode(&b, &KEY, &ENV, &MAC).is_none(), "flipped byte {i}");
        }
    }

    #[test]
    fn other_key_or_environment_is_rejected() {
        let bytes = encode(&KEY, &ENV, &blob(), &MAC);
        assert!(decode(&bytes, &[8; 32], &ENV, &MAC).is_none());
        assert!(decode(&bytes, &KEY, &[1; 32], &MAC).is_none());
    }

    #[test]
    fn entries_forged_without_the_mac_key_are_rejected() {
        let bytes = encode(&KEY, &ENV, &blob(), &MAC);
        let body = &bytes[..bytes.len() - 32];
        // A well-formed entry with a valid unkeyed checksum, as the old format had.
        let mut unkeyed = body.to_vec();
        unkeyed.extend_from_slice(blake3::hash(body).as_bytes());
        assert!(decode(&unkeyed, &KEY, &ENV, &MAC).is_none());
        // Made with another user's key.
        assert!(decode(&encode(&KEY, &ENV, &blob(), &[4; 32]), &KEY, &ENV, &MAC).is_none());
    }

    #[test]
    fn out_of_bounds_offsets_are_rejected_even_with_a_valid_mac() {
        let mut b = blob();
        b.relocs[0].offset = 60;
        assert!(decode(&encode(&KEY, &ENV, &b, &MAC), &KEY, &ENV, &MAC).is_none());
        let mut b = blob();
        b.relocs[0].target = 5;
        assert!(decode(&encode(&KEY, &ENV, &b, &MAC), &KEY, &ENV, &MAC).is_none());
        let mut b = blob();
        b.entry = 2;
        assert!(decode(&encode(&KEY, &ENV, &b, &MAC), &KEY, &ENV, &MAC).is_none());
    }

    #[test]
    fn disk_cache_put_get_evict_clear() {
        let dir = temp_dir("unit");
        let size = encode(&KEY, &ENV, &blob(), &MAC).len() as u64;
        let cache = DiskCache::new(dir.clone(), size * 2);
        assert!(matches!(cache.get(&KEY, &ENV), Lookup::Miss));
        for k in 0..3u8 {
            cache.put(&[k; 32], &ENV, &blob()).expect("put");
        }
        let s = cache.stats();
        assert!(s.bytes <= size * 2 && s.entries >= 1, "{s:?}");
        assert!(matches!(cache.get(&[2; 32], &ENV), Lookup::Hit(_)));
        // A stray temp file is never taken for an entry.
        fs::write(dir.join(".x.tmp"), b"junk").expect("write");
        assert_eq!(cache.clear().expect("clear"), s.entries);
        assert_eq!(cache.stats().entries, 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_forged_entry_on_disk_is_a_miss_and_is_removed() {
        let dir = temp_dir("forged");
        let cache = DiskCache::new(dir.clone(), u64::MAX);
        cache.put(&KEY, &ENV, &blob()).expect("put");
        let path = cache.path(&KEY);
        let real = fs::read(&path).expect("read");
        let body = &real[..real.len() - 32];
        let mut forged = body.to_vec();
        forged.extend_from_slice(blake3::hash(body).as_bytes());
        fs::write(&path, &forged).expect("write");
        assert!(matches!(cache.get(&KEY, &ENV), Lookup::Invalid(_)));
        assert!(!path.exists());
        // A second cache object over the same directory shares the key: real entries hit.
        cache.put(&KEY, &ENV, &blob()).expect("put");
        let again = DiskCache::new(dir.clone(), u64::MAX);
        assert!(matches!(again.get(&KEY, &ENV), Lookup::Hit(_)));
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_private_and_the_directory_too() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("perms");
        let cache = DiskCache::new(dir.clone(), u64::MAX);
        cache.mac_key().expect("key");
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join(KEY_FILE)), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_entry_is_a_miss_not_a_hang() {
        let dir = temp_dir("fifo");
        let cache = DiskCache::new(dir.clone(), u64::MAX);
        cache.mac_key().expect("key");
        let path = cache.path(&KEY);
        let c = std::ffi::CString::new(path.to_string_lossy().as_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        assert!(matches!(cache.get(&KEY, &ENV), Lookup::Invalid(_)));
        // A symlink to a real entry is not followed either.
        let other = DiskCache::new(temp_dir("fifo-target"), u64::MAX);
        other.put(&KEY, &ENV, &blob()).expect("put");
        std::os::unix::fs::symlink(other.path(&KEY), &path).expect("symlink");
        assert!(matches!(cache.get(&KEY, &ENV), Lookup::Invalid(_)));
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::remove_dir_all(other.dir());
    }

    #[cfg(unix)]
    #[test]
    fn a_world_writable_directory_or_a_shared_key_refuses_the_cache() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("shared");
        fs::create_dir_all(&dir).expect("mkdir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
        let cache = DiskCache::new(dir.clone(), u64::MAX);
        let why = cache.mac_key().expect_err("world-writable");
        assert!(why.contains("writable by every user"), "{why}");
        assert!(cache.put(&KEY, &ENV, &blob()).is_err());
        assert!(matches!(cache.get(&KEY, &ENV), Lookup::Miss));

        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
        fs::write(dir.join(KEY_FILE), [1u8; 32]).expect("write key");
        fs::set_permissions(dir.join(KEY_FILE), fs::Permissions::from_mode(0o644)).expect("chmod");
        let cache = DiskCache::new(dir.clone(), u64::MAX);
        let why = cache.mac_key().expect_err("readable key");
        assert!(why.contains("not private"), "{why}");
        let _ = fs::remove_dir_all(&dir);
    }
}
