//! BIFs: list operations that are native for speed (`++`, `--`,
//! `lists:reverse/2`, `lists:member/2`, `lists:keyfind/3`, ...).

use super::{bif, BifDef};
use crate::process::{BifResult, Exc, Process};
use crate::term::*;

pub const BIFS: &[BifDef] = &[
    bif("erlang", "++", 2, |p, a| append(p, a[0], a[1])),
    bif("erlang", "--", 2, |p, a| subtract(p, a[0], a[1])),
    bif("lists", "reverse", 2, |p, a| reverse(p, a[0], a[1])),
    bif("lists", "reverse", 1, |p, a| reverse1(p, a[0])),
    bif("lists", "member", 2, |p, a| {
        let mut n = 0u64;
        let mut it = a[1].iter_list();
        for e in it.by_ref() {
            n += 1;
            if eq_exact(e, a[0]) {
                p.charge(n / 16);
                return Ok(Term::TRUE);
            }
        }
        p.charge(n / 16);
        if it.tail().is_nil() {
            Ok(Term::FALSE)
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("lists", "keyfind", 3, |_, a| Ok(keyfind(a[0], a[1], a[2])?.unwrap_or(Term::FALSE))),
    bif("lists", "keymember", 3, |_, a| Ok(Term::bool(keyfind(a[0], a[1], a[2])?.is_some()))),
    bif("lists", "keysearch", 3, |p, a| match keyfind(a[0], a[1], a[2])? {
        Some(t) => Ok(p.heap.tuple(&[Term::atom(crate::atom::intern("value")), t])),
        None => Ok(Term::FALSE),
    }),
];

/// `A ++ B`
pub fn append(p: &mut Process, a: Term, b: Term) -> BifResult {
    if a.is_nil() {
        return Ok(b);
    }
    let v = a.list_to_vec().ok_or_else(Exc::badarg)?;
    p.charge(v.len() as u64 / 16);
    Ok(p.heap.list_with_tail(&v, b))
}

/// `A -- B`: remove the first occurrence of each element of B.
pub fn subtract(p: &mut Process, a: Term, b: Term) -> BifResult {
    let (Some(mut v), Some(w)) = (a.list_to_vec(), b.list_to_vec()) else { return Err(Exc::badarg()) };
    p.charge((v.len() * w.len()) as u64 / 64);
    for x in w {
        if let Some(i) = v.iter().position(|e| eq_exact(*e, x)) {
            v.remove(i);
        }
    }
    Ok(p.heap.list(&v))
}

/// `lists:reverse(L)`: Erlang code in OTP (`[]`, `[_]`, `[A, B]` and
/// `[A, B | L] -> reverse(L, [B, A])`), so an argument none of those clauses
/// match raises `function_clause`, and a longer improper list `badarg`.
pub fn reverse1(p: &mut Process, l: Term) -> BifResult {
    let clause = match l.cons_parts() {
        Some((_, t)) => t == Term::NIL || t.cons_parts().is_some(),
        None => l == Term::NIL,
    };
    if !clause {
        return Err(Exc::error(Term::atom(crate::atom::FUNCTION_CLAUSE)));
    }
    reverse(p, l, Term::NIL)
}

/// `lists:reverse(L, Tail)`
pub fn reverse(p: &mut Process, l: Term, tail: Term) -> BifResult {
    let mut acc = tail;
    let mut it = l.iter_list();
    let mut n = 0u64;
    for e in it.by_ref() {
        acc = p.heap.cons(e, acc);
        n += 1;
    }
    p.charge(n / 16);
    if it.tail().is_nil() {
        Ok(acc)
    } else {
        Err(Exc::badarg())
    }
}

fn keyfind(key: Term, n: Term, list: Term) -> Result<Option<Term>, Exc> {
    let n = match n.as_small() {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(Exc::badarg()),
    };
    let mut it = list.iter_list();
    for e in it.by_ref() {
        if let Some(t) = e.tuple_elements() {
            if t.len() >= n && eq(t[n - 1], key) {
                return Ok(Some(e));
            }
        }
    }
    if it.tail().is_nil() {
        Ok(None)
    } else {
        Err(Exc::badarg())
    }
}
