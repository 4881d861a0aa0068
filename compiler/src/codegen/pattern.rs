//! Pattern-match compilation: clauses to a decision tree (v3_kernel's
//! variable, constructor and mixture rules), guards to tests, and the code
//! run when a clause is chosen (its "arm").
//!
//! # Register reuse
//! Values taken apart are pushed on the x stack (`Gen::push`), but a
//! register whose value is dead is used again, so a pattern needs about as
//! many registers as it has values alive at once, not one per sub-term:
//! - a variable that nothing reads is a wildcard (`Gen::pat`), so it is not
//!   extracted from a tuple, skipped in a binary, and its register is free;
//! - a list cell's tail goes into the cell's own register (`GetList`), and
//!   the last element taken from a tuple into the tuple's register;
//! - a column that was bound to a dead variable, ignored, or compared with
//!   a literal, is popped off the stack if it is on top (`release`).
//!
//! A register may be overwritten only if it is at or above the floor
//! (`FnState::floor`): the depth when the match started (the arguments of
//! a `function_clause`, the value of a `case_clause`, the variables bound
//! before) raised, around code that may fail into a later group of rows,
//! to the depth where that group starts (`protecting`), and if no column
//! still to match, no binding and no check of a remaining row names it
//! (`reusable`).

use super::{Gen, Loc};
use crate::ast::{self, BinType, Clause, Expr, ExprKind, Pat, PatKind, Span};
use minierl_bytecode::{CmpOp, Dst, Instr, Label, Literal, SegFlags, SegKind, SelectKey, Src, TypeTest};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

/// An atomic constant in a pattern.
#[derive(Clone, Debug)]
pub(crate) enum Const {
    Atom(String),
    Int(BigInt),
    Float(f64),
}

impl PartialEq for Const {
    /// Equality as matching sees it (`=:=`).
    fn eq(&self, o: &Const) -> bool {
        match (self, o) {
            (Const::Atom(a), Const::Atom(b)) => a == b,
            (Const::Int(a), Const::Int(b)) => a == b,
            (Const::Float(a), Const::Float(b)) => a.to_bits() == b.to_bits() || a == b,
            _ => false,
        }
    }
}

/// A pattern after lowering strings, records and aliases.
#[derive(Clone, Debug)]
pub(crate) enum Pt {
    Any,
    /// `Var = P` (a plain variable is `Bind(v, Any)`).
    Bind(String, Box<Pt>),
    Const(Const),
    Nil,
    Cons(Box<Pt>, Box<Pt>),
    Tuple(Vec<Pt>),
    Map(Vec<(Expr, Pt)>),
    Bin(Vec<BinSegP>),
    /// Matches nothing (e.g. `{a} = {b}`).
    Never,
}

#[derive(Clone, Debug)]
pub(crate) struct BinSegP {
    pub value: Pt,
    pub size: Option<Expr>,
    pub kind: SegKind,
    pub unit: u8,
    pub flags: SegFlags,
    pub span: Span,
}

/// What to do once a clause is chosen.
#[derive(Clone, Copy)]
pub(crate) enum ArmMode {
    /// The body is in tail position: it returns or tail-calls. `base` is
    /// the x depth to restore once the clause's variables are in y slots.
    Tail { base: u16 },
    /// The body's value goes to x(base), then control jumps to `join`.
    Value { join: Label, base: u16 },
    /// A match expression: bind and continue at `success`.
    Inline { success: Label, base: u16 },
}

/// Extra code at the start of an arm.
#[derive(Clone, Copy)]
pub(crate) enum Prologue<'a> {
    None,
    /// `receive`: take the matched message out of the mailbox.
    RemoveMessage,
    /// `catch Class:Reason:Stack`: bind the stacktrace variable.
    Stack(Option<&'a str>),
}

pub(crate) struct Arm<'a> {
    pub guard: &'a [Vec<Expr>],
    pub body: &'a [Expr],
    pub prologue: Prologue<'a>,
}

#[derive(Clone)]
pub(crate) struct Row {
    pub cols: Vec<Pt>,
    pub binds: Vec<(String, Src)>,
    pub checks: Vec<(Src, Src)>,
    pub arm: usize,
}

impl Row {
    pub fn new(cols: Vec<Pt>, arm: usize) -> Row {
        Row { cols, binds: Vec::new(), checks: Vec::new(), arm }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fam {
    Lit,
    List,
    Tuple,
    Map,
    Bin,
}

fn family(p: &Pt) -> Fam {
    match p {
        Pt::Const(_) => Fam::Lit,
        Pt::Nil | Pt::Cons(..) => Fam::List,
        Pt::Tuple(_) => Fam::Tuple,
        Pt::Map(_) => Fam::Map,
        Pt::Bin(_) => Fam::Bin,
        Pt::Any | Pt::Bind(..) | Pt::Never => unreachable!("not a constructor"),
    }
}

fn is_any(p: &Pt) -> bool {
    matches!(p, Pt::Any)
}

/// Merge the two sides of an alias pattern `P1 = P2`.
fn merge(a: Pt, b: Pt) -> Result<Pt, ()> {
    Ok(match (a, b) {
        (Pt::Any, x) | (x, Pt::Any) => x,
        (Pt::Bind(n, p), q) | (q, Pt::Bind(n, p)) => Pt::Bind(n, Box::new(merge(*p, q)?)),
        (Pt::Never, _) | (_, Pt::Never) => Pt::Never,
        (Pt::Const(a), Pt::Const(b)) => {
            if a == b {
                Pt::Const(a)
            } else {
                Pt::Never
            }
        }
        (Pt::Nil, Pt::Nil) => Pt::Nil,
        (Pt::Cons(a, b), Pt::Cons(c, d)) => Pt::Cons(Box::new(merge(*a, *c)?), Box::new(merge(*b, *d)?)),
        (Pt::Tuple(xs), Pt::Tuple(ys)) => {
            if xs.len() != ys.len() {
                Pt::Never
            } else {
                Pt::Tuple(xs.into_iter().zip(ys).map(|(x, y)| merge(x, y)).collect::<Result<_, _>>()?)
            }
        }
        (Pt::Map(mut a), Pt::Map(b)) => {
            a.extend(b);
            Pt::Map(a)
        }
        (Pt::Bin(_), Pt::Bin(_)) => return Err(()),
        _ => Pt::Never,
    })
}

/// Segment type specifiers: kind, unit, flags, default size.
pub(crate) struct SegSpec {
    pub kind: SegKind,
    pub unit: u8,
    pub flags: SegFlags,
}

pub(crate) fn seg_spec(types: &[BinType]) -> SegSpec {
    let mut kind = SegKind::Integer;
    let mut unit = None;
    let mut flags = SegFlags::default();
    let mut bits = false;
    for t in types {
        match t {
            BinType::Integer => kind = SegKind::Integer,
            BinType::Float => kind = SegKind::Float,
            BinType::Binary | BinType::Bytes => kind = SegKind::Binary,
            BinType::Bitstring | BinType::Bits => {
                kind = SegKind::Binary;
                bits = true;
            }
            BinType::Utf8 => kind = SegKind::Utf8,
            BinType::Utf16 => kind = SegKind::Utf16,
            BinType::Utf32 => kind = SegKind::Utf32,
            BinType::Signed => flags.signed = true,
            BinType::Unsigned => flags.signed = false,
            BinType::Big => {
                flags.little = false;
                flags.native = false
            }
            BinType::Little => flags.little = true,
            BinType::Native => flags.native = true,
            BinType::Unit(u) => unit = Some(*u),
        }
    }
    let def_unit = match kind {
        SegKind::Binary if !bits => 8,
        _ => 1,
    };
    SegSpec { kind, unit: unit.unwrap_or(def_unit), flags }
}

impl Gen<'_> {
    // ------------------------------------------------------------ patterns

    pub(crate) fn pat(&mut self, p: &Pat) -> Pt {
        match &p.kind {
            // A variable nothing reads (and no other pattern mentions) is
            // a wildcard: it needs no register (`analysis::function_refs`).
            PatKind::Var(v) if !self.f.refs.contains(v) => Pt::Any,
            PatKind::Var(v) => Pt::Bind(v.clone(), Box::new(Pt::Any)),
            PatKind::Wildcard => Pt::Any,
            PatKind::Atom(a) => Pt::Const(Const::Atom(a.clone())),
            PatKind::Int(i) => Pt::Const(Const::Int(i.clone())),
            PatKind::Float(f) => Pt::Const(Const::Float(*f)),
            PatKind::String(s) => s
                .iter()
                .rev()
                .fold(Pt::Nil, |t, c| Pt::Cons(Box::new(Pt::Const(Const::Int(BigInt::from(*c)))), Box::new(t))),
            PatKind::Nil => Pt::Nil,
            PatKind::Tuple(ps) => Pt::Tuple(ps.iter().map(|p| self.pat(p)).collect()),
            PatKind::Cons(h, t) => Pt::Cons(Box::new(self.pat(h)), Box::new(self.pat(t))),
            PatKind::Binary(segs) => self.bin_pat(segs),
            PatKind::Map(kvs) => Pt::Map(kvs.iter().map(|(k, v)| (k.clone(), self.pat(v))).collect()),
            PatKind::Record(name, fields) => {
                let Some(defs) = self.records.get(&name.name).cloned() else {
                    self.error(name.span, format!("record {} undefined", name.name));
                    return Pt::Never;
                };
                for (f, _) in fields {
                    if f.name != "_" && !defs.iter().any(|(d, _)| *d == f.name) {
                        self.error(f.span, format!("field {} undefined in record {}", f.name, name.name));
                    }
                }
                let other = fields.iter().find(|(f, _)| f.name == "_").map(|(_, p)| p);
                let mut elems = vec![Pt::Const(Const::Atom(name.name.clone()))];
                for (d, _) in &defs {
                    match fields.iter().find(|(f, _)| f.name == *d) {
                        Some((_, p)) => elems.push(self.pat(p)),
                        None => match other {
                            Some(p) => elems.push(self.pat(p)),
                            None => elems.push(Pt::Any),
                        },
                    }
                }
                Pt::Tuple(elems)
            }
            PatKind::RecordIndex(r, f) => match self.record_index(r, f) {
                Some(i) => Pt::Const(Const::Int(BigInt::from(i))),
                None => Pt::Never,
            },
            PatKind::Match(a, b) => {
                let a = self.pat(a);
                let b = self.pat(b);
                match merge(a, b) {
                    Ok(p) => p,
                    Err(()) => {
                        self.error(p.span, "matching a binary against two binary patterns at once is not supported");
                        Pt::Never
                    }
                }
            }
        }
    }

    fn bin_pat(&mut self, segs: &[ast::BinElem<Pat>]) -> Pt {
        let mut out = Vec::new();
        for s in segs {
            let spec = seg_spec(&s.types);
            if let PatKind::String(cps) = &s.value.kind {
                for c in cps {
                    out.push(BinSegP {
                        value: Pt::Const(Const::Int(BigInt::from(*c))),
                        size: s.size.clone(),
                        kind: spec.kind,
                        unit: spec.unit,
                        flags: spec.flags,
                        span: s.span,
                    });
                }
                continue;
            }
            if matches!(spec.kind, SegKind::Utf8 | SegKind::Utf16 | SegKind::Utf32) && s.size.is_some() {
                self.error(s.span, "a utf segment cannot have a size");
            }
            let value = self.pat(&s.value);
            out.push(BinSegP {
                value,
                size: s.size.clone(),
                kind: spec.kind,
                unit: spec.unit,
                flags: spec.flags,
                span: s.span,
            });
        }
        for (i, s) in out.iter().enumerate() {
            if s.kind == SegKind::Binary && s.size.is_none() && i + 1 != out.len() {
                self.error(s.span, "a binary field without size is only allowed at the end of a binary pattern");
            }
        }
        Pt::Bin(out)
    }

    /// 1-based tuple position of a record field (`#r.f`).
    pub(crate) fn record_index(&mut self, r: &ast::Name, f: &ast::Name) -> Option<usize> {
        let Some(defs) = self.records.get(&r.name) else {
            self.error(r.span, format!("record {} undefined", r.name));
            return None;
        };
        match defs.iter().position(|(d, _)| *d == f.name) {
            Some(i) => Some(i + 2),
            None => {
                self.error(f.span, format!("field {} undefined in record {}", f.name, r.name));
                None
            }
        }
    }

    pub(crate) fn const_src(&mut self, c: &Const) -> Src {
        match c {
            Const::Atom(a) => Src::Atom(self.atom(a)),
            Const::Int(i) => self.int_src(i),
            Const::Float(f) => self.literal(Literal::Float(f.to_bits())),
        }
    }

    pub(crate) fn int_src(&mut self, i: &BigInt) -> Src {
        match i.to_i64() {
            Some(n) if (-(1i64 << 47)..(1i64 << 47)).contains(&n) => Src::Int(n),
            Some(n) => self.literal(Literal::Int(n)),
            None => self.literal(Literal::BigInt(i.clone())),
        }
    }

    fn select_key(&mut self, c: &Const) -> Option<SelectKey> {
        match c {
            Const::Atom(a) => Some(SelectKey::Atom(self.atom(a))),
            Const::Int(i) => match i.to_i64() {
                Some(n) if (-(1i64 << 47)..(1i64 << 47)).contains(&n) => Some(SelectKey::Int(n)),
                _ => None,
            },
            Const::Float(f) => Some(SelectKey::Float(f.to_bits())),
        }
    }

    pub(crate) fn push(&mut self) -> u16 {
        let r = self.f.depth;
        if r + 1 >= minierl_bytecode::MAX_X_REGS {
            // Reported by `function`; saturate rather than overflow.
            self.f.x_overflow = true;
            return r;
        }
        self.f.depth += 1;
        r
    }

    /// The register of `occ` if the code matching `rows` may overwrite it:
    /// an x register at or above the floor that no remaining column
    /// (`rest`) and no binding or check of a row still needs.
    fn reusable<'r>(&self, occ: Src, rest: &[Src], rows: impl IntoIterator<Item = &'r Row>) -> Option<u16> {
        let Src::X(r) = occ else { return None };
        let used = |s: &Src| *s == occ;
        if r < self.f.floor
            || rest.iter().any(used)
            || rows
                .into_iter()
                .any(|row| row.binds.iter().any(|(_, s)| used(s)) || row.checks.iter().any(|(a, b)| used(a) || used(b)))
        {
            return None;
        }
        Some(r)
    }

    /// `occ` has been looked at for the last time by the code matching
    /// `rows`: if it is the top register and reusable, pop it.
    fn release(&mut self, occ: Src, rest: &[Src], rows: &[Row]) {
        if let Some(r) = self.reusable(occ, rest, rows) {
            if r + 1 == self.f.depth {
                self.f.depth = r;
            }
        }
    }

    /// Run `f` with the floor raised to `depth`: the code it generates may
    /// jump to a continuation that reads the registers below `depth`.
    fn protecting<T>(&mut self, depth: u16, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.f.floor;
        self.f.floor = saved.max(depth);
        let out = f(self);
        self.f.floor = saved;
        out
    }

    // ------------------------------------------------------------ entry points

    /// Match `occs` against clauses (one pattern per occurrence each).
    pub(crate) fn match_clauses(
        &mut self,
        occs: &[Src],
        clauses: &[Clause],
        fail: Label,
        mode: ArmMode,
        prologue: Prologue,
    ) {
        let arms: Vec<Arm> = clauses.iter().map(|c| Arm { guard: &c.guard, body: &c.body, prologue }).collect();
        let rows: Vec<Row> = clauses
            .iter()
            .enumerate()
            .map(|(i, c)| Row::new(c.params.iter().map(|p| self.pat(p)).collect(), i))
            .collect();
        self.match_rows_entry(occs, rows, fail, &arms, mode);
    }

    /// Match `occs` against `rows` (the entry from outside the matcher):
    /// every x register in use before the match is protected from reuse.
    pub(crate) fn match_rows_entry(&mut self, occs: &[Src], rows: Vec<Row>, fail: Label, arms: &[Arm], mode: ArmMode) {
        let saved = std::mem::replace(&mut self.f.floor, self.f.depth);
        self.match_rows(occs, rows, fail, arms, mode);
        self.f.floor = saved;
    }

    fn match_rows(&mut self, occs: &[Src], rows: Vec<Row>, fail: Label, arms: &[Arm], mode: ArmMode) {
        if rows.is_empty() {
            self.emit(Instr::Jump { label: fail });
            return;
        }
        if occs.is_empty() {
            self.leaf(rows, fail, arms, mode);
            return;
        }
        let occ = occs[0];
        let mut live = Vec::new();
        for mut r in rows {
            if self.peel(&mut r, occ) {
                live.push(r);
            }
        }
        if live.is_empty() {
            self.emit(Instr::Jump { label: fail });
            return;
        }
        // Mixture rule: maximal runs of variable / constructor rows.
        let mut groups: Vec<Vec<Row>> = Vec::new();
        for r in live {
            match groups.last_mut() {
                Some(g) if is_any(&g[0].cols[0]) == is_any(&r.cols[0]) => g.push(r),
                _ => groups.push(vec![r]),
            }
        }
        let depth0 = self.f.depth;
        let n = groups.len();
        for (gi, g) in groups.into_iter().enumerate() {
            let last = gi + 1 == n;
            let next = if last { fail } else { self.new_label() };
            self.f.depth = depth0;
            let floor = if last { 0 } else { depth0 };
            if is_any(&g[0].cols[0]) {
                let g: Vec<Row> = g
                    .into_iter()
                    .map(|mut r| {
                        r.cols.remove(0);
                        r
                    })
                    .collect();
                self.protecting(floor, |me| {
                    // The column is bound or ignored: its register is free
                    // again if it is the top one and nothing reads it.
                    me.release(occ, &occs[1..], &g);
                    me.match_rows(&occs[1..], g, next, arms, mode)
                });
            } else {
                self.protecting(floor, |me| me.match_con(occs, g, next, arms, mode));
            }
            if !last {
                self.f.depth = depth0;
                self.place(next);
            }
        }
    }

    /// Strip variables off the first column: bind them, or check them
    /// against their earlier value. False if the row can never match.
    fn peel(&mut self, r: &mut Row, occ: Src) -> bool {
        loop {
            match std::mem::replace(&mut r.cols[0], Pt::Any) {
                Pt::Bind(name, inner) => {
                    if let Some((_, s)) = r.binds.iter().find(|(n, _)| *n == name) {
                        r.checks.push((occ, *s));
                    } else if let Some(Loc::Src(s)) = self.f.env.get(&name) {
                        r.checks.push((occ, *s));
                    } else {
                        r.binds.push((name, occ));
                    }
                    r.cols[0] = *inner;
                }
                Pt::Never => return false,
                p => {
                    r.cols[0] = p;
                    return true;
                }
            }
        }
    }

    /// Constructor rule: all rows have a constructor in the first column.
    fn match_con(&mut self, occs: &[Src], rows: Vec<Row>, fail: Label, arms: &[Arm], mode: ArmMode) {
        let occ = occs[0];
        let rest = &occs[1..];
        let mut fams: Vec<Fam> = Vec::new();
        for r in &rows {
            let f = family(&r.cols[0]);
            if !fams.contains(&f) {
                fams.push(f);
            }
        }
        let depth0 = self.f.depth;
        let nf = fams.len();
        // Each row goes to its family's group by move: cloning the rows for
        // each level of a long list pattern made compiling it quadratic in
        // memory.
        let mut rows = rows;
        for (fi, fam) in fams.into_iter().enumerate() {
            let last = fi + 1 == nf;
            let next = if last { fail } else { self.new_label() };
            self.f.depth = depth0;
            let (frows, others): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|r| family(&r.cols[0]) == fam);
            rows = others;
            self.protecting(if last { 0 } else { depth0 }, |me| match fam {
                Fam::Lit => me.match_lits(occ, rest, frows, next, fail, arms, mode),
                Fam::List => me.match_lists(occ, rest, frows, next, fail, arms, mode),
                Fam::Tuple => me.match_tuples(occ, rest, frows, next, fail, arms, mode),
                Fam::Map => me.match_maps(occ, rest, frows, next, fail, arms, mode),
                Fam::Bin => me.match_bins(occ, rest, frows, next, fail, arms, mode),
            });
            if !last {
                self.f.depth = depth0;
                self.place(next);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn match_lits(
        &mut self,
        occ: Src,
        rest: &[Src],
        rows: Vec<Row>,
        next: Label,
        fail: Label,
        arms: &[Arm],
        mode: ArmMode,
    ) {
        // The rows of each constant, in order, split by move (not cloned:
        // see `match_con`).
        let mut consts: Vec<Const> = Vec::new();
        let mut groups: Vec<Vec<Row>> = Vec::new();
        for mut r in rows {
            let Pt::Const(c) = r.cols.remove(0) else { unreachable!() };
            match consts.iter().position(|k| *k == c) {
                Some(i) => groups[i].push(r),
                None => {
                    consts.push(c);
                    groups.push(vec![r]);
                }
            }
        }
        let mut groups = groups.into_iter();
        let mut sub = |_: &Const| -> Vec<Row> { groups.next().expect("one group per constant") };
        let depth0 = self.f.depth;
        let keys: Vec<Option<SelectKey>> = consts.iter().map(|c| self.select_key(c)).collect();
        if consts.len() > 1 && keys.iter().all(|k| k.is_some()) {
            let labels: Vec<Label> = consts.iter().map(|_| self.new_label()).collect();
            let table = keys.into_iter().zip(labels.iter()).map(|(k, l)| (k.unwrap(), *l)).collect();
            self.emit(Instr::SelectVal { src: occ, fail: next, table });
            for (c, l) in consts.iter().zip(labels) {
                self.f.depth = depth0;
                self.place(l);
                let rows = sub(c);
                self.release(occ, rest, &rows);
                self.match_rows(rest, rows, fail, arms, mode);
            }
        } else {
            let n = consts.len();
            for (i, c) in consts.iter().enumerate() {
                let nextc = if i + 1 == n { next } else { self.new_label() };
                self.f.depth = depth0;
                let s = self.const_src(c);
                self.emit(Instr::Cmp { op: CmpOp::EqExact, a: occ, b: s, fail: nextc });
                let rows = sub(c);
                self.protecting(if i + 1 == n { 0 } else { depth0 }, |me| {
                    me.release(occ, rest, &rows);
                    me.match_rows(rest, rows, fail, arms, mode)
                });
                if i + 1 != n {
                    self.place(nextc);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn match_lists(
        &mut self,
        occ: Src,
        rest: &[Src],
        rows: Vec<Row>,
        next: Label,
        fail: Label,
        arms: &[Arm],
        mode: ArmMode,
    ) {
        let depth0 = self.f.depth;
        let has_nil = rows.iter().any(|r| matches!(r.cols[0], Pt::Nil));
        // Rows are split by move, not cloned (linear memory for long list
        // patterns, see `match_con`).
        let mut cons_rows: Vec<Row> = Vec::new();
        let mut nil_rows: Vec<Row> = Vec::new();
        for mut r in rows {
            match r.cols.remove(0) {
                Pt::Cons(h, t) => {
                    let mut cols = Vec::with_capacity(r.cols.len() + 2);
                    cols.push(*h);
                    cols.push(*t);
                    cols.append(&mut r.cols);
                    r.cols = cols;
                    cons_rows.push(r);
                }
                _ => nil_rows.push(r),
            }
        }
        if !cons_rows.is_empty() {
            let nil_l = if has_nil { self.new_label() } else { next };
            self.emit(Instr::Test { test: TypeTest::Cons, src: occ, fail: nil_l });
            let h = self.push();
            // The tail may replace the cell it comes from, so that a long
            // list pattern does not take two registers per element.
            let t = match self.reusable(occ, rest, &cons_rows) {
                Some(r) => r,
                None => self.push(),
            };
            self.emit(Instr::GetList { src: occ, head: Dst::X(h), tail: Dst::X(t) });
            let mut occs = vec![Src::X(h), Src::X(t)];
            occs.extend_from_slice(rest);
            self.match_rows(&occs, cons_rows, fail, arms, mode);
            if has_nil {
                self.f.depth = depth0;
                self.place(nil_l);
                self.emit(Instr::Test { test: TypeTest::Nil, src: occ, fail: next });
                self.match_rows(rest, nil_rows, fail, arms, mode);
            }
        } else {
            self.emit(Instr::Test { test: TypeTest::Nil, src: occ, fail: next });
            self.match_rows(rest, nil_rows, fail, arms, mode);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn match_tuples(
        &mut self,
        occ: Src,
        rest: &[Src],
        rows: Vec<Row>,
        next: Label,
        fail: Label,
        arms: &[Arm],
        mode: ArmMode,
    ) {
        let depth0 = self.f.depth;
        let mut arities: Vec<usize> = Vec::new();
        for r in &rows {
            let Pt::Tuple(es) = &r.cols[0] else { unreachable!() };
            if !arities.contains(&es.len()) {
                arities.push(es.len());
            }
        }
        if arities.len() == 1 {
            let n = arities[0];
            let tag = rows.iter().map(|r| match &r.cols[0] {
                Pt::Tuple(es) => match es.first() {
                    Some(Pt::Const(Const::Atom(a))) => Some(a.clone()),
                    _ => None,
                },
                _ => None,
            });
            let tags: Vec<Option<String>> = tag.collect();
            let common = match &tags[0] {
                Some(a) if tags.iter().all(|t| t.as_ref() == Some(a)) => Some(a.clone()),
                _ => None,
            };
            if let Some(a) = &common {
                let tag = self.atom(a);
                self.emit(Instr::IsTaggedTuple { src: occ, arity: n as u32, tag, fail: next });
            } else {
                self.emit(Instr::TestArity { src: occ, arity: n as u32, fail: next });
            }
            self.tuple_elements(occ, rest, rows, n, common.is_some(), fail, arms, mode);
        } else {
            self.emit(Instr::Test { test: TypeTest::Tuple, src: occ, fail: next });
            let labels: Vec<Label> = arities.iter().map(|_| self.new_label()).collect();
            let table = arities.iter().zip(labels.iter()).map(|(a, l)| (*a as u32, *l)).collect();
            self.emit(Instr::SelectTupleArity { src: occ, fail: next, table });
            // The rows of each arity, split by move (see `match_con`).
            let mut groups: Vec<Vec<Row>> = arities.iter().map(|_| Vec::new()).collect();
            for r in rows {
                let Pt::Tuple(es) = &r.cols[0] else { unreachable!() };
                let i = arities.iter().position(|a| *a == es.len()).expect("an arity seen above");
                groups[i].push(r);
            }
            for ((a, l), sub) in arities.iter().zip(labels).zip(groups) {
                self.f.depth = depth0;
                self.place(l);
                self.tuple_elements(occ, rest, sub, *a, false, fail, arms, mode);
            }
        }
    }

    /// Extract the elements some row looks at, then match them.
    #[allow(clippy::too_many_arguments)]
    fn tuple_elements(
        &mut self,
        occ: Src,
        rest: &[Src],
        rows: Vec<Row>,
        n: usize,
        skip_first: bool,
        fail: Label,
        arms: &[Arm],
        mode: ArmMode,
    ) {
        let rows: Vec<(Vec<Pt>, Row)> = rows
            .into_iter()
            .map(|mut r| {
                let Pt::Tuple(es) = r.cols.remove(0) else { unreachable!() };
                (es, r)
            })
            .collect();
        let keep: Vec<usize> =
            (0..n).filter(|&j| (!skip_first || j != 0) && !rows.iter().all(|(es, _)| is_any(&es[j]))).collect();
        // The last element taken may replace the tuple.
        let reuse = self.reusable(occ, rest, rows.iter().map(|(_, r)| r));
        let mut occs = Vec::new();
        for (k, &j) in keep.iter().enumerate() {
            let r = match reuse {
                Some(r) if k + 1 == keep.len() => r,
                _ => self.push(),
            };
            self.emit(Instr::GetTupleElement { src: occ, index: j as u32, dst: Dst::X(r) });
            occs.push(Src::X(r));
        }
        occs.extend_from_slice(rest);
        let rows: Vec<Row> = rows
            .into_iter()
            .map(|(mut es, mut r)| {
                let mut cols: Vec<Pt> = keep.iter().map(|&j| std::mem::replace(&mut es[j], Pt::Any)).collect();
                cols.append(&mut r.cols);
                Row { cols, binds: r.binds, checks: r.checks, arm: r.arm }
            })
            .collect();
        self.match_rows(&occs, rows, fail, arms, mode);
    }

    #[allow(clippy::too_many_arguments)]
    fn match_maps(
        &mut self,
        occ: Src,
        rest: &[Src],
        rows: Vec<Row>,
        next: Label,
        fail: Label,
        arms: &[Arm],
        mode: ArmMode,
    ) {
        self.emit(Instr::Test { test: TypeTest::Map, src: occ, fail: next });
        let depth0 = self.f.depth;
        let n = rows.len();
        for (i, mut r) in rows.into_iter().enumerate() {
            let nextr = if i + 1 == n { fail } else { self.new_label() };
            self.f.depth = depth0;
            let Pt::Map(fields) = r.cols.remove(0) else { unreachable!() };
            let mut occs = Vec::new();
            let mut cols = Vec::new();
            if !fields.is_empty() {
                let saved = self.f.guard_fail.replace(nextr);
                let mut keys = Vec::new();
                for (k, _) in &fields {
                    keys.push(self.expr(k));
                }
                self.f.guard_fail = saved;
                let mut pairs = Vec::new();
                for ((_, p), k) in fields.into_iter().zip(keys) {
                    let d = self.push();
                    pairs.push((k, Dst::X(d)));
                    occs.push(Src::X(d));
                    cols.push(p);
                }
                self.emit(Instr::GetMapElements { src: occ, fail: nextr, pairs });
            }
            occs.extend_from_slice(rest);
            cols.append(&mut r.cols);
            r.cols = cols;
            let floor = if i + 1 == n { 0 } else { depth0 };
            self.protecting(floor, |me| me.match_rows(&occs, vec![r], nextr, arms, mode));
            if i + 1 != n {
                self.place(nextr);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn match_bins(
        &mut self,
        occ: Src,
        rest: &[Src],
        rows: Vec<Row>,
        next: Label,
        fail: Label,
        arms: &[Arm],
        mode: ArmMode,
    ) {
        // A value that is no bitstring belongs to the next family; one that
        // is but matches no row fails the whole match.
        if next != fail {
            self.emit(Instr::Test { test: TypeTest::Bitstring, src: occ, fail: next });
        }
        let depth0 = self.f.depth;
        let n = rows.len();
        for (i, mut r) in rows.into_iter().enumerate() {
            let nextr = if i + 1 == n { fail } else { self.new_label() };
            self.f.depth = depth0;
            let Pt::Bin(segs) = r.cols.remove(0) else { unreachable!() };
            let live = self.f.depth;
            let ctx = self.push();
            self.emit(Instr::BsStartMatch { src: occ, dst: Dst::X(ctx), fail: nextr, live });
            let ctx = Src::X(ctx);
            // Variables bound by earlier segments are visible to sizes.
            let saved_env = self.f.env.clone();
            let saved_fail = self.f.guard_fail.replace(nextr);
            let mut occs = Vec::new();
            let mut cols = Vec::new();
            let nsegs = segs.len();
            let mut takes_rest = false;
            for (si, mut s) in segs.into_iter().enumerate() {
                for (name, src) in &r.binds {
                    self.f.env.insert(name.clone(), Loc::Src(*src));
                }
                let size = match &s.size {
                    Some(e) => Some(self.expr(e)),
                    None => s.default_size(),
                };
                if s.kind == SegKind::Binary && s.size.is_none() && si + 1 == nsegs {
                    takes_rest = true;
                }
                let mut value = std::mem::replace(&mut s.value, Pt::Any);
                // Only integer and binary segments can be skipped unread: a
                // float or utf segment matches only if it decodes.
                if matches!(value, Pt::Any) && matches!(s.kind, SegKind::Integer | SegKind::Binary) {
                    self.emit(Instr::BsSkip { ctx, size: size_or_rest(&s, size), unit: s.unit, fail: nextr });
                    continue;
                }
                let live = self.f.depth;
                let d = self.push();
                self.emit(Instr::BsGet {
                    ctx,
                    kind: s.kind,
                    size: size_or_rest(&s, size),
                    unit: s.unit,
                    flags: s.flags,
                    dst: Dst::X(d),
                    fail: nextr,
                    live,
                });
                let got = Src::X(d);
                loop {
                    match value {
                        Pt::Bind(name, inner) => {
                            let bound = r.binds.iter().find(|(n, _)| *n == name).map(|(_, s)| *s).or_else(|| {
                                match saved_env.get(&name) {
                                    Some(Loc::Src(s)) => Some(*s),
                                    _ => None,
                                }
                            });
                            match bound {
                                Some(b) => self.emit(Instr::Cmp { op: CmpOp::EqExact, a: got, b, fail: nextr }),
                                None => r.binds.push((name, got)),
                            }
                            value = *inner;
                        }
                        Pt::Any => break,
                        Pt::Const(c) => {
                            let c = match (s.kind, c) {
                                (SegKind::Float, Const::Int(i)) => Const::Float(i.to_f64().unwrap_or(f64::NAN)),
                                (_, c) => c,
                            };
                            let cs = self.const_src(&c);
                            self.emit(Instr::Cmp { op: CmpOp::EqExact, a: got, b: cs, fail: nextr });
                            break;
                        }
                        p => {
                            occs.push(got);
                            cols.push(p);
                            break;
                        }
                    }
                }
            }
            self.f.env = saved_env;
            self.f.guard_fail = saved_fail;
            if !takes_rest {
                self.emit(Instr::BsTestTail { ctx, bits: 0, fail: nextr });
            }
            occs.extend_from_slice(rest);
            cols.append(&mut r.cols);
            r.cols = cols;
            let floor = if i + 1 == n { 0 } else { depth0 };
            self.protecting(floor, |me| me.match_rows(&occs, vec![r], nextr, arms, mode));
            if i + 1 != n {
                self.place(nextr);
            }
        }
    }

    /// All columns matched: try the rows' checks and guards in order.
    fn leaf(&mut self, rows: Vec<Row>, fail: Label, arms: &[Arm], mode: ArmMode) {
        let depth0 = self.f.depth;
        let n = rows.len();
        for (i, row) in rows.into_iter().enumerate() {
            let arm = &arms[row.arm];
            let unconditional = row.checks.is_empty() && arm.guard.is_empty();
            let last = i + 1 == n || unconditional;
            let next = if last { fail } else { self.new_label() };
            self.f.depth = depth0;
            let saved_env = self.f.env.clone();
            let saved_frame = self.f.in_frame;
            for (name, s) in &row.binds {
                self.f.env.insert(name.clone(), Loc::Src(*s));
            }
            for (a, b) in &row.checks {
                self.emit(Instr::Cmp { op: CmpOp::EqExact, a: *a, b: *b, fail: next });
            }
            self.guard(arm.guard, next);
            self.f.depth = depth0;
            self.arm(arm, row.binds, mode);
            if !matches!(mode, ArmMode::Inline { .. }) {
                self.f.env = saved_env;
                self.f.in_frame = saved_frame;
            }
            if last {
                break;
            }
            self.place(next);
        }
    }

    /// Move the variables a clause bound into their y slots (with a frame).
    /// `force`: also when they are constants or y slots already, because
    /// code after a join reads them from their own slot.
    pub(crate) fn commit(&mut self, binds: &[(String, Src)], force: bool) {
        for (name, src) in binds {
            if !self.f.refs.contains(name) {
                continue;
            }
            if !force && !matches!(src, Src::X(_)) {
                self.f.env.insert(name.clone(), Loc::Src(*src));
                continue;
            }
            let y = self.yvar(name);
            if *src != Src::Y(y) {
                self.emit(Instr::Move { src: *src, dst: Dst::Y(y) });
            }
            self.f.env.insert(name.clone(), Loc::Src(Src::Y(y)));
            if let Some(log) = self.f.commit_log.last_mut() {
                log.push(name.clone());
            }
        }
    }

    /// The y slot of a variable (one per name per function).
    pub(crate) fn yvar(&mut self, name: &str) -> u16 {
        if let Some(&y) = self.f.yvars.get(name) {
            return y;
        }
        let y = self.f.next_y;
        self.f.next_y += 1;
        self.f.yvars.insert(name.to_string(), y);
        y
    }

    pub(crate) fn ytemp(&mut self) -> u16 {
        if let Some(y) = self.f.free_y.pop() {
            return y;
        }
        let y = self.f.next_y;
        self.f.next_y += 1;
        y
    }

    pub(crate) fn free_ytemp(&mut self, y: u16) {
        self.f.free_y.push(y);
    }

    /// The y slot of the catch tag of a `try` or `catch` opened here. An
    /// exception goes to the first catch tag found scanning the stack from
    /// its top, where y0 is (as BEAM's `next_catch` does), so of the tags of
    /// one frame the innermost must have the lowest slot. Tags therefore get
    /// one slot per nesting level, above every other slot, the deepest level
    /// lowest; the operand is `TAG_SLOT | level` until the function's end
    /// knows the frame size and patches it. Pair with `close_tag`.
    pub(crate) fn open_tag(&mut self) -> u16 {
        let level = self.f.try_depth;
        self.f.try_depth += 1;
        self.f.max_try_depth = self.f.max_try_depth.max(self.f.try_depth);
        super::TAG_SLOT | level
    }

    pub(crate) fn close_tag(&mut self) {
        self.f.try_depth -= 1;
    }

    /// The code of a chosen clause.
    fn arm(&mut self, arm: &Arm, mut binds: Vec<(String, Src)>, mode: ArmMode) {
        match arm.prologue {
            Prologue::None => {}
            Prologue::RemoveMessage => self.emit(Instr::RemoveMessage),
            Prologue::Stack(name) => {
                if let Some(name) = name {
                    let live = self.f.depth;
                    let d = self.push();
                    let imp = self.import("erlang", "build_stacktrace", 1);
                    self.emit(Instr::Bif {
                        import: imp,
                        args: vec![Src::X(2)],
                        dst: Dst::X(d),
                        fail: Label::NONE,
                        live,
                    });
                    self.f.env.insert(name.to_string(), Loc::Src(Src::X(d)));
                    binds.push((name.to_string(), Src::X(d)));
                }
            }
        }
        match mode {
            ArmMode::Tail { base } => {
                if self.f.in_frame {
                    self.commit(&binds, false);
                    self.f.depth = base;
                }
                self.body_tail(arm.body);
            }
            ArmMode::Value { join, base } => {
                if self.f.in_frame {
                    self.commit(&binds, true);
                    self.f.depth = base;
                }
                let v = self.body_value(arm.body);
                if v != Src::X(base) {
                    self.emit(Instr::Move { src: v, dst: Dst::X(base) });
                }
                self.emit(Instr::Jump { label: join });
            }
            ArmMode::Inline { success, base } => {
                if self.f.in_frame {
                    self.commit(&binds, true);
                    self.f.depth = base;
                }
                self.f.inline_depth = self.f.depth;
                self.emit(Instr::Jump { label: success });
            }
        }
    }

    // ------------------------------------------------------------ guards

    /// Guard `g` (a disjunction of conjunctions); jump to `fail` if false.
    pub(crate) fn guard(&mut self, g: &[Vec<Expr>], fail: Label) {
        if g.is_empty() {
            return;
        }
        let d0 = self.f.depth;
        let ok = self.new_label();
        let n = g.len();
        for (i, conj) in g.iter().enumerate() {
            let last = i + 1 == n;
            let f = if last { fail } else { self.new_label() };
            self.f.depth = d0;
            for t in conj {
                self.test(t, f);
            }
            if !last {
                self.emit(Instr::Jump { label: ok });
                self.f.depth = d0;
                self.place(f);
            }
        }
        self.place(ok);
        self.f.depth = d0;
    }

    /// A guard test: fall through if true, jump to `fail` if false or if it
    /// raises.
    pub(crate) fn test(&mut self, e: &Expr, fail: Label) {
        use crate::ast::BinOp as B;
        let d0 = self.f.depth;
        let saved = self.f.guard_fail.replace(fail);
        self.set_line(e.span);
        match &e.kind {
            ExprKind::Atom(a) if a == "true" => {}
            ExprKind::Atom(a) if a == "false" => self.emit(Instr::Jump { label: fail }),
            ExprKind::BinOp(B::AndAlso | B::And, a, b) => {
                self.test(a, fail);
                self.test(b, fail);
            }
            ExprKind::BinOp(B::OrElse | B::Or, a, b) => {
                let l = self.new_label();
                let ok = self.new_label();
                self.test(a, l);
                self.emit(Instr::Jump { label: ok });
                self.f.depth = d0;
                self.place(l);
                self.test(b, fail);
                self.place(ok);
            }
            ExprKind::UnOp(ast::UnOp::Not, a) if !self.may_raise(a) => {
                let l = self.new_label();
                self.test(a, l);
                self.emit(Instr::Jump { label: fail });
                self.f.depth = d0;
                self.place(l);
            }
            ExprKind::UnOp(ast::UnOp::Not, a) => {
                // As a value: an exception inside must fail the guard, not
                // make `not` true.
                let v = self.expr(a);
                let f = self.atom("false");
                self.emit(Instr::Cmp { op: CmpOp::EqExact, a: v, b: Src::Atom(f), fail });
            }
            ExprKind::BinOp(op, a, b) if cmp_op(*op).is_some() => {
                let (op, swap) = cmp_op(*op).unwrap();
                let x = self.expr(a);
                let y = self.expr(b);
                let (a, b) = if swap { (y, x) } else { (x, y) };
                self.emit(Instr::Cmp { op, a, b, fail });
            }
            ExprKind::LocalCall(n, args) if self.is_test_call(&n.name, args.len()) => {
                self.type_test(&n.name, args, fail, e.span)
            }
            ExprKind::RemoteCall(m, f, args) if matches!((&m.kind, &f.kind), (ExprKind::Atom(m), ExprKind::Atom(f)) if m == "erlang" && type_test_of(f, args.len()).is_some()) =>
            {
                let ExprKind::Atom(f) = &f.kind else { unreachable!() };
                self.type_test(f, args, fail, e.span)
            }
            _ => {
                let v = self.expr(e);
                let t = self.atom("true");
                self.emit(Instr::Cmp { op: CmpOp::EqExact, a: v, b: Src::Atom(t), fail });
            }
        }
        self.f.guard_fail = saved;
        self.f.depth = d0;
    }

    /// Can this guard test raise (rather than just be false)? Type tests
    /// and comparisons of variables and constants cannot.
    fn may_raise(&self, e: &Expr) -> bool {
        let simple = |e: &Expr| matches!(e.kind, ExprKind::Var(_)) || super::expr::is_const(e);
        match &e.kind {
            ExprKind::BinOp(op, a, b) if cmp_op(*op).is_some() => !(simple(a) && simple(b)),
            ExprKind::BinOp(ast::BinOp::AndAlso | ast::BinOp::OrElse, a, b) => self.may_raise(a) || self.may_raise(b),
            ExprKind::UnOp(ast::UnOp::Not, a) => self.may_raise(a),
            ExprKind::LocalCall(n, args) if self.is_test_call(&n.name, args.len()) && n.name != "is_record" => {
                !args.iter().all(simple)
            }
            ExprKind::Atom(_) => false,
            _ => true,
        }
    }

    fn is_test_call(&self, name: &str, arity: usize) -> bool {
        match self.classify_local(name, arity) {
            super::analysis::Callee::Bif => type_test_of(name, arity).is_some(),
            super::analysis::Callee::IsRecord => true,
            _ => false,
        }
    }

    /// `is_integer(X)`, `is_record(X, r)`, ...: a `Test`.
    pub(crate) fn type_test(&mut self, name: &str, args: &[Expr], fail: Label, span: Span) {
        if name == "is_record" {
            let x = self.expr(&args[0]);
            let ExprKind::Atom(r) = &args[1].kind else {
                self.error(args[1].span, "is_record/2 needs a record name (an atom)");
                return;
            };
            let arity = if args.len() == 3 {
                match &args[2].kind {
                    ExprKind::Int(n) => n.to_u32().unwrap_or(0),
                    _ => {
                        self.error(args[2].span, "is_record/3 needs a constant size");
                        return;
                    }
                }
            } else {
                match self.records.get(r) {
                    Some(d) => d.len() as u32 + 1,
                    None => {
                        self.error(args[1].span, format!("record {r} undefined"));
                        return;
                    }
                }
            };
            let tag = self.atom(r);
            self.emit(Instr::IsTaggedTuple { src: x, arity, tag, fail });
            return;
        }
        if name == "is_function" && args.len() == 2 {
            if let ExprKind::Int(n) = &args[1].kind {
                if let Some(n) = n.to_u8() {
                    let x = self.expr(&args[0]);
                    self.emit(Instr::Test { test: TypeTest::FunctionArity(n), src: x, fail });
                    return;
                }
            }
            let v = self.bif_call("is_function", &args.iter().collect::<Vec<_>>(), span);
            let t = self.atom("true");
            self.emit(Instr::Cmp { op: CmpOp::EqExact, a: v, b: Src::Atom(t), fail });
            return;
        }
        let test = type_test_of(name, args.len()).expect("a type test");
        let x = self.expr(&args[0]);
        self.emit(Instr::Test { test, src: x, fail });
    }
}

impl BinSegP {
    fn default_size(&self) -> Option<Src> {
        match self.kind {
            SegKind::Integer => Some(Src::Int(8)),
            SegKind::Float => Some(Src::Int(64)),
            _ => None,
        }
    }
}

fn size_or_rest(s: &BinSegP, size: Option<Src>) -> Option<Src> {
    match s.kind {
        SegKind::Utf8 | SegKind::Utf16 | SegKind::Utf32 => None,
        _ => size,
    }
}

/// A comparison operator as a `Cmp` (and whether to swap the operands).
pub(crate) fn cmp_op(op: ast::BinOp) -> Option<(CmpOp, bool)> {
    use crate::ast::BinOp as B;
    Some(match op {
        B::Eq => (CmpOp::Eq, false),
        B::Ne => (CmpOp::Ne, false),
        B::ExactEq => (CmpOp::EqExact, false),
        B::ExactNe => (CmpOp::NeExact, false),
        B::Lt => (CmpOp::Lt, false),
        B::Ge => (CmpOp::Ge, false),
        B::Gt => (CmpOp::Lt, true),
        B::Le => (CmpOp::Ge, true),
        _ => return None,
    })
}

pub(crate) fn type_test_of(name: &str, arity: usize) -> Option<TypeTest> {
    Some(match (name, arity) {
        ("is_atom", 1) => TypeTest::Atom,
        ("is_binary", 1) => TypeTest::Binary,
        ("is_bitstring", 1) => TypeTest::Bitstring,
        ("is_boolean", 1) => TypeTest::Boolean,
        ("is_float", 1) => TypeTest::Float,
        ("is_function", 1) => TypeTest::Function,
        ("is_function", 2) => TypeTest::Function,
        ("is_integer", 1) => TypeTest::Integer,
        ("is_list", 1) => TypeTest::List,
        ("is_map", 1) => TypeTest::Map,
        ("is_number", 1) => TypeTest::Number,
        ("is_pid", 1) => TypeTest::Pid,
        ("is_port", 1) => TypeTest::Port,
        ("is_reference", 1) => TypeTest::Reference,
        ("is_tuple", 1) => TypeTest::Tuple,
        _ => return None,
    })
}
