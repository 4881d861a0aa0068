#!/usr/bin/env python3
"""Crash-hunting fuzzer for `minierl run` on mutated sources and module files.

sources: each lang-tests/ program, mutated (characters, tokens and lines
deleted, duplicated, swapped; truncation; random bytes and invalid UTF-8
inserted; deeply nested brackets), is run with `minierl run`.
modules: each lang-tests/ program is compiled with `minierl compile`, and
its NAME.mrlb mutated (bits flipped; body bytes changed, counts and indices
bumped, with the header's length and CRC-32 made to agree so the decoder
and the verifier see the change; truncation) and run with `minierl run`.

Every run must end in a diagnostic, a loader error or the program's own
end. A Rust panic, an abort (134), exit status 101, a signal, or a stack
overflow is a failure, printed with the input kept in the work folder. A
run still going after --timeout seconds is killed and listed (a mutated
program may well loop forever; these are listed, not counted as failures).

Usage: scripts/fuzz-run.py [--bin PATH] [--mode sources|modules|both] [-n N] [--seed S] [--jobs J]
"""
import argparse
import concurrent.futures
import glob
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TOKENS = ["(", ")", "[", "]", "{", "}", "<<", ">>", "#{", "=>", ":=", "->", ",", ";", ".", "|", "||", "<-",
          "<=", "=", "+", "-", "*", "/", "!", "?MODULE", "?LINE", "fun", "end", "case", "of", "if",
          "receive", "after", "try", "catch", "begin", "when", "andalso", "orelse", "not", "X", "_",
          "'a b'", "\"str\"", "$a", "16#ff", "2#", "-define(", "-record(", "-export([", "-ifdef(", "-endif.",
          "\n", "%", "\\", "99999999999999999999999", "1.0e999", "<<X:8/binary>>", "fun f/1", "fun m:f/1",
          ":", "::", "...", "$", "1 bsl 100000", "<<0:(1 bsl 40)>>", "lists:seq(1, 100000000)",
          "spawn(fun() -> ok end)", "self() ! x", "receive _ -> ok end", "exit(kill)"]


def limit_memory():
    gib = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (12 * gib, 12 * gib))


def mutate_source(src, rng):
    b = src.encode()
    for _ in range(1 + rng.randrange(3)):
        n = len(b)
        k = rng.randrange(9)
        if k == 0 and n:  # delete a range
            a = rng.randrange(n)
            b = b[:a] + b[a + 1 + rng.randrange(30):]
        elif k == 1 and n:  # duplicate a range
            a = rng.randrange(n)
            piece = b[a:a + 1 + rng.randrange(60)]
            at = rng.randrange(n)
            b = b[:at] + piece + b[at:]
        elif k == 2:  # insert a token
            at = rng.randrange(n + 1)
            b = b[:at] + rng.choice(TOKENS).encode() + b[at:]
        elif k == 3:  # lines: delete, duplicate, swap
            lines = b.split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            op = rng.randrange(3)
            if op == 0:
                del lines[i]
            elif op == 1:
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            b = b"\n".join(lines)
        elif k == 4:  # truncate
            b = b[:rng.randrange(n + 1)]
        elif k == 5:  # random bytes, invalid UTF-8 included
            at = rng.randrange(n + 1)
            junk = bytes(rng.choice([0, 0x80, 0xC0, 0xFF, 0xFE, 0xED, 0xA0, 0x0D, 0x1B, rng.randrange(256)])
                         for _ in range(1 + rng.randrange(8)))
            b = b[:at] + junk + b[at:]
        elif k == 6:  # deeply nested brackets
            at = rng.randrange(n + 1)
            o, c = rng.choice([("(", ")"), ("[", "]"), ("{", "}"), ("begin ", " end"), ("#{a => ", "}"),
                               ("<<(", ")/binary>>"), ("fun() -> ", " end"), ("case x of _ -> ", " end"),
                               ("-", ""), ("not ", "")])
            depth = rng.choice([100, 1000, 10000, 50000])
            inner = (o * depth + "x" + c * depth) if rng.randrange(3) else o * depth
            b = b[:at] + inner.encode() + b[at:]
        elif k == 7 and n > 1:  # swap two tokens (words)
            words = re.split(rb"(\W)", b)
            if len(words) > 2:
                i, j = rng.randrange(len(words)), rng.randrange(len(words))
                words[i], words[j] = words[j], words[i]
                b = b"".join(words)
        else:  # change a number
            nums = list(re.finditer(rb"\b\d+\b", b))
            if nums:
                m = rng.choice(nums)
                new = rng.choice([b"0", b"-1", b"255", b"256", b"18446744073709551616", b"4294967295", b"100000000"])
                b = b[:m.start()] + new + b[m.end():]
    return b


def mutate_module(data, rng):
    b = bytearray(data)
    k = rng.randrange(5)
    if k == 0:  # bit flips anywhere (mostly caught by the CRC)
        for _ in range(1 + rng.randrange(3)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if k == 1:  # truncation, length and CRC made to agree
        b = b[:rng.randrange(len(b))]
    else:  # body bytes: small integers (counts, indices) bumped, random bytes
        for _ in range(1 + rng.randrange(4)):
            i = 16 + rng.randrange(max(1, len(b) - 16))
            if i >= len(b):
                break
            b[i] = rng.choice([0, 0xFF, (b[i] + 1) & 0xFF, (b[i] - 1) & 0xFF, (b[i] + 128) & 0xFF, rng.randrange(256)])
    if len(b) >= 16:
        b[8:12] = (len(b) - 16).to_bytes(4, "little")
        b[12:16] = (zlib.crc32(bytes(b[16:])) & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(b)


def run(binary, work, file, timeout):
    try:
        r = subprocess.run([binary, "--schedulers", "2", "run", file], cwd=work, capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=timeout, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    err = r.stderr.decode(errors="replace")
    if r.returncode < 0 or r.returncode in (101, 134) or "panicked" in err or "overflowed its stack" in err:
        lines = [l for l in err.splitlines() if "panicked" in l or "overflow" in l or "fatal" in l]
        nxt = [l for l in err.splitlines()[1:3]]
        return "crash", "exit %d: %s" % (r.returncode, " | ".join((lines + nxt)[:3])[:300])
    return "ok", ""


def one(job):
    kind, i, name, data, binary, work, timeout = job
    d = os.path.join(work, "%s-%d" % (kind, i))
    os.mkdir(d)
    ext = ".mrl" if kind == "src" else ".mrlb"
    path = os.path.join(d, name + ext)
    with open(path, "wb") as fh:
        fh.write(data)
    outcome, why = run(binary, d, name + ext, timeout)
    if outcome == "ok":
        shutil.rmtree(d)
    return outcome, path, why


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "minierl"))
    ap.add_argument("--mode", default="both", choices=["sources", "modules", "both"])
    ap.add_argument("-n", type=int, default=2000, help="inputs per mode")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    progs = sorted(p for p in glob.glob(os.path.join(ROOT, "lang-tests", "**", "*.mrl"), recursive=True)
                   if "/compile_errors/" not in p)
    work = tempfile.mkdtemp(prefix="fuzz-run.")
    jobs = []
    if args.mode in ("sources", "both"):
        for i in range(args.n):
            p = rng.choice(progs)
            src = open(p, errors="replace").read()
            name = os.path.basename(p)[:-4]
            jobs.append(("src", i, name, mutate_source(src, rng), args.bin, work, args.timeout))
    if args.mode in ("modules", "both"):
        ebin = os.path.join(work, "ebin")
        os.mkdir(ebin)
        subprocess.run([args.bin, "compile", "-o", ebin] + progs, capture_output=True)
        mods = sorted(glob.glob(os.path.join(ebin, "*.mrlb")))
        print("%d compiled modules" % len(mods))
        for i in range(args.n):
            m = rng.choice(mods)
            data = open(m, "rb").read()
            name = os.path.basename(m)[:-5]
            jobs.append(("mod", i, name, mutate_module(data, rng), args.bin, work, args.timeout))
    counts = {"ok": 0, "timeout": 0, "crash": 0}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for outcome, path, why in ex.map(one, jobs):
            counts[outcome] += 1
            if outcome == "crash":
                print("CRASH %s\n   %s" % (path, why))
            elif outcome == "timeout":
                print("timeout %s" % path)
    print("%d inputs: %d ran or were refused cleanly, %d timed out, %d crashed (work dir %s)"
          % (len(jobs), counts["ok"], counts["timeout"], counts["crash"], work))
    sys.exit(1 if counts["crash"] else 0)


if __name__ == "__main__":
    main()
