//! BIFs the OTP behaviours written in minierl need (`stdlib/lib/proc_lib.mrl`,
//! `gen_server.mrl`, `supervisor.mrl`): `erlang:pid_to_list/1`, and
//! `erts_internal:exception_text/3`, the shell's explanation of an exception
//! (`report::uncaught`), which a crash report prints (`spec/otp.md`).

use super::{bif, BifDef};
use crate::atom;
use crate::process::{BifResult, Class, Exc, Process};
use crate::term::*;

pub const BIFS: &[BifDef] = &[
    bif("erlang", "pid_to_list", 1, |p, a| match a[0].pid_number() {
        Some(n) => Ok(p.heap.string(&format!("<0.{n}.0>"))),
        None => Err(Exc::badarg()),
    }),
    bif("erts_internal", "exception_text", 3, exception_text),
];

/// `exception_text(Class, Reason, Stack)`: the text of the shell's
/// `** exception Class: ...` report, as a string (lines end with `\n`).
fn exception_text(p: &mut Process, a: &[Term]) -> BifResult {
    let class = match a[0].as_atom().map(atom::Atom::name) {
        Some("error") => Class::Error,
        Some("exit") => Class::Exit,
        Some("throw") => Class::Throw,
        _ => return Err(Exc::badarg()),
    };
    let text = crate::report::uncaught(class, a[1], a[2]);
    Ok(p.heap.string(&text))
}
