//! The permission flags of `rtfs run`, `rtfs eval` and `rtfs repl` (`--allow-read DIR`,
//! `--allow-write DIR`, `--allow-env NAME`), Deno-style: nothing is granted unless asked.

use std::path::PathBuf;

use rtfs_runtime::{Grants, Runtime};

#[derive(clap::Args, Clone, Debug, Default)]
pub struct GrantArgs {
    /// Let the program read files under DIR (repeatable). Without it, no file is readable.
    #[arg(long = "allow-read", value_name = "DIR")]
    read: Vec<PathBuf>,
    /// Let the program create and replace files under DIR (repeatable).
    #[arg(long = "allow-write", value_name = "DIR")]
    write: Vec<PathBuf>,
    /// Let the program read the environment variable NAME (repeatable; `*` matches any
    /// run of characters: `--allow-env 'APP_*'`, `--allow-env '*'`).
    #[arg(long = "allow-env", value_name = "NAME")]
    env: Vec<String>,
}

impl GrantArgs {
    /// Installs the grants on `rt`; a root that is not a directory is a usage error.
    pub fn apply(&self, rt: &mut Runtime) -> Result<(), String> {
        let mut g = Grants::default();
        for d in &self.read {
            g.allow_read(d)?;
        }
        for d in &self.write {
            g.allow_write(d)?;
        }
        for n in &self.env {
            g.allow_env(n)?;
        }
        rt.set_grants(g);
        Ok(())
    }

    /// `apply`, reporting a failure on stderr; false when the command must stop (exit 2).
    pub fn apply_or_report(&self, rt: &mut Runtime) -> bool {
        match self.apply(rt) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("error: {e}");
                false
            }
        }
    }
}
