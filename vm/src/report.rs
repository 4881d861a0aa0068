//! Text of an uncaught exception, as the Erlang shell prints it:
//! `** exception error: <explained reason>` then one line per stack frame.
//! Terms are printed with `Term`'s compact `Debug` (like `~w`) until the
//! formatter (`format/`) provides `~p`; swap `show` for it then.

use crate::atom;
use crate::process::Class;
use crate::term::*;

fn show(t: Term) -> String {
    format!("{t:?}")
}

fn mfa_text(m: Term, f: Term, a: Term) -> String {
    let args = if let Some(n) = a.as_small() {
        format!("/{n}")
    } else {
        let v: Vec<String> = a.iter_list().map(show).collect();
        format!("({})", v.join(","))
    };
    format!("{}:{}{}", show(m), show(f), args)
}

fn location(loc: Term) -> String {
    let mut file = None;
    let mut line = None;
    for e in loc.iter_list() {
        if let Some([k, v]) = e.tuple_elements() {
            match k.as_atom() {
                Some(atom::FILE) => file = crate::bif::erlang::list_text(*v),
                Some(atom::LINE) => line = v.as_small(),
                _ => {}
            }
        }
    }
    match (file, line) {
        (Some(f), Some(l)) => format!(" ({f}, line {l})"),
        (Some(f), None) => format!(" ({f})"),
        _ => String::new(),
    }
}

fn is_operator(f: &str) -> bool {
    matches!(f, "+" | "-" | "*" | "/" | "div" | "rem" | "band" | "bor" | "bxor" | "bsl" | "bsr" | "bnot" | "not"
        | "and" | "or" | "xor" | "==" | "/=" | "=:=" | "=/=" | "<" | ">" | "=<" | ">=" | "++" | "--" | "!")
}

/// The explanation of an error reason (the shell's wording).
fn explain(reason: Term, first: Option<&[Term]>) -> String {
    if let Some(a) = reason.as_atom() {
        return match a {
            atom::BADARG => "bad argument".into(),
            atom::BADARITH => "an error occurred when evaluating an arithmetic expression".into(),
            atom::IF_CLAUSE => "no true branch found when evaluating an if expression".into(),
            atom::FUNCTION_CLAUSE => match first {
                Some([m, f, args, loc]) => format!("no function clause matching {}{}", mfa_text(*m, *f, *args), location(*loc)),
                _ => "no function clause matching".into(),
            },
            atom::UNDEF => match first {
                Some([m, f, args, _]) => {
                    let n = args.as_small().map(|n| n as usize).or(args.list_length()).unwrap_or(0);
                    format!("undefined function {}:{}/{}", show(*m), show(*f), n)
                }
                _ => "undefined function".into(),
            },
            atom::SYSTEM_LIMIT => "a system limit has been reached".into(),
            _ => show(reason),
        };
    }
    if let Some([tag, v]) = reason.tuple_elements() {
        match tag.as_atom() {
            Some(atom::BADMATCH) => return format!("no match of right hand side value {}", show(*v)),
            Some(atom::CASE_CLAUSE) => return format!("no case clause matching {}", show(*v)),
            Some(atom::TRY_CLAUSE) => return format!("no try clause matching {}", show(*v)),
            Some(atom::BADFUN) => return format!("bad function {}", show(*v)),
            Some(atom::BADKEY) => return format!("bad key: {}", show(*v)),
            Some(atom::BADMAP) => return format!("bad map: {}", show(*v)),
            Some(atom::BADRECORD) => return format!("bad record {}", show(*v)),
            Some(atom::BADARITY) => {
                if let Some([f, args]) = v.tuple_elements() {
                    let n = args.list_length().unwrap_or(0);
                    return format!("{} called with {} argument{}", show(*f), n, if n == 1 { "" } else { "s" });
                }
            }
            _ => {}
        }
    }
    show(reason)
}

/// The full report for an uncaught exception in the main process.
pub fn uncaught(class: Class, reason: Term, trace: Term) -> String {
    let frames: Vec<&[Term]> = trace.iter_list().filter_map(|e| e.tuple_elements()).filter(|t| t.len() == 4).collect();
    let mut out = String::new();
    let mut skip_first = false;
    match class {
        Class::Error => {
            let first = frames.first().copied();
            out.push_str(&format!("** exception error: {}\n", explain(reason, first)));
            skip_first = matches!(reason.as_atom(), Some(atom::FUNCTION_CLAUSE) | Some(atom::UNDEF));
        }
        Class::Throw => out.push_str(&format!("** exception throw: {}\n", show(reason))),
        Class::Exit => out.push_str(&format!("** exception exit: {}\n", show(reason))),
    }
    for (i, fr) in frames.iter().enumerate() {
        if i == 0 && skip_first {
            continue;
        }
        let [m, f, a, loc] = fr else { continue };
        let head = if i == 0 || (i == 1 && skip_first) { "in function " } else { "in call from" };
        let fname = f.atom_name().unwrap_or("?");
        if m.as_atom() == Some(atom::ERLANG) && a.is_list() {
            let args: Vec<String> = a.iter_list().map(show).collect();
            if is_operator(fname) && args.len() == 2 {
                out.push_str(&format!("     in operator  {}/2\n        called as {} {} {}\n", fname, args[0], fname, args[1]));
            } else if is_operator(fname) && args.len() == 1 {
                out.push_str(&format!("     in operator  {}/1\n        called as {} {}\n", fname, fname, args[0]));
            } else {
                out.push_str(&format!("     {head} {}/{}\n        called as {}({})\n", fname, args.len(), fname, args.join(",")));
            }
            continue;
        }
        out.push_str(&format!("     {head} {}{}\n", mfa_text(*m, *f, *a), location(*loc)));
    }
    out
}
