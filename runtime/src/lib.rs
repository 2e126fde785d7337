//! `rtfs-runtime`: the IR interpreter and the embedding `Runtime`.
