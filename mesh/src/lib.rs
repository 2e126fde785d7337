//! `rtfs-mesh`: the Global Function Mesh — function records, registries, resolution cache, provider selection, health and security. Depends on `rtfs-ir` only.
