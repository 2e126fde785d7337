//! The plan forms the host observes: `(step "name" body…)`, `(with-resource [name Type
//! init] body…)` and `(defresource Type release-fn)`. Their bodies are never in tail
//! position: the host acts after them (the step's end entry, the release).

use std::sync::Arc;

use rtfs_ir::expr::{Expr, PlanForm};

use super::{LResult, Lowerer, err};
use crate::convert::loc;
use crate::source::Span;
use crate::syntax::Syntax;

impl Lowerer<'_> {
    pub(super) fn lower_step(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let Some((name, body)) = args.split_first() else {
            return Err(err(
                "syntax",
                "`step` needs a name, e.g. (step \"fetch data\" ...)",
                span,
            ));
        };
        let Some(name) = name.as_str() else {
            return Err(err("syntax", "the name of a `step` is a string", name.span));
        };
        let body = self.lower_body(body, false)?;
        Ok(Expr::Plan(Box::new(PlanForm::Step {
            name: Arc::from(name),
            body,
            loc: loc(span),
        })))
    }

    pub(super) fn lower_with_resource(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let Some((bvec, body)) = args.split_first() else {
            return Err(err(
                "syntax",
                "`with-resource` needs [name Type init] and a body",
                span,
            ));
        };
        let (name, type_name, init) = match bvec.as_vector() {
            Some([name, ty, init]) => match ty.as_symbol() {
                Some(t) => (name, t, init),
                None => {
                    return Err(err(
                        "syntax",
                        "the resource type of `with-resource` is a symbol, e.g. [c Conn (open)]",
                        ty.span,
                    ));
                }
            },
            Some([name, init]) => (name, "", init),
            _ => {
                return Err(err(
                    "syntax",
                    "`with-resource` takes [name Type init]",
                    bvec.span,
                ));
            }
        };
        let Some(name) = name.as_symbol() else {
            return Err(err(
                "syntax",
                "`with-resource` binds a plain name",
                name.span,
            ));
        };
        let init = self.lower(init, false)?;
        let mark = self.ctx().mark();
        let slot = self.ctx().new_slot();
        self.ctx().declare(name, slot, false);
        let body = self.lower_body(body, false);
        self.ctx().close(mark);
        Ok(Expr::Do(
            vec![
                Expr::SetLocal(slot, Box::new(init)),
                Expr::Plan(Box::new(PlanForm::Release {
                    slot,
                    type_name: Arc::from(type_name),
                    body: body?,
                    loc: loc(span),
                })),
            ]
            .into(),
        ))
    }

    pub(super) fn lower_defresource(&mut self, args: &[Syntax], span: Span) -> LResult<Expr> {
        let [ty, release] = args else {
            return Err(err(
                "syntax",
                "`defresource` takes a type name and a release function: (defresource Conn (fn [c] ...))",
                span,
            ));
        };
        let Some(type_name) = ty.as_symbol() else {
            return Err(err(
                "syntax",
                "the type name of `defresource` is a symbol",
                ty.span,
            ));
        };
        let body = self.lower(release, false)?;
        Ok(Expr::Plan(Box::new(PlanForm::DefResource {
            type_name: Arc::from(type_name),
            body,
            loc: loc(span),
        })))
    }
}
