//! Modules the VM can provide itself, hand-assembled, when neither the
//! embedded stdlib nor the code path has them (`timer:sleep/1`,
//! `timer:tc/1`). Doubles as an example of building a module by hand.

use crate::atom::Atom;
use crate::vm::Vm;
use minierl_bytecode::*;

/// Load the built-in version of `m`, if there is one.
pub fn load(vm: &Vm, m: Atom) -> bool {
    let module = match m.name() {
        "timer" => timer(),
        _ => return false,
    };
    crate::loader::load(&vm.code, &module).is_ok()
}

/// ```erlang
/// sleep(T) -> receive after T -> ok end.
/// tc(F) -> T0 = erlang:monotonic_time(microsecond), V = F(),
///          {erlang:monotonic_time(microsecond) - T0, V}.
/// ```
pub fn timer() -> Module {
    // atoms: 0 timer, 1 sleep, 2 ok, 3 tc, 4 erlang, 5 monotonic_time, 6 microsecond, 7 -
    let atoms: Vec<String> = ["timer", "sleep", "ok", "tc", "erlang", "monotonic_time", "microsecond", "-"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let code = vec![
        // sleep/1
        Instr::FuncInfo { func: FuncIdx(0) },
        Instr::Allocate { stack: 1, live: 1 },                      // 1
        Instr::Move { src: Src::X(0), dst: Dst::Y(0) },             // 2
        Instr::LoopRec { fail: Label(5), dst: Dst::X(0) },          // 3
        Instr::LoopRecEnd { label: Label(3) },                      // 4
        Instr::WaitTimeout { label: Label(3), timeout: Src::Y(0) }, // 5
        Instr::Timeout,                                             // 6
        Instr::Deallocate { stack: 1 },                             // 7
        Instr::Move { src: Src::Atom(AtomIdx(2)), dst: Dst::X(0) }, // 8
        Instr::Return,                                              // 9
        // tc/1 at 10
        Instr::FuncInfo { func: FuncIdx(1) },
        Instr::Allocate { stack: 2, live: 1 },
        Instr::Move { src: Src::X(0), dst: Dst::Y(1) },
        Instr::Bif {
            import: ImportIdx(0),
            args: vec![Src::Atom(AtomIdx(6))],
            dst: Dst::Y(0),
            fail: Label::NONE,
            live: 0,
        },
        Instr::Move { src: Src::Y(1), dst: Dst::X(0) },
        Instr::CallFun { arity: 0 },
        Instr::Move { src: Src::X(0), dst: Dst::Y(1) },
        Instr::Bif {
            import: ImportIdx(0),
            args: vec![Src::Atom(AtomIdx(6))],
            dst: Dst::X(0),
            fail: Label::NONE,
            live: 0,
        },
        Instr::Bif {
            import: ImportIdx(1),
            args: vec![Src::X(0), Src::Y(0)],
            dst: Dst::X(0),
            fail: Label::NONE,
            live: 1,
        },
        Instr::PutTuple { elements: vec![Src::X(0), Src::Y(1)], dst: Dst::X(0) },
        Instr::Deallocate { stack: 2 },
        Instr::Return,
    ];
    Module {
        atoms,
        literals: vec![],
        imports: vec![
            Import { module: AtomIdx(4), function: AtomIdx(5), arity: 1 },
            Import { module: AtomIdx(4), function: AtomIdx(7), arity: 2 },
        ],
        exports: vec![
            Export { function: AtomIdx(1), arity: 1, label: Label(1) },
            Export { function: AtomIdx(3), arity: 1, label: Label(11) },
        ],
        functions: vec![
            Function { name: AtomIdx(1), arity: 1, info: Label(0), entry: Label(1), line: 1 },
            Function { name: AtomIdx(3), arity: 1, info: Label(10), entry: Label(11), line: 2 },
        ],
        lambdas: vec![],
        code,
        lines: vec![LineEntry { pc: 0, line: 1 }, LineEntry { pc: 10, line: 2 }],
        source: "timer.erl".into(),
        vsn: 0,
        attributes: vec![],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timer_module_verifies() {
        minierl_bytecode::verify(&super::timer()).unwrap();
    }
}
