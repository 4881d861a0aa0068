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
use crate::heap::copy_to_fragment;
use crate::interp::{self, Outcome};
use crate::op::Op;
use crate::process::{Class, Exc, Message, Process, Shared, EXITED, RUNNABLE, RUNNING, WAITING};
use crate::term::Term;
use hashbrown::HashMap;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
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

/// Per-VM boot code: tiny op sequences new processes start in.
struct Boot {
    /// `erlang:apply(x0, x1, x2)` as a tail call.
    apply3: Box<[Op]>,
    /// Call the fun in x0 with no arguments.
    fun0: Box<[Op]>,
}

pub struct Vm {
    pub code: CodeServer,
    procs: RwLock<HashMap<u64, Arc<Shared>>>,
    registered: RwLock<HashMap<Atom, u64>>,
    runq: Mutex<VecDeque<Box<Process>>>,
    wakeup: Condvar,
    timers: Mutex<BinaryHeap<Reverse<(Instant, u64)>>>,
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
            procs: RwLock::new(HashMap::new()),
            registered: RwLock::new(HashMap::new()),
            runq: Mutex::new(VecDeque::new()),
            wakeup: Condvar::new(),
            timers: Mutex::new(BinaryHeap::new()),
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
                let newer = match (std::fs::metadata(&obj).and_then(|m| m.modified()), std::fs::metadata(&src).and_then(|m| m.modified())) {
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
        self.procs.write().unwrap().insert(pid, p.shared.clone());
        p
    }

    /// `spawn(M, F, Args)`: the new process applies M:F to the (copied)
    /// args. Returns its pid.
    pub fn spawn_mfa(&'static self, m: Term, f: Term, args: Term) -> u64 {
        let mut p = self.new_process();
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
        let mut p = self.new_process();
        let f2 = crate::heap::copy_term(fun, &mut p.heap);
        interp::setup_call(&mut p, self.boot.fun0.as_ptr(), &[f2]);
        let pid = p.pid;
        self.enqueue(Box::new(p));
        pid
    }

    pub fn enqueue(&self, p: Box<Process>) {
        p.shared.status.store(RUNNABLE, Ordering::Release);
        self.runq.lock().unwrap().push_back(p);
        self.wakeup.notify_one();
    }

    pub fn is_alive(&self, pid: u64) -> bool {
        self.procs.read().unwrap().contains_key(&pid)
    }

    pub fn register(&self, name: Atom, pid: u64) -> bool {
        let mut r = self.registered.write().unwrap();
        if r.contains_key(&name) || r.values().any(|&v| v == pid) {
            return false;
        }
        r.insert(name, pid);
        true
    }
    pub fn unregister(&self, name: Atom) -> bool {
        self.registered.write().unwrap().remove(&name).is_some()
    }
    pub fn whereis(&self, name: Atom) -> Option<u64> {
        self.registered.read().unwrap().get(&name).copied()
    }

    /// `To ! Msg` from process `from`.
    pub fn send(&self, _from: &mut Process, to: Term, msg: Term) -> Result<(), Exc> {
        let pid = if let Some(pid) = to.pid_number() {
            pid
        } else if let Some(name) = to.as_atom() {
            match self.whereis(name) {
                Some(pid) => pid,
                None => return Err(Exc::badarg()),
            }
        } else {
            return Err(Exc::badarg());
        };
        let target = self.procs.read().unwrap().get(&pid).cloned();
        if let Some(sh) = target {
            let (term, frag) = copy_to_fragment(msg);
            if let Some(p) = sh.deliver(Message { term, frag }) {
                self.enqueue(p);
            }
        }
        Ok(())
    }

    /// Run the scheduler loop until process `main` ends.
    pub fn run_until_exit(&'static self, main: u64) -> MainExit {
        let mut x = vec![Term::NIL; interp::MAX_X];
        loop {
            self.fire_timers();
            let next = self.runq.lock().unwrap().pop_front();
            let Some(mut p) = next else {
                let deadline = self.timers.lock().unwrap().peek().map(|r| r.0 .0);
                let q = self.runq.lock().unwrap();
                if q.is_empty() {
                    match deadline {
                        Some(d) => {
                            let now = Instant::now();
                            if d > now {
                                drop(self.wakeup.wait_timeout(q, d - now).unwrap());
                            }
                        }
                        None => {
                            drop(self.wakeup.wait(q).unwrap());
                        }
                    }
                }
                continue;
            };
            p.shared.status.store(RUNNING, Ordering::Release);
            let outcome = interp::run(&mut p, &mut x, interp::REDUCTIONS);
            match outcome {
                Outcome::Yield => self.enqueue(p),
                Outcome::Wait => self.park(p),
                Outcome::Normal => {
                    let pid = p.pid;
                    if pid == main && self.capture.load(Ordering::Relaxed) {
                        *self.last_exit.lock().unwrap() = Some((format!("{:?}", x[0]), p.memory_bytes()));
                    }
                    self.exit_process(p);
                    if pid == main {
                        return MainExit::Normal;
                    }
                }
                Outcome::Crash { class, reason, trace } => {
                    let pid = p.pid;
                    if pid == main {
                        // Keep the process's heap alive while the caller
                        // prints the reason.
                        let reason = crate::heap::copy_to_fragment(reason);
                        let trace = crate::heap::copy_to_fragment(trace);
                        let r = MainExit::Crash { class, reason: reason.0, trace: trace.0 };
                        std::mem::forget(reason.1);
                        std::mem::forget(trace.1);
                        self.exit_process(p);
                        return r;
                    }
                    if class != Class::Exit {
                        crate::bif::erlang::print_error_report(pid, class, reason, trace);
                    }
                    self.exit_process(p);
                }
                Outcome::Halt(n) => return MainExit::Halt(n),
            }
        }
    }

    fn park(&self, p: Box<Process>) {
        let sh = p.shared.clone();
        let timer = p.timer;
        let pid = p.pid;
        *sh.parked.lock().unwrap() = Some(p);
        sh.status.store(WAITING, Ordering::Release);
        if let Some(t) = timer {
            self.timers.lock().unwrap().push(Reverse((t, pid)));
        }
        // A message may have arrived between the last look and parking.
        if !sh.inbox.lock().unwrap().is_empty() {
            if let Some(p) = sh.wake() {
                self.enqueue(p);
            }
        }
    }

    fn fire_timers(&self) {
        let now = Instant::now();
        loop {
            let due = {
                let mut t = self.timers.lock().unwrap();
                match t.peek() {
                    Some(Reverse((d, _))) if *d <= now => t.pop().map(|r| r.0 .1),
                    _ => None,
                }
            };
            let Some(pid) = due else { break };
            let sh = self.procs.read().unwrap().get(&pid).cloned();
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

    fn exit_process(&self, p: Box<Process>) {
        p.shared.status.store(EXITED, Ordering::Release);
        self.procs.write().unwrap().remove(&p.pid);
        self.registered.write().unwrap().retain(|_, v| *v != p.pid);
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
        let pid = self.spawn_mfa(Term::atom(module), Term::atom(atom::intern("main")), argl);
        self.run_until_exit(pid)
    }
}

/// The embedded standard library: (module name, compiled file bytes).
pub fn stdlib_modules() -> Vec<(&'static str, &'static [u8])> {
    minierl_stdlib::MODULES.to_vec()
}
