//! The code generator: a checked `ast::Module` in, a `minierl_bytecode::Module`
//! out. It lowers records, comprehensions, funs and strings, compiles pattern
//! matching into decision trees, and assigns registers in one pass.
//!
//! # Calling convention (as in BEAM)
//! - A function of arity N receives its arguments in x0..x(N-1) and returns
//!   its result in x0. A call clobbers every x register; only y slots of the
//!   caller's frame survive it.
//! - A function body that makes a non-tail call (or uses `receive`, `try`,
//!   `catch`, a non-tail `case`/`if`, or a match nested inside an expression)
//!   runs in a frame: `Allocate {stack: N, live}` after clause selection, and
//!   `Deallocate` before `Return`. Every frame of a function has the same
//!   size N (the most y slots any path needs), so all `Allocate`,
//!   `Deallocate` and `*Last` instructions of a function carry the same N.
//!   Clause selection (the head match and guards) always runs without a
//!   frame, so a jump to the `FuncInfo` label (`function_clause`) comes from a
//!   frameless state. A tail-position `case`/`if` whose body needs no frame
//!   leaves each branch to allocate its own.
//! - A call in tail position is `CallOnly`/`CallExtOnly`/`CallFunOnly`/
//!   `ApplyOnly` without a frame, `CallLast`/... (deallocating) with one, so
//!   loops run in constant stack space.
//! - Names: before a user function is generated, `naming.rs` works out
//!   the names OTP 25 gives the functions lifted out of it (its v3_core's
//!   and v3_kernel's counters) and writes them into the `Fun`, `ListComp`
//!   and `BinComp` nodes of a copy of its clauses.
//! - Funs: a `fun` body is lifted to a function `-F/A-fun-N-` (a named fun
//!   that calls itself: `-F/A-Name/Arity-K-`) taking the
//!   fun's arguments followed by its free variables (sorted by name);
//!   `MakeFun` captures the free variables. A named fun calling itself by
//!   name calls the lifted function directly (no closure is built). `fun
//!   f/1` is a lambda entry pointing at `f/1` itself with no free variables;
//!   `fun m:f/1` with constant parts is a `Literal::ExportFun`, otherwise a
//!   call to `erlang:make_fun/3`; `fun F/A` of an auto-imported BIF is a
//!   fun calling it (as in OTP). `CallFun` takes the fun in x[arity]. A fun
//!   with free variables whose clauses can fail tail-calls a stub
//!   `-F/A-inlined-K-` of the fun's own arity when none matches, so
//!   `function_clause` shows the caller's arguments (OTP's stub).
//! - List comprehensions are lifted to recursive functions
//!   `-F/A-lc$^N/1-K-` (one per generator, taking the list followed by the
//!   free variables), as OTP's v3_core does: `[P|T] -> [E | lc(T)]`, `[_|T]
//!   -> lc(T)`, `[] -> Tail`, other -> `error({bad_generator, L})`; a filter
//!   that is a guard expression becomes part of the generator clause's
//!   guard, others a `case` raising `{bad_filter, V}` on non-booleans.
//!   A binary generator's clauses are `<<P, T/bits>>`, its skip pattern,
//!   `<<_/bits>> -> Tail` and other -> `bad_generator`. Binary
//!   comprehensions are lifted the same way to `-F/A-lbc$^N/2-K-`, which
//!   also take the binary built so far (second argument): an element
//!   appends `<<Acc/bits, Segments...>>` (the element's own segments when
//!   it is written `<<...>>`, else `E/bits`), and a nested generator's
//!   function returns the new binary.
//! - `module_info/0,1` call `erlang:get_module_info/1,2` with the module
//!   name, as OTP generates them.
//!
//! # Registers
//! x registers are used as a stack: the generator keeps a depth `d`; every
//! value it must keep (arguments, pattern-extracted values, temporaries)
//! sits in x0..x(d-1), all written, and new values are pushed at x(d). So
//! the `live` operand of every instruction that may collect garbage
//! (`Allocate`, `TestHeap`, `Bif`, `MakeFun`, `PutMap*`, `Bs*`) is simply
//! `d`, and the verifier's "defined registers" always cover x0..x(d-1).
//! In a frameless body, variables live in x registers. In a body with a
//! frame, each variable read later gets a y slot (one per variable name per
//! function, so branches of a `case` that bind the same variable agree on
//! where it is), and a temporary computed before a sibling expression that
//! calls is spilled to a y slot. A call thus always starts with an empty x
//! stack, its arguments being placed by parallel moves (`Move`/`Swap`).
//! `TestHeap {words, live}` precedes each `PutTuple` (words = arity + 1) and
//! each run of `PutList` (2 words per cell), counting words as BEAM does.
//! Pattern matching reuses the registers of dead values (`pattern.rs`,
//! "Register reuse"). A frameless body whose matches bind more than
//! `expr::FRAMELESS_VARS` variables gets a frame (its variables go to y
//! slots), and so does a tuple, map or binary of more than
//! `analysis::WIDE` computed elements, whose values `exprs` moves to y
//! slots once the depth reaches `expr::SPILL_DEPTH`. Code that still needs
//! more than 1023 values in x registers at once (a clause whose pattern
//! binds 1100 variables that its body all reads: OTP 25 refuses it too,
//! "An implementation limit was reached") is reported as too large (E0900).
//!
//! # Pattern matching
//! Clauses are compiled as in OTP's v3_kernel: rows of patterns are split
//! into maximal runs where the first column is all variables (variable rule:
//! bind and drop the column) or all constructors (constructor rule); a
//! failing run falls through to the next one (mixture rule). In a
//! constructor run, rows are grouped by type (atomic values, lists, tuples,
//! maps, binaries): atomic values dispatch with `SelectVal` (or `Cmp` for a
//! single value), tuples with `SelectTupleArity`, `TestArity` or
//! `IsTaggedTuple` (when every row has the same atom first), lists with
//! `Test Cons`/`Test Nil`. Maps and binaries are matched row by row inside
//! their group. A variable already bound (earlier in the pattern or before
//! it) becomes an `=:=` check before the guard. Guards compile to tests
//! jumping to the next row: type tests are `Test`, comparisons `Cmp`,
//! `andalso`/`orelse`/`,`/`;`/`not` control flow, other BIFs `Bif` with a
//! fail label. When no row matches: `function_clause` (jump to `FuncInfo`),
//! or `Error` with `case_clause`/`if_clause`/`try_clause`/`badmatch`; a
//! `receive` goes on to the next message; a `try` handler re-raises.
//!
//! # Exceptions
//! `try` stores its catch marker in a y slot (`Try`/`TryEnd`/`TryCase`);
//! the handler sees x0 = Class, x1 = Reason, x2 = the raw stacktrace, which
//! `erlang:build_stacktrace/1` (a `Bif`) turns into a list when the catch
//! clause names it; no matching catch clause means `Raise`. `after` wraps
//! the whole `try ... of ... catch` in a second `Try` whose handler saves
//! x0..x2, runs the after body (its copy `Try::after_handler`, named apart by
//! `naming.rs`) and `Raise`s. `of` and `catch` bodies are
//! outside the protected region, and are in tail position when there is no
//! `after`. `catch E` is `Catch`/`CatchEnd`.
//!
//! # Other lowerings
//! Records become tuples (`{badrecord, Value}` on a failed access, as OTP
//! 25); `andalso`/`orelse` branch on `true`/`false` and raise
//! `{badarg, V}` otherwise, their second operand being in tail position;
//! `and`/`or`/`xor`/`not`, arithmetic and comparisons in value context are
//! `Bif`s on `erlang:'and'/2` etc.; `++`/`--` are calls to `erlang`; `!` is
//! `Send`. Calls: local functions by label; `-import`ed and every remote
//! call (including `?MODULE:f()`) through the import table; auto-imported
//! BIFs that are guard BIFs as `Bif`, the rest as `erlang:F/A` calls.
//! Fully constant terms are literals, including binaries whose segments
//! are constant integers/characters of constant size (`Literal::Binary`).
//! A list expression of more than `expr::LONG_LIST` non-constant elements
//! is built in chunks onto a reversed accumulator and put in order by the
//! `lists:reverse/2` BIF (`long_list`), so its register use is bounded.
//! Pattern matrices are split between groups by moving rows, never by
//! cloning them, so a long list pattern compiles in linear memory.
//!
//! # What the VM must provide (beyond the instruction semantics)
//! - Operands: any `Src` (also `Y`, `Lit`, `Int`, `Atom`, `Nil`) may appear
//!   as the source of `GetList`, `GetTupleElement`, `Test`, `Cmp`,
//!   `IsTaggedTuple`, `TestArity`, `SelectVal`, `BsStartMatch`,
//!   `GetMapElements`, and as a `Move` into a y slot.
//! - `Bif` imports (all `erlang` but `lists:reverse/2`): the operators (`'+'/2`, `'-'/1`,
//!   `'=:='/2`, `'and'/2`, `'not'/1`, `bnot/1`, ...), every guard BIF of
//!   OTP 25 (`element/2`, `length/1`, `self/0`, `node/0`, `map_get/2`,
//!   `is_map_key/2`, `binary_part/2,3`, `is_function/2`, `is_integer/1` as a
//!   value, ...) and `build_stacktrace/1` (applied to the raw stacktrace
//!   in x2 of a `TryCase`). A `Bif` without a fail label raises the BIF's
//!   own error (`badarith`, `badarg`, ...).
//! - Calls to `erlang`: `'++'/2`, `'--'/2`, `error/1` (for `{badarg, V}`,
//!   `{bad_generator, V}`, `{bad_filter, V}`), `make_fun/3`,
//!   `get_module_info/1,2`, `list_to_bitstring/1`, `apply/2,3`, and every
//!   auto-imported BIF that is not a guard BIF (`spawn/3`, ...).
//! - `TestHeap {words}` counts words as BEAM does: `arity + 1` per tuple,
//!   2 per cons cell, for the `PutTuple`/`PutList` that follow it.
//! - `Error {IfClause, Nil}` raises `if_clause`; `Error {Badrecord, V}`
//!   raises `{badrecord, V}` (OTP 25 puts the value, not the record name).
//! - The `uniq` of a lambda is a hash of its function's code; its `index`
//!   is its position in the lambda table (funs are numbered in the order
//!   the generator meets them, user functions first).
//! - `lines`: one entry whenever the source line changes (the line of the
//!   expression being compiled: calls, BIFs and raises carry the line of
//!   their call); `Function::line` is the line of the first clause.
//!
//! # Clean-up pass
//! `opt.rs` runs on each finished function: inside a basic block, a y slot
//! whose value is still in an x register is read from that register, and
//! stores into y slots that nothing reads afterwards are deleted (so a
//! variable used only before the first call costs no y-slot traffic).
//!
//! # Known limits
//! - A fun or comprehension reading more than 255 outer variables is
//!   refused (its lifted function would take more than 255 arguments;
//!   OTP 25 compiles it and then fails to load the module).
//! - Variables of a body with a frame still get a y slot each (frames are
//!   bigger than needed, `Allocate` initialises the unused slots), and
//!   functions with `try`/`catch` are not cleaned up by `opt.rs`.
//! - `P1 = P2` where both sides are binary patterns is rejected (E0900).
//! - In a guard, `orelse`/`or` try their right operand when the left one
//!   raises (Erlang fails the whole guard then).
//! - Lifted functions are named as OTP 25 names them (see `naming.rs` for
//!   what its kernel counter follows only approximately); their order in
//!   the module, hence a fun's `index`, is not OTP's.
//!
//! Errors only the generator finds (undefined record or field, binary
//! segment errors) are `Diagnostic::error` with code E0900.

mod analysis;
mod expr;
mod lc;
mod moves;
mod naming;
mod noreturn;
mod opt;
mod pattern;

use crate::ast::{self, Clause, Expr, Form, Span};
use crate::diag::Diagnostic;
use crate::Options;
use minierl_bytecode::{self as bc, AtomIdx, ImportIdx, Instr, Label, LambdaIdx, Literal, Src};
use std::collections::{HashMap, HashSet, VecDeque};

/// Generate a module. Line numbers are not known without the source text:
/// use [`generate_with_source`] to get a line table.
pub fn generate(module: &ast::Module, file_name: &str, opts: &Options) -> Result<bc::Module, Vec<Diagnostic>> {
    generate_with_source(module, file_name, None, opts)
}

/// Generate a module; `source` (the text the spans point into) gives the
/// line table its line numbers.
pub fn generate_with_source(
    module: &ast::Module,
    file_name: &str,
    source: Option<&str>,
    opts: &Options,
) -> Result<bc::Module, Vec<Diagnostic>> {
    let mut g = Gen::new(file_name, source);
    g.module(module, opts);
    if g.diags.iter().any(|d| d.severity == crate::Severity::Error) {
        return Err(g.diags);
    }
    Ok(g.finish())
}

/// Byte offset → line number.
struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(src.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i as u32 + 1));
        LineIndex { starts }
    }
    fn line(&self, offset: u32) -> u32 {
        match self.starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }
}

/// Labels of a function known before its code exists.
#[derive(Clone, Copy)]
struct FunLabels {
    info: Label,
    entry: Label,
}

/// A lifted function (fun body or comprehension) waiting to be generated.
struct Pending {
    name: String,
    arity: u8,
    clauses: Vec<Clause>,
    span: Span,
    self_fun: Option<SelfFun>,
    /// The user function it was lifted from (for naming nested lifts).
    top: (String, u8),
    /// A fun with free variables whose clauses can fail: the function
    /// (name, arity) its failing clause selection tail-calls, which raises
    /// `function_clause` with the fun's own arguments (as OTP's stub).
    fail_stub: Option<(String, u8)>,
}

/// A named fun's own name, bound inside its body.
#[derive(Clone)]
pub(crate) struct SelfFun {
    name: String,
    lambda: LambdaIdx,
    /// Free variables, in the order of the lifted function's extra params.
    free: Vec<String>,
    /// The lifted function (name, total arity).
    func: (String, u8),
}

struct LambdaEntry {
    func: (String, u8),
    arity: u8,
    num_free: u16,
}

/// An out-of-line block (error raising) emitted at the end of the function.
struct Deferred {
    label: Label,
    code: Vec<Instr>,
    line: u32,
}

/// Where a variable lives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Loc {
    Src(Src),
    /// The name of the named fun being compiled.
    SelfFun,
}

/// Per-function state.
#[derive(Default)]
struct FnState {
    /// The user function this code comes from (for naming lifted funs).
    top: (String, u8),
    depth: u16,
    in_frame: bool,
    env: HashMap<String, Loc>,
    yvars: HashMap<String, u16>,
    next_y: u16,
    free_y: Vec<u16>,
    guard_fail: Option<Label>,
    /// Variables that are read somewhere in the function (worth a y slot).
    refs: HashSet<String>,
    deferred: Vec<Deferred>,
    self_fun: Option<SelfFun>,
    /// Names committed to y slots, per enclosing value-producing branch
    /// construct (they are exported after its join).
    commit_log: Vec<Vec<String>>,
    /// Code index where the function starts (for patching frame sizes).
    start: usize,
    /// The x depth after the leaf of an inline match (`P = E`).
    inline_depth: u16,
    /// How many `try`/`catch` are open around the code being generated,
    /// and the most at once (see `Gen::open_tag`).
    try_depth: u16,
    max_try_depth: u16,
    /// How many `try`/`catch` bodies are open around the code being
    /// generated (their frame holds the handler: no call there may be
    /// made a tail call).
    protected: u16,
    /// x registers below `floor` may be read by a failure continuation of
    /// the match being compiled (or by code around it): pattern matching
    /// never overwrites them (see `pattern.rs`, "Register reuse").
    floor: u16,
    /// Code needed more x registers than an instruction may name
    /// (`bc::MAX_X_REGS`): the function is reported as too large.
    x_overflow: bool,
}

pub(crate) struct Gen<'s> {
    file_name: String,
    lines: Option<LineIndex>,
    #[allow(dead_code)]
    source: Option<&'s str>,
    module_name: String,
    atoms: Vec<String>,
    atom_map: HashMap<String, u32>,
    literals: Vec<Literal>,
    lit_map: HashMap<String, u32>,
    imports: Vec<bc::Import>,
    import_map: HashMap<(u32, u32, u8), u32>,
    lambdas: Vec<LambdaEntry>,
    local_lambdas: HashMap<(String, u8), LambdaIdx>,
    functions: Vec<(String, u8, FunLabels, u32)>,
    code: Vec<Instr>,
    line_entries: Vec<bc::LineEntry>,
    cur_line: u32,
    label_pos: Vec<u32>,
    records: HashMap<String, Vec<(String, Option<Expr>)>>,
    local_funs: HashMap<(String, u8), FunLabels>,
    imported: HashMap<(String, u8), String>,
    pending: VecDeque<Pending>,
    /// Per user function: (funs, comprehensions) lifted so far that the
    /// naming pass did not name (code the shell compiles), and the
    /// functions lifted for comprehensions that start with a filter (which
    /// OTP does not lift).
    lift_counters: HashMap<(String, u8), (u32, u32)>,
    var_counter: u32,
    attributes_src: Vec<(String, Expr)>,
    export_list: Vec<(String, u8)>,
    /// The module's functions that never return (`noreturn`).
    no_return: HashSet<(String, u8)>,
    pub(crate) diags: Vec<Diagnostic>,
    f: FnState,
}

const PATCH: u16 = u16::MAX;
/// Marks a catch-tag operand before the function's end gives it its slot:
/// `TAG_SLOT | level` (see `Gen::open_tag`).
pub(crate) const TAG_SLOT: u16 = 0x8000;

impl<'s> Gen<'s> {
    fn new(file_name: &str, source: Option<&'s str>) -> Gen<'s> {
        Gen {
            file_name: file_name.to_string(),
            lines: source.map(LineIndex::new),
            source,
            module_name: String::new(),
            atoms: Vec::new(),
            atom_map: HashMap::new(),
            literals: Vec::new(),
            lit_map: HashMap::new(),
            imports: Vec::new(),
            import_map: HashMap::new(),
            lambdas: Vec::new(),
            local_lambdas: HashMap::new(),
            functions: Vec::new(),
            code: Vec::new(),
            line_entries: Vec::new(),
            cur_line: 0,
            label_pos: Vec::new(),
            records: HashMap::new(),
            local_funs: HashMap::new(),
            imported: HashMap::new(),
            pending: VecDeque::new(),
            lift_counters: HashMap::new(),
            var_counter: 0,
            attributes_src: Vec::new(),
            export_list: Vec::new(),
            no_return: HashSet::new(),
            diags: Vec::new(),
            f: FnState::default(),
        }
    }

    // ------------------------------------------------------------ tables

    pub(crate) fn atom(&mut self, name: &str) -> AtomIdx {
        if let Some(&i) = self.atom_map.get(name) {
            return AtomIdx(i);
        }
        let i = self.atoms.len() as u32;
        self.atoms.push(name.to_string());
        self.atom_map.insert(name.to_string(), i);
        AtomIdx(i)
    }

    pub(crate) fn literal(&mut self, lit: Literal) -> Src {
        let key = format!("{lit:?}");
        if let Some(&i) = self.lit_map.get(&key) {
            return Src::Lit(bc::LitIdx(i));
        }
        let i = self.literals.len() as u32;
        self.literals.push(lit);
        self.lit_map.insert(key, i);
        Src::Lit(bc::LitIdx(i))
    }

    pub(crate) fn import(&mut self, module: &str, function: &str, arity: u8) -> ImportIdx {
        let m = self.atom(module).0;
        let f = self.atom(function).0;
        if let Some(&i) = self.import_map.get(&(m, f, arity)) {
            return ImportIdx(i);
        }
        let i = self.imports.len() as u32;
        self.imports.push(bc::Import { module: AtomIdx(m), function: AtomIdx(f), arity });
        self.import_map.insert((m, f, arity), i);
        ImportIdx(i)
    }

    // ------------------------------------------------------------ code

    pub(crate) fn new_label(&mut self) -> Label {
        self.label_pos.push(u32::MAX);
        Label(self.label_pos.len() as u32 - 1)
    }

    /// Place `l` at the next instruction. A `Jump` to `l` just before it is
    /// dropped (labels at the jump then point at the same place anyway).
    pub(crate) fn place(&mut self, l: Label) {
        if let Some(Instr::Jump { label }) = self.code.last() {
            if *label == l && self.code.len() > self.f.start + 1 {
                self.code.pop();
            }
        }
        self.label_pos[l.0 as usize] = self.code.len() as u32;
    }

    pub(crate) fn emit(&mut self, i: Instr) {
        // Every x register the code names is below the depth (see
        // "Registers" above), so this catches any value pushed past the
        // last register, wherever it was pushed.
        if self.f.depth >= bc::MAX_X_REGS {
            self.f.x_overflow = true;
        }
        let pc = self.code.len() as u32;
        if self.line_entries.last().map(|e| e.line) != Some(self.cur_line) {
            self.line_entries.push(bc::LineEntry { pc, line: self.cur_line });
        }
        self.code.push(i);
    }

    pub(crate) fn set_line(&mut self, span: Span) {
        if let Some(li) = &self.lines {
            self.cur_line = li.line(span.start);
        }
    }

    pub(crate) fn error(&mut self, span: Span, msg: impl Into<String>) {
        // E09xx: errors only the code generator finds.
        self.diags.push(Diagnostic::error("E0900", span, msg));
    }

    /// An out-of-line block reached by jumping to the returned label.
    pub(crate) fn deferred(&mut self, code: Vec<Instr>) -> Label {
        let label = self.new_label();
        let line = self.cur_line;
        self.f.deferred.push(Deferred { label, code, line });
        label
    }

    pub(crate) fn fresh_var(&mut self, what: &str) -> String {
        self.var_counter += 1;
        format!("-{what}{}", self.var_counter)
    }

    // ------------------------------------------------------------ module

    fn module(&mut self, m: &ast::Module, opts: &Options) {
        let mut name = None;
        for f in &m.forms {
            if let Form::Module(n) = f {
                name = Some(n.name.clone());
                break;
            }
        }
        let Some(name) = name else {
            self.error(Span::default(), "no module definition");
            return;
        };
        self.module_name = name.clone();
        self.atom(&name);
        let mut export_all = opts.export_all;
        let mut exports: Vec<(String, u8)> = Vec::new();
        let mut funcs: Vec<&ast::Function> = Vec::new();
        let mut attributes = Vec::new();
        for f in &m.forms {
            match f {
                Form::Module(_) => {}
                Form::Export(list, _) => exports.extend(list.iter().map(|f| (f.name.clone(), f.arity))),
                Form::Import(m, list, _) => {
                    for f in list {
                        self.imported.insert((f.name.clone(), f.arity), m.name.clone());
                    }
                }
                Form::Compile(e, _) => {
                    if compile_has_export_all(e) {
                        export_all = true;
                    }
                }
                Form::Record(n, fields, _) => {
                    let defs = fields.iter().map(|f| (f.name.name.clone(), f.default.clone())).collect();
                    self.records.insert(n.name.clone(), defs);
                }
                Form::Attribute(n, e, _) => attributes.push((n.name.clone(), e.clone())),
                Form::Function(f) => funcs.push(f),
            }
        }
        self.attributes_src = attributes;
        for f in &funcs {
            let l = FunLabels { info: self.new_label(), entry: self.new_label() };
            self.local_funs.insert((f.name.clone(), f.arity), l);
        }
        let has_mi0 = self.local_funs.contains_key(&("module_info".to_string(), 0));
        let has_mi1 = self.local_funs.contains_key(&("module_info".to_string(), 1));
        for (n, a) in [("module_info", 0u8), ("module_info", 1)] {
            if !self.local_funs.contains_key(&(n.to_string(), a)) {
                let l = FunLabels { info: self.new_label(), entry: self.new_label() };
                self.local_funs.insert((n.to_string(), a), l);
            }
        }
        let classify = |n: &str, a: usize| {
            if self.local_funs.contains_key(&(n.to_string(), a as u8)) {
                noreturn::Callee::Local
            } else if !self.imported.contains_key(&(n.to_string(), a as u8)) && noreturn::raising_auto_import(n, a) {
                noreturn::Callee::Raises
            } else {
                noreturn::Callee::Other
            }
        };
        self.no_return = noreturn::never_returning(&funcs, &classify);
        for f in &funcs {
            let top = (f.name.clone(), f.arity);
            let mut clauses = f.clauses.clone();
            let is_local = |n: &str, a: usize| self.local_funs.contains_key(&(n.to_string(), a as u8));
            let is_bif_ref = |n: &str, a: usize| {
                !self.imported.contains_key(&(n.to_string(), a as u8))
                    && n != "is_record"
                    && crate::bifs::is_auto_imported(n, a)
            };
            let info = naming::ModuleInfo { records: &self.records, is_local: &is_local, is_bif_ref: &is_bif_ref };
            naming::name_function(&top, &mut clauses, &info);
            let name = f.name.clone();
            let p = Pending { name, arity: f.arity, clauses, span: f.span, self_fun: None, top, fail_stub: None };
            self.function(p);
        }
        if !has_mi0 {
            self.module_info(0);
        }
        if !has_mi1 {
            self.module_info(1);
        }
        while let Some(p) = self.pending.pop_front() {
            self.function(p);
        }
        // Exports.
        let mut ex: Vec<(String, u8)> =
            if export_all { funcs.iter().map(|f| (f.name.clone(), f.arity)).collect() } else { exports };
        ex.push(("module_info".into(), 0));
        ex.push(("module_info".into(), 1));
        let mut seen = HashSet::new();
        self.export_list = ex.into_iter().filter(|e| seen.insert(e.clone())).collect();
    }

    fn module_info(&mut self, arity: u8) {
        let labels = self.local_funs[&("module_info".to_string(), arity)];
        let func = self.functions.len() as u32;
        self.f = FnState { start: self.code.len(), ..FnState::default() };
        self.cur_line = 0;
        self.place(labels.info);
        self.emit(Instr::FuncInfo { func: bc::FuncIdx(func) });
        self.place(labels.entry);
        self.functions.push(("module_info".into(), arity, labels, 0));
        let m = self.atom(&self.module_name.clone());
        if arity == 1 {
            self.emit(Instr::Move { src: Src::X(0), dst: bc::Dst::X(1) });
        }
        self.emit(Instr::Move { src: Src::Atom(m), dst: bc::Dst::X(0) });
        let imp = self.import("erlang", "get_module_info", arity + 1);
        self.emit(Instr::CallExtOnly { arity: arity + 1, import: imp });
    }

    /// Generate one function (user-written or lifted).
    fn function(&mut self, p: Pending) {
        let Pending { name, arity, clauses, span, self_fun, top, fail_stub } = p;
        let (name, clauses) = (name.as_str(), &clauses[..]);
        let Some(&labels) = self.local_funs.get(&(name.to_string(), arity)) else {
            return;
        };
        let func = self.functions.len() as u32;
        let mut refs = HashSet::new();
        analysis::function_refs(clauses, &mut refs);
        self.f = FnState { top, depth: arity as u16, refs, self_fun, start: self.code.len(), ..FnState::default() };
        self.set_line(span);
        self.place(labels.info);
        self.emit(Instr::FuncInfo { func: bc::FuncIdx(func) });
        self.place(labels.entry);
        self.functions.push((name.to_string(), arity, labels, self.cur_line));
        self.bind_self_fun();
        let occs: Vec<Src> = (0..arity as u16).map(Src::X).collect();
        let fail = match fail_stub.and_then(|(n, a)| Some((self.local_funs.get(&(n, a))?.entry, a))) {
            // The fun's arguments are still in x0.. when selection fails.
            Some((label, a)) => self.deferred(vec![Instr::CallOnly { arity: a, label }]),
            None => labels.info,
        };
        self.match_clauses(&occs, clauses, fail, pattern::ArmMode::Tail { base: 0 }, pattern::Prologue::None);
        if self.f.x_overflow {
            // Point at the function's name, not the whole (huge) clause.
            let at = Span { start: span.start, end: (span.start + name.len() as u32).min(span.end) };
            self.error(
                at,
                format!(
                    "function {name}/{arity} is too large to compile: it needs more than {} values in x registers at once",
                    bc::MAX_X_REGS - 1
                ),
            );
        }
        let deferred = std::mem::take(&mut self.f.deferred);
        for d in deferred {
            self.cur_line = d.line;
            self.place(d.label);
            for i in d.code {
                self.emit(i);
            }
        }
        // Every frame of the function has the same size: the y slots of
        // variables and temporaries, then one catch-tag slot per level of
        // try/catch nesting, the innermost level lowest (see `Gen::open_tag`).
        let base = self.f.next_y;
        let tags = self.f.max_try_depth;
        let n = base + tags;
        for i in &mut self.code[self.f.start..] {
            match i {
                Instr::Try { y, .. }
                | Instr::TryEnd { y }
                | Instr::TryCase { y }
                | Instr::Catch { y, .. }
                | Instr::CatchEnd { y } => {
                    debug_assert!(*y & TAG_SLOT != 0 && (*y & !TAG_SLOT) < tags);
                    *y = base + (tags - 1 - (*y & !TAG_SLOT));
                }
                Instr::Allocate { stack, .. } | Instr::Deallocate { stack } => *stack = n,
                Instr::CallLast { dealloc, .. }
                | Instr::CallExtLast { dealloc, .. }
                | Instr::CallFunLast { dealloc, .. }
                | Instr::ApplyLast { dealloc, .. } => *dealloc = n,
                _ => {}
            }
        }
    }

    /// Resolve labels and assemble the module.
    fn finish(mut self) -> bc::Module {
        self.optimise();
        let pos = std::mem::take(&mut self.label_pos);
        let res = |l: Label| -> Label {
            if l.is_none() {
                l
            } else {
                Label(pos[l.0 as usize])
            }
        };
        for i in &mut self.code {
            map_labels(i, &res);
        }
        let mut fidx: HashMap<(String, u8), u32> = HashMap::new();
        let mut functions = Vec::new();
        for (i, (name, arity, labels, line)) in std::mem::take(&mut self.functions).into_iter().enumerate() {
            let a = self.atom(&name);
            functions.push(bc::Function { name: a, arity, info: res(labels.info), entry: res(labels.entry), line });
            fidx.insert((name, arity), i as u32);
        }
        let mut exports = Vec::new();
        for (name, arity) in std::mem::take(&mut self.export_list) {
            if let Some(&i) = fidx.get(&(name.clone(), arity)) {
                let a = self.atom(&name);
                exports.push(bc::Export { function: a, arity, label: functions[i as usize].entry });
            }
        }
        let mut attributes = Vec::new();
        for (name, e) in std::mem::take(&mut self.attributes_src) {
            if let Some(l) = self.const_literal(&e) {
                let a = self.atom(&name);
                attributes.push((a, l));
            }
        }
        // Hash of the code: the default vsn and the funs' uniq.
        let code_hash = fnv(format!("{:?}{:?}{:?}", self.code, self.literals, self.imports).as_bytes());
        let mut lambdas = Vec::new();
        for (i, l) in self.lambdas.iter().enumerate() {
            let f = fidx.get(&l.func).copied().unwrap_or(0);
            let fun = &functions[f as usize];
            let start = fun.info.0 as usize;
            let end = functions.get(f as usize + 1).map(|g| g.info.0 as usize).unwrap_or(self.code.len());
            let uniq = fnv(format!("{}{:?}", l.func.0, &self.code[start..end]).as_bytes()) as u32;
            lambdas.push(bc::Lambda {
                func: bc::FuncIdx(f),
                arity: l.arity,
                num_free: l.num_free,
                index: i as u32,
                uniq,
            });
        }
        bc::Module {
            atoms: self.atoms,
            literals: self.literals,
            imports: self.imports,
            exports,
            functions,
            lambdas,
            code: self.code,
            lines: self.line_entries,
            source: crate::runtime_file_name(&self.file_name),
            vsn: code_hash,
            attributes,
        }
    }
}

impl Gen<'_> {
    /// Run `opt.rs` on every function, then remove the instructions it
    /// deleted, moving each label and line entry that pointed at one to the
    /// next instruction kept. Labels are still unresolved here.
    fn optimise(&mut self) {
        let n = self.code.len();
        let pos = &self.label_pos;
        let mut leader = vec![false; n + 1];
        for &p in pos {
            if (p as usize) <= n {
                leader[p as usize] = true;
            }
        }
        let mut starts: Vec<usize> = self.functions.iter().map(|f| pos[f.2.info.0 as usize] as usize).collect();
        starts.sort_unstable();
        let target = |l: Label| pos.get(l.0 as usize).map(|&p| p as usize).filter(|&p| p < n);
        let is_leader = |pc: usize| leader[pc];
        let mut del = Vec::new();
        for (i, &s) in starts.iter().enumerate() {
            let e = starts.get(i + 1).copied().unwrap_or(n);
            if s < e && e <= n {
                del.extend(opt::optimise_function(&mut self.code, s, e, &is_leader, &target));
            }
        }
        if del.is_empty() {
            return;
        }
        del.sort_unstable();
        // remap[pc]: instructions kept before pc (the new index of pc, or of
        // the next kept instruction when pc is deleted).
        let mut remap = vec![0u32; n + 1];
        let mut kept = 0u32;
        let mut d = 0;
        for (pc, r) in remap.iter_mut().enumerate() {
            *r = kept;
            if pc < n {
                if d < del.len() && del[d] == pc {
                    d += 1;
                } else {
                    kept += 1;
                }
            }
        }
        let mut d = 0;
        let code = std::mem::take(&mut self.code);
        self.code = code
            .into_iter()
            .enumerate()
            .filter(|(pc, _)| {
                if d < del.len() && del[d] == *pc {
                    d += 1;
                    false
                } else {
                    true
                }
            })
            .map(|(_, i)| i)
            .collect();
        for p in self.label_pos.iter_mut() {
            if *p != u32::MAX {
                *p = remap[*p as usize];
            }
        }
        for e in self.line_entries.iter_mut() {
            e.pc = remap[e.pc as usize];
        }
        // Entries that now share a pc: the last one is the line of the
        // instruction there.
        let entries = std::mem::take(&mut self.line_entries);
        for e in entries {
            if self.line_entries.last().map(|l: &bc::LineEntry| l.pc) == Some(e.pc) {
                self.line_entries.pop();
            }
            self.line_entries.push(e);
        }
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn compile_has_export_all(e: &Expr) -> bool {
    match &e.kind {
        ast::ExprKind::Atom(a) => a == "export_all",
        ast::ExprKind::Cons(h, t) => compile_has_export_all(h) || compile_has_export_all(t),
        _ => false,
    }
}

/// Apply `f` to every label operand of an instruction.
fn map_labels(i: &mut Instr, f: &impl Fn(Label) -> Label) {
    match i {
        Instr::Call { label, .. } | Instr::CallOnly { label, .. } | Instr::CallLast { label, .. } => *label = f(*label),
        Instr::Bif { fail, .. }
        | Instr::Test { fail, .. }
        | Instr::Cmp { fail, .. }
        | Instr::TestArity { fail, .. }
        | Instr::IsTaggedTuple { fail, .. }
        | Instr::PutMapAssoc { fail, .. }
        | Instr::PutMapExact { fail, .. }
        | Instr::HasMapFields { fail, .. }
        | Instr::GetMapElements { fail, .. }
        | Instr::BsCreate { fail, .. }
        | Instr::BsStartMatch { fail, .. }
        | Instr::BsGet { fail, .. }
        | Instr::BsSkip { fail, .. }
        | Instr::BsTestTail { fail, .. }
        | Instr::BsTestUnit { fail, .. }
        | Instr::LoopRec { fail, .. } => *fail = f(*fail),
        Instr::Jump { label }
        | Instr::LoopRecEnd { label }
        | Instr::Wait { label }
        | Instr::WaitTimeout { label, .. } => *label = f(*label),
        Instr::Try { handler, .. } | Instr::Catch { handler, .. } => *handler = f(*handler),
        Instr::SelectVal { fail, table, .. } => {
            *fail = f(*fail);
            for (_, l) in table {
                *l = f(*l);
            }
        }
        Instr::SelectTupleArity { fail, table, .. } => {
            *fail = f(*fail);
            for (_, l) in table {
                *l = f(*l);
            }
        }
        _ => {}
    }
}
