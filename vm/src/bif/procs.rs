//! BIFs: links, monitors, exit signals and message timers — `link/1`,
//! `unlink/1`, `spawn_link`, `spawn_monitor`, `monitor/2`, `demonitor/1,2`,
//! `exit/2`, `process_flag(trap_exit, _)`, `erlang:send_after/3`,
//! `start_timer/3`, `cancel_timer/1`, `read_timer/1` — and the fun BIFs
//! `fun_info/2` and `make_fun/3` (`fun M:F/A` with variable parts), and
//! `process_info/1,2` (by a request signal the target's scheduler answers:
//! `process_info_request`) and `registered/0`.
//!
//! The rules are Erlang's (the `erlang` manual page, "Processes" in the
//! reference manual); `Process::take_inbox` applies those of the receiving
//! side, `Vm::exit_process` sends a dead process's signals.

use super::{bif, BifDef};
use crate::atom::{self, Atom};
use crate::code::Special;
use crate::process::{BifResult, Exc, Message, MsgKind, Process};
use crate::term::*;
use crate::vm::{down_message, SpawnOpts};

pub const BIFS: &[BifDef] =
    &[
        // About another process they must wait for its answer: written in
        // minierl (`stdlib/lib/erts_process_info.mrl`), on top of
        // `erts_internal:process_info/3`.
        BifDef {
            module: "erlang",
            function: "process_info",
            arity: 1,
            fun: |_, _| Err(Exc::badarg()),
            special: Special::Forward("erts_process_info", "process_info"),
        },
        BifDef {
            module: "erlang",
            function: "process_info",
            arity: 2,
            fun: |_, _| Err(Exc::badarg()),
            special: Special::Forward("erts_process_info", "process_info"),
        },
        bif("erts_internal", "process_info", 3, process_info_request),
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
        bif("erlang", "fun_info", 1, fun_info_all),
        bif("erlang", "spawn_opt", 2, |p, a| spawn_opt(p, None, a[0], a[1])),
        bif("erlang", "spawn_opt", 3, |p, a| {
            local_node(a[0])?;
            spawn_opt(p, None, a[1], a[2])
        }),
        bif("erlang", "spawn_opt", 4, |p, a| spawn_opt(p, Some(&a[..3]), Term::NIL, a[3])),
        bif("erlang", "spawn_opt", 5, |p, a| {
            local_node(a[0])?;
            spawn_opt(p, Some(&a[1..4]), Term::NIL, a[4])
        }),
        bif("erlang", "spawn", 2, |p, a| {
            local_node(a[0])?;
            spawn_fun(p, a[1], false, false)
        }),
        bif("erlang", "spawn", 4, |p, a| {
            local_node(a[0])?;
            spawn_mfa(p, &a[1..], false, false)
        }),
        bif("erlang", "spawn_link", 2, |p, a| {
            local_node(a[0])?;
            spawn_fun(p, a[1], true, false)
        }),
        bif("erlang", "spawn_link", 4, |p, a| {
            local_node(a[0])?;
            spawn_mfa(p, &a[1..], true, false)
        }),
        bif("erlang", "spawn_monitor", 2, |p, a| {
            local_node(a[0])?;
            spawn_fun(p, a[1], false, true)
        }),
        bif("erlang", "spawn_monitor", 4, |p, a| {
            local_node(a[0])?;
            spawn_mfa(p, &a[1..], false, true)
        }),
        bif("erlang", "monitor", 3, |p, a| {
            if a[2].list_length().is_none() {
                return Err(Exc::badarg());
            }
            monitor(p, &a[..2])
        }),
        bif("erlang", "send", 3, |p, a| {
            if a[2].list_length().is_none() {
                return Err(Exc::badarg());
            }
            let vm = p.vm;
            vm.send(p, a[0], a[1]).map(|_| Term::atom(atom::intern("ok")))
        }),
        bif("erlang", "send_after", 4, |p, a| timer_abs(p, a, false)),
        bif("erlang", "start_timer", 4, |p, a| timer_abs(p, a, true)),
        bif("erlang", "cancel_timer", 2, |p, a| timer_op(p, a, true)),
        bif("erlang", "read_timer", 2, |p, a| timer_op(p, a, false)),
        // minierl has no group leader process: output goes to the VM's
        // stdout.  The group leader is reported as the process `<0.0.0>`.
        bif("erlang", "group_leader", 0, |_, _| Ok(Term::pid(0))),
        bif("erlang", "group_leader", 2, |_, a| {
            if a[0].is_pid() && a[1].is_pid() {
                Ok(Term::TRUE)
            } else {
                Err(Exc::badarg())
            }
        }),
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
        // Accepted, with OTP's defaults as the old values; minierl does
        // not act on them.
        (Some("priority"), v) if matches!(v.atom_name(), Some("low" | "normal" | "high" | "max")) => {
            Ok(Term::atom(atom::intern("normal")))
        }
        (Some("min_heap_size"), v) if v.as_small().is_some_and(|n| n >= 0) => Ok(Term::small(233)),
        (Some("min_bin_vheap_size"), v) if v.as_small().is_some_and(|n| n >= 0) => Ok(Term::small(46422)),
        (Some("fullsweep_after"), v) if v.as_small().is_some_and(|n| n >= 0) => Ok(Term::small(65535)),
        (Some("sensitive"), v) if v.is_bool() => Ok(Term::FALSE),
        (Some("save_calls"), v) if v.as_small().is_some_and(|n| (0..=10000).contains(&n)) => Ok(Term::small(0)),
        (Some("message_queue_data"), v) if matches!(v.atom_name(), Some("off_heap" | "on_heap")) => {
            Ok(Term::atom(atom::intern("on_heap")))
        }
        _ => Err(Exc::badarg()),
    }
}

/// Only the local node is known.
fn local_node(n: Term) -> Result<(), Exc> {
    if n.atom_name() == Some("nonode@nohost") {
        Ok(())
    } else {
        Err(Exc::badarg())
    }
}

/// `spawn_opt(Fun, Opts)` or `spawn_opt(M, F, A, Opts)`: `link` and
/// `monitor` act; the tuning options (`{priority, _}`, `{min_heap_size, _}`,
/// `{fullsweep_after, _}`, ...) are checked and ignored.
fn spawn_opt(p: &mut Process, mfa: Option<&[Term]>, fun: Term, opts: Term) -> BifResult {
    let (mut link, mut monitor) = (false, false);
    let mut it = opts.iter_list();
    for o in it.by_ref() {
        match (o.atom_name(), o.tuple_elements()) {
            (Some("link"), _) => link = true,
            (Some("monitor"), _) => monitor = true,
            (_, Some([k, v])) if spawn_opt_ok(k.atom_name(), *v) => {}
            _ => return Err(Exc::badarg()),
        }
    }
    if !it.tail().is_nil() {
        return Err(Exc::badarg());
    }
    match mfa {
        Some(mfa) => spawn_mfa(p, mfa, link, monitor),
        None => spawn_fun(p, fun, link, monitor),
    }
}

/// A tuning option of `spawn_opt` with a value OTP 25 accepts.
fn spawn_opt_ok(key: Option<&str>, v: Term) -> bool {
    let count = v.as_small().is_some_and(|n| n >= 0);
    match key {
        Some("priority") => matches!(v.atom_name(), Some("low" | "normal" | "high" | "max")),
        Some("fullsweep_after" | "min_heap_size" | "min_bin_vheap_size") => count,
        Some("max_heap_size") => count || v.is_map(),
        Some("message_queue_data") => matches!(v.atom_name(), Some("off_heap" | "on_heap")),
        Some("async_dist") => v.is_bool(),
        Some("monitor") => v.list_length().is_some(),
        _ => false,
    }
}

/// `send_after/4` and `start_timer/4`: option `{abs, true}` makes the time
/// absolute on `erlang:monotonic_time(millisecond)`.
fn timer_abs(p: &mut Process, a: &[Term], tagged: bool) -> BifResult {
    let mut abs = false;
    let mut it = a[3].iter_list();
    for o in it.by_ref() {
        match o.tuple_elements() {
            Some([k, v]) if k.atom_name() == Some("abs") && v.is_bool() => abs = *v == Term::TRUE,
            _ => return Err(Exc::badarg()),
        }
    }
    if !it.tail().is_nil() {
        return Err(Exc::badarg());
    }
    let time = if abs {
        let now = p.vm.started.elapsed().as_millis() as i64;
        let t = a[0].as_small().filter(|_| a[0].is_integer()).ok_or_else(Exc::badarg)?;
        Term::small((t - now).max(0))
    } else {
        a[0]
    };
    start_timer(p, &[time, a[1], a[2]], tagged)
}

/// `cancel_timer/2` and `read_timer/2` with options `async` and `info`.
fn timer_op(p: &mut Process, a: &[Term], cancel: bool) -> BifResult {
    let Some(r) = a[0].ref_number() else { return Err(Exc::badarg()) };
    let (mut is_async, mut info) = (false, true);
    let mut it = a[1].iter_list();
    for o in it.by_ref() {
        match o.tuple_elements() {
            Some([k, v]) if k.atom_name() == Some("async") && v.is_bool() => is_async = *v == Term::TRUE,
            Some([k, v]) if k.atom_name() == Some("info") && v.is_bool() => info = *v == Term::TRUE,
            _ => return Err(Exc::badarg()),
        }
    }
    if !it.tail().is_nil() {
        return Err(Exc::badarg());
    }
    let left = if cancel { p.vm.cancel_msg_timer(r) } else { p.vm.read_msg_timer(r) };
    let value = left.map(|ms| Term::small(ms as i64)).unwrap_or(Term::FALSE);
    if is_async {
        if info {
            let tag = Term::atom(atom::intern(if cancel { "cancel_timer" } else { "read_timer" }));
            let msg = p.heap.tuple(&[tag, a[0], value]);
            p.vm.deliver(p.pid, Message::copy(MsgKind::Msg, msg));
        }
        return Ok(Term::atom(atom::intern("ok")));
    }
    Ok(if info { value } else { Term::atom(atom::intern("ok")) })
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

/// `erlang:fun_info(Fun)`: every item, in OTP's order.
fn fun_info_all(p: &mut Process, a: &[Term]) -> BifResult {
    let Some(v) = a[0].fun_view() else { return Err(Exc::badarg()) };
    let items: &[&str] = match v {
        FunView::Local { .. } => {
            &["pid", "module", "new_index", "new_uniq", "index", "uniq", "name", "arity", "env", "type"]
        }
        FunView::Export { .. } => &["module", "name", "arity", "env", "type"],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let t = fun_info(p, &[a[0], Term::atom(atom::intern(item))])?;
        out.push(t);
    }
    Ok(p.heap.list(&out))
}

/// `erlang:fun_info(Fun, Item)`. Funs here do not record the process that
/// made them nor the module's MD5: `pid` of a local fun is the caller, and
/// `new_uniq` is 16 bytes holding `uniq` (OTP's values differ anyway).
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
        (FunView::Local { .. }, atom::PID) => p.self_term(),
        (FunView::Local { uniq, .. }, atom::NEW_UNIQ) => {
            let mut b = [0u8; 16];
            b[12..].copy_from_slice(&uniq.to_be_bytes());
            p.heap.binary(&b)
        }
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

/// What `process_info` was asked: `process_info/1`'s items, one item (the
/// answer is that item's tuple), or a list of items (a list of tuples).
#[derive(Clone, Debug)]
pub enum InfoItems {
    All,
    One(Atom),
    List(Vec<Atom>),
}

/// The items of `process_info(Pid, Item)` (`arity` 2) or `process_info(Pid)`
/// (`arity` 1); `None` if one is not an item (badarg).
pub fn info_items(item: Term, arity: u8) -> Option<InfoItems> {
    let items = if arity == 1 {
        InfoItems::All
    } else if let Some(a) = item.as_atom() {
        InfoItems::One(a)
    } else {
        let mut v = Vec::new();
        let mut it = item.iter_list();
        for e in it.by_ref() {
            v.push(e.as_atom()?);
        }
        if !it.tail().is_nil() {
            return None;
        }
        InfoItems::List(v)
    };
    let ok = match &items {
        InfoItems::All => true,
        InfoItems::One(a) => is_info_item(a.name()),
        InfoItems::List(v) => v.iter().all(|a| is_info_item(a.name())),
    };
    ok.then_some(items)
}

/// `erts_internal:process_info(Pid, Item, Arity)`, the first half of
/// `process_info/1,2` (`erts_process_info.mrl` is the second):
/// - `badarg` (an atom) for a bad pid or item, even of a dead process;
/// - `{value, Answer}` about the caller itself (everything exact, `status`
///   is `running`) or a process that does not exist (`undefined`);
/// - `{wait, Ref}` otherwise: the caller now monitors the process (`Ref`)
///   and has sent it an `Info` signal; its scheduler answers between two of
///   its time slices, when it is at rest (`answer_info_requests`), with
///   `{'$process_info', Ref, Answer}`, or the `'DOWN'` comes first.
///
/// So no process ever reads another's private state, and every answer is
/// exact, as in BEAM (which also sends the target a signal and waits).
fn process_info_request(p: &mut Process, a: &[Term]) -> BifResult {
    let badarg = Ok(Term::atom(atom::BADARG));
    let (Some(pid), Some(arity)) = (a[0].pid_number(), a[2].as_small()) else { return badarg };
    let Some(items) = info_items(a[1], arity as u8) else { return badarg };
    let value = |p: &mut Process, v: Term| Ok(p.heap.tuple(&[Term::atom(atom::intern("value")), v]));
    if pid == p.pid {
        let v = info_answer(p, &items, "running", None);
        return value(p, v);
    }
    let vm = p.vm;
    let r = vm.make_ref();
    if !vm.monitor(p.pid, pid, r, None) {
        return value(p, Term::atom(atom::UNDEFINED));
    }
    p.monitoring.push((r, pid));
    vm.deliver(pid, Message::copy(MsgKind::Info { from: p.pid, r, arity: arity as u8 }, a[1]));
    let rt = p.heap.reference(r);
    Ok(p.heap.tuple(&[Term::atom(atom::intern("wait")), rt]))
}

/// `p`'s answer about itself, built on its heap; `status` is what it is
/// doing (`running` when it asks about itself, `waiting` or `runnable`
/// when its scheduler answers a request between two slices).
/// `hide`: the monitor of the request being answered, which
/// `monitored_by` does not show (the asker did not make it).
fn info_answer(p: &mut Process, items: &InfoItems, status: &str, hide: Option<u64>) -> Term {
    let list = match items {
        InfoItems::All => info_list(p, None),
        InfoItems::One(a) => vec![*a],
        InfoItems::List(v) => v.clone(),
    };
    let results: Vec<Term> = list.into_iter().map(|a| info_self(p, a, status, hide)).collect();
    match items {
        // Not registered: `[]` alone, `{registered_name, []}` in a list.
        InfoItems::One(a) if a.name() == "registered_name" => {
            let v = results[0].tuple_elements().map(|e| e[1]).unwrap_or(Term::NIL);
            if v.is_nil() {
                Term::NIL
            } else {
                results[0]
            }
        }
        InfoItems::One(_) => results[0],
        _ => p.heap.list(&results),
    }
}

/// Answer the `process_info` requests `p` has taken in. Called by the
/// scheduler after a time slice that ended in a yield (`status`
/// `runnable`) or a wait (`waiting`), when `p.ip` and the stack are at rest.
pub fn answer_info_requests(p: &mut Process, status: &str) {
    for (from, r, items) in std::mem::take(&mut p.info_requests) {
        let v = info_answer(p, &items, status, Some(r));
        let rt = p.heap.reference(r);
        let t = p.heap.tuple(&[Term::atom(atom::intern("$process_info")), rt, v]);
        p.vm.deliver(from, Message::copy(MsgKind::Msg, t));
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

fn info_self(p: &mut Process, a: Atom, status: &str, hide: Option<u64>) -> Term {
    // Build on the heap taken out for the while, so `p` can be read; the
    // terms read from `p` are already on that heap (no copy).
    let mut h = std::mem::replace(&mut p.heap, crate::heap::Heap::new());
    let words = (h.young_capacity_words(), h.capacity_words());
    let t = info_of(&mut h, p, words, a, status, hide);
    let spare = std::mem::replace(&mut p.heap, h);
    drop(spare);
    t
}

fn mfa_tuple(h: &mut crate::heap::Heap, m: Atom, f: Atom, a: u8) -> Term {
    h.tuple(&[Term::atom(m), Term::atom(f), Term::small(a as i64)])
}

/// The function `q` is in: where it resumes, or, when that is the
/// `erts_process_info` helper (it asks about itself, or waits for another
/// process's answer), the function that called `process_info`, as BEAM
/// shows the caller of a BIF.
fn current_function(q: &Process) -> Option<(Atom, Atom, u8)> {
    let helper = atom::intern("erts_process_info");
    let here = function_of(q, q.ip)?;
    if here.0 != helper {
        return Some(here);
    }
    q.stack
        .iter()
        .rev()
        .filter_map(|t| t.as_cp())
        .filter_map(|cp| function_of(q, cp as *const crate::op::Op))
        .find(|f| f.0 != helper)
}

/// The function holding code address `ip`, if any.
fn function_of(p: &Process, ip: *const crate::op::Op) -> Option<(Atom, Atom, u8)> {
    let inst = p.vm.code.instance_of(ip)?;
    let f = inst.function_at(inst.index_of(ip))?;
    Some((inst.module, f.name, f.arity))
}

/// One item about `q`, built on `h`, which is `q`'s own heap taken out
/// for the while (`info_self`): `q.heap` is a stand-in, `q_words` the sizes
/// of the real one (young, total), and `q`'s terms are already on `h`.
fn info_of(
    h: &mut crate::heap::Heap,
    q: &Process,
    q_words: (usize, usize),
    a: Atom,
    status: &str,
    hide: Option<u64>,
) -> Term {
    let name = a.name();
    let v = match name {
        "registered_name" => match q.shared.name.load(std::sync::atomic::Ordering::Acquire) {
            crate::process::NO_NAME => Term::NIL,
            n => Term::atom(Atom(n)),
        },
        "status" => Term::atom(atom::intern(status)),
        "current_function" => {
            let (m, f, ar) = current_function(q).unwrap_or(q.initial_call);
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
            // Those not taken in yet are copied: the inbox owns their
            // memory until then.
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
            let mut v = Vec::new();
            for &(k, val) in q.dict.iter() {
                v.push(h.tuple(&[k, val]));
            }
            h.list(&v)
        }
        "trap_exit" => Term::bool(q.trap_exit),
        "error_handler" => Term::atom(atom::intern("error_handler")),
        "priority" => Term::atom(atom::intern("normal")),
        // BEAM's heap_size is the young heap; total_heap_size adds the
        // old one (`gc.rs`).
        "heap_size" => Term::small(q_words.0 as i64),
        "total_heap_size" => Term::small(q_words.1 as i64),
        "stack_size" => Term::small(q.stack.len() as i64),
        "reductions" => h.int(q.reductions as i64),
        "memory" => h.int((q.memory_bytes() - q.heap.capacity_words() * 8 + q_words.1 * 8) as i64),
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
            let l: Vec<Term> = q
                .shared
                .links
                .lock()
                .unwrap()
                .monitors
                .iter()
                .filter(|m| Some(m.0) != hide)
                .map(|m| Term::pid(m.1))
                .collect();
            h.list(&l)
        }
        _ => Term::atom(atom::UNDEFINED),
    };
    h.tuple(&[Term::atom(a), v])
}
