//! The IR: what the compiler produces and the interpreter and JIT run.
//!
//! It is a tree of expressions in which every local is a frame slot, every captured variable
//! a capture index and every global an index into the runtime's global table; nothing is
//! looked up by name at run time. `loop`/`recur` and self tail calls carry the slots they
//! rebind, so they run as jumps. The text form (`Display`) is what `rtfs check --emit ir`
//! prints.

use std::sync::Arc;

use crate::error::SrcLoc;
use crate::func::Builtin;
use crate::value::Value;

pub type Slot = u32;
pub type GlobalId = u32;

pub use crate::delegation::CallTarget;

/// Inline primitive operations on the hottest built-ins (two operands, no slice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    NumEq,
    Eq,
    NotEq,
    Rem,
    Mod,
}

impl PrimOp {
    pub fn name(self) -> &'static str {
        match self {
            PrimOp::Add => "+",
            PrimOp::Sub => "-",
            PrimOp::Mul => "*",
            PrimOp::Div => "/",
            PrimOp::Lt => "<",
            PrimOp::Le => "<=",
            PrimOp::Gt => ">",
            PrimOp::Ge => ">=",
            PrimOp::NumEq => "==",
            PrimOp::Eq => "=",
            PrimOp::NotEq => "not=",
            PrimOp::Rem => "rem",
            PrimOp::Mod => "mod",
        }
    }
}

/// Unary inline primitives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimOp1 {
    Inc,
    Dec,
    Not,
    IsNil,
    IsZero,
}

impl PrimOp1 {
    pub fn name(self) -> &'static str {
        match self {
            PrimOp1::Inc => "inc",
            PrimOp1::Dec => "dec",
            PrimOp1::Not => "not",
            PrimOp1::IsNil => "nil?",
            PrimOp1::IsZero => "zero?",
        }
    }
}

/// Where a closure's capture comes from in the creating frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFrom {
    Local(Slot),
    Capture(u32),
    SelfFn,
}

#[derive(Clone)]
pub struct Call {
    pub callee: Expr,
    pub args: Box<[Expr]>,
    pub loc: SrcLoc,
    pub target: CallTarget,
    /// Set by the delegation pass: the call carries data marked `^{:privacy :sensitive}`
    /// (the callee, the enclosing function, a parameter or a value an argument is computed
    /// from is marked), so it must stay on the device.
    pub sensitive: bool,
}

#[derive(Clone)]
pub struct CapCall {
    pub id: Expr,
    pub args: Box<[Expr]>,
    pub loc: SrcLoc,
    pub target: CallTarget,
    /// Set by the delegation pass: the call carries data marked `^{:privacy :sensitive}`
    /// (the enclosing function, or a value an argument is computed from, is marked), so it
    /// must stay on the device.
    pub sensitive: bool,
}

#[derive(Clone)]
pub struct Catch {
    /// `None` catches everything; otherwise the error kinds (or type names) it accepts.
    pub filter: Option<Vec<String>>,
    pub slot: Slot,
    pub body: Expr,
}

#[derive(Clone)]
pub struct Try {
    pub body: Expr,
    pub catches: Vec<Catch>,
    pub finally: Option<Expr>,
}

#[derive(Clone)]
pub struct MatchClause {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
}

/// Type tests used by `match` patterns such as `(:int n)` and typed `catch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeTest {
    Int,
    Float,
    Number,
    String,
    Bool,
    Nil,
    Keyword,
    Symbol,
    Vector,
    List,
    Map,
    Set,
    Function,
    Any,
}

/// Destructuring and match patterns. In `let`/params a pattern never fails (missing parts
/// bind `nil`); in `match` a mismatch moves on to the next clause.
#[derive(Clone)]
pub enum Pattern {
    Ignore,
    Bind(Slot),
    Literal(Value),
    Type(TypeTest, Box<Pattern>),
    Seq {
        items: Vec<Pattern>,
        rest: Option<Box<Pattern>>,
        as_slot: Option<Slot>,
        /// Function parameters: the argument must have exactly as many elements as the
        /// pattern (at least, with a rest binding), else an arity error.
        strict: bool,
    },
    Map {
        entries: Vec<MapEntryPattern>,
        as_slot: Option<Slot>,
    },
    As(Slot, Box<Pattern>),
}

#[derive(Clone)]
pub struct MapEntryPattern {
    pub key: Value,
    pub pattern: Pattern,
    pub default: Option<Expr>,
}

#[derive(Clone)]
pub enum Expr {
    Const(Value),
    Local(Slot),
    Capture(u32),
    /// The closure being run (self-recursion without a reference cycle).
    SelfFn,
    Global(GlobalId, SrcLoc),
    /// Reads a letrec cell (an atom) held in a local or capture.
    CellGet(Box<Expr>),
    If(Box<(Expr, Expr, Expr)>),
    Do(Box<[Expr]>),
    /// Evaluates the expression and binds it by pattern; yields nil.
    Bind(Box<(Pattern, Expr)>),
    SetLocal(Slot, Box<Expr>),
    Call(Box<Call>),
    /// Direct call of a built-in known at compile time.
    CallBuiltin(&'static Builtin, Box<[Expr]>, SrcLoc),
    Prim(PrimOp, Box<(Expr, Expr)>, SrcLoc),
    /// `Prim` whose operands are a local and an integer constant, e.g. `(- n 1)`, `(< i n)`
    /// with the constant second; the interpreter reads the slot in place.
    PrimSlotInt(PrimOp, Slot, i64, SrcLoc),
    /// `Prim` over two locals, e.g. `(< y x)`.
    PrimSlotSlot(PrimOp, Slot, Slot, SrcLoc),
    Prim1(PrimOp1, Box<Expr>, SrcLoc),
    MakeClosure(Arc<Lambda>, Box<[CaptureFrom]>),
    /// Loop with its own slots; `Recur` inside rebinds them and jumps to the top.
    Loop(Box<(Vec<(Slot, Expr)>, Expr)>),
    Recur(Box<[Expr]>, Box<[Slot]>),
    Try(Box<Try>),
    Throw(Box<Expr>, SrcLoc),
    DefGlobal(GlobalId, Box<Expr>),
    Match(Box<(Expr, Vec<MatchClause>)>, SrcLoc),
    Vector(Box<[Expr]>),
    Map(Box<[(Expr, Expr)]>),
    Set(Box<[Expr]>),
    CapCall(Box<CapCall>),
    /// `(parallel [a e1] [b e2] ...)`: evaluates the branches, result is a map keyed by name.
    Parallel(Box<[(Value, Expr)]>),
    /// The plan forms the host observes: `step`, `with-resource`'s release, `defresource`.
    Plan(Box<PlanForm>),
}

/// A plan form: one body expression, and what the host does around it.
#[derive(Clone)]
pub enum PlanForm {
    /// `(step "name" body…)`: the causal chain records a start entry, then an end entry
    /// with the duration and the outcome.
    Step {
        name: Arc<str>,
        body: Expr,
        loc: SrcLoc,
    },
    /// `(with-resource [name Type init] body…)` after `init` was stored in `slot`: runs
    /// `body`, then releases the slot's value however `body` ended (value or throw).
    Release {
        slot: Slot,
        /// `""` when the binding names no type (`[name init]`).
        type_name: Arc<str>,
        body: Expr,
        loc: SrcLoc,
    },
    /// `(defresource Type release-fn)`: `body` evaluates to the release function of `Type`.
    DefResource {
        type_name: Arc<str>,
        body: Expr,
        loc: SrcLoc,
    },
}

impl PlanForm {
    pub fn body(&self) -> &Expr {
        match self {
            PlanForm::Step { body, .. }
            | PlanForm::Release { body, .. }
            | PlanForm::DefResource { body, .. } => body,
        }
    }

    pub fn body_mut(&mut self) -> &mut Expr {
        match self {
            PlanForm::Step { body, .. }
            | PlanForm::Release { body, .. }
            | PlanForm::DefResource { body, .. } => body,
        }
    }

    pub fn loc(&self) -> SrcLoc {
        match self {
            PlanForm::Step { loc, .. }
            | PlanForm::Release { loc, .. }
            | PlanForm::DefResource { loc, .. } => *loc,
        }
    }

    /// The source form's name, for messages.
    pub fn form_name(&self) -> &'static str {
        match self {
            PlanForm::Step { .. } => "step",
            PlanForm::Release { .. } => "with-resource",
            PlanForm::DefResource { .. } => "defresource",
        }
    }
}

/// One arity of a function.
pub struct Arity {
    /// Fixed parameters occupy slots `0..params`; a rest parameter takes slot `params`.
    pub params: u16,
    pub rest: bool,
    /// Slots needed by the frame, parameters included.
    pub frame_size: u32,
    pub body: Expr,
    /// Parameters marked `^{:privacy :sensitive}` (or `^:sensitive`): their slot and how
    /// the source wrote them. The delegation pass taints every value computed from them.
    pub sensitive_params: Vec<(Slot, Arc<str>)>,
    /// Annotated parameter and return types, checked at every call (`None`: unannotated,
    /// nothing to check).
    pub types: Option<Box<ArityTypes>>,
}

/// One annotated parameter: the slot it is bound to, its name as written, its type.
pub struct ParamCheck {
    pub slot: Slot,
    pub name: Arc<str>,
    pub ty: crate::types::Type,
}

/// The run-time type checks of one arity (spec 13: checked at the boundary, gradual inside).
pub struct ArityTypes {
    pub params: Vec<ParamCheck>,
    pub ret: Option<crate::types::Type>,
}

/// A compiled function (all its arities) — the unit the JIT and the L4 cache work on.
pub struct Lambda {
    pub name: Option<Arc<String>>,
    pub arities: Vec<Arity>,
    pub loc: SrcLoc,
    /// Metadata from the source (`^{...}` / docstring), as an RTFS map, or nil.
    pub meta: Value,
    /// Call counter and compiled code, for the JIT tier.
    pub tier: crate::tier::TierSlot,
}

impl Lambda {
    /// The arity that accepts `n` arguments: an exact fixed arity wins over a variadic one.
    #[inline]
    pub fn arity_for(&self, n: usize) -> Option<&Arity> {
        if let [a] = self.arities.as_slice() {
            return (a.params as usize == n || (a.rest && n >= a.params as usize)).then_some(a);
        }
        self.arities
            .iter()
            .find(|a| !a.rest && a.params as usize == n)
            .or_else(|| {
                self.arities
                    .iter()
                    .find(|a| a.rest && n >= a.params as usize)
            })
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().map_or("fn", |s| s.as_str())
    }

    pub fn arity_text(&self) -> String {
        let parts: Vec<String> = self
            .arities
            .iter()
            .map(|a| {
                if a.rest {
                    format!("{}+", a.params)
                } else {
                    a.params.to_string()
                }
            })
            .collect();
        parts.join(" or ")
    }
}

/// A compiled top-level form.
pub struct TopLevel {
    pub expr: Expr,
    /// Slots needed to run `expr` as a frame of its own.
    pub frame_size: u32,
    pub loc: SrcLoc,
}
