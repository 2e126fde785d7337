//! The L4 cache key of a planned group: blake3 over a canonical encoding of every
//! specialised function's IR (its callees appear as their index in the group, so the key
//! covers the callees' IR too), the argument and return types, the values of the global
//! constants the code inlines, the boxed constants and built-ins it names by index (in
//! table order), the compiler's version and build identity (a hash of the jit crate's
//! sources, from build.rs), the Cranelift version, the target ISA and its flags, and the
//! optimisation level. Source locations are left out: moving a function in its file does
//! not change its code.

use rtfs_ir::Value;
use rtfs_ir::expr::{Expr, Pattern};

/// Deepest constant encoded (the reader bounds nesting far below this).
const MAX_CONST_DEPTH: u32 = 512;

/// Appends a canonical, type-tagged encoding of `v` (two values encode alike only if they
/// are the same constant). Returns false when the encoding is an address (functions,
/// atoms, errors): valid in this process only.
pub fn canon(v: &Value, out: &mut Vec<u8>, depth: u32) -> PResult<bool> {
    if depth > MAX_CONST_DEPTH {
        return reject("constant nested too deeply");
    }
    fn text(out: &mut Vec<u8>, tag: u8, s: &str) {
        out.push(tag);
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }
    let mut portable = true;
    match v {
        Value::Nil => out.push(b'n'),
        Value::Bool(b) => {
            out.push(b'b');
            out.push(u8::from(*b));
        }
        Value::Int(i) => {
            out.push(b'i');
            out.extend(i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(b'f');
            out.extend(f.to_bits().to_le_bytes());
        }
        Value::Str(s) => text(out, b's', s),
        Value::Keyword(s) => text(out, b'k', s),
        Value::Symbol(s) => text(out, b'y', s),
        Value::Timestamp(s) => text(out, b't', s),
        Value::Uuid(s) => text(out, b'u', s),
        Value::Resource(s) => text(out, b'r', s),
        Value::Builtin(b) => text(out, b'B', b.name),
        Value::List(xs) | Value::Vector(xs) => {
            out.push(if matches!(v, Value::List(_)) {
                b'l'
            } else {
                b'v'
            });
            out.extend((xs.len() as u64).to_le_bytes());
            for x in xs.iter() {
                portable &= canon(x, out, depth + 1)?;
            }
        }
        Value::Set(xs) => {
            out.push(b'S');
            out.extend((xs.len() as u64).to_le_bytes());
            for x in xs.iter() {
                portable &= canon(x, out, depth + 1)?;
            }
        }
        Value::Map(m) => {
            out.push(b'm');
            out.extend((m.len() as u64).to_le_bytes());
            for (k, x) in m.iter() {
                portable &= canon(k, out, depth + 1)?;
                portable &= canon(x, out, depth + 1)?;
            }
        }
        Value::Fn(c) => {
            out.push(b'P');
            out.extend((std::sync::Arc::as_ptr(c) as usize as u64).to_le_bytes());
            portable = false;
        }
        Value::Native(n) => {
            out.push(b'N');
            out.extend((std::sync::Arc::as_ptr(n) as usize as u64).to_le_bytes());
            portable = false;
        }
        Value::Atom(a) => {
            out.push(b'A');
            out.extend((std::sync::Arc::as_ptr(a) as usize as u64).to_le_bytes());
            portable = false;
        }
        Value::Error(e) => {
            out.push(b'E');
            out.extend((std::sync::Arc::as_ptr(e) as usize as u64).to_le_bytes());
            portable = false;
        }
    }
    Ok(portable)
}

use crate::plan::{GlobalUse, PResult, Plan, reject};

pub type Key = [u8; 32];

/// Everything outside the IR that changes the machine code. `build` is the code
/// generator's build identity ([`crate::BUILD_ID`] outside tests).
pub fn environment(
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    opt_level: &str,
    build: &str,
) -> String {
    let isa_flags: Vec<String> = isa.isa_flags().iter().map(|v| v.to_string()).collect();
    format!(
        "rtfs-jit {} build {} | cranelift {} | {} | {} | {} | opt {}",
        env!("CARGO_PKG_VERSION"),
        build,
        crate::CRANELIFT_VERSION,
        isa.triple(),
        isa.flags(),
        isa_flags.join(","),
        opt_level
    )
}

pub fn key(plan: &Plan, env: &str) -> PResult<Key> {
    let mut h = blake3::Hasher::new();
    // v2: boxed values (a context parameter, helper table, constant and built-in tables).
    h.update(b"rtfs-l4-key-v2\0");
    h.update(env.as_bytes());
    let mut out = Vec::with_capacity(256);
    for spec in &plan.specs {
        out.push(b'F');
        out.extend((spec.ncaps as u32).to_le_bytes());
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
    out.push(b'C');
    out.extend((plan.consts.len() as u32).to_le_bytes());
    for c in &plan.consts {
        canon(c, &mut out, 0)?;
    }
    out.push(b'B');
    out.extend((plan.builtins.len() as u32).to_le_bytes());
    for b in &plan.builtins {
        out.extend((b.name.len() as u32).to_le_bytes());
        out.extend(b.name.as_bytes());
    }
    out.push(u8::from(plan.boxed));
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
            other => {
                self.tag(b'c');
                canon(other, self.out, 0)?;
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
                Some(GlobalUse::Func(l, _)) => Some(l),
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
                    Some(GlobalUse::Const(v) | GlobalUse::Func(_, v)) => {
                        let v = v.clone();
                        self.value(&v)?;
                    }
                    None => return reject("global not planned"),
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
                // Where the call runs (the delegation pass's decision) is part of the code.
                let site = format!("{:?} {}", c.target, c.sensitive);
                self.u32(site.len() as u32);
                self.out.extend(site.as_bytes());
                let idx = match &c.callee {
                    Expr::SelfFn => u32::MAX - 1,
                    other => self.callee_index(other),
                };
                self.u32(idx);
                if idx == u32::MAX {
                    // Not a function of the group (a built-in held by a global): its value.
                    self.expr(&c.callee)?;
                }
                self.list(&c.args)?;
            }
            Expr::Capture(i) => {
                self.tag(19);
                self.u32(*i);
            }
            Expr::MakeClosure(l, from) => {
                // The lambda by address (such plans are never written to disk).
                self.tag(20);
                self.out
                    .extend((std::sync::Arc::as_ptr(l) as usize as u64).to_le_bytes());
                self.u32(from.len() as u32);
                for f in from.iter() {
                    match f {
                        rtfs_ir::expr::CaptureFrom::Local(s) => {
                            self.tag(0);
                            self.u32(*s);
                        }
                        rtfs_ir::expr::CaptureFrom::Capture(i) => {
                            self.tag(1);
                            self.u32(*i);
                        }
                        rtfs_ir::expr::CaptureFrom::SelfFn => self.tag(2),
                    }
                }
            }
            Expr::Vector(es) => {
                self.tag(16);
                self.list(es)?;
            }
            Expr::Set(es) => {
                self.tag(17);
                self.list(es)?;
            }
            Expr::Map(kvs) => {
                self.tag(18);
                self.u32(kvs.len() as u32);
                for (k, v) in kvs.iter() {
                    self.expr(k)?;
                    self.expr(v)?;
                }
            }
            _ => return reject("expression outside the compiled subset"),
        }
        Ok(())
    }
}
