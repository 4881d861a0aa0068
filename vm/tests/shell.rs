//! The shell driven through pipes: stdin is not a terminal, so it reads
//! lines plainly and prints prompts and results as on a terminal (and as
//! `erl` does when piped). Texts of results and errors were checked against
//! `erl` of OTP 25 fed the same lines. The real-terminal tests (tmux) are in
//! `shell_tty.rs`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_minierl");

/// Generous: the machine may be heavily loaded; a passing test never
/// waits this long.
const DEADLINE: Duration = Duration::from_secs(90);

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("minierl-shell-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The whole transcript of a shell fed `input` at once.
fn transcript(dir: &Path, input: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("shell")
        .current_dir(dir)
        .env("MINIERL_HISTORY", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start minierl shell");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = wait_with_deadline(child);
    (o.0, o.1, o.2)
}

fn wait_with_deadline(mut child: Child) -> (i32, String, String) {
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the shell did not end; output so far:\n{}", t_out.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), t_out.join().unwrap(), t_err.join().unwrap())
}

/// A shell fed line by line, its output read as it comes.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<String>>,
    /// Where the next `expect` starts looking.
    seen: usize,
}

impl Session {
    fn start(dir: &Path) -> Session {
        let mut child = Command::new(BIN)
            .arg("shell")
            .current_dir(dir)
            .env("MINIERL_HISTORY", "")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start minierl shell");
        let out = Arc::new(Mutex::new(String::new()));
        for r in
            [Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())]
        {
            let out = out.clone();
            std::thread::spawn(move || {
                let mut r = r;
                let mut buf = [0u8; 4096];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let stdin = child.stdin.take();
        Session { child, stdin, out, seen: 0 }
    }

    fn send(&mut self, line: &str) {
        let s = self.stdin.as_mut().unwrap();
        s.write_all(line.as_bytes()).unwrap();
        s.write_all(b"\n").unwrap();
        s.flush().unwrap();
    }

    /// Wait until `text` appears after what earlier expectations saw;
    /// returns the output from there to the end of `text`.
    fn expect(&mut self, text: &str) -> String {
        let start = Instant::now();
        loop {
            {
                let out = self.out.lock().unwrap();
                if let Some(i) = out[self.seen..].find(text) {
                    let got = out[self.seen..self.seen + i + text.len()].to_string();
                    self.seen += i + text.len();
                    return got;
                }
            }
            if start.elapsed() > DEADLINE {
                let out = self.out.lock().unwrap().clone();
                let _ = self.child.kill();
                panic!("expected {text:?}; the shell printed:\n{out}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Close stdin (Ctrl-D) and wait for the exit status.
    fn finish(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                return (s.code().unwrap_or(-1), self.output());
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                panic!("the shell did not end at the end of input:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything after the banner line.
fn body(out: &str) -> &str {
    assert!(out.starts_with("minierl "), "no banner: {out}");
    &out[out.find('\n').unwrap() + 1..]
}

#[test]
fn results_errors_and_counter() {
    let d = scratch("basics");
    let (code, out, err) = transcript(
        &d,
        "X = 1.\nX = 2.\nX.\nY + 1.\nfoo(.\nfoo().\nlists:nth(0,[]).\nfoo:bar().\n1 + a.\nerlang:error(badarg).\n\
         throw(x).\nexit(y).\nlists:seq(1,10).\n\"abc\".\nio:format(\"abc\").\n{X, [1,2,3], #{a => 1}, <<1,2>>, 1.5}.\n",
    );
    assert_eq!(code, 0, "{err}");
    // Checked against erl (OTP 25) fed the same lines, but for the line
    // in lists.erl (minierl's lists.mrl) of lists:nth/2.
    let expected = "1> 1\n\
                    2> ** exception error: no match of right hand side value 2\n\
                    3> 1\n\
                    4> * 1:1: variable 'Y' is unbound\n\
                    5> * 1:5: syntax error before: '.'\n\
                    5> ** exception error: undefined shell command foo/0\n\
                    6> ** exception error: no function clause matching lists:nth(0,[]) (lists.erl, line 44)\n\
                    7> ** exception error: undefined function foo:bar/0\n\
                    8> ** exception error: an error occurred when evaluating an arithmetic expression\n     in operator  +/2\n        called as 1 + a\n\
                    9> ** exception error: bad argument\n\
                    10> ** exception throw: x\n\
                    11> ** exception exit: y\n\
                    12> [1,2,3,4,5,6,7,8,9,10]\n\
                    13> \"abc\"\n\
                    14> abcok\n\
                    15> {1,[1,2,3],#{a => 1},<<1,2>>,1.5}\n\
                    16> \n";
    assert_eq!(body(&out), expected);
}

#[test]
fn bindings_survive_crashes_and_f_b_v() {
    let d = scratch("bindings");
    let (code, out, err) = transcript(
        &d,
        "A = 3, B = A + 1.\nP = self().\n1 = 2.\nP =:= self().\nA + B.\nb().\nf(A).\nb().\nA.\nf().\nb().\n\
         A = 10.\nv(12).\nv(-1).\nv(99).\n",
    );
    assert_eq!(code, 0, "{err}");
    let b = body(&out);
    let expected_start = "1> 4\n2> <0.";
    assert!(b.starts_with(expected_start), "{b}");
    let rest = &b[b.find(">\n3>").unwrap() + 2..];
    let expected = "3> ** exception error: no match of right hand side value 2\n\
                    4> false\n\
                    5> 7\n\
                    6> A = 3\nB = 4\nP = <0.";
    assert!(rest.starts_with(expected), "{rest}");
    let rest = &rest[rest.find(">\nok\n7>").unwrap() + 5..];
    let expected = "7> ok\n\
                    8> B = 4\nP = <0.";
    assert!(rest.starts_with(expected), "{rest}");
    let rest = &rest[rest.find(">\nok\n9>").unwrap() + 5..];
    let expected = "9> * 1:1: variable 'A' is unbound\n\
                    10> ok\n\
                    11> ok\n\
                    12> 10\n\
                    13> 10\n\
                    14> 10\n\
                    15> * 99: command not found\n\
                    15> \n";
    assert_eq!(rest, expected);
}

#[test]
fn several_lines_several_expressions_funs_and_flush() {
    let d = scratch("multi");
    let (code, out, err) = transcript(
        &d,
        "[1,\n2,\n3].\n1. 2.\nF = fun(X) -> X * 2 end.\nF(21).\nlists:map(F, [1,2,3]).\n\
         G = fun Fact(0) -> 1; Fact(N) -> N * Fact(N - 1) end.\nG(20).\n\
         self() ! hello, self() ! {world, 1}, flush().\nflush().\n\
         case 1 of\n  1 -> one;\n  _ -> other\nend.\n\"a.b\". 'c.d'.\n",
    );
    assert_eq!(code, 0, "{err}");
    let b = body(&out);
    assert!(b.starts_with("1> [1,2,3]\n2> 1\n3> 2\n4> #Fun<"), "{b}");
    let rest = &b[b.find("\n5>").unwrap() + 1..];
    let expected = "5> 42\n\
                    6> [2,4,6]\n\
                    7> #Fun<";
    assert!(rest.starts_with(expected), "{rest}");
    let rest = &rest[rest.find("\n8>").unwrap() + 1..];
    let expected = "8> 2432902008176640000\n\
                    9> Shell got hello\nShell got {world,1}\nok\n\
                    10> ok\n\
                    11> one\n\
                    12> \"a.b\"\n\
                    13> 'c.d'\n\
                    14> \n";
    assert_eq!(rest, expected);
}

#[test]
fn commands_and_compile_errors() {
    let d = scratch("commands");
    std::fs::write(d.join("m1.mrl"), "-module(m1).\n-export([f/0]).\nf() -> 1.\n").unwrap();
    std::fs::write(d.join("bad.mrl"), "-module(bad).\n-export([f/0]).\nf() -> X.\n").unwrap();
    let (code, out, err) = transcript(
        &d,
        "c(m1).\nm1:f().\nl(m1).\nc(bad).\npid(0,1,0).\nm().\nm(m1).\nhelp().\nis_pid(pid(0,80,0)).\nq().\n",
    );
    assert_eq!(code, 0, "{err}");
    let b = body(&out);
    assert!(b.starts_with("1> {ok,m1}\n2> 1\n3> {module,m1}\n4> bad.mrl:3:8: error: variable 'X' is unbound\n"), "{b}");
    assert!(b.contains("\nerror\n5> <0.1.0>\n6> Module "), "{b}");
    // m(): modules with old code are marked; the shell's own are hidden.
    assert!(b.contains("\nm1                    ./m1.mrlb  (old code)\n"), "{b}");
    assert!(!b.contains("$shell_"), "{b}");
    assert!(b.contains("Module: m1\n") && b.contains("         f/0\n"), "{b}");
    assert!(b.contains("c(Mod)") && b.contains("flush()"), "{b}");
    assert!(b.ends_with("true\n10> "), "{b}");
}

/// Input that is not UTF-8 is read as Latin-1; UTF-8 input is read as
/// such.
#[test]
fn input_encodings() {
    let d = scratch("latin1");
    let mut child = Command::new(BIN)
        .arg("shell")
        .current_dir(&d)
        .env("MINIERL_HISTORY", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start minierl shell");
    child.stdin.take().unwrap().write_all(b"<<\"\xff\xe9\">>.\n\"\xc3\xa9t\xc3\xa9\" ++ [256].\n").unwrap();
    let (code, out, err) = wait_with_deadline(child);
    assert_eq!(code, 0, "{err}");
    assert_eq!(body(&out), "1> <<\"\u{ff}\u{e9}\">>\n2> [233,116,233,256]\n3> \n");
}

/// A process that crashes prints its error report; a process linked to
/// the evaluator takes it down: the shell says so and goes on.
#[test]
fn other_processes_crashing() {
    let d = scratch("links");
    let (code, out, err) = transcript(
        &d,
        "P = self().\nspawn(fun() -> 1/0 end), timer:sleep(200).\n\
         spawn_link(fun() -> exit(boom) end), timer:sleep(200).\nP =:= self().\nok.\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Error in process <0.") && err.contains("{badarith,"), "{err}");
    let b = body(&out);
    assert!(b.contains("2> ok\n3> ** exception exit: boom\n4> false\n5> ok\n"), "{b}");
}

/// The seed's session (seeds/001): the server prints each message of the
/// client; the counter is fixed in the source and `c(code_reload).` loads
/// it while the client keeps sending; both are then told to quit.
#[test]
fn seed_code_reload_session_through_pipes() {
    let d = scratch("seed");
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hotload/code_reload.mrl")).unwrap();
    std::fs::write(d.join("code_reload.mrl"), &src).unwrap();
    let mut s = Session::start(&d);
    s.expect("1> ");
    s.send("c(code_reload).");
    s.expect("{ok,code_reload}\n2> ");
    s.send("ServerPid = code_reload:start_server().");
    let server = s.expect("\n3> ");
    let server = server.trim_end_matches("\n3> ").to_string();
    assert!(server.starts_with("<0.") && server.ends_with(".0>"), "{server}");
    s.send("ClientPid = code_reload:start_client(ServerPid).");
    let client = s.expect("\n4> ");
    let client = client.trim_end_matches("\n4> ").to_string();
    s.expect(&format!("0: Server {server} received message {{"));
    s.expect(&format!("}} from {client}\n"));
    s.expect(&format!("0: Server {server} received message {{"));
    // The bug fixed while the client runs.
    let fixed = src.replace("?MODULE:server_loop(Count);", "?MODULE:server_loop(Count + 1);");
    assert_ne!(fixed, src);
    std::fs::write(d.join("code_reload.mrl"), fixed).unwrap();
    s.send("c(code_reload).");
    s.expect("{ok,code_reload}\n5> ");
    // Same processes, counting now.
    s.expect(&format!("1: Server {server} received message {{"));
    s.expect(&format!("2: Server {server} received message {{"));
    s.send("ClientPid ! {self(), quit}.");
    let shell = s.expect("quit}\n6> ");
    assert!(shell.contains("Received quit command from <0."), "{shell}");
    s.send("ServerPid ! {self(), quit}.");
    s.expect("Received quit command from <0.");
    s.expect("7> ");
    s.send("is_process_alive(ServerPid) orelse is_process_alive(ClientPid).");
    s.expect("false\n8> ");
    let (code, out) = s.finish();
    assert_eq!(code, 0, "{out}");
}

/// SIGINT (Ctrl-C) while an expression runs kills the evaluation, not the
/// VM; the bindings stay.
#[test]
fn interrupt_stops_an_endless_loop() {
    let d = scratch("interrupt");
    let mut s = Session::start(&d);
    s.send("X = 42.");
    s.expect("42\n2> ");
    s.send("Loop = fun L() -> L() end, Loop().");
    let pid = s.child.id().to_string();
    let start = Instant::now();
    // The expression may not have started when the first signal comes;
    // an interrupt at the prompt is ignored, so send until it lands.
    loop {
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        std::thread::sleep(Duration::from_millis(300));
        if s.output()[s.seen..].contains("** exception exit: killed\n3> ") {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "not interrupted:\n{}", s.output());
    }
    s.expect("** exception exit: killed\n3> ");
    s.send("X + 1.");
    s.expect("43\n4> ");
    let (code, out) = s.finish();
    assert_eq!(code, 0, "{out}");
}

/// Results are laid out as `erl`'s shell lays them out: `~P` with depth 30
/// at column 1 on 80 columns, and at most 60 characters of the term on one
/// line. The expected text is what `erl` (OTP 25) printed fed the same lines
/// through a pipe (its last line, `*** Terminating erlang`, cut).
#[test]
fn results_laid_out_as_erl() {
    let d = scratch("layout");
    let input = r###"lists:seq(1,100).
lists:seq(1,30).
lists:seq(1,20).
lists:seq(1,25).
{a,{b,{c,{d,{e,{f,{g,{h,{i,{j,{k,{l,{m,{n,{o,{p,{q,{r,{s,{t,{u,{v,{w,{x,{y,{z,{a1,{b1,{c1,{d1,end1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}.
lists:duplicate(30, "abcdefghij").
lists:duplicate(5, "abcdefghij").
lists:duplicate(3, "abcdefghijklmnopqrstu").
#{a => 1, b => "hello world", c => [1,2,3], d => {x,y,z}, e => lists:seq(1,10)}.
lists:flatten(lists:duplicate(20, "abcde")).
list_to_binary(lists:flatten(lists:duplicate(20, "abcde"))).
list_to_binary(lists:seq(0,100)).
[{N, atom_name, "str", N*1.5} || N <- lists:seq(1,12)].
[{foo,[{bar,baz},{qux,[1,2,3,4,5,6,7,8,9,10]}]},{hello,world,"this is a string"}].
{tag, "a fairly long string that goes on for a while", another_atom, 12345678901234567890}.
{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32}.
[[1,2,3],[4,5,6],[7,8,9],[10,11,12],[13,14,15],[16,17,18],[19,20,21]].
{state, [{key1, value1}, {key2, value2}, {key3, value3}], #{count => 5, name => <<"server">>}}.
"a very long string that is definitely more than eighty characters long, yes it is indeed".
<<"a very long binary string that is definitely more than eighty characters long, yes">>.
[a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,aa,bb,cc,dd,ee,ff].
{ok, [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22]}.
X = 5.
[X, X, X].
{error, {badmatch, [{module_name, function_name, 3, [{file, "src/module_name.erl"}, {line, 42}]}]}}.
lists:seq(1000, 1030).
[1.5, 2.25, 3.125, 4.0625, 5.03125, 6.015625, 7.0078125, 8.00390625, 9.001953125].
maps:from_list([{N, N*N} || N <- lists:seq(1,20)]).
#{config => #{name => "server", port => 8080, opts => [verbose, {timeout, 5000}, {retries, 3}]}, state => running}.
[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23|tail].
{person, "Joe", "Armstrong", 1950, [erlang, prolog, smalltalk], #{country => sweden}}.
[{user, 1, "alice", [admin, dev]}, {user, 2, "bob", [dev]}, {user, 3, "carol", [ops, dev, sec]}].
list_to_tuple(lists:seq(1,8)).
lists:duplicate(12, {point, 1.0, 2.0}).
<<1:3>>.
"line one\nline two\nline three\nline four\nline five\nline six".
[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]].
{a_very_long_tag_name_for_testing_purposes, [alpha, beta, gamma, delta, epsilon, zeta, eta, theta]}.
lists:zip(lists:seq(1,15), lists:duplicate(15, ok)).
{ok, <<"0123456789012345678901234567890123456789012345678901234567890123456789">>}.
"###;
    let (code, out, err) = transcript(&d, input);
    assert_eq!(code, 0, "{err}");
    let expected = r###"1> [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,
 23,24,25,26,27,28,29|...]
2> [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,
 23,24,25,26,27,28,29|...]
3> [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]
4> [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,
 23,24,25]
5> {a,
 {b,{c,{d,{e,{f,{g,{h,{i,{j,{k,{l,{m,{n,{o,...}}}}}}}}}}}}}}}
6> ["abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 "abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 "abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 "abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 "abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 "abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 "abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 [...]|...]
7> ["abcdefghij","abcdefghij","abcdefghij","abcdefghij",
 "abcdefghij"]
8> ["abcdefghijklmnopqrstu","abcdefghijklmnopqrstu",
 "abcdefghijklmnopqrstu"]
9> #{a => 1,b => "hello world",
  c => [1,2,3],
  d => {x,y,z},
  e => [1,2,3,4,5,6,7,8,9,10]}
10> "abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcde"
11> <<"abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcde">>
12> <<0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,
  22,23,24,25,26,27,28,...>>
13> [{1,atom_name,"str",1.5},
 {2,atom_name,"str",3.0},
 {3,atom_name,"str",4.5},
 {4,atom_name,"str",6.0},
 {5,atom_name,"str",7.5},
 {6,atom_name,"str",9.0},
 {7,atom_name,"str",10.5},
 {8,atom_name,"str",12.0},
 {9,atom_name,"str",13.5},
 {10,atom_name,"str",15.0},
 {11,atom_name,"str",16.5},
 {12,atom_name,"str",18.0}]
14> [{foo,[{bar,baz},{qux,[1,2,3,4,5,6,7,8,9,10]}]},
 {hello,world,"this is a string"}]
15> {tag,"a fairly long string that goes on for a while",
     another_atom,12345678901234567890}
16> {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,
 23,24,25,26,27,28,29,...}
17> [[1,2,3],
 [4,5,6],
 [7,8,9],
 "\n\v\f",
 [13,14,15],
 [16,17,18],
 [19,20,21]]
18> {state,[{key1,value1},{key2,value2},{key3,value3}],
       #{count => 5,name => <<"server">>}}
19> "a very long string that is definitely more than eighty characters long, yes it is indeed"
20> <<"a very long binary string that is definitely more than eighty characters long, yes">>
21> [a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,aa,bb,
 cc|...]
22> {ok,[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,
     22]}
23> 5
24> [5,5,5]
25> {error,{badmatch,[{module_name,function_name,3,
                               [{file,"src/module_name.erl"},{line,42}]}]}}
26> [1000,1001,1002,1003,1004,1005,1006,1007,1008,1009,1010,
 1011,1012,1013,1014,1015,1016,1017,1018,1019,1020,1021,1022,
 1023,1024,1025,1026,1027,1028|...]
27> [1.5,2.25,3.125,4.0625,5.03125,6.015625,7.0078125,
 8.00390625,9.001953125]
28> #{1 => 1,2 => 4,3 => 9,4 => 16,5 => 25,6 => 36,7 => 49,
  8 => 64,9 => 81,10 => 100,11 => 121,12 => 144,13 => 169,
  14 => 196,15 => 225,16 => 256,17 => 289,18 => 324,19 => 361,
  20 => 400}
29> #{config =>
      #{name => "server",
        opts => [verbose,{timeout,5000},{retries,3}],
        port => 8080},
  state => running}
30> [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,
 23|tail]
31> {person,"Joe","Armstrong",1950,
        [erlang,prolog,smalltalk],
        #{country => sweden}}
32> [{user,1,"alice",[admin,dev]},
 {user,2,"bob",[dev]},
 {user,3,"carol",[ops,dev,sec]}]
33> {1,2,3,4,5,6,7,8}
34> [{point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0},
 {point,1.0,2.0}]
35> <<1:3>>
36> "line one\nline two\nline three\nline four\nline five\nline six"
37> [[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]
38> {a_very_long_tag_name_for_testing_purposes,
    [alpha,beta,gamma,delta,epsilon,zeta,eta,theta]}
39> [{1,ok},
 {2,ok},
 {3,ok},
 {4,ok},
 {5,ok},
 {6,ok},
 {7,ok},
 {8,ok},
 {9,ok},
 {10,ok},
 {11,ok},
 {12,ok},
 {13,ok},
 {14,ok},
 {15,ok}]
40> {ok,<<"0123456789012345678901234567890123456789012345678901234567890123456789">>}
41> 
"###;
    assert_eq!(body(&out), expected);
}
