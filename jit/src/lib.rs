//! `rtfs-jit`: the Cranelift tier and the L4 code cache. It owns planning (which functions
//! a compilation covers and their types: unboxed int/float/bool where known, boxed values
//! otherwise), code generation (on the caller or the
//! background thread), the runtime helpers compiled code calls for boxed values
//! (`rt`: the per-call arena, pure built-ins, collection literals), linking into
//! executable memory, the cache (in memory and on disk) and the background compile thread. It hands the runtime a
//! [`NativeCode`] that either returns the exact value or bails.
//!
//! It must never compile RTFS code with effects (capability calls, `def`, impure
//! built-ins, calls the Delegation Engine routes): those functions stay interpreted. It
//! calls back into the runtime only through the `Env` the caller passes (pure built-ins
//! that take functions, function values), and relies on the caller to refuse effects
//! inside such callbacks, so a bail is always safe to re-run. It never trusts a cache
//! file it has not verified, and compiled code holds no pointers: built-ins and constants
//! are named by index into tables rebuilt from the plan when the code is loaded.

mod background;
mod cache;
mod codegen;
mod key;
mod link;
mod plan;
mod rt;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
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
/// The code generator's build identity: a hash of this crate's sources and manifest,
/// computed by build.rs. Part of every cache key, so a rebuilt binary whose code
/// generator changed never loads native code an older one wrote.
pub const BUILD_ID: &str = env!("RTFS_JIT_BUILD_ID");

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
    /// Groups compiled on the background thread (tier `auto`), included in the above.
    pub background_groups: u64,
    /// Top-level forms that ran as compiled code (compiled or found in the cache).
    pub toplevel_compiled: u64,
    /// Top-level forms that loop but stayed interpreted (their reasons are among the
    /// rejections, under the form's name).
    pub toplevel_declined: u64,
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

/// The JIT engine: target description, caches and counters, and the background compiler.
pub struct Jit {
    shared: Arc<Shared>,
    /// Started on the first background compilation.
    worker: Option<background::Worker>,
}

/// What the calling thread and the background compiler both use.
pub(crate) struct Shared {
    isa: OwnedTargetIsa,
    env: String,
    env_hash: [u8; 32],
    memory: Mutex<HashMap<key::Key, Arc<Linked>>>,
    disk: Option<DiskCache>,
    stats: Mutex<Stats>,
    /// Why the last rejected functions stay interpreted (name, reason), newest last.
    rejections: Mutex<Vec<(String, String)>>,
}

/// Most cache entries kept loaded in memory; beyond it the memory cache starts afresh.
const MEMORY_ENTRIES: usize = 4096;
/// Most rejection reasons kept for `--stats`.
const REJECTIONS_KEPT: usize = 64;

/// Locks a mutex even if a panicking thread poisoned it: the data behind these locks
/// (counters, a cache map) stays consistent between statements.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Jit {
    /// A JIT for the host machine.
    pub fn new(cache: CacheConfig) -> Result<Jit, String> {
        Jit::with_build_id(cache, BUILD_ID)
    }

    /// A JIT whose cache keys carry `build` as the code generator's identity (tests build
    /// two identities to show that entries of the other one miss).
    fn with_build_id(cache: CacheConfig, build: &str) -> Result<Jit, String> {
        let mut flags = settings::builder();
        for (k, v) in [
            ("opt_level", OPT_LEVEL),
            ("is_pic", "false"),
            ("enable_probestack", "false"),
            // The IR verifier runs in debug builds (and so in every test).
            (
                "enable_verifier",
                if cfg!(debug_assertions) {
                    "true"
                } else {
                    "false"
                },
            ),
        ] {
            flags
                .set(k, v)
                .map_err(|e| format!("cranelift flag {k}: {e}"))?;
        }
        let isa = cranelift_native::builder()
            .map_err(|e| format!("the JIT does not support this machine: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("cannot set up the code generator: {e}"))?;
        let env = key::environment(&*isa, OPT_LEVEL, build);
        let env_hash = *blake3::hash(env.as_bytes()).as_bytes();
        Ok(Jit {
            shared: Arc::new(Shared {
                isa,
                env,
                env_hash,
                memory: Mutex::new(HashMap::new()),
                disk: cache.dir.map(|d| {
                    DiskCache::new(d, cache.max_bytes.unwrap_or(cache::DEFAULT_MAX_BYTES))
                }),
                stats: Mutex::new(Stats::default()),
                rejections: Mutex::new(Vec::new()),
            }),
            worker: None,
        })
    }

    /// Forgets the code loaded in memory (the disk cache stays): the next compilation of a
    /// group is a disk hit or a real compilation. For measuring cold and warm paths.
    pub fn clear_memory(&mut self) {
        lock(&self.shared.memory).clear();
    }

    pub fn disk(&self) -> Option<&DiskCache> {
        self.shared.disk.as_ref()
    }

    /// The counters so far (background compilations included once they finished).
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Why the last rejected functions stay interpreted (name, reason), newest last.
    pub fn rejections(&self) -> Vec<(String, String)> {
        lock(&self.shared.rejections).clone()
    }

    /// Compiles `lambda` specialised on the types of its `captures` and `args` (with every
    /// function it calls), or finds it in the L4 cache, on the calling thread. `owner` and
    /// `generation` identify the runtime and the state of its globals; the code is valid
    /// only while they are unchanged.
    pub fn compile(
        &mut self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
        owner: u64,
        generation: u64,
    ) -> Result<Arc<dyn NativeCode>, Reject> {
        self.compile_now(lambda, captures, args, globals, (owner, generation), false)
    }

    /// [`Jit::compile`] as `auto` does it for a function with a loop at its first call:
    /// groups that call function values are declined (see [`auto_declines`]).
    pub fn compile_for_auto(
        &mut self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
        owner: u64,
        generation: u64,
    ) -> Result<Arc<dyn NativeCode>, Reject> {
        self.compile_now(lambda, captures, args, globals, (owner, generation), true)
    }

    fn compile_now(
        &mut self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
        (owner, generation): (u64, u64),
        auto: bool,
    ) -> Result<Arc<dyn NativeCode>, Reject> {
        let start = Instant::now();
        let r = self
            .shared
            .prepare(lambda, captures, args, globals)
            .and_then(|(plan, key, found)| {
                if auto {
                    auto_declines(&plan)?;
                }
                match found {
                    Some(code) => Ok(code),
                    None => self.shared.build(&plan, &key),
                }
            });
        self.shared.add_compile_time(start);
        self.finish(lambda, r, owner, generation)
    }

    /// The Cranelift IR the code generator emits for `lambda` specialised on the types of
    /// `captures` and `args` (every function of its group, before Cranelift's
    /// optimisations), as text: what `Runtime::jit_ir` returns and the IR snapshot tests
    /// compare. Compiles nothing and touches no cache.
    pub fn ir_text(
        &self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
    ) -> Result<String, Reject> {
        let caps: Vec<Ty> = captures.iter().map(Ty::of).collect();
        let tys: Vec<Ty> = args.iter().map(Ty::of).collect();
        let plan = plan::plan(lambda, &caps, &tys, globals)?;
        let mut out = String::new();
        for (i, spec) in plan.specs.iter().enumerate() {
            let func = codegen::gen_spec(&*self.shared.isa, &plan, i)?;
            out.push_str(&format!(
                "; {} {:?} -> {:?}\n{}\n",
                spec.lambda.display_name(),
                spec.params,
                spec.ret.unwrap_or(Ty::Val),
                func.display()
            ));
        }
        Ok(out)
    }

    /// Compiles a top-level form wrapped as a function of no arguments (`thunk`), on the
    /// calling thread: a form runs once, so there is nothing to gain from waiting. `auto`
    /// applies the verdicts it applies to a function with a loop at its first call.
    pub fn compile_toplevel(
        &mut self,
        thunk: &Arc<Lambda>,
        globals: &dyn Globals,
        owner: u64,
        generation: u64,
        auto: bool,
    ) -> Result<Arc<dyn NativeCode>, Reject> {
        let r = self.compile_now(thunk, &[], &[], globals, (owner, generation), auto);
        let mut stats = lock(&self.shared.stats);
        match r {
            Ok(_) => stats.toplevel_compiled += 1,
            Err(_) => stats.toplevel_declined += 1,
        }
        r
    }

    /// Like [`Jit::compile`], but a group that is in no cache is compiled on the
    /// background thread, which installs the code in `lambda`'s tier slot when done:
    /// `Ok(None)` means queued. Planning and cache loads still happen here (microseconds).
    /// The caller must have claimed the slot with `TierSlot::queue`. Small leaf functions
    /// (see [`plan::small_leaf`]) are declined here: this is the path of functions that got
    /// hot being called from the interpreter, where they are cheaper left interpreted.
    pub fn compile_in_background(
        &mut self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
        owner: u64,
        generation: u64,
    ) -> Result<Option<Arc<dyn NativeCode>>, Reject> {
        if lambda
            .arity_for(args.len())
            .is_some_and(|a| plan::small_leaf(&a.body))
        {
            let why = Reject(
                "small leaf function: entering native code from the interpreter costs more \
                 than interpreting it (`--tier jit` compiles it anyway)"
                    .into(),
            );
            return self.finish(lambda, Err(why), owner, generation).map(Some);
        }
        let start = Instant::now();
        let prepared = self.shared.prepare(lambda, captures, args, globals);
        self.shared.add_compile_time(start);
        let prepared = prepared.and_then(|p| auto_declines(&p.0).map(|()| p));
        let (plan, key) = match prepared {
            Ok((_, _, Some(code))) => {
                return self.finish(lambda, Ok(code), owner, generation).map(Some);
            }
            Ok((plan, key, None)) => (plan, key),
            Err(e) => return self.finish(lambda, Err(e), owner, generation).map(Some),
        };
        if self.worker.is_none() {
            self.worker = background::Worker::spawn(self.shared.clone()).ok();
        }
        let job = background::Job {
            lambda: lambda.clone(),
            plan,
            key,
            owner,
            generation,
        };
        let job = match &self.worker {
            Some(w) => match w.submit_or_return(job) {
                None => return Ok(None),
                Some(job) => job,
            },
            None => job,
        };
        // No thread (the system refused one): compile here rather than not at all.
        let start = Instant::now();
        let r = self.shared.build(&job.plan, &job.key);
        self.shared.add_compile_time(start);
        self.finish(lambda, r, owner, generation).map(Some)
    }

    /// Blocks until background compilations have finished (their code is installed and
    /// written to the disk cache). `rtfs run` calls it before reporting `--stats`.
    pub fn wait_idle(&self) {
        if let Some(w) = &self.worker {
            w.wait_idle();
        }
    }

    fn finish(
        &self,
        lambda: &Arc<Lambda>,
        r: Result<Arc<Linked>, Reject>,
        owner: u64,
        generation: u64,
    ) -> Result<Arc<dyn NativeCode>, Reject> {
        match r {
            Ok(code) => Ok(Arc::new(Handle {
                code,
                owner,
                generation,
            })),
            Err(e) => {
                self.shared.record_rejection(lambda, &e);
                Err(e)
            }
        }
    }
}

/// Under `auto`, a group that calls function values stays interpreted: every such call
/// leaves native code through the runtime and comes back, and on the closure benchmark
/// that round trip made compiled code 16 % slower (in instructions) than interpreting.
/// `--tier jit` compiles such groups anyway.
fn auto_declines(plan: &plan::Plan) -> Result<(), Reject> {
    if plan.calls_values {
        return Err(Reject(
            "calls function values: each call leaves native code, which costs more than it \
             saves (`--tier jit` compiles it anyway)"
                .into(),
        ));
    }
    Ok(())
}

impl Shared {
    /// Plans the group and looks it up in memory and on disk.
    fn prepare(
        &self,
        lambda: &Arc<Lambda>,
        captures: &[Value],
        args: &[Value],
        globals: &dyn Globals,
    ) -> Result<(plan::Plan, key::Key, Option<Arc<Linked>>), Reject> {
        let caps: Vec<Ty> = captures.iter().map(Ty::of).collect();
        let tys: Vec<Ty> = args.iter().map(Ty::of).collect();
        let plan = plan::plan(lambda, &caps, &tys, globals)?;
        let key = key::key(&plan, &self.env)?;
        if let Some(code) = lock(&self.memory).get(&key) {
            lock(&self.stats).l4_hits += 1;
            return Ok((plan, key, Some(code.clone())));
        }
        // Code whose constants are identified by address stays out of the disk cache.
        let Some(disk) = self.disk.as_ref().filter(|_| plan.cacheable) else {
            return Ok((plan, key, None));
        };
        let blob = match disk.get(&key, &self.env_hash) {
            cache::Lookup::Hit(b) => b,
            cache::Lookup::Miss => return Ok((plan, key, None)),
            cache::Lookup::Invalid(_) => {
                lock(&self.stats).invalid_entries += 1;
                return Ok((plan, key, None));
            }
        };
        lock(&self.stats).l4_hits += 1;
        let linked = self.load(&key, &blob, &plan)?;
        Ok((plan, key, Some(linked)))
    }

    /// Generates and compiles a group that no cache holds, writes it to disk and loads it.
    fn build(&self, plan: &plan::Plan, key: &key::Key) -> Result<Arc<Linked>, Reject> {
        lock(&self.stats).l4_misses += 1;
        let blob = self.generate(plan)?;
        lock(&self.stats).functions_compiled += plan.specs.len() as u64;
        if let Some(disk) = self.disk.as_ref().filter(|_| plan.cacheable) {
            // A cache that cannot be written only costs a recompilation next time.
            let _ = disk.put(key, &self.env_hash, &blob);
        }
        self.load(key, &blob, plan)
    }

    fn load(
        &self,
        key: &key::Key,
        blob: &link::Blob,
        plan: &plan::Plan,
    ) -> Result<Arc<Linked>, Reject> {
        let linked = Arc::new(Linked {
            loaded: link::load(blob)?,
            params: blob.params.clone(),
            ret: blob.ret,
            frame_bound: blob.frame_bound,
            consts: plan.consts.clone(),
            builtins: plan.builtins.clone(),
            lambdas: plan.lambdas.clone(),
            sites: plan.sites.clone(),
            boxed: plan.boxed,
        });
        let mut memory = lock(&self.memory);
        if memory.len() >= MEMORY_ENTRIES {
            memory.clear();
        }
        memory.insert(*key, linked.clone());
        Ok(linked)
    }

    fn count_background(&self) {
        lock(&self.stats).background_groups += 1;
    }

    fn add_compile_time(&self, start: Instant) {
        lock(&self.stats).compile_ns += start.elapsed().as_nanos() as u64;
    }

    fn record_rejection(&self, lambda: &Lambda, e: &Reject) {
        lock(&self.stats).rejected += 1;
        let mut r = lock(&self.rejections);
        if r.len() >= REJECTIONS_KEPT {
            r.remove(0);
        }
        r.push((lambda.display_name().to_string(), e.0.clone()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use rtfs_ir::error::SrcLoc;
    use rtfs_ir::expr::{Arity, Expr, PrimOp};

    struct NoEnv;
    impl rtfs_ir::Env for NoEnv {
        fn apply(&mut self, _: &Value, _: &[Value]) -> rtfs_ir::RtResult<Value> {
            Ok(Value::Nil)
        }
        fn write_out(&mut self, _: &str) -> rtfs_ir::RtResult<()> {
            Ok(())
        }
    }

    struct NoGlobals;
    impl Globals for NoGlobals {
        fn value(&self, _: GlobalId) -> Option<Value> {
            None
        }
    }

    /// `(fn [x] (* x 3))`
    fn triple() -> Arc<Lambda> {
        let body = Expr::PrimSlotInt(PrimOp::Mul, 0, 3, SrcLoc::default());
        Arc::new(Lambda {
            name: Some(Arc::new("triple".into())),
            arities: vec![Arity {
                params: 1,
                rest: false,
                frame_size: 1,
                body,
                sensitive_params: Vec::new(),
                types: None,
            }],
            loc: SrcLoc::default(),
            meta: Value::Nil,
            tier: Default::default(),
        })
    }

    fn compile_once(dir: &std::path::Path, build: &str) -> Stats {
        let cache = CacheConfig {
            dir: Some(dir.to_path_buf()),
            max_bytes: None,
        };
        let mut jit = Jit::with_build_id(cache, build).expect("host supported");
        let code = jit
            .compile(&triple(), &[], &[Value::Int(14)], &NoGlobals, 1, 1)
            .expect("compiles");
        let mut env = NoEnv;
        assert!(matches!(
            code.call(&[Value::Int(14)], &[], 100, &mut env),
            Some(Value::Int(42))
        ));
        jit.stats()
    }

    #[test]
    fn entries_of_another_code_generator_build_miss() {
        let dir = std::env::temp_dir().join(format!("rtfs-l4-build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = compile_once(&dir, "build-a");
        assert_eq!((first.functions_compiled, first.l4_hits), (1, 0));
        // Same build: the entry is found on disk.
        let same = compile_once(&dir, "build-a");
        assert_eq!((same.functions_compiled, same.l4_hits), (0, 1));
        // Another build of the code generator: the old entry is never loaded.
        let other = compile_once(&dir, "build-b");
        assert_eq!(
            (other.functions_compiled, other.l4_hits, other.l4_misses),
            (1, 0, 1)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_build_identity_is_in_the_environment() {
        assert_eq!(BUILD_ID.len(), 32);
        let jit = Jit::new(CacheConfig::default()).expect("host supported");
        assert!(jit.shared.env.contains(BUILD_ID));
    }
}
