//! The garbage collector: a generational copying (Cheney) collector over
//! one process, after BEAM's.
//!
//! It runs only at safe points, given the number of live x registers. Roots:
//! x0..live-1, the stack (y slots; continuation pointers and catch markers
//! are immediates and skipped), the private message queue, the process
//! dictionary and the saved registers. Pointers that lead outside the
//! blocks being collected (module literals, which are never freed, and, in
//! a minor collection, the old generation) are left as they are.
//!
//! Generations (`heap.rs`): the young block (where allocation happens) and
//! its fragments, and the old block. The young block has a high-water mark
//! `hwm`: the words below it survived the previous collection.
//! - A *minor* collection copies only the young data reached from the
//!   roots: what lies below the high-water mark (it survived once already)
//!   is promoted into the old block, the rest (allocated since) into a new
//!   young block. The old block is neither copied nor scanned, except the
//!   part promoted by this collection. Afterwards everything in the young
//!   block survived once: `hwm = used`.
//! - A *major* collection ("fullsweep") copies everything live (young,
//!   fragments and old) into a new old block; the young block is left
//!   empty (`hwm = 0`). It happens when the old block has less room than
//!   the young data below the mark, which is the most a minor collection
//!   can promote (so a promotion never overflows), at a process's second
//!   collection (no old block yet), and after `erlang:garbage_collect/0`
//!   (`Heap::request_major`).
//!
//! Why no remembered set: minor collections rely on there being no pointer
//! from the old block into the young one. Terms are immutable, and an
//! object can only point to objects older than it; the objects below the
//! mark were live at the previous collection, so everything they point to
//! was too and is below the mark, in the old block or a literal: promoting
//! them never makes an old-to-young pointer. The few writes into existing
//! heap objects store no pointer (checked in the tests below): appending to
//! a binary buffer (`heap::binary_buffer_append`) writes bytes and the
//! committed size, a match context's position (`heap::match_ctx_set_pos`)
//! is a raw word, and in-place initialisation (`Heap::tuple_uninit`, the
//! interpreter's `put_tuple`) fills a fresh young object before the next
//! safe point. The process dictionary and the message queue are roots, not
//! heap objects; HAMT maps (`hamt.rs`) are rebuilt, never updated.
//!
//! Forwarding: a copied boxed object's header is overwritten with the boxed
//! term of its copy (a header never has the boxed tag); a copied cons cell's
//! head becomes the non-value and its tail the new cons term.
//!
//! Sizing. Young: the new young block of a minor collection holds at least
//! the young data above the mark plus the fragments plus `need` (an upper
//! bound of what is copied into it) and at least `Heap::young_words`, which
//! each collection sets to `GROWTH * (survivors + need)` when that is
//! larger, and halves when it is four times too large: the collection cost
//! per word allocated stays about `1 / (GROWTH - 1)` of a word of the
//! young survivors, and a young block the size of the working set stays in
//! the cache. Old: a major collection copies into a block of
//! `OLD_GROWTH * (upper bound of live) + young_words` words (untouched
//! pages cost no memory) and shrinks it (one more move of the live data, a
//! memcpy and a pointer fix-up) if that is over twice
//! `OLD_GROWTH * live + young_words`. The next major comes after about
//! `live + young_words` words were promoted, so its cost per promoted word
//! is below one word. The new blocks are not zeroed: every word below
//! `used` is written before it is read, so a memset of the whole to-space
//! (O(heap), not O(live)) would be wasted.
//!
//! Tracing: with `MINIERL_GC_TRACE=1` every collection prints a line on
//! stderr (kind, pid, words before and after, promoted, old block).
//!
//! Verification: with `MINIERL_VERIFY_HEAP=1` or in debug builds, every
//! collection is followed by a walk of both blocks and the roots checking
//! that every pointer lands on an object in the young or old block or
//! outside all the freed blocks, that no old object points into the young
//! block, that the mark is at the top of the young block and no fragment is
//! left, and that every HAMT node (`hamt.rs`) has a well-formed bitmap and
//! children. A minor collection checks the whole old block only once every
//! `4 * old / young` collections, and otherwise the part it promoted
//! (`verify`).

use crate::heap::{Fragment, Heap, MIN_HEAP_WORDS};
use crate::process::Process;
use crate::term::*;
use std::sync::OnceLock;

/// Young block size after a collection, as a multiple of the young
/// survivors + need. Copying cost per word allocated is 1 / (GROWTH - 1)
/// of the survivors: 2 made nrev and binarytrees copy as much as they
/// allocated; 4 cuts that to a third.
pub const GROWTH: usize = 4;

/// A young block that grew past this size never shrinks below it: a
/// process that collects often (it allocates much) but keeps little alive
/// would otherwise shrink its young block to a few times its survivors and
/// collect every few hundred words, paying each collection's fixed cost
/// (the roots, a block allocation) again and again. 8192 words (64 KB)
/// still fits the L2 cache, where a young block is best.
pub const YOUNG_KEEP_WORDS: usize = 8192;

/// Old block size after a major collection, as a multiple of the live
/// data (plus the young block's size). 2 keeps the memory of a process
/// with much long-lived data (binarytrees' long-lived tree) at about twice
/// that data, with a major collection after as much again was promoted.
pub const OLD_GROWTH: usize = 2;

fn trace_enabled() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var("MINIERL_GC_TRACE").map(|v| v == "1").unwrap_or(false))
}

fn verify_enabled() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| cfg!(debug_assertions) || std::env::var("MINIERL_VERIFY_HEAP").map(|v| v == "1").unwrap_or(false))
}

/// Where an object reached by a collection goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    /// Not collected (a literal; the old block in a minor collection).
    Keep,
    /// The new young block.
    Young,
    /// The old block (promotion; everything in a major collection).
    Old,
}

/// The address ranges a collection copies from, and where each goes.
struct Plan {
    /// The young block's used part, `[y_lo, y_lo + y_len)` in bytes.
    y_lo: usize,
    y_len: usize,
    /// Young objects below this address go to the old block, the others to
    /// the new young block (a major collection sets it to the top).
    y_hwm: usize,
    /// The other blocks collected, sorted (start, end): the fragments, and
    /// in a major collection the old block.
    others: Vec<(usize, usize)>,
    /// Where objects of `others` go.
    others_dest: Dest,
}

fn range(f: &Fragment) -> (usize, usize) {
    let s = f.words.as_ptr() as usize;
    (s, s + f.words.len() * 8)
}

impl Plan {
    fn new(heap: &Heap, major: bool) -> Plan {
        let y_lo = heap.block.words.as_ptr() as usize;
        let y_len = heap.block.used * 8;
        let mut others: Vec<(usize, usize)> = heap.frags.iter().map(range).collect();
        if major && !heap.old.words.is_empty() {
            others.push(range(&heap.old));
        }
        others.sort_unstable();
        Plan {
            y_lo,
            y_len,
            y_hwm: if major { y_lo + y_len } else { y_lo + heap.hwm * 8 },
            others,
            others_dest: if major { Dest::Old } else { Dest::Young },
        }
    }
    #[inline(always)]
    fn dest(&self, a: usize) -> Dest {
        if a.wrapping_sub(self.y_lo) < self.y_len {
            return if a < self.y_hwm { Dest::Old } else { Dest::Young };
        }
        if self.others.is_empty() {
            return Dest::Keep;
        }
        let i = self.others.partition_point(|r| r.0 <= a);
        if i > 0 && a < self.others[i - 1].1 {
            self.others_dest
        } else {
            Dest::Keep
        }
    }
    /// Was `a` in a block being collected?
    fn collected(&self, a: usize) -> bool {
        self.dest(a) != Dest::Keep
    }
}

/// A to-space being filled: a block's words reached through one raw
/// pointer for the whole collection (the block's `Box` is not touched
/// meanwhile), and how many are used. `Fragment::used` is written back by
/// `finish`.
struct ToSpace {
    base: *mut u64,
    used: usize,
    cap: usize,
}

impl ToSpace {
    fn new(f: &mut Fragment) -> ToSpace {
        ToSpace { base: f.words.as_mut_ptr(), used: f.used, cap: f.words.len() }
    }
    fn finish(self, f: &mut Fragment) {
        debug_assert_eq!(self.base, f.words.as_mut_ptr());
        f.used = self.used;
    }
    #[inline(always)]
    fn alloc(&mut self, n: usize) -> *mut u64 {
        assert!(self.used + n <= self.cap, "to-space sized for what it receives");
        // SAFETY: used + n <= cap: inside the block.
        let p = unsafe { self.base.add(self.used) };
        self.used += n;
        p
    }
    /// The word at `i`, which is below `used`.
    #[inline(always)]
    fn get(&self, i: usize) -> u64 {
        debug_assert!(i < self.used);
        // SAFETY: the scan reads only inside objects copied here, which
        // lie below `used` <= `cap` and were written whole by `evacuate`
        // (the same header-size invariant every walk of the heap relies on).
        unsafe { *self.base.add(i) }
    }
    /// Overwrite the word at `i`, which is below `used`.
    #[inline(always)]
    fn set(&mut self, i: usize, w: u64) {
        debug_assert!(i < self.used);
        // SAFETY: as in `get`.
        unsafe { *self.base.add(i) = w }
    }
}

#[inline(always)]
fn evacuate(t: Term, plan: &Plan, young: &mut ToSpace, old: &mut ToSpace) -> Term {
    if t.is_immediate() {
        return t;
    }
    if t.is_cons() {
        let p = t.cons_ptr() as *mut u64;
        let to = match plan.dest(p as usize) {
            Dest::Keep => return t,
            Dest::Young => young,
            Dest::Old => old,
        };
        // SAFETY: p is a cons cell in a collected block (2 words, alive
        // until the collection frees that block); `n` has 2 fresh words of
        // another block.
        unsafe {
            if *p == Term::NONE.raw() {
                return Term::from_raw(*p.add(1));
            }
            let n = to.alloc(2);
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
        let to = match plan.dest(p as usize) {
            Dest::Keep => return t,
            Dest::Young => young,
            Dest::Old => old,
        };
        // SAFETY: p is an object header in a collected block (or its
        // forwarding pointer); the header gives the object's size; `n`
        // has that many fresh words of another block.
        unsafe {
            let h = *p;
            if !is_header(h) {
                return Term::from_raw(h);
            }
            let size = 1 + header_size(h);
            let n = to.alloc(size);
            std::ptr::copy_nonoverlapping(p, n, size);
            let nt = Term::from_boxed_ptr(n);
            *p = nt.raw();
            return nt;
        }
    }
    t
}

/// Cheney-scan `young` from `ys` and `old` from `os` until neither has
/// words left to scan (scanning one may copy into the other).
fn scan(plan: &Plan, young: &mut ToSpace, mut ys: usize, old: &mut ToSpace, mut os: usize) {
    loop {
        let start = (ys, os);
        while ys < young.used {
            let w = young.get(ys);
            if is_header(w) {
                let (first, count) = payload_terms(w);
                for slot in ys + 1 + first..ys + 1 + first + count {
                    let v = evacuate(Term::from_raw(young.get(slot)), plan, young, old);
                    young.set(slot, v.raw());
                }
                ys += 1 + header_size(w);
            } else {
                let v = evacuate(Term::from_raw(w), plan, young, old);
                young.set(ys, v.raw());
                ys += 1;
            }
        }
        while os < old.used {
            let w = old.get(os);
            if is_header(w) {
                let (first, count) = payload_terms(w);
                for slot in os + 1 + first..os + 1 + first + count {
                    let v = evacuate(Term::from_raw(old.get(slot)), plan, young, old);
                    old.set(slot, v.raw());
                }
                os += 1 + header_size(w);
            } else {
                let v = evacuate(Term::from_raw(w), plan, young, old);
                old.set(os, v.raw());
                os += 1;
            }
        }
        if (ys, os) == start {
            return;
        }
    }
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

/// Evacuate every root (`for_each_root`'s), written out so that
/// `evacuate` is inlined in each loop and immediates (most stack words:
/// continuation pointers, small integers) cost a test.
fn evacuate_roots(p: &mut Process, x: &mut [Term], live: usize, plan: &Plan, young: &mut ToSpace, old: &mut ToSpace) {
    for r in x[..live].iter_mut() {
        *r = evacuate(*r, plan, young, old);
    }
    for r in p.stack.iter_mut() {
        if !r.is_immediate() {
            *r = evacuate(*r, plan, young, old);
        }
    }
    for r in p.msgs.iter_mut() {
        *r = evacuate(*r, plan, young, old);
    }
    for (k, v) in p.dict.iter_mut() {
        *k = evacuate(*k, plan, young, old);
        *v = evacuate(*v, plan, young, old);
    }
    for r in p.saved_x.iter_mut() {
        *r = evacuate(*r, plan, young, old);
    }
}

/// A block of `n` words left uninitialised (see the module docs: words at
/// or above `used` are never read, and the collector writes each word below
/// `used` before reading it).
fn uninit_fragment(n: usize) -> Fragment {
    Fragment::uninit(n)
}

/// A from-space at least this large is kept as the next minor
/// collection's to-space (`Heap::spare`). Smaller blocks come and go
/// through the allocator's free lists without page faults, and an idle
/// process that collected once keeps no second block.
pub const SPARE_MIN_WORDS: usize = 4096;

/// A minor collection's to-space of at least `want` words: the spare
/// block if it fits without being more than twice as large, else a new
/// block (the spare is then dropped). A large new block gets an eighth
/// more room, so that the next collection, whose `want` drifts by the
/// fragments and survivors of the cycle, still fits in it when it is the
/// spare.
fn to_space(spare: &mut Fragment, want: usize) -> Fragment {
    let s = std::mem::replace(spare, Fragment::empty());
    if s.words.len() >= want && s.words.len() <= 2 * want {
        let mut s = s;
        s.used = 0;
        s
    } else if want >= SPARE_MIN_WORDS {
        uninit_fragment((want + want / 8).next_multiple_of(512))
    } else {
        uninit_fragment(want)
    }
}

/// Collect `p`'s heap: a minor collection, or a major one when the old
/// block may not hold what a minor one would promote (module docs).
/// `x[..live]` are the live registers; afterwards at least `need` words
/// are free in the young block.
pub fn collect(p: &mut Process, x: &mut [Term], live: usize, need: usize) {
    if p.heap.major_wanted || p.heap.old.words.len() - p.heap.old.used < p.heap.hwm {
        collect_major(p, x, live, need);
    } else {
        collect_minor(p, x, live, need);
    }
}

/// The young block size to aim at after a minor collection whose work was
/// `work` words (survivors copied and roots scanned) and that had to leave
/// `need` free (module docs).
fn next_young_words(cur: usize, work: usize, need: usize) -> usize {
    let want = (GROWTH * (work + need)).max(MIN_HEAP_WORDS);
    if want > cur {
        want
    } else if want * 4 < cur && cur > YOUNG_KEEP_WORDS {
        (cur / 2).max(want).max(YOUNG_KEEP_WORDS)
    } else {
        cur
    }
}

/// A minor collection (module docs).
pub fn collect_minor(p: &mut Process, x: &mut [Term], live: usize, need: usize) {
    let plan = Plan::new(&p.heap, false);
    let above = p.heap.block.used - p.heap.hwm;
    let frags: usize = p.heap.frags.iter().map(|f| f.used).sum();
    let before = (p.heap.block.used + frags, p.heap.old.used);
    let mut young = to_space(&mut p.heap.spare, (above + frags + need).max(p.heap.young_words));
    let mut old = std::mem::replace(&mut p.heap.old, Fragment::empty());
    let (mut yt, mut ot) = (ToSpace::new(&mut young), ToSpace::new(&mut old));
    let os = ot.used;
    evacuate_roots(p, x, live, &plan, &mut yt, &mut ot);
    scan(&plan, &mut yt, 0, &mut ot, os);
    yt.finish(&mut young);
    ot.finish(&mut old);
    if trace_enabled() {
        eprintln!(
            "gc minor pid={} young={} stack={} survived={} promoted={} old={}/{}",
            p.pid,
            before.0,
            p.stack.len(),
            young.used,
            old.used - before.1,
            old.used,
            old.words.len()
        );
    }
    let roots = live + p.stack.len() + p.msgs.len() + 2 * p.dict.len() + p.saved_x.len();
    p.heap.young_words = next_young_words(p.heap.young_words, young.used + roots, need);
    if young.words.len() > 2 * p.heap.young_words.max(young.used + need) {
        // Sized for the upper bound of the survivors, which were far
        // fewer: move them to a block of the size wanted, whose memory is
        // reused from collection to collection instead of marching
        // allocation through a cold block.
        let size = p.heap.young_words.max(young.used + need);
        young = relocate(p, x, live, young, size);
    }
    p.heap.hwm = young.used;
    let from = std::mem::replace(&mut p.heap.block, young);
    if from.words.len() >= SPARE_MIN_WORDS {
        p.heap.spare = from;
    }
    p.heap.old = old;
    p.heap.frags.clear();
    p.heap.minor_gcs = p.heap.minor_gcs.saturating_add(1);
    if verify_enabled() {
        let period = (4 * p.heap.old.used / p.heap.block.words.len().max(1)).max(1) as u32;
        let old_from = if p.heap.minor_gcs.is_multiple_of(period) { 0 } else { before.1 };
        verify(p, x, live, &plan, old_from);
    }
}

/// A major collection (module docs).
pub fn collect_major(p: &mut Process, x: &mut [Term], live: usize, need: usize) {
    let plan = Plan::new(&p.heap, true);
    let ub = p.heap.block.used + p.heap.frags.iter().map(|f| f.used).sum::<usize>() + p.heap.old.used;
    let mut old = uninit_fragment(OLD_GROWTH * ub + p.heap.young_words);
    // Nothing goes to the young side in a major collection.
    let mut none = Fragment::empty();
    let (mut yt, mut ot) = (ToSpace::new(&mut none), ToSpace::new(&mut old));
    evacuate_roots(p, x, live, &plan, &mut yt, &mut ot);
    scan(&plan, &mut yt, 0, &mut ot, 0);
    yt.finish(&mut none);
    ot.finish(&mut old);
    debug_assert_eq!(none.used, 0);
    if trace_enabled() {
        eprintln!("gc major pid={} before={} live={} old={}", p.pid, ub, old.used, old.words.len());
    }
    let want = OLD_GROWTH * old.used + p.heap.young_words;
    if old.words.len() > 2 * want {
        old = relocate(p, x, live, old, want);
    }
    p.heap.old = old;
    p.heap.frags.clear();
    // Everything was evacuated: the young block is empty, and reused (its
    // memory is warm) unless it is smaller than wanted.
    p.heap.young_words = p.heap.young_words.max(GROWTH * need);
    if p.heap.block.words.len() < p.heap.young_words {
        p.heap.block = uninit_fragment(p.heap.young_words);
    }
    p.heap.block.used = 0;
    p.heap.hwm = 0;
    p.heap.major_gcs = p.heap.major_gcs.saturating_add(1);
    p.heap.major_wanted = false;
    if verify_enabled() {
        verify(p, x, live, &plan, 0);
    }
}

/// Move the live data of `to` into a new block of `size` words, fixing up
/// every pointer into `to` (in the new block and the roots; the young
/// block is empty when this runs).
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
///
/// The old block is walked from word `old_from` on: a minor collection
/// passes where its promotion began, except every `4 * old / young` minor
/// collections, where it passes 0 (the whole block), so that checking
/// stays O(1) per word allocated (walking the whole old block at every
/// minor collection made debug test runs quadratic). Pointers into the
/// part not walked are only checked to lie in its used part.
fn verify(p: &mut Process, x: &mut [Term], live: usize, plan: &Plan, old_from: usize) {
    let roots: Vec<Term> = {
        let mut v = Vec::new();
        for_each_root(p, x, live, |r| v.push(*r));
        v
    };
    let heap = &p.heap;
    assert!(heap.frags.is_empty(), "heap verify: fragments left after a collection");
    assert_eq!(heap.hwm, heap.block.used, "heap verify: the high-water mark is not at the top of the young block");
    let (ys, ye) = (heap.block.words.as_ptr() as usize, heap.block.words.as_ptr() as usize + heap.block.used * 8);
    let (os, oe) = (heap.old.words.as_ptr() as usize, heap.old.words.as_ptr() as usize + heap.old.used * 8);
    // Object starts, to check that boxed pointers hit headers.
    let mut starts = std::collections::HashSet::new();
    let walked = os + old_from * 8;
    for (base, block, from) in [(ys, &heap.block, 0), (os, &heap.old, old_from)] {
        let mut i = from;
        while i < block.used {
            let w = block.words[i];
            starts.insert(base + i * 8);
            if is_header(w) {
                i += 1 + header_size(w);
            } else {
                i += 1;
            }
        }
    }
    let check = |t: Term, what: &str, from_old: bool| {
        if t.is_immediate() {
            return;
        }
        let a = if t.is_cons() { t.cons_ptr() as usize } else { t.boxed_ptr() as usize };
        let in_young = a >= ys && a < ye;
        if in_young || (a >= os && a < oe) {
            assert!(!(from_old && in_young), "heap verify: {what} in the old block points into the young one ({a:#x})");
            if in_young || a >= walked {
                assert!(starts.contains(&a), "heap verify: {what} points inside an object ({a:#x})");
            }
            if t.is_boxed() {
                assert!(is_header(t.header()), "heap verify: {what} boxed pointer to a non-header");
            }
        } else {
            let (yb, ybe) = range(&heap.block);
            let (ob, obe) = range(&heap.old);
            let kept = (a >= yb && a < ybe) || (a >= ob && a < obe);
            assert!(kept || !plan.collected(a), "heap verify: {what} points into freed memory ({a:#x})");
            assert!(!kept, "heap verify: {what} points past the used part of a block ({a:#x})");
        }
    };
    for (block, from_old, from) in [(&heap.block, false, 0), (&heap.old, true, old_from)] {
        let mut words = block.words[from..block.used].to_vec();
        let used = words.len();
        for_each_term_slot(&mut words, used, |w| check(Term::from_raw(*w), "heap word", from_old));
    }
    // The shape of every HAMT node (`hamt::check_node`).
    for &a in &starts {
        let w = if a >= ys && a < ye { heap.block.words[(a - ys) / 8] } else { heap.old.words[(a - os) / 8] };
        if is_header(w) && matches!(header_kind(w), KIND_HAMT | KIND_HNODE) {
            let t = Term::from_boxed_ptr(a as *const u64);
            if let Err(e) = crate::hamt::check_node(t) {
                panic!("heap verify: {e}");
            }
        }
    }
    for r in roots {
        check(r, "root", false);
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
                assert!(p.heap.contains(x[i].boxed_ptr()) || x[i].is_immediate() || x[i].is_cons());
            }
            for (i, t) in p.stack.iter().enumerate() {
                assert!(eq_exact(*t, snaps[n + i].0));
            }
            if round % 2 == 0 {
                assert!(eq_exact(p.msgs[0], snaps[0].0));
            }
            assert!(p.heap.frags.is_empty());
            assert!(p.heap.free_words() >= 10);
            // Minor collections with promotion: new terms sharing the
            // survivors (young and old), some kept over several collections.
            let mut snaps: Vec<(Term, Option<Fragment>)> = (0..n).map(|i| copy_to_fragment(x[i])).collect();
            for k in 0..6 {
                let mut pool: Vec<Term> = x[..n].to_vec();
                let i = k % n.max(1);
                let t = random_term(&mut p.heap, &mut rng, 4, &mut pool);
                let _ = random_term(&mut p.heap, &mut rng, 4, &mut Vec::new());
                if n > 0 {
                    x[i] = p.heap.tuple(&[t, x[(i + 1) % n]]);
                    snaps[i] = copy_to_fragment(x[i]);
                }
                collect(&mut p, &mut x, n, 0);
                for j in 0..n {
                    assert!(eq_exact(x[j], snaps[j].0), "x{j} changed in minor round {k}");
                }
            }
            assert!(p.heap.collections().0 >= 3);
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

    /// Where a term's object is: 'y'oung block, 'o'ld block.
    fn gen_of(h: &Heap, t: Term) -> char {
        let a = if t.is_cons() { t.cons_ptr() } else { t.boxed_ptr() };
        if h.block.contains(a) {
            'y'
        } else if h.old.contains(a) {
            'o'
        } else {
            '?'
        }
    }

    #[test]
    fn data_is_promoted_after_two_collections_and_then_left_in_place() {
        let vm = crate::vm::Vm::new_for_tests();
        let mut x = vec![Term::NIL; 4];
        let mut p = Process::new(vm, 1);
        let inner = p.heap.tuple(&[Term::small(1), Term::small(2)]);
        x[0] = p.heap.list(&[inner, inner, Term::small(3)]);
        let snap = copy_to_fragment(x[0]);
        collect(&mut p, &mut x, 1, 0);
        assert_eq!(p.heap.collections(), (1, 0));
        assert_eq!(gen_of(&p.heap, x[0]), 'y', "one collection survived: still young");
        // No old block yet: the second collection is a major one, which
        // puts everything live into the old block.
        collect(&mut p, &mut x, 1, 0);
        assert_eq!(p.heap.collections(), (1, 1));
        assert_eq!(gen_of(&p.heap, x[0]), 'o');
        assert_eq!(p.heap.block.used, 0);
        let at = x[0].raw();
        // Minor collections neither copy nor move old data, while new data
        // that survives two of them is promoted next to it.
        for round in 0..5 {
            for i in 0..1000 {
                let _ = p.heap.cons(Term::small(i), Term::NIL);
            }
            x[1] = p.heap.tuple(&[x[0], Term::small(round)]);
            collect(&mut p, &mut x, 2, 0);
            assert_eq!(x[0].raw(), at, "old data moved by a minor collection");
            assert!(eq_exact(x[0], snap.0));
        }
        let (minor, major) = p.heap.collections();
        assert_eq!((minor, major), (6, 1), "{minor} {major}");
        assert_eq!(gen_of(&p.heap, x[1]), 'y');
        // The tuple made before the last collection survived it: the next
        // minor collection promotes it.
        collect(&mut p, &mut x, 2, 0);
        assert_eq!(gen_of(&p.heap, x[1]), 'o');
        assert_eq!(x[1].tuple_elements().unwrap()[0].raw(), at);
        // A major collection moves everything.
        collect_major(&mut p, &mut x, 2, 0);
        assert_ne!(x[0].raw(), at);
        assert!(eq_exact(x[0], snap.0));
    }

    /// The heap's destructive writes store no pointer: appending to a
    /// binary buffer in the old block and moving a match context in the old
    /// block leave no old-to-young pointer (the verifier, on in debug
    /// builds, checks it after each collection; here it is called always).
    #[test]
    fn destructive_writes_into_old_objects_store_no_young_pointer() {
        let vm = crate::vm::Vm::new_for_tests();
        let mut x = vec![Term::NIL; 4];
        let mut p = Process::new(vm, 1);
        let buf = p.heap.binary_buffer(64, &[b"abc"], 24);
        x[0] = p.heap.binary_view(buf, 24);
        x[1] = p.heap.match_ctx(x[0], 0);
        collect(&mut p, &mut x, 2, 0);
        collect(&mut p, &mut x, 2, 0);
        assert_eq!(gen_of(&p.heap, x[0]), 'o');
        assert_eq!(gen_of(&p.heap, x[1]), 'o');
        let (buf, committed, _cap) = x[0].binary_buffer().unwrap();
        assert_eq!(committed, 24);
        assert_eq!(gen_of(&p.heap, buf), 'o');
        crate::heap::binary_buffer_append(buf, 3, b"de", 40);
        x[2] = p.heap.binary_view(buf, 40);
        crate::heap::match_ctx_set_pos(x[1], 16);
        for _ in 0..3 {
            let _ = p.heap.tuple(&[Term::small(1); 100]);
            collect(&mut p, &mut x, 3, 0);
            let plan = Plan::new(&p.heap, false);
            verify(&mut p, &mut x, 3, &plan, 0);
        }
        assert_eq!(x[0].binary_bytes().unwrap(), b"abc");
        assert_eq!(x[2].binary_bytes().unwrap(), b"abcde");
        assert_eq!(crate::heap::match_ctx_parts(x[1]).1, 16);
    }

    #[test]
    #[should_panic(expected = "points into the young one")]
    fn verify_catches_an_old_to_young_pointer() {
        let vm = crate::vm::Vm::new_for_tests();
        let mut x = vec![Term::NIL; 4];
        let mut p = Process::new(vm, 1);
        x[0] = p.heap.tuple(&[Term::NIL]);
        collect(&mut p, &mut x, 1, 0);
        collect(&mut p, &mut x, 1, 0);
        assert_eq!(gen_of(&p.heap, x[0]), 'o');
        x[1] = p.heap.tuple(&[Term::small(7)]);
        collect(&mut p, &mut x, 2, 0);
        assert_eq!(gen_of(&p.heap, x[1]), 'y');
        // What a destructive update (a `setelement` done in place, say)
        // would do: store a young pointer into an old tuple.
        // SAFETY: x[0] is a live 1-element tuple; the write stays inside it.
        unsafe { *(x[0].boxed_ptr() as *mut u64).add(1) = x[1].raw() };
        let plan = Plan::new(&p.heap, false);
        verify(&mut p, &mut x, 2, &plan, 0);
    }

    #[test]
    fn young_block_follows_the_survivors() {
        let vm = crate::vm::Vm::new_for_tests();
        let mut x = vec![Term::NIL; 4];
        let mut p = Process::new(vm, 1);
        // Much live data: the young block grows to a multiple of it.
        let v: Vec<Term> = (0..20_000).map(Term::small).collect();
        x[0] = p.heap.list(&v);
        collect(&mut p, &mut x, 1, 0);
        assert!(p.heap.block.words.len() >= 40_000);
        assert!(p.heap.young_words >= GROWTH * 40_000);
        // Then little: it shrinks by halves, down to YOUNG_KEEP_WORDS.
        x[0] = Term::NIL;
        for _ in 0..40 {
            for i in 0..100 {
                let _ = p.heap.cons(Term::small(i), Term::NIL);
            }
            collect(&mut p, &mut x, 1, 0);
        }
        assert_eq!(p.heap.young_words, YOUNG_KEEP_WORDS);
        assert!(p.heap.block.words.len() <= 2 * YOUNG_KEEP_WORDS);
    }
}
