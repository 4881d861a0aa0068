//! `io_lib:format/2`: the directive parser and executor.
//!
//! A directive is `~[F][.[P][.Pad]][mods]C`: field width `F` (`-` to
//! adjust left, `*` to take it from the arguments, negative meaning left),
//! precision `P` (or `*`), pad character (or `*`), modifiers `t` (unicode)
//! and `l` (no string detection), and the control character. Every
//! directive is parsed and its arguments checked before any text is made;
//! any error is `badarg`, as in OTP (bad control, missing or extra
//! arguments, an argument of the wrong type, a bad base or precision).

use super::float;
use super::pretty::{pretty, PrettyOpts};
use super::write::write;
use super::FTerm;

/// The one error `io_lib:format` raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadArg;

type R<T> = Result<T, BadArg>;

/// The largest field width or precision accepted (64 M characters).
const MAX_FIELD: i64 = 1 << 26;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Adj {
    Left,
    Right,
}

struct Spec<'a> {
    ctl: char,
    args: Vec<&'a FTerm>,
    width: Option<i64>,
    adj: Adj,
    prec: Option<i64>,
    pad: char,
    unicode: bool,
    strings: bool,
}

enum Piece<'a> {
    Text(String),
    Dir(Spec<'a>),
}

fn int_arg(t: Option<&FTerm>) -> R<i64> {
    match t {
        Some(FTerm::Int(i)) => Ok(*i),
        _ => Err(BadArg),
    }
}

fn parse<'a>(fmt: &[char], args: &'a [FTerm]) -> R<Vec<Piece<'a>>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut ai = 0usize;
    let mut i = 0usize;
    let next_arg = |ai: &mut usize| -> R<&'a FTerm> {
        let a = args.get(*ai).ok_or(BadArg)?;
        *ai += 1;
        Ok(a)
    };
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != '~' {
            text.push(c);
            continue;
        }
        // field width
        let mut adj = Adj::Right;
        if fmt.get(i) == Some(&'-') {
            adj = Adj::Left;
            i += 1;
        }
        let mut width = None;
        if fmt.get(i) == Some(&'*') {
            i += 1;
            let w = int_arg(Some(next_arg(&mut ai)?))?;
            if w < 0 {
                adj = Adj::Left;
            }
            width = Some(w.abs());
        } else {
            let st = i;
            while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            if i > st {
                width = Some(fmt[st..i].iter().collect::<String>().parse().map_err(|_| BadArg)?);
            }
        }
        // A field is padded out to its width in memory: a width of 2^40
        // would take the VM's memory (OTP shares the padding's sublists;
        // here such a field is refused).
        if width.is_some_and(|w| w > MAX_FIELD) {
            return Err(BadArg);
        }
        // precision and pad
        let mut prec = None;
        let mut pad = ' ';
        if fmt.get(i) == Some(&'.') {
            i += 1;
            if fmt.get(i) == Some(&'*') {
                i += 1;
                let p = int_arg(Some(next_arg(&mut ai)?))?;
                if p < 0 {
                    return Err(BadArg);
                }
                prec = Some(p);
            } else {
                let st = i;
                while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                if i > st {
                    prec = Some(fmt[st..i].iter().collect::<String>().parse().map_err(|_| BadArg)?);
                }
            }
            if fmt.get(i) == Some(&'.') {
                i += 1;
                if fmt.get(i) == Some(&'*') {
                    i += 1;
                    let p = int_arg(Some(next_arg(&mut ai)?))?;
                    pad = char::from_u32(p as u32).ok_or(BadArg)?;
                } else {
                    pad = *fmt.get(i).ok_or(BadArg)?;
                    i += 1;
                }
            }
        }
        if prec.is_some_and(|p| p > MAX_FIELD) {
            return Err(BadArg);
        }
        // modifiers
        let mut unicode = false;
        let mut strings = true;
        loop {
            match fmt.get(i) {
                Some('t') => unicode = true,
                Some('l') => strings = false,
                _ => break,
            }
            i += 1;
        }
        let ctl = *fmt.get(i).ok_or(BadArg)?;
        i += 1;
        let nargs = match ctl {
            'w' | 'p' | 's' | 'c' | 'b' | 'B' | 'e' | 'f' | 'g' | 'i' | '#' | '+' => 1,
            'W' | 'P' | 'x' | 'X' => 2,
            'n' | '~' => 0,
            _ => return Err(BadArg),
        };
        let mut dargs = Vec::with_capacity(nargs);
        for _ in 0..nargs {
            dargs.push(next_arg(&mut ai)?);
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Dir(Spec { ctl, args: dargs, width, adj, prec, pad, unicode, strings }));
    }
    if ai != args.len() {
        return Err(BadArg);
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn chars(c: char, n: i64) -> String {
    std::iter::repeat_n(c, n.max(0) as usize).collect()
}

fn adjust(data: String, pad: String, adj: Adj) -> String {
    match adj {
        Adj::Left => data + &pad,
        Adj::Right => pad + &data,
    }
}

fn clen(s: &str) -> i64 {
    s.chars().count() as i64
}

/// A term's text in a field (`~w`, numbers): too long gives `***`.
fn term(t: String, f: Option<i64>, adj: Adj, p: Option<i64>, pad: char) -> String {
    let (f, p0) = match (f, p) {
        (None, None) => return t,
        (None, Some(p)) => (p, Some(p)),
        (Some(f), p) => (f, p),
    };
    let l = clen(&t);
    let p = l.min(match p0 {
        None => f,
        Some(p0) => p0.min(f),
    });
    if l > p {
        adjust(chars('*', p), chars(pad, f - p), adj)
    } else {
        adjust(t, chars(pad, f - l), adj)
    }
}

fn flat_trunc(s: &str, n: i64) -> String {
    s.chars().take(n.max(0) as usize).collect()
}

fn string_field(s: String, f: i64, adj: Adj, n: i64, pad: char) -> String {
    if n > f {
        flat_trunc(&s, f)
    } else if n < f {
        adjust(s, chars(pad, f - n), adj)
    } else {
        s
    }
}

fn string(s: String, f: Option<i64>, adj: Adj, p: Option<i64>, pad: char) -> R<String> {
    let n = clen(&s);
    Ok(match (f, p) {
        (None, None) => s,
        (Some(f), None) => string_field(s, f, adj, n, pad),
        (None, Some(p)) => string_field(s, p, Adj::Left, n, pad),
        (Some(f), Some(p)) => {
            if f < p {
                return Err(BadArg);
            }
            if f > p {
                if n > p {
                    adjust(flat_trunc(&s, p), chars(pad, f - p), adj)
                } else if n < p {
                    adjust(s + &chars(pad, p - n), chars(pad, f - p), adj)
                } else {
                    adjust(s, chars(pad, f - p), adj)
                }
            } else {
                string_field(s, f, adj, n, pad)
            }
        }
    })
}

/// Characters of `~s` data: an atom, a binary, or a deep list of
/// characters and binaries. Without `t` everything must be latin1; with
/// `t` binaries are UTF-8 (latin1 when they are not valid UTF-8).
pub fn chardata(t: &FTerm, unicode: bool, out: &mut String) -> R<()> {
    match t {
        FTerm::Atom(a) => {
            if !unicode && a.chars().any(|c| c as u32 > 255) {
                return Err(BadArg);
            }
            out.push_str(a);
            Ok(())
        }
        FTerm::Bin { bytes, tail_bits: 0, .. } => {
            push_binary(bytes, unicode, out);
            Ok(())
        }
        FTerm::Nil => Ok(()),
        FTerm::List(..) => deep_chars(t, unicode, out),
        _ => Err(BadArg),
    }
}

fn push_binary(bytes: &[u8], unicode: bool, out: &mut String) {
    if unicode {
        if let Ok(s) = std::str::from_utf8(bytes) {
            out.push_str(s);
            return;
        }
    }
    out.extend(bytes.iter().map(|b| *b as char));
}

fn deep_chars(t: &FTerm, unicode: bool, out: &mut String) -> R<()> {
    match t {
        FTerm::Nil => Ok(()),
        FTerm::List(elems, tail) => {
            for e in elems {
                match e {
                    FTerm::Int(c) => {
                        if *c < 0 || (!unicode && *c > 255) {
                            return Err(BadArg);
                        }
                        out.push(char::from_u32(*c as u32).ok_or(BadArg)?);
                    }
                    FTerm::Bin { bytes, tail_bits: 0, .. } => push_binary(bytes, unicode, out),
                    FTerm::List(..) | FTerm::Nil => deep_chars(e, unicode, out)?,
                    _ => return Err(BadArg),
                }
            }
            match &**tail {
                FTerm::Nil => Ok(()),
                // an iolist may end in a binary
                FTerm::Bin { bytes, tail_bits: 0, .. } => {
                    push_binary(bytes, unicode, out);
                    Ok(())
                }
                _ => Err(BadArg),
            }
        }
        _ => Err(BadArg),
    }
}

fn int_text(t: &FTerm, base: u32, upper: bool) -> R<String> {
    let s = match t {
        FTerm::Int(i) => {
            let b = num_bigint::BigInt::from(*i);
            b.to_str_radix(base)
        }
        FTerm::Big(b) => b.to_str_radix(base),
        _ => return Err(BadArg),
    };
    Ok(if upper { s.to_uppercase() } else { s })
}

fn base_of(p: Option<i64>) -> R<u32> {
    match p {
        None => Ok(10),
        Some(b) if (2..=36).contains(&b) => Ok(b as u32),
        _ => Err(BadArg),
    }
}

fn float_arg(t: &FTerm) -> R<f64> {
    match t {
        FTerm::Float(f) => Ok(*f),
        _ => Err(BadArg),
    }
}

/// Run one directive; `col` is the 0-based column the output so far ends at.
fn control(s: &Spec, col: i64) -> R<String> {
    let a = s.args.first().copied();
    Ok(match s.ctl {
        'w' => {
            let mut t = String::new();
            write(&mut t, a.ok_or(BadArg)?, -1, s.unicode);
            term(t, s.width, s.adj, s.prec, s.pad)
        }
        'W' => {
            let d = int_arg(s.args.get(1).copied())?;
            let mut t = String::new();
            write(&mut t, s.args[0], d, s.unicode);
            term(t, s.width, s.adj, s.prec, s.pad)
        }
        'p' | 'P' => {
            let depth = if s.ctl == 'P' { int_arg(s.args.get(1).copied())? } else { -1 };
            if s.adj == Adj::Left {
                return Err(BadArg);
            }
            let o = PrettyOpts {
                col: s.prec.unwrap_or(col + 1),
                line_len: s.width.unwrap_or(80),
                depth,
                unicode: s.unicode,
                strings: s.strings,
                line_max: -1,
            };
            let mut t = String::new();
            pretty(&mut t, s.args[0], o);
            t
        }
        's' => {
            let mut t = String::new();
            chardata(a.ok_or(BadArg)?, s.unicode, &mut t)?;
            string(t, s.width, s.adj, s.prec, s.pad)?
        }
        'c' => {
            let c = int_arg(a)?;
            let c = if s.unicode {
                char::from_u32(c as u32).ok_or(BadArg)?
            } else {
                char::from_u32((c & 255) as u32).ok_or(BadArg)?
            };
            char_field(c, s.width, s.adj, s.prec, s.pad)?
        }
        'e' | 'f' | 'g' => {
            let x = float_arg(a.ok_or(BadArg)?)?;
            let p = s.prec.unwrap_or(6);
            let t = match s.ctl {
                'e' if p >= 2 => float::fwrite_e(x, p as usize),
                'f' if p >= 1 => float::fwrite_f(x, p as usize),
                'g' if p >= 1 => float::fwrite_g(x, p as usize),
                _ => return Err(BadArg),
            };
            term(t, s.width, s.adj, None, s.pad)
        }
        'b' | 'B' | '#' | '+' | 'x' | 'X' => {
            let base = base_of(s.prec)?;
            let upper = matches!(s.ctl, 'B' | '#' | 'X');
            let digits = int_text(a.ok_or(BadArg)?, base, upper)?;
            let (neg, digits) = match digits.strip_prefix('-') {
                Some(d) => (true, d.to_string()),
                None => (false, digits),
            };
            let prefix = match s.ctl {
                '#' | '+' => format!("{}#", base),
                'x' | 'X' => {
                    let mut p = String::new();
                    chardata(s.args[1], false, &mut p)?;
                    p
                }
                _ => String::new(),
            };
            let t = format!("{}{}{}", if neg { "-" } else { "" }, prefix, digits);
            term(t, s.width, s.adj, None, s.pad)
        }
        'i' => String::new(),
        'n' => match s.width {
            None => "\n".into(),
            Some(f) => chars('\n', f),
        },
        '~' => char_field('~', s.width, s.adj, s.prec, s.pad)?,
        _ => return Err(BadArg),
    })
}

fn char_field(c: char, f: Option<i64>, adj: Adj, p: Option<i64>, pad: char) -> R<String> {
    Ok(match (f, p) {
        (None, None) => c.to_string(),
        (Some(f), None) => chars(c, f),
        (None, Some(p)) => chars(c, p),
        (Some(f), Some(p)) => {
            if f < p {
                return Err(BadArg);
            }
            adjust(chars(c, p), chars(pad, f - p), adj)
        }
    })
}

fn advance(col: i64, s: &str) -> i64 {
    let mut c = col;
    for ch in s.chars() {
        match ch {
            '\n' => c = 0,
            '\t' => c += 8 - c % 8,
            _ => c += 1,
        }
    }
    c
}

/// One part of `io_lib:format`'s result.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Literal text of the format, or the text of a "small" directive
    /// (~c ~f ~b ~n ~~ ...): each character is one element of the list.
    Text(String),
    /// What one ~s (of a non-atom), ~w, ~p, ~W or ~P made: one element of
    /// that list. (OTP's element may be a deep list, e.g. `[123,["a"],125]`
    /// for `~w` of `{a}`; minierl gives the same characters as a flat string.)
    Dir(String),
}

/// `io_lib:format(Format, Args)` with the format as characters, in parts:
/// OTP returns `[Char | String ...]`, e.g. `["a",45,"b"]` for `"~p-~p"`.
pub fn format_parts(fmt: &[char], args: &[FTerm]) -> R<Vec<Part>> {
    let pieces = parse(fmt, args)?;
    let mut out = Vec::with_capacity(pieces.len());
    let mut col = 0i64;
    for p in &pieces {
        let part = match p {
            Piece::Text(t) => Part::Text(t.clone()),
            // OTP splices the characters of a "small" directive into the
            // result; ~s (of a non-atom), ~w, ~p, ~W and ~P stay elements.
            Piece::Dir(spec) if is_limited(spec) => Part::Dir(control(spec, col)?),
            Piece::Dir(spec) => Part::Text(control(spec, col)?),
        };
        let (Part::Text(s) | Part::Dir(s)) = &part;
        col = advance(col, s);
        out.push(part);
    }
    Ok(out)
}

/// A directive OTP's io_lib_format builds with `control_limited` (its
/// text stays one element of the result) rather than `control_small`.
fn is_limited(spec: &Spec) -> bool {
    match spec.ctl {
        's' => !matches!(spec.args.first(), Some(FTerm::Atom(_))),
        'w' | 'p' | 'W' | 'P' => true,
        _ => false,
    }
}

/// `io_lib:format(Format, Args)` with the format as characters, flat.
pub fn format(fmt: &[char], args: &[FTerm]) -> R<String> {
    let mut out = String::new();
    for p in format_parts(fmt, args)? {
        let (Part::Text(s) | Part::Dir(s)) = p;
        out.push_str(&s);
    }
    Ok(out)
}

/// The characters of a format argument: an atom, a binary (its bytes as
/// latin1 characters), or a flat list of character codes.
pub fn format_chars(t: &FTerm) -> R<Vec<char>> {
    match t {
        FTerm::Atom(a) => Ok(a.chars().collect()),
        FTerm::Bin { bytes, tail_bits: 0, .. } => Ok(bytes.iter().map(|b| *b as char).collect()),
        FTerm::Nil => Ok(Vec::new()),
        FTerm::List(elems, tail) => {
            if !matches!(**tail, FTerm::Nil) {
                return Err(BadArg);
            }
            elems
                .iter()
                .map(|e| match e {
                    FTerm::Int(c) if *c >= 0 => char::from_u32(*c as u32).ok_or(BadArg),
                    _ => Err(BadArg),
                })
                .collect()
        }
        _ => Err(BadArg),
    }
}

/// `io_lib:format/2` on terms: the format term and the argument list term.
pub fn format_terms(fmt: &FTerm, args: &FTerm) -> R<String> {
    let mut out = String::new();
    for p in format_terms_parts(fmt, args)? {
        let (Part::Text(s) | Part::Dir(s)) = p;
        out.push_str(&s);
    }
    Ok(out)
}

/// `io_lib:format/2` on terms, in parts (see [`format_parts`]).
pub fn format_terms_parts(fmt: &FTerm, args: &FTerm) -> R<Vec<Part>> {
    let f = format_chars(fmt)?;
    match args {
        FTerm::Nil => format_parts(&f, &[]),
        FTerm::List(v, tail) if matches!(**tail, FTerm::Nil) => format_parts(&f, v),
        _ => Err(BadArg),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testparse::parse;
    use super::super::FTerm;
    use super::*;

    #[test]
    fn format_parts_keep_directives_apart() {
        let args = [FTerm::atom("a"), FTerm::string("bc")];
        let f: Vec<char> = "~p-~s!".chars().collect();
        assert_eq!(
            format_parts(&f, &args).unwrap(),
            vec![Part::Dir("a".into()), Part::Text("-".into()), Part::Dir("bc".into()), Part::Text("!".into())]
        );
        let f: Vec<char> = "~c~n".chars().collect();
        assert_eq!(
            format_parts(&f, &[FTerm::Int(120)]).unwrap(),
            vec![Part::Text("x".into()), Part::Text("\n".into())]
        );
    }

    /// `testdata/format_cases.txt`: a format (a string, `{atom,A}` or
    /// `{binary,B}`), the arguments, and what OTP 25's `io_lib:format`
    /// made of them (`!badarg` when it raised).
    #[test]
    fn format_directives_replay() {
        let data = include_str!("testdata/format_cases.txt");
        let data = data.strip_suffix('\n').unwrap_or(data);
        let mut fails = 0;
        let mut total = 0;
        for case in data.split("\n=== ").map(|c| c.trim_start_matches("=== ")) {
            if case.trim().is_empty() {
                continue;
            }
            let (ftext, rest) = case.split_once('\n').unwrap();
            let (atext, expect) = rest.split_once("\n---\n").unwrap();
            let f = match parse(ftext) {
                FTerm::Tuple(v) if v.len() == 2 => v[1].clone(),
                t => t,
            };
            let got = match format_terms(&f, &parse(atext)) {
                Ok(s) => s,
                Err(BadArg) => "!badarg".to_string(),
            };
            total += 1;
            if got != expect {
                fails += 1;
                eprintln!("case {ftext} {atext}\n--- expected\n{expect}\n--- got\n{got}\n");
            }
        }
        assert_eq!(fails, 0, "{fails} of {total} differ");
    }
}
