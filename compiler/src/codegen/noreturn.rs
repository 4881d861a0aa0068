//! Which functions of the module never return, as OTP 25's type analysis
//! finds them (their return type is `none`): every clause ends by raising
//! (`erlang:error/1,2`, `exit/1`, `throw/1`, `erlang:raise/3`) or by
//! calling a function that never returns, itself included (`loop(S) ->
//! receive M -> loop(f(M, S)) end.`).
//!
//! OTP's code generator calls such a function as a tail call even where its
//! value would be used (nothing after it runs), so the caller's frame is
//! gone from the stack trace of the exception that follows:
//! `g(X) -> fail(X), ok.` crashes with `[{m,fail,1,_}, <g's caller>...]`.
//! The code generator does the same with the set computed here
//! (`Gen::call_expr`), except inside a `try` or `catch` body, whose frame
//! holds the handler.
//!
//! The analysis is a greatest fixed point: all functions are assumed not
//! to return, and a function is dropped from the set as soon as one of its
//! clauses may return under the current set (a worklist: see
//! `never_returning`). It does not follow funs
//! (OTP inlines a fun bound to a variable and applied once, and may then
//! find more), comprehensions, or types (a clause that cannot match).

use crate::ast::*;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// What an unqualified call `name/arity` names.
pub(crate) enum Callee {
    /// A function of this module.
    Local,
    /// An auto-imported BIF that always raises (`error/1`, ...).
    Raises,
    Other,
}

/// The functions of `funcs` that never return.
pub(crate) fn never_returning(funcs: &[&Function], classify: &dyn Fn(&str, usize) -> Callee) -> HashSet<(String, u8)> {
    let key = |f: &Function| (f.name.clone(), f.arity);
    let mut set: HashSet<(String, u8)> = funcs.iter().map(|f| key(f)).collect();
    let by_key: HashMap<(String, u8), &Function> = funcs.iter().map(|f| (key(f), *f)).collect();
    // A worklist: a function is looked at again only when a function its
    // last look relied on was found to return (`callers`), so a chain of
    // N calls costs O(N) looks, not O(N²).
    let mut callers: HashMap<(String, u8), Vec<(String, u8)>> = HashMap::new();
    let mut work: Vec<(String, u8)> = funcs.iter().map(|f| key(f)).collect();
    while let Some(k) = work.pop() {
        if !set.contains(&k) {
            continue;
        }
        let a = Analysis { set: &set, classify, consulted: RefCell::new(Vec::new()) };
        let never = by_key[&k].clauses.iter().all(|c| a.any(&c.body));
        for callee in a.consulted.into_inner() {
            callers.entry(callee).or_default().push(k.clone());
        }
        if !never {
            set.remove(&k);
            work.extend(callers.remove(&k).unwrap_or_default());
        }
    }
    set
}

/// `erlang:F/A` always raises.
fn raising_bif(f: &str, arity: usize) -> bool {
    matches!((f, arity), ("error", 1..=3) | ("exit", 1) | ("throw", 1) | ("raise", 3))
}

struct Analysis<'a> {
    set: &'a HashSet<(String, u8)>,
    classify: &'a dyn Fn(&str, usize) -> Callee,
    /// The local functions whose answer this look used.
    consulted: RefCell<Vec<(String, u8)>>,
}

impl Analysis<'_> {
    /// A body (or the operands evaluated in order) never returns if one
    /// of its expressions does not.
    fn any(&self, es: &[Expr]) -> bool {
        es.iter().any(|e| self.expr(e))
    }

    fn fields(&self, fs: &[MapField]) -> bool {
        fs.iter().any(|f| self.expr(&f.key) || self.expr(&f.value))
    }

    /// Does evaluating `e` never return (raise or loop forever)?
    fn expr(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Var(_)
            | ExprKind::Atom(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::String(_)
            | ExprKind::Nil
            | ExprKind::RecordIndex(..)
            | ExprKind::Fun(..)
            | ExprKind::FunRef(_)
            | ExprKind::FunRemote(..)
            | ExprKind::Catch(_)
            | ExprKind::ListComp(..)
            | ExprKind::BinComp(..) => false,
            ExprKind::Tuple(es) | ExprKind::Block(es) => self.any(es),
            ExprKind::Cons(h, t) => self.expr(h) || self.expr(t),
            ExprKind::Binary(elems) => {
                elems.iter().any(|b| self.expr(&b.value) || b.size.as_ref().is_some_and(|s| self.expr(s)))
            }
            ExprKind::Map(fs) => self.fields(fs),
            ExprKind::MapUpdate(m, fs) => self.expr(m) || self.fields(fs),
            ExprKind::Record(_, fs) => fs.iter().any(|f| self.expr(&f.value)),
            ExprKind::RecordUpdate(r, _, fs) => self.expr(r) || fs.iter().any(|f| self.expr(&f.value)),
            ExprKind::RecordField(r, ..) => self.expr(r),
            ExprKind::Match(_, v) => self.expr(v),
            ExprKind::BinOp(BinOp::AndAlso | BinOp::OrElse, a, _) => self.expr(a),
            ExprKind::BinOp(_, a, b) => self.expr(a) || self.expr(b),
            ExprKind::UnOp(_, a) => self.expr(a),
            ExprKind::LocalCall(n, args) => {
                self.any(args)
                    || match (self.classify)(&n.name, args.len()) {
                        Callee::Local => {
                            let k = (n.name.clone(), args.len() as u8);
                            let never = self.set.contains(&k);
                            self.consulted.borrow_mut().push(k);
                            never
                        }
                        Callee::Raises => true,
                        Callee::Other => false,
                    }
            }
            ExprKind::RemoteCall(m, f, args) => {
                self.expr(m)
                    || self.expr(f)
                    || self.any(args)
                    || matches!((&m.kind, &f.kind),
                        (ExprKind::Atom(m), ExprKind::Atom(f)) if m == "erlang" && raising_bif(f, args.len()))
            }
            ExprKind::FunCall(f, args) => self.expr(f) || self.any(args),
            ExprKind::Case(subject, clauses) => self.expr(subject) || self.clauses(clauses),
            ExprKind::If(clauses) => self.clauses(clauses),
            ExprKind::Receive(clauses, after) => match after {
                None => self.clauses(clauses),
                Some(a) => {
                    self.expr(&a.timeout) || ((clauses.is_empty() || self.clauses(clauses)) && self.any(&a.body))
                }
            },
            ExprKind::Try(t) => {
                let no_value = self.any(&t.body) || (!t.of.is_empty() && self.clauses(&t.of));
                self.any(&t.after) || (no_value && t.catches.iter().all(|c| self.any(&c.body)))
            }
        }
    }

    /// Every clause never returns (and there is one).
    fn clauses(&self, cs: &[Clause]) -> bool {
        !cs.is_empty() && cs.iter().all(|c| self.any(&c.body))
    }
}

/// `name/arity` called without a module: an auto-imported BIF that always
/// raises, unless the module defines or imports that name.
pub(crate) fn raising_auto_import(name: &str, arity: usize) -> bool {
    raising_bif(name, arity) && name != "raise" && crate::bifs::is_auto_imported(name, arity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(src: &str) -> Vec<String> {
        let (m, diags) = crate::parse("t.mrl", src, &crate::Options::default());
        assert!(diags.iter().all(|d| d.severity != crate::Severity::Error), "{diags:?}");
        let m = m.expect("a module");
        let funcs: Vec<&Function> = m
            .forms
            .iter()
            .filter_map(|f| match f {
                Form::Function(f) => Some(f),
                _ => None,
            })
            .collect();
        let names: HashSet<(String, u8)> = funcs.iter().map(|f| (f.name.clone(), f.arity)).collect();
        let classify = |n: &str, a: usize| {
            if names.contains(&(n.to_string(), a as u8)) {
                Callee::Local
            } else if raising_auto_import(n, a) {
                Callee::Raises
            } else {
                Callee::Other
            }
        };
        let mut v: Vec<String> =
            never_returning(&funcs, &classify).into_iter().map(|(n, a)| format!("{n}/{a}")).collect();
        v.sort();
        v
    }

    #[test]
    fn raising_looping_and_returning_functions() {
        let src = "-module(t).\n\
            fail(X) -> error({bad, X}).\n\
            spin(0) -> fail(0); spin(N) -> spin(N - 1).\n\
            loop(S) -> receive M -> loop([M | S]) end.\n\
            ping(0) -> exit(done); ping(N) -> pong(N - 1).\n\
            pong(N) -> ping(N).\n\
            maybe(1) -> fail(1); maybe(X) -> X.\n\
            caught(X) -> try fail(X) catch _:_ -> ok end.\n\
            in_after(X) -> try ok after fail(X) end.\n\
            chain0() -> [chain1()].\n\
            chain1() -> [chain2()].\n\
            chain2() -> done.\n";
        assert_eq!(never(src), ["fail/1", "in_after/1", "loop/1", "ping/1", "pong/1", "spin/1"]);
    }
}
