//! The L4 cache key of a planned group: blake3 over a canonical encoding of every
//! specialised function's IR (its callees appear as their index in the group, so the key
//! covers the callees' IR too), the argument and return types, the values of the global
//! constants the code inlines, the compiler and Cranelift versions, the target ISA and its
//! flags, and the optimisation level. Source locations are left out: moving a function in
//! its file does not change its code.

use rtfs_ir::Value;
use rtfs_ir::expr::{Expr, Pattern};

use crate::plan::{GlobalUse, PResult, Plan, reject};

pub type Key = [u8; 32];

/// Everything outside the IR that changes the machine code.
pub fn environment(isa: &dyn cranelift_codegen::isa::TargetIsa, opt_level: &str) -> String {
    let isa_flags: Vec<String> = isa.isa_flags().iter().map(|v| v.to_string()).collect();
    format!(
        "rtfs-jit {} | cranelift {} | {} | {} | {} | opt {}",
        env!("CARGO_PKG_VERSION"),
        crate::CRANELIFT_VERSION,
        isa.triple(),
        isa.flags(),
        isa_flags.join(","),
        opt_level
    )
}

pub fn key(plan: &Plan, env: &str) -> PResult<Key> {
    let mut h = blake3::Hasher::new();
    h.update(b"rtfs-l4-key-v1\0");
    h.update(env.as_bytes());
    let mut out = Vec::with_capacity(256);
    for spec in &plan.specs {
        out.push(b'F');
        out.extend((spec.params.len() as u32).to_le_bytes());
        out.extend(spec.params.iter().map(|t| t.code()));
        out.push(spec.ret.map_or(0, |t| t.code()));
        let arity = &spec.lambda.arities[spec.arity];
        out.extend(arity.frame_size.to_le_bytes());
        Enc {
            plan,
            out: &mut out,
        }
        .expr(&arity.body)?;
    }
    h.update(&out);
    Ok(*h.finalize().as_bytes())
}

pub fn hex(k: &Key) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

struct Enc<'a> {
    plan: &'a Plan,
    out: &'a mut Vec<u8>,
}

impl Enc<'_> {
    fn tag(&mut self, t: u8) {
        self.out.push(t);
    }
    fn u32(&mut self, x: u32) {
        self.out.extend(x.to_le_bytes());
    }
    fn value(&mut self, v: &Value) -> PResult<()> {
        match v {
            Value::Int(i) => {
                self.tag(b'i');
                self.out.extend(i.to_le_bytes());
            }
            Value::Float(f) => {
                self.tag(b'f');
                self.out.extend(f.to_bits().to_le_bytes());
            }
            Value::Bool(b) => {
                self.tag(b'b');
                self.out.push(u8::from(*b));
            }
            // Non-numeric constants only appear as `if` tests (e.g. `:else`): their
            // truthiness is what the code depends on.
            other => {
                self.tag(b'c');
                self.out.push(u8::from(other.truthy()));
            }
        }
        Ok(())
    }
    fn list(&mut self, es: &[Expr]) -> PResult<()> {
        self.u32(es.len() as u32);
        es.iter().try_for_each(|e| self.expr(e))
    }
    fn callee_index(&self, e: &Expr) -> u32 {
        let lambda = match e {
            Expr::Global(id, _) => match self.plan.globals.get(id) {
                Some(GlobalUse::Func(l)) => Some(l),
                _ => None,
            },
            _ => None,
        };
        // Same lambda may have several specs; the first index identifies the function, the
        // argument types at the call identify the spec.
        lambda
            .and_then(|l| {
                self.plan
                    .specs
                    .iter()
                    .position(|s| std::sync::Arc::ptr_eq(&s.lambda, l))
            })
            .map_or(u32::MAX, |i| i as u32)
    }

    fn expr(&mut self, e: &Expr) -> PResult<()> {
        match e {
            Expr::Const(v) => {
                self.tag(1);
                self.value(v)?;
            }
            Expr::Local(s) => {
                self.tag(2);
                self.u32(*s);
            }
            Expr::Global(id, _) => {
                self.tag(3);
                match self.plan.globals.get(id) {
                    Some(GlobalUse::Const(v)) => {
                        let v = v.clone();
                        self.value(&v)?;
                    }
                    _ => return reject("global not planned"),
                }
            }
            Expr::If(b) => {
                self.tag(4);
                self.expr(&b.0)?;
                self.expr(&b.1)?;
                self.expr(&b.2)?;
            }
            Expr::Do(es) => {
                self.tag(5);
                self.list(es)?;
            }
            Expr::Bind(b) => {
                self.tag(6);
                match &b.0 {
                    Pattern::Bind(s) => self.u32(*s),
                    Pattern::Ignore => self.u32(u32::MAX),
                    _ => return reject("destructuring is not compiled"),
                }
                self.expr(&b.1)?;
            }
            Expr::SetLocal(s, x) => {
                self.tag(15);
                self.u32(*s);
                self.expr(x)?;
            }
            Expr::Prim(op, b, _) => {
                self.tag(7);
                self.tag(*op as u8);
                self.expr(&b.0)?;
                self.expr(&b.1)?;
            }
            Expr::PrimSlotInt(op, s, k, _) => {
                self.tag(8);
                self.tag(*op as u8);
                self.u32(*s);
                self.out.extend(k.to_le_bytes());
            }
            Expr::PrimSlotSlot(op, a, b, _) => {
                self.tag(9);
                self.tag(*op as u8);
                self.u32(*a);
                self.u32(*b);
            }
            Expr::Prim1(op, x, _) => {
                self.tag(10);
                self.tag(*op as u8);
                self.expr(x)?;
            }
            Expr::CallBuiltin(b, args, _) => {
                self.tag(11);
                self.u32(b.name.len() as u32);
                self.out.extend(b.name.as_bytes());
                self.list(args)?;
            }
            Expr::Loop(b) => {
                self.tag(12);
                self.u32(b.0.len() as u32);
                for (s, init) in &b.0 {
                    self.u32(*s);
                    self.expr(init)?;
                }
                self.expr(&b.1)?;
            }
            Expr::Recur(args, slots) => {
                self.tag(13);
                self.list(args)?;
                self.u32(slots.len() as u32);
                slots.iter().for_each(|s| self.u32(*s));
            }
            Expr::Call(c) => {
                self.tag(14);
                let idx = match &c.callee {
                    Expr::SelfFn => u32::MAX - 1,
                    other => self.callee_index(other),
                };
                self.u32(idx);
                self.list(&c.args)?;
            }
            _ => return reject("expression outside the compiled subset"),
        }
        Ok(())
    }
}
