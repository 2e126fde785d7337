//! Cancellation of the branches of a `parallel`: when one branch fails, the others stop at
//! their next capability or delegated call, and a provider call in flight is abandoned.
//! Tokens nest, so cancelling an outer `parallel` reaches the branches of an inner one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rtfs_ir::RtError;

/// Error kind of work stopped because a sibling branch failed.
pub const CANCELLED: &str = "cancelled";

#[derive(Debug, Default)]
pub struct CancelToken {
    flag: AtomicBool,
    parent: Option<Arc<CancelToken>>,
}

impl CancelToken {
    pub fn child_of(parent: Option<Arc<CancelToken>>) -> Arc<CancelToken> {
        Arc::new(CancelToken {
            flag: AtomicBool::new(false),
            parent,
        })
    }

    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Release);
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Acquire) || self.parent.as_ref().is_some_and(|p| p.is_cancelled())
    }

    pub fn error() -> RtError {
        RtError::new(
            CANCELLED,
            "cancelled: another branch of the enclosing `parallel` failed",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelling_a_parent_reaches_its_children() {
        let outer = CancelToken::child_of(None);
        let inner = CancelToken::child_of(Some(outer.clone()));
        let sibling = CancelToken::child_of(Some(outer.clone()));
        assert!(!inner.is_cancelled());
        inner.cancel();
        assert!(inner.is_cancelled());
        assert!(!outer.is_cancelled() && !sibling.is_cancelled());
        outer.cancel();
        assert!(sibling.is_cancelled());
    }
}
