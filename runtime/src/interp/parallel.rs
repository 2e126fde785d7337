//! `(parallel [a e1] [b e2] …)`: the branches run at once, one host thread each, so their
//! capability calls and delegated calls overlap. Each branch evaluates in a fork of the
//! state ([`State::fork`]) with a copy of the enclosing frame; the result map keeps the
//! written order. The first branch to fail cancels the others (they stop at their next
//! capability or delegated call, abandoning a provider call in flight) and its error is
//! the form's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rtfs_ir::error::kind;
use rtfs_ir::expr::Expr;
use rtfs_ir::{RtError, RtResult, Value};

use super::{Frame, Interp, RED_ZONE, SEGMENT};
use crate::cancel::CancelToken;
use crate::state::{Output, State};

/// Native stack of a branch thread before `stacker` adds segments.
const BRANCH_STACK: usize = 8 * 1024 * 1024;

struct Branch {
    result: RtResult<Value>,
    output: Option<String>,
}

impl Interp<'_> {
    pub(super) fn eval_parallel(
        &mut self,
        branches: &[(Value, Expr)],
        f: Frame,
    ) -> RtResult<Value> {
        if branches.len() < 2 {
            let mut out = rtfs_ir::Map::new();
            for (name, x) in branches {
                let v = self.eval(x, f)?;
                out.insert(name.clone(), v);
            }
            return Ok(Value::Map(Arc::new(out)));
        }
        self.refuse_effect("`parallel`")?;
        self.check_cancelled()?;
        let group = CancelToken::child_of(self.st.wiring.cancel.clone());
        let first_failed = AtomicUsize::new(usize::MAX);
        let (depth, sensitive) = (self.depth, self.sensitive_scope);
        let stack = &self.stack;
        let parent: &State = self.st;
        let outcomes: Vec<RtResult<Branch>> = std::thread::scope(|s| {
            let handles: Vec<_> = branches
                .iter()
                .enumerate()
                .map(|(i, (_, x))| {
                    let (group, first_failed) = (&group, &first_failed);
                    let mut st = parent.fork(group.clone());
                    let stack = stack.clone();
                    std::thread::Builder::new()
                        .name(format!("rtfs-parallel-{i}"))
                        .stack_size(BRANCH_STACK)
                        .spawn_scoped(s, move || {
                            let mut it = Interp::new(&mut st);
                            it.stack = stack;
                            it.depth = depth;
                            it.sensitive_scope = sensitive;
                            let result = stacker::maybe_grow(RED_ZONE, SEGMENT, || it.eval(x, f));
                            if result.is_err()
                                && first_failed
                                    .compare_exchange(
                                        usize::MAX,
                                        i,
                                        Ordering::AcqRel,
                                        Ordering::Acquire,
                                    )
                                    .is_ok()
                            {
                                group.cancel();
                            }
                            let output = match std::mem::replace(&mut st.output, Output::Stdout) {
                                Output::Buffer(b) => Some(b),
                                Output::Stdout => None,
                            };
                            Branch { result, output }
                        })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    Ok(h) => h.join().map_err(|_| {
                        RtError::new(kind::IO, "internal: a `parallel` branch panicked")
                    }),
                    Err(e) => Err(RtError::new(
                        kind::IO,
                        format!("cannot start a `parallel` branch thread: {e}"),
                    )),
                })
                .collect()
        });
        let mut out = rtfs_ir::Map::new();
        let mut failure: Option<RtError> = None;
        let failed_at = first_failed.load(Ordering::Acquire);
        for (i, ((name, _), outcome)) in branches.iter().zip(outcomes).enumerate() {
            let b = match outcome {
                Ok(b) => b,
                Err(e) => {
                    failure.get_or_insert(e);
                    continue;
                }
            };
            if let Some(text) = b.output.filter(|t| !t.is_empty()) {
                self.st.write_out(&text)?;
            }
            match b.result {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(e) if i == failed_at => failure = Some(e),
                Err(_) => {}
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(Value::Map(Arc::new(out))),
        }
    }
}
