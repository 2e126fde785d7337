//! The per-function hook between the interpreter and a compiled tier: a call counter and
//! the native code, if any. No code generator types live here; the JIT crate implements
//! [`NativeCode`] and the interpreter only ever asks it to run.

use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use crate::func::Env;
use crate::value::Value;

/// Compiled code for one function.
pub trait NativeCode: Send + Sync {
    /// Runs the function on `args` (`captures` are the closure's captured values). `None`
    /// means a guard failed (an argument of another type, overflow, division by zero, the
    /// depth budget, an error raised by a built-in or a callback): the caller re-runs the
    /// call in the interpreter, which gives the exact value or error. Compiled code calls
    /// back through `env` (built-ins taking functions, function values); the caller must
    /// refuse effects inside those callbacks with a [`crate::error::kind::JIT_IMPURE`]
    /// error, so re-running is always safe.
    fn call(
        &self,
        args: &[Value],
        captures: &[Value],
        depth_budget: u32,
        env: &mut dyn Env,
    ) -> Option<Value>;
    /// Whether the code still matches the runtime (`owner`) and the global definitions
    /// (`generation`) it was compiled against; callees and global constants are inlined.
    fn valid(&self, owner: u64, generation: u64) -> bool;
    /// At most how many bytes of native stack one compiled frame uses: the caller sizes
    /// `depth_budget` so compiled recursion cannot overflow the stack.
    fn frame_bytes(&self) -> u32;
}

const COLD: u8 = 0;
const COMPILED: u8 = 1;
const REJECTED: u8 = 2;
const QUEUED: u8 = 3;

/// Lives in every `Lambda`; the interpreter reads `state` (one relaxed load) only when a
/// compiled tier is enabled.
#[derive(Default)]
pub struct TierSlot {
    /// Calls seen while interpreting, for tier-up decisions.
    pub calls: AtomicU32,
    state: AtomicU8,
    code: RwLock<Option<Arc<dyn NativeCode>>>,
}

/// What the slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierState {
    Cold,
    Compiled,
    /// The code generator declined this function (outside the compiled subset).
    Rejected,
    /// A background compilation is under way; calls stay interpreted until it installs.
    Queued,
}

impl TierSlot {
    #[inline]
    pub fn state(&self) -> TierState {
        match self.state.load(Ordering::Acquire) {
            COMPILED => TierState::Compiled,
            REJECTED => TierState::Rejected,
            QUEUED => TierState::Queued,
            _ => TierState::Cold,
        }
    }

    pub fn code(&self) -> Option<Arc<dyn NativeCode>> {
        self.code.read().ok().and_then(|c| c.clone())
    }

    pub fn install(&self, code: Arc<dyn NativeCode>) {
        if let Ok(mut slot) = self.code.write() {
            *slot = Some(code);
            self.state.store(COMPILED, Ordering::Release);
        }
    }

    /// Claims a cold slot for a background compilation; false when another call already
    /// did (or the slot is no longer cold), so a function is queued at most once.
    pub fn queue(&self) -> bool {
        self.state
            .compare_exchange(COLD, QUEUED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub fn reject(&self) {
        if let Ok(mut slot) = self.code.write() {
            *slot = None;
            self.state.store(REJECTED, Ordering::Release);
        }
    }

    /// Forgets compiled code and the verdict (e.g. when the tier setting changes).
    pub fn reset(&self) {
        if let Ok(mut slot) = self.code.write() {
            *slot = None;
            self.state.store(COLD, Ordering::Release);
            self.calls.store(0, Ordering::Relaxed);
        }
    }
}
