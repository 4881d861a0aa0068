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
    Bin { bytes: Vec<u8>, tail_bits: u8, tail_val: u8 },
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
            Some(it) => it.map(|(k, v)| (from_term(k), from_term(v))).collect(),
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

/// `~p` of a VM term at column 1, line length 80 (error reports, shell).
pub fn pretty_term(t: crate::term::Term) -> String {
    pretty::pretty_string(&from_term(t))
}

/// `~p` of a VM term starting at a 0-based column (as after a prefix).
pub fn pretty_term_at(t: crate::term::Term, col: usize) -> String {
    let mut s = String::new();
    pretty::pretty(&mut s, &from_term(t), pretty::PrettyOpts { col: col as i64 + 1, ..Default::default() });
    s
}

/// `~w` of a VM term.
pub fn write_term(t: crate::term::Term) -> String {
    write::write_to_string(&from_term(t))
}

/// `io_lib:format(Format, Args)` on VM terms; `Err` means badarg.
pub fn format_terms(f: crate::term::Term, args: crate::term::Term) -> Result<String, fmt::BadArg> {
    fmt::format_terms(&from_term(f), &from_term(args))
}

#[cfg(test)]
pub(crate) mod testparse;
