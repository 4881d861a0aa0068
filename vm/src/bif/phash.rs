//! `erlang:phash2/1,2` and `erlang:phash/2`: the portable hashes of a
//! term, with OTP's values.
//!
//! Programs print `phash2` results and use them to pick buckets or shards,
//! so minierl computes the same 32-bit value as OTP 25's `make_hash2`
//! (erts `utils.c`), written here from its observable definition:
//!
//! - The mixing step is Bob Jenkins' 96-bit `mix` of (a, b, hash); hashing
//!   a pair of words (x, y) with a per-type constant K sets a = K + x,
//!   b = K + y and mixes them into the running hash.  K is a multiple of
//!   the golden ratio constant 0x9e3779b9 (the `HCONST_n` table below).
//! - A term is hashed depth first, left to right, the running hash
//!   carrying from one subterm to the next.  Atoms use the hash of their
//!   name (`atom_text_hash`); the first atom or `[]` met while the running
//!   hash is still 0 becomes the hash itself, later ones are mixed in.
//! - Integers in [-2^27, 2^27) mix their value (negative ones twice, first
//!   negated); larger ones mix their magnitude in 64-bit digits, low digit
//!   first, with a constant telling the sign.  A float mixes its IEEE bits
//!   (0.0 and -0.0 alike).  A list mixes each run of byte-valued elements
//!   four bytes at a time, and hashes other elements as terms; its tail is
//!   hashed as a term.  A tuple mixes its arity, then its elements.  A
//!   binary runs Jenkins' block hash (`lookup2`) over its bytes, seeded with
//!   the running hash; a bitstring's last bits are mixed afterwards.  A map
//!   mixes its size, then the XOR of the hashes of its pairs, each hashed
//!   from 0 (key, then value), so the order of the pairs does not matter.
//!
//! Pids, references and funs hash what minierl has of them (their numbers,
//! module and arity); OTP's values depend on node data minierl does not
//! model, so those results are minierl's own.

use crate::term::{FunView, Kind, Term};

/// 0x9e3779b9 (the golden ratio) times n, mod 2^32.
pub(crate) const fn hconst(n: u32) -> u32 {
    0x9e37_79b9u32.wrapping_mul(n)
}

/// The word a `[]` mixes in when it is not the first term hashed (the
/// number OTP gives the type of `[]`).
const NIL_WORD: u32 = 2;

/// The hash of `[]` when it is the first term hashed.
const NIL_FIRST: u32 = 3_468_870_702;

fn mix(a: u32, b: u32, c: u32) -> u32 {
    mix3(a, b, c).2
}

/// Jenkins' block hash of `bytes`, seeded with `init`.
pub(crate) fn block_hash(bytes: &[u8], init: u32) -> u32 {
    let word = |k: &[u8]| u32::from_le_bytes([k[0], k[1], k[2], k[3]]);
    let (mut a, mut b, mut c) = (hconst(1), hconst(1), init);
    let mut chunks = bytes.chunks_exact(12);
    for k in &mut chunks {
        a = a.wrapping_add(word(&k[0..4]));
        b = b.wrapping_add(word(&k[4..8]));
        c = c.wrapping_add(word(&k[8..12]));
        (a, b, c) = mix3(a, b, c);
    }
    let rest = chunks.remainder();
    c = c.wrapping_add(bytes.len() as u32);
    // The remaining bytes fill a, b, then c from its second byte (its low
    // byte holds the length).
    for (i, &byte) in rest.iter().enumerate() {
        let v = byte as u32;
        match i {
            0..=3 => a = a.wrapping_add(v << (8 * i)),
            4..=7 => b = b.wrapping_add(v << (8 * (i - 4))),
            _ => c = c.wrapping_add(v << (8 * (i - 7))),
        }
    }
    mix(a, b, c)
}

/// `mix` keeping all three words (the block hash feeds them back).
pub(crate) fn mix3(mut a: u32, mut b: u32, mut c: u32) -> (u32, u32, u32) {
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 13);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 8);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 13);
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 12);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 16);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 5);
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 3);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 10);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 15);
    (a, b, c)
}

/// The hash of an atom's name, as OTP's atom table keeps it: a PJW hash of
/// its UTF-8 bytes, where a character U+0080..U+00FF counts as its one
/// latin-1 byte.
pub(crate) fn atom_text_hash(name: &str) -> u32 {
    let mut h: u32 = 0;
    for c in name.chars() {
        let mut step = |v: u32| {
            h = (h << 4).wrapping_add(v);
            let g = h & 0xf000_0000;
            if g != 0 {
                h ^= g >> 24;
                h ^= g;
            }
        };
        let n = c as u32;
        if (0x80..0x100).contains(&n) {
            step(n);
        } else {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                step(b as u32);
            }
        }
    }
    h
}

/// Work left on the stack: a term to hash, or a step of a map.
enum Job {
    Term(Term),
    /// The end of a map pair: fold the pair's hash into the XOR.
    PairDone,
    /// The end of a map: restore the outer state and mix the XOR in.
    MapDone {
        outer_hash: u32,
        outer_xor: u32,
    },
}

struct Hasher {
    hash: u32,
    xor: u32,
}

impl Hasher {
    fn pair(&mut self, x: u32, y: u32, k: u32) {
        self.hash = mix(k.wrapping_add(x), k.wrapping_add(y), self.hash);
    }
    fn one(&mut self, x: u32, k: u32) {
        self.pair(x, 0, k);
    }
    fn integer(&mut self, v: i128) {
        if (-(1 << 27)..(1 << 27)).contains(&v) {
            if v < 0 {
                self.one((-v) as u32, hconst(1));
            }
            self.one(v as i32 as u32, hconst(1));
        } else {
            let k = if v < 0 { hconst(10) } else { hconst(11) };
            let mut m = v.unsigned_abs();
            loop {
                let digit = m as u64;
                self.pair(digit as u32, (digit >> 32) as u32, k);
                m >>= 64;
                if m == 0 {
                    break;
                }
            }
        }
    }
    fn bignum(&mut self, b: &num_bigint::BigInt) {
        let k = if b.sign() == num_bigint::Sign::Minus { hconst(10) } else { hconst(11) };
        for digit in b.magnitude().iter_u64_digits() {
            self.pair(digit as u32, (digit >> 32) as u32, k);
        }
    }
    fn atom_like(&mut self, word: u32, first: u32, k: u32) {
        if self.hash == 0 {
            self.hash = first;
        } else {
            self.one(word, k);
        }
    }
}

/// OTP's `make_hash2` of a term.
pub fn make_hash2(t: Term) -> u32 {
    // As OTP, a lone atom or small integer is not mixed further.
    match t.kind() {
        Kind::Atom => return atom_text_hash(t.atom_name().unwrap()),
        Kind::Small => {
            let mut h = Hasher { hash: 0, xor: 0 };
            h.integer(t.small_value() as i128);
            return h.hash;
        }
        _ => {}
    }
    let mut h = Hasher { hash: 0, xor: 0 };
    let mut stack = vec![Job::Term(t)];
    while let Some(job) = stack.pop() {
        let t = match job {
            Job::Term(t) => t,
            Job::PairDone => {
                h.xor ^= h.hash;
                h.hash = 0;
                continue;
            }
            Job::MapDone { outer_hash, outer_xor } => {
                let pairs = h.xor;
                h.hash = outer_hash;
                h.one(pairs, hconst(19));
                h.xor = outer_xor;
                continue;
            }
        };
        match t.kind() {
            Kind::Atom => {
                let v = atom_text_hash(t.atom_name().unwrap());
                h.atom_like(v, v, hconst(3));
            }
            Kind::Nil => h.atom_like(NIL_WORD, NIL_FIRST, hconst(2)),
            Kind::Small => h.integer(t.small_value() as i128),
            Kind::BigInt => h.bignum(&t.to_bigint().unwrap()),
            Kind::Float => {
                let f = t.as_float().unwrap();
                let bits = if f == 0.0 { 0 } else { f.to_bits() };
                h.pair((bits >> 32) as u32, bits as u32, hconst(12));
            }
            Kind::Cons => {
                // Byte-valued elements four at a time, then the first other
                // element (its rest waits on the stack) or the tail.
                let mut cur = t;
                let (mut acc, mut n) = (0u32, 0);
                loop {
                    match cur.cons_parts() {
                        Some((hd, tl)) if hd.kind() == Kind::Small && (0..256).contains(&hd.small_value()) => {
                            acc = (acc << 8).wrapping_add(hd.small_value() as u32);
                            n += 1;
                            if n == 4 {
                                h.one(acc, hconst(4));
                                (acc, n) = (0, 0);
                            }
                            cur = tl;
                        }
                        _ => break,
                    }
                }
                if n > 0 {
                    h.one(acc, hconst(4));
                }
                match cur.cons_parts() {
                    Some((hd, tl)) => {
                        stack.push(Job::Term(tl));
                        stack.push(Job::Term(hd));
                    }
                    None => stack.push(Job::Term(cur)),
                }
            }
            Kind::Tuple => {
                let elems = t.tuple_elements().unwrap();
                h.one(elems.len() as u32, hconst(9));
                stack.extend(elems.iter().rev().map(|&e| Job::Term(e)));
            }
            Kind::Map => {
                let n = t.map_size().unwrap();
                h.one(n as u32, hconst(16));
                if n > 0 {
                    stack.push(Job::MapDone { outer_hash: h.hash, outer_xor: h.xor });
                    for (k, v) in t.map_entries().unwrap() {
                        stack.push(Job::PairDone);
                        stack.push(Job::Term(v));
                        stack.push(Job::Term(k));
                    }
                    h.hash = 0;
                    h.xor = 0;
                }
            }
            Kind::Binary => {
                let bits = t.bit_size().unwrap();
                let bytes = t.binary_bytes().unwrap();
                let whole = (bits / 8) as usize;
                let seed = hconst(13).wrapping_add(h.hash);
                h.hash = if bits == 0 { seed } else { block_hash(&bytes[..whole], seed) };
                let rest = (bits % 8) as u32;
                if rest > 0 {
                    h.pair(rest, (bytes[whole] >> (8 - rest)) as u32, hconst(15));
                }
            }
            Kind::Pid => h.one(t.pid_number().unwrap_or(0) as u32, hconst(5)),
            Kind::Ref => h.one(t.ref_number().unwrap_or(0) as u32, hconst(7)),
            Kind::Fun | Kind::ExportFun => match t.fun_view() {
                Some(FunView::Local { module, index, uniq, arity, free, .. }) => {
                    h.pair(free.len() as u32, atom_text_hash(module.name()), hconst(1));
                    h.pair(index, uniq, hconst(1));
                    let _ = arity;
                    stack.extend(free.iter().rev().map(|&e| Job::Term(e)));
                }
                Some(FunView::Export { module, function, arity }) => {
                    h.pair(arity as u32, atom_text_hash(module.name()), hconst(1));
                    h.one(atom_text_hash(function.name()), hconst(14));
                }
                None => {}
            },
            Kind::Internal => {}
        }
    }
    h.hash
}

// The old portable hash, `make_hash` (`erlang:phash/2`), which OTP's
// `sets` and `dict` use to pick a bucket: their element order depends on
// it.  Written from its observable definition:
//
// - The hash is a running 32-bit value H, updated as H * P + X for
//   per-type primes P (the `FUNNY_n` constants below, primes just above
//   2^28).
// - An integer hashes its magnitude's bytes, low byte first, as many as
//   its 32-bit words (one word for 0) times four, each as H * FUNNY2 + B;
//   then H is multiplied by FUNNY4 (negative) or FUNNY3.
// - An atom adds its name's hash (`atom_text_hash`) with FUNNY1; `[]`
//   is H * FUNNY3 + 1.  A float adds the XOR of its two 32-bit halves
//   (-0.0 as 0.0) with FUNNY6.
// - A list adds its leading byte-valued elements with FUNNY2, hashes the
//   first other element as a term and goes on with the rest; its final
//   tail is hashed as a term and H is then multiplied by FUNNY8.
// - A tuple hashes its elements in order, then adds its arity with FUNNY9.
//   A binary adds each byte with FUNNY1 (trailing bits: their value with
//   FUNNY1, then their count with FUNNY12), then its byte size with
//   FUNNY4.  A map adds `make_hash2` of itself with FUNNY13 and FUNNY14.
// - An external fun `fun M:F/A` adds A with FUNNY11, then M's and F's
//   atom hashes with FUNNY1.  Pids, references and local funs hash what
//   minierl has of them (OTP's values depend on data minierl does not
//   model).
const FUNNY1: u32 = 268_440_163;
const FUNNY2: u32 = 268_439_161;
const FUNNY3: u32 = 268_435_459;
const FUNNY4: u32 = 268_436_141;
const FUNNY5: u32 = 268_438_633;
const FUNNY6: u32 = 268_437_017;
const FUNNY8: u32 = 268_437_511;
const FUNNY9: u32 = 268_439_627;
const FUNNY10: u32 = 268_440_479;
const FUNNY11: u32 = 268_440_577;
const FUNNY12: u32 = 268_440_581;
const FUNNY13: u32 = 268_440_593;
const FUNNY14: u32 = 268_440_611;

/// Work left on `make_hash`'s stack.
enum OldJob {
    Term(Term),
    /// A list's tail was hashed: multiply by FUNNY8.
    ListEnd,
    /// A tuple's elements were hashed: add its arity.
    TupleEnd(u32),
}

fn step(h: u32, p: u32, x: u32) -> u32 {
    h.wrapping_mul(p).wrapping_add(x)
}

/// Hash a 32-bit word bytewise, low byte first.
fn word_bytes(mut h: u32, p: u32, w: u32) -> u32 {
    for i in 0..4 {
        h = step(h, p, (w >> (8 * i)) & 0xff);
    }
    h
}

/// Hash an integer's magnitude (as little-endian 32-bit words) and sign.
fn old_integer(mut h: u32, words: &[u32], negative: bool) -> u32 {
    if words.is_empty() {
        h = word_bytes(h, FUNNY2, 0);
    }
    for &w in words {
        h = word_bytes(h, FUNNY2, w);
    }
    h.wrapping_mul(if negative { FUNNY4 } else { FUNNY3 })
}

/// OTP's `make_hash` of a term (`erlang:phash/2` before the range).
pub fn make_hash(t: Term) -> u32 {
    let mut h: u32 = 0;
    let mut stack = vec![OldJob::Term(t)];
    while let Some(job) = stack.pop() {
        let t = match job {
            OldJob::Term(t) => t,
            OldJob::ListEnd => {
                h = h.wrapping_mul(FUNNY8);
                continue;
            }
            OldJob::TupleEnd(n) => {
                h = step(h, FUNNY9, n);
                continue;
            }
        };
        match t.kind() {
            Kind::Nil => h = step(h, FUNNY3, 1),
            Kind::Atom => h = step(h, FUNNY1, atom_text_hash(t.atom_name().unwrap())),
            Kind::Small => {
                let v = t.small_value();
                let m = v.unsigned_abs();
                let words: Vec<u32> = if m >> 32 != 0 { vec![m as u32, (m >> 32) as u32] } else { vec![m as u32] };
                h = old_integer(h, &words, v < 0);
            }
            Kind::BigInt => {
                let b = t.to_bigint().unwrap();
                let words = b.magnitude().to_u32_digits();
                h = old_integer(h, &words, b.sign() == num_bigint::Sign::Minus);
            }
            Kind::Float => {
                let f = t.as_float().unwrap();
                let bits = if f == 0.0 { 0 } else { f.to_bits() };
                h = step(h, FUNNY6, (bits as u32) ^ ((bits >> 32) as u32));
            }
            Kind::Cons => {
                let mut cur = t;
                loop {
                    match cur.cons_parts() {
                        Some((hd, tl)) if hd.kind() == Kind::Small && (0..256).contains(&hd.small_value()) => {
                            h = step(h, FUNNY2, hd.small_value() as u32);
                            cur = tl;
                        }
                        Some((hd, tl)) => {
                            // The rest of the list (a list again, or the tail).
                            if tl.cons_parts().is_some() {
                                stack.push(OldJob::Term(tl));
                            } else {
                                stack.push(OldJob::ListEnd);
                                stack.push(OldJob::Term(tl));
                            }
                            stack.push(OldJob::Term(hd));
                            break;
                        }
                        None => {
                            stack.push(OldJob::ListEnd);
                            stack.push(OldJob::Term(cur));
                            break;
                        }
                    }
                }
            }
            Kind::Tuple => {
                let elems = t.tuple_elements().unwrap();
                stack.push(OldJob::TupleEnd(elems.len() as u32));
                stack.extend(elems.iter().rev().map(|&e| OldJob::Term(e)));
            }
            Kind::Map => {
                h = h.wrapping_mul(FUNNY13).wrapping_add(FUNNY14).wrapping_add(make_hash2(t));
            }
            Kind::Binary => {
                let bits = t.bit_size().unwrap();
                let bytes = t.binary_bytes().unwrap();
                let whole = (bits / 8) as usize;
                for &b in &bytes[..whole] {
                    h = step(h, FUNNY1, b as u32);
                }
                let rest = (bits % 8) as u32;
                if rest > 0 {
                    h = step(step(h, FUNNY1, (bytes[whole] >> (8 - rest)) as u32), FUNNY12, rest);
                }
                h = step(h, FUNNY4, whole as u32);
            }
            Kind::Pid => h = word_bytes(h, FUNNY5, t.pid_number().unwrap_or(0) as u32).wrapping_mul(FUNNY6),
            Kind::Ref => h = word_bytes(h, FUNNY9, t.ref_number().unwrap_or(0) as u32).wrapping_mul(FUNNY10),
            Kind::Fun | Kind::ExportFun => match t.fun_view() {
                Some(FunView::Local { module, index, uniq, free, .. }) => {
                    h = step(h, FUNNY10, free.len() as u32);
                    h = step(h, FUNNY1, atom_text_hash(module.name()));
                    h = step(h, FUNNY2, index);
                    h = step(h, FUNNY2, uniq);
                    stack.extend(free.iter().rev().map(|&e| OldJob::Term(e)));
                }
                Some(FunView::Export { module, function, arity }) => {
                    h = step(h, FUNNY11, arity as u32);
                    h = step(h, FUNNY1, atom_text_hash(module.name()));
                    h = step(h, FUNNY1, atom_text_hash(function.name()));
                }
                None => {}
            },
            Kind::Internal => {}
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_hashes_are_otps() {
        // Values from erlang:phash2/1 on OTP 25.
        assert_eq!(atom_text_hash("a"), 97);
        assert_eq!(atom_text_hash("abc"), 26499);
        assert_eq!(atom_text_hash("é"), 233);
        assert_eq!(atom_text_hash("€"), 60108);
        assert_eq!(atom_text_hash("hello_world_long_atom_name") & ((1 << 27) - 1), 113035781);
    }
}
