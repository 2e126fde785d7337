//! `rtfs-io-runtime`: the one tokio runtime of the host layer.
//!
//! HTTP capability providers, the OpenAI-compatible model client and embedder, and the
//! mesh's registries all run their async I/O on the [`IoRuntime`] they are handed; by
//! default that is [`IoRuntime::shared`], started on first use (a program that never does
//! network I/O never starts it) with two worker threads named `rtfs-io`. A host that runs
//! its own tokio runtime can hand its handle instead ([`IoRuntime::from_handle`]).
//!
//! [`IoRuntime::block_on`] may be called from any thread: a plain thread, a `spawn_blocking`
//! thread, or a worker of a multi-threaded runtime (then through `block_in_place`, so the
//! worker's other tasks move elsewhere); on a current-thread runtime it waits on a helper
//! thread, since blocking that runtime's only thread would stall it.
//!
//! Architecture invariant: host layer only; no core crate may depend on this crate (see
//! scripts/check-layering.sh).

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

/// A handle to the runtime that runs async I/O. Cheap to clone.
#[derive(Clone, Debug)]
pub struct IoRuntime {
    handle: Handle,
}

static SHARED: OnceLock<Result<Runtime, String>> = OnceLock::new();

impl IoRuntime {
    /// The process-wide runtime, started on the first call. Lives until the process exits.
    pub fn shared() -> Result<IoRuntime, String> {
        let rt = SHARED.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("rtfs-io")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the I/O runtime: {e}"))
        });
        match rt {
            Ok(rt) => Ok(IoRuntime {
                handle: rt.handle().clone(),
            }),
            Err(e) => Err(e.clone()),
        }
    }

    /// Runs I/O on a runtime the host already has. It must have I/O and time drivers
    /// enabled (`enable_all`).
    pub fn from_handle(handle: Handle) -> IoRuntime {
        IoRuntime { handle }
    }

    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `fut` to completion on this runtime and waits for it, from any thread.
    pub fn block_on<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        match Handle::try_current() {
            Err(_) => self.handle.block_on(fut),
            Ok(current) if current.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.handle.block_on(fut))
            }
            Ok(_) => std::thread::scope(|s| match s.spawn(|| self.handle.block_on(fut)).join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            }),
        }
    }

    /// Starts `fut` on this runtime without waiting for it.
    pub fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(fut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn shared_is_one_runtime() {
        let a = IoRuntime::shared().unwrap();
        let b = IoRuntime::shared().unwrap();
        let id_a = a.block_on(async { Handle::current().id() });
        let id_b = b.block_on(async { Handle::current().id() });
        assert_eq!(id_a, id_b);
        let name = a.block_on(async {
            tokio::spawn(async { std::thread::current().name().map(str::to_string) })
                .await
                .unwrap()
        });
        assert_eq!(name.as_deref(), Some("rtfs-io"));
    }

    #[test]
    fn block_on_from_a_current_thread_runtime() {
        let io = IoRuntime::shared().unwrap();
        let host = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let v = host.block_on(async {
            io.block_on(async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                7
            })
        });
        assert_eq!(v, 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn block_on_from_a_multi_thread_worker() {
        let io = IoRuntime::shared().unwrap();
        let v = io.block_on(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            8
        });
        assert_eq!(v, 8);
    }

    #[test]
    fn a_host_handle_is_used_as_given() {
        let host = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let io = IoRuntime::from_handle(host.handle().clone());
        let id = io.block_on(async { Handle::current().id() });
        assert_eq!(id, host.handle().id());
    }
}
