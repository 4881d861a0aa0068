//! Texts of crashes, as Erlang/OTP 25 prints them.
//!
//! - [`uncaught`]: an uncaught exception in the main process, in the
//!   words and layout of the erl shell (`erl_error:format_exception/7` as
//!   `shell:report_exception` calls it): `** exception error: <explained
//!   reason>`, then one line per stack frame (`in function`, `in call
//!   from`, `in operator`, `called as`). Terms are printed as the shell's
//!   `pp`: `~P` with depth 30 at the column where they start, line length 80.
//! - [`error_report`]: the logger's report for another process that dies
//!   of an error (`=ERROR REPORT==== date ===`).
//!
//! Not reproduced: the `*** argument N: ...` lines OTP adds from a BIF's
//! `error_info`, and `line_max_chars` (the shell's 60-character limit on
//! one-line sub-terms), which only changes how very wide terms break.

use crate::format::pretty::{self, PrettyOpts};
use crate::format::{self, FTerm};
use crate::process::Class;
use crate::term::*;

/// `** ` plus one: the column after the shell's severity tag.
const INDENT: &str = "   ";
/// The shell prints terms in reports with this depth (`?LINEMAX`).
const DEPTH: i64 = 30;

/// The shell's `pp(Term, Column)`: `~P` with depth 30 starting at the
/// 1-based column `col`. Safe on any term (deep ones print on a helper
/// thread with a large stack).
fn pp(terms: &[Term], build: impl FnOnce() -> FTerm + Send, col: usize) -> String {
    pp_depth(terms, build, col, DEPTH)
}

fn pp_depth(terms: &[Term], build: impl FnOnce() -> FTerm + Send, col: usize, depth: i64) -> String {
    format::with_stack_for(terms, move || {
        let mut s = String::new();
        pretty::pretty(&mut s, &build(), PrettyOpts { col: col as i64, depth, ..Default::default() });
        s
    })
    .unwrap_or_else(|| "...".into())
}

fn pf(t: Term, col: usize) -> String {
    pp(&[t], move || format::from_term(t), col)
}

fn nl(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

fn len(s: &str) -> usize {
    s.chars().count()
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

fn exited(class: Class) -> &'static str {
    match class {
        Class::Error => "exception error: ",
        Class::Exit => "exception exit: ",
        Class::Throw => "exception throw: ",
    }
}

/// `~w` of an atom (quoted when needed).
fn atom_text(a: Term) -> String {
    match a.atom_name() {
        Some(n) => {
            let mut s = String::new();
            format::write::write_atom(&mut s, n, false);
            s
        }
        None => format::write_term(a),
    }
}

/// `erl_internal:op_type/2` is defined for `F/A`.
fn is_op(m: Term, f: Term, arity: usize) -> Option<&'static str> {
    if m.as_atom() != Some(crate::atom::ERLANG) {
        return None;
    }
    let name = f.atom_name()?;
    // Erlang's operators: the arithmetic, boolean and comparison ones the
    // compiler knows, plus the list operators and send.
    let ok = minierl_compiler::bifs::is_operator(name, arity) || (arity == 2 && matches!(name, "++" | "--" | "!"));
    ok.then_some(name)
}

/// `mf_to_string/2`: `F` for auto-imported BIFs and operators, else `M:F`.
fn mf_to_string(m: Term, f: Term, arity: usize) -> String {
    let name = f.atom_name();
    if m.as_atom() == Some(crate::atom::ERLANG) {
        if let Some(n) = name {
            if minierl_compiler::bifs::is_auto_imported(n, arity) {
                return atom_text(f);
            }
        }
        if let Some(op) = is_op(m, f, arity) {
            return if op == "/" { atom_text(f) } else { op.to_string() };
        }
    }
    format!("{}:{}", atom_text(m), atom_text(f))
}

fn mfa_to_string(m: Term, f: Term, arity: usize) -> String {
    format!("{}/{}", mf_to_string(m, f, arity), arity)
}

/// `n_args/1`: an arity or the length of an argument list.
fn n_args(a: Term) -> usize {
    a.as_small().map(|n| n.max(0) as usize).or_else(|| a.list_length()).unwrap_or(0)
}

/// `location/1`: ` (file, line N)` text, or empty.
fn location(loc: Term) -> String {
    let mut file = None;
    let mut line = None;
    for e in loc.iter_list() {
        if let Some([k, v]) = e.tuple_elements() {
            match k.as_atom() {
                Some(crate::atom::FILE) if file.is_none() => {
                    file = Some(crate::bif::erlang::list_text(*v).unwrap_or_default())
                }
                Some(crate::atom::LINE) if line.is_none() => line = Some(format::write_term(*v)),
                _ => {}
            }
        }
    }
    match (file, line) {
        (Some(f), Some(l)) => format!("({f}, line {l})"),
        _ => String::new(),
    }
}

/// `pp_arguments/5`: the arguments between parentheses, starting at `col`.
fn pp_arguments(args: &[Term], col: usize) -> String {
    // A list of arguments that is printable would print as a string: the
    // first one is replaced by an atom of the same width, then put back.
    let printable = !args.is_empty()
        && args.iter().all(|a| {
            a.as_small()
                .is_some_and(|c| (32..=126).contains(&c) || (160..=255).contains(&c) || matches!(c, 8..=13 | 27))
        });
    let owned: Vec<Term> = args.to_vec();
    if printable {
        let first = args[0].as_small().unwrap_or(0).to_string();
        let w = first.len();
        let s = pp(
            &owned,
            || {
                let mut v = vec![FTerm::Atom("a".repeat(w))];
                v.extend(owned[1..].iter().map(|t| format::from_term(*t)));
                FTerm::list(v)
            },
            col + 1,
        );
        let rest: String = s.chars().skip(1 + w).collect();
        return brackets_to_parens(&format!("[{first}{rest}"));
    }
    let s = pp(&owned, || FTerm::list(owned.iter().map(|t| format::from_term(*t)).collect()), col + 1);
    brackets_to_parens(&s)
}

fn brackets_to_parens(s: &str) -> String {
    match s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => format!("({inner})"),
        None if s == "[]" => "()".into(),
        None => s.to_string(),
    }
}

/// `format_op/7`.
fn format_op(errstr: &str, pre: &str, op: &str, args: &[Term]) -> String {
    match args {
        [a1] => {
            let i1 = len(errstr) + len(pre) + len(op);
            format!("{op} {}", pf(*a1, i1 + 2))
        }
        [a1, a2] => {
            let i1 = len(errstr) + len(pre);
            let s1 = pf(*a1, i1 + 1);
            let s2 = pf(*a2, i1 + 1);
            let pre1 = format!("\n{}", spaces(i1));
            if nl(&s1) > 0 {
                return format!("{s1}{pre1}{op}{pre1}{s2}");
            }
            let size1 = len(errstr) + len(pre) + len(op) + 2;
            let size2 = len(&s1);
            let s2_2 = pf(*a2, size1 + size2 + 1);
            if nl(&s2) < nl(&s2_2) {
                format!("{s1}{pre1}{op}{pre1}{s2}")
            } else {
                format!("{s1} {op} {s2_2}")
            }
        }
        _ => String::new(),
    }
}

/// `format_call/7`: `ErrStr` then `M:F(Args)` (or an operator call),
/// breaking before the call when that saves lines.
fn format_call(errstr: &str, pre1: &str, m: Term, f: Term, args: &[Term]) -> String {
    let arity = args.len();
    if let Some(op) = is_op(m, f, arity) {
        return format!("{errstr}{}", format_op(errstr, pre1, op, args));
    }
    let mfs = mf_to_string(m, f, arity);
    let i1 = len(pre1) + len(errstr) + len(&mfs);
    let s1 = pp_arguments(args, i1);
    let s2 = pp_arguments(args, len(pre1) + len(&mfs));
    let s3 = {
        let a = Term::atom(crate::atom::intern("a2345"));
        let b = Term::atom(crate::atom::intern("b2345"));
        pp_arguments(&[a, b], i1)
    };
    if nl(&s3) > 0 || nl(&s2) < nl(&s1) {
        format!("{errstr}\n{pre1}{mfs}{s2}")
    } else {
        format!("{errstr}{mfs}{s1}")
    }
}

/// `format_value/6`: `ErrStr` then the term, on the next line when that
/// saves lines.
fn format_value(v: Term, errstr: &str) -> String {
    let pre1 = exited(Class::Error).len();
    let s1 = pf(v, pre1 + INDENT.len() + len(errstr) + 1);
    let n1 = nl(&s1);
    if n1 > 1 {
        let s2 = pf(v, INDENT.len() + 1 + pre1);
        if nl(&s2) < n1 {
            return format!("{errstr}\n{INDENT}{}{s2}", spaces(pre1));
        }
    }
    format!("{errstr}{s1}")
}

/// `argss/1`.
fn argss(n: usize) -> String {
    match n {
        0 => "no arguments".into(),
        1 => "one argument".into(),
        2 => "two arguments".into(),
        n => format!("{n} arguments"),
    }
}

/// `format_fun/1`.
fn format_fun(f: Term) -> String {
    match f.fun_view() {
        Some(FunView::Local { module, name, arity, .. }) => {
            if name.name().is_empty() {
                format::write_term(f)
            } else {
                mfa_to_string(Term::atom(module), Term::atom(name), arity as usize)
            }
        }
        Some(FunView::Export { module, function, arity }) => {
            mfa_to_string(Term::atom(module), Term::atom(function), arity as usize)
        }
        None => format::write_term(f),
    }
}

/// `explain_reason/7` for OTP 25. `first` is the frame `analyze` took off
/// the stack for `function_clause` and `undef`.
fn explain(reason: Term, class: Class, first: Option<&[Term]>) -> String {
    let fallback = |r: Term| pf(r, INDENT.len() + 1 + exited(class).len());
    if class != Class::Error {
        return fallback(reason);
    }
    if let Some(a) = reason.atom_name() {
        let text = match (a, first) {
            ("badarg", None) => "bad argument",
            ("badarith", None) => "an error occurred when evaluating an arithmetic expression",
            ("if_clause", None) => "no true branch found when evaluating an if expression",
            ("noproc", None) => "no such process or port",
            ("notalive", None) => "the node cannot be part of a distributed system",
            ("system_limit", None) => "a system limit has been reached",
            ("timeout_value", None) => "bad receive timeout value",
            ("function_clause", Some([m, f, args, loc])) => {
                let pre1 = format!("{INDENT}{}", spaces(exited(class).len()));
                let a: Vec<Term> = args.iter_list().collect();
                let call = format_call("no function clause matching ", &pre1, *m, *f, &a);
                return format!("{call} {}", location(*loc));
            }
            ("undef", Some([m, f, a, _])) => {
                return format!("undefined function {}", mfa_to_string(*m, *f, n_args(*a)));
            }
            _ => return fallback(reason),
        };
        return text.to_string();
    }
    if let Some([tag, v]) = reason.tuple_elements() {
        let prefix = match tag.atom_name() {
            Some("badarg") => Some("bad argument: "),
            Some("badkey") => Some("bad key: "),
            Some("badmap") => Some("bad map: "),
            Some("badfun") => Some("bad function "),
            Some("badmatch") => Some("no match of right hand side value "),
            Some("case_clause") => Some("no case clause matching "),
            Some("try_clause") => Some("no try clause matching "),
            Some("bad_filter") => Some("bad filter "),
            Some("bad_generator") => Some("bad generator "),
            _ => None,
        };
        if let Some(p) = prefix {
            return format_value(*v, p);
        }
        match tag.atom_name() {
            Some("badarity") => {
                if let Some([f, args]) = v.tuple_elements() {
                    if f.is_function() {
                        if let Some(n) = args.list_length() {
                            return format!("{} called with {}", format_fun(*f), argss(n));
                        }
                    }
                }
            }
            Some("unbound") => return format!("variable {} is unbound", format::write_term(*v)),
            _ => {}
        }
    }
    fallback(reason)
}

/// `is_stacktrace/1`.
fn is_stacktrace(trace: Term) -> bool {
    let mut it = trace.iter_list();
    for e in it.by_ref() {
        match e.tuple_elements() {
            Some([m, f, a, i])
                if m.is_atom()
                    && f.is_atom()
                    && (a.as_small().is_some() || a.list_length().is_some())
                    && i.list_length().is_some() => {}
            _ => return false,
        }
    }
    it.tail().is_nil()
}

/// The shell's text for an uncaught exception (`** exception ...`), with
/// a final newline.
pub fn uncaught(class: Class, reason: Term, trace: Term) -> String {
    let mut out = format!("** {}", exited(class));
    if !is_stacktrace(trace) {
        // `{Reason, Stack}` printed as a term.
        let t = pp(
            &[reason, trace],
            move || FTerm::Tuple(vec![format::from_term(reason), format::from_term(trace)]),
            INDENT.len() + 1 + exited(class).len(),
        );
        out.push_str(&t);
        out.push('\n');
        return out;
    }
    let frames: Vec<&[Term]> = trace.iter_list().filter_map(|e| e.tuple_elements()).collect();
    let mut first = None;
    let mut rest: &[&[Term]] = &frames;
    if class == Class::Error {
        if let Some(f0) = frames.first() {
            let take = match reason.atom_name() {
                Some("function_clause") => f0[2].is_list(),
                Some("undef") => true,
                _ => false,
            };
            if take {
                first = Some(*f0);
                rest = &frames[1..];
            }
        }
    }
    out.push_str(&explain(reason, class, first));
    let st = format_stacktrace(rest);
    if !st.is_empty() {
        out.push('\n');
        out.push_str(&st);
    }
    out.push('\n');
    out
}

/// `format_stacktrace1/7` with nothing trimmed.
fn format_stacktrace(frames: &[&[Term]]) -> String {
    let s = format!("  {INDENT}");
    let mut out = String::new();
    for (i, fr) in frames.iter().enumerate() {
        let [m, f, a, loc] = fr else { continue };
        let n = i + 1;
        if n > 1 {
            out.push('\n');
        }
        let origin = if n == 1 {
            if is_op(*m, *f, n_args(*a)).is_some() {
                "in operator "
            } else {
                "in function "
            }
        } else {
            "in call from"
        };
        out.push_str(&s);
        out.push_str(origin);
        out.push(' ');
        if a.as_small().is_some() {
            out.push_str(&mfa_to_string(*m, *f, n_args(*a)));
            out.push(' ');
            out.push_str(&location(*loc));
        } else {
            let args: Vec<Term> = a.iter_list().collect();
            out.push_str(&mfa_to_string(*m, *f, args.len()));
            let called_as = format!("{s}   called as ");
            out.push('\n');
            out.push_str(&called_as);
            out.push_str(&format_call("", &called_as, *m, *f, &args));
        }
    }
    out
}

/// The date as the logger prints it: `25-Nov-2026::12:28:52.839493`
/// (UTC).
fn report_time() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let micros = now.subsec_micros();
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}-{}-{}::{:02}:{:02}:{:02}.{:06}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        micros
    )
}

/// The logger's report for a process (not main) that dies of an error or
/// an uncaught throw (whose exit reason is `{nocatch, Value}`): a header,
/// then `{Reason, Stack}` printed with `~p`, then an empty line. Exits do
/// not report.
pub fn error_report(pid: u64, class: Class, reason: Term, trace: Term) -> Option<String> {
    let body = match class {
        Class::Exit => return None,
        Class::Error => pp_depth(
            &[reason, trace],
            move || FTerm::Tuple(vec![format::from_term(reason), format::from_term(trace)]),
            1,
            -1,
        ),
        Class::Throw => pp_depth(
            &[reason, trace],
            move || {
                FTerm::Tuple(vec![
                    FTerm::Tuple(vec![FTerm::atom("nocatch"), format::from_term(reason)]),
                    format::from_term(trace),
                ])
            },
            1,
            -1,
        ),
    };
    Some(format!("=ERROR REPORT==== {} ===\nError in process <0.{pid}.0> with exit value:\n{body}\n\n", report_time()))
}
