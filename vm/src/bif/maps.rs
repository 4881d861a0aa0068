//! BIFs: maps (`maps:get/put/find/...`, `is_map_key`) and the map update
//! used by the `PutMapAssoc`/`PutMapExact` instructions.

use super::{bif, BifDef};
use crate::atom;
use crate::process::{BifResult, Exc, Process};
use crate::term::*;
use std::cmp::Ordering;

pub const BIFS: &[BifDef] = &[
    bif("maps", "get", 2, |p, a| {
        let m = need_map(p, a[1])?;
        m.map_get(a[0]).ok_or_else(|| badkey(p, a[0]))
    }),
    bif("maps", "get", 3, |p, a| {
        let m = need_map(p, a[1])?;
        Ok(m.map_get(a[0]).unwrap_or(a[2]))
    }),
    bif("maps", "find", 2, |p, a| {
        let m = need_map(p, a[1])?;
        Ok(match m.map_get(a[0]) {
            Some(v) => p.heap.tuple(&[Term::atom(atom::OK), v]),
            None => Term::atom(atom::intern("error")),
        })
    }),
    bif("maps", "is_key", 2, |p, a| {
        let m = need_map(p, a[1])?;
        Ok(Term::bool(m.map_get(a[0]).is_some()))
    }),
    bif("erlang", "is_map_key", 2, |p, a| {
        let m = need_map(p, a[1])?;
        Ok(Term::bool(m.map_get(a[0]).is_some()))
    }),
    bif("erlang", "map_get", 2, |p, a| {
        let m = need_map(p, a[1])?;
        m.map_get(a[0]).ok_or_else(|| badkey(p, a[0]))
    }),
    bif("maps", "put", 3, |p, a| {
        need_map(p, a[2])?;
        update(p, a[2], &[(a[0], a[1])], false)
    }),
    bif("maps", "update", 3, |p, a| {
        need_map(p, a[2])?;
        update(p, a[2], &[(a[0], a[1])], true)
    }),
    bif("maps", "remove", 2, |p, a| {
        let m = need_map(p, a[1])?;
        Ok(remove(p, m, a[0]).unwrap_or(m))
    }),
    bif("maps", "take", 2, |p, a| {
        let m = need_map(p, a[1])?;
        let Some(v) = m.map_get(a[0]) else { return Ok(Term::atom(atom::intern("error"))) };
        let m2 = remove(p, m, a[0]).unwrap_or(m);
        Ok(p.heap.tuple(&[v, m2]))
    }),
    bif("maps", "new", 0, |p, _| Ok(p.heap.map_sorted(&[]))),
    bif("maps", "size", 1, |p, a| Ok(Term::small(need_map(p, a[0])?.map_size().unwrap() as i64))),
    bif("maps", "keys", 1, |p, a| {
        let m = need_map(p, a[0])?;
        let v: Vec<Term> = m.map_entries().unwrap().map(|e| e.0).collect();
        Ok(p.heap.list(&v))
    }),
    bif("maps", "values", 1, |p, a| {
        let m = need_map(p, a[0])?;
        let v: Vec<Term> = m.map_entries().unwrap().map(|e| e.1).collect();
        Ok(p.heap.list(&v))
    }),
    bif("maps", "to_list", 1, |p, a| {
        let m = need_map(p, a[0])?;
        let v: Vec<Term> =
            m.map_entries().unwrap().collect::<Vec<_>>().into_iter().map(|(k, v)| p.heap.tuple(&[k, v])).collect();
        Ok(p.heap.list(&v))
    }),
    bif("maps", "from_list", 1, |p, a| {
        let l = a[0].list_to_vec().ok_or_else(Exc::badarg)?;
        let mut kv = Vec::with_capacity(l.len());
        for e in l {
            match e.tuple_elements() {
                Some([k, v]) => kv.push((*k, *v)),
                _ => return Err(Exc::badarg()),
            }
        }
        Ok(p.heap.map(kv))
    }),
    bif("maps", "merge", 2, |p, a| {
        need_map(p, a[0])?;
        let m2 = need_map(p, a[1])?;
        let kv: Vec<(Term, Term)> = m2.map_entries().unwrap().collect();
        update(p, a[0], &kv, false)
    }),
];

fn need_map(p: &mut Process, m: Term) -> Result<Term, Exc> {
    if m.is_map() {
        Ok(m)
    } else {
        Err(Exc::error(p.heap.tuple(&[Term::atom(atom::BADMAP), m])))
    }
}

fn badkey(p: &mut Process, k: Term) -> Exc {
    Exc::error(p.heap.tuple(&[Term::atom(atom::BADKEY), k]))
}

/// `m` without `key` (None if the key is absent).
fn remove(p: &mut Process, m: Term, key: Term) -> Option<Term> {
    if let Some(flat) = m.map_flat() {
        m.map_get(key)?;
        let v: Vec<(Term, Term)> =
            flat.chunks_exact(2).map(|c| (c[0], c[1])).filter(|(k, _)| !eq_exact(*k, key)).collect();
        p.charge(v.len() as u64 / 16);
        Some(p.heap.map_sorted(&v))
    } else {
        p.charge(1);
        crate::hamt::remove(&mut p.heap, m, key)
    }
}

/// `M#{K => V}` (exact = false) or `M#{K := V}` (exact = true: every key
/// must exist). A flat map is copied, O(n + k log k) (a result of more than
/// 32 keys becomes a HAMT); a HAMT is updated a key at a time, O(k log n).
pub fn update(p: &mut Process, m: Term, kv: &[(Term, Term)], exact: bool) -> BifResult {
    if !m.is_map() {
        return Err(Exc::error(p.heap.tuple(&[Term::atom(atom::BADMAP), m])));
    }
    let Some(flat) = m.map_flat() else {
        if exact {
            // Of several missing keys, the least, as for a flat map below
            // (and as BEAM, whose instruction holds the keys sorted).
            let missing = kv.iter().map(|(k, _)| *k).filter(|k| m.map_get(*k).is_none());
            if let Some(k) = missing.min_by(|a, b| cmp_exact(*a, *b)) {
                return Err(badkey(p, k));
            }
        }
        let mut out = m;
        for (k, v) in kv {
            out = crate::hamt::put(&mut p.heap, out, *k, *v).0;
        }
        p.charge(kv.len() as u64);
        return Ok(out);
    };
    let mut new: Vec<(Term, Term)> = kv.to_vec();
    // Later pairs win: stable sort then keep the last of equal keys.
    new.sort_by(|a, b| cmp_exact(a.0, b.0));
    let mut dedup: Vec<(Term, Term)> = Vec::with_capacity(new.len());
    for e in new {
        match dedup.last_mut() {
            Some(l) if cmp_exact(l.0, e.0) == Ordering::Equal => *l = e,
            _ => dedup.push(e),
        }
    }
    let old: Vec<(Term, Term)> = flat.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    let mut out = Vec::with_capacity(old.len() + dedup.len());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < dedup.len() {
        let o = if i == old.len() {
            Ordering::Greater
        } else if j == dedup.len() {
            Ordering::Less
        } else {
            cmp_exact(old[i].0, dedup[j].0)
        };
        match o {
            Ordering::Less => {
                out.push(old[i]);
                i += 1;
            }
            Ordering::Equal => {
                out.push(dedup[j]);
                i += 1;
                j += 1;
            }
            Ordering::Greater => {
                if exact {
                    return Err(badkey(p, dedup[j].0));
                }
                out.push(dedup[j]);
                j += 1;
            }
        }
    }
    p.charge(out.len() as u64 / 16);
    Ok(p.heap.map_sorted(&out))
}
