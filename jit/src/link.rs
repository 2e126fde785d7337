//! From Cranelift functions to a relocatable blob, and from a blob to executable memory.
//!
//! A blob is the code of every function of a group laid end to end, plus the absolute
//! relocations (calls) between them and the offset of the entry. It is what the L4 cache
//! stores; loading it is a copy into fresh pages, patching the relocations with the final
//! addresses and making the pages executable — no recompilation.

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{ExternalName, Function};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedRelocTarget};
use memmap2::{Mmap, MmapMut};

use crate::plan::{PResult, Reject, Ty, reject};

/// An absolute 8-byte relocation: at `offset`, write the address of function `target`
/// plus `addend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reloc8 {
    pub offset: u32,
    pub target: u32,
    pub addend: i64,
}

/// Relocatable machine code for one group of functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    pub code: Vec<u8>,
    /// Start of each function in `code`, by function index.
    pub funcs: Vec<u32>,
    pub relocs: Vec<Reloc8>,
    /// Index of the entry function.
    pub entry: u32,
    pub params: Vec<Ty>,
    pub ret: Ty,
    /// An upper bound on the native stack one compiled frame uses, in bytes, so the
    /// runtime can bound recursion by the stack it has left.
    pub frame_bound: u32,
}

const ALIGN: usize = 16;

/// Compiles `funcs` (function `i` named `user 0:i`) into one blob.
pub fn compile(
    isa: &dyn TargetIsa,
    funcs: Vec<Function>,
    entry: u32,
    params: Vec<Ty>,
    ret: Ty,
) -> PResult<Blob> {
    let mut blob = Blob {
        code: Vec::new(),
        funcs: Vec::with_capacity(funcs.len()),
        relocs: Vec::new(),
        entry,
        params,
        ret,
        frame_bound: 0,
    };
    let mut ctrl = ControlPlane::default();
    // PC-relative calls, resolved once every function's offset is known.
    let mut pcrel = Vec::new();
    for func in funcs {
        while !blob.code.len().is_multiple_of(ALIGN) {
            blob.code.push(0);
        }
        let start = blob.code.len();
        blob.funcs.push(start as u32);
        blob.frame_bound = blob.frame_bound.max(frame_bound(&func));
        let mut ctx = Context::for_function(func);
        let compiled = ctx
            .compile(isa, &mut ctrl)
            .map_err(|e| Reject(format!("code generation failed: {:?}", e.inner)))?;
        blob.code.extend_from_slice(compiled.code_buffer());
        let relocs: Vec<_> = compiled.buffer.relocs().to_vec();
        for r in relocs {
            let FinalizedRelocTarget::ExternalName(ExternalName::User(u)) = &r.target else {
                return reject(format!("unsupported relocation target {:?}", r.target));
            };
            let Some(target) = ctx.func.params.user_named_funcs().get(*u).map(|n| n.index) else {
                return reject("relocation to an unknown function");
            };
            let offset = (start as u32) + r.offset;
            match r.kind {
                Reloc::Abs8 => blob.relocs.push(Reloc8 {
                    offset,
                    target,
                    addend: r.addend,
                }),
                Reloc::X86CallPCRel4 | Reloc::X86PCRel4 | Reloc::Arm64Call => {
                    pcrel.push((r.kind, offset, target, r.addend))
                }
                k => return reject(format!("unsupported relocation {k:?}")),
            }
        }
    }
    for (kind, offset, target, addend) in pcrel {
        let Some(&t) = blob.funcs.get(target as usize) else {
            return reject("relocation to an unknown function");
        };
        let at = offset as usize;
        let delta = i64::from(t) + addend - i64::from(offset);
        match kind {
            Reloc::Arm64Call => {
                let imm = i32::try_from(delta >> 2)
                    .ok()
                    .filter(|d| (-(1 << 25)..(1 << 25)).contains(d))
                    .ok_or(Reject("call out of range".into()))?;
                let Some(word) = blob.code.get(at..at + 4) else {
                    return reject("relocation out of bounds");
                };
                let insn = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
                let insn = (insn & !0x03ff_ffff) | (imm as u32 & 0x03ff_ffff);
                blob.code[at..at + 4].copy_from_slice(&insn.to_le_bytes());
            }
            _ => {
                let d = i32::try_from(delta).map_err(|_| Reject("call out of range".into()))?;
                let Some(field) = blob.code.get_mut(at..at + 4) else {
                    return reject("relocation out of bounds");
                };
                field.copy_from_slice(&d.to_le_bytes());
            }
        }
    }
    blob.check()?;
    Ok(blob)
}

/// Return address, frame pointer, every callee-saved register, a spill slot for every SSA
/// value and the outgoing stack arguments: more than Cranelift can use.
fn frame_bound(func: &Function) -> u32 {
    let values = func.dfg.num_values() as u32;
    let args = func.signature.params.len() as u32 + 1;
    let slots: u32 = func.sized_stack_slots.values().map(|s| s.size + 8).sum();
    16 + 8 * 16 + 8 * values + 8 * args + slots
}

impl Blob {
    /// Every offset in bounds: a blob read from disk passes this before it is loaded.
    pub fn check(&self) -> PResult<()> {
        let len = self.code.len();
        if self.funcs.iter().any(|&f| f as usize >= len) {
            return reject("function offset out of bounds");
        }
        if self.entry as usize >= self.funcs.len() {
            return reject("entry index out of bounds");
        }
        for r in &self.relocs {
            if (r.offset as usize)
                .checked_add(8)
                .is_none_or(|end| end > len)
                || r.target as usize >= self.funcs.len()
            {
                return reject("relocation out of bounds");
            }
        }
        Ok(())
    }
}

/// Code in executable memory.
pub struct Loaded {
    mem: Mmap,
    entry: usize,
}

impl Loaded {
    pub fn entry_addr(&self) -> *const u8 {
        // In bounds: checked by `Blob::check` before loading.
        self.mem.as_ptr().wrapping_add(self.entry)
    }
}

/// Copies a checked blob into fresh pages, patches its relocations and makes it executable.
pub fn load(blob: &Blob) -> PResult<Loaded> {
    blob.check()?;
    let mut mem = MmapMut::map_anon(blob.code.len().max(1))
        .map_err(|e| Reject(format!("cannot map code memory: {e}")))?;
    mem[..blob.code.len()].copy_from_slice(&blob.code);
    let base = mem.as_ptr() as u64;
    for r in &blob.relocs {
        let target = base
            .wrapping_add(u64::from(blob.funcs[r.target as usize]))
            .wrapping_add(r.addend as u64);
        let at = r.offset as usize;
        mem[at..at + 8].copy_from_slice(&target.to_le_bytes());
    }
    let mem = mem
        .make_exec()
        .map_err(|e| Reject(format!("cannot make code executable: {e}")))?;
    let entry = blob.funcs[blob.entry as usize] as usize;
    Ok(Loaded { mem, entry })
}
