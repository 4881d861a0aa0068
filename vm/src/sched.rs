//! Schedulers: one OS thread per core (or `--schedulers N`), each running
//! processes from its own `crossbeam_deque::Worker` (FIFO), with a global
//! `Injector` for processes made runnable outside a scheduler thread, and
//! stealing from the others when idle. `spec/scheduler.md` explains the
//! design and the constants; `Vm::run_until_exit` (vm.rs) starts the
//! threads and `Vm::scheduler_loop` is one scheduler.
//!
//! Where a runnable process goes (`Vm::enqueue`): onto the local queue of
//! the scheduler thread that made it runnable (a send, a spawn, a yield, a
//! timer it fired), else onto the injector.
//!
//! Parking without lost wake-ups (a Dekker handshake with two SeqCst
//! fences): an idle scheduler takes the sleep lock, counts itself in
//! `sleepers`, fences, looks at every queue once more and only then waits
//! on the condition variable; an enqueuer pushes, fences, and if it reads
//! `sleepers > 0` takes the sleep lock and notifies. Either the sleeper sees
//! the work or the enqueuer sees the sleeper (and, holding the lock,
//! cannot notify before the sleeper waits).
//!
//! Timers: one sleeper at a time (the "timer waiter") waits with a timeout
//! until the next deadline; the others wait without one. A new timer
//! earlier than the known next deadline wakes the sleepers so the timer
//! waiter re-arms. Whoever is awake fires due timers (a relaxed atomic
//! read of the next deadline keeps the timer lock off the common path).

use crate::process::Process;
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Every `FAIRNESS_TICK`-th slice a scheduler looks at the injector before
/// its local queue, so processes woken from outside never starve behind a
/// busy local queue (the same trick as Go's runtime, with the same 61).
pub const FAIRNESS_TICK: u32 = 61;

/// Stack of a scheduler thread: the interpreter does not recurse on the
/// program's nesting, but BIFs walking deep terms and the printer may; the
/// main thread has 8 MB, so the others get the same. Reserved, not committed.
pub const SCHED_STACK: usize = 8 << 20;

/// The largest `--schedulers` value accepted (BEAM: 1024).
pub const MAX_SCHEDULERS: usize = 1024;

/// The reduction budget of one time slice: `interp::REDUCTIONS` unless the
/// environment variable `MINIERL_REDUCTIONS` sets another (1 to 10 for the
/// stress mode of the test suite: every call, return and back-edge becomes
/// a possible switch).
pub fn budget_from_env() -> i64 {
    std::env::var("MINIERL_REDUCTIONS")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(crate::interp::REDUCTIONS)
}

static DEFAULT_SCHEDULERS: AtomicUsize = AtomicUsize::new(0);

/// `--schedulers N`: the number of schedulers of every VM of this OS
/// process (a VM's own `Scheds::count`, when set, wins).
pub fn set_default_schedulers(n: usize) {
    DEFAULT_SCHEDULERS.store(n, Ordering::Relaxed);
}

/// The number of schedulers by default: `--schedulers N`, else one per core.
pub fn default_schedulers() -> usize {
    match DEFAULT_SCHEDULERS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        n => n,
    }
}

struct SleepState {
    /// A sleeper waits with a timeout for the next timer.
    timer_waiter: bool,
}

/// The scheduler state shared by the threads of one VM.
pub struct Scheds {
    pub injector: Injector<Box<Process>>,
    sleep: Mutex<SleepState>,
    cv: Condvar,
    /// Schedulers waiting (or about to wait) on `cv`.
    pub sleepers: AtomicUsize,
    /// Set when the VM halts: every scheduler returns.
    pub stop: AtomicBool,
    /// Which run of `run_until_exit` the threads belong to (the tests and
    /// benchmarks run several programs on one VM).
    pub epoch: AtomicU64,
    /// Next timer deadline in ns since `Vm::started` (u64::MAX: none).
    pub next_due: AtomicU64,
    /// `--schedulers N` (0: one per core).
    pub count: AtomicUsize,
    /// Reductions per slice (see `budget_from_env`).
    pub budget: i64,
}

/// What belongs to one scheduler thread: its run queue and its `next`
/// slot.
///
/// `next` holds a process made runnable by this scheduler when nothing else
/// was waiting in its queue: it would be the next one run anyway, and the
/// slot saves a deque push and pop (one atomic read-modify-write) on the
/// send → wake → run path, where a message is handed to a waiting receiver
/// that then runs on the same core. As soon as a second process becomes
/// runnable, both go to the queue in order, so the order of runs, which
/// process other schedulers can steal, and the waking of other schedulers
/// are the same as without the slot. A process alone in the slot cannot
/// be stolen, but it is never kept there longer than the slice running
/// now, which is how long a process alone in the queue already waits
/// before another scheduler is woken.
pub struct Local {
    pub worker: Worker<Box<Process>>,
    next: Cell<Option<Box<Process>>>,
}

impl Local {
    pub fn new(worker: Worker<Box<Process>>) -> Local {
        Local { worker, next: Cell::new(None) }
    }
}

thread_local! {
    /// The scheduler this thread is: (address of its `Scheds`, its `Local`).
    static LOCAL: Cell<(usize, *const Local)> = const { Cell::new((0, std::ptr::null())) };
}

impl Scheds {
    pub fn new() -> Scheds {
        Scheds {
            injector: Injector::new(),
            sleep: Mutex::new(SleepState { timer_waiter: false }),
            cv: Condvar::new(),
            sleepers: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            next_due: AtomicU64::new(u64::MAX),
            count: AtomicUsize::new(0),
            budget: budget_from_env(),
        }
    }

    /// Make this thread a scheduler of `self` with `local` as its run
    /// queue (until `leave`).
    pub fn enter(&self, local: &Local) {
        LOCAL.with(|l| l.set((self as *const Scheds as usize, local as *const _)));
    }
    pub fn leave(&self) {
        LOCAL.with(|l| l.set((0, std::ptr::null())));
    }

    /// Queue a runnable process (see the module docs).
    pub fn push(&self, p: Box<Process>) {
        let me = self as *const Scheds as usize;
        let (owner, w) = LOCAL.with(|l| l.get());
        let surplus = if owner == me && !w.is_null() {
            // SAFETY: `w` is the `Local` of this thread's running scheduler
            // loop, which outlives every call made from it (`leave` clears
            // it before the `Local` is dropped); a `Local` is used only by
            // its own thread.
            let l = unsafe { &*w };
            // The scheduler runs the process itself when it is next in line;
            // wake another one only if there is more work than that.
            match l.next.take() {
                None if l.worker.is_empty() => {
                    l.next.set(Some(p));
                    false
                }
                None => {
                    l.worker.push(p);
                    true
                }
                Some(q) => {
                    // Two runnable: both go to the queue in the order they
                    // came, so the older is the one run next here and the
                    // newer the one another scheduler steals, as without
                    // the slot.
                    l.worker.push(q);
                    l.worker.push(p);
                    true
                }
            }
        } else {
            self.injector.push(p);
            true
        };
        if surplus {
            std::sync::atomic::fence(Ordering::SeqCst);
            if self.sleepers.load(Ordering::SeqCst) > 0 {
                let _g = self.sleep.lock().unwrap();
                self.cv.notify_one();
            }
        }
    }

    /// Find a runnable process: the `next` slot, the local queue, the
    /// injector, then the others' queues.
    pub fn find(&self, l: &Local, stealers: &[Stealer<Box<Process>>], me: usize, tick: u32) -> Option<Box<Process>> {
        let w = &l.worker;
        if tick % FAIRNESS_TICK == 0 {
            if let Some(p) = self.steal_injector(w) {
                return Some(p);
            }
        }
        if let Some(p) = l.next.take() {
            return Some(p);
        }
        if let Some(p) = w.pop() {
            return Some(p);
        }
        if let Some(p) = self.steal_injector(w) {
            return Some(p);
        }
        let n = stealers.len();
        loop {
            let mut retry = false;
            for k in 1..n {
                match stealers[(me + k) % n].steal_batch_and_pop(w) {
                    Steal::Success(p) => return Some(p),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn steal_injector(&self, w: &Worker<Box<Process>>) -> Option<Box<Process>> {
        loop {
            match self.injector.steal_batch_and_pop(w) {
                Steal::Success(p) => return Some(p),
                Steal::Empty => return None,
                Steal::Retry => {}
            }
        }
    }

    /// Park the calling scheduler until there may be work, the stop flag,
    /// or `deadline` (ns since start, u64::MAX: none) when it becomes the
    /// timer waiter. `now_ns` is the current time in the same unit.
    pub fn sleep(&self, stealers: &[Stealer<Box<Process>>], now_ns: impl Fn() -> u64) {
        let mut g = self.sleep.lock().unwrap();
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        std::sync::atomic::fence(Ordering::SeqCst);
        let work = !self.injector.is_empty() || stealers.iter().any(|s| !s.is_empty());
        if work || self.stop.load(Ordering::SeqCst) {
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let due = self.next_due.load(Ordering::SeqCst);
        if due != u64::MAX && !g.timer_waiter {
            let now = now_ns();
            if due > now {
                g.timer_waiter = true;
                let (g2, _) = self.cv.wait_timeout(g, std::time::Duration::from_nanos(due - now)).unwrap();
                g = g2;
                g.timer_waiter = false;
            }
        } else {
            g = self.cv.wait(g).unwrap();
        }
        drop(g);
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// A timer at `due_ns` was added (the caller holds the timers lock):
    /// lower the next deadline and, if this timer is the earliest, wake the
    /// sleepers so the timer waiter re-arms (or one becomes it). Without
    /// that a scheduler waiting for a later deadline (a stale 5-second
    /// `gen_server:call` timeout, say) would sleep through this one while
    /// the others wait with no timeout at all.
    pub fn timer_added(&self, due_ns: u64) {
        let prev = self.next_due.fetch_min(due_ns, Ordering::SeqCst);
        if due_ns < prev && self.sleepers.load(Ordering::SeqCst) > 0 {
            let _g = self.sleep.lock().unwrap();
            self.cv.notify_all();
        }
    }

    /// Tests: return once every scheduler counted in `sleepers` is waiting
    /// on the condition variable (they count themselves under the lock).
    #[cfg(test)]
    pub(crate) fn sync_with_sleepers(&self) {
        drop(self.sleep.lock().unwrap());
    }

    /// Stop every scheduler (the VM halts).
    pub fn halt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _g = self.sleep.lock().unwrap();
        self.cv.notify_all();
    }
}

impl Default for Scheds {
    fn default() -> Self {
        Scheds::new()
    }
}
