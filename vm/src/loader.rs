//! The loader, phase 1 ("prepare"): verify a `minierl_bytecode::Module`
//! and translate it into a ready-to-run `Instance` without taking any lock
//! the schedulers need. Phase 2 is `CodeServer::commit`.
//!
//! Calling order: `decode` (for bytes) → `prepare` → `commit` (or drop the
//! `Prepared` to abort). `load` and `load_bytes` do all of it.

use crate::atom::{self, Atom};
use crate::bif;
use crate::code::{CodeServer, FuncMeta, Instance, LoadError, Mfa};
use crate::heap::Heap;
use crate::op::{Cmp, CodePtr, Dst, Op, Seg, Src};
use crate::process::Exc;
use crate::term::{FunEntry, Term, SP_XREG, SP_YREG};
use minierl_bytecode as bc;
use minierl_bytecode::{Instr, Literal, TypeTest};
use std::sync::{Mutex, OnceLock};

/// A verified, translated module not yet visible to any process.
pub struct Prepared {
    inst: &'static Instance,
}

impl Prepared {
    pub fn module(&self) -> Atom {
        self.inst.module
    }
    /// Phase 2: publish it (see `CodeServer::commit`).
    pub fn commit(self, code: &CodeServer) -> Result<&'static Instance, LoadError> {
        code.commit(self.inst)?;
        Ok(self.inst)
    }
}

/// Decode, verify and translate a compiled-module file.
pub fn prepare_bytes(code: &CodeServer, bytes: &[u8]) -> Result<Prepared, LoadError> {
    let m = bc::decode(bytes).map_err(|e| LoadError::BadFile(e.to_string()))?;
    prepare(code, &m)
}

/// Decode, verify, translate and commit.
pub fn load_bytes(code: &CodeServer, bytes: &[u8]) -> Result<&'static Instance, LoadError> {
    prepare_bytes(code, bytes)?.commit(code)
}

/// Verify, translate and commit.
pub fn load(code: &CodeServer, m: &bc::Module) -> Result<&'static Instance, LoadError> {
    prepare(code, m)?.commit(code)
}

struct Cx<'a> {
    code: &'a CodeServer,
    m: &'a bc::Module,
    atoms: Vec<Atom>,
    lits: Vec<Term>,
    heap: Heap,
    base: *const Op,
}

fn raise_undef_bif(_p: &mut crate::process::Process, _a: &[Term]) -> Result<Term, Exc> {
    Err(Exc::error(Term::atom(atom::UNDEF)))
}

/// Phase 1: verify and translate. Never panics on a bad module.
pub fn prepare(code: &CodeServer, m: &bc::Module) -> Result<Prepared, LoadError> {
    bc::verify(m).map_err(|e| LoadError::BadFile(e.to_string()))?;
    check_indices(m)?;
    let atoms: Vec<Atom> = m.atoms.iter().map(|a| atom::intern(a)).collect();
    let n = m.code.len();
    // The code array is allocated first so label addresses are known while
    // translating; a boxed slice never moves.
    let mut ops: Box<[Op]> = (0..n).map(|_| Op::Nop).collect();
    let base = ops.as_ptr();
    let mut cx = Cx { code, m, atoms, lits: Vec::new(), heap: Heap::with_capacity(256), base };
    for l in &m.literals {
        let t = cx.literal(l);
        cx.lits.push(t);
    }
    let module = cx.atoms[0];
    // Lambdas: code addresses known now; the instance is set after leaking.
    let lambdas: Box<[FunEntry]> = m
        .lambdas
        .iter()
        .map(|l| {
            let f = &m.functions[l.func.0 as usize];
            FunEntry {
                module,
                name: cx.atoms[f.name.0 as usize],
                arity: l.arity,
                num_free: l.num_free,
                index: l.index,
                uniq: l.uniq,
                code: cx.label(f.entry),
                instance: OnceLock::new(),
            }
        })
        .collect();
    let lambdas_ptr = lambdas.as_ptr();
    for (i, ins) in m.code.iter().enumerate() {
        ops[i] = specialise_x(specialise(cx.translate(ins, lambdas_ptr)?));
    }
    fuse(&mut ops);
    // A fun's code takes its free variables as extra arguments; OTP's traces
    // show that whole arity, as for any function. (A fun with free variables
    // raises `function_clause` from a stub of the fun's own arity, which the
    // compiler makes, so its arguments show as the caller passed them.)
    let functions: Vec<FuncMeta> = m
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| FuncMeta {
            name: cx.atoms[f.name.0 as usize],
            arity: f.arity,
            start: f.info.0,
            end: m.functions.get(i + 1).map(|g| g.info.0).unwrap_or(n as u32),
        })
        .collect();
    let exports = m.exports.iter().map(|e| (cx.atoms[e.function.0 as usize], e.arity, e.label.0)).collect();
    let attrs: Vec<Term> = m
        .attributes
        .iter()
        .map(|(a, l)| {
            let v = cx.literal(l);
            let k = Term::atom(cx.atoms[a.0 as usize]);
            cx.heap.tuple(&[k, v])
        })
        .collect();
    let vsn = cx.heap.bigint(&num_bigint::BigInt::from(m.vsn));
    let vsn_list = cx.heap.list(&[vsn]);
    let vsn_attr = cx.heap.tuple(&[Term::atom(atom::VSN), vsn_list]);
    let mut all_attrs = vec![vsn_attr];
    all_attrs.extend(attrs);
    let attributes = cx.heap.list(&all_attrs);
    let inst = Instance {
        module,
        code: ops,
        functions,
        lines: m.lines.iter().map(|l| (l.pc, l.line)).collect(),
        source: m.source.clone(),
        lambdas,
        exports,
        literals: Mutex::new(cx.heap),
        attributes,
        vsn: m.vsn,
        state: Default::default(),
        generation: code.next_generation(),
    };
    let inst: &'static Instance = Box::leak(Box::new(inst));
    for l in inst.lambdas.iter() {
        let _ = l.instance.set(inst);
    }
    Ok(Prepared { inst })
}

/// The verifier checks only reachable instructions; translation reads the
/// tables for every instruction, so check every index first (unreachable
/// code with a bad index must be an error, not a panic).
fn check_indices(m: &bc::Module) -> Result<(), LoadError> {
    let bad = |pc: usize, what: &str| {
        Err(LoadError::BadFile(format!("invalid bytecode at instruction {pc}: {what} index out of range")))
    };
    let src_ok = |s: &bc::Src| match s {
        bc::Src::Atom(a) => (a.0 as usize) < m.atoms.len(),
        bc::Src::Lit(l) => (l.0 as usize) < m.literals.len(),
        bc::Src::X(r) => *r < bc::MAX_X_REGS,
        _ => true,
    };
    let dst_ok = |d: &bc::Dst| match d {
        bc::Dst::X(r) => *r < bc::MAX_X_REGS,
        _ => true,
    };
    for (pc, ins) in m.code.iter().enumerate() {
        let mut srcs: Vec<&bc::Src> = Vec::new();
        let mut dsts: Vec<&bc::Dst> = Vec::new();
        match ins {
            Instr::FuncInfo { func } if func.0 as usize >= m.functions.len() => return bad(pc, "function"),
            Instr::CallExt { import, .. } | Instr::CallExtOnly { import, .. } | Instr::CallExtLast { import, .. }
                if import.0 as usize >= m.imports.len() =>
            {
                return bad(pc, "import")
            }
            Instr::Bif { import, args, dst, .. } => {
                if import.0 as usize >= m.imports.len() {
                    return bad(pc, "import");
                }
                srcs.extend(args.iter());
                dsts.push(dst);
            }
            Instr::MakeFun { lambda, free, dst, .. } => {
                if lambda.0 as usize >= m.lambdas.len() {
                    return bad(pc, "lambda");
                }
                srcs.extend(free.iter());
                dsts.push(dst);
            }
            Instr::IsTaggedTuple { src, tag, .. } => {
                if tag.0 as usize >= m.atoms.len() {
                    return bad(pc, "atom");
                }
                srcs.push(src);
            }
            Instr::SelectVal { src, table, .. } => {
                srcs.push(src);
                for (k, _) in table {
                    if let bc::SelectKey::Atom(a) = k {
                        if a.0 as usize >= m.atoms.len() {
                            return bad(pc, "atom");
                        }
                    }
                }
            }
            Instr::Move { src, dst }
            | Instr::GetHd { src, dst }
            | Instr::GetTl { src, dst }
            | Instr::GetTupleElement { src, dst, .. } => {
                srcs.push(src);
                dsts.push(dst);
            }
            Instr::GetList { src, head, tail } => {
                srcs.push(src);
                dsts.push(head);
                dsts.push(tail);
            }
            Instr::PutList { head, tail, dst } => {
                srcs.push(head);
                srcs.push(tail);
                dsts.push(dst);
            }
            Instr::PutTuple { elements, dst } => {
                srcs.extend(elements.iter());
                dsts.push(dst);
            }
            Instr::Test { src, .. }
            | Instr::TestArity { src, .. }
            | Instr::SelectTupleArity { src, .. }
            | Instr::Error { src, .. } => srcs.push(src),
            Instr::Cmp { a, b, .. } => {
                srcs.push(a);
                srcs.push(b);
            }
            Instr::WaitTimeout { timeout, .. } => srcs.push(timeout),
            Instr::LoopRec { dst, .. } => dsts.push(dst),
            Instr::PutMapAssoc { src, dst, pairs, .. } | Instr::PutMapExact { src, dst, pairs, .. } => {
                srcs.push(src);
                dsts.push(dst);
                for (k, v) in pairs {
                    srcs.push(k);
                    srcs.push(v);
                }
            }
            Instr::HasMapFields { src, keys, .. } => {
                srcs.push(src);
                srcs.extend(keys.iter());
            }
            Instr::GetMapElements { src, pairs, .. } => {
                srcs.push(src);
                for (k, d) in pairs {
                    srcs.push(k);
                    dsts.push(d);
                }
            }
            Instr::BsCreate { segments, dst, .. } => {
                for s in segments {
                    srcs.push(&s.value);
                    if let Some(z) = &s.size {
                        srcs.push(z);
                    }
                }
                dsts.push(dst);
            }
            Instr::BsStartMatch { src, dst, .. } => {
                srcs.push(src);
                dsts.push(dst);
            }
            Instr::BsGet { ctx, size, dst, .. } => {
                srcs.push(ctx);
                if let Some(z) = size {
                    srcs.push(z);
                }
                dsts.push(dst);
            }
            Instr::BsSkip { ctx, size, .. } => {
                srcs.push(ctx);
                if let Some(z) = size {
                    srcs.push(z);
                }
            }
            Instr::BsTestTail { ctx, .. } | Instr::BsTestUnit { ctx, .. } => srcs.push(ctx),
            Instr::BsGetPosition { ctx, dst } => {
                srcs.push(ctx);
                dsts.push(dst);
            }
            Instr::BsSetPosition { ctx, pos } => {
                srcs.push(ctx);
                srcs.push(pos);
            }
            _ => {}
        }
        if !srcs.into_iter().all(src_ok) || !dsts.into_iter().all(dst_ok) {
            return bad(pc, "operand");
        }
    }
    Ok(())
}

/// An operand's kind, for choosing a specialised op.
enum Kind {
    X(u16),
    Y(u16),
    Const(Term),
}

fn kind(s: Src) -> Kind {
    match s.tag() {
        crate::term::SP_XREG => Kind::X(s.index() as u16),
        crate::term::SP_YREG => Kind::Y(s.index() as u16),
        _ => Kind::Const(Term::from_raw(s.0)),
    }
}

/// Replace a translated op by a specialised form when its operand kinds
/// allow one (`Op::MoveXX` and the others after it in `op.rs`), so the hot
/// ops of the interpreter read their operands without decoding them.
/// Semantics are unchanged: every specialised op does exactly what the
/// generic one does for those operands.
fn specialise(op: Op) -> Op {
    match op {
        Op::Move { src, dst } => match (kind(src), dst) {
            (Kind::X(s), Dst::X(d)) => Op::MoveXX { src: s, dst: d },
            (Kind::X(s), Dst::Y(d)) => Op::MoveXY { src: s, dst: d },
            (Kind::Y(s), Dst::X(d)) => Op::MoveYX { src: s, dst: d },
            (Kind::Y(s), Dst::Y(d)) => Op::MoveYY { src: s, dst: d },
            (Kind::Const(c), Dst::X(d)) => Op::MoveCX { src: c, dst: d },
            (Kind::Const(c), Dst::Y(d)) => Op::MoveCY { src: c, dst: d },
        },
        Op::Test { test: TypeTest::Cons, src, fail } if src.tag() == crate::term::SP_XREG => {
            Op::IsConsX { src: src.index() as u16, fail }
        }
        Op::Test { test: TypeTest::Nil, src, fail } if src.tag() == crate::term::SP_XREG => {
            Op::IsNilX { src: src.index() as u16, fail }
        }
        Op::GetList { src, head, tail } if src.tag() == crate::term::SP_XREG => {
            Op::GetListX { src: src.index() as u16, head, tail }
        }
        Op::Cmp { op: c @ (Cmp::EqExact | Cmp::NeExact), a, b, fail } => match (kind(a), kind(b)) {
            (_, Kind::Const(imm)) if imm.is_immediate() => {
                if c == Cmp::EqExact {
                    Op::IsEqImm { src: a, imm, fail }
                } else {
                    Op::IsNeImm { src: a, imm, fail }
                }
            }
            (Kind::Const(imm), _) if imm.is_immediate() => {
                if c == Cmp::EqExact {
                    Op::IsEqImm { src: b, imm, fail }
                } else {
                    Op::IsNeImm { src: b, imm, fail }
                }
            }
            _ => Op::Cmp { op: c, a, b, fail },
        },
        // A register plus or minus a small constant (OTP's `i_increment`:
        // a failure has no `erlang:'+'/2` frame, see `arith_slow`).
        Op::Add { a, b, dst, fail, live } => match (kind(a), kind(b)) {
            (Kind::X(_) | Kind::Y(_), Kind::Const(c)) if c.is_small() => {
                Op::AddImm { a, imm: c.small_value(), dst, fail, swapped: false }
            }
            (Kind::Const(c), Kind::X(_) | Kind::Y(_)) if c.is_small() => {
                Op::AddImm { a: b, imm: c.small_value(), dst, fail, swapped: true }
            }
            _ => Op::Add { a, b, dst, fail, live },
        },
        Op::Sub { a, b, dst, fail, live } => match (kind(a), kind(b)) {
            (Kind::X(_) | Kind::Y(_), Kind::Const(c)) if c.is_small() => {
                Op::SubImm { a, imm: c.small_value(), dst, fail }
            }
            _ => Op::Sub { a, b, dst, fail, live },
        },
        Op::TestArity { src, arity, fail } if src.tag() == crate::term::SP_XREG => {
            Op::TestArityX { src: src.index() as u16, arity, fail }
        }
        Op::GetTupleElement { src, index, dst } if src.tag() == crate::term::SP_XREG => {
            Op::GetTupleElementX { src: src.index() as u16, index, dst }
        }
        op => op,
    }
}

/// Second round of `specialise`: the forms it made with an x-register
/// source (and destination) get their own ops too.
fn specialise_x(op: Op) -> Op {
    let x = |s: Src| (s.tag() == crate::term::SP_XREG).then_some(s.index() as u16);
    match op {
        Op::IsEqImm { src, imm, fail } if x(src).is_some() => Op::IsEqImmX { src: src.index() as u16, imm, fail },
        Op::IsNeImm { src, imm, fail } if x(src).is_some() => Op::IsNeImmX { src: src.index() as u16, imm, fail },
        Op::AddImm { a, imm, dst: Dst::X(d), fail, swapped } if x(a).is_some() => {
            Op::AddImmXX { a: a.index() as u16, dst: d, imm, fail, swapped }
        }
        Op::SubImm { a, imm, dst: Dst::X(d), fail } if x(a).is_some() => {
            Op::SubImmXX { a: a.index() as u16, dst: d, imm, fail }
        }
        Op::AddImm { a, imm, dst: Dst::X(d), fail, swapped } if a.tag() == SP_YREG => {
            Op::AddImmYX { a: a.index() as u16, dst: d, imm, fail, swapped }
        }
        Op::SubImm { a, imm, dst: Dst::X(d), fail } if a.tag() == SP_YREG => {
            Op::SubImmYX { a: a.index() as u16, dst: d, imm, fail }
        }
        Op::SelectValImm { src, fail, table } if x(src).is_some() => {
            Op::SelectValImmX { src: src.index() as u16, fail, table }
        }
        op => op,
    }
}

/// Fuse an op with the `Return` after it (`Op::DeallocReturn` and the
/// others): one dispatch instead of two on every return of a function with
/// a frame or with a result to move. The `Return` stays in place, so a jump
/// to it (or to the fused op) still runs the same code.
///
/// The same for a pair whose first op never jumps away after doing its work
/// (`IsConsX` + `GetListX`, `TestHeap` + `PutList`/`PutTuple`, `Allocate` +
/// `MoveXY`, two `GetTupleElementX` of one tuple, a move into an x
/// register followed by `Call`/`CallLast`, an immediate subtraction into an
/// x register followed by `Call`): the fused op does both and skips the
/// second, which stays in place for jumps to it. Later rounds fuse fused
/// ops again (see below).
fn fuse(ops: &mut [Op]) {
    // The continuation of a call at op `k` (the code array never moves).
    let base = ops.as_ptr() as usize;
    let cp = |k: usize| Term::cp((base + k * std::mem::size_of::<Op>()) as *const u8);
    for i in 0..ops.len().saturating_sub(1) {
        let fused = match (&ops[i], &ops[i + 1]) {
            (Op::Deallocate { stack }, Op::Return) => Op::DeallocReturn { stack: *stack },
            (Op::MoveCX { src, dst: 0 }, Op::Return) => Op::ReturnConst { src: *src },
            (Op::MoveXX { src, dst: 0 }, Op::Return) => Op::ReturnX { src: *src },
            (Op::IsConsX { src, fail }, Op::GetListX { src: s2, head: Dst::X(h), tail: Dst::X(t) }) if src == s2 => {
                Op::IsConsGetListXX { src: *src, fail: *fail, head: *h, tail: *t }
            }
            (Op::IsConsX { src, fail }, Op::GetListX { src: s2, head, tail }) if src == s2 => {
                Op::IsConsGetListX { src: *src, fail: *fail, head: *head, tail: *tail }
            }
            (Op::SubImmXX { a, dst, imm, fail }, Op::Call { arity, target }) => Op::SubImmXCall {
                a: *a,
                dst: *dst,
                arity: *arity,
                imm: *imm,
                fail: *fail,
                target: *target,
                cp: cp(i + 2),
            },
            (Op::SubImmYX { a, dst, imm, fail }, Op::Call { arity, target }) => Op::SubImmYCall {
                a: *a,
                dst: *dst,
                arity: *arity,
                imm: *imm,
                fail: *fail,
                target: *target,
                cp: cp(i + 2),
            },
            // The fused constructions rely on their reservation (they
            // allocate without arming the next safe point for a collection:
            // see `interp::run`).
            (Op::TestHeap { words, live }, Op::PutList { head, tail, dst }) if *words >= 2 => {
                Op::TestHeapPutList { words: *words, live: *live, head: *head, tail: *tail, dst: *dst }
            }
            (Op::TestHeap { words, live }, Op::PutTuple { elements, dst }) if *words as usize > elements.len() => {
                Op::TestHeapPutTuple { words: *words, live: *live, elements: elements.clone(), dst: *dst }
            }
            (Op::Allocate { stack, live }, Op::MoveXY { src, dst }) => {
                Op::AllocateMoveXY { stack: *stack, live: *live, src: *src, dst: *dst }
            }
            // The second read must not see the first's write.
            (
                Op::GetTupleElementX { src, index: i1, dst: d1 },
                Op::GetTupleElementX { src: s2, index: i2, dst: d2 },
            ) if src == s2 && *d1 != Dst::X(*src) => {
                Op::GetTupleElements2X { src: *src, i1: *i1, d1: *d1, i2: *i2, d2: *d2 }
            }
            (Op::MoveXX { src, dst }, Op::Call { arity, target }) => {
                Op::MoveCall { src: Src::x(*src), dst: *dst, arity: *arity, target: *target, cp: cp(i + 2) }
            }
            (Op::MoveYX { src, dst }, Op::Call { arity, target }) => {
                Op::MoveCall { src: Src::y(*src), dst: *dst, arity: *arity, target: *target, cp: cp(i + 2) }
            }
            (Op::MoveCX { src, dst }, Op::Call { arity, target }) => {
                Op::MoveCall { src: Src::constant(*src), dst: *dst, arity: *arity, target: *target, cp: cp(i + 2) }
            }
            (Op::MoveXX { src, dst }, Op::CallLast { arity, target, dealloc }) => {
                Op::MoveCallLast { src: Src::x(*src), dst: *dst, arity: *arity, dealloc: *dealloc, target: *target }
            }
            (Op::MoveYX { src, dst }, Op::CallLast { arity, target, dealloc }) => {
                Op::MoveCallLast { src: Src::y(*src), dst: *dst, arity: *arity, dealloc: *dealloc, target: *target }
            }
            (Op::MoveCX { src, dst }, Op::CallLast { arity, target, dealloc }) => Op::MoveCallLast {
                src: Src::constant(*src),
                dst: *dst,
                arity: *arity,
                dealloc: *dealloc,
                target: *target,
            },
            _ => continue,
        };
        ops[i] = fused;
    }
    // Second round, over fused ops: a construction or an addition into x0
    // followed by a (fused) `DeallocReturn`; a tuple test followed by the
    // fused read of two elements; a base-case test followed by the return
    // of a constant; `AllocateMoveXY` followed by a `MoveCall`; a call's
    // result saved to a y slot followed by `SubImmYCall`.
    for i in 0..ops.len().saturating_sub(2) {
        let fused = match (&ops[i], &ops[i + 1], &ops[i + 2]) {
            (Op::TestHeapPutList { words, live, head, tail, dst: Dst::X(0) }, _, Op::DeallocReturn { stack })
                if head.tag() == SP_YREG && tail.tag() == SP_XREG =>
            {
                Op::TestHeapPutListReturn {
                    words: *words,
                    live: *live,
                    dealloc: *stack,
                    head: head.index() as u16,
                    tail: tail.index() as u16,
                }
            }
            (Op::TestHeapPutTuple { words, live, elements, dst: Dst::X(0) }, _, Op::DeallocReturn { stack })
                if elements.len() == 2 =>
            {
                Op::TestHeapPutPairReturn {
                    words: *words,
                    live: *live,
                    dealloc: *stack,
                    a: elements[0],
                    b: elements[1],
                }
            }
            (Op::TestHeapPutTuple { words, live, elements, dst: Dst::X(0) }, _, Op::DeallocReturn { stack }) => {
                Op::TestHeapPutTupleReturn { words: *words, live: *live, dealloc: *stack, elements: elements.clone() }
            }
            (Op::Add { a, b, dst: Dst::X(0), fail, .. }, Op::DeallocReturn { stack }, _)
                if fail.is_null() && a.tag() == SP_YREG && b.tag() == SP_XREG =>
            {
                Op::AddReturn { a: a.index() as u16, b: b.index() as u16, dealloc: *stack }
            }
            (Op::TestArityX { src, arity, fail }, Op::GetTupleElements2X { src: s2, i1, d1, i2, d2 }, _)
                if src == s2 && *i1 <= u16::MAX as u32 && *i2 <= u16::MAX as u32 =>
            {
                Op::TestArityGet2X {
                    src: *src,
                    arity: *arity,
                    fail: *fail,
                    i1: *i1 as u16,
                    i2: *i2 as u16,
                    d1: *d1,
                    d2: *d2,
                }
            }
            (Op::IsEqImmX { src, imm, fail }, Op::ReturnConst { src: ret }, _) => {
                Op::IsEqImmReturnX { src: *src, imm: *imm, fail: *fail, ret: *ret }
            }
            // The `MoveXY` in between is the one `AllocateMoveXY` absorbed.
            (
                Op::AllocateMoveXY { stack, src: ysrc, dst: ydst, .. },
                _,
                Op::MoveCall { src, dst, arity, target, .. },
            ) if src.tag() == SP_XREG => Op::AllocateMoveXYMoveCall {
                stack: *stack,
                ysrc: *ysrc,
                ydst: *ydst,
                src: src.index() as u16,
                dst: *dst,
                arity: *arity,
                target: *target,
                cp: cp(i + 4),
            },
            // The `MoveXY` in between is the one `AllocateMoveXY` absorbed.
            (
                Op::AllocateMoveXY { stack, src: ysrc, dst: ydst, .. },
                _,
                Op::SubImmXCall { a, dst, arity, imm, fail, target, cp },
            ) if fail.is_null() => Op::AllocateMoveXYSubImmXCall {
                stack: *stack,
                ysrc: *ysrc,
                ydst: *ydst,
                a: *a,
                dst: *dst,
                arity: *arity,
                imm: *imm,
                target: *target,
                cp: *cp,
            },
            (
                Op::AddImm { a, imm, dst: Dst::Y(ydst), fail, swapped },
                Op::MoveCall { src, dst, arity, target, cp },
                _,
            ) if fail.is_null() && a.tag() == SP_XREG && src.tag() == SP_YREG => Op::AddImmXYMoveCall {
                a: a.index() as u16,
                ydst: *ydst,
                swapped: *swapped,
                imm: *imm,
                src: src.index() as u16,
                dst: *dst,
                arity: *arity,
                target: *target,
                cp: *cp,
            },
            (Op::MoveXY { src, dst: ydst }, Op::SubImmYCall { a, dst, arity, imm, fail, target, .. }, _) => {
                Op::MoveXYSubImmYCall {
                    src: *src,
                    ydst: *ydst,
                    a: *a,
                    dst: *dst,
                    arity: *arity,
                    imm: *imm,
                    fail: *fail,
                    target: *target,
                    cp: cp(i + 3),
                }
            }
            _ => continue,
        };
        ops[i] = fused;
    }
    // Third round: a `SelectValImmX` whose every target returns a constant.
    let base = ops.as_ptr() as usize;
    let at = |ops: &[Op], t: CodePtr| -> Option<Term> {
        let off = (t.0 as usize).checked_sub(base)?;
        match ops.get(off / std::mem::size_of::<Op>())? {
            Op::ReturnConst { src } if off % std::mem::size_of::<Op>() == 0 => Some(*src),
            _ => None,
        }
    };
    for i in 0..ops.len() {
        let fused = match &ops[i] {
            Op::SelectValImmX { src, fail, table } => {
                let rets: Option<Box<[(Term, Term)]>> = table.iter().map(|(k, l)| Some((*k, at(ops, *l)?))).collect();
                match rets {
                    Some(table) => match small_range(&table) {
                        Some((base, values)) => Op::SelectReturnRangeX { src: *src, base, fail: *fail, values },
                        None => Op::SelectReturnX { src: *src, fail: *fail, table },
                    },
                    None => continue,
                }
            }
            // A base case that fails into the `{L, R}` clause: `f(nil) ->
            // C; f({L, R}) -> ...`.
            Op::IsEqImmReturnX { src, imm, fail, ret } => {
                let off = (fail.0 as usize).wrapping_sub(base);
                if off % std::mem::size_of::<Op>() != 0 {
                    continue;
                }
                let k = off / std::mem::size_of::<Op>();
                let at = |j: usize| CodePtr(base.wrapping_add(j * std::mem::size_of::<Op>()) as *const Op);
                match (ops.get(k), ops.get(k + 3)) {
                    // ... `f({L, R}) -> g(f(L), R)`: the clause saves one
                    // element and calls with the other.
                    (
                        Some(&Op::TestArityGet2X {
                            src: s2,
                            arity,
                            fail: afail,
                            i1,
                            i2,
                            d1: Dst::X(d1),
                            d2: Dst::X(d2),
                        }),
                        Some(&Op::AllocateMoveXYMoveCall {
                            stack,
                            ysrc,
                            ydst,
                            src: msrc,
                            dst: 0,
                            arity: 1,
                            target,
                            cp,
                        }),
                    ) if s2 == *src
                        && d1 != d2
                        && arity <= u8::MAX as u32
                        && stack <= u8::MAX as u16
                        && ydst <= u8::MAX as u16
                        && i1 <= u8::MAX as u16
                        && i2 <= u8::MAX as u16
                        && ((ysrc, msrc) == (d1, d2) || (ysrc, msrc) == (d2, d1)) =>
                    {
                        let (iy, ix) = if ysrc == d1 { (i1, i2) } else { (i2, i1) };
                        Op::IsEqImmReturnElseSplitCall {
                            src: *src,
                            arity: arity as u8,
                            stack: stack as u8,
                            iy: iy as u8,
                            ydst: ydst as u8,
                            ix: ix as u8,
                            imm: *imm,
                            ret: *ret,
                            fail: afail,
                            target,
                            cp,
                        }
                    }
                    // `f(0) -> C; f(N) -> ... f(N - 1) ...`.
                    (
                        Some(&Op::AllocateMoveXYSubImmXCall {
                            stack,
                            ysrc,
                            ydst,
                            a,
                            dst,
                            arity,
                            imm: simm,
                            target,
                            cp,
                        }),
                        _,
                    ) if ysrc == *src && a == *src && i32::try_from(simm).is_ok() => {
                        Op::IsEqImmReturnElseAllocSubCall {
                            src: *src,
                            stack,
                            ydst,
                            dst,
                            arity,
                            simm: simm as i32,
                            imm: *imm,
                            ret: *ret,
                            target,
                            cp,
                        }
                    }
                    (
                        Some(&Op::TestArityGet2X {
                            src: s2,
                            arity,
                            fail: afail,
                            i1,
                            i2,
                            d1: Dst::X(d1),
                            d2: Dst::X(d2),
                        }),
                        _,
                    ) if s2 == *src && arity <= u16::MAX as u32 => Op::IsEqImmReturnElseGet2X {
                        src: *src,
                        arity: arity as u16,
                        i1,
                        i2,
                        d1,
                        d2,
                        imm: *imm,
                        ret: *ret,
                        fail: afail,
                        next: at(k + 3),
                    },
                    _ => continue,
                }
            }
            _ => continue,
        };
        ops[i] = fused;
    }
}

/// If the keys of `table` are the small integers `b`, `b + 1`, ... (in any
/// order, each once), `b` and the values in key order.
fn small_range(table: &[(Term, Term)]) -> Option<(Term, Box<[Term]>)> {
    if table.is_empty() || !table.iter().all(|(k, _)| k.is_small()) {
        return None;
    }
    let mut t = table.to_vec();
    t.sort_by_key(|(k, _)| k.small_value());
    let b = t[0].0.small_value();
    let dense = t.iter().enumerate().all(|(i, (k, _))| k.small_value().checked_sub(b) == Some(i as i64));
    dense.then(|| (t[0].0, t.iter().map(|(_, v)| *v).collect()))
}

impl Cx<'_> {
    fn label(&self, l: bc::Label) -> CodePtr {
        if l.is_none() {
            CodePtr::NULL
        } else {
            // SAFETY-free: wrapping_add only computes an address; the
            // verifier guaranteed l < code.len().
            CodePtr(self.base.wrapping_add(l.0 as usize))
        }
    }

    fn atom(&self, a: bc::AtomIdx) -> Atom {
        self.atoms[a.0 as usize]
    }

    fn literal(&mut self, l: &Literal) -> Term {
        match l {
            Literal::Int(i) => self.heap.int(*i),
            Literal::BigInt(b) => self.heap.bigint(b),
            Literal::Float(bits) => self.heap.float(f64::from_bits(*bits)),
            Literal::Atom(a) => Term::atom(self.atom(*a)),
            Literal::Nil => Term::NIL,
            Literal::List(items, tail) => {
                let t = self.literal(tail);
                let v: Vec<Term> = items.iter().map(|i| self.literal(i)).collect();
                self.heap.list_with_tail(&v, t)
            }
            Literal::Str(cps) => {
                let v: Vec<Term> = cps.iter().map(|&c| Term::small(c as i64)).collect();
                self.heap.list(&v)
            }
            Literal::Tuple(items) => {
                let v: Vec<Term> = items.iter().map(|i| self.literal(i)).collect();
                self.heap.tuple(&v)
            }
            Literal::Binary { bytes, bits } => self.heap.bitstring(bytes, *bits),
            Literal::Map(kvs) => {
                let v: Vec<(Term, Term)> = kvs.iter().map(|(k, v)| (self.literal(k), self.literal(v))).collect();
                self.heap.map(v)
            }
            Literal::ExportFun { module, function, arity } => {
                let e = self.code.export(Mfa(self.atom(*module), self.atom(*function), *arity));
                self.heap.export_fun(e)
            }
        }
    }

    fn src(&mut self, s: &bc::Src) -> Src {
        match *s {
            bc::Src::X(r) => Src::x(r),
            bc::Src::Y(r) => Src::y(r),
            bc::Src::Int(i) => Src::constant(self.heap.int(i)),
            bc::Src::Atom(a) => Src::constant(Term::atom(self.atom(a))),
            bc::Src::Nil => Src::constant(Term::NIL),
            bc::Src::Lit(l) => Src::constant(self.lits[l.0 as usize]),
        }
    }

    fn srcs(&mut self, v: &[bc::Src]) -> Box<[Src]> {
        v.iter().map(|s| self.src(s)).collect()
    }

    fn dst(d: &bc::Dst) -> Dst {
        match *d {
            bc::Dst::X(r) => Dst::X(r),
            bc::Dst::Y(r) => Dst::Y(r),
        }
    }

    fn import(&self, i: bc::ImportIdx) -> &'static crate::code::ExportEntry {
        let imp = &self.m.imports[i.0 as usize];
        self.code.export(Mfa(self.atom(imp.module), self.atom(imp.function), imp.arity))
    }

    fn translate(&mut self, ins: &Instr, lambdas: *const FunEntry) -> Result<Op, LoadError> {
        let l = |cx: &Self, x: &bc::Label| cx.label(*x);
        Ok(match ins {
            Instr::FuncInfo { func } => {
                let f = &self.m.functions[func.0 as usize];
                Op::FuncInfo { module: self.atoms[0], function: self.atom(f.name), arity: f.arity }
            }
            Instr::Allocate { stack, live } => Op::Allocate { stack: *stack, live: *live },
            Instr::Deallocate { stack } => Op::Deallocate { stack: *stack },
            Instr::Return => Op::Return,
            Instr::TestHeap { words, live } => Op::TestHeap { words: *words, live: *live },
            Instr::Call { arity, label } => Op::Call { arity: *arity, target: l(self, label) },
            Instr::CallOnly { arity, label } => Op::CallOnly { arity: *arity, target: l(self, label) },
            Instr::CallLast { arity, label, dealloc } => {
                Op::CallLast { arity: *arity, target: l(self, label), dealloc: *dealloc }
            }
            Instr::CallExt { arity, import } => Op::CallExt { arity: *arity, export: self.import(*import) },
            Instr::CallExtOnly { arity, import } => Op::CallExtOnly { arity: *arity, export: self.import(*import) },
            Instr::CallExtLast { arity, import, dealloc } => {
                Op::CallExtLast { arity: *arity, export: self.import(*import), dealloc: *dealloc }
            }
            Instr::CallFun { arity } => Op::CallFun { arity: *arity },
            Instr::CallFunOnly { arity } => Op::CallFunOnly { arity: *arity },
            Instr::CallFunLast { arity, dealloc } => Op::CallFunLast { arity: *arity, dealloc: *dealloc },
            Instr::Apply { arity } => Op::Apply { arity: *arity },
            Instr::ApplyOnly { arity } => Op::ApplyOnly { arity: *arity },
            Instr::ApplyLast { arity, dealloc } => Op::ApplyLast { arity: *arity, dealloc: *dealloc },
            Instr::Bif { import, args, dst, fail, live } => {
                let e = self.import(*import);
                let fail = l(self, fail);
                let dst = Self::dst(dst);
                let live = *live;
                let name = e.function.name();
                if e.module == atom::ERLANG && args.len() == 2 && (name == "+" || name == "-") {
                    let a = self.src(&args[0]);
                    let b = self.src(&args[1]);
                    if name == "+" {
                        Op::Add { a, b, dst, fail, live }
                    } else {
                        Op::Sub { a, b, dst, fail, live }
                    }
                } else {
                    let f = e.bif.unwrap_or(raise_undef_bif as bif::BifFn);
                    Op::Bif { f, args: self.srcs(args), dst, fail, live, export: e }
                }
            }
            Instr::Move { src, dst } => Op::Move { src: self.src(src), dst: Self::dst(dst) },
            Instr::Swap { a, b } => Op::Swap { a: Self::dst(a), b: Self::dst(b) },
            Instr::GetList { src, head, tail } => {
                Op::GetList { src: self.src(src), head: Self::dst(head), tail: Self::dst(tail) }
            }
            Instr::GetHd { src, dst } => Op::GetHd { src: self.src(src), dst: Self::dst(dst) },
            Instr::GetTl { src, dst } => Op::GetTl { src: self.src(src), dst: Self::dst(dst) },
            Instr::GetTupleElement { src, index, dst } => {
                Op::GetTupleElement { src: self.src(src), index: *index, dst: Self::dst(dst) }
            }
            Instr::PutList { head, tail, dst } => {
                Op::PutList { head: self.src(head), tail: self.src(tail), dst: Self::dst(dst) }
            }
            Instr::PutTuple { elements, dst } => Op::PutTuple { elements: self.srcs(elements), dst: Self::dst(dst) },
            Instr::MakeFun { lambda, free, dst, .. } => {
                // SAFETY-free pointer arithmetic: the verifier checked the
                // lambda index; the entry lives in the instance's lambda
                // array, which is leaked with the instance.
                let entry: &'static FunEntry = unsafe { &*lambdas.add(lambda.0 as usize) };
                Op::MakeFun { entry, free: self.srcs(free), dst: Self::dst(dst) }
            }
            Instr::Jump { label } => Op::Jump { target: l(self, label) },
            Instr::Test { test, src, fail } => Op::Test { test: *test, src: self.src(src), fail: l(self, fail) },
            Instr::Cmp { op, a, b, fail } => {
                let op = match op {
                    bc::CmpOp::Eq => Cmp::Eq,
                    bc::CmpOp::Ne => Cmp::Ne,
                    bc::CmpOp::EqExact => Cmp::EqExact,
                    bc::CmpOp::NeExact => Cmp::NeExact,
                    bc::CmpOp::Lt => Cmp::Lt,
                    bc::CmpOp::Ge => Cmp::Ge,
                };
                Op::Cmp { op, a: self.src(a), b: self.src(b), fail: l(self, fail) }
            }
            Instr::TestArity { src, arity, fail } => {
                Op::TestArity { src: self.src(src), arity: *arity, fail: l(self, fail) }
            }
            Instr::IsTaggedTuple { src, arity, tag, fail } => Op::IsTaggedTuple {
                src: self.src(src),
                arity: *arity,
                tag: Term::atom(self.atom(*tag)),
                fail: l(self, fail),
            },
            Instr::SelectVal { src, fail, table } => {
                let mut t: Vec<(Term, CodePtr)> = table
                    .iter()
                    .map(|(k, lb)| {
                        let key = match k {
                            bc::SelectKey::Int(i) => self.heap.int(*i),
                            bc::SelectKey::Atom(a) => Term::atom(self.atom(*a)),
                            bc::SelectKey::Float(b) => self.heap.float(f64::from_bits(*b)),
                        };
                        (key, self.label(*lb))
                    })
                    .collect();
                // Short tables are scanned (a few compares beat a binary
                // search's dependent loads and mispredicted branches).
                let all_imm = t.iter().all(|(k, _)| k.is_immediate());
                let linear = t.len() <= 4 || !all_imm;
                if linear && all_imm {
                    return Ok(Op::SelectValImm { src: self.src(src), fail: l(self, fail), table: t.into() });
                }
                if !linear {
                    t.sort_by_key(|(k, _)| k.raw());
                }
                Op::SelectVal { src: self.src(src), fail: l(self, fail), table: t.into(), linear }
            }
            Instr::SelectTupleArity { src, fail, table } => Op::SelectTupleArity {
                src: self.src(src),
                fail: l(self, fail),
                table: table.iter().map(|(a, lb)| (*a, self.label(*lb))).collect(),
            },
            Instr::Error { kind, src } => Op::Error { kind: *kind, src: self.src(src) },
            Instr::Raise => Op::Raise,
            Instr::Try { y, handler } => Op::Try { y: *y, handler: l(self, handler) },
            Instr::TryEnd { y } => Op::TryEnd { y: *y },
            Instr::TryCase { y } => Op::TryCase { y: *y },
            Instr::Catch { y, handler } => Op::Catch { y: *y, handler: l(self, handler) },
            Instr::CatchEnd { y } => Op::CatchEnd { y: *y },
            Instr::Send => Op::Send,
            Instr::LoopRec { fail, dst } => Op::LoopRec { fail: l(self, fail), dst: Self::dst(dst) },
            Instr::LoopRecEnd { label } => Op::LoopRecEnd { target: l(self, label) },
            Instr::RemoveMessage => Op::RemoveMessage,
            Instr::Wait { label } => Op::Wait { target: l(self, label) },
            Instr::WaitTimeout { label, timeout } => {
                Op::WaitTimeout { target: l(self, label), timeout: self.src(timeout) }
            }
            Instr::Timeout => Op::Timeout,
            Instr::PutMapAssoc { src, dst, fail, pairs, live } => Op::PutMapAssoc {
                src: self.src(src),
                dst: Self::dst(dst),
                fail: l(self, fail),
                pairs: pairs.iter().map(|(k, v)| (self.src(k), self.src(v))).collect(),
                live: *live,
            },
            Instr::PutMapExact { src, dst, fail, pairs, live } => Op::PutMapExact {
                src: self.src(src),
                dst: Self::dst(dst),
                fail: l(self, fail),
                pairs: pairs.iter().map(|(k, v)| (self.src(k), self.src(v))).collect(),
                live: *live,
            },
            Instr::HasMapFields { src, fail, keys } => {
                Op::HasMapFields { src: self.src(src), fail: l(self, fail), keys: self.srcs(keys) }
            }
            Instr::GetMapElements { src, fail, pairs } => Op::GetMapElements {
                src: self.src(src),
                fail: l(self, fail),
                pairs: pairs.iter().map(|(k, d)| (self.src(k), Self::dst(d))).collect(),
            },
            Instr::BsCreate { segments, dst, fail, live } => Op::BsCreate {
                segments: segments
                    .iter()
                    .map(|s| Seg {
                        kind: s.kind,
                        value: self.src(&s.value),
                        size: s.size.as_ref().map(|z| self.src(z)),
                        unit: s.unit,
                        flags: s.flags,
                    })
                    .collect(),
                dst: Self::dst(dst),
                fail: l(self, fail),
                live: *live,
            },
            Instr::BsStartMatch { src, dst, fail, live } => {
                Op::BsStartMatch { src: self.src(src), dst: Self::dst(dst), fail: l(self, fail), live: *live }
            }
            Instr::BsGet { ctx, kind, size, unit, flags, dst, fail, live } => Op::BsGet {
                ctx: self.src(ctx),
                kind: *kind,
                size: size.as_ref().map(|z| self.src(z)),
                unit: *unit,
                flags: *flags,
                dst: Self::dst(dst),
                fail: l(self, fail),
                live: *live,
            },
            Instr::BsSkip { ctx, size, unit, fail } => Op::BsSkip {
                ctx: self.src(ctx),
                size: size.as_ref().map(|z| self.src(z)),
                unit: *unit,
                fail: l(self, fail),
            },
            Instr::BsTestTail { ctx, bits, fail } => {
                Op::BsTestTail { ctx: self.src(ctx), bits: *bits, fail: l(self, fail) }
            }
            Instr::BsTestUnit { ctx, unit, fail } => {
                Op::BsTestUnit { ctx: self.src(ctx), unit: *unit, fail: l(self, fail) }
            }
            Instr::BsGetPosition { ctx, dst } => Op::BsGetPosition { ctx: self.src(ctx), dst: Self::dst(dst) },
            Instr::BsSetPosition { ctx, pos } => Op::BsSetPosition { ctx: self.src(ctx), pos: self.src(pos) },
            Instr::Nop => Op::Nop,
        })
    }
}
