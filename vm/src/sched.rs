//! Scheduling. For now one scheduler: `Vm::run_until_exit` (vm.rs) pops
//! processes from the run queue, runs each for `interp::REDUCTIONS`
//! reductions with its own x-register array, and acts on the `Outcome`:
//! `Yield` → back of the queue; `Wait` → parked in `Shared::parked` (with a
//! timer entry if `receive ... after`); `Normal`/`Crash` → removed from the
//! process table; `Halt` → the VM stops. When the queue is empty it sleeps
//! on a condition variable until the next timer or a wake-up.
//!
//! Issue 3 replaces the `Mutex<VecDeque>` run queue by one
//! `crossbeam_deque::Worker` per scheduler thread plus a global `Injector`,
//! stealing when idle. Nothing else changes: processes are `Box<Process>`
//! moved between queues, senders never touch a receiver's private state,
//! and the wake-up protocol in `process.rs` is already safe with several
//! schedulers.
