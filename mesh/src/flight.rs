//! Single-flight: concurrent resolutions of one name share one registry lookup.
//!
//! The first caller leads (runs the lookup); the others wait for its result. If the leader
//! is cancelled (its future dropped) before finishing, a waiter takes over, so nobody waits
//! forever. Runtime-agnostic (plain wakers), so the mesh core needs no async runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

pub(crate) struct OnceFlight<T> {
    state: Mutex<State<T>>,
}

enum State<T> {
    Idle,
    Running(Vec<Waker>),
    Done(T),
}

enum Turn<T> {
    Lead,
    Done(T),
}

impl<T> Default for OnceFlight<T> {
    fn default() -> Self {
        OnceFlight {
            state: Mutex::new(State::Idle),
        }
    }
}

impl<T: Clone> OnceFlight<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value, computed by `init` in exactly one of the concurrent callers.
    pub(crate) async fn get_or_init<F, Fut>(&self, init: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let mut init = Some(init);
        loop {
            match (WaitTurn { cell: self }).await {
                Turn::Done(v) => return v,
                Turn::Lead => {
                    // A caller leads at most once: leading ends in a return or in this
                    // future being dropped.
                    let Some(f) = init.take() else {
                        continue;
                    };
                    let mut guard = LeadGuard {
                        cell: self,
                        finished: false,
                    };
                    let v = f().await;
                    guard.finish(v.clone());
                    return v;
                }
            }
        }
    }
}

struct WaitTurn<'a, T> {
    cell: &'a OnceFlight<T>,
}

impl<T: Clone> Future for WaitTurn<'_, T> {
    type Output = Turn<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Turn<T>> {
        let mut st = self.cell.lock();
        match &mut *st {
            State::Idle => {
                *st = State::Running(Vec::new());
                Poll::Ready(Turn::Lead)
            }
            State::Running(waiters) => {
                if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
            State::Done(v) => Poll::Ready(Turn::Done(v.clone())),
        }
    }
}

struct LeadGuard<'a, T> {
    cell: &'a OnceFlight<T>,
    finished: bool,
}

impl<T> LeadGuard<'_, T> {
    fn finish(&mut self, v: T) {
        self.finished = true;
        let old = std::mem::replace(
            &mut *self.cell.state.lock().unwrap_or_else(|p| p.into_inner()),
            State::Done(v),
        );
        wake(old);
    }
}

impl<T> Drop for LeadGuard<'_, T> {
    fn drop(&mut self) {
        if !self.finished {
            let old = std::mem::replace(
                &mut *self.cell.state.lock().unwrap_or_else(|p| p.into_inner()),
                State::Idle,
            );
            wake(old);
        }
    }
}

fn wake<T>(old: State<T>) {
    if let State::Running(waiters) = old {
        for w in waiters {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Flag(AtomicUsize);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<F: Future>(f: Pin<&mut F>, flag: &Arc<Flag>) -> Poll<F::Output> {
        let waker = Waker::from(flag.clone());
        f.poll(&mut Context::from_waker(&waker))
    }

    /// A future that is pending until `gate` is set.
    async fn gated(gate: Arc<AtomicUsize>, v: u32) -> u32 {
        std::future::poll_fn(|_| {
            if gate.load(Ordering::SeqCst) > 0 {
                Poll::Ready(v)
            } else {
                Poll::Pending
            }
        })
        .await
    }

    #[test]
    fn waiters_share_the_leaders_result() {
        let cell = OnceFlight::<u32>::default();
        let gate = Arc::new(AtomicUsize::new(0));
        let runs = AtomicUsize::new(0);
        let flag = Arc::new(Flag(AtomicUsize::new(0)));
        let mut a = Box::pin(cell.get_or_init(|| {
            runs.fetch_add(1, Ordering::SeqCst);
            gated(gate.clone(), 1)
        }));
        let mut b = Box::pin(cell.get_or_init(|| {
            runs.fetch_add(1, Ordering::SeqCst);
            gated(gate.clone(), 2)
        }));
        assert!(poll(a.as_mut(), &flag).is_pending());
        assert!(poll(b.as_mut(), &flag).is_pending());
        gate.store(1, Ordering::SeqCst);
        assert_eq!(poll(a.as_mut(), &flag), Poll::Ready(1));
        assert!(flag.0.load(Ordering::SeqCst) >= 1, "the waiter was woken");
        assert_eq!(poll(b.as_mut(), &flag), Poll::Ready(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_cancelled_leader_hands_over_to_a_waiter() {
        let cell = OnceFlight::<u32>::default();
        let gate = Arc::new(AtomicUsize::new(0));
        let flag = Arc::new(Flag(AtomicUsize::new(0)));
        let mut a = Box::pin(cell.get_or_init(|| gated(gate.clone(), 1)));
        let mut b = Box::pin(cell.get_or_init(|| gated(gate.clone(), 2)));
        assert!(poll(a.as_mut(), &flag).is_pending());
        assert!(poll(b.as_mut(), &flag).is_pending());
        drop(a);
        assert!(flag.0.load(Ordering::SeqCst) >= 1, "the waiter was woken");
        gate.store(1, Ordering::SeqCst);
        assert_eq!(poll(b.as_mut(), &flag), Poll::Ready(2));
    }
}
