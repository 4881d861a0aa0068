//! BIFs: `io` (format, fwrite, put_chars, nl, write), `io_lib` (format,
//! fwrite, write, print, the character functions), and `erlang:float_to_list/1,2`,
//! `erlang:float_to_binary/1,2`. The work is in `crate::format`.
//!
//! Output goes to the VM's stdout (`standard_io`, `user`, the group leader
//! `<0.0.0>`) or stderr (`standard_error`). The functions that take a
//! device are written in minierl (`stdlib/lib/io.mrl`): to those devices
//! they call the `erts_io` BIFs here, to any other process (a file's io
//! server) they send io requests (`spec/io.md`).

use super::{bif, BifDef};
use crate::format::float::{self, FloatOpt};
use crate::format::out::{self, Device};
use crate::format::{fmt, from_term, with_stack_for, write};
use crate::process::{BifResult, Exc, Process};
use crate::term::Term;

pub const BIFS: &[BifDef] = &[
    bif("io", "format", 1, format_1),
    bif("io", "format", 2, format_2),
    bif("erts_io", "format", 3, format_3),
    bif("io", "fwrite", 1, format_1),
    bif("io", "fwrite", 2, format_2),
    bif("io", "put_chars", 1, put_chars_1),
    bif("erts_io", "put_chars", 2, put_chars_2),
    bif("io", "nl", 0, nl_0),
    bif("erts_io", "nl", 1, nl_1),
    bif("io", "write", 1, write_1),
    bif("erts_io", "write", 2, write_2),
    bif("io_lib", "format", 2, io_lib_format),
    bif("io_lib", "fwrite", 2, io_lib_format),
    bif("io_lib", "write", 1, io_lib_write_1),
    bif("io_lib", "write", 2, io_lib_write_2),
    bif("io_lib", "print", 1, io_lib_print),
    bif("io_lib", "write_atom", 1, io_lib_write_atom),
    bif("io_lib", "write_string", 1, io_lib_write_string),
    bif("io_lib", "write_string", 2, io_lib_write_string_2),
    bif("io_lib", "write_latin1_string", 1, io_lib_write_latin1_string),
    bif("io_lib", "write_char", 1, |p, a| write_char(p, a[0], i64::MAX)),
    bif("io_lib", "write_latin1_char", 1, |p, a| write_char(p, a[0], 255)),
    bif("io_lib", "char_list", 1, |_, a| Ok(Term::bool(char_list(a[0], false, unicode_code_point)))),
    bif("io_lib", "deep_char_list", 1, |_, a| Ok(Term::bool(char_list(a[0], true, unicode_code_point)))),
    bif("io_lib", "latin1_char_list", 1, |_, a| Ok(Term::bool(char_list(a[0], false, latin1_code)))),
    bif("io_lib", "deep_latin1_char_list", 1, |_, a| Ok(Term::bool(char_list(a[0], true, latin1_code)))),
    bif("io_lib", "indentation", 2, io_lib_indentation),
    bif("io_lib", "printable_list", 1, io_lib_printable_list),
    bif("io_lib", "printable_latin1_list", 1, io_lib_printable_list),
    bif("io_lib", "printable_unicode_list", 1, io_lib_printable_unicode_list),
    bif("io_lib", "nl", 0, io_lib_nl),
    bif("io_lib", "format", 3, io_lib_format_3),
    bif("io_lib", "fwrite", 3, io_lib_format_3),
    bif("io_lib", "quote_atom", 2, io_lib_quote_atom),
    bif("io_lib", "chars_length", 1, |_, a| {
        fn len(t: Term) -> Option<i64> {
            let mut n = 0;
            let mut cur = t;
            while let Some((h, tl)) = cur.cons_parts() {
                n += if h.as_small().is_some() { 1 } else { len(h)? };
                cur = tl;
            }
            cur.is_nil().then_some(n)
        }
        len(a[0]).map(Term::small).ok_or_else(function_clause)
    }),
    bif("io_lib", "deep_unicode_char_list", 1, |_, a| Ok(Term::bool(char_list(a[0], true, unicode_code_point)))),
    bif("io_lib", "write_unicode_string", 1, io_lib_write_string),
    bif("io_lib", "write_unicode_char", 1, |p, a| write_char(p, a[0], i64::MAX)),
    bif("io_lib", "write_char_as_latin1", 1, |p, a| write_char(p, a[0], i64::MAX)),
    bif("io_lib", "write_atom_as_latin1", 1, io_lib_write_atom),
    bif("io_lib", "write_latin1_string", 2, |p, a| {
        let q = a[1].as_small().and_then(|c| char::from_u32(c as u32)).ok_or_else(function_clause)?;
        quoted_string(p, a[0], q, 255)
    }),
    bif("io", "columns", 0, |p, _| not_a_terminal(p)),
    bif("erts_io", "columns", 1, |p, a| {
        device(a[0])?;
        not_a_terminal(p)
    }),
    bif("io", "rows", 0, |p, _| not_a_terminal(p)),
    bif("erts_io", "rows", 1, |p, a| {
        device(a[0])?;
        not_a_terminal(p)
    }),
    // minierl prints as OTP with its default `+pc latin1`.
    bif("io", "printable_range", 0, |_, _| Ok(Term::atom(crate::atom::intern("latin1")))),
    bif("io", "setopts", 1, |p, a| setopts(p, a[0])),
    bif("erts_io", "setopts", 2, |p, a| {
        device(a[0])?;
        setopts(p, a[1])
    }),
    bif("io", "getopts", 0, |p, _| getopts(p)),
    bif("erts_io", "getopts", 1, |p, a| {
        device(a[0])?;
        getopts(p)
    }),
    bif("erlang", "float_to_list", 1, float_to_list_1),
    bif("erlang", "float_to_list", 2, float_to_list_2),
    bif("erlang", "float_to_binary", 1, float_to_binary_1),
    bif("erlang", "float_to_binary", 2, float_to_binary_2),
];

fn ok() -> Term {
    Term::atom(crate::atom::intern("ok"))
}

/// The device an io function writes to.
fn device(t: Term) -> Result<Device, Exc> {
    if t.is_pid() {
        return Ok(Device::Stdout);
    }
    match t.atom_name() {
        Some("standard_io") | Some("user") => Ok(Device::Stdout),
        Some("standard_error") => Ok(Device::Stderr),
        _ => Err(Exc::badarg()),
    }
}

/// Charge reductions in proportion to the text made.
fn charge(p: &mut Process, n: usize) {
    p.charge(1 + (n / 64) as u64);
}

/// Run the printer on `terms` (safe on deeply nested terms); `None`
/// from the printer is badarg.
fn guarded(terms: &[Term], f: impl FnOnce() -> Option<String> + Send) -> Result<String, Exc> {
    with_stack_for(terms, f).flatten().ok_or_else(Exc::badarg)
}

fn do_format(p: &mut Process, dev: Device, f: Term, args: Term) -> BifResult {
    let s = crate::format::format_terms(f, args).map_err(|_| Exc::badarg())?;
    charge(p, s.len());
    out::write_chars(dev, &s);
    Ok(ok())
}

fn format_1(p: &mut Process, a: &[Term]) -> BifResult {
    do_format(p, Device::Stdout, a[0], Term::NIL)
}
fn format_2(p: &mut Process, a: &[Term]) -> BifResult {
    do_format(p, Device::Stdout, a[0], a[1])
}
fn format_3(p: &mut Process, a: &[Term]) -> BifResult {
    let dev = device(a[0])?;
    do_format(p, dev, a[1], a[2])
}

fn put_chars(p: &mut Process, dev: Device, t: Term) -> BifResult {
    if t.is_atom() {
        return Err(Exc::badarg()); // chardata, unlike ~s
    }
    let s = guarded(&[t], || {
        let mut s = String::new();
        fmt::chardata(&from_term(t), true, &mut s).ok()?;
        Some(s)
    })?;
    // io:put_chars wants valid UTF-8 binaries (chardata); fmt::chardata
    // falls back to latin1 for ~ts, so re-check binaries here.
    if !utf8_binaries(t) {
        return Err(Exc::badarg());
    }
    charge(p, s.len());
    out::write_chars(dev, &s);
    Ok(ok())
}

fn utf8_binaries(t: Term) -> bool {
    if t.is_bitstring() {
        return t.is_binary() && std::str::from_utf8(t.binary_bytes().unwrap_or(&[])).is_ok();
    }
    let mut cur = t;
    while let Some((h, tl)) = cur.cons_parts() {
        if (h.is_bitstring() || h.is_list()) && !h.is_nil() && !utf8_binaries(h) {
            return false;
        }
        cur = tl;
    }
    if cur.is_bitstring() {
        return utf8_binaries(cur);
    }
    true
}

fn put_chars_1(p: &mut Process, a: &[Term]) -> BifResult {
    put_chars(p, Device::Stdout, a[0])
}
fn put_chars_2(p: &mut Process, a: &[Term]) -> BifResult {
    let dev = device(a[0])?;
    put_chars(p, dev, a[1])
}

fn nl_0(_p: &mut Process, _a: &[Term]) -> BifResult {
    out::write_chars(Device::Stdout, "\n");
    Ok(ok())
}
fn nl_1(_p: &mut Process, a: &[Term]) -> BifResult {
    out::write_chars(device(a[0])?, "\n");
    Ok(ok())
}

fn write_1(p: &mut Process, a: &[Term]) -> BifResult {
    let s = crate::format::write_term(a[0]);
    charge(p, s.len());
    out::write_chars(Device::Stdout, &s);
    Ok(ok())
}
fn write_2(p: &mut Process, a: &[Term]) -> BifResult {
    let dev = device(a[0])?;
    let s = crate::format::write_term(a[1]);
    charge(p, s.len());
    out::write_chars(dev, &s);
    Ok(ok())
}

fn chars_result(p: &mut Process, s: &str) -> BifResult {
    charge(p, s.len());
    Ok(p.heap.string(s))
}

/// `io_lib:format/2`: as OTP, a list with one element per directive (its
/// text, a string) and one per literal character of the format.
fn io_lib_format(p: &mut Process, a: &[Term]) -> BifResult {
    let parts = crate::format::format_terms_parts(a[0], a[1]).map_err(|_| Exc::badarg())?;
    let mut elems = Vec::with_capacity(parts.len());
    let mut n = 0;
    for part in &parts {
        match part {
            fmt::Part::Text(s) => elems.extend(s.chars().map(|c| Term::small(c as i64))),
            fmt::Part::Dir(s) => {
                n += s.len();
                elems.push(p.heap.string(s));
            }
        }
    }
    charge(p, n + elems.len());
    Ok(p.heap.list(&elems))
}

fn io_lib_write_1(p: &mut Process, a: &[Term]) -> BifResult {
    let s = crate::format::write_term(a[0]);
    chars_result(p, &s)
}
fn io_lib_write_2(p: &mut Process, a: &[Term]) -> BifResult {
    let d = a[1].as_small().ok_or_else(Exc::badarg)?;
    let t = a[0];
    let s = guarded(&[t], || {
        let mut s = String::new();
        write::write(&mut s, &from_term(t), d, false);
        Some(s)
    })?;
    chars_result(p, &s)
}
fn io_lib_print(p: &mut Process, a: &[Term]) -> BifResult {
    let s = crate::format::pretty_term(a[0]);
    chars_result(p, &s)
}
fn io_lib_write_atom(p: &mut Process, a: &[Term]) -> BifResult {
    let name = a[0].atom_name().ok_or_else(Exc::badarg)?;
    let mut s = String::new();
    write::write_atom(&mut s, name, false);
    chars_result(p, &s)
}

fn io_lib_write_string(p: &mut Process, a: &[Term]) -> BifResult {
    quoted_string(p, a[0], '"', 0x10FFFF)
}

fn io_lib_write_string_2(p: &mut Process, a: &[Term]) -> BifResult {
    let q = a[1].as_small().and_then(|c| char::from_u32(c as u32)).ok_or_else(function_clause)?;
    quoted_string(p, a[0], q, 0x10FFFF)
}

fn io_lib_write_latin1_string(p: &mut Process, a: &[Term]) -> BifResult {
    quoted_string(p, a[0], '"', 255)
}

/// OTP's io_lib raises function_clause for arguments of the wrong shape.
fn function_clause() -> Exc {
    Exc::error(Term::atom(crate::atom::FUNCTION_CLAUSE))
}

/// The characters of a flat list of codes up to `max`.
fn code_points(t: Term, max: i64) -> Result<Vec<char>, Exc> {
    let mut chars = Vec::new();
    for c in t.list_to_vec().ok_or_else(function_clause)? {
        let c = c.as_small().filter(|c| (0..=max).contains(c)).and_then(|c| char::from_u32(c as u32));
        chars.push(c.ok_or_else(function_clause)?);
    }
    Ok(chars)
}

/// `io_lib:write_string/1,2`: the string between `quote`s, escaped.
fn quoted_string(p: &mut Process, t: Term, quote: char, max: i64) -> BifResult {
    let mut s = String::new();
    s.push(quote);
    for c in code_points(t, max)? {
        write::push_char_escaped(&mut s, c, quote, true);
    }
    s.push(quote);
    chars_result(p, &s)
}

/// `io_lib:write_char/1` (`$a`, `$\n`), and `write_latin1_char/1` (max 255).
fn write_char(p: &mut Process, t: Term, max: i64) -> BifResult {
    let n = t.as_small().filter(|c| (0..=max).contains(c)).ok_or_else(function_clause)?;
    let Some(c) = char::from_u32(n as u32) else {
        // Not a character (a surrogate), as OTP: the code after the `$`.
        return Ok(p.heap.list(&[Term::small('$' as i64), Term::small(n)]));
    };
    let mut s = String::from("$");
    match c {
        // Only what needs a backslash outside quotes: no quote to escape.
        '"' | '\'' => s.push(c),
        _ => write::push_char_escaped(&mut s, c, '"', true),
    }
    chars_result(p, &s)
}

fn unicode_code_point(c: i64) -> bool {
    (0..0xD800).contains(&c) || (0xE000..=0x10FFFF).contains(&c)
}

fn latin1_code(c: i64) -> bool {
    (0..=255).contains(&c)
}

/// `io_lib:char_list/1` and friends: a (deep, if `deep`) list of codes that
/// `ok` accepts.
fn char_list(t: Term, deep: bool, ok: fn(i64) -> bool) -> bool {
    let mut cur = t;
    while let Some((h, tl)) = cur.cons_parts() {
        let fine = match h.as_small() {
            Some(c) => ok(c),
            None => deep && h.is_list() && char_list(h, true, ok),
        };
        if !fine {
            return false;
        }
        cur = tl;
    }
    cur.is_nil()
}

/// `io_lib:indentation(Chars, Column)`: the column after printing Chars
/// (a deep list) from Column: a newline goes back to 0, a tab to the next
/// multiple of 8.
fn io_lib_indentation(_p: &mut Process, a: &[Term]) -> BifResult {
    fn walk(t: Term, mut col: i64) -> Option<i64> {
        let mut cur = t;
        while let Some((h, tl)) = cur.cons_parts() {
            col = match h.as_small() {
                Some(10) => 0,
                Some(9) => (col + 8) / 8 * 8,
                Some(_) => col + 1,
                None => walk(h, col)?,
            };
            cur = tl;
        }
        cur.is_nil().then_some(col)
    }
    let col = a[1].as_small().ok_or_else(function_clause)?;
    walk(a[0], col).map(Term::small).ok_or_else(function_clause)
}

/// Walk a proper list of integers, each accepted by `ok`.
fn all_chars(t: Term, ok: fn(i64) -> bool) -> bool {
    let mut cur = t;
    while let Some((h, tl)) = cur.cons_parts() {
        match h.as_small() {
            Some(c) if ok(c) => {}
            _ => return false,
        }
        cur = tl;
    }
    cur.is_nil()
}

/// `io_lib:printable_list/1` under the default printable range (latin1).
fn io_lib_printable_list(_p: &mut Process, a: &[Term]) -> BifResult {
    Ok(Term::bool(all_chars(a[0], write::printable_latin1)))
}

fn io_lib_printable_unicode_list(_p: &mut Process, a: &[Term]) -> BifResult {
    fn ok(c: i64) -> bool {
        (32..127).contains(&c)
            || (160..0xD800).contains(&c)
            || (0xE000..0xFFFE).contains(&c)
            || (0x10000..=0x10FFFF).contains(&c)
            || (8..=13).contains(&c)
            || c == 27
    }
    Ok(Term::bool(all_chars(a[0], ok)))
}

fn io_lib_nl(p: &mut Process, _a: &[Term]) -> BifResult {
    chars_result(p, "\n")
}

fn float_arg(t: Term) -> Result<f64, Exc> {
    t.as_float().ok_or_else(Exc::badarg)
}

/// The options of `float_to_list/2`: the last of `{decimals,N}`,
/// `{scientific,N}`, `short` wins; `compact` goes with `decimals`.
fn float_opts(t: Term) -> Result<Option<FloatOpt>, Exc> {
    let mut mode: Option<FloatOpt> = None;
    let mut compact = false;
    let items = t.list_to_vec().ok_or_else(Exc::badarg)?;
    for o in items {
        if let Some(name) = o.atom_name() {
            match name {
                "compact" => compact = true,
                "short" => mode = Some(FloatOpt::Short),
                _ => return Err(Exc::badarg()),
            }
            continue;
        }
        let el = o.tuple_elements().ok_or_else(Exc::badarg)?;
        if el.len() != 2 {
            return Err(Exc::badarg());
        }
        let n = el[1].as_small().filter(|n| *n >= 0).ok_or_else(Exc::badarg)? as usize;
        match el[0].atom_name() {
            Some("decimals") if n <= 253 => mode = Some(FloatOpt::Decimals(n, false)),
            Some("scientific") if n <= 249 => mode = Some(FloatOpt::Scientific(n)),
            _ => return Err(Exc::badarg()),
        }
    }
    Ok(match mode {
        Some(FloatOpt::Decimals(n, _)) => Some(FloatOpt::Decimals(n, compact)),
        m => m,
    })
}

fn float_text(x: f64, opts: Option<FloatOpt>) -> Result<String, Exc> {
    match opts {
        None => Ok(float::float_to_list(x)),
        Some(o) => float::float_to_list_opts(x, o).ok_or_else(Exc::badarg),
    }
}

fn float_to_list_1(p: &mut Process, a: &[Term]) -> BifResult {
    let s = float::float_to_list(float_arg(a[0])?);
    Ok(p.heap.string(&s))
}
fn float_to_list_2(p: &mut Process, a: &[Term]) -> BifResult {
    let x = float_arg(a[0])?;
    let s = float_text(x, float_opts(a[1])?)?;
    Ok(p.heap.string(&s))
}
fn float_to_binary_1(p: &mut Process, a: &[Term]) -> BifResult {
    let s = float::float_to_list(float_arg(a[0])?);
    Ok(p.heap.binary(s.as_bytes()))
}
fn float_to_binary_2(p: &mut Process, a: &[Term]) -> BifResult {
    let x = float_arg(a[0])?;
    let s = float_text(x, float_opts(a[1])?)?;
    Ok(p.heap.binary(s.as_bytes()))
}

/// `io_lib:format/3`: the options (`{chars_limit, N}`) are checked and not
/// applied.
fn io_lib_format_3(p: &mut Process, a: &[Term]) -> BifResult {
    if a[2].list_length().is_none() {
        return Err(Exc::badarg());
    }
    io_lib_format(p, &a[..2])
}

/// `io_lib:quote_atom(Atom, Chars)`: does an atom written as Chars need
/// quotes (a reserved word, or not a lowercase letter followed by name
/// characters)?
fn io_lib_quote_atom(_p: &mut Process, a: &[Term]) -> BifResult {
    // A lowercase letter, then letters, digits, `_` and `@` (latin-1).
    fn name_like(t: &str) -> bool {
        let lower = |c: char| c.is_ascii_lowercase() || (('\u{df}'..='\u{ff}').contains(&c) && c != '\u{f7}');
        let name_char = |c: char| {
            lower(c)
                || c.is_ascii_alphanumeric()
                || c == '_'
                || c == '@'
                || (('\u{c0}'..='\u{de}').contains(&c) && c != '\u{d7}')
        };
        let mut cs = t.chars();
        cs.next().is_some_and(lower) && cs.all(name_char)
    }
    let name = a[0].atom_name().ok_or_else(function_clause)?;
    // A reserved word looks like a name but still needs quotes.
    if name_like(name) && !write::atom_is_bare(name) {
        return Ok(Term::TRUE);
    }
    let text: Option<String> =
        a[1].iter_list().map(|c| c.as_small().and_then(|c| u32::try_from(c).ok()).and_then(char::from_u32)).collect();
    Ok(Term::bool(!matches!(text, Some(t) if a[1].list_length().is_some() && name_like(&t))))
}

/// `io:columns`, `io:rows`: standard output is not a terminal for the
/// programs minierl runs (as under OTP's escript with a pipe).
fn not_a_terminal(p: &mut Process) -> BifResult {
    Ok(p.heap.tuple(&[Term::atom(crate::atom::intern("error")), Term::atom(crate::atom::intern("enotsup"))]))
}

/// `io:setopts`: `binary`, `list`, `{binary, B}`, `{encoding, E}` are
/// accepted (output is UTF-8 either way); anything else is an error.
fn setopts(p: &mut Process, opts: Term) -> BifResult {
    let list = opts.list_to_vec().ok_or_else(function_clause)?;
    for o in list {
        let ok = match (o.atom_name(), o.tuple_elements()) {
            (Some("binary" | "list"), _) => true,
            (_, Some([k, v])) => match k.atom_name() {
                Some("binary") => v.is_bool(),
                Some("encoding") => matches!(v.atom_name(), Some("unicode" | "utf8" | "latin1")),
                _ => false,
            },
            _ => false,
        };
        if !ok {
            return Ok(p
                .heap
                .tuple(&[Term::atom(crate::atom::intern("error")), Term::atom(crate::atom::intern("enotsup"))]));
        }
    }
    Ok(ok())
}

/// `io:getopts`: as OTP's escript with standard output set to unicode.
fn getopts(p: &mut Process) -> BifResult {
    let bin = p.heap.tuple(&[Term::atom(crate::atom::intern("binary")), Term::FALSE]);
    let enc = p.heap.tuple(&[Term::atom(crate::atom::intern("encoding")), Term::atom(crate::atom::intern("unicode"))]);
    Ok(p.heap.list(&[bin, enc]))
}
