//! `rtfs-stdlib`: the built-in functions of RTFS (pure ones usable from both tiers) and the RTFS prelude macros. It knows values, not the compiler or the runtime.
