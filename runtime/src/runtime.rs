//! `Runtime`: the embedding API. A host creates one, registers functions and capabilities,
//! and evaluates RTFS source; definitions persist across evaluations (like a REPL session).

use std::path::Path;
use std::sync::Arc;

use rtfs_compiler::Compiler;
use rtfs_compiler::db::{CheckReport, IncrementalCompiler};
use rtfs_compiler::reader;
use rtfs_compiler::source::SourceMap;
use rtfs_ir::expr::TopLevel;
use rtfs_ir::{Env, NativeFn, RtResult, Value};

use crate::error::Error;
use crate::interp::Interp;
use crate::state::{Output, State};

const PRELUDE: &str = include_str!("../../stdlib/src/prelude.rtfs");

pub struct Runtime {
    compiler: Compiler,
    state: State,
    sources: SourceMap,
    /// Salsa database and lowering cache of `check_incremental`, created on first use.
    incremental: Option<Box<IncrementalCompiler>>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Runtime {
    /// A runtime with the standard library, the prelude macros and the built-in capabilities.
    pub fn new() -> Runtime {
        let mut rt = Runtime {
            compiler: Compiler::new(),
            state: State::default(),
            sources: SourceMap::new(),
            incremental: None,
        };
        for (id, cap) in crate::capabilities::builtin_capabilities() {
            rt.state.capabilities.insert(id.to_string(), cap);
        }
        rt.set_grants(crate::grants::Grants::default());
        if let Err(e) = rt.eval_source("<prelude>", PRELUDE.as_bytes()) {
            // The prelude ships with the binary and is tested; failing here is a build defect.
            let msg = e.render(&rt.sources);
            eprintln!("internal error: the RTFS prelude failed to load:\n{msg}");
        }
        rt
    }

    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// Evaluates source text; the value of the last form is returned.
    pub fn eval_str(&mut self, src: &str) -> Result<Value, Error> {
        self.eval_source("<eval>", src.as_bytes())
    }

    /// Evaluates `src` and converts its value to a Rust type through serde, the way
    /// `to-json` writes it: maps become objects (keyword keys lose their colon), vectors
    /// and lists arrays, keywords strings, `nil` null.
    ///
    /// ```
    /// #[derive(serde::Deserialize, PartialEq, Debug)]
    /// struct Order { id: i64, items: Vec<String> }
    /// let mut rt = rtfs_runtime::Runtime::new();
    /// let o: Order = rt.eval_as(r#"{:id 7 :items ["a" "b"]}"#).unwrap();
    /// assert_eq!(o, Order { id: 7, items: vec!["a".into(), "b".into()] });
    /// ```
    pub fn eval_as<T: serde::de::DeserializeOwned>(&mut self, src: &str) -> Result<T, Error> {
        let v = self.eval_str(src)?;
        value_as(&v)
    }

    pub fn eval_file(&mut self, path: impl AsRef<Path>) -> Result<Value, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
        self.eval_source(&path.display().to_string(), &bytes)
    }

    /// Reads and compiles every form, then runs them in order (nothing runs if any fails to
    /// compile).
    pub fn eval_source(&mut self, name: &str, bytes: &[u8]) -> Result<Value, Error> {
        let units = self.compile_source(name, bytes)?;
        self.run_units(&units)
    }

    /// Runs compiled top-level forms in order; the value of the last one is returned.
    pub fn run_units(&mut self, units: &[TopLevel]) -> Result<Value, Error> {
        let mut interp = Interp::new(&mut self.state);
        let mut last = Value::Nil;
        for top in units {
            let sources = &self.sources;
            let name = || match sources.get(rtfs_compiler::source::FileId(top.loc.file)) {
                Some(f) => {
                    let (line, col) = f.line_col(top.loc.start);
                    format!("top-level form at {}:{line}:{col}", f.name)
                }
                None => "top-level form".to_string(),
            };
            last = interp
                .run_toplevel_named(top, &name)
                .map_err(Error::Runtime)?;
        }
        Ok(last)
    }

    /// Reads and compiles without running (`rtfs check`); top-level `defn`s and macros are
    /// still defined, as compiling later forms may need them.
    pub fn compile_source(&mut self, name: &str, bytes: &[u8]) -> Result<Vec<TopLevel>, Error> {
        let file = self.sources.add_bytes(name, bytes);
        let text = self
            .sources
            .get(file)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let forms = reader::read_bytes(file, bytes).map_err(Error::Parse)?;
        let _ = text;
        let units = self
            .compiler
            .compile_unit(&forms, &mut self.state)
            .map_err(Error::Compile);
        self.state.globals.sync_names(&self.compiler.globals);
        units
    }

    /// The name of a global, for printing IR (`rtfs check --emit ir`).
    pub fn global_name(&self, id: rtfs_ir::expr::GlobalId) -> String {
        self.state.globals.name(id)
    }

    /// Like [`Runtime::compile_source`] for a file checked again and again (`rtfs check
    /// --watch`): `name` identifies the file across calls, and only forms whose text or
    /// environment changed since the last check of `name` are expanded and lowered again
    /// (see `rtfs_compiler::db`). The report counts forms parsed, lowered and reused; it is
    /// also available after a failed check through [`Runtime::last_incremental_check`].
    pub fn check_incremental(&mut self, name: &str, text: &str) -> Result<CheckReport, Error> {
        let inc = self
            .incremental
            .get_or_insert_with(|| Box::new(IncrementalCompiler::new()));
        let sources = &mut self.sources;
        let file = inc.set_text(name, text, || sources.add(name, text));
        let checked = inc.check(file, &mut self.compiler.globals, &mut self.state);
        self.state.globals.sync_names(&self.compiler.globals);
        match checked.result {
            Ok(_) => Ok(checked.report),
            Err(diags) if checked.parse_failed => Err(Error::Parse(diags)),
            Err(diags) => Err(Error::Compile(diags)),
        }
    }

    /// The report of the latest [`Runtime::check_incremental`], successful or not.
    pub fn last_incremental_check(&self) -> Option<&CheckReport> {
        self.incremental.as_ref().and_then(|i| i.last_report())
    }

    /// Calls an RTFS function value (e.g. one returned by `eval_str`) from the host.
    pub fn call(&mut self, f: &Value, args: &[Value]) -> Result<Value, Error> {
        Interp::new(&mut self.state)
            .apply(f, args)
            .map_err(Error::Runtime)
    }

    /// Makes a host function callable from RTFS as `name`.
    pub fn register_fn(
        &mut self,
        name: &str,
        min_args: u16,
        max_args: u16,
        f: impl Fn(&mut dyn Env, &[Value]) -> RtResult<Value> + Send + Sync + 'static,
    ) {
        let id = self.compiler.globals.intern(name);
        self.compiler.globals.mark_defined(id);
        self.state.globals.sync_names(&self.compiler.globals);
        let native = NativeFn {
            name: name.to_string(),
            min_args,
            max_args,
            func: Box::new(f),
        };
        self.state.globals.set(id, Value::Native(Arc::new(native)));
    }

    /// Makes `(call :id args...)` reach `f`.
    pub fn register_capability(
        &mut self,
        id: &str,
        f: impl Fn(&mut dyn Env, &[Value]) -> RtResult<Value> + Send + Sync + 'static,
    ) {
        let id = id.strip_prefix(':').unwrap_or(id);
        self.state.capabilities.insert(id.to_string(), Arc::new(f));
    }

    /// Replaces what programs may read and write on the host (files under granted roots,
    /// granted environment variables); a new runtime grants nothing. Re-registers the
    /// effect capabilities (`:ccos.fs/*`, `:ccos.env/get`), replacing any a host put there.
    pub fn set_grants(&mut self, grants: crate::grants::Grants) {
        let grants = Arc::new(grants);
        for (id, cap) in crate::effects::capabilities(grants.clone()) {
            self.state.capabilities.insert(id.to_string(), cap);
        }
        self.state.grants = grants;
    }

    /// The grants in force (see [`Runtime::set_grants`]).
    pub fn grants(&self) -> &crate::grants::Grants {
        &self.state.grants
    }

    /// The host release hook of resource type `type_name`: `(with-resource [r Type init]
    /// ...)` calls `release` with the resource when the body ends, by value or by a throw.
    /// An `Err` becomes a catchable `resource-error`. Replaces a `defresource` of that type.
    pub fn register_resource(
        &mut self,
        type_name: &str,
        release: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
    ) {
        self.state.resources.insert(
            type_name.to_string(),
            crate::state::ReleaseHook::Host(Arc::new(release)),
        );
    }

    /// Sends program output to an internal buffer instead of stdout (see `take_output`).
    pub fn capture_output(&mut self) {
        self.state.output = Output::Buffer(String::new());
    }

    /// Output captured since the last call (empty when writing to stdout).
    pub fn take_output(&mut self) -> String {
        match &mut self.state.output {
            Output::Buffer(b) => std::mem::take(b),
            Output::Stdout => String::new(),
        }
    }

    /// Limits nested calls; deeper recursion raises a catchable `stack-depth-exceeded`.
    /// Clamped to [`crate::state::MAX_MAX_DEPTH`].
    pub fn set_max_depth(&mut self, depth: u32) {
        self.state.max_depth = depth.min(crate::state::MAX_MAX_DEPTH);
    }

    /// Selects the execution tier (default: `Tier::Interp`). Compiled code already
    /// installed stays valid; switching to `Interp` just stops using it.
    pub fn set_tier(&mut self, tier: crate::state::Tier) {
        self.state.jit.tier = tier;
    }

    pub fn tier(&self) -> crate::state::Tier {
        self.state.jit.tier
    }

    /// Where the L4 code cache keeps compiled code on disk; `None` (the default for an
    /// embedded runtime) keeps it in memory only. Takes effect before the first compilation.
    pub fn set_cache_dir(&mut self, dir: Option<std::path::PathBuf>) {
        self.state.jit.cache.dir = dir;
    }

    /// Bounds the on-disk cache (least recently used entries are evicted).
    pub fn set_cache_max_bytes(&mut self, bytes: u64) {
        self.state.jit.cache.max_bytes = Some(bytes);
    }

    /// Counters of the compiled tier (all zero while nothing was compiled).
    /// Calls that ran to completion in compiled code (bails not counted) since the runtime
    /// was created.
    pub fn native_calls(&self) -> u64 {
        self.state.native_calls
    }

    pub fn jit_stats(&self) -> rtfs_jit::Stats {
        match &self.state.jit.engine {
            Some(Ok(j)) => j.stats(),
            _ => rtfs_jit::Stats::default(),
        }
    }

    /// Compiles the function `f` for arguments like `args` now (ahead of its calls) and
    /// installs the code, whatever the tier; an error says why it stays interpreted.
    pub fn jit_compile(&mut self, f: &Value, args: &[Value]) -> Result<(), String> {
        let Value::Fn(clo) = f else {
            return Err(format!("{} is not an RTFS function", f.type_name()));
        };
        let st = &mut self.state;
        let (id, generation) = (st.id, st.globals.generation);
        let engine = match st.jit.engine() {
            Some(e) => e,
            None => return Err("no code generator for this machine".to_string()),
        };
        let code = engine
            .compile(
                &clo.lambda,
                &clo.captures,
                args,
                &st.globals,
                id,
                generation,
            )
            .map_err(|r| r.0)?;
        clo.lambda.tier.install(code);
        Ok(())
    }

    /// The Cranelift IR the JIT generates for the function `f` called with arguments like
    /// `args` (its whole group, before Cranelift's optimisations), for inspecting what
    /// code a function gets; an error says why it stays interpreted.
    pub fn jit_ir(&mut self, f: &Value, args: &[Value]) -> Result<String, String> {
        let Value::Fn(clo) = f else {
            return Err(format!("{} is not an RTFS function", f.type_name()));
        };
        let st = &mut self.state;
        let engine = match st.jit.engine() {
            Some(e) => e,
            None => return Err("no code generator for this machine".to_string()),
        };
        engine
            .ir_text(&clo.lambda, &clo.captures, args, &st.globals)
            .map_err(|r| r.0)
    }

    /// Waits until functions being compiled in the background (tier `auto`) have their
    /// code installed and written to the L4 cache. Nothing needs it for correctness; call
    /// it before reading [`Runtime::jit_stats`] or ending a short program whose code should
    /// be cached for the next run.
    pub fn jit_wait(&self) {
        if let Some(Ok(j)) = &self.state.jit.engine {
            j.wait_idle();
        }
    }

    /// Drops compiled code kept in memory by the L4 cache (the disk cache stays).
    pub fn clear_jit_memory(&mut self) {
        if let Some(Ok(j)) = &mut self.state.jit.engine {
            j.clear_memory();
        }
    }

    /// Functions the compiled tier declined, with the reason (newest last).
    pub fn jit_rejections(&self) -> Vec<(String, String)> {
        match &self.state.jit.engine {
            Some(Ok(j)) => j.rejections(),
            Some(Err(e)) => vec![("*".to_string(), e.clone())],
            None => Vec::new(),
        }
    }

    /// Records every delegated call and capability call into `sink` from now on.
    pub fn set_chain(&mut self, sink: Option<Arc<dyn rtfs_chain::ChainSink>>) {
        self.state.wiring.chain = sink;
    }

    pub fn builder() -> crate::builder::RuntimeBuilder {
        crate::builder::RuntimeBuilder::default()
    }

    pub(crate) fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// Sets the delegation policy: the compiler's pass consults it for units compiled from
    /// now on, and the engine decides the calls it leaves to run time.
    pub fn set_policy(&mut self, policy: rtfs_delegation::Policy) {
        self.set_policy_with(
            Arc::new(policy),
            rtfs_delegation::UserContext::default(),
            rtfs_delegation::DeviceContext::default(),
        );
    }

    /// Model providers (with the L2/L3 caches) for `LocalModel`/`RemoteModel` targets.
    pub fn set_model_registry(&mut self, r: Option<Arc<crate::models::ModelRegistry>>) {
        self.state.wiring.registry = r;
    }

    pub(crate) fn set_policy_with(
        &mut self,
        policy: Arc<rtfs_delegation::Policy>,
        user: rtfs_delegation::UserContext,
        device: rtfs_delegation::DeviceContext,
    ) {
        self.compiler.set_policy(Some(policy.clone()));
        let d = crate::delegate::Delegation::new(policy, user, device);
        // Provider ejections and restorations change what the engine may choose.
        if let Some(mesh) = &self.state.wiring.mesh {
            let gens = d.l1.generations().clone();
            mesh.health().on_change(move |_, _| gens.bump_health());
        }
        self.state.wiring.delegation = Some(Arc::new(d));
    }

    /// The engine state (budget, L1 statistics), when a policy is set.
    pub fn delegation(&self) -> Option<&Arc<crate::delegate::Delegation>> {
        self.state.wiring.delegation.as_ref()
    }

    /// Compiles `bytes` (defining its functions, running nothing else) and reports what the
    /// analyses decided (`rtfs explain`): per top-level function, pure or not and the first
    /// impure site; per call site, in source order, the delegation target and why.
    pub fn explain_source(
        &mut self,
        name: &str,
        bytes: &[u8],
    ) -> Result<crate::explain::Explanation, Error> {
        self.compiler.record_call_sites();
        self.compiler.take_call_sites();
        let r = self.compile_source(name, bytes);
        let mut call_sites = self.compiler.take_call_sites();
        let units = r?;
        call_sites.sort_by_key(|s| (s.loc.file, s.loc.start));
        let functions = crate::explain::report(&units, &self.state, &self.sources);
        Ok(crate::explain::Explanation {
            functions,
            call_sites,
        })
    }

    pub fn render_error(&self, e: &Error) -> String {
        e.render(&self.sources)
    }
}

/// Converts an RTFS value to a Rust type through serde (see [`Runtime::eval_as`]); a value
/// JSON cannot hold (a function, an atom) or one of the wrong shape is a `type-error`.
pub fn value_as<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, Error> {
    let text = rtfs_stdlib::json::to_json_string(v).map_err(Error::Runtime)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Runtime(rtfs_ir::RtError::type_error(format!(
            "cannot convert {} to {}: {e}",
            v.type_name(),
            std::any::type_name::<T>()
        )))
    })
}
