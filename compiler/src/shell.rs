//! The shell's entry into the compiler: expressions typed at the prompt
//! become a small module, so they run with exactly the language's
//! semantics (the code generator is the one every program goes through).
//!
//! `X = Y + 1, foo(X).` with the shell's bindings `[Y]` becomes
//!
//! ```text
//! -module('$shell_N').
//! -export(['$eval'/1]).
//! '$eval'([Y]) -> X = Y + 1, '$Value' = shell_default:foo(X), {'$Value', [X, Y]}.
//! ```
//!
//! The parameter list holds the values of the bound variables, in the
//! order of the names given; the result holds the value and the values of
//! the variables bound afterwards, in the order of [`ShellExpr::bound`].
//! A local call that is not an auto-imported BIF goes to `shell_default`
//! (the shell commands: `c/1`, `f/0`, `v/1`, ...), as in Erlang's shell;
//! `f(X)` passes the variable's name, so X need not be bound.
//!
//! [`next_expr`] tells the reader where the first expression of its input
//! ends (at the first full stop), or that more lines are needed.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::lexer::Tok;
use minierl_bytecode as bc;

/// The module holding the shell commands local calls go to.
pub const SHELL_DEFAULT: &str = "shell_default";
/// The function of the generated module.
pub const EVAL_FUNCTION: &str = "$eval";
/// The variable holding the last expression's value (not a name a user
/// can write: it starts with `$`).
const VALUE_VAR: &str = "$Value";

/// An expression compiled for the shell.
#[derive(Debug)]
pub struct ShellExpr {
    pub module: bc::Module,
    /// The variables bound after the expression, sorted.
    pub bound: Vec<String>,
}

/// Why an expression did not compile.
#[derive(Debug)]
pub enum ShellError {
    /// The text does not parse (the shell does not count the command).
    Syntax(Vec<Diagnostic>),
    /// It parses, but the checks fail (unbound variables, ...).
    Check(Vec<Diagnostic>),
}

/// Where the first expression of the reader's input ends.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// The expression ends at this byte offset (just after its full stop).
    Complete(usize),
    /// No full stop yet: read more lines.
    Incomplete,
    /// Only blanks and comments.
    Empty,
}

/// Finds the end of the first expression in `input` (a full stop followed
/// by a blank, a comment or the end), as Erlang's shell reads its input.
pub fn next_expr(input: &str) -> Next {
    let (toks, errors) = crate::lexer::lex(input);
    let dot = toks.iter().find(|t| t.1 == Tok::Dot).map(|t| t.2);
    // An unterminated string or quoted atom swallows the rest: more lines
    // may close it.
    let unterminated = errors.iter().find(|d| d.message.starts_with("unterminated")).map(|d| d.span.start as usize);
    match (dot, unterminated) {
        (Some(end), Some(at)) if at > end => Next::Complete(end),
        (_, Some(_)) => Next::Incomplete,
        (Some(end), None) => Next::Complete(end),
        (None, None) if toks.is_empty() && errors.is_empty() => Next::Empty,
        (None, None) => Next::Incomplete,
    }
}

/// Compiles the expressions `source` (ended by a full stop) into module
/// `module_name`; `bound` are the shell's bound variables, in the order
/// the generated function takes their values.
pub fn compile_shell(module_name: &str, source: &str, bound: &[String]) -> Result<ShellExpr, ShellError> {
    let mut body = crate::parse::parse_exprs(source).map_err(ShellError::Syntax)?;
    for e in body.iter_mut() {
        route_local_calls(e);
    }
    let (errors, after) = crate::check::check_shell_exprs(&body, bound, source);
    if !errors.is_empty() {
        return Err(ShellError::Check(errors));
    }
    let at = Span::default();
    let var = |n: &str| Expr { kind: ExprKind::Var(n.to_string()), span: at };
    let list = |items: Vec<Expr>| {
        items.into_iter().rev().fold(Expr { kind: ExprKind::Nil, span: at }, |tail, h| Expr {
            kind: ExprKind::Cons(Box::new(h), Box::new(tail)),
            span: at,
        })
    };
    let params = bound.iter().rev().fold(Pat { kind: PatKind::Nil, span: at }, |tail, n| Pat {
        kind: PatKind::Cons(Box::new(Pat { kind: PatKind::Var(n.clone()), span: at }), Box::new(tail)),
        span: at,
    });
    let last = body.pop().ok_or_else(|| ShellError::Syntax(Vec::new()))?;
    let last_span = last.span;
    body.push(Expr {
        kind: ExprKind::Match(Box::new(Pat { kind: PatKind::Var(VALUE_VAR.into()), span: last_span }), Box::new(last)),
        span: last_span,
    });
    let values = list(after.iter().map(|n| var(n)).collect());
    body.push(Expr { kind: ExprKind::Tuple(vec![var(VALUE_VAR), values]), span: last_span });
    let name = Name { name: EVAL_FUNCTION.into(), span: at };
    let module = Module {
        forms: vec![
            Form::Module(Name { name: module_name.into(), span: at }),
            Form::Export(vec![FunName { name: EVAL_FUNCTION.into(), arity: 1, span: at }], at),
            Form::Function(Function {
                name: EVAL_FUNCTION.into(),
                arity: 1,
                clauses: vec![Clause { name: Some(name), params: vec![params], guard: Vec::new(), body, span: at }],
                span: at,
            }),
        ],
    };
    let opts = crate::Options::default();
    let module = crate::codegen::generate_with_source(&module, "shell", Some(source), &opts)
        .map_err(|ds| ShellError::Check(ds.into_iter().filter(|d| d.severity == crate::Severity::Error).collect()))?;
    Ok(ShellExpr { module, bound: after })
}

/// Rewrites local calls that are not auto-imported BIFs into calls of
/// `shell_default` (guards and patterns are left alone: a call there is
/// an error the checks report). Iterative, so long lists do not recurse.
fn route_local_calls(root: &mut Expr) {
    let mut stack: Vec<&mut Expr> = vec![root];
    while let Some(e) = stack.pop() {
        if let ExprKind::LocalCall(name, args) = &mut e.kind {
            if !crate::bifs::is_auto_imported(&name.name, args.len()) {
                let mut args = std::mem::take(args);
                // `f(X)`: forget X, bound or not; the command gets its name.
                if name.name == "f" && args.len() == 1 {
                    if let ExprKind::Var(v) = &args[0].kind {
                        args[0] = Expr { kind: ExprKind::Atom(v.clone()), span: args[0].span };
                    }
                }
                let m = Expr { kind: ExprKind::Atom(SHELL_DEFAULT.into()), span: name.span };
                let f = Expr { kind: ExprKind::Atom(name.name.clone()), span: name.span };
                e.kind = ExprKind::RemoteCall(Box::new(m), Box::new(f), args);
            }
        }
        push_children(&mut e.kind, &mut stack);
    }
}

fn push_clauses<'a>(cs: &'a mut [Clause], stack: &mut Vec<&'a mut Expr>) {
    for c in cs {
        stack.extend(c.body.iter_mut());
    }
}

fn push_children<'a>(k: &'a mut ExprKind, stack: &mut Vec<&'a mut Expr>) {
    match k {
        ExprKind::Var(_)
        | ExprKind::Atom(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::String(_)
        | ExprKind::Nil
        | ExprKind::RecordIndex(..)
        | ExprKind::FunRef(_) => {}
        ExprKind::Tuple(v) | ExprKind::Block(v) => stack.extend(v.iter_mut()),
        ExprKind::Cons(h, t) | ExprKind::BinOp(_, h, t) => {
            stack.push(h);
            stack.push(t);
        }
        ExprKind::Binary(elems) => {
            for el in elems {
                stack.push(&mut el.value);
                if let Some(s) = &mut el.size {
                    stack.push(s);
                }
            }
        }
        ExprKind::Map(fields) => {
            for f in fields {
                stack.push(&mut f.key);
                stack.push(&mut f.value);
            }
        }
        ExprKind::MapUpdate(e, fields) => {
            stack.push(e);
            for f in fields {
                stack.push(&mut f.key);
                stack.push(&mut f.value);
            }
        }
        ExprKind::Record(_, fields) => stack.extend(fields.iter_mut().map(|f| &mut f.value)),
        ExprKind::RecordUpdate(e, _, fields) => {
            stack.push(e);
            stack.extend(fields.iter_mut().map(|f| &mut f.value));
        }
        ExprKind::RecordField(e, _, _) | ExprKind::UnOp(_, e) | ExprKind::Catch(e) | ExprKind::Match(_, e) => {
            stack.push(e)
        }
        ExprKind::LocalCall(_, args) => stack.extend(args.iter_mut()),
        ExprKind::RemoteCall(m, f, args) => {
            stack.push(m);
            stack.push(f);
            stack.extend(args.iter_mut());
        }
        ExprKind::FunRemote(m, f, a) => {
            stack.push(m);
            stack.push(f);
            stack.push(a);
        }
        ExprKind::FunCall(f, args) => {
            stack.push(f);
            stack.extend(args.iter_mut());
        }
        ExprKind::Case(e, cs) => {
            stack.push(e);
            push_clauses(cs, stack);
        }
        ExprKind::If(cs) | ExprKind::Fun(_, cs, _) => push_clauses(cs, stack),
        ExprKind::Receive(cs, after) => {
            push_clauses(cs, stack);
            if let Some(a) = after {
                stack.push(&mut a.timeout);
                stack.extend(a.body.iter_mut());
            }
        }
        ExprKind::Try(t) => {
            let t = &mut **t;
            stack.extend(t.body.iter_mut());
            push_clauses(&mut t.of, stack);
            for c in t.catches.iter_mut() {
                stack.extend(c.body.iter_mut());
            }
            stack.extend(t.after.iter_mut());
        }
        ExprKind::ListComp(e, qs, _) | ExprKind::BinComp(e, qs, _) => {
            stack.push(e);
            for q in qs {
                match q {
                    Qualifier::Generator(_, e) | Qualifier::BinGenerator(_, e) | Qualifier::Filter(e) => stack.push(e),
                }
            }
        }
    }
}
