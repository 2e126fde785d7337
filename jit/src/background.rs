//! The background compiler: one thread that turns planned groups into code while the
//! program goes on interpreting, then installs the code in the function's tier slot.
//!
//! Planning stays on the calling thread (it reads the runtime's globals, which are not
//! shared); only code generation, the Cranelift compile, the disk write and loading move
//! here. A job that fails or panics rejects the function, as a synchronous compile would.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use rtfs_ir::expr::Lambda;

use crate::plan::Plan;
use crate::{Handle, Shared, key};

/// One group to compile and the function whose slot receives the code.
pub struct Job {
    pub lambda: Arc<Lambda>,
    pub plan: Plan,
    pub key: key::Key,
    pub owner: u64,
    pub generation: u64,
}

/// Jobs queued or running, so callers can wait until the compiler is idle.
#[derive(Default)]
struct InFlight {
    count: Mutex<usize>,
    idle: Condvar,
}

impl InFlight {
    fn add(&self, n: isize) {
        if let Ok(mut c) = self.count.lock() {
            *c = c.saturating_add_signed(n);
            if *c == 0 {
                self.idle.notify_all();
            }
        }
    }
}

pub struct Worker {
    tx: Option<Sender<Job>>,
    in_flight: Arc<InFlight>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(shared: Arc<Shared>) -> std::io::Result<Worker> {
        let (tx, rx) = channel();
        let in_flight = Arc::new(InFlight::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new().name("rtfs-jit".into()).spawn({
            let (in_flight, stop) = (in_flight.clone(), stop.clone());
            move || run(rx, &shared, &in_flight, &stop)
        })?;
        Ok(Worker {
            tx: Some(tx),
            in_flight,
            stop,
            thread: Some(thread),
        })
    }

    /// Queues `job`; gives it back when the thread is gone (the caller compiles it).
    pub fn submit_or_return(&self, job: Job) -> Option<Job> {
        let Some(tx) = &self.tx else {
            return Some(job);
        };
        self.in_flight.add(1);
        match tx.send(job) {
            Ok(()) => None,
            Err(back) => {
                self.in_flight.add(-1);
                Some(back.0)
            }
        }
    }

    /// Blocks until every queued job has been installed or rejected.
    pub fn wait_idle(&self) {
        let Ok(mut c) = self.in_flight.count.lock() else {
            return;
        };
        while *c > 0 {
            match self.in_flight.idle.wait(c) {
                Ok(g) => c = g,
                Err(_) => return,
            }
        }
    }
}

impl Drop for Worker {
    /// Abandons jobs not yet started and waits for the one running (a few milliseconds at
    /// most), so no compile thread outlives the engine that owns its caches.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(rx: Receiver<Job>, shared: &Shared, in_flight: &InFlight, stop: &AtomicBool) {
    while let Ok(job) = rx.recv() {
        if !stop.load(Ordering::Acquire) {
            compile(job, shared);
        }
        in_flight.add(-1);
    }
}

fn compile(job: Job, shared: &Shared) {
    let start = Instant::now();
    let slot = &job.lambda.tier;
    let r = catch_unwind(AssertUnwindSafe(|| shared.build(&job.plan, &job.key)))
        .unwrap_or_else(|_| Err(crate::Reject("the code generator panicked".into())));
    shared.add_compile_time(start);
    match r {
        Ok(code) => {
            shared.count_background();
            slot.install(Arc::new(Handle {
                code,
                owner: job.owner,
                generation: job.generation,
            }))
        }
        Err(e) => {
            shared.record_rejection(&job.lambda, &e);
            slot.reject();
        }
    }
}
