//! The garbage collector: a copying (Cheney) collector over one process.
//!
//! It runs only at safe points, given the number of live x registers. Roots:
//! x0..live-1, the stack (y slots; continuation pointers and catch markers
//! are immediates and skipped), the private message queue, the process
//! dictionary and the saved registers. Everything reachable that lies in the
//! heap's block or fragments is copied into one new block; the old block and
//! all fragments (including linked message fragments) are then freed.
//! Pointers that lead outside the process's blocks (module literals, which
//! are never freed) are left as they are.
//!
//! Forwarding: a copied boxed object's header is overwritten with the boxed
//! term of its copy (a header never has the boxed tag); a copied cons cell's
//! head becomes the non-value and its tail the new cons term.
//!
//! Sizing: the copy goes into a block big enough for everything in use (an
//! upper bound of the live data); then the heap is resized to
//! `max(MIN_HEAP_WORDS, GROWTH * (live + need))` words if that differs much
//! from the copy's block, by moving the live data once more (a memcpy plus a
//! pointer fix-up, O(live)). With `GROWTH = 4` the free space after a
//! collection is three times the live data, so the collection cost per word
//! allocated stays constant (a third of a word copied per word allocated)
//! however large the heap grows, and a heap that became mostly garbage
//! shrinks back. The new blocks are not zeroed: every word below `used` is
//! written before it is read, so a memset of the whole to-space at every
//! collection (O(heap), not O(live)) would be wasted.
//!
//! Verification: with `MINIERL_VERIFY_HEAP=1` or in debug builds, every
//! collection is followed by a walk of the new heap and the roots checking
//! that every pointer lands on an object in the new block or outside all the
//! freed blocks, and that every HAMT node (`hamt.rs`) has a well-formed
//! bitmap and children.

use crate::heap::{Fragment, Heap, MIN_HEAP_WORDS};
use crate::process::Process;
use crate::term::*;
use std::sync::OnceLock;

/// Heap size after a collection, as a multiple of the live data + need.
/// Copying cost per word allocated is 1 / (GROWTH - 1): 2 made nrev and
/// binarytrees copy as much as they allocated; 4 cuts that to a third for
/// at most twice the memory of 2 (still below BEAM's on those benchmarks).
pub const GROWTH: usize = 4;

fn verify_enabled() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| cfg!(debug_assertions) || std::env::var("MINIERL_VERIFY_HEAP").map(|v| v == "1").unwrap_or(false))
}

struct FromSpace {
    /// Sorted (start, end) byte addresses of the blocks being collected.
    ranges: Vec<(usize, usize)>,
}

impl FromSpace {
    fn new(heap: &Heap) -> FromSpace {
        let mut ranges: Vec<(usize, usize)> = std::iter::once(&heap.block)
            .chain(heap.frags.iter())
            .map(|f| {
                let s = f.words.as_ptr() as usize;
                (s, s + f.words.len() * 8)
            })
            .collect();
        ranges.sort_unstable();
        FromSpace { ranges }
    }
    #[inline]
    fn contains(&self, p: usize) -> bool {
        if self.ranges.len() == 1 {
            return p >= self.ranges[0].0 && p < self.ranges[0].1;
        }
        let i = self.ranges.partition_point(|r| r.0 <= p);
        i > 0 && p < self.ranges[i - 1].1
    }
}

#[inline]
fn evacuate(t: Term, from: &FromSpace, to: &mut Fragment) -> Term {
    if t.is_immediate() {
        return t;
    }
    if t.is_cons() {
        let p = t.cons_ptr() as *mut u64;
        if !from.contains(p as usize) {
            return t;
        }
        // SAFETY: p is a cons cell in from-space (2 words, alive until we
        // free from-space after the collection).
        unsafe {
            if *p == Term::NONE.raw() {
                return Term::from_raw(*p.add(1));
            }
            let n = to.alloc(2).expect("to-space sized for all live data");
            *n = *p;
            *n.add(1) = *p.add(1);
            let nt = Term::from_cons_ptr(n);
            *p = Term::NONE.raw();
            *p.add(1) = nt.raw();
            return nt;
        }
    }
    if t.is_boxed() {
        let p = t.boxed_ptr() as *mut u64;
        if !from.contains(p as usize) {
            return t;
        }
        // SAFETY: p is an object header in from-space (or its forwarding
        // pointer); the header gives the object's size.
        unsafe {
            let h = *p;
            if !is_header(h) {
                return Term::from_raw(h);
            }
            let size = 1 + header_size(h);
            let n = to.alloc(size).expect("to-space sized for all live data");
            std::ptr::copy_nonoverlapping(p, n, size);
            let nt = Term::from_boxed_ptr(n);
            *p = nt.raw();
            return nt;
        }
    }
    t
}

/// Apply `f` to every term word stored in `words[..used]` (a block holding
/// objects and cons cells).
fn for_each_term_slot(words: &mut [u64], used: usize, mut f: impl FnMut(&mut u64)) {
    let mut i = 0;
    while i < used {
        let w = words[i];
        if is_header(w) {
            let (first, count) = payload_terms(w);
            for k in first..first + count {
                f(&mut words[i + 1 + k]);
            }
            i += 1 + header_size(w);
        } else {
            f(&mut words[i]);
            i += 1;
        }
    }
}

fn for_each_root(p: &mut Process, x: &mut [Term], live: usize, mut f: impl FnMut(&mut Term)) {
    for r in x[..live].iter_mut() {
        f(r);
    }
    for r in p.stack.iter_mut() {
        f(r);
    }
    for r in p.msgs.iter_mut() {
        f(r);
    }
    for (k, v) in p.dict.iter_mut() {
        f(k);
        f(v);
    }
    for r in p.saved_x.iter_mut() {
        f(r);
    }
}

/// A block of `n` words left uninitialised (see the module docs: words at
/// or above `used` are never read, and the collector writes each word below
/// `used` before reading it).
fn uninit_fragment(n: usize) -> Fragment {
    let n = n.max(1);
    let layout = std::alloc::Layout::array::<u64>(n).expect("heap block size overflows");
    // SAFETY: layout has a non-zero size. The words are left uninitialised
    // and never read before they are written (allocation hands out words
    // at `used`, which only grows; the collector reads only below `used`).
    // The Box owns the allocation and frees it with the same layout.
    unsafe {
        let p = std::alloc::alloc(layout) as *mut u64;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Fragment { words: Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n)), used: 0 }
    }
}

/// Collect `p`'s heap. `x[..live]` are the live registers; afterwards at
/// least `need` words are free in the block.
pub fn collect(p: &mut Process, x: &mut [Term], live: usize, need: usize) {
    let from = FromSpace::new(&p.heap);
    let used = p.heap.used_words();
    let mut to = uninit_fragment(used.max(1));
    for_each_root(p, x, live, |r| *r = evacuate(*r, &from, &mut to));
    // Cheney scan.
    let mut scan = 0;
    while scan < to.used {
        let w = to.words[scan];
        if is_header(w) {
            let (first, count) = payload_terms(w);
            for k in first..first + count {
                let slot = scan + 1 + k;
                let v = evacuate(Term::from_raw(to.words[slot]), &from, &mut to);
                to.words[slot] = v.raw();
            }
            scan += 1 + header_size(w);
        } else {
            let v = evacuate(Term::from_raw(w), &from, &mut to);
            to.words[scan] = v.raw();
            scan += 1;
        }
    }
    let live_words = to.used;
    let want = (GROWTH * (live_words + need)).max(MIN_HEAP_WORDS);
    let block = if want > to.words.len() || want * 2 < to.words.len() { relocate(p, x, live, to, want) } else { to };
    p.heap.block = block;
    p.heap.frags.clear();
    if verify_enabled() {
        verify(p, x, live, &from);
    }
}

/// Move the live data of `to` into a new block of `size` words, fixing up
/// every pointer into `to`.
fn relocate(p: &mut Process, x: &mut [Term], live: usize, to: Fragment, size: usize) -> Fragment {
    let mut n = uninit_fragment(size);
    n.words[..to.used].copy_from_slice(&to.words[..to.used]);
    n.used = to.used;
    let old = (to.words.as_ptr() as usize, to.words.as_ptr() as usize + to.words.len() * 8);
    let delta = (n.words.as_ptr() as usize).wrapping_sub(old.0);
    let fix = |w: u64| -> u64 {
        let t = Term::from_raw(w);
        if (t.is_boxed() || t.is_cons()) && (w as usize) >= old.0 && (w as usize) < old.1 {
            (w as usize).wrapping_add(delta) as u64
        } else {
            w
        }
    };
    let used = n.used;
    for_each_term_slot(&mut n.words, used, |w| *w = fix(*w));
    for_each_root(p, x, live, |r| *r = Term::from_raw(fix(r.raw())));
    n
}

/// Check every pointer of the heap and roots (see the module docs).
fn verify(p: &mut Process, x: &mut [Term], live: usize, from: &FromSpace) {
    let block = &p.heap.block;
    let (s, e) = (block.words.as_ptr() as usize, block.words.as_ptr() as usize + block.used * 8);
    // Object starts, to check that boxed pointers hit headers.
    let mut starts = std::collections::HashSet::new();
    {
        let mut i = 0;
        while i < block.used {
            let w = block.words[i];
            starts.insert(s + i * 8);
            if is_header(w) {
                i += 1 + header_size(w);
            } else {
                i += 1;
            }
        }
    }
    let check = |t: Term, what: &str| {
        if t.is_immediate() {
            return;
        }
        let a = if t.is_cons() { t.cons_ptr() as usize } else { t.boxed_ptr() as usize };
        if a >= s && a < e {
            assert!(starts.contains(&a), "heap verify: {what} points inside an object ({a:#x})");
            if t.is_boxed() {
                assert!(is_header(t.header()), "heap verify: {what} boxed pointer to a non-header");
            }
        } else {
            assert!(!from.contains(a), "heap verify: {what} points into freed memory ({a:#x})");
        }
    };
    let mut words = block.words[..block.used].to_vec();
    let used = words.len();
    for_each_term_slot(&mut words, used, |w| check(Term::from_raw(*w), "heap word"));
    // The shape of every HAMT node (`hamt::check_node`).
    for &a in &starts {
        let w = block.words[(a - s) / 8];
        if is_header(w) && matches!(header_kind(w), KIND_HAMT | KIND_HNODE) {
            let t = Term::from_boxed_ptr(a as *const u64);
            if let Err(e) = crate::hamt::check_node(t) {
                panic!("heap verify: {e}");
            }
        }
    }
    let roots: Vec<Term> = {
        let mut v = Vec::new();
        for_each_root(p, x, live, |r| v.push(*r));
        v
    };
    for r in roots {
        check(r, "root");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::copy_to_fragment;

    /// A deterministic pseudo-random generator (no dependency).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn random_term(h: &mut Heap, r: &mut Rng, depth: u32, pool: &mut Vec<Term>) -> Term {
        let k = r.next() % if depth == 0 { 4 } else { 10 };
        let t = match k {
            0 => Term::small((r.next() % 1000) as i64 - 500),
            1 => Term::atom(crate::atom::OK),
            2 => h.float((r.next() % 1000) as f64 / 7.0),
            3 => h.bigint(&(num_bigint::BigInt::from(r.next()) << 70)),
            4 | 5 => {
                let n = (r.next() % 4) as usize;
                let v: Vec<Term> = (0..n).map(|_| random_term(h, r, depth - 1, pool)).collect();
                h.tuple(&v)
            }
            6 | 7 => {
                let n = (r.next() % 5) as usize;
                let v: Vec<Term> = (0..n).map(|_| random_term(h, r, depth - 1, pool)).collect();
                h.list(&v)
            }
            8 => {
                let b: Vec<u8> = (0..(r.next() % 20)).map(|i| i as u8).collect();
                h.binary(&b)
            }
            _ => {
                // Sharing: reuse an earlier term.
                if pool.is_empty() {
                    Term::NIL
                } else {
                    pool[(r.next() % pool.len() as u64) as usize]
                }
            }
        };
        if !t.is_immediate() {
            pool.push(t);
        }
        t
    }

    #[test]
    fn random_graphs_survive_collection() {
        let vm = crate::vm::Vm::new_for_tests();
        let mut x = vec![Term::NIL; 16];
        let mut rng = Rng(0x9E3779B97F4A7C15);
        for round in 0..30 {
            let mut p = Process::new(vm, 1);
            let mut pool = Vec::new();
            let mut keep = Vec::new();
            for i in 0..40 {
                let t = random_term(&mut p.heap, &mut rng, 5, &mut pool);
                // Garbage in between.
                let _ = random_term(&mut p.heap, &mut rng, 3, &mut Vec::new());
                if i % 3 == 0 {
                    keep.push(t);
                }
            }
            // Snapshots made outside the heap to compare with.
            let snaps: Vec<(Term, Option<Fragment>)> = keep.iter().map(|t| copy_to_fragment(*t)).collect();
            let n = keep.len().min(8);
            x[..n].copy_from_slice(&keep[..n]);
            for (i, t) in keep[n..].iter().enumerate() {
                p.stack.push(*t);
                if i % 2 == 0 {
                    p.dict.push((Term::small(i as i64), *t));
                }
            }
            if round % 2 == 0 {
                // A message fragment linked in.
                let (m, f) = copy_to_fragment(keep[0]);
                if let Some(f) = f {
                    p.heap.attach_fragment(f);
                }
                p.msgs.push_back(m);
            }
            collect(&mut p, &mut x, n, 10);
            collect(&mut p, &mut x, n, 0);
            for i in 0..n {
                assert!(eq_exact(x[i], snaps[i].0), "x{i} changed");
                assert!(p.heap.block.contains(x[i].boxed_ptr()) || x[i].is_immediate() || x[i].is_cons());
            }
            for (i, t) in p.stack.iter().enumerate() {
                assert!(eq_exact(*t, snaps[n + i].0));
            }
            if round % 2 == 0 {
                assert!(eq_exact(p.msgs[0], snaps[0].0));
            }
            assert!(p.heap.frags.is_empty());
            assert!(p.heap.free_words() >= 10);
        }
    }

    #[test]
    fn garbage_is_reclaimed_and_heap_shrinks() {
        let vm = crate::vm::Vm::new_for_tests();
        let mut x = vec![Term::NIL; 4];
        let mut p = Process::new(vm, 1);
        for i in 0..100_000 {
            let _ = p.heap.cons(Term::small(i), Term::NIL);
        }
        x[0] = p.heap.tuple(&[Term::small(1), Term::small(2)]);
        collect(&mut p, &mut x, 1, 0);
        assert!(p.heap.capacity_words() <= MIN_HEAP_WORDS.max(16), "{}", p.heap.capacity_words());
        assert_eq!(x[0].tuple_elements().unwrap(), &[Term::small(1), Term::small(2)]);
    }
}
