//! `erlang:display/1`: the runtime's own term printer, which differs from
//! `io_lib:write` in small ways that programs see (checked against OTP 25):
//!
//! - floats in C's `%e` form with six decimals (`1.500000e+00`);
//! - a list prints as a string when every element is 9, 10, 13, 32..126 or
//!   160..255; only `"` and newline are escaped (`\"`, `\n`), the other
//!   characters go out as they are (latin1 bytes, a backslash unescaped);
//! - a binary prints as a string only when every byte is 32..126;
//! - an atom is bare when it starts with a lowercase letter (latin1 too)
//!   and goes on with letters, digits and `_`; reserved words are not
//!   quoted; the text is UTF-8;
//! - a line ends with `\r\n`, written straight to stdout.

use super::{write::binary_pieces, FTerm};

/// The bytes `erlang:display(T)` writes, line end included.
pub fn display_bytes(t: &FTerm) -> Vec<u8> {
    let mut out = Vec::new();
    term(&mut out, t);
    out.extend_from_slice(b"\r\n");
    out
}

fn term(out: &mut Vec<u8>, t: &FTerm) {
    match t {
        FTerm::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        FTerm::Big(b) => out.extend_from_slice(b.to_string().as_bytes()),
        FTerm::Float(f) => float(out, *f),
        FTerm::Atom(name) => atom(out, name),
        FTerm::Nil => out.extend_from_slice(b"[]"),
        FTerm::List(elems, tail) => list(out, elems, tail),
        FTerm::Tuple(elems) => {
            out.push(b'{');
            seq(out, elems.iter());
            out.push(b'}');
        }
        FTerm::Map(pairs) => {
            out.extend_from_slice(b"#{");
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                term(out, k);
                out.extend_from_slice(b"=>");
                term(out, v);
            }
            out.push(b'}');
        }
        FTerm::Bin { bytes, tail_bits, tail_val } => {
            out.extend_from_slice(b"<<");
            if *tail_bits == 0 && !bytes.is_empty() && bytes.iter().all(|b| (32..=126).contains(b)) {
                out.push(b'"');
                for &b in bytes {
                    if b == b'"' {
                        out.push(b'\\');
                    }
                    out.push(b);
                }
                out.push(b'"');
            } else {
                let pieces = binary_pieces(bytes, *tail_bits, *tail_val, -1);
                out.extend_from_slice(pieces.join(",").as_bytes());
            }
            out.extend_from_slice(b">>");
        }
        FTerm::Opaque(s) => out.extend_from_slice(s.as_bytes()),
    }
}

fn seq<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a FTerm>) {
    for (i, e) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        term(out, e);
    }
}

fn list(out: &mut Vec<u8>, elems: &[FTerm], tail: &FTerm) {
    let printable = |e: &FTerm| matches!(e, FTerm::Int(c) if matches!(c, 9 | 10 | 13 | 32..=126 | 160..=255));
    if matches!(tail, FTerm::Nil) && elems.iter().all(printable) {
        out.push(b'"');
        for e in elems {
            let c = e.as_int().unwrap_or(0) as u8;
            match c {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\n' => out.extend_from_slice(b"\\n"),
                _ => out.push(c),
            }
        }
        out.push(b'"');
        return;
    }
    out.push(b'[');
    seq(out, elems.iter());
    if !matches!(tail, FTerm::Nil) {
        out.push(b'|');
        term(out, tail);
    }
    out.push(b']');
}

fn atom(out: &mut Vec<u8>, name: &str) {
    let lower = |c: char| c.is_ascii_lowercase() || (('\u{df}'..='\u{ff}').contains(&c) && c != '\u{f7}');
    let name_char = |c: char| {
        c.is_ascii_alphanumeric() || c == '_' || (('\u{c0}'..='\u{ff}').contains(&c) && c != '\u{d7}' && c != '\u{f7}')
    };
    let mut cs = name.chars();
    let bare = cs.next().is_some_and(lower) && cs.all(name_char);
    if bare {
        out.extend_from_slice(name.as_bytes());
        return;
    }
    out.push(b'\'');
    for c in name.chars() {
        match c {
            '\'' => out.extend_from_slice(b"\\'"),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\r' => out.extend_from_slice(b"\\r"),
            _ => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'\'');
}

/// C's `%e`: one digit, six decimals, a signed exponent of at least two digits.
fn float(out: &mut Vec<u8>, f: f64) {
    let s = format!("{:.6e}", f);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = exp.parse().unwrap_or(0);
    let text = format!("{}e{}{:02}", mant, if e < 0 { '-' } else { '+' }, e.abs());
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(t: &FTerm) -> String {
        String::from_utf8_lossy(&display_bytes(t)).into_owned()
    }

    #[test]
    fn as_otp_25_displays() {
        assert_eq!(show(&FTerm::Float(1.5)), "1.500000e+00\r\n");
        assert_eq!(show(&FTerm::Float(-1.5e-7)), "-1.500000e-07\r\n");
        assert_eq!(show(&FTerm::Float(1.0e301)), "1.000000e+301\r\n");
        assert_eq!(show(&FTerm::string("")), "[]\r\n");
        assert_eq!(show(&FTerm::string("a\"b\\c\nd")), "\"a\\\"b\\c\\nd\"\r\n");
        assert_eq!(show(&FTerm::list(vec![FTerm::Int(97), FTerm::Int(256)])), "[97,256]\r\n");
        assert_eq!(show(&FTerm::binary(b"a\\b")), "<<\"a\\b\">>\r\n");
        assert_eq!(show(&FTerm::binary(b"a\n")), "<<97,10>>\r\n");
        assert_eq!(show(&FTerm::atom("receive")), "receive\r\n");
        assert_eq!(show(&FTerm::atom("a@b")), "'a@b'\r\n");
        assert_eq!(show(&FTerm::atom("a\\b")), "'a\\\\b'\r\n");
        let m = FTerm::Map(vec![(FTerm::atom("a"), FTerm::Int(1)), (FTerm::atom("b"), FTerm::string("x"))]);
        assert_eq!(show(&m), "#{a=>1,b=>\"x\"}\r\n");
        let l = FTerm::List(vec![FTerm::atom("a")], Box::new(FTerm::atom("b")));
        assert_eq!(show(&l), "[a|b]\r\n");
    }
}
