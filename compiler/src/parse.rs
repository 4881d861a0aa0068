//! Glue around the lalrpop grammar (`parser.lalrpop`): the AST-building
//! helpers its actions call, the conversion of expressions to patterns (erl_parse
//! parses `case` clauses, `=` and generators as expressions), constant folding
//! of patterns like `-1` or `1 bsl 4`, and the per-form driver that turns
//! lalrpop's errors into erlc's "syntax error before: X".
//!
//! Each form is parsed on its own, as epp hands forms to erl_parse one by
//! one: a syntax error loses only its form, and parsing goes on at the next.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::lexer::{Spanned, Tok};
use lalrpop_util::{lalrpop_mod, ParseError};
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

lalrpop_mod!(
    #[allow(clippy::all, unused_parens, unused_imports, dead_code)]
    grammar,
    "/parser.rs"
);

pub(crate) type PErr = ParseError<usize, Tok, Diagnostic>;

fn user(d: Diagnostic) -> PErr {
    ParseError::User { error: d }
}

/// Parses the preprocessed forms. Returns the forms, the syntax errors, and
/// the errors erl_lint would report that are found while parsing
/// (illegal pattern, illegal expression, undefined bit type).
pub fn parse_forms(source: &str, forms: Vec<Vec<Spanned>>) -> (Vec<Form>, Vec<Diagnostic>, Vec<Diagnostic>) {
    let parser = grammar::FormParser::new();
    let mut out = Vec::new();
    let mut syntax = Vec::new();
    let mut lint = Vec::new();
    for toks in forms {
        let last = toks.last().map(|t| Span::new(t.0, t.2)).unwrap_or_default();
        let mut form_lint = Vec::new();
        let r = parser.parse(source, &mut form_lint, toks.into_iter().map(Ok::<Spanned, Diagnostic>));
        match r {
            Ok(f) => {
                out.push(f);
                lint.extend(form_lint);
            }
            Err(e) => syntax.push(syntax_error(e, last)),
        }
    }
    (out, syntax, lint)
}

/// Evaluates the condition of `-if`/`-elif` (macros already expanded and
/// `defined(M)` replaced): true only if it evaluates to the atom `true`.
pub fn const_condition(source: &str, toks: Vec<Spanned>) -> bool {
    let mut form = vec![(0, Tok::Minus, 0), (0, Tok::Atom("$if".into()), 0), (0, Tok::LParen, 0)];
    form.extend(toks);
    form.extend([(0, Tok::RParen, 0), (0, Tok::Dot, 0)]);
    let mut lint = Vec::new();
    match grammar::FormParser::new().parse(source, &mut lint, form.into_iter().map(Ok::<Spanned, Diagnostic>)) {
        Ok(Form::Attribute(_, e, _)) if lint.is_empty() => matches!(eval_term(&e), Some(Val::Atom(a)) if a == "true"),
        _ => false,
    }
}

/// Parses expressions separated by commas and ended by a dot, as the shell
/// reads them (`X = 1, X + 1.`). No macros; records are left to the caller.
/// Errors are erlc's: syntax errors, then illegal patterns and expressions.
pub fn parse_exprs(source: &str) -> Result<Vec<Expr>, Vec<Diagnostic>> {
    let (toks, lex_errors) = crate::lexer::lex(source);
    if !lex_errors.is_empty() {
        return Err(lex_errors);
    }
    let last = toks.last().map(|t| Span::new(t.0, t.2)).unwrap_or_default();
    // `'$shell'() -> Exprs.`: a function form whose body is the input.
    let mut form =
        vec![(0, Tok::Atom("$shell".into()), 0), (0, Tok::LParen, 0), (0, Tok::RParen, 0), (0, Tok::Arrow, 0)];
    form.extend(toks);
    let mut lint = Vec::new();
    match grammar::FormParser::new().parse(source, &mut lint, form.into_iter().map(Ok::<Spanned, Diagnostic>)) {
        Ok(Form::Function(mut f)) if lint.is_empty() && f.clauses.len() == 1 => Ok(f.clauses.remove(0).body),
        Ok(_) if !lint.is_empty() => Err(lint),
        Ok(_) => Err(vec![Diagnostic::error("E0100", last, "syntax error before: ';'")]),
        Err(e) => Err(vec![syntax_error(e, last)]),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Atom(String),
    Num(Num),
}

/// The few operators a preprocessor condition uses.
fn eval_term(e: &Expr) -> Option<Val> {
    use std::cmp::Ordering;
    let cmp = |a: &Val, b: &Val| -> Option<Ordering> {
        match (a, b) {
            (Val::Num(x), Val::Num(y)) => match (x, y) {
                (Num::I(x), Num::I(y)) => Some(x.cmp(y)),
                _ => {
                    let f = |n: &Num| match n {
                        Num::I(i) => i.to_f64(),
                        Num::F(f) => Some(*f),
                    };
                    f(x)?.partial_cmp(&f(y)?)
                }
            },
            (Val::Atom(x), Val::Atom(y)) => Some(x.cmp(y)),
            // Numbers sort before atoms in Erlang's term order.
            (Val::Num(_), Val::Atom(_)) => Some(Ordering::Less),
            (Val::Atom(_), Val::Num(_)) => Some(Ordering::Greater),
        }
    };
    let b = |v: bool| Some(Val::Atom(if v { "true" } else { "false" }.into()));
    let truth = |v: Option<Val>| match v {
        Some(Val::Atom(a)) if a == "true" => Some(true),
        Some(Val::Atom(a)) if a == "false" => Some(false),
        _ => None,
    };
    match &e.kind {
        ExprKind::Atom(a) => Some(Val::Atom(a.clone())),
        ExprKind::Int(_) | ExprKind::Float(_) => eval_const(e).map(Val::Num),
        ExprKind::UnOp(UnOp::Not, a) => b(!truth(eval_term(a))?),
        ExprKind::BinOp(BinOp::AndAlso | BinOp::And, x, y) => b(truth(eval_term(x))? && truth(eval_term(y))?),
        ExprKind::BinOp(BinOp::OrElse | BinOp::Or, x, y) => b(truth(eval_term(x))? || truth(eval_term(y))?),
        ExprKind::BinOp(
            op @ (BinOp::Eq
            | BinOp::Ne
            | BinOp::ExactEq
            | BinOp::ExactNe
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge),
            x,
            y,
        ) => {
            let (x, y) = (eval_term(x)?, eval_term(y)?);
            let o = cmp(&x, &y)?;
            let exact_same = x == y;
            b(match op {
                BinOp::Eq => o == Ordering::Equal,
                BinOp::Ne => o != Ordering::Equal,
                BinOp::ExactEq => exact_same,
                BinOp::ExactNe => !exact_same,
                BinOp::Lt => o == Ordering::Less,
                BinOp::Le => o != Ordering::Greater,
                BinOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
        ExprKind::UnOp(..) | ExprKind::BinOp(..) => eval_const(e).map(Val::Num),
        _ => None,
    }
}

fn syntax_error(e: PErr, last: Span) -> Diagnostic {
    match e {
        ParseError::UnrecognizedToken { token: (l, t, r), .. } | ParseError::ExtraToken { token: (l, t, r) } => {
            Diagnostic::error("E0100", Span::new(l, r), format!("syntax error before: {}", t.erlc_text()))
        }
        // The form ends without a dot: erl_parse reports '$end', printed as
        // nothing, at the last token.
        ParseError::UnrecognizedEof { .. } | ParseError::InvalidToken { .. } => {
            Diagnostic::error("E0100", last, "syntax error before: ")
        }
        ParseError::User { error } => error,
    }
}

/// The callee part of a call: `E` or `M:F` (which only a call may use).
pub(crate) enum Callee {
    Plain(Expr),
    Remote(Expr, Expr, Span),
}

pub(crate) fn binop(op: BinOp, a: Expr, b: Expr) -> Expr {
    let span = a.span.to(b.span);
    Expr { kind: ExprKind::BinOp(op, Box::new(a), Box::new(b)), span }
}

pub(crate) fn call(c: Callee, args: Vec<Expr>, span: Span) -> Expr {
    let kind = match c {
        Callee::Plain(f) => {
            let s = f.span;
            match f.into_kind() {
                ExprKind::Atom(a) => ExprKind::LocalCall(Name { name: a, span: s }, args),
                kind => ExprKind::FunCall(Box::new(Expr { kind, span: s }), args),
            }
        }
        Callee::Remote(m, f, _) => ExprKind::RemoteCall(Box::new(m), Box::new(f), args),
    };
    Expr { kind, span }
}

/// `M:F` not followed by arguments.
pub(crate) fn plain(c: Callee, lint: &mut Vec<Diagnostic>) -> Expr {
    match c {
        Callee::Plain(e) => e,
        Callee::Remote(m, _, span) => {
            lint.push(Diagnostic::error("E0300", span, "illegal expression"));
            m
        }
    }
}

/// `[E | Tail]` and `[A, B, C]` as cons cells.
pub(crate) fn list(l: usize, first: Expr, tail: (Vec<Expr>, Option<Expr>, usize)) -> Expr {
    let (rest, tail, r) = tail;
    let mut acc = tail.unwrap_or(Expr { kind: ExprKind::Nil, span: Span::new(r.saturating_sub(1), r) });
    let mut elems = vec![first];
    elems.extend(rest.into_iter().rev());
    let n = elems.len();
    for (i, e) in elems.into_iter().rev().enumerate() {
        let start = if i == n - 1 { l } else { e.span.start as usize };
        let span = Span::new(start, r);
        acc = Expr { kind: ExprKind::Cons(Box::new(e), Box::new(acc)), span };
    }
    acc
}

pub(crate) fn bin_elem(
    value: Expr,
    size: Option<Expr>,
    types: Option<Vec<(Name, Option<BigInt>)>>,
    span: Span,
    lint: &mut Vec<Diagnostic>,
) -> Result<BinElem<Expr>, PErr> {
    let mut out = Vec::new();
    for (n, arg) in types.unwrap_or_default() {
        let t = match (n.name.as_str(), &arg) {
            ("integer", None) => Some(BinType::Integer),
            ("float", None) => Some(BinType::Float),
            ("binary", None) => Some(BinType::Binary),
            ("bytes", None) => Some(BinType::Bytes),
            ("bitstring", None) => Some(BinType::Bitstring),
            ("bits", None) => Some(BinType::Bits),
            ("utf8", None) => Some(BinType::Utf8),
            ("utf16", None) => Some(BinType::Utf16),
            ("utf32", None) => Some(BinType::Utf32),
            ("signed", None) => Some(BinType::Signed),
            ("unsigned", None) => Some(BinType::Unsigned),
            ("big", None) => Some(BinType::Big),
            ("little", None) => Some(BinType::Little),
            ("native", None) => Some(BinType::Native),
            ("unit", Some(u)) => match u.to_u8() {
                Some(u) if (1..=255).contains(&u) => Some(BinType::Unit(u)),
                _ => None,
            },
            _ => None,
        };
        match t {
            Some(t) => out.push(t),
            None => {
                let shown = match arg {
                    Some(a) => format!("{}:{}", n.name, a),
                    None => n.name.clone(),
                };
                lint.push(Diagnostic::error("E0301", span, format!("bit type {shown} undefined")));
            }
        }
    }
    Ok(BinElem { value, size, types: out, span })
}

pub(crate) fn fun_ref(n: Name, a: BigInt, span: Span) -> Result<Expr, PErr> {
    let arity = arity_u8(&a, span)?;
    Ok(Expr { kind: ExprKind::FunRef(FunName { name: n.name, arity, span }), span })
}

fn arity_u8(a: &BigInt, span: Span) -> Result<u8, PErr> {
    a.to_u8().ok_or_else(|| user(Diagnostic::error("E0101", span, "arity is out of range (at most 255)")))
}

pub(crate) fn fun_expr(cs: Vec<Clause>, span: Span) -> Result<Expr, PErr> {
    let name = cs[0].name.clone();
    let arity = cs[0].params.len();
    for c in &cs[1..] {
        let same = c.name.as_ref().map(|n| &n.name) == name.as_ref().map(|n| &n.name);
        if !same || c.params.len() != arity {
            return Err(user(Diagnostic::error("E0102", c.span, "head mismatch")));
        }
    }
    Ok(Expr { kind: ExprKind::Fun(name, cs, None), span })
}

pub(crate) fn function(cs: Vec<Clause>) -> Result<Function, PErr> {
    let first = &cs[0];
    let name = first.name.as_ref().map(|n| n.name.clone()).unwrap_or_default();
    let arity = first.params.len();
    for c in &cs[1..] {
        if c.name.as_ref().map(|n| n.name.as_str()) != Some(name.as_str()) || c.params.len() != arity {
            let at = c.name.as_ref().map_or(c.span, |n| n.span);
            let hint = format!(
                "the clauses of {name}/{arity} must all have that name and arity; if this clause starts a new function, end the previous one with '.'"
            );
            return Err(user(Diagnostic::error("E0102", at, "head mismatch").with_hint(hint)));
        }
    }
    let Ok(arity) = u8::try_from(arity) else {
        // BEAM's limit; erl_lint's message.
        let msg = format!("too many arguments ({arity}) - maximum allowed is 255");
        return Err(user(Diagnostic::error("E0101", first.span, msg)));
    };
    let span = first.span.to(cs[cs.len() - 1].span);
    Ok(Function { name, arity, clauses: cs, span })
}

pub(crate) fn attribute(
    name: Name,
    args: Vec<Expr>,
    span: Span,
    lint: &mut Vec<Diagnostic>,
    src: &str,
) -> Result<Form, PErr> {
    let bad = |what: &str, at: Span| user(Diagnostic::error("E0103", at, format!("bad {what} declaration")));
    let first_span = args[0].span;
    match name.name.as_str() {
        "module" => match args.as_slice() {
            [Expr { kind: ExprKind::Atom(m), span }] => Ok(Form::Module(Name { name: m.clone(), span: *span })),
            _ => Err(bad("module", first_span)),
        },
        "export" => match args.as_slice() {
            [l] => Ok(Form::Export(fun_names(l).ok_or_else(|| bad("export", first_span))?, span)),
            _ => Err(bad("export", first_span)),
        },
        "import" => match args.as_slice() {
            [Expr { kind: ExprKind::Atom(m), span: ms }, l] => {
                let fs = fun_names(l).ok_or_else(|| bad("import", l.span))?;
                Ok(Form::Import(Name { name: m.clone(), span: *ms }, fs, span))
            }
            _ => Err(bad("import", first_span)),
        },
        "compile" if args.len() == 1 => {
            Ok(Form::Compile(args.into_iter().next().unwrap_or_else(|| unreachable!()), span))
        }
        "record" => match args.as_slice() {
            [Expr { kind: ExprKind::Atom(r), span: rs }, Expr { kind: ExprKind::Tuple(fields), .. }] => {
                let mut defs = Vec::new();
                for f in fields {
                    match &f.kind {
                        ExprKind::Atom(a) => defs.push(RecordFieldDef {
                            name: Name { name: a.clone(), span: f.span },
                            default: None,
                            span: f.span,
                        }),
                        ExprKind::Match(p, e) => match &p.kind {
                            PatKind::Atom(a) => defs.push(RecordFieldDef {
                                name: Name { name: a.clone(), span: p.span },
                                default: Some((**e).clone()),
                                span: f.span,
                            }),
                            _ => return Err(bad("record", f.span)),
                        },
                        _ => return Err(bad("record", f.span)),
                    }
                }
                let _ = (lint, src);
                Ok(Form::Record(Name { name: r.clone(), span: *rs }, defs, span))
            }
            _ => Err(bad("record", first_span)),
        },
        _ => {
            if args.len() != 1 {
                return Err(user(Diagnostic::error("E0103", args[1].span, "bad attribute")));
            }
            Ok(Form::Attribute(name, args.into_iter().next().unwrap_or_else(|| unreachable!()), span))
        }
    }
}

/// `[f/1, g/2]` in `-export` and `-import`.
fn fun_names(l: &Expr) -> Option<Vec<FunName>> {
    let mut out = Vec::new();
    let mut cur = l;
    loop {
        match &cur.kind {
            ExprKind::Nil => return Some(out),
            ExprKind::Cons(h, t) => {
                match &h.kind {
                    ExprKind::BinOp(BinOp::FDiv, f, a) => match (&f.kind, &a.kind) {
                        (ExprKind::Atom(f), ExprKind::Int(a)) => {
                            out.push(FunName { name: f.clone(), arity: a.to_u8()?, span: h.span })
                        }
                        _ => return None,
                    },
                    _ => return None,
                }
                cur = t;
            }
            _ => return None,
        }
    }
}

/// Where the operator of `a OP b` is: the first character after `a` that is
/// not white space, a comment or a closing parenthesis. erlc places
/// diagnostics about an operator there.
pub fn op_offset(src: &str, after: usize) -> usize {
    let b = src.as_bytes();
    let mut i = after.min(b.len());
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' | b')' => i += 1,
            b'%' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1
                }
            }
            _ => break,
        }
    }
    i
}

#[derive(Clone, Debug, PartialEq)]
enum Num {
    I(BigInt),
    F(f64),
}

/// Evaluates a constant arithmetic expression as erl_lint allows in
/// patterns (`-1`, `1 bsl 4`, `2 * 3.0`).
fn eval_const(e: &Expr) -> Option<Num> {
    Some(match &e.kind {
        ExprKind::Int(i) => Num::I(i.clone()),
        ExprKind::Float(f) => Num::F(*f),
        ExprKind::UnOp(op, a) => match (op, eval_const(a)?) {
            (UnOp::Neg, Num::I(i)) => Num::I(-i),
            (UnOp::Neg, Num::F(f)) => Num::F(-f),
            (UnOp::Plus, n) => n,
            (UnOp::Bnot, Num::I(i)) => Num::I(-i - 1),
            _ => return None,
        },
        ExprKind::BinOp(op, a, b) => {
            let (a, b) = (eval_const(a)?, eval_const(b)?);
            match (op, a, b) {
                (BinOp::Add, Num::I(a), Num::I(b)) => Num::I(a + b),
                (BinOp::Sub, Num::I(a), Num::I(b)) => Num::I(a - b),
                (BinOp::Mul, Num::I(a), Num::I(b)) => Num::I(a * b),
                (BinOp::Div, Num::I(a), Num::I(b)) if !b.is_zero() => Num::I(a / b),
                (BinOp::Rem, Num::I(a), Num::I(b)) if !b.is_zero() => Num::I(a % b),
                (BinOp::Band, Num::I(a), Num::I(b)) => Num::I(a & b),
                (BinOp::Bor, Num::I(a), Num::I(b)) => Num::I(a | b),
                (BinOp::Bxor, Num::I(a), Num::I(b)) => Num::I(a ^ b),
                (BinOp::Bsl, Num::I(a), Num::I(b)) => shift(a, b)?,
                (BinOp::Bsr, Num::I(a), Num::I(b)) => shift(a, -b)?,
                (op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::FDiv), a, b) => {
                    let f = |n: Num| match n {
                        Num::I(i) => i.to_f64(),
                        Num::F(f) => Some(f),
                    };
                    let (a, b) = (f(a)?, f(b)?);
                    let r = match op {
                        BinOp::Add => a + b,
                        BinOp::Sub => a - b,
                        BinOp::Mul => a * b,
                        _ if b == 0.0 => return None,
                        _ => a / b,
                    };
                    if !r.is_finite() {
                        return None;
                    }
                    Num::F(r)
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn shift(a: BigInt, by: BigInt) -> Option<Num> {
    let n = by.to_i64()?;
    if n >= 0 {
        // A bound on the result's size keeps a pattern like `1 bsl 99999999`
        // from eating the machine; erlc would build it, but no program needs it.
        if n > 1 << 20 {
            return None;
        }
        Some(Num::I(a << n as usize))
    } else {
        let n = (-n).min(1 << 24) as usize;
        Some(Num::I(if a.is_negative() { -((-a - 1u8) >> n) - 1u8 } else { a >> n }))
    }
}

fn illegal(at: Span, lint: &mut Vec<Diagnostic>) -> Pat {
    lint.push(Diagnostic::error("E0302", at, "illegal pattern"));
    Pat { kind: PatKind::Wildcard, span: at }
}

/// Converts an expression parsed where a pattern stands into the pattern.
/// What is not a pattern is reported as erl_lint does ("illegal pattern").
pub(crate) fn to_pat(e: Expr, lint: &mut Vec<Diagnostic>, src: &str) -> Pat {
    let span = e.span;
    let kind = match e.into_kind() {
        ExprKind::Var(v) if v == "_" => PatKind::Wildcard,
        ExprKind::Var(v) => PatKind::Var(v),
        ExprKind::Atom(a) => PatKind::Atom(a),
        ExprKind::Int(i) => PatKind::Int(i),
        ExprKind::Float(f) => PatKind::Float(f),
        ExprKind::String(s) => PatKind::String(s),
        ExprKind::Nil => PatKind::Nil,
        ExprKind::Tuple(es) => PatKind::Tuple(es.into_iter().map(|e| to_pat(e, lint, src)).collect()),
        ExprKind::Cons(h, t) => {
            // Iterative along the tail: literal lists can be very long.
            let mut heads = vec![(to_pat(*h, lint, src), span)];
            let mut cur = *t;
            let tail = loop {
                let cur_span = cur.span;
                match cur.into_kind() {
                    ExprKind::Cons(h, t) => {
                        heads.push((to_pat(*h, lint, src), cur_span));
                        cur = *t;
                    }
                    other => break to_pat(Expr { kind: other, span: cur_span }, lint, src),
                }
            };
            let mut acc = tail;
            for (h, s) in heads.into_iter().rev() {
                acc = Pat { kind: PatKind::Cons(Box::new(h), Box::new(acc)), span: s };
            }
            return acc;
        }
        ExprKind::Binary(es) => PatKind::Binary(
            es.into_iter()
                .map(|b| BinElem { value: to_pat(b.value, lint, src), size: b.size, types: b.types, span: b.span })
                .collect(),
        ),
        ExprKind::Map(fields) => {
            let mut out = Vec::new();
            for f in fields {
                if !f.exact {
                    return illegal(Span::new(f.span.start as usize, f.span.start as usize + 2), lint);
                }
                out.push((f.key, to_pat(f.value, lint, src)));
            }
            PatKind::Map(out)
        }
        ExprKind::Record(n, fields) => {
            PatKind::Record(n, fields.into_iter().map(|f| (f.name, to_pat(f.value, lint, src))).collect())
        }
        ExprKind::RecordIndex(n, f) => PatKind::RecordIndex(n, f),
        ExprKind::Match(p, e) => PatKind::Match(p, Box::new(to_pat(*e, lint, src))),
        ExprKind::BinOp(BinOp::Append, a, b) => {
            // `"abc" ++ T` and `[$a, $b] ++ T`: the prefix is a literal list.
            let a_end = a.span.end as usize;
            let mut prefix = Vec::new();
            let ok = literal_list(&a, &mut prefix);
            if !ok {
                return illegal(op_span(src, a_end), lint);
            }
            let mut acc = to_pat(*b, lint, src);
            for (c, s) in prefix.into_iter().rev() {
                let cs = Span::new(s.start as usize, span.end as usize);
                acc = Pat {
                    kind: PatKind::Cons(Box::new(Pat { kind: PatKind::Int(c), span: s }), Box::new(acc)),
                    span: cs,
                };
            }
            return Pat { kind: acc.into_kind(), span };
        }
        kind @ (ExprKind::BinOp(..) | ExprKind::UnOp(..)) => {
            let at = match &kind {
                ExprKind::BinOp(_, a, _) => op_span(src, a.span.end as usize),
                _ => Span::new(span.start as usize, span.start as usize + 1),
            };
            let folded = eval_const(&Expr { kind, span });
            match folded {
                Some(Num::I(i)) => PatKind::Int(i),
                Some(Num::F(f)) => PatKind::Float(f),
                None => return illegal(at, lint),
            }
        }
        _ => return illegal(span, lint),
    };
    Pat { kind, span }
}

fn op_span(src: &str, after: usize) -> Span {
    let at = op_offset(src, after);
    Span::new(at, at + 1)
}

/// Collects the elements of a literal list of integers (a string, `[]`, or
/// `[$a, 1 | "bc"]`), each with its span.
fn literal_list(e: &Expr, out: &mut Vec<(BigInt, Span)>) -> bool {
    let mut e = e;
    loop {
        match &e.kind {
            ExprKind::Nil => return true,
            ExprKind::String(s) => {
                out.extend(s.iter().map(|&c| (BigInt::from(c), e.span)));
                return true;
            }
            ExprKind::Cons(h, t) => match &h.kind {
                ExprKind::Int(i) => {
                    out.push((i.clone(), h.span));
                    e = t;
                }
                _ => return false,
            },
            _ => return false,
        }
    }
}
