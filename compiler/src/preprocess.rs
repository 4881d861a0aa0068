//! The preprocessor, working on tokens as OTP's `epp` does: it cuts the token
//! stream into forms (a form ends with a dot), runs the directives
//! (`-define`, `-undef`, `-ifdef`, `-ifndef`, `-if`, `-elif`, `-else`,
//! `-endif`; an `-if` condition that does not evaluate to `true`, an error
//! included, is false, as in epp), expands
//! `?NAME` and `?NAME(Args)` (overloaded by arity), `??Arg`, and the
//! predefined `?MODULE`, `?MODULE_STRING`, `?FILE`, `?LINE`,
//! `?FUNCTION_NAME`, `?FUNCTION_ARITY`, `?MACHINE`, `?OTP_RELEASE`.
//!
//! A form with an error (lexical or in a macro) is dropped after the error is
//! reported, as epp does, so the parser never sees it. Tokens produced by a
//! macro body carry the span of the macro use; tokens of an argument keep
//! their own spans.
//!
//! Type information is dropped here, because minierl does not use it:
//! `-spec`, `-type`, `-opaque` and `-callback` forms disappear, and the
//! `:: Type` annotations of `-record` fields are cut out.

use crate::ast::Span;
use crate::diag::{line_col, Diagnostic};
use crate::lexer::{self, write_string, Spanned, Tok};
use crate::Options;
use num_bigint::BigInt;
use std::collections::HashMap;

/// How deep macros may expand inside each other before we call it circular.
/// epp detects direct cycles; a depth limit also stops indirect ones.
const MAX_EXPANSION_DEPTH: usize = 100;

#[derive(Clone, Debug)]
struct Macro {
    params: Option<Vec<String>>,
    body: Vec<Spanned>,
}

/// An open conditional.
struct Cond {
    /// Forms of the current branch are kept.
    taking: bool,
    /// Some branch was (or is being) taken: later `-elif`/`-else` are skipped.
    any_taken: bool,
    seen_else: bool,
    /// The whole conditional lies in a skipped branch.
    outer_skipping: bool,
}

struct Pp<'a> {
    file_name: &'a str,
    source: &'a str,
    /// name → definitions keyed by arity (`None` for `-define(N, B)`).
    macros: HashMap<String, HashMap<Option<usize>, Macro>>,
    module: Option<String>,
    diags: Vec<Diagnostic>,
    /// One entry per open `-ifdef`/`-ifndef`/`-if`.
    conds: Vec<Cond>,
    /// The function the current form defines, for ?FUNCTION_NAME/ARITY.
    function: Option<(String, usize)>,
}

/// Cuts the tokens into forms, runs the directives and expands macros.
/// `lex_errors` are the lexer's diagnostics: a form holding one is dropped
/// (the scanning restarts after the bad token, as erl_scan does).
pub fn preprocess(
    file_name: &str,
    source: &str,
    toks: Vec<Spanned>,
    lex_errors: Vec<Diagnostic>,
    opts: &Options,
) -> (Vec<Vec<Spanned>>, Vec<Diagnostic>) {
    let mut pp = Pp {
        file_name,
        source,
        macros: HashMap::new(),
        module: None,
        diags: Vec::new(),
        conds: Vec::new(),
        function: None,
    };
    for (name, value) in &opts.defines {
        let (body, _) = lexer::lex(value);
        pp.macros.entry(name.clone()).or_default().insert(None, Macro { params: None, body });
    }

    // Cut into forms; a lexical error discards the form it falls in.
    let mut raw_forms: Vec<Vec<Spanned>> = Vec::new();
    let mut errors = lex_errors.into_iter().peekable();
    let mut cur: Vec<Spanned> = Vec::new();
    for t in toks {
        while errors.peek().is_some_and(|e| (e.span.start as usize) < t.0) {
            pp.diags.push(errors.next().unwrap());
            cur.clear();
        }
        let dot = t.1 == Tok::Dot;
        cur.push(t);
        if dot {
            raw_forms.push(std::mem::take(&mut cur));
        }
    }
    if errors.peek().is_some() {
        pp.diags.extend(errors);
        cur.clear();
    }
    if !cur.is_empty() {
        raw_forms.push(cur);
    }

    let mut out = Vec::new();
    for form in raw_forms {
        if let Some(f) = pp.form(form) {
            out.push(f);
        }
    }
    if !pp.conds.is_empty() {
        let end = source.len();
        pp.diags.push(Diagnostic::error("E0210", Span::new(end, end), "unterminated '-ifdef'"));
    }
    (out, pp.diags)
}

fn is_name(t: &Tok) -> Option<&str> {
    match t {
        Tok::Atom(a) => Some(a),
        Tok::Var(v) => Some(v),
        _ => None,
    }
}

fn sp(t: &Spanned) -> Span {
    Span::new(t.0, t.2)
}

impl<'a> Pp<'a> {
    fn err(&mut self, at: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error("E0200", at, msg));
    }

    /// Handles one form; returns it expanded if the parser should see it.
    fn form(&mut self, form: Vec<Spanned>) -> Option<Vec<Spanned>> {
        let directive = match (form.first(), form.get(1)) {
            (Some((_, Tok::Minus, _)), Some((_, Tok::Atom(a), _))) => Some(a.clone()),
            (Some((_, Tok::Minus, _)), Some((_, Tok::If, _))) => Some("if".to_string()),
            _ => None,
        };
        let skipping = self.conds.iter().any(|c| !c.taking);
        match directive.as_deref() {
            Some(kind @ ("ifdef" | "ifndef" | "if")) => {
                let take = if skipping {
                    false
                } else if kind == "if" {
                    self.eval_condition(&form)
                } else {
                    match self.directive_name(&form) {
                        Some(name) => self.is_defined(&name) == (kind == "ifdef"),
                        None => {
                            let at = form.get(2).map(sp).unwrap_or_default();
                            self.err(at, format!("badly formed '{kind}'"));
                            false
                        }
                    }
                };
                self.conds.push(Cond { taking: take, any_taken: take, seen_else: false, outer_skipping: skipping });
                return None;
            }
            Some("elif") => {
                let at = sp(&form[1]);
                let open = self.conds.last().map(|c| (c.seen_else, c.any_taken, c.outer_skipping));
                match open {
                    Some((false, any_taken, outer_skipping)) => {
                        let take = !outer_skipping && !any_taken && self.eval_condition(&form);
                        if let Some(c) = self.conds.last_mut() {
                            c.taking = take;
                            c.any_taken |= take;
                        }
                    }
                    _ => self.err(at, "unbalanced '-elif'"),
                }
                return None;
            }
            Some("else") => {
                let at = sp(&form[1]);
                match self.conds.last_mut() {
                    Some(c) if !c.seen_else => {
                        c.seen_else = true;
                        c.taking = !c.outer_skipping && !c.any_taken;
                        c.any_taken = true;
                    }
                    _ => self.err(at, "unbalanced '-else'"),
                }
                return None;
            }
            Some("endif") => {
                let at = sp(&form[1]);
                if self.conds.pop().is_none() {
                    self.err(at, "unbalanced '-endif'");
                }
                return None;
            }
            _ => {}
        }
        if skipping {
            return None;
        }
        match directive.as_deref() {
            Some("define") => {
                self.define(&form);
                return None;
            }
            Some("undef") => {
                match self.directive_name(&form) {
                    Some(name) => {
                        self.macros.remove(&name);
                    }
                    None => {
                        let at = form.get(2).map(sp).unwrap_or_default();
                        self.err(at, "badly formed 'undef'");
                    }
                }
                return None;
            }
            Some("include") | Some("include_lib") => {
                let at = form.get(3).map(sp).unwrap_or_else(|| sp(&form[1]));
                let file = match form.get(3) {
                    Some((_, Tok::Str(s), _)) => write_string(s, '"'),
                    _ => "\"\"".to_string(),
                };
                self.err(at, format!("can't find include file {file}"));
                return None;
            }
            Some("spec") | Some("type") | Some("opaque") | Some("callback") => return None,
            _ => {}
        }

        // ?FUNCTION_NAME / ?FUNCTION_ARITY: the form is `name(Args) ...`.
        self.function = match (form.first(), form.get(1)) {
            (Some((_, Tok::Atom(f), _)), Some((_, Tok::LParen, _))) => Some((f.clone(), count_args(&form[1..]))),
            _ => None,
        };
        let expanded = self.expand(&form, 0)?;

        if let [(_, Tok::Minus, _), (_, Tok::Atom(a), _), (_, Tok::LParen, _), (_, Tok::Atom(m), _), (_, Tok::RParen, _), ..] =
            expanded.as_slice()
        {
            if a == "module" && self.module.is_none() {
                self.module = Some(m.clone());
            }
        }
        if directive.as_deref() == Some("record") {
            return Some(strip_types(expanded));
        }
        Some(expanded)
    }

    /// The condition of `-if(Expr).` or `-elif(Expr).`: `defined(NAME)` is
    /// replaced, macros are expanded, and the expression is evaluated.
    /// As in epp, anything that does not evaluate to `true` is false.
    fn eval_condition(&mut self, form: &[Spanned]) -> bool {
        // - if ( Expr ) .
        let n = form.len();
        if n < 5 || form[2].1 != Tok::LParen || form[n - 2].1 != Tok::RParen {
            let at = form.get(2).map(sp).unwrap_or_else(|| sp(&form[1]));
            self.err(at, "badly formed 'if'");
            return false;
        }
        let inner = &form[3..n - 2];
        let mut toks = Vec::new();
        let mut i = 0;
        while i < inner.len() {
            if let (Tok::Atom(a), Some((_, Tok::LParen, _)), Some((_, name, _)), Some((_, Tok::RParen, _))) = (
                &inner[i].1,
                inner.get(i + 1).map(|t| t.clone()),
                inner.get(i + 2).map(|t| t.clone()),
                inner.get(i + 3).map(|t| t.clone()),
            ) {
                if a == "defined" {
                    if let Some(name) = is_name(&name) {
                        let v = if self.is_defined(name) { "true" } else { "false" };
                        toks.push((inner[i].0, Tok::Atom(v.into()), inner[i + 3].2));
                        i += 4;
                        continue;
                    }
                }
            }
            toks.push(inner[i].clone());
            i += 1;
        }
        let Some(toks) = self.expand(&toks, 0) else { return false };
        crate::parse::const_condition(self.source, toks)
    }

    fn is_defined(&self, name: &str) -> bool {
        self.macros.contains_key(name)
            || matches!(name, "MODULE" | "MODULE_STRING") && self.module.is_some()
            || matches!(name, "FILE" | "LINE" | "MACHINE" | "OTP_RELEASE")
    }

    /// The NAME of `-ifdef(NAME).`, `-undef(NAME).`.
    fn directive_name(&self, form: &[Spanned]) -> Option<String> {
        match form {
            [_, _, (_, Tok::LParen, _), (_, n, _), (_, Tok::RParen, _), (_, Tok::Dot, _)] => {
                is_name(n).map(str::to_string)
            }
            _ => None,
        }
    }

    fn define(&mut self, form: &[Spanned]) {
        // -define ( Name [ ( P, ... ) ] , Body ) .
        let bad = |pp: &mut Pp, i: usize| {
            let at = form.get(i).or(form.last()).map(sp).unwrap_or_default();
            pp.err(at, "badly formed 'define'");
        };
        if !matches!(form.get(2), Some((_, Tok::LParen, _))) {
            return bad(self, 2);
        }
        let (name, name_span) = match form.get(3) {
            Some(t @ (_, n, _)) if is_name(n).is_some() => (is_name(n).unwrap_or_default().to_string(), sp(t)),
            _ => return bad(self, 3),
        };
        let mut i = 4;
        let mut params = None;
        if matches!(form.get(i), Some((_, Tok::LParen, _))) {
            let mut ps = Vec::new();
            i += 1;
            if matches!(form.get(i), Some((_, Tok::RParen, _))) {
                i += 1;
            } else {
                loop {
                    match form.get(i) {
                        Some((_, Tok::Var(v), _)) => ps.push(v.clone()),
                        _ => return bad(self, i),
                    }
                    i += 1;
                    match form.get(i) {
                        Some((_, Tok::Comma, _)) => i += 1,
                        Some((_, Tok::RParen, _)) => {
                            i += 1;
                            break;
                        }
                        _ => return bad(self, i),
                    }
                }
            }
            params = Some(ps);
        }
        match form.get(i) {
            Some((_, Tok::Comma, _)) => i += 1,
            // `-define(NAME).` defines NAME as `true`.
            Some((_, Tok::RParen, _)) if params.is_none() && i + 2 == form.len() => {
                let body = vec![(name_span.start as usize, Tok::Atom("true".into()), name_span.end as usize)];
                return self.add_macro(name, name_span, None, body);
            }
            _ => return bad(self, i),
        }
        let n = form.len();
        if n < i + 2 || form[n - 1].1 != Tok::Dot || form[n - 2].1 != Tok::RParen {
            return bad(self, n.saturating_sub(1));
        }
        let body = form[i..n - 2].to_vec();
        self.add_macro(name, name_span, params, body);
    }

    fn add_macro(&mut self, name: String, at: Span, params: Option<Vec<String>>, body: Vec<Spanned>) {
        let arity = params.as_ref().map(Vec::len);
        let predefined = matches!(
            name.as_str(),
            "MODULE"
                | "MODULE_STRING"
                | "FILE"
                | "LINE"
                | "FUNCTION_NAME"
                | "FUNCTION_ARITY"
                | "MACHINE"
                | "OTP_RELEASE"
        );
        let defs = self.macros.entry(name.clone()).or_default();
        if predefined || defs.contains_key(&arity) {
            self.err(at, format!("redefining macro '{name}'"));
            return;
        }
        defs.insert(arity, Macro { params, body });
    }

    /// Expands every macro use in `toks`. None if an error was reported.
    fn expand(&mut self, toks: &[Spanned], depth: usize) -> Option<Vec<Spanned>> {
        let mut out = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if t.1 != Tok::Question {
                out.push(t.clone());
                i += 1;
                continue;
            }
            let (name, name_tok) = match toks.get(i + 1) {
                Some(nt @ (_, n, _)) if is_name(n).is_some() => {
                    (is_name(n).unwrap_or_default().to_string(), nt.clone())
                }
                _ => {
                    // `?` not followed by a name: erlc says "syntax error before" it.
                    let at = toks.get(i + 1).map(sp).unwrap_or_else(|| sp(t));
                    let what = toks.get(i + 1).map(|t| t.1.erlc_text()).unwrap_or_default();
                    self.err(at, format!("syntax error before: {what}"));
                    return None;
                }
            };
            let name_span = sp(&name_tok);
            let use_start = t.0;
            if depth > MAX_EXPANSION_DEPTH {
                self.err(name_span, format!("circular macro '{name}'"));
                return None;
            }
            // Predefined macros.
            let line_of = |off: usize| line_col(self.source, off).0;
            let predefined = match name.as_str() {
                "LINE" => Some(Tok::Int(BigInt::from(line_of(use_start)))),
                "FILE" => Some(Tok::Str(crate::runtime_file_name(self.file_name).chars().map(|c| c as u32).collect())),
                "MODULE" => self.module.clone().map(Tok::Atom),
                "MODULE_STRING" => self.module.as_ref().map(|m| Tok::Str(m.chars().map(|c| c as u32).collect())),
                "FUNCTION_NAME" => self.function.as_ref().map(|f| Tok::Atom(f.0.clone())),
                "FUNCTION_ARITY" => self.function.as_ref().map(|f| Tok::Int(BigInt::from(f.1))),
                "MACHINE" => Some(Tok::Atom("BEAM".into())),
                "OTP_RELEASE" => Some(Tok::Int(BigInt::from(25))),
                _ => None,
            };
            if let Some(tok) = predefined.filter(|_| !self.macros.contains_key(&name)) {
                out.push((use_start, tok, name_tok.2));
                i += 2;
                continue;
            }
            let Some(defs) = self.macros.get(&name).cloned() else {
                let with_args = matches!(toks.get(i + 2), Some((_, Tok::LParen, _)));
                let shown = if with_args {
                    match macro_args(&toks[i + 2..]) {
                        Some((args, _)) => format!("{name}/{}", args.len()),
                        None => name.clone(),
                    }
                } else {
                    name.clone()
                };
                self.err(name_span, format!("undefined macro '{shown}'"));
                return None;
            };
            let has_parens = matches!(toks.get(i + 2), Some((_, Tok::LParen, _)));
            let parsed = if has_parens && defs.keys().any(|k| k.is_some()) { macro_args(&toks[i + 2..]) } else { None };
            let (mac, args, next) = match parsed {
                Some((args, used)) if defs.contains_key(&Some(args.len())) => {
                    (defs[&Some(args.len())].clone(), args, i + 2 + used)
                }
                _ => match defs.get(&None) {
                    Some(m) => (m.clone(), Vec::new(), i + 2),
                    None => {
                        self.err(name_span, format!("argument mismatch for macro '{name}'"));
                        return None;
                    }
                },
            };
            let use_end = toks[next - 1].2;
            let here = |tok: &Tok| (use_start, tok.clone(), use_end);
            // Substitute the arguments into the body.
            let mut body = Vec::with_capacity(mac.body.len());
            let params = mac.params.unwrap_or_default();
            let mut j = 0;
            while j < mac.body.len() {
                let bt = &mac.body[j];
                if bt.1 == Tok::QuestionQuestion {
                    if let Some((_, Tok::Var(v), _)) = mac.body.get(j + 1) {
                        if let Some(k) = params.iter().position(|p| p == v) {
                            let text = stringify(&args[k]);
                            body.push((use_start, Tok::Str(text.chars().map(|c| c as u32).collect()), use_end));
                            j += 2;
                            continue;
                        }
                    }
                }
                if let Tok::Var(v) = &bt.1 {
                    if let Some(k) = params.iter().position(|p| p == v) {
                        body.extend(args[k].iter().cloned());
                        j += 1;
                        continue;
                    }
                }
                body.push(here(&bt.1));
                j += 1;
            }
            // Rescan the result for further macro uses.
            if body.iter().any(|t| t.1 == Tok::Question) {
                if depth >= MAX_EXPANSION_DEPTH {
                    self.err(name_span, format!("circular macro '{name}'"));
                    return None;
                }
                let mark = self.diags.len();
                match self.expand(&body, depth + 1) {
                    Some(b) => body = b,
                    None => {
                        // Report a runaway expansion once, at the outermost use.
                        if self.diags[mark..].iter().any(|d| d.message.starts_with("circular macro")) {
                            self.diags.truncate(mark);
                            self.err(name_span, format!("circular macro '{name}'"));
                        }
                        return None;
                    }
                }
            }
            out.extend(body);
            i = next;
        }
        Some(out)
    }
}

/// Splits `( A, B, ... )` at top-level commas; returns the arguments and the
/// number of tokens used (parentheses included). Nesting counts brackets and
/// the keyword blocks closed by `end`, as epp does.
fn macro_args(toks: &[Spanned]) -> Option<(Vec<Vec<Spanned>>, usize)> {
    if toks.first()?.1 != Tok::LParen {
        return None;
    }
    let mut args = Vec::new();
    let mut cur = Vec::new();
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(1) {
        match &t.1 {
            Tok::LParen
            | Tok::LBrack
            | Tok::LBrace
            | Tok::LtLt
            | Tok::Begin
            | Tok::If
            | Tok::Case
            | Tok::Receive
            | Tok::Try => depth += 1,
            Tok::Fun if matches!(toks.get(i + 1), Some((_, Tok::LParen, _))) => depth += 1,
            Tok::Fun
                if matches!(
                    (toks.get(i + 1), toks.get(i + 2)),
                    (Some((_, Tok::Var(_), _)), Some((_, Tok::LParen, _)))
                ) =>
            {
                depth += 1
            }
            Tok::RParen if depth == 0 => {
                if !cur.is_empty() || !args.is_empty() {
                    args.push(cur);
                }
                return Some((args, i + 1));
            }
            Tok::RParen | Tok::RBrack | Tok::RBrace | Tok::GtGt | Tok::End => depth = depth.saturating_sub(1),
            Tok::Comma if depth == 0 => {
                args.push(std::mem::take(&mut cur));
                continue;
            }
            Tok::Dot => return None,
            _ => {}
        }
        cur.push(t.clone());
    }
    None
}

/// The number of arguments of the function head that starts a form.
fn count_args(toks: &[Spanned]) -> usize {
    match macro_args(toks) {
        Some((args, _)) => args.len(),
        None => 0,
    }
}

/// `??Arg`: the argument's tokens as text, separated by single spaces, as
/// epp writes them (`??X` of `foo(1,2)` is `"foo ( 1 , 2 )"`).
fn stringify(toks: &[Spanned]) -> String {
    toks.iter().map(|t| t.1.text()).collect::<Vec<_>>().join(" ")
}

/// Removes the `:: Type` of each field of a `-record` form.
fn strip_types(toks: Vec<Spanned>) -> Vec<Spanned> {
    let mut out = Vec::with_capacity(toks.len());
    let mut depth = 0i32;
    let mut skip_at: Option<i32> = None;
    for t in toks {
        let opens = matches!(t.1, Tok::LParen | Tok::LBrack | Tok::LBrace | Tok::LtLt);
        let closes = matches!(t.1, Tok::RParen | Tok::RBrack | Tok::RBrace | Tok::GtGt);
        if let Some(d) = skip_at {
            if ((t.1 == Tok::Comma || closes) && depth == d) || t.1 == Tok::Dot {
                skip_at = None;
            } else {
                if opens {
                    depth += 1;
                }
                if closes {
                    depth -= 1;
                }
                continue;
            }
        }
        if t.1 == Tok::ColonColon && depth >= 2 {
            skip_at = Some(depth);
            continue;
        }
        if opens {
            depth += 1;
        }
        if closes {
            depth -= 1;
        }
        out.push(t);
    }
    out
}
