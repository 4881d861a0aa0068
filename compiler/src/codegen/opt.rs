//! A clean-up pass over each generated function: y-slot copy propagation
//! and dead y-slot stores.
//!
//! The generator gives every variable read after a frame exists its own y
//! slot and reads it back from there (see "Known limits" in `mod.rs`), so a
//! body like `app([H|T], L) -> [H | app(T, L)]` saves `H`, `T` and `L` and
//! loads `T` and `L` back for the call although they are still in x
//! registers. This pass, run on the finished code of a function:
//!
//! 1. inside each basic block, remembers which x registers hold the same
//!    value as which y slots (after `Move Xa -> Yk` or `Move Yk -> Xa`), and
//!    reads such a y slot from the x register instead (a `Move` that becomes
//!    `Move Xa -> Xa` is deleted). The knowledge is dropped at every label
//!    (another path may arrive there), when either side is overwritten, at
//!    every instruction that may collect garbage for the x registers not in
//!    its `live` count (the collector does not update them), at calls, and
//!    at any instruction the pass does not model;
//! 2. computes which y slots are live (read later on some path) at each
//!    instruction, over the function's control flow, and deletes each
//!    `Move _ -> Yk` whose slot is dead after it.
//!
//! 3. a `Bif` into an x register whose value is only moved to a y slot
//!    writes the slot itself (`bif_into_y`);
//!
//! 4. renumbers the y slots still used densely and shrinks the frame to
//!    them (`Allocate` initialises fewer slots).
//!
//! Functions with `try`/`catch` are left as they are (their catch tags live
//! in y slots and an exception reaches the handler from anywhere inside).
//! Deleted instructions are removed and every label, line entry and
//! function entry is moved to the next kept instruction; a deleted
//! instruction had no effect, so that is the same code.

use minierl_bytecode::{Dst, Instr, Src};
use std::collections::HashSet;

/// Optimise `code[start..end]` (one function). `is_leader(pc)`: some label
/// points at `pc`. Returns the indices to delete.
pub(crate) fn optimise_function(
    code: &mut [Instr],
    start: usize,
    end: usize,
    is_leader: &dyn Fn(usize) -> bool,
    target: &dyn Fn(minierl_bytecode::Label) -> Option<usize>,
) -> Vec<usize> {
    if code[start..end].iter().any(|i| {
        matches!(
            i,
            Instr::Try { .. }
                | Instr::TryEnd { .. }
                | Instr::TryCase { .. }
                | Instr::Catch { .. }
                | Instr::CatchEnd { .. }
        )
    }) {
        return Vec::new();
    }
    let mut dead: HashSet<usize> = HashSet::new();
    propagate(code, start, end, is_leader, &mut dead);
    let nslots = max_y(&code[start..end]);
    if nslots > 0 {
        dead_stores(code, start, end, nslots, target, &mut dead);
        bif_into_y(code, start, end, is_leader, &mut dead);
    }
    if nslots > 0 {
        compact_frame(code, start, end, nslots, &dead);
    }
    let mut v: Vec<usize> = dead.into_iter().collect();
    v.sort_unstable();
    v
}

/// Apply `f` to every y-slot operand (source or destination) of `i`; false
/// when the pass does not model the instruction.
fn for_each_y(i: &mut Instr, f: &mut dyn FnMut(&mut u16)) -> bool {
    let s = |v: &mut Src, f: &mut dyn FnMut(&mut u16)| {
        if let Src::Y(k) = v {
            f(k)
        }
    };
    let d = |v: &mut Dst, f: &mut dyn FnMut(&mut u16)| {
        if let Dst::Y(k) = v {
            f(k)
        }
    };
    match i {
        Instr::Move { src, dst }
        | Instr::GetHd { src, dst }
        | Instr::GetTl { src, dst }
        | Instr::GetTupleElement { src, dst, .. } => {
            s(src, f);
            d(dst, f);
        }
        Instr::GetList { src, head, tail } => {
            s(src, f);
            d(head, f);
            d(tail, f);
        }
        Instr::Test { src, .. }
        | Instr::TestArity { src, .. }
        | Instr::IsTaggedTuple { src, .. }
        | Instr::SelectVal { src, .. }
        | Instr::SelectTupleArity { src, .. }
        | Instr::Error { src, .. } => s(src, f),
        Instr::PutList { head, tail, dst } => {
            s(head, f);
            s(tail, f);
            d(dst, f);
        }
        Instr::Cmp { a, b, .. } => {
            s(a, f);
            s(b, f);
        }
        Instr::PutTuple { elements: v, dst }
        | Instr::Bif { args: v, dst, .. }
        | Instr::MakeFun { free: v, dst, .. } => {
            v.iter_mut().for_each(|e| s(e, f));
            d(dst, f);
        }
        Instr::Swap { a, b } => {
            d(a, f);
            d(b, f);
        }
        _ => {
            let mut none = Vec::new();
            return y_uses(i, &mut none) && none.is_empty() && y_def(i).is_none();
        }
    }
    true
}

/// `Bif ... -> Xk` then `Move Xk -> Yj` with `Xk` not read again: the
/// `Bif` writes `Yj` itself and the `Move` goes (`X = A + 1, f(..), X`
/// saves its sum with one instruction instead of two).
fn bif_into_y(
    code: &mut [Instr],
    start: usize,
    end: usize,
    is_leader: &dyn Fn(usize) -> bool,
    dead: &mut HashSet<usize>,
) {
    let kept = |dead: &HashSet<usize>, from: usize| (from..end).find(|pc| !dead.contains(pc));
    for pc in start..end {
        if dead.contains(&pc) {
            continue;
        }
        let Instr::Bif { dst: Dst::X(k), .. } = code[pc] else { continue };
        let Some(m) = kept(dead, pc + 1) else { continue };
        let Instr::Move { src: Src::X(k2), dst: Dst::Y(j) } = code[m] else { continue };
        // Another path may reach a labelled `Move` with its own `Xk`.
        if k2 != k || is_leader(m) || !x_dead_after(code, m + 1, end, k, dead) {
            continue;
        }
        if let Instr::Bif { dst, .. } = &mut code[pc] {
            *dst = Dst::Y(j);
        }
        dead.insert(m);
    }
}

/// Is x register `k` overwritten (or dropped by a call or a collection)
/// before anything reads it, on the straight-line path from `from`? False
/// when unsure: at a branch, or an instruction this does not model.
fn x_dead_after(code: &[Instr], from: usize, end: usize, k: u16, dead: &HashSet<usize>) -> bool {
    let reads = |s: &Src| *s == Src::X(k);
    for pc in from..end {
        if dead.contains(&pc) {
            continue;
        }
        match &code[pc] {
            Instr::Move { src, dst } => {
                if reads(src) {
                    return false;
                }
                if *dst == Dst::X(k) {
                    return true;
                }
            }
            Instr::Call { arity, .. }
            | Instr::CallOnly { arity, .. }
            | Instr::CallLast { arity, .. }
            | Instr::CallExt { arity, .. }
            | Instr::CallExtOnly { arity, .. }
            | Instr::CallExtLast { arity, .. } => return k >= *arity as u16,
            Instr::Return => return k != 0,
            Instr::Allocate { live, .. } | Instr::TestHeap { live, .. } if k >= *live => return true,
            Instr::Allocate { .. } | Instr::TestHeap { .. } | Instr::Deallocate { .. } => {}
            Instr::PutList { head, tail, dst } => {
                if reads(head) || reads(tail) {
                    return false;
                }
                if *dst == Dst::X(k) {
                    return true;
                }
            }
            Instr::PutTuple { elements, dst } => {
                if elements.iter().any(reads) {
                    return false;
                }
                if *dst == Dst::X(k) {
                    return true;
                }
            }
            Instr::Bif { args, dst, fail, .. } if fail.is_none() => {
                if args.iter().any(reads) {
                    return false;
                }
                if *dst == Dst::X(k) {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

/// Renumber the y slots still used (after dead stores are gone) densely
/// and shrink every frame of the function to that many slots.
fn compact_frame(code: &mut [Instr], start: usize, end: usize, n: usize, dead: &HashSet<usize>) {
    let mut used = vec![false; n];
    for pc in start..end {
        if dead.contains(&pc) {
            continue;
        }
        let mut out_of_range = false;
        let ok = for_each_y(&mut code[pc], &mut |k| match used.get_mut(*k as usize) {
            Some(u) => *u = true,
            None => out_of_range = true,
        });
        if !ok || out_of_range {
            return;
        }
    }
    let mut new = vec![0u16; n];
    let mut m = 0u16;
    for k in 0..n {
        if used[k] {
            new[k] = m;
            m += 1;
        }
    }
    if m as usize == n {
        return;
    }
    for pc in start..end {
        if dead.contains(&pc) {
            continue;
        }
        for_each_y(&mut code[pc], &mut |k| *k = new[*k as usize]);
        match &mut code[pc] {
            Instr::Allocate { stack, .. } | Instr::Deallocate { stack } => *stack = m,
            Instr::CallLast { dealloc, .. }
            | Instr::CallExtLast { dealloc, .. }
            | Instr::CallFunLast { dealloc, .. }
            | Instr::ApplyLast { dealloc, .. } => *dealloc = m,
            _ => {}
        }
    }
}

/// The number of y slots the function uses (highest index + 1).
fn max_y(code: &[Instr]) -> usize {
    let mut n = 0;
    for i in code {
        if let Instr::Allocate { stack, .. } = i {
            n = n.max(*stack as usize);
        }
    }
    n
}

/// Pairs (x register, y slot) known to hold the same value.
#[derive(Default)]
struct Eqs(Vec<(u16, u16)>);

impl Eqs {
    fn clear(&mut self) {
        self.0.clear();
    }
    fn kill_x(&mut self, r: u16) {
        self.0.retain(|&(x, _)| x != r);
    }
    fn kill_y(&mut self, s: u16) {
        self.0.retain(|&(_, y)| y != s);
    }
    fn kill_from(&mut self, live: u16) {
        self.0.retain(|&(x, _)| x < live);
    }
    fn x_for(&self, s: u16) -> Option<u16> {
        self.0.iter().find(|&&(_, y)| y == s).map(|&(x, _)| x)
    }
    fn ys_of(&self, r: u16) -> Vec<u16> {
        self.0.iter().filter(|&&(x, _)| x == r).map(|&(_, y)| y).collect()
    }
    fn add(&mut self, r: u16, s: u16) {
        if !self.0.contains(&(r, s)) {
            self.0.push((r, s));
        }
    }
    fn def(&mut self, d: Dst) {
        match d {
            Dst::X(r) => self.kill_x(r),
            Dst::Y(s) => self.kill_y(s),
        }
    }
    /// A read of `s`: from an x register when one holds the same value.
    fn rewrite(&self, s: &mut Src) {
        if let Src::Y(k) = *s {
            if let Some(r) = self.x_for(k) {
                *s = Src::X(r);
            }
        }
    }
}

fn propagate(
    code: &mut [Instr],
    start: usize,
    end: usize,
    is_leader: &dyn Fn(usize) -> bool,
    dead: &mut HashSet<usize>,
) {
    let mut eq = Eqs::default();
    for pc in start..end {
        if is_leader(pc) {
            eq.clear();
        }
        match &mut code[pc] {
            Instr::Move { src, dst } => {
                eq.rewrite(src);
                match (*src, *dst) {
                    (Src::X(a), Dst::X(b)) if a == b => {
                        dead.insert(pc);
                    }
                    (Src::X(a), Dst::X(b)) => {
                        eq.kill_x(b);
                        for k in eq.ys_of(a) {
                            eq.add(b, k);
                        }
                    }
                    (Src::X(a), Dst::Y(k)) => {
                        eq.kill_y(k);
                        eq.add(a, k);
                    }
                    (Src::Y(k), Dst::X(b)) => {
                        eq.kill_x(b);
                        eq.add(b, k);
                    }
                    (_, d) => eq.def(d),
                }
            }
            Instr::GetList { src, head, tail } => {
                eq.rewrite(src);
                eq.def(*head);
                eq.def(*tail);
            }
            Instr::GetHd { src, dst } | Instr::GetTl { src, dst } | Instr::GetTupleElement { src, dst, .. } => {
                eq.rewrite(src);
                eq.def(*dst);
            }
            Instr::PutList { head, tail, dst } => {
                eq.rewrite(head);
                eq.rewrite(tail);
                eq.def(*dst);
            }
            Instr::PutTuple { elements, dst } => {
                for e in elements.iter_mut() {
                    eq.rewrite(e);
                }
                eq.def(*dst);
            }
            Instr::Bif { args, dst, live, .. } => {
                for a in args.iter_mut() {
                    eq.rewrite(a);
                }
                eq.kill_from(*live);
                eq.def(*dst);
            }
            Instr::Test { src, .. } | Instr::TestArity { src, .. } | Instr::IsTaggedTuple { src, .. } => {
                eq.rewrite(src);
            }
            Instr::Cmp { a, b, .. } => {
                eq.rewrite(a);
                eq.rewrite(b);
            }
            Instr::TestHeap { live, .. } => eq.kill_from(*live),
            // A new frame: no y slot holds anything yet.
            _ => eq.clear(),
        }
    }
}

/// The y slots an instruction reads, or None when the pass does not model
/// it (then every slot counts as read).
fn y_uses(i: &Instr, out: &mut Vec<u16>) -> bool {
    let mut s = |v: &Src| {
        if let Src::Y(k) = v {
            out.push(*k);
        }
    };
    match i {
        Instr::Move { src, .. }
        | Instr::GetList { src, .. }
        | Instr::GetHd { src, .. }
        | Instr::GetTl { src, .. }
        | Instr::GetTupleElement { src, .. }
        | Instr::Test { src, .. }
        | Instr::TestArity { src, .. }
        | Instr::IsTaggedTuple { src, .. }
        | Instr::SelectVal { src, .. }
        | Instr::SelectTupleArity { src, .. }
        | Instr::Error { src, .. } => s(src),
        Instr::PutList { head, tail, .. } => {
            s(head);
            s(tail);
        }
        Instr::Cmp { a, b, .. } => {
            s(a);
            s(b);
        }
        Instr::PutTuple { elements: v, .. } | Instr::Bif { args: v, .. } | Instr::MakeFun { free: v, .. } => {
            v.iter().for_each(s)
        }
        Instr::Swap { a, b } => {
            s(&(*a).into());
            s(&(*b).into());
        }
        Instr::FuncInfo { .. }
        | Instr::Allocate { .. }
        | Instr::Deallocate { .. }
        | Instr::Return
        | Instr::TestHeap { .. }
        | Instr::Call { .. }
        | Instr::CallOnly { .. }
        | Instr::CallLast { .. }
        | Instr::CallExt { .. }
        | Instr::CallExtOnly { .. }
        | Instr::CallExtLast { .. }
        | Instr::CallFun { .. }
        | Instr::CallFunOnly { .. }
        | Instr::CallFunLast { .. }
        | Instr::Apply { .. }
        | Instr::ApplyOnly { .. }
        | Instr::ApplyLast { .. }
        | Instr::Jump { .. }
        | Instr::Raise
        | Instr::Send
        | Instr::Nop => {}
        _ => return false,
    }
    true
}

/// Where control can go after `i` at `pc` (None: the pass does not model
/// the instruction; then every slot counts as live).
fn successors(
    i: &Instr,
    pc: usize,
    target: &dyn Fn(minierl_bytecode::Label) -> Option<usize>,
    out: &mut Vec<usize>,
) -> bool {
    let mut l = |lb: minierl_bytecode::Label| -> bool {
        if lb.is_none() {
            return true;
        }
        match target(lb) {
            Some(t) => {
                out.push(t);
                true
            }
            None => false,
        }
    };
    let ok = match i {
        // No successor inside the frame: the frame is gone or control
        // leaves the function.
        Instr::FuncInfo { .. }
        | Instr::Return
        | Instr::CallOnly { .. }
        | Instr::CallLast { .. }
        | Instr::CallExtOnly { .. }
        | Instr::CallExtLast { .. }
        | Instr::CallFunOnly { .. }
        | Instr::CallFunLast { .. }
        | Instr::ApplyOnly { .. }
        | Instr::ApplyLast { .. }
        | Instr::Error { .. }
        | Instr::Raise => return true,
        Instr::Jump { label } => return l(*label),
        Instr::SelectVal { fail, table, .. } => {
            let mut ok = l(*fail);
            for (_, t) in table {
                ok &= l(*t);
            }
            return ok;
        }
        Instr::SelectTupleArity { fail, table, .. } => {
            let mut ok = l(*fail);
            for (_, t) in table {
                ok &= l(*t);
            }
            return ok;
        }
        Instr::Bif { fail, .. }
        | Instr::Test { fail, .. }
        | Instr::TestArity { fail, .. }
        | Instr::IsTaggedTuple { fail, .. }
        | Instr::Cmp { fail, .. } => l(*fail),
        Instr::Allocate { .. }
        | Instr::Deallocate { .. }
        | Instr::TestHeap { .. }
        | Instr::Call { .. }
        | Instr::CallExt { .. }
        | Instr::CallFun { .. }
        | Instr::Apply { .. }
        | Instr::Move { .. }
        | Instr::Swap { .. }
        | Instr::GetList { .. }
        | Instr::GetHd { .. }
        | Instr::GetTl { .. }
        | Instr::GetTupleElement { .. }
        | Instr::PutList { .. }
        | Instr::PutTuple { .. }
        | Instr::MakeFun { .. }
        | Instr::Send
        | Instr::Nop => true,
        _ => false,
    };
    out.push(pc + 1);
    ok
}

/// The y slot an instruction overwrites without reading (a kill for
/// liveness), if any.
fn y_def(i: &Instr) -> Option<u16> {
    match i {
        Instr::Move { dst: Dst::Y(k), .. }
        | Instr::GetTupleElement { dst: Dst::Y(k), .. }
        | Instr::GetHd { dst: Dst::Y(k), .. }
        | Instr::GetTl { dst: Dst::Y(k), .. }
        | Instr::PutList { dst: Dst::Y(k), .. }
        | Instr::PutTuple { dst: Dst::Y(k), .. } => Some(*k),
        // With a fail label the slot keeps its old value on that path.
        Instr::Bif { dst: Dst::Y(k), fail, .. } if fail.is_none() => Some(*k),
        _ => None,
    }
}

/// A bit set of y slots.
#[derive(Clone, PartialEq)]
struct Set(Vec<u64>);

impl Set {
    fn new(n: usize) -> Set {
        Set(vec![0; n.div_ceil(64)])
    }
    fn all(n: usize) -> Set {
        let mut s = Set::new(n);
        for k in 0..n {
            s.add(k);
        }
        s
    }
    fn add(&mut self, k: usize) {
        if k / 64 < self.0.len() {
            self.0[k / 64] |= 1 << (k % 64);
        }
    }
    fn remove(&mut self, k: usize) {
        if k / 64 < self.0.len() {
            self.0[k / 64] &= !(1 << (k % 64));
        }
    }
    fn has(&self, k: usize) -> bool {
        k / 64 < self.0.len() && self.0[k / 64] & (1 << (k % 64)) != 0
    }
    fn union(&mut self, o: &Set) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a |= *b;
        }
    }
}

fn dead_stores(
    code: &[Instr],
    start: usize,
    end: usize,
    n: usize,
    target: &dyn Fn(minierl_bytecode::Label) -> Option<usize>,
    dead: &mut HashSet<usize>,
) {
    let len = end - start;
    // Per instruction: successors (relative), whether modelled.
    let mut succ: Vec<Vec<usize>> = Vec::with_capacity(len);
    let mut uses: Vec<Option<Vec<u16>>> = Vec::with_capacity(len);
    for pc in start..end {
        let mut out = Vec::new();
        let ok = successors(&code[pc], pc, target, &mut out);
        if !ok || out.iter().any(|&t| t < start || t >= end) {
            // Control we do not follow: be conservative everywhere.
            return;
        }
        succ.push(out.into_iter().map(|t| t - start).collect());
        let mut u = Vec::new();
        uses.push(if y_uses(&code[pc], &mut u) { Some(u) } else { None });
    }
    // live_in[i] = uses(i) ∪ (live_out(i) − def(i)); iterate to a fixpoint.
    let mut live_in = vec![Set::new(n); len];
    let mut changed = true;
    while changed {
        changed = false;
        for i in (0..len).rev() {
            let mut out = Set::new(n);
            for &s in &succ[i] {
                out.union(&live_in[s]);
            }
            let mut inn = out;
            if let Some(k) = y_def(&code[start + i]) {
                inn.remove(k as usize);
            }
            match &uses[i] {
                Some(u) => u.iter().for_each(|&k| inn.add(k as usize)),
                None => inn = Set::all(n),
            }
            if inn != live_in[i] {
                live_in[i] = inn;
                changed = true;
            }
        }
    }
    for i in 0..len {
        if let Instr::Move { dst: Dst::Y(k), .. } = code[start + i] {
            let live_after = succ[i].iter().any(|&s| live_in[s].has(k as usize));
            if !live_after {
                dead.insert(start + i);
            }
        }
    }
}
