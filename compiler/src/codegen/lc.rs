//! Lifting: fun bodies and list comprehensions become functions of their
//! own, generated after the function that contains them.

use super::analysis::{self, Callee, Occ};
use super::expr::mk;
use super::{FunLabels, Gen, LambdaEntry, Loc, Pending, SelfFun};
use crate::ast::{BinElem, BinType, Clause, Expr, ExprKind, FunName, Name, Pat, PatKind, Qualifier, Span};
use minierl_bytecode::{Dst, Instr, LambdaIdx, Literal, Src};
use std::collections::HashSet;

fn pat(kind: PatKind, span: Span) -> Pat {
    Pat { kind, span }
}

fn clause(params: Vec<Pat>, guard: Vec<Vec<Expr>>, body: Vec<Expr>, span: Span) -> Clause {
    Clause { name: None, params, guard, body, span }
}

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

    fn bound_names(&self) -> HashSet<String> {
        self.f.env.keys().cloned().collect()
    }

    /// `fun (...) -> ... end` (named or not): lift and build the closure.
    pub(crate) fn fun_expr(&mut self, name: Option<&Name>, clauses: &[Clause], span: Span) -> Src {
        let arity = clauses.first().map_or(0, |c| c.params.len());
        let mentioned = analysis::clause_vars(clauses);
        let mut free: Vec<String> =
            mentioned.into_iter().filter(|v| self.is_bound(v) && name.is_none_or(|n| n.name != *v)).collect();
        free.sort();
        let top = self.f.top.clone();
        let c = self.lift_counters.entry(top.clone()).or_default();
        let lname = format!("-{}/{}-fun-{}-", top.0, top.1, c.0);
        c.0 += 1;
        let total = (arity + free.len()) as u8;
        let lambda = LambdaIdx(self.lambdas.len() as u32);
        self.lambdas.push(LambdaEntry {
            func: (lname.clone(), total),
            arity: arity as u8,
            num_free: free.len() as u16,
        });
        self.register_local(&lname, total);
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
        self.pending.push_back(Pending { name: lname, arity: total, clauses: lifted, span, self_fun, top });
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

    /// `[E || Quals]` as a call of lifted recursive functions.
    pub(crate) fn lower_lc(&mut self, e: &Expr, quals: &[Qualifier], span: Span) -> Expr {
        let bound = self.bound_names();
        if matches!(quals.first(), Some(Qualifier::Filter(_))) {
            // Filters before any generator would become an inline `case`
            // after this function's liveness was computed (a variable read
            // after the filter's call would not be saved across it): lift
            // the whole comprehension into a function of its free variables,
            // as generators are.
            return self.lift_filters_first(e, quals, &bound, span);
        }
        self.lc_quals(e, quals, mk(ExprKind::Nil, span), &bound, span)
    }

    /// The name of the next function lifted out of the current one.
    fn lifted_name(&mut self, arity: usize) -> (String, (String, u8)) {
        let top = self.f.top.clone();
        let c = self.lift_counters.entry(top.clone()).or_default();
        let fname = format!("-{}/{}-lc$^{}/{arity}-{}-", top.0, top.1, c.1, c.0);
        c.0 += 1;
        c.1 += 1;
        (fname, top)
    }

    /// `[E || Quals]` whose first qualifier is a filter, as a call of a
    /// lifted function taking the outer variables it reads.
    fn lift_filters_first(&mut self, e: &Expr, quals: &[Qualifier], bound: &HashSet<String>, span: Span) -> Expr {
        let (fname, top) = self.lifted_name(0);
        let mut mentioned = HashSet::new();
        analysis::expr_vars(e, &mut mentioned);
        quals_vars(quals, &mut mentioned);
        let mut fvs: Vec<String> = mentioned.into_iter().filter(|v| bound.contains(v)).collect();
        fvs.sort();
        self.register_local(&fname, fvs.len() as u8);
        let inner_bound: HashSet<String> = fvs.iter().cloned().collect();
        let body = self.lc_quals(e, quals, mk(ExprKind::Nil, span), &inner_bound, span);
        let params = fvs.iter().map(|v| pat(PatKind::Var(v.clone()), span)).collect();
        self.pending.push_back(Pending {
            name: fname.clone(),
            arity: fvs.len() as u8,
            clauses: vec![clause(params, vec![], vec![body], span)],
            span,
            self_fun: None,
            top,
        });
        let args = fvs.iter().map(|v| var(v, span)).collect();
        mk(ExprKind::LocalCall(Name { name: fname, span }, args), span)
    }

    fn lc_quals(&mut self, e: &Expr, quals: &[Qualifier], tail: Expr, bound: &HashSet<String>, span: Span) -> Expr {
        let Some((q, rest)) = quals.split_first() else {
            return mk(ExprKind::Cons(Box::new(e.clone()), Box::new(tail)), span);
        };
        match q {
            Qualifier::Filter(f) => {
                let inner = self.lc_quals(e, rest, tail.clone(), bound, span);
                let clauses = if self.is_guard(f) {
                    vec![
                        clause(vec![pat(PatKind::Wildcard, span)], vec![vec![f.clone()]], vec![inner], span),
                        clause(vec![pat(PatKind::Wildcard, span)], vec![], vec![tail], span),
                    ]
                } else {
                    let v = self.fresh_var("V");
                    vec![
                        clause(vec![pat(PatKind::Atom("true".into()), span)], vec![], vec![inner], span),
                        clause(vec![pat(PatKind::Atom("false".into()), span)], vec![], vec![tail], span),
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
                let (fname, top) = self.lifted_name(1);
                let lv = self.fresh_var("L");
                let tv = self.fresh_var("T");
                let pvars = analysis::pat_vars(p);
                let mut mentioned = HashSet::new();
                analysis::expr_vars(e, &mut mentioned);
                for g in &guards {
                    analysis::expr_vars(g, &mut mentioned);
                }
                analysis::expr_vars(&tail, &mut mentioned);
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
                let total = (1 + fvs.len()) as u8;
                self.register_local(&fname, total);
                let fv_exprs: Vec<Expr> = fvs.iter().map(|v| var(v, span)).collect();
                let self_call = |arg: Expr| {
                    let mut args = vec![arg];
                    args.extend(fv_exprs.iter().cloned());
                    mk(ExprKind::LocalCall(Name { name: fname.clone(), span }, args), span)
                };
                let mut inner_bound = bound.clone();
                inner_bound.extend(pvars.iter().cloned());
                inner_bound.insert(tv.clone());
                let recurse = self_call(var(&tv, span));
                let inner = self.lc_quals(e, rest, recurse.clone(), &inner_bound, span);
                let guard = if guards.is_empty() { vec![] } else { vec![guards] };
                let clauses = if !is_bin {
                    let v = self.fresh_var("V");
                    vec![
                        clause(
                            vec![pat(
                                PatKind::Cons(Box::new(p.clone()), Box::new(pat(PatKind::Var(tv.clone()), span))),
                                span,
                            )],
                            guard,
                            vec![inner],
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
                            vec![recurse.clone()],
                            span,
                        ),
                        clause(vec![pat(PatKind::Nil, span)], vec![], vec![tail], span),
                        clause(
                            vec![pat(PatKind::Var(v.clone()), span)],
                            vec![],
                            vec![error_call("bad_generator", &v, span)],
                            span,
                        ),
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
                    let mut skip: Vec<BinElem<Pat>> = segs
                        .into_iter()
                        .map(|mut s| {
                            if !matches!(s.value.kind, PatKind::Var(_)) {
                                s.value = pat(PatKind::Wildcard, span);
                            }
                            s
                        })
                        .collect();
                    skip.push(rest_seg);
                    vec![
                        clause(vec![pat(PatKind::Binary(full), span)], guard, vec![inner], span),
                        clause(vec![pat(PatKind::Binary(skip), span)], vec![], vec![recurse.clone()], span),
                        clause(vec![pat(PatKind::Wildcard, span)], vec![], vec![tail], span),
                    ]
                };
                let body = mk(ExprKind::Case(Box::new(var(&lv, span)), clauses), span);
                let mut params = vec![pat(PatKind::Var(lv.clone()), span)];
                params.extend(fvs.iter().map(|v| pat(PatKind::Var(v.clone()), span)));
                let fclause = clause(params, vec![], vec![body], span);
                self.pending.push_back(Pending {
                    name: fname.clone(),
                    arity: total,
                    clauses: vec![fclause],
                    span,
                    self_fun: None,
                    top,
                });
                let mut args = vec![l.clone()];
                args.extend(fv_exprs.iter().cloned());
                mk(ExprKind::LocalCall(Name { name: fname, span }, args), span)
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
