//! Incremental compilation: salsa queries decide *what changed*, a lowering cache decides
//! *what must be lowered again*.
//!
//! # The pipeline
//!
//! ```text
//!   SourceFile (salsa input: name, text, file id)
//!     └─ parse(file)            tracked: reader over the text → forms or diagnostics
//!          ├─ top_level_forms   tracked: one `FormUnit` per top-level form, keyed by a
//!          │                    content hash of that form's own source text
//!          └─ unit_summary      tracked: names the unit declares, the macros it defines and
//!                               a fingerprint of its compile-time environment forms
//!   IncrementalCompiler::check  not a query: expand + lower each form through `Lowerer`,
//!                               reusing the lowered IR of forms whose `LowerKey` is known
//! ```
//!
//! The salsa part is pure: `parse`, `top_level_forms` and `unit_summary` depend only on the
//! text input, so they re-execute only when the text changes, and a form whose text did not
//! change keeps its [`FormKey`] even when other forms around it were edited or moved.
//!
//! Lowering is *not* pure — macro expansion runs RTFS code, `defmacro` and top-level `defn`
//! run code at compile time, and the [`GlobalTable`] is mutable — so it is deliberately not a
//! salsa query. Instead [`IncrementalCompiler`] keeps, per file, a cache of lowered
//! `TopLevel`s keyed by a [`LowerKey`], which hashes together:
//!
//! * the form's [`FormKey`] (its text);
//! * for every symbol the form mentions, whether that name is a user global (declared by the
//!   unit or already defined) and whether it is a macro — what name resolution in the
//!   lowerer looks at, so defining a name (say, a `defn` shadowing a built-in) or turning it
//!   into a macro re-lowers exactly the forms that mention it;
//! * the *macro environment revision*, for forms that mention a user-defined macro (or for
//!   every form once a user definition shadows an existing macro or global). The revision
//!   increments whenever the unit's environment forms — `defmacro`s and top-level `defn`s,
//!   which macros may call while expanding — change; a changed macro or helper therefore
//!   re-expands every form that uses user macros.
//!
//! Compile-time effects are kept right as follows: a reused top-level `defn` has its cached IR
//! run again (defining the function costs no lowering); a `defmacro` is reused only while the
//! transformer it installed is still the one registered under its name, otherwise it is
//! lowered (and so re-registered) again; a `do` form that defines macros is always lowered.
//! Forms that fail to compile are never cached, so their diagnostics always carry the current
//! spans.
//!
//! # Counters
//!
//! Each check returns a [`CheckReport`]: forms in the unit, forms produced by `parse`
//! executions (0 when salsa reused the parse), forms lowered, forms reused from the cache,
//! reused `defn`s re-run, and the macro environment revision. Editing one form's body lowers
//! that one form; checking unchanged text lowers none.
//!
//! # Limits (honest ones)
//!
//! * The macro environment is coarse: any change to any `defmacro` or top-level `defn` of a
//!   unit re-lowers every form that mentions a user macro, whether or not that macro could
//!   reach the changed definition.
//! * A reused form's macro expansion is not run again, so side effects of expansion (e.g. a
//!   macro that prints) happen only when the form is lowered.
//! * Definitions persist in the compiler's environment like in a REPL session: a definition
//!   deleted from a file stays defined until the environment is rebuilt (the `--watch` driver
//!   starts afresh when a file stops defining a name, see `src/watch.rs` in the `rtfs` crate).
//! * Reused IR keeps the source locations of the file version it was lowered from; that
//!   version stays in the caller's source map (which so grows by one text per changed
//!   version), so a runtime error still points at the right text, possibly on an older line
//!   number. Diagnostics never come from the cache.
//! * Macros redefined outside this compiler (e.g. by a REPL input compiled the old way) are
//!   not seen by the revision counter.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rtfs_ir::Value;
use rtfs_ir::expr::TopLevel;
use salsa::Setter;

use crate::diagnostic::Diagnostic;
use crate::globals::GlobalTable;
use crate::limits::ExpansionBudget;
use crate::lower::{CompileHost, Lowerer};
use crate::reader;
use crate::source::FileId;
use crate::syntax::{Syntax, SyntaxKind};

// ---------------------------------------------------------------------------------------------
// The salsa database
// ---------------------------------------------------------------------------------------------

/// What the queries need from the database besides salsa itself: instrumentation counters.
#[salsa::db]
pub trait Db: salsa::Database {
    /// Records that `parse` ran and produced `forms` forms.
    fn note_parse(&self, forms: usize);
}

/// The salsa database of the incremental compiler.
#[salsa::db]
#[derive(Clone, Default)]
pub struct CompilerDb {
    storage: salsa::Storage<Self>,
    parse_runs: Arc<AtomicUsize>,
    forms_parsed: Arc<AtomicUsize>,
}

#[salsa::db]
impl salsa::Database for CompilerDb {}

#[salsa::db]
impl Db for CompilerDb {
    fn note_parse(&self, forms: usize) {
        self.parse_runs.fetch_add(1, Ordering::Relaxed);
        self.forms_parsed.fetch_add(forms, Ordering::Relaxed);
    }
}

impl CompilerDb {
    /// How many times `parse` has executed (not counting memoized reuses).
    pub fn parse_runs(&self) -> usize {
        self.parse_runs.load(Ordering::Relaxed)
    }

    /// Forms produced by all executions of `parse`.
    pub fn forms_parsed(&self) -> usize {
        self.forms_parsed.load(Ordering::Relaxed)
    }
}

/// One source text under a stable name. `file_id` is the id its text has in the caller's
/// `SourceMap` (it is part of every span the reader produces).
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub name: String,
    #[returns(ref)]
    pub text: Arc<str>,
    #[returns(copy)]
    pub file_id: FileId,
}

/// A 32-byte content hash.
pub type Hash32 = [u8; 32];

/// The result of reading a file. Compared by the hash of the text it was read from (and the
/// file id), which determines it: reading is a pure function of both.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    pub text_hash: Hash32,
    pub file_id: FileId,
    pub result: Result<Arc<[Syntax]>, Arc<[Diagnostic]>>,
}

impl PartialEq for ParsedFile {
    fn eq(&self, other: &ParsedFile) -> bool {
        self.text_hash == other.text_hash && self.file_id == other.file_id
    }
}

impl Eq for ParsedFile {}

impl ParsedFile {
    pub fn forms(&self) -> &[Syntax] {
        match &self.result {
            Ok(forms) => forms,
            Err(_) => &[],
        }
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        match &self.result {
            Ok(_) => &[],
            Err(d) => d,
        }
    }
}

/// Reads the file's text into top-level forms (or the reader's diagnostics).
#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> ParsedFile {
    let text = file.text(db);
    let file_id = file.file_id(db);
    let result = match reader::read(file_id, text) {
        Ok(forms) => Ok(Arc::from(forms)),
        Err(diags) => Err(Arc::from(diags)),
    };
    let n = result.as_ref().map_or(0, |f: &Arc<[Syntax]>| f.len());
    db.note_parse(n);
    ParsedFile {
        text_hash: *blake3::hash(text.as_bytes()).as_bytes(),
        file_id,
        result,
    }
}

/// The identity of one top-level form: a hash of its own source text (from the end of the
/// previous form to its end, less leading whitespace and commas: leading comments and
/// metadata count, text belonging to other forms does not). Stable across edits to other
/// forms and across moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FormKey(pub Hash32);

/// What a top-level form does to the compile-time environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormKind {
    /// `(defmacro name ...)`: registers a macro while it is lowered.
    DefMacro(Arc<str>),
    /// `(defn name ...)` / `(defn- ...)`: defined at compile time so macros can call it.
    Defn(Arc<str>),
    /// A `do` form that (possibly nested) contains `defmacro`s: always lowered.
    DoDefiningMacros,
    Other,
}

/// One top-level form of a parsed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormUnit {
    pub key: FormKey,
    /// Position among the file's top-level forms.
    pub index: usize,
    pub kind: FormKind,
    /// Every symbol the form mentions (deduplicated, sorted), plus the base of annotated
    /// names (`x` for `x:int`).
    pub symbols: Arc<[Arc<str>]>,
}

/// Splits the parse into per-form units. Re-executes only when the parse changed; the keys
/// of forms whose text did not change stay the same.
#[salsa::tracked(returns(ref))]
pub fn top_level_forms(db: &dyn Db, file: SourceFile) -> Vec<FormUnit> {
    let parsed = parse(db, file);
    let bytes = file.text(db).as_bytes();
    let mut prev_end = 0usize;
    let mut out = Vec::with_capacity(parsed.forms().len());
    for (index, form) in parsed.forms().iter().enumerate() {
        let end = (form.span.end as usize).clamp(prev_end, bytes.len());
        let own = bytes.get(prev_end..end).unwrap_or_default();
        let own = own
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != b',')
            .map_or(&own[own.len()..], |i| &own[i..]);
        prev_end = end;
        let mut symbols = HashSet::new();
        collect_symbols(form, &mut symbols);
        let mut symbols: Vec<Arc<str>> = symbols.into_iter().collect();
        symbols.sort();
        out.push(FormUnit {
            key: FormKey(*blake3::hash(own).as_bytes()),
            index,
            kind: form_kind(form),
            symbols: symbols.into(),
        });
    }
    out
}

/// What a whole unit declares, for lowering and for the macro environment.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UnitSummary {
    /// Top-level names defined anywhere in the unit (`def`, `defn`, `defn-`), so forms may
    /// refer to definitions further down — the same set `Compiler::compile_unit` uses.
    pub declared: Arc<HashSet<String>>,
    /// Names of the macros the unit defines.
    pub macro_names: Arc<HashSet<String>>,
    /// Names of the unit's environment forms (`defmacro`s and top-level `defn`s).
    pub env_names: Arc<HashSet<String>>,
    /// Hash over the keys of the environment forms, in order.
    pub env_fingerprint: Hash32,
}

/// Analyses the unit's forms: declared names and the macro environment they set up.
#[salsa::tracked(returns(ref))]
pub fn unit_summary(db: &dyn Db, file: SourceFile) -> UnitSummary {
    let parsed = parse(db, file);
    let units = top_level_forms(db, file);
    let mut declared = HashSet::new();
    declared_names(parsed.forms(), &mut declared);
    let mut macro_names = HashSet::new();
    let mut env_names = HashSet::new();
    let mut hasher = blake3::Hasher::new();
    for (form, unit) in parsed.forms().iter().zip(units) {
        defmacro_names(form, &mut macro_names);
        let env_name = match &unit.kind {
            FormKind::DefMacro(n) | FormKind::Defn(n) => Some(n.to_string()),
            FormKind::DoDefiningMacros => None,
            FormKind::Other => continue,
        };
        env_names.extend(env_name);
        hasher.update(&unit.key.0);
    }
    env_names.extend(macro_names.iter().cloned());
    UnitSummary {
        declared: Arc::new(declared),
        macro_names: Arc::new(macro_names),
        env_names: Arc::new(env_names),
        env_fingerprint: *hasher.finalize().as_bytes(),
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax helpers (pure)
// ---------------------------------------------------------------------------------------------

fn collect_symbols(s: &Syntax, out: &mut HashSet<Arc<str>>) {
    if let Some(meta) = &s.meta {
        collect_symbols(meta, out);
    }
    match &s.kind {
        SyntaxKind::Symbol(name) => {
            if let Some((base, _)) = name.split_once(':')
                && !base.is_empty()
            {
                out.insert(Arc::from(base));
            }
            out.insert(name.clone());
        }
        SyntaxKind::List(items) | SyntaxKind::Vector(items) | SyntaxKind::Set(items) => {
            for i in items {
                collect_symbols(i, out);
            }
        }
        SyntaxKind::Map(entries) => {
            for (k, v) in entries {
                collect_symbols(k, out);
                collect_symbols(v, out);
            }
        }
        SyntaxKind::TypeExpr(inner) => collect_symbols(inner, out),
        _ => {}
    }
}

/// The same rule as `compile.rs`: `def`/`defn`/`defn-` names (annotation stripped), looking
/// inside top-level `do`s.
fn declared_names(forms: &[Syntax], out: &mut HashSet<String>) {
    for f in forms {
        let Some(items) = f.as_list() else { continue };
        match items.first().and_then(Syntax::as_symbol) {
            Some("def" | "defn" | "defn-") => {
                if let Some(name) = items.get(1).and_then(Syntax::as_symbol) {
                    let name = name
                        .split_once(':')
                        .map_or(name, |(b, _)| if b.is_empty() { name } else { b });
                    out.insert(name.to_string());
                }
            }
            Some("do") => declared_names(items.get(1..).unwrap_or_default(), out),
            _ => {}
        }
    }
}

/// Names of the `defmacro`s in a top-level form (looking inside `do`s).
fn defmacro_names(form: &Syntax, out: &mut HashSet<String>) {
    let Some(items) = form.as_list() else { return };
    match items.first().and_then(Syntax::as_symbol) {
        Some("defmacro") => {
            if let Some(name) = items.get(1).and_then(Syntax::as_symbol) {
                out.insert(name.to_string());
            }
        }
        Some("do") => {
            for f in items.get(1..).unwrap_or_default() {
                defmacro_names(f, out);
            }
        }
        _ => {}
    }
}

fn form_kind(form: &Syntax) -> FormKind {
    let name = || {
        form.as_list()
            .and_then(|items| items.get(1))
            .and_then(Syntax::as_symbol)
            .map(Arc::from)
    };
    match form.list_head_symbol() {
        Some("defmacro") => name().map_or(FormKind::DoDefiningMacros, FormKind::DefMacro),
        Some("defn" | "defn-") => name().map_or(FormKind::Other, FormKind::Defn),
        Some("do") => {
            let mut names = HashSet::new();
            defmacro_names(form, &mut names);
            if names.is_empty() {
                FormKind::Other
            } else {
                FormKind::DoDefiningMacros
            }
        }
        _ => FormKind::Other,
    }
}

// ---------------------------------------------------------------------------------------------
// The lowering cache
// ---------------------------------------------------------------------------------------------

/// Identifies one lowering of one form in one environment (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LowerKey(pub Hash32);

struct Cached {
    top: Arc<TopLevel>,
    /// For a `defmacro`: the transformer it registered.
    transformer: Option<Value>,
}

/// Counters of one `check` (or, from [`IncrementalCompiler::totals`], of all of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// Top-level forms in the unit.
    pub forms: usize,
    /// Forms produced by `parse` executions during the check (0 when the text was unchanged
    /// and salsa reused the memoized parse).
    pub forms_parsed: usize,
    /// Forms that went through macro expansion and lowering.
    pub forms_lowered: usize,
    /// Forms whose lowered IR came from the cache.
    pub forms_reused: usize,
    /// Reused top-level `defn`s whose cached IR was run again to define the function.
    pub defns_rerun: usize,
    /// The macro environment revision after the check.
    pub macro_env_revision: u64,
}

impl CheckStats {
    fn add(&mut self, o: &CheckStats) {
        self.forms += o.forms;
        self.forms_parsed += o.forms_parsed;
        self.forms_lowered += o.forms_lowered;
        self.forms_reused += o.forms_reused;
        self.defns_rerun += o.defns_rerun;
        self.macro_env_revision = o.macro_env_revision;
    }
}

/// What one incremental check did, whether it succeeded or not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub stats: CheckStats,
    /// Names an earlier version of the file defined (`def`, `defn`, `defmacro`, ...) that the
    /// current one no longer does. They are still defined in the environment, so a check in
    /// a fresh environment may report errors this one cannot see; a driver that wants the
    /// fresh answer starts over (as `rtfs check --watch` does).
    pub removed_definitions: Vec<String>,
}

/// The outcome of one incremental check.
pub struct UnitCheck {
    pub report: CheckReport,
    /// The lowered forms, or every diagnostic (reader errors, or one per failing form).
    pub result: Result<Vec<Arc<TopLevel>>, Vec<Diagnostic>>,
    /// Whether the diagnostics (if any) come from the reader.
    pub parse_failed: bool,
}

/// Gensym counters of this compiler start here, far from `Compiler`'s own counter, so names
/// generated by the two never meet in one environment.
const GENSYM_BASE: u64 = 1 << 40;

/// The salsa database, the source inputs by name and the lowering cache.
pub struct IncrementalCompiler {
    db: CompilerDb,
    files: HashMap<String, SourceFile>,
    cache: HashMap<String, HashMap<LowerKey, Cached>>,
    /// Last environment fingerprint seen per file.
    env_fingerprints: HashMap<String, Hash32>,
    macro_env_revision: u64,
    /// Every macro name a checked unit has defined.
    user_macros: HashSet<String>,
    /// Environment names seen so far, and whether each shadowed an existing macro or global
    /// when first seen.
    env_names: HashMap<String, bool>,
    shadowing: bool,
    /// Names each file has defined in any version checked so far.
    defined: HashMap<String, HashSet<String>>,
    gensym: u64,
    totals: CheckStats,
    last: Option<CheckReport>,
}

impl Default for IncrementalCompiler {
    fn default() -> Self {
        IncrementalCompiler::new()
    }
}

impl IncrementalCompiler {
    pub fn new() -> IncrementalCompiler {
        IncrementalCompiler {
            db: CompilerDb::default(),
            files: HashMap::new(),
            cache: HashMap::new(),
            env_fingerprints: HashMap::new(),
            macro_env_revision: 0,
            user_macros: HashSet::new(),
            env_names: HashMap::new(),
            shadowing: false,
            defined: HashMap::new(),
            gensym: GENSYM_BASE,
            totals: CheckStats::default(),
            last: None,
        }
    }

    pub fn db(&self) -> &CompilerDb {
        &self.db
    }

    /// Counters summed over every check so far.
    pub fn totals(&self) -> CheckStats {
        self.totals
    }

    /// The report of the latest check.
    pub fn last_report(&self) -> Option<&CheckReport> {
        self.last.as_ref()
    }

    pub fn macro_env_revision(&self) -> u64 {
        self.macro_env_revision
    }

    /// The text last given for `name`.
    pub fn text(&self, name: &str) -> Option<&Arc<str>> {
        self.files.get(name).map(|f| f.text(&self.db))
    }

    /// Sets the text of `name`, creating the input on first use. `file_id` is asked for only
    /// when the text is new or changed (the caller registers the text in its source map);
    /// unchanged text starts no salsa revision, so nothing re-executes.
    pub fn set_text(
        &mut self,
        name: &str,
        text: &str,
        file_id: impl FnOnce() -> FileId,
    ) -> SourceFile {
        if let Some(&file) = self.files.get(name) {
            if file.text(&self.db).as_ref() != text {
                let id = file_id();
                file.set_text(&mut self.db).to(Arc::from(text));
                file.set_file_id(&mut self.db).to(id);
            }
            return file;
        }
        let file = SourceFile::new(&self.db, name.to_string(), Arc::from(text), file_id());
        self.files.insert(name.to_string(), file);
        file
    }

    /// Expands and lowers the unit's forms, reusing cached IR where the form and everything
    /// its lowering looked at are unchanged. Top-level `defn`s and `defmacro`s take effect
    /// through `host`/`globals`, as with [`crate::Compiler::compile_unit`].
    pub fn check(
        &mut self,
        file: SourceFile,
        globals: &mut GlobalTable,
        host: &mut dyn CompileHost,
    ) -> UnitCheck {
        let parsed_before = self.db.forms_parsed();
        let parsed = parse(&self.db, file).clone();
        let mut stats = CheckStats {
            macro_env_revision: self.macro_env_revision,
            ..CheckStats::default()
        };
        let forms = match &parsed.result {
            Ok(forms) => forms.clone(),
            Err(diags) => {
                stats.forms_parsed = self.db.forms_parsed() - parsed_before;
                let report = self.finish(stats, Vec::new());
                return UnitCheck {
                    report,
                    result: Err(diags.to_vec()),
                    parse_failed: true,
                };
            }
        };
        let units = top_level_forms(&self.db, file).clone();
        let summary = unit_summary(&self.db, file).clone();
        stats.forms = forms.len();
        stats.forms_parsed = self.db.forms_parsed() - parsed_before;

        let name = file.name(&self.db).clone();
        let removed_definitions = self.note_definitions(&name, &summary);
        self.update_macro_env(&name, &summary, globals);
        stats.macro_env_revision = self.macro_env_revision;

        let old_cache = self.cache.remove(&name).unwrap_or_default();
        let mut new_cache = HashMap::new();
        let mut out = Vec::with_capacity(forms.len());
        let mut diags = Vec::new();
        let mut budget = ExpansionBudget::for_unit(&forms);
        for (form, unit) in forms.iter().zip(&units) {
            let key = self.lower_key(unit, &summary, globals);
            if let Some(hit) = old_cache.get(&key)
                && self.still_valid(unit, hit, globals)
            {
                stats.forms_reused += 1;
                if matches!(unit.kind, FormKind::Defn(_)) {
                    stats.defns_rerun += 1;
                    if let Err(e) = host.run(&hit.top, globals) {
                        diags.push(defn_failed(&e, form));
                        out.push(hit.top.clone());
                        continue;
                    }
                }
                out.push(hit.top.clone());
                new_cache.insert(
                    key,
                    Cached {
                        top: hit.top.clone(),
                        transformer: hit.transformer.clone(),
                    },
                );
                continue;
            }
            stats.forms_lowered += 1;
            let mut lowerer = Lowerer::new(
                globals,
                host,
                &summary.declared,
                &mut self.gensym,
                &mut budget,
            );
            match lowerer
                .lower_toplevel(form)
                .and_then(|top| crate::compile::check_ir_depth(&top, form).map(|()| top))
            {
                Ok(top) => {
                    let top = Arc::new(top);
                    let mut ok = true;
                    if matches!(unit.kind, FormKind::Defn(_))
                        && let Err(e) = host.run(&top, globals)
                    {
                        diags.push(defn_failed(&e, form));
                        ok = false;
                    }
                    let transformer = match &unit.kind {
                        FormKind::DefMacro(m) => globals.macro_named(m).cloned(),
                        _ => None,
                    };
                    if ok && !matches!(unit.kind, FormKind::DoDefiningMacros) {
                        new_cache.insert(
                            key,
                            Cached {
                                top: top.clone(),
                                transformer,
                            },
                        );
                    }
                    out.push(top);
                }
                Err(d) => diags.push(d),
            }
        }
        self.cache.insert(name, new_cache);
        let report = self.finish(stats, removed_definitions);
        UnitCheck {
            report,
            result: if diags.is_empty() {
                Ok(out)
            } else {
                Err(diags)
            },
            parse_failed: false,
        }
    }

    fn finish(&mut self, stats: CheckStats, removed_definitions: Vec<String>) -> CheckReport {
        self.totals.add(&stats);
        let report = CheckReport {
            stats,
            removed_definitions,
        };
        self.last = Some(report.clone());
        report
    }

    /// Records the names the unit defines; returns those earlier versions defined and this
    /// one does not (sorted).
    fn note_definitions(&mut self, name: &str, summary: &UnitSummary) -> Vec<String> {
        let all = self.defined.entry(name.to_string()).or_default();
        let mut removed: Vec<String> = all
            .iter()
            .filter(|n| !summary.declared.contains(*n) && !summary.macro_names.contains(*n))
            .cloned()
            .collect();
        removed.sort();
        all.extend(summary.declared.iter().cloned());
        all.extend(summary.macro_names.iter().cloned());
        removed
    }

    /// Bumps the macro environment revision when the unit's environment forms changed, and
    /// notes user definitions that shadow existing macros or globals.
    fn update_macro_env(&mut self, name: &str, summary: &UnitSummary, globals: &GlobalTable) {
        for n in summary.env_names.iter() {
            if !self.env_names.contains_key(n) {
                let shadows = globals.is_defined(n) || globals.macro_named(n).is_some();
                self.shadowing |= shadows;
                self.env_names.insert(n.clone(), shadows);
            }
        }
        self.user_macros.extend(summary.macro_names.iter().cloned());
        let previous = self
            .env_fingerprints
            .insert(name.to_string(), summary.env_fingerprint);
        if previous.is_some_and(|p| p != summary.env_fingerprint) {
            self.macro_env_revision += 1;
        }
    }

    fn lower_key(&self, unit: &FormUnit, summary: &UnitSummary, globals: &GlobalTable) -> LowerKey {
        let mut h = blake3::Hasher::new();
        h.update(&unit.key.0);
        let mut uses_user_macro = false;
        for s in unit.symbols.iter() {
            let s: &str = s;
            let user_global = summary.declared.contains(s) || globals.is_defined(s);
            let is_macro = globals.macro_named(s).is_some() || summary.macro_names.contains(s);
            uses_user_macro |= self.user_macros.contains(s);
            if user_global || is_macro {
                h.update(&(s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
                h.update(&[u8::from(user_global) | (u8::from(is_macro) << 1)]);
            }
        }
        if uses_user_macro || self.shadowing {
            h.update(b"macro-env");
            h.update(&self.macro_env_revision.to_le_bytes());
        }
        LowerKey(*h.finalize().as_bytes())
    }

    /// A cached `defmacro` is only good while its transformer is the one registered.
    fn still_valid(&self, unit: &FormUnit, hit: &Cached, globals: &GlobalTable) -> bool {
        match &unit.kind {
            FormKind::DefMacro(m) => match (&hit.transformer, globals.macro_named(m)) {
                (Some(mine), Some(current)) => mine == current,
                _ => false,
            },
            FormKind::DoDefiningMacros => false,
            FormKind::Defn(_) | FormKind::Other => true,
        }
    }
}

fn defn_failed(e: &rtfs_ir::RtError, form: &Syntax) -> Diagnostic {
    Diagnostic::error(
        "compile",
        format!("defining function failed: {e}"),
        form.span,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtfs_ir::{RtError, RtResult};

    /// Runs nothing: enough for forms without macros of their own.
    struct NoRun;

    impl CompileHost for NoRun {
        fn run(&mut self, _top: &TopLevel, _globals: &GlobalTable) -> RtResult<Value> {
            Ok(Value::Nil)
        }
        fn apply(&mut self, _f: &Value, _args: &[Value], _g: &GlobalTable) -> RtResult<Value> {
            Err(RtError::type_error("no evaluator in this test"))
        }
        fn builtin(&self, name: &str) -> Option<&'static rtfs_ir::Builtin> {
            rtfs_stdlib::lookup(name)
        }
    }

    struct Fixture {
        inc: IncrementalCompiler,
        globals: GlobalTable,
        next_file: u32,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                inc: IncrementalCompiler::new(),
                globals: GlobalTable::new(),
                next_file: 0,
            }
        }

        fn check(&mut self, text: &str) -> UnitCheck {
            let next = &mut self.next_file;
            let file = self.inc.set_text("t.rtfs", text, || {
                *next += 1;
                FileId(*next)
            });
            self.inc.check(file, &mut self.globals, &mut NoRun)
        }
    }

    const THREE: &str = "(def a 1)\n(def b (+ a 1))\n(def c [a b])\n";

    #[test]
    fn editing_one_of_three_forms_relowers_exactly_one() {
        let mut f = Fixture::new();
        let first = f.check(THREE);
        assert!(first.result.is_ok());
        assert_eq!(first.report.stats.forms, 3);
        assert_eq!(first.report.stats.forms_parsed, 3);
        assert_eq!(first.report.stats.forms_lowered, 3);
        assert_eq!(first.report.stats.forms_reused, 0);

        // The edit makes the middle form longer, so the last one moves: its key must not.
        let edited = THREE.replace("(+ a 1)", "(+ a 100)");
        let second = f.check(&edited);
        assert!(second.result.is_ok());
        assert_eq!(second.report.stats.forms, 3);
        assert_eq!(second.report.stats.forms_parsed, 3);
        assert_eq!(second.report.stats.forms_lowered, 1);
        assert_eq!(second.report.stats.forms_reused, 2);
    }

    #[test]
    fn unchanged_text_relowers_nothing_and_does_not_reparse() {
        let mut f = Fixture::new();
        assert!(f.check(THREE).result.is_ok());
        let runs = f.inc.db().parse_runs();
        let again = f.check(THREE);
        assert!(again.result.is_ok());
        assert_eq!(f.inc.db().parse_runs(), runs, "salsa reused the parse");
        assert_eq!(again.report.stats.forms_parsed, 0);
        assert_eq!(again.report.stats.forms_lowered, 0);
        assert_eq!(again.report.stats.forms_reused, 3);
        assert_eq!(f.inc.totals().forms_lowered, 3);
    }

    #[test]
    fn form_keys_survive_edits_to_other_forms() {
        let mut db = CompilerDb::default();
        let file = SourceFile::new(&db, "k".to_string(), Arc::from(THREE), FileId(0));
        let before: Vec<FormKey> = top_level_forms(&db, file).iter().map(|u| u.key).collect();
        file.set_text(&mut db)
            .to(Arc::from(format!("(def z 0)\n{THREE}").as_str()));
        let after: Vec<FormKey> = top_level_forms(&db, file).iter().map(|u| u.key).collect();
        assert_eq!(after.len(), 4);
        assert_eq!(after[1..], before[..]);
        assert_ne!(after[0], before[0]);
    }

    #[test]
    fn parse_errors_are_reported_then_cleared() {
        let mut f = Fixture::new();
        let broken = f.check("(def a 1)\n(def b (+ a 1)\n");
        assert!(broken.parse_failed);
        assert!(matches!(&broken.result, Err(d) if !d.is_empty()));
        let fixed = f.check("(def a 1)\n(def b (+ a 1))\n");
        assert!(!fixed.parse_failed);
        assert!(fixed.result.is_ok());
        assert_eq!(fixed.report.stats.forms, 2);
    }

    #[test]
    fn compile_errors_are_not_cached() {
        let mut f = Fixture::new();
        let bad = f.check("(def a 1)\n(def b (if))\n");
        let diags = bad.result.err().unwrap_or_default();
        assert_eq!(diags.len(), 1, "{diags:?}");
        let again = f.check("(def a 1)\n(def b (if))\n");
        assert!(again.result.is_err());
        assert_eq!(again.report.stats.forms_lowered, 1);
        assert_eq!(again.report.stats.forms_reused, 1);
    }

    #[test]
    fn a_new_definition_relowers_only_the_forms_that_mention_it() {
        let mut f = Fixture::new();
        assert!(
            f.check("(def a 1)\n(def b (inc a))\n(def c 3)\n")
                .result
                .is_ok()
        );
        // Defining `inc` changes how `(inc a)` resolves (a user global, not the builtin).
        let r = f.check("(def a 1)\n(def b (inc a))\n(def c 3)\n(defn inc [x] x)\n");
        assert!(r.result.is_ok());
        assert_eq!(r.report.stats.forms_lowered, 2, "the new defn and `b`");
        assert_eq!(r.report.stats.forms_reused, 2);
    }

    #[test]
    fn removed_definitions_are_reported() {
        let mut f = Fixture::new();
        assert!(f.check(THREE).result.is_ok());
        let r = f.check("(def a 1)\n(def c [a])\n");
        assert!(r.result.is_ok());
        assert_eq!(r.report.removed_definitions, vec!["b".to_string()]);
    }
}
