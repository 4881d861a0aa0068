//! The interactive shell (`minierl shell`, or `minierl` alone).
//!
//! Three parts, as in Erlang's shell (`spec/shell.md` has the design):
//! - the terminal thread (`term.rs`) owns the terminal: it reads lines
//!   (rustyline on a tty, plain lines from a pipe), cuts them into
//!   expressions at full stops, and sends each to the shell server as a
//!   message; output of processes goes through `format::out`'s sink so it
//!   appears above the line being typed;
//! - the shell server (`stdlib/lib/shell.mrl`), the main process: it keeps
//!   the bindings, the command counter and the result history, compiles
//!   each expression (`minierl_shell:compile/2` below) and prints results
//!   and errors;
//! - an evaluator process runs each compiled expression, so `self()`,
//!   `receive` and `flush()` act on it; when it crashes the server prints
//!   the exception and starts a new one, the bindings survive.
//!
//! The BIFs of module `minierl_shell` are the server's link to Rust.

pub mod term;

use crate::atom::{self, Atom};
use crate::bif::{bif, BifDef};
use crate::format::{self, pretty};
use crate::process::{BifResult, Class, Exc, Process};
use crate::term::Term;
use std::sync::atomic::{AtomicU64, Ordering};

pub use term::run;

pub const BIFS: &[BifDef] = &[
    bif("minierl_shell", "read", 1, read),
    bif("minierl_shell", "compile", 2, compile),
    bif("minierl_shell", "format_value", 1, |p, a| {
        let s = format_value(a[0]);
        Ok(p.heap.string(&s))
    }),
    bif("minierl_shell", "format_exception", 3, format_exception),
    bif("minierl_shell", "pid", 3, pid3),
];

/// The shell prints results as `~P` with this depth (Erlang's shell: the
/// same `?LINEMAX` of 30 its exception reports use).
const RESULT_DEPTH: i64 = 30;

/// At most this many characters of a result on one line, indentation not
/// counted (Erlang's shell passes 60 as `line_max_chars`).
const RESULT_LINE_MAX: i64 = 60;

/// Prefix of the modules expressions compile into; hidden from `m()` and
/// cut from the stack traces the shell prints.
pub const MODULE_PREFIX: &str = "$shell_";

/// Numbers the generated modules: each expression gets a module of its own
/// that is never reloaded, so funs made by earlier expressions keep their
/// code.
static NEXT_MODULE: AtomicU64 = AtomicU64::new(1);

/// `minierl_shell:read(N)`: ask the terminal for the next expression with
/// prompt `N> `; it answers with a message to the caller
/// (`{minierl_shell, expr, Text}` or `{minierl_shell, eof}`).
fn read(p: &mut Process, a: &[Term]) -> BifResult {
    let n = a[0].as_small().ok_or_else(Exc::badarg)?;
    if term::request_read(n, p.pid) {
        Ok(Term::atom(atom::intern("ok")))
    } else {
        Err(Exc::badarg())
    }
}

fn names_of(list: Term) -> Option<Vec<String>> {
    let mut v = Vec::new();
    let mut it = list.iter_list();
    for t in it.by_ref() {
        v.push(t.atom_name()?.to_string());
    }
    if !it.tail().is_nil() {
        return None;
    }
    Some(v)
}

/// The text of diagnostics as the shell prints them: `* L:C: message`,
/// positions relative to the expression's text.
fn diag_text(source: &str, diags: &[minierl_compiler::Diagnostic]) -> String {
    let mut ds: Vec<_> = diags.iter().collect();
    ds.sort_by_key(|d| d.span.start);
    let mut out = String::new();
    for d in ds {
        let (l, c) = minierl_compiler::diag::line_col(source, d.span.start as usize);
        out.push_str(&format!("* {l}:{c}: {}\n", d.message));
    }
    out
}

/// `minierl_shell:compile(Text, Names)`: compile the expressions `Text`
/// with the bound variables `Names` and load the module. Returns
/// `{ok, Module, NewNames}`, `{syntax_error, Message}` or
/// `{error, Message}`.
fn compile(p: &mut Process, a: &[Term]) -> BifResult {
    let text = crate::bif::erlang::list_text(a[0]).ok_or_else(Exc::badarg)?;
    let names = names_of(a[1]).ok_or_else(Exc::badarg)?;
    let n = NEXT_MODULE.fetch_add(1, Ordering::Relaxed);
    let module_name = format!("{MODULE_PREFIX}{n}");
    // The compiler recurses on nesting: a large stack, as for files.
    let result = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("shell compiler".into())
            .stack_size(1 << 28)
            .spawn_scoped(s, || minierl_compiler::shell::compile_shell(&module_name, &text, &names))
            .ok()?
            .join()
            .ok()
    });
    let tag = |p: &mut Process, t: &str, msg: &str| {
        let s = p.heap.string(msg);
        Ok(p.heap.tuple(&[Term::atom(atom::intern(t)), s]))
    };
    match result {
        None => tag(p, "error", "* internal compiler error\n"),
        Some(Err(minierl_compiler::shell::ShellError::Syntax(ds))) => tag(p, "syntax_error", &diag_text(&text, &ds)),
        Some(Err(minierl_compiler::shell::ShellError::Check(ds))) => tag(p, "error", &diag_text(&text, &ds)),
        Some(Ok(c)) => match crate::loader::load(&p.vm.code, &c.module) {
            Ok(_) => {
                let names: Vec<Term> = c.bound.iter().map(|n| Term::atom(atom::intern(n))).collect();
                let l = p.heap.list(&names);
                Ok(p.heap.tuple(&[Term::atom(atom::intern("ok")), Term::atom(atom::intern(&module_name)), l]))
            }
            Err(e) => tag(p, "error", &format!("* cannot load the expression: {e}\n")),
        },
    }
}

/// A result as the shell prints it: `~P` with depth 30 from column 1.
pub fn format_value(t: Term) -> String {
    format::with_stack_for(&[t], || {
        let mut s = String::new();
        let opts = pretty::PrettyOpts { depth: RESULT_DEPTH, line_max: RESULT_LINE_MAX, ..Default::default() };
        pretty::pretty(&mut s, &format::from_term(t), opts);
        s
    })
    .unwrap_or_else(|| "...".into())
}

/// True for a stack frame of the shell's own code (a generated module or
/// the shell server and evaluator).
fn is_shell_frame(frame: Term) -> bool {
    let m = frame.tuple_elements().and_then(|e| e.first().copied()).and_then(|m| m.atom_name());
    matches!(m, Some(m) if m.starts_with(MODULE_PREFIX) || m == "shell")
}

/// `minierl_shell:format_exception(Class, Reason, Stack)`: the text the
/// shell prints (`** exception error: ...`), with the frames of the shell's
/// own code cut from the stack trace, as Erlang's shell does.
fn format_exception(p: &mut Process, a: &[Term]) -> BifResult {
    let class = match a[0].atom_name() {
        Some("error") => Class::Error,
        Some("exit") => Class::Exit,
        Some("throw") => Class::Throw,
        _ => return Err(Exc::badarg()),
    };
    let mut trace = a[2];
    if trace.list_length().is_some() {
        let frames: Vec<Term> = trace.iter_list().take_while(|f| !is_shell_frame(*f)).collect();
        trace = p.heap.list(&frames);
    }
    let text = crate::report::uncaught(class, a[1], trace);
    Ok(p.heap.string(&text))
}

/// `pid(0, N, 0)`: the pid `<0.N.0>`.
fn pid3(_: &mut Process, a: &[Term]) -> BifResult {
    match (a[0].as_small(), a[1].as_small(), a[2].as_small()) {
        (Some(0), Some(n), Some(0)) if n >= 0 => Ok(Term::pid(n as u64)),
        _ => Err(Exc::badarg()),
    }
}

/// The atom `minierl_shell`, the tag of the terminal's messages.
fn tag_atom() -> Atom {
    atom::intern("minierl_shell")
}
