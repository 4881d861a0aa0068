//! Front-end tests: every construct parses, operators bind as in Erlang, each
//! diagnostic has erlc's text and position (the expectations were taken from
//! OTP 25's erlc), `lang-tests/compile_errors` gives exactly the expected
//! errors and warnings, and no input makes `parse` panic.

use minierl_compiler::ast::*;
use minierl_compiler::{diag, parse, Options, Severity};
use std::fmt::Write;

fn run(src: &str) -> (Option<Module>, Vec<String>) {
    let (m, d) = parse("t.mrl", src, &Options::default());
    let lines = d
        .iter()
        .map(|x| {
            let s = diag::short(src, x);
            match x.severity {
                Severity::Error => s,
                Severity::Warning => format!("W {s}"),
            }
        })
        .collect();
    (m, lines)
}

/// A module `t` exporting `f/0` whose body is `body`.
fn body(body: &str) -> String {
    format!("-module(t).\n-export([f/0]).\nf() ->\n    {body}.\n")
}

fn ok(src: &str) -> Module {
    let (m, d) = run(src);
    let errors: Vec<_> = d.iter().filter(|l| !l.starts_with("W ")).collect();
    assert!(errors.is_empty(), "unexpected errors for\n{src}\n{errors:#?}");
    m.expect("module")
}

fn f_body(m: &Module) -> &Vec<Expr> {
    for f in &m.forms {
        if let Form::Function(func) = f {
            if func.name == "f" {
                return &func.clauses[0].body;
            }
        }
    }
    panic!("no f/0")
}

/// A compact S-expression of an expression, to pin the tree's shape.
fn sx(e: &Expr) -> String {
    let mut s = String::new();
    sx_into(e, &mut s);
    s
}

fn sx_into(e: &Expr, s: &mut String) {
    match &e.kind {
        ExprKind::Var(v) => s.push_str(v),
        ExprKind::Atom(a) => s.push_str(a),
        ExprKind::Int(i) => write!(s, "{i}").unwrap(),
        ExprKind::Float(f) => write!(s, "{f:?}").unwrap(),
        ExprKind::String(cs) => {
            write!(s, "{:?}", cs.iter().map(|&c| char::from_u32(c).unwrap()).collect::<String>()).unwrap()
        }
        ExprKind::Nil => s.push_str("[]"),
        ExprKind::BinOp(op, a, b) => {
            write!(s, "({op:?} ").unwrap();
            sx_into(a, s);
            s.push(' ');
            sx_into(b, s);
            s.push(')');
        }
        ExprKind::UnOp(op, a) => {
            write!(s, "({op:?} ").unwrap();
            sx_into(a, s);
            s.push(')');
        }
        ExprKind::Match(p, b) => {
            write!(s, "(= {:?} ", p.kind).unwrap();
            sx_into(b, s);
            s.push(')');
        }
        ExprKind::Catch(a) => {
            s.push_str("(catch ");
            sx_into(a, s);
            s.push(')');
        }
        ExprKind::LocalCall(n, args) => {
            write!(s, "({}", n.name).unwrap();
            for a in args {
                s.push(' ');
                sx_into(a, s);
            }
            s.push(')');
        }
        ExprKind::RemoteCall(m, f, args) => {
            s.push('(');
            sx_into(m, s);
            s.push(':');
            sx_into(f, s);
            for a in args {
                s.push(' ');
                sx_into(a, s);
            }
            s.push(')');
        }
        ExprKind::RecordField(b, r, f) => {
            s.push_str("(#.");
            sx_into(b, s);
            write!(s, " {} {})", r.name, f.name).unwrap();
        }
        ExprKind::MapUpdate(b, fs) => {
            s.push_str("(#{} ");
            sx_into(b, s);
            write!(s, " {})", fs.len()).unwrap();
        }
        other => write!(s, "<{:?}>", std::mem::discriminant(other)).unwrap(),
    }
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("1 + 2 * 3", "(Add 1 (Mul 2 3))"),
        ("1 - 2 - 3", "(Sub (Sub 1 2) 3)"),
        ("A ++ B ++ C", "(Append A (Append B C))"),
        ("A -- B ++ C", "(Subtract A (Append B C))"),
        ("A orelse B orelse C", "(OrElse A (OrElse B C))"),
        ("A andalso B orelse C", "(OrElse (AndAlso A B) C)"),
        ("A orelse B andalso C", "(OrElse A (AndAlso B C))"),
        ("1 + 2 == 3", "(Eq (Add 1 2) 3)"),
        ("A == B andalso C", "(AndAlso (Eq A B) C)"),
        ("- 1 + 2", "(Add (Neg 1) 2)"),
        ("- - 1", "(Neg (Neg 1))"),
        ("not A andalso B", "(AndAlso (Not A) B)"),
        ("not A or B", "(Or (Not A) B)"),
        ("A band B bor C", "(Bor (Band A B) C)"),
        ("1 bsl 2 + 3", "(Add (Bsl 1 2) 3)"),
        ("A div B rem C", "(Rem (Div A B) C)"),
        ("A / B * C", "(Mul (FDiv A B) C)"),
        ("A ++ B == C", "(Eq (Append A B) C)"),
        ("A + B ++ C", "(Append (Add A B) C)"),
        ("P ! M ! N", "(Send P (Send M N))"),
        ("m:f(1) + 1", "(Add (m:f 1) 1)"),
        ("-X#r.a", "(Neg (#.X r a))"),
        ("X#r.a#r.b", "(#.(#.X r a) r b)"),
        ("M#{a => 1}#{b => 2}", "(#{} (#{} M 1) 1)"),
        ("A xor B and C", "(Xor A (And B C))"),
        ("bnot 1 band 2", "(Band (Bnot 1) 2)"),
        ("X = Y = 1", "(= Var(\"X\") (= Var(\"Y\") 1))"),
        ("catch 1 + 2", "(catch (Add 1 2))"),
        ("X = catch(1)", "(= Var(\"X\") (catch 1))"),
        ("\"ab\" \"cd\"", "\"abcd\""),
        ("$a + 16#ff + 2#101 + 1_000", "(Add (Add (Add 97 255) 5) 1000)"),
    ];
    for (src, want) in cases {
        let src2 = match src {
            "X = catch(1)" => "(X = (catch 1))",
            "X = Y = 1" => "(X = Y = 1)",
            other => other,
        };
        // Inside a fun, so that the variables are bound.
        let text = format!(
            "-module(t).\n-export([f/0]).\n-record(r, {{a, b}}).\nf() ->\n    fun(A, B, C, P, M, N, X, Y) -> {src2} end.\n"
        );
        let m = ok(&text);
        let e = match &f_body(&m)[0].kind {
            ExprKind::Fun(_, cls, _) => cls[0].body[0].clone(),
            _ => unreachable!(),
        };
        assert_eq!(sx(&e), want, "for {src}");
    }
}

#[test]
fn comparison_is_not_associative() {
    let (_, d) = run(&body("1 < 2 < 3"));
    assert_eq!(d, vec!["4:11: syntax error before: '<'", "2:2: function f/0 undefined"]);
}

#[test]
fn every_construct_parses() {
    let src = r#"-module(t).
-author("me").
-vsn(2).
-export([f/0, g/2]).
-export_type([t/0]).
-import(lists, [map/2, foldl/3]).
-compile([{no_auto_import, [size/1]}]).
-record(point, {x = 0 :: integer(), y = 0, z}).
-record(empty, {}).
-define(SQ(X), ((X) * (X))).
-define(PI, 3.14159).
-define(STR(X), ??X).
-type t() :: {ok, integer()} | error.
-spec f() -> ok.
-ifdef(DEBUG).
dbg() -> 1.
-else.
-ifndef(NOTHING).
nd() -> ?FUNCTION_NAME.
-endif.
-endif.

size(X) -> X.

f() ->
    A = 16#FF + 2#1010 + $a + $\n + 1_000,
    B = 1.5e-3 * ?PI,
    S = "abc" "def" ?MODULE_STRING,
    At = 'quoted atom',
    L = [1, 2, 3 | [4]],
    T = {A, B, S, At, L},
    M = #{a => 1, "b" => [2]},
    M2 = M#{a := 2, c => 3},
    #{a := Va} = M2,
    P = #point{x = 1, y = 2},
    P2 = P#point{z = 3},
    X = P2#point.x,
    I = #point.y,
    #point{x = Px, _ = 0} = #point{x = 5, _ = 0},
    Bin = <<X:8/integer-signed-little-unit:1, 3.0:64/float, "abc", 1024:16/big, (size(1)):8>>,
    <<H:8, Rest/binary>> = Bin,
    <<U/utf8>> = <<"é"/utf8>>,
    Lc = [Y * 2 || Y <- L, Y > 1, is_integer(Y)],
    Bc = << <<Z:8>> || <<Z:8>> <= Bin >>,
    Lc2 = [{K, V} || {K, V} <- [{1, 2}], <<_>> <- [<<1>>]],
    F1 = fun(Q) -> Q + 1 end,
    F2 = fun g/2,
    F3 = fun lists:reverse/1,
    Mod = lists, Fn = reverse, Ar = 1,
    F4 = fun Mod:Fn/Ar,
    F5 = fun Fact(0) -> 1; Fact(N) when N > 0 -> N * Fact(N - 1) end,
    R1 = case A of
        0 -> zero;
        N1 when N1 > 0, N1 < 1000; N1 =:= -1 -> pos;
        _ -> other
    end,
    R2 = if A > 0 -> yes; true -> no end,
    R3 = receive
        {msg, Msg} -> Msg;
        _ -> ignore
    after 0 -> timeout
    end,
    R4 = try F1(1) of
        2 -> two;
        _ -> other
    catch
        throw:Th -> Th;
        error:badarith:Stack -> {Stack};
        Class:Reason when Class =:= exit -> Reason;
        _ -> any
    after
        ok
    end,
    R5 = (catch 1 + a),
    R6 = begin 1, 2 end,
    R7 = - - 1 + not true andalso false orelse true,
    R8 = 1 bsl 4 bor 3 band 2 bxor 1 bsr 1 div 2 rem 3,
    R9 = [1] ++ [2] -- [3] ++ [],
    R10 = ?SQ(3) + ?STR(foo(1, 2)) ++ "",
    self() ! hello,
    E = element(1, T),
    G = map(F1, foldl(fun(W, Acc) -> [W | Acc] end, [], L)),
    Tail = case S of "abc" ++ Tl -> Tl; _ -> [] end,
    Neg = case -1 of -1 -> neg; 1 bsl 4 -> sixteen end,
    {H, Rest, U, Lc, Bc, Lc2, F2, F3, F4, F5, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10,
     E, G, Va, I, Px, Tail, Neg, ?LINE, ?FILE, nd(), F1(2), (fun() -> ok end)(), erlang:self(),
     #empty{}},
    try ok after ok end,
    try ok catch _:_ -> ok end,
    receive after 10 -> ok end,
    ok.

g(X, Y) when is_atom(X); is_list(Y), length(Y) > 0 -> {X, Y};
g(_, _) -> ok.
"#;
    let (m, d) = run(src);
    assert!(d.is_empty(), "{d:#?}");
    let m = m.unwrap();
    // The record lost its type, the spec and type forms are gone.
    let kinds: Vec<String> = m
        .forms
        .iter()
        .map(|f| match f {
            Form::Module(_) => "module".into(),
            Form::Export(..) => "export".into(),
            Form::Import(..) => "import".into(),
            Form::Compile(..) => "compile".into(),
            Form::Record(n, fs, _) => format!("record {} {}", n.name, fs.len()),
            Form::Attribute(n, ..) => format!("-{}", n.name),
            Form::Function(f) => format!("{}/{}", f.name, f.arity),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "module",
            "-author",
            "-vsn",
            "export",
            "-export_type",
            "import",
            "compile",
            "record point 3",
            "record empty 0",
            "nd/0",
            "size/1",
            "f/0",
            "g/2"
        ]
    );
    // Macros, folding and strings.
    let body = f_body(&m);
    let find = |var: &str| -> &Expr {
        body.iter()
            .find_map(|e| match &e.kind {
                ExprKind::Match(p, v) if p.kind == PatKind::Var(var.into()) => Some(&**v),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(sx(find("S")), "\"abcdeft\"");
    assert_eq!(sx(find("A")), "(Add (Add (Add (Add 255 10) 97) 10) 1000)");
    assert_eq!(sx(find("R10")), "(Append (Add (Mul 3 3) \"foo ( 1 , 2 )\") \"\")");
    match &find("Tail").kind {
        ExprKind::Case(_, cls) => match &cls[0].params[0].kind {
            PatKind::Cons(h, _) => assert_eq!(h.kind, PatKind::Int(97.into())),
            other => panic!("{other:?}"),
        },
        _ => panic!(),
    }
    match &find("Neg").kind {
        ExprKind::Case(_, cls) => {
            assert_eq!(cls[0].params[0].kind, PatKind::Int((-1).into()));
            assert_eq!(cls[1].params[0].kind, PatKind::Int(16.into()));
        }
        _ => panic!(),
    }
}

#[test]
fn binary_segments() {
    let m = ok(&body("X = 1, <<X:8/integer-signed-little-unit:2, 3.0:64/float, \"abc\", Y/binary>> = <<>>, Y"));
    let ExprKind::Match(p, _) = &f_body(&m)[1].kind else { panic!() };
    let PatKind::Binary(els) = &p.kind else { panic!() };
    assert_eq!(els.len(), 4);
    assert_eq!(els[0].types, vec![BinType::Integer, BinType::Signed, BinType::Little, BinType::Unit(2)]);
    assert!(matches!(els[0].size.as_ref().unwrap().kind, ExprKind::Int(_)));
    assert_eq!(els[1].types, vec![BinType::Float]);
    assert_eq!(els[2].value.kind, PatKind::String(vec![97, 98, 99]));
    assert_eq!(els[3].types, vec![BinType::Binary]);
}

#[test]
fn try_catch_clauses() {
    let m =
        ok(&body("try a of X -> X catch throw:T -> T; error:R:S when is_atom(R) -> S; E -> E; C:_ -> C after b end"));
    let ExprKind::Try(t) = &f_body(&m)[0].kind else { panic!() };
    assert_eq!(t.of.len(), 1);
    assert_eq!(t.catches.len(), 4);
    assert_eq!(t.catches[0].class.as_ref().unwrap().kind, PatKind::Atom("throw".into()));
    assert_eq!(t.catches[1].stack.as_ref().unwrap().name, "S");
    assert_eq!(t.catches[1].guard.len(), 1);
    assert!(t.catches[2].class.is_none());
    assert_eq!(t.catches[3].class.as_ref().unwrap().kind, PatKind::Var("C".into()));
    assert_eq!(t.after.len(), 1);
}

#[test]
fn funs() {
    let m = ok(&body(
        "M = m, F = f, {fun f/0, fun m:f/1, fun M:F/2, fun(X) -> X end, fun Loop(0) -> 0; Loop(N) -> Loop(N - 1) end}",
    ));
    let ExprKind::Tuple(es) = &f_body(&m)[2].kind else { panic!() };
    assert!(matches!(&es[0].kind, ExprKind::FunRef(f) if f.name == "f" && f.arity == 0));
    assert!(matches!(&es[1].kind, ExprKind::FunRemote(..)));
    assert!(matches!(&es[2].kind, ExprKind::FunRemote(..)));
    assert!(matches!(&es[3].kind, ExprKind::Fun(None, c, _) if c.len() == 1));
    assert!(matches!(&es[4].kind, ExprKind::Fun(Some(n), c, _) if n.name == "Loop" && c.len() == 2));
}

/// Sources and the diagnostics erlc (OTP 25) gives for them, as
/// `LINE:COL: message` (warnings prefixed with `W `).
const DIAGNOSTICS: &[(&str, &[&str])] = &[
    (
        "-module(t).\n-export([f/1, g/2, h/0]).\n\nf(X) -> Y.\nf(X, Y) -> X.\ng(A) -> case A of 1 -> B = 1; 2 -> ok end, B.\nh() -> foo(1).\nh() -> 1.\ni(X) -> #r{a=1}.\nj(X) when foo(X) -> 1.\nk(X) -> \n  fun(X) -> X end.\nl() -> try Z = 1 of _ -> ok catch _ -> ok end, Z.\nm() -> catch (W = 1), W.\nn(X) -> X#r2.f.\n",
        &[
            "2:2: function g/2 undefined",
            "4:9: variable 'Y' is unbound",
            "6:44: variable 'B' unsafe in 'case' (line 6, column 9)",
            "7:8: function foo/1 undefined",
            "8:1: function h/0 already defined",
            "9:9: record r undefined",
            "10:11: illegal guard expression",
            "13:48: variable 'Z' unsafe in 'try' (line 13, column 8)",
            "14:23: variable 'W' unsafe in 'catch' (line 14, column 8)",
            "15:10: record r2 undefined",
            "W 4:3: variable 'X' is unused",
            "W 5:1: function f/2 is unused",
            "W 5:6: variable 'Y' is unused",
            "W 6:1: function g/1 is unused",
            "W 9:1: function i/1 is unused",
            "W 9:3: variable 'X' is unused",
            "W 10:1: function j/1 is unused",
            "W 11:1: function k/1 is unused",
            "W 11:3: variable 'X' is unused",
            "W 12:7: variable 'X' shadowed in 'fun'",
            "W 13:1: function l/0 is unused",
            "W 14:1: function m/0 is unused",
            "W 15:1: function n/1 is unused",
        ],
    ),
    (
        "-module(t).\n-record(r, {a, b}).\nf(R) -> R#r.c.\ng() -> #r{c = 1}.\nh(X) -> if X > 1 -> Q = 1; true -> ok end, Q.\ni(X) -> receive X -> Q = 1; _ -> Q = 2 end, Q.\nlength(X) -> X.\nj() -> length([1]).\nk(a:b) -> 1.\nl() -> X = a:b, X.\nm() -> [X || X <- [1]], X.\n",
        &[
            "9:4: syntax error before: ':'",
            "3:13: field c undefined in record r",
            "4:11: field c undefined in record r",
            "5:44: variable 'Q' unsafe in 'if' (line 5, column 9)",
            "8:8: ambiguous call of overridden pre R14 auto-imported BIF length/1\n - use erlang:length/1 or \"-compile({no_auto_import,[length/1]}).\" to resolve name clash",
            "10:12: illegal expression",
            "11:25: variable 'X' is unbound",
            "W 3:1: function f/1 is unused",
            "W 4:1: function g/0 is unused",
            "W 5:1: function h/1 is unused",
            "W 6:1: function i/1 is unused",
            "W 7:1: function length/1 is unused",
            "W 8:1: function j/0 is unused",
            "W 10:1: function l/0 is unused",
            "W 11:1: function m/0 is unused",
        ],
    ),
    (
        "-module(t).\n-export([f/1, min/2, g/0]).\nf(1) -> a;\nf(2, 3) -> b.\ng(X) -> X;\nh(X) -> X.\nmin(A, B) -> A.\ng() -> min(1,2), f(X = 1).\nk(-1, 1 bsl 4, \"ab\" ++ T, X + 1) -> T.\n",
        &[
            "4:1: head mismatch",
            "6:1: head mismatch",
            "2:2: function f/1 undefined",
            "8:18: function f/1 undefined",
            "9:29: illegal pattern",
            "W 7:8: variable 'B' is unused",
            "W 8:8: ambiguous call of overridden auto-imported BIF min/2\n - use erlang:min/2 or \"-compile({no_auto_import,[min/2]}).\" to resolve name clash",
            "W 8:20: variable 'X' is unused",
            "W 9:1: function k/4 is unused",
        ],
    ),
    ("f() -> ok.\n", &["1:1: no module definition", "W 1:1: function f/0 is unused"]),
    ("-module(t).\n-export([f/0]).\nf() -> ok", &["3:8: syntax error before: ", "2:2: function f/0 undefined"]),
    (
        "-module(t).\n-export([f/0]).\nf() -> (ok.\ng() -> end.\nh() -> \"abc\" \"d\" x.\ni() -> 1.5 2.\nj() -> $a $b.\nk() -> X X.\nl() -> 'a b' c.\n",
        &[
            "3:11: syntax error before: '.'",
            "4:8: syntax error before: 'end'",
            "5:18: syntax error before: x",
            "6:12: syntax error before: 2",
            "7:11: syntax error before: $b",
            "8:10: syntax error before: X",
            "9:14: syntax error before: c",
            "2:2: function f/0 undefined",
        ],
    ),
    ("-module(t).\n-export([f/0]).\nf() -> \"abc.\n", &["3:8: unterminated string starting with \"abc.\\n\"", "2:2: function f/0 undefined"]),
    ("-module(t).\n-export([f/0]).\nf() -> 'abc.\n", &["3:8: unterminated atom starting with 'abc.\\n'", "2:2: function f/0 undefined"]),
    (
        "-module(t).\n-export([f/0]).\nf() -> 16#GG + 1_ + 1__0.\ng() -> $\n",
        &["3:8: illegal integer", "3:11: syntax error before: GG", "4:8: syntax error before: ", "2:2: function f/0 undefined"],
    ),
    (
        "-module(t).\n-export([f/0]).\nf() -> ?FOO + ?BAR(1).\n-define(BAR(X), X).\ng() -> ?BAR(1,2).\n",
        &["3:9: undefined macro 'FOO'", "5:9: argument mismatch for macro 'BAR'", "2:2: function f/0 undefined"],
    ),
    ("-module(t).\n-export([f/0]).\nf() -> 1 @ 2.\n", &["3:10: syntax error before: '@'", "2:2: function f/0 undefined"]),
    (
        "-module(t).\n-export([f/1, g/0, h/1, i/0, j/0, k/1]).\n-record(r, {a = 1 :: integer(), b}).\n-foo(a, b).\nf(#{a => 1}) -> ok.\ng() -> #{a := 1}.\nh(<<X:8/foo>>) -> X.\ni() -> fun F(0) -> 0; G(N) -> N end.\nj() -> f(1)(2).\nk(X) when X#r.a > 1 -> ok.\n",
        &[
            "4:9: bad attribute",
            "8:23: head mismatch",
            "9:12: syntax error before: '('",
            "2:2: function i/0 undefined",
            "2:2: function j/0 undefined",
            "5:7: illegal pattern",
            "6:12: only association operators '=>' are allowed in map construction",
            "7:5: bit type foo undefined",
        ],
    ),
    (
        "-module(t).\n-export([f/0]).\n-define(A(X), X).\n-define(B, 1).\n-define(B, 2).\n-define(C(X), ??X).\nf() -> ?A.\ng() -> ?Z(1).\nh() -> ?B + ?C(foo(1, \"a\")).\n-ifdef(B).\ni() -> ?FUNCTION_NAME.\n-else.\ni() -> 2.\n-endif.\n-endif.\n-include(\"nope.hrl\").\n-define(LOOP, ?LOOP).\nj() -> ?LOOP.\n-define(bad x).\n",
        &[
            "5:9: redefining macro 'B'",
            "7:9: argument mismatch for macro 'A'",
            "8:9: undefined macro 'Z/1'",
            "15:2: unbalanced '-endif'",
            "16:10: can't find include file \"nope.hrl\"",
            "18:9: circular macro 'LOOP'",
            "19:13: badly formed 'define'",
            "2:2: function f/0 undefined",
            "W 9:1: function h/0 is unused",
            "W 11:1: function i/0 is unused",
        ],
    ),
    (
        "-module(t).\n-compile(export_all).\n-record(r, {a, b, a}).\n-record(s, {x}).\n-record(s, {y}).\n-record(u, {z}).\nf(X) when g(X) -> ok;\nf(X) when X ! 1 -> ok;\nf(X) when erlang:is_atom(X), lists:member(X, []) -> ok.\ng(_) -> #r{a = 1, a = 2}.\nh(_X, _) -> _X, _.\ni() -> [X || X <- [1], Y <- [2]].\nj(X) -> [X || X <- [1]].\nk() -> fun(A) -> B = A end, B.\nl(Y) -> case Y of {ok, Z} -> Z; _ -> Z = 1 end, Z.\nm() -> receive X -> X after 10 -> X = 1 end, X.\nn(A) -> A = 1, <<B:A, C:B>> = <<1,2>>, C.\no(A) -> try A of B -> B catch C:D:E -> {C,D,E} end, {B}.\np() -> #s{x = 1}.\nq(Q) -> Q#s.y.\n",
        &[
            "3:19: field a already defined in record r",
            "5:2: record s already defined",
            "7:11: call to local/imported function g/1 is illegal in guard",
            "8:13: illegal guard expression",
            "9:30: illegal guard expression",
            "10:19: field a already defined in record r",
            "11:17: variable '_' is unbound",
            "14:29: variable 'B' is unbound",
            "18:54: variable 'B' unsafe in 'try' (line 18, column 9)",
            "20:13: field y undefined in record s",
            "W 2:2: export_all flag enabled - all functions will be exported",
            "W 6:2: record u is unused",
            "W 12:24: variable 'Y' is unused",
            "W 13:3: variable 'X' is unused",
            "W 13:15: variable 'X' shadowed in generate",
            "W 14:18: variable 'B' is unused",
        ],
    ),
    (
        "-module(t).\n-export([a/1, b/1, c/0, d/1, e/1, f/1, g/0]).\na(Y) -> case Y of 1 -> Z = 1; _ -> Z = 2 end, ok.\nb(X) -> (X = true) orelse (Y = 1), Y.\nc() -> {fun length/1, fun foo/1, fun erlang:foo/1}.\nd(F) -> fun F(0) -> 0; F(N) -> F(N-1) end.\ne(X) -> X1 = X, fun(X1) -> ok end.\nf(X) -> case X of {A, A} -> A; _ -> 1 end.\ng() -> X = 1, fun() -> X = 2 end.\n",
        &[
            "4:36: variable 'Y' unsafe in 'orelse' (line 4, column 20)",
            "5:23: function foo/1 undefined",
            "W 3:24: variable 'Z' is unused",
            "W 3:36: variable 'Z' is unused",
            "W 6:9: variable 'F' shadowed in 'named fun'",
            "W 7:9: variable 'X1' is unused",
            "W 7:21: variable 'X1' is unused",
            "W 7:21: variable 'X1' shadowed in 'fun'",
        ],
    ),
    (
        "-module(t).\n-export([a/1, b/0, c/1, d/1]).\n-import(lists, [map/2]).\na(L) -> map(fun(X) -> X end, L).\nb() -> #{a => 1}#{a := 2}.\nc(X) when X#{a := 1} -> ok.\nd(X) -> #r.a, X#r{}.\n",
        &["7:9: record r undefined", "7:16: record r undefined"],
    ),
    ("-module(t).\n-export([f/0]).\nf() ->\n\tY.\ng() -> \"é\", Z.\n", &["4:2: variable 'Y' is unbound", "5:13: variable 'Z' is unbound", "W 5:1: function g/0 is unused"]),
    (
        "-module(t).\n-export([a/1, b/1, c/1, d/1, e/1, f/1, g/1, h/1, i/1, j/1, k/1, l/1, m/1, n/1, o/1, p/1]).\na(X) -> case X of 1 -> Y = 1; _ -> Y = 2 end, case X of 1 -> Z = 1; _ -> ok end, {Y, Z}.\nb(X) -> try X of _ -> A = 1 catch _ -> A = 2 end, A.\nc(X) -> if X -> A = 1; true -> A = 2 end, A.\nd(X) -> receive A -> ok after X -> A = 1 end, A.\ne(X) -> [A || A <- X], A.\nf(X) -> begin A = X end, A.\ng(X) -> F = fun() -> A = X end, F(), A.\nh(X) -> case X of {A, _} -> ok; {_, A} -> ok end, A.\ni(X) -> case X of 1 -> A = 1; 2 -> A = 2; _ -> throw(x) end, A.\nj(X) -> X andalso (A = true), A.\nk(X) -> A = case X of 1 -> B = 1; _ -> B = 2 end, {A, B}.\nl(X) -> case (A = X) of _ -> ok end, A.\nm(X) -> try A = X, A catch _:_ -> A end.\nn(X) -> case X of A when A > 0 -> ok; _ -> ok end, A.\no(X) -> case X of 1 -> case X of 2 -> B = 1; _ -> ok end; _ -> B = 2 end, B.\np(X) -> <<A:X>> = <<1>>, case A of <<C>> -> C end, [C || _ <- []].\n",
        &[
            "3:86: variable 'Z' unsafe in 'case' (line 3, column 47)",
            "4:51: variable 'A' unsafe in 'try' (line 4, column 9)",
            "7:24: variable 'A' is unbound",
            "9:38: variable 'A' is unbound",
            "11:62: variable 'A' unsafe in 'case' (line 11, column 9)",
            "12:31: variable 'A' unsafe in 'andalso' (line 12, column 11)",
            "15:35: variable 'A' unsafe in 'try' (line 15, column 9)",
            "16:52: variable 'A' unsafe in 'case' (line 16, column 9)",
            "17:75: variable 'B' unsafe in 'case' (line 17, column 24)",
            "W 9:22: variable 'A' is unused",
        ],
    ),
    (
        "-module(t).\n-import(lists, [map/2]).\n-import(other, [map/2]).\n-export([f/1, f/1]).\nf(X) -> X.\n-export([g/0]).\nmap(A, B) -> {A, B}.\ng() -> fun(X) -> ok end.\nh() -> ok.\n",
        &[
            "3:2: function map/2 already imported from lists",
            "6:2: attribute export after function definitions",
            "7:1: defining imported function map/2",
            "W 4:2: function f/1 already exported",
            "W 7:1: function map/2 is unused",
            "W 8:1: function g/0 is unused",
            "W 8:12: variable 'X' is unused",
            "W 9:1: function h/0 is unused",
        ],
    ),
];

#[test]
fn diagnostics_match_erlc() {
    for (src, want) in DIAGNOSTICS {
        let (m, got) = run(src);
        assert_eq!(&got, want, "for source:\n{src}");
        let has_errors = want.iter().any(|l| !l.starts_with("W "));
        assert_eq!(m.is_none(), has_errors);
    }
}

#[test]
fn module_name_must_match_file_name() {
    let src = "-module(x).\n-export([f/0]).\nf() -> ok.\n";
    let (m, d) = parse("dir/y.mrl", src, &Options::default());
    assert!(m.is_none());
    assert_eq!(d[0].message, "Module name 'x' does not match file name 'y'");
    let (m, d) = parse("dir/x.mrl", src, &Options::default());
    assert!(m.is_some() && d.is_empty());
}

#[test]
fn rendering() {
    let src = "-module(t).\n-export([f/0]).\nf() ->\n    Y.\n";
    let (_, d) = parse("t.mrl", src, &Options::default());
    let out = diag::render("t.mrl", src, &d, false);
    assert!(out.starts_with("t.mrl:4:5: error: variable 'Y' is unbound\n"), "{out}");
    assert!(out.contains("4 |     Y.\n"), "{out}");
    assert!(out.contains("  |     ^\n"), "{out}");
    assert_eq!(diag::line_col(src, 0), (1, 1));
    assert_eq!(diag::line_col("a\n\tb", 3), (2, 2));
    assert_eq!(diag::line_col("é = X", 3), (1, 3));
    // Offsets past the end do not panic.
    let _ = diag::render("t.mrl", "", &d, true);
}

#[test]
fn options_defines_and_export_all() {
    let src = "-module(t).\nf() -> ?X.\n";
    let opts = Options { export_all: true, defines: vec![("X".into(), "42".into())] };
    let (m, d) = parse("t.mrl", src, &opts);
    assert!(d.is_empty(), "{d:?}");
    let m = m.unwrap();
    assert!(matches!(f_body(&m)[0].kind, ExprKind::Int(_)));
}

/// `lang-tests/compile_errors/NAME.mrl` must give exactly `NAME.errors`
/// (and `NAME.warnings` when erlc printed warnings).
#[test]
fn lang_tests_compile_errors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lang-tests/compile_errors");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut n = 0;
    for p in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "mrl")) {
        let src = std::fs::read_to_string(p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap();
        let read = |ext: &str| std::fs::read_to_string(p.with_extension(ext)).unwrap_or_default();
        let (want_e, want_w) = (read("errors"), read("warnings"));
        let (m, d) = parse(name, &src, &Options::default());
        let mut got_e = String::new();
        let mut got_w = String::new();
        for x in &d {
            let line = diag::short(&src, x);
            // Multi-line messages: the files keep the first line, as erlc's
            // output is captured line by line.
            let line = line.lines().next().unwrap_or_default();
            match x.severity {
                Severity::Error => writeln!(got_e, "{line}").unwrap(),
                Severity::Warning => writeln!(got_w, "{line}").unwrap(),
            }
        }
        n += 1;
        if m.is_some() || got_e != want_e || got_w != want_w {
            failures
                .push(format!("{name}:\n want errors:\n{want_e} got:\n{got_e} want warnings:\n{want_w} got:\n{got_w}"));
        }
    }
    println!("{} passed, {} failed", n - failures.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every program of lang-tests (outside compile_errors) compiles with no
/// error, on a thread with the stack the `minierl` binary gives the
/// compiler (`basics/deep_nesting` nests 10,000 deep).
#[test]
fn lang_tests_programs_have_no_errors() {
    std::thread::Builder::new().stack_size(256 << 20).spawn(programs_have_no_errors).unwrap().join().unwrap();
}

fn programs_have_no_errors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lang-tests");
    let mut stack = vec![root];
    let mut failures = Vec::new();
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("compile_errors") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "mrl") {
                let src = std::fs::read_to_string(&p).unwrap();
                let name = p.file_name().unwrap().to_str().unwrap().to_string();
                let (m, d) = parse(&name, &src, &Options::default());
                if m.is_none() {
                    let errs: Vec<_> =
                        d.iter().filter(|x| x.severity == Severity::Error).map(|x| diag::short(&src, x)).collect();
                    failures.push(format!("{}: {errs:?}", p.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------- robustness

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SAMPLE: &str = r#"-module(s).
-export([main/0]).
-record(r, {a = 1, b}).
-define(M(X), {X, ?LINE}).
main() ->
    L = [X * 2 || X <- lists:seq(1, 10), X rem 2 =:= 0],
    R = #r{b = <<1:8, "x"/binary>>},
    case catch R#r.a of
        1 -> try throw(x) catch throw:T:S -> {T, S} after ok end;
        _ -> receive {a, B} when is_atom(B) -> B after 0 -> ?M(L) end
    end,
    F = fun F(0) -> 0; F(N) -> N + F(N - 1) end,
    #{k := V} = #{k => $\x{41}, "s" => 'q a'},
    io:format("~p~n", [{F(3), V, 16#ff, 1.5e3}]).
"#;

#[test]
fn no_panic_on_random_bytes() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let n = rng.below(200);
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let src = String::from_utf8_lossy(&bytes);
        let _ = parse("r.mrl", &src, &Options::default());
    }
}

#[test]
fn no_panic_on_token_soup() {
    // Random sequences of Erlang tokens get much deeper into the grammar and
    // the checks than random bytes do.
    let toks = [
        "-", "module", "(", ")", "[", "]", "{", "}", "<<", ">>", ",", ";", ".", ". ", "->", "=>", ":=", "<-", "<=",
        "||", "|", ":", "=", "==", "!", "#", "?", "??", "X", "_", "a", "'b c'", "1", "2.5", "$a", "\"s\"", "fun",
        "end", "case", "of", "if", "receive", "after", "try", "catch", "when", "begin", "-define(", "-ifdef(",
        "-endif.", "-record(", "#r{", "#{", "f(", "m:f(", "andalso", "not", "bnot", "+", "*", "++", "/", "\n",
    ];
    let mut rng = Rng(42);
    for _ in 0..3000 {
        let n = rng.below(60);
        let mut s = String::from("-module(r).\n");
        for _ in 0..n {
            s.push_str(toks[rng.below(toks.len())]);
            s.push(' ');
        }
        let _ = parse("r.mrl", &s, &Options::default());
    }
}

#[test]
fn no_panic_on_truncated_and_mutated_programs() {
    let (m, d) = parse("s.mrl", SAMPLE, &Options::default());
    assert!(m.is_some(), "{d:?}");
    for cut in 0..SAMPLE.len() {
        if SAMPLE.is_char_boundary(cut) {
            let _ = parse("s.mrl", &SAMPLE[..cut], &Options::default());
        }
    }
    let mut rng = Rng(7);
    let bytes = SAMPLE.as_bytes();
    for _ in 0..1000 {
        let mut b = bytes.to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(b.len());
            match rng.below(3) {
                0 => b[i] = bytes[rng.below(bytes.len())],
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, bytes[rng.below(bytes.len())]),
            }
        }
        let src = String::from_utf8_lossy(&b);
        let _ = parse("s.mrl", &src, &Options::default());
    }
}

#[test]
fn parse_is_deterministic() {
    let a = parse("s.mrl", SAMPLE, &Options::default());
    let b = parse("s.mrl", SAMPLE, &Options::default());
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    let bad = "-module(s).\nf(X) -> Y, Z, case X of 1 -> A = 1; _ -> ok end, A.\n";
    assert_eq!(parse("s.mrl", bad, &Options::default()).1, parse("s.mrl", bad, &Options::default()).1);
}

#[test]
fn long_literal_lists() {
    // Data tables of thousands of elements are common; nothing may be
    // quadratic or recurse once per element on a small stack.
    let elems: Vec<String> = (0..20000).map(|i| i.to_string()).collect();
    let src = body(&format!("X = [{}], [_ | _] = X, X", elems.join(", ")));
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let (m, d) = parse("t.mrl", &src, &Options::default());
            assert!(d.is_empty(), "{d:?}");
            let m = m.unwrap();
            let mut n = 0;
            let ExprKind::Match(_, e) = &f_body(&m)[0].kind else { panic!() };
            let mut cur = &**e;
            while let ExprKind::Cons(h, t) = &cur.kind {
                if n == 1 {
                    assert_eq!(h.kind, ExprKind::Int(1.into()));
                }
                n += 1;
                cur = t;
            }
            assert_eq!(n, 20000);
            // Dropping a 20000-deep Box chain recurses once per cell (see
            // the report to the lead); the parse itself must not.
            std::mem::forget(m);
        })
        .unwrap();
    handle.join().unwrap();
}

#[test]
fn conditional_compilation() {
    let src = "-module(t).\n-export([f/0]).\n-define(V, 3).\n\
-if(?V > 2 andalso defined(V)).\na() -> big.\n-elif(?V > 1).\na() -> mid.\n-else.\na() -> small.\n-endif.\n\
-if(?OTP_RELEASE >= 25).\nb() -> new.\n-else.\nb() -> old.\n-endif.\n\
-ifdef(NOPE).\n-if(true).\nc() -> 1.\n-else.\nc() -> 2.\n-endif.\n-else.\n-ifndef(NOPE).\nc() -> 3.\n-endif.\n-endif.\n\
-if(foo()).\nd() -> 1.\n-elif(1).\nd() -> 2.\n-else.\nd() -> 3.\n-endif.\n\
-undef(V).\n-ifdef(V).\ne() -> 1.\n-else.\ne() -> 2.\n-endif.\n\
f() -> {a(), b(), c(), d(), e()}.\n";
    let m = ok(src);
    let bodies: Vec<String> = m
        .forms
        .iter()
        .filter_map(|f| match f {
            Form::Function(func) if func.name != "f" => Some(format!("{}:{}", func.name, sx(&func.clauses[0].body[0]))),
            _ => None,
        })
        .collect();
    assert_eq!(bodies, ["a:big", "b:new", "c:3", "d:3", "e:2"]);
}

#[test]
fn shell_expressions() {
    use minierl_compiler::parse::parse_exprs;
    let es = parse_exprs("X = [1, 2], lists:sum(X) + 1.\n").unwrap();
    assert_eq!(es.len(), 2);
    assert_eq!(sx(&es[1]), "(Add (lists:sum X) 1)");
    let err = parse_exprs("X = (1.\n").unwrap_err();
    assert_eq!(err[0].message, "syntax error before: '.'");
    let err = parse_exprs("1 + 1").unwrap_err();
    assert_eq!(err[0].message, "syntax error before: ");
    let err = parse_exprs("f(X) + 1 = 2.").unwrap_err();
    assert_eq!(err[0].message, "illegal pattern");
}
