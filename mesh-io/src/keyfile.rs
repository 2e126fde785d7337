//! Publisher key files and trust files on disk. The formats are parsed by `rtfs-mesh`
//! ([`PublisherKey::from_key_text`], [`TrustStore::from_json_text`]); reading and writing
//! the files is done here, so `PublisherKey::load(path)` and friends read as before with
//! these traits in scope.

use std::path::Path;

use crate::error::{MeshError, Result};
use crate::fsutil::write_atomic;
use crate::signing::{PublisherKey, TrustStore};

pub trait PublisherKeyFile: Sized {
    /// Reads a key file written by [`PublisherKeyFile::save`]: the 32-byte seed in hex.
    fn load(path: &Path) -> Result<Self>;
    /// Writes the secret seed (mode 0600) to `path` and the public key to `path.pub`.
    fn save(&self, path: &Path) -> Result<()>;
}

impl PublisherKeyFile for PublisherKey {
    fn load(path: &Path) -> Result<PublisherKey> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| MeshError::Config(format!("cannot read key {}: {e}", path.display())))?;
        PublisherKey::from_key_text(&text, &path.display().to_string())
    }

    fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.secret_key_text().as_bytes(), true)?;
        let mut pubpath = path.as_os_str().to_owned();
        pubpath.push(".pub");
        write_atomic(
            Path::new(&pubpath),
            format!("{}\n", self.public_hex()).as_bytes(),
            false,
        )
    }
}

pub trait TrustStoreFile: Sized {
    /// Reads a JSON trust file (see [`TrustStore::from_json_text`]).
    fn load(path: &Path) -> Result<Self>;
}

impl TrustStoreFile for TrustStore {
    fn load(path: &Path) -> Result<TrustStore> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            MeshError::Config(format!("cannot read trust file {}: {e}", path.display()))
        })?;
        TrustStore::from_json_text(&text, &path.display().to_string())
    }
}
