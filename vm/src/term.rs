//! `Term`: one tagged 64-bit word, the value every register, stack slot and
//! heap cell holds. This module owns the encoding; everything else goes
//! through its API.
//!
//! # Tag scheme
//!
//! ```text
//! low bits   meaning
//! ....00     boxed pointer: address of a header word (8-aligned)
//! ....01     cons pointer: address of a cons cell (head, tail) + 1
//! ....10     header word (only inside heap objects, never in a register):
//!              bits 2..8 = object kind (`Kind*` consts), bits 8.. = payload size in words
//! ..0011     small integer: value << 4 (60-bit signed)
//! ..0111     atom: index << 4
//! ..1011     local pid: number << 4
//! ..1111     special, bits 4..8 say which, bits 8.. carry a value:
//!              0 nil `[]`, 1 the non-value (internal "no term"),
//!              2 catch marker (address of the `Try`/`Catch` op << 8),
//!              3 continuation pointer (address of an op << 8),
//!              4 x-register operand, 5 y-register operand (instruction
//!                operands only, see `interp::Src`)
//! ```
//!
//! Boxed objects (`[header, payload...]`):
//!
//! | kind      | payload                                                  |
//! |-----------|----------------------------------------------------------|
//! | TUPLE     | the elements (terms)                                     |
//! | POS_BIG / NEG_BIG | magnitude, u64 limbs little-endian (raw)         |
//! | FLOAT     | f64 bits (raw)                                           |
//! | BINARY    | bit size (raw), then the bytes packed (raw)              |
//! | MAP       | k0, v0, k1, v1, ... keys sorted by exact term order      |
//! | HAMT      | key count (raw), bitmap (raw), children (terms)          |
//! | HNODE     | bitmap (raw), children (terms): a HAMT's inner node      |
//! | FUN       | `*const FunEntry` (raw), then the free variables (terms) |
//! | EXPORT    | `*const ExportEntry` (raw)                               |
//! | REF       | the reference number (raw)                               |
//! | MATCH_CTX | the binary (term), the bit offset (raw)                  |
//! | WBUF      | bits committed (raw), then capacity bytes (raw): the      |
//! |           | buffer of appendable binaries (never a term by itself)   |
//! | BINVIEW   | the WBUF (term), bit size (raw): a bitstring made of the |
//! |           | first bits of a WBUF (`bif/binary.rs`, `append`)         |
//!
//! A cons cell is two words, head and tail, with no header.
//!
//! A map of up to 32 keys is a flat sorted array (MAP): lookup is a binary
//! search, update an O(n) copy of at most 64 words. A larger map is a
//! persistent hash trie (HAMT head, HNODE inner nodes, cons cells
//! `[Key | Value]` as leaves) with O(log n) get/put/remove; `hamt.rs` owns
//! that layout. Both are `Kind::Map`; `map_get`, `map_size` and
//! `map_entries` work on either; `map_flat` is only for flat maps.
//!
//! # Validity
//!
//! A `Term` that points into a process heap is valid until that heap is next
//! garbage collected (the collector rewrites the roots it is given, nothing
//! else). Slices returned by the accessors (`tuple_elements`,
//! `binary_bytes`, ...) borrow that memory with the same rule. Terms in a
//! module's literal area live forever (module instances are never freed).
//!
//! # Public API (for the formatter, BIFs and tests)
//!
//! - construct immediates: `Term::small`, `Term::int_fits`, `Term::atom`,
//!   `Term::pid`, `Term::NIL`, `Term::TRUE`, `Term::FALSE`, `Term::bool`;
//!   boxed terms are built with `Heap` (`heap.rs`): `tuple`, `cons`, `list`,
//!   `string`, `binary`, `bitstring`, `float`, `bigint`, `int`, `map`.
//! - inspect: `kind()`, `is_*`, `as_small`, `as_atom`, `atom_name`,
//!   `tuple_elements`, `cons_parts`, `iter_list` (+ `ListIter::tail`),
//!   `as_float`, `to_bigint`, `binary_bytes` / `bit_size`,
//!   `map_entries` / `map_size` / `map_get`, `pid_number`, `ref_number`,
//!   `fun_view`.
//! - compare: `cmp_terms` (term order), `eq` (`==`), `eq_exact` (`=:=`),
//!   `cmp_exact` (the map-key order: integers before floats of equal value).

use crate::atom::{self, Atom};
use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{ToPrimitive, Zero};
use std::cmp::Ordering;

/// One tagged word. See the module docs for the encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Term(u64);

const TAG_MASK: u64 = 0b11;
const TAG_BOXED: u64 = 0b00;
const TAG_CONS: u64 = 0b01;
const TAG_HEADER: u64 = 0b10;
const IMM_MASK: u64 = 0b1111;
const IMM_SMALL: u64 = 0b0011;
const IMM_ATOM: u64 = 0b0111;
const IMM_PID: u64 = 0b1011;
#[allow(dead_code)]
const IMM_SPECIAL: u64 = 0b1111;
const SPECIAL_MASK: u64 = 0xFF;
const SP_NIL: u64 = 0x0F;
const SP_NONE: u64 = 0x1F;
const SP_CATCH: u64 = 0x2F;
const SP_CP: u64 = 0x3F;
pub(crate) const SP_XREG: u64 = 0x4F;
pub(crate) const SP_YREG: u64 = 0x5F;

/// Smallest and largest small integers (60-bit signed).
pub const MIN_SMALL: i64 = -(1 << 59);
pub const MAX_SMALL: i64 = (1 << 59) - 1;

// Header kinds.
pub const KIND_TUPLE: u64 = 0;
pub const KIND_POS_BIG: u64 = 1;
pub const KIND_NEG_BIG: u64 = 2;
pub const KIND_FLOAT: u64 = 3;
pub const KIND_BINARY: u64 = 4;
pub const KIND_MAP: u64 = 5;
pub const KIND_FUN: u64 = 6;
pub const KIND_EXPORT: u64 = 7;
pub const KIND_REF: u64 = 8;
pub const KIND_MATCH_CTX: u64 = 9;
pub const KIND_HAMT: u64 = 10;
pub const KIND_HNODE: u64 = 11;
pub const KIND_WBUF: u64 = 12;
pub const KIND_BINVIEW: u64 = 13;

/// Build a header word.
#[inline]
pub const fn header(kind: u64, size: usize) -> u64 {
    ((size as u64) << 8) | (kind << 2) | TAG_HEADER
}
#[inline]
pub const fn header_kind(h: u64) -> u64 {
    (h >> 2) & 0x3F
}
#[inline]
pub const fn header_size(h: u64) -> usize {
    (h >> 8) as usize
}
#[inline]
pub const fn is_header(w: u64) -> bool {
    w & TAG_MASK == TAG_HEADER
}

/// Where the term words of a boxed object's payload are: `(first, count)`
/// (payload-relative). The other payload words are raw data the GC copies
/// without looking at.
#[inline]
pub fn payload_terms(h: u64) -> (usize, usize) {
    let size = header_size(h);
    match header_kind(h) {
        KIND_TUPLE | KIND_MAP => (0, size),
        KIND_FUN => (1, size - 1),
        KIND_MATCH_CTX => (0, 1),
        KIND_HAMT => (2, size - 2),
        KIND_HNODE => (1, size - 1),
        KIND_BINVIEW => (0, 1),
        _ => (0, 0),
    }
}

/// The type of a term, in Erlang's term order for the first ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Small,
    BigInt,
    Float,
    Atom,
    Ref,
    Fun,
    ExportFun,
    Pid,
    Tuple,
    Map,
    Nil,
    Cons,
    Binary,
    /// Internal objects (match contexts, markers, the non-value).
    Internal,
}

/// What a fun term holds, for printing and `erlang:fun_info`.
#[derive(Clone, Copy, Debug)]
pub enum FunView<'a> {
    /// A closure: defining module, lambda index/uniq, arity, free variables.
    Local { module: Atom, name: Atom, index: u32, uniq: u32, arity: u8, free: &'a [Term], entry: &'static FunEntry },
    /// `fun M:F/A`.
    Export { module: Atom, function: Atom, arity: u8 },
}

/// A lambda of a loaded module instance, pointed to by fun terms. Lives as
/// long as its instance (forever).
pub struct FunEntry {
    pub module: Atom,
    /// The name of the lifted function (`'-main/0-fun-0-'`).
    pub name: Atom,
    pub arity: u8,
    pub num_free: u16,
    pub index: u32,
    pub uniq: u32,
    /// Address of the code (the lambda function's entry op).
    pub code: crate::code::CodePtr,
    /// The module instance that made this lambda (for purge checks).
    pub instance: std::sync::OnceLock<&'static crate::code::Instance>,
}

impl std::fmt::Debug for FunEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#Fun<{}.{}.{}>", self.module.name(), self.index, self.uniq)
    }
}

impl std::fmt::Debug for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::term::debug_fmt(*self, f, 0)
    }
}

impl Term {
    pub const NIL: Term = Term(SP_NIL);
    /// The non-value: "no term here" (never visible to Erlang code).
    pub const NONE: Term = Term(SP_NONE);
    pub const TRUE: Term = Term((atom::TRUE.0 as u64) << 4 | IMM_ATOM);
    pub const FALSE: Term = Term((atom::FALSE.0 as u64) << 4 | IMM_ATOM);

    #[inline]
    pub const fn raw(self) -> u64 {
        self.0
    }
    #[inline]
    pub const fn from_raw(w: u64) -> Term {
        Term(w)
    }

    // ---------- immediates ----------

    /// A small integer. `i` must be in `MIN_SMALL..=MAX_SMALL` (checked in
    /// debug builds); use `Heap::int` for any i64.
    #[inline]
    pub const fn small(i: i64) -> Term {
        debug_assert!(i >= MIN_SMALL && i <= MAX_SMALL);
        Term(((i as u64) << 4) | IMM_SMALL)
    }
    /// Does `i` fit in a small integer?
    #[inline]
    pub const fn int_fits(i: i64) -> bool {
        i >= MIN_SMALL && i <= MAX_SMALL
    }
    #[inline]
    pub fn try_small(i: i64) -> Option<Term> {
        if Self::int_fits(i) {
            Some(Term::small(i))
        } else {
            None
        }
    }
    #[inline]
    pub const fn atom(a: Atom) -> Term {
        Term(((a.0 as u64) << 4) | IMM_ATOM)
    }
    #[inline]
    pub const fn bool(b: bool) -> Term {
        if b {
            Term::TRUE
        } else {
            Term::FALSE
        }
    }
    /// A local pid with process number `n` (printed `<0.n.0>`).
    #[inline]
    pub const fn pid(n: u64) -> Term {
        Term((n << 4) | IMM_PID)
    }
    #[inline]
    pub(crate) fn catch_marker(op: *const u8) -> Term {
        Term(((op as u64) << 8) | SP_CATCH)
    }
    #[inline]
    pub(crate) fn cp(op: *const u8) -> Term {
        Term(((op as u64) << 8) | SP_CP)
    }

    #[inline]
    pub const fn is_small(self) -> bool {
        self.0 & IMM_MASK == IMM_SMALL
    }
    /// The value of a small integer (garbage if it is not one).
    #[inline]
    pub const fn small_value(self) -> i64 {
        (self.0 as i64) >> 4
    }
    #[inline]
    pub fn as_small(self) -> Option<i64> {
        if self.is_small() {
            Some(self.small_value())
        } else {
            None
        }
    }
    #[inline]
    pub const fn is_atom(self) -> bool {
        self.0 & IMM_MASK == IMM_ATOM
    }
    #[inline]
    pub fn as_atom(self) -> Option<Atom> {
        if self.is_atom() {
            Some(Atom((self.0 >> 4) as u32))
        } else {
            None
        }
    }
    /// The name of an atom term.
    pub fn atom_name(self) -> Option<&'static str> {
        self.as_atom().map(|a| a.name())
    }
    #[inline]
    pub const fn is_pid(self) -> bool {
        self.0 & IMM_MASK == IMM_PID
    }
    #[inline]
    pub fn pid_number(self) -> Option<u64> {
        if self.is_pid() {
            Some(self.0 >> 4)
        } else {
            None
        }
    }
    #[inline]
    pub const fn is_nil(self) -> bool {
        self.0 == SP_NIL
    }
    #[inline]
    pub const fn is_none(self) -> bool {
        self.0 == SP_NONE
    }
    #[inline]
    pub const fn is_immediate(self) -> bool {
        self.0 & TAG_MASK == 0b11
    }
    #[inline]
    pub(crate) fn as_catch(self) -> Option<*const u8> {
        if self.0 & SPECIAL_MASK == SP_CATCH {
            Some((self.0 >> 8) as *const u8)
        } else {
            None
        }
    }
    #[inline]
    pub(crate) fn as_cp(self) -> Option<*const u8> {
        if self.0 & SPECIAL_MASK == SP_CP {
            Some((self.0 >> 8) as *const u8)
        } else {
            None
        }
    }
    #[inline]
    pub fn is_bool(self) -> bool {
        self == Term::TRUE || self == Term::FALSE
    }

    // ---------- pointers ----------

    #[inline]
    pub const fn is_cons(self) -> bool {
        self.0 & TAG_MASK == TAG_CONS
    }
    #[inline]
    pub const fn is_boxed(self) -> bool {
        self.0 & TAG_MASK == TAG_BOXED && self.0 != 0
    }
    /// A cons or `[]`.
    #[inline]
    pub const fn is_list(self) -> bool {
        self.is_cons() || self.is_nil()
    }
    /// Make a boxed term from the address of its header.
    #[inline]
    pub fn from_boxed_ptr(p: *const u64) -> Term {
        debug_assert!(p as u64 & 7 == 0);
        Term(p as u64)
    }
    /// Make a cons term from the address of its cell.
    #[inline]
    pub fn from_cons_ptr(p: *const u64) -> Term {
        debug_assert!(p as u64 & 7 == 0);
        Term(p as u64 | TAG_CONS)
    }
    #[inline]
    pub fn boxed_ptr(self) -> *const u64 {
        self.0 as *const u64
    }
    #[inline]
    pub fn cons_ptr(self) -> *const u64 {
        (self.0 & !TAG_CONS) as *const u64
    }
    /// The header word of a boxed term.
    #[inline]
    pub fn header(self) -> u64 {
        debug_assert!(self.is_boxed());
        // SAFETY: a boxed term always points at a live object's header
        // (the validity rule in the module docs).
        unsafe { *self.boxed_ptr() }
    }
    #[inline]
    fn boxed_kind(self) -> Option<u64> {
        if self.is_boxed() {
            Some(header_kind(self.header()))
        } else {
            None
        }
    }
    /// The payload words of a boxed term.
    #[inline]
    pub fn payload(self) -> &'static [u64] {
        let h = self.header();
        // SAFETY: the header says how many payload words follow it; the
        // 'static lifetime is the documented validity rule (until next GC).
        unsafe { std::slice::from_raw_parts(self.boxed_ptr().add(1), header_size(h)) }
    }

    /// `(head, tail)` of a cons.
    #[inline]
    pub fn cons_parts(self) -> Option<(Term, Term)> {
        if self.is_cons() {
            Some(self.cons_unchecked())
        } else {
            None
        }
    }
    #[inline]
    pub fn cons_unchecked(self) -> (Term, Term) {
        debug_assert!(self.is_cons());
        // SAFETY: a cons term points at a live two-word cell.
        unsafe {
            let p = self.cons_ptr();
            (Term(*p), Term(*p.add(1)))
        }
    }
    #[inline]
    pub fn head(self) -> Option<Term> {
        self.cons_parts().map(|c| c.0)
    }
    #[inline]
    pub fn tail(self) -> Option<Term> {
        self.cons_parts().map(|c| c.1)
    }

    /// Iterate the elements of a list; `tail()` on the iterator afterwards
    /// says what ended it (`[]` for a proper list).
    pub fn iter_list(self) -> ListIter {
        ListIter { cur: self }
    }

    /// Elements of a proper list, or None.
    pub fn list_to_vec(self) -> Option<Vec<Term>> {
        let mut it = self.iter_list();
        let v: Vec<Term> = it.by_ref().collect();
        if it.tail().is_nil() {
            Some(v)
        } else {
            None
        }
    }

    /// Length of a proper list, or None.
    pub fn list_length(self) -> Option<usize> {
        let mut n = 0;
        let mut it = self.iter_list();
        while it.next().is_some() {
            n += 1;
        }
        if it.tail().is_nil() {
            Some(n)
        } else {
            None
        }
    }

    #[inline]
    pub fn is_tuple(self) -> bool {
        self.boxed_kind() == Some(KIND_TUPLE)
    }
    /// The elements of a tuple.
    #[inline]
    pub fn tuple_elements(self) -> Option<&'static [Term]> {
        if self.is_tuple() {
            Some(self.tuple_unchecked())
        } else {
            None
        }
    }
    #[inline]
    pub fn tuple_unchecked(self) -> &'static [Term] {
        let p = self.payload();
        // SAFETY: Term is repr(transparent) over u64; tuple payloads are terms.
        unsafe { std::slice::from_raw_parts(p.as_ptr() as *const Term, p.len()) }
    }

    #[inline]
    pub fn is_float(self) -> bool {
        self.boxed_kind() == Some(KIND_FLOAT)
    }
    #[inline]
    pub fn as_float(self) -> Option<f64> {
        if self.is_float() {
            Some(f64::from_bits(self.payload()[0]))
        } else {
            None
        }
    }
    #[inline]
    pub fn is_bignum(self) -> bool {
        matches!(self.boxed_kind(), Some(KIND_POS_BIG | KIND_NEG_BIG))
    }
    #[inline]
    pub fn is_integer(self) -> bool {
        self.is_small() || self.is_bignum()
    }
    #[inline]
    pub fn is_number(self) -> bool {
        self.is_small() || matches!(self.boxed_kind(), Some(KIND_POS_BIG | KIND_NEG_BIG | KIND_FLOAT))
    }
    /// Any integer (small or big) as a `BigInt`.
    pub fn to_bigint(self) -> Option<BigInt> {
        if let Some(i) = self.as_small() {
            return Some(BigInt::from(i));
        }
        let k = self.boxed_kind()?;
        if k != KIND_POS_BIG && k != KIND_NEG_BIG {
            return None;
        }
        let mut digits = Vec::with_capacity(self.payload().len() * 2);
        for &l in self.payload() {
            digits.push(l as u32);
            digits.push((l >> 32) as u32);
        }
        let mag = BigUint::new(digits);
        Some(BigInt::from_biguint(if k == KIND_NEG_BIG { Sign::Minus } else { Sign::Plus }, mag))
    }
    /// Any integer that fits in an i64.
    pub fn to_i64(self) -> Option<i64> {
        if let Some(i) = self.as_small() {
            return Some(i);
        }
        self.to_bigint().and_then(|b| b.to_i64())
    }
    /// A number as f64 (integers converted; None for non-numbers and for
    /// integers too large for a float, which Erlang rejects).
    pub fn to_f64(self) -> Option<f64> {
        if let Some(i) = self.as_small() {
            return Some(i as f64);
        }
        if let Some(f) = self.as_float() {
            return Some(f);
        }
        self.to_bigint().and_then(|b| b.to_f64()).filter(|f| f.is_finite())
    }

    /// A bitstring (binary or not).
    #[inline]
    pub fn is_bitstring(self) -> bool {
        matches!(self.boxed_kind(), Some(KIND_BINARY | KIND_BINVIEW))
    }
    /// A bitstring whose size is a whole number of bytes.
    #[inline]
    pub fn is_binary(self) -> bool {
        self.bit_size().is_some_and(|b| b % 8 == 0)
    }
    /// The size in bits of a bitstring.
    pub fn bit_size(self) -> Option<u64> {
        match self.boxed_kind()? {
            KIND_BINARY => Some(self.payload()[0]),
            KIND_BINVIEW => Some(self.payload()[1]),
            _ => None,
        }
    }
    /// The bytes of a bitstring (the last one partial if `bit_size % 8 != 0`).
    pub fn binary_bytes(self) -> Option<&'static [u8]> {
        let (data, bits) = match self.boxed_kind()? {
            KIND_BINARY => (self.payload(), self.payload()[0]),
            // A view: the bytes are the first `bits` of its buffer.
            KIND_BINVIEW => (Term(self.payload()[0]).payload(), self.payload()[1]),
            _ => return None,
        };
        let n = bits.div_ceil(8) as usize;
        // SAFETY: the payload after the size (BINARY) or committed-size
        // (WBUF) word holds at least n bytes: a view never reaches past the
        // committed part of its buffer.
        Some(unsafe { std::slice::from_raw_parts(data.as_ptr().add(1) as *const u8, n) })
    }
    /// For a bitstring that is a view of an appendable buffer (see
    /// `bif/binary.rs`, `append`): the buffer, the bits committed in it and
    /// its capacity in bytes.
    pub fn binary_buffer(self) -> Option<(Term, u64, usize)> {
        if self.boxed_kind()? != KIND_BINVIEW {
            return None;
        }
        let buf = Term(self.payload()[0]);
        let bp = buf.payload();
        Some((buf, bp[0], (bp.len() - 1) * 8))
    }

    #[inline]
    pub fn is_map(self) -> bool {
        matches!(self.boxed_kind(), Some(KIND_MAP | KIND_HAMT))
    }
    /// Number of keys of a map.
    pub fn map_size(self) -> Option<usize> {
        match self.boxed_kind()? {
            KIND_MAP => Some(self.payload().len() / 2),
            KIND_HAMT => Some(crate::hamt::size(self)),
            _ => None,
        }
    }
    /// The entries of a flat map (at most 32 keys) as a flat
    /// `[k0, v0, k1, v1, ...]` slice in key order (`cmp_exact`), which is
    /// also the order Erlang prints small maps. None for a larger map.
    pub fn map_flat(self) -> Option<&'static [Term]> {
        if self.boxed_kind() == Some(KIND_MAP) {
            Some(Term::words_as_terms(self.payload()))
        } else {
            None
        }
    }
    /// Payload words known to hold terms, as terms.
    #[inline]
    pub(crate) fn words_as_terms(w: &'static [u64]) -> &'static [Term] {
        // SAFETY: Term is repr(transparent) over u64; callers pass words
        // that `payload_terms` says are terms.
        unsafe { std::slice::from_raw_parts(w.as_ptr() as *const Term, w.len()) }
    }
    /// The entries of a map: in key order for a flat map, in the HAMT's
    /// hash order for a larger one (see `hamt.rs`).
    pub fn map_entries(self) -> Option<crate::hamt::MapIter> {
        if self.is_map() {
            Some(crate::hamt::MapIter::new(self))
        } else {
            None
        }
    }
    /// Look up `key` (`=:=`) in a map.
    pub fn map_get(self, key: Term) -> Option<Term> {
        let Some(f) = self.map_flat() else {
            return if self.is_map() { crate::hamt::get(self, key) } else { None };
        };
        let n = f.len() / 2;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match cmp_exact(f[2 * mid], key) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(f[2 * mid + 1]),
            }
        }
        None
    }

    #[inline]
    pub fn is_ref(self) -> bool {
        self.boxed_kind() == Some(KIND_REF)
    }
    /// The number of a reference (printed `#Ref<0.0.0.N>`).
    pub fn ref_number(self) -> Option<u64> {
        if self.is_ref() {
            Some(self.payload()[0])
        } else {
            None
        }
    }
    #[inline]
    pub fn is_function(self) -> bool {
        matches!(self.boxed_kind(), Some(KIND_FUN | KIND_EXPORT))
    }
    pub fn is_match_ctx(self) -> bool {
        self.boxed_kind() == Some(KIND_MATCH_CTX)
    }
    /// The arity of a fun.
    pub fn fun_arity(self) -> Option<u8> {
        match self.fun_view()? {
            FunView::Local { arity, .. } | FunView::Export { arity, .. } => Some(arity),
        }
    }
    /// What a fun holds.
    pub fn fun_view(self) -> Option<FunView<'static>> {
        match self.boxed_kind()? {
            KIND_FUN => {
                let p = self.payload();
                // SAFETY: the first payload word of a fun is a pointer to a
                // FunEntry of a (never freed) module instance.
                let e: &'static FunEntry = unsafe { &*(p[0] as *const FunEntry) };
                // SAFETY: the remaining payload words are terms.
                let free = unsafe { std::slice::from_raw_parts(p.as_ptr().add(1) as *const Term, p.len() - 1) };
                Some(FunView::Local {
                    module: e.module,
                    name: e.name,
                    index: e.index,
                    uniq: e.uniq,
                    arity: e.arity,
                    free,
                    entry: e,
                })
            }
            KIND_EXPORT => {
                let e = self.export_entry()?;
                Some(FunView::Export { module: e.module, function: e.function, arity: e.arity })
            }
            _ => None,
        }
    }
    /// The export entry of a `fun M:F/A` term.
    pub fn export_entry(self) -> Option<&'static crate::code::ExportEntry> {
        if self.boxed_kind()? == KIND_EXPORT {
            // SAFETY: the payload of an EXPORT object is a pointer to an
            // export entry, which are never freed.
            Some(unsafe { &*(self.payload()[0] as *const crate::code::ExportEntry) })
        } else {
            None
        }
    }

    /// The type of the term.
    pub fn kind(self) -> Kind {
        match self.0 & TAG_MASK {
            TAG_CONS => Kind::Cons,
            TAG_BOXED => match header_kind(self.header()) {
                KIND_TUPLE => Kind::Tuple,
                KIND_POS_BIG | KIND_NEG_BIG => Kind::BigInt,
                KIND_FLOAT => Kind::Float,
                KIND_BINARY | KIND_BINVIEW => Kind::Binary,
                KIND_MAP | KIND_HAMT => Kind::Map,
                KIND_FUN => Kind::Fun,
                KIND_EXPORT => Kind::ExportFun,
                KIND_REF => Kind::Ref,
                _ => Kind::Internal,
            },
            TAG_HEADER => Kind::Internal,
            _ => match self.0 & IMM_MASK {
                IMM_SMALL => Kind::Small,
                IMM_ATOM => Kind::Atom,
                IMM_PID => Kind::Pid,
                _ => {
                    if self.is_nil() {
                        Kind::Nil
                    } else {
                        Kind::Internal
                    }
                }
            },
        }
    }
}

/// Iterator over a list's elements; see `Term::iter_list`.
pub struct ListIter {
    cur: Term,
}

impl ListIter {
    /// What is left: `[]` after a proper list, the improper tail otherwise.
    pub fn tail(&self) -> Term {
        self.cur
    }
}

impl Iterator for ListIter {
    type Item = Term;
    #[inline]
    fn next(&mut self) -> Option<Term> {
        let (h, t) = self.cur.cons_parts()?;
        self.cur = t;
        Some(h)
    }
}

// ---------------- term order ----------------

/// Rank of a kind in Erlang's term order:
/// number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring.
fn order_rank(k: Kind) -> u8 {
    match k {
        Kind::Small | Kind::BigInt | Kind::Float => 0,
        Kind::Atom => 1,
        Kind::Ref => 2,
        Kind::Fun | Kind::ExportFun => 3,
        Kind::Pid => 5,
        Kind::Tuple => 6,
        Kind::Map => 7,
        Kind::Nil => 8,
        Kind::Cons => 9,
        Kind::Binary => 10,
        Kind::Internal => 11,
    }
}

/// Erlang's term order (`<`, `==`): numbers compare by value.
pub fn cmp_terms(a: Term, b: Term) -> Ordering {
    cmp_impl(a, b, false)
}

/// Exact term order (`=:=` and map keys), OTP's map-key order: as
/// `cmp_terms`, but every integer sorts before every float (so `2` comes
/// before `1.0`, also inside tuples and lists), and they are never equal.
pub fn cmp_exact(a: Term, b: Term) -> Ordering {
    cmp_impl(a, b, true)
}

/// `==`
#[inline]
pub fn eq(a: Term, b: Term) -> bool {
    a == b || (!a.is_immediate() || !b.is_immediate()) && cmp_terms(a, b) == Ordering::Equal
}

/// `=:=`
#[inline]
pub fn eq_exact(a: Term, b: Term) -> bool {
    a == b || (!a.is_immediate() && !b.is_immediate()) && cmp_exact(a, b) == Ordering::Equal
}

fn cmp_numbers(a: Term, b: Term, exact: bool) -> Ordering {
    if let (Some(x), Some(y)) = (a.as_small(), b.as_small()) {
        return x.cmp(&y);
    }
    let af = a.as_float();
    let bf = b.as_float();
    match (af, bf) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (None, None) => a.to_bigint().unwrap().cmp(&b.to_bigint().unwrap()),
        // Map-key order (OTP): every integer comes before every float.
        (Some(_), None) if exact => Ordering::Greater,
        (None, Some(_)) if exact => Ordering::Less,
        (Some(x), None) => cmp_float_int(x, b),
        (None, Some(y)) => cmp_float_int(y, a).reverse(),
    }
}

/// Compare a float with an integer term exactly (no rounding of big ints).
fn cmp_float_int(f: f64, i: Term) -> Ordering {
    if let Some(s) = i.as_small() {
        if s.unsigned_abs() < (1u64 << 53) {
            return f.partial_cmp(&(s as f64)).unwrap_or(Ordering::Equal);
        }
    }
    let bi = i.to_bigint().unwrap();
    if f.is_nan() {
        return Ordering::Equal;
    }
    if f.is_infinite() {
        return if f > 0.0 { Ordering::Greater } else { Ordering::Less };
    }
    let fl = f.floor();
    let fb = num_bigint::BigInt::from(fl as i128);
    let fb = if fl.abs() < 1e38 { fb } else { float_to_bigint(fl) };
    match fb.cmp(&bi) {
        Ordering::Equal => {
            if f > fl {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

/// The integer value of an integral float (any size).
pub fn float_to_bigint(f: f64) -> BigInt {
    if f.abs() < 9.0e18 {
        return BigInt::from(f as i64);
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let mut b = BigInt::from(mant);
    if exp > 0 {
        b <<= exp as usize;
    } else {
        b >>= (-exp) as usize;
    }
    if f < 0.0 {
        -b
    } else {
        b
    }
}

/// Term order. Iterative: pairs of sub-terms still to compare wait on a
/// work list (in order), so long lists and deeply nested terms compare in
/// constant native stack.
fn cmp_impl(a: Term, b: Term, exact: bool) -> Ordering {
    let mut work: Vec<(Term, Term, bool)> = Vec::new();
    let (mut a, mut b, mut exact) = (a, b, exact);
    loop {
        let o = cmp_step(a, b, exact, &mut work);
        if o != Ordering::Equal {
            return o;
        }
        match work.pop() {
            Some((x, y, e)) => {
                a = x;
                b = y;
                exact = e;
            }
            None => return Ordering::Equal,
        }
    }
}

/// Compares the tops of `a` and `b`; when they are equal composites, the
/// pairs of their parts are pushed on `work` (the first to compare last).
fn cmp_step(a: Term, b: Term, exact: bool, work: &mut Vec<(Term, Term, bool)>) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (ka, kb) = (a.kind(), b.kind());
    let (ra, rb) = (order_rank(ka), order_rank(kb));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match ka {
        Kind::Small | Kind::BigInt | Kind::Float => cmp_numbers(a, b, exact),
        Kind::Atom => a.atom_name().unwrap().cmp(b.atom_name().unwrap()),
        Kind::Ref => a.ref_number().cmp(&b.ref_number()),
        Kind::Pid => a.pid_number().cmp(&b.pid_number()),
        Kind::Nil => Ordering::Equal,
        Kind::Tuple => {
            let (x, y) = (a.tuple_unchecked(), b.tuple_unchecked());
            let o = x.len().cmp(&y.len());
            if o == Ordering::Equal {
                work.extend(x.iter().zip(y).rev().map(|(p, q)| (*p, *q, exact)));
            }
            o
        }
        Kind::Map => {
            // Size first, then keys in order (exactly), then values in
            // key order. Maps of equal size have the same layout (flat up
            // to 32 keys, HAMT above).
            let o = a.map_size().cmp(&b.map_size());
            if o == Ordering::Equal {
                if let (Some(x), Some(y)) = (a.map_flat(), b.map_flat()) {
                    for i in (1..x.len()).step_by(2).rev() {
                        work.push((x[i], y[i], exact));
                    }
                    for i in (0..x.len()).step_by(2).rev() {
                        work.push((x[i], y[i], true));
                    }
                } else {
                    let (x, y) = (crate::hamt::sorted_entries(a), crate::hamt::sorted_entries(b));
                    for (p, q) in x.iter().zip(&y).rev() {
                        work.push((p.1, q.1, exact));
                    }
                    for (p, q) in x.iter().zip(&y).rev() {
                        work.push((p.0, q.0, true));
                    }
                }
            }
            o
        }
        Kind::Cons => {
            let ((ha, ta), (hb, tb)) = (a.cons_unchecked(), b.cons_unchecked());
            work.push((ta, tb, exact));
            work.push((ha, hb, exact));
            Ordering::Equal
        }
        Kind::Binary => {
            let (x, y) = (a.binary_bytes().unwrap(), b.binary_bytes().unwrap());
            let (bx, by) = (a.bit_size().unwrap(), b.bit_size().unwrap());
            if bx % 8 == 0 && by % 8 == 0 {
                return x.cmp(y);
            }
            // Compare bit by bit up to the shorter, then by length.
            let n = bx.min(by);
            for i in 0..n {
                let ba = (x[(i / 8) as usize] >> (7 - i % 8)) & 1;
                let bb = (y[(i / 8) as usize] >> (7 - i % 8)) & 1;
                if ba != bb {
                    return ba.cmp(&bb);
                }
            }
            bx.cmp(&by)
        }
        Kind::Fun | Kind::ExportFun => cmp_funs(a, b, exact),
        Kind::Internal => a.0.cmp(&b.0),
    }
}

/// Compares two slices of terms in order, then by length.
fn cmp_slices(x: &[Term], y: &[Term], exact: bool) -> Ordering {
    for (a, b) in x.iter().zip(y) {
        let o = cmp_impl(*a, *b, exact);
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}

fn cmp_funs(a: Term, b: Term, exact: bool) -> Ordering {
    match (a.fun_view().unwrap(), b.fun_view().unwrap()) {
        (FunView::Export { .. }, FunView::Local { .. }) => Ordering::Greater,
        (FunView::Local { .. }, FunView::Export { .. }) => Ordering::Less,
        (
            FunView::Export { module: m1, function: f1, arity: a1 },
            FunView::Export { module: m2, function: f2, arity: a2 },
        ) => m1.name().cmp(m2.name()).then(f1.name().cmp(f2.name())).then(a1.cmp(&a2)),
        (
            FunView::Local { module: m1, index: i1, uniq: u1, free: f1, entry: e1, .. },
            FunView::Local { module: m2, index: i2, uniq: u2, free: f2, entry: e2, .. },
        ) => m1
            .name()
            .cmp(m2.name())
            .then(i1.cmp(&i2))
            .then(u1.cmp(&u2))
            .then((e1 as *const FunEntry as usize).cmp(&(e2 as *const FunEntry as usize)))
            .then_with(|| cmp_slices(f1, f2, exact)),
    }
}

/// A number term as a `BigInt` or `f64`, for arithmetic.
pub enum Num {
    Int(BigInt),
    Float(f64),
}

impl Num {
    pub fn of(t: Term) -> Option<Num> {
        if let Some(f) = t.as_float() {
            Some(Num::Float(f))
        } else {
            t.to_bigint().map(Num::Int)
        }
    }
}

/// BigInt helpers used by `Heap::bigint`.
pub(crate) fn bigint_limbs(b: &BigInt) -> (bool, Vec<u64>) {
    let neg = b.sign() == Sign::Minus;
    let limbs = if b.is_zero() { vec![] } else { b.magnitude().to_u64_digits() };
    (neg, limbs)
}

/// A compact, non-pretty debug rendering (`~w`-like). The real formatter
/// lives in `format/`; this one serves `Debug` and tests.
pub fn debug_fmt(t: Term, f: &mut std::fmt::Formatter<'_>, depth: usize) -> std::fmt::Result {
    if depth > 50 {
        return write!(f, "...");
    }
    match t.kind() {
        Kind::Small => write!(f, "{}", t.small_value()),
        Kind::BigInt => write!(f, "{}", t.to_bigint().unwrap()),
        Kind::Float => write!(f, "{:?}", t.as_float().unwrap()),
        Kind::Atom => write!(f, "{}", t.atom_name().unwrap()),
        Kind::Pid => write!(f, "<0.{}.0>", t.pid_number().unwrap()),
        Kind::Ref => write!(f, "#Ref<0.0.0.{}>", t.ref_number().unwrap()),
        Kind::Nil => write!(f, "[]"),
        Kind::Tuple => {
            write!(f, "{{")?;
            for (i, e) in t.tuple_unchecked().iter().enumerate() {
                if i > 0 {
                    write!(f, ",")?;
                }
                debug_fmt(*e, f, depth + 1)?;
            }
            write!(f, "}}")
        }
        Kind::Cons => {
            write!(f, "[")?;
            let mut it = t.iter_list();
            let mut first = true;
            for e in it.by_ref() {
                if !first {
                    write!(f, ",")?;
                }
                first = false;
                debug_fmt(e, f, depth + 1)?;
            }
            if !it.tail().is_nil() {
                write!(f, "|")?;
                debug_fmt(it.tail(), f, depth + 1)?;
            }
            write!(f, "]")
        }
        Kind::Binary => write!(f, "<<{:?}>>", t.binary_bytes().unwrap()),
        Kind::Map => {
            write!(f, "#{{")?;
            for (i, (k, v)) in t.map_entries().unwrap().enumerate() {
                if i > 0 {
                    write!(f, ",")?;
                }
                debug_fmt(k, f, depth + 1)?;
                write!(f, " => ")?;
                debug_fmt(v, f, depth + 1)?;
            }
            write!(f, "}}")
        }
        Kind::Fun | Kind::ExportFun => match t.fun_view().unwrap() {
            FunView::Local { module, index, .. } => write!(f, "#Fun<{}.{}>", module.name(), index),
            FunView::Export { module, function, arity } => {
                write!(f, "fun {}:{}/{}", module.name(), function.name(), arity)
            }
        },
        Kind::Internal => write!(f, "#Internal<{:#x}>", t.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_is_one_word() {
        assert_eq!(std::mem::size_of::<Term>(), 8);
    }

    #[test]
    fn small_ints_roundtrip() {
        for i in [0, 1, -1, 42, -42, MAX_SMALL, MIN_SMALL, 1 << 40, -(1 << 40)] {
            let t = Term::small(i);
            assert!(t.is_small() && t.is_integer() && t.is_number());
            assert_eq!(t.as_small(), Some(i));
            assert_eq!(t.kind(), Kind::Small);
        }
        assert!(!Term::int_fits(MAX_SMALL + 1));
        assert!(!Term::int_fits(MIN_SMALL - 1));
    }

    #[test]
    fn immediates_are_distinct() {
        let a = Term::atom(atom::OK);
        assert!(a.is_atom() && !a.is_small() && !a.is_pid() && !a.is_nil());
        assert_eq!(a.atom_name(), Some("ok"));
        assert!(Term::NIL.is_nil() && Term::NIL.is_list() && !Term::NIL.is_cons());
        assert_eq!(Term::pid(77).pid_number(), Some(77));
        assert!(Term::TRUE.is_bool());
        assert_eq!(Term::NIL.kind(), Kind::Nil);
        assert_eq!(Term::NONE.kind(), Kind::Internal);
        let p = 0x7fff_1234_5678usize as *const u8;
        assert_eq!(Term::cp(p).as_cp(), Some(p));
        assert_eq!(Term::catch_marker(p).as_catch(), Some(p));
        assert_eq!(Term::cp(p).as_catch(), None);
        assert!(Term::cp(p).is_immediate());
    }

    #[test]
    fn order_of_immediates() {
        use Ordering::*;
        assert_eq!(cmp_terms(Term::small(1), Term::small(2)), Less);
        assert_eq!(cmp_terms(Term::small(100), Term::atom(atom::OK)), Less);
        assert_eq!(cmp_terms(Term::atom(atom::OK), Term::atom(atom::ERROR)), Greater);
        assert_eq!(cmp_terms(Term::pid(1), Term::NIL), Less);
        assert_eq!(cmp_terms(Term::atom(atom::OK), Term::pid(1)), Less);
    }
}
