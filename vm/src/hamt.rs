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
//!   depends only on the set of keys: iteration order is ascending by
//!   `key_hash`, then by `cmp_exact` among keys of equal hash.
//!
//! `key_hash` is built from OTP 25's own 32-bit map hash (`otp_map_hash`),
//! its nibbles reversed and complemented, so `MapIter` visits OTP's trie
//! slots from the last to the first: that is the order of OTP's
//! `maps:to_list/1`, and its reverse is the order in which OTP folds,
//! iterates and prints a map (`format::from_term` and `maps.mrl` reverse it).
//! The hash is computed from the value of a term, so it is the same in every
//! run and on every scheduler; terms equal under `=:=` hash equally (`0.0`
//! and `-0.0` included). Atoms hash by their name where OTP uses their index
//! in its atom table, so maps with atom keys are in minierl's own order.

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

/// Where a map's keys go, as a 64-bit trie key: OTP 25's 32-bit map hash
/// with its nibbles reversed and complemented in the high half (so the trie,
/// which takes nibbles from the top, walks OTP's slots from the last to the
/// first: `MapIter`'s order is OTP's `maps:to_list` order), and the same hash
/// with salt 1 in the low half, used only by keys whose 32-bit hashes are
/// equal (OTP rehashes those too; its exact scheme there is not modelled).
pub fn key_hash(t: Term) -> u64 {
    let hi = !nibbles_reversed(otp_map_hash(t, 0));
    let lo = !nibbles_reversed(otp_map_hash(t, 1));
    ((hi as u64) << 32) | lo as u64
}

/// `x` with its eight nibbles in the opposite order (nibble 0 on top).
#[inline]
fn nibbles_reversed(x: u32) -> u32 {
    let x = x.swap_bytes();
    ((x & 0x0F0F_0F0F) << 4) | ((x >> 4) & 0x0F0F_0F0F)
}

/// OTP 25's hash of a map key (erts' internal hash, seeded with `salt`),
/// computed from the term's value as OTP lays it out in 64-bit words. The
/// result decides the order in which OTP lists, folds and prints a map of
/// more than 32 keys, so it is reproduced exactly for numbers, strings,
/// lists, tuples, binaries and maps of those. OTP hashes an atom, a pid or
/// a fun by the raw word it is stored as (an atom's index in the atom table,
/// which depends on everything the node loaded before); minierl uses the
/// hash of the atom's name in place of that index, so the order of maps
/// with such keys is minierl's own.
pub fn otp_map_hash(t: Term, salt: u32) -> u32 {
    use crate::bif::phash::{atom_text_hash, block_hash, hconst, mix3};
    enum Item {
        T(Term),
        /// The end of a cons cell whose tail is not a list.
        Cdr,
        /// An inner trie node of a map being hashed as a key.
        Node(Term),
    }
    const SALT: u32 = 3_432_918_353;
    #[inline]
    fn h2(x: u32, y: u32, k: u32, hash: u32) -> u32 {
        mix3(k.wrapping_add(x), k.wrapping_add(y), hash).2
    }
    #[inline]
    fn word(raw: u64, hash: u32) -> u32 {
        h2(raw as u32, (raw >> 32) as u32, hconst(1), hash)
    }
    fn big(v: &num_bigint::BigInt, hash: u32) -> u32 {
        let k = if v.sign() == num_bigint::Sign::Minus { hconst(10) } else { hconst(11) };
        let mut h = hash;
        for d in v.magnitude().to_u64_digits() {
            h = h2(d as u32, (d >> 32) as u32, k, h);
        }
        h
    }
    /// An OTP small integer (60 bits) is an immediate word.
    fn small_word(i: i64) -> Option<u64> {
        (-(1i64 << 59)..(1i64 << 59)).contains(&i).then_some(((i as u64) << 4) | 0xF)
    }
    let mut hash = salt ^ SALT;
    let mut stack: SmallVec<[Item; 16]> = SmallVec::new();
    let mut item = Item::T(t);
    loop {
        match item {
            Item::Cdr => hash = (hash ^ hconst(18)).rotate_left(17),
            Item::Node(node) => {
                // OTP pushes a node's slots first to last; ours are stored
                // last slot first.
                let (_, children) = parts(node);
                for &c in children.iter().rev() {
                    if c.is_cons() {
                        let (k, v) = c.cons_unchecked();
                        stack.push(Item::T(v));
                        stack.push(Item::T(k));
                    } else {
                        stack.push(Item::Node(c));
                    }
                }
            }
            Item::T(term) => match term.kind() {
                Kind::Small => match small_word(term.small_value()) {
                    Some(w) => hash = word(w, hash),
                    None => hash = big(&num_bigint::BigInt::from(term.small_value()), hash),
                },
                Kind::BigInt => {
                    let v = term.to_bigint().unwrap_or_default();
                    match i64::try_from(&v).ok().and_then(small_word) {
                        Some(w) => hash = word(w, hash),
                        None => hash = big(&v, hash),
                    }
                }
                Kind::Atom => {
                    let idx = atom_text_hash(term.atom_name().unwrap_or("")) as u64;
                    hash = word((idx << 6) | 0xB, hash);
                }
                Kind::Nil => hash = word(0x3B, hash),
                Kind::Pid => hash = word((term.pid_number().unwrap_or(0) << 4) | 0x3, hash),
                Kind::Ref => {
                    let n = term.ref_number().unwrap_or(0);
                    hash = h2(n as u32, (n >> 32) as u32, hconst(7), hash);
                }
                Kind::Float => {
                    let f = term.as_float().unwrap_or(0.0);
                    let bits = if f == 0.0 { 0 } else { f.to_bits() };
                    hash = h2(bits as u32, (bits >> 32) as u32, hconst(12), hash);
                }
                Kind::Cons => {
                    // Runs of byte-valued elements go four at a time; the
                    // run ends at the list's tail or at another element.
                    let (mut c, mut sh) = (0u32, 0u32);
                    let mut cur = term;
                    let stop = loop {
                        let (h, tl) = cur.cons_unchecked();
                        match h.as_small() {
                            Some(b @ 0..=255) => {
                                sh = (sh << 8).wrapping_add(b as u32);
                                if c == 3 {
                                    hash = h2(sh, 0, hconst(4), hash);
                                    c = 0;
                                    sh = 0;
                                } else {
                                    c += 1;
                                }
                                if !tl.is_cons() {
                                    break None;
                                }
                                cur = tl;
                            }
                            _ => break Some((h, tl)),
                        }
                    };
                    if c > 0 {
                        hash = h2(sh, c, hconst(22), hash);
                    }
                    item = match stop {
                        // The tail is hashed next, as a term of its own.
                        None => Item::T(cur.cons_unchecked().1),
                        Some((h, tl)) => {
                            hash = (hash ^ hconst(17)).rotate_left(17);
                            stack.push(Item::T(tl));
                            if !tl.is_cons() {
                                stack.push(Item::Cdr);
                            }
                            Item::T(h)
                        }
                    };
                    continue;
                }
                Kind::Tuple => {
                    let el = term.tuple_unchecked();
                    hash = h2(el.len() as u32, 0, hconst(9), hash);
                    stack.extend(el.iter().rev().map(|&e| Item::T(e)));
                }
                Kind::Map => {
                    let n = term.map_size().unwrap_or(0) as u32;
                    hash = h2(n, 0, hconst(16), hash);
                    match term.map_flat() {
                        Some(f) => {
                            for kv in f.chunks_exact(2).rev() {
                                stack.push(Item::T(kv[1]));
                                stack.push(Item::T(kv[0]));
                            }
                        }
                        None => stack.push(Item::Node(term)),
                    }
                }
                Kind::Binary => {
                    let bits = term.bit_size().unwrap_or(0);
                    let bytes = term.binary_bytes().unwrap_or(&[]);
                    let whole = (bits / 8) as usize;
                    let tail = (bits % 8) as u32;
                    let con = hconst(13).wrapping_add(hash);
                    if whole == 0 && tail == 0 {
                        hash = con;
                    } else {
                        hash = block_hash(&bytes[..whole], con);
                        if tail > 0 {
                            hash = h2(tail, (bytes[whole] >> (8 - tail)) as u32, hconst(15), hash);
                        }
                    }
                }
                Kind::Fun | Kind::ExportFun => match term.fun_view() {
                    Some(FunView::Local { module, index, uniq, free, .. }) => {
                        let m = ((atom_text_hash(module.name()) as u64) << 6) | 0xB;
                        hash = h2(free.len() as u32, m as u32, hconst(20), hash);
                        hash = h2(index, uniq, hconst(21), hash);
                        stack.extend(free.iter().rev().map(|&e| Item::T(e)));
                    }
                    Some(FunView::Export { module, function, arity }) => {
                        let x = atom_text_hash(module.name()) ^ atom_text_hash(function.name()).rotate_left(7);
                        hash = h2(x, arity as u32, hconst(14), hash);
                    }
                    None => {}
                },
                Kind::Internal => hash = word(term.raw(), hash),
            },
        }
        match stack.pop() {
            Some(next) => item = next,
            None => return hash,
        }
    }
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
