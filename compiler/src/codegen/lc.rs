//! Lifting: fun bodies and list comprehensions become functions of their
//! own, generated after the function that contains them.

use super::analysis::{self, Callee, Occ};
use super::expr::mk;
use super::{FunLabels, Gen, LambdaEntry, Loc, Pending, SelfFun};
use crate::ast::{BinElem, BinType, Clause, Expr, ExprKind, FunName, LiftedNames, Name, Pat, PatKind, Qualifier, Span};
use minierl_bytecode::{Dst, Instr, LambdaIdx, Literal, Src};
use std::collections::HashSet;

fn pat(kind: PatKind, span: Span) -> Pat {
    Pat { kind, span }
}

fn clause(params: Vec<Pat>, guard: Vec<Vec<Expr>>, body: Vec<Expr>, span: Span) -> Clause {
    Clause { name: None, params, guard, body, span }
}

/// The most arguments a function may take (as in BEAM).
const MAX_ARITY: usize = 255;

fn var(v: &str, span: Span) -> Expr {
    mk(ExprKind::Var(v.to_string()), span)
}

fn atom(a: &str, span: Span) -> Expr {
    mk(ExprKind::Atom(a.to_string()), span)
}

/// `erlang:error({Tag, V})`.
fn error_call(tag: &str, v: &str, span: Span) -> Expr {
    mk(
        ExprKind::RemoteCall(
            Box::new(atom("erlang", span)),
            Box::new(atom("error", span)),
            vec![mk(ExprKind::Tuple(vec![atom(tag, span), var(v, span)]), span)],
        ),
        span,
    )
}

impl Gen<'_> {
    fn register_local(&mut self, name: &str, arity: u8) {
        let l = FunLabels { info: self.new_label(), entry: self.new_label() };
        self.local_funs.insert((name.to_string(), arity), l);
    }

    /// A fun or comprehension reads more outer variables than the function
    /// it is lifted to may take as arguments. (OTP 25 compiles such a fun
    /// but its module then fails to load.)
    fn too_many_captured(&mut self, span: Span, n: usize) {
        self.error(
            span,
            format!(
                "too many variables bound outside this fun or comprehension are used in it ({n}): \
                 the function it becomes may take at most {MAX_ARITY} arguments"
            ),
        );
    }

    fn bound_names(&self) -> HashSet<String> {
        self.f.env.keys().cloned().collect()
    }

    /// `fun (...) -> ... end` (named or not): lift and build the closure.
    pub(crate) fn fun_expr(
        &mut self,
        name: Option<&Name>,
        clauses: &[Clause],
        lifted: Option<&LiftedNames>,
        span: Span,
    ) -> Src {
        let arity = clauses.first().map_or(0, |c| c.params.len());
        let mentioned = analysis::clause_vars(clauses);
        let mut free: Vec<String> =
            mentioned.into_iter().filter(|v| self.is_bound(v) && name.is_none_or(|n| n.name != *v)).collect();
        free.sort();
        let top = self.f.top.clone();
        let lname = match lifted {
            Some(n) => n.func.clone(),
            None => {
                // Not named by the naming pass (code the shell compiles).
                let c = self.lift_counters.entry(top.clone()).or_default();
                c.0 += 1;
                format!("-{}/{}-fun-{}-", top.0, top.1, c.0 - 1)
            }
        };
        if arity + free.len() > MAX_ARITY {
            self.too_many_captured(span, free.len());
            return Src::Nil;
        }
        let total = (arity + free.len()) as u8;
        let lambda = LambdaIdx(self.lambdas.len() as u32);
        self.lambdas.push(LambdaEntry {
            func: (lname.clone(), total),
            arity: arity as u8,
            num_free: free.len() as u16,
        });
        // The same fun compiled twice (an `after` body is) is lifted once.
        let first = !self.local_funs.contains_key(&(lname.clone(), total));
        if first {
            self.register_local(&lname, total);
        }
        let fail_stub = match lifted.and_then(|l| l.clause_fail.as_ref()) {
            Some(stub) if !free.is_empty() => {
                if first {
                    self.register_local(stub, arity as u8);
                    self.pending.push_back(Pending {
                        name: stub.clone(),
                        arity: arity as u8,
                        clauses: vec![],
                        span,
                        self_fun: None,
                        top: top.clone(),
                        fail_stub: None,
                    });
                }
                Some((stub.clone(), arity as u8))
            }
            _ => None,
        };
        let lifted: Vec<Clause> = clauses
            .iter()
            .map(|c| {
                let mut pv = HashSet::new();
                for p in &c.params {
                    pv.extend(analysis::pat_vars(p));
                }
                let mut c = c.clone();
                for v in &free {
                    let k = if pv.contains(v) { PatKind::Wildcard } else { PatKind::Var(v.clone()) };
                    c.params.push(pat(k, span));
                }
                c
            })
            .collect();
        let self_fun =
            name.map(|n| SelfFun { name: n.name.clone(), lambda, free: free.clone(), func: (lname.clone(), total) });
        if first {
            self.pending.push_back(Pending {
                name: lname,
                arity: total,
                clauses: lifted,
                span,
                self_fun,
                top,
                fail_stub,
            });
        }
        let m = self.f.depth;
        let srcs: Vec<Src> = free.iter().map(|v| self.lookup_var(v, span)).collect();
        let live = self.f.depth;
        self.emit(Instr::MakeFun { lambda, free: srcs, dst: Dst::X(m), live });
        self.f.depth = m + 1;
        Src::X(m)
    }

    /// `fun f/1`: a lambda entry over the local function itself.
    pub(crate) fn fun_ref(&mut self, f: &FunName) -> Src {
        let key = (f.name.clone(), f.arity);
        if !self.local_funs.contains_key(&key) {
            // `fun length/1` names the BIF, `fun f/1` an imported function:
            // both are external funs.
            let module = match self.classify_local(&f.name, f.arity as usize) {
                Callee::Ext(m) => m,
                Callee::Bif | Callee::IsRecord => "erlang".to_string(),
                _ => {
                    self.error(f.span, format!("function {}/{} undefined", f.name, f.arity));
                    return Src::Nil;
                }
            };
            let l = Literal::ExportFun { module: self.atom(&module), function: self.atom(&f.name), arity: f.arity };
            return self.literal(l);
        }
        let lambda = match self.local_lambdas.get(&key) {
            Some(&l) => l,
            None => {
                let l = LambdaIdx(self.lambdas.len() as u32);
                self.lambdas.push(LambdaEntry { func: key.clone(), arity: f.arity, num_free: 0 });
                self.local_lambdas.insert(key, l);
                l
            }
        };
        let m = self.f.depth;
        let live = self.f.depth;
        self.emit(Instr::MakeFun { lambda, free: vec![], dst: Dst::X(m), live });
        self.f.depth = m + 1;
        Src::X(m)
    }

    fn is_guard(&self, e: &Expr) -> bool {
        analysis::is_guard_expr(e, &|n, a| self.local_funs.contains_key(&(n.to_string(), a as u8)))
    }

    /// `[E || Quals]` (or, `bin`, `<<E || Quals>>`) as a call of lifted
    /// recursive functions.
    pub(crate) fn lower_lc(&mut self, e: &Expr, quals: &[Qualifier], names: &[String], bin: bool, span: Span) -> Expr {
        let bound = self.bound_names();
        let mut names = names.iter();
        let start = if bin { Acc::Bin(mk(ExprKind::Binary(vec![]), span)) } else { Acc::List(mk(ExprKind::Nil, span)) };
        if matches!(quals.first(), Some(Qualifier::Filter(_))) {
            // Filters before any generator would become an inline `case`
            // after this function's liveness was computed (a variable read
            // after the filter's call would not be saved across it): lift
            // the whole comprehension into a function of its free variables,
            // as generators are.
            return self.lift_filters_first(e, quals, start, &bound, &mut names, span);
        }
        self.lc_quals(e, quals, start, &bound, &mut names, span)
    }

    /// The name of the function lifted for a generator: the naming pass's
    /// (OTP's), else one of our own.
    fn lifted_name(&mut self, given: Option<&String>) -> (String, (String, u8)) {
        let top = self.f.top.clone();
        if let Some(n) = given {
            return (n.clone(), top);
        }
        let c = self.lift_counters.entry(top.clone()).or_default();
        c.1 += 1;
        let fname = format!("-{}/{}-lc${}/1-", top.0, top.1, c.1 - 1);
        (fname, top)
    }

    /// A comprehension whose first qualifier is a filter, as a call of a
    /// lifted function taking the outer variables it reads.
    fn lift_filters_first(
        &mut self,
        e: &Expr,
        quals: &[Qualifier],
        start: Acc,
        bound: &HashSet<String>,
        names: &mut std::slice::Iter<String>,
        span: Span,
    ) -> Expr {
        // OTP has no function here (the filters are a `case` in the
        // enclosing function): a name of our own, outside OTP's.
        let top = self.f.top.clone();
        let c = self.lift_counters.entry(top.clone()).or_default();
        c.1 += 1;
        let fname = format!("-{}/{}-lcf${}/0-", top.0, top.1, c.1 - 1);
        let mut mentioned = HashSet::new();
        analysis::expr_vars(e, &mut mentioned);
        quals_vars(quals, &mut mentioned);
        let mut fvs: Vec<String> = mentioned.into_iter().filter(|v| bound.contains(v)).collect();
        fvs.sort();
        if fvs.len() > MAX_ARITY {
            self.too_many_captured(span, fvs.len());
            return atom("[]", span);
        }
        self.register_local(&fname, fvs.len() as u8);
        let inner_bound: HashSet<String> = fvs.iter().cloned().collect();
        let body = self.lc_quals(e, quals, start, &inner_bound, names, span);
        let params = fvs.iter().map(|v| pat(PatKind::Var(v.clone()), span)).collect();
        self.pending.push_back(Pending {
            name: fname.clone(),
            arity: fvs.len() as u8,
            clauses: vec![clause(params, vec![], vec![body], span)],
            span,
            self_fun: None,
            top,
            fail_stub: None,
        });
        let args = fvs.iter().map(|v| var(v, span)).collect();
        mk(ExprKind::LocalCall(Name { name: fname, span }, args), span)
    }

    /// The qualifiers `quals` then the element `e`, given what the
    /// comprehension has built so far (`acc`): for a list, the code of the
    /// rest of the list; for a binary, the binary (the lifted functions
    /// take it as their second argument, as OTP's do).
    fn lc_quals(
        &mut self,
        e: &Expr,
        quals: &[Qualifier],
        acc: Acc,
        bound: &HashSet<String>,
        names: &mut std::slice::Iter<String>,
        span: Span,
    ) -> Expr {
        let Some((q, rest)) = quals.split_first() else {
            return match acc {
                Acc::List(tail) => mk(ExprKind::Cons(Box::new(e.clone()), Box::new(tail)), span),
                Acc::Bin(so_far) => {
                    // `<<SoFar/bitstring, Segments...>>`, the element's own
                    // segments when it is written as a binary.
                    let seg = |value: Expr| BinElem { value, size: None, types: vec![BinType::Bitstring], span };
                    let mut segs = vec![seg(so_far)];
                    match &e.kind {
                        ExprKind::Binary(es) => segs.extend(es.iter().cloned()),
                        _ => segs.push(seg(e.clone())),
                    }
                    mk(ExprKind::Binary(segs), span)
                }
            };
        };
        let done = acc.expr().clone();
        match q {
            Qualifier::Filter(f) => {
                let inner = self.lc_quals(e, rest, acc, bound, names, span);
                let clauses = if self.is_guard(f) {
                    vec![
                        clause(vec![pat(PatKind::Wildcard, span)], vec![vec![f.clone()]], vec![inner], span),
                        clause(vec![pat(PatKind::Wildcard, span)], vec![], vec![done], span),
                    ]
                } else {
                    let v = self.fresh_var("V");
                    vec![
                        clause(vec![pat(PatKind::Atom("true".into()), span)], vec![], vec![inner], span),
                        clause(vec![pat(PatKind::Atom("false".into()), span)], vec![], vec![done], span),
                        clause(
                            vec![pat(PatKind::Var(v.clone()), span)],
                            vec![],
                            vec![error_call("bad_filter", &v, span)],
                            span,
                        ),
                    ]
                };
                let subject = if self.is_guard(f) { atom("true", span) } else { f.clone() };
                mk(ExprKind::Case(Box::new(subject), clauses), span)
            }
            Qualifier::Generator(p, l) | Qualifier::BinGenerator(p, l) => {
                let is_bin = matches!(q, Qualifier::BinGenerator(..));
                let bin_comp = matches!(acc, Acc::Bin(_));
                // Guard filters right after the generator join its clause.
                let mut rest = rest;
                let mut guards = Vec::new();
                while let Some((Qualifier::Filter(f), r)) = rest.split_first() {
                    if !self.is_guard(f) {
                        break;
                    }
                    guards.push(f.clone());
                    rest = r;
                }
                let (fname, top) = self.lifted_name(names.next());
                let lv = self.fresh_var("L");
                let tv = self.fresh_var("T");
                // A binary comprehension's function takes the binary so far.
                let accv = if bin_comp { Some(self.fresh_var("Acc")) } else { None };
                let pvars = analysis::pat_vars(p);
                let mut mentioned = HashSet::new();
                analysis::expr_vars(e, &mut mentioned);
                for g in &guards {
                    analysis::expr_vars(g, &mut mentioned);
                }
                if !bin_comp {
                    analysis::expr_vars(&done, &mut mentioned);
                }
                quals_vars(rest, &mut mentioned);
                // Sizes in the generator's own binary pattern read outer variables.
                analysis::walk_pat(p, &mut |v, occ| {
                    if occ == Occ::Expr {
                        mentioned.insert(v.to_string());
                    }
                });
                let mut fvs: Vec<String> =
                    mentioned.into_iter().filter(|v| bound.contains(v) && !pvars.contains(v)).collect();
                fvs.sort();
                if 1 + accv.is_some() as usize + fvs.len() > MAX_ARITY {
                    self.too_many_captured(span, fvs.len());
                    return atom("[]", span);
                }
                let total = (1 + accv.is_some() as usize + fvs.len()) as u8;
                // The same comprehension lowered twice (an `after` body is)
                // is lifted once.
                let first = !self.local_funs.contains_key(&(fname.clone(), total));
                if first {
                    self.register_local(&fname, total);
                }
                let fv_exprs: Vec<Expr> = fvs.iter().map(|v| var(v, span)).collect();
                let call = |list: Expr, so_far: Option<Expr>| {
                    let mut args = vec![list];
                    args.extend(so_far);
                    args.extend(fv_exprs.iter().cloned());
                    mk(ExprKind::LocalCall(Name { name: fname.clone(), span }, args), span)
                };
                let mut inner_bound = bound.clone();
                inner_bound.extend(pvars.iter().cloned());
                inner_bound.insert(tv.clone());
                // What the clauses return: on an element, after one that is
                // skipped, at the end.
                let (on_elem, skip, end) = match &accv {
                    None => {
                        let recurse = call(var(&tv, span), None);
                        let inner = self.lc_quals(e, rest, Acc::List(recurse.clone()), &inner_bound, names, span);
                        (vec![inner], recurse, done.clone())
                    }
                    Some(a) => {
                        inner_bound.insert(a.clone());
                        let inner = self.lc_quals(e, rest, Acc::Bin(var(a, span)), &inner_bound, names, span);
                        let next = self.fresh_var("Acc");
                        let bind =
                            mk(ExprKind::Match(Box::new(pat(PatKind::Var(next.clone()), span)), Box::new(inner)), span);
                        let recurse = call(var(&tv, span), Some(var(&next, span)));
                        (vec![bind, recurse], call(var(&tv, span), Some(var(a, span))), var(a, span))
                    }
                };
                let guard = if guards.is_empty() { vec![] } else { vec![guards] };
                let v = self.fresh_var("V");
                let bad = clause(
                    vec![pat(PatKind::Var(v.clone()), span)],
                    vec![],
                    vec![error_call("bad_generator", &v, span)],
                    span,
                );
                let clauses = if !is_bin {
                    vec![
                        clause(
                            vec![pat(
                                PatKind::Cons(Box::new(p.clone()), Box::new(pat(PatKind::Var(tv.clone()), span))),
                                span,
                            )],
                            guard,
                            on_elem,
                            span,
                        ),
                        clause(
                            vec![pat(
                                PatKind::Cons(
                                    Box::new(pat(PatKind::Wildcard, span)),
                                    Box::new(pat(PatKind::Var(tv.clone()), span)),
                                ),
                                span,
                            )],
                            vec![],
                            vec![skip],
                            span,
                        ),
                        clause(vec![pat(PatKind::Nil, span)], vec![], vec![end], span),
                        bad,
                    ]
                } else {
                    let segs: Vec<BinElem<Pat>> = match &p.kind {
                        PatKind::Binary(segs) => segs.clone(),
                        _ => {
                            self.error(p.span, "a binary generator needs a binary pattern");
                            vec![]
                        }
                    };
                    let rest_seg = BinElem {
                        value: pat(PatKind::Var(tv.clone()), span),
                        size: None,
                        types: vec![BinType::Bitstring],
                        span,
                    };
                    let mut full = segs.clone();
                    full.push(rest_seg.clone());
                    let mut skip_segs: Vec<BinElem<Pat>> = segs
                        .into_iter()
                        .map(|mut s| {
                            if !matches!(s.value.kind, PatKind::Var(_)) {
                                s.value = pat(PatKind::Wildcard, span);
                            }
                            s
                        })
                        .collect();
                    skip_segs.push(rest_seg);
                    let any_bits = BinElem {
                        value: pat(PatKind::Wildcard, span),
                        size: None,
                        types: vec![BinType::Bitstring],
                        span,
                    };
                    vec![
                        clause(vec![pat(PatKind::Binary(full), span)], guard, on_elem, span),
                        clause(vec![pat(PatKind::Binary(skip_segs), span)], vec![], vec![skip], span),
                        clause(vec![pat(PatKind::Binary(vec![any_bits]), span)], vec![], vec![end], span),
                        bad,
                    ]
                };
                let body = mk(ExprKind::Case(Box::new(var(&lv, span)), clauses), span);
                let mut params = vec![pat(PatKind::Var(lv.clone()), span)];
                params.extend(accv.iter().map(|a| pat(PatKind::Var(a.clone()), span)));
                params.extend(fvs.iter().map(|v| pat(PatKind::Var(v.clone()), span)));
                let fclause = clause(params, vec![], vec![body], span);
                if first {
                    self.pending.push_back(Pending {
                        name: fname.clone(),
                        arity: total,
                        clauses: vec![fclause],
                        span,
                        self_fun: None,
                        top,
                        fail_stub: None,
                    });
                }
                call(l.clone(), accv.map(|_| done))
            }
        }
    }

    /// Put the named fun's own name in scope (at the start of its function).
    pub(crate) fn bind_self_fun(&mut self) {
        if let Some(sf) = &self.f.self_fun {
            self.f.env.insert(sf.name.clone(), Loc::SelfFun);
        }
    }
}

/// What a comprehension has built so far (see `Gen::lc_quals`).
pub(crate) enum Acc {
    /// A list comprehension: the code of the rest of the list.
    List(Expr),
    /// A binary comprehension: the binary built so far.
    Bin(Expr),
}

impl Acc {
    fn expr(&self) -> &Expr {
        match self {
            Acc::List(e) | Acc::Bin(e) => e,
        }
    }
}

/// The variables qualifiers mention: their expressions' and their patterns'.
fn quals_vars(quals: &[Qualifier], mentioned: &mut HashSet<String>) {
    for q in quals {
        match q {
            Qualifier::Generator(p, x) | Qualifier::BinGenerator(p, x) => {
                analysis::walk_pat(p, &mut |v, _| {
                    mentioned.insert(v.to_string());
                });
                analysis::expr_vars(x, mentioned);
            }
            Qualifier::Filter(x) => analysis::expr_vars(x, mentioned),
        }
    }
}
