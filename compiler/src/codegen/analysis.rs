//! Analyses on the AST the generator needs before emitting code: which
//! variables a piece of code mentions, whether an expression clobbers the x
//! registers (it calls), and whether a body needs a stack frame.

use super::expr::ANALYSIS_DEPTH;
use super::Gen;
use crate::ast::BinOp as B;
use crate::ast::*;
use crate::bifs;
use std::collections::{HashMap, HashSet};

/// A variable occurrence: read in an expression, or written in a pattern.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Occ {
    Expr,
    Pat,
}

pub(crate) fn walk_expr(e: &Expr, f: &mut dyn FnMut(&str, Occ)) {
    use ExprKind::*;
    // Walk list spines iteratively: literal lists can be very long.
    let mut e = e;
    while let Cons(h, t) = &e.kind {
        walk_expr(h, f);
        e = t;
    }
    match &e.kind {
        Var(v) => f(v, Occ::Expr),
        Atom(_) | Int(_) | Float(_) | String(_) | Nil | RecordIndex(..) | FunRef(_) => {}
        Tuple(es) | Block(es) => es.iter().for_each(|e| walk_expr(e, f)),
        Cons(..) => unreachable!("spines are walked above"),
        Binary(segs) => {
            for s in segs {
                walk_expr(&s.value, f);
                if let Some(sz) = &s.size {
                    walk_expr(sz, f);
                }
            }
        }
        Map(fields) => fields.iter().for_each(|m| {
            walk_expr(&m.key, f);
            walk_expr(&m.value, f);
        }),
        MapUpdate(e, fields) => {
            walk_expr(e, f);
            fields.iter().for_each(|m| {
                walk_expr(&m.key, f);
                walk_expr(&m.value, f);
            })
        }
        Record(_, fields) => fields.iter().for_each(|r| walk_expr(&r.value, f)),
        RecordUpdate(e, _, fields) => {
            walk_expr(e, f);
            fields.iter().for_each(|r| walk_expr(&r.value, f))
        }
        RecordField(e, _, _) => walk_expr(e, f),
        Match(p, e) => {
            walk_pat(p, f);
            walk_expr(e, f);
        }
        BinOp(_, a, b) => {
            walk_expr(a, f);
            walk_expr(b, f);
        }
        UnOp(_, a) => walk_expr(a, f),
        LocalCall(_, args) => args.iter().for_each(|e| walk_expr(e, f)),
        RemoteCall(m, n, args) => {
            walk_expr(m, f);
            walk_expr(n, f);
            args.iter().for_each(|e| walk_expr(e, f))
        }
        FunCall(fun, args) => {
            walk_expr(fun, f);
            args.iter().for_each(|e| walk_expr(e, f))
        }
        Case(e, cs) => {
            walk_expr(e, f);
            cs.iter().for_each(|c| walk_clause(c, f));
        }
        If(cs) => cs.iter().for_each(|c| walk_clause(c, f)),
        Receive(cs, after) => {
            cs.iter().for_each(|c| walk_clause(c, f));
            if let Some(a) = after {
                walk_expr(&a.timeout, f);
                a.body.iter().for_each(|e| walk_expr(e, f));
            }
        }
        Try(t) => {
            t.body.iter().for_each(|e| walk_expr(e, f));
            t.of.iter().for_each(|c| walk_clause(c, f));
            for c in &t.catches {
                if let Some(p) = &c.class {
                    walk_pat(p, f);
                }
                walk_pat(&c.reason, f);
                if let Some(s) = &c.stack {
                    f(&s.name, Occ::Pat);
                }
                c.guard.iter().flatten().for_each(|e| walk_expr(e, f));
                c.body.iter().for_each(|e| walk_expr(e, f));
            }
            t.after.iter().for_each(|e| walk_expr(e, f));
        }
        Catch(e) => walk_expr(e, f),
        Fun(_, cs, _) => cs.iter().for_each(|c| walk_clause(c, f)),
        FunRemote(m, n, a) => {
            walk_expr(m, f);
            walk_expr(n, f);
            walk_expr(a, f);
        }
        ListComp(e, qs, _) | BinComp(e, qs, _) => {
            walk_expr(e, f);
            for q in qs {
                match q {
                    Qualifier::Generator(p, e) | Qualifier::BinGenerator(p, e) => {
                        walk_pat(p, f);
                        walk_expr(e, f);
                    }
                    Qualifier::Filter(e) => walk_expr(e, f),
                }
            }
        }
    }
}

pub(crate) fn walk_clause(c: &Clause, f: &mut dyn FnMut(&str, Occ)) {
    c.params.iter().for_each(|p| walk_pat(p, f));
    c.guard.iter().flatten().for_each(|e| walk_expr(e, f));
    c.body.iter().for_each(|e| walk_expr(e, f));
}

pub(crate) fn walk_pat(p: &Pat, f: &mut dyn FnMut(&str, Occ)) {
    use PatKind::*;
    let mut p = p;
    while let Cons(h, t) = &p.kind {
        walk_pat(h, f);
        p = t;
    }
    match &p.kind {
        Var(v) => f(v, Occ::Pat),
        Wildcard | Atom(_) | Int(_) | Float(_) | String(_) | Nil | RecordIndex(..) => {}
        Tuple(ps) => ps.iter().for_each(|p| walk_pat(p, f)),
        Cons(..) => unreachable!("spines are walked above"),
        Binary(segs) => {
            for s in segs {
                walk_pat(&s.value, f);
                if let Some(sz) = &s.size {
                    walk_expr(sz, f);
                }
            }
        }
        Map(kvs) => kvs.iter().for_each(|(k, v)| {
            walk_expr(k, f);
            walk_pat(v, f);
        }),
        Record(_, fs) => fs.iter().for_each(|(_, p)| walk_pat(p, f)),
        Match(a, b) => {
            walk_pat(a, f);
            walk_pat(b, f);
        }
    }
}

/// The variables worth keeping in a y slot: read in an expression, or
/// mentioned by more than one pattern.
pub(crate) fn function_refs(clauses: &[Clause], refs: &mut HashSet<String>) {
    let mut pat_count: HashMap<String, u32> = HashMap::new();
    for c in clauses {
        walk_clause(c, &mut |v, occ| match occ {
            Occ::Expr => {
                refs.insert(v.to_string());
            }
            Occ::Pat => *pat_count.entry(v.to_string()).or_default() += 1,
        });
    }
    refs.extend(pat_count.into_iter().filter(|(_, n)| *n > 1).map(|(v, _)| v));
}

/// Every variable name a set of clauses mentions.
pub(crate) fn clause_vars(clauses: &[Clause]) -> HashSet<String> {
    let mut s = HashSet::new();
    for c in clauses {
        walk_clause(c, &mut |v, _| {
            s.insert(v.to_string());
        });
    }
    s
}

pub(crate) fn expr_vars(e: &Expr, s: &mut HashSet<String>) {
    walk_expr(e, &mut |v, _| {
        s.insert(v.to_string());
    });
}

/// The variables a pattern binds (or matches).
pub(crate) fn pat_vars(p: &Pat) -> HashSet<String> {
    let mut s = HashSet::new();
    walk_pat(p, &mut |v, occ| {
        if occ == Occ::Pat {
            s.insert(v.to_string());
        }
    });
    s
}

/// How many variables the matches among a body's statements bind (the
/// body's own, not those of nested clauses).
pub(crate) fn body_bindings(body: &[Expr]) -> usize {
    let mut n = 0;
    for e in body {
        let mut e = e;
        while let ExprKind::Match(p, rhs) = &e.kind {
            n += pat_vars(p).len();
            e = rhs;
        }
    }
    n
}

/// `erlang:name/arity` compiled as a `Bif` instruction (pure, never yields).
pub(crate) fn is_bif_instr(name: &str, arity: usize) -> bool {
    (bifs::is_guard_bif(name, arity) && !matches!(name, "is_record")) || bifs::is_operator(name, arity)
}

/// How a call `name(args)` without a module is resolved.
pub(crate) enum Callee {
    Local,
    /// A remote call `module:name/arity`.
    Ext(String),
    /// An `erlang` BIF emitted as a `Bif` instruction.
    Bif,
    /// `is_record/2,3`: a type test.
    IsRecord,
    Undefined,
}

impl Gen<'_> {
    pub(crate) fn classify_local(&self, name: &str, arity: usize) -> Callee {
        if self.local_funs.contains_key(&(name.to_string(), arity as u8)) {
            Callee::Local
        } else if let Some(m) = self.imported.get(&(name.to_string(), arity as u8)) {
            Callee::Ext(m.clone())
        } else if name == "is_record" && (arity == 2 || arity == 3) {
            Callee::IsRecord
        } else if bifs::is_auto_imported(name, arity) {
            if is_bif_instr(name, arity) {
                Callee::Bif
            } else {
                Callee::Ext("erlang".into())
            }
        } else {
            Callee::Undefined
        }
    }

    /// Is `M:F(...)` an `erlang` BIF emitted inline?
    pub(crate) fn remote_is_bif(m: &Expr, f: &Expr, arity: usize) -> bool {
        matches!((&m.kind, &f.kind), (ExprKind::Atom(m), ExprKind::Atom(f)) if m == "erlang" && is_bif_instr(f, arity))
    }

    /// Does evaluating `e` (not in tail position) clobber the x registers,
    /// that is, make a call, send, receive or catch?
    pub(crate) fn clobbers(&self, e: &Expr) -> bool {
        self.clobbers_at(e, 0)
    }

    /// `clobbers` at nesting `depth` below the expression asked about.
    /// Past `ANALYSIS_DEPTH` levels the answer is a conservative yes, so
    /// that asking at each level of a term nested N deep costs O(N), not
    /// O(N²) (a yes only makes the code keep values in y slots).
    fn clobbers_at(&self, e: &Expr, depth: usize) -> bool {
        use ExprKind::*;
        if depth > ANALYSIS_DEPTH {
            return true;
        }
        let d = depth + 1;
        let mut e = e;
        while let Cons(h, t) = &e.kind {
            if self.clobbers_at(h, d) {
                return true;
            }
            e = t;
        }
        match &e.kind {
            Var(_) | Atom(_) | Int(_) | Float(_) | String(_) | Nil | RecordIndex(..) | FunRef(_) | Fun(..) => false,
            Tuple(es) | Block(es) => es.iter().any(|e| self.clobbers_at(e, d)),
            Cons(..) => unreachable!("spines are walked above"),
            Binary(segs) => segs
                .iter()
                .any(|s| self.clobbers_at(&s.value, d) || s.size.as_ref().is_some_and(|z| self.clobbers_at(z, d))),
            Map(fs) => fs.iter().any(|m| self.clobbers_at(&m.key, d) || self.clobbers_at(&m.value, d)),
            MapUpdate(e, fs) => {
                self.clobbers_at(e, d)
                    || fs.iter().any(|m| self.clobbers_at(&m.key, d) || self.clobbers_at(&m.value, d))
            }
            Record(name, fs) => {
                fs.iter().any(|r| self.clobbers_at(&r.value, d))
                    || self.records.get(&name.name).is_some_and(|defs| {
                        defs.iter().any(|(f, def)| {
                            def.as_ref().is_some_and(|x| self.clobbers_at(x, d))
                                && !fs.iter().any(|r| r.name.name == *f || r.name.name == "_")
                        })
                    })
            }
            RecordUpdate(e, _, fs) => self.clobbers_at(e, d) || fs.iter().any(|r| self.clobbers_at(&r.value, d)),
            RecordField(e, _, _) => self.clobbers_at(e, d),
            Match(_, e) => self.clobbers_at(e, d),
            BinOp(B::Send | B::Append | B::Subtract, _, _) => true,
            BinOp(_, a, b) => self.clobbers_at(a, d) || self.clobbers_at(b, d),
            UnOp(_, a) => self.clobbers_at(a, d),
            LocalCall(n, args) => match self.classify_local(&n.name, args.len()) {
                Callee::Bif | Callee::IsRecord => args.iter().any(|e| self.clobbers_at(e, d)),
                _ => true,
            },
            RemoteCall(m, f, args) => {
                !Self::remote_is_bif(m, f, args.len()) || args.iter().any(|e| self.clobbers_at(e, d))
            }
            FunCall(..) | Receive(..) | Try(_) | Catch(_) | ListComp(..) | BinComp(..) => true,
            FunRemote(m, f, a) => !(is_const_atom_or_int(m) && is_const_atom_or_int(f) && is_const_atom_or_int(a)),
            Case(e, cs) => {
                self.clobbers_at(e, d)
                    || cs.iter().any(|c| {
                        c.body.iter().any(|e| self.clobbers_at(e, d))
                            || c.guard.iter().flatten().any(|e| self.clobbers_at(e, d))
                    })
            }
            If(cs) => cs.iter().any(|c| c.body.iter().any(|e| self.clobbers_at(e, d))),
        }
    }

    /// Does `e` (evaluated for its value) need a frame?
    pub(crate) fn expr_needs_frame(&self, e: &Expr) -> bool {
        self.clobbers(e) || has_join_or_match(e)
    }

    /// Does a statement (a non-last expression of a body) need a frame? A
    /// match at the top of a body binds variables in x registers; nested
    /// matches and branching constructs need y slots.
    pub(crate) fn stmt_needs_frame(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Match(_, rhs) => self.expr_needs_frame(rhs),
            _ => self.expr_needs_frame(e),
        }
    }

    pub(crate) fn body_needs_frame(&self, body: &[Expr]) -> bool {
        match body.split_last() {
            None => false,
            Some((last, init)) => init.iter().any(|e| self.stmt_needs_frame(e)) || self.tail_needs_frame(last),
        }
    }

    /// Does an expression in tail position need a frame at this level
    /// (branches of a tail `case`/`if` decide for themselves)?
    pub(crate) fn tail_needs_frame(&self, e: &Expr) -> bool {
        use ExprKind::*;
        match &e.kind {
            Case(s, _) => self.expr_needs_frame(s),
            If(_) => false,
            Block(b) => self.body_needs_frame(b),
            Receive(..) | Try(_) | Catch(_) => true,
            LocalCall(n, args) => match self.classify_local(&n.name, args.len()) {
                Callee::Local | Callee::Ext(_) | Callee::Undefined => args.iter().any(|a| self.expr_needs_frame(a)),
                Callee::Bif | Callee::IsRecord => self.expr_needs_frame(e),
            },
            RemoteCall(m, f, args) => {
                if Self::remote_is_bif(m, f, args.len()) {
                    self.expr_needs_frame(e)
                } else {
                    self.expr_needs_frame(m)
                        || self.expr_needs_frame(f)
                        || args.iter().any(|a| self.expr_needs_frame(a))
                }
            }
            FunCall(fun, args) => self.expr_needs_frame(fun) || args.iter().any(|a| self.expr_needs_frame(a)),
            BinOp(B::AndAlso | B::OrElse, a, b) => self.expr_needs_frame(a) || self.tail_needs_frame(b),
            Match(_, rhs) => self.expr_needs_frame(rhs),
            // A send as the last expression needs no frame: x0/x1 are free.
            BinOp(B::Send, a, b) => self.expr_needs_frame(a) || self.expr_needs_frame(b),
            // Lowered to a tail call of the first generator's function.
            ListComp(_, qs, _) => match qs.first() {
                Some(Qualifier::Generator(_, l) | Qualifier::BinGenerator(_, l)) => self.expr_needs_frame(l),
                _ => true,
            },
            _ => self.expr_needs_frame(e),
        }
    }
}

fn is_const_atom_or_int(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Atom(_) | ExprKind::Int(_))
}

/// Does `e` contain a branching construct or a match (outside funs)?
fn has_join_or_match(e: &Expr) -> bool {
    use ExprKind::*;
    let mut e = e;
    while let Cons(h, t) = &e.kind {
        if has_join_or_match(h) {
            return true;
        }
        e = t;
    }
    match &e.kind {
        Case(..) | If(_) | Receive(..) | Try(_) | Catch(_) | Match(..) => true,
        BinOp(B::AndAlso | B::OrElse, a, b) => has_join_or_match(a) || has_join_or_match(b),
        Fun(..) | ListComp(..) | BinComp(..) => false,
        _ => {
            let mut found = false;
            let mut computed = 0;
            visit_children(e, &mut |c| {
                found |= has_join_or_match(c);
                computed += !matches!(c.kind, Var(_)) as usize;
            });
            // A tuple, map or binary of many computed elements: its
            // elements are spilled to y slots as they are computed
            // (`Gen::exprs`), which takes a frame.
            found || computed > WIDE
        }
    }
}

/// Construction of more computed elements than this needs a frame (see
/// `has_join_or_match`). Lists are built in chunks without one
/// (`expr::LONG_LIST`).
pub(crate) const WIDE: usize = 256;

/// Call `f` on each direct sub-expression of `e` (not inside clauses).
fn visit_children(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    use ExprKind::*;
    match &e.kind {
        Tuple(es) | Block(es) => es.iter().for_each(f),
        Cons(h, t) => {
            f(h);
            f(t)
        }
        Binary(segs) => segs.iter().for_each(|s| {
            f(&s.value);
            if let Some(z) = &s.size {
                f(z)
            }
        }),
        Map(fs) => fs.iter().for_each(|m| {
            f(&m.key);
            f(&m.value)
        }),
        MapUpdate(e, fs) => {
            f(e);
            fs.iter().for_each(|m| {
                f(&m.key);
                f(&m.value)
            })
        }
        Record(_, fs) => fs.iter().for_each(|r| f(&r.value)),
        RecordUpdate(e, _, fs) => {
            f(e);
            fs.iter().for_each(|r| f(&r.value))
        }
        RecordField(e, _, _) | UnOp(_, e) | Catch(e) => f(e),
        Match(_, e) => f(e),
        BinOp(_, a, b) => {
            f(a);
            f(b)
        }
        LocalCall(_, args) => args.iter().for_each(f),
        RemoteCall(m, n, args) => {
            f(m);
            f(n);
            args.iter().for_each(f)
        }
        FunCall(g, args) => {
            f(g);
            args.iter().for_each(f)
        }
        FunRemote(m, n, a) => {
            f(m);
            f(n);
            f(a)
        }
        _ => {}
    }
}

/// Is `e` a valid guard expression (so a comprehension filter can be a
/// guard)? `is_local` says whether a name/arity is a local function (which
/// would shadow a BIF).
pub(crate) fn is_guard_expr(e: &Expr, is_local: &dyn Fn(&str, usize) -> bool) -> bool {
    use ExprKind::*;
    match &e.kind {
        Var(_) | Atom(_) | Int(_) | Float(_) | String(_) | Nil | RecordIndex(..) => true,
        Tuple(es) => es.iter().all(|e| is_guard_expr(e, is_local)),
        Cons(h, t) => is_guard_expr(h, is_local) && is_guard_expr(t, is_local),
        Binary(segs) => segs
            .iter()
            .all(|s| is_guard_expr(&s.value, is_local) && s.size.as_ref().is_none_or(|z| is_guard_expr(z, is_local))),
        Map(fs) => fs.iter().all(|m| is_guard_expr(&m.key, is_local) && is_guard_expr(&m.value, is_local)),
        MapUpdate(e, fs) => {
            is_guard_expr(e, is_local)
                && fs.iter().all(|m| is_guard_expr(&m.key, is_local) && is_guard_expr(&m.value, is_local))
        }
        Record(_, fs) => fs.iter().all(|r| is_guard_expr(&r.value, is_local)),
        RecordUpdate(e, _, fs) => is_guard_expr(e, is_local) && fs.iter().all(|r| is_guard_expr(&r.value, is_local)),
        RecordField(e, _, _) => is_guard_expr(e, is_local),
        BinOp(B::Send | B::Append | B::Subtract, _, _) => false,
        BinOp(_, a, b) => is_guard_expr(a, is_local) && is_guard_expr(b, is_local),
        UnOp(_, a) => is_guard_expr(a, is_local),
        LocalCall(n, args) => {
            !is_local(&n.name, args.len())
                && (bifs::is_guard_bif(&n.name, args.len()))
                && args.iter().all(|a| is_guard_expr(a, is_local))
        }
        RemoteCall(m, f, args) => {
            matches!((&m.kind, &f.kind), (Atom(m), Atom(f)) if m == "erlang" && (bifs::is_guard_bif(f, args.len()) || bifs::is_operator(f, args.len())))
                && args.iter().all(|a| is_guard_expr(a, is_local))
        }
        _ => false,
    }
}
