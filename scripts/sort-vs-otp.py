#!/usr/bin/env python3
"""Differential test of minierl's lists sorts and merges against Erlang/OTP.

Runs lang-tests/lists/sort_differential.mrl (pseudo-random lists of numbers
such as 1 and 1.0 that compare equal without being the same term, sorted and
merged by every function of the family, with funs that record their calls)
on real Erlang/OTP and on minierl with the same seed, and compares the
checksums it prints per function.  When they differ, it reruns both printing
every result and shows the first differing lines.

Usage: scripts/sort-vs-otp.py [--count N] [--seeds S1,S2,...] [--minierl PATH]
Needs erl and erlc (OTP 25) and a built minierl (target/release/minierl).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM = os.path.join(ROOT, "lang-tests", "lists", "sort_differential.mrl")


def run_otp(tmp, args):
    call = "sort_differential:main([%s]), halt()." % ",".join('"%s"' % a for a in args)
    r = subprocess.run(["erl", "-noshell", "-pa", tmp, "-eval", call],
                       capture_output=True, check=True)
    return r.stdout.decode().splitlines()


def run_minierl(minierl, args):
    r = subprocess.run([minierl, "run", PROGRAM] + args, capture_output=True)
    if r.returncode != 0:
        sys.exit("minierl failed (%d):\n%s" % (r.returncode, r.stderr.decode()))
    return r.stdout.decode().splitlines()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000, help="random lists per seed")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated seeds")
    ap.add_argument("--minierl", default=os.path.join(ROOT, "target", "release", "minierl"))
    opts = ap.parse_args()
    for tool in ("erl", "erlc"):
        if shutil.which(tool) is None:
            sys.exit("`%s` not found: install Erlang/OTP 25" % tool)
    failed = False
    with tempfile.TemporaryDirectory(prefix="sort-vs-otp-") as tmp:
        erl = os.path.join(tmp, "sort_differential.erl")
        shutil.copyfile(PROGRAM, erl)
        subprocess.run(["erlc", "-o", tmp, erl], check=True)
        for seed in opts.seeds.split(","):
            args = [seed, str(opts.count), "sums"]
            otp, ours = run_otp(tmp, args), run_minierl(opts.minierl, args)
            bad = [(a, b) for a, b in zip(otp, ours) if a != b]
            if len(otp) != len(ours):
                bad.append(("%d lines" % len(otp), "%d lines" % len(ours)))
            print("seed %s: %d lists, %d of %d functions differ"
                  % (seed, opts.count, len(bad), len(otp)))
            if bad:
                failed = True
                args[2] = "all"
                otp, ours = run_otp(tmp, args), run_minierl(opts.minierl, args)
                shown = 0
                for a, b in zip(otp, ours):
                    if a != b and shown < 5:
                        print("  otp:     " + a + "\n  minierl: " + b)
                        shown += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
