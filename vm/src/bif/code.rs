//! Code loading BIFs: the `code` module, `compile:file/1,2`, the code
//! BIFs of `erlang` (`check_old_code`, `delete_module`, `purge_module`,
//! `processes`) and the few `file` functions programs that compile at run
//! time need. `spec/code-loading.md` documents the rules.
//!
//! What must wait (`code:purge/1`, `code:soft_purge/1`,
//! `erlang:check_process_code/2,3`) is written in minierl
//! (`stdlib/lib/erts_code_purger.mrl`); the entries here forward to it
//! (`Special::Forward`). It asks each process whether it lingers in old
//! code with a `CheckCode` signal (`erts_code:check_request/3`); the
//! scheduler running that process answers between two time slices
//! (`answer_code_checks`), so no process ever reads another's stack, and a
//! lingering process is killed with the ordinary exit signal `kill`.

use super::{bif, BifDef};
use crate::atom::{self, Atom};
use crate::code::{LoadError, Special};
use crate::process::{BifResult, Exc, Message, MsgKind, Process};
use crate::term::Term;
use std::path::{Path, PathBuf};

const fn forward(module: &'static str, function: &'static str, arity: u8, to: &'static str) -> BifDef {
    BifDef {
        module,
        function,
        arity,
        fun: |_, _| Err(Exc::badarg()),
        special: Special::Forward("erts_code_purger", to),
    }
}

pub const BIFS: &[BifDef] = &[
    bif("code", "is_loaded", 1, is_loaded),
    bif("code", "all_loaded", 0, all_loaded),
    bif("code", "which", 1, which),
    bif("code", "add_path", 1, |p, a| add_path(p, a[0], false)),
    bif("code", "add_pathz", 1, |p, a| add_path(p, a[0], false)),
    bif("code", "add_patha", 1, |p, a| add_path(p, a[0], true)),
    bif("code", "get_path", 0, get_path),
    bif("code", "load_file", 1, load_file),
    bif("code", "ensure_loaded", 1, ensure_loaded),
    bif("code", "load_abs", 1, load_abs),
    forward("code", "load_binary", 3, "load_binary"),
    bif("erts_code", "load_binary", 3, load_binary),
    bif("code", "delete", 1, |p, a| Ok(Term::bool(p.vm.code.delete(module_arg(a[0])?)))),
    forward("code", "purge", 1, "purge"),
    forward("code", "soft_purge", 1, "soft_purge"),
    forward("erlang", "check_process_code", 2, "check_process_code"),
    forward("erlang", "check_process_code", 3, "check_process_code"),
    bif("erlang", "check_old_code", 1, |p, a| Ok(Term::bool(p.vm.code.slots(module_arg(a[0])?).old.is_some()))),
    bif("erlang", "delete_module", 1, delete_module),
    bif("erlang", "purge_module", 1, purge_module),
    bif("erlang", "processes", 0, |p, _| {
        let pids: Vec<Term> = p.vm.pids().into_iter().map(Term::pid).collect();
        Ok(p.heap.list(&pids))
    }),
    bif("erts_code", "check_request", 3, check_request),
    bif("compile", "file", 1, |p, a| compile_file(p, a[0], Term::NIL, true)),
    bif("compile", "file", 2, |p, a| compile_file(p, a[0], a[1], false)),
    bif("file", "write_file", 2, write_file),
    bif("file", "read_file", 1, read_file),
    bif("file", "get_cwd", 0, |p, _| {
        Ok(match std::env::current_dir() {
            Ok(d) => {
                let s = p.heap.string(&d.to_string_lossy());
                p.heap.tuple(&[Term::atom(atom::OK), s])
            }
            Err(e) => posix(p, &e),
        })
    }),
    bif("file", "list_dir", 1, |p, a| {
        let f = filename(a[0]).ok_or_else(Exc::badarg)?;
        Ok(match std::fs::read_dir(&f) {
            Ok(rd) => {
                let names: Vec<String> =
                    rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
                let terms: Vec<Term> = names.iter().map(|n| p.heap.string(n)).collect();
                let l = p.heap.list(&terms);
                p.heap.tuple(&[Term::atom(atom::OK), l])
            }
            Err(e) => posix(p, &e),
        })
    }),
    bif("file", "rename", 2, |p, a| {
        let (Some(from), Some(to)) = (filename(a[0]), filename(a[1])) else { return Err(Exc::badarg()) };
        Ok(match std::fs::rename(&from, &to) {
            Ok(()) => Term::atom(atom::OK),
            Err(e) => posix(p, &e),
        })
    }),
    bif("file", "make_dir", 1, |p, a| file_op(p, a[0], |f| std::fs::create_dir(f))),
    bif("file", "del_dir", 1, |p, a| file_op(p, a[0], |f| std::fs::remove_dir(f))),
];

fn module_arg(t: Term) -> Result<Atom, Exc> {
    t.as_atom().ok_or_else(Exc::badarg)
}

/// A file name: a string, a binary, an atom or a deep list of them.
pub fn filename(t: Term) -> Option<String> {
    if let Some(a) = t.as_atom() {
        return Some(a.name().to_string());
    }
    let mut out = Vec::new();
    if !flatten_name(t, &mut out) {
        return None;
    }
    Some(out.into_iter().collect())
}

/// Flattens a deep name iteratively (an explicit stack, so a list nested
/// 100,000 deep in its heads is no stack overflow). `(t, true)` on the
/// stack is the rest of a list, which must be `[]` or a cons.
fn flatten_name(t: Term, out: &mut Vec<char>) -> bool {
    let mut stack = vec![(t, false)];
    while let Some((t, rest)) = stack.pop() {
        if t == Term::NIL {
            continue;
        }
        if let Some((h, tl)) = t.cons_parts() {
            stack.push((tl, true));
            if let Some(c) = h.as_small() {
                match u32::try_from(c).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => return false,
                }
            } else {
                stack.push((h, false));
            }
            continue;
        }
        if rest {
            return false;
        }
        if let Some(a) = t.as_atom() {
            out.extend(a.name().chars());
        } else if let Some(b) = t.binary_bytes() {
            out.extend(String::from_utf8_lossy(b).chars());
        } else {
            return false;
        }
    }
    true
}

fn err(p: &mut Process, reason: &str) -> Term {
    let r = p.heap.atom(reason);
    p.heap.tuple(&[Term::atom(atom::ERROR), r])
}

fn ok_module(p: &mut Process, m: Atom) -> Term {
    p.heap.tuple(&[Term::atom(atom::intern("module")), Term::atom(m)])
}

fn file_of(p: &Process, m: Atom) -> Option<String> {
    let inst = p.vm.code.slots(m).current?;
    Some(p.vm.code.files.lock().unwrap().get(&m).cloned().unwrap_or_else(|| inst.source.clone()))
}

fn is_loaded(p: &mut Process, a: &[Term]) -> BifResult {
    let m = module_arg(a[0])?;
    Ok(match file_of(p, m) {
        Some(f) => {
            let s = p.heap.string(&f);
            p.heap.tuple(&[Term::atom(atom::FILE), s])
        }
        None => Term::FALSE,
    })
}

fn all_loaded(p: &mut Process, _: &[Term]) -> BifResult {
    let mut mods: Vec<Atom> = p.vm.code.loaded().into_iter().map(|(m, _)| m).collect();
    mods.sort_by(|a, b| a.name().cmp(b.name()));
    let mut items = Vec::new();
    for m in mods {
        let f = file_of(p, m).unwrap_or_default();
        let s = p.heap.string(&f);
        items.push(p.heap.tuple(&[Term::atom(m), s]));
    }
    Ok(p.heap.list(&items))
}

/// Where `NAME.mrlb` (or, failing that, `NAME.mrl`) is on the code path.
fn find_on_path(p: &Process, name: &str) -> Option<PathBuf> {
    let path = p.vm.code_path.read().unwrap().clone();
    for dir in &path {
        let obj = dir.join(format!("{name}.mrlb"));
        if obj.is_file() {
            return Some(obj);
        }
        let src = dir.join(format!("{name}.mrl"));
        if src.is_file() {
            return Some(src);
        }
    }
    None
}

fn which(p: &mut Process, a: &[Term]) -> BifResult {
    let m = module_arg(a[0])?;
    let embedded = p.vm.embedded.read().unwrap().iter().any(|(n, _)| *n == m.name());
    let f = file_of(p, m)
        .or_else(|| embedded.then(|| format!("{}.mrlb", m.name())))
        .or_else(|| find_on_path(p, m.name()).map(|f| f.display().to_string()));
    Ok(match f {
        Some(f) => p.heap.string(&f),
        None => Term::atom(atom::intern("non_existing")),
    })
}

fn add_path(p: &mut Process, dir: Term, front: bool) -> BifResult {
    let d = filename(dir).ok_or_else(Exc::badarg)?;
    if !Path::new(&d).is_dir() {
        return Ok(err(p, "bad_directory"));
    }
    let mut path = p.vm.code_path.write().unwrap();
    let d = PathBuf::from(d);
    path.retain(|x| *x != d);
    if front {
        path.insert(0, d);
    } else {
        path.push(d);
    }
    Ok(Term::TRUE)
}

fn get_path(p: &mut Process, _: &[Term]) -> BifResult {
    let path = p.vm.code_path.read().unwrap().clone();
    let items: Vec<Term> = path.iter().map(|d| p.heap.string(&d.display().to_string())).collect();
    Ok(p.heap.list(&items))
}

/// Load `module` (already decoded) as `m`, recording `file`.
fn load_module(p: &mut Process, m: Atom, module: &minierl_bytecode::Module, file: &str) -> Term {
    if module.name() != m.name() {
        return err(p, "badfile");
    }
    if p.vm.code.slots(m).old.is_some() && p.vm.code.slots(m).current.is_some() {
        return err(p, "not_purged");
    }
    match crate::loader::load(&p.vm.code, module) {
        Ok(_) => {
            p.vm.code.files.lock().unwrap().insert(m, file.to_string());
            ok_module(p, m)
        }
        Err(LoadError::NotPurged) => err(p, "not_purged"),
        Err(LoadError::BadFile(_)) => err(p, "badfile"),
    }
}

/// Read a compiled (`.mrlb`) or source (`.mrl`, `.erl`) file as a module.
fn read_module(p: &Process, f: &Path) -> Result<minierl_bytecode::Module, &'static str> {
    let is_src = f.extension().is_some_and(|e| e == "mrl" || e == "erl");
    if is_src {
        let Some(compile) = *p.vm.compiler.read().unwrap() else { return Err("nofile") };
        return compile(f).map_err(|_| "badfile");
    }
    let bytes = std::fs::read(f).map_err(|_| "nofile")?;
    minierl_bytecode::decode(&bytes).map_err(|_| "badfile")
}

fn load_file(p: &mut Process, a: &[Term]) -> BifResult {
    let m = module_arg(a[0])?;
    if p.vm.code.slots(m).old.is_some() && p.vm.code.slots(m).current.is_some() {
        return Ok(err(p, "not_purged"));
    }
    let embedded = p.vm.embedded.read().unwrap().iter().find(|(n, _)| *n == m.name()).map(|e| e.1);
    if let Some(bytes) = embedded {
        return Ok(match minierl_bytecode::decode(bytes) {
            Ok(module) => load_module(p, m, &module, &format!("{}.mrlb", m.name())),
            Err(_) => err(p, "badfile"),
        });
    }
    let Some(f) = find_on_path(p, m.name()) else { return Ok(err(p, "nofile")) };
    Ok(match read_module(p, &f) {
        Ok(module) => load_module(p, m, &module, &f.display().to_string()),
        Err(e) => err(p, e),
    })
}

fn ensure_loaded(p: &mut Process, a: &[Term]) -> BifResult {
    let m = module_arg(a[0])?;
    if p.vm.code.slots(m).current.is_some() || p.vm.autoload(m) {
        return Ok(ok_module(p, m));
    }
    Ok(err(p, "nofile"))
}

/// `code:load_abs(File)`: File without extension; `.mrlb` is added.
fn load_abs(p: &mut Process, a: &[Term]) -> BifResult {
    let f = filename(a[0]).ok_or_else(Exc::badarg)?;
    let obj = PathBuf::from(format!("{f}.mrlb"));
    let m = atom::intern(&obj.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    if p.vm.code.slots(m).old.is_some() && p.vm.code.slots(m).current.is_some() {
        return Ok(err(p, "not_purged"));
    }
    Ok(match read_module(p, &obj) {
        Ok(module) => load_module(p, m, &module, &obj.display().to_string()),
        Err(e) => err(p, e),
    })
}

fn load_binary(p: &mut Process, a: &[Term]) -> BifResult {
    let m = module_arg(a[0])?;
    let file = filename(a[1]).ok_or_else(Exc::badarg)?;
    let bytes = a[2].binary_bytes().ok_or_else(Exc::badarg)?;
    Ok(match minierl_bytecode::decode(bytes) {
        Ok(module) => load_module(p, m, &module, &file),
        Err(_) => err(p, "badfile"),
    })
}

fn delete_module(p: &mut Process, a: &[Term]) -> BifResult {
    let m = module_arg(a[0])?;
    let s = p.vm.code.slots(m);
    match (s.current, s.old) {
        (None, _) => Ok(Term::atom(atom::intern("undefined"))),
        (Some(_), Some(_)) => Err(Exc::badarg()),
        (Some(_), None) => Ok(Term::bool(p.vm.code.delete(m))),
    }
}

fn purge_module(p: &mut Process, a: &[Term]) -> BifResult {
    let m = module_arg(a[0])?;
    match p.vm.code.purge_old(m) {
        Some(_) => Ok(Term::TRUE),
        None => Err(Exc::badarg()),
    }
}

/// `erts_code:check_request(Pid, Module, Ref)`: ask `Pid` whether it
/// lingers in the old code of `Module`; it answers
/// `{'$check_process_code', Ref, Bool}`. False (no request sent) when the
/// module has no old code or the process does not exist.
fn check_request(p: &mut Process, a: &[Term]) -> BifResult {
    let pid = a[0].pid_number().ok_or_else(Exc::badarg)?;
    let m = module_arg(a[1])?;
    let r = a[2].ref_number().ok_or_else(Exc::badarg)?;
    if p.vm.code.slots(m).old.is_none() || !p.vm.is_alive(pid) {
        return Ok(Term::FALSE);
    }
    p.vm.deliver(pid, Message::signal(MsgKind::CheckCode { from: p.pid, r, module: m }));
    Ok(Term::TRUE)
}

/// Does `p` (at rest between time slices) linger in the old code of `m`:
/// its resume address, a continuation pointer or a catch on its stack is
/// in it? (Funs do not count, as in OTP 20 and later.)
pub fn lingers(p: &Process, m: Atom) -> bool {
    let Some(old) = p.vm.code.slots(m).old else { return false };
    if old.contains(p.ip) {
        return true;
    }
    p.stack.iter().any(|t| t.as_cp().or_else(|| t.as_catch()).is_some_and(|c| old.contains(c as *const crate::op::Op)))
}

/// Answer the `check_process_code` requests `p` has taken in. Called by
/// the scheduler between time slices (`p.ip` and the stack are at rest).
pub fn answer_code_checks(p: &mut Process) {
    if p.code_checks.is_empty() {
        return;
    }
    for (from, r, m) in std::mem::take(&mut p.code_checks) {
        let ans = Term::bool(lingers(p, m));
        let rt = p.heap.reference(r);
        let t = p.heap.tuple(&[Term::atom(atom::intern("$check_process_code")), rt, ans]);
        p.vm.deliver(from, Message::copy(MsgKind::Msg, t));
    }
}

/// Compile `source` (named `shown`) on a thread with a large stack.
/// The module name is taken from `-module`, whatever the file's name: the
/// compiler is given `NAME.erl` as the file name.
fn compile_source(shown: &str, source: &str) -> Result<minierl_compiler::Compiled, Vec<minierl_compiler::Diagnostic>> {
    let name = declared_module(source)
        .map(|m| format!("{m}.erl"))
        .unwrap_or_else(|| Path::new(shown).file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(s, || minierl_compiler::compile(&name, source, &minierl_compiler::Options::default()))
            .expect("compiler thread")
            .join()
            .unwrap_or_else(|_| Err(Vec::new()))
    })
}

/// The name in the first `-module(NAME).` of a source text, if any.
fn declared_module(source: &str) -> Option<String> {
    let mut rest = source;
    loop {
        let i = rest.find("-module")?;
        let line_start = rest[..i].rfind('\n').map(|k| k + 1).unwrap_or(0);
        let before = &rest[line_start..i];
        rest = &rest[i + 7..];
        if before.contains('%') {
            continue;
        }
        let r = rest.trim_start().strip_prefix('(')?;
        let end = r.find(')')?;
        let n = r[..end].trim();
        let n = n.strip_prefix('\'').and_then(|n| n.strip_suffix('\'')).unwrap_or(n);
        return Some(n.to_string());
    }
}

/// `compile:file(File, Options)`: options `binary`, `{outdir, Dir}`,
/// `return` (`return_errors`, `return_warnings`), `report`
/// (`report_errors`, `report_warnings`); others are ignored. The module name
/// comes from `-module`. Without `binary`, writes `NAME.mrlb` in `outdir`
/// (default: the current directory, as `erlc` and OTP's `compile:file`).
fn compile_file(p: &mut Process, file: Term, opts: Term, defaults: bool) -> BifResult {
    let f = filename(file).ok_or_else(Exc::badarg)?;
    let opts = if opts == Term::NIL || opts.list_length().is_some() {
        opts.list_to_vec().ok_or_else(Exc::badarg)?
    } else {
        vec![opts]
    };
    let (mut binary, mut ret, mut report, mut outdir) = (false, false, false, None);
    for o in opts {
        match o.atom_name() {
            Some("binary") => binary = true,
            Some("return") | Some("return_errors") => ret = true,
            Some("report") | Some("report_errors") | Some("verbose") => report = true,
            _ => {
                if let Some([k, v]) = o.tuple_elements() {
                    if k.atom_name() == Some("outdir") {
                        outdir = Some(filename(*v).ok_or_else(Exc::badarg)?);
                    }
                }
            }
        }
    }
    if defaults {
        // compile:file/1: [verbose, report_errors, report_warnings].
        report = true;
    }
    // As OTP: a name without `.erl` gets it; minierl also takes `.mrl`, and
    // a bare NAME whose NAME.mrl exists.
    let path = if f.ends_with(".erl") || f.ends_with(".mrl") {
        f.clone()
    } else if Path::new(&format!("{f}.mrl")).is_file() {
        format!("{f}.mrl")
    } else {
        format!("{f}.erl")
    };
    // `{error, Errors, Warnings}` with `return`, else `error`.
    let fail = |p: &mut Process, errors: Term, warnings: Term| -> Term {
        if ret {
            let e = Term::atom(atom::ERROR);
            p.heap.tuple(&[e, errors, warnings])
        } else {
            Term::atom(atom::ERROR)
        }
    };
    let source = match std::fs::read(&path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
        },
        Err(_) => {
            if report {
                crate::format::out::write_chars(
                    crate::format::out::Device::Stdout,
                    &format!("{path}: no such file or directory\n"),
                );
            }
            // OTP: [{File, [{none, compile, {epp, enoent}}]}].
            let desc = {
                let (epp, enoent) = (p.heap.atom("epp"), p.heap.atom("enoent"));
                p.heap.tuple(&[epp, enoent])
            };
            let item = {
                let (none, compile) = (p.heap.atom("none"), p.heap.atom("compile"));
                p.heap.tuple(&[none, compile, desc])
            };
            let items = p.heap.list(&[item]);
            let f = p.heap.string(&path);
            let entry = p.heap.tuple(&[f, items]);
            let errors = p.heap.list(&[entry]);
            return Ok(fail(p, errors, Term::NIL));
        }
    };
    // Compiling is long work: charge a full slice and more, so the caller
    // lets the others run once it returns (OTP's compiler, written in
    // Erlang, spends thousands of reductions on the smallest module).
    p.charge(4000 + source.len() as u64 / 4);
    let compiled = match compile_source(&path, &source) {
        Ok(c) => {
            if report && !c.warnings.is_empty() {
                crate::format::out::write_chars(
                    crate::format::out::Device::Stdout,
                    &minierl_compiler::diag::render(&path, &source, &c.warnings, false),
                );
            }
            c
        }
        Err(diags) => {
            if report {
                crate::format::out::write_chars(
                    crate::format::out::Device::Stdout,
                    &minierl_compiler::diag::render(&path, &source, &diags, false),
                );
            }
            let (errors, warnings): (Vec<_>, Vec<_>) =
                diags.iter().partition(|d| d.severity == minierl_compiler::diag::Severity::Error);
            let errors = error_list(p, &path, &source, &errors);
            let warnings = error_list(p, &path, &source, &warnings);
            return Ok(fail(p, errors, warnings));
        }
    };
    let m = atom::intern(compiled.module.name());
    let warnings = {
        let w: Vec<_> = compiled.warnings.iter().collect();
        error_list(p, &path, &source, &w)
    };
    let bytes = minierl_bytecode::encode(&compiled.module);
    let ok = Term::atom(atom::OK);
    if binary {
        let b = p.heap.binary(&bytes);
        return Ok(if ret {
            p.heap.tuple(&[ok, Term::atom(m), b, warnings])
        } else {
            p.heap.tuple(&[ok, Term::atom(m), b])
        });
    }
    let stem = Path::new(&path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem != m.name() {
        if report {
            crate::format::out::write_chars(
                crate::format::out::Device::Stdout,
                &format!("{path}: Module name '{}' does not match file name '{stem}'\n", m.name()),
            );
        }
        return Ok(fail(p, Term::NIL, Term::NIL));
    }
    let dir = outdir.unwrap_or_else(|| ".".to_string());
    let dest = Path::new(&dir).join(format!("{}.mrlb", m.name()));
    if std::fs::write(&dest, &bytes).is_err() {
        if report {
            crate::format::out::write_chars(
                crate::format::out::Device::Stdout,
                &format!("{}: cannot write\n", dest.display()),
            );
        }
        return Ok(fail(p, Term::NIL, Term::NIL));
    }
    Ok(if ret { p.heap.tuple(&[ok, Term::atom(m), warnings]) } else { p.heap.tuple(&[ok, Term::atom(m)]) })
}

/// Diagnostics as OTP's `return` option gives them: `[{File, [{{Line,
/// Col}, Module, Descriptor}]}]`, the scanner's and parser's in one group and
/// the checker's in another, as OTP does. Descriptors follow OTP's for the
/// common cases (`{unbound_var,'X'}`, `{unused_function,{g,0}}`, ...);
/// the others are `{Loc, minierl_compiler, Message}` with the message text.
fn error_list(p: &mut Process, path: &str, source: &str, diags: &[&minierl_compiler::Diagnostic]) -> Term {
    let mut groups: Vec<(bool, Vec<Term>)> = Vec::new();
    for d in diags {
        let (line, col) = minierl_compiler::diag::line_col(source, d.span.start as usize);
        let (l, c) = (Term::small(line as i64), Term::small(col as i64));
        let loc = p.heap.tuple(&[l, c]);
        let (module, desc) = descriptor(p, d);
        let m = p.heap.atom(module);
        let item = p.heap.tuple(&[loc, m, desc]);
        // Codes E0xxx..E3xxx are the scanner's, preprocessor's and parser's.
        let syntax = d.code.as_bytes().get(2).is_some_and(|&c| c < b'4');
        match groups.last_mut() {
            Some((s, items)) if *s == syntax => items.push(item),
            _ => groups.push((syntax, vec![item])),
        }
    }
    let mut entries = Vec::new();
    for (_, items) in groups {
        let f = p.heap.string(path);
        let l = p.heap.list(&items);
        entries.push(p.heap.tuple(&[f, l]));
    }
    p.heap.list(&entries)
}

/// OTP's module and descriptor for one diagnostic, read back from its
/// message (whose wording is erl_lint's and erl_parse's).
fn descriptor(p: &mut Process, d: &minierl_compiler::Diagnostic) -> (&'static str, Term) {
    let msg = d.message.as_str();
    // 'X' or X -> the atom.
    fn name(s: &str) -> String {
        s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).unwrap_or(s).to_string()
    }
    // "f/2" -> {f, 2}
    fn fa(p: &mut Process, s: &str) -> Option<Term> {
        let (f, a) = s.rsplit_once('/')?;
        let a: i64 = a.parse().ok()?;
        let f = p.heap.atom(&name(f));
        Some(p.heap.tuple(&[f, Term::small(a)]))
    }
    let tagged = |p: &mut Process, tag: &str, v: Term| -> Term {
        let t = p.heap.atom(tag);
        p.heap.tuple(&[t, v])
    };
    if let Some(rest) = msg.strip_prefix("syntax error before: ") {
        let a = p.heap.string("syntax error before: ");
        let b = p.heap.string(rest);
        return ("erl_parse", p.heap.list(&[a, b]));
    }
    let lint: Option<Term> = (|| {
        let words: Vec<&str> = msg.split(' ').collect();
        match words.as_slice() {
            ["variable", v, "is", "unbound"] => {
                let v = p.heap.atom(&name(v));
                Some(tagged(p, "unbound_var", v))
            }
            ["variable", v, "is", "unused"] => {
                let v = p.heap.atom(&name(v));
                Some(tagged(p, "unused_var", v))
            }
            ["function", f, "is", "unused"] => {
                let f = fa(p, f)?;
                Some(tagged(p, "unused_function", f))
            }
            ["function", f, "undefined"] => {
                let f = fa(p, f)?;
                Some(tagged(p, "undefined_function", f))
            }
            ["function", f, "already", "defined"] => {
                let f = fa(p, f)?;
                Some(tagged(p, "redefine_function", f))
            }
            ["function", f, "already", "exported"] => {
                let f = fa(p, f)?;
                Some(tagged(p, "duplicated_export", f))
            }
            ["record", r, "undefined"] => {
                let r = p.heap.atom(&name(r));
                Some(tagged(p, "undefined_record", r))
            }
            ["record", r, "is", "unused"] => {
                let r = p.heap.atom(&name(r));
                Some(tagged(p, "unused_record", r))
            }
            ["record", r, "already", "defined"] => {
                let r = p.heap.atom(&name(r));
                Some(tagged(p, "redefine_record", r))
            }
            ["variable", v, kind @ ("unsafe" | "exported"), in_from, what, "(line", l, "column", c] => {
                let l: i64 = l.trim_end_matches(',').parse().ok()?;
                let c: i64 = c.trim_end_matches(')').parse().ok()?;
                if !matches!((*kind, *in_from), ("unsafe", "in") | ("exported", "from")) {
                    return None;
                }
                let v = p.heap.atom(&name(v));
                let w = p.heap.atom(&name(what));
                let lc = p.heap.tuple(&[Term::small(l), Term::small(c)]);
                let place = p.heap.tuple(&[w, lc]);
                let tag = p.heap.atom(if *kind == "unsafe" { "unsafe_var" } else { "exported_var" });
                Some(p.heap.tuple(&[tag, v, place]))
            }
            ["variable", v, "shadowed", "in", what] => {
                let v = p.heap.atom(&name(v));
                let w = p.heap.atom(&name(what));
                let tag = p.heap.atom("shadowed_var");
                Some(p.heap.tuple(&[tag, v, w]))
            }
            _ => None,
        }
    })();
    match lint {
        Some(t) => ("erl_lint", t),
        None => ("minierl_compiler", p.heap.string(msg)),
    }
}

fn posix(p: &mut Process, e: &std::io::Error) -> Term {
    err(p, posix_name(e))
}

/// OTP's POSIX error atom for an IO error (Linux errno values).
pub fn posix_name(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.raw_os_error() {
        Some(1) => "eperm",
        Some(2) => "enoent",
        Some(5) => "eio",
        Some(9) => "ebadf",
        Some(13) => "eacces",
        Some(16) => "ebusy",
        Some(17) => "eexist",
        Some(18) => "exdev",
        Some(20) => "enotdir",
        Some(21) => "eisdir",
        Some(22) => "einval",
        Some(23 | 24) => "emfile",
        Some(27) => "efbig",
        Some(28) => "enospc",
        Some(29) => "espipe",
        Some(30) => "erofs",
        Some(32) => "epipe",
        Some(36) => "enametoolong",
        // ENOTEMPTY: OTP reports `eexist` for a directory not empty.
        Some(39) => "eexist",
        Some(40) => "eloop",
        _ => match e.kind() {
            NotFound => "enoent",
            PermissionDenied => "eacces",
            AlreadyExists => "eexist",
            _ => "eio",
        },
    }
}

fn file_op(p: &mut Process, f: Term, op: fn(&Path) -> std::io::Result<()>) -> BifResult {
    let f = filename(f).ok_or_else(Exc::badarg)?;
    Ok(match op(Path::new(&f)) {
        Ok(()) => Term::atom(atom::OK),
        Err(e) => posix(p, &e),
    })
}

fn write_file(p: &mut Process, a: &[Term]) -> BifResult {
    let f = filename(a[0]).ok_or_else(Exc::badarg)?;
    let mut bytes = Vec::new();
    if !crate::bif::erlang::iolist_bytes(a[1], &mut bytes) {
        return Ok(err(p, "badarg"));
    }
    Ok(match std::fs::write(&f, &bytes) {
        Ok(()) => Term::atom(atom::OK),
        Err(e) => posix(p, &e),
    })
}

fn read_file(p: &mut Process, a: &[Term]) -> BifResult {
    let f = filename(a[0]).ok_or_else(Exc::badarg)?;
    Ok(match std::fs::read(&f) {
        Ok(b) => {
            let bin = p.heap.binary(&b);
            p.heap.tuple(&[Term::atom(atom::OK), bin])
        }
        Err(e) => posix(p, &e),
    })
}
