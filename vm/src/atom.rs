//! The global atom table: every atom of every module and every BIF result is
//! interned once and named by a dense index (`Atom`), so an atom term is one
//! immediate word and comparing two atoms for equality is comparing words.
//!
//! Atoms are never freed (as in BEAM). Names are leaked `&'static str`, so
//! `name()` hands them out without holding the lock. Lookups by name take a
//! read lock; interning a new atom takes the write lock: both happen while
//! loading code or in conversion BIFs, never on a hot path.

use hashbrown::HashMap;
use std::sync::{OnceLock, RwLock};

/// An index into the global atom table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(pub u32);

/// The most atoms the table holds (BEAM's default limit is 1,048,576).
pub const MAX_ATOMS: usize = 1 << 20;

struct Table {
    names: Vec<&'static str>,
    index: HashMap<&'static str, u32>,
}

fn table() -> &'static RwLock<Table> {
    static T: OnceLock<RwLock<Table>> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Table { names: Vec::new(), index: HashMap::new() };
        for name in PREDEFINED {
            let i = t.names.len() as u32;
            t.names.push(name);
            t.index.insert(name, i);
        }
        RwLock::new(t)
    })
}

/// Intern `name`, returning its atom (the same one on every call).
/// Panics only if the table is full (`MAX_ATOMS`); BIFs check `lookup` and
/// the limit first to raise `system_limit` instead.
pub fn intern(name: &str) -> Atom {
    if let Some(a) = lookup(name) {
        return a;
    }
    let mut t = table().write().unwrap();
    if let Some(&i) = t.index.get(name) {
        return Atom(i);
    }
    assert!(t.names.len() < MAX_ATOMS, "atom table full");
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let i = t.names.len() as u32;
    t.names.push(leaked);
    t.index.insert(leaked, i);
    Atom(i)
}

/// The atom named `name` if it already exists (`list_to_existing_atom`).
pub fn lookup(name: &str) -> Option<Atom> {
    table().read().unwrap().index.get(name).map(|&i| Atom(i))
}

/// The number of atoms interned so far.
pub fn count() -> usize {
    table().read().unwrap().names.len()
}

impl Atom {
    /// The atom's name.
    pub fn name(self) -> &'static str {
        table().read().unwrap().names.get(self.0 as usize).copied().unwrap_or("?bad-atom?")
    }
}

macro_rules! predefined {
    ($($id:ident = $name:expr),* $(,)?) => {
        const PREDEFINED: &[&str] = &[$($name),*];
        /// Atoms with a fixed index, usable as constants.
        #[allow(non_upper_case_globals)]
        pub mod consts {
            use super::Atom;
            predefined!(@consts 0u32, $($id),*);
        }
    };
    (@consts $n:expr, $id:ident $(, $rest:ident)*) => {
        pub const $id: Atom = Atom($n);
        predefined!(@consts $n + 1u32 $(, $rest)*);
    };
    (@consts $n:expr) => {};
}

predefined! {
    FALSE = "false", TRUE = "true", OK = "ok", ERROR = "error", EXIT = "exit", THROW = "throw",
    UNDEFINED = "undefined", NORMAL = "normal", KILLED = "killed", KILL = "kill", NIL_ATOM = "nil",
    ERLANG = "erlang", BADARG = "badarg", BADARITH = "badarith", BADMATCH = "badmatch",
    FUNCTION_CLAUSE = "function_clause", CASE_CLAUSE = "case_clause", IF_CLAUSE = "if_clause",
    TRY_CLAUSE = "try_clause", UNDEF = "undef", BADFUN = "badfun", BADARITY = "badarity",
    BADKEY = "badkey", BADMAP = "badmap", BADRECORD = "badrecord", SYSTEM_LIMIT = "system_limit",
    NOCATCH = "nocatch", EXIT_UPPER = "EXIT", FILE = "file", LINE = "line", INFINITY = "infinity",
    TIMEOUT_VALUE = "timeout_value", MODULE = "module", EXPORTS = "exports", ATTRIBUTES = "attributes",
    COMPILE = "compile", MD5 = "md5", FUNCTIONS = "functions", NATIVE = "native", SECOND = "second",
    MILLISECOND = "millisecond", MICROSECOND = "microsecond", NANOSECOND = "nanosecond",
    NATIVE_UNIT = "native_unit", PERF_COUNTER = "perf_counter", SECONDS = "seconds",
    MILLI_SECONDS = "milli_seconds", MICRO_SECONDS = "micro_seconds", NANO_SECONDS = "nano_seconds",
    LATIN1 = "latin1", UTF8 = "utf8", UNICODE = "unicode", VSN = "vsn", LISTS = "lists",
    TIMER = "timer", SLEEP = "sleep", APPLY = "apply", MODULE_INFO = "module_info",
    EMPTY = "", UNDEFINED_FUNCTION = "undefined_function", FUN_ATOM = "fun", ARITY = "arity",
    NAME = "name", ENV = "env", INDEX = "index", UNIQ = "uniq", NEW_INDEX = "new_index",
    NEW_UNIQ = "new_uniq", TYPE = "type", LOCAL = "local", EXTERNAL = "external", PID = "pid",
    BADARG_ATOM_END = "badfile",
}

pub use consts::*;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn predefined_and_interning() {
        assert_eq!(TRUE.name(), "true");
        assert_eq!(intern("true"), TRUE);
        assert_eq!(intern("false"), FALSE);
        let a = intern("some_new_atom_xyz");
        assert_eq!(intern("some_new_atom_xyz"), a);
        assert_eq!(a.name(), "some_new_atom_xyz");
        assert_eq!(lookup("never_interned_qq"), None);
    }
}
