//! The minierl runtime: terms, heaps, garbage collection, the loader, the
//! interpreter, processes and their scheduler, and the BIFs. The `minierl`
//! binary (`main.rs`) is a thin command line over `Vm`.
//!
//! Code map:
//! - `term` — the one-word `Term` encoding and its inspection API;
//! - `heap` — process heaps, heap fragments, building terms, deep copy;
//! - `gc` — the copying collector and the heap verifier;
//! - `hamt` — maps of more than 32 keys (a persistent hash trie);
//! - `atom` — the global atom table;
//! - `op` — the internal instruction set the loader produces;
//! - `code` — module instances, the export table, the code table;
//! - `loader` — verify + translate a `minierl_bytecode::Module` (prepare),
//!   then commit;
//! - `interp` — the dispatch loop, calls, exceptions, stack traces;
//! - `process`, `sched` — processes, mailboxes, the run queue, timers;
//! - `bif/` — native functions, one file per area;
//! - `memory` — the counting global allocator behind `erlang:memory/0,1`;
//! - `vm` — the VM object tying it together (autoload, spawning, running);
//! - `shell/` — the interactive shell's terminal side and its BIFs.
//!
//! `unsafe` blocks are in `term.rs`, `heap.rs`, `gc.rs`, the dispatch loop
//! (`interp.rs`: code pointers, unchecked register and y-slot access the
//! verifier guarantees), the loader's lambda table, the scheduler's worker
//! pointer (`sched.rs`), the counting allocator (`memory.rs`) and libm's `erf` (`bif/math.rs`); `Send`/`Sync`
//! impls in `vm.rs`, `process.rs`, `code.rs`, `op.rs`. Each has a
//! `// SAFETY:` comment.

pub mod atom;
pub mod bif;
pub mod builtin;
pub mod code;
pub mod format;
pub mod gc;
pub mod hamt;
pub mod heap;
pub mod interp;
pub mod loader;
pub mod memory;
pub mod op;
pub mod process;
pub mod report;
pub mod sched;
pub mod shell;
pub mod term;
pub mod vm;

/// Counts the bytes in use for `erlang:memory/0,1` (see `memory.rs`).
#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;

pub use atom::Atom;
pub use heap::Heap;
pub use term::Term;
pub use vm::Vm;
