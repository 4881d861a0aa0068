//! `~w`, `~W` and `io_lib:write`: terms on one line, with an optional depth.
//! Also the pieces `~p` shares: atoms (quoted when needed), strings with
//! escapes, the printable-list and printable-binary tests.

use super::{float, FTerm};

const RESERVED: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond", "div",
    "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor",
];

fn is_lower(c: char) -> bool {
    c.is_ascii_lowercase() || (('\u{df}'..='\u{ff}').contains(&c) && c != '\u{f7}')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || c == '@'
        || (('\u{c0}'..='\u{ff}').contains(&c) && c != '\u{d7}' && c != '\u{f7}')
}

/// Does this atom print without quotes?
pub fn atom_is_bare(name: &str) -> bool {
    let mut cs = name.chars();
    match cs.next() {
        Some(c) if is_lower(c) => {}
        _ => return false,
    }
    cs.all(is_name_char) && !RESERVED.contains(&name)
}

/// One character inside a quoted atom or string. `unicode`: characters
/// above 255 print as themselves, else as `\x{HEX}`.
pub fn push_char_escaped(out: &mut String, c: char, quote: char, unicode: bool) {
    let n = c as u32;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\u{1b}' => out.push_str("\\e"),
        '\u{7f}' => out.push_str("\\d"),
        '\\' => out.push_str("\\\\"),
        _ if c == quote => {
            out.push('\\');
            out.push(c);
        }
        _ if n < 32 || (128..160).contains(&n) => {
            out.push('\\');
            out.push_str(&format!("{:03o}", n));
        }
        _ if n > 255 && !unicode => out.push_str(&format!("\\x{{{:X}}}", n)),
        _ => out.push(c),
    }
}

/// An atom, quoted if needed.
pub fn write_atom(out: &mut String, name: &str, unicode: bool) {
    if atom_is_bare(name) {
        out.push_str(name);
    } else {
        out.push('\'');
        for c in name.chars() {
            push_char_escaped(out, c, '\'', unicode);
        }
        out.push('\'');
    }
}

/// A string in double quotes, escaped.
pub fn write_string(out: &mut String, chars: impl IntoIterator<Item = char>, unicode: bool) {
    out.push('"');
    for c in chars {
        push_char_escaped(out, c, '"', unicode);
    }
    out.push('"');
}

/// Is this code a printable latin1 character (`io_lib:printable_latin1_list`)?
pub fn printable_latin1(c: i64) -> bool {
    (32..=126).contains(&c) || (160..=255).contains(&c) || (8..=13).contains(&c) || c == 27
}

/// If the proper list is all printable latin1 characters, its characters.
pub fn printable_list(elems: &[FTerm], tail: &FTerm) -> Option<Vec<char>> {
    if !matches!(tail, FTerm::Nil) {
        return None;
    }
    let mut v = Vec::with_capacity(elems.len());
    for e in elems {
        match e {
            FTerm::Int(c) if printable_latin1(*c) => v.push(char::from_u32(*c as u32)?),
            _ => return None,
        }
    }
    Some(v)
}

/// A binary that `~p` shows as a string.
pub struct BinText {
    pub chars: Vec<char>,
    /// Only a prefix is shown (`<<"abc"...>>`), under a depth limit.
    pub cut: bool,
    /// Shown as `<<"..."/utf8>>`.
    pub utf8: bool,
}

/// Decode one UTF-8 character.
fn utf8_char(b: &[u8]) -> Option<(char, usize)> {
    let n = match b.first()? {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(b.get(..n)?).ok()?;
    Some((s.chars().next()?, n))
}

/// How a binary prints under `~p` at depth `d` (-1: no limit): `None`
/// when it prints as bytes. With a depth limit only the first 4*(d-1)
/// bytes (characters with `t`) are looked at; a printable prefix of at
/// least d-1 of them is shown with `...`. With `t`, a valid UTF-8 binary
/// is a string when all its characters are printable (latin1 range), and
/// an invalid one is looked at as latin1.
pub fn binary_string(bytes: &[u8], unicode: bool, d: i64) -> Option<BinText> {
    let (len, d1) = if d > 0 {
        let d1 = (d - 1) as usize;
        ((4 * d1).min(bytes.len()), Some(d1))
    } else {
        (bytes.len(), None)
    };
    if len == 0 {
        return None;
    }
    if unicode {
        // decode up to `len` characters
        let mut chars = Vec::new();
        let mut ends = Vec::new();
        let mut pos = 0;
        let mut valid = true;
        while chars.len() < len && pos < bytes.len() {
            match utf8_char(&bytes[pos..]) {
                Some((c, n)) => {
                    chars.push(c);
                    pos += n;
                    ends.push(pos);
                }
                None => {
                    valid = false;
                    break;
                }
            }
        }
        if valid {
            let pre = chars.iter().take_while(|c| printable_latin1(**c as i64)).count();
            if pre == chars.len() && pos == bytes.len() {
                let utf8 = pos != chars.len();
                return Some(BinText { chars, cut: false, utf8 });
            }
            return match d1 {
                Some(d1) if pre == chars.len() || pre >= d1 => {
                    let nbytes = if pre == 0 { 0 } else { ends[pre - 1] };
                    chars.truncate(pre);
                    Some(BinText { utf8: nbytes != pre, chars, cut: true })
                }
                _ => None,
            };
        }
    }
    let pre = bytes[..len].iter().take_while(|b| printable_latin1(**b as i64)).count();
    let chars = |n: usize| bytes[..n].iter().map(|b| *b as char).collect();
    if pre == bytes.len() {
        return Some(BinText { chars: chars(pre), cut: false, utf8: false });
    }
    match d1 {
        Some(d1) if pre == len || pre >= d1 => Some(BinText { chars: chars(pre), cut: true, utf8: false }),
        _ => None,
    }
}

/// An integer in decimal.
pub fn write_int(out: &mut String, t: &FTerm) {
    match t {
        FTerm::Int(i) => out.push_str(&i.to_string()),
        FTerm::Big(b) => out.push_str(&b.to_string()),
        _ => {}
    }
}

/// The elements of a binary as `io_lib:write` prints them, `depth` limited
/// (-1: no limit): `["1","2","3:4"]`, ending in `"..."` when cut.
pub fn binary_pieces(bytes: &[u8], tail_bits: u8, tail_val: u8, depth: i64) -> Vec<String> {
    let mut v = Vec::new();
    let mut d = depth;
    for b in bytes {
        if d == 1 {
            v.push("...".to_string());
            return v;
        }
        v.push(b.to_string());
        d -= 1;
    }
    if tail_bits > 0 {
        if d == 1 {
            v.push("...".to_string());
            return v;
        }
        v.push(format!("{}:{}", tail_val, tail_bits));
    }
    v
}

/// `~w` / `~W`: the term on one line; `depth` -1 for no limit.
pub fn write(out: &mut String, t: &FTerm, depth: i64, unicode: bool) {
    if depth == 0 {
        out.push_str("...");
        return;
    }
    match t {
        FTerm::Int(_) | FTerm::Big(_) => write_int(out, t),
        FTerm::Float(f) => out.push_str(&float::shortest(*f)),
        FTerm::Atom(a) => write_atom(out, a, unicode),
        FTerm::Nil => out.push_str("[]"),
        FTerm::Opaque(s) => out.push_str(s),
        FTerm::List(elems, tail) => {
            if depth == 1 {
                out.push_str("[...]");
                return;
            }
            out.push('[');
            write(out, &elems[0], depth - 1, unicode);
            let mut d = depth - 1;
            for e in &elems[1..] {
                if d == 1 {
                    out.push_str("|...");
                    out.push(']');
                    return;
                }
                out.push(',');
                write(out, e, d - 1, unicode);
                d -= 1;
            }
            if !matches!(**tail, FTerm::Nil) {
                if d == 1 {
                    out.push_str("|...");
                } else {
                    out.push('|');
                    write(out, tail, d - 1, unicode);
                }
            }
            out.push(']');
        }
        FTerm::Tuple(elems) => {
            if elems.is_empty() {
                out.push_str("{}");
                return;
            }
            if depth == 1 {
                out.push_str("{...}");
                return;
            }
            out.push('{');
            write(out, &elems[0], depth - 1, unicode);
            let mut d = depth - 1;
            for e in &elems[1..] {
                if d == 1 {
                    out.push_str(",...");
                    break;
                }
                out.push(',');
                write(out, e, d - 1, unicode);
                d -= 1;
            }
            out.push('}');
        }
        FTerm::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str("#{}");
                return;
            }
            if depth == 1 {
                out.push_str("#{...}");
                return;
            }
            out.push_str("#{");
            let d0 = depth - 1;
            let mut d = depth;
            for (i, (k, v)) in pairs.iter().enumerate() {
                if d == 1 {
                    out.push_str("...");
                    break;
                }
                if i > 0 {
                    // nothing: the comma was written after the previous pair
                }
                write(out, k, d0, unicode);
                out.push_str(" => ");
                write(out, v, d0, unicode);
                if i + 1 < pairs.len() {
                    out.push(',');
                }
                d -= 1;
            }
            out.push('}');
        }
        FTerm::Bin { bytes, tail_bits, tail_val } => {
            if bytes.is_empty() && *tail_bits == 0 {
                out.push_str("<<>>");
                return;
            }
            if depth == 1 {
                out.push_str("<<...>>");
                return;
            }
            out.push_str("<<");
            out.push_str(&binary_pieces(bytes, *tail_bits, *tail_val, depth).join(","));
            out.push_str(">>");
        }
    }
}

/// `io_lib:write(T)`.
pub fn write_to_string(t: &FTerm) -> String {
    let mut s = String::new();
    write(&mut s, t, -1, false);
    s
}

#[cfg(test)]
mod tests {
    use super::super::testparse::parse;
    use super::*;

    fn w(src: &str, depth: i64) -> String {
        let mut s = String::new();
        write(&mut s, &parse(src), depth, false);
        s
    }

    #[test]
    fn format_write_atoms() {
        let cases = [
            ("hello world", "'hello world'"),
            ("A", "'A'"),
            ("", "''"),
            ("[]", "'[]'"),
            ("end", "'end'"),
            ("maybe", "maybe"),
            ("else", "else"),
            ("cond", "'cond'"),
            ("andalso", "'andalso'"),
            ("query", "query"),
            ("spec", "spec"),
            ("aB", "aB"),
            ("a@b", "a@b"),
            ("a.b", "'a.b'"),
            ("_a", "'_a'"),
            ("a'b", "'a\\'b'"),
            ("\n", "'\\n'"),
            ("\\", "'\\\\'"),
            ("\"", "'\"'"),
            ("é", "é"),
            ("ß", "ß"),
            ("aÀ", "aÀ"),
            ("À", "'À'"),
            ("a×", "'a×'"),
            ("a÷", "'a÷'"),
            ("Été", "'Été'"),
            ("\u{0}\u{7f}\u{1}È\u{7}\u{8}\u{1b}ÿ×ß÷", "'\\000\\d\\001È\\007\\b\\eÿ×ß÷'"),
            ("\u{80}\u{96}\u{9f}\u{1f}\t\n\u{b}\u{c}\r\\'\"", "'\\200\\226\\237\\037\\t\\n\\v\\f\\r\\\\\\'\"'"),
            ("\u{3e8}", "'\\x{3E8}'"),
            ("a\u{3e8}", "'a\\x{3E8}'"),
            ("\u{a0}", "'\u{a0}'"),
        ];
        for (a, expect) in cases {
            let mut s = String::new();
            write_atom(&mut s, a, false);
            assert_eq!(s, expect, "atom {a:?}");
        }
        let mut s = String::new();
        write_atom(&mut s, "a\u{3e8}", true);
        assert_eq!(s, "'a\u{3e8}'");
    }

    #[test]
    fn format_write_terms() {
        assert_eq!(w("[1,2,3]", -1), "[1,2,3]");
        assert_eq!(w("\"abc\"", -1), "[97,98,99]");
        assert_eq!(w("<<97,98,99>>", -1), "<<97,98,99>>");
        assert_eq!(w("<<1:3>>", -1), "<<1:3>>");
        assert_eq!(w("<<1,2,3:4>>", -1), "<<1,2,3:4>>");
        assert_eq!(w("<<1:1>>", -1), "<<1:1>>");
        assert_eq!(w("<<>>", -1), "<<>>");
        assert_eq!(w("#{a => 1,b => 2}", -1), "#{a => 1,b => 2}");
        assert_eq!(w("{a,\"b\",[c]}", -1), "{a,[98],[c]}");
        assert_eq!(w("[1|2]", -1), "[1|2]");
        assert_eq!(w("{}", -1), "{}");
        assert_eq!(w("-12", -1), "-12");
        assert_eq!(w("1.0e10", -1), "1.0e10");
        assert_eq!(w("{a,{b,{c,{d}}}}", 3), "{a,{...}}");
        assert_eq!(w("[1,2,3,4,5,6,7,8,9,10]", 5), "[1,2,3,4|...]");
        assert_eq!(w("<<\"abcdefgh\">>", 3), "<<97,98,...>>");
        assert_eq!(w("#{a => 1,b => 2,c => 3}", 2), "#{a => 1,...}");
        assert_eq!(w("#{a => #{b => #{c => 1}}}", 3), "#{a => #{b => #{...}}}");
        assert_eq!(w("[a,b]", 1), "[...]");
        assert_eq!(w("[a,b]", 0), "...");
        assert_eq!(w("[1|2]", 2), "[1|...]");
        assert_eq!(w("[1,2|3]", 2), "[1|...]");
        assert_eq!(w("[1,2|3]", 3), "[1,2|...]");
        assert_eq!(w("[{x}]", 2), "[{...}]");
        assert_eq!(w("123456789012345678901234567890", -1), "123456789012345678901234567890");
    }
}
