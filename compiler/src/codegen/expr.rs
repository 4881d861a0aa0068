//! Expressions and bodies: values, calls (tail and not), operators, data
//! construction, records, maps, binaries, and the branching constructs
//! (`case`, `if`, `receive`, `try`, `catch`, `andalso`/`orelse`).

use super::analysis::Callee;
use super::moves::parallel_moves;
use super::pattern::{seg_spec, Arm, ArmMode, Const, Prologue, Pt, Row};
use super::{Gen, Loc, PATCH};
use crate::ast::{self, BinOp, Clause, Expr, ExprKind, Name, Span, UnOp};
use minierl_bytecode::{CmpOp, Dst, ErrorKind, Instr, Label, Literal, SegKind, Segment, Src};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

/// Who a call goes to.
enum Target {
    Local(Label),
    Ext(minierl_bytecode::ImportIdx),
    Fun,
    Apply,
}

/// Is `e` a constant term?
/// List expressions with more non-constant elements than this are built in
/// chunks (`long_list`).
pub(crate) const LONG_LIST: usize = 256;
/// Elements evaluated into registers at a time by `long_list`.
const LIST_CHUNK: usize = 64;
/// A frameless body keeps each variable its matches bind in an x register
/// of its own until the body ends. A body that would keep more than this
/// many gets a frame instead, where each variable lives in a y slot: the
/// x registers (1024 at most) stay free for the values being computed.
const FRAMELESS_VARS: usize = 256;
/// In a frame, `exprs` moves the values it computed to y slots once the x
/// depth reaches this, well below the 1024 registers, so that elements
/// nested in the element being computed have room too.
const SPILL_DEPTH: u16 = 512;

pub(crate) fn is_const(e: &Expr) -> bool {
    is_const_at(e, 0)
}

/// How deep the compile-time analyses (`is_const`, `Gen::clobbers`) look
/// below the expression asked about. They are asked at every level of a
/// nested term, so an unbounded look would cost O(N²) for N levels; past
/// this depth the answer is the conservative one (not a constant; may
/// clobber), which only costs a little speed on absurdly deep terms.
pub(crate) const ANALYSIS_DEPTH: usize = 64;

fn is_const_at(e: &Expr, depth: usize) -> bool {
    if depth > ANALYSIS_DEPTH {
        return false;
    }
    let d = depth + 1;
    if let ExprKind::Cons(..) = &e.kind {
        let mut cur = e;
        while let ExprKind::Cons(h, t) = &cur.kind {
            if !is_const_at(h, d) {
                return false;
            }
            cur = t;
        }
        return is_const_at(cur, d);
    }
    match &e.kind {
        ExprKind::Atom(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::String(_) | ExprKind::Nil => true,
        ExprKind::Tuple(es) => es.iter().all(|e| is_const_at(e, d)),
        ExprKind::Cons(..) => unreachable!(),
        ExprKind::Map(fs) => fs.iter().all(|f| !f.exact && is_const_at(&f.key, d) && is_const_at(&f.value, d)),
        ExprKind::UnOp(UnOp::Neg | UnOp::Plus, x) => matches!(x.kind, ExprKind::Int(_) | ExprKind::Float(_)),
        // An arity over 255 is not a literal (`const_literal` refuses it;
        // the call then fails at run time with badarg, as in OTP).
        ExprKind::FunRemote(m, f, a) => match (&m.kind, &f.kind, &a.kind) {
            (ExprKind::Atom(_), ExprKind::Atom(_), ExprKind::Int(n)) => n.to_u8().is_some(),
            _ => false,
        },
        _ => false,
    }
}

fn op_name(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::FDiv => "/",
        BinOp::Div => "div",
        BinOp::Rem => "rem",
        BinOp::Band => "band",
        BinOp::Bor => "bor",
        BinOp::Bxor => "bxor",
        BinOp::Bsl => "bsl",
        BinOp::Bsr => "bsr",
        BinOp::And => "and",
        BinOp::Or => "or",
        BinOp::Xor => "xor",
        BinOp::Eq => "==",
        BinOp::Ne => "/=",
        BinOp::ExactEq => "=:=",
        BinOp::ExactNe => "=/=",
        BinOp::Lt => "<",
        BinOp::Le => "=<",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::Append => "++",
        BinOp::Subtract => "--",
        BinOp::AndAlso => "andalso",
        BinOp::OrElse => "orelse",
        BinOp::Send => "!",
    }
}

pub(crate) fn mk(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

impl Gen<'_> {
    // ------------------------------------------------------------ constants

    pub(crate) fn const_literal(&mut self, e: &Expr) -> Option<Literal> {
        if !is_const(e) {
            return None;
        }
        self.const_literal_of(e)
    }

    /// `const_literal` of an expression known to be constant: the check is
    /// made once at the top, so nesting N deep costs O(N), not O(N²).
    fn const_literal_of(&mut self, e: &Expr) -> Option<Literal> {
        Some(match &e.kind {
            ExprKind::Atom(a) => Literal::Atom(self.atom(a)),
            ExprKind::Int(i) => int_literal(i),
            ExprKind::Float(f) => Literal::Float(f.to_bits()),
            ExprKind::String(s) => {
                if s.is_empty() {
                    Literal::Nil
                } else {
                    Literal::Str(s.clone())
                }
            }
            ExprKind::Nil => Literal::Nil,
            ExprKind::Tuple(es) => Literal::Tuple(es.iter().map(|e| self.const_literal_of(e)).collect::<Option<_>>()?),
            ExprKind::Cons(..) => {
                let mut items = Vec::new();
                let mut cur = e;
                while let ExprKind::Cons(h, t) = &cur.kind {
                    items.push(self.const_literal_of(h)?);
                    cur = t;
                }
                let tail = self.const_literal_of(cur)?;
                Literal::List(items, Box::new(tail))
            }
            ExprKind::Map(fs) => {
                let mut kvs: Vec<(Literal, Literal)> = Vec::new();
                for f in fs {
                    let k = self.const_literal_of(&f.key)?;
                    let v = self.const_literal_of(&f.value)?;
                    if let Some(e) = kvs.iter_mut().find(|(k2, _)| *k2 == k) {
                        e.1 = v;
                    } else {
                        kvs.push((k, v));
                    }
                }
                Literal::Map(kvs)
            }
            ExprKind::UnOp(op, x) => match (&x.kind, op) {
                (ExprKind::Int(i), UnOp::Neg) => int_literal(&-i),
                (ExprKind::Int(i), _) => int_literal(i),
                (ExprKind::Float(f), UnOp::Neg) => Literal::Float((-f).to_bits()),
                (ExprKind::Float(f), _) => Literal::Float(f.to_bits()),
                _ => return None,
            },
            ExprKind::FunRemote(m, f, a) => match (&m.kind, &f.kind, &a.kind) {
                (ExprKind::Atom(m), ExprKind::Atom(f), ExprKind::Int(a)) => {
                    let arity = a.to_u8()?;
                    Literal::ExportFun { module: self.atom(m), function: self.atom(f), arity }
                }
                _ => return None,
            },
            _ => return None,
        })
    }

    /// A constant expression as an operand.
    fn const_operand(&mut self, e: &Expr) -> Option<Src> {
        if !is_const(e) {
            return None;
        }
        Some(match &e.kind {
            ExprKind::Atom(a) => Src::Atom(self.atom(a)),
            ExprKind::Int(i) => self.int_src(i),
            ExprKind::UnOp(UnOp::Neg, x) if matches!(x.kind, ExprKind::Int(_)) => {
                let ExprKind::Int(i) = &x.kind else { unreachable!() };
                self.int_src(&-i)
            }
            ExprKind::Nil => Src::Nil,
            ExprKind::String(s) if s.is_empty() => Src::Nil,
            _ => {
                let l = self.const_literal(e)?;
                self.literal(l)
            }
        })
    }

    // ------------------------------------------------------------ variables

    pub(crate) fn is_bound(&self, name: &str) -> bool {
        self.f.env.contains_key(name)
    }

    pub(crate) fn lookup_var(&mut self, name: &str, span: Span) -> Src {
        match self.f.env.get(name) {
            Some(Loc::Src(s)) => *s,
            Some(Loc::SelfFun) => self.make_self_fun(span),
            None => {
                self.error(span, format!("variable '{name}' is unbound"));
                Src::Nil
            }
        }
    }

    /// The closure of the named fun being compiled (its name used as a value).
    fn make_self_fun(&mut self, span: Span) -> Src {
        let sf = self.f.self_fun.clone().expect("a self fun");
        let m = self.f.depth;
        let free: Vec<Src> = sf.free.iter().map(|v| self.lookup_var(v, span)).collect();
        let live = self.f.depth;
        self.emit(Instr::MakeFun { lambda: sf.lambda, free, dst: Dst::X(m), live });
        self.f.depth = m + 1;
        Src::X(m)
    }

    // ------------------------------------------------------------ bodies

    /// Evaluate sub-expressions left to right. A value computed before a
    /// sibling that calls is spilled to a y slot (returned for freeing).
    pub(crate) fn exprs(&mut self, es: &[&Expr]) -> (Vec<Src>, Vec<u16>) {
        let m = self.f.depth;
        let mut out: Vec<Src> = Vec::with_capacity(es.len());
        let mut ys = Vec::new();
        for (i, e) in es.iter().enumerate() {
            if i > 0 && self.clobbers(e) {
                for s in out.iter_mut() {
                    if let Src::X(r) = *s {
                        let y = self.ytemp();
                        self.emit(Instr::Move { src: Src::X(r), dst: Dst::Y(y) });
                        *s = Src::Y(y);
                        ys.push(y);
                    }
                }
                self.f.depth = 0;
            } else if self.f.in_frame && self.f.depth >= SPILL_DEPTH {
                // Many values computed (a wide tuple, map or binary, which
                // has a frame: `analysis::WIDE`): the ones computed here so
                // far go to y slots, freeing their registers.
                for s in out.iter_mut() {
                    if let Src::X(r) = *s {
                        if r >= m {
                            let y = self.ytemp();
                            self.emit(Instr::Move { src: Src::X(r), dst: Dst::Y(y) });
                            *s = Src::Y(y);
                            ys.push(y);
                        }
                    }
                }
                self.f.depth = m;
            }
            out.push(self.expr(e));
        }
        (out, ys)
    }

    fn free_ytemps(&mut self, ys: Vec<u16>) {
        for y in ys {
            self.free_ytemp(y);
        }
    }

    pub(crate) fn body_value(&mut self, body: &[Expr]) -> Src {
        let Some((last, init)) = body.split_last() else {
            return Src::Nil;
        };
        for e in init {
            self.stmt(e);
        }
        self.expr(last)
    }

    pub(crate) fn body_tail(&mut self, body: &[Expr]) {
        let many_vars = || self.f.depth as usize + super::analysis::body_bindings(body) > FRAMELESS_VARS;
        if !self.f.in_frame && (self.body_needs_frame(body) || many_vars()) {
            self.allocate();
        }
        let Some((last, init)) = body.split_last() else {
            self.ret(Src::Nil);
            return;
        };
        for e in init {
            self.stmt(e);
        }
        self.tail(last);
    }

    /// An expression whose value is dropped.
    fn stmt(&mut self, e: &Expr) {
        let m = self.f.depth;
        match &e.kind {
            ExprKind::Match(p, rhs) => {
                self.set_line(e.span);
                self.match_expr(p, rhs);
                if self.f.in_frame {
                    self.f.depth = m;
                }
            }
            _ => {
                self.expr(e);
                self.f.depth = m;
            }
        }
    }

    /// Push a frame and move the variables still needed into y slots.
    fn allocate(&mut self) {
        let live = self.f.depth;
        self.emit(Instr::Allocate { stack: PATCH, live });
        self.f.in_frame = true;
        let mut vars: Vec<(String, Src)> = self
            .f
            .env
            .iter()
            .filter_map(|(n, l)| match l {
                Loc::Src(s @ Src::X(_)) if self.f.refs.contains(n) => Some((n.clone(), *s)),
                _ => None,
            })
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        for (n, s) in vars {
            let y = self.yvar(&n);
            self.emit(Instr::Move { src: s, dst: Dst::Y(y) });
            self.f.env.insert(n, Loc::Src(Src::Y(y)));
        }
        self.f.depth = 0;
    }

    pub(crate) fn ret(&mut self, v: Src) {
        if v != Src::X(0) {
            self.emit(Instr::Move { src: v, dst: Dst::X(0) });
        }
        if self.f.in_frame {
            self.emit(Instr::Deallocate { stack: PATCH });
        }
        self.emit(Instr::Return);
    }

    /// An expression in tail position: return its value or tail-call.
    pub(crate) fn tail(&mut self, e: &Expr) {
        self.set_line(e.span);
        match &e.kind {
            ExprKind::LocalCall(..) | ExprKind::RemoteCall(..) | ExprKind::FunCall(..) => {
                if let Some(v) = self.call_expr(e, true) {
                    self.ret(v);
                }
            }
            ExprKind::Case(s, cs) => {
                self.case_expr(s, cs, true);
            }
            ExprKind::If(cs) => {
                self.if_expr(cs, true);
            }
            ExprKind::Receive(cs, after) => {
                self.receive_expr(cs, after.as_deref(), true);
            }
            ExprKind::Try(t) => {
                self.try_expr(t, true);
            }
            ExprKind::Block(b) => self.body_tail(b),
            ExprKind::ListComp(x, qs, names) | ExprKind::BinComp(x, qs, names) => {
                let bin = matches!(e.kind, ExprKind::BinComp(..));
                let call = self.lower_lc(x, qs, names, bin, e.span);
                self.tail(&call);
            }
            ExprKind::BinOp(op @ (BinOp::AndAlso | BinOp::OrElse), a, b) => {
                self.andalso(*op, a, b, true).map_or((), |_| ())
            }
            _ => {
                let v = self.expr(e);
                self.ret(v);
            }
        }
    }

    // ------------------------------------------------------------ expressions

    /// Compile `e` for its value. A new value is pushed at x(depth).
    pub(crate) fn expr(&mut self, e: &Expr) -> Src {
        if let Some(s) = self.const_operand(e) {
            return s;
        }
        self.set_line(e.span);
        match &e.kind {
            ExprKind::Var(v) => self.lookup_var(v, e.span),
            ExprKind::Tuple(es) => {
                let es: Vec<&Expr> = es.iter().collect();
                self.tuple(&es)
            }
            ExprKind::Cons(..) => self.list(e),
            ExprKind::Binary(segs) => self.binary(segs),
            ExprKind::Map(fs) => self.map_new(fs),
            ExprKind::MapUpdate(m, fs) => self.map_update(m, fs),
            ExprKind::Record(name, fs) => self.record_new(name, fs, e.span),
            ExprKind::RecordUpdate(r, name, fs) => self.record_update(r, name, fs, e.span),
            ExprKind::RecordField(r, name, field) => self.record_field(r, name, field, e.span),
            ExprKind::RecordIndex(r, f) => match self.record_index(r, f) {
                Some(i) => Src::Int(i as i64),
                None => Src::Nil,
            },
            ExprKind::Match(p, rhs) => self.match_expr(p, rhs),
            ExprKind::BinOp(op, a, b) => self.binop(*op, a, b, e.span),
            ExprKind::UnOp(op, a) => {
                let name = match op {
                    UnOp::Neg => "-",
                    UnOp::Plus => "+",
                    UnOp::Not => "not",
                    UnOp::Bnot => "bnot",
                };
                self.bif_call(name, &[a], e.span)
            }
            ExprKind::LocalCall(..) | ExprKind::RemoteCall(..) | ExprKind::FunCall(..) => {
                self.call_expr(e, false).expect("a non-tail call has a value")
            }
            ExprKind::Case(s, cs) => self.case_expr(s, cs, false).expect("a value"),
            ExprKind::If(cs) => self.if_expr(cs, false).expect("a value"),
            ExprKind::Receive(cs, after) => self.receive_expr(cs, after.as_deref(), false).expect("a value"),
            ExprKind::Try(t) => self.try_expr(t, false).expect("a value"),
            ExprKind::Catch(x) => self.catch_expr(x),
            ExprKind::Block(b) => self.body_value(b),
            ExprKind::Fun(name, cs, lifted) => self.fun_expr(name.as_ref(), cs, lifted.as_ref(), e.span),
            ExprKind::FunRef(f) => self.fun_ref(f),
            ExprKind::FunRemote(m, f, a) => {
                let imp = self.import("erlang", "make_fun", 3);
                self.do_call(Target::Ext(imp), vec![m, f, a], false, e.span).expect("a value")
            }
            ExprKind::ListComp(x, qs, names) | ExprKind::BinComp(x, qs, names) => {
                let bin = matches!(e.kind, ExprKind::BinComp(..));
                let call = self.lower_lc(x, qs, names, bin, e.span);
                self.expr(&call)
            }
            ExprKind::Atom(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::String(_) | ExprKind::Nil => {
                unreachable!("constants are operands")
            }
        }
    }

    pub(crate) fn tuple(&mut self, es: &[&Expr]) -> Src {
        let m = self.f.depth;
        let (srcs, ys) = self.exprs(es);
        let live = self.f.depth;
        self.emit(Instr::TestHeap { words: srcs.len() as u32 + 1, live });
        self.emit(Instr::PutTuple { elements: srcs, dst: Dst::X(m) });
        self.f.depth = m + 1;
        self.free_ytemps(ys);
        Src::X(m)
    }

    fn list(&mut self, e: &Expr) -> Src {
        let mut items: Vec<&Expr> = Vec::new();
        let mut cur = e;
        while let ExprKind::Cons(h, t) = &cur.kind {
            items.push(h);
            cur = t;
        }
        // The longest constant suffix is a literal.
        let mut k = items.len();
        let const_tail = if is_const(cur) {
            while k > 0 && is_const(items[k - 1]) {
                k -= 1;
            }
            if k == items.len() {
                Some(self.const_operand(cur).expect("constant"))
            } else {
                let lits: Vec<Literal> =
                    items[k..].iter().map(|it| self.const_literal(it).expect("constant")).collect();
                let tail = self.const_literal(cur).expect("constant");
                Some(self.literal(Literal::List(lits, Box::new(tail))))
            }
        } else {
            None
        };
        if k == 0 {
            // Every element is a constant, though the whole list is too
            // deep for `is_const` to have said so.
            return const_tail.expect("constant");
        }
        if k > LONG_LIST {
            let calls = items[..k].iter().any(|e| self.clobbers(e)) || const_tail.is_none() && self.clobbers(cur);
            if !calls || self.f.in_frame {
                return self.long_list(&items[..k], cur, const_tail, calls);
            }
        }
        let m = self.f.depth;
        let mut all: Vec<&Expr> = items[..k].to_vec();
        if const_tail.is_none() {
            all.push(cur);
        }
        let (mut srcs, ys) = self.exprs(&all);
        let tail = match const_tail {
            Some(t) => t,
            None => srcs.pop().expect("the tail"),
        };
        let live = self.f.depth;
        self.emit(Instr::TestHeap { words: 2 * k as u32, live });
        let mut acc = tail;
        if k > 1 {
            let s = self.push();
            for i in (1..k).rev() {
                self.emit(Instr::PutList { head: srcs[i], tail: acc, dst: Dst::X(s) });
                acc = Src::X(s);
            }
        }
        self.emit(Instr::PutList { head: srcs[0], tail: acc, dst: Dst::X(m) });
        self.f.depth = m + 1;
        self.free_ytemps(ys);
        Src::X(m)
    }

    /// A list expression of more than `LONG_LIST` non-constant elements
    /// (before its constant suffix `const_tail`, if any). One register per
    /// element would exceed the 1024 x registers an instruction may name, so
    /// the elements are evaluated left to right `LIST_CHUNK` at a time and
    /// consed onto an accumulator (the list so far, reversed), kept in x(m),
    /// or in a y slot when an element `calls`; then the tail is evaluated
    /// and `lists:reverse/2` (a BIF instruction: no call, no clobbered
    /// registers) puts the elements back in order in front of it.
    fn long_list(&mut self, items: &[&Expr], tail: &Expr, const_tail: Option<Src>, calls: bool) -> Src {
        let m = self.f.depth;
        let (acc, ya) = if calls {
            let y = self.ytemp();
            (Dst::Y(y), Some(y))
        } else {
            self.f.depth = m + 1;
            (Dst::X(m), None)
        };
        self.emit(Instr::Move { src: Src::Nil, dst: acc });
        let base = self.f.depth;
        for chunk in items.chunks(LIST_CHUNK) {
            let (srcs, ys) = self.exprs(chunk);
            let live = self.f.depth;
            self.emit(Instr::TestHeap { words: 2 * srcs.len() as u32, live });
            for s in srcs {
                self.emit(Instr::PutList { head: s, tail: acc.into(), dst: acc });
            }
            self.free_ytemps(ys);
            self.f.depth = base;
        }
        let t = match const_tail {
            Some(t) => t,
            None => self.expr(tail),
        };
        let imp = self.import("lists", "reverse", 2);
        let fail = self.f.guard_fail.unwrap_or(Label::NONE);
        let live = self.f.depth;
        self.emit(Instr::Bif { import: imp, args: vec![acc.into(), t], dst: Dst::X(m), fail, live });
        self.f.depth = m + 1;
        if let Some(y) = ya {
            self.free_ytemp(y);
        }
        Src::X(m)
    }

    /// A BIF as an instruction: raises in a body, jumps to the guard's fail
    /// label in a guard.
    pub(crate) fn bif_call(&mut self, name: &str, args: &[&Expr], span: Span) -> Src {
        let m = self.f.depth;
        let (srcs, ys) = self.exprs(args);
        let imp = self.import("erlang", name, args.len() as u8);
        let fail = self.f.guard_fail.unwrap_or(Label::NONE);
        self.set_line(span);
        let live = self.f.depth;
        self.emit(Instr::Bif { import: imp, args: srcs, dst: Dst::X(m), fail, live });
        self.f.depth = m + 1;
        self.free_ytemps(ys);
        Src::X(m)
    }

    fn binop(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> Src {
        match op {
            BinOp::AndAlso | BinOp::OrElse => self.andalso(op, a, b, false).expect("a value"),
            BinOp::Send => {
                let (srcs, ys) = self.exprs(&[a, b]);
                let moves: Vec<(Src, u16)> = srcs.into_iter().enumerate().map(|(i, s)| (s, i as u16)).collect();
                for i in parallel_moves(&moves) {
                    self.emit(i);
                }
                self.set_line(span);
                self.emit(Instr::Send);
                self.free_ytemps(ys);
                self.f.depth = 1;
                Src::X(0)
            }
            BinOp::Append | BinOp::Subtract => {
                let imp = self.import("erlang", op_name(op), 2);
                self.do_call(Target::Ext(imp), vec![a, b], false, span).expect("a value")
            }
            _ => self.bif_call(op_name(op), &[a, b], span),
        }
    }

    /// `A andalso B` / `A orelse B`; B is in tail position when `tail`.
    fn andalso(&mut self, op: BinOp, a: &Expr, b: &Expr, tail: bool) -> Option<Src> {
        let (go_on, short) = if op == BinOp::AndAlso { ("true", "false") } else { ("false", "true") };
        let go_on = Src::Atom(self.atom(go_on));
        let short = Src::Atom(self.atom(short));
        let m = self.f.depth;
        let va = self.expr(a);
        let da = self.f.depth;
        let l_short = self.new_label();
        self.emit(Instr::Cmp { op: CmpOp::EqExact, a: va, b: go_on, fail: l_short });
        self.f.depth = m;
        let join = self.new_label();
        if tail {
            let frame = self.f.in_frame;
            self.tail(b);
            self.f.in_frame = frame;
        } else {
            let vb = self.expr(b);
            if vb != Src::X(m) {
                self.emit(Instr::Move { src: vb, dst: Dst::X(m) });
            }
            self.emit(Instr::Jump { label: join });
        }
        self.f.depth = da;
        self.place(l_short);
        let bad = match self.f.guard_fail {
            Some(l) => l,
            None => {
                let badarg = Src::Atom(self.atom("badarg"));
                self.error_term_block(&[badarg, va])
            }
        };
        self.emit(Instr::Cmp { op: CmpOp::EqExact, a: va, b: short, fail: bad });
        if tail {
            self.ret(short);
            None
        } else {
            self.emit(Instr::Move { src: short, dst: Dst::X(m) });
            self.place(join);
            self.f.depth = m + 1;
            Some(Src::X(m))
        }
    }

    /// A block raising `error({E1, E2, ...})` (through `erlang:error/1`).
    fn error_term_block(&mut self, elems: &[Src]) -> Label {
        let d = self.f.depth;
        let imp = self.import("erlang", "error", 1);
        let call = if self.f.in_frame {
            Instr::CallExtLast { arity: 1, import: imp, dealloc: PATCH }
        } else {
            Instr::CallExtOnly { arity: 1, import: imp }
        };
        self.deferred(vec![
            Instr::TestHeap { words: elems.len() as u32 + 1, live: d },
            Instr::PutTuple { elements: elems.to_vec(), dst: Dst::X(0) },
            call,
        ])
    }

    // ------------------------------------------------------------ calls

    /// `record_info(fields, R)` (the field names) or `record_info(size, R)`
    /// (the tuple's size), known at compile time.
    fn record_info(&mut self, args: &[Expr]) -> Src {
        let (ExprKind::Atom(what), ExprKind::Atom(r)) = (&args[0].kind, &args[1].kind) else {
            self.error(args[0].span, "illegal record info".to_string());
            return Src::Nil;
        };
        let Some(defs) = self.records.get(r) else {
            self.error(args[1].span, format!("record {r} undefined"));
            return Src::Nil;
        };
        let names: Vec<String> = defs.iter().map(|(d, _)| d.clone()).collect();
        match what.as_str() {
            "size" => Src::Int(names.len() as i64 + 1),
            "fields" => {
                let elems = names.iter().map(|n| Literal::Atom(self.atom(n))).collect();
                self.literal(Literal::List(elems, Box::new(Literal::Nil)))
            }
            _ => {
                self.error(args[0].span, "illegal record info".to_string());
                Src::Nil
            }
        }
    }

    /// A call expression. In tail position returns None (it returned or
    /// tail-called) unless it was an inline BIF, whose value is returned.
    pub(crate) fn call_expr(&mut self, e: &Expr, tail: bool) -> Option<Src> {
        match &e.kind {
            ExprKind::LocalCall(n, args) if n.name == "record_info" && args.len() == 2 => Some(self.record_info(args)),
            ExprKind::LocalCall(n, args) => {
                let argr: Vec<&Expr> = args.iter().collect();
                match self.classify_local(&n.name, args.len()) {
                    Callee::Local => {
                        let key = (n.name.clone(), args.len() as u8);
                        let l = self.local_funs[&key].entry;
                        if !tail && self.f.protected == 0 && self.no_return.contains(&key) {
                            // A function that never returns is tail-called,
                            // as OTP does (`noreturn`): the code after the
                            // call, generated as usual, is never reached.
                            self.do_call(Target::Local(l), argr, true, e.span);
                            self.f.depth = 1;
                            return Some(Src::X(0));
                        }
                        self.do_call(Target::Local(l), argr, tail, e.span)
                    }
                    Callee::Ext(m) => {
                        let imp = self.import(&m, &n.name, args.len() as u8);
                        self.do_call(Target::Ext(imp), argr, tail, e.span)
                    }
                    Callee::Bif => Some(self.bif_call(&n.name, &argr, e.span)),
                    Callee::IsRecord => Some(self.test_value(e)),
                    Callee::Undefined => {
                        self.error(n.span, format!("function {}/{} undefined", n.name, args.len()));
                        Some(Src::Nil)
                    }
                }
            }
            ExprKind::RemoteCall(m, f, args) => {
                let mut argr: Vec<&Expr> = args.iter().collect();
                match (&m.kind, &f.kind) {
                    (ExprKind::Atom(ma), ExprKind::Atom(fa)) => {
                        if Self::remote_is_bif(m, f, args.len()) {
                            return Some(self.bif_call(fa, &argr, e.span));
                        }
                        let imp = self.import(ma, fa, args.len() as u8);
                        self.do_call(Target::Ext(imp), argr, tail, e.span)
                    }
                    _ => {
                        argr.push(m);
                        argr.push(f);
                        self.do_call(Target::Apply, argr, tail, e.span)
                    }
                }
            }
            ExprKind::FunCall(fun, args) => {
                // A named fun calling itself: call the lifted function.
                if let ExprKind::Var(v) = &fun.kind {
                    if let Some(Loc::SelfFun) = self.f.env.get(v) {
                        let sf = self.f.self_fun.clone().expect("self fun");
                        let frees: Vec<Expr> = sf.free.iter().map(|v| mk(ExprKind::Var(v.clone()), e.span)).collect();
                        let mut argr: Vec<&Expr> = args.iter().collect();
                        argr.extend(frees.iter());
                        let l = self.local_funs[&sf.func].entry;
                        return self.do_call(Target::Local(l), argr, tail, e.span);
                    }
                }
                let mut argr: Vec<&Expr> = args.iter().collect();
                argr.push(fun);
                self.do_call(Target::Fun, argr, tail, e.span)
            }
            _ => unreachable!("not a call"),
        }
    }

    /// Evaluate the arguments (for `Fun`, the fun is last; for `Apply`, the
    /// module and function are last), place them and call.
    fn do_call(&mut self, target: Target, args: Vec<&Expr>, tail: bool, span: Span) -> Option<Src> {
        let (srcs, ys) = self.exprs(&args);
        let moves: Vec<(Src, u16)> = srcs.into_iter().enumerate().map(|(i, s)| (s, i as u16)).collect();
        for i in parallel_moves(&moves) {
            self.emit(i);
        }
        self.set_line(span);
        let n = args.len() as u8;
        let frame = self.f.in_frame;
        let instr = match (target, tail, frame) {
            (Target::Local(label), false, _) => Instr::Call { arity: n, label },
            (Target::Local(label), true, false) => Instr::CallOnly { arity: n, label },
            (Target::Local(label), true, true) => Instr::CallLast { arity: n, label, dealloc: PATCH },
            (Target::Ext(import), false, _) => Instr::CallExt { arity: n, import },
            (Target::Ext(import), true, false) => Instr::CallExtOnly { arity: n, import },
            (Target::Ext(import), true, true) => Instr::CallExtLast { arity: n, import, dealloc: PATCH },
            (Target::Fun, false, _) => Instr::CallFun { arity: n - 1 },
            (Target::Fun, true, false) => Instr::CallFunOnly { arity: n - 1 },
            (Target::Fun, true, true) => Instr::CallFunLast { arity: n - 1, dealloc: PATCH },
            (Target::Apply, false, _) => Instr::Apply { arity: n - 2 },
            (Target::Apply, true, false) => Instr::ApplyOnly { arity: n - 2 },
            (Target::Apply, true, true) => Instr::ApplyLast { arity: n - 2, dealloc: PATCH },
        };
        debug_assert!(tail || frame, "a non-tail call without a frame");
        self.emit(instr);
        self.free_ytemps(ys);
        if tail {
            None
        } else {
            self.f.depth = 1;
            Some(Src::X(0))
        }
    }

    /// A guard test used as a value (`is_record/2` in a body): true/false.
    fn test_value(&mut self, e: &Expr) -> Src {
        let m = self.f.depth;
        let l_false = self.new_label();
        let join = self.new_label();
        let saved = self.f.guard_fail;
        self.test(e, l_false);
        self.f.guard_fail = saved;
        let t = self.atom("true");
        let f = self.atom("false");
        self.emit(Instr::Move { src: Src::Atom(t), dst: Dst::X(m) });
        self.emit(Instr::Jump { label: join });
        self.f.depth = m;
        self.place(l_false);
        self.emit(Instr::Move { src: Src::Atom(f), dst: Dst::X(m) });
        self.place(join);
        self.f.depth = m + 1;
        Src::X(m)
    }

    // ------------------------------------------------------------ matching

    pub(crate) fn match_expr(&mut self, p: &ast::Pat, rhs: &Expr) -> Src {
        let m = self.f.depth;
        let v = self.expr(rhs);
        let pt = self.pat(p);
        if let Pt::Bind(name, inner) = &pt {
            if matches!(**inner, Pt::Any) && !self.is_bound(name) {
                if self.f.in_frame {
                    self.commit(&[(name.clone(), v)], true);
                    self.f.depth = if v == Src::X(m) { m + 1 } else { m };
                } else {
                    self.f.env.insert(name.clone(), Loc::Src(v));
                }
                return v;
            }
        }
        let fail = self.deferred(vec![Instr::Error { kind: ErrorKind::Badmatch, src: v }]);
        let success = self.new_label();
        let base = if v == Src::X(m) { m + 1 } else { m };
        let arms = [Arm { guard: &[], body: &[], prologue: Prologue::None }];
        self.match_rows_entry(&[v], vec![Row::new(vec![pt], 0)], fail, &arms, ArmMode::Inline { success, base });
        self.place(success);
        self.f.depth = self.f.inline_depth;
        v
    }

    /// Run clauses on `occs`; in tail position each arm returns, otherwise
    /// their value ends in x(base).
    pub(crate) fn branches(
        &mut self,
        occs: &[Src],
        clauses: &[Clause],
        fail: Label,
        tail: bool,
        base: u16,
        prologue: Prologue,
    ) -> Option<Src> {
        if tail {
            self.match_clauses(occs, clauses, fail, ArmMode::Tail { base }, prologue);
            return None;
        }
        let join = self.new_label();
        self.f.commit_log.push(Vec::new());
        self.match_clauses(occs, clauses, fail, ArmMode::Value { join, base }, prologue);
        Some(self.join(join, base))
    }

    /// Where the branches of a value-producing construct meet; the
    /// variables they bound are now in their y slots.
    fn join(&mut self, join: Label, base: u16) -> Src {
        let names = self.f.commit_log.pop().unwrap_or_default();
        self.place(join);
        self.f.depth = base + 1;
        for n in names {
            if let Some(&y) = self.f.yvars.get(&n) {
                self.f.env.insert(n.clone(), Loc::Src(Src::Y(y)));
                if let Some(log) = self.f.commit_log.last_mut() {
                    log.push(n);
                }
            }
        }
        Src::X(base)
    }

    pub(crate) fn case_expr(&mut self, subj: &Expr, clauses: &[Clause], tail: bool) -> Option<Src> {
        let base = self.f.depth;
        let s = self.expr(subj);
        let fail = self.deferred(vec![Instr::Error { kind: ErrorKind::CaseClause, src: s }]);
        self.branches(&[s], clauses, fail, tail, base, Prologue::None)
    }

    pub(crate) fn if_expr(&mut self, clauses: &[Clause], tail: bool) -> Option<Src> {
        let base = self.f.depth;
        let fail = self.deferred(vec![Instr::Error { kind: ErrorKind::IfClause, src: Src::Nil }]);
        self.branches(&[], clauses, fail, tail, base, Prologue::None)
    }

    pub(crate) fn receive_expr(&mut self, clauses: &[Clause], after: Option<&ast::After>, tail: bool) -> Option<Src> {
        debug_assert!(self.f.in_frame && self.f.depth == 0, "receive starts with an empty x stack in a frame");
        let mut ytmp = None;
        let timeout = after.map(|a| {
            let v = self.expr(&a.timeout);
            match v {
                Src::X(r) => {
                    let y = self.ytemp();
                    self.emit(Instr::Move { src: Src::X(r), dst: Dst::Y(y) });
                    ytmp = Some(y);
                    Src::Y(y)
                }
                v => v,
            }
        });
        self.f.depth = 0;
        let lp = self.new_label();
        let wait = self.new_label();
        let nomatch = self.new_label();
        let join = self.new_label();
        self.place(lp);
        self.emit(Instr::LoopRec { fail: wait, dst: Dst::X(0) });
        self.f.depth = 1;
        let mode = if tail { ArmMode::Tail { base: 0 } } else { ArmMode::Value { join, base: 0 } };
        if !tail {
            self.f.commit_log.push(Vec::new());
        }
        self.match_clauses(&[Src::X(0)], clauses, nomatch, mode, Prologue::RemoveMessage);
        self.f.depth = 1;
        self.place(nomatch);
        self.emit(Instr::LoopRecEnd { label: lp });
        self.f.depth = 0;
        self.place(wait);
        match (timeout, after) {
            (Some(t), Some(a)) => {
                self.emit(Instr::WaitTimeout { label: lp, timeout: t });
                self.emit(Instr::Timeout);
                if tail {
                    self.body_tail(&a.body);
                } else {
                    let v = self.body_value(&a.body);
                    if v != Src::X(0) {
                        self.emit(Instr::Move { src: v, dst: Dst::X(0) });
                    }
                    self.emit(Instr::Jump { label: join });
                }
            }
            _ => self.emit(Instr::Wait { label: lp }),
        }
        if let Some(y) = ytmp {
            self.free_ytemp(y);
        }
        if tail {
            None
        } else {
            Some(self.join(join, 0))
        }
    }

    pub(crate) fn try_expr(&mut self, t: &ast::Try, tail: bool) -> Option<Src> {
        debug_assert!(self.f.in_frame && self.f.depth == 0, "try starts with an empty x stack in a frame");
        if t.after.is_empty() {
            return self.try_core(&t.body, &t.of, &t.catches, tail);
        }
        let y2 = self.open_tag();
        let h2 = self.new_label();
        let join = self.new_label();
        self.emit(Instr::Try { y: y2, handler: h2 });
        self.f.depth = 0;
        self.f.protected += 1;
        let v = if t.of.is_empty() && t.catches.is_empty() {
            self.body_value(&t.body)
        } else {
            self.try_core(&t.body, &t.of, &t.catches, false).expect("a value")
        };
        self.f.protected -= 1;
        if v != Src::X(0) {
            self.emit(Instr::Move { src: v, dst: Dst::X(0) });
        }
        self.emit(Instr::TryEnd { y: y2 });
        let ys = self.ytemp();
        self.emit(Instr::Move { src: Src::X(0), dst: Dst::Y(ys) });
        self.f.depth = 0;
        self.body_value(&t.after);
        self.f.depth = 0;
        self.emit(Instr::Move { src: Src::Y(ys), dst: Dst::X(0) });
        self.f.depth = 1;
        if tail {
            self.ret(Src::X(0));
        } else {
            self.emit(Instr::Jump { label: join });
        }
        // The handler: save the exception, run the after body, re-raise.
        self.f.depth = 0;
        self.place(h2);
        self.emit(Instr::TryCase { y: y2 });
        let saved: Vec<u16> = (0..3).map(|_| self.ytemp()).collect();
        for (i, y) in saved.iter().enumerate() {
            self.emit(Instr::Move { src: Src::X(i as u16), dst: Dst::Y(*y) });
        }
        self.f.depth = 0;
        let after = if t.after_handler.is_empty() { &t.after } else { &t.after_handler };
        self.body_value(after);
        for (i, y) in saved.iter().enumerate() {
            self.emit(Instr::Move { src: Src::Y(*y), dst: Dst::X(i as u16) });
        }
        self.emit(Instr::Raise);
        for y in saved.into_iter().chain([ys]) {
            self.free_ytemp(y);
        }
        self.close_tag();
        if tail {
            None
        } else {
            self.f.depth = 0;
            self.place(join);
            self.f.depth = 1;
            Some(Src::X(0))
        }
    }

    fn try_core(&mut self, body: &[Expr], of: &[Clause], catches: &[ast::CatchClause], tail: bool) -> Option<Src> {
        let y = self.open_tag();
        let h = self.new_label();
        let join = self.new_label();
        self.emit(Instr::Try { y, handler: h });
        self.f.depth = 0;
        self.f.protected += 1;
        let v = self.body_value(body);
        self.f.protected -= 1;
        if v != Src::X(0) {
            self.emit(Instr::Move { src: v, dst: Dst::X(0) });
        }
        self.emit(Instr::TryEnd { y });
        self.f.depth = 1;
        if !tail {
            self.f.commit_log.push(Vec::new());
        }
        let mode = if tail { ArmMode::Tail { base: 0 } } else { ArmMode::Value { join, base: 0 } };
        if of.is_empty() {
            if tail {
                self.ret(Src::X(0));
            } else {
                self.emit(Instr::Jump { label: join });
            }
        } else {
            let fail = self.deferred(vec![Instr::Error { kind: ErrorKind::TryClause, src: Src::X(0) }]);
            self.match_clauses(&[Src::X(0)], of, fail, mode, Prologue::None);
        }
        // The handler: x0 = class, x1 = reason, x2 = stacktrace.
        self.f.depth = 0;
        self.place(h);
        self.emit(Instr::TryCase { y });
        self.f.depth = 3;
        let raise = self.deferred(vec![Instr::Raise]);
        let arms: Vec<Arm> = catches
            .iter()
            .map(|c| Arm {
                guard: &c.guard,
                body: &c.body,
                prologue: Prologue::Stack(c.stack.as_ref().map(|n| n.name.as_str())),
            })
            .collect();
        let rows: Vec<Row> = catches
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let class = match &c.class {
                    Some(p) => self.pat(p),
                    None => Pt::Const(Const::Atom("throw".into())),
                };
                let reason = self.pat(&c.reason);
                Row::new(vec![class, reason], i)
            })
            .collect();
        self.match_rows_entry(&[Src::X(0), Src::X(1)], rows, raise, &arms, mode);
        self.close_tag();
        if tail {
            None
        } else {
            self.f.depth = 0;
            Some(self.join(join, 0))
        }
    }

    fn catch_expr(&mut self, e: &Expr) -> Src {
        debug_assert!(self.f.in_frame && self.f.depth == 0, "catch starts with an empty x stack in a frame");
        let y = self.open_tag();
        let h = self.new_label();
        self.emit(Instr::Catch { y, handler: h });
        self.f.depth = 0;
        self.f.protected += 1;
        let v = self.expr(e);
        self.f.protected -= 1;
        if v != Src::X(0) {
            self.emit(Instr::Move { src: v, dst: Dst::X(0) });
        }
        self.f.depth = 0;
        self.place(h);
        self.emit(Instr::CatchEnd { y });
        self.close_tag();
        self.f.depth = 1;
        Src::X(0)
    }

    // ------------------------------------------------------------ records

    fn record_defs(&mut self, name: &Name) -> Option<Vec<(String, Option<Expr>)>> {
        match self.records.get(&name.name) {
            Some(d) => Some(d.clone()),
            None => {
                self.error(name.span, format!("record {} undefined", name.name));
                None
            }
        }
    }

    fn check_fields(&mut self, name: &Name, defs: &[(String, Option<Expr>)], fields: &[ast::RecordFieldExpr]) {
        for f in fields {
            if f.name.name != "_" && !defs.iter().any(|(d, _)| *d == f.name.name) {
                self.error(f.name.span, format!("field {} undefined in record {}", f.name.name, name.name));
            }
        }
    }

    fn record_new(&mut self, name: &Name, fields: &[ast::RecordFieldExpr], span: Span) -> Src {
        let Some(defs) = self.record_defs(name) else { return Src::Nil };
        self.check_fields(name, &defs, fields);
        let other = fields.iter().find(|f| f.name.name == "_");
        let mut elems = vec![mk(ExprKind::Atom(name.name.clone()), span)];
        for (f, default) in &defs {
            let e = match fields.iter().find(|x| x.name.name == *f) {
                Some(x) => x.value.clone(),
                None => match (other, default) {
                    (Some(o), _) => o.value.clone(),
                    (None, Some(d)) => d.clone(),
                    (None, None) => mk(ExprKind::Atom("undefined".into()), span),
                },
            };
            elems.push(e);
        }
        let t = mk(ExprKind::Tuple(elems), span);
        self.expr(&t)
    }

    /// The fail label for a failed record check: the guard's, or a block
    /// raising `{badrecord, Value}`.
    fn badrecord(&mut self, v: Src) -> Label {
        match self.f.guard_fail {
            Some(l) => l,
            None => self.deferred(vec![Instr::Error { kind: ErrorKind::Badrecord, src: v }]),
        }
    }

    fn record_update(&mut self, r: &Expr, name: &Name, fields: &[ast::RecordFieldExpr], span: Span) -> Src {
        let Some(defs) = self.record_defs(name) else { return Src::Nil };
        self.check_fields(name, &defs, fields);
        let m = self.f.depth;
        let mut all: Vec<&Expr> = vec![r];
        all.extend(fields.iter().map(|f| &f.value));
        let (srcs, ys) = self.exprs(&all);
        // The check is this expression's, not on the line of the last
        // subexpression compiled (a record default's, say).
        self.set_line(span);
        let rec = srcs[0];
        let fail = self.badrecord(rec);
        let tag = self.atom(&name.name);
        self.emit(Instr::IsTaggedTuple { src: rec, arity: defs.len() as u32 + 1, tag, fail });
        let mut elements = vec![Src::Atom(tag)];
        for (i, (f, _)) in defs.iter().enumerate() {
            match fields.iter().rposition(|x| x.name.name == *f) {
                Some(j) => elements.push(srcs[1 + j]),
                None => {
                    let d = self.push();
                    self.emit(Instr::GetTupleElement { src: rec, index: i as u32 + 1, dst: Dst::X(d) });
                    elements.push(Src::X(d));
                }
            }
        }
        let live = self.f.depth;
        self.emit(Instr::TestHeap { words: elements.len() as u32 + 1, live });
        self.emit(Instr::PutTuple { elements, dst: Dst::X(m) });
        self.f.depth = m + 1;
        self.free_ytemps(ys);
        Src::X(m)
    }

    fn record_field(&mut self, r: &Expr, name: &Name, field: &Name, span: Span) -> Src {
        let Some(defs) = self.record_defs(name) else { return Src::Nil };
        let Some(idx) = self.record_index(name, field) else { return Src::Nil };
        let m = self.f.depth;
        let v = self.expr(r);
        self.set_line(span);
        let fail = self.badrecord(v);
        let tag = self.atom(&name.name);
        self.emit(Instr::IsTaggedTuple { src: v, arity: defs.len() as u32 + 1, tag, fail });
        self.emit(Instr::GetTupleElement { src: v, index: idx as u32 - 1, dst: Dst::X(m) });
        self.f.depth = m + 1;
        Src::X(m)
    }

    // ------------------------------------------------------------ maps

    fn map_new(&mut self, fs: &[ast::MapField]) -> Src {
        let m = self.f.depth;
        let mut all: Vec<&Expr> = Vec::new();
        for f in fs {
            all.push(&f.key);
            all.push(&f.value);
        }
        let (srcs, ys) = self.exprs(&all);
        let pairs: Vec<(Src, Src)> = srcs.chunks(2).map(|c| (c[0], c[1])).collect();
        let empty = self.literal(Literal::Map(Vec::new()));
        let fail = self.f.guard_fail.unwrap_or(Label::NONE);
        let live = self.f.depth;
        self.emit(Instr::PutMapAssoc { src: empty, dst: Dst::X(m), fail, pairs, live });
        self.f.depth = m + 1;
        self.free_ytemps(ys);
        Src::X(m)
    }

    fn map_update(&mut self, map: &Expr, fs: &[ast::MapField]) -> Src {
        let m = self.f.depth;
        let mut all: Vec<&Expr> = vec![map];
        for f in fs {
            all.push(&f.key);
            all.push(&f.value);
        }
        let (srcs, ys) = self.exprs(&all);
        let fail = self.f.guard_fail.unwrap_or(Label::NONE);
        // The pairs are split as OTP's v3_core splits them, which decides
        // the key a failing `:=` names: a pair whose key is not a literal is
        // an update of its own; a run of neighbours with literal keys is one
        // group, where a key given twice keeps its first operator and its
        // last value, and which updates its `=>` pairs first, then its `:=`
        // pairs (the VM names the least missing key of an update, as BEAM
        // does with the sorted keys of its instruction).
        let mut groups: Vec<(bool, Vec<(Src, Src)>)> = Vec::new();
        let mut run: Vec<(Literal, bool, (Src, Src))> = Vec::new();
        for (i, f) in fs.iter().enumerate() {
            let pair = (srcs[1 + 2 * i], srcs[2 + 2 * i]);
            match self.literal_key(&f.key) {
                Some(lit) => match run.iter_mut().find(|(k, _, _)| *k == lit) {
                    Some(e) => e.2 .1 = pair.1,
                    None => run.push((lit, f.exact, pair)),
                },
                None => {
                    flush_literal_run(&mut run, &mut groups);
                    groups.push((f.exact, vec![pair]));
                }
            }
        }
        flush_literal_run(&mut run, &mut groups);
        if groups.is_empty() {
            groups.push((false, Vec::new()));
        }
        let mut cur = srcs[0];
        let n = groups.len();
        for (gi, (exact, pairs)) in groups.into_iter().enumerate() {
            let live = self.f.depth;
            let dst = if gi + 1 == n { m } else { self.push() };
            let i = if exact {
                Instr::PutMapExact { src: cur, dst: Dst::X(dst), fail, pairs, live }
            } else {
                Instr::PutMapAssoc { src: cur, dst: Dst::X(dst), fail, pairs, live }
            };
            self.emit(i);
            cur = Src::X(dst);
        }
        self.f.depth = m + 1;
        self.free_ytemps(ys);
        Src::X(m)
    }

    /// The value of a map key that OTP treats as a literal when it splits
    /// an update: a constant term, or a binary of bytes and strings.
    fn literal_key(&mut self, e: &Expr) -> Option<Literal> {
        if let ExprKind::Binary(segs) = &e.kind {
            let mut bytes = Vec::new();
            for seg in segs {
                if seg.size.is_some() || !seg.types.is_empty() {
                    return None;
                }
                match &seg.value.kind {
                    ExprKind::String(s) if s.iter().all(|&c| c < 256) => bytes.extend(s.iter().map(|&c| c as u8)),
                    ExprKind::Int(i) => bytes.push(i.to_u8()?),
                    _ => return None,
                }
            }
            let bits = 8 * bytes.len() as u64;
            return Some(Literal::Binary { bytes, bits });
        }
        self.const_literal(e)
    }

    // ------------------------------------------------------------ binaries

    fn binary(&mut self, segs: &[ast::BinElem<Expr>]) -> Src {
        // Expand string segments into one segment per character.
        struct S<'e> {
            value: Result<&'e Expr, i64>,
            size: Option<&'e Expr>,
            spec: super::pattern::SegSpec,
        }
        let mut ss: Vec<S> = Vec::new();
        for s in segs {
            if let ExprKind::String(cps) = &s.value.kind {
                for c in cps {
                    ss.push(S { value: Err(*c as i64), size: s.size.as_ref(), spec: seg_spec(&s.types) });
                }
                continue;
            }
            let spec = seg_spec(&s.types);
            if matches!(spec.kind, SegKind::Utf8 | SegKind::Utf16 | SegKind::Utf32) && s.size.is_some() {
                self.error(s.span, "a utf segment cannot have a size");
            }
            ss.push(S { value: Ok(&s.value), size: s.size.as_ref(), spec });
        }
        if let Some(lit) = fold_binary(&ss.iter().map(|s| (s.value, s.size, &s.spec)).collect::<Vec<_>>()) {
            return self.literal(lit);
        }
        let m = self.f.depth;
        let mut all: Vec<&Expr> = Vec::new();
        for s in &ss {
            if let Ok(v) = s.value {
                all.push(v);
            }
            if let Some(z) = s.size {
                all.push(z);
            }
        }
        let (srcs, ys) = self.exprs(&all);
        let mut it = srcs.into_iter();
        let mut segments = Vec::new();
        for s in &ss {
            let value = match s.value {
                Ok(_) => it.next().expect("value"),
                Err(c) => Src::Int(c),
            };
            let size = s.size.map(|_| it.next().expect("size"));
            segments.push(Segment { kind: s.spec.kind, value, size, unit: s.spec.unit, flags: s.spec.flags });
        }
        let fail = self.f.guard_fail.unwrap_or(Label::NONE);
        let live = self.f.depth;
        self.emit(Instr::BsCreate { segments, dst: Dst::X(m), fail, live });
        self.f.depth = m + 1;
        self.free_ytemps(ys);
        Src::X(m)
    }
}

/// A run of map-update pairs with literal keys becomes an update with its
/// `=>` pairs, then one with its `:=` pairs.
fn flush_literal_run(run: &mut Vec<(Literal, bool, (Src, Src))>, groups: &mut Vec<(bool, Vec<(Src, Src)>)>) {
    for exact in [false, true] {
        let pairs: Vec<(Src, Src)> = run.iter().filter(|e| e.1 == exact).map(|e| e.2).collect();
        if !pairs.is_empty() {
            groups.push((exact, pairs));
        }
    }
    run.clear();
}

fn int_literal(i: &BigInt) -> Literal {
    match i.to_i64() {
        Some(n) => Literal::Int(n),
        None => Literal::BigInt(i.clone()),
    }
}

/// A binary whose segments are all constant integers (or characters) of
/// constant size, or constant utf8 characters: its literal.
fn fold_binary(segs: &[(Result<&Expr, i64>, Option<&Expr>, &super::pattern::SegSpec)]) -> Option<Literal> {
    let const_int = |e: &Expr| -> Option<BigInt> {
        match &e.kind {
            ExprKind::Int(i) => Some(i.clone()),
            ExprKind::UnOp(UnOp::Neg, x) => match &x.kind {
                ExprKind::Int(i) => Some(-i),
                _ => None,
            },
            _ => None,
        }
    };
    let mut bytes: Vec<u8> = Vec::new();
    let mut bits: u64 = 0;
    let mut push_bit = |b: bool| {
        if bits.is_multiple_of(8) {
            bytes.push(0);
        }
        if b {
            *bytes.last_mut().unwrap() |= 0x80 >> (bits % 8);
        }
        bits += 1;
    };
    for (value, size, spec) in segs {
        if spec.flags.native {
            return None;
        }
        let v = match value {
            Ok(e) => const_int(e)?,
            Err(c) => BigInt::from(*c),
        };
        match spec.kind {
            SegKind::Integer => {
                let size = match size {
                    None => 8u64,
                    Some(z) => const_int(z)?.to_u64()?,
                };
                let n = size.checked_mul(spec.unit as u64)?;
                if n > 1 << 16 || (spec.flags.little && n % 8 != 0) {
                    return None;
                }
                // Two's complement, low `n` bits.
                let modulus = BigInt::from(1) << n;
                let mut u = ((v % &modulus) + &modulus) % &modulus;
                let mut le = Vec::new();
                for _ in 0..n.div_ceil(8) {
                    le.push((&u & BigInt::from(0xff)).to_u8().unwrap());
                    u >>= 8;
                }
                if spec.flags.little {
                    for byte in le {
                        for i in (0..8).rev() {
                            push_bit(byte & (1 << i) != 0);
                        }
                    }
                } else {
                    for i in (0..n).rev() {
                        let byte = le[(i / 8) as usize];
                        push_bit(byte & (1 << (i % 8)) != 0);
                    }
                }
            }
            SegKind::Utf8 => {
                let c = char::from_u32(v.to_u32()?)?;
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    for i in (0..8).rev() {
                        push_bit(byte & (1 << i) != 0);
                    }
                }
            }
            _ => return None,
        }
    }
    Some(Literal::Binary { bytes, bits })
}
