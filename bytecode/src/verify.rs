//! The verifier: a module must pass it before the loader lets any of it run.
//!
//! Beyond checking every index (atoms, literals, imports, lambdas, functions,
//! labels, registers), it walks each function's control flow and tracks two
//! facts at every instruction: the size of the current stack frame (none, or
//! `n` y slots) and which x registers hold a value written by this function.
//! So a verified module never reads a y slot outside its frame, never returns
//! with a frame still pushed, and never reads an x register it did not write:
//! the VM can trust those facts without checking them at run time.

use crate::instr::*;
use crate::module::*;
use crate::MAX_X_REGS;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// The instruction at fault, if any.
    pub pc: Option<u32>,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pc {
            Some(pc) => write!(f, "invalid bytecode at instruction {pc}: {}", self.message),
            None => write!(f, "invalid module: {}", self.message),
        }
    }
}

impl std::error::Error for VerifyError {}

fn err<T>(pc: Option<u32>, message: impl Into<String>) -> Result<T, VerifyError> {
    Err(VerifyError { pc, message: message.into() })
}

const XWORDS: usize = MAX_X_REGS as usize / 64;

/// Which x registers are defined: a fixed bitset.
#[derive(Clone, Copy, PartialEq, Eq)]
struct XSet([u64; XWORDS]);

impl XSet {
    fn empty() -> XSet {
        XSet([0; XWORDS])
    }
    fn upto(n: u16) -> XSet {
        let mut s = XSet::empty();
        for r in 0..n {
            s.set(r);
        }
        s
    }
    fn set(&mut self, r: u16) {
        self.0[r as usize / 64] |= 1 << (r % 64);
    }
    fn has(&self, r: u16) -> bool {
        self.0[r as usize / 64] & (1 << (r % 64)) != 0
    }
    fn meet(&mut self, other: &XSet) -> bool {
        let mut changed = false;
        for i in 0..XWORDS {
            let n = self.0[i] & other.0[i];
            changed |= n != self.0[i];
            self.0[i] = n;
        }
        changed
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct State {
    frame: Option<u16>,
    x: XSet,
}

struct Ctx<'m> {
    m: &'m Module,
    /// Function owning each instruction.
    owner: Vec<u32>,
    /// For each pc, the function whose entry label it is, if any.
    entry_of: Vec<Option<u32>>,
    states: Vec<Option<State>>,
    work: Vec<u32>,
}

/// Check a decoded module. Every rule is described in spec/bytecode.md.
pub fn verify(m: &Module) -> Result<(), VerifyError> {
    if m.atoms.is_empty() || m.atoms[0].is_empty() {
        return err(None, "the module has no name");
    }
    for a in &m.atoms {
        if a.chars().count() > 255 {
            return err(None, "atom too long");
        }
    }
    let n = m.code.len();
    if n > u32::MAX as usize / 2 {
        return err(None, "code too large");
    }
    for l in &m.literals {
        check_literal(m, l, 0)?;
    }
    for imp in &m.imports {
        atom(m, None, imp.module)?;
        atom(m, None, imp.function)?;
    }
    for (_, l) in &m.attributes {
        check_literal(m, l, 0)?;
    }
    // Functions tile the code: each runs from its FuncInfo to the next one.
    if m.functions.is_empty() {
        if n != 0 {
            return err(None, "code outside any function");
        }
    } else if m.functions[0].info.0 != 0 {
        return err(None, "code before the first function");
    }
    let mut owner = vec![0u32; n];
    let mut entry_of = vec![None; n];
    for (i, f) in m.functions.iter().enumerate() {
        atom(m, None, f.name)?;
        let start = f.info.0 as usize;
        let end = m.functions.get(i + 1).map(|g| g.info.0 as usize).unwrap_or(n);
        if start >= end || end > n {
            return err(None, format!("function {i} has an empty or unordered code range"));
        }
        match &m.code[start] {
            Instr::FuncInfo { func } if func.0 as usize == i => {}
            _ => return err(Some(start as u32), "a function must start with its FuncInfo"),
        }
        if f.entry.0 as usize != start + 1 || start + 1 >= end {
            return err(Some(start as u32), "a function's entry must follow its FuncInfo");
        }
        entry_of[start + 1] = Some(i as u32);
        for o in owner.iter_mut().take(end).skip(start) {
            *o = i as u32;
        }
    }
    for e in &m.exports {
        atom(m, None, e.function)?;
        match entry_of.get(e.label.0 as usize).copied().flatten() {
            Some(fi) if m.functions[fi as usize].arity == e.arity && m.functions[fi as usize].name == e.function => {}
            _ => return err(None, "an export does not name a function entry of that name and arity"),
        }
    }
    for l in &m.lambdas {
        let Some(f) = m.functions.get(l.func.0 as usize) else {
            return err(None, "a lambda names a missing function");
        };
        if f.arity as usize != l.arity as usize + l.num_free as usize {
            return err(None, "a lambda's arity and free variables do not match its function");
        }
    }
    let mut prev = 0;
    for le in &m.lines {
        if le.pc < prev || le.pc as usize > n {
            return err(None, "line table is not sorted");
        }
        prev = le.pc;
    }
    let mut cx = Ctx { m, owner, entry_of, states: vec![None; n], work: Vec::new() };
    for f in &m.functions {
        let st = State { frame: None, x: XSet::upto(f.arity as u16) };
        cx.flow(None, f.entry, st)?;
    }
    while let Some(pc) = cx.work.pop() {
        cx.step(pc)?;
    }
    Ok(())
}

fn atom(m: &Module, pc: Option<u32>, a: AtomIdx) -> Result<(), VerifyError> {
    if (a.0 as usize) < m.atoms.len() {
        Ok(())
    } else {
        err(pc, format!("atom index {} out of range", a.0))
    }
}

fn check_literal(m: &Module, l: &Literal, depth: usize) -> Result<(), VerifyError> {
    if depth > 10_000 {
        return err(None, "literal nested too deeply");
    }
    match l {
        Literal::Atom(a) => atom(m, None, *a),
        Literal::ExportFun { module, function, .. } => {
            atom(m, None, *module)?;
            atom(m, None, *function)
        }
        Literal::List(items, tail) => {
            for i in items {
                check_literal(m, i, depth + 1)?;
            }
            check_literal(m, tail, depth + 1)
        }
        Literal::Tuple(items) => items.iter().try_for_each(|i| check_literal(m, i, depth + 1)),
        Literal::Map(kvs) => kvs.iter().try_for_each(|(k, v)| {
            check_literal(m, k, depth + 1)?;
            check_literal(m, v, depth + 1)
        }),
        Literal::Binary { bytes, bits } => {
            if *bits > bytes.len() as u64 * 8 || *bits + 8 <= bytes.len() as u64 * 8 && !bytes.is_empty() {
                err(None, "binary literal bit size does not match its bytes")
            } else {
                Ok(())
            }
        }
        Literal::Str(cps) => {
            if cps.iter().any(|&c| c > 0x10FFFF) {
                err(None, "string literal holds an invalid code point")
            } else {
                Ok(())
            }
        }
        Literal::Int(_) | Literal::BigInt(_) | Literal::Float(_) | Literal::Nil => Ok(()),
    }
}

impl Ctx<'_> {
    /// Record that control reaches `target` in state `st` (from `from`).
    fn flow(&mut self, from: Option<u32>, target: Label, st: State) -> Result<(), VerifyError> {
        let t = target.0 as usize;
        if t >= self.m.code.len() {
            return err(from, format!("label {} out of range", target.0));
        }
        if let Some(f) = from {
            if self.owner[t] != self.owner[f as usize] {
                return err(from, "a jump leaves its function");
            }
        }
        match &mut self.states[t] {
            None => {
                self.states[t] = Some(st);
                self.work.push(t as u32);
            }
            Some(old) => {
                if old.frame != st.frame {
                    return err(from, format!("paths meet at {t} with different stack frames"));
                }
                if old.x.meet(&st.x) {
                    self.work.push(t as u32);
                }
            }
        }
        Ok(())
    }

    fn src(&self, pc: u32, st: &State, s: &Src) -> Result<(), VerifyError> {
        match *s {
            Src::X(r) => {
                if r >= MAX_X_REGS || !st.x.has(r) {
                    return err(Some(pc), format!("reads x{r} before it is written"));
                }
            }
            Src::Y(y) => self.y(pc, st, y)?,
            Src::Atom(a) => atom(self.m, Some(pc), a)?,
            Src::Lit(l) => {
                if l.0 as usize >= self.m.literals.len() {
                    return err(Some(pc), format!("literal index {} out of range", l.0));
                }
            }
            Src::Int(_) | Src::Nil => {}
        }
        Ok(())
    }

    fn y(&self, pc: u32, st: &State, y: u16) -> Result<(), VerifyError> {
        match st.frame {
            Some(n) if y < n => Ok(()),
            Some(n) => err(Some(pc), format!("y{y} outside a frame of {n} slots")),
            None => err(Some(pc), format!("y{y} used without a stack frame")),
        }
    }

    fn dst(&self, pc: u32, st: &mut State, d: &Dst) -> Result<(), VerifyError> {
        match *d {
            Dst::X(r) => {
                if r >= MAX_X_REGS {
                    return err(Some(pc), format!("x{r} out of range"));
                }
                st.x.set(r);
                Ok(())
            }
            Dst::Y(y) => self.y(pc, st, y),
        }
    }

    fn xs(&self, pc: u32, st: &State, n: u16) -> Result<(), VerifyError> {
        for r in 0..n {
            self.src(pc, st, &Src::X(r))?;
        }
        Ok(())
    }

    fn import(&self, pc: u32, i: ImportIdx, arity: usize) -> Result<(), VerifyError> {
        match self.m.imports.get(i.0 as usize) {
            Some(imp) if imp.arity as usize == arity => Ok(()),
            Some(_) => err(Some(pc), "import arity does not match the call"),
            None => err(Some(pc), format!("import index {} out of range", i.0)),
        }
    }

    fn local(&self, pc: u32, label: Label, arity: u8) -> Result<(), VerifyError> {
        match self.entry_of.get(label.0 as usize).copied().flatten() {
            Some(f) if self.m.functions[f as usize].arity == arity => Ok(()),
            _ => err(Some(pc), "a local call must target a function entry of the same arity"),
        }
    }

    fn frame_is(&self, pc: u32, st: &State, want: Option<u16>) -> Result<(), VerifyError> {
        if st.frame == want {
            Ok(())
        } else {
            err(Some(pc), format!("expected stack frame {:?}, found {:?}", want, st.frame))
        }
    }

    fn has_frame(&self, pc: u32, st: &State) -> Result<(), VerifyError> {
        if st.frame.is_some() {
            Ok(())
        } else {
            err(Some(pc), "a non-tail call needs a stack frame")
        }
    }

    fn only_x0(st: &State) -> State {
        State { frame: st.frame, x: XSet::upto(1) }
    }

    fn step(&mut self, pc: u32) -> Result<(), VerifyError> {
        let mut st = self.states[pc as usize].expect("queued instructions have a state");
        let p = Some(pc);
        let instr = &self.m.code[pc as usize];
        let mut next = true;
        match instr {
            Instr::FuncInfo { .. } => {
                next = false;
            }
            Instr::Allocate { stack, live } => {
                self.frame_is(pc, &st, None)?;
                self.xs(pc, &st, *live)?;
                st = State { frame: Some(*stack), x: XSet::upto(*live) };
            }
            Instr::Deallocate { stack } => {
                self.frame_is(pc, &st, Some(*stack))?;
                st.frame = None;
            }
            Instr::Return => {
                self.frame_is(pc, &st, None)?;
                self.xs(pc, &st, 1)?;
                next = false;
            }
            Instr::TestHeap { live, .. } => {
                self.xs(pc, &st, *live)?;
                st.x = XSet::upto(*live);
            }
            Instr::Call { arity, label } => {
                self.has_frame(pc, &st)?;
                self.xs(pc, &st, *arity as u16)?;
                self.local(pc, *label, *arity)?;
                st = Self::only_x0(&st);
            }
            Instr::CallOnly { arity, label } => {
                self.frame_is(pc, &st, None)?;
                self.xs(pc, &st, *arity as u16)?;
                self.local(pc, *label, *arity)?;
                next = false;
            }
            Instr::CallLast { arity, label, dealloc } => {
                self.frame_is(pc, &st, Some(*dealloc))?;
                self.xs(pc, &st, *arity as u16)?;
                self.local(pc, *label, *arity)?;
                next = false;
            }
            Instr::CallExt { arity, import } => {
                self.has_frame(pc, &st)?;
                self.xs(pc, &st, *arity as u16)?;
                self.import(pc, *import, *arity as usize)?;
                st = Self::only_x0(&st);
            }
            Instr::CallExtOnly { arity, import } => {
                self.frame_is(pc, &st, None)?;
                self.xs(pc, &st, *arity as u16)?;
                self.import(pc, *import, *arity as usize)?;
                next = false;
            }
            Instr::CallExtLast { arity, import, dealloc } => {
                self.frame_is(pc, &st, Some(*dealloc))?;
                self.xs(pc, &st, *arity as u16)?;
                self.import(pc, *import, *arity as usize)?;
                next = false;
            }
            Instr::CallFun { arity } => {
                self.has_frame(pc, &st)?;
                self.xs(pc, &st, *arity as u16 + 1)?;
                st = Self::only_x0(&st);
            }
            Instr::CallFunOnly { arity } => {
                self.frame_is(pc, &st, None)?;
                self.xs(pc, &st, *arity as u16 + 1)?;
                next = false;
            }
            Instr::CallFunLast { arity, dealloc } => {
                self.frame_is(pc, &st, Some(*dealloc))?;
                self.xs(pc, &st, *arity as u16 + 1)?;
                next = false;
            }
            Instr::Apply { arity } => {
                self.has_frame(pc, &st)?;
                self.xs(pc, &st, *arity as u16 + 2)?;
                st = Self::only_x0(&st);
            }
            Instr::ApplyOnly { arity } => {
                self.frame_is(pc, &st, None)?;
                self.xs(pc, &st, *arity as u16 + 2)?;
                next = false;
            }
            Instr::ApplyLast { arity, dealloc } => {
                self.frame_is(pc, &st, Some(*dealloc))?;
                self.xs(pc, &st, *arity as u16 + 2)?;
                next = false;
            }
            Instr::Bif { import, args, dst, fail, .. } => {
                self.import(pc, *import, args.len())?;
                for a in args {
                    self.src(pc, &st, a)?;
                }
                if !fail.is_none() {
                    self.flow(p, *fail, st)?;
                }
                self.dst(pc, &mut st, dst)?;
            }
            Instr::Move { src, dst } => {
                self.src(pc, &st, src)?;
                self.dst(pc, &mut st, dst)?;
            }
            Instr::Swap { a, b } => {
                self.src(pc, &st, &(*a).into())?;
                self.src(pc, &st, &(*b).into())?;
            }
            Instr::GetList { src, head, tail } => {
                self.src(pc, &st, src)?;
                self.dst(pc, &mut st, head)?;
                self.dst(pc, &mut st, tail)?;
            }
            Instr::GetHd { src, dst } | Instr::GetTl { src, dst } | Instr::GetTupleElement { src, dst, .. } => {
                self.src(pc, &st, src)?;
                self.dst(pc, &mut st, dst)?;
            }
            Instr::PutList { head, tail, dst } => {
                self.src(pc, &st, head)?;
                self.src(pc, &st, tail)?;
                self.dst(pc, &mut st, dst)?;
            }
            Instr::PutTuple { elements, dst } => {
                for e in elements {
                    self.src(pc, &st, e)?;
                }
                self.dst(pc, &mut st, dst)?;
            }
            Instr::MakeFun { lambda, free, dst, .. } => {
                match self.m.lambdas.get(lambda.0 as usize) {
                    Some(l) if l.num_free as usize == free.len() => {}
                    Some(_) => return err(p, "MakeFun with the wrong number of free variables"),
                    None => return err(p, "lambda index out of range"),
                }
                for e in free {
                    self.src(pc, &st, e)?;
                }
                self.dst(pc, &mut st, dst)?;
            }
            Instr::Jump { label } => {
                self.flow(p, *label, st)?;
                next = false;
            }
            Instr::Test { src, fail, .. } | Instr::TestArity { src, fail, .. } => {
                self.src(pc, &st, src)?;
                self.flow(p, *fail, st)?;
            }
            Instr::IsTaggedTuple { src, tag, fail, .. } => {
                self.src(pc, &st, src)?;
                atom(self.m, p, *tag)?;
                self.flow(p, *fail, st)?;
            }
            Instr::Cmp { a, b, fail, .. } => {
                self.src(pc, &st, a)?;
                self.src(pc, &st, b)?;
                self.flow(p, *fail, st)?;
            }
            Instr::SelectVal { src, fail, table } => {
                self.src(pc, &st, src)?;
                self.flow(p, *fail, st)?;
                for (k, l) in table {
                    if let SelectKey::Atom(a) = k {
                        atom(self.m, p, *a)?;
                    }
                    self.flow(p, *l, st)?;
                }
                next = false;
            }
            Instr::SelectTupleArity { src, fail, table } => {
                self.src(pc, &st, src)?;
                self.flow(p, *fail, st)?;
                for (_, l) in table {
                    self.flow(p, *l, st)?;
                }
                next = false;
            }
            Instr::Error { src, .. } => {
                self.src(pc, &st, src)?;
                next = false;
            }
            Instr::Raise => {
                self.xs(pc, &st, 3)?;
                next = false;
            }
            Instr::Try { y, handler } => {
                self.y(pc, &st, *y)?;
                let h = State { frame: st.frame, x: XSet::upto(3) };
                self.flow(p, *handler, h)?;
            }
            Instr::Catch { y, handler } => {
                self.y(pc, &st, *y)?;
                let h = State { frame: st.frame, x: XSet::upto(1) };
                self.flow(p, *handler, h)?;
            }
            Instr::TryEnd { y } => self.y(pc, &st, *y)?,
            Instr::TryCase { y } => {
                self.y(pc, &st, *y)?;
                st.x = XSet::upto(3);
            }
            Instr::CatchEnd { y } => {
                self.y(pc, &st, *y)?;
                self.xs(pc, &st, 1)?;
                st.x = XSet::upto(1);
            }
            Instr::Send => {
                self.xs(pc, &st, 2)?;
            }
            Instr::LoopRec { fail, dst } => {
                self.flow(p, *fail, st)?;
                self.dst(pc, &mut st, dst)?;
            }
            Instr::LoopRecEnd { label } => {
                self.flow(p, *label, st)?;
                next = false;
            }
            Instr::RemoveMessage | Instr::Timeout | Instr::Nop => {}
            Instr::Wait { label } => {
                let w = State { frame: st.frame, x: XSet::empty() };
                self.flow(p, *label, w)?;
                next = false;
            }
            Instr::WaitTimeout { label, timeout } => {
                self.src(pc, &st, timeout)?;
                st.x = XSet::empty();
                self.flow(p, *label, st)?;
            }
            Instr::PutMapAssoc { src, dst, fail, pairs, .. } | Instr::PutMapExact { src, dst, fail, pairs, .. } => {
                self.src(pc, &st, src)?;
                for (k, v) in pairs {
                    self.src(pc, &st, k)?;
                    self.src(pc, &st, v)?;
                }
                if !fail.is_none() {
                    self.flow(p, *fail, st)?;
                }
                self.dst(pc, &mut st, dst)?;
            }
            Instr::HasMapFields { src, fail, keys } => {
                self.src(pc, &st, src)?;
                for k in keys {
                    self.src(pc, &st, k)?;
                }
                self.flow(p, *fail, st)?;
            }
            Instr::GetMapElements { src, fail, pairs } => {
                self.src(pc, &st, src)?;
                for (k, _) in pairs {
                    self.src(pc, &st, k)?;
                }
                self.flow(p, *fail, st)?;
                for (_, d) in pairs {
                    self.dst(pc, &mut st, d)?;
                }
            }
            Instr::BsCreate { segments, dst, fail, .. } => {
                for s in segments {
                    self.src(pc, &st, &s.value)?;
                    if let Some(sz) = &s.size {
                        self.src(pc, &st, sz)?;
                    }
                }
                if !fail.is_none() {
                    self.flow(p, *fail, st)?;
                }
                self.dst(pc, &mut st, dst)?;
            }
            Instr::BsStartMatch { src, dst, fail, .. } => {
                self.src(pc, &st, src)?;
                self.flow(p, *fail, st)?;
                self.dst(pc, &mut st, dst)?;
            }
            Instr::BsGet { ctx, size, dst, fail, .. } => {
                self.src(pc, &st, ctx)?;
                if let Some(sz) = size {
                    self.src(pc, &st, sz)?;
                }
                self.flow(p, *fail, st)?;
                self.dst(pc, &mut st, dst)?;
            }
            Instr::BsSkip { ctx, size, fail, .. } => {
                self.src(pc, &st, ctx)?;
                if let Some(sz) = size {
                    self.src(pc, &st, sz)?;
                }
                self.flow(p, *fail, st)?;
            }
            Instr::BsTestTail { ctx, fail, .. } | Instr::BsTestUnit { ctx, fail, .. } => {
                self.src(pc, &st, ctx)?;
                self.flow(p, *fail, st)?;
            }
            Instr::BsGetPosition { ctx, dst } => {
                self.src(pc, &st, ctx)?;
                self.dst(pc, &mut st, dst)?;
            }
            Instr::BsSetPosition { ctx, pos } => {
                self.src(pc, &st, ctx)?;
                self.src(pc, &st, pos)?;
            }
        }
        if next {
            let n = pc as usize + 1;
            if n >= self.m.code.len() || self.owner[n] != self.owner[pc as usize] {
                return err(p, "control falls off the end of a function");
            }
            self.flow(p, Label(n as u32), st)?;
        }
        Ok(())
    }
}
