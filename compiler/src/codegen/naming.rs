//! OTP's names for the functions lifted out of a user function: funs
//! (`-f/1-fun-N-`, or `-f/1-Name/A-K-` for a named fun that calls itself)
//! and comprehension generators (`-f/1-lc$^N/1-K-`, `-f/1-lbc$^N/2-K-`).
//!
//! OTP 25 numbers them with two counters, both starting at 0 in each user
//! function:
//! - `N`, v3_core's: taken in the order v3_core translates the function.
//!   List and tuple elements, binary segments, call arguments and the
//!   operands of most operators are translated right to left (map pairs,
//!   `andalso`/`orelse`, `case` subjects before clauses: left to right); a
//!   fun's body before the fun itself; a comprehension's generator and
//!   filter expressions first, then one number per generator, then its
//!   body. `fun f/A` takes a number too.
//! - `K`, v3_kernel's: taken in the order v3_kernel meets the letrecs of
//!   the Core code, which is evaluation order, except that the clauses of
//!   a match are translated in the order of its pattern-matching
//!   compilation (groups of clauses with a variable first pattern or a
//!   constructor first pattern, the last group first; constructors by
//!   type; a `try`'s catch clauses on `{Class, Reason}`), and a `receive`
//!   with a timeout other than `infinity` translates its `after` body
//!   before its clauses. Each comprehension generator, each named fun that refers to
//!   itself, and each fun whose clauses can fail to match (its
//!   `function_clause` raise is given a `-f/1-inlined-K-` name) takes one.
//!
//! Where the kernel's order is only approximated here (names then differ
//! from OTP's in `K` only): OTP's optimiser (`sys_core_fold`) may inline
//! a fun bound to a variable and applied once (its `function_clause` then
//! takes no number, and its comprehensions are numbered where it is
//! applied) or drop an unused one; it folds constants (a fun whose free
//! variables are all constants has none, so no `inlined` stub); a large `after` body (OTP makes it a function `after$^N`, taking
//! both counters) is taken as small; in the match order, binary patterns
//! are one group, map patterns are grouped by their keys in any order, and
//! single complex literal patterns are not moved first.
//!
//! The pass runs on a copy of the function's clauses before code
//! generation and writes the names into the `Fun`, `ListComp` and
//! `BinComp` nodes. It also expands record constructions into tuples (so
//! each copy of a field's default gets its own names, as in OTP) and turns
//! `fun F/A` of an auto-imported BIF into `fun (X1, ...) -> F(X1, ...) end`,
//! as OTP's `erl_expand_records` does, and evaluates `More` before the
//! comprehension in `[E || Qs] ++ More`, as v3_core does.

use crate::ast::BinOp as Op;
use crate::ast::*;
use std::collections::HashMap;

/// What the pass needs to know about the module.
pub(crate) struct ModuleInfo<'a> {
    pub records: &'a HashMap<String, Vec<(String, Option<Expr>)>>,
    /// Is `name/arity` a function defined in the module?
    pub is_local: &'a dyn Fn(&str, usize) -> bool,
    /// Is `fun name/arity` (not local) a reference to an auto-imported BIF?
    pub is_bif_ref: &'a dyn Fn(&str, usize) -> bool,
}

/// Name the funs and comprehensions of the user function `top`.
pub(crate) fn name_function(top: &(String, u8), clauses: &mut [Clause], m: &ModuleInfo) {
    let mut n = Namer { top: format!("-{}/{}-", top.0, top.1), m, n: 0, k: 0, fresh: 0 };
    for c in clauses.iter_mut() {
        n.core_clause(c);
    }
    let order = match_order(clauses.iter().map(|c| (c.params.iter().collect(), guard_is_true(&c.guard))).collect());
    for i in order {
        n.kern_clause(&mut clauses[i]);
    }
}

struct Namer<'a> {
    /// `-f/1-`
    top: String,
    m: &'a ModuleInfo<'a>,
    /// v3_core's counter.
    n: u32,
    /// v3_kernel's counter.
    k: u32,
    fresh: u32,
}

/// The generators of a comprehension, in order.
fn generator_count(qs: &[Qualifier]) -> usize {
    qs.iter().filter(|q| !matches!(q, Qualifier::Filter(_))).count()
}

impl Namer<'_> {
    fn is_guard(&self, e: &Expr) -> bool {
        super::analysis::is_guard_expr(e, self.m.is_local)
    }

    // ------------------------------------------------------------ v3_core order

    fn core_clause(&mut self, c: &mut Clause) {
        // Guards hold no funs nor comprehensions.
        for e in &mut c.body {
            self.core(e);
        }
    }

    fn core_all_rev(&mut self, es: &mut [Expr]) {
        for e in es.iter_mut().rev() {
            self.core(e);
        }
    }

    fn core(&mut self, e: &mut Expr) {
        use ExprKind::*;
        self.expand(e);
        if let Cons(..) = e.kind {
            // Tail first: the last element, ..., the first.
            let mut heads: Vec<&mut Expr> = Vec::new();
            let mut cur = e;
            while matches!(cur.kind, Cons(..)) {
                let Cons(h, t) = &mut cur.kind else { unreachable!() };
                heads.push(h);
                cur = t;
            }
            self.core(cur);
            for h in heads.into_iter().rev() {
                self.core(h);
            }
            return;
        }
        let bin = matches!(e.kind, BinComp(..));
        match &mut e.kind {
            Var(_) | Atom(_) | Int(_) | Float(_) | String(_) | Nil | RecordIndex(..) | FunRemote(..) => {}
            Cons(..) => unreachable!("lists are walked above"),
            Tuple(es) => self.core_all_rev(es),
            Binary(segs) => {
                for s in segs.iter_mut().rev() {
                    self.core(&mut s.value);
                    if let Some(z) = &mut s.size {
                        self.core(z);
                    }
                }
            }
            Map(fs) => {
                for f in fs {
                    self.core(&mut f.key);
                    self.core(&mut f.value);
                }
            }
            MapUpdate(m, fs) => {
                self.core(m);
                for f in fs {
                    self.core(&mut f.key);
                    self.core(&mut f.value);
                }
            }
            // Not expanded (an error the generator reports).
            Record(_, fs) => {
                for f in fs.iter_mut().rev() {
                    self.core(&mut f.value);
                }
            }
            // erl_expand_records binds the new values first, in order.
            RecordUpdate(r, _, fs) => {
                for f in fs.iter_mut() {
                    self.core(&mut f.value);
                }
                self.core(r);
            }
            RecordField(r, _, _) | UnOp(_, r) | Catch(r) | Match(_, r) => self.core(r),
            BinOp(Op::AndAlso | Op::OrElse, a, b) => {
                self.core(a);
                self.core(b);
            }
            BinOp(Op::Append, a, b) if matches!(a.kind, ListComp(..)) => {
                self.core(b);
                self.core(a);
            }
            BinOp(_, a, b) => {
                self.core(b);
                self.core(a);
            }
            LocalCall(_, args) => self.core_all_rev(args),
            RemoteCall(m, f, args) => {
                self.core_all_rev(args);
                self.core(f);
                self.core(m);
            }
            FunCall(f, args) => {
                self.core(f);
                self.core_all_rev(args);
            }
            Case(s, cs) => {
                self.core(s);
                cs.iter_mut().for_each(|c| self.core_clause(c));
            }
            If(cs) => cs.iter_mut().for_each(|c| self.core_clause(c)),
            Receive(cs, after) => {
                if let Some(a) = after {
                    self.core(&mut a.timeout);
                    a.body.iter_mut().for_each(|e| self.core(e));
                }
                cs.iter_mut().for_each(|c| self.core_clause(c));
            }
            Try(t) => {
                t.body.iter_mut().for_each(|e| self.core(e));
                t.of.iter_mut().for_each(|c| self.core_clause(c));
                for c in &mut t.catches {
                    c.body.iter_mut().for_each(|e| self.core(e));
                }
                t.after.iter_mut().for_each(|e| self.core(e));
            }
            Block(es) => es.iter_mut().for_each(|e| self.core(e)),
            Fun(_, cs, lifted) => {
                cs.iter_mut().for_each(|c| self.core_clause(c));
                *lifted = Some(LiftedNames { func: format!("{}fun-{}-", self.top, self.n), clause_fail: None });
                self.n += 1;
            }
            FunRef(_) => self.n += 1,
            ListComp(body, qs, names) | BinComp(body, qs, names) => {
                for q in qs.iter_mut() {
                    match q {
                        Qualifier::Generator(_, x) | Qualifier::BinGenerator(_, x) => self.core(x),
                        Qualifier::Filter(f) => {
                            if !self.is_guard(f) {
                                self.core(f)
                            }
                        }
                    }
                }
                names.clear();
                for _ in 0..generator_count(qs) {
                    // Completed with the kernel's number in `kern`.
                    let kind = if bin { "lbc" } else { "lc" };
                    let arity = if bin { 2 } else { 1 };
                    names.push(format!("{kind}$^{}/{arity}", self.n));
                    self.n += 1;
                }
                self.core(body);
            }
        }
    }

    /// Rewrite what OTP rewrites before v3_core: record constructions
    /// become tuples, `fun F/A` of a BIF a fun calling it.
    fn expand(&mut self, e: &mut Expr) {
        let span = e.span;
        match &e.kind {
            ExprKind::Record(name, fields) => {
                let Some(defs) = self.m.records.get(&name.name) else { return };
                if fields.iter().any(|f| f.name.name != "_" && !defs.iter().any(|(d, _)| *d == f.name.name)) {
                    return;
                }
                let other = fields.iter().find(|f| f.name.name == "_");
                let mut elems = vec![Expr { kind: ExprKind::Atom(name.name.clone()), span }];
                for (f, default) in defs {
                    let v = match fields.iter().find(|x| x.name.name == *f) {
                        Some(x) => x.value.clone(),
                        None => match (other, default) {
                            (Some(o), _) => o.value.clone(),
                            (None, Some(d)) => d.clone(),
                            (None, None) => Expr { kind: ExprKind::Atom("undefined".into()), span },
                        },
                    };
                    elems.push(v);
                }
                e.kind = ExprKind::Tuple(elems);
            }
            // `[E || Qs] ++ More`: OTP builds the comprehension onto More,
            // evaluated first.
            ExprKind::BinOp(Op::Append, a, b)
                if matches!(a.kind, ExprKind::ListComp(..))
                    && !matches!(b.kind, ExprKind::Var(_) | ExprKind::Nil | ExprKind::Atom(_) | ExprKind::Int(_)) =>
            {
                self.fresh += 1;
                let v = format!("-More{}", self.fresh);
                let var = || Expr { kind: ExprKind::Var(v.clone()), span };
                let ExprKind::BinOp(_, a, b) = &mut e.kind else { unreachable!() };
                let more = std::mem::replace(&mut **b, var());
                let lc = std::mem::replace(&mut **a, Expr { kind: ExprKind::Nil, span });
                let bind = ExprKind::Match(Box::new(Pat { kind: PatKind::Var(v.clone()), span }), Box::new(more));
                let append = ExprKind::BinOp(Op::Append, Box::new(lc), Box::new(var()));
                e.kind = ExprKind::Block(vec![Expr { kind: bind, span }, Expr { kind: append, span }]);
            }
            ExprKind::FunRef(f) if !(self.m.is_local)(&f.name, f.arity as usize) => {
                if !(self.m.is_bif_ref)(&f.name, f.arity as usize) {
                    return;
                }
                let vars: Vec<std::string::String> = (0..f.arity)
                    .map(|_| {
                        self.fresh += 1;
                        format!("-Bif{}", self.fresh)
                    })
                    .collect();
                let params = vars.iter().map(|v| Pat { kind: PatKind::Var(v.clone()), span }).collect();
                let args = vars.iter().map(|v| Expr { kind: ExprKind::Var(v.clone()), span }).collect();
                let call = Expr { kind: ExprKind::LocalCall(Name { name: f.name.clone(), span }, args), span };
                let clause = Clause { name: None, params, guard: vec![], body: vec![call], span };
                e.kind = ExprKind::Fun(None, vec![clause], None);
                // Named when `core` goes on with the new node.
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ v3_kernel order

    fn kern_clause(&mut self, c: &mut Clause) {
        for e in &mut c.body {
            self.kern(e);
        }
    }

    /// Clauses of a match, in the order v3_kernel translates them.
    fn kern_clauses(&mut self, cs: &mut [Clause]) {
        let order = match_order(cs.iter().map(|c| (c.params.iter().collect(), guard_is_true(&c.guard))).collect());
        for i in order {
            self.kern_clause(&mut cs[i]);
        }
    }

    fn kern(&mut self, e: &mut Expr) {
        use ExprKind::*;
        if let Cons(..) = e.kind {
            let mut cur = e;
            while matches!(cur.kind, Cons(..)) {
                let Cons(h, t) = &mut cur.kind else { unreachable!() };
                self.kern(h);
                cur = t;
            }
            self.kern(cur);
            return;
        }
        let bin = matches!(e.kind, BinComp(..));
        let span = e.span;
        match &mut e.kind {
            Var(_) | Atom(_) | Int(_) | Float(_) | String(_) | Nil | RecordIndex(..) | FunRemote(..) | FunRef(_) => {}
            Cons(..) => unreachable!("lists are walked above"),
            Tuple(es) | Block(es) => es.iter_mut().for_each(|e| self.kern(e)),
            Binary(segs) => {
                for s in segs.iter_mut() {
                    self.kern(&mut s.value);
                    if let Some(z) = &mut s.size {
                        self.kern(z);
                    }
                }
            }
            Map(fs) => {
                for f in fs {
                    self.kern(&mut f.key);
                    self.kern(&mut f.value);
                }
            }
            MapUpdate(m, fs) => {
                self.kern(m);
                for f in fs {
                    self.kern(&mut f.key);
                    self.kern(&mut f.value);
                }
            }
            Record(_, fs) => fs.iter_mut().for_each(|f| self.kern(&mut f.value)),
            RecordUpdate(r, _, fs) => {
                for f in fs.iter_mut() {
                    self.kern(&mut f.value);
                }
                self.kern(r);
            }
            RecordField(r, _, _) | UnOp(_, r) | Catch(r) | Match(_, r) => self.kern(r),
            BinOp(Op::Append, a, b) if matches!(a.kind, ListComp(..)) => {
                self.kern(b);
                self.kern(a);
            }
            BinOp(_, a, b) => {
                self.kern(a);
                self.kern(b);
            }
            LocalCall(_, args) => args.iter_mut().for_each(|e| self.kern(e)),
            RemoteCall(m, f, args) => {
                self.kern(m);
                self.kern(f);
                args.iter_mut().for_each(|e| self.kern(e));
            }
            FunCall(f, args) => {
                self.kern(f);
                args.iter_mut().for_each(|e| self.kern(e));
            }
            Case(s, cs) => {
                self.kern(s);
                self.kern_clauses(cs);
            }
            If(cs) => {
                for c in cs.iter_mut() {
                    self.kern_clause(c);
                    if guard_is_true(&c.guard) {
                        break;
                    }
                }
            }
            Receive(cs, after) => match after {
                // The lowered receive: `case PeekSucceeded of true -> clauses;
                // false -> timeout`, the values' clauses in term order
                // (`false` first) unless `after infinity` marks the second.
                Some(a) if !matches!(&a.timeout.kind, Atom(t) if t == "infinity") => {
                    self.kern(&mut a.timeout);
                    a.body.iter_mut().for_each(|e| self.kern(e));
                    self.kern_clauses(cs);
                }
                Some(a) => {
                    self.kern_clauses(cs);
                    a.body.iter_mut().for_each(|e| self.kern(e));
                }
                None => self.kern_clauses(cs),
            },
            Try(t) => {
                t.body.iter_mut().for_each(|e| self.kern(e));
                self.kern_clauses(&mut t.of);
                // The handler matches {Class, Reason, Stack}.
                let throw = Pat { kind: PatKind::Atom("throw".into()), span };
                let rows = t
                    .catches
                    .iter()
                    .map(|c| (vec![c.class.as_ref().unwrap_or(&throw), &c.reason], guard_is_true(&c.guard)))
                    .collect();
                for i in match_order(rows) {
                    t.catches[i].body.iter_mut().for_each(|e| self.kern(e));
                }
                if !t.after.is_empty() {
                    // A small `after` body is copied into the normal exit
                    // and into the exception handler: the kernel numbers
                    // both copies.
                    let mut copy = t.after.clone();
                    t.after.iter_mut().for_each(|e| self.kern(e));
                    copy.iter_mut().for_each(|e| self.kern(e));
                    t.after_handler = copy;
                }
            }
            Fun(name, cs, lifted) => {
                if let Some(n) = name {
                    if refers_to(cs, &n.name) {
                        let arity = cs.first().map_or(0, |c| c.params.len());
                        if let Some(l) = lifted {
                            l.func = format!("{}{}/{}-{}-", self.top, n.name, arity, self.k);
                        }
                        self.k += 1;
                    }
                }
                let mut rows: Vec<(Vec<&Pat>, bool)> =
                    cs.iter().map(|c| (c.params.iter().collect(), guard_is_true(&c.guard))).collect();
                let can_fail = !cs.iter().any(|c| guard_is_true(&c.guard) && c.params.iter().all(is_var_pat));
                let fail_clause = cs.len();
                let wild = Pat { kind: PatKind::Wildcard, span };
                let arity = cs.first().map_or(0, |c| c.params.len());
                if can_fail {
                    rows.push((vec![&wild; arity], true));
                }
                let order = match_order(rows);
                for i in order {
                    if i == fail_clause {
                        // The `function_clause` raise: `-f/1-inlined-K-`.
                        if let Some(l) = lifted.as_mut() {
                            l.clause_fail = Some(format!("{}inlined-{}-", self.top, self.k));
                        }
                        self.k += 1;
                    } else {
                        self.kern_clause(&mut cs[i]);
                    }
                }
            }
            ListComp(body, qs, names) | BinComp(body, qs, names) => {
                let mut qs: Vec<&mut Qualifier> = qs.iter_mut().collect();
                if bin {
                    // The first generator's expression is evaluated before
                    // the binary comprehension's letrec.
                    if let Some(Qualifier::Generator(_, x) | Qualifier::BinGenerator(_, x)) =
                        qs.iter_mut().find(|q| !matches!(q, Qualifier::Filter(_))).map(|q| &mut **q)
                    {
                        self.kern(x);
                    }
                }
                let mut gi = 0;
                self.kern_quals(&mut qs, body, names, &mut gi, bin, true);
            }
        }
    }

    /// Qualifiers: each generator's letrec takes a number, then its
    /// function (the qualifiers after it and the body), then its list
    /// expression.
    fn kern_quals(
        &mut self,
        qs: &mut [&mut Qualifier],
        body: &mut Expr,
        names: &mut [std::string::String],
        gi: &mut usize,
        bin: bool,
        first: bool,
    ) {
        let Some((q, rest)) = qs.split_first_mut() else {
            self.kern(body);
            return;
        };
        match &mut **q {
            Qualifier::Filter(f) => {
                if !self.is_guard(f) {
                    self.kern(f);
                }
                self.kern_quals(rest, body, names, gi, bin, first);
            }
            Qualifier::Generator(_, x) | Qualifier::BinGenerator(_, x) => {
                if let Some(n) = names.get_mut(*gi) {
                    *n = format!("{}{}-{}-", self.top, n, self.k);
                }
                *gi += 1;
                self.k += 1;
                self.kern_quals(rest, body, names, gi, bin, false);
                if !(bin && first) {
                    self.kern(x);
                }
            }
        }
    }
}

/// Does a named fun's body use its name?
fn refers_to(cs: &[Clause], name: &str) -> bool {
    let mut found = false;
    for c in cs {
        super::analysis::walk_clause(c, &mut |v, occ| {
            if occ == super::analysis::Occ::Expr && v == name {
                found = true;
            }
        });
    }
    found
}

/// A guard that always succeeds (none, or `true`).
fn guard_is_true(g: &Guard) -> bool {
    g.is_empty() || (g.len() == 1 && g[0].len() == 1 && matches!(&g[0][0].kind, ExprKind::Atom(a) if a == "true"))
}

/// A pattern matching anything (and binding at most variables).
fn is_var_pat(p: &Pat) -> bool {
    match &p.kind {
        PatKind::Var(_) | PatKind::Wildcard => true,
        PatKind::Match(a, b) => is_var_pat(a) && is_var_pat(b),
        _ => false,
    }
}

/// The constructor of a pattern for v3_kernel's grouping, with its
/// sub-patterns (the new columns).
#[derive(Clone, PartialEq, PartialOrd)]
enum Con {
    Binary,
    Cons,
    Tuple(usize),
    Map(Vec<std::string::String>),
    Atom(std::string::String),
    Float(f64),
    Int(num_bigint::BigInt),
    Nil,
}

impl Con {
    fn type_rank(&self) -> u8 {
        match self {
            Con::Binary => 0,
            Con::Cons => 1,
            Con::Tuple(_) => 2,
            Con::Map(_) => 3,
            Con::Atom(_) => 4,
            Con::Float(_) => 5,
            Con::Int(_) => 6,
            Con::Nil => 7,
        }
    }
}

/// A column entry: a pattern, or the tail/elements of a string pattern.
#[derive(Clone)]
enum Col<'p> {
    Pat(&'p Pat),
    /// The rest of a string pattern (code points).
    Str(&'p [u32]),
    /// Anything (a sub-pattern with no structure kept).
    Any,
}

fn unalias(p: &Pat) -> &Pat {
    match &p.kind {
        PatKind::Match(a, b) => {
            if is_var_pat(a) {
                unalias(b)
            } else {
                unalias(a)
            }
        }
        _ => p,
    }
}

/// `None` for a variable; else the constructor and its sub-columns.
fn con_of<'p>(c: &Col<'p>) -> Option<(Con, Vec<Col<'p>>)> {
    match c {
        Col::Any => None,
        Col::Str([]) => Some((Con::Nil, vec![])),
        Col::Str(s) => Some((Con::Cons, vec![Col::Any, Col::Str(&s[1..])])),
        Col::Pat(p) => {
            let p = unalias(p);
            match &p.kind {
                PatKind::Var(_) | PatKind::Wildcard | PatKind::Match(..) => None,
                PatKind::Atom(a) => Some((Con::Atom(a.clone()), vec![])),
                PatKind::Int(i) => Some((Con::Int(i.clone()), vec![])),
                PatKind::Float(f) => Some((Con::Float(*f), vec![])),
                PatKind::String(s) => con_of(&Col::Str(s)),
                PatKind::Nil => Some((Con::Nil, vec![])),
                PatKind::Tuple(es) => Some((Con::Tuple(es.len()), es.iter().map(Col::Pat).collect())),
                PatKind::Cons(h, t) => Some((Con::Cons, vec![Col::Pat(h), Col::Pat(t)])),
                PatKind::Binary(_) => Some((Con::Binary, vec![])),
                PatKind::Map(fs) => {
                    let keys = fs.iter().map(|(k, _)| format!("{:?}", k.kind)).collect();
                    Some((Con::Map(keys), fs.iter().map(|(_, v)| Col::Pat(v)).collect()))
                }
                PatKind::Record(_, fs) => {
                    // A tuple; the fields' positions are not needed here.
                    Some((Con::Tuple(usize::MAX - fs.len()), vec![]))
                }
                PatKind::RecordIndex(..) => Some((Con::Int(0.into()), vec![])),
            }
        }
    }
}

/// The order in which v3_kernel's match compilation translates the bodies
/// of `rows` (patterns, guard always true); rows after one that always
/// matches are never translated.
fn match_order(rows: Vec<(Vec<&Pat>, bool)>) -> Vec<usize> {
    let rows: Vec<(Vec<Col>, bool, usize)> =
        rows.into_iter().enumerate().map(|(i, (ps, g))| (ps.into_iter().map(Col::Pat).collect(), g, i)).collect();
    let mut out = Vec::new();
    order_rows(rows, &mut out);
    out
}

type Row<'p> = (Vec<Col<'p>>, bool, usize);

fn order_rows(rows: Vec<Row>, out: &mut Vec<usize>) {
    if rows.is_empty() {
        return;
    }
    if rows[0].0.is_empty() {
        for (_, g, i) in rows {
            out.push(i);
            if g {
                break;
            }
        }
        return;
    }
    // Partitions by variable / constructor first column, the last first.
    let mut parts: Vec<Vec<Row>> = Vec::new();
    let mut last_var = None;
    for r in rows {
        let v = r.0.first().and_then(con_of).is_none();
        if last_var != Some(v) {
            parts.push(Vec::new());
            last_var = Some(v);
        }
        parts.last_mut().expect("pushed").push(r);
    }
    for part in parts.into_iter().rev() {
        if part[0].0.first().and_then(con_of).is_none() {
            let rest =
                part.into_iter().map(|(cols, g, i)| (cols.get(1..).unwrap_or_default().to_vec(), g, i)).collect();
            order_rows(rest, out);
            continue;
        }
        // Group by type, then by value (in order of first appearance).
        let mut groups: Vec<(Con, Vec<Row>)> = Vec::new();
        for (cols, g, i) in part {
            // Every row of this group has a constructor first.
            let Some((con, sub)) = cols.first().and_then(con_of) else { continue };
            let mut new_cols = sub;
            new_cols.extend(cols.get(1..).unwrap_or_default().iter().cloned());
            let same = |c: &Con| match (c, &con) {
                (Con::Binary, Con::Binary) | (Con::Cons, Con::Cons) | (Con::Nil, Con::Nil) => true,
                _ => *c == con,
            };
            match groups.iter_mut().find(|(c, _)| same(c)) {
                Some((_, rs)) => rs.push((new_cols, g, i)),
                None => groups.push((con, vec![(new_cols, g, i)])),
            }
        }
        groups.sort_by_key(|(c, _)| c.type_rank());
        for (_, rs) in groups {
            order_rows(rs, out);
        }
    }
}
