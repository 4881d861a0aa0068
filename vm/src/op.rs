//! The VM's internal instruction set: what the loader translates the generic
//! bytecode (`minierl_bytecode::Instr`) into and the interpreter runs.
//!
//! Differences from the generic form, all resolved once at load time:
//! - operands are one word (`Src`): a constant term (atoms already global,
//!   literals already built in the instance's literal area) or a register;
//! - labels are absolute code addresses (`CodePtr`), so a jump is one load;
//! - remote calls name their `&'static ExportEntry`, BIFs a native function;
//! - `erlang:'+'/2` and `'-'/2` get their own ops with a small-int fast path,
//!   comparisons one op each.

use crate::atom::Atom;
use crate::bif::BifFn;
use crate::code::ExportEntry;
use crate::term::{FunEntry, Term, SP_XREG, SP_YREG};
use minierl_bytecode::{ErrorKind, SegFlags, SegKind, TypeTest};

/// An operand: a constant term or an x/y register, in one word (the register
/// forms use special-immediate tags no real term has).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(transparent)]
pub struct Src(pub u64);

impl Src {
    #[inline]
    pub const fn x(n: u16) -> Src {
        Src(((n as u64) << 8) | SP_XREG)
    }
    #[inline]
    pub const fn y(n: u16) -> Src {
        Src(((n as u64) << 8) | SP_YREG)
    }
    #[inline]
    pub const fn constant(t: Term) -> Src {
        Src(t.raw())
    }
    #[inline]
    pub const fn tag(self) -> u64 {
        self.0 & 0xFF
    }
    #[inline]
    pub const fn index(self) -> usize {
        (self.0 >> 8) as usize
    }
}

/// A destination register.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dst {
    X(u16),
    Y(u16),
}

/// The address of an op in a module instance's code (null: "none", e.g. a
/// fail label meaning "raise").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CodePtr(pub *const Op);

// SAFETY: code is immutable once loaded and never freed (instances are
// leaked), so sharing addresses between threads is safe.
unsafe impl Send for CodePtr {}
unsafe impl Sync for CodePtr {}

impl CodePtr {
    pub const NULL: CodePtr = CodePtr(std::ptr::null());
    #[inline]
    pub fn is_null(self) -> bool {
        self.0.is_null()
    }
}

/// Comparison ops.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmp {
    Eq,
    Ne,
    EqExact,
    NeExact,
    Lt,
    Ge,
}

/// One binary segment, operands resolved.
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub kind: SegKind,
    pub value: Src,
    pub size: Option<Src>,
    pub unit: u8,
    pub flags: SegFlags,
}

/// The internal instructions. See `minierl_bytecode::Instr` for semantics.
#[derive(Debug)]
pub enum Op {
    FuncInfo {
        module: Atom,
        function: Atom,
        arity: u8,
    },
    Allocate {
        stack: u16,
        live: u16,
    },
    Deallocate {
        stack: u16,
    },
    Return,
    TestHeap {
        words: u32,
        live: u16,
    },

    Call {
        arity: u8,
        target: CodePtr,
    },
    CallOnly {
        arity: u8,
        target: CodePtr,
    },
    CallLast {
        arity: u8,
        target: CodePtr,
        dealloc: u16,
    },
    CallExt {
        arity: u8,
        export: &'static ExportEntry,
    },
    CallExtOnly {
        arity: u8,
        export: &'static ExportEntry,
    },
    CallExtLast {
        arity: u8,
        export: &'static ExportEntry,
        dealloc: u16,
    },
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
    Bif {
        f: BifFn,
        args: Box<[Src]>,
        dst: Dst,
        fail: CodePtr,
        live: u16,
        export: &'static ExportEntry,
    },
    Add {
        a: Src,
        b: Src,
        dst: Dst,
        fail: CodePtr,
        live: u16,
    },
    Sub {
        a: Src,
        b: Src,
        dst: Dst,
        fail: CodePtr,
        live: u16,
    },

    Move {
        src: Src,
        dst: Dst,
    },
    Swap {
        a: Dst,
        b: Dst,
    },
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
        elements: Box<[Src]>,
        dst: Dst,
    },
    MakeFun {
        entry: &'static FunEntry,
        free: Box<[Src]>,
        dst: Dst,
    },

    Jump {
        target: CodePtr,
    },
    Test {
        test: TypeTest,
        src: Src,
        fail: CodePtr,
    },
    Cmp {
        op: Cmp,
        a: Src,
        b: Src,
        fail: CodePtr,
    },
    TestArity {
        src: Src,
        arity: u32,
        fail: CodePtr,
    },
    IsTaggedTuple {
        src: Src,
        arity: u32,
        tag: Term,
        fail: CodePtr,
    },
    /// Keys that are all immediates are sorted by raw word (binary search);
    /// otherwise `linear` and compared with `=:=`.
    SelectVal {
        src: Src,
        fail: CodePtr,
        table: Box<[(Term, CodePtr)]>,
        linear: bool,
    },
    SelectTupleArity {
        src: Src,
        fail: CodePtr,
        table: Box<[(u32, CodePtr)]>,
    },

    Error {
        kind: ErrorKind,
        src: Src,
    },
    Raise,
    Try {
        y: u16,
        handler: CodePtr,
    },
    TryEnd {
        y: u16,
    },
    TryCase {
        y: u16,
    },
    Catch {
        y: u16,
        handler: CodePtr,
    },
    CatchEnd {
        y: u16,
    },

    Send,
    LoopRec {
        fail: CodePtr,
        dst: Dst,
    },
    LoopRecEnd {
        target: CodePtr,
    },
    RemoveMessage,
    Wait {
        target: CodePtr,
    },
    WaitTimeout {
        target: CodePtr,
        timeout: Src,
    },
    Timeout,

    PutMapAssoc {
        src: Src,
        dst: Dst,
        fail: CodePtr,
        pairs: Box<[(Src, Src)]>,
        live: u16,
    },
    PutMapExact {
        src: Src,
        dst: Dst,
        fail: CodePtr,
        pairs: Box<[(Src, Src)]>,
        live: u16,
    },
    HasMapFields {
        src: Src,
        fail: CodePtr,
        keys: Box<[Src]>,
    },
    GetMapElements {
        src: Src,
        fail: CodePtr,
        pairs: Box<[(Src, Dst)]>,
    },

    BsCreate {
        segments: Box<[Seg]>,
        dst: Dst,
        fail: CodePtr,
        live: u16,
    },
    BsStartMatch {
        src: Src,
        dst: Dst,
        fail: CodePtr,
        live: u16,
    },
    BsGet {
        ctx: Src,
        kind: SegKind,
        size: Option<Src>,
        unit: u8,
        flags: SegFlags,
        dst: Dst,
        fail: CodePtr,
        live: u16,
    },
    BsSkip {
        ctx: Src,
        size: Option<Src>,
        unit: u8,
        fail: CodePtr,
    },
    BsTestTail {
        ctx: Src,
        bits: u32,
        fail: CodePtr,
    },
    BsTestUnit {
        ctx: Src,
        unit: u8,
        fail: CodePtr,
    },
    BsGetPosition {
        ctx: Src,
        dst: Dst,
    },
    BsSetPosition {
        ctx: Src,
        pos: Src,
    },

    Nop,

    // ---- specialised forms, chosen by the loader (`loader::specialise`) ----
    // Each is one of the generic ops above with its operand kinds fixed, so
    // the interpreter reads its operands without decoding them.
    MoveXX {
        src: u16,
        dst: u16,
    },
    MoveXY {
        src: u16,
        dst: u16,
    },
    MoveYX {
        src: u16,
        dst: u16,
    },
    MoveYY {
        src: u16,
        dst: u16,
    },
    /// A constant into an x register / y slot.
    MoveCX {
        src: Term,
        dst: u16,
    },
    MoveCY {
        src: Term,
        dst: u16,
    },
    /// `Test Cons` / `Test Nil` on an x register.
    IsConsX {
        src: u16,
        fail: CodePtr,
    },
    IsNilX {
        src: u16,
        fail: CodePtr,
    },
    /// `GetList` from an x register.
    GetListX {
        src: u16,
        head: Dst,
        tail: Dst,
    },
    /// `=:=` / `=/=` against an immediate: one word compare (an immediate is
    /// exactly equal only to itself; integers are normalised, so a bignum is
    /// never equal to a small).
    IsEqImm {
        src: Src,
        imm: Term,
        fail: CodePtr,
    },
    IsNeImm {
        src: Src,
        imm: Term,
        fail: CodePtr,
    },
    /// `Add` / `Sub` with a small-integer constant operand `imm`. For `Add`,
    /// `swapped` says the constant was the first argument (kept for the
    /// error's argument list).
    AddImm {
        a: Src,
        imm: i64,
        dst: Dst,
        fail: CodePtr,
        swapped: bool,
    },
    SubImm {
        a: Src,
        imm: i64,
        dst: Dst,
        fail: CodePtr,
    },
    /// Fused pairs (`loader::fuse`), each followed by the op it absorbed so
    /// labels to that op still work: `Deallocate` + `Return`; a move of a
    /// constant / of an x register into x0 + `Return`.
    DeallocReturn {
        stack: u16,
    },
    ReturnConst {
        src: Term,
    },
    ReturnX {
        src: u16,
    },
    /// `IsConsX` + `GetListX` of the same register: one dispatch for the
    /// list clause of a function (the `GetListX` after it is skipped).
    IsConsGetListX {
        src: u16,
        fail: CodePtr,
        head: Dst,
        tail: Dst,
    },
    /// `TestHeap` + the `PutList` / `PutTuple` after it (which is skipped).
    /// `words` and `live` are the `TestHeap`'s: it may reserve for a whole
    /// run of constructions, of which this is the first.
    TestHeapPutList {
        words: u32,
        live: u16,
        head: Src,
        tail: Src,
        dst: Dst,
    },
    TestHeapPutTuple {
        words: u32,
        live: u16,
        elements: Box<[Src]>,
        dst: Dst,
    },
    /// `SelectVal` on a short table whose keys are all immediates: a value
    /// matches a key only if it is the same word, so it is a scan of word
    /// compares.
    SelectValImm {
        src: Src,
        fail: CodePtr,
        table: Box<[(Term, CodePtr)]>,
    },

    /// `SelectValImm` on an x register.
    SelectValImmX {
        src: u16,
        fail: CodePtr,
        table: Box<[(Term, CodePtr)]>,
    },
    /// `AddImm`/`SubImm` from a y slot into an x register (`f(N - 1)` with
    /// `N` saved across a call).
    AddImmYX {
        a: u16,
        dst: u16,
        imm: i64,
        fail: CodePtr,
        swapped: bool,
    },
    SubImmYX {
        a: u16,
        dst: u16,
        imm: i64,
        fail: CodePtr,
    },

    /// Operand-kind specialisations of `IsEqImm`/`IsNeImm`, `AddImm`/`SubImm`,
    /// `TestArity`, `GetTupleElement` and `IsTaggedTuple` with the source
    /// in an x register.
    IsEqImmX {
        src: u16,
        imm: Term,
        fail: CodePtr,
    },
    IsNeImmX {
        src: u16,
        imm: Term,
        fail: CodePtr,
    },
    AddImmXX {
        a: u16,
        dst: u16,
        imm: i64,
        fail: CodePtr,
        swapped: bool,
    },
    SubImmXX {
        a: u16,
        dst: u16,
        imm: i64,
        fail: CodePtr,
    },
    TestArityX {
        src: u16,
        arity: u32,
        fail: CodePtr,
    },
    GetTupleElementX {
        src: u16,
        index: u32,
        dst: Dst,
    },

    /// Fused (`loader::fuse`): `Allocate` + a `MoveXY` saving an argument;
    /// two `GetTupleElementX` of the same tuple.
    AllocateMoveXY {
        stack: u16,
        live: u16,
        src: u16,
        dst: u16,
    },
    GetTupleElements2X {
        src: u16,
        i1: u32,
        d1: Dst,
        i2: u32,
        d2: Dst,
    },

    /// Fused: a `Move` of an argument into an x register + `Call` /
    /// `CallLast` (the call is skipped; `arity` and `target` are its).
    MoveCall {
        src: Src,
        dst: u16,
        arity: u8,
        target: CodePtr,
        /// The continuation pushed (`Term::cp` of the op after the call),
        /// made at load time.
        cp: Term,
    },
    MoveCallLast {
        src: Src,
        dst: u16,
        arity: u8,
        dealloc: u16,
        target: CodePtr,
    },

    /// Fused (`loader::fuse`): a construction into x0 or an addition into
    /// x0 + `Deallocate` + `Return` (the ops after it stay in place). The
    /// body-recursive shapes `[H | f(T)]`, `{f(L), f(R)}` and
    /// `f(N - 1) + f(N - 2)` end with one of these.
    /// `[Yhead | Xtail]`: the head saved before the call, the tail its
    /// result.
    TestHeapPutListReturn {
        words: u32,
        live: u16,
        dealloc: u16,
        head: u16,
        tail: u16,
    },
    TestHeapPutTupleReturn {
        words: u32,
        live: u16,
        dealloc: u16,
        elements: Box<[Src]>,
    },
    /// `Add` without a fail label of a y slot and an x register, into x0,
    /// + `DeallocReturn`.
    AddReturn {
        a: u16,
        b: u16,
        dealloc: u16,
    },

    /// Fused: `TestArityX` + the `GetTupleElements2X` of the same tuple
    /// after it (which skips the op it absorbed too): the `{L, R}` clause
    /// of a function in one dispatch.
    TestArityGet2X {
        src: u16,
        arity: u32,
        fail: CodePtr,
        i1: u16,
        i2: u16,
        d1: Dst,
        d2: Dst,
    },
    /// Fused: `IsEqImmX` + `ReturnConst`, a base case `f(0) -> C` or
    /// `f(nil) -> C`: on a match return `ret`, else jump to `fail`.
    IsEqImmReturnX {
        src: u16,
        imm: Term,
        fail: CodePtr,
        ret: Term,
    },

    /// Fused: `SubImmXX` / `SubImmYX` into an x register + the `Call`
    /// after it (skipped; `arity` and `target` are its): `f(N - 1)` in one
    /// dispatch.
    SubImmXCall {
        a: u16,
        dst: u16,
        arity: u8,
        imm: i64,
        fail: CodePtr,
        target: CodePtr,
        /// The continuation pushed (`Term::cp` of the op after the call),
        /// made at load time.
        cp: Term,
    },
    SubImmYCall {
        a: u16,
        dst: u16,
        arity: u8,
        imm: i64,
        fail: CodePtr,
        target: CodePtr,
        /// The continuation pushed (`Term::cp` of the op after the call),
        /// made at load time.
        cp: Term,
    },
    /// Fused: `MoveXY` saving a call's result + the `SubImmYCall` after it
    /// (which skips the op it absorbed too): `... f(N - 1) + f(N - 2)`'s
    /// second call in one dispatch.
    MoveXYSubImmYCall {
        src: u16,
        ydst: u16,
        a: u16,
        dst: u16,
        arity: u8,
        imm: i64,
        fail: CodePtr,
        target: CodePtr,
        /// The continuation pushed (`Term::cp` of the op after the call),
        /// made at load time.
        cp: Term,
    },
    /// Fused: `AllocateMoveXY` + the `MoveCall` two ops after it (the ops
    /// in between stay in place) when that moves an x register:
    /// `Allocate`, save an argument, move another into place and call, as
    /// the list clause of `f([H | T]) -> g(H, f(T))` does, in one dispatch.
    AllocateMoveXYMoveCall {
        stack: u16,
        ysrc: u16,
        ydst: u16,
        src: u16,
        dst: u16,
        arity: u8,
        target: CodePtr,
        /// The continuation pushed (`Term::cp` of the op after the call),
        /// made at load time.
        cp: Term,
    },
    /// Fused: `AllocateMoveXY` + the `SubImmXCall` two ops after it (the
    /// ops in between stay in place): allocate, save the argument and call
    /// `f(N - 1)`, the first half of `f(N - 1) + f(N - 2)` or
    /// `{f(D - 1), f(D - 1)}`, in one dispatch. An arithmetic error is
    /// raised at the `SubImmXCall`.
    AllocateMoveXYSubImmXCall {
        stack: u16,
        ysrc: u16,
        ydst: u16,
        a: u16,
        dst: u16,
        arity: u8,
        imm: i64,
        target: CodePtr,
        /// The continuation pushed (`Term::cp` of the op after the call),
        /// made at load time.
        cp: Term,
    },
    /// Fused: `AddImm` without a fail label from an x register into a y
    /// slot + the `MoveCall` after it (skipped) that moves a y slot into
    /// an x register: `1 + f(L) + f(R)`'s second call in one dispatch.
    AddImmXYMoveCall {
        a: u16,
        ydst: u16,
        swapped: bool,
        imm: i64,
        src: u16,
        dst: u16,
        arity: u8,
        target: CodePtr,
        /// The continuation pushed (`Term::cp` of the op after the call),
        /// made at load time.
        cp: Term,
    },
    /// `TestHeapPutTupleReturn` of a pair: `{f(L), f(R)}`.
    TestHeapPutPairReturn {
        words: u32,
        live: u16,
        dealloc: u16,
        a: Src,
        b: Src,
    },
    /// Fused: `IsEqImmReturnX` whose `fail` is a `TestArityGet2X` of the
    /// same register into x registers, `f(nil) -> C; f({L, R}) -> ...`:
    /// return `ret` if x`src` is `imm`, else do the `TestArityGet2X` here
    /// (`fail` and `next` are its failure and its continuation).
    IsEqImmReturnElseGet2X {
        src: u16,
        arity: u16,
        i1: u16,
        i2: u16,
        d1: u16,
        d2: u16,
        imm: Term,
        ret: Term,
        fail: CodePtr,
        next: CodePtr,
    },
    /// Fused: `IsEqImmReturnX` whose `fail` is a `TestArityGet2X` of the
    /// same register followed by an `AllocateMoveXYMoveCall` that saves
    /// one element and calls with the other as the only argument:
    /// `f(nil) -> C; f({L, R}) -> g(f(L), R)` up to the call in one
    /// dispatch. y`ydst` gets element `iy`, x0 element `ix`; `cp` and
    /// `target` are the call's, `fail` the arity test's.
    IsEqImmReturnElseSplitCall {
        src: u16,
        arity: u8,
        stack: u8,
        iy: u8,
        ydst: u8,
        ix: u8,
        imm: Term,
        ret: Term,
        fail: CodePtr,
        target: CodePtr,
        cp: Term,
    },
    /// Fused: `IsEqImmReturnX` whose `fail` is an
    /// `AllocateMoveXYSubImmXCall` saving and decrementing the same
    /// register: `f(0) -> C; f(N) -> ... f(N - 1) ...` up to the call in
    /// one dispatch. An arithmetic error is raised at the `SubImmXCall`,
    /// two ops before the op `cp` returns to.
    IsEqImmReturnElseAllocSubCall {
        src: u16,
        stack: u16,
        ydst: u16,
        dst: u16,
        arity: u8,
        simm: i32,
        imm: Term,
        ret: Term,
        target: CodePtr,
        cp: Term,
    },
    /// `IsConsGetListX` with both destinations x registers.
    IsConsGetListXX {
        src: u16,
        head: u16,
        tail: u16,
        fail: CodePtr,
    },
    /// Fused: a `SelectValImmX` every target of which is a `ReturnConst`
    /// (`f(0) -> 0; f(1) -> 1; ...`): on a match return that constant, else
    /// jump to `fail`.
    SelectReturnX {
        src: u16,
        fail: CodePtr,
        table: Box<[(Term, Term)]>,
    },
    /// `SelectReturnX` whose keys are the small integers `base`,
    /// `base + 1`, ...: the value is found by index, `values[v - base]`.
    SelectReturnRangeX {
        src: u16,
        base: Term,
        fail: CodePtr,
        values: Box<[Term]>,
    },

    /// Not produced by the loader: the code the VM runs when a process's
    /// outermost function returns (the bottom continuation pointer).
    ProcessExit,
}

#[cfg(test)]
mod tests {
    #[test]
    fn op_size_is_pinned() {
        assert!(std::mem::size_of::<super::Op>() <= 48, "{}", std::mem::size_of::<super::Op>());
        assert_eq!(std::mem::size_of::<super::Src>(), 8);
    }
}
