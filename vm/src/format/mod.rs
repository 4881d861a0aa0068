//! Term printing and `io_lib:format`, exactly as Erlang/OTP 25 prints.
//!
//! - `float` — floats (`~p`/`~w` shortest form, `~e ~f ~g`, `float_to_list`);
//! - `write` — `~w` / `io_lib:write` (atoms, strings, binaries, depth);
//! - `pretty` — `~p` / `~P` with OTP's line breaking at the line length;
//! - `fmt` — the `io_lib:format` directive parser and executor;
//! - `out` — writing characters to stdout / stderr the way a latin1 OTP
//!   device does (bytes below 256, `\x{...}` above).
//!
//! The formatter works on [`FTerm`], a small owned view of a term: the VM
//! converts its `Term` with [`from_term`] (cheap, O(size)). Keeping the
//! printing algorithms on their own tree makes them testable with terms
//! parsed from the text real Erlang prints (`testdata/`).

pub mod display;
pub mod float;
pub mod fmt;
pub mod out;
pub mod pretty;
pub mod write;

use num_bigint::BigInt;

/// A term as the printer sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum FTerm {
    Int(i64),
    Big(BigInt),
    Float(f64),
    Atom(String),
    Nil,
    /// A non-empty list: its elements and its tail (`Nil` when proper).
    List(Vec<FTerm>, Box<FTerm>),
    Tuple(Vec<FTerm>),
    /// Key/value pairs in the order they print (OTP 25: key order for small maps).
    Map(Vec<(FTerm, FTerm)>),
    /// A bitstring: whole bytes, then `tail_bits` (0..8) more bits whose
    /// value is `tail_val`.
    Bin {
        bytes: Vec<u8>,
        tail_bits: u8,
        tail_val: u8,
    },
    /// Pids, references, funs, ports: their text (`<0.80.0>`).
    Opaque(String),
}

impl FTerm {
    pub fn atom(s: &str) -> FTerm {
        FTerm::Atom(s.to_string())
    }
    /// A proper list.
    pub fn list(v: Vec<FTerm>) -> FTerm {
        if v.is_empty() {
            FTerm::Nil
        } else {
            FTerm::List(v, Box::new(FTerm::Nil))
        }
    }
    /// A string as a list of character codes.
    pub fn string(s: &str) -> FTerm {
        FTerm::list(s.chars().map(|c| FTerm::Int(c as i64)).collect())
    }
    pub fn binary(b: &[u8]) -> FTerm {
        FTerm::Bin { bytes: b.to_vec(), tail_bits: 0, tail_val: 0 }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            FTerm::Int(i) => Some(*i),
            _ => None,
        }
    }
}

/// Convert a VM term to the printer's view.
pub fn from_term(t: crate::term::Term) -> FTerm {
    use crate::term::{FunView, Kind};
    match t.kind() {
        Kind::Small => FTerm::Int(t.small_value()),
        Kind::BigInt => match t.to_bigint() {
            Some(b) => match i64::try_from(&b) {
                Ok(i) => FTerm::Int(i),
                Err(_) => FTerm::Big(b),
            },
            None => FTerm::Opaque("?".into()),
        },
        Kind::Float => FTerm::Float(t.as_float().unwrap_or(0.0)),
        Kind::Atom => FTerm::Atom(t.atom_name().unwrap_or("").to_string()),
        Kind::Nil => FTerm::Nil,
        Kind::Cons => {
            let mut v = Vec::new();
            let mut cur = t;
            while let Some((h, tl)) = cur.cons_parts() {
                v.push(from_term(h));
                cur = tl;
            }
            FTerm::List(v, Box::new(from_term(cur)))
        }
        Kind::Tuple => FTerm::Tuple(t.tuple_elements().unwrap_or(&[]).iter().map(|e| from_term(*e)).collect()),
        Kind::Map => FTerm::Map(match t.map_entries() {
            Some(it) => {
                let mut v: Vec<_> = it.map(|(k, v)| (from_term(k), from_term(v))).collect();
                // A map of more than 32 keys prints in OTP's iteration
                // order, the reverse of `maps:to_list/1`'s (`hamt`).
                if t.map_flat().is_none() {
                    v.reverse();
                }
                v
            }
            None => Vec::new(),
        }),
        Kind::Binary => {
            let bits = t.bit_size().unwrap_or(0);
            let all = t.binary_bytes().unwrap_or(&[]);
            let whole = (bits / 8) as usize;
            let tail_bits = (bits % 8) as u8;
            let tail_val = if tail_bits > 0 { all[whole] >> (8 - tail_bits) } else { 0 };
            FTerm::Bin { bytes: all[..whole].to_vec(), tail_bits, tail_val }
        }
        Kind::Pid => FTerm::Opaque(format!("<0.{}.0>", t.pid_number().unwrap_or(0))),
        Kind::Ref => FTerm::Opaque(format!("#Ref<0.0.0.{}>", t.ref_number().unwrap_or(0))),
        Kind::Fun | Kind::ExportFun => match t.fun_view() {
            Some(FunView::Local { module, index, uniq, .. }) => {
                FTerm::Opaque(format!("#Fun<{}.{}.{}>", module.name(), index, uniq))
            }
            Some(FunView::Export { module, function, arity }) => {
                let mut s = String::from("fun ");
                write::write_atom(&mut s, module.name(), false);
                s.push(':');
                write::write_atom(&mut s, function.name(), false);
                s.push('/');
                s.push_str(&arity.to_string());
                FTerm::Opaque(s)
            }
            None => FTerm::Opaque("#Fun<>".into()),
        },
        Kind::Internal => FTerm::Opaque("#Internal<>".into()),
    }
}

/// How deeply `t` nests (1 for an atomic term; a list's elements are one
/// level below it). Iterative: safe on any term.
pub fn term_depth(t: crate::term::Term) -> usize {
    let mut max = 0;
    let mut stack = vec![(t, 1usize)];
    while let Some((t, d)) = stack.pop() {
        max = max.max(d);
        if t.is_cons() {
            let mut cur = t;
            while let Some((h, tl)) = cur.cons_parts() {
                if h.is_boxed() || h.is_cons() {
                    stack.push((h, d + 1));
                }
                cur = tl;
            }
            if !cur.is_nil() {
                stack.push((cur, d + 1));
            }
        } else if let Some(el) = t.tuple_elements() {
            stack.extend(el.iter().filter(|e| e.is_boxed() || e.is_cons()).map(|e| (*e, d + 1)));
        } else if let Some(it) = t.map_entries() {
            for (k, v) in it {
                stack.extend([k, v].into_iter().filter(|e| e.is_boxed() || e.is_cons()).map(|e| (e, d + 1)));
            }
        }
    }
    max
}

/// The printer recurses on nesting. Terms nested deeper than the thread's
/// stack allows are printed on a helper thread with a stack to match
/// (about 8 KB a level); `None` beyond a million levels.
pub fn with_stack_for<R: Send>(terms: &[crate::term::Term], f: impl FnOnce() -> R + Send) -> Option<R> {
    let depth = terms.iter().map(|t| term_depth(*t)).max().unwrap_or(0);
    if depth < 2000 {
        return Some(f());
    }
    if depth > 1_000_000 {
        return None;
    }
    let size = depth * 8192 + (1 << 20);
    std::thread::scope(|s| std::thread::Builder::new().stack_size(size).spawn_scoped(s, f).ok()?.join().ok())
}

/// `~p` of a VM term at column 1, line length 80 (error reports, shell).
pub fn pretty_term(t: crate::term::Term) -> String {
    with_stack_for(&[t], || pretty::pretty_string(&from_term(t))).unwrap_or_else(|| "...".into())
}

/// `~p` of a VM term starting at a 0-based column (as after a prefix).
pub fn pretty_term_at(t: crate::term::Term, col: usize) -> String {
    with_stack_for(&[t], || {
        let mut s = String::new();
        pretty::pretty(&mut s, &from_term(t), pretty::PrettyOpts { col: col as i64 + 1, ..Default::default() });
        s
    })
    .unwrap_or_else(|| "...".into())
}

/// `~w` of a VM term.
pub fn write_term(t: crate::term::Term) -> String {
    with_stack_for(&[t], || write::write_to_string(&from_term(t))).unwrap_or_else(|| "...".into())
}

/// `io_lib:format(Format, Args)` on VM terms; `Err` means badarg.
pub fn format_terms(f: crate::term::Term, args: crate::term::Term) -> Result<String, fmt::BadArg> {
    with_stack_for(&[f, args], || fmt::format_terms(&from_term(f), &from_term(args))).unwrap_or(Err(fmt::BadArg))
}

/// `io_lib:format(Format, Args)` on VM terms, in parts; `Err` means badarg.
pub fn format_terms_parts(f: crate::term::Term, args: crate::term::Term) -> Result<Vec<fmt::Part>, fmt::BadArg> {
    with_stack_for(&[f, args], || fmt::format_terms_parts(&from_term(f), &from_term(args))).unwrap_or(Err(fmt::BadArg))
}

#[cfg(test)]
pub(crate) mod testparse;

#[cfg(test)]
mod tests {
    use crate::heap::Heap;
    use crate::term::Term;

    #[test]
    fn format_deeply_nested_terms_do_not_overflow() {
        let mut h = Heap::new();
        let mut t = Term::small(1);
        for _ in 0..50_000 {
            t = h.list(&[t]);
        }
        assert_eq!(super::term_depth(t), 50_000);
        let s = super::write_term(t);
        assert_eq!(s.len(), 100_001);
        assert!(s.starts_with("[[[[") && s.contains("[1]"));
        let p = super::pretty_term(t);
        assert_eq!(p.len(), 100_001);
        let fmt = h.string("~p~n");
        let args = h.list(&[t]);
        assert_eq!(super::format_terms(fmt, args).unwrap().len(), 100_002);
    }

    #[test]
    fn format_from_vm_terms() {
        let mut h = Heap::new();
        let a = h.atom("hello world");
        let s = h.string("abc");
        let b = h.binary(b"xyz");
        let bits = h.bitstring(&[0xff, 0b1010_0000], 11);
        let f = h.float(1.0e10);
        let big = h.bigint(&"123456789012345678901234567890".parse().unwrap());
        let ia = h.atom("a");
        let one = Term::small(1);
        let m = h.map(vec![(ia, one), (one, ia)]);
        let t = h.tuple(&[a, s, b, bits, f, big, m, Term::pid(80), Term::NIL]);
        assert_eq!(
            super::write_term(t),
            "{'hello world',[97,98,99],<<120,121,122>>,<<255,5:3>>,1.0e10,123456789012345678901234567890,#{1 => a,a => 1},<0.80.0>,[]}"
        );
        assert_eq!(
            super::pretty_term(t),
            // as OTP 25 prints it
            "{'hello world',\"abc\",<<\"xyz\">>,\n               <<255,5:3>>,\n               1.0e10,123456789012345678901234567890,\n               #{1 => a,a => 1},\n               <0.80.0>,[]}"
        );
    }
}
