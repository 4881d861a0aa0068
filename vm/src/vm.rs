//! The VM object: the code server, the process table, the run queue and
//! timers, the code path and autoloading. One `Vm` is leaked per run
//! (`&'static`), so processes and code can point at it freely.
//!
//! Architecture invariant: only `CodeServer::commit/delete/purge_old` change
//! the export table, and autoloading goes through `autoload`, which is
//! serialised so a module is never loaded twice by a race.

use crate::atom::{self, Atom};
use crate::bif;
use crate::code::{CodeServer, Mfa, Special};
use crate::interp::{self, Outcome};
use crate::op::Op;
use crate::process::{Class, Exc, Message, MsgKind, Process, Shared, EXITED, RUNNABLE, RUNNING, WAITING};
use crate::sched::Scheds;
use crate::term::Term;
use hashbrown::HashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// Compiles a source file into a module (set by the binary; the VM itself
/// does not depend on the compiler's API).
pub type CompileFn = fn(path: &std::path::Path) -> Result<minierl_bytecode::Module, String>;

/// How the main process ended.
#[derive(Debug)]
pub enum MainExit {
    Normal,
    Crash { class: Class, reason: Term, trace: Term },
    Halt(i32),
}

/// What a timer does when it is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// Wake a process waiting in `receive ... after` (by pid).
    Wake(u64),
    /// Fire the message timer with this reference number.
    Send(u64),
}

/// A pending `send_after`/`start_timer`: the message, copied out of the
/// process that set it.
struct MsgTimer {
    due: Instant,
    /// A pid number, or a registered name resolved when the timer fires.
    dest: Result<u64, Atom>,
    msg: Message,
}

/// Options of `spawn_link`/`spawn_monitor`: set up before the new process
/// can run, so it cannot end unseen.
#[derive(Clone, Copy, Default)]
pub struct SpawnOpts {
    /// Link the new process to this one.
    pub link: Option<u64>,
    /// A monitor on the new process: (reference number, watcher pid).
    pub monitor: Option<(u64, u64)>,
}

/// Per-VM boot code: tiny op sequences new processes start in.
struct Boot {
    /// `erlang:apply(x0, x1, x2)` as a tail call.
    apply3: Box<[Op]>,
    /// Call the fun in x0 with no arguments.
    fun0: Box<[Op]>,
}

/// Shards of the process table: a send looks its target up under the read
/// lock of one shard (pid modulo `PROC_SHARDS`), so no lock is global and
/// consecutive pids (spawned together, often talking together) fall into
/// different shards. 64 shards: far more than cores, a few KB in all.
pub const PROC_SHARDS: usize = 64;

/// The process table: pid → the shared part of the process.
struct ProcTable {
    shards: Box<[RwLock<HashMap<u64, Arc<Shared>>>]>,
}

impl ProcTable {
    fn new() -> ProcTable {
        ProcTable { shards: (0..PROC_SHARDS).map(|_| RwLock::new(HashMap::new())).collect() }
    }
    fn shard(&self, pid: u64) -> &RwLock<HashMap<u64, Arc<Shared>>> {
        &self.shards[pid as usize % PROC_SHARDS]
    }
    fn get(&self, pid: u64) -> Option<Arc<Shared>> {
        self.shard(pid).read().unwrap().get(&pid).cloned()
    }
    fn insert(&self, pid: u64, sh: Arc<Shared>) {
        self.shard(pid).write().unwrap().insert(pid, sh);
    }
    fn remove(&self, pid: u64) {
        self.shard(pid).write().unwrap().remove(&pid);
    }
    /// Every live pid (not exiting), in creation order.
    fn pids(&self) -> Vec<u64> {
        let mut v: Vec<u64> = Vec::new();
        for s in self.shards.iter() {
            let s = s.read().unwrap();
            v.extend(s.iter().filter(|(_, sh)| sh.status.load(Ordering::Acquire) != EXITED).map(|(&k, _)| k));
        }
        v.sort_unstable();
        v
    }
}

pub struct Vm {
    pub code: CodeServer,
    procs: ProcTable,
    registered: RwLock<HashMap<Atom, u64>>,
    /// Run queues, parking and the halt flag (sched.rs).
    pub sched: Scheds,
    /// How `run_until_exit` ended, set by the scheduler that saw it.
    result: Mutex<Option<MainExit>>,
    timers: Mutex<BinaryHeap<Reverse<(Instant, Timer)>>>,
    /// Timers of `erlang:send_after/3` and `start_timer/3` not yet fired,
    /// by reference number.
    msg_timers: Mutex<HashMap<u64, MsgTimer>>,
    next_pid: AtomicU64,
    next_ref: AtomicU64,
    /// Folders searched for `NAME.mrl` / `NAME.mrlb` by autoloading.
    pub code_path: RwLock<Vec<PathBuf>>,
    pub compiler: RwLock<Option<CompileFn>>,
    /// Embedded compiled modules (the stdlib): name → file bytes.
    pub embedded: RwLock<Vec<(&'static str, &'static [u8])>>,
    autoload_lock: Mutex<()>,
    boot: Boot,
    pub started: Instant,
    /// Tests: when set, `run_until_exit` records the main process's result
    /// (`Debug` text) and memory in `last_exit`.
    pub capture: std::sync::atomic::AtomicBool,
    pub last_exit: Mutex<Option<(String, usize)>>,
}

// SAFETY: the boot ops are immutable after construction; everything else is
// behind locks or atomics.
unsafe impl Sync for Vm {}
unsafe impl Send for Vm {}

impl Vm {
    /// A new VM with every BIF registered; leaked so code can point at it.
    pub fn new() -> &'static Vm {
        let code = CodeServer::new();
        for table in bif::ALL {
            for d in table.iter() {
                code.register_bif(Mfa(atom::intern(d.module), atom::intern(d.function), d.arity), d.fun, d.special);
            }
        }
        let apply3 = code.export(Mfa(atom::ERLANG, atom::APPLY, 3));
        debug_assert!(apply3.special == Special::Apply3);
        let boot = Boot {
            apply3: vec![Op::CallExtOnly { arity: 3, export: apply3 }].into_boxed_slice(),
            fun0: vec![Op::CallFunOnly { arity: 0 }].into_boxed_slice(),
        };
        Box::leak(Box::new(Vm {
            code,
            procs: ProcTable::new(),
            registered: RwLock::new(HashMap::new()),
            sched: Scheds::new(),
            result: Mutex::new(None),
            timers: Mutex::new(BinaryHeap::new()),
            msg_timers: Mutex::new(HashMap::new()),
            next_pid: AtomicU64::new(80),
            next_ref: AtomicU64::new(1),
            code_path: RwLock::new(Vec::new()),
            compiler: RwLock::new(None),
            embedded: RwLock::new(Vec::new()),
            autoload_lock: Mutex::new(()),
            boot,
            started: Instant::now(),
            capture: std::sync::atomic::AtomicBool::new(false),
            last_exit: Mutex::new(None),
        }))
    }

    /// A VM for unit tests (each test gets its own; they leak a little).
    pub fn new_for_tests() -> &'static Vm {
        Vm::new()
    }

    pub fn make_ref(&self) -> u64 {
        self.next_ref.fetch_add(1, Ordering::Relaxed)
    }

    /// Load module `m` from the embedded stdlib or the code path if it is
    /// not loaded. True if it has current code afterwards.
    pub fn autoload(&self, m: Atom) -> bool {
        if self.code.slots(m).current.is_some() {
            return true;
        }
        let _g = self.autoload_lock.lock().unwrap();
        if self.code.slots(m).current.is_some() {
            return true;
        }
        let name = m.name();
        let embedded = self.embedded.read().unwrap().iter().find(|(n, _)| *n == name).map(|e| e.1);
        if let Some(bytes) = embedded {
            return crate::loader::load_bytes(&self.code, bytes).is_ok();
        }
        let path = self.code_path.read().unwrap().clone();
        for dir in path {
            let src = dir.join(format!("{name}.mrl"));
            let obj = dir.join(format!("{name}.mrlb"));
            if obj.is_file() {
                let newer = match (
                    std::fs::metadata(&obj).and_then(|m| m.modified()),
                    std::fs::metadata(&src).and_then(|m| m.modified()),
                ) {
                    (Ok(o), Ok(s)) => o >= s,
                    (Ok(_), Err(_)) => true,
                    _ => false,
                };
                if newer {
                    if let Ok(bytes) = std::fs::read(&obj) {
                        if crate::loader::load_bytes(&self.code, &bytes).is_ok() {
                            return true;
                        }
                    }
                }
            }
            if src.is_file() {
                let Some(compile) = *self.compiler.read().unwrap() else { return false };
                match compile(&src) {
                    Ok(module) => {
                        if module.name() != name {
                            return false;
                        }
                        return crate::loader::load(&self.code, &module).is_ok();
                    }
                    Err(msg) => {
                        eprintln!("{msg}");
                        return false;
                    }
                }
            }
        }
        crate::builtin::load(self, m)
    }

    fn new_process(&'static self) -> Process {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let p = Process::new(self, pid);
        self.procs.insert(pid, p.shared.clone());
        p
    }

    /// `spawn(M, F, Args)`: the new process applies M:F to the (copied)
    /// args. Returns its pid.
    pub fn spawn_mfa(&'static self, m: Term, f: Term, args: Term) -> u64 {
        self.spawn_mfa_opts(m, f, args, SpawnOpts::default())
    }

    /// `spawn(M, F, Args)` with links or monitors.
    pub fn spawn_mfa_opts(&'static self, m: Term, f: Term, args: Term, opts: SpawnOpts) -> u64 {
        let mut p = self.new_process();
        self.apply_spawn_opts(&p, opts);
        let m2 = crate::heap::copy_term(m, &mut p.heap);
        let f2 = crate::heap::copy_term(f, &mut p.heap);
        let a2 = crate::heap::copy_term(args, &mut p.heap);
        if let (Some(ma), Some(fa)) = (m.as_atom(), f.as_atom()) {
            p.initial_call = (ma, fa, args.list_length().unwrap_or(0) as u8);
        }
        interp::setup_call(&mut p, self.boot.apply3.as_ptr(), &[m2, f2, a2]);
        let pid = p.pid;
        self.enqueue(Box::new(p));
        pid
    }

    /// `spawn(Fun)`.
    pub fn spawn_fun(&'static self, fun: Term) -> u64 {
        self.spawn_fun_opts(fun, SpawnOpts::default())
    }

    /// `spawn(Fun)` with links or monitors.
    pub fn spawn_fun_opts(&'static self, fun: Term, opts: SpawnOpts) -> u64 {
        let mut p = self.new_process();
        self.apply_spawn_opts(&p, opts);
        let f2 = crate::heap::copy_term(fun, &mut p.heap);
        interp::setup_call(&mut p, self.boot.fun0.as_ptr(), &[f2]);
        let pid = p.pid;
        self.enqueue(Box::new(p));
        pid
    }

    fn apply_spawn_opts(&self, p: &Process, opts: SpawnOpts) {
        let mut l = p.shared.links.lock().unwrap();
        if let Some(parent) = opts.link {
            if let Some(sh) = self.shared_of(parent) {
                sh.links.lock().unwrap().links.push(p.pid);
                l.links.push(parent);
            }
        }
        if let Some((r, w)) = opts.monitor {
            l.monitors.push((r, w, None));
        }
    }

    /// The shared part of a live process (`process_info`).
    pub fn shared_of_pid(&self, pid: u64) -> Option<Arc<Shared>> {
        self.shared_of(pid)
    }

    fn shared_of(&self, pid: u64) -> Option<Arc<Shared>> {
        self.procs.get(pid)
    }

    /// Link process `me` (the caller) to `other`. False if `other` does not
    /// exist (or has ended).
    pub fn link(&self, me: &Process, other: u64) -> bool {
        if other == me.pid {
            return true;
        }
        let Some(sh) = self.shared_of(other) else { return false };
        let mut ol = sh.links.lock().unwrap();
        if ol.dead {
            return false;
        }
        if !ol.links.contains(&me.pid) {
            ol.links.push(me.pid);
        }
        drop(ol);
        let mut ml = me.shared.links.lock().unwrap();
        if !ml.links.contains(&other) {
            ml.links.push(other);
        }
        true
    }

    /// Remove the link between `me` and `other`, if any.
    pub fn unlink(&self, me: &Process, other: u64) {
        me.shared.links.lock().unwrap().links.retain(|&l| l != other);
        if let Some(sh) = self.shared_of(other) {
            sh.links.lock().unwrap().links.retain(|&l| l != me.pid);
        }
    }

    /// Monitor `target` from `watcher` with reference number `r` (`name`:
    /// monitored by that registered name). False if `target` does not
    /// exist (the caller then sends `noproc`).
    pub fn monitor(&self, watcher: u64, target: u64, r: u64, name: Option<Atom>) -> bool {
        let Some(sh) = self.shared_of(target) else { return false };
        let mut l = sh.links.lock().unwrap();
        if l.dead {
            return false;
        }
        l.monitors.push((r, watcher, name));
        true
    }

    /// Remove monitor `r` from `target`; true if it was still there.
    pub fn demonitor(&self, target: u64, r: u64) -> bool {
        let Some(sh) = self.shared_of(target) else { return false };
        let mut l = sh.links.lock().unwrap();
        let n = l.monitors.len();
        l.monitors.retain(|m| m.0 != r);
        l.monitors.len() != n
    }

    /// Send an exit signal with `reason` from `from` to process `to` (see
    /// `Process::take_inbox` for what the receiver does with it).
    pub fn send_exit(&self, from: u64, to: u64, reason: Term, link: bool) {
        if let Some(sh) = self.shared_of(to) {
            if let Some(p) = sh.deliver(Message::copy(MsgKind::Exit { from, link }, reason)) {
                self.enqueue(p);
            }
        }
    }

    /// Deliver `msg` (already copied out of any process) to `to`.
    pub fn deliver(&self, to: u64, msg: Message) {
        if let Some(sh) = self.shared_of(to) {
            if let Some(p) = sh.deliver(msg) {
                self.enqueue(p);
            }
        }
    }

    /// `erlang:send_after/3` and `start_timer/3`: deliver `msg` to `dest`
    /// in `ms` milliseconds; `r` is the timer's reference number.
    pub fn start_msg_timer(&self, r: u64, ms: u64, dest: Result<u64, Atom>, msg: Term) {
        let due = Instant::now() + std::time::Duration::from_millis(ms);
        self.msg_timers.lock().unwrap().insert(r, MsgTimer { due, dest, msg: Message::copy(MsgKind::Msg, msg) });
        self.add_timer(due, Timer::Send(r));
    }

    fn ns_since_start(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.started).as_nanos().min(u64::MAX as u128 - 1) as u64
    }

    fn add_timer(&self, due: Instant, what: Timer) {
        let ns = self.ns_since_start(due);
        let mut t = self.timers.lock().unwrap();
        t.push(Reverse((due, what)));
        // Under the timers lock, so `fire_timers` never overwrites a newer
        // minimum with an older peek.
        self.sched.timer_added(ns);
    }

    /// `erlang:cancel_timer/1`: the milliseconds that were left, if the
    /// timer had not fired.
    pub fn cancel_msg_timer(&self, r: u64) -> Option<u64> {
        let t = self.msg_timers.lock().unwrap().remove(&r)?;
        Some(t.due.saturating_duration_since(Instant::now()).as_millis() as u64)
    }

    /// `erlang:read_timer/1`.
    pub fn read_msg_timer(&self, r: u64) -> Option<u64> {
        let t = self.msg_timers.lock().unwrap();
        t.get(&r).map(|t| t.due.saturating_duration_since(Instant::now()).as_millis() as u64)
    }

    pub fn enqueue(&self, p: Box<Process>) {
        p.shared.status.store(RUNNABLE, Ordering::Release);
        self.sched.push(p);
    }

    /// The pids of all live processes, in creation order (`processes/0`).
    pub fn pids(&self) -> Vec<u64> {
        self.procs.pids()
    }

    /// `is_process_alive/1`. A process whose exit has begun (`EXITED`) is
    /// not alive, but the answer waits until `exit_process` is done: so
    /// whoever got its `'DOWN'` or exit signal (even through a third
    /// process) sees it dead, and whoever sees it dead has its `'DOWN'` in
    /// the inbox already, as in BEAM. The wait is on another scheduler
    /// finishing a bounded piece of work (with one scheduler it never
    /// happens: the exit ran to its end before the caller was scheduled).
    pub fn is_alive(&self, pid: u64) -> bool {
        let Some(sh) = self.procs.get(pid) else { return false };
        if sh.status.load(Ordering::SeqCst) != EXITED {
            return true;
        }
        drop(sh);
        while self.procs.get(pid).is_some() {
            std::thread::yield_now();
        }
        false
    }

    pub fn register(&self, name: Atom, pid: u64) -> bool {
        let mut r = self.registered.write().unwrap();
        if r.contains_key(&name) || r.values().any(|&v| v == pid) {
            return false;
        }
        // The name is also kept with the process, so that its exit only
        // touches the registry when it has a name.
        let Some(sh) = self.shared_of(pid) else { return false };
        if sh.status.load(Ordering::SeqCst) == EXITED {
            return false;
        }
        sh.name.store(name.0, Ordering::SeqCst);
        r.insert(name, pid);
        // `exit_process` sets EXITED, then takes the name: if it started
        // exiting meanwhile it may have missed the name, so undo it here.
        if sh.status.load(Ordering::SeqCst) == EXITED {
            r.remove(&name);
            let _ = sh.name.compare_exchange(name.0, crate::process::NO_NAME, Ordering::SeqCst, Ordering::SeqCst);
            return false;
        }
        true
    }
    pub fn unregister(&self, name: Atom) -> bool {
        let Some(pid) = self.registered.write().unwrap().remove(&name) else { return false };
        if let Some(sh) = self.shared_of(pid) {
            let _ = sh.name.compare_exchange(name.0, crate::process::NO_NAME, Ordering::AcqRel, Ordering::Acquire);
        }
        true
    }
    /// All registered names (`registered/0`).
    pub fn registered_names(&self) -> Vec<Atom> {
        let mut v: Vec<Atom> = self.registered.read().unwrap().keys().copied().collect();
        v.sort_unstable();
        v
    }
    pub fn whereis(&self, name: Atom) -> Option<u64> {
        self.registered.read().unwrap().get(&name).copied()
    }

    /// `To ! Msg` from process `from`.
    pub fn send(&self, from: &mut Process, to: Term, msg: Term) -> Result<(), Exc> {
        let pid = if let Some(pid) = to.pid_number() {
            pid
        } else if let Some(name) = to.as_atom() {
            match self.whereis(name) {
                Some(pid) => pid,
                None => return Err(Exc::badarg()),
            }
        } else {
            // `{Name, Node}` never fails (OTP): a name not registered here,
            // or another node (none is connected), drops the message. So
            // does a reference (OTP 24+: an alias; none is active here).
            if to.ref_number().is_some() {
                return Ok(());
            }
            match to.tuple_elements() {
                Some([name, node]) if name.is_atom() && node.is_atom() => {
                    let here = node.as_atom() == Some(atom::intern("nonode@nohost"));
                    match name.as_atom().filter(|_| here).and_then(|n| self.whereis(n)) {
                        Some(pid) => pid,
                        None => return Ok(()),
                    }
                }
                _ => return Err(Exc::badarg()),
            }
        };
        // The process sent to last, unless it has ended (a message racing
        // with the end of its receiver is lost either way).
        let cached = match &from.send_cache {
            Some(sh) if sh.pid == pid => sh.status.load(Ordering::Acquire) != EXITED,
            _ => false,
        };
        if !cached {
            from.send_cache = self.procs.get(pid);
        }
        if let Some(sh) = &from.send_cache {
            if let Some(p) = sh.deliver(Message::copy(MsgKind::Msg, msg)) {
                self.enqueue(p);
            }
        }
        Ok(())
    }

    /// Run the scheduler loop until process `main` ends.
    /// Run the schedulers until process `main` ends (or a process halts
    /// the VM): this thread is scheduler 0, and `--schedulers N` - 1 more
    /// threads start (see sched.rs). The other threads stop as soon as they
    /// finish the slice they are in; processes still alive are abandoned.
    pub fn run_until_exit(&'static self, main: u64) -> MainExit {
        let n = match self.sched.count.load(Ordering::Relaxed) {
            0 => crate::sched::default_schedulers(),
            n => n,
        }
        .clamp(1, crate::sched::MAX_SCHEDULERS);
        // A new run (tests and benchmarks run several programs on one VM):
        // threads of an earlier run see the epoch change and leave.
        let epoch = self.sched.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.sched.stop.store(false, Ordering::SeqCst);
        *self.result.lock().unwrap() = None;
        let workers: Vec<crossbeam_deque::Worker<Box<Process>>> =
            (0..n).map(|_| crossbeam_deque::Worker::new_fifo()).collect();
        let stealers: Vec<_> = workers.iter().map(|w| w.stealer()).collect();
        let mut workers = workers.into_iter();
        let w0 = workers.next().unwrap();
        for (i, w) in workers.enumerate() {
            let st = stealers.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("scheduler {}", i + 2))
                .stack_size(crate::sched::SCHED_STACK)
                .spawn(move || self.scheduler(main, epoch, w, st, i + 1));
            if spawned.is_err() {
                break; // Fewer schedulers: the others still run everything.
            }
        }
        self.scheduler(main, epoch, w0, stealers, 0);
        self.result.lock().unwrap().take().unwrap_or(MainExit::Halt(1))
    }

    /// One scheduler thread (number `me`) of run `epoch`.
    fn scheduler(
        &'static self,
        main: u64,
        epoch: u64,
        w: crossbeam_deque::Worker<Box<Process>>,
        stealers: Vec<crossbeam_deque::Stealer<Box<Process>>>,
        me: usize,
    ) {
        let local = crate::sched::Local::new(w);
        self.sched.enter(&local);
        let exit = self.scheduler_loop(main, epoch, &local, &stealers, me);
        self.sched.leave();
        if let Some(e) = exit {
            let mut r = self.result.lock().unwrap();
            if r.is_none() {
                *r = Some(e);
            }
            drop(r);
            self.sched.halt();
        }
    }

    fn scheduler_loop(
        &'static self,
        main: u64,
        epoch: u64,
        w: &crate::sched::Local,
        stealers: &[crossbeam_deque::Stealer<Box<Process>>],
        me: usize,
    ) -> Option<MainExit> {
        // x registers of this scheduler.
        let mut x = vec![Term::NIL; interp::MAX_X];
        let mut tick: u32 = 0;
        loop {
            if self.sched.stop.load(Ordering::Acquire) || self.sched.epoch.load(Ordering::Acquire) != epoch {
                return None;
            }
            self.fire_timers();
            tick = tick.wrapping_add(1);
            let Some(mut p) = self.sched.find(w, stealers, me, tick) else {
                self.sched.sleep(stealers, || self.ns_since_start(Instant::now()));
                continue;
            };
            p.shared.status.store(RUNNING, Ordering::Release);
            // An exit signal that kills the process acts before it runs on.
            if p.shared.exit_signal.load(Ordering::Acquire) {
                p.take_inbox();
            }
            if !p.code_checks.is_empty() {
                crate::bif::code::answer_code_checks(&mut p);
            }
            let mut outcome = match p.pending_exit.take() {
                Some(reason) => Outcome::Crash { class: Class::Exit, reason, trace: Term::NIL },
                None => interp::run(&mut p, &mut x, self.sched.budget),
            };
            if matches!(outcome, Outcome::Yield | Outcome::Wait) {
                // Signals that came during the slice (an exit signal, a
                // request): take them in now, while the process is at rest.
                // If that brought a message or a kill, a waiting process runs
                // again instead of parking (the inbox it would re-check is
                // empty now).
                if p.shared.exit_signal.load(Ordering::Acquire)
                    && (p.take_inbox() || p.pending_exit.is_some())
                    && matches!(outcome, Outcome::Wait)
                {
                    outcome = Outcome::Yield;
                }
                if !p.code_checks.is_empty() {
                    crate::bif::code::answer_code_checks(&mut p);
                }
                if !p.info_requests.is_empty() {
                    let status = if matches!(outcome, Outcome::Wait) { "waiting" } else { "runnable" };
                    crate::bif::procs::answer_info_requests(&mut p, status);
                }
            }
            match outcome {
                Outcome::Yield => self.enqueue(p),
                Outcome::Wait => self.park(p),
                Outcome::Normal => {
                    let pid = p.pid;
                    if pid == main && self.capture.load(Ordering::Relaxed) {
                        *self.last_exit.lock().unwrap() = Some((format!("{:?}", x[0]), p.memory_bytes()));
                    }
                    self.exit_process(p, Term::atom(atom::NORMAL));
                    if pid == main {
                        return Some(MainExit::Normal);
                    }
                }
                Outcome::Crash { class, reason, trace } => {
                    let pid = p.pid;
                    // The exit reason links and monitors see.
                    let exit_reason = match class {
                        Class::Exit => reason,
                        Class::Error => p.heap.tuple(&[reason, trace]),
                        Class::Throw => {
                            let r = p.heap.tuple(&[Term::atom(atom::NOCATCH), reason]);
                            p.heap.tuple(&[r, trace])
                        }
                    };
                    if pid == main {
                        // Keep the process's heap alive while the caller
                        // prints the reason.
                        let reason = crate::heap::copy_to_fragment(reason);
                        let trace = crate::heap::copy_to_fragment(trace);
                        let r = MainExit::Crash { class, reason: reason.0, trace: trace.0 };
                        std::mem::forget(reason.1);
                        std::mem::forget(trace.1);
                        self.exit_process(p, exit_reason);
                        return Some(r);
                    }
                    if class != Class::Exit {
                        crate::bif::erlang::print_error_report(pid, class, reason, trace);
                    }
                    self.exit_process(p, exit_reason);
                }
                Outcome::Halt(n) => return Some(MainExit::Halt(n)),
            }
        }
    }

    fn park(&self, p: Box<Process>) {
        let sh = p.shared.clone();
        let timer = p.timer;
        let pid = p.pid;
        *sh.parked.lock().unwrap() = Some(p);
        // SeqCst: the Dekker handshake with a sender (`process::Inbox`).
        sh.status.store(WAITING, Ordering::SeqCst);
        if let Some(t) = timer {
            self.add_timer(t, Timer::Wake(pid));
        }
        // A message may have arrived between the last look and parking.
        if !sh.inbox.is_empty() {
            if let Some(p) = sh.wake() {
                self.enqueue(p);
            }
        }
    }

    fn fire_timers(&self) {
        // Before every pick: with no timer at all (a ring, a computation)
        // not even the clock is read.
        let due = self.sched.next_due.load(Ordering::Relaxed);
        if due == u64::MAX {
            return;
        }
        let now = Instant::now();
        if due > self.ns_since_start(now) {
            return;
        }
        loop {
            let due = {
                let mut t = self.timers.lock().unwrap();
                let r = match t.peek() {
                    Some(Reverse((d, _))) if *d <= now => t.pop().map(|r| r.0 .1),
                    _ => None,
                };
                let next = t.peek().map(|r| self.ns_since_start(r.0 .0)).unwrap_or(u64::MAX);
                self.sched.next_due.store(next, Ordering::SeqCst);
                r
            };
            let pid = match due {
                None => break,
                Some(Timer::Wake(pid)) => pid,
                Some(Timer::Send(r)) => {
                    let Some(t) = self.msg_timers.lock().unwrap().remove(&r) else { continue };
                    let to = match t.dest {
                        Ok(pid) => Some(pid),
                        Err(name) => self.whereis(name),
                    };
                    if let Some(to) = to {
                        self.deliver(to, t.msg);
                    }
                    continue;
                }
            };
            let sh = self.procs.get(pid);
            if let Some(sh) = sh {
                if let Some(mut p) = sh.wake() {
                    if p.timer.is_some_and(|d| d <= now) {
                        p.timed_out = true;
                        p.timer = None;
                    }
                    self.enqueue(p);
                }
            }
        }
    }

    /// End a process: send `'DOWN'` messages to its monitors and its exit
    /// signal (`reason`) to the processes linked to it, then remove it.
    ///
    /// Order: the status becomes `EXITED` first (`is_process_alive/1` is
    /// false from then on) and the registered name is released, so that
    /// whoever gets the `'DOWN'` or exit signal can restart a process under
    /// that name at once. Then, so that `demonitor/2` and `unlink/1` keep
    /// Erlang's promise (once they return, no `'DOWN'` or exit signal of
    /// that monitor or link arrives any more), the `'DOWN'` messages are
    /// delivered under this process's links lock, which `demonitor` takes to
    /// remove a monitor (the process stays in the table until then, so
    /// `demonitor` finds it), and each exit signal under the linked
    /// process's links lock, which `unlink` takes first.
    fn exit_process(&self, mut p: Box<Process>, reason: Term) {
        p.shared.status.store(EXITED, Ordering::SeqCst);
        let name = p.shared.name.swap(crate::process::NO_NAME, Ordering::SeqCst);
        if name != crate::process::NO_NAME {
            let mut r = self.registered.write().unwrap();
            if r.get(&Atom(name)) == Some(&p.pid) {
                r.remove(&Atom(name));
            }
        }
        let links = {
            let mut l = p.shared.links.lock().unwrap();
            l.dead = true;
            for (r, watcher, name) in std::mem::take(&mut l.monitors) {
                let item = match name {
                    Some(n) => p.heap.tuple(&[Term::atom(n), Term::atom(atom::intern("nonode@nohost"))]),
                    None => Term::pid(p.pid),
                };
                let down = down_message(&mut p.heap, r, item, reason);
                self.deliver(watcher, Message::copy(MsgKind::Msg, down));
            }
            std::mem::take(&mut l.links)
        };
        for l in links {
            let Some(sh) = self.shared_of(l) else { continue };
            let mut ll = sh.links.lock().unwrap();
            let n = ll.links.len();
            ll.links.retain(|&x| x != p.pid);
            if ll.links.len() != n {
                let exit = Message::copy(MsgKind::Exit { from: p.pid, link: true }, reason);
                if let Some(q) = sh.deliver(exit) {
                    self.enqueue(q);
                }
            }
        }
        self.procs.remove(p.pid);
        for (r, target) in std::mem::take(&mut p.monitoring) {
            self.demonitor(target, r);
        }
    }

    /// Spawn `M:main/1` with the args as strings (or `main/0` when `args` is
    /// None) and run until it ends.
    pub fn run_main(&'static self, module: Atom, args: Option<&[String]>) -> MainExit {
        let mut tmp = crate::heap::Heap::new();
        let argl = match args {
            Some(a) => {
                let strs: Vec<Term> = a.iter().map(|s| tmp.string(s)).collect();
                let l = tmp.list(&strs);
                tmp.list(&[l])
            }
            None => Term::NIL,
        };
        crate::memory::set_baseline();
        let pid = self.spawn_mfa(Term::atom(module), Term::atom(atom::intern("main")), argl);
        self.run_until_exit(pid)
    }
}

/// `{'DOWN', Ref, process, Item, Reason}`.
pub fn down_message(heap: &mut crate::heap::Heap, r: u64, item: Term, reason: Term) -> Term {
    let rt = heap.reference(r);
    heap.tuple(&[Term::atom(atom::intern("DOWN")), rt, Term::atom(atom::intern("process")), item, reason])
}

/// The embedded standard library: (module name, compiled file bytes).
pub fn stdlib_modules() -> Vec<(&'static str, &'static [u8])> {
    minierl_stdlib::MODULES.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A scheduler waiting for a far timer is woken when an earlier one is
    /// added. It used to sleep through it (`add_timer` lowered `next_due`
    /// before `timer_added` compared against it, so nobody was notified):
    /// in the stress mode `otp_sys` hung when a 5 ms `timer:sleep` waited out
    /// a stale 5-second `gen_server:call` timeout, long enough for another
    /// call to time out.
    #[test]
    fn earlier_timer_wakes_the_timer_waiter() {
        let vm = Vm::new_for_tests();
        vm.add_timer(Instant::now() + Duration::from_secs(30), Timer::Wake(1));
        let waiter = std::thread::spawn(move || {
            let t = Instant::now();
            vm.sched.sleep(&[], || vm.ns_since_start(Instant::now()));
            t.elapsed()
        });
        while vm.sched.sleepers.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        vm.sched.sync_with_sleepers();
        vm.add_timer(Instant::now() + Duration::from_millis(1), Timer::Wake(2));
        let slept = waiter.join().unwrap();
        assert!(slept < Duration::from_secs(20), "the timer waiter slept {slept:?}");
    }
}
