//! Criterion benches for processes (issue 3): spawning, sending and
//! receiving, and the run queue. Each runs a small program in the VM (the
//! real compiler, loader and schedulers, one per core) from `main` to exit.

use criterion::{criterion_group, criterion_main, Criterion};
use minierl::term::Term;
use minierl::vm::{MainExit, Vm};

const SOURCE: &str = r#"
-module(bench_procs).
-export([spawn_exit/0, ping_pong/0, yielders/0]).

%% 10,000 processes spawned; each tells main it ran, then exits.
spawn_exit() ->
    Self = self(),
    spawn_n(10000, Self),
    wait(10000).
spawn_n(0, _) -> ok;
spawn_n(N, Self) -> spawn(fun() -> Self ! done end), spawn_n(N - 1, Self).
wait(0) -> ok;
wait(N) -> receive done -> wait(N - 1) end.

%% 50,000 round trips between main and one echo process.
ping_pong() ->
    P = spawn(fun echo/0),
    pp(50000, P),
    P ! stop,
    ok.
echo() -> receive {From, M} -> From ! M, echo(); stop -> ok end.
pp(0, _) -> ok;
pp(N, P) -> P ! {self(), N}, receive N -> pp(N - 1, P) end.

%% 1,000 processes each yielding 100 times: 100,000 trips through the run
%% queue.
yielders() ->
    Self = self(),
    [spawn(fun() -> yield_n(100), Self ! done end) || _ <- lists:seq(1, 1000)],
    wait(1000).
yield_n(0) -> ok;
yield_n(N) -> erlang:yield(), yield_n(N - 1).
"#;

fn vm_with_program() -> &'static Vm {
    let vm = Vm::new();
    let compiled = minierl_compiler::compile("bench_procs.erl", SOURCE, &minierl_compiler::Options::default())
        .unwrap_or_else(|d| {
            panic!("bench program does not compile: {:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>())
        });
    minierl::loader::load(&vm.code, &compiled.module).unwrap();
    vm
}

/// Run `bench_procs:F()` as the main process of a run.
fn run(vm: &'static Vm, f: &str) {
    let m = minierl::atom::intern("bench_procs");
    let pid = vm.spawn_mfa(Term::atom(m), Term::atom(minierl::atom::intern(f)), Term::NIL);
    let r = vm.run_until_exit(pid);
    assert!(matches!(r, MainExit::Normal), "bench_procs:{f}/0 did not return normally");
}

fn procs(c: &mut Criterion) {
    let vm = vm_with_program();
    c.bench_function("spawn: 10k processes spawned, each sends and exits", |b| b.iter(|| run(vm, "spawn_exit")));
    c.bench_function("send/receive: 50k round trips", |b| b.iter(|| run(vm, "ping_pong")));
    c.bench_function("run queue: 1000 processes x 100 yields", |b| b.iter(|| run(vm, "yielders")));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = procs
}
criterion_main!(benches);
