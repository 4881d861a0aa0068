//! The interpreter on hand-assembled modules: loops in constant memory,
//! deep body recursion, exceptions and catch, receive with timeouts, and
//! the loader refusing bad modules.

use minierl::atom;
use minierl::term::Term;
use minierl::vm::{MainExit, Vm};
use minierl_bytecode::*;

/// A tiny assembler: named atoms and imports, functions appended in order.
struct Asm {
    m: Module,
}

impl Asm {
    fn new(name: &str) -> Asm {
        Asm {
            m: Module {
                atoms: vec![name.into()],
                literals: vec![],
                imports: vec![],
                exports: vec![],
                functions: vec![],
                lambdas: vec![],
                code: vec![],
                lines: vec![],
                source: format!("{name}.erl"),
                vsn: 0,
                attributes: vec![],
            },
        }
    }
    fn atom(&mut self, s: &str) -> AtomIdx {
        if let Some(i) = self.m.atoms.iter().position(|a| a == s) {
            return AtomIdx(i as u32);
        }
        self.m.atoms.push(s.into());
        AtomIdx(self.m.atoms.len() as u32 - 1)
    }
    fn import(&mut self, m: &str, f: &str, a: u8) -> ImportIdx {
        let (m, f) = (self.atom(m), self.atom(f));
        self.m.imports.push(Import { module: m, function: f, arity: a });
        ImportIdx(self.m.imports.len() as u32 - 1)
    }
    /// Add a function whose body is `body(entry_label)`; returns its entry.
    fn func(&mut self, name: &str, arity: u8, export: bool, body: impl FnOnce(&mut Asm, u32) -> Vec<Instr>) -> Label {
        let n = self.atom(name);
        let info = self.m.code.len() as u32;
        let fi = self.m.functions.len() as u32;
        self.m.functions.push(Function { name: n, arity, info: Label(info), entry: Label(info + 1), line: 1 });
        self.m.code.push(Instr::FuncInfo { func: FuncIdx(fi) });
        self.m.lines.push(LineEntry { pc: info, line: 10 + fi });
        let b = body(self, info + 1);
        self.m.code.extend(b);
        if export {
            self.m.exports.push(Export { function: n, arity, label: Label(info + 1) });
        }
        Label(info + 1)
    }
}

fn run(m: &Module, args: Option<&[String]>) -> (MainExit, Option<(String, usize)>, &'static Vm) {
    let vm = Vm::new();
    vm.capture.store(true, std::sync::atomic::Ordering::Relaxed);
    let inst = minierl::loader::load(&vm.code, m).expect("module loads");
    let exit = vm.run_main(inst.module, args);
    let last = vm.last_exit.lock().unwrap().clone();
    (exit, last, vm)
}

/// main() -> loop(10000000, nil).
/// loop(0, Acc) -> Acc; loop(N, _) -> loop(N - 1, {N}).   (garbage each turn)
fn looping(n: i64) -> Module {
    let mut a = Asm::new("looper");
    let minus = a.import("erlang", "-", 2);
    a.func("main", 0, true, |_, e| {
        vec![
            Instr::Move { src: Src::Int(n), dst: Dst::X(0) },
            Instr::Move { src: Src::Nil, dst: Dst::X(1) },
            Instr::CallOnly { arity: 2, label: Label(e + 5) },
            Instr::Nop,
        ]
    });
    a.func("loop", 2, false, |_, e| {
        vec![
            Instr::Cmp { op: CmpOp::EqExact, a: Src::X(0), b: Src::Int(0), fail: Label(e + 3) },
            Instr::Move { src: Src::X(1), dst: Dst::X(0) },
            Instr::Return,
            Instr::TestHeap { words: 2, live: 1 },
            Instr::PutTuple { elements: vec![Src::X(0)], dst: Dst::X(1) },
            Instr::Bif {
                import: minus,
                args: vec![Src::X(0), Src::Int(1)],
                dst: Dst::X(0),
                fail: Label::NONE,
                live: 2,
            },
            Instr::CallOnly { arity: 2, label: Label(e) },
        ]
    });
    a.m
}

#[test]
fn tail_loop_runs_in_constant_memory() {
    let (exit, last, _) = run(&looping(10_000_000), None);
    assert!(matches!(exit, MainExit::Normal), "{exit:?}");
    let (res, mem) = last.unwrap();
    assert_eq!(res, "{1}");
    assert!(mem < 16 * 1024, "memory grew to {mem} bytes");
}

/// len(0) -> 0; len(N) -> 1 + len(N - 1).  and  mk(0) -> []; mk(N) -> [N | mk(N-1)].
fn deep() -> Module {
    let mut a = Asm::new("deep");
    let minus = a.import("erlang", "-", 2);
    let plus = a.import("erlang", "+", 2);
    let length = a.import("erlang", "length", 1);
    let len_entry = 5; // main is 4 ops + FuncInfo
    a.func("main", 0, true, |_, _| {
        vec![
            Instr::Allocate { stack: 1, live: 0 },
            Instr::Move { src: Src::Int(1_000_000), dst: Dst::X(0) },
            Instr::Call { arity: 1, label: Label(len_entry + 0) },
            Instr::Move { src: Src::X(0), dst: Dst::Y(0) },
            Instr::Move { src: Src::Int(1_000_000), dst: Dst::X(0) },
            Instr::Call { arity: 1, label: Label(len_entry + 11) },
            Instr::Bif { import: length, args: vec![Src::X(0)], dst: Dst::X(1), fail: Label::NONE, live: 1 },
            Instr::PutTuple { elements: vec![Src::Y(0), Src::X(1)], dst: Dst::X(0) },
            Instr::Deallocate { stack: 1 },
            Instr::Return,
        ]
    });
    // main is FuncInfo + 10 ops → len's FuncInfo at 11, entry at 12.
    let e = a.func("len", 1, false, |_, e| {
        vec![
            Instr::Cmp { op: CmpOp::EqExact, a: Src::X(0), b: Src::Int(0), fail: Label(e + 2) },
            Instr::Return,
            Instr::Allocate { stack: 0, live: 1 },
            Instr::Bif {
                import: minus,
                args: vec![Src::X(0), Src::Int(1)],
                dst: Dst::X(0),
                fail: Label::NONE,
                live: 1,
            },
            Instr::Call { arity: 1, label: Label(e) },
            Instr::Bif { import: plus, args: vec![Src::X(0), Src::Int(1)], dst: Dst::X(0), fail: Label::NONE, live: 1 },
            Instr::Deallocate { stack: 0 },
            Instr::Return,
        ]
    });
    let mk = a.func("mk", 1, false, |_, e| {
        vec![
            Instr::Cmp { op: CmpOp::EqExact, a: Src::X(0), b: Src::Int(0), fail: Label(e + 3) },
            Instr::Move { src: Src::Nil, dst: Dst::X(0) },
            Instr::Return,
            Instr::Allocate { stack: 1, live: 1 },
            Instr::Move { src: Src::X(0), dst: Dst::Y(0) },
            Instr::Bif {
                import: minus,
                args: vec![Src::X(0), Src::Int(1)],
                dst: Dst::X(0),
                fail: Label::NONE,
                live: 1,
            },
            Instr::Call { arity: 1, label: Label(e) },
            Instr::TestHeap { words: 2, live: 1 },
            Instr::PutList { head: Src::Y(0), tail: Src::X(0), dst: Dst::X(0) },
            Instr::Deallocate { stack: 1 },
            Instr::Return,
        ]
    });
    // Patch main's call targets now that the labels are known.
    if let Instr::Call { label, .. } = &mut a.m.code[3] {
        *label = e;
    }
    if let Instr::Call { label, .. } = &mut a.m.code[6] {
        *label = mk;
    }
    a.m
}

#[test]
fn body_recursion_a_million_deep() {
    let (exit, last, _) = run(&deep(), None);
    assert!(matches!(exit, MainExit::Normal), "{exit:?}");
    assert_eq!(last.unwrap().0, "{1000000,1000000}");
}

/// Exceptions: try/catch of error/1, catch of badarith, function_clause.
fn exceptions() -> Module {
    let mut a = Asm::new("exc");
    let error1 = a.import("erlang", "error", 1);
    let plus = a.import("erlang", "+", 2);
    let foo = a.atom("foo");
    let aa = a.atom("a");
    let ok = a.atom("ok");
    // main() -> {try error(foo) catch error:R -> {caught, R} end, catch 1 + a}
    let caught = a.atom("caught");
    a.func("main", 0, true, |_, e| {
        vec![
            Instr::Allocate { stack: 2, live: 0 },               // e
            Instr::Try { y: 0, handler: Label(e + 6) },          // e+1
            Instr::Move { src: Src::Atom(foo), dst: Dst::X(0) }, // e+2
            Instr::CallExt { arity: 1, import: error1 },         // e+3
            Instr::TryEnd { y: 0 },                              // e+4
            Instr::Jump { label: Label(e + 8) },                 // e+5
            Instr::TryCase { y: 0 },                             // e+6
            Instr::PutTuple { elements: vec![Src::Atom(caught), Src::X(1)], dst: Dst::X(0) }, // e+7
            Instr::Move { src: Src::X(0), dst: Dst::Y(1) },      // e+8
            Instr::Catch { y: 0, handler: Label(e + 11) },       // e+9
            Instr::Bif {
                import: plus,
                args: vec![Src::Int(1), Src::Atom(aa)],
                dst: Dst::X(0),
                fail: Label::NONE,
                live: 0,
            }, // e+10
            Instr::CatchEnd { y: 0 },                            // e+11
            Instr::GetTupleElement { src: Src::X(0), index: 1, dst: Dst::X(0) }, // {badarith, Stack}
            Instr::GetTupleElement { src: Src::X(0), index: 0, dst: Dst::X(0) },
            Instr::PutTuple { elements: vec![Src::Y(1), Src::X(0)], dst: Dst::X(0) },
            Instr::Deallocate { stack: 2 },
            Instr::Return,
        ]
    });
    // f(0) -> ok.   main2() -> f(3).
    let f = a.func("f", 1, false, |_, e| {
        vec![
            Instr::Cmp { op: CmpOp::EqExact, a: Src::X(0), b: Src::Int(0), fail: Label(e - 1) },
            Instr::Move { src: Src::Atom(ok), dst: Dst::X(0) },
            Instr::Return,
        ]
    });
    a.func("main2", 0, true, move |_, _| {
        vec![
            Instr::Allocate { stack: 0, live: 0 },
            Instr::Move { src: Src::Int(3), dst: Dst::X(0) },
            Instr::Call { arity: 1, label: f },
            Instr::Deallocate { stack: 0 },
            Instr::Return,
        ]
    });
    a.m
}

#[test]
fn try_catch_and_catch() {
    let (exit, last, _) = run(&exceptions(), None);
    assert!(matches!(exit, MainExit::Normal), "{exit:?}");
    assert_eq!(last.unwrap().0, "{{caught,foo},badarith}");
}

#[test]
fn function_clause_carries_the_arguments() {
    let m = exceptions();
    let vm = Vm::new();
    let inst = minierl::loader::load(&vm.code, &m).unwrap();
    let pid = vm.spawn_mfa(Term::atom(inst.module), Term::atom(atom::intern("main2")), Term::NIL);
    match vm.run_until_exit(pid) {
        MainExit::Crash { reason, trace, .. } => {
            assert_eq!(reason, Term::atom(atom::FUNCTION_CLAUSE));
            let first = trace.head().unwrap().tuple_elements().unwrap();
            assert_eq!(format!("{:?}", first[2]), "[3]");
            assert_eq!(format!("{:?}", first[1]), "f");
            let text = minierl::report::uncaught(minierl::process::Class::Error, reason, trace);
            assert!(text.starts_with("** exception error: no function clause matching exc:f(3)"), "{text}");
            assert!(text.contains("in function  exc:main2/0"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

/// main() -> timer:sleep(20), self() ! hi, receive X -> X after 1000 -> timeout end.
#[test]
fn receive_and_sleep() {
    let mut a = Asm::new("rcv");
    let sleep = a.import("timer", "sleep", 1);
    let selff = a.import("erlang", "self", 0);
    let hi = a.atom("hi");
    let to = a.atom("timeout");
    a.func("main", 0, true, |_, e| {
        vec![
            Instr::Allocate { stack: 0, live: 0 },             // e
            Instr::Move { src: Src::Int(20), dst: Dst::X(0) }, // e+1
            Instr::CallExt { arity: 1, import: sleep },        // e+2
            Instr::Bif { import: selff, args: vec![], dst: Dst::X(0), fail: Label::NONE, live: 0 }, // e+3
            Instr::Move { src: Src::Atom(hi), dst: Dst::X(1) }, // e+4
            Instr::Send,                                       // e+5
            Instr::LoopRec { fail: Label(e + 10), dst: Dst::X(0) }, // e+6
            Instr::RemoveMessage,                              // e+7
            Instr::Deallocate { stack: 0 },                    // e+8
            Instr::Return,                                     // e+9
            Instr::WaitTimeout { label: Label(e + 6), timeout: Src::Int(1000) }, // e+10
            Instr::Timeout,                                    // e+11
            Instr::Move { src: Src::Atom(to), dst: Dst::X(0) },
            Instr::Deallocate { stack: 0 },
            Instr::Return,
        ]
    });
    let t = std::time::Instant::now();
    let (exit, last, _) = run(&a.m, None);
    assert!(matches!(exit, MainExit::Normal), "{exit:?}");
    assert_eq!(last.unwrap().0, "hi");
    assert!(t.elapsed() >= std::time::Duration::from_millis(20));
}

#[test]
fn loader_rejects_bad_modules_without_panicking() {
    let vm = Vm::new();
    let bytes = encode(&exceptions());
    assert!(minierl::loader::load_bytes(&vm.code, &bytes).is_ok());
    for n in (0..bytes.len()).step_by(7) {
        assert!(minierl::loader::load_bytes(&vm.code, &bytes[..n]).is_err());
    }
    for i in (0..bytes.len()).step_by(3) {
        let mut b = bytes.clone();
        b[i] ^= 0x5A;
        let _ = minierl::loader::load_bytes(&vm.code, &b);
    }
    // Unreachable code naming a missing literal: an error, not a panic.
    let mut m = looping(1);
    m.code.push(Instr::Move { src: Src::Lit(LitIdx(99)), dst: Dst::X(0) });
    assert!(minierl::loader::load(&vm.code, &m).is_err());
    // A reachable jump out of range.
    let mut m = looping(1);
    m.code[3] = Instr::Jump { label: Label(9999) };
    assert!(minierl::loader::load(&vm.code, &m).is_err());
}

#[test]
fn second_load_needs_a_purge() {
    let vm = Vm::new();
    let m = looping(1);
    minierl::loader::load(&vm.code, &m).unwrap();
    minierl::loader::load(&vm.code, &m).unwrap();
    assert!(matches!(minierl::loader::load(&vm.code, &m), Err(minierl::code::LoadError::NotPurged)));
    let name = atom::intern("looper");
    assert!(vm.code.purge_old(name).is_some());
    assert!(minierl::loader::load(&vm.code, &m).is_ok());
}
