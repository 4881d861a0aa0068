//! BIFs of the file and io device layer (`spec/io.md`).
//!
//! - `erts_file:*`: open files by handle (a small integer naming an entry of
//!   a global table). Only the io server of a file (`file_io_server.mrl`)
//!   uses them: `file:open/2` spawns that server, which owns the handle and
//!   closes it when it stops or when its owner dies.
//! - `erts_io:scan_term/3`: reads one term ended by a full stop from text,
//!   with the compiler's lexer and parser (`io:read`, `file:consult/1`).
//! - `erts_io:stdin_request/2`: standard input is read by a thread of its
//!   own, which answers each request with a message, so no scheduler ever
//!   blocks on it; `stdin_unread/1` gives back what a request read too much.
//! - `file:read_file_info/1`, `file:write_file/3`, and `file:delete/1`.
//!
//! File operations are plain blocking system calls made by the scheduler
//! running the io server (OTP makes them on dirty schedulers).

use super::{bif, BifDef};
use crate::atom;
use crate::bif::code::{filename, posix_name};
use crate::heap::Heap;
use crate::process::{BifResult, Exc, Message, MsgKind, Process};
use crate::term::Term;
use crate::vm::Vm;
use minierl_compiler::ast::{BinType, Expr, ExprKind, UnOp};
use minierl_compiler::lexer::{lex, Tok};
use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, OnceLock};

pub const BIFS: &[BifDef] = &[
    bif("erts_file", "open", 2, open),
    bif("erts_file", "close", 1, |_, a| {
        let id = a[0].as_small().ok_or_else(Exc::badarg)?;
        lock(files()).remove(&(id as u64));
        Ok(Term::atom(atom::OK))
    }),
    bif("erts_file", "read", 3, read),
    bif("erts_file", "read_line", 1, read_line),
    bif("erts_file", "write", 2, write),
    bif("erts_file", "position", 2, position),
    bif("erts_file", "pread", 3, pread),
    bif("erts_file", "truncate", 1, |p, a| {
        let h = handle(a[0])?;
        let mut f = lock(&h);
        let r = f.stream_position().and_then(|pos| f.set_len(pos));
        drop(f);
        Ok(match r {
            Ok(()) => ok(),
            Err(e) => io_error(p, &e),
        })
    }),
    bif("erts_file", "pwrite", 3, pwrite),
    bif("erts_io", "scan_term", 3, scan_term),
    bif("erts_io", "consult", 1, consult),
    bif("erts_io", "stdin_request", 2, stdin_request),
    bif("erts_io", "stdin_unread", 1, |_, a| {
        let b = a[0].binary_bytes().ok_or_else(Exc::badarg)?;
        let mut pb = lock(&PUSHBACK);
        for &byte in b.iter().rev() {
            pb.push_front(byte);
        }
        Ok(Term::atom(atom::OK))
    }),
    bif("file", "read_file_info", 1, |p, a| file_info(p, a[0], true)),
    bif("file", "read_link_info", 1, |p, a| file_info(p, a[0], false)),
    bif("file", "make_symlink", 2, |p, a| {
        let (Some(from), Some(to)) = (filename(a[0]), filename(a[1])) else { return Ok(error(p, "badarg")) };
        Ok(match std::os::unix::fs::symlink(from, to) {
            Ok(()) => ok(),
            Err(e) => io_error(p, &e),
        })
    }),
    bif("file", "write_file", 3, write_file_3),
    bif("file", "delete", 1, delete),
];

type Handle = Arc<Mutex<File>>;

static FILES: OnceLock<Mutex<HashMap<u64, Handle>>> = OnceLock::new();
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn files() -> &'static Mutex<HashMap<u64, Handle>> {
    FILES.get_or_init(Default::default)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn handle(t: Term) -> Result<Handle, Exc> {
    let id = t.as_small().ok_or_else(Exc::badarg)?;
    lock(files()).get(&(id as u64)).cloned().ok_or_else(Exc::badarg)
}

fn ok() -> Term {
    Term::atom(atom::OK)
}

fn error(p: &mut Process, reason: &str) -> Term {
    let r = p.heap.atom(reason);
    p.heap.tuple(&[Term::atom(atom::ERROR), r])
}

fn io_error(p: &mut Process, e: &std::io::Error) -> Term {
    error(p, posix_name(e))
}

fn ok_bin(p: &mut Process, b: &[u8]) -> Term {
    let bin = p.heap.binary(b);
    p.heap.tuple(&[ok(), bin])
}

fn eof() -> Term {
    Term::atom(atom::intern("eof"))
}

/// `erts_file:open(Name, Flags)`: Flags is a list of `read`, `write`,
/// `append`, `exclusive` (already checked by `file:open/2`). As OTP: write
/// alone truncates, read with write does not; a directory is `eisdir`.
fn open(p: &mut Process, a: &[Term]) -> BifResult {
    let name = filename(a[0]).ok_or_else(Exc::badarg)?;
    let flags = a[1].list_to_vec().ok_or_else(Exc::badarg)?;
    let has = |f: &str| flags.iter().any(|t| t.atom_name() == Some(f));
    let (append, exclusive) = (has("append"), has("exclusive"));
    let write = has("write") || append || exclusive;
    let read = has("read") || !write;
    let mut o = OpenOptions::new();
    o.read(read).write(write).append(append).mode(0o666);
    if exclusive {
        o.create_new(true);
    } else if write {
        o.create(true).truncate(!read && !append);
    }
    if name.is_empty() {
        return Ok(error(p, "enoent"));
    }
    let f = match o.open(&name) {
        Ok(f) => f,
        Err(e) => return Ok(io_error(p, &e)),
    };
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Ok(error(p, "eisdir"));
    }
    let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    lock(files()).insert(id, Arc::new(Mutex::new(f)));
    Ok(p.heap.tuple(&[ok(), Term::small(id as i64)]))
}

fn count(t: Term) -> Result<usize, Exc> {
    t.as_small().filter(|n| *n >= 0).map(|n| n as usize).ok_or_else(Exc::badarg)
}

/// Read up to `n` bytes (fewer only at the end of the file).
fn read_bytes(f: &mut File, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n.min(1 << 20));
    f.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The length of the UTF-8 sequence a byte starts (1 for a stray byte).
fn utf8_len(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// `erts_file:read(H, N, Unit)`: N bytes (`bytes`) or N UTF-8 characters
/// (`utf8`); `eof` at the end of the file, `{ok, <<>>}` for N = 0.
fn read(p: &mut Process, a: &[Term]) -> BifResult {
    let h = handle(a[0])?;
    let n = count(a[1])?;
    let utf8 = a[2].atom_name() == Some("utf8");
    let mut f = lock(&h);
    let r = if utf8 {
        (|| {
            let mut out = Vec::new();
            let mut chars = 0;
            while chars < n {
                let chunk = read_bytes(&mut f, (n - chars).max(4))?;
                if chunk.is_empty() {
                    break;
                }
                let mut i = 0;
                while i < chunk.len() && chars < n {
                    let l = utf8_len(chunk[i]);
                    if i + l > chunk.len() {
                        // A character cut by the chunk: read its rest.
                        let more = read_bytes(&mut f, i + l - chunk.len())?;
                        out.extend_from_slice(&chunk[i..]);
                        out.extend_from_slice(&more);
                        i = chunk.len();
                    } else {
                        out.extend_from_slice(&chunk[i..i + l]);
                        i += l;
                    }
                    chars += 1;
                }
                if i < chunk.len() {
                    f.seek(SeekFrom::Current(-((chunk.len() - i) as i64)))?;
                }
            }
            Ok(out)
        })()
    } else {
        read_bytes(&mut f, n)
    };
    drop(f);
    Ok(read_reply(p, r, n))
}

/// The answer to a read of `n` bytes: `{ok, Bin}`, `eof` when nothing was
/// left to read, or `{error, Posix}`.
fn read_reply(p: &mut Process, r: std::io::Result<Vec<u8>>, n: usize) -> Term {
    match r {
        Ok(b) if b.is_empty() && n > 0 => eof(),
        Ok(b) => ok_bin(p, &b),
        Err(e) => io_error(p, &e),
    }
}

/// `erts_file:read_line(H)`: the bytes up to and including the next `\n`
/// (or to the end of the file); `eof` at the end.
fn read_line(p: &mut Process, a: &[Term]) -> BifResult {
    let h = handle(a[0])?;
    let mut f = lock(&h);
    let r = (|| {
        let mut out = Vec::new();
        loop {
            let chunk = read_bytes(&mut f, 512)?;
            if chunk.is_empty() {
                return Ok(out);
            }
            if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                out.extend_from_slice(&chunk[..=i]);
                let extra = chunk.len() - i - 1;
                if extra > 0 {
                    f.seek(SeekFrom::Current(-(extra as i64)))?;
                }
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
        }
    })();
    drop(f);
    p.charge(1);
    Ok(match r {
        Ok(b) if b.is_empty() => eof(),
        Ok(b) => ok_bin(p, &b),
        Err(e) => io_error(p, &e),
    })
}

fn write(p: &mut Process, a: &[Term]) -> BifResult {
    let h = handle(a[0])?;
    let b = a[1].binary_bytes().ok_or_else(Exc::badarg)?;
    p.charge(1 + (b.len() / 256) as u64);
    let r = lock(&h).write_all(b);
    Ok(match r {
        Ok(()) => ok(),
        Err(e) => io_error(p, &e),
    })
}

/// `erts_file:position(H, Where)`: `bof | cur | eof | Offset | {bof |
/// cur | eof, Offset}`; a negative result is `einval`, another shape
/// `badarg` (both returned, as OTP).
fn position(p: &mut Process, a: &[Term]) -> BifResult {
    let h = handle(a[0])?;
    let w = a[1];
    let (base, off) = if let Some(n) = w.as_small() {
        ("bof", n)
    } else if let Some(b) = w.atom_name() {
        (b, 0)
    } else if let Some([b, n]) = w.tuple_elements() {
        match (b.atom_name(), n.as_small()) {
            (Some(b), Some(n)) => (b, n),
            _ => return Ok(error(p, "badarg")),
        }
    } else {
        return Ok(error(p, "badarg"));
    };
    let mut f = lock(&h);
    let r = (|| -> std::io::Result<Option<u64>> {
        let start = match base {
            "bof" => 0,
            "cur" => f.stream_position()? as i64,
            "eof" => f.metadata()?.len() as i64,
            _ => return Ok(None),
        };
        let to = start.checked_add(off).filter(|t| *t >= 0);
        match to {
            Some(t) => Ok(Some(f.seek(SeekFrom::Start(t as u64))?)),
            None => Err(std::io::Error::from_raw_os_error(22)),
        }
    })();
    drop(f);
    Ok(match r {
        Ok(Some(pos)) => {
            let n = p.heap.int(pos as i64);
            p.heap.tuple(&[ok(), n])
        }
        Ok(None) => error(p, "badarg"),
        Err(e) => io_error(p, &e),
    })
}

/// `erts_file:pread(H, At, N)`: as OTP's io server does it, the position
/// is left after the data read.
fn pread(p: &mut Process, a: &[Term]) -> BifResult {
    let h = handle(a[0])?;
    let (at, n) = (count(a[1])?, count(a[2])?);
    let mut f = lock(&h);
    let r = f.seek(SeekFrom::Start(at as u64)).and_then(|_| read_bytes(&mut f, n));
    drop(f);
    Ok(read_reply(p, r, n))
}

/// `erts_file:pwrite(H, At, Bin)`: the position is left after the data.
fn pwrite(p: &mut Process, a: &[Term]) -> BifResult {
    let h = handle(a[0])?;
    let at = count(a[1])?;
    let b = a[2].binary_bytes().ok_or_else(Exc::badarg)?;
    let mut f = lock(&h);
    let r = f.seek(SeekFrom::Start(at as u64)).and_then(|_| f.write_all(b));
    drop(f);
    Ok(match r {
        Ok(()) => ok(),
        Err(e) => io_error(p, &e),
    })
}

/// `file:read_file_info/1` (`follow`) and `read_link_info/1`: OTP's
/// `#file_info{}` record (times in the VM's local time, which is UTC).
fn file_info(p: &mut Process, name: Term, follow: bool) -> BifResult {
    let Some(name) = filename(name) else { return Ok(error(p, "badarg")) };
    let m = if follow { std::fs::metadata(&name) } else { std::fs::symlink_metadata(&name) };
    let m = match m {
        Ok(m) => m,
        Err(e) => return Ok(io_error(p, &e)),
    };
    let ft = m.file_type();
    let ty = if ft.is_dir() {
        "directory"
    } else if ft.is_file() {
        "regular"
    } else if ft.is_symlink() {
        "symlink"
    } else {
        "other"
    };
    // From the permission bits (the owner's, group's or others' union):
    // the real access(2) answer would need the process's credentials.
    let bits = m.mode();
    let access = match (bits & 0o444 != 0, bits & 0o222 != 0) {
        (true, true) => "read_write",
        (true, false) => "read",
        (false, true) => "write",
        (false, false) => "none",
    };
    let mut time = |secs: i64| super::sys::datetime(p, secs).unwrap_or(Term::NIL);
    let (at, mt, ct) = (time(m.atime()), time(m.mtime()), time(m.ctime()));
    let mut elems = vec![p.heap.atom("file_info"), p.heap.int(m.len() as i64), p.heap.atom(ty), p.heap.atom(access)];
    elems.extend([at, mt, ct]);
    let dev = m.dev();
    for v in [m.mode() as u64 & 0xFFFF, m.nlink(), dev, 0, m.ino(), m.uid() as u64, m.gid() as u64] {
        elems.push(p.heap.int(v.min(i64::MAX as u64) as i64));
    }
    let info = p.heap.tuple(&elems);
    Ok(p.heap.tuple(&[ok(), info]))
}

/// `file:write_file(Name, Data, Modes)`: Modes may hold `write` (the
/// default), `append`, `exclusive`, `read`; other atoms change nothing.
/// Bad data is `{error, badarg}`, as OTP.
fn write_file_3(p: &mut Process, a: &[Term]) -> BifResult {
    let Some(name) = filename(a[0]) else { return Ok(error(p, "badarg")) };
    let mut bytes = Vec::new();
    if let Some(b) = a[1].binary_bytes().filter(|_| a[1].is_binary()) {
        bytes = b.to_vec();
    } else if !a[1].is_list() || !crate::bif::erlang::iolist_bytes(a[1], &mut bytes) {
        return Ok(error(p, "badarg"));
    }
    let Some(modes) = a[2].list_to_vec() else { return Ok(error(p, "badarg")) };
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true).mode(0o666);
    for m in modes {
        match m.atom_name() {
            Some("append") => {
                o.append(true).truncate(false);
            }
            Some("exclusive") => {
                o.create_new(true);
            }
            Some("read") => {
                o.read(true).truncate(false);
            }
            // Other modes (`write`, `binary`, `raw`, ...) change nothing
            // here; unknown atoms are ignored, as OTP's `file:open/2` does.
            Some(_) => {}
            None => return Ok(error(p, "badarg")),
        }
    }
    let r = o.open(&name).and_then(|mut f| f.write_all(&bytes));
    p.charge(1 + (bytes.len() / 1024) as u64);
    Ok(match r {
        Ok(()) => ok(),
        Err(e) => io_error(p, &e),
    })
}

/// `file:delete/1`: a directory is `eperm`, as OTP reports it.
fn delete(p: &mut Process, a: &[Term]) -> BifResult {
    let Some(name) = filename(a[0]) else { return Ok(error(p, "badarg")) };
    Ok(match std::fs::remove_file(&name) {
        Ok(()) => ok(),
        Err(e) if e.raw_os_error() == Some(21) => error(p, "eperm"),
        Err(e) => io_error(p, &e),
    })
}

// ---------------------------------------------------------------------
// Reading terms.

/// `erts_io:scan_term(Text, AtEof, Line)`: the first term of the UTF-8
/// binary Text, ended by a full stop, as `erl_scan:tokens/3` followed by
/// `erl_parse:parse_term/1` read it; Line is the line Text starts on.
/// Returns `more` when Text holds no full stop yet (and AtEof is false),
/// else `{done, Result, Rest, NextLine}` with Result `{ok, Term}`,
/// `{error, {Line, Module, Descriptor}}` or `eof` (only white space and
/// comments were left).
///
/// Only the text up to the first full stop is lexed (a `.` followed by
/// white space or `%` that turns out to be inside a string or a comment
/// makes it try the next one), so reading terms one by one from a long
/// text is linear.
fn scan_term(p: &mut Process, a: &[Term]) -> BifResult {
    let bytes = a[0].binary_bytes().ok_or_else(Exc::badarg)?;
    let at_eof = a[1] == Term::TRUE;
    let line0 = a[2].as_small().ok_or_else(Exc::badarg)?;
    let text = decode(bytes);
    // A full stop at the very end may be the start of a float: wait for
    // what follows it.
    if !at_eof && text.ends_with('.') {
        return Ok(p_atom("more"));
    }
    let mut search = 0;
    let (scanned, lx) = loop {
        let (end, next) = match dot_candidate(&text, search) {
            Some((dot, end)) => (end, dot + 1),
            None => (text.len(), text.len()),
        };
        let lx = Lexed::new(text[..end].to_string(), line0);
        p.charge(1 + (end / 64) as u64);
        match scan_one(p, &lx, 0, at_eof && end == text.len()) {
            None if end < text.len() => search = next,
            r => break (r, lx),
        }
    };
    Ok(match scanned {
        None => p_atom("more"),
        Some((result, consumed)) => {
            let r = match result {
                Scanned::Term(t) => p.heap.tuple(&[ok(), t]),
                Scanned::Error(info) => p.heap.tuple(&[Term::atom(atom::ERROR), info]),
                Scanned::Eof => eof(),
            };
            let rest = p.heap.binary(&text.as_bytes()[consumed..]);
            let next = Term::small(lx.line_at(consumed));
            p.heap.tuple(&[p_atom("done"), r, rest, next])
        }
    })
}

/// The next `.` at or after `from` that may end a term (followed by white
/// space, `%` or the end), and the end of the text to lex for it.
fn dot_candidate(text: &str, from: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut i = from;
    while i < b.len() {
        if b[i] == b'.' {
            match b.get(i + 1) {
                None => return Some((i, i + 1)),
                Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') => return Some((i, i + 2)),
                Some(b'%') => return Some((i, i + 1)),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// `erts_io:consult(Text)`: every term of Text (`file:consult/1`), as
/// `{ok, Terms}` or `{error, {Line, Module, Descriptor}}`. The text is
/// lexed once.
fn consult(p: &mut Process, a: &[Term]) -> BifResult {
    let bytes = a[0].binary_bytes().ok_or_else(Exc::badarg)?;
    let lx = Lexed::new(decode(bytes), 1);
    p.charge(1 + (lx.text.len() / 16) as u64);
    let mut terms = Vec::new();
    let mut from = 0;
    loop {
        match scan_one(p, &lx, from, true) {
            Some((Scanned::Term(t), c)) => {
                terms.push(t);
                from = c;
            }
            Some((Scanned::Error(info), _)) => return Ok(p.heap.tuple(&[Term::atom(atom::ERROR), info])),
            Some((Scanned::Eof, _)) | None => {
                let l = p.heap.list(&terms);
                return Ok(p.heap.tuple(&[ok(), l]));
            }
        }
    }
}

/// A text, its tokens and where its lines start.
struct Lexed {
    text: String,
    toks: Vec<minierl_compiler::lexer::Spanned>,
    errs: Vec<minierl_compiler::Diagnostic>,
    newlines: Vec<usize>,
    line0: i64,
}

impl Lexed {
    fn new(text: String, line0: i64) -> Lexed {
        let (toks, errs) = lex(&text);
        let newlines = text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect();
        Lexed { text, toks, errs, newlines, line0 }
    }

    /// The line of byte offset `pos`.
    fn line_at(&self, pos: usize) -> i64 {
        self.line0 + self.newlines.partition_point(|&n| n < pos) as i64
    }
}

/// One term read.
enum Scanned {
    Term(Term),
    /// `{Line, Module, Descriptor}`.
    Error(Term),
    Eof,
}

/// The term of `lx.text` that starts at byte `from`, and the offset after
/// its full stop; `None` if no full stop ends it before the end of the
/// text and more may come (`at_eof` false).
fn scan_one(p: &mut Process, lx: &Lexed, from: usize, at_eof: bool) -> Option<(Scanned, usize)> {
    let text = lx.text.as_str();
    let toks = &lx.toks[lx.toks.partition_point(|t| t.0 < from)..];
    let dot = toks.iter().find(|t| matches!(t.1, Tok::Dot)).map(|t| (t.0, t.2));
    let first_err = lx.errs.iter().map(|d| d.span.start as usize).filter(|e| *e >= from).min();
    let err3 = |p: &mut Process, line: i64, module: &str, desc: Term| -> Scanned {
        let m = p.heap.atom(module);
        Scanned::Error(p.heap.tuple(&[Term::small(line), m, desc]))
    };
    // A lexical error before the full stop.
    if let Some(e) = first_err.filter(|e| dot.is_none_or(|(s, _)| *e < s)) {
        let d = lx.errs.iter().find(|d| d.span.start as usize == e).expect("error found above");
        let quote = if d.message.starts_with("unterminated string") {
            Some('"')
        } else if d.message.starts_with("unterminated atom") {
            Some('\'')
        } else {
            None
        };
        if quote.is_some() && !at_eof {
            return None;
        }
        let desc = match quote {
            Some(q) => {
                let s: String = text[e..].chars().skip(1).take(16).collect();
                let s = p.heap.string(&s);
                let tag = p.heap.atom("string");
                p.heap.tuple(&[tag, Term::small(q as i64), s])
            }
            None => {
                let tag = p.heap.atom("illegal");
                let what = p.heap.atom("character");
                p.heap.tuple(&[tag, what])
            }
        };
        let r = err3(p, lx.line_at(e), "erl_scan", desc);
        let consumed = if quote.is_some() { text.len() } else { dot.map(|d| dot_end(text, d.1)).unwrap_or(text.len()) };
        return Some((r, consumed));
    }
    let Some((ds, de)) = dot else {
        if !at_eof {
            return None;
        }
        let Some(last) = toks.last() else {
            return Some((Scanned::Eof, text.len()));
        };
        // The tokens up to the end, without a full stop: erl_parse's error.
        let (line, before) = match minierl_compiler::parse::parse_exprs(&text[from..]) {
            Err(diags) => match diags[0].message.strip_prefix("syntax error before: ") {
                Some(b) => (lx.line_at(from + diags[0].span.start as usize), b.to_string()),
                None => (lx.line_at(last.0), String::new()),
            },
            Ok(_) => (lx.line_at(last.0), String::new()),
        };
        let desc = syntax_error_desc(p, &before);
        return Some((err3(p, line, "erl_parse", desc), text.len()));
    };
    let consumed = dot_end(text, de);
    let first = toks.first().map(|t| t.0).unwrap_or(ds);
    let result = match minierl_compiler::parse::parse_exprs(&text[from..de]) {
        Err(diags) => {
            let d = &diags[0];
            match d.message.strip_prefix("syntax error before: ") {
                Some(before) => {
                    let desc = syntax_error_desc(p, before);
                    err3(p, lx.line_at(from + d.span.start as usize), "erl_parse", desc)
                }
                None => {
                    let desc = p.heap.string("bad term");
                    err3(p, lx.line_at(first), "erl_parse", desc)
                }
            }
        }
        Ok(exprs) => match (exprs.len(), exprs.first().and_then(|e| to_term(&mut p.heap, e))) {
            (1, Some(t)) => Scanned::Term(t),
            _ => {
                let desc = p.heap.string("bad term");
                err3(p, lx.line_at(first), "erl_parse", desc)
            }
        },
    };
    Some((result, consumed))
}

fn p_atom(s: &str) -> Term {
    Term::atom(atom::intern(s))
}

/// erl_scan's full stop takes the white space character after it.
fn dot_end(text: &str, end: usize) -> usize {
    match text[end.min(text.len())..].chars().next() {
        Some(c) if c.is_whitespace() => end + c.len_utf8(),
        _ => end,
    }
}

/// `["syntax error before: ", Token]`, erl_parse's descriptor.
fn syntax_error_desc(p: &mut Process, before: &str) -> Term {
    let a = p.heap.string("syntax error before: ");
    let b = p.heap.string(before);
    p.heap.list(&[a, b])
}

/// The term a parsed expression denotes, if it is one (erl_parse's
/// `parse_term`: literals, lists, tuples, maps, binaries of literals, and
/// negated numbers).
fn to_term(h: &mut Heap, e: &Expr) -> Option<Term> {
    Some(match &e.kind {
        ExprKind::Atom(a) => h.atom(a),
        ExprKind::Int(i) => h.bigint(i),
        ExprKind::Float(f) => h.float(*f),
        ExprKind::String(cps) => {
            let elems: Vec<Term> = cps.iter().map(|&c| Term::small(c as i64)).collect();
            h.list(&elems)
        }
        ExprKind::Nil => Term::NIL,
        ExprKind::Tuple(es) => {
            let v = es.iter().map(|e| to_term(h, e)).collect::<Option<Vec<_>>>()?;
            h.tuple(&v)
        }
        ExprKind::Cons(hd, tl) => {
            let hd = to_term(h, hd)?;
            let tl = to_term(h, tl)?;
            h.cons(hd, tl)
        }
        ExprKind::Map(fields) => {
            let mut v = Vec::new();
            for f in fields {
                if f.exact {
                    return None;
                }
                v.push((to_term(h, &f.key)?, to_term(h, &f.value)?));
            }
            h.map(v)
        }
        ExprKind::UnOp(op @ (UnOp::Neg | UnOp::Plus), x) => match &x.kind {
            ExprKind::Int(i) if *op == UnOp::Neg => h.bigint(&-i.clone()),
            ExprKind::Float(f) if *op == UnOp::Neg => h.float(-f),
            ExprKind::Int(_) | ExprKind::Float(_) => to_term(h, x)?,
            _ => return None,
        },
        ExprKind::Binary(elems) => {
            let mut bytes = Vec::new();
            for el in elems {
                if el.size.is_some() || el.types.iter().any(|t| !matches!(t, BinType::Integer)) {
                    return None;
                }
                match &el.value.kind {
                    ExprKind::Int(i) => {
                        let m = i % 256u32;
                        let m: i64 = num_traits::ToPrimitive::to_i64(&m)?;
                        bytes.push(m.rem_euclid(256) as u8);
                    }
                    ExprKind::String(cps) => bytes.extend(cps.iter().map(|&c| c as u8)),
                    _ => return None,
                }
            }
            h.binary(&bytes)
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------
// Standard input.

/// What a reader asks for.
enum Want {
    Line,
    Chars(usize),
    /// A line, or its first 4096 bytes or so if it is longer (`io:read`
    /// gives back what follows a term: a chunk keeps that small).
    Chunk,
}

struct StdinRequest {
    vm: &'static Vm,
    pid: u64,
    tag: i64,
    want: Want,
}

static STDIN: OnceLock<Mutex<mpsc::Sender<StdinRequest>>> = OnceLock::new();

/// Bytes given back by `stdin_unread/1`, read before standard input.
static PUSHBACK: Mutex<VecDeque<u8>> = Mutex::new(VecDeque::new());

/// `erts_io:stdin_request(Tag, line | chunk | {chars, N})` (Tag a small integer):
/// the stdin thread will
/// send `{erts_stdin, Tag, {ok, Binary} | eof}` to the caller. Under the
/// interactive shell, whose terminal thread owns standard input,
/// `{error, enotsup}` is returned instead.
fn stdin_request(p: &mut Process, a: &[Term]) -> BifResult {
    let want = match (a[1].atom_name(), a[1].tuple_elements()) {
        (Some("line"), _) => Want::Line,
        (Some("chunk"), _) => Want::Chunk,
        (_, Some([c, n])) if c.atom_name() == Some("chars") => Want::Chars(count(*n)?),
        _ => return Err(Exc::badarg()),
    };
    if crate::shell::term::running() {
        return Ok(error(p, "enotsup"));
    }
    let tag = a[0].as_small().ok_or_else(Exc::badarg)?;
    let req = StdinRequest { vm: p.vm, pid: p.pid, tag, want };
    let tx = STDIN.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<StdinRequest>();
        std::thread::Builder::new()
            .name("minierl-stdin".into())
            .spawn(move || stdin_thread(rx))
            .expect("spawn the stdin thread");
        Mutex::new(tx)
    });
    if lock(tx).send(req).is_err() {
        return Ok(error(p, "terminated"));
    }
    Ok(ok())
}

fn stdin_thread(rx: mpsc::Receiver<StdinRequest>) {
    let stdin = std::io::stdin();
    while let Ok(req) = rx.recv() {
        let mut input = stdin.lock();
        let mut next = || -> Option<u8> {
            {
                let mut pb = lock(&PUSHBACK);
                if let Some(b) = pb.pop_front() {
                    return Some(b);
                }
            }
            let buf = input.fill_buf().ok()?;
            let b = *buf.first()?;
            input.consume(1);
            Some(b)
        };
        let mut out = Vec::new();
        match req.want {
            Want::Line => {
                while let Some(b) = next() {
                    out.push(b);
                    if b == b'\n' {
                        break;
                    }
                }
            }
            Want::Chunk => {
                while let Some(b) = next() {
                    out.push(b);
                    // Stop at a newline, or past 4096 bytes at the start
                    // of a UTF-8 character.
                    if b == b'\n' {
                        break;
                    }
                    if out.len() >= 4096 && utf8_len(b) == 1 && b < 0x80 {
                        break;
                    }
                }
            }
            Want::Chars(n) => {
                let mut chars = 0;
                while chars < n {
                    let Some(b) = next() else { break };
                    out.push(b);
                    for _ in 1..utf8_len(b) {
                        match next() {
                            Some(c) => out.push(c),
                            None => break,
                        }
                    }
                    chars += 1;
                }
            }
        }
        let mut heap = Heap::new();
        let h = &mut heap;
        let tag_atom = h.atom("erts_stdin");
        let result = if out.is_empty() && !matches!(req.want, Want::Chars(0)) {
            eof()
        } else {
            let b = h.binary(&out);
            h.tuple(&[ok(), b])
        };
        let msg = h.tuple(&[tag_atom, Term::small(req.tag), result]);
        req.vm.deliver(req.pid, Message::copy(MsgKind::Msg, msg));
    }
}
