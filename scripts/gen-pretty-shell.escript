#!/usr/bin/env escript
%% Writes vm/src/format/testdata/pretty_shell.txt: the terms of
%% pretty_random.txt laid out by OTP's pretty printer with the options
%% Erlang's shell uses for results when its output is a pipe (column 1,
%% 80 columns, 60 characters per line, latin1), at depth 30 (all terms)
%% and with no depth limit (the first 150 terms).
%% Run from the repository's root: scripts/gen-pretty-shell.escript
main([]) ->
    Dir = "vm/src/format/testdata/",
    {ok, Bin} = file:read_file(Dir ++ "pretty_random.txt"),
    Terms = [T || C <- string:split(binary_to_list(Bin), "=== ", all), {ok, T} <- [term_of(C)]],
    Numbered = lists:zip(lists:seq(1, length(Terms)), Terms),
    Cases = [{D, WT} || {N, WT} <- Numbered, D <- [30 | [-1 || N =< 150]]],
    {ok, F} = file:open(Dir ++ "pretty_shell.txt", [write, {encoding, latin1}]),
    [io:put_chars(F, case_text(D, W, T)) || {D, {W, T}} <- Cases],
    ok = file:close(F).

term_of("") -> none;
term_of(C) ->
    [_Head, Rest] = string:split(C, "\n"),
    [W, _] = string:split(Rest, "\n---\n"),
    maybe_parse(W).

maybe_parse(W) ->
    case erl_scan:string(W ++ ".") of
        {ok, Toks, _} ->
            case erl_parse:parse_term(Toks) of
                {ok, T} -> {ok, {W, T}};
                _ -> none
            end;
        _ -> none
    end.

case_text(D, W, T) ->
    S = io_lib_pretty:print(T, [{column, 1}, {line_length, 80}, {depth, D}, {line_max_chars, 60},
                                {strings, true}, {encoding, latin1}]),
    ["=== 1 ", integer_to_list(D), " 80 - 60\n", W, "\n---\n", S, "\n"].
