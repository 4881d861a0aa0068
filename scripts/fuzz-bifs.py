#!/usr/bin/env python3
"""Crash-hunting fuzzer for BIFs and stdlib exports: no call may crash the VM.

Generates one minierl program that calls every BIF of the VM's BIF tables
(found in vm/src by their registrations) and every export of the embedded
stdlib modules with nasty arguments: each type of term, negative and huge
integers, floats (-0.0, huge, tiny), improper, deep and long lists, odd-size
bitstrings, big and small maps, funs of each arity, pids of live, dead and
never-existing processes, refs, atoms in strings that are no atom.

Each call runs in a worker process under try/catch; the driver waits for the
result at most --call-timeout ms and replaces a worker that hung or died.
Arity-1 functions get every value of the pool; others --random argument
lists drawn by a linear congruential generator inside the program, so OTP
runs the very same calls. The program is run with 1 and 2 schedulers under
an external timeout and a memory limit. A Rust panic, an abort, a signal, an
exit status other than 0, a stall or a run out of time is a failure; the
last call started before it is printed.

With --otp, the program also runs on Erlang/OTP (erlc + erl) and the calls
whose outcome differs (ok vs exception, or the class or head of the reason)
are listed, BIFs that OTP lacks excluded.

Usage: scripts/fuzz-bifs.py [--bin PATH] [--random N] [--only REGEX] [--otp] [--keep]
"""
import argparse
import glob
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Calls that would stop the run or act outside the program (shell commands,
# the terminal), or purge the driver's own code.
SKIP = re.compile(
    r"^(erlang:halt/\d|os:cmd/\d|minierl_shell:read/1|c:(q|halt)/\d|shell:.*|shell_default:.*|"
    r"erts_code_purger:.*|init:.*|erlang:(purge_module|delete_module)/1|code:delete/1|"
    r"erts_code:.*)$"
)
# Stdlib modules whose exports are called (shell, shell_default, c,
# erts_code_purger are the shell's and the code server's own).
STDLIB_SKIP = {"shell", "shell_default", "erts_code_purger", "c"}

# The argument pool: minierl expressions, evaluated in the worker. '$self'
# is the worker itself, 'victim' a live process that waits for messages.
POOL = [
    "0", "1", "-1", "2", "7", "255", "256", "65536", "1114111", "1114112",
    "(1 bsl 27)", "(1 bsl 59)", "(1 bsl 64)", "(-(1 bsl 64))", "(1 bsl 1000)", "(-(1 bsl 1000))",
    "0.0", "-0.0", "1.5", "-2.5", "1.0e308", "-1.0e308", "5.0e-324",
    "a", "''", "true", "false", "undefined", "infinity", "normal", "kill", "latin1", "utf8", "unicode",
    "'fuzz_no_module'", "'\\x{1F600}'",
    "[]", "\"abc\"", "\"no_such_atom_zq9\"", "\"<0.1.0>\"", "\"<0.99999.0>\"", "\"~p~n\"", "\"~s~w~999999p\"",
    "[1|2]", "[a|b]", "[$a,$b|<<\"c\">>]", "[-1]", "[256, 1114111, 1114112]", "[(1 bsl 64)]",
    "[{a,1},{b,2},{a,3}]", "[[1],<<2>>,[[[3]]]]",
    "lists:seq(1, 20000)", "deep(100000)", "lists:seq(1, 20000) ++ b", "lists:duplicate(3000, {a, [b], <<\"c\">>})",
    "<<>>", "<<1:3>>", "<<\"abc\">>", "<<255,0:5>>", "<<131,100,0,1,97>>", "<<131,108,255,255,255,255>>",
    "<<131,82,0>>", "<<131,116,255,255,255,255>>", "<<0:800000>>", "<<\"\\x{e9}\"/utf8>>", "<<16#ff,16#fe,0,0>>",
    "{}", "{a}", "{a,b,c}", "{1,2,3,4,5,6,7}", "erlang:make_tuple(5000, x)", "deep_tuple(100000)",
    "#{}", "#{a => 1}", "#{1 => [], \"k\" => <<>>, 1.0 => x}",
    "maps:from_list([{X, X} || X <- lists:seq(1, 2000)])",
    "fun() -> ok end", "fun(X) -> X end", "fun(X, _) -> X end", "fun(_, _, A) -> A end",
    "fun erlang:is_integer/1", "fun lists:fuzz_missing/7",
    "'$self'", "victim", "dead_pid()", "list_to_pid(\"<0.32000.0>\")", "make_ref()",
    "{victim_name, node()}", "{a, b}",
]

PROGRAM = r"""-module(%(name)s).
-export([main/0]).

deep(0) -> [];
deep(N) -> [deep(N - 1)].
deep_tuple(0) -> {};
deep_tuple(N) -> {deep_tuple(N - 1)}.

dead_pid() ->
    {P, R} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', R, process, P, _} -> P end.

pool(_Victim) ->
    [%(pool)s].

resolve(Victim, Self, L) ->
    [case V of '$self' -> Self; victim -> Victim; _ -> V end || V <- L].

mfas() ->
    [%(mfas)s].

stdlib() ->
    [%(stdlib)s].

summary(R) when is_atom(R) -> R;
summary(R) when is_tuple(R), tuple_size(R) > 0, is_atom(element(1, R)) -> {element(1, R)};
summary(R) when is_tuple(R) -> tuple;
summary(R) when is_list(R) -> list;
summary(_) -> other.

worker(Driver, Victim) ->
    Pool = list_to_tuple(resolve(Victim, self(), pool(Victim))),
    worker_loop(Driver, Pool).

worker_loop(Driver, Pool) ->
    receive
        {call, N, M, F, Is} ->
            Args = [element(I, Pool) || I <- Is],
            R = try apply(M, F, Args) of
                    _ -> ok
                catch
                    C:E -> {C, summary(E)}
                end,
            Driver ! {result, N, R},
            worker_loop(Driver, Pool)
    end.

victim() ->
    receive stop -> ok; _ -> victim() end.

start_worker(Victim) ->
    Driver = self(),
    spawn(fun() -> worker(Driver, Victim) end).

lcg(X) -> (X * 1103515245 + 12345) rem 2147483648.

main() ->
    Victim = spawn(fun victim/0),
    catch register(victim_name, Victim),
    PoolSize = length(pool(Victim)),
    Stdlib = [{M, F, A} || M <- stdlib(), {F, A} <- exports(M),
                           F =/= module_info, not skip(M, F, A)],
    All = mfas() ++ Stdlib,
    {N, _} = lists:foldl(fun({M, F, A}, {N0, W0}) -> run_mfa(M, F, A, PoolSize, N0, W0, Victim) end,
                         {0, start_worker(Victim)}, All),
    io:format("~n@@done ~w calls~n", [N]).

exports(M) ->
    case catch M:module_info(exports) of
        L when is_list(L) -> L;
        _ -> []
    end.

skip(M, F, A) -> lists:member({M, F, A}, [%(stdlib_skip)s]).

arglists(0, _, S) -> {[[]], S};
arglists(1, PoolSize, S) -> {[[I] || I <- lists:seq(1, PoolSize)], S};
arglists(A, PoolSize, S) ->
    lists:foldl(fun(_, {Acc, S0}) ->
                        {Is, S1} = lists:foldl(fun(_, {L, X}) ->
                                                       X1 = lcg(X),
                                                       {[1 + (X1 bsr 8) rem PoolSize | L], X1}
                                               end, {[], S0}, lists:seq(1, A)),
                        {[Is | Acc], S1}
                end, {[], S}, lists:seq(1, %(random)d)).

run_mfa(M, F, A, PoolSize, N0, W0, Victim) ->
    Seed = lists:foldl(fun(C, X) -> (X * 31 + C) rem 2147483648 end, A, atom_to_list(M) ++ atom_to_list(F)),
    {Lists, _} = arglists(A, PoolSize, Seed),
    lists:foldl(fun(Is, {N, W}) -> {N + 1, one_call(N, M, F, Is, W, Victim)} end, {N0, W0}, Lists).

one_call(N, _M, _F, _Is, W, _Victim) when N < %(start)d -> W;
one_call(N, M, F, Is, W, Victim) ->
    io:format("~n@@call ~w ~w:~w ~w~n", [N, M, F, Is]),
    Ref = erlang:monitor(process, W),
    W ! {call, N, M, F, Is},
    receive
        {result, N, R} ->
            erlang:demonitor(Ref, [flush]),
            io:format("~n@@res ~w ~w~n", [N, R]),
            W;
        {'DOWN', Ref, process, W, Why} ->
            io:format("~n@@res ~w {died,~w}~n", [N, summary(Why)]),
            start_worker(Victim)
    after %(timeout)d ->
            erlang:demonitor(Ref, [flush]),
            exit(W, kill),
            io:format("~n@@res ~w timeout~n", [N]),
            start_worker(Victim)
    end.
"""


def bif_table():
    out = set()
    pats = [
        re.compile(r'\bbif\(\s*"([^"]+)",\s*"([^"]+)",\s*(\d+)'),
        re.compile(r'\bforward\(\s*"([^"]+)",\s*"([^"]+)",\s*(\d+)'),
        re.compile(r'module:\s*"([^"]+)",\s*function:\s*"([^"]+)",\s*arity:\s*(\d+)'),
    ]
    for f in sorted(glob.glob(os.path.join(ROOT, "vm", "src", "**", "*.rs"), recursive=True)):
        s = open(f).read()
        for p in pats:
            for m in p.finditer(s):
                out.add((m.group(1), m.group(2), int(m.group(3))))
    return sorted(out)


def quote(a):
    return "'" + a.replace("\\", "\\\\").replace("'", "\\'") + "'"


def program(name, mfas, stdlib, random_n, timeout, start=0):
    return PROGRAM % {
        "name": name,
        "pool": ",\n     ".join(POOL),
        "mfas": ",\n     ".join("{%s, %s, %d}" % (quote(m), quote(f), a) for m, f, a in mfas),
        "stdlib": ", ".join(stdlib),
        "stdlib_skip": ", ".join("{%s, %s, %s}" % (m, quote(f), a) for m, f, a in
                                 (re.match(r"(\w+):(.*)/(\d+)$", s).groups() for s in STDLIB_SKIP_MFAS)),
        "random": random_n,
        "timeout": timeout,
        "start": start,
    }


# Stdlib exports that stop the run.
STDLIB_SKIP_MFAS = ["init:stop/0"]


def limit_memory():
    gib = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (16 * gib, 16 * gib))


def parse(out):
    calls, res = {}, {}
    for line in out.splitlines():
        i = line.find("@@")
        if i < 0:
            continue
        parts = line[i + 2:].split(" ", 2)
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        if parts[0] == "call":
            calls[int(parts[1])] = parts[2]
        elif parts[0] == "res":
            res[int(parts[1])] = parts[2]
    return calls, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "minierl"))
    ap.add_argument("--random", type=int, default=40, help="random argument lists per function of arity >= 2")
    ap.add_argument("--only", default=None, help="regex on M:F/A")
    ap.add_argument("--timeout", type=int, default=600, help="whole run, seconds")
    ap.add_argument("--call-timeout", type=int, default=1000, help="one call, ms")
    ap.add_argument("--schedulers", default="1,2")
    ap.add_argument("--otp", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--start", type=int, default=0, help="skip the calls numbered below this")
    ap.add_argument("--go-on", action="store_true", help="after a crash, go on with the next call")
    args = ap.parse_args()

    only = re.compile(args.only) if args.only else None
    keep = lambda s: not SKIP.match(s) and (only is None or only.search(s))
    mfas = [t for t in bif_table() if keep("%s:%s/%d" % t)]
    stdlib = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(ROOT, "stdlib", "lib", "*.mrl")))
    stdlib = [m for m in stdlib if m not in STDLIB_SKIP]
    if only:
        stdlib = [m for m in stdlib if only.search(m + ":")]
    work = tempfile.mkdtemp(prefix="fuzz-bifs.")
    name = "fuzzbifs"
    print("%d BIFs, %d stdlib modules; work dir %s" % (len(mfas), len(stdlib), work))

    failures = 0
    ours = None
    total = 0
    for s in args.schedulers.split(","):
        start = args.start
        calls, res = {}, {}
        while True:
            with open(os.path.join(work, name + ".mrl"), "w") as fh:
                fh.write(program(name, mfas, stdlib, args.random, args.call_timeout, start))
            r = subprocess.run(["timeout", "-s", "KILL", str(args.timeout), args.bin, "--schedulers", s, "run",
                                name + ".mrl"], cwd=work, capture_output=True, stdin=subprocess.DEVNULL,
                               preexec_fn=limit_memory)
            out = r.stdout.decode(errors="replace")
            err = r.stderr.decode(errors="replace")
            c1, r1 = parse(out)
            calls.update(c1)
            res.update(r1)
            done = "@@done" in out
            panics = [l for l in err.splitlines() if "panicked" in l or "overflow" in l or "memory allocation" in l]
            if r.returncode == 0 and done and not panics:
                break
            failures += 1
            last = max(c1) if c1 else None
            print("schedulers %s: exit %d: FAILURE at call %s" % (s, r.returncode, calls.get(last) if last is not None else "-"))
            for l in (panics or err.splitlines()[-5:]):
                print("  " + l[:300])
            if last is None or not args.go_on:
                break
            start = last + 1
        total += len(res)
        print("schedulers %s: %d calls run" % (s, len(res)))
        timeouts = [calls[n] for n, v in res.items() if v == "timeout"]
        if timeouts:
            with open(os.path.join(work, "timeouts-%s.txt" % s), "w") as fh:
                fh.write("\n".join(timeouts) + "\n")
            funs = sorted(set(t.split(" ")[0] for t in timeouts))
            print("  %d calls timed out (blocking calls; list in the work dir), in: %s"
                  % (len(timeouts), " ".join(funs)))
        if ours is None:
            ours = (calls, res)

    if args.otp:
        # OTP's code server dies on some bad arguments, and OTP with it.
        otp_mfas = [t for t in mfas if t[0] not in ("minierl_shell", "erts_internal", "erts_code", "code")]
        otp_dir = os.path.join(work, "otp")
        os.mkdir(otp_dir)
        with open(os.path.join(otp_dir, name + ".erl"), "w") as fh:
            fh.write(program(name, otp_mfas, stdlib, args.random, args.call_timeout, args.start))
        subprocess.run(["erlc", name + ".erl"], cwd=otp_dir, check=True)
        r = subprocess.run(["timeout", "-s", "KILL", str(args.timeout), "erl", "-noshell", "-eval",
                            name + ":main(), halt()."], cwd=otp_dir, capture_output=True,
                           stdin=subprocess.DEVNULL)
        ocalls, ores = parse(r.stdout.decode(errors="replace"))
        # Index calls by their text: the BIF lists differ, so numbers do not match.
        theirs = {ocalls[n]: v for n, v in ores.items() if n in ocalls}
        mine = {ours[0][n]: v for n, v in ours[1].items() if n in ours[0]}
        otp_timeouts = sorted(set(c.split(" ")[0] for c, v in theirs.items() if v == "timeout"))
        print("OTP: %d calls run, timed out in: %s" % (len(theirs), " ".join(otp_timeouts)))
        diffs = 0
        for c, v in mine.items():
            o = theirs.get(c)
            if o is None or o == v or "undef" in o or "timeout" in (o + v):
                continue
            diffs += 1
            print("DIFF %s\n   otp : %s\n   ours: %s" % (c[:200], o, v))
        print("%d differences against OTP over %d common calls" % (diffs, len(set(mine) & set(theirs))))

    if not args.keep and failures == 0:
        shutil.rmtree(work)
    print("%d calls, %d failures" % (total, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
