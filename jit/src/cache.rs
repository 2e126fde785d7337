//! The on-disk half of the L4 code cache: one file per group key, written atomically
//! (temp file + rename), verified on load, bounded in total size (oldest entries evicted).
//!
//! Entry layout (little endian):
//! `magic(8) key(32) env_hash(32) entry(u32) ret(u8) nparams(u8) params(nparams)
//!  nfuncs(u32) funcs(u32 × nfuncs) nrelocs(u32) relocs((u32,u32,i64) × nrelocs)
//!  frame_bound(u32) code_len(u32) code checksum(32)`, the checksum being blake3 of everything before it.
//! Anything that does not parse, does not match the key and the environment (compiler and
//! Cranelift versions, ISA, flags) or fails the checksum is a miss: the file is removed and
//! the group recompiled and written again.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::key::{Key, hex};
use crate::link::{Blob, Reloc8};
use crate::plan::Ty;

const MAGIC: &[u8; 8] = b"RTFSL4\x00\x03";
const EXT: &str = "l4";
/// Default bound on the cache directory's size.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// What a lookup found.
pub enum Lookup {
    Hit(Blob),
    Miss,
    /// A file was there but unusable (truncated, corrupt, foreign); it has been removed.
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
        DiskCache { dir, max_bytes }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.{EXT}", hex(key)))
    }

    pub fn get(&self, key: &Key, env_hash: &[u8; 32]) -> Lookup {
        let path = self.path(key);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(_) => return Lookup::Miss,
        };
        match decode(&bytes, key, env_hash) {
            Some(blob) => {
                // Recently used entries are evicted last.
                if let Ok(f) = fs::File::options().append(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
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
        fs::create_dir_all(&self.dir)?;
        let bytes = encode(key, env_hash, blob);
        let tmp = self
            .dir
            .join(format!(".{}.{}.tmp", hex(key), std::process::id()));
        {
            let mut f = fs::File::create(&tmp)?;
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
                let m = e.metadata().ok()?;
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

pub fn encode(key: &Key, env_hash: &[u8; 32], blob: &Blob) -> Vec<u8> {
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
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
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
pub fn decode(bytes: &[u8], key: &Key, env_hash: &[u8; 32]) -> Option<Blob> {
    if bytes.len() < 32 {
        return None;
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
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

    #[test]
    fn round_trip() {
        let b = blob();
        let bytes = encode(&KEY, &ENV, &b);
        assert_eq!(decode(&bytes, &KEY, &ENV), Some(b));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        let bytes = encode(&KEY, &ENV, &blob());
        for n in 0..bytes.len() {
            assert!(
                decode(&bytes[..n], &KEY, &ENV).is_none(),
                "truncated to {n}"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(decode(&b, &KEY, &ENV).is_none(), "flipped byte {i}");
        }
    }

    #[test]
    fn other_key_or_environment_is_rejected() {
        let bytes = encode(&KEY, &ENV, &blob());
        assert!(decode(&bytes, &[8; 32], &ENV).is_none());
        assert!(decode(&bytes, &KEY, &[1; 32]).is_none());
    }

    #[test]
    fn out_of_bounds_offsets_are_rejected_even_with_a_valid_checksum() {
        let mut b = blob();
        b.relocs[0].offset = 60;
        assert!(decode(&encode(&KEY, &ENV, &b), &KEY, &ENV).is_none());
        let mut b = blob();
        b.relocs[0].target = 5;
        assert!(decode(&encode(&KEY, &ENV, &b), &KEY, &ENV).is_none());
        let mut b = blob();
        b.entry = 2;
        assert!(decode(&encode(&KEY, &ENV, &b), &KEY, &ENV).is_none());
    }

    #[test]
    fn disk_cache_put_get_evict_clear() {
        let dir = std::env::temp_dir().join(format!("rtfs-l4-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let size = encode(&KEY, &ENV, &blob()).len() as u64;
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
}
