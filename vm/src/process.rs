//! Processes: the private part a scheduler runs (heap, stack, registers
//! saved between slices, the messages already taken in, the dictionary)
//! and the shared part other processes reach (the inbox and the status).
//!
//! Sending never touches the receiver's heap: the sender copies the message
//! out (`Message::copy`: a small flat term such as `{token, 42}` inside the
//! `Message` itself, anything else into a fresh heap fragment), pushes it
//! on the receiver's `Inbox` (a short `Mutex`-protected push, no global
//! lock) and wakes the receiver if it was waiting. The receiver moves inbox
//! messages into its private queue only when it looks at its mailbox
//! (`LoopRec`): each is copied into the free part of its heap block when it
//! fits (`Heap::absorb_message`), else its fragment is linked into the heap.
//!
//! Wake-up protocol (no lost wake-ups with several schedulers): a process
//! that waits first parks its `Box<Process>` in `shared.parked`, then sets
//! status `WAITING` (SeqCst), then looks at the inbox's non-empty flag again
//! (SeqCst); a sender pushes to the inbox (setting the flag, SeqCst), then
//! moves status `WAITING → RUNNABLE` with a SeqCst compare-exchange and, if
//! it won, takes the parked process and enqueues it. In the single order of
//! SeqCst operations either the re-check comes after the flag was set (the
//! parking scheduler sees the message and wakes the process itself) or the
//! exchange comes after `WAITING` was stored (the sender wakes it).
//! Whoever wins the exchange owns the process.

use crate::atom::Atom;
use crate::heap::{Fragment, Heap};
use crate::op::Op;
use crate::term::Term;
use crate::vm::Vm;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A message in flight, copied out of its sender. Exit signals travel in
/// the same queue as messages, so that the signals one process sends
/// another arrive in the order it sent them, as Erlang guarantees; then the
/// term is the exit reason.
pub struct Message {
    pub kind: MsgKind,
    body: Body,
}

/// Words of the largest message stored inside the `Message` itself: a
/// tuple of up to 4 immediates (`{token, N}`, `{'EXIT', Pid, Reason}`
/// with an atom reason, `{result, 42}`), a float, a small binary.
pub const INLINE_WORDS: usize = 5;

/// Where a message's term is.
enum Body {
    /// An immediate (`NIL` for a signal that carries no term).
    Imm(Term),
    /// One boxed object of `n` words with no pointer in it (`heap::flat_size`),
    /// kept here: sending it allocates nothing and taking it in is an
    /// allocation on the receiver's heap and a copy of `n` words.
    Flat { n: u8, words: [u64; INLINE_WORDS] },
    /// Anything else, in a fragment built by `heap::copy_to_fragment`.
    Frag(Term, Fragment),
}

impl Message {
    /// A message already copied out (`heap::copy_to_fragment`).
    pub fn msg(term: Term, frag: Option<Fragment>) -> Message {
        Message::with_kind(MsgKind::Msg, term, frag)
    }
    fn with_kind(kind: MsgKind, term: Term, frag: Option<Fragment>) -> Message {
        let body = match frag {
            Some(f) => Body::Frag(term, f),
            None => Body::Imm(term),
        };
        Message { kind, body }
    }
    /// A copy of `t` (living on the sender's heap, or anywhere) to send.
    pub fn copy(kind: MsgKind, t: Term) -> Message {
        if t.is_immediate() {
            return Message { kind, body: Body::Imm(t) };
        }
        if let Some(n) = crate::heap::flat_size(t) {
            if n <= INLINE_WORDS {
                let mut words = [0u64; INLINE_WORDS];
                // SAFETY: `t` is one boxed object of n words (header
                // included); `words` has room for n.
                unsafe { std::ptr::copy_nonoverlapping(t.boxed_ptr(), words.as_mut_ptr(), n) };
                return Message { kind, body: Body::Flat { n: n as u8, words } };
            }
        }
        let (term, frag) = crate::heap::copy_to_fragment(t);
        Message::with_kind(kind, term, frag)
    }
    /// A signal that carries no term (`CheckCode`).
    pub fn signal(kind: MsgKind) -> Message {
        Message { kind, body: Body::Imm(Term::NIL) }
    }
    /// Take the message's term onto `heap` (the receiver's), consuming the
    /// message: a fragment is moved into the block or linked in
    /// (`Heap::absorb_message`).
    #[inline]
    pub fn take_in(self, heap: &mut Heap) -> Term {
        match self.body {
            Body::Imm(t) => t,
            Body::Flat { n, words } => {
                let n = n as usize;
                let p = heap.alloc(n);
                // SAFETY: `p` has n fresh words; `words` holds n.
                unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), p, n) };
                Term::from_boxed_ptr(p)
            }
            Body::Frag(t, f) => heap.absorb_message(t, f),
        }
    }
    /// A copy of the term on `heap`, leaving the message as it is
    /// (`process_info` of messages not taken in yet).
    pub fn copy_to(&self, heap: &mut Heap) -> Term {
        match &self.body {
            Body::Imm(t) => *t,
            Body::Flat { n, words } => {
                let n = *n as usize;
                let p = heap.alloc(n);
                // SAFETY: as in `take_in`.
                unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), p, n) };
                Term::from_boxed_ptr(p)
            }
            Body::Frag(t, _) => crate::heap::copy_term(*t, heap),
        }
    }
}

/// What an inbox entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgKind {
    /// An ordinary message.
    Msg,
    /// An exit signal from `from`: sent by `exit/2` (`link: false`) or by
    /// a linked process that ended (`link: true`).
    Exit { from: u64, link: bool },
    /// `erlang:check_process_code(ThisPid, module)` asked by `from` with
    /// reference number `r`: the scheduler answers it between time slices
    /// (`bif::code::answer_code_checks`), when the stack is at rest.
    CheckCode { from: u64, r: u64, module: Atom },
    /// `process_info(ThisPid, Items)` asked by `from` with reference number
    /// `r` (`arity` 1: `process_info/1`; 2: the term is the item or list of
    /// items): the scheduler answers it after a time slice
    /// (`bif::procs::answer_info_requests`).
    Info { from: u64, r: u64, arity: u8 },
}

/// The links and monitors of a process, which other processes change.
#[derive(Default)]
pub struct Links {
    /// Set once the process has ended: no new link or monitor may be made.
    pub dead: bool,
    /// Pids of linked processes (each link is recorded on both sides).
    pub links: Vec<u64>,
    /// Monitors on this process: (reference number, watching pid, the
    /// registered name it was monitored by, which `'DOWN'` then names).
    pub monitors: Vec<(u64, u64, Option<Atom>)>,
}

// Status values of `Shared::status`.
pub const RUNNABLE: u8 = 0;
pub const RUNNING: u8 = 1;
pub const WAITING: u8 = 2;
pub const EXITED: u8 = 3;

/// The messages and signals sent to a process and not yet taken in: a
/// vector under a mutex, plus a flag saying it is not empty, so that the
/// receiver's frequent look at an empty inbox (every `LoopRec` at the end
/// of its queue, every `Wait`, the re-check when parking) is one load
/// instead of a lock and an unlock.
///
/// The flag is written only under the mutex, so it always agrees with the
/// vector once the mutex is released. It is read and written with SeqCst:
/// with the receiver's SeqCst store of `WAITING` and the sender's SeqCst
/// compare-exchange of the status, that is the Dekker handshake of the
/// wake-up protocol (see the module docs).
pub struct Inbox {
    nonempty: AtomicBool,
    q: Mutex<Vec<Message>>,
}

impl Inbox {
    fn new() -> Inbox {
        Inbox { nonempty: AtomicBool::new(false), q: Mutex::new(Vec::new()) }
    }
    pub fn push(&self, m: Message) {
        let mut q = self.q.lock().unwrap();
        q.push(m);
        self.nonempty.store(true, Ordering::SeqCst);
    }
    /// No message or signal waiting (a message being pushed right now may
    /// not be seen: the parking re-check is what must not miss it).
    #[inline]
    pub fn is_empty(&self) -> bool {
        !self.nonempty.load(Ordering::SeqCst)
    }
    /// Swap the waiting messages into `buf` (which must be empty; its
    /// capacity becomes the inbox's, so neither side reallocates in steady
    /// state). The lock is held only for the swap, not while the receiver
    /// takes the messages in. False if there was nothing.
    #[inline]
    pub fn take_into(&self, buf: &mut Vec<Message>) -> bool {
        debug_assert!(buf.is_empty());
        if self.is_empty() {
            return false;
        }
        let mut q = self.q.lock().unwrap();
        self.nonempty.store(false, Ordering::SeqCst);
        std::mem::swap(&mut *q, buf);
        true
    }
    /// The waiting messages, locked (`process_info`).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        self.q.lock().unwrap()
    }
}

/// The part of a process other processes (and schedulers) may touch.
pub struct Shared {
    pub pid: u64,
    pub inbox: Inbox,
    pub status: AtomicU8,
    /// A waiting process, parked here until a message or its timer wakes it.
    pub parked: Mutex<Option<Box<Process>>>,
    pub links: Mutex<Links>,
    /// A signal (an exit signal, a `check_process_code` or `process_info`
    /// request) is in the inbox: the scheduler takes it in before the next
    /// time slice and after this one, so a process that never receives
    /// still dies of an exit signal and answers requests.
    pub exit_signal: AtomicBool,
    /// The registered name (an atom index), or `NO_NAME`.
    pub name: AtomicU32,
}

/// `Shared::name` of a process without a registered name.
pub const NO_NAME: u32 = u32::MAX;

impl Shared {
    /// Deliver a message and wake the receiver if it waits. Returns the
    /// process to enqueue, if this call woke it.
    pub fn deliver(&self, m: Message) -> Option<Box<Process>> {
        let signal = m.kind != MsgKind::Msg;
        self.inbox.push(m);
        if signal {
            self.exit_signal.store(true, Ordering::Release);
        }
        self.wake()
    }
    /// Move a waiting process back to runnable; returns it if we won.
    pub fn wake(&self) -> Option<Box<Process>> {
        // SeqCst: the other half of the parking re-check (`Inbox`).
        if self.status.compare_exchange(WAITING, RUNNABLE, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
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
    /// The process dies at once with this exit reason, which no `catch`
    /// sees: an exit signal it does not trap (`exit(self(), kill)`, a link
    /// exit signal handled while it looks at its mailbox).
    Kill(Term),
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
    /// Reductions charged by BIFs in this slice and not yet taken off the
    /// slice's budget (the interpreter takes them at its next safe point).
    pub bif_charge: i64,
    /// Exit reason once dead.
    pub exit_reason: Option<Term>,
    /// The function the process was spawned with (`process_info`).
    pub initial_call: (Atom, Atom, u8),
    /// `process_flag(trap_exit, true)`: exit signals become messages.
    pub trap_exit: bool,
    /// An exit signal taken from the inbox killed the process: it ends
    /// with this reason before running any further.
    pub pending_exit: Option<Term>,
    /// Monitors this process holds: (reference number, monitored pid).
    pub monitoring: Vec<(u64, u64)>,
    /// `check_process_code` requests taken from the inbox, not answered
    /// yet: (asker, reference number, module).
    pub code_checks: Vec<(u64, u64, Atom)>,
    /// `process_info` requests taken from the inbox, not answered yet:
    /// (asker, reference number, items).
    pub info_requests: Vec<(u64, u64, crate::bif::procs::InfoItems)>,
    /// The inbox's messages are swapped in here to be taken in (empty
    /// between two `take_inbox`; keeps its capacity).
    inbox_buf: Vec<Message>,
    /// The shared part of the process this one sent to last: a process
    /// that sends to the same one again and again (a ring, a client of a
    /// server) skips the process table (a shard lock and a reference count
    /// increment and decrement per send). `Vm::send` checks it is not dead.
    pub send_cache: Option<Arc<Shared>>,
}

// SAFETY: `ip` points into immutable, never-freed code; everything else is
// owned. A process is run by one scheduler at a time (the status protocol).
unsafe impl Send for Process {}

impl Process {
    /// End the slice at the next safe point (`erlang:yield/0`): a charge
    /// larger than any budget, which the interpreter takes off the budget
    /// too, so that it is not counted as reductions.
    pub fn end_slice(&mut self) {
        self.bif_charge += 1 << 40;
    }

    /// Charge `n` reductions for work a BIF did in proportion to its input:
    /// counted in `reductions` and taken off the running slice's budget at
    /// the next safe point, so a long BIF brings the next preemption closer.
    #[inline]
    pub fn charge(&mut self, n: u64) {
        self.reductions += n;
        self.bif_charge += n as i64;
    }

    pub fn new(vm: &'static Vm, pid: u64) -> Process {
        let shared = Arc::new(Shared {
            pid,
            inbox: Inbox::new(),
            status: AtomicU8::new(RUNNABLE),
            parked: Mutex::new(None),
            links: Mutex::new(Links::default()),
            exit_signal: AtomicBool::new(false),
            name: AtomicU32::new(NO_NAME),
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
            bif_charge: 0,
            exit_reason: None,
            initial_call: (crate::atom::ERLANG, crate::atom::APPLY, 0),
            trap_exit: false,
            pending_exit: None,
            monitoring: Vec::new(),
            code_checks: Vec::new(),
            info_requests: Vec::new(),
            inbox_buf: Vec::new(),
            send_cache: None,
        }
    }

    /// The pid term of this process.
    pub fn self_term(&self) -> Term {
        Term::pid(self.pid)
    }

    /// Move messages from the shared inbox into the private queue, acting
    /// on exit signals as they come (Erlang's rules): trapped ones become
    /// `{'EXIT', From, Reason}` messages; `normal` is ignored (except from
    /// `exit(self(), normal)`); `exit(P, kill)` kills even a trapping
    /// process (reason `killed`); any other kills it with that reason, which
    /// is then left in `pending_exit`. True if a message was added.
    #[inline]
    pub fn take_inbox(&mut self) -> bool {
        // Cleared before the take: a signal pushed after it sets it again.
        if self.shared.exit_signal.load(Ordering::Acquire) {
            self.shared.exit_signal.store(false, Ordering::Release);
        }
        // The common look at an empty inbox stays inline: one load.
        if self.shared.inbox.is_empty() {
            return false;
        }
        self.take_inbox_slow()
    }

    fn take_inbox_slow(&mut self) -> bool {
        let mut buf = std::mem::take(&mut self.inbox_buf);
        let took = self.shared.inbox.take_into(&mut buf);
        if !took {
            self.inbox_buf = buf;
            return false;
        }
        let mut added = false;
        for m in buf.drain(..) {
            let kind = m.kind;
            let term = m.take_in(&mut self.heap);
            match kind {
                MsgKind::Msg => {
                    self.msgs.push_back(term);
                    added = true;
                }
                MsgKind::CheckCode { from, r, module } => {
                    self.code_checks.push((from, r, module));
                }
                MsgKind::Info { from, r, arity } => {
                    // Checked by the asker; answered after this slice.
                    if let Some(items) = crate::bif::procs::info_items(term, arity) {
                        self.info_requests.push((from, r, items));
                    }
                }
                MsgKind::Exit { from, link } => {
                    if self.pending_exit.is_some() {
                        continue;
                    }
                    let reason = term;
                    let kill = !link && reason == Term::atom(crate::atom::KILL);
                    if self.trap_exit && !kill {
                        let t = self.heap.tuple(&[Term::atom(crate::atom::EXIT_UPPER), Term::pid(from), reason]);
                        self.msgs.push_back(t);
                        added = true;
                    } else if reason == Term::atom(crate::atom::NORMAL) && (link || from != self.pid) {
                        // Ignored.
                    } else if kill {
                        self.pending_exit = Some(Term::atom(crate::atom::KILLED));
                    } else {
                        self.pending_exit = Some(reason);
                    }
                }
            }
        }
        self.inbox_buf = buf;
        added
    }

    /// Approximate memory of the process in bytes (`process_info(memory)`).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Process>()
            + std::mem::size_of::<Shared>()
            + (self.heap.capacity_words() + self.heap.spare_words()) * 8
            + self.stack.capacity() * 8
            + self.saved_x.capacity() * 8
    }
}
