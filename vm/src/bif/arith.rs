//! BIFs: arithmetic (integers of any size, floats), bit operations,
//! comparisons and boolean operators as functions.

use super::{bif, BifDef};
use crate::process::{BifResult, Exc, Process};
use crate::term::*;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

pub const BIFS: &[BifDef] = &[
    bif("erlang", "+", 2, |p, a| add(p, a[0], a[1])),
    bif("erlang", "-", 2, |p, a| sub(p, a[0], a[1])),
    bif("erlang", "*", 2, |p, a| mul(p, a[0], a[1])),
    bif("erlang", "/", 2, |p, a| fdiv(p, a[0], a[1])),
    bif("erlang", "div", 2, |p, a| intdiv(p, a[0], a[1])),
    bif("erlang", "rem", 2, |p, a| rem(p, a[0], a[1])),
    bif("erlang", "band", 2, |p, a| bitop(p, a[0], a[1], |x, y| x & y)),
    bif("erlang", "bor", 2, |p, a| bitop(p, a[0], a[1], |x, y| x | y)),
    bif("erlang", "bxor", 2, |p, a| bitop(p, a[0], a[1], |x, y| x ^ y)),
    bif("erlang", "bsl", 2, |p, a| shift(p, a[0], a[1], false)),
    bif("erlang", "bsr", 2, |p, a| shift(p, a[0], a[1], true)),
    bif("erlang", "bnot", 1, |p, a| match a[0].to_bigint() {
        Some(i) => Ok(p.heap.bigint(&!i)),
        None => Err(Exc::badarith()),
    }),
    bif("erlang", "-", 1, |p, a| neg(p, a[0])),
    bif("erlang", "+", 1, |_, a| if a[0].is_number() { Ok(a[0]) } else { Err(Exc::badarith()) }),
    bif("erlang", "abs", 1, |p, a| abs(p, a[0])),
    bif("erlang", "float", 1, |p, a| match a[0].to_f64() {
        Some(f) => Ok(p.heap.float(f)),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "trunc", 1, |p, a| to_int(p, a[0], f64::trunc)),
    bif("erlang", "round", 1, |p, a| to_int(p, a[0], f64::round)),
    bif("erlang", "floor", 1, |p, a| to_int(p, a[0], f64::floor)),
    bif("erlang", "ceil", 1, |p, a| to_int(p, a[0], f64::ceil)),
    bif("erlang", "min", 2, |_, a| Ok(if cmp_terms(a[1], a[0]) == Ordering::Less { a[1] } else { a[0] })),
    bif("erlang", "max", 2, |_, a| Ok(if cmp_terms(a[1], a[0]) == Ordering::Greater { a[1] } else { a[0] })),
    bif("erlang", "==", 2, |_, a| Ok(Term::bool(eq(a[0], a[1])))),
    bif("erlang", "/=", 2, |_, a| Ok(Term::bool(!eq(a[0], a[1])))),
    bif("erlang", "=:=", 2, |_, a| Ok(Term::bool(eq_exact(a[0], a[1])))),
    bif("erlang", "=/=", 2, |_, a| Ok(Term::bool(!eq_exact(a[0], a[1])))),
    bif("erlang", "<", 2, |_, a| Ok(Term::bool(cmp_terms(a[0], a[1]) == Ordering::Less))),
    bif("erlang", ">", 2, |_, a| Ok(Term::bool(cmp_terms(a[0], a[1]) == Ordering::Greater))),
    bif("erlang", "=<", 2, |_, a| Ok(Term::bool(cmp_terms(a[0], a[1]) != Ordering::Greater))),
    bif("erlang", ">=", 2, |_, a| Ok(Term::bool(cmp_terms(a[0], a[1]) != Ordering::Less))),
    bif("erlang", "not", 1, |_, a| match a[0] {
        Term::TRUE => Ok(Term::FALSE),
        Term::FALSE => Ok(Term::TRUE),
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "and", 2, |_, a| bools(a, |x, y| x && y)),
    bif("erlang", "or", 2, |_, a| bools(a, |x, y| x || y)),
    bif("erlang", "xor", 2, |_, a| bools(a, |x, y| x ^ y)),
];

fn bools(a: &[Term], f: fn(bool, bool) -> bool) -> BifResult {
    if a[0].is_bool() && a[1].is_bool() {
        Ok(Term::bool(f(a[0] == Term::TRUE, a[1] == Term::TRUE)))
    } else {
        Err(Exc::badarg())
    }
}

fn float_result(p: &mut Process, f: f64) -> BifResult {
    if f.is_finite() {
        Ok(p.heap.float(f))
    } else {
        Err(Exc::badarith())
    }
}

fn arith(p: &mut Process, a: Term, b: Term, ff: fn(f64, f64) -> f64, fi: fn(&BigInt, &BigInt) -> BigInt) -> BifResult {
    if !a.is_number() || !b.is_number() {
        return Err(Exc::badarith());
    }
    if a.is_float() || b.is_float() {
        // An integer too large for a float is badarith too.
        let (Some(x), Some(y)) = (a.to_f64(), b.to_f64()) else { return Err(Exc::badarith()) };
        return float_result(p, ff(x, y));
    }
    let (x, y) = (a.to_bigint().unwrap(), b.to_bigint().unwrap());
    Ok(p.heap.bigint(&fi(&x, &y)))
}

pub fn add(p: &mut Process, a: Term, b: Term) -> BifResult {
    if let (Some(x), Some(y)) = (a.as_small(), b.as_small()) {
        return Ok(p.heap.int(x + y));
    }
    arith(p, a, b, |x, y| x + y, |x, y| x + y)
}

pub fn sub(p: &mut Process, a: Term, b: Term) -> BifResult {
    if let (Some(x), Some(y)) = (a.as_small(), b.as_small()) {
        return Ok(p.heap.int(x - y));
    }
    arith(p, a, b, |x, y| x - y, |x, y| x - y)
}

pub fn mul(p: &mut Process, a: Term, b: Term) -> BifResult {
    if let (Some(x), Some(y)) = (a.as_small(), b.as_small()) {
        if let Some(r) = x.checked_mul(y) {
            return Ok(p.heap.int(r));
        }
    }
    arith(p, a, b, |x, y| x * y, |x, y| x * y)
}

pub fn fdiv(p: &mut Process, a: Term, b: Term) -> BifResult {
    match (a.to_f64(), b.to_f64()) {
        (Some(x), Some(y)) if y != 0.0 => float_result(p, x / y),
        _ => Err(Exc::badarith()),
    }
}

pub fn intdiv(p: &mut Process, a: Term, b: Term) -> BifResult {
    if let (Some(x), Some(y)) = (a.as_small(), b.as_small()) {
        if y == 0 {
            return Err(Exc::badarith());
        }
        return Ok(p.heap.int(x / y));
    }
    match (a.to_bigint(), b.to_bigint()) {
        (Some(x), Some(y)) if !y.is_zero() => Ok(p.heap.bigint(&(x / y))),
        _ => Err(Exc::badarith()),
    }
}

pub fn rem(p: &mut Process, a: Term, b: Term) -> BifResult {
    if let (Some(x), Some(y)) = (a.as_small(), b.as_small()) {
        if y == 0 {
            return Err(Exc::badarith());
        }
        return Ok(p.heap.int(x % y));
    }
    match (a.to_bigint(), b.to_bigint()) {
        (Some(x), Some(y)) if !y.is_zero() => Ok(p.heap.bigint(&(x % y))),
        _ => Err(Exc::badarith()),
    }
}

fn bitop(p: &mut Process, a: Term, b: Term, f: fn(&BigInt, &BigInt) -> BigInt) -> BifResult {
    if let (Some(x), Some(y)) = (a.as_small(), b.as_small()) {
        return Ok(p.heap.bigint(&f(&BigInt::from(x), &BigInt::from(y))));
    }
    match (a.to_bigint(), b.to_bigint()) {
        (Some(x), Some(y)) => Ok(p.heap.bigint(&f(&x, &y))),
        _ => Err(Exc::badarith()),
    }
}

/// The most bits an integer's magnitude may have: OTP's largest bignum is
/// 2^19 - 1 words (`system_limit` beyond).
const MAX_INT_BITS: u64 = ((1 << 19) - 1) * 64;

fn shift(p: &mut Process, a: Term, b: Term, right: bool) -> BifResult {
    let (Some(x), Some(n)) = (a.to_bigint(), b.to_bigint()) else {
        return Err(Exc::badarith());
    };
    if x.is_zero() {
        return Ok(Term::small(0));
    }
    let n = if right { -n } else { n };
    if n.is_negative() {
        // Arithmetic shift right (floor), as Erlang does for negatives;
        // shifting out every bit leaves 0 or -1.
        let m = (-n).to_u64().filter(|&m| m <= x.bits()).unwrap_or(x.bits() + 1);
        return Ok(p.heap.bigint(&x.div_floor(&(BigInt::from(1) << m as usize))));
    }
    let n = match n.to_u64() {
        Some(n) if n <= MAX_INT_BITS && x.bits() + n <= MAX_INT_BITS => n,
        _ => return Err(Exc::error(Term::atom(crate::atom::SYSTEM_LIMIT))),
    };
    if let Some(s) = x.to_i64() {
        if n < 64 && s.unsigned_abs().leading_zeros() as u64 > n + 4 {
            return Ok(p.heap.int(s << n));
        }
    }
    Ok(p.heap.bigint(&(x << n as usize)))
}

pub fn neg(p: &mut Process, a: Term) -> BifResult {
    if let Some(x) = a.as_small() {
        return Ok(p.heap.int(-x));
    }
    if let Some(f) = a.as_float() {
        // True negation, as BEAM's '-'/1 (-(0.0) is -0.0).
        return Ok(p.heap.float(-f));
    }
    match a.to_bigint() {
        Some(b) => Ok(p.heap.bigint(&-b)),
        None => Err(Exc::badarith()),
    }
}

fn abs(p: &mut Process, a: Term) -> BifResult {
    if let Some(x) = a.as_small() {
        return Ok(p.heap.int(x.abs()));
    }
    if let Some(f) = a.as_float() {
        // As OTP 25: only a float below zero is negated (abs(-0.0) is -0.0).
        return Ok(p.heap.float(if f < 0.0 { -f } else { f }));
    }
    match a.to_bigint() {
        Some(b) => Ok(p.heap.bigint(&b.abs())),
        None => Err(Exc::badarg()),
    }
}

fn to_int(p: &mut Process, a: Term, f: fn(f64) -> f64) -> BifResult {
    if a.is_integer() {
        return Ok(a);
    }
    match a.as_float() {
        Some(x) => {
            let r = f(x);
            if r.abs() < 9.0e18 {
                Ok(p.heap.int(r as i64))
            } else {
                Ok(p.heap.bigint(&float_to_bigint(r)))
            }
        }
        None => Err(Exc::badarg()),
    }
}
