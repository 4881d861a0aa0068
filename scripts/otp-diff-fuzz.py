#!/usr/bin/env python3
"""Differential fuzzing of library functions against real Erlang/OTP.

Writes a program of N random calls `catch M:F(Args)` (random terms: numbers,
bignums, floats, atoms, strings, lists, improper lists, tuples, binaries,
bitstrings, maps, funs), runs it on OTP (through scripts/gen-expected.py, as
lang-tests are) and on minierl, and prints every call whose result or
exception reason differs. Results holding pids, refs or funs are skipped.

Usage: scripts/otp-diff-fuzz.py [--bin PATH] [--calls N] [--modules m1,m2] SEED...

The functions called are the OTP 25 exports of the given modules (default:
erlang BIFs plus lists, string, maps, proplists, orddict, ordsets, queue,
gb_trees, gb_sets, sets, dict, math, binary, unicode), minus the ones that
would stop the run, touch files, or give run-dependent results. A VM crash
(non-zero exit of minierl) is reported with its stderr. Needs `erl`.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODULES = "erlang,lists,string,maps,proplists,orddict,ordsets,queue,gb_trees,gb_sets,sets,dict,math,binary,unicode"
# Calls that end the run, block, touch the system, or are not deterministic.
SKIP = re.compile(
    r"^(halt|exit|throw|error|raise|nif_error|spawn.*|link|unlink|monitor.*|demonitor|register|unregister|"
    r"process_flag|group_leader|suspend_process|resume_process|garbage_collect.*|hibernate|yield|send.*|"
    r"put|erase|get|display.*|apply|load_.*|purge_module|delete_module|check_.*|start_timer|send_after|"
    r"cancel_timer|read_timer|.*time.*|.*unique.*|memory|statistics|system_info|system_flag|process.*|"
    r"node.*|now|date|localtime.*|universaltime.*|make_ref|self|ports|port_.*|open_port|trace.*|"
    r"is_process_alive|whereis|registered|alias|unalias|fun_info|fun_to_list|phash|md5.*|crc32.*|adler32.*|"
    r"seq|duplicate|copies|chars|list_to_existing_atom|binary_to_existing_atom|atom_to_list|dist_.*|"
    r"set_cookie|get_cookie|is_alive|disconnect_node|spawn_request.*|module_info|function_exported|"
    r"pre_loaded|loaded|finish_.*|call_on_load_function|dt_.*|gather_gc_info_result|bump_reductions|"
    r"external_size|term_to_binary|term_to_iovec|append_element|make_tuple|decode_packet|crc32_combine)$"
)
FUNS = ["fun(X) -> X end", "fun(X) -> X > 1 end", "fun(X, Y) -> X < Y end", "fun(_, A) -> A end",
        "fun(K, V, A) -> [{K, V} | A] end", "fun erlang:is_integer/1", "fun(X) -> {true, X} end"]


def term(rng, depth=0):
    r = rng.random() * (0.6 if depth > 2 else 1.0)
    if r < 0.16:
        return rng.choice(["0", "1", "2", "3", "-1", "10", "255", "256", "1114111", "4294967296",
                           "(1 bsl 64)", "(-(1 bsl 100))", "576460752303423488"])
    if r < 0.22:
        return rng.choice(["0.0", "1.5", "-2.5e10", "1.0e308", "5.0e-324", "3.0"])
    if r < 0.32:
        return rng.choice(["a", "ok", "'Hello'", "true", "false", "undefined", "latin1", "utf8", "unicode",
                           "global", "infinity", "trim", "all", "leading", "trailing", "both", "[]"])
    if r < 0.42:
        return rng.choice(['"abc"', '""', '"a,b,,c"', '" x "', '[1,2|3]', '[256, 1114111]', '"123"', '"-12"',
                           '[a|b]', '[[1],<<2>>]', '[3,1,2,1]', '[{a,1},{b,2},{a,3}]', '[{1,a},{2,b}]'])
    if r < 0.5:
        return rng.choice(['<<>>', '<<"abc">>', '<<1:3>>', '<<255,0,1>>', '<<"a,b,c">>', '<<131,100,0,1,97>>',
                           '<<"é"/utf8>>', '<<0:64>>'])
    if r < 0.55:
        return rng.choice(["#{}", "#{a => 1}", "#{1 => [], \"k\" => <<>>}",
                           "maps:from_list([{X, X} || X <- lists:seq(1, 40)])"])
    if r < 0.6:
        return rng.choice(FUNS)
    if r < 0.78:
        return "{" + ", ".join(term(rng, depth + 1) for _ in range(rng.randint(0, 3))) + "}"
    return "[" + ", ".join(term(rng, depth + 1) for _ in range(rng.randint(0, 4))) + "]"


def exports(modules):
    expr = ("[io:format(\"~s ~s ~p~n\", [M, F, A]) || M <- [%s], {F, A} <- M:module_info(exports)], halt()."
            % modules)
    out = subprocess.run(["erl", "-noshell", "-eval", expr], capture_output=True, text=True).stdout
    return [(m, f, int(a)) for m, f, a in (l.split() for l in out.splitlines()) if not SKIP.match(f)]


def one(seed, funs, calls, binary, work):
    rng = random.Random(seed)
    lines = []
    for i in range(calls):
        m, f, a = rng.choice(funs)
        args = ", ".join(term(rng) for _ in range(a))
        lines.append("    p(%d, (catch %s:'%s'(%s)))," % (i, m, f, args))
    name = "fz%d" % seed
    src = ("-module(%s).\n-export([main/0]).\n"
           "p(I, {'EXIT', {R, _}}) -> io:format(\"~w: EXIT ~w~n\", [I, R]);\n"
           "p(I, {'EXIT', R}) -> io:format(\"~w: EXIT ~w~n\", [I, R]);\n"
           "p(I, R) -> io:format(\"~w: ~w~n\", [I, R]).\n"
           "main() ->\n%s\n    ok.\n") % (name, "\n".join(lines))
    path = os.path.join(work, name + ".mrl")
    with open(path, "w") as fh:
        fh.write(src)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-expected.py"), path], capture_output=True)
    r = subprocess.run(["timeout", "60", binary, "run", name + ".mrl"], cwd=work, capture_output=True,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        print("VM EXIT %d on seed %d (%s):\n%s" % (r.returncode, seed, path, r.stderr.decode()[-800:]))
    try:
        expected = open(os.path.join(work, name + ".out"), errors="replace").read().splitlines()
    except FileNotFoundError:
        print("seed %d: OTP gave no output (%s)" % (seed, path))
        return 0
    ours = r.stdout.decode(errors="replace").splitlines()
    exp = {l.split(":")[0]: l for l in expected}
    got = {l.split(":")[0]: l for l in ours}
    diffs = 0
    for k in sorted(set(exp) | set(got), key=lambda s: int(s) if s.isdigit() else -1):
        a, b = exp.get(k), got.get(k)
        if a == b or (a and b and any(x in a + b for x in ("#Fun", "<0.", "#Ref"))):
            continue
        diffs += 1
        call = lines[int(k)].strip() if k.isdigit() and int(k) < len(lines) else "?"
        print("DIFF %s\n   otp : %s\n   ours: %s" % (call[:240], (a or "")[:240], (b or "")[:240]))
    return diffs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "minierl"))
    ap.add_argument("--calls", type=int, default=250)
    ap.add_argument("--modules", default=DEFAULT_MODULES)
    ap.add_argument("seeds", nargs="+", type=int)
    args = ap.parse_args()
    funs = exports(args.modules)
    work = tempfile.mkdtemp(prefix="otp-diff-fuzz.")
    total = sum(one(s, funs, args.calls, args.bin, work) for s in args.seeds)
    print("%d differences over %d seeds (programs in %s)" % (total, len(args.seeds), work))


if __name__ == "__main__":
    main()
