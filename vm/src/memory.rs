//! Memory accounting for `erlang:memory/0,1`: a global allocator that wraps
//! the system's and counts the bytes in use.
//!
//! The count is split over 64 cache-line-padded shards, each thread adding to
//! its own, so allocation on different schedulers (a send allocates a heap
//! fragment) never contends on one counter; a reader sums the shards.
//! `total` is exact. minierl does not tag allocations by owner, so
//! `processes` is everything allocated since the VM recorded its baseline
//! (after start-up, just before `main` is spawned: the atom table, the
//! stdlib's code as far as loaded); `system` is the rest. Code loaded later
//! counts as `processes`: see spec/processes.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

const SHARDS: usize = 64;

#[repr(align(64))]
struct Shard(AtomicIsize);

static COUNTS: [Shard; SHARDS] = [const { Shard(AtomicIsize::new(0)) }; SHARDS];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
static BASELINE: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static MY_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn shard() -> usize {
    MY_SHARD
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
                s.set(i);
            }
            i
        })
        .unwrap_or(0)
}

#[inline]
fn add(n: isize) {
    COUNTS[shard()].0.fetch_add(n, Ordering::Relaxed);
}

/// The counting allocator (installed as the global allocator in `lib.rs`).
pub struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counting has no effect on
// the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl's comment).
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        add(layout.size() as isize);
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        add(layout.size() as isize);
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        add(new_size as isize - layout.size() as isize);
        p
    }
}

/// The system refused memory (a program asked for a binary of 2^40 bytes,
/// say): the VM stops as BEAM does in that case ("Cannot allocate N bytes
/// of memory", exit status 1), instead of Rust's abort. The message is
/// formatted on the stack: nothing may allocate here.
#[cold]
fn out_of_memory(size: usize) -> ! {
    use std::io::Write;
    let mut buf = [0u8; 96];
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(cur, "minierl: Cannot allocate {size} bytes of memory.\n");
    let n = cur.position() as usize;
    let _ = std::io::stderr().write_all(&buf[..n]);
    std::process::exit(1)
}

/// Bytes allocated and not freed, all threads together.
pub fn total() -> usize {
    COUNTS.iter().map(|s| s.0.load(Ordering::Relaxed)).sum::<isize>().max(0) as usize
}

/// Record the current total as the system's share (see the module docs).
pub fn set_baseline() {
    BASELINE.store(total() as isize, Ordering::Relaxed);
}

/// Bytes counted as the system's: the baseline.
pub fn system() -> usize {
    (BASELINE.load(Ordering::Relaxed).max(0) as usize).min(total())
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_allocations() {
        // Other tests run at the same time: allow for their frees.
        let before = super::total();
        // black_box: without it the optimiser may drop the unused allocation.
        let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(64 << 20));
        assert!(super::total() >= before + (32 << 20));
        drop(std::hint::black_box(v));
    }
}

// ------------------------------------------------------------ the BIFs

use crate::bif::{bif, BifDef};
use crate::process::{BifResult, Exc, Process};
use crate::term::Term;

pub const BIFS: &[BifDef] = &[
    bif("erlang", "memory", 0, |p, _| {
        let all = report(p);
        let items: Vec<Term> = all
            .iter()
            .map(|(k, v)| {
                let (k, v) = (p.heap.atom(k), p.heap.int(*v as i64));
                p.heap.tuple(&[k, v])
            })
            .collect();
        Ok(p.heap.list(&items))
    }),
    bif("erlang", "memory", 1, memory_1),
];

/// `erlang:memory()`'s items in OTP's order. `total` = `processes` +
/// `system`; `atom` and `code` are parts of `system`, estimated from the
/// atom table's size and the loaded instances; minierl has no ETS and keeps
/// binaries on process heaps, so `ets` and `binary` are 0.
fn report(p: &Process) -> Vec<(&'static str, usize)> {
    let total = total();
    let system = system();
    let processes = total - system;
    let atoms = crate::atom::count() * 40;
    let code: usize =
        p.vm.code
            .loaded()
            .iter()
            .map(|(_, i)| i.code.len() * std::mem::size_of::<crate::op::Op>() + i.lines.len() * 8 + i.source.len())
            .sum();
    vec![
        ("total", total),
        ("processes", processes),
        ("processes_used", processes),
        ("system", system),
        ("atom", atoms),
        ("atom_used", atoms),
        ("binary", 0),
        ("code", code.min(system)),
        ("ets", 0),
    ]
}

fn memory_1(p: &mut Process, a: &[Term]) -> BifResult {
    let all = report(p);
    let one = |t: Term| -> Option<usize> {
        let n = t.atom_name()?;
        all.iter().find(|(k, _)| *k == n).map(|e| e.1)
    };
    if let Some(v) = one(a[0]) {
        return Ok(p.heap.int(v as i64));
    }
    let asked = a[0].list_to_vec().ok_or_else(Exc::badarg)?;
    let mut out = Vec::new();
    for t in asked {
        let v = one(t).ok_or_else(Exc::badarg)?;
        let n = p.heap.int(v as i64);
        out.push(p.heap.tuple(&[t, n]));
    }
    Ok(p.heap.list(&out))
}
