//! Bit syntax: building bitstrings (`BsCreate`) and matching them with a
//! match context (`BsGet`, `BsSkip`, ...), plus the `binary`-area BIFs.
//! Binaries live inline on the heap (no reference-counted off-heap
//! binaries yet), and a matched sub-binary is a copy. A binary built by
//! appending to another (`<<Acc/binary, X>>`) is a view of a buffer with
//! spare room that later appends fill in place (`append`).

use super::{bif, BifDef};
use crate::heap::{match_ctx_parts, match_ctx_set_pos};
use crate::op::Seg;
use crate::process::{BifResult, Exc, Process};
use crate::term::*;
use minierl_bytecode::{SegFlags, SegKind};
use num_bigint::{BigInt, Sign};

pub const BIFS: &[BifDef] = &[
    bif("erlang", "split_binary", 2, |p, a| {
        let (Some(b), Some(n)) = (a[0].binary_bytes(), a[1].as_small()) else { return Err(Exc::badarg()) };
        if !a[0].is_binary() || n < 0 || n as usize > b.len() {
            return Err(Exc::badarg());
        }
        let (x, y) = b.split_at(n as usize);
        let (x, y) = (x.to_vec(), y.to_vec());
        let bx = p.heap.binary(&x);
        let by = p.heap.binary(&y);
        Ok(p.heap.tuple(&[bx, by]))
    }),
    bif("erlang", "binary_part", 3, |p, a| binary_part(p, a[0], a[1], a[2])),
    bif("binary", "part", 3, |p, a| binary_part(p, a[0], a[1], a[2])),
    bif("erlang", "list_to_bitstring", 1, |p, a| {
        let mut b = Bits { bytes: Vec::new(), len: 0 };
        if a[0].is_list() && bitstring_list(a[0], &mut b) {
            p.charge(b.bytes.len() as u64 / 64);
            Ok(p.heap.bitstring(&b.bytes, b.len))
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("erlang", "bitstring_to_list", 1, |p, a| {
        let (Some(b), Some(bits)) = (a[0].binary_bytes(), a[0].bit_size()) else { return Err(Exc::badarg()) };
        let whole = (bits / 8) as usize;
        let mut v: Vec<Term> = b[..whole].iter().map(|&c| Term::small(c as i64)).collect();
        let tail = if bits % 8 != 0 { p.heap.bitstring(&b[whole..], bits % 8) } else { Term::NIL };
        if tail != Term::NIL {
            v.push(tail);
        }
        Ok(p.heap.list(&v))
    }),
    bif("erlang", "binary_to_list", 3, |p, a| {
        let (Some(b), Some(s), Some(e)) = (bytes_of(a[0]), a[1].as_small(), a[2].as_small()) else {
            return Err(Exc::badarg());
        };
        if s < 1 || e < s || e as usize > b.len() {
            return Err(Exc::badarg());
        }
        Ok(p.heap.bytes_list(&b[s as usize - 1..e as usize]))
    }),
    bif("binary", "bin_to_list", 1, |p, a| bytes_of(a[0]).map(|b| p.heap.bytes_list(b)).ok_or_else(Exc::badarg)),
    bif("binary", "bin_to_list", 2, |p, a| match a[1].tuple_elements() {
        Some([s, l]) => bin_to_list(p, a[0], *s, *l),
        _ => Err(Exc::badarg()),
    }),
    bif("binary", "bin_to_list", 3, |p, a| bin_to_list(p, a[0], a[1], a[2])),
    bif("binary", "list_to_bin", 1, |p, a| {
        let mut out = Vec::new();
        if a[0].is_list() && crate::bif::erlang::iolist_bytes(a[0], &mut out) {
            Ok(p.heap.binary(&out))
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("binary", "at", 2, |_, a| match (bytes_of(a[0]), a[1].as_small()) {
        (Some(b), Some(i)) if i >= 0 && (i as usize) < b.len() => Ok(Term::small(b[i as usize] as i64)),
        _ => Err(Exc::badarg()),
    }),
    bif("binary", "part", 2, |p, a| match a[1].tuple_elements() {
        Some([s, l]) => binary_part(p, a[0], *s, *l),
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "binary_part", 2, |p, a| match a[1].tuple_elements() {
        Some([s, l]) => binary_part(p, a[0], *s, *l),
        _ => Err(Exc::badarg()),
    }),
    bif("binary", "copy", 1, |p, a| match bytes_of(a[0]) {
        Some(b) => {
            let b = b.to_vec();
            Ok(p.heap.binary(&b))
        }
        None => Err(Exc::badarg()),
    }),
    bif("binary", "copy", 2, |p, a| match (bytes_of(a[0]), a[1].as_small()) {
        (Some(b), Some(n)) if n >= 0 && (b.len() as u128) * (n as u128) < 1 << 32 => {
            let v = b.repeat(n as usize);
            p.charge(v.len() as u64 / 64);
            Ok(p.heap.binary(&v))
        }
        _ => Err(Exc::badarg()),
    }),
    bif("binary", "referenced_byte_size", 1, |_, a| match bytes_of(a[0]) {
        Some(b) => Ok(Term::small(b.len() as i64)),
        None => Err(Exc::badarg()),
    }),
    bif("binary", "encode_hex", 1, |p, a| match bytes_of(a[0]) {
        Some(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
            Ok(p.heap.binary(hex.as_bytes()))
        }
        None => Err(Exc::badarg()),
    }),
    bif("binary", "decode_hex", 1, |p, a| {
        let b = bytes_of(a[0]).ok_or_else(Exc::badarg)?;
        if b.len() % 2 != 0 {
            return Err(Exc::badarg());
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let out: Option<Vec<u8>> = b.chunks_exact(2).map(|c| Some(digit(c[0])? * 16 + digit(c[1])?)).collect();
        Ok(p.heap.binary(&out.ok_or_else(Exc::badarg)?))
    }),
    // A compiled pattern is `{bm, Patterns}` (one) or `{ac, Patterns}`
    // (several), the patterns themselves: the search functions take it
    // as they take the patterns (OTP's holds a reference to its search
    // structure instead).
    bif("binary", "compile_pattern", 1, |p, a| match patterns(a[0]) {
        Some(ps) => {
            let tag = crate::atom::intern(if ps.len() == 1 { "bm" } else { "ac" });
            Ok(p.heap.tuple(&[Term::atom(tag), a[0]]))
        }
        None => Err(Exc::badarg()),
    }),
    bif("binary", "split", 2, |p, a| split(p, a[0], a[1], Term::NIL)),
    bif("binary", "split", 3, |p, a| split(p, a[0], a[1], a[2])),
    bif("binary", "match", 2, |p, a| match_bif(p, a[0], a[1], Term::NIL, false)),
    bif("binary", "match", 3, |p, a| match_bif(p, a[0], a[1], a[2], false)),
    bif("binary", "matches", 2, |p, a| match_bif(p, a[0], a[1], Term::NIL, true)),
    bif("binary", "matches", 3, |p, a| match_bif(p, a[0], a[1], a[2], true)),
    bif("binary", "replace", 3, |p, a| replace(p, a[0], a[1], a[2], Term::NIL)),
    bif("binary", "replace", 4, |p, a| replace(p, a[0], a[1], a[2], a[3])),
    bif("binary", "decode_unsigned", 1, |p, a| decode_unsigned(p, a[0], Term::atom(crate::atom::intern("big")))),
    bif("binary", "decode_unsigned", 2, |p, a| decode_unsigned(p, a[0], a[1])),
    bif("binary", "encode_unsigned", 1, |p, a| encode_unsigned(p, a[0], Term::atom(crate::atom::intern("big")))),
    bif("binary", "encode_unsigned", 2, |p, a| encode_unsigned(p, a[0], a[1])),
    bif("binary", "longest_common_prefix", 1, |_, a| common_affix(a[0], false)),
    bif("binary", "longest_common_suffix", 1, |_, a| common_affix(a[0], true)),
    bif("binary", "first", 1, |_, a| match a[0].binary_bytes() {
        Some(b) if a[0].is_binary() && !b.is_empty() => Ok(Term::small(b[0] as i64)),
        _ => Err(Exc::badarg()),
    }),
    bif("binary", "last", 1, |_, a| match a[0].binary_bytes() {
        Some(b) if a[0].is_binary() && !b.is_empty() => Ok(Term::small(b[b.len() - 1] as i64)),
        _ => Err(Exc::badarg()),
    }),
    bif("binary", "copy", 2, |p, a| match (a[0].binary_bytes(), a[1].as_small()) {
        (Some(b), Some(n)) if a[0].is_binary() && n >= 0 => {
            let v = b.repeat(n as usize);
            Ok(p.heap.binary(&v))
        }
        _ => Err(Exc::badarg()),
    }),
];

/// The bytes of a binary (not a bitstring with a partial byte).
fn bytes_of(t: Term) -> Option<&'static [u8]> {
    if t.is_binary() {
        t.binary_bytes()
    } else {
        None
    }
}

/// The elements of a bitstring list (`list_to_bitstring/1`): bytes,
/// bitstrings and such lists, a bitstring allowed as a tail. Iterative.
fn bitstring_list(t: Term, out: &mut Bits) -> bool {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        if t == Term::NIL {
            continue;
        }
        if let (Some(b), Some(n)) = (t.binary_bytes(), t.bit_size()) {
            out.push(b, n);
            continue;
        }
        let Some((h, tl)) = t.cons_parts() else { return false };
        stack.push(tl);
        match h.as_small() {
            Some(c) if (0..=255).contains(&c) => out.push(&[c as u8], 8),
            Some(_) => return false,
            None if h.is_bitstring() || h.is_list() => stack.push(h),
            None => return false,
        }
    }
    true
}

/// `binary:bin_to_list(B, Pos, Len)` (a negative `Len` counts back).
fn bin_to_list(p: &mut Process, b: Term, s: Term, l: Term) -> BifResult {
    let (Some(bytes), Some(s), Some(l)) = (bytes_of(b), s.as_small(), l.as_small()) else { return Err(Exc::badarg()) };
    let (start, end) = if l >= 0 { (s, s + l) } else { (s + l, s) };
    if start < 0 || end as usize > bytes.len() {
        return Err(Exc::badarg());
    }
    Ok(p.heap.bytes_list(&bytes[start as usize..end as usize]))
}

/// The patterns of `binary:split/match/replace`: one non-empty binary or
/// a non-empty list of them.
fn patterns(t: Term) -> Option<Vec<&'static [u8]>> {
    // A pattern compiled by binary:compile_pattern/1.
    if let Some([tag, ps]) = t.tuple_elements() {
        if matches!(tag.atom_name(), Some("bm" | "ac")) {
            return patterns(*ps);
        }
        return None;
    }
    let pats: Vec<&'static [u8]> = if t.is_binary() {
        vec![t.binary_bytes()?]
    } else {
        let v = t.list_to_vec()?;
        v.iter().map(|e| bytes_of(*e)).collect::<Option<Vec<_>>>()?
    };
    if pats.is_empty() || pats.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(pats)
}

/// Options shared by `split`, `match(es)` and `replace`.
#[derive(Default)]
struct SearchOpts {
    global: bool,
    trim: bool,
    trim_all: bool,
    /// `{scope, {Start, Length}}` as a byte range.
    scope: Option<(usize, usize)>,
    /// `{insert_replaced, Positions}` of `replace`.
    insert: Vec<usize>,
}

fn search_opts(t: Term, len: usize, replace: bool) -> Option<SearchOpts> {
    let mut o = SearchOpts::default();
    let mut it = t.iter_list();
    for e in it.by_ref() {
        if let Some(a) = e.as_atom() {
            match a.name() {
                "global" => o.global = true,
                "trim" => o.trim = true,
                "trim_all" => o.trim_all = true,
                _ => return None,
            }
            continue;
        }
        match e.tuple_elements()? {
            [k, v] if k.as_atom().map(|a| a.name()) == Some("scope") => {
                let [s, l] = v.tuple_elements()? else { return None };
                let (s, l) = (s.as_small()?, l.as_small()?);
                let (a, b) = if l >= 0 { (s, s + l) } else { (s + l, s) };
                if a < 0 || b as usize > len {
                    return None;
                }
                o.scope = Some((a as usize, b as usize));
            }
            [k, v] if replace && k.as_atom().map(|a| a.name()) == Some("insert_replaced") => {
                if let Some(i) = v.as_small() {
                    o.insert.push(usize::try_from(i).ok()?);
                } else {
                    for i in v.list_to_vec()? {
                        o.insert.push(usize::try_from(i.as_small()?).ok()?);
                    }
                }
            }
            _ => return None,
        }
    }
    if !it.tail().is_nil() {
        return None;
    }
    Some(o)
}

/// The matches of `pats` in `hay[range]`, leftmost first, each the longest
/// pattern matching there, not overlapping; only the first unless `global`.
fn find_all(hay: &[u8], pats: &[&[u8]], range: (usize, usize), global: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = range.0;
    while i < range.1 {
        let best = pats.iter().filter(|p| i + p.len() <= range.1 && hay[i..i + p.len()] == ***p).map(|p| p.len()).max();
        match best {
            Some(l) => {
                out.push((i, l));
                if !global {
                    break;
                }
                i += l;
            }
            None => i += 1,
        }
    }
    out
}

fn split(p: &mut Process, b: Term, pat: Term, opts: Term) -> BifResult {
    let (Some(hay), Some(pats)) = (bytes_of(b), patterns(pat)) else { return Err(Exc::badarg()) };
    let o = search_opts(opts, hay.len(), false).ok_or_else(Exc::badarg)?;
    let found = find_all(hay, &pats, o.scope.unwrap_or((0, hay.len())), o.global);
    p.charge(hay.len() as u64 / 64);
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    for (i, l) in found {
        parts.push(&hay[at..i]);
        at = i + l;
    }
    parts.push(&hay[at..]);
    if o.trim || o.trim_all {
        while parts.last().is_some_and(|x| x.is_empty()) {
            parts.pop();
        }
    }
    if o.trim_all {
        parts.retain(|x| !x.is_empty());
    }
    let terms: Vec<Term> = parts.iter().map(|x| p.heap.binary(x)).collect();
    Ok(p.heap.list(&terms))
}

fn match_bif(p: &mut Process, b: Term, pat: Term, opts: Term, all: bool) -> BifResult {
    let (Some(hay), Some(pats)) = (bytes_of(b), patterns(pat)) else { return Err(Exc::badarg()) };
    let o = search_opts(opts, hay.len(), false).ok_or_else(Exc::badarg)?;
    if o.global || o.trim || o.trim_all {
        return Err(Exc::badarg());
    }
    let found = find_all(hay, &pats, o.scope.unwrap_or((0, hay.len())), all);
    p.charge(hay.len() as u64 / 64);
    let ts: Vec<Term> =
        found.iter().map(|&(i, l)| p.heap.tuple(&[Term::small(i as i64), Term::small(l as i64)])).collect();
    if all {
        Ok(p.heap.list(&ts))
    } else {
        Ok(ts.first().copied().unwrap_or(Term::atom(crate::atom::intern("nomatch"))))
    }
}

fn replace(p: &mut Process, b: Term, pat: Term, with: Term, opts: Term) -> BifResult {
    let (Some(hay), Some(pats), Some(rep)) = (bytes_of(b), patterns(pat), bytes_of(with)) else {
        return Err(Exc::badarg());
    };
    let o = search_opts(opts, hay.len(), true).ok_or_else(Exc::badarg)?;
    if o.trim || o.trim_all || o.insert.iter().any(|&i| i > rep.len()) {
        return Err(Exc::badarg());
    }
    let found = find_all(hay, &pats, o.scope.unwrap_or((0, hay.len())), o.global);
    p.charge(hay.len() as u64 / 64);
    let mut out = Vec::with_capacity(hay.len());
    let mut at = 0;
    for (i, l) in found {
        out.extend_from_slice(&hay[at..i]);
        // The replacement with the matched part inserted at each position.
        let mut ins = o.insert.clone();
        ins.sort_unstable();
        let mut from = 0;
        for pos in ins {
            out.extend_from_slice(&rep[from..pos]);
            out.extend_from_slice(&hay[i..i + l]);
            from = pos;
        }
        out.extend_from_slice(&rep[from..]);
        at = i + l;
    }
    out.extend_from_slice(&hay[at..]);
    Ok(p.heap.binary(&out))
}

fn little_endian(t: Term) -> Option<bool> {
    match t.as_atom()?.name() {
        "big" => Some(false),
        "little" => Some(true),
        _ => None,
    }
}

fn decode_unsigned(p: &mut Process, b: Term, e: Term) -> BifResult {
    let (Some(bytes), Some(little)) = (bytes_of(b), little_endian(e)) else { return Err(Exc::badarg()) };
    let v = if little { BigInt::from_bytes_le(Sign::Plus, bytes) } else { BigInt::from_bytes_be(Sign::Plus, bytes) };
    Ok(p.heap.bigint(&v))
}

fn encode_unsigned(p: &mut Process, i: Term, e: Term) -> BifResult {
    let (Some(v), Some(little)) = (i.to_bigint(), little_endian(e)) else { return Err(Exc::badarg()) };
    if v.sign() == Sign::Minus {
        return Err(Exc::badarg());
    }
    let (_, mut bytes) = v.to_bytes_be();
    if little {
        bytes.reverse();
    }
    Ok(p.heap.binary(&bytes))
}

/// `binary:longest_common_prefix/1` and `_suffix/1`.
fn common_affix(l: Term, suffix: bool) -> BifResult {
    let v = l.list_to_vec().ok_or_else(Exc::badarg)?;
    let bins: Vec<&[u8]> = v.iter().map(|t| bytes_of(*t)).collect::<Option<_>>().ok_or_else(Exc::badarg)?;
    if bins.is_empty() {
        return Err(Exc::badarg());
    }
    let mut n = bins.iter().map(|b| b.len()).min().unwrap_or(0);
    for b in &bins[1..] {
        let k = if suffix {
            bins[0].iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count()
        } else {
            bins[0].iter().zip(b.iter()).take_while(|(x, y)| x == y).count()
        };
        n = n.min(k);
    }
    Ok(Term::small(n as i64))
}

fn binary_part(p: &mut Process, b: Term, s: Term, l: Term) -> BifResult {
    let (Some(bytes), Some(s), Some(l)) = (b.binary_bytes(), s.as_small(), l.as_small()) else {
        return Err(Exc::badarg());
    };
    let (start, end) = if l >= 0 { (s, s + l) } else { (s + l, s) };
    if !b.is_binary() || start < 0 || end as usize > bytes.len() {
        return Err(Exc::badarg());
    }
    let v = bytes[start as usize..end as usize].to_vec();
    Ok(p.heap.binary(&v))
}

/// A growable bit buffer.
struct Bits {
    bytes: Vec<u8>,
    len: u64,
}

impl Bits {
    fn push_bit(&mut self, b: u8) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if b != 0 {
            let i = (self.len / 8) as usize;
            self.bytes[i] |= 0x80 >> (self.len % 8);
        }
        self.len += 1;
    }
    /// Push the first `n` bits of `src` (MSB first).
    fn push(&mut self, src: &[u8], n: u64) {
        if self.len % 8 == 0 && n % 8 == 0 {
            self.bytes.extend_from_slice(&src[..(n / 8) as usize]);
            self.len += n;
            return;
        }
        for i in 0..n {
            self.push_bit((src[(i / 8) as usize] >> (7 - i % 8)) & 1);
        }
    }
}

/// `v mod 2^n` as `ceil(n/8)` bytes, MSB-aligned (big-endian bit order).
fn int_bits(v: &BigInt, n: u64, little: bool) -> Vec<u8> {
    let nbytes = n.div_ceil(8) as usize;
    let mut le = v.to_signed_bytes_le();
    let fill = if v.sign() == Sign::Minus { 0xFF } else { 0 };
    le.resize(nbytes.max(le.len()), fill);
    le.truncate(nbytes);
    if little && n % 8 == 0 {
        return le;
    }
    let mut be: Vec<u8> = le.into_iter().rev().collect();
    // Shift left so the n significant bits come first.
    let shift = (8 - n % 8) % 8;
    if shift != 0 {
        let mut carry = 0u8;
        for b in be.iter_mut().rev() {
            let nb = (*b << shift) | carry;
            carry = *b >> (8 - shift);
            *b = nb;
        }
    }
    be
}

fn seg_size(size: Option<Term>, unit: u8, default: u64) -> Result<u64, ()> {
    match size {
        None => Ok(default),
        Some(t) => match t.as_small() {
            Some(s) if s >= 0 => Ok(s as u64 * unit.max(1) as u64),
            _ => Err(()),
        },
    }
}

/// Build a bitstring from segments (`BsCreate`).
pub fn create(p: &mut Process, segs: &[Seg], vals: &[(Term, Option<Term>)]) -> BifResult {
    if let Some(r) = append(p, segs, vals) {
        return r;
    }
    let mut b = Bits { bytes: Vec::new(), len: 0 };
    push_segments(&mut b, segs, vals)?;
    p.charge(b.bytes.len() as u64 / 64);
    Ok(p.heap.bitstring(&b.bytes, b.len))
}

/// The least capacity of an appendable buffer, in bytes.
const MIN_BUFFER_BYTES: usize = 64;

/// `<<Bin/binary, Rest...>>` (or `/bits`) where `Bin` is byte-aligned: the
/// append of a loop that accumulates a binary, made amortised O(size of
/// Rest) as in BEAM. The result is a view (`KIND_BINVIEW`) of a buffer with
/// spare capacity (`KIND_WBUF`, twice the size needed). When `Bin` is itself
/// a view that ends where its buffer's committed bits end (no other binary
/// has been appended to it since) and the buffer has room, Rest is written in
/// place after it and the buffer's committed size grows; otherwise (any
/// other binary, a stale view, no room) a new buffer is made and `Bin` copied
/// into it. Bytes a binary already covers are never written again, so every
/// binary stays immutable. None: not such an append, take the general path
/// (which also raises the errors).
fn append(p: &mut Process, segs: &[Seg], vals: &[(Term, Option<Term>)]) -> Option<BifResult> {
    if segs.len() < 2 || segs[0].kind != SegKind::Binary || vals[0].1.is_some() {
        return None;
    }
    let base = vals[0].0;
    let bits = base.bit_size()?;
    if bits % 8 != 0 || bits % segs[0].unit.max(1) as u64 != 0 {
        return None;
    }
    let mut rest = Bits { bytes: Vec::new(), len: 0 };
    if let Err(e) = push_segments(&mut rest, &segs[1..], &vals[1..]) {
        return Some(Err(e));
    }
    let total = bits + rest.len;
    let need = total.div_ceil(8) as usize;
    let at = (bits / 8) as usize;
    p.charge(rest.bytes.len() as u64 / 64);
    if let Some((buf, committed, cap)) = base.binary_buffer() {
        if committed == bits && cap >= need {
            crate::heap::binary_buffer_append(buf, at, &rest.bytes, total);
            return Some(Ok(p.heap.binary_view(buf, total)));
        }
    }
    let old = base.binary_bytes()?;
    p.charge(at as u64 / 64);
    let buf = p.heap.binary_buffer((2 * need).max(MIN_BUFFER_BYTES), &[old, &rest.bytes], total);
    Some(Ok(p.heap.binary_view(buf, total)))
}

/// Append the segments to `b`.
fn push_segments(b: &mut Bits, segs: &[Seg], vals: &[(Term, Option<Term>)]) -> Result<(), Exc> {
    for (s, (v, size)) in segs.iter().zip(vals) {
        match s.kind {
            SegKind::Integer => {
                let n = seg_size(*size, s.unit, 8).map_err(|_| Exc::badarg())?;
                let i = v.to_bigint().ok_or_else(Exc::badarg)?;
                let bytes = int_bits(&i, n, s.flags.little);
                b.push(&bytes, n);
            }
            SegKind::Float => {
                let n = seg_size(*size, s.unit, 64).map_err(|_| Exc::badarg())?;
                let f = v.to_f64().ok_or_else(Exc::badarg)?;
                let bytes: Vec<u8> = match (n, s.flags.little) {
                    (64, false) => f.to_be_bytes().to_vec(),
                    (64, true) => f.to_le_bytes().to_vec(),
                    (32, false) => (f as f32).to_be_bytes().to_vec(),
                    (32, true) => (f as f32).to_le_bytes().to_vec(),
                    (16, false) => f64_to_f16_bits(f).to_be_bytes().to_vec(),
                    (16, true) => f64_to_f16_bits(f).to_le_bytes().to_vec(),
                    _ => return Err(Exc::badarg()),
                };
                b.push(&bytes, n);
            }
            SegKind::Binary => {
                let (Some(bytes), Some(bits)) = (v.binary_bytes(), v.bit_size()) else { return Err(Exc::badarg()) };
                let n = match size {
                    None => {
                        if bits % s.unit.max(1) as u64 != 0 {
                            return Err(Exc::badarg());
                        }
                        bits
                    }
                    Some(_) => seg_size(*size, s.unit, 0).map_err(|_| Exc::badarg())?,
                };
                if n > bits {
                    return Err(Exc::badarg());
                }
                b.push(bytes, n);
            }
            SegKind::Utf8 | SegKind::Utf16 | SegKind::Utf32 => {
                let c = v
                    .as_small()
                    .and_then(|c| u32::try_from(c).ok())
                    .and_then(char::from_u32)
                    .ok_or_else(Exc::badarg)?;
                let bytes: Vec<u8> = match s.kind {
                    SegKind::Utf8 => c.to_string().into_bytes(),
                    SegKind::Utf16 => {
                        let mut buf = [0u16; 2];
                        c.encode_utf16(&mut buf)
                            .iter()
                            .flat_map(|u| if s.flags.little { u.to_le_bytes() } else { u.to_be_bytes() })
                            .collect()
                    }
                    _ => {
                        if s.flags.little {
                            (c as u32).to_le_bytes().to_vec()
                        } else {
                            (c as u32).to_be_bytes().to_vec()
                        }
                    }
                };
                b.push(&bytes, bytes.len() as u64 * 8);
            }
        }
    }
    Ok(())
}

/// IEEE 754 half precision bits of `f`, rounded to nearest, ties to even
/// (too large a value gives infinity, as in OTP).
fn f64_to_f16_bits(f: f64) -> u16 {
    let b = f.to_bits();
    let sign = ((b >> 48) & 0x8000) as u16;
    let exp = ((b >> 52) & 0x7FF) as i32;
    let man = b & 0xF_FFFF_FFFF_FFFF;
    if exp == 0x7FF {
        return sign | 0x7C00 | if man != 0 { 0x200 } else { 0 };
    }
    let round = |v: u64, shift: u32| -> u64 {
        let r = v >> shift;
        let rem = v & ((1u64 << shift) - 1);
        let half = 1u64 << (shift - 1);
        if rem > half || (rem == half && r & 1 == 1) {
            r + 1
        } else {
            r
        }
    };
    let e = exp - 1023 + 15;
    if e >= 0x1F {
        return sign | 0x7C00;
    }
    if e <= 0 {
        // A subnormal half (units of 2^-24), or zero.
        if exp == 0 || e < -10 {
            return sign;
        }
        return sign | round(man | (1u64 << 52), (43 - e) as u32) as u16;
    }
    // A carry out of the mantissa moves to the next exponent (or infinity).
    sign | round(((e as u64) << 52) | man, 42) as u16
}

/// The value of IEEE 754 half precision bits.
fn f16_bits_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = ((h >> 10) & 0x1F) as i32;
    let m = (h & 0x3FF) as f64;
    match e {
        0 => sign * m * 2f64.powi(-24),
        0x1F if m == 0.0 => sign * f64::INFINITY,
        0x1F => f64::NAN,
        _ => sign * (1.0 + m / 1024.0) * 2f64.powi(e - 15),
    }
}

/// `n` bits of `src` from bit `pos`, MSB-aligned.
fn read_bits(src: &[u8], pos: u64, n: u64) -> Vec<u8> {
    if pos % 8 == 0 {
        let s = (pos / 8) as usize;
        let mut v = src[s..s + n.div_ceil(8) as usize].to_vec();
        if n % 8 != 0 {
            let l = v.len() - 1;
            v[l] &= 0xFF << (8 - n % 8);
        }
        return v;
    }
    let mut b = Bits { bytes: Vec::with_capacity(n.div_ceil(8) as usize), len: 0 };
    for i in pos..pos + n {
        b.push_bit((src[(i / 8) as usize] >> (7 - i % 8)) & 1);
    }
    b.bytes
}

/// Bits left in a match context.
pub fn remaining(ctx: Term) -> u64 {
    let (bin, pos) = match_ctx_parts(ctx);
    bin.bit_size().unwrap_or(0) - pos
}

/// Read one segment (`BsGet`); None if it does not match.
pub fn get(p: &mut Process, ctx: Term, kind: SegKind, size: Option<Term>, unit: u8, flags: SegFlags) -> Option<Term> {
    let (bin, pos) = match_ctx_parts(ctx);
    let total = bin.bit_size()?;
    let src = bin.binary_bytes()?;
    let left = total - pos;
    match kind {
        SegKind::Integer => {
            let n = seg_size(size, unit, 8).ok()?;
            if n > left {
                return None;
            }
            let bits = read_bits(src, pos, n);
            match_ctx_set_pos(ctx, pos + n);
            if n <= 56 && !flags.little {
                let mut v: u64 = 0;
                for i in 0..n {
                    v = (v << 1) | ((bits[(i / 8) as usize] >> (7 - i % 8)) & 1) as u64;
                }
                let r = if flags.signed && n > 0 && v >> (n - 1) & 1 == 1 { v as i64 - (1i64 << n) } else { v as i64 };
                return Some(Term::small(r));
            }
            // Right-align into big-endian bytes, then build the BigInt.
            let mut be = bits;
            let shift = (8 - n % 8) % 8;
            if shift != 0 {
                let mut carry = 0u8;
                for b in be.iter_mut() {
                    let nb = (*b >> shift) | carry;
                    carry = *b << (8 - shift);
                    *b = nb;
                }
            }
            if flags.little {
                be.reverse();
            }
            let mut v = BigInt::from_bytes_be(Sign::Plus, &be);
            if flags.signed && n > 0 && v.bit(n - 1) {
                v -= BigInt::from(1) << n as usize;
            }
            Some(p.heap.bigint(&v))
        }
        SegKind::Float => {
            let n = seg_size(size, unit, 64).ok()?;
            if n > left {
                return None;
            }
            let bits = read_bits(src, pos, n);
            let f = match (n, flags.little) {
                (64, false) => f64::from_be_bytes(bits[..8].try_into().ok()?),
                (64, true) => f64::from_le_bytes(bits[..8].try_into().ok()?),
                (32, false) => f32::from_be_bytes(bits[..4].try_into().ok()?) as f64,
                (32, true) => f32::from_le_bytes(bits[..4].try_into().ok()?) as f64,
                (16, false) => f16_bits_to_f64(u16::from_be_bytes(bits[..2].try_into().ok()?)),
                (16, true) => f16_bits_to_f64(u16::from_le_bytes(bits[..2].try_into().ok()?)),
                _ => return None,
            };
            if !f.is_finite() {
                return None;
            }
            match_ctx_set_pos(ctx, pos + n);
            Some(p.heap.float(f))
        }
        SegKind::Binary => {
            let n = match size {
                None => {
                    if left % unit.max(1) as u64 != 0 {
                        return None;
                    }
                    left
                }
                Some(_) => seg_size(size, unit, 0).ok()?,
            };
            if n > left {
                return None;
            }
            let bits = read_bits(src, pos, n);
            match_ctx_set_pos(ctx, pos + n);
            Some(p.heap.bitstring(&bits, n))
        }
        SegKind::Utf8 => {
            if pos % 8 != 0 {
                return None;
            }
            let s = (pos / 8) as usize;
            let avail = &src[s..(total / 8) as usize];
            let first = *avail.first()?;
            let len = match first {
                0..=0x7F => 1,
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => return None,
            };
            let c = std::str::from_utf8(avail.get(..len)?).ok()?.chars().next()?;
            match_ctx_set_pos(ctx, pos + 8 * len as u64);
            Some(Term::small(c as i64))
        }
        SegKind::Utf16 => {
            if left < 16 {
                return None;
            }
            let b = read_bits(src, pos, 16);
            let u = if flags.little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) };
            if (0xD800..0xDC00).contains(&u) {
                if left < 32 {
                    return None;
                }
                let b2 = read_bits(src, pos + 16, 16);
                let u2 =
                    if flags.little { u16::from_le_bytes([b2[0], b2[1]]) } else { u16::from_be_bytes([b2[0], b2[1]]) };
                let c = char::decode_utf16([u, u2]).next()?.ok()?;
                match_ctx_set_pos(ctx, pos + 32);
                return Some(Term::small(c as i64));
            }
            let c = char::from_u32(u as u32)?;
            match_ctx_set_pos(ctx, pos + 16);
            Some(Term::small(c as i64))
        }
        SegKind::Utf32 => {
            if left < 32 {
                return None;
            }
            let b = read_bits(src, pos, 32);
            let arr = [b[0], b[1], b[2], b[3]];
            let u = if flags.little { u32::from_le_bytes(arr) } else { u32::from_be_bytes(arr) };
            let c = char::from_u32(u)?;
            match_ctx_set_pos(ctx, pos + 32);
            Some(Term::small(c as i64))
        }
    }
}

/// Skip bits (`BsSkip`); false if they are not there.
pub fn skip(ctx: Term, size: Option<Term>, unit: u8) -> bool {
    let left = remaining(ctx);
    let n = match size {
        None => {
            if left % unit.max(1) as u64 != 0 {
                return false;
            }
            left
        }
        Some(_) => match seg_size(size, unit, 0) {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if n > left {
        return false;
    }
    let (_, pos) = match_ctx_parts(ctx);
    match_ctx_set_pos(ctx, pos + n);
    true
}
