#!/usr/bin/env python3
"""Produce the expected outputs of lang-tests/ from real Erlang/OTP.

Never uses minierl.  For every lang-tests/**/NAME.mrl:

* outside lang-tests/compile_errors/: copy it to a fresh temp dir as NAME.erl,
  compile it with `erlc`, run it with `escript` through a small launcher and
  write NAME.out (exact stdout bytes) and NAME.exit (exit status).
  The launcher calls NAME:main(Args) if main/1 is exported (Args read from
  NAME.args, one argument per line), else NAME:main().  escript semantics: the
  process running main does not trap exits.  Exit status: 0 when main returns,
  1 when it raises an uncaught exception (the launcher prints the class, the
  reason and the stack on stderr, never on stdout), N on erlang:halt(N).
  standard_io is switched to {encoding, unicode} before main runs (OTP 25's
  escript defaults to latin1 on a pipe; OTP 26+ and minierl use UTF-8), and
  logger's default handler (crash reports of other processes) writes to
  standard_error instead of standard_io.  NAME.in, if present, is the
  program's standard input (the escript then runs without -noinput, so
  io:get_line/io:read read it); otherwise stdin is /dev/null and -noinput.

* inside lang-tests/compile_errors/: run `erlc` (which must fail) and write
  NAME.errors (one `LINE:COL: message` per error) and, if erlc printed
  warnings, NAME.warnings (same format without the `Warning: ` prefix).

Usage: scripts/gen-expected.py [FILE.mrl ...]    (default: every program)
Idempotent: outputs are rewritten from scratch; stale outputs are removed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "lang-tests")
TIMEOUT = 120

LAUNCHER = r"""#!/usr/bin/env escript
%%%%! -pa %(dir)s%(noinput)s
main(Args) ->
    ok = io:setopts(standard_io, [{encoding, unicode}]),
    %% Crash reports of other processes go to stderr (OTP's default handler
    %% writes them to standard_io, racing with the program's own output).
    ok = logger:remove_handler(default),
    ok = logger:add_handler(default, logger_std_h,
                            #{config => #{type => standard_error}}),
    Mod = '%(mod)s',
    {module, Mod} = code:ensure_loaded(Mod),
    try
        case erlang:function_exported(Mod, main, 1) of
            true -> Mod:main(Args);
            false -> Mod:main()
        end
    of
        _ -> halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error,
                      "uncaught ~p: ~tp~n~tp~n", [Class, Reason, Stack]),
            halt(1)
    end.
"""

ERL_LINE = re.compile(r"^(?:.*/)?([A-Za-z0-9_]+)\.erl:(\d+):(\d+): (.*)$")


def die(msg):
    sys.stderr.write("gen-expected: " + msg + "\n")
    sys.exit(2)


def write_if_changed(path, data):
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return
    with open(path, "wb") as f:
        f.write(data)


def remove(path):
    if os.path.exists(path):
        os.remove(path)


def run_program(src):
    d = os.path.dirname(src)
    name = os.path.basename(src)[:-4]
    with tempfile.TemporaryDirectory(prefix="gen-expected-") as tmp:
        erl = os.path.join(tmp, name + ".erl")
        shutil.copyfile(src, erl)
        c = subprocess.run(["erlc", "-o", tmp, erl], cwd=tmp,
                           capture_output=True, timeout=TIMEOUT)
        if c.returncode != 0:
            return "%s: erlc failed:\n%s%s" % (src, c.stdout.decode(), c.stderr.decode())
        launcher = os.path.join(tmp, "launch.escript")
        inf = os.path.join(d, name + ".in")
        with open(launcher, "w") as f:
            f.write(LAUNCHER % {"dir": tmp, "mod": name,
                                "noinput": "" if os.path.exists(inf) else " -noinput"})
        args = []
        argsf = os.path.join(d, name + ".args")
        if os.path.exists(argsf):
            with open(argsf, encoding="utf-8") as f:
                args = f.read().splitlines()
        try:
            if os.path.exists(inf):
                with open(inf, "rb") as stdin:
                    r = subprocess.run(["escript", launcher] + args, cwd=tmp,
                                       stdin=stdin, capture_output=True,
                                       timeout=TIMEOUT)
            else:
                r = subprocess.run(["escript", launcher] + args, cwd=tmp,
                                   stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return "%s: timed out after %ds" % (src, TIMEOUT)
        write_if_changed(os.path.join(d, name + ".out"), r.stdout)
        write_if_changed(os.path.join(d, name + ".exit"),
                         ("%d\n" % r.returncode).encode())
        # Exit 1 comes from the launcher's report of an uncaught exception,
        # or from init halting after an exit signal killed main.
        if r.returncode == 1 and b"uncaught " not in r.stderr and \
                b"init terminating in do_boot" not in r.stderr:
            return "%s: exit 1 without an uncaught exception:\n%s" % (src, r.stderr.decode())
        return None


def compile_error(src):
    d = os.path.dirname(src)
    name = os.path.basename(src)[:-4]
    with tempfile.TemporaryDirectory(prefix="gen-expected-") as tmp:
        erl = os.path.join(tmp, name + ".erl")
        shutil.copyfile(src, erl)
        c = subprocess.run(["erlc", "-o", tmp, name + ".erl"], cwd=tmp,
                           capture_output=True, timeout=TIMEOUT)
        if c.returncode == 0:
            return "%s: expected a compile error, erlc succeeded" % src
        errors, warnings = [], []
        for line in (c.stdout + c.stderr).decode("utf-8").splitlines():
            if line.startswith("%") or not line.strip():
                continue  # OTP 25 shows the source line, a caret and a blank line
            m = ERL_LINE.match(line)
            if not m:
                return "%s: unexpected erlc output line: %r" % (src, line)
            if m.group(1) != name:
                return "%s: diagnostic for another file: %r" % (src, line)
            lc = "%s:%s: " % (m.group(2), m.group(3))
            msg = m.group(4)
            if msg.startswith("Warning: "):
                warnings.append(lc + msg[len("Warning: "):])
            else:
                errors.append(lc + msg)
        if not errors:
            return "%s: erlc failed without any error line" % src
        write_if_changed(os.path.join(d, name + ".errors"),
                         ("\n".join(errors) + "\n").encode())
        wf = os.path.join(d, name + ".warnings")
        if warnings:
            write_if_changed(wf, ("\n".join(warnings) + "\n").encode())
        else:
            remove(wf)
        for stale in (".out", ".exit"):
            remove(os.path.join(d, name + stale))
        return None


def main():
    for tool in ("erl", "erlc", "escript"):
        if shutil.which(tool) is None:
            die("`%s` not found: install Erlang/OTP 25 (apt-get install -y erlang-base)" % tool)
    rel = subprocess.run(["erl", "-noshell", "-eval",
                          'io:put_chars(erlang:system_info(otp_release)), halt().'],
                         capture_output=True, text=True).stdout.strip()
    if rel != "25":
        sys.stderr.write("gen-expected: warning: OTP %s, expectations are pinned to OTP 25\n" % rel)

    if len(sys.argv) > 1:
        files = [os.path.abspath(a) for a in sys.argv[1:]]
    else:
        files = []
        for dp, _, fs in os.walk(TESTS):
            files += [os.path.join(dp, f) for f in fs if f.endswith(".mrl")]
        # Remove outputs whose program is gone.
        for dp, _, fs in os.walk(TESTS):
            for f in fs:
                base, ext = os.path.splitext(f)
                if ext in (".out", ".exit", ".errors", ".warnings", ".args", ".in") and \
                        not os.path.exists(os.path.join(dp, base + ".mrl")):
                    if ext not in (".args", ".in"):
                        os.remove(os.path.join(dp, f))
    files.sort()
    for f in files:
        if not f.endswith(".mrl") or not os.path.exists(f):
            die("not a program: " + f)
        name = os.path.basename(f)[:-4]
        if not re.match(r"^[a-z][a-z0-9_]*$", name):
            die("%s: program names must be plain lower-case atoms" % f)

    def job(f):
        if os.path.basename(os.path.dirname(f)) == "compile_errors":
            return compile_error(f)
        return run_program(f)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as ex:
        results = list(ex.map(job, files))
    failures = [r for r in results if r]
    for r in failures:
        sys.stderr.write("gen-expected: " + r + "\n")
    print("gen-expected: %d programs, %d problems" % (len(files), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
