//! Native functions (BIFs), one file per area, each exporting a `BIFS`
//! table; `ALL` lists the tables. To add BIFs: write `bif/AREA.rs` with a
//! `pub const BIFS: &[BifDef]`, add `pub mod AREA;` and its table to `ALL`.
//!
//! A BIF gets the calling process (its heap to build results on, the VM
//! through `p.vm`) and its arguments, and returns a term or an exception.
//! It never yields and never collects garbage: allocation goes to heap
//! fragments if needed. A BIF whose work grows with its input should charge
//! reductions with `p.charge(n)` (see issue 3).

use crate::code::Special;
use crate::process::{BifResult, Process};
use crate::term::Term;

pub mod arith;
pub mod binary;
pub mod code;
pub mod erlang;
pub mod etf;
pub mod file;
pub mod io;
pub mod lists;
pub mod maps;
pub mod math;
pub mod otp;
pub mod phash;
pub mod procs;
pub mod re;
pub mod sys;
pub mod unicode;

/// A native function.
pub type BifFn = fn(&mut Process, &[Term]) -> BifResult;

/// One entry of a registration table.
pub struct BifDef {
    pub module: &'static str,
    pub function: &'static str,
    pub arity: u8,
    pub fun: BifFn,
    /// Transfers control (apply): the interpreter handles it itself.
    pub special: Special,
}

/// Shorthand for table entries.
pub const fn bif(module: &'static str, function: &'static str, arity: u8, fun: BifFn) -> BifDef {
    BifDef { module, function, arity, fun, special: Special::None }
}

/// Every registration table.
pub const ALL: &[&[BifDef]] = &[
    arith::BIFS,
    erlang::BIFS,
    lists::BIFS,
    maps::BIFS,
    binary::BIFS,
    io::BIFS,
    procs::BIFS,
    unicode::BIFS,
    math::BIFS,
    sys::BIFS,
    etf::BIFS,
    code::BIFS,
    file::BIFS,
    crate::shell::BIFS,
    otp::BIFS,
    re::BIFS,
    crate::memory::BIFS,
];
