//! Criterion benches for the VM's hot paths: instruction dispatch (a tail
//! loop), heap allocation and garbage collection.

use criterion::{criterion_group, criterion_main, Criterion};
use minierl::process::Process;
use minierl::term::Term;
use minierl::vm::Vm;
use minierl_bytecode::*;

/// `main() -> loop(N). loop(0) -> done; loop(N) -> loop(N - 1).`
fn loop_module(n: i64) -> Module {
    Module {
        atoms: vec!["bench_loop".into(), "main".into(), "loop".into(), "done".into(), "erlang".into(), "-".into()],
        literals: vec![],
        imports: vec![Import { module: AtomIdx(4), function: AtomIdx(5), arity: 2 }],
        exports: vec![Export { function: AtomIdx(1), arity: 0, label: Label(1) }],
        functions: vec![
            Function { name: AtomIdx(1), arity: 0, info: Label(0), entry: Label(1), line: 1 },
            Function { name: AtomIdx(2), arity: 1, info: Label(3), entry: Label(4), line: 2 },
        ],
        lambdas: vec![],
        code: vec![
            Instr::FuncInfo { func: FuncIdx(0) },
            Instr::Move { src: Src::Int(n), dst: Dst::X(0) },
            Instr::CallOnly { arity: 1, label: Label(4) },
            Instr::FuncInfo { func: FuncIdx(1) },
            Instr::Cmp { op: CmpOp::EqExact, a: Src::X(0), b: Src::Int(0), fail: Label(7) },
            Instr::Move { src: Src::Atom(AtomIdx(3)), dst: Dst::X(0) },
            Instr::Return,
            Instr::Bif {
                import: ImportIdx(0),
                args: vec![Src::X(0), Src::Int(1)],
                dst: Dst::X(0),
                fail: Label::NONE,
                live: 1,
            },
            Instr::CallOnly { arity: 1, label: Label(4) },
        ],
        lines: vec![],
        source: "bench_loop.erl".into(),
        vsn: 0,
        attributes: vec![],
    }
}

fn dispatch(c: &mut Criterion) {
    let vm = Vm::new();
    let inst = minierl::loader::load(&vm.code, &loop_module(1_000_000)).unwrap();
    c.bench_function("dispatch: 1M-iteration tail loop", |b| {
        b.iter(|| vm.run_main(inst.module, None));
    });
}

fn allocation(c: &mut Criterion) {
    c.bench_function("alloc: 10k 3-tuples + conses", |b| {
        b.iter(|| {
            let mut h = minierl::Heap::new();
            let mut l = Term::NIL;
            for i in 0..10_000 {
                let t = h.tuple(&[Term::small(i), Term::NIL, Term::small(1)]);
                l = h.cons(t, l);
            }
            l
        });
    });
}

fn gc(c: &mut Criterion) {
    let vm = Vm::new();
    c.bench_function("gc: collect 10k live conses + 90k garbage", |b| {
        b.iter(|| {
            let mut p = Process::new(vm, 1);
            let mut x = vec![Term::NIL; 4];
            for i in 0..100_000 {
                let c = p.heap.cons(Term::small(i), x[0]);
                if i % 10 == 0 {
                    x[0] = c;
                }
            }
            minierl::gc::collect(&mut p, &mut x, 1, 0);
            x[0]
        });
    });
}

criterion_group!(benches, dispatch, allocation, gc);
criterion_main!(benches);
