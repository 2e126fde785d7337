//! Cranelift code generation for a planned group of functions.
//!
//! Each specialised function becomes `f(params..., depth) -> (value, status)`: unboxed
//! i64/f64/i8 arguments and result, a depth budget that shrinks by one per call, and a
//! status that is non-zero when a guard failed (overflow, division by zero or inexact int
//! division, depth). A failed guard returns at once through every compiled frame; the
//! runtime then re-runs the call in the interpreter, which produces the exact result.
//! One more function, the entry, adapts the C-ABI call from Rust: arguments from a buffer,
//! result to a pointer.
//!
//! Boxed values (`Ty::Val`) are i64 indices into the call's arena; every operation on them
//! is a call to a helper of `rt`, found through the table at the start of the context
//! pointer. When a group handles boxed values, every function of it takes that context as
//! a hidden first parameter; a group of numbers only keeps the signatures and code it had
//! before boxed values existed. A helper that fails (a built-in's error, a bad index)
//! returns a negative index, which is a guard like any other.
//!
//! Calls between functions use colocated external names: Cranelift emits PC-relative call
//! relocations, which `link` resolves inside the blob (the distance between two functions
//! of a blob is fixed), so the code is position independent as stored in the L4 cache.

use std::collections::{HashMap, HashSet};

use cranelift_codegen::entity::EntityRef;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, ExtFuncData, ExternalName, FuncRef, InstBuilder, SigRef, Signature,
    StackSlotData, StackSlotKind, UserExternalName, UserFuncName, types,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use rtfs_ir::Value;
use rtfs_ir::expr::{CaptureFrom, Expr, Pattern, PrimOp, PrimOp1};

use crate::plan::{
    BuiltinOp, GlobalUse, PResult, Plan, Reject, Ty, builtin_plan, const_test, prim_plan, prim_ty,
    prim1_plan, prim1_ty, reject,
};
use crate::rt::Helper;

fn clif(t: Ty) -> ir::Type {
    match t {
        Ty::Int | Ty::Val => types::I64,
        Ty::Float => types::F64,
        Ty::Bool => types::I8,
    }
}

/// The signature of specialised function `i`.
pub fn spec_sig(isa: &dyn TargetIsa, plan: &Plan, i: usize) -> PResult<Signature> {
    let spec = &plan.specs[i];
    let mut sig = Signature::new(isa.default_call_conv());
    if plan.boxed {
        sig.params.push(AbiParam::new(types::I64));
    }
    for p in &spec.params {
        sig.params.push(AbiParam::new(clif(*p)));
    }
    sig.params.push(AbiParam::new(types::I64));
    let ret = spec.ret.ok_or(Reject("return type unknown".into()))?;
    sig.returns.push(AbiParam::new(clif(ret)));
    sig.returns.push(AbiParam::new(types::I8));
    Ok(sig)
}

/// Builds the Cranelift function for spec `i` (named `user 0:i`).
///
/// Code generation assumes every loop variable whose initial value is non-negative stays
/// so (it lets `mod`/`rem`/`quot` by a positive constant use unsigned division, as C
/// compilers do for provably non-negative operands). A `recur` that may pass a negative
/// value refutes the assumption for that variable and the function is generated again
/// without it; each round refutes at least one, so this ends.
pub fn gen_spec(isa: &dyn TargetIsa, plan: &Plan, i: usize) -> PResult<ir::Function> {
    let mut refuted = HashSet::new();
    loop {
        let (func, new) = gen_spec_once(isa, plan, i, &refuted)?;
        if new.is_empty() {
            return Ok(func);
        }
        refuted.extend(new);
    }
}

/// A loop variable: the loop (numbered in generation order) and the variable's position.
type LoopVar = (u32, usize);

fn gen_spec_once(
    isa: &dyn TargetIsa,
    plan: &Plan,
    i: usize,
    refuted: &HashSet<LoopVar>,
) -> PResult<(ir::Function, Vec<LoopVar>)> {
    let sig = spec_sig(isa, plan, i)?;
    let mut func = ir::Function::with_name_signature(UserFuncName::user(0, i as u32), sig);
    let mut fbc = FunctionBuilderContext::new();
    let spec = &plan.specs[i];
    let arity = &spec.lambda.arities[spec.arity];
    let ret = spec.ret.ok_or(Reject("return type unknown".into()))?;
    let new_refuted;
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let mut params: Vec<ir::Value> = b.block_params(entry).to_vec();
        let ctx = plan.boxed.then(|| params.remove(0));
        let depth = params[spec.params.len()];
        let bail = b.create_block();
        let too_deep = b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, depth, 0);
        let body = b.create_block();
        b.ins().brif(too_deep, bail, &[], body, &[]);
        b.switch_to_block(body);
        let mut g = Gen {
            b,
            plan,
            isa,
            me: i,
            slots: vec![None; arity.frame_size as usize],
            loops: Vec::new(),
            bail,
            depth,
            frefs: HashMap::new(),
            // A copy of the body would need a region of its own: boxed code calls instead.
            inline_budget: u32::from(
                !spec.boxed
                    && spec.ncaps == 0
                    && crate::plan::count_nodes(&arity.body) <= INLINE_NODES,
            ),
            caps: Vec::new(),
            no_ctx: false,
            ctx,
            mark: None,
            sigs: HashMap::new(),
            nonneg: HashSet::new(),
            nonneg_vars: HashSet::new(),
            below_max: HashSet::new(),
            loop_seq: 0,
            refuted,
            new_refuted: Vec::new(),
        };
        if spec.boxed {
            let m = g.helper(Helper::Mark, &[]);
            g.mark = Some(m);
        }
        for (t, p) in spec.params.iter().zip(&params).take(spec.ncaps) {
            let v = g.b.declare_var(clif(*t));
            g.b.def_var(v, *p);
            g.caps.push((v, *t));
        }
        let mut header_vars = Vec::new();
        let args = &spec.params[spec.ncaps..];
        for (s, (t, want)) in args.iter().zip(&spec.body_tys).enumerate() {
            let p = g.coerce((params[spec.ncaps + s], *t), *want)?;
            let v = g.b.declare_var(clif(*want));
            g.b.def_var(v, p);
            g.slots[s] = Some((v, *want));
            header_vars.push((v, *want));
        }
        // The body is a loop: a self tail call (`recur` to the parameters) jumps back here.
        let header = g.b.create_block();
        g.b.ins().jump(header, &[]);
        g.b.switch_to_block(header);
        let id = g.next_loop();
        g.loops.push(LoopInfo {
            header,
            vars: header_vars,
            mark: g.mark,
            id,
        });
        let r = g.expr(&arity.body, true)?;
        if let Some(tv) = r {
            let v = g.coerce(tv, ret)?;
            let v = g.release(v, ret)?;
            let ok = g.b.ins().iconst(types::I8, 0);
            g.b.ins().return_(&[v, ok]);
        }
        if g.no_ctx {
            return reject("boxed values in a group planned without them");
        }
        g.b.seal_block(header);
        // The bail exit: a dummy value and status 1.
        g.b.switch_to_block(bail);
        g.b.seal_block(bail);
        let dummy = zero(&mut g.b, ret);
        let one = g.b.ins().iconst(types::I8, 1);
        g.b.ins().return_(&[dummy, one]);
        g.b.seal_all_blocks();
        g.b.finalize(isa.frontend_config());
        new_refuted = std::mem::take(&mut g.new_refuted);
    }
    Ok((func, new_refuted))
}

/// The entry called from Rust: `extern "C" fn(ctx: *mut JitCtx, args: *const u64, depth:
/// i64, out: *mut u64) -> u64` (status), calling spec 0. Named `user 0:n` where n is the
/// number of specs. Boxed arguments and results are arena indices.
pub fn gen_entry(isa: &dyn TargetIsa, plan: &Plan) -> PResult<ir::Function> {
    let ptr = isa.pointer_type();
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I64));
    let n = plan.specs.len() as u32;
    let mut func = ir::Function::with_name_signature(UserFuncName::user(0, n), sig);
    let mut fbc = FunctionBuilderContext::new();
    let spec = &plan.specs[0];
    let ret = spec.ret.ok_or(Reject("return type unknown".into()))?;
    let callee_sig = spec_sig(isa, plan, 0)?;
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let ps = b.block_params(entry).to_vec();
        let (ctx, args, depth, out) = (ps[0], ps[1], ps[2], ps[3]);
        let flags = ir::MemFlagsData::trusted();
        let mut call_args = Vec::new();
        if plan.boxed {
            call_args.push(ctx);
        }
        for (k, t) in spec.params.iter().enumerate() {
            let off = (k * 8) as i32;
            let v = match t {
                Ty::Int | Ty::Val => b.ins().load(types::I64, flags, args, off),
                Ty::Float => b.ins().load(types::F64, flags, args, off),
                Ty::Bool => {
                    let w = b.ins().load(types::I64, flags, args, off);
                    b.ins().ireduce(types::I8, w)
                }
            };
            call_args.push(v);
        }
        call_args.push(depth);
        let fref = import(&mut b, callee_sig, 0);
        let call = b.ins().call(fref, &call_args);
        let rs = b.inst_results(call).to_vec();
        let (v, st) = (rs[0], rs[1]);
        let word = match ret {
            Ty::Bool => b.ins().uextend(types::I64, v),
            _ => v,
        };
        b.ins().store(flags, word, out, 0);
        let st = b.ins().uextend(types::I64, st);
        b.ins().return_(&[st]);
        b.finalize(isa.frontend_config());
    }
    Ok(func)
}

fn import(b: &mut FunctionBuilder, sig: Signature, index: u32) -> FuncRef {
    let name = b
        .func
        .declare_imported_user_function(UserExternalName::new(0, index));
    let sigref = b.import_signature(sig);
    b.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature: sigref,
        // Callees are in the same blob: a direct, PC-relative call, resolved by `link`.
        colocated: true,
        patchable: false,
    })
}

fn zero(b: &mut FunctionBuilder, t: Ty) -> ir::Value {
    match t {
        Ty::Int | Ty::Val => b.ins().iconst(types::I64, 0),
        Ty::Float => b.ins().f64const(0.0),
        Ty::Bool => b.ins().iconst(types::I8, 0),
    }
}

/// A value with its type; `None` from `expr` means control left (a `recur` jump).
type TV = (ir::Value, Ty);

struct Gen<'a, 'b> {
    b: FunctionBuilder<'b>,
    plan: &'a Plan,
    isa: &'a dyn TargetIsa,
    me: usize,
    slots: Vec<Option<(Variable, Ty)>>,
    /// Enclosing loops, innermost last.
    loops: Vec<LoopInfo>,
    bail: ir::Block,
    depth: ir::Value,
    frefs: HashMap<usize, FuncRef>,
    /// Self calls still to inline here (one level: halves the calls of a recursion).
    inline_budget: u32,
    /// Int values known to be >= 0, and the variables bound only to such values.
    nonneg: HashSet<ir::Value>,
    /// Indices of variables (`Variable` has no `Hash`).
    nonneg_vars: HashSet<usize>,
    /// Int values known to be below `i64::MAX` where code is being generated (inside the
    /// `then` arm of `(< x y)`): adding one to them cannot overflow, so it needs no guard.
    below_max: HashSet<ir::Value>,
    loop_seq: u32,
    /// Loop variables not assumed non-negative this round, and the ones found so now.
    refuted: &'a HashSet<LoopVar>,
    new_refuted: Vec<LoopVar>,
    /// The context pointer, when the group handles boxed values.
    ctx: Option<ir::Value>,
    /// The arena's length at entry, when this function handles boxed values.
    mark: Option<ir::Value>,
    sigs: HashMap<usize, SigRef>,
    /// The closure's captures (the first parameters).
    caps: Vec<(Variable, Ty)>,
    /// A helper was needed in a group planned without boxed values (a planning bug).
    no_ctx: bool,
}

#[derive(Clone)]
struct LoopInfo {
    header: ir::Block,
    vars: Vec<(Variable, Ty)>,
    /// The arena's length at the loop's entry: `recur` truncates to it.
    mark: Option<ir::Value>,
    /// The loop's number, in generation order (for the non-negative assumptions).
    id: u32,
}

/// Largest body (IR nodes) inlined into itself.
const INLINE_NODES: usize = 120;

impl Gen<'_, '_> {
    /// A self call compiled as a copy of the body: the same depth check as a real call,
    /// the arguments bound to fresh parameter variables, its own loop header for `recur`.
    fn inline_self(&mut self, vals: &[TV]) -> PResult<Option<TV>> {
        let spec = &self.plan.specs[self.me];
        let arity = &spec.lambda.arities[spec.arity];
        let d = self.b.ins().iadd_imm_s(self.depth, -1);
        let too_deep = self.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, d, 0);
        self.guard(too_deep);
        let saved_slots = std::mem::replace(&mut self.slots, vec![None; arity.frame_size as usize]);
        let saved_loops = std::mem::take(&mut self.loops);
        let saved_depth = std::mem::replace(&mut self.depth, d);
        self.inline_budget -= 1;
        let mut vars = Vec::with_capacity(vals.len());
        for (k, tv) in vals.iter().enumerate() {
            self.bind(k as u32, *tv)?;
            if let Some(Some(v)) = self.slots.get(k) {
                vars.push(*v);
            }
        }
        let header = self.b.create_block();
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let id = self.next_loop();
        self.loop_vars_assumed(id, &vars);
        self.loops.push(LoopInfo {
            header,
            vars,
            mark: None,
            id,
        });
        let r = self.expr(&arity.body, true);
        self.b.seal_block(header);
        self.inline_budget += 1;
        self.depth = saved_depth;
        self.loops = saved_loops;
        self.slots = saved_slots;
        r
    }

    fn local(&mut self, s: u32) -> PResult<TV> {
        match self.slots.get(s as usize) {
            Some(Some((v, t))) => {
                let (v, t) = (*v, *t);
                let x = self.b.use_var(v);
                if self.nonneg_vars.contains(&v.index()) {
                    self.nonneg.insert(x);
                }
                Ok((x, t))
            }
            _ => reject("reads an unbound local"),
        }
    }

    fn bind(&mut self, s: u32, tv: TV) -> PResult<()> {
        let var = self.b.declare_var(clif(tv.1));
        self.b.def_var(var, tv.0);
        if self.nonneg.contains(&tv.0) {
            self.nonneg_vars.insert(var.index());
        }
        match self.slots.get_mut(s as usize) {
            Some(x) => {
                *x = Some((var, tv.1));
                Ok(())
            }
            None => reject("slot out of frame"),
        }
    }

    fn next_loop(&mut self) -> u32 {
        self.loop_seq += 1;
        self.loop_seq
    }

    /// Keeps the non-negative assumption only for the variables of loop `id` not refuted.
    fn loop_vars_assumed(&mut self, id: u32, vars: &[(Variable, Ty)]) {
        for (k, (var, _)) in vars.iter().enumerate() {
            if self.refuted.contains(&(id, k)) {
                self.nonneg_vars.remove(&var.index());
            }
        }
    }

    fn int_const(&self, v: ir::Value) -> Option<i64> {
        let inst = self.b.func.dfg.value_def(v).inst()?;
        match self.b.func.dfg.insts[inst] {
            ir::InstructionData::UnaryImm {
                opcode: ir::Opcode::Iconst,
                imm,
            } if self.b.func.dfg.value_type(v) == types::I64 => Some(imm.bits()),
            _ => None,
        }
    }

    /// Records that `v` (an int just computed) is non-negative when `yes`.
    fn mark_nonneg(&mut self, v: ir::Value, yes: bool) {
        if yes {
            self.nonneg.insert(v);
        }
    }

    fn is_nonneg(&self, v: ir::Value) -> bool {
        self.nonneg.contains(&v)
    }

    /// Branches to the bail exit when `cond` is set.
    fn guard(&mut self, cond: ir::Value) {
        let cont = self.b.create_block();
        self.b.ins().brif(cond, self.bail, &[], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    fn konst(&mut self, v: &Value) -> PResult<TV> {
        Ok(match v {
            Value::Int(i) => {
                let v = self.b.ins().iconst(types::I64, *i);
                self.mark_nonneg(v, *i >= 0);
                (v, Ty::Int)
            }
            Value::Float(f) => (self.b.ins().f64const(*f), Ty::Float),
            Value::Bool(x) => (self.b.ins().iconst(types::I8, i64::from(*x)), Ty::Bool),
            other => {
                let k = self.plan.const_index(other)?;
                let k = self.b.ins().iconst(types::I64, i64::from(k));
                let idx = self.helper(Helper::Const, &[k]);
                self.guard_index(idx);
                (idx, Ty::Val)
            }
        })
    }

    /// Calls helper `h` with the context and `args` (all i64); its i64 result.
    fn helper(&mut self, h: Helper, args: &[ir::Value]) -> ir::Value {
        let ctx = match self.ctx {
            Some(c) => c,
            None => {
                // The plan said numbers only: this function is rejected (`gen_spec`
                // checks the flag) rather than reading through a null context.
                self.no_ctx = true;
                self.b.ins().iconst(types::I64, 0)
            }
        };
        let sig = match self.sigs.get(&args.len()) {
            Some(s) => *s,
            None => {
                let mut sig = Signature::new(self.isa.default_call_conv());
                for _ in 0..=args.len() {
                    sig.params.push(AbiParam::new(types::I64));
                }
                sig.returns.push(AbiParam::new(types::I64));
                let s = self.b.import_signature(sig);
                self.sigs.insert(args.len(), s);
                s
            }
        };
        let flags = ir::MemFlagsData::trusted();
        let f = self.b.ins().load(types::I64, flags, ctx, (h as i32) * 8);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(ctx);
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, f, &all);
        self.b.inst_results(call)[0]
    }

    /// A helper's index result is negative when it failed: bail.
    fn guard_index(&mut self, idx: ir::Value) {
        let bad = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, idx, 0);
        self.guard(bad);
    }

    /// `tv` as a value of type `want` (boxing it when `want` is `Val`).
    fn coerce(&mut self, tv: TV, want: Ty) -> PResult<ir::Value> {
        if tv.1 == want {
            return Ok(tv.0);
        }
        if want != Ty::Val {
            return reject(format!("{:?} where the plan has {want:?}", tv.1));
        }
        Ok(self.boxed(tv))
    }

    fn boxed(&mut self, tv: TV) -> ir::Value {
        let (code, payload) = match tv.1 {
            Ty::Val => return tv.0,
            Ty::Int => (1, tv.0),
            Ty::Float => (
                2,
                self.b
                    .ins()
                    .bitcast(types::I64, ir::MemFlagsData::new(), tv.0),
            ),
            Ty::Bool => (3, self.b.ins().uextend(types::I64, tv.0)),
        };
        let code = self.b.ins().iconst(types::I64, code);
        self.helper(Helper::Box, &[code, payload])
    }

    /// Stores `vals` (boxed) in a fresh stack array; its address.
    fn array(&mut self, vals: &[ir::Value]) -> (ir::StackSlot, ir::Value) {
        let size = (vals.len().max(1) * 8) as u32;
        let ss = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            3,
        ));
        for (k, v) in vals.iter().enumerate() {
            self.b.ins().stack_store(types::I64, *v, ss, (k * 8) as i32);
        }
        let addr = self.b.ins().stack_addr(types::I64, ss, 0);
        (ss, addr)
    }

    /// A call through the generic helper of built-in `name` on any operands.
    fn call_builtin(&mut self, name: &str, args: &[TV]) -> PResult<TV> {
        let Some(bi) = self.plan.builtin_index(name) else {
            return reject(format!("built-in `{name}` not planned"));
        };
        let vals: Vec<ir::Value> = args.iter().map(|a| self.boxed(*a)).collect();
        let (_, addr) = self.array(&vals);
        let bi = self.b.ins().iconst(types::I64, i64::from(bi));
        let n = self.b.ins().iconst(types::I64, vals.len() as i64);
        let idx = self.helper(Helper::CallBuiltin, &[bi, addr, n]);
        self.guard_index(idx);
        Ok((idx, Ty::Val))
    }

    fn collection(&mut self, kind: i64, args: &[TV]) -> TV {
        let vals: Vec<ir::Value> = args.iter().map(|a| self.boxed(*a)).collect();
        let (_, addr) = self.array(&vals);
        let k = self.b.ins().iconst(types::I64, kind);
        let n = self.b.ins().iconst(types::I64, vals.len() as i64);
        let idx = self.helper(Helper::Collection, &[k, addr, n]);
        self.guard_index(idx);
        (idx, Ty::Val)
    }

    /// The truthiness of a value as an i8.
    fn truthy(&mut self, tv: TV) -> ir::Value {
        match tv.1 {
            Ty::Bool => tv.0,
            Ty::Int | Ty::Float => self.b.ins().iconst(types::I8, 1),
            Ty::Val => {
                let r = self.helper(Helper::Truthy, &[tv.0]);
                let bad = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThan, r, 1);
                self.guard(bad);
                self.b.ins().ireduce(types::I8, r)
            }
        }
    }

    /// Before returning `v` (of type `t`): gives back this function's region of the arena,
    /// moving a boxed result down to the entry mark.
    fn release(&mut self, v: ir::Value, t: Ty) -> PResult<ir::Value> {
        let Some(m) = self.mark else {
            return Ok(v);
        };
        if t == Ty::Val {
            let idx = self.helper(Helper::Ret, &[m, v]);
            self.guard_index(idx);
            Ok(idx)
        } else {
            self.helper(Helper::Truncate, &[m]);
            Ok(v)
        }
    }

    /// A call of a function value (a local, a capture, a global closure, a keyword...)
    /// through the runtime, which runs it compiled or interpreted.
    /// `site` indexes the plan's run-time call sites (-1: a LocalPure site).
    fn apply(&mut self, callee: &Expr, args: &[Expr], site: i64) -> PResult<Option<TV>> {
        let Some(f) = self.operand(callee)? else {
            return Ok(None);
        };
        let mut vals = Vec::with_capacity(args.len() + 1);
        vals.push(self.boxed(f));
        for a in args {
            let Some(tv) = self.operand(a)? else {
                return Ok(None);
            };
            vals.push(self.boxed(tv));
        }
        let (_, addr) = self.array(&vals);
        let n = self.b.ins().iconst(types::I64, vals.len() as i64);
        let site = self.b.ins().iconst(types::I64, site);
        let idx = self.helper(Helper::Apply, &[site, addr, n]);
        self.guard_index(idx);
        Ok(Some((idx, Ty::Val)))
    }

    /// A binary primitive: inline on unboxed numbers, else the built-in of that name.
    fn prim_any(&mut self, op: PrimOp, x: TV, y: TV) -> PResult<TV> {
        match prim_plan(op, x.1, y.1) {
            Some(_) => self.prim(op, x, y),
            None => self.call_builtin(op.name(), &[x, y]),
        }
    }

    fn operand(&mut self, e: &Expr) -> PResult<Option<TV>> {
        self.expr(e, false)
    }

    fn expr(&mut self, e: &Expr, tail: bool) -> PResult<Option<TV>> {
        macro_rules! val {
            ($e:expr) => {
                match self.operand($e)? {
                    Some(x) => x,
                    None => return Ok(None),
                }
            };
        }
        Ok(Some(match e {
            Expr::Const(v) => self.konst(v)?,
            Expr::Local(s) => self.local(*s)?,
            Expr::Global(id, _) => match self.plan.globals.get(id) {
                Some(GlobalUse::Const(v) | GlobalUse::Func(_, v)) => {
                    let v = v.clone();
                    self.konst(&v)?
                }
                None => return reject("global not planned"),
            },
            Expr::If(b) => return self.gen_if(&b.0, &b.1, &b.2, tail),
            Expr::Do(es) => {
                let Some((last, init)) = es.split_last() else {
                    return Ok(Some(self.konst(&Value::Nil)?));
                };
                for x in init {
                    match x {
                        Expr::Bind(b) => {
                            let tv = val!(&b.1);
                            match &b.0 {
                                Pattern::Bind(s) => self.bind(*s, tv)?,
                                Pattern::Ignore => {}
                                _ => return reject("destructuring is not compiled"),
                            }
                        }
                        Expr::SetLocal(s, v) => {
                            let tv = val!(v);
                            self.bind(*s, tv)?;
                        }
                        other => {
                            val!(other);
                        }
                    }
                }
                return self.expr(last, tail);
            }
            Expr::Prim(op, b, _) => {
                let x = val!(&b.0);
                let y = val!(&b.1);
                self.prim_any(*op, x, y)?
            }
            Expr::PrimSlotInt(op, s, k, _) => {
                let x = self.local(*s)?;
                // Through `konst`, so the sign analysis knows a non-negative constant.
                let y = self.konst(&Value::Int(*k))?;
                self.prim_any(*op, x, y)?
            }
            Expr::PrimSlotSlot(op, a, c, _) => {
                let x = self.local(*a)?;
                let y = self.local(*c)?;
                self.prim_any(*op, x, y)?
            }
            Expr::Prim1(op, x, _) => {
                let x = val!(x);
                match prim1_plan(*op, x.1) {
                    Some(_) if x.1 == Ty::Val => {
                        // `not` of a boxed value.
                        let t = self.truthy(x);
                        (self.b.ins().bxor_imm_s(t, 1), Ty::Bool)
                    }
                    Some(_) => self.prim1(*op, x)?,
                    None => self.call_builtin(op.name(), &[x])?,
                }
            }
            Expr::Capture(i) => match self.caps.get(*i as usize) {
                Some((v, t)) => {
                    let (v, t) = (*v, *t);
                    (self.b.use_var(v), t)
                }
                None => return reject("capture out of range"),
            },
            Expr::MakeClosure(l, from) => {
                let Some(k) = self.plan.lambda_index(l) else {
                    return reject("closure not planned");
                };
                let mut vals = Vec::with_capacity(from.len());
                for f in from.iter() {
                    let tv = match f {
                        CaptureFrom::Local(s) => self.local(*s)?,
                        CaptureFrom::Capture(i) => match self.caps.get(*i as usize) {
                            Some((v, t)) => {
                                let (v, t) = (*v, *t);
                                (self.b.use_var(v), t)
                            }
                            None => return reject("capture out of range"),
                        },
                        CaptureFrom::SelfFn => return reject("closure capturing itself"),
                    };
                    vals.push(self.boxed(tv));
                }
                let (_, addr) = self.array(&vals);
                let k = self.b.ins().iconst(types::I64, i64::from(k));
                let n = self.b.ins().iconst(types::I64, vals.len() as i64);
                let idx = self.helper(Helper::MakeClosure, &[k, addr, n]);
                self.guard_index(idx);
                (idx, Ty::Val)
            }
            Expr::Vector(items) | Expr::Set(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for a in items.iter() {
                    vals.push(val!(a));
                }
                let kind = if matches!(e, Expr::Vector(_)) { 0 } else { 1 };
                self.collection(kind, &vals)
            }
            Expr::Map(kvs) => {
                let mut vals = Vec::with_capacity(kvs.len() * 2);
                for (k, v) in kvs.iter() {
                    vals.push(val!(k));
                    vals.push(val!(v));
                }
                self.collection(2, &vals)
            }
            Expr::CallBuiltin(bi, args, _) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args.iter() {
                    vals.push(val!(a));
                }
                let tys: Vec<Ty> = vals.iter().map(|v| v.1).collect();
                let Some((op, _)) = builtin_plan(bi, &tys)? else {
                    return Ok(Some(self.call_builtin(bi.name, &vals)?));
                };
                match op {
                    BuiltinOp::Fold(p) => {
                        let mut acc = vals[0];
                        for v in &vals[1..] {
                            acc = self.prim(p, acc, *v)?;
                        }
                        acc
                    }
                    BuiltinOp::Neg => self.neg(vals[0])?,
                    BuiltinOp::Unary(p) => self.prim1(p, vals[0])?,
                    BuiltinOp::Binary(p) => self.prim(p, vals[0], vals[1])?,
                    BuiltinOp::Quot => self.quot(vals[0], vals[1])?,
                }
            }
            Expr::Loop(b) => {
                let Some(tys) = self.plan.specs[self.me]
                    .loop_tys
                    .get(&(e as *const Expr as usize))
                    .cloned()
                else {
                    return reject("loop not planned");
                };
                if tys.len() != b.0.len() {
                    return reject("loop not planned");
                }
                let mut vars = Vec::with_capacity(b.0.len());
                for ((s, init), want) in b.0.iter().zip(tys) {
                    let tv = val!(init);
                    let v = self.coerce(tv, want)?;
                    self.bind(*s, (v, want))?;
                    if let Some(Some(v)) = self.slots.get(*s as usize) {
                        vars.push(*v);
                    }
                }
                // Each iteration's boxed temporaries are released at `recur`.
                let mark = if self.mark.is_some() {
                    Some(self.helper(Helper::Mark, &[]))
                } else {
                    None
                };
                let header = self.b.create_block();
                self.b.ins().jump(header, &[]);
                self.b.switch_to_block(header);
                let id = self.next_loop();
                self.loop_vars_assumed(id, &vars);
                self.loops.push(LoopInfo {
                    header,
                    vars,
                    mark,
                    id,
                });
                let r = self.expr(&b.1, true);
                self.loops.pop();
                self.b.seal_block(header);
                return r;
            }
            Expr::Recur(args, _) => {
                if !tail {
                    return reject("`recur` not in tail position");
                }
                let Some(LoopInfo {
                    header,
                    vars,
                    mark,
                    id,
                }) = self.loops.last().cloned()
                else {
                    return reject("`recur` outside a loop");
                };
                if vars.len() != args.len() {
                    return reject("`recur` with the wrong number of values");
                }
                let mut vals = Vec::with_capacity(args.len());
                for a in args.iter() {
                    vals.push(val!(a));
                }
                let mut new = Vec::with_capacity(vals.len());
                for (k, ((var, t), tv)) in vars.iter().zip(vals).enumerate() {
                    let v = self.coerce(tv, *t)?;
                    if self.nonneg_vars.contains(&var.index()) && !self.is_nonneg(v) {
                        self.new_refuted.push((id, k));
                    }
                    new.push(v);
                }
                if let Some(m) = mark {
                    // Move the carried boxed values down to the loop's mark and drop the
                    // rest of this iteration's values: the arena stays bounded.
                    let boxed: Vec<usize> =
                        (0..vars.len()).filter(|&k| vars[k].1 == Ty::Val).collect();
                    if boxed.is_empty() {
                        self.helper(Helper::Truncate, &[m]);
                    } else {
                        let ids: Vec<ir::Value> = boxed.iter().map(|&k| new[k]).collect();
                        let (ss, addr) = self.array(&ids);
                        let n = self.b.ins().iconst(types::I64, ids.len() as i64);
                        let st = self.helper(Helper::Recur, &[m, addr, n]);
                        let bad = self.b.ins().icmp_imm_s(IntCC::NotEqual, st, 0);
                        self.guard(bad);
                        for (j, &k) in boxed.iter().enumerate() {
                            new[k] =
                                self.b
                                    .ins()
                                    .stack_load(types::I64, types::I64, ss, (j * 8) as i32);
                        }
                    }
                }
                for ((var, _), v) in vars.iter().zip(new) {
                    self.b.def_var(*var, v);
                }
                self.b.ins().jump(header, &[]);
                return Ok(None);
            }
            Expr::Call(c) => {
                if !c.target.is_local_pure() {
                    let Some(site) = self.plan.site_index(&c.target, c.sensitive) else {
                        return reject("call site not planned");
                    };
                    return self.apply(&c.callee, &c.args, i64::from(site));
                }
                let lambda = match &c.callee {
                    Expr::SelfFn => self.plan.specs[self.me].lambda.clone(),
                    Expr::Global(id, _) => match self.plan.globals.get(id) {
                        Some(GlobalUse::Func(l, _)) => l.clone(),
                        Some(GlobalUse::Const(Value::Builtin(b))) => {
                            let name = b.name;
                            let mut vals = Vec::with_capacity(c.args.len());
                            for a in c.args.iter() {
                                vals.push(val!(a));
                            }
                            return Ok(Some(self.call_builtin(name, &vals)?));
                        }
                        Some(GlobalUse::Const(_)) => return self.apply(&c.callee, &c.args, -1),
                        None => return reject("callee not planned"),
                    },
                    _ => return self.apply(&c.callee, &c.args, -1),
                };
                let mut vals = Vec::with_capacity(c.args.len() + self.caps.len());
                if matches!(c.callee, Expr::SelfFn) {
                    // The closure calling itself passes its captures along.
                    for (v, t) in self.caps.clone() {
                        vals.push((self.b.use_var(v), t));
                    }
                }
                for a in c.args.iter() {
                    vals.push(val!(a));
                }
                let tys: Vec<Ty> = vals.iter().map(|v| v.1).collect();
                let Some(i) =
                    self.plan.specs.iter().position(|s| {
                        std::sync::Arc::ptr_eq(&s.lambda, &lambda) && s.params == tys
                    })
                else {
                    return reject("call not planned");
                };
                if i == self.me && self.inline_budget > 0 {
                    return self.inline_self(&vals);
                }
                let fref = match self.frefs.get(&i) {
                    Some(f) => *f,
                    None => {
                        let sig = spec_sig(self.isa, self.plan, i)?;
                        let f = import(&mut self.b, sig, i as u32);
                        self.frefs.insert(i, f);
                        f
                    }
                };
                let mut cargs: Vec<ir::Value> = Vec::with_capacity(vals.len() + 2);
                cargs.extend(self.ctx);
                cargs.extend(vals.iter().map(|v| v.0));
                let d = self.b.ins().iadd_imm_s(self.depth, -1);
                cargs.push(d);
                let call = self.b.ins().call(fref, &cargs);
                let rs = self.b.inst_results(call).to_vec();
                self.guard(rs[1]);
                let ret = self.plan.specs[i]
                    .ret
                    .ok_or(Reject("callee return type unknown".into()))?;
                (rs[0], ret)
            }
            _ => return reject("expression outside the compiled subset"),
        }))
    }

    /// The int value an `if` test proves below `i64::MAX` when it holds: `x` in `(< x y)`
    /// or `(> y x)` on ints, or `(<= x k)` with a constant `k < i64::MAX`. Read after the
    /// test was generated, so it is the very SSA value the test compared.
    fn bounded_by_test(&mut self, c: &Expr) -> PResult<Option<ir::Value>> {
        use PrimOp::{Gt, Le, Lt};
        let slot = match c {
            Expr::PrimSlotSlot(Lt, a, _, _) | Expr::PrimSlotInt(Lt, a, _, _) => *a,
            Expr::PrimSlotSlot(Gt, _, b, _) => *b,
            Expr::PrimSlotInt(Le, a, k, _) if *k < i64::MAX => *a,
            Expr::Prim(Lt, b, _) => match (&b.0, &b.1) {
                (Expr::Local(a), _) => *a,
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        // Both operands must be ints for the comparison to bound the value.
        let other_int = match c {
            Expr::PrimSlotSlot(_, a, b, _) => {
                let o = if *a == slot { *b } else { *a };
                matches!(self.slots.get(o as usize), Some(Some((_, Ty::Int))))
            }
            Expr::Prim(_, b, _) => {
                matches!(b.1, Expr::Const(Value::Int(_)) | Expr::Local(_))
                    && match &b.1 {
                        Expr::Local(o) => {
                            matches!(self.slots.get(*o as usize), Some(Some((_, Ty::Int))))
                        }
                        _ => true,
                    }
            }
            _ => true,
        };
        match self.slots.get(slot as usize) {
            Some(Some((_, Ty::Int))) if other_int => Ok(Some(self.local(slot)?.0)),
            _ => Ok(None),
        }
    }

    fn gen_if(&mut self, c: &Expr, t: &Expr, f: &Expr, tail: bool) -> PResult<Option<TV>> {
        match const_test(c) {
            Some(true) => return self.expr(t, tail),
            Some(false) => return self.expr(f, tail),
            None => {}
        }
        let Some((cv, ct)) = self.operand(c)? else {
            return Ok(None);
        };
        if matches!(ct, Ty::Int | Ty::Float) {
            // Numbers are always truthy.
            return self.expr(t, tail);
        }
        let bounded = self.bounded_by_test(c)?;
        let cv = self.truthy((cv, ct));
        let then_b = self.b.create_block();
        let else_b = self.b.create_block();
        self.b.ins().brif(cv, then_b, &[], else_b, &[]);
        self.b.seal_block(then_b);
        self.b.seal_block(else_b);
        // Each arm leaves through a block of its own type; once both types are known,
        // those blocks convert to the join (boxing a number where the other arm is boxed).
        // The sign analysis follows values through the join: the result is non-negative
        // when every arm's value is.
        let mut outs: Vec<(ir::Block, Ty, bool)> = Vec::with_capacity(2);
        for (blk, arm) in [(then_b, t), (else_b, f)] {
            self.b.switch_to_block(blk);
            // The test's fact holds in the `then` arm only (the value is the same SSA
            // value in both arms).
            let fact = match bounded {
                Some(v) if blk == then_b && self.below_max.insert(v) => Some(v),
                _ => None,
            };
            let r = self.expr(arm, tail);
            if let Some(v) = fact {
                self.below_max.remove(&v);
            }
            if let Some((v, vt)) = r? {
                let out = self.b.create_block();
                self.b.append_block_param(out, clif(vt));
                self.b.ins().jump(out, &[BlockArg::Value(v)]);
                outs.push((out, vt, self.is_nonneg(v)));
            }
        }
        let Some(ty) = outs.iter().map(|o| o.1).reduce(Ty::join) else {
            return Ok(None);
        };
        let nonneg = ty == Ty::Int && outs.iter().all(|o| o.2);
        let merge = self.b.create_block();
        self.b.append_block_param(merge, clif(ty));
        for (out, vt, _) in outs {
            self.b.switch_to_block(out);
            self.b.seal_block(out);
            let p = self.b.block_params(out)[0];
            let v = self.coerce((p, vt), ty)?;
            self.b.ins().jump(merge, &[BlockArg::Value(v)]);
        }
        self.b.switch_to_block(merge);
        self.b.seal_block(merge);
        let v = self.b.block_params(merge)[0];
        self.mark_nonneg(v, nonneg);
        Ok(Some((v, ty)))
    }

    fn as_float(&mut self, x: TV) -> ir::Value {
        match x.1 {
            Ty::Int => self.b.ins().fcvt_from_sint(types::F64, x.0),
            _ => x.0,
        }
    }

    fn bool_of(&mut self, cmp: ir::Value) -> TV {
        (cmp, Ty::Bool)
    }

    fn prim(&mut self, op: PrimOp, x: TV, y: TV) -> PResult<TV> {
        use PrimOp::*;
        let rt = prim_ty(op, x.1, y.1)?;
        let (a, c) = (x.0, y.0);
        let both_int = x.1 == Ty::Int && y.1 == Ty::Int;
        Ok(match op {
            Add if both_int && self.int_const(c) == Some(1) && self.below_max.contains(&a) => {
                let r = self.b.ins().iadd_imm_s(a, 1);
                self.mark_nonneg(r, self.is_nonneg(a));
                (r, Ty::Int)
            }
            Add | Sub | Mul if both_int => {
                let (r, of) = match op {
                    Add => self.b.ins().sadd_overflow(a, c),
                    Sub => self.b.ins().ssub_overflow(a, c),
                    _ => self.b.ins().smul_overflow(a, c),
                };
                self.guard(of);
                // Past the overflow guard the result is exact: signs follow arithmetic.
                let both = self.is_nonneg(a) && self.is_nonneg(c);
                self.mark_nonneg(r, op != Sub && both || op == Mul && a == c);
                (r, Ty::Int)
            }
            Add | Sub | Mul | Div if rt == Ty::Float => {
                let fa = self.as_float(x);
                let fc = self.as_float(y);
                let r = match op {
                    Add => self.b.ins().fadd(fa, fc),
                    Sub => self.b.ins().fsub(fa, fc),
                    Mul => self.b.ins().fmul(fa, fc),
                    _ => self.b.ins().fdiv(fa, fc),
                };
                (r, Ty::Float)
            }
            Div | Rem | Mod if self.int_const(c).is_some_and(|d| d > 0) => {
                self.div_by_pos(op, a, c)
            }
            Div | Rem | Mod => {
                // Zero and -1 divisors go to the interpreter: the first is an error, the
                // second may overflow (and traps in hardware); both are rare in hot code.
                let z = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, c, -1);
                let bad = self.b.ins().bor(z, m1);
                self.guard(bad);
                let r = self.b.ins().srem(a, c);
                match op {
                    Rem => (r, Ty::Int),
                    Div => {
                        // Inexact: the result would be a float; the interpreter does it.
                        let inexact = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                        self.guard(inexact);
                        (self.b.ins().sdiv(a, c), Ty::Int)
                    }
                    _ => {
                        // Floored: add the divisor when the remainder's sign differs.
                        let nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                        let x = self.b.ins().bxor(r, c);
                        let diff = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                        let fix = self.b.ins().band(nz, diff);
                        let adj = self.b.ins().iadd(r, c);
                        (self.b.ins().select(fix, adj, r), Ty::Int)
                    }
                }
            }
            Lt | Le | Gt | Ge | NumEq | Eq | NotEq if x.1 == Ty::Float => {
                let cc = match op {
                    Lt => FloatCC::LessThan,
                    Le => FloatCC::LessThanOrEqual,
                    Gt => FloatCC::GreaterThan,
                    Ge => FloatCC::GreaterThanOrEqual,
                    _ => FloatCC::Equal,
                };
                let r = self.b.ins().fcmp(cc, a, c);
                self.bool_of(r)
            }
            Lt | Le | Gt | Ge | NumEq | Eq | NotEq => {
                let cc = match op {
                    Lt => IntCC::SignedLessThan,
                    Le => IntCC::SignedLessThanOrEqual,
                    Gt => IntCC::SignedGreaterThan,
                    Ge => IntCC::SignedGreaterThanOrEqual,
                    NotEq => IntCC::NotEqual,
                    _ => IntCC::Equal,
                };
                let r = self.b.ins().icmp(cc, a, c);
                self.bool_of(r)
            }
            _ => return reject(format!("`{}` is not compiled", op.name())),
        })
    }

    /// `/`, `rem` or `mod` of ints by a positive constant: no zero or -1 guard, and
    /// Cranelift turns the division into a multiplication. A non-negative dividend makes
    /// all three the unsigned operation (cheaper magic numbers, no sign fix-up).
    fn div_by_pos(&mut self, op: PrimOp, a: ir::Value, c: ir::Value) -> TV {
        let unsigned = self.is_nonneg(a);
        let r = if unsigned {
            self.b.ins().urem(a, c)
        } else {
            self.b.ins().srem(a, c)
        };
        let v = match op {
            PrimOp::Div => {
                let inexact = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                self.guard(inexact);
                if unsigned {
                    self.b.ins().udiv(a, c)
                } else {
                    self.b.ins().sdiv(a, c)
                }
            }
            PrimOp::Mod if !unsigned => {
                // Floored: a negative remainder moves up by the (positive) divisor.
                let sign = self.b.ins().sshr_imm_s(r, 63);
                let fix = self.b.ins().band(sign, c);
                self.b.ins().iadd(r, fix)
            }
            _ => r,
        };
        self.mark_nonneg(v, unsigned || op == PrimOp::Mod);
        (v, Ty::Int)
    }

    fn prim1(&mut self, op: PrimOp1, x: TV) -> PResult<TV> {
        prim1_ty(op, x.1)?;
        Ok(match (op, x.1) {
            (PrimOp1::Inc, Ty::Int) if self.below_max.contains(&x.0) => {
                let r = self.b.ins().iadd_imm_s(x.0, 1);
                self.mark_nonneg(r, self.is_nonneg(x.0));
                (r, Ty::Int)
            }
            (PrimOp1::Inc | PrimOp1::Dec, Ty::Int) => {
                let one = self.b.ins().iconst(types::I64, 1);
                let (r, of) = if op == PrimOp1::Inc {
                    self.b.ins().sadd_overflow(x.0, one)
                } else {
                    self.b.ins().ssub_overflow(x.0, one)
                };
                self.guard(of);
                self.mark_nonneg(r, op == PrimOp1::Inc && self.is_nonneg(x.0));
                (r, Ty::Int)
            }
            (PrimOp1::Inc | PrimOp1::Dec, _) => {
                let one = self.b.ins().f64const(1.0);
                let r = if op == PrimOp1::Inc {
                    self.b.ins().fadd(x.0, one)
                } else {
                    self.b.ins().fsub(x.0, one)
                };
                (r, Ty::Float)
            }
            (PrimOp1::Not, Ty::Bool) => (self.b.ins().bxor_imm_s(x.0, 1), Ty::Bool),
            (PrimOp1::Not | PrimOp1::IsNil, _) => (self.b.ins().iconst(types::I8, 0), Ty::Bool),
            (PrimOp1::IsZero, Ty::Int) => {
                let r = self.b.ins().icmp_imm_s(IntCC::Equal, x.0, 0);
                self.bool_of(r)
            }
            (PrimOp1::IsZero, _) => {
                let z = self.b.ins().f64const(0.0);
                let r = self.b.ins().fcmp(FloatCC::Equal, x.0, z);
                self.bool_of(r)
            }
        })
    }

    fn quot(&mut self, x: TV, y: TV) -> PResult<TV> {
        let rt = prim_ty(PrimOp::Div, x.1, y.1)?;
        if rt == Ty::Float {
            let a = self.as_float(x);
            let c = self.as_float(y);
            let q = self.b.ins().fdiv(a, c);
            return Ok((self.b.ins().trunc(q), Ty::Float));
        }
        let z = self.b.ins().icmp_imm_s(IntCC::Equal, y.0, 0);
        let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, y.0, -1);
        let bad = self.b.ins().bor(z, m1);
        self.guard(bad);
        Ok((self.b.ins().sdiv(x.0, y.0), Ty::Int))
    }

    fn neg(&mut self, x: TV) -> PResult<TV> {
        Ok(match x.1 {
            Ty::Int => {
                let zero = self.b.ins().iconst(types::I64, 0);
                let (r, of) = self.b.ins().ssub_overflow(zero, x.0);
                self.guard(of);
                (r, Ty::Int)
            }
            Ty::Float => (self.b.ins().fneg(x.0), Ty::Float),
            Ty::Bool | Ty::Val => return reject("`-` on a boolean or boxed value"),
        })
    }
}
