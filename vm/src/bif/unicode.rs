//! BIFs of the `unicode` module: `characters_to_binary/1,2,3` and
//! `characters_to_list/1,2`, converting chardata (code points, binaries
//! and nested lists of them) between encodings as OTP's `unicode` does,
//! including its `{error, Converted, Rest}` and `{incomplete, Converted,
//! Rest}` results. The walk over nested lists is iterative (a deeply
//! nested iolist must not overflow the stack).

use super::{bif, BifDef};
use crate::atom;
use crate::process::{BifResult, Exc, Process};
use crate::term::*;

pub const BIFS: &[BifDef] = &[
    // `unicode_util:gc/1`, the grapheme splitter under `string`: the first
    // extended grapheme cluster (UAX #29) of a flat list of code points or
    // a UTF-8 binary, as `[GC | Rest]` (GC a code point, or the list of a
    // cluster's code points), `[]` for an empty string.
    bif("unicode_util", "gc", 1, |p, a| gc(p, a[0])),
    // The case mappings under `string` (full mappings, as OTP's
    // `unicode_util`): `[C | Rest]` gives the mapping of C (one or more code
    // points) followed by Rest; `[]` gives `[]`.
    bif("unicode_util", "uppercase", 1, |p, a| map_first(p, a[0], Case::Upper)),
    bif("unicode_util", "lowercase", 1, |p, a| map_first(p, a[0], Case::Lower)),
    bif("unicode_util", "titlecase", 1, |p, a| map_first(p, a[0], Case::Title)),
    bif("unicode_util", "casefold", 1, |p, a| map_first(p, a[0], Case::Fold)),
    bif("unicode", "characters_to_binary", 1, |p, a| {
        to_binary(p, a[0], Term::atom(atom::UNICODE), Term::atom(atom::UNICODE))
    }),
    bif("unicode", "characters_to_binary", 2, |p, a| to_binary(p, a[0], a[1], Term::atom(atom::UNICODE))),
    bif("unicode", "characters_to_binary", 3, |p, a| to_binary(p, a[0], a[1], a[2])),
    bif("unicode", "encoding_to_bom", 1, |p, a| {
        let enc = match (a[0].atom_name(), a[0].tuple_elements()) {
            (Some(n), _) => (n, "big"),
            (_, Some([e, order])) => match (e.atom_name(), order.atom_name()) {
                (Some(e), Some(o)) => (e, o),
                _ => return Err(Exc::error(Term::atom(atom::FUNCTION_CLAUSE))),
            },
            _ => return Err(Exc::error(Term::atom(atom::FUNCTION_CLAUSE))),
        };
        let bom: &[u8] = match enc {
            ("utf8" | "unicode", "big") => &[239, 187, 191],
            ("utf16", "big") => &[254, 255],
            ("utf16", "little") => &[255, 254],
            ("utf32", "big") => &[0, 0, 254, 255],
            ("utf32", "little") => &[255, 254, 0, 0],
            ("latin1", "big") => &[],
            _ => return Err(Exc::error(Term::atom(atom::FUNCTION_CLAUSE))),
        };
        Ok(p.heap.binary(bom))
    }),
    bif("unicode", "bom_to_encoding", 1, |p, a| {
        let b = match a[0].binary_bytes() {
            Some(b) if a[0].is_binary() => b,
            _ => return Err(Exc::error(Term::atom(atom::FUNCTION_CLAUSE))),
        };
        let tagged = |p: &mut Process, e: &str, o: &str| {
            p.heap.tuple(&[Term::atom(atom::intern(e)), Term::atom(atom::intern(o))])
        };
        let (enc, n) = if b.starts_with(&[239, 187, 191]) {
            (Term::atom(atom::intern("utf8")), 3)
        } else if b.starts_with(&[0, 0, 254, 255]) {
            (tagged(p, "utf32", "big"), 4)
        } else if b.starts_with(&[255, 254, 0, 0]) {
            (tagged(p, "utf32", "little"), 4)
        } else if b.starts_with(&[254, 255]) {
            (tagged(p, "utf16", "big"), 2)
        } else if b.starts_with(&[255, 254]) {
            (tagged(p, "utf16", "little"), 2)
        } else {
            (Term::atom(atom::intern("latin1")), 0)
        };
        Ok(p.heap.tuple(&[enc, Term::small(n)]))
    }),
    bif("unicode", "bin_is_7bit", 1, |_, a| match a[0].binary_bytes() {
        Some(b) if a[0].is_binary() => Ok(Term::bool(b.iter().all(|&c| c < 128))),
        _ => Err(Exc::badarg()),
    }),
    bif("unicode", "characters_to_nfc_list", 1, |p, a| normalize(p, a[0], Form::Nfc, false)),
    bif("unicode", "characters_to_nfd_list", 1, |p, a| normalize(p, a[0], Form::Nfd, false)),
    bif("unicode", "characters_to_nfkc_list", 1, |p, a| normalize(p, a[0], Form::Nfkc, false)),
    bif("unicode", "characters_to_nfkd_list", 1, |p, a| normalize(p, a[0], Form::Nfkd, false)),
    bif("unicode", "characters_to_nfc_binary", 1, |p, a| normalize(p, a[0], Form::Nfc, true)),
    bif("unicode", "characters_to_nfd_binary", 1, |p, a| normalize(p, a[0], Form::Nfd, true)),
    bif("unicode", "characters_to_nfkc_binary", 1, |p, a| normalize(p, a[0], Form::Nfkc, true)),
    bif("unicode", "characters_to_nfkd_binary", 1, |p, a| normalize(p, a[0], Form::Nfkd, true)),
    bif("unicode", "characters_to_list", 1, |p, a| to_list(p, a[0], Term::atom(atom::UNICODE))),
    bif("unicode", "characters_to_list", 2, |p, a| to_list(p, a[0], a[1])),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Enc {
    Latin1,
    Utf8,
    Utf16 { little: bool },
    Utf32 { little: bool },
}

/// `unicode | utf8 | latin1 | utf16 | utf32 | {utf16|utf32, big|little}`.
pub fn encoding(t: Term) -> Option<Enc> {
    let (name, little) = match t.tuple_elements() {
        Some([n, e]) => match e.as_atom()?.name() {
            "big" => (n.as_atom()?, false),
            "little" => (n.as_atom()?, true),
            _ => return None,
        },
        Some(_) => return None,
        None => (t.as_atom()?, false),
    };
    match (name.name(), t.is_tuple()) {
        ("unicode" | "utf8", false) => Some(Enc::Utf8),
        ("latin1", false) => Some(Enc::Latin1),
        ("utf16", _) => Some(Enc::Utf16 { little }),
        ("utf32", _) => Some(Enc::Utf32 { little }),
        _ => None,
    }
}

fn valid_cp(c: i64) -> bool {
    (0..=0x10FFFF).contains(&c) && !(0xD800..=0xDFFF).contains(&c)
}

/// Decode one code point at the start of `b`: `Ok((cp, len))`,
/// `Err(true)` if `b` ends in the middle of one, `Err(false)` if invalid.
fn decode_one(b: &[u8], enc: Enc) -> Result<(u32, usize), bool> {
    match enc {
        Enc::Latin1 => Ok((b[0] as u32, 1)),
        Enc::Utf8 => {
            let c0 = b[0];
            let (n, min, init) = match c0 {
                0x00..=0x7F => return Ok((c0 as u32, 1)),
                0xC0..=0xDF => (2, 0x80, (c0 & 0x1F) as u32),
                0xE0..=0xEF => (3, 0x800, (c0 & 0x0F) as u32),
                0xF0..=0xF7 => (4, 0x10000, (c0 & 0x07) as u32),
                _ => return Err(false),
            };
            let mut cp = init;
            for i in 1..n {
                match b.get(i) {
                    None => return Err(true),
                    Some(&c) if c & 0xC0 == 0x80 => cp = (cp << 6) | (c & 0x3F) as u32,
                    Some(_) => return Err(false),
                }
            }
            if cp < min || !valid_cp(cp as i64) {
                return Err(false);
            }
            Ok((cp, n))
        }
        Enc::Utf16 { little } => {
            let unit = |i: usize| -> Option<u32> {
                let (a, c) = (*b.get(i)?, *b.get(i + 1)?);
                Some(if little { u16::from_le_bytes([a, c]) } else { u16::from_be_bytes([a, c]) } as u32)
            };
            let u = unit(0).ok_or(true)?;
            match u {
                0xD800..=0xDBFF => {
                    let l = unit(2).ok_or(true)?;
                    if !(0xDC00..=0xDFFF).contains(&l) {
                        return Err(false);
                    }
                    Ok((0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00), 4))
                }
                0xDC00..=0xDFFF => Err(false),
                _ => Ok((u, 2)),
            }
        }
        Enc::Utf32 { little } => {
            if b.len() < 4 {
                return Err(true);
            }
            let w = [b[0], b[1], b[2], b[3]];
            let cp = if little { u32::from_le_bytes(w) } else { u32::from_be_bytes(w) };
            if valid_cp(cp as i64) {
                Ok((cp, 4))
            } else {
                Err(false)
            }
        }
    }
}

/// Append `cp` in `enc`; false if `enc` cannot hold it (latin1 > 255).
pub fn encode_one(cp: u32, enc: Enc, out: &mut Vec<u8>) -> bool {
    match enc {
        Enc::Latin1 => {
            if cp > 255 {
                return false;
            }
            out.push(cp as u8);
        }
        Enc::Utf8 => {
            let Some(c) = char::from_u32(cp) else { return false };
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        Enc::Utf16 { little } => {
            let Some(c) = char::from_u32(cp) else { return false };
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.extend_from_slice(&if little { u.to_le_bytes() } else { u.to_be_bytes() });
            }
        }
        Enc::Utf32 { little } => out.extend_from_slice(&if little { cp.to_le_bytes() } else { cp.to_be_bytes() }),
    }
    true
}

/// Why a conversion stopped early.
enum Stop {
    /// Invalid data; the term is the unconverted rest.
    Error(Term),
    /// A top-level binary ends inside a character; the term is its rest.
    Incomplete(Term),
}

/// Walk chardata `data` (binaries in `enc`), handing each code point to
/// `emit` (false: it cannot be converted). `Err(None)` is badarg.
fn walk(p: &mut Process, data: Term, enc: Enc, emit: &mut dyn FnMut(u32) -> bool) -> Result<Option<Stop>, ()> {
    // Decode a binary; Some((offset, incomplete)) where it stopped.
    let binary = |b: &[u8], emit: &mut dyn FnMut(u32) -> bool| -> Option<(usize, bool)> {
        let mut i = 0;
        while i < b.len() {
            match decode_one(&b[i..], enc) {
                Ok((cp, n)) => {
                    if !emit(cp) {
                        return Some((i, false));
                    }
                    i += n;
                }
                Err(incomplete) => return Some((i, incomplete)),
            }
        }
        None
    };
    if data.is_binary() {
        let b = data.binary_bytes().unwrap();
        return Ok(binary(b, emit).map(|(i, incomplete)| {
            let rest = p.heap.binary(&b[i..]);
            if incomplete {
                Stop::Incomplete(rest)
            } else {
                Stop::Error(rest)
            }
        }));
    }
    if !data.is_list() {
        return Err(());
    }
    // The cell being looked at on each level of nesting.
    let mut cells: Vec<Term> = vec![data];
    // On a stop at the innermost level: `inner` (None: the cell itself)
    // consed onto each enclosing level's remaining cells.
    let rest_from = |p: &mut Process, cells: &[Term], inner: Option<Term>| -> Term {
        let mut levels = cells.iter().rev();
        let first = *levels.next().unwrap();
        let mut r = match inner {
            None => first,
            Some(x) => {
                let t = first.tail().unwrap();
                p.heap.cons(x, t)
            }
        };
        for c in levels {
            let t = c.tail().unwrap();
            r = p.heap.cons(r, t);
        }
        r
    };
    while let Some(&cell) = cells.last() {
        if cell == Term::NIL {
            cells.pop();
            if let Some(parent) = cells.last_mut() {
                *parent = parent.tail().unwrap();
            }
            continue;
        }
        let Some((h, t)) = cell.cons_parts() else { return Err(()) };
        if let Some(c) = h.as_small() {
            let ok = valid_cp(c) && (enc != Enc::Latin1 || c <= 255) && emit(c as u32);
            if !ok {
                return Ok(Some(Stop::Error(rest_from(p, &cells, None))));
            }
            *cells.last_mut().unwrap() = t;
        } else if h.is_binary() {
            let b = h.binary_bytes().unwrap();
            if let Some((i, _)) = binary(b, emit) {
                let rb = p.heap.binary(&b[i..]);
                return Ok(Some(Stop::Error(rest_from(p, &cells, Some(rb)))));
            }
            *cells.last_mut().unwrap() = t;
        } else if h.is_list() {
            cells.push(h);
        } else if h.is_integer() {
            // A bignum is no code point.
            return Ok(Some(Stop::Error(rest_from(p, &cells, None))));
        } else {
            return Err(());
        }
    }
    Ok(None)
}

fn stop_tuple(p: &mut Process, stop: Stop, converted: Term) -> Term {
    let (tag, rest) = match stop {
        Stop::Error(r) => (atom::ERROR, r),
        Stop::Incomplete(r) => (atom::intern("incomplete"), r),
    };
    p.heap.tuple(&[Term::atom(tag), converted, rest])
}

fn to_binary(p: &mut Process, data: Term, inenc: Term, outenc: Term) -> BifResult {
    let (Some(ie), Some(oe)) = (encoding(inenc), encoding(outenc)) else { return Err(Exc::badarg()) };
    let mut out = Vec::new();
    let mut n = 0usize;
    let r = walk(p, data, ie, &mut |cp| {
        n += 1;
        encode_one(cp, oe, &mut out)
    })
    .map_err(|_| Exc::badarg())?;
    p.charge((n / 16) as u64);
    let bin = p.heap.binary(&out);
    Ok(match r {
        None => bin,
        Some(stop) => stop_tuple(p, stop, bin),
    })
}

fn to_list(p: &mut Process, data: Term, inenc: Term) -> BifResult {
    let Some(ie) = encoding(inenc) else { return Err(Exc::badarg()) };
    let mut cps: Vec<Term> = Vec::new();
    let r = walk(p, data, ie, &mut |cp| {
        cps.push(Term::small(cp as i64));
        true
    })
    .map_err(|_| Exc::badarg())?;
    p.charge((cps.len() / 16) as u64);
    let l = p.heap.list(&cps);
    Ok(match r {
        None => l,
        Some(stop) => stop_tuple(p, stop, l),
    })
}

/// The number of chars of the first grapheme cluster of `s` (not empty),
/// by the rules of Unicode 14 as OTP 25 has them. The splitter follows a
/// later Unicode, whose rule GB9c (15.1) keeps an Indic consonant after a
/// virama in the cluster, where OTP 25 breaks. Every other rule that joins
/// two chars looks at that pair alone, except GB11 (an emoji after a zero
/// width joiner) and GB12/13 (pairs of regional indicators); so a pair in
/// the cluster that the splitter would not join on its own marks GB9c's
/// join, and the cluster ends there.
fn first_cluster_len(s: &str) -> usize {
    use unicode_segmentation::UnicodeSegmentation;
    let one = |t: &str| t.graphemes(true).nth(1).is_none();
    // Extended_Pictographic: joined after an emoji and a zero width joiner
    // (GB11), where a combining mark would be joined after anything (GB9).
    let ext_pict = |c: char| one(&format!("\u{1F468}\u{200D}{c}")) && !one(&format!("a\u{200D}{c}"));
    let Some(g) = s.graphemes(true).next() else { return 0 };
    let cs: Vec<char> = g.chars().collect();
    for i in 1..cs.len() {
        let (prev, c) = (cs[i - 1], cs[i]);
        if ('\u{1F1E6}'..='\u{1F1FF}').contains(&c) {
            continue;
        }
        let joined = if prev == '\u{200D}' {
            if ext_pict(cs[0]) {
                // OTP 25: after an emoji and a zero width joiner only an
                // emoji goes on in the cluster (not even a combining mark).
                ext_pict(c)
            } else {
                one(&format!("a\u{200D}{c}"))
            }
        } else {
            one(&format!("{prev}{c}"))
        };
        if !joined {
            return i;
        }
    }
    cs.len()
}

fn cluster_term(p: &mut Process, cps: &[u32]) -> Term {
    if let [c] = cps {
        Term::small(*c as i64)
    } else {
        let v: Vec<Term> = cps.iter().map(|&c| Term::small(c as i64)).collect();
        p.heap.list(&v)
    }
}

fn gc(p: &mut Process, s: Term) -> BifResult {
    if let Some(bytes) = s.binary_bytes().filter(|_| s.is_binary()) {
        if bytes.is_empty() {
            return Ok(Term::NIL);
        }
        let valid = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        };
        if valid.is_empty() {
            return Err(Exc::badarg());
        }
        let n = first_cluster_len(valid);
        let cps: Vec<u32> = valid.chars().take(n).map(|c| c as u32).collect();
        let used: usize = valid.chars().take(n).map(char::len_utf8).sum();
        let rest = bytes[used..].to_vec();
        let g = cluster_term(p, &cps);
        let rest = p.heap.binary(&rest);
        return Ok(p.heap.cons(g, rest));
    }
    if s.is_nil() {
        return Ok(Term::NIL);
    }
    let Some((h, t)) = s.cons_parts() else { return Err(Exc::badarg()) };
    let first = h.as_small().ok_or_else(Exc::badarg)?;
    if !valid_cp(first) || char::from_u32(first as u32).is_none() {
        // Not a char (a surrogate): a cluster of its own.
        return Ok(p.heap.cons(h, t));
    }
    // The valid chars of a window at the front; the window doubles while
    // the first cluster fills all of it.
    let mut window = 16;
    loop {
        let mut text = String::new();
        let mut cps = Vec::new();
        let mut cur = s;
        let mut cut = false;
        while let Some((h, t)) = cur.cons_parts() {
            let Some(c) = h.as_small().filter(|&c| valid_cp(c)).and_then(|c| char::from_u32(c as u32)) else {
                break;
            };
            if cps.len() == window {
                cut = true;
                break;
            }
            text.push(c);
            cps.push(c as u32);
            cur = t;
        }
        let n = first_cluster_len(&text);
        if n == cps.len() && cut {
            window *= 2;
            continue;
        }
        let mut rest = s;
        for _ in 0..n {
            rest = rest.cons_parts().map_or(rest, |(_, t)| t);
        }
        let g = cluster_term(p, &cps[..n]);
        return Ok(p.heap.cons(g, rest));
    }
}

#[derive(Clone, Copy)]
enum Case {
    Upper,
    Lower,
    Title,
    Fold,
}

fn map_first(p: &mut Process, s: Term, case: Case) -> BifResult {
    if s.is_nil() {
        return Ok(Term::NIL);
    }
    let Some((h, t)) = s.cons_parts() else { return Err(Exc::badarg()) };
    let cp = h.as_small().filter(|&c| valid_cp(c)).ok_or_else(Exc::badarg)?;
    let mapped: Vec<Term> = case_map(cp as u32, case).into_iter().map(|c| Term::small(c as i64)).collect();
    Ok(p.heap.list_with_tail(&mapped, t))
}

/// Cased letters added after Unicode 14 (OTP 25's): a mapping from or to
/// one of them is not made.
fn newer_than_unicode_14(c: u32) -> bool {
    matches!(c, 0x1C89..=0x1C8A | 0xA7CB..=0xA7CF | 0xA7D2 | 0xA7D4 | 0xA7DA..=0xA7DC | 0x10D50..=0x10D8F | 0x16EA0..=0x16EDF)
}

/// The full case mapping of one code point (Rust's tables for upper and
/// lower case; title case and case folding derived from them with the
/// exceptions of Unicode's SpecialCasing and CaseFolding).
fn case_map(c: u32, case: Case) -> Vec<u32> {
    let Some(ch) = char::from_u32(c).filter(|_| !newer_than_unicode_14(c)) else { return vec![c] };
    let out = case_map_new(ch, c, case);
    if out.iter().any(|&c| newer_than_unicode_14(c)) {
        return vec![c];
    }
    out
}

fn case_map_new(ch: char, c: u32, case: Case) -> Vec<u32> {
    let upper = |ch: char| -> Vec<char> { ch.to_uppercase().collect() };
    let lower = |ch: char| -> Vec<char> { ch.to_lowercase().collect() };
    let out: Vec<char> = match case {
        Case::Upper => upper(ch),
        Case::Lower => lower(ch),
        Case::Title => return title_map(c).unwrap_or_else(|| upper(ch).into_iter().map(|c| c as u32).collect()),
        Case::Fold => {
            // Cherokee folds to its capitals; dotless i folds to itself.
            if let 0x13A0..=0x13F5 | 0x0131 = c {
                return vec![c];
            }
            if let 0xAB70..=0xABBF | 0x13F8..=0x13FD = c {
                return upper(ch).into_iter().map(|c| c as u32).collect();
            }
            // lower(upper(C)) twice: `ß` → "SS" → "ss", `ẞ` → `ß` → "ss",
            // `ς` → `σ`, `ᾀ` → "ἀι", `µ` → `μ`.
            let once: Vec<char> = upper(ch).into_iter().flat_map(lower).collect();
            once.into_iter().flat_map(upper).flat_map(lower).collect()
        }
    };
    out.into_iter().map(|c| c as u32).collect()
}

/// Title case where it is not upper case (Unicode's digraphs, ligatures,
/// Greek letters with iota subscript, Georgian).
fn title_map(c: u32) -> Option<Vec<u32>> {
    Some(match c {
        0x01C4..=0x01C6 => vec![0x01C5],
        0x01C7..=0x01C9 => vec![0x01C8],
        0x01CA..=0x01CC => vec![0x01CB],
        0x01F1..=0x01F3 => vec![0x01F2],
        0x00DF => vec![0x53, 0x73],
        0xFB00 => vec![0x46, 0x66],
        0xFB01 => vec![0x46, 0x69],
        0xFB02 => vec![0x46, 0x6C],
        0xFB03 => vec![0x46, 0x66, 0x69],
        0xFB04 => vec![0x46, 0x66, 0x6C],
        0xFB05 | 0xFB06 => vec![0x53, 0x74],
        0x0587 => vec![0x0535, 0x0582],
        0xFB13 => vec![0x0544, 0x0576],
        0xFB14 => vec![0x0544, 0x0565],
        0xFB15 => vec![0x0544, 0x056B],
        0xFB16 => vec![0x054E, 0x0576],
        0xFB17 => vec![0x0544, 0x056D],
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => vec![c + 8],
        0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF | 0x1FBC | 0x1FCC | 0x1FFC => vec![c],
        0x1FB3 => vec![0x1FBC],
        0x1FC3 => vec![0x1FCC],
        0x1FF3 => vec![0x1FFC],
        0x1FB2 => vec![0x1FBA, 0x0345],
        0x1FB4 => vec![0x0386, 0x0345],
        0x1FC2 => vec![0x1FCA, 0x0345],
        0x1FC4 => vec![0x0389, 0x0345],
        0x1FF2 => vec![0x1FFA, 0x0345],
        0x1FF4 => vec![0x038F, 0x0345],
        0x1FB7 => vec![0x0391, 0x0342, 0x0345],
        0x1FC7 => vec![0x0397, 0x0342, 0x0345],
        0x1FF7 => vec![0x03A9, 0x0342, 0x0345],
        // Georgian letters are their own title case.
        0x10D0..=0x10FA | 0x10FD..=0x10FF => vec![c],
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum Form {
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
}

/// The code points of `t` (a list of them) in normalization form `form`.
fn normalized(t: Term, form: Form) -> Vec<u32> {
    use unicode_normalization::UnicodeNormalization;
    let s: String = t.iter_list().filter_map(|c| c.as_small().and_then(|c| char::from_u32(c as u32))).collect();
    let out: String = match form {
        Form::Nfc => s.nfc().collect(),
        Form::Nfd => s.nfd().collect(),
        Form::Nfkc => s.nfkc().collect(),
        Form::Nfkd => s.nfkd().collect(),
    };
    out.chars().map(|c| c as u32).collect()
}

fn cps_term(p: &mut Process, cps: &[u32], binary: bool) -> Term {
    if binary {
        let mut bytes = Vec::with_capacity(cps.len());
        for &c in cps {
            encode_one(c, Enc::Utf8, &mut bytes);
        }
        p.heap.binary(&bytes)
    } else {
        let v: Vec<Term> = cps.iter().map(|&c| Term::small(c as i64)).collect();
        p.heap.list(&v)
    }
}

/// `unicode:characters_to_nf*_list/1` and `_binary/1`: chardata decoded as
/// `characters_to_list/1` does, then normalized; where the data stops being
/// valid, `{error, Normalized, Rest}` (or `incomplete`) as that function.
fn normalize(p: &mut Process, data: Term, form: Form, binary: bool) -> BifResult {
    let r = to_list(p, data, Term::atom(atom::UNICODE))?;
    if let Some([tag, conv, rest]) = r.tuple_elements() {
        let (tag, conv, rest) = (*tag, *conv, *rest);
        let cps = normalized(conv, form);
        let conv = cps_term(p, &cps, binary);
        return Ok(p.heap.tuple(&[tag, conv, rest]));
    }
    let cps = normalized(r, form);
    Ok(cps_term(p, &cps, binary))
}
