//! The `minierl` command line as a user meets it: exit codes, crash
//! reports (texts checked against the erl shell of OTP 25, file names
//! aside), compile diagnostics, `compile` then `run` of `.mrlb` files,
//! corrupt files, `--help`/`--version`, and programs with very long lists
//! and very deep terms.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_minierl");

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("minierl-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, file: &str, text: &str) -> PathBuf {
    let p = dir.join(file);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn minierl(dir: &Path, args: &[&str]) -> Out {
    let o = Command::new(BIN).args(args).current_dir(dir).output().expect("run minierl");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

// ------------------------------------------------------------ exit codes

#[test]
fn exit_codes() {
    let d = scratch("exit");
    write(&d, "ok.mrl", "-module(ok).\n-export([main/0]).\nmain() -> io:format(\"hello~n\").\n");
    let o = minierl(&d, &["run", "ok.mrl"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "hello\n", ""));

    write(
        &d,
        "args.mrl",
        "-module(args).\n-export([main/1]).\nmain(A) -> io:format(\"~p~n\", [A]), erlang:halt(length(A)).\n",
    );
    let o = minierl(&d, &["run", "args.mrl", "a", "-x", "b c"]);
    assert_eq!((o.code, o.stdout.as_str()), (3, "[\"a\",\"-x\",\"b c\"]\n"));
    let o = minierl(&d, &["run", "args.mrl"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "[]\n"));

    write(
        &d,
        "crash.mrl",
        "-module(crash).\n-export([main/0]).\nmain() -> io:format(\"before~n\"), 1 = length([a, b]).\n",
    );
    let o = minierl(&d, &["run", "crash.mrl"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "before\n");

    write(&d, "h.mrl", "-module(h).\n-export([main/0]).\nmain() -> erlang:halt().\n");
    assert_eq!(minierl(&d, &["run", "h.mrl"]).code, 0);
    write(&d, "h2.mrl", "-module(h2).\n-export([main/0]).\nmain() -> spawn(fun() -> erlang:halt(7) end), receive after 5000 -> ok end.\n");
    assert_eq!(minierl(&d, &["run", "h2.mrl"]).code, 7);
}

// ---------------------------------------------------------- crash reports

/// One program, a crash per argument; the expected texts are what the erl
/// shell of OTP 25 prints for `cr:main(["..."])` (with `cr.erl`).
const CRASHES: &str = r#"-module(cr).
-export([main/1, f/1]).

f(0) -> zero.

run("badmatch") -> 1 = length([a]) + 1;
run("bigmatch") -> [] = lists:seq(1, 40);
run("fc") -> f(1);
run("fclong") -> f(lists:seq(1, 40));
run("case") -> case id(3) of x -> ok end;
run("if") -> X = length([]), if X > 0 -> ok end;
run("arith") -> X = id(a), X + id(1);
run("neg") -> X = list_to_atom("a"), -X;
run("badarg") -> atom_to_list(length([1]));
run("badfun") -> F = length([]), F(1);
run("badarity") -> F = fun lists:map/2, F();
run("throw") -> throw({my, thing});
run("exit") -> exit(normal_not);
run("errorargs") -> erlang:error(my_reason, [1, "two"]);
run("try") -> try id(3) of 4 -> ok after ok end;
run("tuple") -> erlang:error({some, lists:seq(1, 50), "str"});
run("timeout") -> T = id(-1), receive after T -> ok end.

id(X) -> X.

main([A]) -> run(A).
"#;

fn crash(case: &str) -> String {
    let d = scratch(&format!("crash-{case}"));
    write(&d, "cr.mrl", CRASHES);
    let o = minierl(&d, &["run", "cr.mrl", case]);
    assert_eq!(o.code, 1, "{case}: {}", o.stderr);
    assert_eq!(o.stdout, "");
    o.stderr
}

#[test]
fn crash_reports_use_the_shell_wording() {
    let cases: &[(&str, &str)] = &[
        ("badmatch", "** exception error: no match of right hand side value 2\n     in function  cr:run/1 (cr.erl, line 6)\n"),
        (
            "bigmatch",
            "** exception error: no match of right hand side value \n                    [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,\n                     23,24,25,26,27,28,29|...]\n     in function  cr:run/1 (cr.erl, line 7)\n",
        ),
        ("fc", "** exception error: no function clause matching cr:f(1) (cr.erl, line 4)\n"),
        (
            "fclong",
            "** exception error: no function clause matching \n                    cr:f([1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,\n                          21,22,23,24,25,26,27,28|...]) (cr.erl, line 4)\n",
        ),
        ("case", "** exception error: no case clause matching 3\n     in function  cr:run/1 (cr.erl, line 10)\n"),
        ("if", "** exception error: no true branch found when evaluating an if expression\n     in function  cr:run/1 (cr.erl, line 11)\n"),
        (
            "arith",
            "** exception error: an error occurred when evaluating an arithmetic expression\n     in operator  +/2\n        called as a + 1\n     in call from cr:run/1 (cr.erl, line 12)\n",
        ),
        (
            "neg",
            "** exception error: an error occurred when evaluating an arithmetic expression\n     in operator  -/1\n        called as - a\n     in call from cr:run/1 (cr.erl, line 13)\n",
        ),
        (
            "badarg",
            "** exception error: bad argument\n     in function  atom_to_list/1\n        called as atom_to_list(1)\n     in call from cr:run/1 (cr.erl, line 14)\n",
        ),
        ("badfun", "** exception error: bad function 0\n     in function  cr:run/1 (cr.erl, line 15)\n"),
        ("badarity", "** exception error: lists:map/2 called with no arguments\n     in function  cr:run/1 (cr.erl, line 16)\n"),
        ("throw", "** exception throw: {my,thing}\n     in function  cr:run/1 (cr.erl, line 17)\n"),
        ("exit", "** exception exit: normal_not\n     in function  cr:run/1 (cr.erl, line 18)\n"),
        ("errorargs", "** exception error: my_reason\n     in function  cr:run/2\n        called as cr:run(1,\"two\")\n"),
        ("try", "** exception error: no try clause matching 3\n     in function  cr:run/1 (cr.erl, line 20)\n"),
        (
            "tuple",
            "** exception error: {some,[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,\n                           21,22,23,24,25,26,27|...],\n                          \"str\"}\n     in function  cr:run/1 (cr.erl, line 21)\n",
        ),
        ("timeout", "** exception error: bad receive timeout value\n     in function  cr:run/1 (cr.erl, line 22)\n"),
    ];
    let mut failed = Vec::new();
    for (case, want) in cases {
        let got = crash(case);
        if got != *want {
            failed.push(format!("{case}:\n--- want\n{want}--- got\n{got}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn undefined_function_report() {
    let d = scratch("undef");
    write(&d, "u.mrl", "-module(u).\n-export([main/0]).\nmain() -> X = nomod:nofun(1, 2), X.\n");
    let o = minierl(&d, &["run", "u.mrl"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("** exception error: undefined function nomod:nofun/2\n"), "{}", o.stderr);
}

#[test]
fn other_processes_print_an_error_report() {
    let d = scratch("report");
    write(
        &d,
        "sp.mrl",
        "-module(sp).\n-export([main/0]).\nid(X) -> X.\nmain() ->\n    spawn(fun() -> 1 = id(2) end),\n    receive after 50 -> ok end,\n    spawn(fun() -> throw(t) end),\n    receive after 50 -> ok end,\n    spawn(fun() -> exit(quiet) end),\n    receive after 50 -> io:format(\"done~n\") end.\n",
    );
    let o = minierl(&d, &["run", "sp.mrl"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "done\n"));
    let blocks: Vec<&str> = o.stderr.split("=ERROR REPORT==== ").skip(1).collect();
    assert_eq!(blocks.len(), 2, "{}", o.stderr);
    let strip = |b: &str| b.split_once(" ===\n").map(|x| x.1.to_string()).unwrap_or_default();
    let first = strip(blocks[0]);
    assert!(first.starts_with("Error in process <0."), "{first}");
    assert!(
        first.ends_with(
            ".0> with exit value:\n{{badmatch,2},[{sp,'-main/0-fun-0-',0,[{file,\"sp.erl\"},{line,5}]}]}\n\n"
        ),
        "{first}"
    );
    assert!(strip(blocks[1]).contains("with exit value:\n{{nocatch,t},[{sp,'-main/0-fun-1-',0,"), "{}", blocks[1]);
    // The header has OTP's date form: 25-Nov-2026::12:28:52.839493
    let date = blocks[0].split(" ===").next().unwrap();
    assert!(
        date.contains("::") && date.len() == "25-Nov-2026::12:28:52.839493".len()
            || date.len() == "5-Nov-2026::12:28:52.839493".len(),
        "{date}"
    );
}

// ------------------------------------------------------------ diagnostics

#[test]
fn compile_errors_name_the_place_and_fail() {
    let d = scratch("errors");
    write(&d, "e.mrl", "-module(e).\n-export([main/0, g/0]).\nmain() -> X + Y.\nh() -> Z.\n");
    let o = minierl(&d, &["run", "e.mrl"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    let want = "\
e.mrl:2:2: error: function g/0 undefined
  |
2 | -export([main/0, g/0]).
  |  ^

e.mrl:3:11: error: variable 'X' is unbound
  |
3 | main() -> X + Y.
  |           ^

e.mrl:3:15: error: variable 'Y' is unbound
  |
3 | main() -> X + Y.
  |               ^

e.mrl:4:8: error: variable 'Z' is unbound
  |
4 | h() -> Z.
  |        ^

e.mrl:4:1: warning: function h/0 is unused
  |
4 | h() -> Z.
  | ^

";
    assert_eq!(o.stderr, want);

    write(&d, "s.mrl", "-module(s).\n-export([main/0]).\nmain() -> foo(.\n");
    let o = minierl(&d, &["run", "s.mrl"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with(
            "s.mrl:3:15: error: syntax error before: '.'\n  |\n3 | main() -> foo(.\n  |               ^\n"
        ),
        "{}",
        o.stderr
    );

    // A path is shown as given.
    write(&d, "sub/s.mrl", "-module(s).\n-export([main/0]).\nmain() -> foo(.\n");
    let o = minierl(&d, &["run", "sub/s.mrl"]);
    assert!(o.stderr.starts_with("sub/s.mrl:3:15: error:"), "{}", o.stderr);

    // The module must be named after the file.
    write(&d, "other.mrl", "-module(s).\n-export([main/0]).\nmain() -> ok.\n");
    let o = minierl(&d, &["run", "other.mrl"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with("other.mrl:1:9: error: Module name 's' does not match file name 'other'\n"),
        "{}",
        o.stderr
    );
}

#[test]
fn warnings_go_to_stderr_and_the_program_runs() {
    let d = scratch("warn");
    write(&d, "w.mrl", "-module(w).\n-export([main/0]).\nmain() -> X = 1, io:format(\"ran~n\").\nunused() -> ok.\n");
    let o = minierl(&d, &["run", "w.mrl"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "ran\n"));
    assert!(o.stderr.contains("w.mrl:3:11: warning: variable 'X' is unused\n  |\n3 | main() -> X = 1, io:format(\"ran~n\").\n  |           ^\n"), "{}", o.stderr);
    assert!(o.stderr.contains("w.mrl:4:1: warning: function unused/0 is unused\n"), "{}", o.stderr);
}

#[test]
fn file_problems_are_clear() {
    let d = scratch("files");
    let o = minierl(&d, &["run", "nope.mrl"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "minierl: cannot read nope.mrl: no such file or directory\n"));
    std::fs::create_dir_all(d.join("adir")).unwrap();
    let o = minierl(&d, &["run", "adir"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "minierl: cannot read adir: is a directory\n"));
    write(&d, "nomain.mrl", "-module(nomain).\n-export([f/0]).\nf() -> ok.\n");
    let o = minierl(&d, &["run", "nomain.mrl"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "minierl: nomain exports neither main/1 nor main/0\n"));
    let o = minierl(&d, &["compile", "nope.mrl"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "minierl: cannot read nope.mrl: no such file or directory\n"));
}

// ------------------------------------------------------ compile, .mrlb, -pa

#[test]
fn compile_then_run_compiled_files() {
    let d = scratch("mrlb");
    write(
        &d,
        "src/app.mrl",
        "-module(app).\n-export([main/1]).\nmain(A) -> io:format(\"~s ~p~n\", [helper:hi(), A]).\n",
    );
    write(&d, "lib/helper.mrl", "-module(helper).\n-export([hi/0]).\nhi() -> \"hi\".\n");
    std::fs::create_dir_all(d.join("ebin")).unwrap();
    let o = minierl(&d, &["compile", "-o", "ebin", "src/app.mrl", "lib/helper.mrl"]);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert!(d.join("ebin/app.mrlb").is_file() && d.join("ebin/helper.mrlb").is_file());
    // The compiled program finds the compiled helper in its own folder.
    let o = minierl(&d, &["run", "ebin/app.mrlb", "x"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "hi [\"x\"]\n", ""));
    // Without -o, the file goes beside the source.
    let o = minierl(&d, &["compile", "lib/helper.mrl"]);
    assert_eq!(o.code, 0);
    assert!(d.join("lib/helper.mrlb").is_file());
    // The source program finds its helper only with -pa.
    let o = minierl(&d, &["run", "src/app.mrl"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("** exception error: undefined function helper:hi/0\n"), "{}", o.stderr);
    let o = minierl(&d, &["run", "-pa", "lib", "src/app.mrl", "y"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "hi [\"y\"]\n"));
    let o = minierl(&d, &["-pa", "lib", "run", "src/app.mrl", "-pa", "z"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "hi [\"-pa\",\"z\"]\n"));
    // Several files, one bad: the others are written, the exit code says it failed.
    write(&d, "two/good.mrl", "-module(good).\n-export([main/0]).\nmain() -> ok.\n");
    write(&d, "two/bad.mrl", "-module(bad).\nmain() -> X.\n");
    let o = minierl(&d, &["compile", "two/bad.mrl", "two/good.mrl"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("two/bad.mrl:2:11: error: variable 'X' is unbound"), "{}", o.stderr);
    assert!(d.join("two/good.mrlb").is_file() && !d.join("two/bad.mrlb").exists());
    let o = minierl(&d, &["compile", "-o", "missing", "two/good.mrl"]);
    assert_eq!((o.code, o.stderr.as_str()), (1, "minierl: output directory missing does not exist\n"));
}

#[test]
fn bad_compiled_files_are_rejected_in_one_line() {
    let d = scratch("badmrlb");
    write(&d, "m.mrl", "-module(m).\n-export([main/0]).\nmain() -> io:format(\"m~n\").\n");
    assert_eq!(minierl(&d, &["compile", "m.mrl"]).code, 0);
    let good = std::fs::read(d.join("m.mrlb")).unwrap();
    assert_eq!(minierl(&d, &["run", "m.mrlb"]).stdout, "m\n");
    let check = |name: &str, bytes: &[u8], want: &str| {
        std::fs::write(d.join(name), bytes).unwrap();
        let o = minierl(&d, &["run", name]);
        assert_eq!(o.code, 1, "{name}");
        assert_eq!(o.stdout, "");
        assert_eq!(o.stderr.lines().count(), 1, "{name}: {}", o.stderr);
        assert!(o.stderr.starts_with(want), "{name}: {}", o.stderr);
    };
    let mut t = good.clone();
    t.truncate(good.len() / 2);
    std::fs::create_dir_all(d.join("t")).unwrap();
    check("t/m.mrlb", &t, "minierl: cannot load t/m.mrlb: truncated file");
    let mut c = good.clone();
    let n = c.len();
    c[n - 3] ^= 0x40;
    check(
        "c/m.mrlb",
        &{
            std::fs::create_dir_all(d.join("c")).unwrap();
            c
        },
        "minierl: cannot load c/m.mrlb: corrupt file",
    );
    let mut v = good.clone();
    v[4] = 99;
    std::fs::create_dir_all(d.join("v")).unwrap();
    check("v/m.mrlb", &v, "minierl: cannot load v/m.mrlb: compiled for bytecode format version 99");
    std::fs::create_dir_all(d.join("x")).unwrap();
    check("x/m.mrlb", b"-module(m).\n", "minierl: cannot load x/m.mrlb: not a minierl compiled module");
    check("other.mrlb", &good, "minierl: cannot load other.mrlb: it holds module 'm', not 'other'");
    check("empty.mrlb", b"", "minierl: cannot load empty.mrlb: not a minierl compiled module");
}

// ---------------------------------------------------------- help, version

#[test]
fn help_version_and_shell() {
    let d = scratch("help");
    let o = minierl(&d, &["--version"]);
    assert_eq!((o.code, o.stdout.trim()), (0, format!("minierl {}", env!("CARGO_PKG_VERSION")).as_str()));
    let o = minierl(&d, &["--help"]);
    assert_eq!(o.code, 0);
    for w in ["run", "compile", "shell", "--pa", "--version"] {
        assert!(o.stdout.contains(w), "--help lacks {w}: {}", o.stdout);
    }
    let o = minierl(&d, &["run", "--help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("minierl run"));
    // The shell, with no input (stdin is empty): banner, first prompt, end.
    for args in [&[][..], &["shell"][..]] {
        let o = minierl(&d, args);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(o.stdout.starts_with("minierl ") && o.stdout.ends_with("\n1> \n"), "{}", o.stdout);
    }
    let o = minierl(&d, &["frobnicate"]);
    assert_eq!(o.code, 2);
    let o = minierl(&d, &["compile"]);
    assert_eq!(o.code, 2);
}

// ------------------------------------------------------ long and deep terms

#[test]
fn million_element_list_literal_compiles_and_runs() {
    let d = scratch("biglit");
    let elems: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
    let src = format!(
        "-module(biglit).\n-export([main/0]).\nmain() -> L = [{}], io:format(\"~p ~p ~p~n\", [length(L), lists:sum(L), lists:last(L)]).\n",
        elems.join(",")
    );
    write(&d, "biglit.mrl", &src);
    let o = minierl(&d, &["run", "biglit.mrl"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "1000000 499999500000 999999\n", ""));
}

/// A list expression of a million non-constant elements (variables,
/// arithmetic, and calls every 1000 elements) with a non-constant tail: built
/// in chunks, it needs a few dozen registers rather than one per element.
#[test]
fn million_element_list_of_expressions_compiles_and_runs() {
    let d = scratch("bigexpr");
    let elems: Vec<String> = (0..1_000_000u64)
        .map(|i| match i {
            _ if i % 1000 == 7 => format!("id({i})"),
            _ if i % 2 == 1 => "X".to_string(),
            _ => format!("X + {i}"),
        })
        .collect();
    let want: u64 = (0..1_000_000u64)
        .map(|i| {
            if i % 1000 == 7 {
                i
            } else if i % 2 == 1 {
                1
            } else {
                1 + i
            }
        })
        .sum();
    let src = format!(
        "-module(bigexpr).\n-export([main/0]).\nid(X) -> X.\nmain() -> X = id(1), T = id([tail]), L = [{} | T],\n    io:format(\"~p ~p ~p~n\", [length(L), lists:sum(lists:droplast(L)), lists:last(L)]).\n",
        elems.join(", ")
    );
    write(&d, "bigexpr.mrl", &src);
    let o = minierl(&d, &["run", "bigexpr.mrl"]);
    assert_eq!((o.code, o.stdout, o.stderr.as_str()), (0, format!("1000001 {want} tail\n"), ""));
}

/// List patterns: a long one compiles in linear memory (a 20,000-element
/// pattern made the pattern compiler use more than 8 GB) and in a few x
/// registers (each cell's register is reused for its tail; OTP 25 runs it
/// too and prints `yes no`); one that keeps more values alive at once than
/// the 1024 x registers hold is refused with a clear message (OTP 25 also
/// refuses it: "An implementation limit was reached"); one of 400 elements
/// with variables at both ends runs.
#[test]
fn long_list_patterns() {
    let d = scratch("bigpat");
    let pat: Vec<String> = (1..=20_000).map(|i| i.to_string()).collect();
    let src = format!(
        "-module(bigpat).\n-export([main/0]).\nf([{}]) -> yes;\nf(_) -> no.\n\
         main() -> io:format(\"~p ~p~n\", [f(lists:seq(1, 20000)), f(lists:seq(1, 19999))]).\n",
        pat.join(", ")
    );
    write(&d, "bigpat.mrl", &src);
    let o = minierl(&d, &["run", "bigpat.mrl"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "yes no\n", ""));
    let vars: Vec<String> = (0..1100).map(|i| format!("X{i}")).collect();
    let src = format!(
        "-module(allvars).\n-export([main/0]).\nf([{}]) -> {}.\nmain() -> f(lists:seq(1, 1100)).\n",
        vars.join(", "),
        vars.join(" + ")
    );
    write(&d, "allvars.mrl", &src);
    let o = minierl(&d, &["run", "allvars.mrl"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with(
            "allvars.mrl:3:1: error: function f/1 is too large to compile: it needs more than 1023 values in x registers at once\n"
        ),
        "{}",
        o.stderr
    );
    let mid: Vec<String> = (2..400).map(|i| i.to_string()).collect();
    let src = format!(
        "-module(midpat).\n-export([main/0]).\ng([A, {m} , B]) -> {{A, B}};\ng(_) -> none.\nh([1, {m} | T]) -> T;\nh(_) -> none.\n\
         main() -> L = lists:seq(1, 400), io:format(\"~p ~p ~p ~p~n\", [g(L), g([0 | L]), h([1 | L]), h(L)]).\n",
        m = mid.join(", ")
    );
    write(&d, "midpat.mrl", &src);
    let o = minierl(&d, &["run", "midpat.mrl"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "{1,400} none none [400]\n", ""));
}

/// `erlang:yield/0` ends the slice: with one scheduler, a process spawned
/// just before runs (and answers) before the yielding process goes on,
/// long before its reductions run out.
#[test]
fn yield_lets_another_process_run() {
    let d = scratch("yield");
    write(
        &d,
        "y.mrl",
        "-module(y).\n-export([main/0]).\n\
         main() ->\n    P = self(),\n    spawn(fun() -> P ! ran end),\n    true = erlang:yield(),\n\
         \x20   R = receive ran -> yes after 0 -> no end,\n    io:format(\"~p~n\", [R]).\n",
    );
    let o = minierl(&d, &["--schedulers", "1", "run", "y.mrl"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "yes\n", ""));
}

/// Long lists and deep terms built at run time: printed, compared,
/// hashed, copied in messages, garbage collected, and in a crash report.
/// The expected output is OTP 25's.
#[test]
fn long_lists_and_deep_terms_at_run_time() {
    let d = scratch("deep");
    write(
        &d,
        "rt.mrl",
        r#"-module(rt).
-export([main/0]).

deep(0, Acc) -> Acc;
deep(N, Acc) -> deep(N - 1, {Acc, N}).

echo() -> receive {X, From} -> From ! {back, X}, echo() end.

main() ->
    L = lists:seq(1, 1000000),
    P = spawn(fun echo/0),
    P ! {L, self()},
    L2 = receive {back, Y} -> Y end,
    io:format("~p ~p ~p~n", [L =:= L2, L < L2 ++ [0], length(L2)]),
    erlang:garbage_collect(),
    io:format("~p~n", [length(lists:flatten(io_lib:format("~p", [L])))]),
    io:format("~p~n", [length(lists:flatten(io_lib:format("~w", [L])))]),
    _ = erlang:phash2(L),
    D = deep(100000, x),
    P ! {D, self()},
    D2 = receive {back, Z} -> Z end,
    erlang:garbage_collect(),
    _ = erlang:phash2(D),
    io:format("~p ~p~n", [D =:= D2, D == deep(100000, y)]),
    io:format("~p~n", [length(lists:flatten(io_lib:format("~w", [D])))]),
    DL = lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 100000)),
    P ! {DL, self()},
    DL2 = receive {back, W} -> W end,
    io:format("~p~n", [DL =:= DL2]),
    io:format("~p~n", [length(lists:flatten(io_lib:format("~w", [DL])))]),
    erlang:error({badmatch, D}).
"#,
    );
    let o = minierl(&d, &["run", "rt.mrl"]);
    assert_eq!(o.stdout, "true true 1000000\n7068835\n6888897\ntrue false\n788896\ntrue\n200002\n");
    assert_eq!(o.code, 1);
    let want_start = "** exception error: no match of right hand side value \n                    {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{...},...},28},27},26},25},\n                                            24},\n";
    assert!(o.stderr.starts_with(want_start), "{}", o.stderr);
    assert!(
        o.stderr.ends_with(
            "                      2},\n                     1}\n     in function  rt:main/0 (rt.erl, line 31)\n"
        ),
        "{}",
        o.stderr
    );
}

#[test]
fn a_refused_allocation_stops_the_vm_with_a_message() {
    // 2^59 bytes: more than any address space, so the system always refuses.
    let d = scratch("oom");
    write(
        &d,
        "oom.mrl",
        "-module(oom).\n-export([main/0]).\nmain() -> io:format(\"before~n\"), B = binary:copy(<<\"ab\">>, 1 bsl 58), io:format(\"~p~n\", [byte_size(B)]).\n",
    );
    let o = minierl(&d, &["run", "oom.mrl"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout, "before\n");
    assert!(o.stderr.contains("Cannot allocate 576460752303423488 bytes of memory"), "{}", o.stderr);
}
