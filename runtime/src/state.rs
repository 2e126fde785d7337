//! Everything a running program can reach besides its own stack: global values, the host
//! capability registry, the output sink and the recursion limit.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use rtfs_compiler::CompileHost;
use rtfs_compiler::globals::GlobalTable;
use rtfs_ir::error::kind;
use rtfs_ir::expr::{GlobalId, TopLevel};
use rtfs_ir::{Builtin, RtError, RtResult, Value};

use crate::interp::Interp;

/// Global values by id (ids are assigned by the compiler's global table).
#[derive(Default, Clone)]
pub struct Globals {
    values: Vec<Option<Value>>,
    names: Vec<Arc<String>>,
    by_name: HashMap<String, GlobalId>,
    /// Bumped whenever a bound global is redefined: compiled code inlines global constants
    /// and callees, and is valid only for the generation it was compiled in.
    pub generation: u64,
}

impl Globals {
    #[inline]
    pub fn get(&self, id: GlobalId) -> Option<Value> {
        self.values.get(id as usize).cloned().flatten()
    }

    pub fn set(&mut self, id: GlobalId, v: Value) {
        let i = id as usize;
        if i >= self.values.len() {
            self.values.resize(i + 1, None);
        }
        if self.values[i].is_some() {
            self.generation += 1;
        }
        self.values[i] = Some(v);
    }

    pub fn name(&self, id: GlobalId) -> String {
        self.names
            .get(id as usize)
            .map_or_else(|| format!("global #{id}"), |n| n.to_string())
    }

    /// Records the names of ids the compiler has handed out, for error messages.
    pub fn sync_names(&mut self, table: &rtfs_compiler::globals::GlobalTable) {
        for id in self.names.len()..table.len() {
            let name = Arc::new(table.name(id as GlobalId).to_string());
            self.by_name.insert(name.to_string(), id as GlobalId);
            self.names.push(name);
        }
    }

    /// The value of a global by name (type checks resolve `deftype` names this way).
    pub fn get_named(&self, name: &str) -> Option<Value> {
        self.by_name.get(name).and_then(|id| self.get(*id))
    }
}

impl rtfs_jit::Globals for Globals {
    fn value(&self, id: GlobalId) -> Option<Value> {
        self.get(id)
    }

    fn builtin(&self, name: &str) -> Option<&'static rtfs_ir::Builtin> {
        rtfs_stdlib::lookup(name)
    }
}

/// Which tier runs functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tier {
    /// Only the interpreter.
    #[default]
    Interp,
    /// Compile every pure numeric function on its first call.
    Jit,
    /// Interpret first; compile a function once it is hot (see `interp::HOT_CALLS`) or
    /// at its first call when it contains a loop.
    Auto,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Interp => "interp",
            Tier::Jit => "jit",
            Tier::Auto => "auto",
        }
    }
}

/// The compiled tier's engine, created when a compiled tier is first selected.
pub struct JitState {
    pub tier: Tier,
    pub cache: rtfs_jit::CacheConfig,
    /// `None` until first needed; `Err` when this machine has no code generator.
    pub engine: Option<Result<rtfs_jit::Jit, String>>,
}

impl JitState {
    pub fn engine(&mut self) -> Option<&mut rtfs_jit::Jit> {
        let cache = &self.cache;
        self.engine
            .get_or_insert_with(|| rtfs_jit::Jit::new(cache.clone()))
            .as_mut()
            .ok()
    }
}

static NEXT_STATE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A capability the host provides to `(call :id ...)`.
pub type CapabilityFn =
    Arc<dyn Fn(&mut dyn rtfs_ir::Env, &[Value]) -> RtResult<Value> + Send + Sync>;

/// How a resource type is released when a `with-resource` body ends.
#[derive(Clone)]
pub enum ReleaseHook {
    /// The function given to `(defresource Type release-fn)`.
    Rtfs(Value),
    /// Registered by the host (`Runtime::register_resource`).
    Host(HostRelease),
}

/// A host's release hook: gets the resource value; an `Err` is the release's error.
pub type HostRelease = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// Where program output (`print`, `println`) goes.
pub enum Output {
    Stdout,
    Buffer(String),
}

pub struct State {
    pub globals: Globals,
    pub capabilities: HashMap<String, CapabilityFn>,
    pub output: Output,
    pub max_depth: u32,
    /// Identifies this state to compiled code (which is bound to one runtime's globals).
    pub id: u64,
    pub jit: JitState,
    /// Delegation engine, mesh, I/O, model providers and security context.
    pub wiring: crate::delegate::Wiring,
    /// The file and environment grants the effect capabilities were registered with.
    pub grants: Arc<crate::grants::Grants>,
    /// Calls that ran to completion in compiled code (tests assert the JIT really ran).
    pub native_calls: u64,
    /// Release hooks by resource type name, for `with-resource`.
    pub resources: HashMap<String, ReleaseHook>,
}

/// Default limit on nested calls; deeper recursion is a catchable error.
pub const DEFAULT_MAX_DEPTH: u32 = 200_000;
/// Highest limit on nested calls that may be set: every level takes native stack (grown on
/// demand), so a limit much past this would exhaust memory before it is reached.
pub const MAX_MAX_DEPTH: u32 = 2_000_000;

impl Default for State {
    fn default() -> Self {
        State {
            globals: Globals::default(),
            capabilities: HashMap::new(),
            output: Output::Stdout,
            max_depth: DEFAULT_MAX_DEPTH,
            id: NEXT_STATE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            jit: JitState {
                tier: Tier::Interp,
                cache: rtfs_jit::CacheConfig::default(),
                engine: None,
            },
            wiring: crate::delegate::Wiring::default(),
            grants: Arc::default(),
            native_calls: 0,
            resources: HashMap::new(),
        }
    }
}

impl State {
    /// The state a `parallel` branch runs in: the same globals, capabilities, wiring and
    /// release hooks, interpreted only (compiled code is bound to one state), output
    /// buffered when the parent's is, and `cancel` as the branch's cancellation token.
    /// What a branch defines stays in the branch.
    pub fn fork(&self, cancel: Arc<crate::cancel::CancelToken>) -> State {
        let mut wiring = self.wiring.clone();
        wiring.cancel = Some(cancel);
        State {
            globals: self.globals.clone(),
            capabilities: self.capabilities.clone(),
            output: match self.output {
                Output::Stdout => Output::Stdout,
                Output::Buffer(_) => Output::Buffer(String::new()),
            },
            max_depth: self.max_depth,
            id: NEXT_STATE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            jit: JitState {
                tier: Tier::Interp,
                cache: self.jit.cache.clone(),
                engine: None,
            },
            wiring,
            grants: self.grants.clone(),
            native_calls: 0,
            resources: self.resources.clone(),
        }
    }

    pub fn write_out(&mut self, text: &str) -> RtResult<()> {
        match &mut self.output {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .map_err(|e| RtError::new(kind::IO, format!("writing output failed: {e}")))
            }
            Output::Buffer(b) => {
                b.push_str(text);
                Ok(())
            }
        }
    }

    pub fn capability(&self, id: &str) -> RtResult<CapabilityFn> {
        let id = id.strip_prefix(':').unwrap_or(id);
        self.capabilities.get(id).cloned().ok_or_else(|| {
            RtError::new(
                kind::UNKNOWN_CAPABILITY,
                format!("unknown capability: :{id}"),
            )
        })
    }
}

impl CompileHost for State {
    fn run(&mut self, top: &TopLevel, globals: &GlobalTable) -> RtResult<Value> {
        self.globals.sync_names(globals);
        Interp::new(self).run_toplevel(top)
    }

    fn apply(&mut self, f: &Value, args: &[Value], globals: &GlobalTable) -> RtResult<Value> {
        self.globals.sync_names(globals);
        rtfs_ir::Env::apply(&mut Interp::new(self), f, args)
    }

    fn builtin(&self, name: &str) -> Option<&'static Builtin> {
        match name.strip_prefix("rtfs.host/") {
            Some(host) => crate::host_builtins::lookup(host),
            None => rtfs_stdlib::lookup(name).or_else(|| crate::host_builtins::lookup(name)),
        }
    }
}
