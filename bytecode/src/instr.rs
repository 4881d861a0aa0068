//! The generic instruction set: what the compiler emits and the file stores.
//!
//! It is a register machine shaped like BEAM's: `x` registers carry arguments
//! and temporaries (x0 holds a function's result), `y` slots live in the stack
//! frame of the running function and survive calls. The loader translates
//! these generic instructions into the VM's own internal form (resolving atoms,
//! literals, imports and BIFs), so the VM is free to specialise them.
//!
//! Conventions every instruction follows:
//! - A `Label` is an index into the module's `code` vector.
//! - A `fail` label of `Label::NONE` means "raise instead of jumping"
//!   (a BIF in a body raises its error; in a guard it jumps to `fail`).
//! - `live` counts the x registers (x0..live-1) that hold values the code
//!   still needs when the instruction may trigger a garbage collection.
//! - A function's code starts with `FuncInfo`; a jump to that instruction's
//!   label means "no clause matched" and raises `function_clause` with the
//!   function's arguments taken from x0..arity-1.

use serde::{Deserialize, Serialize};

/// Index into the module's code vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Label(pub u32);

impl Label {
    /// "No failure label": the instruction raises its error instead of jumping.
    pub const NONE: Label = Label(u32::MAX);
    pub fn is_none(self) -> bool {
        self.0 == u32::MAX
    }
}

/// Index into the module's atom table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AtomIdx(pub u32);

/// Index into the module's literal table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LitIdx(pub u32);

/// Index into the module's import table (module:function/arity triples).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ImportIdx(pub u32);

/// Index into the module's lambda table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LambdaIdx(pub u32);

/// Index into the module's function table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FuncIdx(pub u32);

/// A source operand.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Src {
    X(u16),
    Y(u16),
    /// A small integer that fits in 48 bits (larger ones are literals).
    Int(i64),
    Atom(AtomIdx),
    Nil,
    Lit(LitIdx),
}

/// A destination operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dst {
    X(u16),
    Y(u16),
}

impl From<Dst> for Src {
    fn from(d: Dst) -> Src {
        match d {
            Dst::X(r) => Src::X(r),
            Dst::Y(r) => Src::Y(r),
        }
    }
}

/// A key in a `SelectVal` jump table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum SelectKey {
    Int(i64),
    Atom(AtomIdx),
    /// Bit pattern of an f64 (compared with `=:=`).
    Float(u64),
}

/// Type tests (`is_integer(X)` and friends, also used by pattern matching).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypeTest {
    Integer,
    Float,
    Number,
    Atom,
    Boolean,
    Pid,
    Port,
    Reference,
    Binary,
    Bitstring,
    /// A cons or nil.
    List,
    /// A cons cell.
    Cons,
    Nil,
    Tuple,
    Map,
    Function,
    /// `is_function(F, Arity)` with a constant arity.
    FunctionArity(u8),
}

/// Comparison tests; the ordering ones use Erlang's term order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `/=`
    Ne,
    /// `=:=`
    EqExact,
    /// `=/=`
    NeExact,
    /// `<`
    Lt,
    /// `>=`
    Ge,
}

/// Flags of a binary segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SegFlags {
    pub signed: bool,
    pub little: bool,
    pub native: bool,
}

/// The type of a binary segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegKind {
    Integer,
    Float,
    /// `binary` / `bytes` / `bitstring` / `bits`: unit says which.
    Binary,
    Utf8,
    Utf16,
    Utf32,
}

/// One segment of a binary construction `<<Value:Size/Kind-unit:Unit>>`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub kind: SegKind,
    pub value: Src,
    /// Size in units; `None` means the default (integer: 8, float: 64,
    /// binary: the whole value, utf: implied).
    pub size: Option<Src>,
    pub unit: u8,
    pub flags: SegFlags,
}

/// The class of an exception in `Raise` / try handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// `{badmatch, Value}`
    Badmatch,
    /// `{case_clause, Value}`
    CaseClause,
    /// `{try_clause, Value}`
    TryClause,
    /// `if_clause` (value ignored)
    IfClause,
    /// `{badrecord, Value}`
    Badrecord,
    /// `badarg`
    Badarg,
    /// `{badarity, ...}` is raised by calls, not here; `{badfun, Value}`
    Badfun,
}

/// The generic instructions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Instr {
    // ---- functions and frames ----
    /// First instruction of every function. Reaching it (by jumping to its
    /// label) raises `function_clause` for that function.
    FuncInfo {
        func: FuncIdx,
    },
    /// Push a frame of `stack` y slots (initialised to `[]`) and save the
    /// continuation pointer. May collect garbage with x0..live-1 live.
    Allocate {
        stack: u16,
        live: u16,
    },
    /// Pop the frame of `stack` y slots pushed by `Allocate`.
    Deallocate {
        stack: u16,
    },
    /// Return x0 to the continuation pointer.
    Return,
    /// Make sure `words` heap words are free; may collect garbage.
    TestHeap {
        words: u32,
        live: u16,
    },

    // ---- calls ----
    /// Local call with x0..arity-1 as arguments; result in x0.
    Call {
        arity: u8,
        label: Label,
    },
    /// Local tail call without a frame.
    CallOnly {
        arity: u8,
        label: Label,
    },
    /// Deallocate `dealloc` y slots, then local tail call.
    CallLast {
        arity: u8,
        label: Label,
        dealloc: u16,
    },
    /// Remote call through the export table.
    CallExt {
        arity: u8,
        import: ImportIdx,
    },
    CallExtOnly {
        arity: u8,
        import: ImportIdx,
    },
    CallExtLast {
        arity: u8,
        import: ImportIdx,
        dealloc: u16,
    },
    /// Call the fun in x[arity] with x0..arity-1.
    CallFun {
        arity: u8,
    },
    CallFunOnly {
        arity: u8,
    },
    CallFunLast {
        arity: u8,
        dealloc: u16,
    },
    /// `M:F(Args)` with module in x[arity] and function in x[arity+1].
    Apply {
        arity: u8,
    },
    ApplyOnly {
        arity: u8,
    },
    ApplyLast {
        arity: u8,
        dealloc: u16,
    },
    /// Call a BIF (an import that names a native function) with arguments
    /// from `args`; result to `dst`. Never yields, may allocate.
    /// With a `fail` label, an error jumps there (guards); without, it raises.
    Bif {
        import: ImportIdx,
        args: Vec<Src>,
        dst: Dst,
        fail: Label,
        live: u16,
    },

    // ---- moving data ----
    Move {
        src: Src,
        dst: Dst,
    },
    Swap {
        a: Dst,
        b: Dst,
    },
    /// Split the cons in `src` into head and tail.
    GetList {
        src: Src,
        head: Dst,
        tail: Dst,
    },
    GetHd {
        src: Src,
        dst: Dst,
    },
    GetTl {
        src: Src,
        dst: Dst,
    },
    /// Element `index` (0-based) of the tuple in `src`.
    GetTupleElement {
        src: Src,
        index: u32,
        dst: Dst,
    },
    PutList {
        head: Src,
        tail: Src,
        dst: Dst,
    },
    PutTuple {
        elements: Vec<Src>,
        dst: Dst,
    },
    /// Build a closure over the lambda with the given free variables.
    MakeFun {
        lambda: LambdaIdx,
        free: Vec<Src>,
        dst: Dst,
        live: u16,
    },

    // ---- tests and branches ----
    Jump {
        label: Label,
    },
    /// Jump to `fail` unless `src` has the type.
    Test {
        test: TypeTest,
        src: Src,
        fail: Label,
    },
    /// Jump to `fail` unless the comparison holds.
    Cmp {
        op: CmpOp,
        a: Src,
        b: Src,
        fail: Label,
    },
    /// Jump to `fail` unless `src` is a tuple of `arity` elements.
    TestArity {
        src: Src,
        arity: u32,
        fail: Label,
    },
    /// Jump to `fail` unless `src` is a tuple of `arity` whose first element is `tag`.
    IsTaggedTuple {
        src: Src,
        arity: u32,
        tag: AtomIdx,
        fail: Label,
    },
    /// Jump to the label of the key equal (`=:=`) to `src`, else `fail`.
    SelectVal {
        src: Src,
        fail: Label,
        table: Vec<(SelectKey, Label)>,
    },
    /// Jump by tuple arity (`src` must be a tuple), else `fail`.
    SelectTupleArity {
        src: Src,
        fail: Label,
        table: Vec<(u32, Label)>,
    },

    // ---- errors and exceptions ----
    /// Raise `error` with the reason built from `kind` and `src`.
    Error {
        kind: ErrorKind,
        src: Src,
    },
    /// `erlang:raise(Class, Reason, Stacktrace)` semantics with x0=Class,
    /// x1=Reason, x2=Stacktrace (as captured by a handler).
    Raise,
    /// Enter a `try`: store a catch marker for `handler` in y slot `y`.
    Try {
        y: u16,
        handler: Label,
    },
    /// Leave a `try` normally: clear y slot `y`.
    TryEnd {
        y: u16,
    },
    /// At a `try` handler: clear y slot `y`; x0 = Class, x1 = Reason,
    /// x2 = an opaque stacktrace term (turned into the Erlang list by
    /// `erlang:build_stacktrace/1` or used by `Raise`).
    TryCase {
        y: u16,
    },
    /// Enter a `catch Expr`: like `Try`.
    Catch {
        y: u16,
        handler: Label,
    },
    /// End of a `catch Expr`, reached normally (x0 = value) or by the handler
    /// (x0 becomes `Reason` for throw, `{'EXIT', {Reason, Stack}}` for error,
    /// `{'EXIT', Reason}` for exit). Clears y slot `y`.
    CatchEnd {
        y: u16,
    },

    // ---- messages ----
    /// `x0 ! x1`; result (x1) in x0.
    Send,
    /// Load the message at the save pointer into `dst`, or jump to `fail`
    /// when every message has been looked at.
    LoopRec {
        fail: Label,
        dst: Dst,
    },
    /// The message did not match: advance the save pointer, jump to `label`
    /// (the `LoopRec`). Charges a reduction (a back-edge).
    LoopRecEnd {
        label: Label,
    },
    /// Take the current message out of the mailbox; reset the save pointer.
    RemoveMessage,
    /// Suspend until a message arrives, then jump to `label` (the `LoopRec`).
    Wait {
        label: Label,
    },
    /// Like `Wait` but with a timeout in milliseconds (integer or `infinity`);
    /// on timeout continue with the next instruction.
    WaitTimeout {
        label: Label,
        timeout: Src,
    },
    /// After a timeout: reset the save pointer.
    Timeout,

    // ---- maps ----
    /// `Src#{K => V, ...}` into `dst`; `fail` if `src` is not a map
    /// (Label::NONE raises `{badmap, Src}`).
    PutMapAssoc {
        src: Src,
        dst: Dst,
        fail: Label,
        pairs: Vec<(Src, Src)>,
        live: u16,
    },
    /// `Src#{K := V, ...}`; raises `{badkey, K}` / `{badmap, Src}` or jumps to `fail`.
    PutMapExact {
        src: Src,
        dst: Dst,
        fail: Label,
        pairs: Vec<(Src, Src)>,
        live: u16,
    },
    /// Jump to `fail` unless the map in `src` has every key.
    HasMapFields {
        src: Src,
        fail: Label,
        keys: Vec<Src>,
    },
    /// Fetch each key's value into its destination, or jump to `fail`.
    GetMapElements {
        src: Src,
        fail: Label,
        pairs: Vec<(Src, Dst)>,
    },

    // ---- binaries ----
    /// Build a bitstring from segments into `dst`. On a bad segment jump to
    /// `fail` (or raise `badarg` when `fail` is `Label::NONE`).
    BsCreate {
        segments: Vec<Segment>,
        dst: Dst,
        fail: Label,
        live: u16,
    },
    /// Start matching the bitstring in `src`: make a match context in `dst`,
    /// or jump to `fail` if `src` is not a bitstring.
    BsStartMatch {
        src: Src,
        dst: Dst,
        fail: Label,
        live: u16,
    },
    /// Read a segment from the match context `ctx` into `dst`, advancing it;
    /// jump to `fail` if it does not fit. For `Binary` with `size: None`,
    /// take the rest (which must be a multiple of `unit`).
    BsGet {
        ctx: Src,
        kind: SegKind,
        size: Option<Src>,
        unit: u8,
        flags: SegFlags,
        dst: Dst,
        fail: Label,
        live: u16,
    },
    /// Skip `size * unit` bits (or the rest when `size` is None).
    BsSkip {
        ctx: Src,
        size: Option<Src>,
        unit: u8,
        fail: Label,
    },
    /// Jump to `fail` unless exactly `bits` bits remain.
    BsTestTail {
        ctx: Src,
        bits: u32,
        fail: Label,
    },
    /// Jump to `fail` unless the remaining bit count is a multiple of `unit`.
    BsTestUnit {
        ctx: Src,
        unit: u8,
        fail: Label,
    },
    /// Save / restore the position of the match context in `slot`.
    BsGetPosition {
        ctx: Src,
        dst: Dst,
    },
    BsSetPosition {
        ctx: Src,
        pos: Src,
    },

    // ---- misc ----
    /// Does nothing (padding left by optimisations).
    Nop,
}
