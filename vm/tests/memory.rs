//! Memory per idle process (issue 3: at most 1 KB; BEAM: 2.7 KB), measured
//! with `erlang:memory(total)` around spawning 100,000 processes that wait in
//! `receive` (`tests/memory/idle2.mrl`). Also checks `erlang:memory/0,1`'s
//! shape.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_minierl");

fn run(prog: &str) -> String {
    let o = Command::new(BIN).args(["run", prog]).output().expect("run minierl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn idle_process_costs_at_most_1kb() {
    let out = run(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/memory/idle2.mrl"));
    let n: usize = out.split_whitespace().next().and_then(|w| w.parse().ok()).expect(&out);
    assert!(n > 100 && n <= 1024, "bytes per idle process: {n}");
}

#[test]
fn memory_items() {
    let dir = std::env::temp_dir().join(format!("minierl-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("mem.mrl");
    std::fs::write(
        &p,
        "-module(mem).\n-export([main/0]).\nmain() ->\n    M = erlang:memory(),\n    \
         io:format(\"~p~n\", [[K || {K, _} <- M]]),\n    \
         [{total, T2}, {code, _}] = erlang:memory([total, code]),\n    true = T2 > 0,\n    \
         {'EXIT', {badarg, _}} = (catch erlang:memory(nope)),\n    ok.\n",
    )
    .unwrap();
    let out = run(p.to_str().unwrap());
    assert_eq!(out, "[total,processes,processes_used,system,atom,atom_used,binary,code,ets]\n");
    let _ = std::fs::remove_dir_all(&dir);
}
