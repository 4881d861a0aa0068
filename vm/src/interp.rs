//! The interpreter: runs one process for a budget of reductions and returns
//! an `Outcome` (yield, wait, exit, halt) instead of blocking.
//!
//! The dispatch loop matches on the current op; each arm reads its operands
//! and either does the work inline (moves, tests, the small-int fast paths)
//! or calls a small function. Reductions are charged only at calls, returns
//! and `LoopRecEnd` back-edges, as BEAM does; garbage is collected only at
//! safe points (`TestHeap`, calls, returns, waits) where the number of
//! live x registers is known: a `TestHeap` whose words do not fit, and a
//! call or return after an op that allocated outside a reservation
//! (`arm_if_gc!` in `run`).
//!
//! Calls push the continuation pointer (CP) on the stack, `Allocate` pushes
//! the y slots above it, `Return` pops the CP. So a frame is
//! `[CP, y(n-1) .. y0]` and every CP on the stack is a real return address,
//! which is what stack traces and `check_process_code` read.

use crate::atom::{self, Atom};
use crate::code::{ExportEntry, Mfa, Special};
use crate::gc;
use crate::op::{Cmp, CodePtr, Dst, Op, Src};
use crate::process::{Class, Exc, Process};
use crate::term::*;
use minierl_bytecode::{ErrorKind, TypeTest};
use std::cmp::Ordering;

/// Reductions per time slice. BEAM uses 4000: long enough that switching
/// costs little, short enough that a busy process lets others run often.
pub const REDUCTIONS: i64 = 4000;

/// Number of x registers (as `minierl_bytecode::MAX_X_REGS`).
pub const MAX_X: usize = minierl_bytecode::MAX_X_REGS as usize;

/// How many stack trace entries an exception keeps (BEAM's default
/// `backtrace_depth`).
pub const BACKTRACE_DEPTH: usize = 8;

/// The op a process's outermost function returns to.
pub static EXIT_OP: Op = Op::ProcessExit;

/// Why `run` returned.
#[derive(Debug)]
pub enum Outcome {
    /// Out of reductions: put the process back in the run queue.
    Yield,
    /// Waiting for a message (and maybe `p.timer`).
    Wait,
    /// Finished normally (its first function returned).
    Normal,
    /// Died of an uncaught exception.
    Crash { class: Class, reason: Term, trace: Term },
    /// `erlang:exit/1` outside a catch is also a crash with class exit.
    /// `erlang:halt/1`.
    Halt(i32),
}

/// An extra top frame for a stack trace: a BIF or an undefined function
/// called with these arguments.
#[derive(Clone, Copy)]
pub struct Extra {
    pub module: Atom,
    pub function: Atom,
    pub args: Term,
    pub error_info: bool,
}

type Raise = (Exc, Option<Extra>);

// Register access without bounds checks. Why it is sound:
// - x registers: the loader (`check_indices`) rejects any x operand
//   >= MAX_X_REGS, and `run` asserts that `x` has MAX_X registers;
// - y slots: the verifier guarantees that a y operand is below the size of
//   the frame the function allocated, and that frame is the top of the stack
//   (`Allocate` pushes it above the CP, calls push above it only for the
//   callee, which pops before returning).

#[inline(always)]
fn xr(x: &[Term], r: usize) -> Term {
    debug_assert!(r < x.len());
    // SAFETY: r < MAX_X <= x.len() (see above).
    unsafe { *x.get_unchecked(r) }
}

#[inline(always)]
fn xw(x: &mut [Term], r: usize, v: Term) {
    debug_assert!(r < x.len());
    // SAFETY: r < MAX_X <= x.len() (see above).
    unsafe { *x.get_unchecked_mut(r) = v }
}

#[inline(always)]
fn yr(stack: &[Term], y: usize) -> Term {
    debug_assert!(y < stack.len());
    // SAFETY: y is inside the current frame, on top of the stack (see above).
    unsafe { *stack.get_unchecked(stack.len() - 1 - y) }
}

#[inline(always)]
fn yw(stack: &mut [Term], y: usize, v: Term) {
    debug_assert!(y < stack.len());
    let l = stack.len();
    // SAFETY: y is inside the current frame, on top of the stack (see above).
    unsafe { *stack.get_unchecked_mut(l - 1 - y) = v }
}

#[inline(always)]
fn get(x: &[Term], stack: &[Term], s: Src) -> Term {
    match s.0 & 0xFF {
        SP_XREG => xr(x, s.index()),
        SP_YREG => yr(stack, s.index()),
        _ => Term::from_raw(s.0),
    }
}

#[inline(always)]
fn put(x: &mut [Term], stack: &mut [Term], d: Dst, v: Term) {
    match d {
        Dst::X(r) => xw(x, r as usize, v),
        Dst::Y(r) => yw(stack, r as usize, v),
    }
}

/// The live x registers at `t`, where a remote call, fun call or apply
/// continues: a function's entry (just after its `FuncInfo`) takes its
/// arity (a fun's arity plus its free variables); anything else is the
/// caller's code after a BIF returned, or `EXIT_OP`, with the result in x0.
#[cold]
fn live_after_call(p: &Process, t: *const Op) -> usize {
    if let Some(inst) = p.vm.code.instance_of(t) {
        let i = inst.index_of(t) as usize;
        if i > 0 {
            if let Op::FuncInfo { arity, .. } = inst.code[i - 1] {
                return arity as usize;
            }
        }
    }
    1
}

/// Prepare `p` to start in `entry` with `args` (already on its heap).
pub fn setup_call(p: &mut Process, entry: *const Op, args: &[Term]) {
    p.stack.clear();
    p.stack.push(Term::cp(&EXIT_OP as *const Op as *const u8));
    p.ip = entry;
    p.saved_x.clear();
    p.saved_x.extend_from_slice(args);
}

/// Run `p` for up to `budget` reductions with the scheduler's registers.
///
/// The hot state lives in locals the compiler can keep in registers: `ip`,
/// the x registers' base `x`, the frame pointer `fp` (one past the top of
/// the stack, so y slot `i` is `fp[-1-i]`) and the reduction count. Inside
/// the loop `fp` is the top of the stack: calls, returns and frames move it
/// without touching `p.stack`, whose length is written back (`sync_len!`)
/// before anything out of line that reads the stack (the collector, BIFs,
/// calls through the export table, `rare`, `unwind`, the end of the slice);
/// `fp` is refreshed (`sync_fp!`) after anything that may change it.
///
/// The rare ops (maps, binaries, receive, exceptions, funs) run out of line
/// in `rare`, which keeps this function small enough for its hot values to
/// stay in registers.
pub fn run(p: &mut Process, xs: &mut [Term], budget: i64) -> Outcome {
    assert!(xs.len() >= MAX_X, "the unchecked register accesses rely on it");
    let n = p.saved_x.len();
    xs[..n].copy_from_slice(&p.saved_x);
    p.saved_x.clear();
    // From here on the registers are reached through `x` only.
    let x: *mut Term = xs.as_mut_ptr();
    let mut ip: *const Op = p.ip;
    let mut fp: *mut Term = frame_end(p);
    // The end of the stack's buffer: `Allocate` compares `fp` with it (the
    // words between are spare capacity). Refreshed with `fp`.
    let mut slim: *mut Term = stack_limit(p);
    // Reductions charged by BIFs are taken off both `reds` and `budget`:
    // they bring the yield closer and are already in `p.reductions`. Taken
    // only where a BIF may have run (after `Op::Bif` and at the safe point
    // of remote calls, which reach BIFs), not on local calls and returns.
    //
    // `budget` is read only when the slice ends: kept in memory (its
    // address escapes through `black_box`), it leaves the registers to the
    // values every op uses (given the choice, the register allocator kept
    // `budget` in a register and `reds` on the stack).
    let mut reds = budget;
    let mut budget_slot = budget;
    let budget: &mut i64 = std::hint::black_box(&mut budget_slot);
    // The safe points of local calls and returns test only `reds`. An op
    // that may have allocated outside a `TestHeap` reservation (BIFs,
    // bignum arithmetic, constructions not covered by one, the rare ops,
    // exceptions) and so may have made the heap want a collection
    // "arms" the next safe point instead (`arm_if_gc!`): it parks the
    // count here and sets `reds` to 0, so that safe point takes its slow
    // path, which puts the count back, collects and yields only if the
    // count is spent. A missed arm only delays a collection to the next
    // `TestHeap` or the end of the slice.
    let mut parked: i64 = 0;
    macro_rules! take_bif_charge {
        () => {{
            if p.bif_charge != 0 {
                let c = std::mem::take(&mut p.bif_charge);
                reds -= c;
                *budget -= c;
            }
        }};
    }

    // Register access without bounds checks (see the comment above `xr`).
    macro_rules! xs {
        () => {
            // SAFETY: `x` is the base of `xs` (MAX_X registers or more),
            // which nothing else reaches while `run` runs.
            unsafe { std::slice::from_raw_parts_mut(x, MAX_X) }
        };
    }
    macro_rules! xr {
        ($r:expr) => {{
            let r = $r as usize;
            debug_assert!(r < MAX_X);
            // SAFETY: r < MAX_X (loader check), x has MAX_X registers.
            unsafe { *x.add(r) }
        }};
    }
    macro_rules! xw {
        ($r:expr, $v:expr) => {{
            let (r, v) = ($r as usize, $v);
            debug_assert!(r < MAX_X);
            // SAFETY: as for xr.
            unsafe { *x.add(r) = v }
        }};
    }
    macro_rules! yr {
        ($y:expr) => {{
            let y = $y as usize;
            debug_assert!(y < depth(p, fp));
            // SAFETY: y is inside the current frame, on top of the stack
            // (verifier), and fp is one past the top.
            unsafe { *fp.sub(1 + y) }
        }};
    }
    macro_rules! yw {
        ($y:expr, $v:expr) => {{
            let (y, v) = ($y as usize, $v);
            debug_assert!(y < depth(p, fp));
            // SAFETY: as for yr.
            unsafe { *fp.sub(1 + y) = v }
        }};
    }
    macro_rules! g {
        ($s:expr) => {{
            let s: Src = $s;
            match s.0 & 0xFF {
                SP_XREG => xr!(s.index()),
                SP_YREG => yr!(s.index()),
                _ => Term::from_raw(s.0),
            }
        }};
    }
    macro_rules! s {
        ($d:expr, $v:expr) => {{
            let v = $v;
            match $d {
                Dst::X(r) => xw!(r, v),
                Dst::Y(r) => yw!(r, v),
            }
        }};
    }
    macro_rules! sync_fp {
        () => {{
            fp = frame_end(p);
            slim = stack_limit(p);
        }};
    }
    macro_rules! sync_len {
        () => {{
            let l = depth(p, fp);
            debug_assert!(l <= p.stack.capacity());
            // SAFETY: every word below fp is initialised (pushed or
            // allocated), and fp is within the buffer's capacity.
            unsafe { p.stack.set_len(l) }
        }};
    }
    // Push a continuation pointer. No capacity check: every frame was
    // allocated with room for one more word above it (`allocate`), and a
    // body call, the only kind that pushes here, needs a frame (verifier).
    macro_rules! push_cp {
        ($cp:expr) => {{
            let cp = Term::cp($cp as *const u8);
            debug_assert!(depth(p, fp) < p.stack.capacity());
            // SAFETY: the slot at fp is within the capacity (see above).
            unsafe {
                fp.write(cp);
                fp = fp.add(1);
            }
        }};
    }
    // Push a continuation pointer made at load time (`Term::cp`).
    macro_rules! push_cp_term {
        ($cp:expr) => {{
            let cp: Term = $cp;
            debug_assert!(cp.as_cp().is_some());
            debug_assert!(depth(p, fp) < p.stack.capacity());
            // SAFETY: as for push_cp.
            unsafe {
                fp.write(cp);
                fp = fp.add(1);
            }
        }};
    }
    // Pop the continuation pointer on top of the stack.
    macro_rules! pop_cp {
        () => {{
            debug_assert!(depth(p, fp) > 0);
            // SAFETY: the verifier guarantees no frame is left at a return,
            // so the top of the stack is the CP our caller pushed (the
            // bottom one is EXIT_OP's, pushed by `setup_call`).
            let t = unsafe {
                fp = fp.sub(1);
                *fp
            };
            match t.as_cp() {
                Some(cp) => cp as *const Op,
                None => no_cp(),
            }
        }};
    }
    // Pop a frame of `n` y slots.
    macro_rules! drop_frame {
        ($n:expr) => {{
            let n = $n as usize;
            debug_assert!(depth(p, fp) > n);
            // SAFETY: the verifier guarantees this frame of n slots is on
            // top (above the CP); Terms need no drop.
            unsafe { fp = fp.sub(n) };
        }};
    }
    macro_rules! next {
        () => {{
            // SAFETY: the verifier guarantees that control never falls off
            // the end of a function, so ip + 1 is inside the code array.
            ip = unsafe { ip.add(1) };
            continue;
        }};
    }
    // Skip the op absorbed by a fused op (`loader::fuse`).
    macro_rules! next2 {
        () => {{
            // SAFETY: the fused op's second half follows it, and the op
            // after that exists (verified).
            ip = unsafe { ip.add(2) };
            continue;
        }};
    }
    macro_rules! jump {
        ($l:expr) => {{
            ip = $l.0;
            continue;
        }};
    }
    // Raise at `ip`: continue in the nearest catch, or end the process.
    macro_rules! raise {
        ($r:expr) => {{
            let (exc, extra): Raise = $r;
            sync_len!();
            match unwind(p, xs!(), ip, exc, extra) {
                Ok(h) => {
                    ip = h;
                    sync_fp!();
                    arm_if_gc!();
                    continue;
                }
                Err(o) => {
                    p.reductions += (*budget - reds - parked).max(0) as u64;
                    return o;
                }
            }
        }};
    }
    macro_rules! fail_or {
        ($fail:expr, $r:expr) => {{
            if $fail.is_null() {
                raise!($r)
            } else {
                jump!($fail)
            }
        }};
    }
    macro_rules! arm_if_gc {
        () => {{
            if p.heap.wants_gc() {
                parked += reds;
                reds = 0;
            }
        }};
    }
    // The value of an expression that may allocate outside a reservation,
    // arming the next safe point if it made the heap want a collection.
    macro_rules! allocating {
        ($e:expr) => {{
            let r = $e;
            arm_if_gc!();
            r
        }};
    }
    // A safe point after a call or return: maybe collect (armed), maybe
    // yield.
    macro_rules! safepoint {
        ($live:expr) => {{
            reds -= 1;
            if reds <= 0 {
                reds += std::mem::take(&mut parked);
                if p.heap.wants_gc() {
                    sync_len!();
                    gc::collect(p, xs!(), $live as usize, 0);
                }
                if reds <= 0 {
                    sync_len!();
                    return yield_slice(p, xs!(), $live as usize, ip, *budget - reds);
                }
            }
        }};
    }
    // Continue at a local call's target. The operands are read before `ip`
    // changes: nothing of the op is used after, so the op's address and
    // the next `ip` can share one register.
    macro_rules! goto_call {
        ($target:expr, $arity:expr) => {{
            let (t, live): (CodePtr, u8) = ($target, $arity);
            ip = t.0;
            safepoint!(live);
            continue;
        }};
    }
    // A safe point after a remote call, a fun call or an apply: the live
    // registers are not the call's arity but the arguments of the function
    // reached (a fun's free variables ride in x registers after its
    // arguments; `apply/3` passes its list's length), or x0 alone after a
    // BIF returned. Found only when a collection or a yield needs them.
    macro_rules! safepoint_call {
        () => {{
            reds -= 1;
            take_bif_charge!();
            if reds <= 0 {
                reds += std::mem::take(&mut parked);
            }
            if reds <= 0 || p.heap.wants_gc() {
                let live = live_after_call(p, ip);
                sync_len!();
                if p.heap.wants_gc() {
                    gc::collect(p, xs!(), live, 0);
                }
                if reds <= 0 {
                    return yield_slice(p, xs!(), live, ip, *budget - reds - parked);
                }
            }
        }};
    }
    // Collects only when the block is short of `words`: a heap that wants
    // a collection for other reasons (fragments) has armed the next safe
    // point.
    macro_rules! test_heap {
        ($words:expr, $live:expr) => {{
            let w = $words as usize;
            if p.heap.free_words() < w {
                sync_len!();
                gc::collect(p, xs!(), $live as usize, w);
            }
        }};
    }
    // No collection here: nothing allocates between the call that reached
    // this function (a safe point) and its `Allocate`, and the next safe
    // point comes soon enough for what the ops before it allocated.
    macro_rules! allocate {
        ($stack:expr) => {{
            let n = $stack as usize;
            // Room for the frame and a CP above it, and for the FRAME_FILL
            // words `fill_frame` writes: n + FRAME_FILL >= max(n,
            // FRAME_FILL - 1) + 1. Address arithmetic only.
            if (slim as usize).wrapping_sub(fp as usize) < (n + FRAME_FILL) * std::mem::size_of::<Term>() {
                fp = grow_stack(p, fp, n + FRAME_FILL);
                slim = stack_limit(p);
            }
            // SAFETY: there are at least n + FRAME_FILL words of capacity
            // above fp (checked above).
            fp = unsafe { fill_frame(fp, n) };
        }};
    }
    macro_rules! put_tuple {
        ($elements:expr) => {{
            let elements: &[Src] = $elements;
            let n = elements.len();
            let ptr = p.heap.alloc(1 + n);
            for (i, el) in elements.iter().enumerate() {
                let v = g!(*el);
                // SAFETY: ptr has 1 + n words.
                unsafe { *ptr.add(1 + i) = v.raw() };
            }
            // SAFETY: as above; every word is written before the next
            // safe point.
            unsafe { *ptr = header(KIND_TUPLE, n) };
            Term::from_boxed_ptr(ptr)
        }};
    }
    macro_rules! arith_error {
        ($e:expr, $va:expr, $vb:expr, $name:expr) => {{
            let args = p.heap.list(&[$va, $vb]);
            ($e, Some(Extra { module: atom::ERLANG, function: atom::intern($name), args, error_info: true }))
        }};
    }

    // `AllocateMoveXYSubImmXCall`'s work, at `ip` (also reached from a
    // failed base-case test whose `fail` is such an op: `fail_into`).
    macro_rules! allocate_move_sub_call {
        ($stack:expr, $ysrc:expr, $ydst:expr, $a:expr, $dst:expr, $arity:expr, $imm:expr, $target:expr, $cp:expr) => {{
            allocate!($stack);
            yw!($ydst, xr!($ysrc));
            let va = xr!($a);
            let r = match small_sub_imm(va, $imm) {
                Some(r) => r,
                None => {
                    // Raise where the subtraction is (its line).
                    // SAFETY: the absorbed MoveXY and the fused
                    // SubImmXCall follow.
                    ip = unsafe { ip.add(2) };
                    match allocating!(arith_slow(p, va, $imm, false, false)) {
                        Ok(v) => v,
                        Err(r) => raise!(r),
                    }
                }
            };
            xw!($dst, r);
            // The op after the SubImmXCall's absorbed Call.
            push_cp_term!($cp);
            goto_call!($target, $arity)
        }};
    }
    // A message or a BIF of the last slice may have left a collection due.
    arm_if_gc!();
    loop {
        // SAFETY: ip always points at an op of a loaded instance (never
        // freed) or at EXIT_OP: it is set only from verified labels,
        // continuation pointers we pushed, or export targets.
        let op = unsafe { &*ip };
        match op {
            Op::MoveXX { src, dst } => {
                xw!(*dst, xr!(*src));
                next!()
            }
            Op::MoveXY { src, dst } => {
                yw!(*dst, xr!(*src));
                next!()
            }
            Op::MoveYX { src, dst } => {
                xw!(*dst, yr!(*src));
                next!()
            }
            Op::MoveYY { src, dst } => {
                yw!(*dst, yr!(*src));
                next!()
            }
            Op::MoveCX { src, dst } => {
                xw!(*dst, *src);
                next!()
            }
            Op::MoveCY { src, dst } => {
                yw!(*dst, *src);
                next!()
            }
            Op::Move { src, dst } => {
                s!(*dst, g!(*src));
                next!()
            }
            Op::IsConsX { src, fail } => {
                if xr!(*src).is_cons() {
                    next!()
                }
                jump!(*fail)
            }
            Op::IsNilX { src, fail } => {
                if xr!(*src).is_nil() {
                    next!()
                }
                jump!(*fail)
            }
            Op::IsConsGetListX { src, fail, head, tail } => {
                let l = xr!(*src);
                if l.is_cons() {
                    let (h, t) = l.cons_unchecked();
                    s!(*head, h);
                    s!(*tail, t);
                    next2!()
                }
                jump!(*fail)
            }
            Op::TestHeapPutList { words, live, head, tail, dst } => {
                test_heap!(*words, *live);
                let (h, t) = (g!(*head), g!(*tail));
                let c = p.heap.cons(h, t);
                s!(*dst, c);
                next2!()
            }
            Op::TestHeapPutTuple { words, live, elements, dst } => {
                test_heap!(*words, *live);
                let t = put_tuple!(elements);
                s!(*dst, t);
                next2!()
            }
            Op::SelectValImmX { src, fail, table } => {
                let v = xr!(*src);
                let mut to = *fail;
                for (k, l) in table.iter() {
                    if *k == v {
                        to = *l;
                        break;
                    }
                }
                jump!(to)
            }
            Op::AddImmYX { a, dst, imm, fail, swapped } => {
                let va = yr!(*a);
                if let Some(r) = small_add_imm(va, *imm) {
                    xw!(*dst, r);
                    next!()
                }
                match allocating!(arith_slow(p, va, *imm, *swapped, true)) {
                    Ok(v) => {
                        xw!(*dst, v);
                        next!()
                    }
                    Err(r) => fail_or!(*fail, r),
                }
            }
            Op::SubImmYX { a, dst, imm, fail } => {
                let va = yr!(*a);
                if let Some(r) = small_sub_imm(va, *imm) {
                    xw!(*dst, r);
                    next!()
                }
                match allocating!(arith_slow(p, va, *imm, false, false)) {
                    Ok(v) => {
                        xw!(*dst, v);
                        next!()
                    }
                    Err(r) => fail_or!(*fail, r),
                }
            }
            Op::SelectValImm { src, fail, table } => {
                let v = g!(*src);
                let mut to = *fail;
                for (k, l) in table.iter() {
                    if *k == v {
                        to = *l;
                        break;
                    }
                }
                jump!(to)
            }
            Op::GetListX { src, head, tail } => {
                let (h, t) = xr!(*src).cons_unchecked();
                s!(*head, h);
                s!(*tail, t);
                next!()
            }
            Op::IsEqImmX { src, imm, fail } => {
                if xr!(*src) == *imm {
                    next!()
                }
                jump!(*fail)
            }
            Op::IsNeImmX { src, imm, fail } => {
                if xr!(*src) != *imm {
                    next!()
                }
                jump!(*fail)
            }
            Op::TestArityX { src, arity, fail } => {
                let t = xr!(*src);
                if t.is_tuple() && t.tuple_unchecked().len() as u32 == *arity {
                    next!()
                }
                jump!(*fail)
            }
            Op::GetTupleElementX { src, index, dst } => {
                let e = xr!(*src).tuple_unchecked()[*index as usize];
                s!(*dst, e);
                next!()
            }
            Op::AddImmXX { a, dst, imm, fail, swapped } => {
                let va = xr!(*a);
                if let Some(r) = small_add_imm(va, *imm) {
                    xw!(*dst, r);
                    next!()
                }
                match allocating!(arith_slow(p, va, *imm, *swapped, true)) {
                    Ok(v) => {
                        xw!(*dst, v);
                        next!()
                    }
                    Err(r) => fail_or!(*fail, r),
                }
            }
            Op::SubImmXX { a, dst, imm, fail } => {
                let va = xr!(*a);
                if let Some(r) = small_sub_imm(va, *imm) {
                    xw!(*dst, r);
                    next!()
                }
                match allocating!(arith_slow(p, va, *imm, false, false)) {
                    Ok(v) => {
                        xw!(*dst, v);
                        next!()
                    }
                    Err(r) => fail_or!(*fail, r),
                }
            }
            Op::IsEqImm { src, imm, fail } => {
                if g!(*src) == *imm {
                    next!()
                }
                jump!(*fail)
            }
            Op::IsNeImm { src, imm, fail } => {
                if g!(*src) != *imm {
                    next!()
                }
                jump!(*fail)
            }
            Op::AddImm { a, imm, dst, fail, swapped } => {
                let va = g!(*a);
                if let Some(r) = small_add_imm(va, *imm) {
                    s!(*dst, r);
                    next!()
                }
                match allocating!(arith_slow(p, va, *imm, *swapped, true)) {
                    Ok(v) => {
                        s!(*dst, v);
                        next!()
                    }
                    Err(r) => fail_or!(*fail, r),
                }
            }
            Op::SubImm { a, imm, dst, fail } => {
                let va = g!(*a);
                if let Some(r) = small_sub_imm(va, *imm) {
                    s!(*dst, r);
                    next!()
                }
                match allocating!(arith_slow(p, va, *imm, false, false)) {
                    Ok(v) => {
                        s!(*dst, v);
                        next!()
                    }
                    Err(r) => fail_or!(*fail, r),
                }
            }
            Op::Cmp { op, a, b, fail } => {
                let (a, b) = (g!(*a), g!(*b));
                let ok = if a.is_small() && b.is_small() {
                    // Tagged smalls compare as their values do.
                    let (a, b) = (a.raw() as i64, b.raw() as i64);
                    match op {
                        Cmp::Lt => a < b,
                        Cmp::Ge => a >= b,
                        Cmp::Eq | Cmp::EqExact => a == b,
                        Cmp::Ne | Cmp::NeExact => a != b,
                    }
                } else {
                    compare(*op, a, b)
                };
                if ok {
                    next!()
                }
                jump!(*fail)
            }
            Op::Add { a, b, dst, fail, .. } => {
                let (va, vb) = (g!(*a), g!(*b));
                if let Some(r) = small_add(va, vb) {
                    s!(*dst, r);
                    next!()
                }
                match allocating!(crate::bif::arith::add(p, va, vb)) {
                    Ok(v) => {
                        s!(*dst, v);
                        next!()
                    }
                    Err(e) if float_instruction("+", &[*a, *b]) => fail_or!(*fail, (e, None)),
                    Err(e) => fail_or!(*fail, arith_error!(e, va, vb, "+")),
                }
            }
            Op::Sub { a, b, dst, fail, .. } => {
                let (va, vb) = (g!(*a), g!(*b));
                if let Some(r) = small_sub(va, vb) {
                    s!(*dst, r);
                    next!()
                }
                match allocating!(crate::bif::arith::sub(p, va, vb)) {
                    Ok(v) => {
                        s!(*dst, v);
                        next!()
                    }
                    Err(e) if float_instruction("-", &[*a, *b]) => fail_or!(*fail, (e, None)),
                    Err(e) => fail_or!(*fail, arith_error!(e, va, vb, "-")),
                }
            }
            Op::Call { arity, target } => {
                // SAFETY: the op after a call exists (verified).
                push_cp!(unsafe { ip.add(1) });
                goto_call!(*target, *arity)
            }
            Op::MoveCall { src, dst, arity, target, cp } => {
                xw!(*dst, g!(*src));
                // The op after the fused Call.
                push_cp_term!(*cp);
                goto_call!(*target, *arity)
            }
            Op::MoveCallLast { src, dst, arity, dealloc, target } => {
                xw!(*dst, g!(*src));
                drop_frame!(*dealloc);
                goto_call!(*target, *arity)
            }
            Op::CallOnly { arity, target } => {
                goto_call!(*target, *arity)
            }
            Op::CallLast { arity, target, dealloc } => {
                drop_frame!(*dealloc);
                goto_call!(*target, *arity)
            }
            Op::Return => {
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::DeallocReturn { stack } => {
                drop_frame!(*stack);
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::ReturnConst { src } => {
                xw!(0, *src);
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::ReturnX { src } => {
                xw!(0, xr!(*src));
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::TestHeapPutListReturn { words, live, dealloc, head, tail } => {
                test_heap!(*words, *live);
                let (h, t) = (yr!(*head), xr!(*tail));
                xw!(0, p.heap.cons(h, t));
                drop_frame!(*dealloc);
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::TestHeapPutTupleReturn { words, live, dealloc, elements } => {
                test_heap!(*words, *live);
                xw!(0, put_tuple!(elements));
                drop_frame!(*dealloc);
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::AddReturn { a, b, dealloc } => {
                let (va, vb) = (yr!(*a), xr!(*b));
                if let Some(r) = small_add(va, vb) {
                    xw!(0, r);
                } else {
                    match allocating!(crate::bif::arith::add(p, va, vb)) {
                        Ok(v) => xw!(0, v),
                        Err(e) => raise!(arith_error!(e, va, vb, "+")),
                    }
                }
                drop_frame!(*dealloc);
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::TestArityGet2X { src, arity, fail, i1, i2, d1, d2 } => {
                let t = xr!(*src);
                if t.is_tuple() {
                    let e = t.tuple_unchecked();
                    if e.len() as u32 == *arity {
                        let (e1, e2) = (e[*i1 as usize], e[*i2 as usize]);
                        s!(*d1, e1);
                        s!(*d2, e2);
                        // SAFETY: the fused GetTupleElements2X and the op
                        // it absorbed follow, and the op after them exists
                        // (verified).
                        ip = unsafe { ip.add(3) };
                        continue;
                    }
                }
                jump!(*fail)
            }
            Op::IsEqImmReturnX { src, imm, fail, ret } => {
                if xr!(*src) != *imm {
                    jump!(*fail)
                }
                xw!(0, *ret);
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::SubImmXCall { a, dst, arity, imm, fail, target, cp } => {
                let va = xr!(*a);
                let r = match small_sub_imm(va, *imm) {
                    Some(r) => r,
                    None => match allocating!(arith_slow(p, va, *imm, false, false)) {
                        Ok(v) => v,
                        Err(r) => fail_or!(*fail, r),
                    },
                };
                xw!(*dst, r);
                // The op after the fused Call.
                push_cp_term!(*cp);
                goto_call!(*target, *arity)
            }
            Op::SubImmYCall { a, dst, arity, imm, fail, target, cp } => {
                let va = yr!(*a);
                let r = match small_sub_imm(va, *imm) {
                    Some(r) => r,
                    None => match allocating!(arith_slow(p, va, *imm, false, false)) {
                        Ok(v) => v,
                        Err(r) => fail_or!(*fail, r),
                    },
                };
                xw!(*dst, r);
                push_cp_term!(*cp);
                goto_call!(*target, *arity)
            }
            Op::MoveXYSubImmYCall { src, ydst, a, dst, arity, imm, fail, target, cp } => {
                yw!(*ydst, xr!(*src));
                let va = yr!(*a);
                let r = match small_sub_imm(va, *imm) {
                    Some(r) => r,
                    None => {
                        // Fail or raise where the subtraction is (its line).
                        // SAFETY: the fused SubImmYCall follows.
                        ip = unsafe { ip.add(1) };
                        match allocating!(arith_slow(p, va, *imm, false, false)) {
                            Ok(v) => v,
                            Err(r) => fail_or!(*fail, r),
                        }
                    }
                };
                xw!(*dst, r);
                // The op after the fused SubImmYCall's Call.
                push_cp_term!(*cp);
                goto_call!(*target, *arity)
            }
            Op::AllocateMoveXYMoveCall { stack, ysrc, ydst, dst, arity, src, target, cp } => {
                allocate!(*stack);
                yw!(*ydst, xr!(*ysrc));
                xw!(*dst, xr!(*src));
                // The op after the absorbed MoveXY, MoveCall and its Call.
                push_cp_term!(*cp);
                goto_call!(*target, *arity)
            }
            Op::AllocateMoveXYSubImmXCall { stack, ysrc, ydst, a, dst, arity, imm, target, cp } => {
                allocate_move_sub_call!(*stack, *ysrc, *ydst, *a, *dst, *arity, *imm, *target, *cp)
            }
            Op::AddImmXYMoveCall { a, ydst, swapped, imm, src, dst, arity, target, cp } => {
                let va = xr!(*a);
                let r = match small_add_imm(va, *imm) {
                    Some(r) => r,
                    None => match allocating!(arith_slow(p, va, *imm, *swapped, true)) {
                        Ok(v) => v,
                        Err(r) => raise!(r),
                    },
                };
                yw!(*ydst, r);
                xw!(*dst, yr!(*src));
                // The op after the MoveCall's absorbed Call.
                push_cp_term!(*cp);
                goto_call!(*target, *arity)
            }
            Op::TestHeapPutPairReturn { words, live, dealloc, a, b } => {
                test_heap!(*words, *live);
                let (va, vb) = (g!(*a), g!(*b));
                let ptr = p.heap.alloc(3);
                // SAFETY: ptr has 3 words, all written before the next
                // safe point.
                unsafe {
                    *ptr = header(KIND_TUPLE, 2);
                    *ptr.add(1) = va.raw();
                    *ptr.add(2) = vb.raw();
                }
                xw!(0, Term::from_boxed_ptr(ptr));
                drop_frame!(*dealloc);
                ip = pop_cp!();
                safepoint!(1);
                continue;
            }
            Op::IsEqImmReturnElseGet2X { src, arity, i1, i2, d1, d2, imm, ret, fail, next } => {
                let t = xr!(*src);
                if t == *imm {
                    xw!(0, *ret);
                    ip = pop_cp!();
                    safepoint!(1);
                    continue;
                }
                if t.is_tuple() {
                    let e = t.tuple_unchecked();
                    if e.len() == *arity as usize {
                        let (e1, e2) = (e[*i1 as usize], e[*i2 as usize]);
                        xw!(*d1, e1);
                        xw!(*d2, e2);
                        jump!(*next)
                    }
                }
                jump!(*fail)
            }
            Op::IsEqImmReturnElseSplitCall { src, arity, stack, iy, ydst, ix, imm, ret, fail, target, cp } => {
                let t = xr!(*src);
                if t == *imm {
                    xw!(0, *ret);
                    ip = pop_cp!();
                    safepoint!(1);
                    continue;
                }
                if t.is_tuple() {
                    let e = t.tuple_unchecked();
                    if e.len() == *arity as usize {
                        let (ey, ex) = (e[*iy as usize], e[*ix as usize]);
                        allocate!(*stack);
                        yw!(*ydst, ey);
                        xw!(0, ex);
                        push_cp_term!(*cp);
                        goto_call!(*target, 1)
                    }
                }
                jump!(*fail)
            }
            Op::IsEqImmReturnElseAllocSubCall { src, stack, ydst, dst, arity, simm, imm, ret, target, cp } => {
                let v = xr!(*src);
                if v == *imm {
                    xw!(0, *ret);
                    ip = pop_cp!();
                    safepoint!(1);
                    continue;
                }
                allocate!(*stack);
                yw!(*ydst, v);
                let r = match small_sub_imm(v, *simm as i64) {
                    Some(r) => r,
                    None => {
                        // Raise where the subtraction is: the SubImmXCall
                        // two ops before the continuation.
                        ip = cp.as_cp().map_or(ip, |c| (c as *const Op).wrapping_sub(2));
                        match allocating!(arith_slow(p, v, *simm as i64, false, false)) {
                            Ok(v) => v,
                            Err(r) => raise!(r),
                        }
                    }
                };
                xw!(*dst, r);
                push_cp_term!(*cp);
                goto_call!(*target, *arity)
            }
            Op::IsConsGetListXX { src, head, tail, fail } => {
                let l = xr!(*src);
                if l.is_cons() {
                    let (h, t) = l.cons_unchecked();
                    xw!(*head, h);
                    xw!(*tail, t);
                    next2!()
                }
                jump!(*fail)
            }
            Op::SelectReturnX { src, fail, table } => {
                let v = xr!(*src);
                let mut hit = None;
                for (k, r) in table.iter() {
                    if *k == v {
                        hit = Some(*r);
                        break;
                    }
                }
                match hit {
                    Some(r) => {
                        xw!(0, r);
                        ip = pop_cp!();
                        safepoint!(1);
                        continue;
                    }
                    None => jump!(*fail),
                }
            }
            Op::SelectReturnRangeX { src, base, fail, values } => {
                // A small's tag cancels in the difference of two smalls, and
                // only smalls have that tag: the difference is a multiple of
                // 16 exactly when the value is a small, and then its index
                // (a value below `base` wraps to a huge index).
                let d = xr!(*src).raw().wrapping_sub(base.raw());
                match values.get((d >> 4) as usize) {
                    Some(r) if d & SMALL_TAG_MASK == 0 => {
                        xw!(0, *r);
                        ip = pop_cp!();
                        safepoint!(1);
                        continue;
                    }
                    _ => jump!(*fail),
                }
            }
            Op::AllocateMoveXY { stack, src, dst, .. } => {
                allocate!(*stack);
                yw!(*dst, xr!(*src));
                next2!()
            }
            Op::GetTupleElements2X { src, i1, d1, i2, d2 } => {
                let t = xr!(*src).tuple_unchecked();
                let (e1, e2) = (t[*i1 as usize], t[*i2 as usize]);
                s!(*d1, e1);
                s!(*d2, e2);
                next2!()
            }
            Op::Allocate { stack, .. } => {
                allocate!(*stack);
                next!()
            }
            Op::Deallocate { stack } => {
                drop_frame!(*stack);
                next!()
            }
            Op::TestHeap { words, live } => {
                test_heap!(*words, *live);
                next!()
            }
            Op::GetList { src, head, tail } => {
                let (h, t) = g!(*src).cons_unchecked();
                s!(*head, h);
                s!(*tail, t);
                next!()
            }
            Op::GetHd { src, dst } => {
                let (h, _) = g!(*src).cons_unchecked();
                s!(*dst, h);
                next!()
            }
            Op::GetTl { src, dst } => {
                let (_, t) = g!(*src).cons_unchecked();
                s!(*dst, t);
                next!()
            }
            Op::PutList { head, tail, dst } => {
                let (h, t) = (g!(*head), g!(*tail));
                let c = allocating!(p.heap.cons(h, t));
                s!(*dst, c);
                next!()
            }
            Op::GetTupleElement { src, index, dst } => {
                let e = g!(*src).tuple_unchecked()[*index as usize];
                s!(*dst, e);
                next!()
            }
            Op::PutTuple { elements, dst } => {
                let t = allocating!(put_tuple!(elements));
                s!(*dst, t);
                next!()
            }
            Op::Test { test, src, fail } => {
                if type_test(*test, g!(*src)) {
                    next!()
                }
                jump!(*fail)
            }
            Op::TestArity { src, arity, fail } => {
                if g!(*src).tuple_elements().map(|e| e.len() as u32) == Some(*arity) {
                    next!()
                }
                jump!(*fail)
            }
            Op::IsTaggedTuple { src, arity, tag, fail } => match g!(*src).tuple_elements() {
                Some(e) if e.len() as u32 == *arity && e.first() == Some(tag) => next!(),
                _ => jump!(*fail),
            },
            Op::SelectVal { src, fail, table, linear } => {
                let v = g!(*src);
                let hit = if *linear {
                    // Immediate keys match only the same word, so try
                    // that first: most short tables are all immediates.
                    table.iter().find(|(k, _)| *k == v || eq_exact(*k, v)).map(|e| e.1)
                } else if v.is_immediate() {
                    table.binary_search_by_key(&v.raw(), |(k, _)| k.raw()).ok().map(|i| table[i].1)
                } else {
                    None
                };
                jump!(hit.unwrap_or(*fail))
            }
            Op::SelectTupleArity { src, fail, table } => {
                let n = g!(*src).tuple_elements().map(|e| e.len() as u32);
                let hit = n.and_then(|n| table.iter().find(|(a, _)| *a == n)).map(|e| e.1);
                jump!(hit.unwrap_or(*fail))
            }
            Op::Jump { target } => jump!(*target),
            Op::Bif { f, args, dst, fail, export, .. } => {
                let mut argv = [Term::NIL; 8];
                let n = args.len().min(8);
                for (i, a) in args.iter().take(8).enumerate() {
                    argv[i] = g!(*a);
                }
                sync_len!();
                let r = f(p, &argv[..n]);
                sync_fp!();
                take_bif_charge!();
                arm_if_gc!();
                match r {
                    Ok(v) => {
                        s!(*dst, v);
                        next!()
                    }
                    Err(exc) => {
                        if fail.is_null() || matches!(exc, Exc::Halt(_) | Exc::Kill(_)) {
                            let a = p.heap.list(&argv[..n]);
                            let extra = bif_extra(export, a, &exc)
                                .filter(|e| e.module != atom::ERLANG || !float_instruction(e.function.name(), args));
                            raise!((exc, extra))
                        }
                        jump!(*fail)
                    }
                }
            }
            Op::CallExt { arity, export } => {
                // SAFETY: the op after a call exists (verified).
                let cp = unsafe { ip.add(1) };
                // Where a BIF finds its caller (`process_info(self(),
                // current_function)`); a slice end overwrites it.
                p.ip = ip;
                sync_len!();
                match call_export(p, xs!(), export, *arity, Some(cp)) {
                    Ok(t) => ip = t,
                    Err(r) => raise!(r),
                }
                sync_fp!();
                safepoint_call!();
                continue;
            }
            Op::CallExtOnly { arity, export } => {
                sync_len!();
                match call_export(p, xs!(), export, *arity, None) {
                    Ok(t) => ip = t,
                    Err(r) => raise!(r),
                }
                sync_fp!();
                safepoint_call!();
                continue;
            }
            Op::CallExtLast { arity, export, dealloc } => {
                drop_frame!(*dealloc);
                sync_len!();
                match call_export(p, xs!(), export, *arity, None) {
                    Ok(t) => ip = t,
                    Err(r) => raise!(r),
                }
                sync_fp!();
                safepoint_call!();
                continue;
            }
            Op::LoopRecEnd { target } => {
                p.save += 1;
                reds -= 1;
                jump!(*target)
            }
            Op::ProcessExit => {
                sync_len!();
                p.reductions += (*budget - reds - parked).max(0) as u64;
                return Outcome::Normal;
            }
            // Listed rather than `_`: with every variant named, the
            // dispatch is a jump table without a range check.
            Op::FuncInfo { .. }
            | Op::Swap { .. }
            | Op::MakeFun { .. }
            | Op::CallFun { .. }
            | Op::CallFunOnly { .. }
            | Op::CallFunLast { .. }
            | Op::Apply { .. }
            | Op::ApplyOnly { .. }
            | Op::ApplyLast { .. }
            | Op::Error { .. }
            | Op::Raise
            | Op::Try { .. }
            | Op::TryEnd { .. }
            | Op::TryCase { .. }
            | Op::Catch { .. }
            | Op::CatchEnd { .. }
            | Op::Send
            | Op::LoopRec { .. }
            | Op::RemoveMessage
            | Op::Wait { .. }
            | Op::WaitTimeout { .. }
            | Op::Timeout
            | Op::PutMapAssoc { .. }
            | Op::PutMapExact { .. }
            | Op::HasMapFields { .. }
            | Op::GetMapElements { .. }
            | Op::BsCreate { .. }
            | Op::BsStartMatch { .. }
            | Op::BsGet { .. }
            | Op::BsSkip { .. }
            | Op::BsTestTail { .. }
            | Op::BsTestUnit { .. }
            | Op::BsGetPosition { .. }
            | Op::BsSetPosition { .. }
            | Op::Nop => {
                sync_len!();
                let flow = rare(p, xs!(), ip);
                match flow {
                    Flow::Goto(t) => {
                        sync_fp!();
                        arm_if_gc!();
                        ip = t;
                    }
                    Flow::Raise(r) => raise!(r),
                    Flow::Called(t) => {
                        sync_fp!();
                        ip = t;
                        safepoint_call!();
                    }
                    Flow::Wait => {
                        p.reductions += (*budget - reds - parked).max(0) as u64;
                        if p.heap.wants_gc() {
                            gc::collect(p, xs!(), 0, 0);
                        }
                        return Outcome::Wait;
                    }
                }
            }
        }
    }
}

// Small-integer arithmetic on the tagged words. A small is `(i << 4) | tag`,
// so `(a - tag) + b` is the tagged sum and `a - (b - tag)` the tagged
// difference; the 64-bit operation overflows exactly when the result does
// not fit in a small (60 bits shifted by 4), which the CPU's overflow flag
// tells without decoding either operand.
const SMALL_TAG: i64 = Term::small(0).raw() as i64;
/// The bits of a word that hold a small's tag: a word is a small exactly
/// when they equal `SMALL_TAG` (checked in the unit test below).
const SMALL_TAG_MASK: u64 = 0xF;

#[inline(always)]
fn small_add(a: Term, b: Term) -> Option<Term> {
    if a.is_small() && b.is_small() {
        (a.raw() as i64 - SMALL_TAG).checked_add(b.raw() as i64).map(|r| Term::from_raw(r as u64))
    } else {
        None
    }
}

#[inline(always)]
fn small_sub(a: Term, b: Term) -> Option<Term> {
    if a.is_small() && b.is_small() {
        (a.raw() as i64).checked_sub(b.raw() as i64 - SMALL_TAG).map(|r| Term::from_raw(r as u64))
    } else {
        None
    }
}

/// `a + imm` for a small constant `imm` (60 bits, so `imm << 4` fits in
/// an i64).
#[inline(always)]
fn small_add_imm(a: Term, imm: i64) -> Option<Term> {
    if a.is_small() {
        (a.raw() as i64).checked_add(imm << 4).map(|r| Term::from_raw(r as u64))
    } else {
        None
    }
}

/// `a - imm` for a small constant `imm`.
#[inline(always)]
fn small_sub_imm(a: Term, imm: i64) -> Option<Term> {
    if a.is_small() {
        (a.raw() as i64).checked_sub(imm << 4).map(|r| Term::from_raw(r as u64))
    } else {
        None
    }
}

/// What an op run out of line (`rare`) tells the dispatch loop.
enum Flow {
    /// Go on at this op.
    Goto(*const Op),
    /// Raise at the op.
    Raise(Raise),
    /// A fun call or apply went to this op: a safe point, then go on there.
    Called(*const Op),
    /// End the slice waiting for a message (`p.ip` is set).
    Wait,
}

/// The ops that are not worth a place in `run`'s dispatch loop: funs,
/// apply, exceptions, receive, maps, binaries. Each reads its operands
/// through `p.stack` (`get`/`put`) and says where to go on.
#[inline(never)]
fn rare(p: &mut Process, x: &mut [Term], ip: *const Op) -> Flow {
    // SAFETY: as in `run`: ip points at an op of a loaded instance.
    let op = unsafe { &*ip };
    // SAFETY: the verifier guarantees that control never falls off the end
    // of a function, so ip + 1 is inside the code array.
    let next = Flow::Goto(unsafe { ip.add(1) });
    macro_rules! g {
        ($s:expr) => {
            get(x, &p.stack, $s)
        };
    }
    macro_rules! s {
        ($d:expr, $v:expr) => {{
            let v = $v;
            put(x, &mut p.stack, $d, v)
        }};
    }
    macro_rules! fail_or {
        ($fail:expr, $exc:expr) => {{
            if $fail.is_null() {
                Flow::Raise(($exc, None))
            } else {
                Flow::Goto($fail.0)
            }
        }};
    }
    let called = |r: Result<*const Op, Raise>| match r {
        Ok(t) => Flow::Called(t),
        Err(r) => Flow::Raise(r),
    };
    match op {
        Op::Swap { a, b } => {
            let (va, vb) = (g!(Src::from(*a)), g!(Src::from(*b)));
            s!(*a, vb);
            s!(*b, va);
            next
        }
        Op::CallFun { arity } | Op::CallFunOnly { arity } | Op::CallFunLast { arity, .. } => {
            let cp = match op {
                // SAFETY: the op after a call exists (verified).
                Op::CallFun { .. } => Some(unsafe { ip.add(1) }),
                Op::CallFunLast { dealloc, .. } => {
                    let l = p.stack.len();
                    p.stack.truncate(l - *dealloc as usize);
                    None
                }
                _ => None,
            };
            let f = x[*arity as usize];
            called(call_fun(p, x, f, *arity, cp))
        }
        Op::Apply { arity } | Op::ApplyOnly { arity } | Op::ApplyLast { arity, .. } => {
            let cp = match op {
                // SAFETY: the op after a call exists (verified).
                Op::Apply { .. } => Some(unsafe { ip.add(1) }),
                Op::ApplyLast { dealloc, .. } => {
                    let l = p.stack.len();
                    p.stack.truncate(l - *dealloc as usize);
                    None
                }
                _ => None,
            };
            let (m, f) = (x[*arity as usize], x[*arity as usize + 1]);
            called(match (m.as_atom(), f.as_atom()) {
                (Some(m), Some(f)) => {
                    let e = p.vm.code.export(Mfa(m, f, *arity));
                    call_export(p, x, e, *arity, cp)
                }
                _ => Err((Exc::badarg(), None)),
            })
        }
        Op::MakeFun { entry, free, dst } => {
            let mut fv: smallvec::SmallVec<[Term; 8]> = smallvec::SmallVec::new();
            for s in free.iter() {
                fv.push(g!(*s));
            }
            let t = p.heap.fun(entry, &fv);
            s!(*dst, t);
            next
        }
        Op::FuncInfo { arity, .. } => {
            let args = p.heap.list(&x[..*arity as usize]);
            Flow::Raise((
                Exc::Raise {
                    class: Class::Error,
                    reason: Term::atom(atom::FUNCTION_CLAUSE),
                    args: Some(args),
                    trace: None,
                },
                None,
            ))
        }
        Op::Error { kind, src } => {
            let v = g!(*src);
            let reason = match kind {
                ErrorKind::IfClause => Term::atom(atom::IF_CLAUSE),
                ErrorKind::Badarg => Term::atom(atom::BADARG),
                ErrorKind::Badmatch => p.heap.tuple(&[Term::atom(atom::BADMATCH), v]),
                ErrorKind::CaseClause => p.heap.tuple(&[Term::atom(atom::CASE_CLAUSE), v]),
                ErrorKind::TryClause => p.heap.tuple(&[Term::atom(atom::TRY_CLAUSE), v]),
                ErrorKind::Badrecord => p.heap.tuple(&[Term::atom(atom::BADRECORD), v]),
                ErrorKind::Badfun => p.heap.tuple(&[Term::atom(atom::BADFUN), v]),
            };
            Flow::Raise((Exc::error(reason), None))
        }
        Op::Raise => {
            let (c, r, t) = (x[0], x[1], x[2]);
            let class = match c.as_atom() {
                Some(atom::ERROR) => Some(Class::Error),
                Some(atom::THROW) => Some(Class::Throw),
                Some(atom::EXIT) => Some(Class::Exit),
                _ => None,
            };
            match class {
                Some(class) => Flow::Raise((Exc::Raise { class, reason: r, args: None, trace: Some(t) }, None)),
                None => Flow::Raise((Exc::badarg(), None)),
            }
        }
        Op::Try { y, .. } | Op::Catch { y, .. } => {
            let l = p.stack.len();
            p.stack[l - 1 - *y as usize] = Term::catch_marker(ip as *const u8);
            next
        }
        Op::TryEnd { y } | Op::TryCase { y } => {
            let l = p.stack.len();
            p.stack[l - 1 - *y as usize] = Term::NIL;
            next
        }
        Op::CatchEnd { y } => {
            let l = p.stack.len();
            p.stack[l - 1 - *y as usize] = Term::NIL;
            if x[0].is_none() {
                let (class, reason, trace) = (x[1], x[2], x[3]);
                x[0] = match class.as_atom() {
                    Some(atom::THROW) => reason,
                    Some(atom::ERROR) => {
                        let inner = p.heap.tuple(&[reason, trace]);
                        p.heap.tuple(&[Term::atom(atom::EXIT_UPPER), inner])
                    }
                    _ => p.heap.tuple(&[Term::atom(atom::EXIT_UPPER), reason]),
                };
            }
            next
        }
        Op::Send => match p.vm.send(p, x[0], x[1]) {
            Ok(()) => {
                x[0] = x[1];
                next
            }
            Err(e) => {
                let a = p.heap.list(&[x[0], x[1]]);
                Flow::Raise((
                    e,
                    Some(Extra { module: atom::ERLANG, function: atom::intern("send"), args: a, error_info: true }),
                ))
            }
        },
        Op::LoopRec { fail, dst } => {
            if p.save >= p.msgs.len() {
                p.take_inbox();
                if let Some(r) = p.pending_exit.take() {
                    return Flow::Raise((Exc::Kill(r), None));
                }
            }
            if p.save < p.msgs.len() {
                let m = p.msgs[p.save];
                s!(*dst, m);
                return next;
            }
            Flow::Goto(fail.0)
        }
        Op::RemoveMessage => {
            if p.save == 0 {
                p.msgs.pop_front();
            } else {
                p.msgs.remove(p.save);
            }
            p.save = 0;
            p.timer = None;
            p.timed_out = false;
            next
        }
        Op::Timeout => {
            p.save = 0;
            p.timer = None;
            p.timed_out = false;
            next
        }
        Op::Wait { target } => {
            if p.take_inbox() {
                return Flow::Goto(target.0);
            }
            if let Some(r) = p.pending_exit.take() {
                return Flow::Raise((Exc::Kill(r), None));
            }
            p.ip = target.0;
            Flow::Wait
        }
        Op::WaitTimeout { target, timeout } => {
            if p.timed_out {
                p.timed_out = false;
                return next;
            }
            let t = g!(*timeout);
            let ms = if t == Term::atom(atom::INFINITY) {
                None
            } else {
                match t.to_i64() {
                    Some(ms) if ms >= 0 => Some(ms as u64),
                    _ => return Flow::Raise((Exc::error(Term::atom(atom::TIMEOUT_VALUE)), None)),
                }
            };
            if ms == Some(0) {
                return next;
            }
            if p.take_inbox() {
                return Flow::Goto(target.0);
            }
            if let Some(r) = p.pending_exit.take() {
                return Flow::Raise((Exc::Kill(r), None));
            }
            if let Some(ms) = ms {
                if p.timer.is_none() {
                    p.timer = Some(std::time::Instant::now() + std::time::Duration::from_millis(ms));
                }
            }
            p.ip = target.0;
            Flow::Wait
        }
        Op::PutMapAssoc { src, dst, fail, pairs, .. } | Op::PutMapExact { src, dst, fail, pairs, .. } => {
            let exact = matches!(op, Op::PutMapExact { .. });
            let m = g!(*src);
            let kv: smallvec::SmallVec<[(Term, Term); 8]> = pairs.iter().map(|(k, v)| (g!(*k), g!(*v))).collect();
            match crate::bif::maps::update(p, m, &kv, exact) {
                Ok(t) => {
                    s!(*dst, t);
                    next
                }
                Err(e) => fail_or!(*fail, e),
            }
        }
        Op::HasMapFields { src, fail, keys } => {
            let m = g!(*src);
            if m.is_map() && keys.iter().all(|k| m.map_get(get(x, &p.stack, *k)).is_some()) {
                return next;
            }
            Flow::Goto(fail.0)
        }
        Op::GetMapElements { src, fail, pairs } => {
            let m = g!(*src);
            if !m.is_map() {
                return Flow::Goto(fail.0);
            }
            for (k, d) in pairs.iter() {
                match m.map_get(g!(*k)) {
                    Some(v) => s!(*d, v),
                    None => return Flow::Goto(fail.0),
                }
            }
            next
        }
        Op::BsCreate { segments, dst, fail, .. } => {
            let vals: smallvec::SmallVec<[(Term, Option<Term>); 8]> =
                segments.iter().map(|s| (g!(s.value), s.size.map(|z| g!(z)))).collect();
            match crate::bif::binary::create(p, segments, &vals) {
                Ok(t) => {
                    s!(*dst, t);
                    next
                }
                Err(e) => fail_or!(*fail, e),
            }
        }
        Op::BsStartMatch { src, dst, fail, .. } => {
            let v = g!(*src);
            if v.is_match_ctx() {
                s!(*dst, v);
                return next;
            }
            if !v.is_bitstring() {
                return Flow::Goto(fail.0);
            }
            let c = p.heap.match_ctx(v, 0);
            s!(*dst, c);
            next
        }
        Op::BsGet { ctx, kind, size, unit, flags, dst, fail, .. } => {
            let c = g!(*ctx);
            let sz = size.map(|z| g!(z));
            match crate::bif::binary::get(p, c, *kind, sz, *unit, *flags) {
                Some(v) => {
                    s!(*dst, v);
                    next
                }
                None => Flow::Goto(fail.0),
            }
        }
        Op::BsSkip { ctx, size, unit, fail } => {
            let c = g!(*ctx);
            let sz = size.map(|z| g!(z));
            if crate::bif::binary::skip(c, sz, *unit) {
                return next;
            }
            Flow::Goto(fail.0)
        }
        Op::BsTestTail { ctx, bits, fail } => {
            if crate::bif::binary::remaining(g!(*ctx)) == *bits as u64 {
                return next;
            }
            Flow::Goto(fail.0)
        }
        Op::BsTestUnit { ctx, unit, fail } => {
            if crate::bif::binary::remaining(g!(*ctx)) % (*unit).max(1) as u64 == 0 {
                return next;
            }
            Flow::Goto(fail.0)
        }
        Op::BsGetPosition { ctx, dst } => {
            let (_, pos) = crate::heap::match_ctx_parts(g!(*ctx));
            s!(*dst, Term::small(pos as i64));
            next
        }
        Op::BsSetPosition { ctx, pos } => {
            let c = g!(*ctx);
            crate::heap::match_ctx_set_pos(c, g!(*pos).small_value() as u64);
            next
        }
        Op::Nop => next,
        // Every other op is run by `run` itself.
        _ => unreachable!("op {op:?} is not run out of line"),
    }
}

/// End a time slice: the live registers are saved and the process goes
/// back to the run queue.
#[cold]
#[inline(never)]
fn yield_slice(p: &mut Process, x: &[Term], live: usize, ip: *const Op, used: i64) -> Outcome {
    p.reductions += used as u64;
    p.saved_x.extend_from_slice(&x[..live]);
    p.ip = ip;
    Outcome::Yield
}

/// One past the top of the stack: y slot `i` is at `frame_end(p).sub(1 + i)`.
#[inline(always)]
fn frame_end(p: &mut Process) -> *mut Term {
    let l = p.stack.len();
    // SAFETY: l <= capacity, so this is at most one past the allocation.
    unsafe { p.stack.as_mut_ptr().add(l) }
}

/// Words `allocate` always writes `[]` to, whatever the frame's size: four
/// unconditional stores beat a loop for the small frames most functions
/// have. The words above the frame are spare capacity (never read).
const FRAME_FILL: usize = 4;

/// The end of the stack's buffer (one past its capacity).
#[inline(always)]
fn stack_limit(p: &mut Process) -> *mut Term {
    let c = p.stack.capacity();
    // SAFETY: one past the allocation at most.
    unsafe { p.stack.as_mut_ptr().add(c) }
}

/// Push a frame of `n` y slots (all `[]`) on the stack whose top is `fp`;
/// returns the new top.
///
/// # Safety
/// There must be room for `max(n, FRAME_FILL)` words above `fp` (the
/// caller checks `n + FRAME_FILL`, which also leaves a word above the
/// frame for the CP of a call from it, pushed without a check).
#[inline(always)]
unsafe fn fill_frame(fp: *mut Term, n: usize) -> *mut Term {
    // SAFETY: the words written are within the room the caller checked;
    // every slot of the frame is written before the new top covers it.
    unsafe {
        for i in 0..FRAME_FILL {
            fp.add(i).write(Term::NIL);
        }
        for i in FRAME_FILL..n {
            fp.add(i).write(Term::NIL);
        }
        fp.add(n)
    }
}

/// Make room for `n` more words above `fp` (the top of the live stack);
/// returns the top in the new buffer.
#[cold]
#[inline(never)]
fn grow_stack(p: &mut Process, fp: *mut Term, n: usize) -> *mut Term {
    let l = depth(p, fp);
    // SAFETY: the first l words are initialised (the live stack).
    unsafe { p.stack.set_len(l) };
    p.stack.reserve(n);
    frame_end(p)
}

/// How many words the stack holds when `fp` is its top.
#[inline(always)]
fn depth(p: &Process, fp: *const Term) -> usize {
    // SAFETY: fp points into (or one past) the stack's buffer.
    unsafe { fp.offset_from(p.stack.as_ptr()) as usize }
}

/// A register `+`/`-` a small constant when the fast path did not apply:
/// the general arithmetic, or the exception if it fails. OTP 25 loads
/// these as `i_increment` (`R - C` too when `-C` is small), whose failure
/// is raised by the instruction: the trace starts at the function doing
/// the arithmetic, without an `erlang:'+'/2` frame.
#[cold]
#[inline(never)]
fn arith_slow(p: &mut Process, va: Term, imm: i64, swapped: bool, add: bool) -> Result<Term, Raise> {
    let vb = Term::small(imm);
    let (va, vb) = if swapped { (vb, va) } else { (va, vb) };
    let r = if add { crate::bif::arith::add(p, va, vb) } else { crate::bif::arith::sub(p, va, vb) };
    r.map_err(|e| {
        if add || imm != crate::term::MIN_SMALL {
            return (e, None);
        }
        let args = p.heap.list(&[va, vb]);
        (e, Some(Extra { module: atom::ERLANG, function: atom::intern("-"), args, error_info: true }))
    })
}

/// Is `+ - * /` compiled by OTP 25 as a float instruction? It is for `/`
/// and when an operand is a float literal (its `beam_ssa_float` also
/// follows variables it knows to be floats; not modelled here). A
/// non-number operand then fails in the conversion to a float, raised by
/// the instruction: no `erlang:'/'/2` frame.
#[cold]
fn float_instruction(name: &str, args: &[Src]) -> bool {
    let lit_float =
        |s: &Src| s.tag() != crate::term::SP_XREG && s.tag() != crate::term::SP_YREG && Term::from_raw(s.0).is_float();
    match (name, args) {
        ("/", [_, _]) => true,
        ("+" | "-" | "*", [a, b]) => lit_float(a) || lit_float(b),
        _ => false,
    }
}

impl From<Dst> for Src {
    fn from(d: Dst) -> Src {
        match d {
            Dst::X(r) => Src::x(r),
            Dst::Y(r) => Src::y(r),
        }
    }
}

fn bif_extra(e: &ExportEntry, args: Term, exc: &Exc) -> Option<Extra> {
    // erlang:error/throw/exit raise from the caller's frame, as in OTP.
    let n = e.function.name();
    if e.module == atom::ERLANG && matches!(n, "error" | "throw" | "exit" | "raise" | "halt") {
        return None;
    }
    let Exc::Raise { class: Class::Error, reason, .. } = exc else { return None };
    // A BIF standing for an Erlang function that has no matching clause
    // (OTP's is Erlang code there): no error_info.
    let error_info = *reason != Term::atom(atom::FUNCTION_CLAUSE);
    // OTP's compiler turns these calls into the guard BIFs, which are the
    // frames its traces show.
    let (module, function) = match (e.module.name() == "maps", n, e.arity) {
        (true, "get", 2) => (atom::ERLANG, atom::intern("map_get")),
        (true, "is_key", 2) => (atom::ERLANG, atom::intern("is_map_key")),
        (true, "size", 1) => (atom::ERLANG, atom::intern("map_size")),
        _ => (e.module, e.function),
    };
    Some(Extra { module, function, args, error_info })
}

/// A comparison in the general case.
pub fn compare(op: Cmp, a: Term, b: Term) -> bool {
    match op {
        Cmp::EqExact => eq_exact(a, b),
        Cmp::NeExact => !eq_exact(a, b),
        Cmp::Eq => eq(a, b),
        Cmp::Ne => !eq(a, b),
        Cmp::Lt => cmp_terms(a, b) == Ordering::Less,
        Cmp::Ge => cmp_terms(a, b) != Ordering::Less,
    }
}

/// Type tests.
pub fn type_test(t: TypeTest, v: Term) -> bool {
    match t {
        TypeTest::Integer => v.is_integer(),
        TypeTest::Float => v.is_float(),
        TypeTest::Number => v.is_number(),
        TypeTest::Atom => v.is_atom(),
        TypeTest::Boolean => v.is_bool(),
        TypeTest::Pid => v.is_pid(),
        TypeTest::Port => false,
        TypeTest::Reference => v.is_ref(),
        TypeTest::Binary => v.is_binary(),
        TypeTest::Bitstring => v.is_bitstring(),
        TypeTest::List => v.is_list(),
        TypeTest::Cons => v.is_cons(),
        TypeTest::Nil => v.is_nil(),
        TypeTest::Tuple => v.is_tuple(),
        TypeTest::Map => v.is_map(),
        TypeTest::Function => v.is_function(),
        TypeTest::FunctionArity(a) => v.fun_arity() == Some(a),
    }
}

#[cold]
#[inline(never)]
fn no_cp() -> ! {
    panic!("return without a continuation pointer")
}

/// After a native call in tail position: return to the CP on the stack.
fn return_to_cp(p: &mut Process) -> *const Op {
    p.stack.pop().and_then(|t| t.as_cp()).expect("tail call without a continuation pointer") as *const Op
}

/// A remote call through an export entry. `cp`: push this continuation
/// (a body call); None: a tail call (the CP is already on the stack).
/// Returns where to continue.
pub fn call_export(
    p: &mut Process,
    x: &mut [Term],
    e: &'static ExportEntry,
    arity: u8,
    cp: Option<*const Op>,
) -> Result<*const Op, Raise> {
    let mut e = e;
    let mut arity = arity;
    let mut tries = 0;
    loop {
        if let Some(f) = e.bif {
            match e.special {
                Special::None => {
                    let args: smallvec::SmallVec<[Term; 8]> = x[..arity as usize].iter().copied().collect();
                    return match f(p, &args) {
                        Ok(v) => {
                            x[0] = v;
                            Ok(match cp {
                                Some(cp) => cp,
                                None => return_to_cp(p),
                            })
                        }
                        Err(exc) => {
                            let a = p.heap.list(&args);
                            let extra = bif_extra(e, a, &exc);
                            Err((exc, extra))
                        }
                    };
                }
                Special::Apply3 => {
                    let (m, fname, args) = (x[0], x[1], x[2]);
                    let (Some(m), Some(fname), Some(argv)) = (m.as_atom(), fname.as_atom(), args.list_to_vec()) else {
                        return Err((Exc::badarg(), None));
                    };
                    if argv.len() > 255 {
                        return Err((Exc::badarg(), None));
                    }
                    x[..argv.len()].copy_from_slice(&argv);
                    arity = argv.len() as u8;
                    e = p.vm.code.export(Mfa(m, fname, arity));
                    continue;
                }
                Special::Apply2 => {
                    let (fun, args) = (x[0], x[1]);
                    let Some(argv) = args.list_to_vec() else {
                        return Err((Exc::badarg(), None));
                    };
                    if argv.len() > 255 {
                        return Err((Exc::badarg(), None));
                    }
                    x[..argv.len()].copy_from_slice(&argv);
                    x[argv.len()] = fun;
                    return call_fun(p, x, fun, argv.len() as u8, cp);
                }
                Special::Forward(m, f) => {
                    e = p.vm.code.export(Mfa(atom::intern(m), atom::intern(f), arity));
                    continue;
                }
            }
        }
        let t = e.target(p.vm.code.active());
        if !t.is_null() {
            if let Some(cp) = cp {
                p.stack.push(Term::cp(cp as *const u8));
            }
            return Ok(t);
        }
        if tries == 0 && p.vm.autoload(e.module) {
            tries += 1;
            continue;
        }
        let args = p.heap.list(&x[..arity as usize]);
        return Err((
            Exc::error(Term::atom(atom::UNDEF)),
            Some(Extra { module: e.module, function: e.function, args, error_info: false }),
        ));
    }
}

/// Call the fun `f` with x0..arity-1 (see `call_export` for `cp`).
pub fn call_fun(
    p: &mut Process,
    x: &mut [Term],
    f: Term,
    arity: u8,
    cp: Option<*const Op>,
) -> Result<*const Op, Raise> {
    match f.fun_view() {
        Some(FunView::Local { arity: fa, free, entry, .. }) => {
            if fa != arity {
                let args = p.heap.list(&x[..arity as usize]);
                let inner = p.heap.tuple(&[f, args]);
                let r = p.heap.tuple(&[Term::atom(atom::BADARITY), inner]);
                return Err((Exc::error(r), None));
            }
            let purged = entry.instance.get().map(|i| i.state() == crate::code::InstanceState::Purged).unwrap_or(true);
            if purged {
                let r = p.heap.tuple(&[Term::atom(atom::BADFUN), f]);
                return Err((Exc::error(r), None));
            }
            let a = arity as usize;
            x[a..a + free.len()].copy_from_slice(free);
            if let Some(cp) = cp {
                p.stack.push(Term::cp(cp as *const u8));
            }
            Ok(entry.code.0)
        }
        Some(FunView::Export { arity: fa, .. }) => {
            if fa != arity {
                let args = p.heap.list(&x[..arity as usize]);
                let inner = p.heap.tuple(&[f, args]);
                let r = p.heap.tuple(&[Term::atom(atom::BADARITY), inner]);
                return Err((Exc::error(r), None));
            }
            call_export(p, x, f.export_entry().unwrap(), arity, cp)
        }
        None => {
            let r = p.heap.tuple(&[Term::atom(atom::BADFUN), f]);
            Err((Exc::error(r), None))
        }
    }
}

/// Find the nearest catch and continue there, or end the process.
#[cold]
#[inline(never)]
fn unwind(
    p: &mut Process,
    x: &mut [Term],
    ip: *const Op,
    exc: Exc,
    extra: Option<Extra>,
) -> Result<*const Op, Outcome> {
    let (class, reason, args, trace) = match exc {
        Exc::Halt(n) => return Err(Outcome::Halt(n)),
        Exc::Kill(reason) => return Err(Outcome::Crash { class: Class::Exit, reason, trace: Term::NIL }),
        Exc::Raise { class, reason, args, trace } => (class, reason, args, trace),
    };
    let trace = match trace {
        Some(t) => t,
        None => build_trace(p, ip, args, extra),
    };
    let mut i = p.stack.len();
    while i > 0 {
        i -= 1;
        if let Some(m) = p.stack[i].as_catch() {
            // SAFETY: catch markers are made only by Try/Catch ops from the
            // op's own address, and code is never freed.
            let op = unsafe { &*(m as *const Op) };
            match op {
                Op::Try { y, handler } => {
                    p.stack.truncate(i + *y as usize + 1);
                    x[0] = Term::atom(class.atom());
                    x[1] = reason;
                    x[2] = trace;
                    return Ok(handler.0);
                }
                Op::Catch { y, handler } => {
                    p.stack.truncate(i + *y as usize + 1);
                    x[0] = Term::NONE;
                    x[1] = Term::atom(class.atom());
                    x[2] = reason;
                    x[3] = trace;
                    return Ok(handler.0);
                }
                _ => unreachable!("catch marker not pointing at a Try/Catch"),
            }
        }
    }
    Err(Outcome::Crash { class, reason, trace })
}

/// One stack-trace entry `{M, F, ArityOrArgs, Location}`.
fn trace_entry(p: &mut Process, at: *const Op, args: Option<Term>, after_call: bool) -> Option<Term> {
    let inst = p.vm.code.instance_of(at)?;
    let mut idx = inst.index_of(at);
    if after_call && idx > 0 {
        idx -= 1;
    }
    let f = inst.function_at(idx)?;
    let (name, arity) = (f.name, f.arity);
    let line = inst.line_at(idx);
    let file = p.heap.string(&inst.source);
    let ftup = p.heap.tuple(&[Term::atom(atom::FILE), file]);
    let loc = if line > 0 {
        let ltup = p.heap.tuple(&[Term::atom(atom::LINE), Term::small(line as i64)]);
        p.heap.list(&[ftup, ltup])
    } else {
        p.heap.list(&[ftup])
    };
    // A fun's code shows its whole arity (free variables included) and
    // all of its arguments, as OTP 25 does.
    let a = args.unwrap_or(Term::small(arity as i64));
    Some(p.heap.tuple(&[Term::atom(inst.module), Term::atom(name), a, loc]))
}

/// `+ - * /` on two numbers failed: a division by zero or a float result
/// out of range. OTP raises those from the instruction itself, so its trace
/// starts at the function doing the arithmetic, without the `erlang:'/'/2`
/// frame that a non-number operand gets.
fn float_arith_error(e: &Extra) -> bool {
    if e.module != atom::ERLANG || !matches!(e.function.name(), "+" | "-" | "*" | "/") {
        return false;
    }
    let mut it = e.args.iter_list();
    let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) else { return false };
    a.is_number() && b.is_number()
}

/// Build the Erlang stack trace for an exception raised at `ip`.
pub fn build_trace(p: &mut Process, ip: *const Op, args: Option<Term>, extra: Option<Extra>) -> Term {
    let mut entries: Vec<Term> = Vec::new();
    if let Some(e) = extra.filter(|e| !float_arith_error(e)) {
        let loc = if e.error_info {
            let k = Term::atom(atom::MODULE);
            // The module OTP names to explain the error: the runtime's for
            // `erlang`, the standard library's for the others.
            let v = Term::atom(atom::intern(if e.module == atom::ERLANG {
                "erl_erts_errors"
            } else {
                "erl_stdlib_errors"
            }));
            let m = p.heap.map(vec![(k, v)]);
            let t = p.heap.tuple(&[Term::atom(atom::intern("error_info")), m]);
            p.heap.list(&[t])
        } else {
            Term::NIL
        };
        entries.push(p.heap.tuple(&[Term::atom(e.module), Term::atom(e.function), e.args, loc]));
    }
    if let Some(t) = trace_entry(p, ip, args, false) {
        entries.push(t);
    }
    let mut i = p.stack.len();
    while i > 0 && entries.len() < BACKTRACE_DEPTH {
        i -= 1;
        if let Some(cp) = p.stack[i].as_cp() {
            if let Some(t) = trace_entry(p, cp as *const Op, None, true) {
                entries.push(t);
            }
        }
    }
    p.heap.list(&entries)
}

/// Reach CodePtr's inner pointer in match arms.
impl CodePtr {
    #[inline]
    pub fn addr(self) -> *const Op {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tagged-word arithmetic agrees with the decoded one at the edges
    /// of the small range.
    #[test]
    fn small_arithmetic_on_tagged_words() {
        let edge = [MIN_SMALL, MIN_SMALL + 1, -17, -1, 0, 1, 2, 1 << 40, MAX_SMALL - 1, MAX_SMALL];
        let fits = |r: i128| r >= MIN_SMALL as i128 && r <= MAX_SMALL as i128;
        for &a in &edge {
            for &b in &edge {
                let (ta, tb) = (Term::small(a), Term::small(b));
                let sum = a as i128 + b as i128;
                assert_eq!(small_add(ta, tb), fits(sum).then(|| Term::small(sum as i64)), "{a} + {b}");
                assert_eq!(small_add_imm(ta, b), fits(sum).then(|| Term::small(sum as i64)), "{a} + {b}");
                let diff = a as i128 - b as i128;
                assert_eq!(small_sub(ta, tb), fits(diff).then(|| Term::small(diff as i64)), "{a} - {b}");
                assert_eq!(small_sub_imm(ta, b), fits(diff).then(|| Term::small(diff as i64)), "{a} - {b}");
            }
        }
        assert_eq!(small_add(Term::NIL, Term::small(1)), None);
        assert_eq!(small_sub(Term::small(1), Term::atom(atom::OK)), None);
        assert_eq!(small_add_imm(Term::NIL, 1), None);
        // SMALL_TAG_MASK picks out exactly the smalls.
        for t in [Term::NIL, Term::atom(atom::OK), Term::pid(5), Term::TRUE] {
            assert!(!t.is_small() && t.raw() & SMALL_TAG_MASK != SMALL_TAG as u64);
        }
        let mut h = crate::heap::Heap::new();
        for t in [h.cons(Term::NIL, Term::NIL), h.tuple(&[Term::NIL]), h.float(1.5), h.int(i64::MAX)] {
            assert!(!t.is_small() && t.raw() & SMALL_TAG_MASK != SMALL_TAG as u64);
        }
        for &a in &edge {
            assert_eq!(Term::small(a).raw() & SMALL_TAG_MASK, SMALL_TAG as u64);
        }
    }
}
