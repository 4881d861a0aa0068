//! The abstract syntax tree: what the parser produces and the checks and the
//! code generator consume. Every node carries the span of its source text.
//! Macros are already expanded (the preprocessor works on tokens); records,
//! comprehensions and string-prefix patterns are still here as written and
//! are lowered by the code generator.

use num_bigint::BigInt;

/// A byte range in the source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A name with the span where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub name: String,
    pub span: Span,
}

/// `name/arity` in `-export`, `-import`, `fun f/1`.
#[derive(Clone, Debug, PartialEq)]
pub struct FunName {
    pub name: String,
    pub arity: u8,
    pub span: Span,
}

/// A whole source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub forms: Vec<Form>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    /// `-module(name).`
    Module(Name),
    /// `-export([f/1, ...]).`
    Export(Vec<FunName>, Span),
    /// `-import(mod, [f/1, ...]).`
    Import(Name, Vec<FunName>, Span),
    /// `-compile(Options).` (e.g. `export_all`, `[export_all, nowarn_...]`).
    Compile(Expr, Span),
    /// `-record(name, {field = Default, ...}).`
    Record(Name, Vec<RecordFieldDef>, Span),
    /// Any other `-name(Value).` (e.g. `-vsn(2)`, `-author(...)`, `-behaviour(gen_server)`).
    Attribute(Name, Expr, Span),
    Function(Function),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordFieldDef {
    pub name: Name,
    pub default: Option<Expr>,
    pub span: Span,
}

/// A function: consecutive clauses with the same name and arity.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: String,
    pub arity: u8,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

/// A clause of a function, `case`, `receive`, `try ... of`, or fun.
/// For `if` clauses `params` is empty; for `case`/`receive`/`of` it has one pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    /// For function clauses and named funs, the name written in the head.
    pub name: Option<Name>,
    pub params: Vec<Pat>,
    pub guard: Guard,
    pub body: Vec<Expr>,
    pub span: Span,
}

/// `when G1a, G1b; G2a ...`: a disjunction (`;`) of conjunctions (`,`).
/// Empty means no guard.
pub type Guard = Vec<Vec<Expr>>;

#[derive(Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    // arithmetic
    Add,
    Sub,
    Mul,
    /// `/`
    FDiv,
    Div,
    Rem,
    Band,
    Bor,
    Bxor,
    Bsl,
    Bsr,
    // boolean (strict)
    And,
    Or,
    Xor,
    // short-circuit
    AndAlso,
    OrElse,
    // comparison
    Eq,
    Ne,
    ExactEq,
    ExactNe,
    Lt,
    Le,
    Gt,
    Ge,
    // lists
    Append,
    Subtract,
    /// `!`
    Send,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    Bnot,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Var(String),
    Atom(String),
    /// Integer literals, including `$c` characters and `16#ff`.
    Int(BigInt),
    Float(f64),
    /// A string literal (adjacent literals already joined), as code points.
    String(Vec<u32>),
    Nil,
    Tuple(Vec<Expr>),
    /// `[H | T]`, and `[A, B, C]` as nested cons cells ending in Nil.
    Cons(Box<Expr>, Box<Expr>),
    Binary(Vec<BinElem<Expr>>),
    /// `#{K => V, ...}`; every field is `Assoc`.
    Map(Vec<MapField>),
    /// `Expr#{K => V, K := V}`.
    MapUpdate(Box<Expr>, Vec<MapField>),
    /// `#name{f = E, _ = E}`.
    Record(Name, Vec<RecordFieldExpr>),
    /// `Expr#name{f = E}`.
    RecordUpdate(Box<Expr>, Name, Vec<RecordFieldExpr>),
    /// `Expr#name.field`.
    RecordField(Box<Expr>, Name, Name),
    /// `#name.field`: the field's position in the tuple.
    RecordIndex(Name, Name),
    /// `Pat = Expr`.
    Match(Box<Pat>, Box<Expr>),
    BinOp(BinOp, Box<Expr>, Box<Expr>),
    UnOp(UnOp, Box<Expr>),
    /// `f(Args)`: a local function, an imported one, or a BIF auto-imported
    /// from `erlang` — resolved by the checks and code generator.
    LocalCall(Name, Vec<Expr>),
    /// `M:F(Args)` where M and F are expressions (usually atoms).
    RemoteCall(Box<Expr>, Box<Expr>, Vec<Expr>),
    /// `Expr(Args)` where Expr is not an atom: calling a fun.
    FunCall(Box<Expr>, Vec<Expr>),
    Case(Box<Expr>, Vec<Clause>),
    If(Vec<Clause>),
    Receive(Vec<Clause>, Option<Box<After>>),
    Try(Box<Try>),
    /// `catch Expr`.
    Catch(Box<Expr>),
    /// `begin ... end`.
    Block(Vec<Expr>),
    /// `fun (...) -> ... end`, or `fun Name(...) -> ... end` (named fun:
    /// every clause has `name` set and the name is bound inside the body).
    /// The last field holds OTP's names for the fun's code, set by the
    /// code generator's naming pass.
    Fun(Option<Name>, Vec<Clause>, Option<LiftedNames>),
    /// `fun f/1`.
    FunRef(FunName),
    /// `fun M:F/A` where each part is an atom/integer or a variable.
    FunRemote(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `[Expr || Qualifiers]`. The last field holds, once the code
    /// generator's naming pass has run, the name of the function lifted for
    /// each generator (as OTP names it); it is empty before.
    ListComp(Box<Expr>, Vec<Qualifier>, Vec<String>),
    /// `<< Expr || Qualifiers >>`, with the generators' names as above.
    BinComp(Box<Expr>, Vec<Qualifier>, Vec<String>),
}

/// The names OTP gives the code of a fun.
#[derive(Clone, Debug, PartialEq)]
pub struct LiftedNames {
    /// The function the body is lifted to: `-f/1-fun-N-`, or `-f/1-Name/A-K-`
    /// for a named fun that calls itself.
    pub func: String,
    /// When the clauses can fail to match: the function OTP raises
    /// `function_clause` from if the fun has free variables
    /// (`-f/1-inlined-K-`, taking the fun's arguments only).
    pub clause_fail: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct After {
    pub timeout: Expr,
    pub body: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Try {
    pub body: Vec<Expr>,
    /// `of` clauses (one pattern each); empty if there is no `of`.
    pub of: Vec<Clause>,
    pub catches: Vec<CatchClause>,
    /// `after` body; empty if there is none.
    pub after: Vec<Expr>,
    /// The copy of `after` the exception handler runs, as OTP copies a
    /// small `after` body into both exits: set by the code generator's
    /// naming pass, whose names differ between the copies (empty before:
    /// the handler runs `after`).
    pub after_handler: Vec<Expr>,
}

/// `Class:Reason:Stack when Guard -> Body`.
#[derive(Clone, Debug, PartialEq)]
pub struct CatchClause {
    /// An atom or variable pattern; `None` means `throw`.
    pub class: Option<Pat>,
    pub reason: Pat,
    /// The stacktrace variable, if written.
    pub stack: Option<Name>,
    pub guard: Guard,
    pub body: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `Pat <- ListExpr`
    Generator(Pat, Expr),
    /// `BinPat <= BinExpr`
    BinGenerator(Pat, Expr),
    /// A filter (a boolean expression or a guard test).
    Filter(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapField {
    pub key: Expr,
    pub value: Expr,
    /// `true` for `:=` (update an existing key / match), `false` for `=>`.
    pub exact: bool,
    pub span: Span,
}

/// `field = Expr`; `name` is `_` for the "all other fields" form.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordFieldExpr {
    pub name: Name,
    pub value: Expr,
    pub span: Span,
}

/// One segment of a binary expression or pattern: `Value:Size/Types`.
#[derive(Clone, Debug, PartialEq)]
pub struct BinElem<T> {
    pub value: T,
    pub size: Option<Expr>,
    pub types: Vec<BinType>,
    pub span: Span,
}

/// Type specifiers of a binary segment, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinType {
    Integer,
    Float,
    Binary,
    Bytes,
    Bitstring,
    Bits,
    Utf8,
    Utf16,
    Utf32,
    Signed,
    Unsigned,
    Big,
    Little,
    Native,
    Unit(u8),
}

#[derive(Debug, PartialEq)]
pub struct Pat {
    pub kind: PatKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatKind {
    Var(String),
    /// `_`
    Wildcard,
    Atom(String),
    Int(BigInt),
    Float(f64),
    /// A string literal: a proper list of code points.
    String(Vec<u32>),
    Nil,
    Tuple(Vec<Pat>),
    Cons(Box<Pat>, Box<Pat>),
    Binary(Vec<BinElem<Pat>>),
    /// `#{K := P}` (keys are guard expressions: literals or bound variables).
    Map(Vec<(Expr, Pat)>),
    /// `#name{f = P}`; fields not written match anything. A field named `_`
    /// gives the pattern for every other field.
    Record(Name, Vec<(Name, Pat)>),
    /// `#name.field` in a pattern: the field's index (an integer).
    RecordIndex(Name, Name),
    /// `P1 = P2`.
    Match(Box<Pat>, Box<Pat>),
}

// Long list literals are long chains of `Cons` boxes, and deeply nested
// tuples or operators are deep trees: the derived `Drop` and `Clone` would
// recurse once per element and overflow the stack (a 100,000-element list
// literal did). Both are iterative here. Because `Expr` and `Pat` implement
// `Drop`, their `kind` cannot be moved out: use `into_kind` (which leaves
// a `Nil` behind).

impl Expr {
    /// The node's kind, by value.
    pub fn into_kind(mut self) -> ExprKind {
        std::mem::replace(&mut self.kind, ExprKind::Nil)
    }
}

impl Pat {
    /// The node's kind, by value.
    pub fn into_kind(mut self) -> PatKind {
        std::mem::replace(&mut self.kind, PatKind::Nil)
    }
}

fn take_expr(b: &mut Box<Expr>) -> Expr {
    std::mem::replace(&mut **b, Expr { kind: ExprKind::Nil, span: Span::default() })
}

fn take_pat(b: &mut Box<Pat>) -> Pat {
    std::mem::replace(&mut **b, Pat { kind: PatKind::Nil, span: Span::default() })
}

/// Moves the sub-expressions of `k` that can nest without bound into
/// `stack` (and sub-patterns into `pats`), leaving leaves behind.
fn detach_expr(k: &mut ExprKind, stack: &mut Vec<Expr>, pats: &mut Vec<Pat>) {
    match k {
        ExprKind::Cons(h, t) | ExprKind::BinOp(_, h, t) => {
            stack.push(take_expr(h));
            stack.push(take_expr(t));
        }
        ExprKind::UnOp(_, e) | ExprKind::Catch(e) => stack.push(take_expr(e)),
        ExprKind::Tuple(v) | ExprKind::Block(v) => stack.append(v),
        ExprKind::Match(p, e) => {
            pats.push(take_pat(p));
            stack.push(take_expr(e));
        }
        _ => {}
    }
}

fn detach_pat(k: &mut PatKind, stack: &mut Vec<Pat>) {
    match k {
        PatKind::Cons(h, t) | PatKind::Match(h, t) => {
            stack.push(take_pat(h));
            stack.push(take_pat(t));
        }
        PatKind::Tuple(v) => stack.append(v),
        _ => {}
    }
}

fn expr_is_leaf(k: &ExprKind) -> bool {
    !matches!(
        k,
        ExprKind::Cons(..)
            | ExprKind::BinOp(..)
            | ExprKind::UnOp(..)
            | ExprKind::Catch(..)
            | ExprKind::Tuple(..)
            | ExprKind::Block(..)
            | ExprKind::Match(..)
    )
}

impl Drop for Expr {
    fn drop(&mut self) {
        if expr_is_leaf(&self.kind) {
            return;
        }
        let mut stack = Vec::new();
        let mut pats = Vec::new();
        detach_expr(&mut self.kind, &mut stack, &mut pats);
        while let Some(mut e) = stack.pop() {
            detach_expr(&mut e.kind, &mut stack, &mut pats);
            // `e` drops here with no nested children left.
        }
        // `pats` drop here, each iteratively.
    }
}

impl Drop for Pat {
    fn drop(&mut self) {
        if !matches!(self.kind, PatKind::Cons(..) | PatKind::Match(..) | PatKind::Tuple(..)) {
            return;
        }
        let mut stack = Vec::new();
        detach_pat(&mut self.kind, &mut stack);
        while let Some(mut p) = stack.pop() {
            detach_pat(&mut p.kind, &mut stack);
        }
    }
}

impl Clone for Expr {
    fn clone(&self) -> Expr {
        // Iterative along a list's tail; other nodes clone their children
        // (a head or a tuple element recurses one level per nesting).
        if !matches!(self.kind, ExprKind::Cons(..)) {
            return Expr { kind: self.kind.clone(), span: self.span };
        }
        let mut spine = Vec::new();
        let mut cur = self;
        while let ExprKind::Cons(h, t) = &cur.kind {
            spine.push((h.as_ref().clone(), cur.span));
            cur = t;
        }
        let mut acc = Expr { kind: cur.kind.clone(), span: cur.span };
        while let Some((h, span)) = spine.pop() {
            acc = Expr { kind: ExprKind::Cons(Box::new(h), Box::new(acc)), span };
        }
        acc
    }
}

impl Clone for Pat {
    fn clone(&self) -> Pat {
        if !matches!(self.kind, PatKind::Cons(..)) {
            return Pat { kind: self.kind.clone(), span: self.span };
        }
        let mut spine = Vec::new();
        let mut cur = self;
        while let PatKind::Cons(h, t) = &cur.kind {
            spine.push((h.as_ref().clone(), cur.span));
            cur = t;
        }
        let mut acc = Pat { kind: cur.kind.clone(), span: cur.span };
        while let Some((h, span)) = spine.pop() {
            acc = Pat { kind: PatKind::Cons(Box::new(h), Box::new(acc)), span };
        }
        acc
    }
}
