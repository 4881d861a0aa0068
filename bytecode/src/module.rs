//! A compiled module as the compiler produces it and the loader reads it.

use crate::instr::*;
use num_bigint::BigInt;
use serde::{Deserialize, Serialize};

/// A constant term, built once by the loader into the module's literal area.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    Int(i64),
    BigInt(BigInt),
    /// Bit pattern of an f64.
    Float(u64),
    Atom(AtomIdx),
    Nil,
    /// A proper or improper list: elements then tail.
    List(Vec<Literal>, Box<Literal>),
    /// A string literal: a proper list of the given code points.
    Str(Vec<u32>),
    Tuple(Vec<Literal>),
    /// Bytes and the number of bits used (`bits <= 8 * bytes.len()`).
    Binary {
        bytes: Vec<u8>,
        bits: u64,
    },
    Map(Vec<(Literal, Literal)>),
    /// `fun M:F/A` with constant parts.
    ExportFun {
        module: AtomIdx,
        function: AtomIdx,
        arity: u8,
    },
}

/// A remote function reference used by calls and BIFs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    pub module: AtomIdx,
    pub function: AtomIdx,
    pub arity: u8,
}

/// An exported function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub function: AtomIdx,
    pub arity: u8,
    /// The entry label (just after the function's `FuncInfo`).
    pub label: Label,
}

/// Every function of the module, exported or not (stack traces, funs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub name: AtomIdx,
    pub arity: u8,
    /// Label of the `FuncInfo` instruction; code runs up to the next function.
    pub info: Label,
    /// The entry label (just after `FuncInfo`).
    pub entry: Label,
    /// Line of the first clause.
    pub line: u32,
}

/// A fun body (`fun (...) -> ... end`, `fun f/1`), lifted to a function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lambda {
    /// The function holding the code; it takes `arity` arguments followed
    /// by `num_free` free variables.
    pub func: FuncIdx,
    /// The arity seen by callers.
    pub arity: u8,
    pub num_free: u16,
    /// Index of this lambda among the module's funs (Erlang's `index`) and a
    /// stable hash of its code (Erlang's `uniq`), for printing and equality.
    pub index: u32,
    pub uniq: u32,
}

/// One entry of the line table: instructions from `pc` on come from `line`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineEntry {
    pub pc: u32,
    pub line: u32,
}

/// A compiled module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// `atoms[0]` is the module's name.
    pub atoms: Vec<String>,
    pub literals: Vec<Literal>,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    pub functions: Vec<Function>,
    pub lambdas: Vec<Lambda>,
    pub code: Vec<Instr>,
    /// Sorted by `pc`.
    pub lines: Vec<LineEntry>,
    /// The source file name as given to the compiler (for stack traces).
    pub source: String,
    /// `-vsn` or, by default, a hash of the code: `module_info(attributes)`.
    pub vsn: u64,
    /// Other `-attribute(Value)` declarations, as literals: (name, value).
    pub attributes: Vec<(AtomIdx, Literal)>,
}

impl Module {
    pub fn name(&self) -> &str {
        self.atoms.first().map(|s| s.as_str()).unwrap_or("")
    }
}
