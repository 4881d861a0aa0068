//! Loaded code: module instances, the export table and the code table.
//!
//! # Design (issue 4 builds on it)
//!
//! - An `Instance` is one loaded version of a module: its translated code,
//!   literal area, lambdas, line table. Instances are immutable and **never
//!   freed** (`&'static`, leaked on purpose): a purge only marks an instance
//!   `Purged`. So a scheduler running a process in old code, a continuation
//!   pointer on a stack or a fun on a heap can never dangle, without any
//!   reference count on the hot path. The cost is the memory of purged code,
//!   which programs that reload a module thousands of times will notice (a
//!   few KB per version).
//! - The code table keeps per module a `current` and an `old` instance
//!   (Erlang's two slots).
//! - The export table maps `{M,F,A}` to a leaked `ExportEntry`. Remote calls
//!   go through it; local calls jump directly. An entry's target is a code
//!   address, a native BIF, or nothing ("undefined": the caller autoloads
//!   the module or raises `undef`).
//! - Loading commits atomically, as in BEAM's code index scheme: each entry
//!   holds two target slots; a commit writes the staging slot of every
//!   affected entry, then flips the global `active` index with one atomic
//!   store. A process reads `active` at each remote call, so it sees either
//!   the whole old module or the whole new one.
//!
//! Calling order of the loading API: `loader::prepare` (no lock; verifies
//! and translates) → `CodeServer::commit` (short write lock) or drop the
//! `Prepared` to abort.

use crate::atom::Atom;
use crate::bif::BifFn;
use crate::heap::Heap;
pub use crate::op::CodePtr;
use crate::op::Op;
use crate::term::{FunEntry, Term};
use hashbrown::HashMap;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

/// A `{Module, Function, Arity}` triple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mfa(pub Atom, pub Atom, pub u8);

/// Native functions that the export table must treat specially because they
/// transfer control (they cannot be plain BIFs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    None,
    /// `erlang:apply/2`
    Apply2,
    /// `erlang:apply/3`
    Apply3,
    /// A function of a native module written in minierl: the call goes on
    /// to this `{Module, Function}` with the same arguments (for example
    /// `erlang:check_process_code/2`, which must wait for a reply).
    Forward(&'static str, &'static str),
}

/// One `{M,F,A}` of the export table. Never freed.
pub struct ExportEntry {
    pub module: Atom,
    pub function: Atom,
    pub arity: u8,
    /// The native implementation, fixed when the VM starts.
    pub bif: Option<BifFn>,
    pub special: Special,
    /// Code address per code index (null: not loaded). See the module docs.
    targets: [AtomicPtr<Op>; 2],
}

impl std::fmt::Debug for ExportEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}/{}", self.module.name(), self.function.name(), self.arity)
    }
}

impl ExportEntry {
    fn new(mfa: Mfa, bif: Option<BifFn>, special: Special) -> ExportEntry {
        ExportEntry {
            module: mfa.0,
            function: mfa.1,
            arity: mfa.2,
            bif,
            special,
            targets: [AtomicPtr::new(std::ptr::null_mut()), AtomicPtr::new(std::ptr::null_mut())],
        }
    }
    pub fn mfa(&self) -> Mfa {
        Mfa(self.module, self.function, self.arity)
    }
    /// The code address a remote call jumps to now (null if not loaded).
    #[inline]
    pub fn target(&self, active: usize) -> *const Op {
        self.targets[active].load(Ordering::Acquire)
    }
}

/// The state of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum InstanceState {
    Current = 0,
    Old = 1,
    Purged = 2,
}

/// Metadata of one function of an instance.
#[derive(Clone, Debug)]
pub struct FuncMeta {
    pub name: Atom,
    pub arity: u8,
    /// `[start, end)` op indices (start = the FuncInfo).
    pub start: u32,
    pub end: u32,
}

/// One loaded version of a module. See the module docs: never freed.
pub struct Instance {
    pub module: Atom,
    pub code: Box<[Op]>,
    pub functions: Vec<FuncMeta>,
    /// (op index, line), sorted by op index.
    pub lines: Vec<(u32, u32)>,
    pub source: String,
    pub lambdas: Box<[FunEntry]>,
    /// Exported (function, arity, op index of the entry).
    pub exports: Vec<(Atom, u8, u32)>,
    /// Literal terms live here (the heap's blocks are never collected).
    pub literals: Mutex<Heap>,
    /// `module_info(attributes)` as a literal term.
    pub attributes: Term,
    pub vsn: u64,
    pub(crate) state: AtomicU8,
    /// Load sequence number (distinguishes versions).
    pub generation: u64,
}

// SAFETY: an instance is immutable after loading except for its atomics and
// the literal heap behind a Mutex; its raw code addresses point into itself.
unsafe impl Sync for Instance {}
unsafe impl Send for Instance {}

impl Instance {
    pub fn state(&self) -> InstanceState {
        match self.state.load(Ordering::Acquire) {
            0 => InstanceState::Current,
            1 => InstanceState::Old,
            _ => InstanceState::Purged,
        }
    }
    pub(crate) fn set_state(&self, s: InstanceState) {
        self.state.store(s as u8, Ordering::Release)
    }
    /// Does `p` point into this instance's code?
    pub fn contains(&self, p: *const Op) -> bool {
        let s = self.code.as_ptr() as usize;
        let a = p as usize;
        a >= s && a < s + self.code.len() * std::mem::size_of::<Op>()
    }
    /// Index of the op at `p` (which must be inside).
    pub fn index_of(&self, p: *const Op) -> u32 {
        ((p as usize - self.code.as_ptr() as usize) / std::mem::size_of::<Op>()) as u32
    }
    pub fn addr(&self, index: u32) -> *const Op {
        &self.code[index as usize] as *const Op
    }
    /// The function holding op index `i`.
    pub fn function_at(&self, i: u32) -> Option<&FuncMeta> {
        let k = self.functions.partition_point(|f| f.start <= i);
        self.functions.get(k.checked_sub(1)?).filter(|f| i < f.end)
    }
    /// The source line of op index `i` (0 if unknown).
    pub fn line_at(&self, i: u32) -> u32 {
        let k = self.lines.partition_point(|&(pc, _)| pc <= i);
        k.checked_sub(1).map(|k| self.lines[k].1).unwrap_or(0)
    }
    /// Where an exported function starts.
    pub fn export_addr(&self, f: Atom, a: u8) -> Option<*const Op> {
        self.exports.iter().find(|e| e.0 == f && e.1 == a).map(|e| self.addr(e.2))
    }
}

/// The two slots of a module.
#[derive(Default, Clone, Copy)]
pub struct Slots {
    pub current: Option<&'static Instance>,
    pub old: Option<&'static Instance>,
}

/// Code table + export table. One per VM.
pub struct CodeServer {
    modules: RwLock<HashMap<Atom, Slots>>,
    exports: RwLock<HashMap<Mfa, &'static ExportEntry>>,
    /// Which of the two target slots of every export entry is live.
    active: AtomicUsize,
    /// Every instance ever loaded (for mapping code addresses to instances).
    instances: RwLock<Vec<&'static Instance>>,
    /// Serialises commits (loads, deletes, purges).
    commit_lock: Mutex<()>,
    generation: AtomicUsize,
    /// The file each module's current code was loaded from
    /// (`code:is_loaded/1`, `code:which/1`).
    pub files: Mutex<HashMap<Atom, String>>,
}

impl Default for CodeServer {
    fn default() -> Self {
        CodeServer::new()
    }
}

/// Why a load was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// Old code exists (`{error, not_purged}`).
    NotPurged,
    /// Bad file or module (`{error, badfile}`), with a message.
    BadFile(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotPurged => write!(f, "not_purged"),
            LoadError::BadFile(m) => write!(f, "{m}"),
        }
    }
}

impl CodeServer {
    pub fn new() -> CodeServer {
        CodeServer {
            modules: RwLock::new(HashMap::new()),
            exports: RwLock::new(HashMap::new()),
            active: AtomicUsize::new(0),
            instances: RwLock::new(Vec::new()),
            commit_lock: Mutex::new(()),
            generation: AtomicUsize::new(1),
            files: Mutex::new(HashMap::new()),
        }
    }

    /// The live code index (read at each remote call).
    #[inline]
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// The export entry for `mfa`, created "undefined" if new.
    pub fn export(&self, mfa: Mfa) -> &'static ExportEntry {
        if let Some(e) = self.exports.read().unwrap().get(&mfa) {
            return e;
        }
        let mut t = self.exports.write().unwrap();
        t.entry(mfa).or_insert_with(|| Box::leak(Box::new(ExportEntry::new(mfa, None, Special::None))))
    }

    /// The export entry for `mfa` if one exists.
    pub fn find_export(&self, mfa: Mfa) -> Option<&'static ExportEntry> {
        self.exports.read().unwrap().get(&mfa).copied()
    }

    /// Register a native function (at VM start, before any code loads).
    pub fn register_bif(&self, mfa: Mfa, f: BifFn, special: Special) {
        let mut t = self.exports.write().unwrap();
        t.insert(mfa, Box::leak(Box::new(ExportEntry::new(mfa, Some(f), special))));
    }

    pub fn slots(&self, m: Atom) -> Slots {
        self.modules.read().unwrap().get(&m).copied().unwrap_or_default()
    }

    pub fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) as u64
    }

    /// Make `inst` the current code of its module (phase 2 of loading).
    /// Refuses with `NotPurged` if the module has old code, as OTP does.
    pub fn commit(&self, inst: &'static Instance) -> Result<(), LoadError> {
        let _g = self.commit_lock.lock().unwrap();
        let mut mods = self.modules.write().unwrap();
        let slots = mods.entry(inst.module).or_default();
        if slots.old.is_some() && slots.current.is_some() {
            return Err(LoadError::NotPurged);
        }
        let prev = slots.current;
        self.instances.write().unwrap().push(inst);
        // Stage every affected entry in the inactive slot, then flip.
        let active = self.active.load(Ordering::Acquire);
        let staging = 1 - active;
        let mut touched: Vec<&'static ExportEntry> = Vec::new();
        if let Some(p) = prev {
            for &(f, a, _) in &p.exports {
                let e = self.export(Mfa(inst.module, f, a));
                e.targets[staging].store(std::ptr::null_mut(), Ordering::Relaxed);
                touched.push(e);
            }
        }
        for &(f, a, idx) in &inst.exports {
            let e = self.export(Mfa(inst.module, f, a));
            e.targets[staging].store(inst.addr(idx) as *mut Op, Ordering::Relaxed);
            touched.push(e);
        }
        self.active.store(staging, Ordering::Release);
        for e in touched {
            let v = e.targets[staging].load(Ordering::Relaxed);
            e.targets[active].store(v, Ordering::Release);
        }
        if let Some(p) = prev {
            p.set_state(InstanceState::Old);
        }
        // After `code:delete/1` (no current code) the old code stays old.
        if prev.is_some() {
            slots.old = prev;
        }
        slots.current = Some(inst);
        Ok(())
    }

    /// `code:delete/1`: current becomes old, exports become undefined.
    /// False if there is no current code or old code exists.
    pub fn delete(&self, m: Atom) -> bool {
        let _g = self.commit_lock.lock().unwrap();
        let mut mods = self.modules.write().unwrap();
        let Some(slots) = mods.get_mut(&m) else { return false };
        let (Some(cur), None) = (slots.current, slots.old) else { return false };
        for &(f, a, _) in &cur.exports {
            let e = self.export(Mfa(m, f, a));
            for t in &e.targets {
                t.store(std::ptr::null_mut(), Ordering::Release);
            }
        }
        cur.set_state(InstanceState::Old);
        slots.old = Some(cur);
        slots.current = None;
        true
    }

    /// Remove the old code of `m` (after the caller dealt with processes
    /// lingering in it). Returns the purged instance.
    pub fn purge_old(&self, m: Atom) -> Option<&'static Instance> {
        let _g = self.commit_lock.lock().unwrap();
        let mut mods = self.modules.write().unwrap();
        let slots = mods.get_mut(&m)?;
        let old = slots.old.take()?;
        old.set_state(InstanceState::Purged);
        if slots.current.is_none() {
            mods.remove(&m);
        }
        Some(old)
    }

    /// The instance whose code contains `p`.
    pub fn instance_of(&self, p: *const Op) -> Option<&'static Instance> {
        self.instances.read().unwrap().iter().rev().find(|i| i.contains(p)).copied()
    }

    /// Modules with current code.
    pub fn loaded(&self) -> Vec<(Atom, &'static Instance)> {
        self.modules.read().unwrap().iter().filter_map(|(m, s)| s.current.map(|c| (*m, c))).collect()
    }
}
