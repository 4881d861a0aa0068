//! BIFs of the `re` module (OTP 25's PCRE interface): `run/2,3`,
//! `compile/1,2`, `replace/3,4`, `split/2,3`, on top of the `fancy-regex`
//! crate (backtracking: backreferences, lookaround, atomic groups).
//!
//! The subject is matched as text: in `unicode` mode its UTF-8 bytes, else
//! each byte as the Latin-1 character of that code, so that every offset
//! given back is a byte offset into the subject as OTP's. PCRE's meaning of
//! some escapes is kept by rewriting the pattern (`translate`): `\w \d \s`
//! and their negations are OTP's Latin-1 tables (no character above 255 is
//! a word character unless `ucp`), `$` without `multiline` also matches
//! before a final newline, `\Z` likewise. Compiled regexes are cached per
//! scheduler thread. Differences left are listed in spec/stdlib.md.

use super::{bif, BifDef};
use crate::atom;
use crate::process::{BifResult, Exc, Process};
use crate::term::*;
use fancy_regex::{Regex, RegexBuilder, RegexInput};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

pub const BIFS: &[BifDef] = &[
    bif("re", "run", 2, |p, a| run(p, a[0], a[1], Term::NIL)),
    bif("re", "run", 3, |p, a| run(p, a[0], a[1], a[2])),
    bif("re", "compile", 1, |p, a| compile(p, a[0], Term::NIL)),
    bif("re", "compile", 2, |p, a| compile(p, a[0], a[1])),
    bif("re", "replace", 3, |p, a| replace(p, a[0], a[1], a[2], Term::NIL)),
    bif("re", "replace", 4, |p, a| replace(p, a[0], a[1], a[2], a[3])),
    bif("re", "split", 2, |p, a| split(p, a[0], a[1], Term::NIL)),
    bif("re", "split", 3, |p, a| split(p, a[0], a[1], a[2])),
];

// Compile flags (kept in a compiled pattern's binary).
const CASELESS: u32 = 1;
const MULTILINE: u32 = 2;
const DOTALL: u32 = 4;
const EXTENDED: u32 = 8;
const ANCHORED: u32 = 16;
const UNICODE: u32 = 32;
const DOLLAR_ENDONLY: u32 = 64;
const UCP: u32 = 128;

/// The start of a compiled pattern's binary (after it: the flags as 4
/// bytes little-endian, then the pattern's text in UTF-8).
const MAGIC: &[u8] = b"MRLRE1";

/// A compiled pattern: the regex, its `find_not_empty` twin (built on first
/// need), the flags and the number of groups.
struct Compiled {
    re: Regex,
    not_empty: RefCell<Option<Rc<Regex>>>,
    source: String,
    flags: u32,
    groups: usize,
    names: Vec<Option<String>>,
}

impl Compiled {
    fn not_empty(&self) -> Option<Rc<Regex>> {
        if let Some(r) = &*self.not_empty.borrow() {
            return Some(r.clone());
        }
        let r = Rc::new(build(&self.source, self.flags, true).ok()?);
        *self.not_empty.borrow_mut() = Some(r.clone());
        Some(r)
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<(String, u32), Rc<Compiled>>> = RefCell::new(HashMap::new());
}

fn bad() -> Exc {
    Exc::badarg()
}

fn atom(s: &str) -> Term {
    Term::atom(atom::intern(s))
}

// ---------------------------------------------------------------- input

/// The bytes of an iolist or binary (Latin-1 mode).
fn iodata(t: Term) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    if t.is_binary() {
        out.extend_from_slice(t.binary_bytes()?);
        return Some(out);
    }
    if !t.is_list() || !super::erlang::iolist_bytes(t, &mut out) {
        return None;
    }
    Some(out)
}

/// The UTF-8 bytes of chardata (code points, UTF-8 binaries, nested lists).
fn chardata(t: Term) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    if t.is_binary() {
        let b = t.binary_bytes()?;
        std::str::from_utf8(b).ok()?;
        out.extend_from_slice(b);
        return Some(out);
    }
    if !t.is_list() {
        return None;
    }
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        if t.is_nil() {
            continue;
        }
        if t.is_binary() {
            let b = t.binary_bytes()?;
            std::str::from_utf8(b).ok()?;
            out.extend_from_slice(b);
        } else if let Some((h, tl)) = t.cons_parts() {
            stack.push(tl);
            if let Some(c) = h.as_small() {
                let c = char::from_u32(u32::try_from(c).ok()?)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            } else if h.is_binary() || h.is_list() {
                stack.push(h);
            } else {
                return None;
            }
        } else {
            return None;
        }
    }
    Some(out)
}

fn input_bytes(t: Term, unicode: bool) -> Option<Vec<u8>> {
    if unicode {
        chardata(t)
    } else {
        iodata(t)
    }
}

/// A subject as matched: `text` and, when it differs from the subject's
/// bytes (Latin-1 above 127), the offset maps both ways.
struct Subject {
    bytes: Vec<u8>,
    text: String,
    /// text offset -> byte offset (only at char boundaries) and back.
    maps: Option<(Vec<usize>, Vec<usize>)>,
}

impl Subject {
    fn new(bytes: Vec<u8>, unicode: bool) -> Option<Subject> {
        if unicode || bytes.is_ascii() {
            let text = String::from_utf8(bytes.clone()).ok()?;
            return Some(Subject { bytes, text, maps: None });
        }
        let text: String = bytes.iter().map(|&b| b as char).collect();
        let mut t2s = vec![0; text.len() + 1];
        let mut s2t = vec![0; bytes.len() + 1];
        for (i, (ti, _)) in text.char_indices().enumerate() {
            t2s[ti] = i;
            s2t[i] = ti;
        }
        t2s[text.len()] = bytes.len();
        s2t[bytes.len()] = text.len();
        Some(Subject { bytes, text, maps: Some((t2s, s2t)) })
    }
    fn to_bytes(&self, t: usize) -> usize {
        self.maps.as_ref().map_or(t, |m| m.0[t])
    }
    fn to_text(&self, b: usize) -> usize {
        self.maps.as_ref().map_or(b, |m| m.1[b])
    }
}

fn pattern_text(bytes: Vec<u8>, unicode: bool) -> Option<String> {
    if unicode {
        String::from_utf8(bytes).ok()
    } else {
        Some(bytes.iter().map(|&b| b as char).collect())
    }
}

// -------------------------------------------------------------- options

fn compile_flag(o: Term) -> Option<u32> {
    Some(match o.atom_name()? {
        "caseless" => CASELESS,
        "multiline" => MULTILINE,
        "dotall" => DOTALL,
        "extended" => EXTENDED,
        "anchored" => ANCHORED,
        "unicode" => UNICODE,
        "dollar_endonly" => DOLLAR_ENDONLY,
        "ucp" => UCP,
        "no_start_optimize" => 0,
        _ => return None,
    })
}

/// A compile option that takes no part in matching here (`{newline, lf}`).
fn ignored_compile_opt(o: Term) -> bool {
    matches!(o.tuple_elements(), Some([k, v]) if k.atom_name() == Some("newline") && v.atom_name() == Some("lf"))
}

#[derive(Clone, Copy, PartialEq)]
enum Select {
    All,
    First,
    AllButFirst,
    None,
    /// The named groups, in the order of their names.
    AllNames,
}

#[derive(Clone, Copy, PartialEq)]
enum CapType {
    Index,
    List,
    Binary,
}

enum Group {
    Num(usize),
    Name(String),
}

struct RunOpts {
    global: bool,
    select: Select,
    list: Option<Vec<Group>>,
    ctype: CapType,
    offset: usize,
    notempty: bool,
    anchored: bool,
    report_errors: bool,
}

impl RunOpts {
    fn new() -> RunOpts {
        RunOpts {
            global: false,
            select: Select::All,
            list: None,
            ctype: CapType::Index,
            offset: 0,
            notempty: false,
            anchored: false,
            report_errors: false,
        }
    }
}

/// Parses one run-time option; false if it is none.
fn run_opt(o: Term, r: &mut RunOpts) -> bool {
    if let Some(n) = o.atom_name() {
        match n {
            "global" => r.global = true,
            "notempty" => r.notempty = true,
            "anchored" => r.anchored = true,
            "report_errors" => r.report_errors = true,
            _ => return false,
        }
        return true;
    }
    let Some(el) = o.tuple_elements() else { return false };
    let spec_type = match el {
        [k, v] if k.atom_name() == Some("offset") => {
            return match v.as_small() {
                Some(n) if n >= 0 => {
                    r.offset = n as usize;
                    true
                }
                _ => false,
            };
        }
        [k, v] if matches!(k.atom_name(), Some("match_limit" | "match_limit_recursion")) => {
            return v.as_small().is_some_and(|n| n >= 0);
        }
        [k, s] if k.atom_name() == Some("capture") => (*s, None),
        [k, s, t] if k.atom_name() == Some("capture") => (*s, Some(*t)),
        _ => return false,
    };
    let (spec, ty) = spec_type;
    r.list = None;
    if let Some(n) = spec.atom_name() {
        r.select = match n {
            "all" => Select::All,
            "first" => Select::First,
            "all_but_first" => Select::AllButFirst,
            "none" => Select::None,
            "all_names" => Select::AllNames,
            _ => return false,
        };
    } else if let Some(items) = spec.list_to_vec() {
        let mut gs = Vec::new();
        for i in items {
            if let Some(n) = i.as_small() {
                if n < 0 {
                    return false;
                }
                gs.push(Group::Num(n as usize));
            } else if let Some(a) = i.atom_name() {
                gs.push(Group::Name(a.to_string()));
            } else if let Some(b) = iodata(i) {
                match String::from_utf8(b) {
                    Ok(s) => gs.push(Group::Name(s)),
                    Err(_) => return false,
                }
            } else {
                return false;
            }
        }
        r.select = if gs.is_empty() { Select::None } else { Select::All };
        r.list = Some(gs);
    } else {
        return false;
    }
    if let Some(t) = ty {
        r.ctype = match t.atom_name() {
            Some("index") => CapType::Index,
            Some("list") => CapType::List,
            Some("binary") => CapType::Binary,
            _ => return false,
        };
    }
    true
}

// ------------------------------------------------------------- patterns

/// OTP's `\w` (Latin-1 letters included), as class items.
const WORD: &str = r"0-9A-Za-z_\x{aa}\x{b5}\x{ba}\x{c0}-\x{d6}\x{d8}-\x{f6}\x{f8}-\x{ff}";
const DIGIT: &str = "0-9";
const SPACE: &str = r"\t\n\x0B\f\r ";
/// PCRE's `\h` and `\v`.
const HSPACE: &str = r"\t \x{a0}\x{1680}\x{180e}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}";
const VSPACE: &str = r"\n\x0B\f\r\x{85}\x{2028}\x{2029}";

/// Rewrites PCRE syntax whose meaning differs in fancy-regex.
fn translate(pat: &str, flags: u32) -> String {
    let mut out = String::with_capacity(pat.len() + 16);
    let cs: Vec<char> = pat.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    let ucp = flags & UCP != 0;
    while i < cs.len() {
        let c = cs[i];
        if c == '\\' && i + 1 < cs.len() {
            let e = cs[i + 1];
            i += 2;
            let class = match e {
                'w' | 'W' if !ucp => Some((WORD, e == 'W')),
                'd' | 'D' if !ucp => Some((DIGIT, e == 'D')),
                's' | 'S' if !ucp => Some((SPACE, e == 'S')),
                'h' | 'H' => Some((HSPACE, e == 'H')),
                'v' | 'V' => Some((VSPACE, e == 'V')),
                _ => None,
            };
            if e == 'Q' {
                // Quoted up to `\E`: every character literal.
                while i < cs.len() && !(cs[i] == '\\' && cs.get(i + 1) == Some(&'E')) {
                    out.push_str(&format!("\\x{{{:x}}}", cs[i] as u32));
                    i += 1;
                }
                i = (i + 2).min(cs.len());
                continue;
            }
            match class {
                Some((items, false)) if in_class => out.push_str(items),
                Some((items, neg)) => {
                    out.push_str(if neg { "[^" } else { "[" });
                    out.push_str(items);
                    out.push(']');
                }
                None if e == 'Z' && !in_class => out.push_str(r"(?=\n?\z)"),
                None if e == 'R' && !in_class => {
                    out.push_str(r"(?:\r\n|[");
                    out.push_str(VSPACE);
                    out.push_str("])");
                }
                None if e == 'E' => {}
                None => {
                    out.push('\\');
                    out.push(e);
                }
            }
            continue;
        }
        if in_class {
            if c == '[' && cs.get(i + 1) == Some(&':') {
                // A POSIX class: copied up to its closing ":]".
                let mut j = i + 2;
                while j + 1 < cs.len() && !(cs[j] == ':' && cs[j + 1] == ']') {
                    j += 1;
                }
                let end = (j + 2).min(cs.len());
                out.extend(&cs[i..end]);
                i = end;
                continue;
            }
            if c == '[' {
                out.push_str("\\[");
                i += 1;
                continue;
            }
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                // A `]` first (after an optional `^`) is a literal.
                if cs.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if cs.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '^' if flags & MULTILINE != 0 => {
                // Not after a newline that ends the subject.
                out.push_str(r"(?:\A|^(?!\z))");
                i += 1;
            }
            '$' if flags & MULTILINE == 0 => {
                out.push_str(if flags & DOLLAR_ENDONLY != 0 { r"\z" } else { r"(?=\n?\z)" });
                i += 1;
            }
            '#' if flags & EXTENDED != 0 => {
                // A comment, to the end of the line.
                while i < cs.len() && cs[i] != '\n' {
                    out.push(cs[i]);
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn build(source: &str, flags: u32, not_empty: bool) -> Result<Regex, fancy_regex::Error> {
    let mut b = RegexBuilder::new(&translate(source, flags));
    b.case_insensitive(flags & CASELESS != 0)
        .multi_line(flags & MULTILINE != 0)
        .dot_matches_new_line(flags & DOTALL != 0)
        .ignore_whitespace(flags & EXTENDED != 0)
        .find_not_empty(not_empty);
    b.build()
}

/// PCRE's message and offset for a pattern fancy-regex rejects (the common
/// cases; others carry fancy-regex's own message).
fn error_info(source: &str, e: &fancy_regex::Error) -> (String, usize) {
    use fancy_regex::{Error, ParseError};
    let len = source.len();
    match e {
        Error::ParseError(pos, pe) => {
            let pos = (*pos).min(len);
            match pe {
                ParseError::UnclosedOpenParen => ("missing )".into(), len),
                ParseError::TrailingBackslash => ("\\ at end of pattern".into(), len),
                ParseError::InvalidClass => ("missing terminating ] for character class".into(), len),
                ParseError::InvalidRepeat | ParseError::TargetNotRepeatable => ("nothing to repeat".into(), pos),
                other => (other.to_string(), pos),
            }
        }
        other => (other.to_string(), 0),
    }
}

/// Compiles (or finds in the cache) a pattern's text under `flags`.
fn get(source: &str, flags: u32) -> Result<Rc<Compiled>, (String, usize)> {
    let key = (source.to_string(), flags);
    if let Some(c) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(c);
    }
    // An unmatched `)` is a plain error in PCRE.
    if let Some(pos) = unmatched_close(source) {
        return Err(("unmatched parentheses".into(), pos));
    }
    let re = build(source, flags, false).map_err(|e| error_info(source, &e))?;
    let groups = re.captures_len().saturating_sub(1);
    let names = re.capture_names().map(|n| n.map(str::to_string)).collect();
    let c = Rc::new(Compiled { re, not_empty: RefCell::new(None), source: source.to_string(), flags, groups, names });
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(key, c.clone());
    });
    Ok(c)
}

/// The offset of a `)` closing no group, outside classes and escapes.
fn unmatched_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_class = false;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => {
                it.next();
            }
            '[' if !in_class => {
                in_class = true;
                if it.peek().map(|p| p.1) == Some('^') {
                    it.next();
                }
                if it.peek().map(|p| p.1) == Some(']') {
                    it.next();
                }
            }
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// The pattern argument: a compiled pattern (its flags) or pattern text
/// compiled with the compile options found in `opts`.
struct Pat {
    c: Rc<Compiled>,
}

fn decode_mp(t: Term) -> Option<(String, u32)> {
    let el = t.tuple_elements()?;
    let [tag, _, _, _, bin] = el else { return None };
    if tag.atom_name() != Some("re_pattern") || !bin.is_binary() {
        return None;
    }
    let b = bin.binary_bytes()?;
    let rest = b.strip_prefix(MAGIC)?;
    if rest.len() < 4 {
        return None;
    }
    let flags = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
    Some((std::str::from_utf8(&rest[4..]).ok()?.to_string(), flags))
}

fn make_mp(p: &mut Process, c: &Compiled) -> Term {
    let mut bin = MAGIC.to_vec();
    bin.extend_from_slice(&c.flags.to_le_bytes());
    bin.extend_from_slice(c.source.as_bytes());
    let b = p.heap.binary(&bin);
    let groups = Term::small(c.groups as i64);
    let uni = Term::small(i64::from(c.flags & UNICODE != 0));
    p.heap.tuple(&[atom("re_pattern"), groups, uni, Term::small(0), b])
}

fn error_term(p: &mut Process, msg: &str, pos: usize) -> Term {
    let m = p.heap.string(msg);
    p.heap.tuple(&[m, Term::small(pos as i64)])
}

// ------------------------------------------------------------- compile

fn compile(p: &mut Process, pat: Term, opts: Term) -> BifResult {
    let opts = opts.list_to_vec().ok_or_else(bad)?;
    let mut flags = 0;
    for o in opts {
        match compile_flag(o) {
            Some(f) => flags |= f,
            None if ignored_compile_opt(o) => {}
            None => return Err(bad()),
        }
    }
    let src =
        input_bytes(pat, flags & UNICODE != 0).and_then(|b| pattern_text(b, flags & UNICODE != 0)).ok_or_else(bad)?;
    match get(&src, flags) {
        Ok(c) => {
            let mp = make_mp(p, &c);
            Ok(p.heap.tuple(&[atom("ok"), mp]))
        }
        Err((msg, pos)) => {
            let e = error_term(p, &msg, pos);
            Ok(p.heap.tuple(&[atom("error"), e]))
        }
    }
}

/// Splits options into compile flags and run options; the pattern is
/// compiled (or decoded). `Err(Ok(term))` is a result to return as is
/// (`{error, ...}` under `report_errors`).
fn prepare(p: &mut Process, re: Term, opts: &[Term], r: &mut RunOpts) -> Result<Pat, Result<Term, Exc>> {
    let mut flags = 0;
    let mut compile_opts = false;
    for &o in opts {
        if run_opt(o, r) {
            continue;
        }
        match compile_flag(o) {
            Some(f) => {
                flags |= f;
                compile_opts = true;
            }
            None if ignored_compile_opt(o) => compile_opts = true,
            None => return Err(Err(bad())),
        }
    }
    if re.is_tuple() {
        let (src, f) = decode_mp(re).ok_or(Err(bad()))?;
        // Compile options with a compiled pattern are an error, but
        // `anchored` is also a run option.
        if compile_opts && flags & !ANCHORED != 0 {
            return Err(Err(bad()));
        }
        let c = get(&src, f).map_err(|_| Err(bad()))?;
        return Ok(Pat { c });
    }
    let uni = flags & UNICODE != 0;
    let src = input_bytes(re, uni).and_then(|b| pattern_text(b, uni)).ok_or(Err(bad()))?;
    match get(&src, flags) {
        Ok(c) => Ok(Pat { c }),
        Err((msg, pos)) if r.report_errors => {
            let e = error_term(p, &msg, pos);
            let inner = p.heap.tuple(&[atom("compile"), e]);
            Err(Ok(p.heap.tuple(&[atom("error"), inner])))
        }
        Err(_) => Err(Err(bad())),
    }
}

// ----------------------------------------------------------------- run

/// One match: per group (0 = whole), its subject byte range if set.
type Caps = Vec<Option<(usize, usize)>>;

/// All matches of `c` in `s` from text offset `start` (one unless
/// `global`), as PCRE's global loop: after an empty match a non-empty one
/// is tried at the same place before moving on by a character.
fn matches(p: &mut Process, c: &Compiled, s: &Subject, start: usize, r: &RunOpts) -> Vec<Caps> {
    let anchored = r.anchored || c.flags & ANCHORED != 0;
    let ne = if r.notempty {
        // No twin: the pattern only ever matches the empty string.
        match c.not_empty() {
            Some(ne) => Some(ne),
            None => return Vec::new(),
        }
    } else {
        None
    };
    let text = s.text.as_str();
    let mut out = Vec::new();
    let mut pos = start;
    let mut after_empty = false;
    loop {
        if pos > text.len() {
            break;
        }
        let mut found = None;
        if after_empty {
            if let Some(ner) = c.not_empty() {
                let inp = RegexInput::new(text).from_pos(pos).anchored(true);
                found = ner.captures_input(inp).ok().flatten().map(|m| to_caps(&m, s));
            }
            if found.is_none() {
                if anchored || pos >= text.len() {
                    break;
                }
                pos += text[pos..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if found.is_none() {
            let re: &Regex = ne.as_deref().unwrap_or(&c.re);
            let inp = RegexInput::new(text).from_pos(pos).anchored(anchored);
            found = re.captures_input(inp).ok().flatten().map(|m| to_caps(&m, s));
        }
        let Some(caps) = found else { break };
        let (ms, ml) = caps[0].unwrap_or((0, 0));
        p.charge(1 + (ms + ml).saturating_sub(s.to_bytes(pos)) as u64 / 16);
        out.push(caps);
        if !r.global {
            break;
        }
        pos = s.to_text(ms + ml);
        after_empty = ml == 0;
    }
    out
}

fn to_caps(m: &fancy_regex::Captures<'_, str>, s: &Subject) -> Caps {
    (0..m.len())
        .map(|i| {
            m.get(i).map(|g| {
                let a = s.to_bytes(g.start());
                (a, s.to_bytes(g.end()) - a)
            })
        })
        .collect()
}

/// The term of one captured group.
fn cap_term(p: &mut Process, s: &Subject, g: Option<(usize, usize)>, ty: CapType, unicode: bool) -> Term {
    match (ty, g) {
        (CapType::Index, Some((a, l))) => p.heap.tuple(&[Term::small(a as i64), Term::small(l as i64)]),
        (CapType::Index, None) => p.heap.tuple(&[Term::small(-1), Term::small(0)]),
        (CapType::Binary, g) => {
            let (a, l) = g.unwrap_or((0, 0));
            p.heap.binary(&s.bytes[a..a + l])
        }
        (CapType::List, g) => {
            let (a, l) = g.unwrap_or((0, 0));
            let part = &s.bytes[a..a + l];
            if unicode {
                let cs: Vec<Term> = String::from_utf8_lossy(part).chars().map(|c| Term::small(c as i64)).collect();
                p.heap.list(&cs)
            } else {
                p.heap.bytes_list(part)
            }
        }
    }
}

/// The captured terms of one match as `r` selects them.
fn select(p: &mut Process, c: &Compiled, s: &Subject, caps: &Caps, r: &RunOpts) -> Result<Term, Exc> {
    let uni = c.flags & UNICODE != 0;
    let get = |i: usize| caps.get(i).copied().flatten();
    let idx: Vec<Option<(usize, usize)>> = if r.select == Select::AllNames {
        let mut named: Vec<(&str, usize)> =
            c.names.iter().enumerate().filter_map(|(i, n)| Some((n.as_deref()?, i))).collect();
        named.sort();
        named.into_iter().map(|(_, i)| get(i)).collect()
    } else if let Some(list) = &r.list {
        let mut v = Vec::new();
        for g in list {
            let i = match g {
                Group::Num(n) => Some(*n),
                Group::Name(name) => c.names.iter().position(|n| n.as_deref() == Some(name.as_str())),
            };
            // An unknown group is unset, as in OTP.
            v.push(i.and_then(get));
        }
        v
    } else {
        // As PCRE, `all` stops at the last group that is set.
        let last = (0..=c.groups).rev().find(|&i| get(i).is_some()).unwrap_or(0);
        match r.select {
            Select::All => (0..=last).map(get).collect(),
            Select::First => vec![get(0)],
            Select::AllButFirst => (1..=last).map(get).collect(),
            Select::None | Select::AllNames => vec![],
        }
    };
    let terms: Vec<Term> = idx.into_iter().map(|g| cap_term(p, s, g, r.ctype, uni)).collect();
    Ok(p.heap.list(&terms))
}

/// The subject as text and where `{offset, N}` (a byte offset) starts in
/// it; an offset past the end is badarg.
fn subject_at(subj: Term, uni: bool, offset: usize) -> Result<(Subject, usize), Exc> {
    let s = input_bytes(subj, uni).and_then(|b| Subject::new(b, uni)).ok_or_else(bad)?;
    if offset > s.bytes.len() {
        return Err(bad());
    }
    let start = s.to_text(offset);
    Ok((s, start))
}

fn run(p: &mut Process, subj: Term, re: Term, opts: Term) -> BifResult {
    let opts = opts.list_to_vec().ok_or_else(bad)?;
    let mut r = RunOpts::new();
    let pat = match prepare(p, re, &opts, &mut r) {
        Ok(pat) => pat,
        Err(res) => return res,
    };
    let c = pat.c;
    let uni = c.flags & UNICODE != 0;
    let (s, start) = subject_at(subj, uni, r.offset)?;
    if !s.text.is_char_boundary(start) {
        return Err(bad());
    }
    let ms = matches(p, &c, &s, start, &r);
    if ms.is_empty() {
        return Ok(atom("nomatch"));
    }
    if r.select == Select::None || (r.select == Select::AllNames && c.names.iter().all(Option::is_none)) {
        return Ok(atom("match"));
    }
    let res = if r.global {
        let mut all = Vec::with_capacity(ms.len());
        for caps in &ms {
            all.push(select(p, &c, &s, caps, &r)?);
        }
        p.heap.list(&all)
    } else {
        select(p, &c, &s, &ms[0], &r)?
    };
    Ok(p.heap.tuple(&[atom("match"), res]))
}

// ------------------------------------------------------------- replace

#[derive(Clone, Copy, PartialEq)]
enum Ret {
    Iodata,
    List,
    Binary,
}

fn return_opt(o: Term) -> Option<Option<Ret>> {
    match o.tuple_elements() {
        Some([k, v]) if k.atom_name() == Some("return") => Some(match v.atom_name() {
            Some("iodata") => Some(Ret::Iodata),
            Some("list") => Some(Ret::List),
            Some("binary") => Some(Ret::Binary),
            _ => None,
        }),
        _ => None,
    }
}

fn is_capture_opt(o: Term) -> bool {
    matches!(o.tuple_elements(), Some([k, ..]) if k.atom_name() == Some("capture"))
        || o.atom_name() == Some("report_errors")
}

/// A replacement's parts: literal bytes or a group number.
enum Part {
    Lit(Vec<u8>),
    Group(usize),
}

fn parse_replacement(b: &[u8]) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let lit = |parts: &mut Vec<Part>, c: u8| match parts.last_mut() {
        Some(Part::Lit(v)) => v.push(c),
        _ => parts.push(Part::Lit(vec![c])),
    };
    let num = |b: &[u8], mut i: usize| {
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = std::str::from_utf8(&b[st..i]).ok().and_then(|s| s.parse::<usize>().ok());
        (n, i)
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                let x = b[i + 1];
                if x == b'g' && i + 2 < b.len() {
                    let braced = b[i + 2] == b'{';
                    let (n, j) = num(b, i + 2 + usize::from(braced));
                    // OTP fails (badarg) on a `\g` without a number.
                    parts.push(Part::Group(n.unwrap_or(usize::MAX)));
                    i = if braced && j < b.len() && b[j] == b'}' { j + 1 } else { j };
                } else if x.is_ascii_digit() && x != b'0' {
                    let (n, j) = num(b, i + 1);
                    parts.push(Part::Group(n.unwrap_or(usize::MAX)));
                    i = j;
                } else {
                    lit(&mut parts, x);
                    i += 2;
                }
            }
            b'&' => {
                parts.push(Part::Group(0));
                i += 1;
            }
            c => {
                lit(&mut parts, c);
                i += 1;
            }
        }
    }
    parts
}

fn replace(p: &mut Process, subj: Term, re: Term, repl: Term, opts: Term) -> BifResult {
    let opts = opts.list_to_vec().ok_or_else(bad)?;
    let mut ret = Ret::Iodata;
    let mut run_opts = Vec::new();
    for o in opts {
        if let Some(r) = return_opt(o) {
            ret = r.ok_or_else(bad)?;
        } else if is_capture_opt(o) {
            return Err(bad());
        } else {
            run_opts.push(o);
        }
    }
    let mut r = RunOpts::new();
    let pat = prepare(p, re, &run_opts, &mut r).map_err(|e| e.err().unwrap_or_else(bad))?;
    let c = pat.c;
    let uni = c.flags & UNICODE != 0;
    let s = input_bytes(subj, uni).and_then(|b| Subject::new(b, uni)).ok_or_else(bad)?;
    let rb = input_bytes(repl, uni).ok_or_else(bad)?;
    if r.offset > s.bytes.len() {
        return Err(bad());
    }
    let parts = parse_replacement(&rb);
    if parts.iter().any(|x| matches!(x, Part::Group(usize::MAX))) {
        return Err(bad());
    }
    let start = s.to_text(r.offset);
    let ms = matches(p, &c, &s, start, &r);
    if ms.is_empty() {
        return Ok(match ret {
            Ret::Iodata => subj,
            Ret::Binary => p.heap.binary(&s.bytes),
            Ret::List => bytes_to_list(p, &s.bytes, uni),
        });
    }
    // The iodata OTP builds: untouched binaries and, per match, the
    // replacement (one binary if it is one literal, else a list), the rest
    // of the subject as the tail (omitted when empty).
    let mut items = Vec::new();
    let mut flat = Vec::new();
    let mut pos = 0;
    for caps in &ms {
        let (ms, ml) = caps[0].unwrap_or((0, 0));
        if ms > pos {
            items.push(p.heap.binary(&s.bytes[pos..ms]));
            flat.extend_from_slice(&s.bytes[pos..ms]);
        }
        let mut pieces = Vec::new();
        for part in &parts {
            let piece: &[u8] = match part {
                Part::Lit(v) => v,
                Part::Group(n) => match caps.get(*n).copied().flatten() {
                    Some((a, l)) => &s.bytes[a..a + l],
                    None => &[],
                },
            };
            flat.extend_from_slice(piece);
            pieces.push(p.heap.binary(piece));
        }
        let item = match (parts.as_slice(), pieces.as_slice()) {
            ([Part::Lit(_)], [b]) => *b,
            _ => p.heap.list(&pieces),
        };
        items.push(item);
        pos = ms + ml;
    }
    flat.extend_from_slice(&s.bytes[pos..]);
    Ok(match ret {
        Ret::Iodata => {
            let tail = if pos < s.bytes.len() { p.heap.binary(&s.bytes[pos..]) } else { Term::NIL };
            p.heap.list_with_tail(&items, tail)
        }
        Ret::Binary => p.heap.binary(&flat),
        Ret::List => bytes_to_list(p, &flat, uni),
    })
}

fn bytes_to_list(p: &mut Process, b: &[u8], unicode: bool) -> Term {
    if unicode {
        let cs: Vec<Term> = String::from_utf8_lossy(b).chars().map(|c| Term::small(c as i64)).collect();
        p.heap.list(&cs)
    } else {
        p.heap.bytes_list(b)
    }
}

// --------------------------------------------------------------- split

fn split(p: &mut Process, subj: Term, re: Term, opts: Term) -> BifResult {
    let opts = opts.list_to_vec().ok_or_else(bad)?;
    let mut ret = Ret::Iodata;
    let mut limit: i64 = -1;
    let mut strip = false;
    let mut group = false;
    let mut run_opts = Vec::new();
    for o in opts {
        if let Some(r) = return_opt(o) {
            ret = r.ok_or_else(bad)?;
        } else if o.atom_name() == Some("trim") {
            limit = -1;
            strip = true;
        } else if o.atom_name() == Some("group") {
            group = true;
        } else if let Some([k, v]) = o.tuple_elements() {
            if k.atom_name() == Some("parts") {
                match (v.as_small(), v.atom_name()) {
                    (Some(0), _) => {
                        limit = -1;
                        strip = true;
                    }
                    (Some(n), _) if n >= 1 => {
                        limit = n - 1;
                        strip = false;
                    }
                    (_, Some("infinity")) => {
                        limit = -1;
                        strip = false;
                    }
                    _ => return Err(bad()),
                }
            } else if is_capture_opt(o) {
                return Err(bad());
            } else {
                run_opts.push(o);
            }
        } else if o.atom_name() == Some("global") || is_capture_opt(o) {
            return Err(bad());
        } else {
            run_opts.push(o);
        }
    }
    let mut r = RunOpts::new();
    let pat = prepare(p, re, &run_opts, &mut r).map_err(|e| e.err().unwrap_or_else(bad))?;
    r.global = true;
    let c = pat.c;
    let uni = c.flags & UNICODE != 0;
    let (s, start) = subject_at(subj, uni, r.offset)?;
    let ms = matches(p, &c, &s, start, &r);
    // Pieces as byte ranges, grouped per part (a part, then its groups).
    let mut parts: Vec<Vec<(usize, usize)>> = Vec::new();
    let n = s.bytes.len();
    let mut off = 0;
    let mut left = limit;
    let mut it = ms.iter();
    loop {
        if left == 0 {
            parts.push(vec![(off, n - off)]);
            break;
        }
        let Some(caps) = it.next() else {
            parts.push(vec![(off, n.saturating_sub(off))]);
            break;
        };
        if off >= n {
            parts.push(vec![(n, 0)]);
            break;
        }
        let (mi, ml) = caps[0].unwrap_or((0, 0));
        let subs_empty = caps[1..].iter().all(|g| g.is_none_or(|(_, l)| l == 0));
        if mi == off && subs_empty && ml == 0 {
            off = mi + ml;
            continue;
        }
        let mut part = vec![(off, mi.saturating_sub(off))];
        for g in 1..=c.groups {
            part.push(caps.get(g).copied().flatten().unwrap_or((0, 0)));
        }
        parts.push(part);
        off = mi + ml;
        left -= 1;
    }
    if ms.is_empty() {
        parts = vec![vec![(0, n)]];
    } else if strip {
        if group {
            while parts.last().is_some_and(|pt| pt.iter().all(|&(_, l)| l == 0)) {
                parts.pop();
            }
        } else {
            let mut flat: Vec<(usize, usize)> = parts.concat();
            while flat.last().is_some_and(|&(_, l)| l == 0) {
                flat.pop();
            }
            parts = vec![flat];
        }
    }
    let piece = |p: &mut Process, (a, l): (usize, usize)| match ret {
        Ret::List => bytes_to_list(p, &s.bytes[a..a + l], uni),
        _ => p.heap.binary(&s.bytes[a..a + l]),
    };
    if group {
        let mut out = Vec::new();
        for pt in &parts {
            let terms: Vec<Term> = pt.iter().map(|&g| piece(p, g)).collect();
            out.push(p.heap.list(&terms));
        }
        Ok(p.heap.list(&out))
    } else {
        let terms: Vec<Term> = parts.concat().into_iter().map(|g| piece(p, g)).collect();
        Ok(p.heap.list(&terms))
    }
}
