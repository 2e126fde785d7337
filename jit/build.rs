//! Computes the code generator's build identity: a hash of this crate's sources and
//! manifest, so that the L4 cache key changes whenever the code that produces machine code
//! changes (the crate version is the same on every commit).

use std::fs;
use std::path::{Path, PathBuf};

/// 64-bit FNV-1a, run twice with different offsets for 128 bits: no dependency, and
/// stable across Rust releases (unlike `DefaultHasher`).
fn fnv(seed: u64, data: &[u8], mut h: u64) -> u64 {
    h ^= seed;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut files = vec![root.join("Cargo.toml"), root.join("build.rs")];
    sources(&root.join("src"), &mut files);
    files.sort();
    let (mut a, mut b) = (0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142u64);
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap_or(f);
        let name = rel.to_string_lossy();
        let text = fs::read(f).unwrap_or_default();
        for part in [name.as_bytes(), &(text.len() as u64).to_le_bytes(), &text] {
            a = fnv(0, part, a);
            b = fnv(0x9e37_79b9_7f4a_7c15, part, b);
        }
        println!("cargo::rerun-if-changed={}", f.display());
    }
    println!("cargo::rerun-if-changed={}", root.join("src").display());
    println!("cargo::rustc-env=RTFS_JIT_BUILD_ID={a:016x}{b:016x}");
}
