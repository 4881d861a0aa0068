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
pub mod check;
pub mod codegen;
pub mod diag;
pub mod lexer;
pub mod parse;
pub mod preprocess;
pub mod shell;

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

/// The front end: lexes, preprocesses, parses and checks one source file.
/// Returns the module if there is no error; the diagnostics hold every error
/// and warning, errors first (syntax errors, then the checks' errors, in
/// source order), then warnings in source order, as erlc prints them.
/// Deterministic, and never panics, whatever the input.
pub fn parse(file_name: &str, source: &str, opts: &Options) -> (Option<ast::Module>, Vec<Diagnostic>) {
    let (toks, lex_errors) = lexer::lex(source);
    let (forms, mut errors) = preprocess::preprocess(file_name, source, toks, lex_errors, opts);
    let (forms, syntax, mut lint) = parse::parse_forms(source, forms);
    errors.extend(syntax);
    let module = ast::Module { forms };
    lint.extend(check::check(&module, file_name, source, opts));
    let (mut late, mut warnings): (Vec<_>, Vec<_>) = lint.into_iter().partition(|d| d.severity == Severity::Error);
    // Errors found while preprocessing and parsing come first, in the
    // order of the forms; then the errors of the checks, sorted by position.
    // Ties are broken by the message, which is close to erlc's order (it
    // sorts by position, then by the error term).
    errors.sort_by_key(|d| d.span.start);
    late.sort_by(|a, b| (a.span.start, &a.message).cmp(&(b.span.start, &b.message)));
    warnings.sort_by(|a, b| (a.span.start, &a.message).cmp(&(b.span.start, &b.message)));
    if errors.is_empty() && late.is_empty() {
        // erlc compares the module name with the file name only once the
        // module compiled cleanly.
        late.extend(check::module_name_mismatch(&module, file_name));
    }
    let ok = errors.is_empty() && late.is_empty();
    errors.extend(late);
    errors.extend(warnings);
    (if ok { Some(module) } else { None }, errors)
}

/// The file name a running program sees (`{file, F}` in stack frames,
/// `?FILE`): `NAME.mrl` is shown as `NAME.erl`, the name the same program
/// has under Erlang/OTP, so that a program printing a stack trace or `?FILE`
/// prints what OTP prints for it. Diagnostics keep the real name.
pub fn runtime_file_name(file_name: &str) -> String {
    match file_name.strip_suffix(".mrl") {
        Some(stem) => format!("{stem}.erl"),
        None => file_name.to_string(),
    }
}

/// Compile one source file: the front end (`parse`), then the code
/// generator. Warnings go into `Compiled::warnings`; on error, the errors
/// come first, then the warnings.
pub fn compile(file_name: &str, source: &str, opts: &Options) -> Result<Compiled, Vec<Diagnostic>> {
    let (module, diags) = parse(file_name, source, opts);
    let (errors, warnings): (Vec<_>, Vec<_>) = diags.into_iter().partition(|d| d.severity == Severity::Error);
    let Some(module) = module.filter(|_| errors.is_empty()) else {
        let mut all = errors;
        all.extend(warnings);
        return Err(all);
    };
    match codegen::generate_with_source(&module, file_name, Some(source), opts) {
        Ok(module) => Ok(Compiled { module, warnings }),
        Err(mut errs) => {
            errs.extend(warnings);
            Err(errs)
        }
    }
}
