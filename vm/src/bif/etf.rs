//! BIFs: `term_to_binary/1,2`, `binary_to_term/1,2` and
//! `external_size/1`: Erlang's external term format (version 131), with
//! the encodings OTP 25 emits by default (`ATOM_EXT` for latin1 atoms,
//! UTF-8 atoms otherwise, `NEW_FLOAT_EXT`,
//! `STRING_EXT` for byte lists, `MAP_EXT`, `NEW_PID_EXT`,
//! `NEWER_REFERENCE_EXT`, `EXPORT_EXT`, `NEW_FUN_EXT`). Decoding also
//! accepts the older tags a peer may send (latin1 atoms, `FLOAT_EXT`,
//! `PID_EXT`, ...). Compressed terms are not supported (badarg).
//!
//! Bytes after the encoded term are ignored, as in OTP.
//!
//! A local fun decodes only while its module's code (current or old) has
//! the lambda with that index and uniq; otherwise the binary is badarg.

use super::{bif, BifDef};
use crate::atom::{self, Atom};
use crate::code::Mfa;
use crate::process::{BifResult, Exc, Process};
use crate::term::*;
use num_bigint::{BigInt, BigUint, Sign};

pub const BIFS: &[BifDef] = &[
    bif("erlang", "term_to_binary", 1, |p, a| to_binary(p, a[0])),
    bif("erlang", "term_to_binary", 2, |p, a| {
        // OTP's options; `compressed` is accepted and ignored (the result
        // is the uncompressed encoding, which binary_to_term reads alike).
        let opts = a[1].list_to_vec().ok_or_else(Exc::badarg)?;
        for o in opts {
            let ok = match o.atom_name() {
                Some(n) => matches!(n, "compressed" | "deterministic" | "local"),
                None => match o.tuple_elements() {
                    Some([k, v]) => match (k.atom_name(), v.as_small()) {
                        (Some("compressed"), Some(0..=9)) | (Some("minor_version"), Some(0..=2)) => true,
                        _ => false,
                    },
                    _ => false,
                },
            };
            if !ok {
                return Err(Exc::badarg());
            }
        }
        to_binary(p, a[0])
    }),
    bif("erlang", "external_size", 1, |_, a| {
        let mut out = vec![131];
        encode(a[0], &mut out);
        Ok(Term::small(out.len() as i64))
    }),
    bif("erlang", "binary_to_term", 1, |p, a| from_binary(p, a[0])),
    bif("erlang", "binary_to_term", 2, |p, a| {
        if a[1].list_length().is_none() {
            return Err(Exc::badarg());
        }
        from_binary(p, a[0])
    }),
];

const NODE: &str = "nonode@nohost";

fn to_binary(p: &mut Process, t: Term) -> BifResult {
    let mut out = vec![131];
    encode(t, &mut out);
    p.charge(out.len() as u64 / 64);
    Ok(p.heap.binary(&out))
}

fn from_binary(p: &mut Process, b: Term) -> BifResult {
    if !b.is_binary() {
        return Err(Exc::badarg());
    }
    let bytes = b.binary_bytes().unwrap();
    p.charge(bytes.len() as u64 / 64);
    let mut d = Decoder { p, b: bytes, pos: 0 };
    if d.u8()? != 131 {
        return Err(Exc::badarg());
    }
    // Bytes after the term are ignored, as OTP does.
    d.term()
}

/// OTP 25 writes `ATOM_EXT` (latin1) when every character fits in a
/// byte, else `SMALL_ATOM_UTF8_EXT` / `ATOM_UTF8_EXT`.
fn put_atom(name: &str, out: &mut Vec<u8>) {
    if name.chars().all(|c| (c as u32) < 256) {
        out.push(100);
        out.extend_from_slice(&(name.chars().count() as u16).to_be_bytes());
        out.extend(name.chars().map(|c| c as u8));
        return;
    }
    let b = name.as_bytes();
    if b.len() < 256 {
        out.push(119);
        out.push(b.len() as u8);
    } else {
        out.push(118);
        out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(b);
}

fn put_int(i: &BigInt, out: &mut Vec<u8>) {
    use num_traits::ToPrimitive;
    if let Some(v) = i.to_i64() {
        if (0..256).contains(&v) {
            out.push(97);
            out.push(v as u8);
            return;
        }
        if let Ok(v) = i32::try_from(v) {
            out.push(98);
            out.extend_from_slice(&v.to_be_bytes());
            return;
        }
    }
    let digits = i.magnitude().to_bytes_le();
    if digits.len() < 256 {
        out.push(110);
        out.push(digits.len() as u8);
    } else {
        out.push(111);
        out.extend_from_slice(&(digits.len() as u32).to_be_bytes());
    }
    out.push(u8::from(i.sign() == Sign::Minus));
    out.extend_from_slice(&digits);
}

/// Append the encoding of `t` (without the version byte).
pub fn encode(t: Term, out: &mut Vec<u8>) {
    // An explicit stack: deep lists and tuples do not grow the Rust stack.
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t.kind() {
            Kind::Small | Kind::BigInt => put_int(&t.to_bigint().unwrap(), out),
            Kind::Float => {
                out.push(70);
                out.extend_from_slice(&t.as_float().unwrap().to_bits().to_be_bytes());
            }
            Kind::Atom => put_atom(t.atom_name().unwrap(), out),
            Kind::Nil => out.push(106),
            Kind::Cons => {
                // A proper list of bytes shorter than 65536: STRING_EXT.
                let mut bytes = Vec::new();
                let mut cur = t;
                let mut is_string = true;
                while let Some((h, tl)) = cur.cons_parts() {
                    match h.as_small() {
                        Some(c) if (0..256).contains(&c) && bytes.len() < 65535 => bytes.push(c as u8),
                        _ => {
                            is_string = false;
                            break;
                        }
                    }
                    cur = tl;
                }
                if is_string && cur.is_nil() {
                    out.push(107);
                    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
                    out.extend_from_slice(&bytes);
                    continue;
                }
                let mut elems = Vec::new();
                let mut cur = t;
                while let Some((h, tl)) = cur.cons_parts() {
                    elems.push(h);
                    cur = tl;
                }
                out.push(108);
                out.extend_from_slice(&(elems.len() as u32).to_be_bytes());
                stack.push(cur);
                stack.extend(elems.into_iter().rev());
            }
            Kind::Tuple => {
                let el = t.tuple_unchecked();
                if el.len() < 256 {
                    out.push(104);
                    out.push(el.len() as u8);
                } else {
                    out.push(105);
                    out.extend_from_slice(&(el.len() as u32).to_be_bytes());
                }
                stack.extend(el.iter().rev());
            }
            Kind::Map => {
                out.push(116);
                out.extend_from_slice(&(t.map_size().unwrap() as u32).to_be_bytes());
                let n = stack.len();
                for (k, v) in t.map_entries().unwrap() {
                    stack.push(k);
                    stack.push(v);
                }
                stack[n..].reverse();
            }
            Kind::Binary => {
                let bits = t.bit_size().unwrap();
                let bytes = t.binary_bytes().unwrap();
                let n = bits.div_ceil(8) as usize;
                if bits % 8 == 0 {
                    out.push(109);
                    out.extend_from_slice(&(n as u32).to_be_bytes());
                } else {
                    out.push(77);
                    out.extend_from_slice(&(n as u32).to_be_bytes());
                    out.push((bits % 8) as u8);
                }
                let start = out.len();
                out.extend_from_slice(&bytes[..n]);
                if bits % 8 != 0 {
                    // Unused low bits of the last byte are zero.
                    let keep = (bits % 8) as u32;
                    out[start + n - 1] &= !(0xffu8 >> keep);
                }
            }
            Kind::Pid => {
                out.push(88);
                put_atom(NODE, out);
                out.extend_from_slice(&(t.pid_number().unwrap() as u32).to_be_bytes());
                out.extend_from_slice(&((t.pid_number().unwrap() >> 32) as u32).to_be_bytes());
                out.extend_from_slice(&0u32.to_be_bytes());
            }
            Kind::Ref => {
                let n = t.ref_number().unwrap();
                out.push(90);
                out.extend_from_slice(&3u16.to_be_bytes());
                put_atom(NODE, out);
                out.extend_from_slice(&0u32.to_be_bytes());
                out.extend_from_slice(&(n as u32).to_be_bytes());
                out.extend_from_slice(&((n >> 32) as u32).to_be_bytes());
                out.extend_from_slice(&0u32.to_be_bytes());
            }
            Kind::Fun | Kind::ExportFun => match t.fun_view().unwrap() {
                FunView::Export { module, function, arity } => {
                    out.push(113);
                    put_atom(module.name(), out);
                    put_atom(function.name(), out);
                    out.push(97);
                    out.push(arity);
                }
                FunView::Local { module, index, uniq, arity, free, .. } => {
                    // NEW_FUN_EXT: Size, Arity, Uniq(16 bytes), Index,
                    // NumFree, Module, OldIndex, OldUniq, Pid, Free vars.
                    let mut body = Vec::new();
                    body.push(arity);
                    let mut md5 = [0u8; 16];
                    md5[12..].copy_from_slice(&uniq.to_be_bytes());
                    body.extend_from_slice(&md5);
                    body.extend_from_slice(&index.to_be_bytes());
                    body.extend_from_slice(&(free.len() as u32).to_be_bytes());
                    put_atom(module.name(), &mut body);
                    put_int(&BigInt::from(index), &mut body);
                    put_int(&BigInt::from(uniq), &mut body);
                    body.push(88);
                    put_atom(NODE, &mut body);
                    body.extend_from_slice(&[0; 12]);
                    for f in free {
                        encode(*f, &mut body);
                    }
                    out.push(112);
                    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
                    out.extend_from_slice(&body);
                }
            },
            Kind::Internal => out.push(106),
        }
    }
}

struct Decoder<'a, 'p> {
    p: &'p mut Process,
    b: &'a [u8],
    pos: usize,
}

impl Decoder<'_, '_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Exc> {
        if self.b.len() - self.pos < n {
            return Err(Exc::badarg());
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, Exc> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, Exc> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]) as usize)
    }
    fn u32(&mut self) -> Result<u32, Exc> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    /// A length that must still fit in what is left of the input (each
    /// element takes at least `min` bytes): no huge allocation on a lie.
    fn len32(&mut self, min: usize) -> Result<usize, Exc> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.b.len() - self.pos {
            return Err(Exc::badarg());
        }
        Ok(n)
    }

    fn atom_text(&mut self, tag: u8) -> Result<Atom, Exc> {
        let (n, utf8) = match tag {
            100 => (self.u16()?, false),
            115 => (self.u8()? as usize, false),
            118 => (self.u16()?, true),
            119 => (self.u8()? as usize, true),
            _ => return Err(Exc::badarg()),
        };
        let bytes = self.take(n)?;
        let s: String = if utf8 {
            std::str::from_utf8(bytes).map_err(|_| Exc::badarg())?.to_string()
        } else {
            bytes.iter().map(|b| *b as char).collect()
        };
        if s.chars().count() > 255 {
            return Err(Exc::badarg());
        }
        Ok(atom::intern(&s))
    }
    fn atom(&mut self) -> Result<Atom, Exc> {
        let tag = self.u8()?;
        self.atom_text(tag)
    }
    fn small_int(&mut self) -> Result<i64, Exc> {
        match self.u8()? {
            97 => Ok(self.u8()? as i64),
            98 => Ok(self.u32()? as i32 as i64),
            _ => Err(Exc::badarg()),
        }
    }
    /// A node atom then pid fields (NEW_PID_EXT / PID_EXT).
    fn pid(&mut self, tag: u8) -> Result<Term, Exc> {
        self.atom()?;
        let id = self.u32()? as u64;
        let serial = self.u32()? as u64;
        if tag == 88 {
            self.u32()?;
        } else {
            self.u8()?;
        }
        Ok(Term::pid(id | (serial & 0x0fff_ffff) << 32))
    }

    fn term(&mut self) -> BifResult {
        // Compound terms are built bottom-up from an explicit stack of
        // pending containers, so deep input cannot overflow the Rust stack.
        let mut stack: Vec<Pending> = Vec::new();
        loop {
            let Some(mut t) = self.leaf_or_open(&mut stack)? else { continue };
            // Feed the finished term to the containers waiting for it.
            loop {
                let Some(top) = stack.last_mut() else { return Ok(t) };
                let (want, v) = match top {
                    Pending::Tuple(n, v) | Pending::Map(n, v) => (*n, v),
                    // a list also waits for its tail
                    Pending::List(n, v) => (*n + 1, v),
                };
                v.push(t);
                if v.len() < want {
                    break;
                }
                t = match stack.pop().unwrap() {
                    Pending::Tuple(_, v) => self.p.heap.tuple(&v),
                    Pending::List(_, mut v) => {
                        let tail = v.pop().unwrap();
                        self.p.heap.list_with_tail(&v, tail)
                    }
                    Pending::Map(_, v) => {
                        let kv: Vec<(Term, Term)> = v.chunks_exact(2).map(|c| (c[0], c[1])).collect();
                        self.p.heap.map(kv)
                    }
                };
            }
        }
    }

    /// Read one tag: a complete term (`Some`), or push a container that
    /// now waits for its elements (`None`).
    fn leaf_or_open(&mut self, stack: &mut Vec<Pending>) -> Result<Option<Term>, Exc> {
        let tag = self.u8()?;
        let t = match tag {
            97 => Term::small(self.u8()? as i64),
            98 => Term::small(self.u32()? as i32 as i64),
            110 | 111 => {
                let n = if tag == 110 { self.u8()? as usize } else { self.len32(1)? };
                let neg = self.u8()? != 0;
                let mag = BigUint::from_bytes_le(self.take(n)?);
                let b = BigInt::from_biguint(if neg { Sign::Minus } else { Sign::Plus }, mag);
                self.p.heap.bigint(&b)
            }
            70 => {
                let s = self.take(8)?;
                let f = f64::from_bits(u64::from_be_bytes(s.try_into().unwrap()));
                if !f.is_finite() {
                    return Err(Exc::badarg());
                }
                self.p.heap.float(f)
            }
            99 => {
                let s = self.take(31)?;
                let text: String = s.iter().take_while(|b| **b != 0).map(|b| *b as char).collect();
                let f: f64 = text.trim().parse().map_err(|_| Exc::badarg())?;
                // "1.0e999", "inf" and "NaN" parse, but no term is such a float.
                if !f.is_finite() {
                    return Err(Exc::badarg());
                }
                self.p.heap.float(f)
            }
            100 | 115 | 118 | 119 => Term::atom(self.atom_text(tag)?),
            106 => Term::NIL,
            107 => {
                let n = self.u16()?;
                let bytes = self.take(n)?.to_vec();
                self.p.heap.bytes_list(&bytes)
            }
            108 => {
                let n = self.len32(1)?;
                stack.push(Pending::List(n, Vec::with_capacity(n + 1)));
                return Ok(None);
            }
            104 | 105 => {
                let n = if tag == 104 { self.u8()? as usize } else { self.len32(1)? };
                if n == 0 {
                    return Ok(Some(self.p.heap.tuple(&[])));
                }
                stack.push(Pending::Tuple(n, Vec::with_capacity(n)));
                return Ok(None);
            }
            116 => {
                let n = self.len32(2)?;
                if n == 0 {
                    return Ok(Some(self.p.heap.map(Vec::new())));
                }
                stack.push(Pending::Map(2 * n, Vec::with_capacity(2 * n)));
                return Ok(None);
            }
            109 => {
                let n = self.len32(1)?;
                let bytes = self.take(n)?.to_vec();
                self.p.heap.binary(&bytes)
            }
            77 => {
                let n = self.len32(1)?;
                let bits = self.u8()? as u64;
                if n == 0 || !(1..=8).contains(&bits) {
                    return Err(Exc::badarg());
                }
                let bytes = self.take(n)?.to_vec();
                self.p.heap.bitstring(&bytes, (n as u64 - 1) * 8 + bits)
            }
            88 | 103 => self.pid(tag)?,
            90 | 114 => {
                let n = self.u16()?;
                self.atom()?;
                if tag == 90 {
                    self.u32()?;
                } else {
                    self.u8()?;
                }
                if n == 0 || n > 5 {
                    return Err(Exc::badarg());
                }
                let lo = self.u32()? as u64;
                let hi = if n > 1 { self.u32()? as u64 } else { 0 };
                self.take(4 * n.saturating_sub(2))?;
                self.p.heap.reference(lo | hi << 32)
            }
            113 => {
                let m = self.atom()?;
                let f = self.atom()?;
                let a = self.small_int()?;
                if !(0..=255).contains(&a) {
                    return Err(Exc::badarg());
                }
                let e = self.p.vm.code.export(Mfa(m, f, a as u8));
                self.p.heap.export_fun(e)
            }
            112 => self.local_fun()?,
            _ => return Err(Exc::badarg()),
        };
        Ok(Some(t))
    }

    fn local_fun(&mut self) -> BifResult {
        let size = self.u32()? as usize;
        let start = self.pos - 5;
        let arity = self.u8()?;
        let md5 = self.take(16)?;
        let uniq = u32::from_be_bytes(md5[12..16].try_into().unwrap());
        let index = self.u32()?;
        let nfree = self.u32()? as usize;
        let module = self.atom()?;
        self.small_int()?;
        self.small_int()?;
        let ptag = self.u8()?;
        if ptag != 88 && ptag != 103 {
            return Err(Exc::badarg());
        }
        self.pid(ptag)?;
        let slots = self.p.vm.code.slots(module);
        let entry = [slots.current, slots.old]
            .into_iter()
            .flatten()
            .flat_map(|inst| inst.lambdas.iter())
            .find(|e| e.index == index && e.uniq == uniq && e.arity == arity && e.num_free as usize == nfree)
            .ok_or_else(Exc::badarg)?;
        let mut free = Vec::with_capacity(nfree);
        for _ in 0..nfree {
            // free variables are whole terms of their own
            let mut sub = Decoder { p: &mut *self.p, b: self.b, pos: self.pos };
            free.push(sub.term()?);
            self.pos = sub.pos;
        }
        if self.pos - start != size + 1 {
            return Err(Exc::badarg());
        }
        Ok(self.p.heap.fun(entry, &free))
    }
}

enum Pending {
    Tuple(usize, Vec<Term>),
    /// Elements still to read (then the tail), elements read.
    List(usize, Vec<Term>),
    Map(usize, Vec<Term>),
}
