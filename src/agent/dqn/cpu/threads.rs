//! One persistent helper thread for the CPU trainer's two-way split ([`Helper::join`]).
//!
//! A thread started per update would pay for its start and for gemm's per-thread buffers
//! every time; the two joins of an update and
//! consecutive updates come within microseconds, so the threads usually meet by spinning,
//! without a system call.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

/// A job lent to the helper thread: a closure on the caller's stack, erased to 'static.
/// Sound because [`Helper::join`] does not return (nor unwind) before the job has finished.
struct JobPtr(*mut (dyn FnMut() + Send + 'static));
// SAFETY: the pointee is `Send`, and only one thread touches it at a time: the poster hands
// it over under the mutex and does not touch it again until the helper reports DONE.
unsafe impl Send for JobPtr {}

const IDLE: u8 = 0;
const POSTED: u8 = 1;
const DONE: u8 = 2;
const QUIT: u8 = 3;
/// Spins before parking.
const SPINS: u32 = 20_000;

struct Shared {
    state: AtomicU8,
    job: Mutex<Option<JobPtr>>,
    panicked: AtomicBool,
    caller: Mutex<Option<Thread>>,
}

/// A persistent helper thread running one job at a time.
pub struct Helper {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Helper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Helper")
    }
}

impl Helper {
    /// Start the thread; `None` when the system refuses one.
    pub fn start() -> Option<Helper> {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            job: Mutex::new(None),
            panicked: AtomicBool::new(false),
            caller: Mutex::new(None),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("liveq-dqn-helper".into())
            .spawn(move || helper_loop(&s))
            .ok()?;
        Some(Helper {
            shared,
            thread: Some(thread),
        })
    }

    /// Runs `a` on the helper thread and `b` on this one; returns when both are done.
    /// A panic in either is re-raised here, after both have finished. `&mut self`: one job
    /// at a time, so no second caller can post while a job is out.
    pub fn join<A: FnOnce() + Send, B: FnOnce() -> R, R>(&mut self, a: A, b: B) -> R {
        let sh = &*self.shared;
        let mut a = Some(a);
        let mut call = move || {
            if let Some(a) = a.take() {
                a()
            }
        };
        let ptr: *mut (dyn FnMut() + Send + '_) = &mut call;
        // SAFETY: lifetime erasure only; the job is finished before `call` goes out of scope
        // (we wait for DONE below whatever `b` does: its panic is caught first).
        let ptr: *mut (dyn FnMut() + Send + 'static) = unsafe { std::mem::transmute(ptr) };
        *sh.caller.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current());
        *sh.job.lock().unwrap_or_else(|p| p.into_inner()) = Some(JobPtr(ptr));
        sh.state.store(POSTED, Ordering::Release);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(b));
        let mut spins = 0u32;
        while sh.state.load(Ordering::Acquire) != DONE {
            if spins < SPINS {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::park_timeout(Duration::from_millis(1));
            }
        }
        sh.state.store(IDLE, Ordering::Release);
        let helper_panicked = sh.panicked.swap(false, Ordering::AcqRel);
        match r {
            Err(p) => std::panic::resume_unwind(p),
            Ok(_) if helper_panicked => panic!("the DQN helper thread panicked"),
            Ok(v) => v,
        }
    }
}

fn helper_loop(sh: &Shared) {
    loop {
        let mut spins = 0u32;
        loop {
            match sh.state.load(Ordering::Acquire) {
                POSTED => break,
                QUIT => return,
                _ if spins < SPINS => {
                    spins += 1;
                    std::hint::spin_loop();
                }
                _ => std::thread::park_timeout(Duration::from_millis(50)),
            }
        }
        let job = sh.job.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(JobPtr(p)) = job {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // SAFETY: the poster keeps the closure alive, and does not touch it, until
                // it sees DONE (stored below, after the call).
                unsafe { (*p)() }
            }));
            sh.panicked.store(ok.is_err(), Ordering::Release);
        }
        sh.state.store(DONE, Ordering::Release);
        if let Some(t) = sh.caller.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            t.unpark();
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.shared.state.store(QUIT, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
