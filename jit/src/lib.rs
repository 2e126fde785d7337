//! `rtfs-jit`: the Cranelift tier and the L4 code cache. It owns planning (which functions
//! a compilation covers and their types: unboxed int/float/bool where known, boxed values
//! otherwise), code generation, the runtime helpers compiled code calls for boxed values
//! (`rt`: the per-call arena, pure built-ins, collection literals), linking into
//! executable memory, and the cache (in memory and on disk). It hands the runtime a
//! [`NativeCode`] that either returns the exact value or bails.
//!
//! It must never compile RTFS code with effects (capability calls, `def`, impure
//! built-ins, calls the Delegation Engine routes): those functions stay interpreted. It
//! calls back into the runtime only through the `Env` the caller passes (pure built-ins
//! that take functions, function values), and relies on the caller to refuse effects
//! inside such callbacks, so a bail is always safe to re-run. It never trusts a cache
//! file it has not verified, and compiled code holds no pointers: built-ins and constants
//! are named by index into tables rebuilt from the plan when the code is loaded.

mod cache;
mod codegen;
mod key;
mod link;
mod plan;
mod rt;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use rtfs_ir::Value;
use rtfs_ir::expr::{GlobalId, Lambda};
use rtfs_ir::tier::NativeCode;

pub use cache::{DEFAULT_MAX_BYTES, DirStats, DiskCache, default_dir};
pub use plan::{Reject, Ty};
pub use rt::arena_high_water;

/// The Cranelift release the code generator is pinned to (part of every cache key).
pub const CRANELIFT_VERSION: &str = "0.135.8";
const OPT_LEVEL: &str = "speed";

/// The runtime's globals, as the planner reads them (constants are inlined, functions
/// called directly; the runtime invalidates code when a global is redefined).
pub trait Globals {
    fn value(&self, id: GlobalId) -> Option<Value>;
    /// The built-in named `name`: what a primitive on boxed operands calls.
    fn builtin(&self, _name: &str) -> Option<&'static rtfs_ir::Builtin> {
        None
    }
}

/// Where compiled code is cached.
#[derive(Clone, Debug, Default)]
pub struct CacheConfig {
    /// Directory of the on-disk cache; `None` keeps the cache in memory only.
    pub dir: Option<PathBuf>,
    pub max_bytes: Option<u64>,
}

/// Counters for `--stats`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Functions compiled by Cranelift (cache hits compile nothing).
    pub functions_compiled: u64,
    pub l4_hits: u64,
    pub l4_misses: u64,
    /// Functions the code generator declined (they stay interpreted).
    pub rejected: u64,
    /// Time planning, generating and compiling code, and loading it.
    pub compile_ns: u64,
    /// Cache entries found invalid (and rewritten).
    pub invalid_entries: u64,
}

/// Loaded code for one group, shared by every runtime that compiled the same key.
struct Linked {
    loaded: link::Loaded,
    params: Vec<Ty>,
    ret: Ty,
    frame_bound: u32,
    /// The boxed constants and built-ins the code names by index (from the plan; the L4
    /// key covers them).
    consts: Vec<Value>,
    builtins: Vec<&'static rtfs_ir::Builtin>,
    lambdas: Vec<Arc<Lambda>>,
    sites: Vec<(rtfs_ir::expr::CallTarget, bool)>,
    /// The code takes a context (boxed values): numbers-only code runs without one.
    boxed: bool,
}

// SAFETY: the code pages are read-only and executable once loaded; nothing mutates them.
unsafe impl Send for Linked {}
unsafe impl Sync for Linked {}

type EntryFn = unsafe extern "C" fn(*mut rt::JitCtx<'static>, *const u64, i64, *mut u64) -> u64;

/// Compiled code bound to the runtime and global generation it was planned against.
struct Handle {
    code: Arc<Linked>,
    owner: u64,
    generation: u64,
}

impl NativeCode for Handle {
    fn call(
        &self,
        args: &[Value],
        captures: &[Value],
        depth_budget: u32,
        env: &mut dyn rtfs_ir::Env,
    ) -> Option<Value> {
        let code = &self.code;
        // Captures are the first parameters (compiled with the closure's capture types).
        if captures.len() + args.len() != code.params.len() || depth_budget == 0 {
            return None;
        }
        if !code.boxed {
            return call_unboxed(code, captures, args, depth_budget);
        }
        let mut ctx = rt::JitCtx::new(
            env,
            &code.consts,
            &code.builtins,
            &code.lambdas,
            &code.sites,
        );
        let mut buf = [0u64; plan::MAX_PARAMS];
        let all = captures.iter().chain(args);
        for (slot, (a, t)) in buf.iter_mut().zip(all.zip(&code.params)) {
            *slot = match (a, t) {
                (Value::Int(i), Ty::Int) => *i as u64,
                (Value::Float(f), Ty::Float) => f.to_bits(),
                (Value::Bool(b), Ty::Bool) => u64::from(*b),
                (v, Ty::Val) => ctx.push(v.clone()) as u64,
                _ => return None,
            };
        }
        let mut out = 0u64;
        let ctx_ptr = (&mut ctx as *mut rt::JitCtx<'_>).cast::<rt::JitCtx<'static>>();
        // SAFETY: the entry was generated by `codegen::gen_entry` with exactly this C
        // signature, reads `params.len()` words from `buf` (at most MAX_PARAMS) and writes
        // one word to `out`; the code memory lives as long as `self.code`. The context
        // outlives the call and nothing else touches it meanwhile: the helpers reach it
        // only through the pointer the code passes them.
        let status = unsafe {
            let f: EntryFn = std::mem::transmute::<*const u8, EntryFn>(code.loaded.entry_addr());
            f(ctx_ptr, buf.as_ptr(), i64::from(depth_budget), &mut out)
        };
        if status != 0 {
            return None;
        }
        Some(match code.ret {
            Ty::Int => Value::Int(out as i64),
            Ty::Float => Value::Float(f64::from_bits(out)),
            Ty::Bool => Value::Bool(out & 0xff != 0),
            Ty::Val => ctx.take(out)?,
        })
    }

    fn frame_bytes(&self) -> u32 {
        self.code.frame_bound
    }

    fn valid(&self, owner: u64, generation: u64) -> bool {
        self.owner == owner && self.generation == generation
    }
}

/// A call of numbers-only code: no context, nothing allocated (the code never reads the
/// context pointer, which is null).
fn call_unboxed(code: &Linked, captures: &[Value], args: &[Value], depth: u32) -> Option<Value> {
    let mut buf = [0u64; plan::MAX_PARAMS];
    for (slot, (a, t)) in buf
        .iter_mut()
        .zip(captures.iter().chain(args).zip(&code.params))
    {
        *slot = match (a, t) {
            (Value::Int(i), Ty::Int) => *i as u64,
            (Value::Float(f), Ty::Float) => f.to_bits(),
            (Value::Bool(b), Ty::Bool) => u64::from(*b),
            _ => return None,
        };
    }
    let mut out = 0u64;
    // SAFETY: as in `Handle::call`; code generated without boxed values takes no context
    // (`Plan::boxed` is false: no function of the group has the context parameter and
    // no helper is called), so the null pointer is never read.
    let status = unsafe {
        let f: EntryFn = std::mem::transmute::<*const u8, EntryFn>(code.loaded.entry_addr());
        f(
            std::ptr::null_mut(),
            buf.as_ptr(),
            i64::from(depth),
            &mut out,
        )
    };
    if status != 0 {
        return None;
    }
    match code.ret {
        Ty::Int => Some(Value::Int(out as i64)),
        Ty::Float => Some(Value::Float(f64::from_bits(out))),
        Ty::Bool => Some(Value::Bool(out & 0xff != 0)),
        Ty::Val => None,
    }
}

/// The JIT engine: target description, caches and counters.
pub struct Jit {
    isa: OwnedTargetIsa,
    env: String,
    env_hash: [u8; 32],
    memory: HashMap<key::Key, Arc<Linked>>,
    disk: Option<DiskCache>,
    pub stats: Stats,
    /// Why the last rejected functions stay interpreted (name, reason), newest last.
    pub rejections: Vec<(String, String)>,
}

/// Most cache entries kept loaded in memory; beyond it the memory cache starts afresh.
const MEMORY_ENTRIES: usize = 4096;

impl Jit {
    /// A JIT for the host machine.
    pub fn new(cache: CacheConfig) -> Result<Jit, String> {
        let mut flags = settings::builder();
        for (k, v) in [
            ("opt_level", OPT_LEVEL),
            ("is_pic", "false"),
            ("enable_probestack", "false"),
            ("enable_verifier", "false"),
        ] {
            flags
                .set(k, v)
                .map_err(|e| format!("cranelift flag {k}: {e}"))?;
        }
        let isa = cranelift_native::builder()
            .map_err(|e| format!("the JIT does not support this machine: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("cannot set up the code generator: {e}"))?;
        let env = key::environment(&*isa, OPT_LEVEL);
        let env_hash = *blake3::hash(env.as_bytes()).as_bytes();
        Ok(Jit {
            isa,
            env,
            env_hash,
            memory: HashMap::new(),
            disk: cache
                .dir
                .map(|d| DiskCache::new(d, cache.max_bytes.unwrap_or(cache::DEFAULT_MAX_BYTES))),
            stats: Stats::default(),
            rejections: Vec::new(),
        })
    }

    /// Forgets the code loaded in memory (the disk cache stays): the next compilation of a
    /// group is a disk hit or a real compilation. For measuring cold and warm paths.
    pub fn clear_memory(&mut self) {
        self.memory.clear();
    }

    pub fn disk(&self) -> Option<&DiskCache> {
        self.disk.as_ref()
    }

    /// Compiles `lambda` specialised on the types of its `captures` and `args` (with every
    /// function it calls), or finds it in the L4 cache. `owner` and `generation` identify
    /// the runtime and the state of its globals; the code is valid only while they are
    /// unchanged.
    pub fn compile(
        &mut self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
        owner: u64,
        generation: u64,
    ) -> Result<Arc<dyn NativeCode>, Reject> {
        let start = Instant::now();
        let r = self.compile_inner(lambda, captures, args, globals);
        self.stats.compile_ns += start.elapsed().as_nanos() as u64;
        match r {
            Ok(code) => Ok(Arc::new(Handle {
                code,
                owner,
                generation,
            })),
            Err(e) => {
                self.stats.rejected += 1;
                if self.rejections.len() >= 64 {
                    self.rejections.remove(0);
                }
                self.rejections
                    .push((lambda.display_name().to_string(), e.0.clone()));
                Err(e)
            }
        }
    }

    fn compile_inner(
        &mut self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
    ) -> Result<Arc<Linked>, Reject> {
        let caps: Vec<Ty> = captures.iter().map(Ty::of).collect();
        let tys: Vec<Ty> = args.iter().map(Ty::of).collect();
        let plan = plan::plan(lambda, &caps, &tys, globals)?;
        // Code whose constants are identified by address stays out of the disk cache.
        let disk = if plan.cacheable {
            self.disk.as_ref()
        } else {
            None
        };
        let key = key::key(&plan, &self.env)?;
        if let Some(code) = self.memory.get(&key) {
            self.stats.l4_hits += 1;
            return Ok(code.clone());
        }
        let mut blob = None;
        if let Some(disk) = disk {
            match disk.get(&key, &self.env_hash) {
                cache::Lookup::Hit(b) => blob = Some(b),
                cache::Lookup::Miss => {}
                cache::Lookup::Invalid(_) => self.stats.invalid_entries += 1,
            }
        }
        let blob = match blob {
            Some(b) => {
                self.stats.l4_hits += 1;
                b
            }
            None => {
                self.stats.l4_misses += 1;
                let b = self.generate(&plan)?;
                self.stats.functions_compiled += plan.specs.len() as u64;
                if let Some(disk) = disk {
                    // A cache that cannot be written only costs a recompilation next time.
                    let _ = disk.put(&key, &self.env_hash, &b);
                }
                b
            }
        };
        let linked = Arc::new(Linked {
            loaded: link::load(&blob)?,
            params: blob.params.clone(),
            ret: blob.ret,
            frame_bound: blob.frame_bound,
            consts: plan.consts.clone(),
            builtins: plan.builtins.clone(),
            lambdas: plan.lambdas.clone(),
            sites: plan.sites.clone(),
            boxed: plan.boxed,
        });
        if self.memory.len() >= MEMORY_ENTRIES {
            self.memory.clear();
        }
        self.memory.insert(key, linked.clone());
        Ok(linked)
    }

    fn generate(&self, plan: &plan::Plan) -> Result<link::Blob, Reject> {
        let isa = &*self.isa;
        let mut funcs = Vec::with_capacity(plan.specs.len() + 1);
        for i in 0..plan.specs.len() {
            funcs.push(codegen::gen_spec(isa, plan, i)?);
        }
        funcs.push(codegen::gen_entry(isa, plan)?);
        let root = &plan.specs[0];
        let ret = root.ret.ok_or(Reject("return type unknown".into()))?;
        link::compile(
            isa,
            funcs,
            plan.specs.len() as u32,
            root.params.clone(),
            ret,
        )
    }
}
