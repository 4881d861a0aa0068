//! Processes: the private part a scheduler runs (heap, stack, registers
//! saved between slices, the messages already taken in, the dictionary)
//! and the shared part other processes reach (the inbox and the status).
//!
//! Sending never touches the receiver's heap: the sender copies the message
//! into a fresh fragment (`heap::copy_to_fragment`), pushes it on the
//! receiver's `inbox` (a short `Mutex`-protected push, no global lock) and
//! wakes the receiver if it was waiting. The receiver moves inbox messages
//! into its private queue, linking their fragments into its heap, only when
//! it looks at its mailbox (`LoopRec`).
//!
//! Wake-up protocol (no lost wake-ups with several schedulers): a process
//! that waits first parks its `Box<Process>` in `shared.parked`, then sets
//! status `WAITING`, then looks at the inbox again; a sender pushes to the
//! inbox, then moves status `WAITING → RUNNABLE` with a compare-exchange and,
//! if it won, takes the parked process and enqueues it. Whoever wins the
//! exchange owns the process.

use crate::atom::Atom;
use crate::heap::{Fragment, Heap};
use crate::op::Op;
use crate::term::Term;
use crate::vm::Vm;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A message in flight: its term lives in `frag` (None for immediates).
pub struct Message {
    pub term: Term,
    pub frag: Option<Fragment>,
}

// Status values of `Shared::status`.
pub const RUNNABLE: u8 = 0;
pub const RUNNING: u8 = 1;
pub const WAITING: u8 = 2;
pub const EXITED: u8 = 3;

/// The part of a process other processes (and schedulers) may touch.
pub struct Shared {
    pub pid: u64,
    pub inbox: Mutex<Vec<Message>>,
    pub status: AtomicU8,
    /// A waiting process, parked here until a message or its timer wakes it.
    pub parked: Mutex<Option<Box<Process>>>,
}

impl Shared {
    /// Deliver a message and wake the receiver if it waits. Returns the
    /// process to enqueue, if this call woke it.
    pub fn deliver(&self, m: Message) -> Option<Box<Process>> {
        self.inbox.lock().unwrap().push(m);
        self.wake()
    }
    /// Move a waiting process back to runnable; returns it if we won.
    pub fn wake(&self) -> Option<Box<Process>> {
        if self.status.compare_exchange(WAITING, RUNNABLE, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            self.parked.lock().unwrap().take()
        } else {
            None
        }
    }
}

/// The class of an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Error,
    Throw,
    Exit,
}

impl Class {
    pub fn atom(self) -> Atom {
        match self {
            Class::Error => crate::atom::ERROR,
            Class::Throw => crate::atom::THROW,
            Class::Exit => crate::atom::EXIT,
        }
    }
}

/// An exception raised by a BIF or an instruction, before unwinding.
#[derive(Clone, Debug)]
pub enum Exc {
    Raise {
        class: Class,
        reason: Term,
        /// Replace the arity of the top stack frame with these arguments
        /// (`function_clause`, `erlang:error/2`).
        args: Option<Term>,
        /// A ready stacktrace (`erlang:raise/3`).
        trace: Option<Term>,
    },
    /// `erlang:halt/1`: not catchable; stops the VM with this status.
    Halt(i32),
}

impl Exc {
    pub fn error(reason: Term) -> Exc {
        Exc::Raise { class: Class::Error, reason, args: None, trace: None }
    }
    pub fn badarg() -> Exc {
        Exc::error(Term::atom(crate::atom::BADARG))
    }
    pub fn badarith() -> Exc {
        Exc::error(Term::atom(crate::atom::BADARITH))
    }
    pub fn throw(reason: Term) -> Exc {
        Exc::Raise { class: Class::Throw, reason, args: None, trace: None }
    }
    pub fn exit(reason: Term) -> Exc {
        Exc::Raise { class: Class::Exit, reason, args: None, trace: None }
    }
}

/// The result of a BIF.
pub type BifResult = Result<Term, Exc>;

/// A process's private state.
pub struct Process {
    pub pid: u64,
    pub shared: Arc<Shared>,
    pub vm: &'static Vm,
    pub heap: Heap,
    /// y slots and continuation pointers; grows upwards. A frame is
    /// `[CP, y(n-1) .. y0]` with y0 on top: `y(i) = stack[len - 1 - i]`.
    pub stack: Vec<Term>,
    /// Where to resume.
    pub ip: *const Op,
    /// x registers saved when the process is not running.
    pub saved_x: Vec<Term>,
    /// Messages taken from the inbox (their fragments are on our heap).
    pub msgs: VecDeque<Term>,
    /// The save pointer of selective receive: index in `msgs`.
    pub save: usize,
    /// The process dictionary.
    pub dict: Vec<(Term, Term)>,
    /// When a `receive ... after` or `timer:sleep` times out.
    pub timer: Option<Instant>,
    /// Set when the timer fired: `WaitTimeout` continues past the wait.
    pub timed_out: bool,
    pub reductions: u64,
    /// Exit reason once dead.
    pub exit_reason: Option<Term>,
    /// The function the process was spawned with (`process_info`).
    pub initial_call: (Atom, Atom, u8),
}

// SAFETY: `ip` points into immutable, never-freed code; everything else is
// owned. A process is run by one scheduler at a time (the status protocol).
unsafe impl Send for Process {}

impl Process {
    pub fn new(vm: &'static Vm, pid: u64) -> Process {
        let shared = Arc::new(Shared {
            pid,
            inbox: Mutex::new(Vec::new()),
            status: AtomicU8::new(RUNNABLE),
            parked: Mutex::new(None),
        });
        Process {
            pid,
            shared,
            vm,
            heap: Heap::new(),
            stack: Vec::new(),
            ip: std::ptr::null(),
            saved_x: Vec::new(),
            msgs: VecDeque::new(),
            save: 0,
            dict: Vec::new(),
            timer: None,
            timed_out: false,
            reductions: 0,
            exit_reason: None,
            initial_call: (crate::atom::ERLANG, crate::atom::APPLY, 0),
        }
    }

    /// The pid term of this process.
    pub fn self_term(&self) -> Term {
        Term::pid(self.pid)
    }

    /// Move messages from the shared inbox into the private queue.
    pub fn take_inbox(&mut self) -> bool {
        let mut inbox = self.shared.inbox.lock().unwrap();
        if inbox.is_empty() {
            return false;
        }
        for m in inbox.drain(..) {
            if let Some(f) = m.frag {
                self.heap.attach_fragment(f);
            }
            self.msgs.push_back(m.term);
        }
        true
    }

    /// Approximate memory of the process in bytes (`process_info(memory)`).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Process>()
            + std::mem::size_of::<Shared>()
            + self.heap.capacity_words() * 8
            + self.stack.capacity() * 8
            + self.saved_x.capacity() * 8
    }
}
