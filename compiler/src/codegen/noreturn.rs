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
//! clauses may return under the current set. It does not follow funs
//! (OTP inlines a fun bound to a variable and applied once, and may then
//! find more), comprehensions, or types (a clause that cannot match).

use crate::ast::*;
use std::collections::HashSet;

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
    let mut set: HashSet<(String, u8)> = funcs.iter().map(|f| (f.name.clone(), f.arity)).collect();
    loop {
        let a = Analysis { set: &set, classify };
        let returning: Vec<(String, u8)> = funcs
            .iter()
            .filter(|f| set.contains(&(f.name.clone(), f.arity)))
            .filter(|f| !f.clauses.iter().all(|c| a.body(&c.body)))
            .map(|f| (f.name.clone(), f.arity))
            .collect();
        if returning.is_empty() {
            return set;
        }
        for r in returning {
            set.remove(&r);
        }
    }
}

/// `erlang:F/A` always raises.
fn raising_bif(f: &str, arity: usize) -> bool {
    matches!((f, arity), ("error", 1..=3) | ("exit", 1) | ("throw", 1) | ("raise", 3))
}

struct Analysis<'a> {
    set: &'a HashSet<(String, u8)>,
    classify: &'a dyn Fn(&str, usize) -> Callee,
}

impl Analysis<'_> {
    /// A body never returns if one of its expressions does not.
    fn body(&self, es: &[Expr]) -> bool {
        es.iter().any(|e| self.expr(e))
    }

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
                        Callee::Local => self.set.contains(&(n.name.clone(), args.len() as u8)),
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
                    self.expr(&a.timeout) || ((clauses.is_empty() || self.clauses(clauses)) && self.body(&a.body))
                }
            },
            ExprKind::Try(t) => {
                let no_value = self.body(&t.body) || (!t.of.is_empty() && self.clauses(&t.of));
                self.body(&t.after) || (no_value && t.catches.iter().all(|c| self.body(&c.body)))
            }
        }
    }

    /// Every clause never returns (and there is one).
    fn clauses(&self, cs: &[Clause]) -> bool {
        !cs.is_empty() && cs.iter().all(|c| self.body(&c.body))
    }
}

/// `name/arity` called without a module: an auto-imported BIF that always
/// raises, unless the module defines or imports that name.
pub(crate) fn raising_auto_import(name: &str, arity: usize) -> bool {
    raising_bif(name, arity) && name != "raise" && crate::bifs::is_auto_imported(name, arity)
}
