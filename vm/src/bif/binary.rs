//! Bit syntax: building bitstrings (`BsCreate`) and matching them with a
//! match context (`BsGet`, `BsSkip`, ...), plus the `binary`-area BIFs.
//! Binaries live inline on the heap (no reference-counted off-heap
//! binaries yet), and a matched sub-binary is a copy.

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
        let mut out = Vec::new();
        if a[0].is_list() && crate::bif::erlang::iolist_bytes(a[0], &mut out) {
            Ok(p.heap.binary(&out))
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("erlang", "bitstring_to_list", 1, |p, a| match a[0].binary_bytes() {
        Some(b) if a[0].is_binary() => Ok(p.heap.bytes_list(b)),
        _ => Err(Exc::badarg()),
    }),
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

fn binary_part(p: &mut Process, b: Term, s: Term, l: Term) -> BifResult {
    let (Some(bytes), Some(s), Some(l)) = (b.binary_bytes(), s.as_small(), l.as_small()) else { return Err(Exc::badarg()) };
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
    let mut b = Bits { bytes: Vec::new(), len: 0 };
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
                let c = v.as_small().and_then(|c| u32::try_from(c).ok()).and_then(char::from_u32).ok_or_else(Exc::badarg)?;
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
    p.reductions += b.bytes.len() as u64 / 64;
    Ok(p.heap.bitstring(&b.bytes, b.len))
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
                let u2 = if flags.little { u16::from_le_bytes([b2[0], b2[1]]) } else { u16::from_be_bytes([b2[0], b2[1]]) };
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
