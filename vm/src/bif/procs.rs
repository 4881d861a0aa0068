//! BIFs: links, monitors, exit signals and message timers — `link/1`,
//! `unlink/1`, `spawn_link`, `spawn_monitor`, `monitor/2`, `demonitor/1,2`,
//! `exit/2`, `process_flag(trap_exit, _)`, `erlang:send_after/3`,
//! `start_timer/3`, `cancel_timer/1`, `read_timer/1` — and the fun BIFs
//! `fun_info/2` and `make_fun/3` (`fun M:F/A` with variable parts), and
//! `process_info/1,2` and `registered/0`.
//!
//! The rules are Erlang's (the `erlang` manual page, "Processes" in the
//! reference manual); `Process::take_inbox` applies those of the receiving
//! side, `Vm::exit_process` sends a dead process's signals.

use super::{bif, BifDef};
use crate::atom::{self, Atom};
use crate::process::{BifResult, Exc, Message, MsgKind, Process};
use crate::term::*;
use crate::vm::{down_message, SpawnOpts};

pub const BIFS: &[BifDef] = &[
    bif("erlang", "process_info", 1, |p, a| process_info(p, a[0], None)),
    bif("erlang", "process_info", 2, |p, a| process_info(p, a[0], Some(a[1]))),
    bif("erlang", "registered", 0, |p, _| {
        let names: Vec<Term> = p.vm.registered_names().into_iter().map(Term::atom).collect();
        Ok(p.heap.list(&names))
    }),
    bif("erlang", "process_flag", 2, process_flag),
    bif("erlang", "link", 1, link),
    bif("erlang", "unlink", 1, |p, a| match a[0].pid_number() {
        Some(pid) => {
            let vm = p.vm;
            vm.unlink(p, pid);
            Ok(Term::TRUE)
        }
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "spawn_link", 1, |p, a| spawn_fun(p, a[0], true, false)),
    bif("erlang", "spawn_link", 3, |p, a| spawn_mfa(p, a, true, false)),
    bif("erlang", "spawn_monitor", 1, |p, a| spawn_fun(p, a[0], false, true)),
    bif("erlang", "spawn_monitor", 3, |p, a| spawn_mfa(p, a, false, true)),
    bif("erlang", "monitor", 2, monitor),
    bif("erlang", "demonitor", 1, |p, a| demonitor(p, a[0], Term::NIL)),
    bif("erlang", "demonitor", 2, |p, a| demonitor(p, a[0], a[1])),
    bif("erlang", "exit", 2, exit2),
    bif("erlang", "send_after", 3, |p, a| start_timer(p, a, false)),
    bif("erlang", "start_timer", 3, |p, a| start_timer(p, a, true)),
    bif("erlang", "cancel_timer", 1, |p, a| match a[0].ref_number() {
        Some(r) => Ok(p.vm.cancel_msg_timer(r).map(|ms| Term::small(ms as i64)).unwrap_or(Term::FALSE)),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "read_timer", 1, |p, a| match a[0].ref_number() {
        Some(r) => Ok(p.vm.read_msg_timer(r).map(|ms| Term::small(ms as i64)).unwrap_or(Term::FALSE)),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "fun_info", 2, fun_info),
    bif("erlang", "make_fun", 3, |p, a| match (a[0].as_atom(), a[1].as_atom(), a[2].as_small()) {
        (Some(m), Some(f), Some(n)) if (0..=255).contains(&n) => {
            let e = p.vm.code.export(crate::code::Mfa(m, f, n as u8));
            Ok(p.heap.export_fun(e))
        }
        _ => Err(Exc::badarg()),
    }),
];

fn process_flag(p: &mut Process, a: &[Term]) -> BifResult {
    match (a[0].as_atom().map(|a| a.name()), a[1]) {
        (Some("trap_exit"), v) if v.is_bool() => {
            let old = p.trap_exit;
            p.trap_exit = v == Term::TRUE;
            Ok(Term::bool(old))
        }
        _ => Err(Exc::badarg()),
    }
}

fn link(p: &mut Process, a: &[Term]) -> BifResult {
    let Some(pid) = a[0].pid_number() else { return Err(Exc::badarg()) };
    let vm = p.vm;
    if vm.link(p, pid) {
        return Ok(Term::TRUE);
    }
    // A process that does not exist: trapping, the caller gets
    // {'EXIT', Pid, noproc}; otherwise the call fails with noproc.
    if p.trap_exit {
        vm.send_exit(pid, p.pid, Term::atom(atom::intern("noproc")), true);
        Ok(Term::TRUE)
    } else {
        Err(Exc::error(Term::atom(atom::intern("noproc"))))
    }
}

fn spawn_fun(p: &mut Process, f: Term, link: bool, monitor: bool) -> BifResult {
    if !matches!(f.fun_view(), Some(v) if fun_arity(&v) == 0) {
        return Err(Exc::badarg());
    }
    let (opts, r) = spawn_opts(p, link, monitor);
    let pid = p.vm.spawn_fun_opts(f, opts);
    spawned(p, pid, r)
}

fn spawn_mfa(p: &mut Process, a: &[Term], link: bool, monitor: bool) -> BifResult {
    if !a[0].is_atom() || !a[1].is_atom() || a[2].list_length().is_none() {
        return Err(Exc::badarg());
    }
    let (opts, r) = spawn_opts(p, link, monitor);
    let pid = p.vm.spawn_mfa_opts(a[0], a[1], a[2], opts);
    spawned(p, pid, r)
}

fn spawn_opts(p: &mut Process, link: bool, monitor: bool) -> (SpawnOpts, Option<u64>) {
    let r = monitor.then(|| p.vm.make_ref());
    let opts = SpawnOpts { link: link.then_some(p.pid), monitor: r.map(|r| (r, p.pid)) };
    (opts, r)
}

fn spawned(p: &mut Process, pid: u64, r: Option<u64>) -> BifResult {
    match r {
        Some(r) => {
            p.monitoring.push((r, pid));
            let rt = p.heap.reference(r);
            Ok(p.heap.tuple(&[Term::pid(pid), rt]))
        }
        None => Ok(Term::pid(pid)),
    }
}

/// `monitor(process, Pid | Name | {Name, Node})`.
fn monitor(p: &mut Process, a: &[Term]) -> BifResult {
    if a[0].as_atom().map(|t| t.name()) != Some("process") {
        return Err(Exc::badarg());
    }
    let vm = p.vm;
    let node = Term::atom(atom::intern("nonode@nohost"));
    // (target pid if any, registered name used)
    let (target, name): (Option<u64>, Option<Atom>) = if let Some(pid) = a[1].pid_number() {
        (Some(pid), None)
    } else if let Some(n) = a[1].as_atom() {
        (vm.whereis(n), Some(n))
    } else {
        match a[1].tuple_elements() {
            Some([n, nd]) if n.is_atom() && *nd == node => (vm.whereis(n.as_atom().unwrap()), n.as_atom()),
            _ => return Err(Exc::badarg()),
        }
    };
    let r = vm.make_ref();
    let ok = match target {
        Some(t) if t == p.pid => true,
        Some(t) => vm.monitor(p.pid, t, r, name),
        None => false,
    };
    if ok {
        if target != Some(p.pid) {
            p.monitoring.push((r, target.unwrap()));
        }
    } else {
        let item = match name {
            Some(n) => p.heap.tuple(&[Term::atom(n), node]),
            None => a[1],
        };
        let down = down_message(&mut p.heap, r, item, Term::atom(atom::intern("noproc")));
        vm.deliver(p.pid, Message::copy(MsgKind::Msg, down));
    }
    Ok(p.heap.reference(r))
}

/// `demonitor(Ref, Options)` with options `flush` and `info`.
fn demonitor(p: &mut Process, rt: Term, opts: Term) -> BifResult {
    let Some(r) = rt.ref_number() else { return Err(Exc::badarg()) };
    let (mut flush, mut info) = (false, false);
    let mut it = opts.iter_list();
    for o in it.by_ref() {
        match o.as_atom().map(|a| a.name()) {
            Some("flush") => flush = true,
            Some("info") => info = true,
            _ => return Err(Exc::badarg()),
        }
    }
    if !it.tail().is_nil() {
        return Err(Exc::badarg());
    }
    let vm = p.vm;
    let mut removed = false;
    if let Some(i) = p.monitoring.iter().position(|m| m.0 == r) {
        let (_, target) = p.monitoring.remove(i);
        removed = vm.demonitor(target, r);
    }
    if flush {
        p.take_inbox();
        let before = p.msgs.len();
        p.msgs.retain(|m| !is_down_for(*m, r));
        if p.msgs.len() != before {
            p.save = p.save.min(p.msgs.len());
            p.shared.taken.store(p.msgs.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }
    Ok(if info { Term::bool(removed) } else { Term::TRUE })
}

fn is_down_for(m: Term, r: u64) -> bool {
    match m.tuple_elements() {
        Some([tag, rt, _, _, _]) => tag.as_atom().map(|a| a.name()) == Some("DOWN") && rt.ref_number() == Some(r),
        _ => false,
    }
}

/// `exit(Pid, Reason)`: send an exit signal. To itself it acts at once.
fn exit2(p: &mut Process, a: &[Term]) -> BifResult {
    let Some(pid) = a[0].pid_number() else { return Err(Exc::badarg()) };
    let reason = a[1];
    let vm = p.vm;
    if pid != p.pid {
        vm.send_exit(p.pid, pid, reason, false);
        return Ok(Term::TRUE);
    }
    let kill = reason == Term::atom(atom::KILL);
    if p.trap_exit && !kill {
        vm.send_exit(p.pid, pid, reason, false);
        Ok(Term::TRUE)
    } else if kill {
        Err(Exc::Kill(Term::atom(atom::KILLED)))
    } else {
        Err(Exc::Kill(reason))
    }
}

/// `erlang:send_after(Time, Dest, Msg)` (`Msg` arrives as is) and
/// `erlang:start_timer(Time, Dest, Msg)` (`{timeout, TRef, Msg}` arrives).
fn start_timer(p: &mut Process, a: &[Term], tagged: bool) -> BifResult {
    let ms = match a[0].to_i64() {
        Some(ms) if ms >= 0 && a[0].is_integer() => ms as u64,
        _ => return Err(Exc::badarg()),
    };
    let dest = if let Some(pid) = a[1].pid_number() {
        Ok(pid)
    } else if let Some(n) = a[1].as_atom() {
        Err(n)
    } else {
        return Err(Exc::badarg());
    };
    let vm = p.vm;
    let r = vm.make_ref();
    let rt = p.heap.reference(r);
    let msg = if tagged { p.heap.tuple(&[Term::atom(atom::intern("timeout")), rt, a[2]]) } else { a[2] };
    vm.start_msg_timer(r, ms, dest, msg);
    Ok(rt)
}

fn fun_arity(v: &FunView) -> u8 {
    match v {
        FunView::Local { arity, .. } | FunView::Export { arity, .. } => *arity,
    }
}

/// `erlang:fun_info(Fun, Item)`. Funs here do not record the process that
/// made them nor the module's MD5, so `pid` and `new_uniq` of a local fun
/// are not available (badarg).
fn fun_info(p: &mut Process, a: &[Term]) -> BifResult {
    let (Some(v), Some(item)) = (a[0].fun_view(), a[1].as_atom()) else { return Err(Exc::badarg()) };
    let value = match (&v, item) {
        (_, atom::ARITY) => Term::small(fun_arity(&v) as i64),
        (FunView::Local { module, .. }, atom::MODULE) | (FunView::Export { module, .. }, atom::MODULE) => {
            Term::atom(*module)
        }
        (FunView::Local { name, .. }, atom::NAME) => Term::atom(*name),
        (FunView::Export { function, .. }, atom::NAME) => Term::atom(*function),
        (FunView::Local { .. }, atom::TYPE) => Term::atom(atom::LOCAL),
        (FunView::Export { .. }, atom::TYPE) => Term::atom(atom::EXTERNAL),
        (FunView::Local { free, .. }, atom::ENV) => p.heap.list(free),
        (FunView::Export { .. }, atom::ENV) => Term::NIL,
        (FunView::Local { index, .. }, atom::INDEX | atom::NEW_INDEX) => Term::small(*index as i64),
        (FunView::Local { uniq, .. }, atom::UNIQ) => Term::small(*uniq as i64),
        (FunView::Export { .. }, atom::INDEX | atom::NEW_INDEX | atom::UNIQ | atom::NEW_UNIQ | atom::PID) => {
            Term::atom(atom::UNDEFINED)
        }
        _ => return Err(Exc::badarg()),
    };
    Ok(p.heap.tuple(&[a[1], value]))
}

/// The items of `process_info/1`, in OTP's order (`registered_name`
/// first when the process has a name).
const INFO_ALL: &[&str] = &[
    "current_function",
    "initial_call",
    "status",
    "message_queue_len",
    "links",
    "dictionary",
    "trap_exit",
    "error_handler",
    "priority",
    "total_heap_size",
    "heap_size",
    "stack_size",
    "reductions",
    "suspending",
];

/// `process_info(Pid)` and `process_info(Pid, Item | [Item])`.
///
/// Another process's private state is read only where that is safe: when
/// it waits in `receive`, its parked `Box<Process>` is read under the
/// `parked` lock (a waker must take that lock to run it, so it stays put
/// and unchanged meanwhile) and the terms are copied into the caller's
/// heap. A process that is runnable or running on another scheduler
/// answers from its shared part only: `message_queue_len` is exact (the
/// inbox plus the `taken` count the owner keeps), `messages` lists only the
/// messages not yet taken in; its dictionary, monitors,
/// current function, sizes and reductions are not readable, so they show
/// as `[]`, `undefined` and 0.
/// (BEAM would suspend the caller until the target answers; issue 3 keeps
/// that for later, see spec/processes.md.)
fn process_info(p: &mut Process, pid_t: Term, item: Option<Term>) -> BifResult {
    let Some(pid) = pid_t.pid_number() else { return Err(Exc::badarg()) };
    // Check the item(s) first: badarg even for a dead process.
    let items: Option<Vec<Atom>> = match item {
        None => None,
        Some(t) if t.is_atom() => Some(vec![t.as_atom().unwrap()]),
        Some(t) => {
            let mut v = Vec::new();
            let mut it = t.iter_list();
            for e in it.by_ref() {
                v.push(e.as_atom().ok_or_else(Exc::badarg)?);
            }
            if !it.tail().is_nil() {
                return Err(Exc::badarg());
            }
            Some(v)
        }
    };
    if let Some(v) = &items {
        if v.iter().any(|a| !is_info_item(a.name())) {
            return Err(Exc::badarg());
        }
    }
    let undefined = Term::atom(atom::UNDEFINED);
    let results: Vec<Term> = if pid == p.pid {
        let list = info_list(p, items.as_deref());
        let mut out = Vec::new();
        for a in list {
            let v = info_self(p, a);
            out.push(v);
        }
        out
    } else {
        let vm = p.vm;
        let Some(sh) = vm.shared_of_pid(pid) else { return Ok(undefined) };
        let parked = sh.parked.lock().unwrap();
        if sh.status.load(std::sync::atomic::Ordering::Acquire) == crate::process::EXITED {
            return Ok(undefined);
        }
        let mut out = Vec::new();
        match parked.as_ref() {
            Some(other) if sh.status.load(std::sync::atomic::Ordering::Acquire) == crate::process::WAITING => {
                let list = info_list(other, items.as_deref());
                let words = other.heap.capacity_words();
                for a in list {
                    let v = info_of(&mut p.heap, other, words, a, "waiting", true);
                    out.push(v);
                }
            }
            _ => {
                drop(parked);
                let status = match sh.status.load(std::sync::atomic::Ordering::Acquire) {
                    crate::process::RUNNING => "running",
                    crate::process::WAITING => "waiting",
                    crate::process::EXITED => return Ok(undefined),
                    _ => "runnable",
                };
                let named = sh.name.load(std::sync::atomic::Ordering::Acquire) != crate::process::NO_NAME;
                let list: Vec<Atom> = match &items {
                    Some(v) => v.clone(),
                    None => {
                        let mut v: Vec<Atom> = Vec::new();
                        if named {
                            v.push(atom::intern("registered_name"));
                        }
                        v.extend(INFO_ALL.iter().map(|n| atom::intern(n)));
                        v
                    }
                };
                for a in list {
                    let v = info_shared(p, &sh, a, status);
                    out.push(v);
                }
            }
        }
        out
    };
    match item {
        // Not registered: `[]` alone, `{registered_name, []}` in a list.
        Some(t) if t.is_atom() && t.as_atom().map(|a| a.name()) == Some("registered_name") => {
            let v = results[0].tuple_elements().map(|e| e[1]).unwrap_or(Term::NIL);
            Ok(if v.is_nil() { Term::NIL } else { results[0] })
        }
        Some(t) if t.is_atom() => Ok(results[0]),
        _ => Ok(p.heap.list(&results)),
    }
}

fn is_info_item(n: &str) -> bool {
    INFO_ALL.contains(&n) || matches!(n, "registered_name" | "messages" | "memory" | "monitors" | "monitored_by")
}

/// The items to answer: those asked, or `process_info/1`'s.
fn info_list(q: &Process, items: Option<&[Atom]>) -> Vec<Atom> {
    match items {
        Some(v) => v.to_vec(),
        None => {
            let mut v = Vec::new();
            if q.shared.name.load(std::sync::atomic::Ordering::Acquire) != crate::process::NO_NAME {
                v.push(atom::intern("registered_name"));
            }
            v.extend(INFO_ALL.iter().map(|n| atom::intern(n)));
            v
        }
    }
}

fn info_self(p: &mut Process, a: Atom) -> Term {
    // Build on the heap taken out for the while, so `p` can be read; the
    // terms read from `p` are already on that heap (no copy).
    let mut h = std::mem::replace(&mut p.heap, crate::heap::Heap::new());
    let words = h.capacity_words();
    let t = info_of(&mut h, p, words, a, "running", false);
    let spare = std::mem::replace(&mut p.heap, h);
    drop(spare);
    t
}

fn mfa_tuple(h: &mut crate::heap::Heap, m: Atom, f: Atom, a: u8) -> Term {
    h.tuple(&[Term::atom(m), Term::atom(f), Term::small(a as i64)])
}

/// The function holding code address `ip`, if any.
fn function_of(p: &Process, ip: *const crate::op::Op) -> Option<(Atom, Atom, u8)> {
    let inst = p.vm.code.instance_of(ip)?;
    let f = inst.function_at(inst.index_of(ip))?;
    Some((inst.module, f.name, f.arity))
}

/// One item about `q` (a parked process, or `p` itself), built on `p`'s heap.
/// `q_words`: the words of `q`'s heap (`q.heap` is a stand-in when `q`
/// is the caller); `copy`: the terms of `q` live on another heap.
fn info_of(h: &mut crate::heap::Heap, q: &Process, q_words: usize, a: Atom, status: &str, copy: bool) -> Term {
    let name = a.name();
    let copy = |h: &mut crate::heap::Heap, t: Term| if copy { crate::heap::copy_term(t, h) } else { t };
    let v = match name {
        "registered_name" => match q.shared.name.load(std::sync::atomic::Ordering::Acquire) {
            crate::process::NO_NAME => Term::NIL,
            n => Term::atom(Atom(n)),
        },
        "status" => Term::atom(atom::intern(status)),
        "current_function" => {
            let (m, f, ar) = function_of(q, q.ip).unwrap_or(q.initial_call);
            mfa_tuple(h, m, f, ar)
        }
        "initial_call" => {
            let (m, f, ar) = q.initial_call;
            mfa_tuple(h, m, f, ar)
        }
        "message_queue_len" => {
            let inbox = q.shared.inbox.lock().iter().filter(|m| m.kind == crate::process::MsgKind::Msg).count();
            Term::small((q.msgs.len() + inbox) as i64)
        }
        "messages" => {
            let mut v: Vec<Term> = q.msgs.iter().copied().collect();
            for t in v.iter_mut() {
                *t = copy(h, *t);
            }
            // Those not taken in yet are always copied (even about the
            // caller itself: the inbox owns their memory until then).
            let inbox = q.shared.inbox.lock();
            v.extend(inbox.iter().filter(|m| m.kind == MsgKind::Msg).map(|m| m.copy_to(h)));
            drop(inbox);
            h.list(&v)
        }
        "links" => {
            let l: Vec<Term> = q.shared.links.lock().unwrap().links.iter().map(|&x| Term::pid(x)).collect();
            h.list(&l)
        }
        "dictionary" => {
            let d = q.dict.clone();
            let mut v = Vec::new();
            for (k, val) in d {
                let k = copy(h, k);
                let val = copy(h, val);
                v.push(h.tuple(&[k, val]));
            }
            h.list(&v)
        }
        "trap_exit" => Term::bool(q.trap_exit),
        "error_handler" => Term::atom(atom::intern("error_handler")),
        "priority" => Term::atom(atom::intern("normal")),
        "total_heap_size" | "heap_size" => Term::small(q_words as i64),
        "stack_size" => Term::small(q.stack.len() as i64),
        "reductions" => h.int(q.reductions as i64),
        "memory" => h.int((q.memory_bytes() - q.heap.capacity_words() * 8 + q_words * 8) as i64),
        "suspending" => Term::NIL,
        "monitors" => {
            let ms = q.monitoring.clone();
            let mut v = Vec::new();
            for (_, t) in ms {
                v.push(h.tuple(&[Term::atom(atom::intern("process")), Term::pid(t)]));
            }
            h.list(&v)
        }
        "monitored_by" => {
            let l: Vec<Term> = q.shared.links.lock().unwrap().monitors.iter().map(|m| Term::pid(m.1)).collect();
            h.list(&l)
        }
        _ => Term::atom(atom::UNDEFINED),
    };
    h.tuple(&[Term::atom(a), v])
}

/// One item about a process running or runnable on another scheduler:
/// what its shared part tells (see `process_info`).
fn info_shared(p: &mut Process, sh: &crate::process::Shared, a: Atom, status: &str) -> Term {
    let v = match a.name() {
        "registered_name" => match sh.name.load(std::sync::atomic::Ordering::Acquire) {
            crate::process::NO_NAME => Term::NIL,
            n => Term::atom(Atom(n)),
        },
        "status" => Term::atom(atom::intern(status)),
        "message_queue_len" => {
            // Under the inbox lock: the owner moves messages from the inbox
            // to its private queue and updates `taken` under that lock.
            let inbox = sh.inbox.lock();
            let n = inbox.iter().filter(|m| m.kind == crate::process::MsgKind::Msg).count();
            Term::small((n + sh.taken.load(std::sync::atomic::Ordering::Relaxed)) as i64)
        }
        "messages" => {
            let inbox = sh.inbox.lock();
            let v: Vec<Term> =
                inbox.iter().filter(|m| m.kind == MsgKind::Msg).map(|m| m.copy_to(&mut p.heap)).collect();
            drop(inbox);
            p.heap.list(&v)
        }
        "links" => {
            let l: Vec<Term> = sh.links.lock().unwrap().links.iter().map(|&x| Term::pid(x)).collect();
            p.heap.list(&l)
        }
        "monitored_by" => {
            let l: Vec<Term> = sh.links.lock().unwrap().monitors.iter().map(|m| Term::pid(m.1)).collect();
            p.heap.list(&l)
        }
        "dictionary" | "monitors" | "suspending" => Term::NIL,
        "trap_exit" => Term::FALSE,
        "error_handler" => Term::atom(atom::intern("error_handler")),
        "priority" => Term::atom(atom::intern("normal")),
        "current_function" | "initial_call" => Term::atom(atom::UNDEFINED),
        _ => Term::small(0),
    };
    p.heap.tuple(&[Term::atom(a), v])
}
