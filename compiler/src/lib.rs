//! minierl's compiler: Erlang-subset source text in, a bytecode module and
//! diagnostics out. It is pure: no files, no terminal, no VM. The `minierl`
//! binary (in `vm/`) reads files and prints the rendered diagnostics.
//!
//! Pipeline: `lexer` (logos tokens) → `preprocess` (macros, `-define`,
//! `?MODULE`, `?LINE`, conditionals) → `parser` (lalrpop grammar → `ast`) →
//! `check` (unbound/unsafe variables, undefined functions, exports, arity
//! and duplicate clauses, unused warnings) → `codegen` (lowering, pattern
//! match compilation, register allocation → `minierl_bytecode::Module`).

pub mod ast;
pub mod bifs;
pub mod diag;
pub mod lexer;

pub use diag::{Diagnostic, Severity};

/// Options given to `compile`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `-compile(export_all)` given on the command line.
    pub export_all: bool,
    /// Extra `-define`s: (name, value source text).
    pub defines: Vec<(String, String)>,
}

/// A successful compilation: the module and any warnings.
#[derive(Debug)]
pub struct Compiled {
    pub module: minierl_bytecode::Module,
    pub warnings: Vec<Diagnostic>,
}
