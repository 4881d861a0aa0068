//! A process heap: a young bump-allocated block plus "heap fragments", an
//! old block, and the API that builds terms on it.
//!
//! Allocation never collects garbage: when the block is full, a fragment is
//! allocated and allocation goes on there. The collector (`gc.rs`) runs only
//! at safe points where the live registers are known: a minor collection
//! copies the live young data (block and fragments) into a new young block,
//! promoting what already survived a collection into the old block; a major
//! one copies everything live into a new old block.
//! Messages arrive as fragments built by the sender (`copy_to_fragment`) and
//! are linked in with `attach_fragment`, which is how a send needs no lock on
//! the receiver's heap.
//!
//! Blocks are `Box<[u64]>`: their addresses never move while they live, so
//! terms can point into them.

use crate::atom::Atom;
use crate::term::*;
use num_bigint::BigInt;
use smallvec::SmallVec;
use std::cmp::Ordering;

/// Words of a fresh process heap. BEAM starts at 233 words (1864 bytes);
/// we start at 32 (256 bytes) so that an idle process (heap, stack, the
/// `Process` and `Shared` structs, its process-table entry) stays under 1 KB:
/// measured with `erlang:memory(total)` at about 960 bytes (64 words gave
/// 1158 before the old-generation fields, so about 1210 now). The young block grows at the first GC that finds it too small
/// (policy in `gc.rs`) to 4 times the survivors, so a process that needs
/// more gets it in a few collections.
pub const MIN_HEAP_WORDS: usize = 32;

/// The smallest fragment allocated when the block is full. Large enough that
/// a burst of allocations between two safe points makes few fragments.
pub const MIN_FRAGMENT_WORDS: usize = 256;

/// A heap fragment: a block of words and how many are used.
pub struct Fragment {
    pub(crate) words: Box<[u64]>,
    pub(crate) used: usize,
}

impl Fragment {
    pub fn new(words: usize) -> Fragment {
        Fragment { words: vec![0u64; words].into_boxed_slice(), used: 0 }
    }
    /// A fragment of `words` words left uninitialised, for a copy that
    /// writes every word it allocates (`copy_into`) before anything reads
    /// it: no memset of a block about to be overwritten.
    pub fn uninit(words: usize) -> Fragment {
        let n = words.max(1);
        let layout = std::alloc::Layout::array::<u64>(n).expect("fragment size overflows");
        // SAFETY: the layout has a non-zero size. Words at or above `used`
        // are never read; `alloc` hands out words at `used`, and every user
        // of an uninitialised fragment writes each word it allocates before
        // the fragment is read. The Box frees with the same layout.
        unsafe {
            let p = std::alloc::alloc(layout) as *mut u64;
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Fragment { words: Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n)), used: 0 }
        }
    }
    /// A fragment of no words (no allocation).
    pub fn empty() -> Fragment {
        Fragment { words: Box::new([]), used: 0 }
    }
    /// Bump-allocate `n` words in the fragment (None if full).
    #[inline]
    pub fn alloc(&mut self, n: usize) -> Option<*mut u64> {
        if self.used + n <= self.words.len() {
            // SAFETY: used + n <= len, so the range is inside the block.
            let p = unsafe { self.words.as_mut_ptr().add(self.used) };
            self.used += n;
            Some(p)
        } else {
            None
        }
    }
    pub fn contains(&self, p: *const u64) -> bool {
        let s = self.words.as_ptr() as usize;
        let a = p as usize;
        a >= s && a < s + self.words.len() * 8
    }
    pub fn used_words(&self) -> usize {
        self.used
    }
}

/// A process heap. See the module docs.
pub struct Heap {
    /// The young block: allocation happens here.
    pub(crate) block: Fragment,
    /// Fragments: allocations that did not fit the block, and messages.
    /// Young data, like the block's.
    pub(crate) frags: Vec<Fragment>,
    /// The old block (the old generation, `gc.rs`): data that survived two
    /// collections; empty until the process's second collection.
    pub(crate) old: Fragment,
    /// High-water mark: the words of `block` below it survived the last
    /// collection (a minor collection promotes them into `old`).
    pub(crate) hwm: usize,
    /// The young block size the next minor collection allocates at least
    /// (`gc.rs` sets it from the survivors).
    pub(crate) young_words: usize,
    /// Minor and major collections so far (tests, statistics).
    pub(crate) minor_gcs: u32,
    pub(crate) major_gcs: u32,
    /// `erlang:garbage_collect/0` asked for a major collection at the next
    /// safe point.
    pub(crate) major_wanted: bool,
    /// The young block of the collection before the last one (the last
    /// one's from-space), kept as the next minor collection's to-space
    /// when it is large (`gc.rs`, `SPARE_MIN_WORDS`): its pages stay
    /// mapped, where a block given back to the allocator and asked for
    /// again is often fresh memory, faulted in page by page.
    pub(crate) spare: Fragment,
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

impl Heap {
    pub fn new() -> Heap {
        Heap::with_capacity(MIN_HEAP_WORDS)
    }
    pub fn with_capacity(words: usize) -> Heap {
        Heap {
            block: Fragment::new(words),
            frags: Vec::new(),
            old: Fragment::empty(),
            hwm: 0,
            young_words: words.max(MIN_HEAP_WORDS),
            spare: Fragment::empty(),
            minor_gcs: 0,
            major_gcs: 0,
            major_wanted: false,
        }
    }

    /// Allocate `n` words (uninitialised contents: the caller writes them
    /// all before the next safe point).
    #[inline]
    pub fn alloc(&mut self, n: usize) -> *mut u64 {
        if let Some(p) = self.block.alloc(n) {
            return p;
        }
        self.alloc_slow(n)
    }

    #[cold]
    fn alloc_slow(&mut self, n: usize) -> *mut u64 {
        if let Some(f) = self.frags.last_mut() {
            if let Some(p) = f.alloc(n) {
                return p;
            }
        }
        let size = n.max(MIN_FRAGMENT_WORDS).max(self.block.words.len() / 2);
        let mut f = Fragment::new(size);
        let p = f.alloc(n).unwrap();
        self.frags.push(f);
        p
    }

    /// Should the process collect at its next safe point?
    #[inline]
    pub fn wants_gc(&self) -> bool {
        !self.frags.is_empty()
    }

    /// Free words left in the main block.
    #[inline]
    pub fn free_words(&self) -> usize {
        self.block.words.len() - self.block.used
    }

    /// Words in use (young block, fragments and old block).
    pub fn used_words(&self) -> usize {
        self.block.used + self.frags.iter().map(|f| f.used).sum::<usize>() + self.old.used
    }

    /// Words reserved (young block, fragments and old block): BEAM's
    /// `total_heap_size`.
    pub fn capacity_words(&self) -> usize {
        self.young_capacity_words() + self.old.words.len()
    }

    /// Words reserved for young data (block and fragments): BEAM's
    /// `heap_size`.
    pub fn young_capacity_words(&self) -> usize {
        self.block.words.len() + self.frags.iter().map(|f| f.words.len()).sum::<usize>()
    }

    /// Make the next safe point run a major collection (`garbage_collect/0`;
    /// a BIF cannot collect itself: only a safe point knows the live
    /// registers). The empty fragment linked in is what makes `wants_gc`
    /// true without a test on the allocation path.
    pub fn request_major(&mut self) {
        self.major_wanted = true;
        self.attach_fragment(Fragment::empty());
    }

    /// Words of the spare block kept for the next collection (counted in
    /// the process's memory, not in its heap sizes).
    pub fn spare_words(&self) -> usize {
        self.spare.words.len()
    }

    /// Minor and major collections so far.
    pub fn collections(&self) -> (u32, u32) {
        (self.minor_gcs, self.major_gcs)
    }

    /// Take in a message built elsewhere: `t` lives in `f` (built by
    /// `copy_to_fragment`, so every pointer in it points into `f`). A
    /// message that fits in the free part of the block is moved there (a
    /// memcpy and a pointer fix-up, O(size)) and its fragment freed;
    /// otherwise the fragment is linked in. Why: a linked fragment makes
    /// the process collect at its next safe point (`wants_gc`), and a
    /// collection per message received cost more than the whole rest of a
    /// message hop; a block filling up with messages is collected only
    /// when it is full, like any other allocation. Returns the message's
    /// term on this heap.
    pub fn absorb_message(&mut self, t: Term, f: Fragment) -> Term {
        let n = f.used;
        if n > self.free_words() {
            self.attach_fragment(f);
            return t;
        }
        let dst = self.block.alloc(n).expect("checked free_words");
        let src = f.words.as_ptr();
        let (lo, hi) = (src as usize, src as usize + n * 8);
        let delta = (dst as usize).wrapping_sub(lo);
        let fix = |w: u64| -> u64 {
            let t = Term::from_raw(w);
            if (t.is_boxed() || t.is_cons()) && (w as usize) >= lo && (w as usize) < hi {
                (w as usize).wrapping_add(delta) as u64
            } else {
                w
            }
        };
        // SAFETY: `dst` has n fresh words in the block, `src` n initialised
        // words of the fragment (all of `f.used` was written by copy_into);
        // the two never overlap (different allocations).
        let words = unsafe {
            std::ptr::copy_nonoverlapping(src, dst, n);
            std::slice::from_raw_parts_mut(dst, n)
        };
        // Fix every term word of the copied objects, as `gc::relocate` does.
        let mut i = 0;
        while i < n {
            let w = words[i];
            if is_header(w) {
                let (first, count) = payload_terms(w);
                for k in first..first + count {
                    words[i + 1 + k] = fix(words[i + 1 + k]);
                }
                i += 1 + header_size(w);
            } else {
                words[i] = fix(w);
                i += 1;
            }
        }
        Term::from_raw(fix(t.raw()))
    }

    /// Link a fragment built elsewhere (a message) into this heap.
    pub fn attach_fragment(&mut self, f: Fragment) {
        // Keep an allocation fragment with room last, so `alloc_slow` still
        // finds it.
        let n = self.frags.len();
        self.frags.push(f);
        if n > 0 {
            self.frags.swap(n - 1, n);
        }
    }

    /// Does `p` point into this heap (a block or a fragment)?
    pub fn contains(&self, p: *const u64) -> bool {
        self.block.contains(p) || self.old.contains(p) || self.frags.iter().any(|f| f.contains(p))
    }

    // ---------- building terms ----------

    /// A tuple of the given elements.
    pub fn tuple(&mut self, elems: &[Term]) -> Term {
        let p = self.alloc(1 + elems.len());
        // SAFETY: p has 1 + len words.
        unsafe {
            *p = header(KIND_TUPLE, elems.len());
            std::ptr::copy_nonoverlapping(elems.as_ptr() as *const u64, p.add(1), elems.len());
        }
        Term::from_boxed_ptr(p)
    }

    /// A tuple of `n` elements all `fill`; returns the term and a pointer to
    /// the elements for in-place initialisation (before the next safe point).
    pub fn tuple_uninit(&mut self, n: usize, fill: Term) -> (Term, *mut Term) {
        let p = self.alloc(1 + n);
        // SAFETY: p has 1 + n words.
        unsafe {
            *p = header(KIND_TUPLE, n);
            for i in 0..n {
                *p.add(1 + i) = fill.raw();
            }
            (Term::from_boxed_ptr(p), p.add(1) as *mut Term)
        }
    }

    /// `[head | tail]`
    #[inline]
    pub fn cons(&mut self, head: Term, tail: Term) -> Term {
        let p = self.alloc(2);
        // SAFETY: p has 2 words.
        unsafe {
            *p = head.raw();
            *p.add(1) = tail.raw();
        }
        Term::from_cons_ptr(p)
    }

    /// A proper list of the elements.
    pub fn list(&mut self, elems: &[Term]) -> Term {
        self.list_with_tail(elems, Term::NIL)
    }

    /// `[e1, e2, ... | tail]`
    pub fn list_with_tail(&mut self, elems: &[Term], tail: Term) -> Term {
        if elems.is_empty() {
            return tail;
        }
        let p = self.alloc(2 * elems.len());
        // SAFETY: p has 2 * len words; cell i links to cell i + 1.
        unsafe {
            for (i, e) in elems.iter().enumerate() {
                *p.add(2 * i) = e.raw();
                *p.add(2 * i + 1) =
                    if i + 1 == elems.len() { tail.raw() } else { Term::from_cons_ptr(p.add(2 * i + 2)).raw() };
            }
        }
        Term::from_cons_ptr(p)
    }

    /// A string as a list of code points.
    pub fn string(&mut self, s: &str) -> Term {
        let v: Vec<Term> = s.chars().map(|c| Term::small(c as i64)).collect();
        self.list(&v)
    }

    /// A list of byte values.
    pub fn bytes_list(&mut self, s: &[u8]) -> Term {
        let v: Vec<Term> = s.iter().map(|&c| Term::small(c as i64)).collect();
        self.list(&v)
    }

    /// A binary holding `bytes`.
    pub fn binary(&mut self, bytes: &[u8]) -> Term {
        self.bitstring(bytes, bytes.len() as u64 * 8)
    }

    /// A bitstring of `bits` bits taken from `bytes` (unused low bits of the
    /// last byte are cleared).
    pub fn bitstring(&mut self, bytes: &[u8], bits: u64) -> Term {
        let nbytes = bits.div_ceil(8) as usize;
        debug_assert!(nbytes <= bytes.len());
        let (t, dst) = self.bitstring_uninit(bits);
        dst.copy_from_slice(&bytes[..nbytes]);
        if !bits.is_multiple_of(8) {
            dst[nbytes - 1] &= 0xFFu8 << (8 - bits % 8);
        }
        t
    }

    /// A zeroed bitstring of `bits` bits, and its bytes for filling in.
    pub fn bitstring_uninit(&mut self, bits: u64) -> (Term, &'static mut [u8]) {
        let nbytes = bits.div_ceil(8) as usize;
        let words = nbytes.div_ceil(8);
        let p = self.alloc(2 + words);
        // SAFETY: p has 2 + words words; the byte view covers the payload.
        unsafe {
            *p = header(KIND_BINARY, 1 + words);
            *p.add(1) = bits;
            for i in 0..words {
                *p.add(2 + i) = 0;
            }
            (Term::from_boxed_ptr(p), std::slice::from_raw_parts_mut(p.add(2) as *mut u8, nbytes))
        }
    }

    /// A boxed float.
    pub fn float(&mut self, f: f64) -> Term {
        let p = self.alloc(2);
        // SAFETY: p has 2 words.
        unsafe {
            *p = header(KIND_FLOAT, 1);
            *p.add(1) = f.to_bits();
        }
        Term::from_boxed_ptr(p)
    }

    /// Any i64 (small if it fits, else a bignum).
    #[inline]
    pub fn int(&mut self, i: i64) -> Term {
        if Term::int_fits(i) {
            Term::small(i)
        } else {
            self.bigint(&BigInt::from(i))
        }
    }

    /// Any integer, normalised: small if it fits.
    pub fn bigint(&mut self, b: &BigInt) -> Term {
        if let Some(i) = num_traits::ToPrimitive::to_i64(b) {
            if Term::int_fits(i) {
                return Term::small(i);
            }
        }
        let (neg, limbs) = bigint_limbs(b);
        let p = self.alloc(1 + limbs.len());
        // SAFETY: p has 1 + limbs words.
        unsafe {
            *p = header(if neg { KIND_NEG_BIG } else { KIND_POS_BIG }, limbs.len());
            std::ptr::copy_nonoverlapping(limbs.as_ptr(), p.add(1), limbs.len());
        }
        Term::from_boxed_ptr(p)
    }

    /// A map from entries in any order; a later duplicate key wins.
    pub fn map(&mut self, mut entries: Vec<(Term, Term)>) -> Term {
        // Stable sort keeps duplicates in insertion order; keep the last.
        entries.sort_by(|a, b| cmp_exact(a.0, b.0));
        let mut dedup: Vec<(Term, Term)> = Vec::with_capacity(entries.len());
        for e in entries {
            match dedup.last_mut() {
                Some(last) if cmp_exact(last.0, e.0) == Ordering::Equal => *last = e,
                _ => dedup.push(e),
            }
        }
        self.map_sorted(&dedup)
    }

    /// A map from entries already sorted by `cmp_exact` without duplicates
    /// (flat up to `hamt::FLAT_MAX` keys, a HAMT above).
    pub fn map_sorted(&mut self, entries: &[(Term, Term)]) -> Term {
        if entries.len() > crate::hamt::FLAT_MAX {
            return crate::hamt::from_sorted(self, entries);
        }
        let p = self.alloc(1 + 2 * entries.len());
        // SAFETY: p has 1 + 2n words.
        unsafe {
            *p = header(KIND_MAP, 2 * entries.len());
            for (i, (k, v)) in entries.iter().enumerate() {
                *p.add(1 + 2 * i) = k.raw();
                *p.add(2 + 2 * i) = v.raw();
            }
        }
        Term::from_boxed_ptr(p)
    }

    /// A boxed object of `kind` whose payload is the `raw` words followed by
    /// the `terms` (the layout `payload_terms` describes for that kind).
    pub fn object(&mut self, kind: u64, raw: &[u64], terms: &[Term]) -> Term {
        let n = raw.len() + terms.len();
        let p = self.alloc(1 + n);
        // SAFETY: p has 1 + n words.
        unsafe {
            *p = header(kind, n);
            std::ptr::copy_nonoverlapping(raw.as_ptr(), p.add(1), raw.len());
            std::ptr::copy_nonoverlapping(terms.as_ptr() as *const u64, p.add(1 + raw.len()), terms.len());
        }
        Term::from_boxed_ptr(p)
    }

    /// A reference with the given number.
    pub fn reference(&mut self, n: u64) -> Term {
        let p = self.alloc(2);
        // SAFETY: p has 2 words.
        unsafe {
            *p = header(KIND_REF, 1);
            *p.add(1) = n;
        }
        Term::from_boxed_ptr(p)
    }

    /// A closure over `entry` with the free variables.
    pub fn fun(&mut self, entry: &'static FunEntry, free: &[Term]) -> Term {
        let p = self.alloc(2 + free.len());
        // SAFETY: p has 2 + n words.
        unsafe {
            *p = header(KIND_FUN, 1 + free.len());
            *p.add(1) = entry as *const FunEntry as u64;
            std::ptr::copy_nonoverlapping(free.as_ptr() as *const u64, p.add(2), free.len());
        }
        Term::from_boxed_ptr(p)
    }

    /// `fun M:F/A`
    pub fn export_fun(&mut self, e: &'static crate::code::ExportEntry) -> Term {
        let p = self.alloc(2);
        // SAFETY: p has 2 words.
        unsafe {
            *p = header(KIND_EXPORT, 1);
            *p.add(1) = e as *const _ as u64;
        }
        Term::from_boxed_ptr(p)
    }

    /// An appendable binary buffer (`KIND_WBUF`) of `cap` bytes (rounded up
    /// to words, zeroed) holding `parts` one after the other, with `bits`
    /// committed.
    pub fn binary_buffer(&mut self, cap: usize, parts: &[&[u8]], bits: u64) -> Term {
        let words = cap.div_ceil(8);
        let p = self.alloc(2 + words);
        // SAFETY: p has 2 + words words; the parts fit (the caller sizes
        // `cap` to hold them, checked below before any write).
        unsafe {
            *p = header(KIND_WBUF, 1 + words);
            *p.add(1) = bits;
            std::ptr::write_bytes(p.add(2), 0, words);
            let bytes = std::slice::from_raw_parts_mut(p.add(2) as *mut u8, words * 8);
            let mut at = 0;
            for part in parts {
                bytes[at..at + part.len()].copy_from_slice(part);
                at += part.len();
            }
        }
        Term::from_boxed_ptr(p)
    }

    /// A bitstring of the first `bits` bits of the buffer `buf`.
    pub fn binary_view(&mut self, buf: Term, bits: u64) -> Term {
        let p = self.alloc(3);
        // SAFETY: p has 3 words.
        unsafe {
            *p = header(KIND_BINVIEW, 2);
            *p.add(1) = buf.raw();
            *p.add(2) = bits;
        }
        Term::from_boxed_ptr(p)
    }

    /// A binary match context over `bin` at bit offset `pos`.
    pub fn match_ctx(&mut self, bin: Term, pos: u64) -> Term {
        let p = self.alloc(3);
        // SAFETY: p has 3 words.
        unsafe {
            *p = header(KIND_MATCH_CTX, 2);
            *p.add(1) = bin.raw();
            *p.add(2) = pos;
        }
        Term::from_boxed_ptr(p)
    }

    /// An atom term (convenience).
    pub fn atom(&mut self, name: &str) -> Term {
        Term::atom(crate::atom::intern(name))
    }
}

/// Write `bytes` into the appendable buffer `buf` at byte `at`, past its
/// committed bits, and commit `bits` bits. Panics if they do not fit.
/// Only the process owning `buf` calls this (buffers are private to a
/// process like every heap object; a send copies them), and the bytes
/// written lie past every view's end, so no binary already made changes.
pub fn binary_buffer_append(buf: Term, at: usize, bytes: &[u8], bits: u64) {
    let p = buf.payload();
    assert_eq!(header_kind(buf.header()), KIND_WBUF);
    assert!(at as u64 * 8 >= p[0] && at + bytes.len() <= (p.len() - 1) * 8, "binary buffer overrun");
    // SAFETY: checked just above: the range is inside the buffer's payload
    // and past its committed part; the buffer is private to the running
    // process (see above).
    unsafe {
        let base = (buf.boxed_ptr() as *mut u64).add(2) as *mut u8;
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(at), bytes.len());
        *(buf.boxed_ptr() as *mut u64).add(1) = bits;
    }
}

/// The position of a match context (bit offset) and its binary.
pub fn match_ctx_parts(ctx: Term) -> (Term, u64) {
    let p = ctx.payload();
    (Term::from_raw(p[0]), p[1])
}

/// Set the position of a match context (contexts are private to the
/// process that made them, so mutating in place is safe).
pub fn match_ctx_set_pos(ctx: Term, pos: u64) {
    debug_assert!(ctx.is_match_ctx());
    // SAFETY: a match context has 2 payload words; it lives on the heap of
    // the running process, which nothing else reads concurrently.
    unsafe { *(ctx.boxed_ptr() as *mut u64).add(2) = pos }
}

/// Words needed to copy `t` (all of it, literals included).
pub fn size_of_term(t: Term) -> usize {
    let mut n = 0;
    // Inline room for the common shallow message: no allocation.
    let mut stack: SmallVec<[Term; COPY_STACK]> = SmallVec::new();
    stack.push(t);
    while let Some(t) = stack.pop() {
        let mut t = t;
        loop {
            if t.is_cons() {
                let (h, tl) = t.cons_unchecked();
                n += 2;
                if !h.is_immediate() {
                    stack.push(h);
                }
                t = tl;
                continue;
            }
            if t.is_boxed() {
                let h = t.header();
                n += 1 + header_size(h);
                let (first, count) = payload_terms(h);
                let p = t.payload();
                for w in &p[first..first + count] {
                    let c = Term::from_raw(*w);
                    if !c.is_immediate() {
                        stack.push(c);
                    }
                }
            }
            break;
        }
    }
    n
}

/// The words of `t` (header included) if it is one boxed object whose
/// term words are all immediates, so it can be copied as a block.
#[inline]
pub fn flat_size(t: Term) -> Option<usize> {
    if !t.is_boxed() {
        return None;
    }
    let h = t.header();
    let (first, count) = payload_terms(h);
    let p = t.payload();
    if p[first..first + count].iter().all(|&w| Term::from_raw(w).is_immediate()) {
        Some(1 + header_size(h))
    } else {
        None
    }
}

/// Inline capacity of the work lists of `size_of_term` and `copy_into`:
/// terms still to visit. A tuple of a few tuples or lists stays within it.
const COPY_STACK: usize = 16;

/// Deep-copy `t` onto `heap` (used by send, spawn, and the literal loader).
pub fn copy_term(t: Term, heap: &mut Heap) -> Term {
    if t.is_immediate() {
        return t;
    }
    let n = size_of_term(t);
    if n <= heap.free_words() {
        // Straight into the block: no fragment, so no collection forced at
        // the next safe point (spawn's arguments, `process_info`'s copies).
        return copy_into(t, &mut heap.block);
    }
    let mut frag = Fragment::uninit(n);
    let r = copy_into(t, &mut frag);
    heap.attach_fragment(frag);
    r
}

/// Deep-copy `t` into a fresh fragment of exactly the right size (a
/// message being sent).
pub fn copy_to_fragment(t: Term) -> (Term, Option<Fragment>) {
    if t.is_immediate() {
        return (t, None);
    }
    if let Some(n) = flat_size(t) {
        // One object with no pointer in it ({token, N}, a float, a
        // binary): a straight copy, no walk.
        let mut frag = Fragment::uninit(n);
        let p = frag.alloc(n).expect("sized");
        // SAFETY: `t` is a boxed object of n words (header included); `p`
        // has n fresh words of another allocation.
        unsafe { std::ptr::copy_nonoverlapping(t.boxed_ptr(), p, n) };
        return (Term::from_boxed_ptr(p), Some(frag));
    }
    let mut frag = Fragment::uninit(size_of_term(t));
    let r = copy_into(t, &mut frag);
    (r, Some(frag))
}

/// Copy `t` into `frag`, which must have room (`size_of_term`).
/// Sharing inside `t` is not preserved (as in BEAM's send).
/// Iterative (a work list of terms still to copy and the words that will
/// point at their copies): long lists and deeply nested tuples copy in
/// constant native stack.
pub fn copy_into(t: Term, frag: &mut Fragment) -> Term {
    if t.is_immediate() {
        return t;
    }
    let mut root: u64 = Term::NIL.raw();
    let mut work: SmallVec<[(Term, *mut u64); COPY_STACK]> = SmallVec::new();
    work.push((t, &mut root as *mut u64));
    while let Some((t, dst)) = work.pop() {
        if t.is_immediate() {
            // SAFETY: dst is `root` or a word of an object allocated in frag.
            unsafe { *dst = t.raw() };
            continue;
        }
        if t.is_cons() {
            let mut slot = dst;
            let mut cur = t;
            while cur.is_cons() {
                let (h, tl) = cur.cons_unchecked();
                let cell = frag.alloc(2).expect("fragment sized by size_of_term");
                // SAFETY: cell has 2 words; slot is `root`, a word of an
                // object in frag, or the tail word of the previous cell.
                unsafe {
                    *cell = if h.is_immediate() { h.raw() } else { Term::NIL.raw() };
                    *cell.add(1) = Term::NIL.raw();
                    *slot = Term::from_cons_ptr(cell).raw();
                }
                if !h.is_immediate() {
                    work.push((h, cell));
                }
                // SAFETY: inside the cell just allocated.
                slot = unsafe { cell.add(1) };
                cur = tl;
            }
            if cur.is_immediate() {
                // SAFETY: slot is the last cell's tail word.
                unsafe { *slot = cur.raw() };
            } else {
                work.push((cur, slot));
            }
            continue;
        }
        let h = t.header();
        let size = header_size(h);
        let p = frag.alloc(1 + size).expect("fragment sized by size_of_term");
        let src = t.payload();
        // SAFETY: p has 1 + size words; dst is a live slot (see above).
        unsafe {
            *p = h;
            std::ptr::copy_nonoverlapping(src.as_ptr(), p.add(1), size);
            *dst = Term::from_boxed_ptr(p).raw();
        }
        let (first, count) = payload_terms(h);
        for i in (first..first + count).rev() {
            let c = Term::from_raw(src[i]);
            if !c.is_immediate() {
                // SAFETY: inside the object just allocated; filled in later.
                unsafe {
                    *p.add(1 + i) = Term::NIL.raw();
                    work.push((c, p.add(1 + i)));
                }
            }
        }
    }
    Term::from_raw(root)
}

/// Convenience used by BIFs: an atom term by name.
pub fn atom_term(a: Atom) -> Term {
    Term::atom(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atom;

    #[test]
    fn build_and_inspect() {
        let mut h = Heap::new();
        let f = h.float(2.5);
        assert_eq!(f.as_float(), Some(2.5));
        assert_eq!(f.kind(), Kind::Float);
        let big = BigInt::from(1u64 << 62) * BigInt::from(1000);
        let b = h.bigint(&big);
        assert!(b.is_bignum() && b.is_integer());
        assert_eq!(b.to_bigint(), Some(big.clone()));
        let nb = h.bigint(&-big.clone());
        assert_eq!(nb.to_bigint(), Some(-big));
        assert_eq!(h.bigint(&BigInt::from(5)), Term::small(5));
        assert_eq!(h.int(i64::MAX).to_bigint(), Some(BigInt::from(i64::MAX)));
        let t = h.tuple(&[Term::small(1), Term::atom(atom::OK), f]);
        assert_eq!(t.tuple_elements().unwrap().len(), 3);
        let l = h.list(&[Term::small(1), Term::small(2)]);
        assert_eq!(l.list_to_vec().unwrap(), vec![Term::small(1), Term::small(2)]);
        let s = h.string("hé");
        assert_eq!(s.list_length(), Some(2));
        let bin = h.binary(b"hello");
        assert!(bin.is_binary());
        assert_eq!(bin.binary_bytes().unwrap(), b"hello");
        let bits = h.bitstring(&[0xFF], 3);
        assert!(bits.is_bitstring() && !bits.is_binary());
        assert_eq!(bits.binary_bytes().unwrap(), &[0xE0]);
        let m = h.map(vec![
            (Term::atom(atom::OK), Term::small(1)),
            (Term::small(3), Term::small(2)),
            (Term::small(3), Term::small(9)),
        ]);
        assert_eq!(m.map_size(), Some(2));
        assert_eq!(m.map_get(Term::small(3)), Some(Term::small(9)));
        let keys: Vec<Term> = m.map_entries().unwrap().map(|e| e.0).collect();
        assert_eq!(keys, vec![Term::small(3), Term::atom(atom::OK)]);
        let r = h.reference(9);
        assert_eq!(r.ref_number(), Some(9));
    }

    #[test]
    fn number_order_and_equality() {
        let mut h = Heap::new();
        let one_f = h.float(1.0);
        assert!(eq(Term::small(1), one_f));
        assert!(!eq_exact(Term::small(1), one_f));
        assert_eq!(cmp_exact(Term::small(1), one_f), Ordering::Less);
        // map-key order: every integer before every float, also nested
        let half_f = h.float(0.5);
        let big_i = h.bigint(&(BigInt::from(1) << 70));
        assert_eq!(cmp_exact(Term::small(3), half_f), Ordering::Less);
        assert_eq!(cmp_exact(big_i, half_f), Ordering::Less);
        let t2 = h.tuple(&[Term::small(2)]);
        let t1f = h.tuple(&[one_f]);
        assert_eq!(cmp_exact(t2, t1f), Ordering::Less);
        assert_eq!(cmp_terms(t2, t1f), Ordering::Greater);
        let big = h.bigint(&(BigInt::from(1) << 70));
        assert_eq!(cmp_terms(Term::small(5), big), Ordering::Less);
        let bigf = h.float(2f64.powi(70));
        assert!(eq(big, bigf));
        let half = h.float(0.5);
        assert_eq!(cmp_terms(half, Term::small(1)), Ordering::Less);
        assert_eq!(cmp_terms(Term::small(0), half), Ordering::Less);
    }

    #[test]
    fn copy_preserves_value() {
        let mut h = Heap::new();
        let f = h.float(3.25);
        let bin = h.binary(b"abc");
        let inner = h.tuple(&[f, bin, Term::NIL]);
        let l = h.list(&[inner, Term::small(7), inner]);
        let m = h.map(vec![(l, inner)]);
        let (c, frag) = copy_to_fragment(m);
        assert!(frag.is_some());
        assert!(eq_exact(c, m));
        assert_eq!(size_of_term(m), size_of_term(c));
    }
}
