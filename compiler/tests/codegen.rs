//! Code generator tests: every module must pass the verifier and round-trip
//! through the file format; key shapes are checked on the instructions.

use minierl_bytecode::{self as bc, Instr, Module};
use minierl_compiler::{compile, Options};

/// Compile, verify, round-trip; panic with the diagnostics otherwise.
fn build(src: &str) -> Module {
    let name = src.split("-module(").nth(1).and_then(|r| r.split(')').next()).unwrap_or("t").trim();
    let m = match compile(&format!("{name}.mrl"), src, &Options::default()) {
        Ok(c) => c.module,
        Err(d) => panic!("compile failed: {d:#?}"),
    };
    if let Err(e) = bc::verify(&m) {
        panic!("verify failed: {e}\n{}", dump(&m));
    }
    let back = bc::decode(&bc::encode(&m)).expect("decodes");
    assert_eq!(back, m);
    m
}

/// A readable listing (for failures and for `DUMP=1`).
fn dump(m: &Module) -> String {
    let mut s = String::new();
    for (i, ins) in m.code.iter().enumerate() {
        if let Some(f) = m.functions.iter().find(|f| f.info.0 as usize == i) {
            s += &format!("\n{}/{}:\n", m.atoms[f.name.0 as usize], f.arity);
        }
        s += &format!("{i:4}  {ins:?}\n");
    }
    s
}

/// The code of function `name/arity`.
fn code<'m>(m: &'m Module, name: &str, arity: u8) -> &'m [Instr] {
    let i = m
        .functions
        .iter()
        .position(|f| m.atoms[f.name.0 as usize] == name && f.arity == arity)
        .unwrap_or_else(|| panic!("no function {name}/{arity}"));
    let start = m.functions[i].info.0 as usize;
    let end = m.functions.get(i + 1).map_or(m.code.len(), |f| f.info.0 as usize);
    &m.code[start..end]
}

fn show(src: &str) {
    let m = build(src);
    if std::env::var("DUMP").is_ok() {
        eprintln!("{}", dump(&m));
    }
}

/// `DUMP=1 SRC=file.mrl cargo test --test codegen scratch -- --nocapture`
/// prints the code generated for a file.
#[test]
fn scratch() {
    if let Ok(p) = std::env::var("SRC") {
        show(&std::fs::read_to_string(p).unwrap());
    }
}

fn count(code: &[Instr], pred: impl Fn(&Instr) -> bool) -> usize {
    code.iter().filter(|i| pred(i)).count()
}

fn has(code: &[Instr], pred: impl Fn(&Instr) -> bool) -> bool {
    code.iter().any(pred)
}

/// Shorthand: a module `t` exporting everything.
fn module(body: &str) -> Module {
    build(&format!("-module(t).\n-compile(export_all).\n{body}"))
}

// ---------------------------------------------------------------- shapes

#[test]
fn tail_calls_use_only_and_last_variants() {
    let m = module(
        "loop(0) -> done; loop(N) -> loop(N - 1).\n\
         count(N, Acc) -> io:format(\"~p~n\", [N]), count(N - 1, Acc + 1).\n\
         rev(X) -> lists:reverse(X).\n\
         app(F, X) -> F(X).\n\
         dyn(M, F) -> M:F(1).\n",
    );
    let l = code(&m, "loop", 1);
    assert!(has(l, |i| matches!(i, Instr::CallOnly { arity: 1, .. })));
    assert!(!has(l, |i| matches!(i, Instr::Allocate { .. } | Instr::Call { .. })), "a loop needs no frame");
    let c = code(&m, "count", 2);
    assert!(has(c, |i| matches!(i, Instr::CallLast { arity: 2, .. })));
    assert!(has(c, |i| matches!(i, Instr::CallExt { arity: 2, .. })));
    assert!(has(code(&m, "rev", 1), |i| matches!(i, Instr::CallExtOnly { arity: 1, .. })));
    assert!(has(code(&m, "app", 2), |i| matches!(i, Instr::CallFunOnly { arity: 1 })));
    assert!(has(code(&m, "dyn", 2), |i| matches!(i, Instr::ApplyOnly { arity: 1 })));
}

#[test]
fn module_macro_call_is_remote() {
    let m = module("f() -> ?MODULE:g(1).\ng(X) -> X.\nh() -> g(2), ok.\n");
    let f = code(&m, "f", 0);
    let Some(Instr::CallExtOnly { import, .. }) = f.iter().find(|i| matches!(i, Instr::CallExtOnly { .. })) else {
        panic!("?MODULE:g(1) must be a remote call:\n{}", dump(&m));
    };
    let imp = m.imports[import.0 as usize];
    assert_eq!(m.atoms[imp.module.0 as usize], "t");
    assert_eq!(m.atoms[imp.function.0 as usize], "g");
    assert!(has(code(&m, "h", 0), |i| matches!(i, Instr::Call { arity: 1, .. })), "a local call stays local");
}

#[test]
fn atom_clauses_select_once() {
    let m = module("f(a) -> 1; f(b) -> 2; f(c) -> 3.\n");
    let f = code(&m, "f", 1);
    assert_eq!(count(f, |i| matches!(i, Instr::SelectVal { .. })), 1);
    assert!(!has(f, |i| matches!(i, Instr::Cmp { .. })), "no clause-by-clause re-testing");
    let Some(Instr::SelectVal { fail, table, .. }) = f.iter().find(|i| matches!(i, Instr::SelectVal { .. })) else {
        unreachable!()
    };
    assert_eq!(table.len(), 3);
    assert_eq!(*fail, m.functions.iter().find(|x| m.atoms[x.name.0 as usize] == "f").unwrap().info, "function_clause");
}

#[test]
fn tuple_arities_and_tags_dispatch() {
    let m = module(
        "f({a, X}) -> X; f({b, X, Y}) -> X + Y; f({c}) -> c; f([]) -> nil; f([H|_]) -> H; f(N) when is_integer(N) -> N.\n\
         g({ok, V}) -> V; g({error, _}) -> e.\n\
         h({ok, V}) -> V; h({ok, A, B}) -> {A, B}.\n",
    );
    let f = code(&m, "f", 1);
    assert!(has(f, |i| matches!(i, Instr::SelectTupleArity { table, .. } if table.len() == 3)));
    assert!(has(f, |i| matches!(i, Instr::Test { test: bc::TypeTest::Integer, .. })));
    let g = code(&m, "g", 1);
    assert!(has(g, |i| matches!(i, Instr::TestArity { arity: 2, .. })));
    assert_eq!(count(g, |i| matches!(i, Instr::GetTupleElement { index: 0, .. })), 1, "first element read once");
    assert!(has(g, |i| matches!(i, Instr::SelectVal { .. })));
    let m2 = module("r({ok, V}) -> V.\n");
    assert!(has(code(&m2, "r", 1), |i| matches!(i, Instr::IsTaggedTuple { arity: 2, .. })));
    let _ = code(&m, "h", 1);
}

#[test]
fn guards_are_tests_and_bifs_with_fail_labels() {
    let m = module(
        "f(X) when is_list(X), length(X) > 2; X =:= a -> yes; f(_) -> no.\n\
         g(X, Y) when X > Y andalso (Y == 0 orelse not is_atom(X)) -> 1; g(_, _) -> 2.\n\
         r(X) when is_record(X, r) -> 1; r(_) -> 0.\n\
         -record(r, {a, b}).\n",
    );
    let f = code(&m, "f", 1);
    assert!(has(f, |i| matches!(i, Instr::Test { test: bc::TypeTest::List, .. })));
    assert!(has(f, |i| matches!(i, Instr::Bif { fail, .. } if !fail.is_none())), "guard BIF jumps on failure");
    assert!(has(f, |i| matches!(i, Instr::Cmp { op: bc::CmpOp::Lt, .. })));
    let g = code(&m, "g", 2);
    assert!(!has(g, |i| matches!(i, Instr::Bif { .. })), "andalso/orelse/not/comparisons are control flow");
    assert!(has(code(&m, "r", 1), |i| matches!(i, Instr::IsTaggedTuple { arity: 3, .. })));
}

#[test]
fn frames_only_where_needed() {
    let m = module(
        "f(X) -> X + 1.\n\
         g(X) -> h(X) + X.\n\
         h(X) -> X.\n\
         k(X) -> case X of 0 -> zero; _ -> h(X), more end.\n",
    );
    assert!(!has(code(&m, "f", 1), |i| matches!(i, Instr::Allocate { .. })));
    let g = code(&m, "g", 1);
    assert_eq!(count(g, |i| matches!(i, Instr::Allocate { .. })), 1);
    assert!(has(g, |i| matches!(i, Instr::Deallocate { .. })));
    // The `0` branch returns without ever allocating.
    let k = code(&m, "k", 1);
    assert_eq!(count(k, |i| matches!(i, Instr::Allocate { .. })), 1);
}

#[test]
fn errors_have_erlang_reasons() {
    let m = module(
        "a(X) -> {ok, Y} = X, Y.\n\
         b(X) -> case X of 1 -> one end.\n\
         c(X) -> if X > 1 -> big end.\n\
         d(X) -> try X of 1 -> one catch _ -> two end.\n\
         -record(r, {a}).\n\
         e(R) -> R#r.a.\n",
    );
    let kinds: Vec<bc::ErrorKind> =
        m.code.iter().filter_map(|i| if let Instr::Error { kind, .. } = i { Some(*kind) } else { None }).collect();
    for k in [
        bc::ErrorKind::Badmatch,
        bc::ErrorKind::CaseClause,
        bc::ErrorKind::IfClause,
        bc::ErrorKind::TryClause,
        bc::ErrorKind::Badrecord,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing");
    }
}

#[test]
fn operators_and_bifs() {
    let m = module(
        "f(A, B) -> {A + B, A - B, A * B, A / B, A div B, A rem B, -A, bnot A, A band B, A bsl 2,\n\
                    A == B, A =/= B, A < B, A >= B, A and B, not A, A xor B, length(A), element(1, B),\n\
                    atom_to_list(A), A ++ B, A -- B, self()}.\n\
         s(P, M) -> P ! M.\n",
    );
    let f = code(&m, "f", 2);
    let names: Vec<String> = f
        .iter()
        .filter_map(|i| match i {
            Instr::Bif { import, .. } => Some(m.atoms[m.imports[import.0 as usize].function.0 as usize].clone()),
            _ => None,
        })
        .collect();
    for op in [
        "+", "-", "*", "/", "div", "rem", "bnot", "band", "bsl", "==", "=/=", "<", ">=", "and", "not", "xor", "length",
        "element", "self",
    ] {
        assert!(names.iter().any(|n| n == op), "{op} is not a Bif: {names:?}");
    }
    let exts: Vec<String> = f
        .iter()
        .filter_map(|i| match i {
            Instr::CallExt { import, .. } => Some(m.atoms[m.imports[import.0 as usize].function.0 as usize].clone()),
            _ => None,
        })
        .collect();
    for c in ["atom_to_list", "++", "--"] {
        assert!(exts.iter().any(|n| n == c), "{c} is not a remote call: {exts:?}");
    }
    assert!(has(code(&m, "s", 2), |i| matches!(i, Instr::Send)));
}

#[test]
fn constants_are_literals() {
    let m = module("f() -> {a, [1, 2, \"xy\"], #{k => 1.5}, -7, 123456789012345678901234567890}.\n");
    let f = code(&m, "f", 0);
    assert!(!has(f, |i| matches!(i, Instr::PutTuple { .. } | Instr::PutList { .. } | Instr::PutMapAssoc { .. })));
    assert!(m.literals.iter().any(|l| matches!(l, bc::Literal::Tuple(_))));
}

#[test]
fn module_info_and_tables() {
    let m = build("-module(mi).\n-export([f/0]).\n-vsn(3).\n-author(me).\nf() -> fun g/1.\ng(X) -> X.\n");
    for (n, a) in [("module_info", 0), ("module_info", 1), ("f", 0)] {
        assert!(m.exports.iter().any(|e| m.atoms[e.function.0 as usize] == n && e.arity == a), "{n}/{a} not exported");
    }
    assert!(!m.exports.iter().any(|e| m.atoms[e.function.0 as usize] == "g"));
    assert!(has(code(&m, "module_info", 1), |i| matches!(i, Instr::CallExtOnly { arity: 2, .. })));
    assert_eq!(m.lambdas.len(), 1);
    assert_eq!(m.lambdas[0].num_free, 0);
    assert_eq!(m.source, "mi.erl");
    assert!(m.attributes.iter().any(|(a, _)| m.atoms[a.0 as usize] == "author"));
    assert!(m.lines.iter().any(|l| l.line == 5), "line of f/0: {:?}", m.lines);
    let all = build("-module(ea).\n-compile(export_all).\nf() -> 1.\ng() -> 2.\n");
    assert_eq!(all.exports.len(), 4);
}

// ---------------------------------------------------------------- coverage

#[test]
fn case_branches_export_variables() {
    module(
        "f(X) -> case X of {a, V} -> W = V + 1, io:format(\"~p\", [W]); _ -> W = 0 end, {W, X}.\n\
         g(X) -> Y = if X > 0 -> pos; true -> neg end, Z = case Y of pos -> h(1); neg -> 2 end, {Y, Z}.\n\
         h(X) -> X.\n\
         n(X) -> A = case X of 1 -> case h(X) of 1 -> B = 1; _ -> B = 2 end, B; _ -> B = 3 end, {A, B}.\n",
    );
}

#[test]
fn receive_forms() {
    module(
        "a() -> receive X -> X end.\n\
         b(T) -> receive {x, Y} when Y > 1 -> Y; stop -> stopped after T -> timeout end.\n\
         c() -> receive after 100 -> ok end.\n\
         d(P) -> P ! hi, receive {P, R} -> R after infinity -> never end.\n\
         e(S) -> receive {add, N} -> e(S + N); {get, P} -> P ! S, e(S); stop -> S end.\n\
         f() -> X = receive A -> A after 0 -> none end, {got, X}.\n",
    );
}

#[test]
fn try_and_catch_forms() {
    module(
        "a(F) -> try F() catch error:R -> R; exit:R -> R; throw:R -> R end.\n\
         b(F) -> try F() of ok -> 1; V -> V catch C:R:S -> {C, R, S} after io:format(\"x\") end.\n\
         c(F) -> try F() after done() end.\n\
         d(F) -> X = (catch F()), {X}.\n\
         e(F) -> catch F().\n\
         f(F) -> try F() catch _ -> f(F) end.\n\
         g(F, X) -> try {ok, F(X)} catch throw:{T, V} when is_atom(T) -> {T, V, X} end.\n\
         h(F) -> Y = try F() of {a, Z} -> Z catch _:_ -> Z = 0, 1 end, {Y}.\n\
         done() -> ok.\n",
    );
}

#[test]
fn funs_and_closures() {
    let m = module(
        "a(N) -> F = fun(X) -> X + N end, F(1).\n\
         b(L) -> lists:map(fun(X) -> X * 2 end, L).\n\
         c() -> F = fun Fact(0) -> 1; Fact(N) -> N * Fact(N - 1) end, F(5).\n\
         d() -> fun lists:reverse/1.\n\
         e(M, F) -> fun M:F/2.\n\
         f() -> fun f/0.\n\
         g(X) -> fun() -> fun(Y) -> {X, Y} end end.\n\
         h(X) -> fun(X) -> X end.\n\
         i() -> fun length/1.\n\
         j(N) -> L = fun Loop(0, Acc) -> Acc; Loop(K, Acc) -> Loop(K - 1, [K | Acc]) end, L(N, []).\n",
    );
    assert!(m.literals.iter().any(|l| matches!(l, bc::Literal::ExportFun { .. })));
    assert!(has(code(&m, "a", 1), |i| matches!(i, Instr::MakeFun { free, .. } if free.len() == 1)));
    // The named fun's recursion calls the lifted function directly.
    let lifted =
        m.functions.iter().find(|f| m.atoms[f.name.0 as usize].starts_with("-j/1-Loop/2-")).expect("lifted named fun");
    let start = lifted.info.0 as usize;
    let seg = &m.code[start..];
    let end = seg.iter().skip(1).position(|i| matches!(i, Instr::FuncInfo { .. })).map_or(seg.len(), |p| p + 1);
    assert!(has(&seg[..end], |i| matches!(i, Instr::CallOnly { arity: 2, .. })), "{}", dump(&m));
}

#[test]
fn comprehensions() {
    let m = module(
        "a(L) -> [X * 2 || X <- L].\n\
         b(L, M) -> [{X, Y} || X <- L, X > 0, Y <- M, Y =/= X].\n\
         c(L) -> [X || {ok, X} <- L, is_integer(X), check(X)].\n\
         check(X) -> X > 1.\n\
         d(B) -> [X || <<X:8>> <= B].\n\
         e(L) -> << <<X:16>> || X <- L >>.\n\
         f(L, K) -> Z = [X + K || X <- L], {Z, K}.\n\
         g(B) -> [{A, C} || <<A:4, C:4>> <= B, A > C].\n",
    );
    assert!(m.functions.iter().any(|f| m.atoms[f.name.0 as usize].starts_with("-a/1-lc$^")));
}

#[test]
fn records() {
    module(
        "-record(p, {x = 0, y, z = default}).\n\
         a() -> #p{}.\n\
         b(Y) -> #p{y = Y}.\n\
         c(P) -> P#p{x = 1, z = 2}.\n\
         d(P) -> P#p.y.\n\
         e(#p{x = X, y = Y}) -> {X, Y}.\n\
         f() -> #p.z.\n\
         g(P) when P#p.x > 0 -> pos; g(_) -> other.\n\
         h(X) -> #p{_ = X}.\n\
         i(P) -> is_record(P, p).\n\
         j(#p{} = P) -> P.\n",
    );
}

#[test]
fn maps() {
    module(
        "a(K, V) -> #{K => V, b => 2}.\n\
         b(M) -> M#{a => 1, b := 2}.\n\
         c(#{a := A, b := B}) -> {A, B}; c(#{}) -> empty; c(_) -> other.\n\
         d(M, K) -> case M of #{K := V} -> V; _ -> none end.\n\
         e(M) when map_size(M) > 0, is_map_key(a, M) -> ok.\n\
         f(M) -> #{a := X} = M, X.\n",
    );
}

#[test]
fn binaries() {
    let m = module(
        "a(X, Y) -> <<X:8, Y:16/little, \"abc\", 1.5/float>>.\n\
         b(<<Len:8, Data:Len/binary, Rest/binary>>) -> {Data, Rest}.\n\
         c(<<\"GET \", Path/binary>>) -> Path; c(<<_:3, X:5, _/bits>>) -> X; c(_) -> none.\n\
         d(B) -> <<B/binary, 0>>.\n\
         e(<<C/utf8, R/binary>>) -> {C, R}.\n\
         f(X) -> <<X/utf8>>.\n\
         g(<<A:2/binary, _:2/binary>>) -> A.\n\
         h(<<X:16/signed-little-integer>>) -> X.\n\
         i(N, <<X:N, _/binary>>) -> X.\n",
    );
    assert!(has(code(&m, "b", 1), |i| matches!(i, Instr::BsGet { size: Some(bc::Src::X(_)), .. })));
    assert!(has(code(&m, "a", 2), |i| matches!(i, Instr::BsCreate { .. })));
    assert!(!has(code(&m, "b", 1), |i| matches!(i, Instr::BsTestTail { .. })), "the rest segment needs no tail test");
}

#[test]
fn patterns() {
    module(
        "a(X, X) -> same; a(_, _) -> diff.\n\
         b([H | T] = L) -> {H, T, L}.\n\
         c(\"abc\" ++ Rest) -> Rest.\n\
         d({A, B} = {C, D}) -> A + B + C + D.\n\
         e(1.0) -> float; e(1) -> int; e(12345678901234567890) -> big; e(-3) -> neg.\n\
         f(X) -> Y = 1, {Y, Y} = {X, 1}.\n\
         g([a, b | T]) -> T; g([a | _]) -> a; g([]) -> nil.\n\
         h({a, {b, c}, [d]}) -> deep.\n\
         i(X) -> case X of {Y, Y} -> Y; [Y | Y] -> Y end.\n",
    );
}

#[test]
fn misc_expressions() {
    module(
        "a(X) -> X andalso true.\n\
         b(X, Y) -> X orelse Y.\n\
         c(X) -> Y = (X andalso f(X)), {Y}.\n\
         f(X) -> begin Y = X, Y end.\n\
         g(L) -> [1, 2 | L].\n\
         h(A, B, C) -> {f(A), f(B), f(C)}.\n\
         i(A) -> [f(A), A | f(A)].\n\
         j(A) -> {A, [A | A], #{A => A}}.\n\
         k(M, F, A) -> apply(M, F, A).\n\
         l(X) -> X = X.\n\
         m(X) -> {Y, Z} = f(X), W = Y + Z, {Z, W}.\n\
         n(F) -> F(F(1), F(2)).\n",
    );
}

#[test]
fn nested_calls_spill_and_restore() {
    // The value computed before a call in the same expression survives it.
    let m = module("f(X) -> {X + 1, g(X), X * 2}.\ng(X) -> X.\n");
    let f = code(&m, "f", 1);
    assert!(has(f, |i| matches!(i, Instr::Move { src: bc::Src::X(_), dst: bc::Dst::Y(_) })));
}

#[test]
fn codegen_errors_are_diagnostics() {
    let src = "-module(t).\n-export([f/1]).\nf(<<A/binary, B:8>>) -> {A, B}.\n";
    match compile("t.mrl", src, &Options::default()) {
        Err(d) => assert!(d.iter().any(|d| d.message.contains("binary field without size")), "{d:?}"),
        Ok(_) => panic!("a binary field without size in the middle is an error"),
    }
}

#[test]
fn long_lists_do_not_overflow() {
    let items: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let src = format!(
        "-module(t).\n-compile(export_all).\nf(X) -> [X, {}].\ng() -> [{}].\n",
        items.join(", "),
        items.join(", ")
    );
    let (ast, _) = minierl_compiler::parse("t.mrl", &src, &Options::default());
    let ast = ast.expect("parses");
    let m = minierl_compiler::codegen::generate(&ast, "t.mrl", &Options::default()).expect("generates");
    // The AST's derived Drop recurses along the list (a front-end matter).
    std::mem::forget(ast);
    bc::verify(&m).unwrap();
    assert!(!has(code(&m, "g", 0), |i| matches!(i, Instr::PutList { .. })), "a constant list is a literal");
    assert_eq!(count(code(&m, "f", 1), |i| matches!(i, Instr::PutList { .. })), 1, "one cell onto a literal tail");
}

#[test]
fn tail_send_needs_no_frame() {
    let m = module("f(P, M) -> P ! {self(), M}.\n");
    assert!(!has(code(&m, "f", 2), |i| matches!(i, Instr::Allocate { .. })));
}

#[test]
fn constant_binaries_are_literals() {
    let m = module(
        "a() -> <<\"GET \", 1, 2:4, 3:4, 256:16/little, -1:8, \"é\"/utf8>>.\n\
         b() -> <<>>.\n\
         c() -> <<1:3>>.\n",
    );
    let lit = |name| {
        let c = code(&m, name, 0);
        assert!(!has(c, |i| matches!(i, Instr::BsCreate { .. })), "{name} folded");
        let Some(Instr::Move { src: bc::Src::Lit(l), .. }) = c.iter().find(|i| matches!(i, Instr::Move { .. })) else {
            panic!("{}", dump(&m))
        };
        m.literals[l.0 as usize].clone()
    };
    assert_eq!(
        lit("a"),
        bc::Literal::Binary { bytes: vec![b'G', b'E', b'T', b' ', 1, 0x23, 0x00, 0x01, 0xff, 0xc3, 0xa9], bits: 88 }
    );
    assert_eq!(lit("b"), bc::Literal::Binary { bytes: vec![], bits: 0 });
    assert_eq!(lit("c"), bc::Literal::Binary { bytes: vec![0x20], bits: 3 });
}

#[test]
fn output_is_deterministic() {
    let src = "-module(t).\n-compile(export_all).\n\
               f(A, B, C) -> G = fun(X) -> X + A + B + C end, [G(Y) || Y <- [A, B, C], Y > B], {A, B, C}.\n\
               g(X) -> case X of {a, P, Q} -> h(P), Q; {b, Q, P} -> h(Q), P end.\n\
               h(X) -> X.\n";
    let a = build(src);
    for _ in 0..5 {
        assert_eq!(build(src), a);
    }
}

#[test]
fn not_of_a_raising_guard_fails_the_guard() {
    let m = module("f(X) when not (length(X) > 1) -> short; f(_) -> other.\n");
    // length/1 on a non-list must make the guard fail: a value compared to false.
    assert!(has(code(&m, "f", 1), |i| matches!(i, Instr::Cmp { op: bc::CmpOp::EqExact, .. })), "{}", dump(&m));
}
