//! Large maps: a persistent hash array mapped trie (HAMT).
//!
//! A map of at most `FLAT_MAX` (32) keys is a flat sorted array (`KIND_MAP`,
//! see `term.rs`). A larger map is a trie over a 64-bit hash of its keys, 16
//! ways per level, taking the hash four bits at a time from the most
//! significant end:
//!
//! ```text
//! head  KIND_HAMT   [count (raw), bitmap (raw), child...]   the map term
//! node  KIND_HNODE  [bitmap (raw), child...]                inner node
//! leaf  a cons cell [Key | Value]
//! ```
//!
//! Bit `i` of a node's 16-bit bitmap says whether the child for hash nibble
//! `i` exists; the children are stored in nibble order, so the child for
//! nibble `i` is at index `popcount(bitmap & ((1 << i) - 1))`. A child is a
//! leaf (a cons) or a node (a boxed `KIND_HNODE`). Below the sixteenth level
//! the hash is used up: keys whose 64-bit hashes are all equal share a
//! *collision node*, an `HNODE` whose bitmap word is `COLLISION` and whose
//! children are leaves sorted by `cmp_exact` of their keys.
//!
//! Nodes are immutable once built: `put` and `remove` copy the path from the
//! head to the changed leaf (O(log n) words) and share everything else with
//! the old map. The collector copies heads and nodes like tuples (their raw
//! words come first in the payload, `term::payload_terms`).
//!
//! Invariants:
//! - a `KIND_HAMT` map holds more than `FLAT_MAX` keys; a map of `FLAT_MAX`
//!   keys or fewer is always flat (an update that shrinks a HAMT to 32 keys
//!   converts it back, as OTP does);
//! - a non-head node has at least two children, or exactly one child that is
//!   a node (a single leaf is stored in its parent's slot instead);
//! - so the shape of the trie, and the order in which `MapIter` visits it,
//!   depends only on the set of keys: iteration order is ascending by hash,
//!   then by `cmp_exact` among keys of equal hash. That is the order in which
//!   minierl prints, lists and folds a map of more than 32 keys (OTP uses its
//!   own hash function, so its order for such maps differs).
//!
//! The hash (`key_hash`) is minierl's own, computed from the value of a term
//! (atoms by name, never by table index), so it is the same in every run and
//! on every scheduler; terms equal under `=:=` hash equally (`0.0` and `-0.0`
//! included).

use crate::heap::Heap;
use crate::term::*;
use smallvec::SmallVec;
use std::cmp::Ordering;

/// The most keys a flat map holds.
pub const FLAT_MAX: usize = 32;
/// Bitmap word of a collision node.
pub const COLLISION: u64 = u64::MAX;
const BITS: u32 = 4;
const LEVELS: u32 = 64 / BITS;

type Children = SmallVec<[Term; 16]>;

#[inline]
fn nibble(h: u64, depth: u32) -> u32 {
    ((h >> (64 - BITS * (depth + 1))) & 0xF) as u32
}

// ---------------------------------------------------------------- hashing

struct Hasher(u64);

impl Hasher {
    #[inline]
    fn feed(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn bytes(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in chunks.by_ref() {
            self.feed(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let mut last = [0u8; 8];
        let r = chunks.remainder();
        last[..r.len()].copy_from_slice(r);
        self.feed(u64::from_le_bytes(last) ^ ((b.len() as u64) << 56));
    }
}

/// The splitmix64 finaliser: spreads every input bit over the whole word, so
/// the top nibbles the trie uses first are well mixed.
#[inline]
fn finish(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 64-bit hash of a term's value, equal for terms equal under `=:=`.
pub fn key_hash(t: Term) -> u64 {
    if let Some(i) = t.as_small() {
        return finish(i as u64 ^ 0x1234_5678_9abc_def1);
    }
    let mut h = Hasher(0x9e37_79b9_7f4a_7c15);
    let mut stack: SmallVec<[Term; 16]> = SmallVec::new();
    stack.push(t);
    while let Some(t) = stack.pop() {
        match t.kind() {
            Kind::Small => {
                h.feed(1);
                h.feed(t.small_value() as u64);
            }
            Kind::BigInt => {
                h.feed(if header_kind(t.header()) == KIND_NEG_BIG { 3 } else { 2 });
                for &l in t.payload() {
                    h.feed(l);
                }
            }
            Kind::Float => {
                let f = t.as_float().unwrap();
                // 0.0 =:= -0.0 in OTP 25.
                let f = if f == 0.0 { 0.0 } else { f };
                h.feed(4);
                h.feed(f.to_bits());
            }
            Kind::Atom => {
                h.feed(5);
                h.bytes(t.atom_name().unwrap().as_bytes());
            }
            Kind::Ref => {
                h.feed(6);
                h.feed(t.ref_number().unwrap());
            }
            Kind::Pid => {
                h.feed(7);
                h.feed(t.pid_number().unwrap());
            }
            Kind::Nil => h.feed(8),
            Kind::Tuple => {
                let el = t.tuple_unchecked();
                h.feed(9);
                h.feed(el.len() as u64);
                stack.extend(el.iter().rev().copied());
            }
            Kind::Cons => {
                let (hd, tl) = t.cons_unchecked();
                h.feed(10);
                stack.push(tl);
                stack.push(hd);
            }
            Kind::Binary => {
                h.feed(11);
                h.feed(t.bit_size().unwrap());
                h.bytes(t.binary_bytes().unwrap());
            }
            Kind::Map => {
                h.feed(12);
                h.feed(t.map_size().unwrap() as u64);
                // The visiting order depends only on the keys (module docs).
                let n = stack.len();
                for (k, v) in t.map_entries().unwrap() {
                    stack.push(k);
                    stack.push(v);
                }
                stack[n..].reverse();
            }
            Kind::Fun | Kind::ExportFun => match t.fun_view().unwrap() {
                FunView::Local { module, index, uniq, free, entry, .. } => {
                    h.feed(13);
                    h.bytes(module.name().as_bytes());
                    h.feed(index as u64);
                    h.feed(uniq as u64);
                    h.feed(entry as *const FunEntry as u64);
                    stack.extend(free.iter().rev().copied());
                }
                FunView::Export { module, function, arity } => {
                    h.feed(14);
                    h.bytes(module.name().as_bytes());
                    h.bytes(function.name().as_bytes());
                    h.feed(arity as u64);
                }
            },
            Kind::Internal => h.feed(t.raw()),
        }
    }
    finish(h.0)
}

// ---------------------------------------------------------------- reading

/// `(bitmap, children)` of a head or an inner node.
#[inline]
fn parts(node: Term) -> (u64, &'static [Term]) {
    let p = node.payload();
    let skip = if header_kind(node.header()) == KIND_HAMT { 2 } else { 1 };
    // The words after the raw prefix of a head or node are terms
    // (`payload_terms`).
    (p[skip - 1], Term::words_as_terms(&p[skip..]))
}

/// Number of keys of a HAMT head.
#[inline]
pub fn size(head: Term) -> usize {
    head.payload()[0] as usize
}

/// Look `key` up in a HAMT.
pub fn get(head: Term, key: Term) -> Option<Term> {
    let h = key_hash(key);
    let (mut bm, mut ch) = parts(head);
    let mut depth = 0;
    loop {
        if bm == COLLISION {
            return ch.iter().map(|l| l.cons_unchecked()).find(|(k, _)| eq_exact(*k, key)).map(|(_, v)| v);
        }
        let bit = 1u64 << nibble(h, depth);
        if bm & bit == 0 {
            return None;
        }
        let c = ch[(bm & (bit - 1)).count_ones() as usize];
        if c.is_cons() {
            let (k, v) = c.cons_unchecked();
            return if eq_exact(k, key) { Some(v) } else { None };
        }
        (bm, ch) = parts(c);
        depth += 1;
    }
}

/// Visits the entries of a map (flat: key order; HAMT: hash order, see the
/// module docs).
pub struct MapIter {
    flat: &'static [Term],
    /// HAMT: the children still to visit at each level.
    stack: SmallVec<[&'static [Term]; 16]>,
}

impl MapIter {
    pub(crate) fn new(m: Term) -> MapIter {
        if let Some(f) = m.map_flat() {
            MapIter { flat: f, stack: SmallVec::new() }
        } else {
            let mut stack = SmallVec::new();
            stack.push(parts(m).1);
            MapIter { flat: &[], stack }
        }
    }
}

impl Iterator for MapIter {
    type Item = (Term, Term);
    #[inline]
    fn next(&mut self) -> Option<(Term, Term)> {
        if let [k, v, rest @ ..] = self.flat {
            self.flat = rest;
            return Some((*k, *v));
        }
        loop {
            let top = self.stack.last_mut()?;
            let Some((c, rest)) = top.split_first() else {
                self.stack.pop();
                continue;
            };
            *top = rest;
            if c.is_cons() {
                return Some(c.cons_unchecked());
            }
            let ch = parts(*c).1;
            self.stack.push(ch);
        }
    }
}

// ---------------------------------------------------------------- building

fn node(heap: &mut Heap, bm: u64, ch: &[Term]) -> Term {
    heap.object(KIND_HNODE, &[bm], ch)
}

fn head(heap: &mut Heap, count: usize, bm: u64, ch: &[Term]) -> Term {
    heap.object(KIND_HAMT, &[count as u64, bm], ch)
}

/// Build a HAMT from entries sorted by `cmp_exact`, without duplicate keys
/// (more than `FLAT_MAX` of them).
pub fn from_sorted(heap: &mut Heap, entries: &[(Term, Term)]) -> Term {
    let mut hashed: Vec<(u64, Term, Term)> = entries.iter().map(|&(k, v)| (key_hash(k), k, v)).collect();
    // Stable: keys of equal hash stay in `cmp_exact` order.
    hashed.sort_by_key(|e| e.0);
    let (bm, ch) = build_level(heap, &hashed, 0);
    head(heap, entries.len(), bm, &ch)
}

/// The bitmap and children of the node at `depth` holding `es` (sorted by
/// hash, at least one entry).
fn build_level(heap: &mut Heap, es: &[(u64, Term, Term)], depth: u32) -> (u64, Children) {
    if depth == LEVELS {
        return (COLLISION, es.iter().map(|&(_, k, v)| heap.cons(k, v)).collect());
    }
    let mut bm = 0u64;
    let mut ch = Children::new();
    let mut i = 0;
    while i < es.len() {
        let nb = nibble(es[i].0, depth);
        let mut j = i + 1;
        while j < es.len() && nibble(es[j].0, depth) == nb {
            j += 1;
        }
        bm |= 1 << nb;
        if j - i == 1 {
            ch.push(heap.cons(es[i].1, es[i].2));
        } else {
            let (b, c) = build_level(heap, &es[i..j], depth + 1);
            ch.push(node(heap, b, &c));
        }
        i = j;
    }
    (bm, ch)
}

/// A node at `depth` holding two leaves whose keys differ.
fn pair(heap: &mut Heap, depth: u32, h1: u64, l1: Term, h2: u64, l2: Term) -> Term {
    if depth == LEVELS {
        let (k1, k2) = (l1.cons_unchecked().0, l2.cons_unchecked().0);
        let ch = if cmp_exact(k1, k2) == Ordering::Less { [l1, l2] } else { [l2, l1] };
        return node(heap, COLLISION, &ch);
    }
    let (n1, n2) = (nibble(h1, depth), nibble(h2, depth));
    if n1 == n2 {
        let c = pair(heap, depth + 1, h1, l1, h2, l2);
        node(heap, 1 << n1, &[c])
    } else {
        let ch = if n1 < n2 { [l1, l2] } else { [l2, l1] };
        node(heap, (1 << n1) | (1 << n2), &ch)
    }
}

/// What `put` did.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum Put {
    /// The key was new.
    Added,
    /// The key existed; its value was replaced.
    Replaced,
}

/// `key => value` into a HAMT: the new map (sharing all but one path with
/// the old one) and whether the key was new.
pub fn put(heap: &mut Heap, m: Term, key: Term, value: Term) -> (Term, Put) {
    let h = key_hash(key);
    let (bm, ch) = parts(m);
    let (bm, ch, what) = put_in(heap, bm, ch, 0, h, key, value);
    let count = size(m) + (what == Put::Added) as usize;
    (head(heap, count, bm, &ch), what)
}

fn put_in(heap: &mut Heap, bm: u64, ch: &[Term], depth: u32, h: u64, key: Term, value: Term) -> (u64, Children, Put) {
    let mut out: Children = ch.iter().copied().collect();
    if bm == COLLISION {
        for (i, l) in ch.iter().enumerate() {
            let k = l.cons_unchecked().0;
            match cmp_exact(k, key) {
                Ordering::Less => continue,
                Ordering::Equal => {
                    out[i] = heap.cons(key, value);
                    return (bm, out, Put::Replaced);
                }
                Ordering::Greater => {
                    out.insert(i, heap.cons(key, value));
                    return (bm, out, Put::Added);
                }
            }
        }
        out.push(heap.cons(key, value));
        return (bm, out, Put::Added);
    }
    let bit = 1u64 << nibble(h, depth);
    let pos = (bm & (bit - 1)).count_ones() as usize;
    if bm & bit == 0 {
        out.insert(pos, heap.cons(key, value));
        return (bm | bit, out, Put::Added);
    }
    let c = ch[pos];
    if c.is_cons() {
        let (k, _) = c.cons_unchecked();
        if eq_exact(k, key) {
            out[pos] = heap.cons(key, value);
            return (bm, out, Put::Replaced);
        }
        let leaf = heap.cons(key, value);
        out[pos] = pair(heap, depth + 1, key_hash(k), c, h, leaf);
        return (bm, out, Put::Added);
    }
    let (cbm, cch) = parts(c);
    let (nbm, nch, what) = put_in(heap, cbm, cch, depth + 1, h, key, value);
    out[pos] = node(heap, nbm, &nch);
    (bm, out, what)
}

/// A node after a removal below it.
enum Removed {
    NotFound,
    Empty,
    Leaf(Term),
    Node(u64, Children),
}

/// `m` without `key`: None if the key is absent. A map left with
/// `FLAT_MAX` keys becomes flat again.
pub fn remove(heap: &mut Heap, m: Term, key: Term) -> Option<Term> {
    let n = size(m);
    if n - 1 <= FLAT_MAX {
        get(m, key)?;
        let mut rest: Vec<(Term, Term)> = MapIter::new(m).filter(|(k, _)| !eq_exact(*k, key)).collect();
        rest.sort_by(|a, b| cmp_exact(a.0, b.0));
        return Some(heap.map_sorted(&rest));
    }
    let (bm, ch) = parts(m);
    match remove_in(heap, bm, ch, 0, key_hash(key), key, true) {
        Removed::NotFound => None,
        Removed::Node(bm, ch) => Some(head(heap, n - 1, bm, &ch)),
        // A head keeps more than FLAT_MAX > 1 keys.
        Removed::Empty | Removed::Leaf(_) => unreachable!("HAMT head emptied"),
    }
}

fn remove_in(heap: &mut Heap, bm: u64, ch: &[Term], depth: u32, h: u64, key: Term, top: bool) -> Removed {
    let pos;
    if bm == COLLISION {
        match ch.iter().position(|l| eq_exact(l.cons_unchecked().0, key)) {
            None => return Removed::NotFound,
            Some(i) => pos = i,
        }
    } else {
        let bit = 1u64 << nibble(h, depth);
        if bm & bit == 0 {
            return Removed::NotFound;
        }
        pos = (bm & (bit - 1)).count_ones() as usize;
        let c = ch[pos];
        if !c.is_cons() {
            let (cbm, cch) = parts(c);
            let mut out: Children = ch.iter().copied().collect();
            match remove_in(heap, cbm, cch, depth + 1, h, key, false) {
                Removed::NotFound => return Removed::NotFound,
                Removed::Node(nbm, nch) => {
                    out[pos] = node(heap, nbm, &nch);
                    return Removed::Node(bm, out);
                }
                Removed::Leaf(l) => {
                    // The only child left: lift the leaf into this node.
                    if ch.len() == 1 && !top {
                        return Removed::Leaf(l);
                    }
                    out[pos] = l;
                    return Removed::Node(bm, out);
                }
                Removed::Empty => unreachable!("a non-head node has two keys or more"),
            }
        }
        if !eq_exact(c.cons_unchecked().0, key) {
            return Removed::NotFound;
        }
    }
    let mut out: Children = ch.iter().copied().collect();
    out.remove(pos);
    let nbm = if bm == COLLISION { bm } else { bm & !(1u64 << nibble(h, depth)) };
    match out.len() {
        0 => Removed::Empty,
        1 if !top && out[0].is_cons() => Removed::Leaf(out[0]),
        _ => Removed::Node(nbm, out),
    }
}

/// The entries of a map sorted by key (`cmp_exact`): the order of term
/// comparison.
pub fn sorted_entries(m: Term) -> Vec<(Term, Term)> {
    let mut v: Vec<(Term, Term)> = MapIter::new(m).collect();
    if m.map_flat().is_none() {
        v.sort_by(|a, b| cmp_exact(a.0, b.0));
    }
    v
}

/// Check the shape of one head or inner node (the heap verifier calls this
/// on every one it meets): the bitmap has one bit per child, each child is a
/// leaf or an inner node, a collision node holds only leaves.
pub fn check_node(t: Term) -> Result<(), String> {
    let (bm, ch) = parts(t);
    let is_head = header_kind(t.header()) == KIND_HAMT;
    if bm == COLLISION {
        if is_head || ch.len() < 2 || !ch.iter().all(|c| c.is_cons()) {
            return Err("bad HAMT collision node".into());
        }
        return Ok(());
    }
    if bm >> 16 != 0 || bm.count_ones() as usize != ch.len() {
        return Err(format!("HAMT bitmap {bm:#x} does not match {} children", ch.len()));
    }
    if is_head && size(t) <= FLAT_MAX {
        return Err(format!("HAMT map of {} keys", size(t)));
    }
    for c in ch {
        if !(c.is_cons() || c.is_boxed() && header_kind(c.header()) == KIND_HNODE) {
            return Err(format!("HAMT child is neither a leaf nor a node: {:#x}", c.raw()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(h: &mut Heap, n: i64) -> Term {
        let v: Vec<(Term, Term)> = (0..n).map(|i| (Term::small(i), Term::small(i * 10))).collect();
        h.map_sorted(&v)
    }

    #[test]
    fn build_get_put_remove() {
        let mut h = Heap::new();
        let m = big(&mut h, 1000);
        assert_eq!(m.map_size(), Some(1000));
        assert!(m.map_flat().is_none());
        for i in 0..1000 {
            assert_eq!(m.map_get(Term::small(i)), Some(Term::small(i * 10)));
        }
        assert_eq!(m.map_get(Term::small(1000)), None);
        assert_eq!(m.map_entries().unwrap().count(), 1000);
        let (m2, w) = put(&mut h, m, Term::small(5), Term::small(-5));
        assert_eq!(w, Put::Replaced);
        assert_eq!(m2.map_get(Term::small(5)), Some(Term::small(-5)));
        assert_eq!(m.map_get(Term::small(5)), Some(Term::small(50)), "the old map is unchanged");
        let (m3, w) = put(&mut h, m2, Term::small(5000), Term::NIL);
        assert_eq!(w, Put::Added);
        assert_eq!(m3.map_size(), Some(1001));
        let m4 = remove(&mut h, m3, Term::small(5000)).unwrap();
        assert_eq!(m4.map_size(), Some(1000));
        assert!(eq_exact(m4, m2));
        assert!(remove(&mut h, m4, Term::small(5000)).is_none());
        // Shrinks to a flat map at 32 keys.
        let mut m = big(&mut h, 40);
        for i in 0..8 {
            m = remove(&mut h, m, Term::small(i)).unwrap();
        }
        assert!(m.map_flat().is_some());
        assert_eq!(m.map_size(), Some(32));
    }

    #[test]
    fn order_depends_only_on_keys() {
        let mut h = Heap::new();
        let a = big(&mut h, 300);
        let mut b = big(&mut h, 33);
        for i in (33..300).rev() {
            b = put(&mut h, b, Term::small(i), Term::small(i * 10)).0;
        }
        let ka: Vec<Term> = a.map_entries().unwrap().map(|e| e.0).collect();
        let kb: Vec<Term> = b.map_entries().unwrap().map(|e| e.0).collect();
        assert_eq!(ka, kb);
        assert!(eq_exact(a, b));
        assert_eq!(key_hash(a), key_hash(b));
    }

    #[test]
    fn collisions_below_the_last_level() {
        // Force equal hashes by building collision nodes with `pair` at the
        // last level directly.
        let mut h = Heap::new();
        let l1 = h.cons(Term::small(2), Term::small(20));
        let l2 = h.cons(Term::small(1), Term::small(10));
        let n = pair(&mut h, LEVELS, 7, l1, 7, l2);
        let (bm, ch) = parts(n);
        assert_eq!(bm, COLLISION);
        assert_eq!(ch[0].cons_unchecked().0, Term::small(1));
        check_node(n).unwrap();
        let (bm2, ch2, w) = put_in(&mut h, bm, ch, LEVELS, 7, Term::small(0), Term::NIL);
        assert_eq!(w, Put::Added);
        assert_eq!(bm2, COLLISION);
        assert_eq!(ch2.len(), 3);
        assert_eq!(ch2[0].cons_unchecked().0, Term::small(0));
        match remove_in(&mut h, bm2, &ch2, LEVELS, 7, Term::small(1), false) {
            Removed::Node(b, c) => assert_eq!((b, c.len()), (COLLISION, 2)),
            _ => panic!("expected a node"),
        }
    }

    #[test]
    fn zero_floats_hash_alike() {
        let mut h = Heap::new();
        let (a, b) = (h.float(0.0), h.float(-0.0));
        assert_eq!(key_hash(a), key_hash(b));
        assert_ne!(key_hash(Term::small(1)), key_hash(h.float(1.0)));
    }
}
