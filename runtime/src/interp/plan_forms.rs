//! `step`, `with-resource` and `defresource` at run time: a step's start and end entries
//! in the causal chain (name, duration, outcome); the release of a resource on every exit
//! of its body; the registration of an RTFS release function for a resource type.

use std::time::Instant;

use rtfs_ir::expr::PlanForm;
use rtfs_ir::{RtError, RtResult, Value};

use super::{Frame, Interp};
use crate::state::ReleaseHook;

/// Error kind of a failed release.
pub const RESOURCE: &str = "resource-error";

fn step_action(
    kind: rtfs_chain::ActionType,
    start_us: u64,
    duration_us: u64,
) -> rtfs_chain::Action {
    rtfs_chain::Action::new(
        kind,
        rtfs_chain::DelegationInfo::decided("step", Vec::new(), rtfs_chain::ExecTarget::LocalPure),
    )
    .with_timing(start_us, duration_us)
}

impl Interp<'_> {
    pub(super) fn eval_plan(&mut self, p: &PlanForm, f: Frame) -> RtResult<Value> {
        self.refuse_effect(&format!("`{}`", p.form_name()))?;
        match p {
            PlanForm::Step { name, body, loc } => {
                let sink = self.st.wiring.chain.clone();
                let start_us = rtfs_chain::now_unix_us();
                let started = Instant::now();
                if let Some(s) = &sink {
                    s.record(step_action(
                        rtfs_chain::ActionType::step_start(&**name),
                        start_us,
                        0,
                    ));
                }
                let r = self.eval(body, f);
                if let Some(s) = &sink {
                    let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    let mut a =
                        step_action(rtfs_chain::ActionType::step_end(&**name), start_us, took);
                    a = match &r {
                        Ok(v) => a.with_output(
                            &rtfs_delegation::l2::canonical_bytes(std::slice::from_ref(v)),
                            s.keeps_raw().then(|| v.pr_str()),
                        ),
                        Err(e) => a.with_error(e.kind(), e.message()),
                    };
                    s.record(a);
                }
                r.map_err(|e| e.at(*loc))
            }
            PlanForm::Release {
                slot,
                type_name,
                body,
                loc,
            } => {
                let r = self.eval(body, f);
                let resource = self.local(f, *slot).clone();
                let released = self.release(type_name, &resource).map_err(|e| e.at(*loc));
                match (r, released) {
                    // The body's own error is the one the program sees.
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(e)) => Err(e),
                    (Ok(v), Ok(())) => Ok(v),
                }
            }
            PlanForm::DefResource {
                type_name, body, ..
            } => {
                let release = self.eval(body, f)?;
                if !matches!(release, Value::Fn(_) | Value::Builtin(_)) {
                    return Err(RtError::expected(
                        "defresource",
                        "a release function",
                        &release,
                    ));
                }
                self.st
                    .resources
                    .insert(type_name.to_string(), ReleaseHook::Rtfs(release));
                Ok(Value::Nil)
            }
        }
    }

    /// Releases `resource` through the hook of `type_name`; a type without one needs none.
    fn release(&mut self, type_name: &str, resource: &Value) -> RtResult<()> {
        let Some(hook) = self.st.resources.get(type_name).cloned() else {
            return Ok(());
        };
        match hook {
            ReleaseHook::Rtfs(f) => {
                rtfs_ir::Env::apply(self, &f, std::slice::from_ref(resource)).map(|_| ())
            }
            ReleaseHook::Host(h) => h(resource).map_err(|e| {
                RtError::new(
                    RESOURCE,
                    format!("releasing the {type_name} resource failed: {e}"),
                )
            }),
        }
        .map_err(|e| {
            if e.kind() == RESOURCE {
                e
            } else {
                RtError::with_data(
                    RESOURCE,
                    format!("releasing the {type_name} resource failed: {}", e.message()),
                    e.into_value(),
                )
            }
        })
    }
}
