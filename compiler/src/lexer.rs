//! The lexer: source text to Erlang tokens with byte-offset spans, as
//! `erl_scan` scans them. `logos` recognises keywords, names and
//! punctuation; numbers, characters, strings and quoted atoms are scanned by
//! hand in callbacks because their escapes and bases are easier to get exactly
//! right in code than in one regular expression.
//!
//! Lexical errors (unterminated string, illegal integer) become diagnostics
//! and scanning goes on, so one run reports as many problems as erlc does.

use crate::ast::Span;
use crate::diag::Diagnostic;
use logos::Logos;
use num_bigint::BigInt;
use std::fmt;

/// A token as the preprocessor and the parser see it.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Atom(String),
    Var(String),
    Int(BigInt),
    /// `$c`: an integer, kept apart so error messages print it as erlc does.
    Char(u32),
    Float(f64),
    /// A string literal as code points (adjacent literals are joined later).
    Str(Vec<u32>),
    // Reserved words.
    After,
    Begin,
    Case,
    Catch,
    Cond,
    End,
    Fun,
    If,
    Let,
    Of,
    Receive,
    Try,
    When,
    AndAlso,
    OrElse,
    And,
    Or,
    Xor,
    Not,
    Band,
    Bor,
    Bxor,
    Bnot,
    Bsl,
    Bsr,
    Div,
    Rem,
    // Punctuation.
    LParen,
    RParen,
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Bar,
    BarBar,
    /// `->`
    Arrow,
    /// `=>`
    FatArrow,
    /// `:=`
    ColonEq,
    /// `<-`
    LArrow,
    /// `<=`
    LDArrow,
    ColonColon,
    Colon,
    /// `=`
    Match,
    /// `==`
    EqEq,
    /// `=:=`
    ExactEq,
    /// `=/=`
    ExactNe,
    /// `=<`
    Le,
    Lt,
    Ge,
    Gt,
    /// `/=`
    Ne,
    Plus,
    PlusPlus,
    Minus,
    MinusMinus,
    Star,
    Slash,
    Bang,
    LtLt,
    GtGt,
    Hash,
    Question,
    QuestionQuestion,
    /// `.` not followed by white space: record field access `R#r.f`.
    Period,
    DotDot,
    DotDotDot,
    /// `.` followed by white space, a comment or the end: the end of a form.
    Dot,
    /// A character erl_scan passes through as its own token (`@`, `&`, ...).
    Other(char),
}

/// A token with its byte span (what lalrpop's external lexer interface wants).
pub type Spanned = (usize, Tok, usize);

impl Tok {
    /// The token as erl_parse prints it in "syntax error before: X".
    pub fn erlc_text(&self) -> String {
        match self {
            Tok::Atom(a) => write_atom(a),
            Tok::Var(v) => v.clone(),
            Tok::Int(i) => i.to_string(),
            Tok::Char(c) => write_char(*c),
            Tok::Float(f) => format_float(*f),
            Tok::Str(s) => write_string(s, '"'),
            Tok::Dot => "'.'".to_string(),
            other => format!("'{}'", other.text()),
        }
    }

    /// The source text of a keyword or punctuation token.
    pub fn text(&self) -> String {
        let s = match self {
            Tok::After => "after",
            Tok::Begin => "begin",
            Tok::Case => "case",
            Tok::Catch => "catch",
            Tok::Cond => "cond",
            Tok::End => "end",
            Tok::Fun => "fun",
            Tok::If => "if",
            Tok::Let => "let",
            Tok::Of => "of",
            Tok::Receive => "receive",
            Tok::Try => "try",
            Tok::When => "when",
            Tok::AndAlso => "andalso",
            Tok::OrElse => "orelse",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Xor => "xor",
            Tok::Not => "not",
            Tok::Band => "band",
            Tok::Bor => "bor",
            Tok::Bxor => "bxor",
            Tok::Bnot => "bnot",
            Tok::Bsl => "bsl",
            Tok::Bsr => "bsr",
            Tok::Div => "div",
            Tok::Rem => "rem",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrack => "[",
            Tok::RBrack => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Semi => ";",
            Tok::Bar => "|",
            Tok::BarBar => "||",
            Tok::Arrow => "->",
            Tok::FatArrow => "=>",
            Tok::ColonEq => ":=",
            Tok::LArrow => "<-",
            Tok::LDArrow => "<=",
            Tok::ColonColon => "::",
            Tok::Colon => ":",
            Tok::Match => "=",
            Tok::EqEq => "==",
            Tok::ExactEq => "=:=",
            Tok::ExactNe => "=/=",
            Tok::Le => "=<",
            Tok::Lt => "<",
            Tok::Ge => ">=",
            Tok::Gt => ">",
            Tok::Ne => "/=",
            Tok::Plus => "+",
            Tok::PlusPlus => "++",
            Tok::Minus => "-",
            Tok::MinusMinus => "--",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Bang => "!",
            Tok::LtLt => "<<",
            Tok::GtGt => ">>",
            Tok::Hash => "#",
            Tok::Question => "?",
            Tok::QuestionQuestion => "??",
            Tok::Period | Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::DotDotDot => "...",
            Tok::Other(c) => return c.to_string(),
            Tok::Atom(a) => return write_atom(a),
            Tok::Var(v) => return v.clone(),
            Tok::Int(i) => return i.to_string(),
            Tok::Char(c) => return write_char(*c),
            Tok::Float(f) => return format_float(*f),
            Tok::Str(s) => return write_string(s, '"'),
        };
        s.to_string()
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// Erlang's reserved words, which must be quoted to be atoms.
pub fn is_reserved_word(s: &str) -> bool {
    matches!(
        s,
        "after"
            | "and"
            | "andalso"
            | "band"
            | "begin"
            | "bnot"
            | "bor"
            | "bsl"
            | "bsr"
            | "bxor"
            | "case"
            | "catch"
            | "cond"
            | "div"
            | "end"
            | "fun"
            | "if"
            | "let"
            | "not"
            | "of"
            | "or"
            | "orelse"
            | "receive"
            | "rem"
            | "try"
            | "when"
            | "xor"
    )
}

/// An atom as `io_lib:write_atom/1` prints it: bare when it can be, else quoted.
pub fn write_atom(a: &str) -> String {
    let mut chars = a.chars();
    let bare = match chars.next() {
        Some(c) if is_lower(c) => a.chars().all(is_name_char) && !is_reserved_word(a),
        _ => false,
    };
    if bare {
        a.to_string()
    } else {
        let cps: Vec<u32> = a.chars().map(|c| c as u32).collect();
        write_string(&cps, '\'')
    }
}

/// `io_lib:write_char/1`: `$a`, `$\n`, `$\s`.
pub fn write_char(c: u32) -> String {
    match c {
        32 => "$\\s".to_string(),
        _ => {
            let s = write_string(&[c], '"');
            format!("${}", &s[1..s.len() - 1])
        }
    }
}

/// A string (or quoted atom, with `q = '\''`) as `io_lib:write_string` prints it.
pub fn write_string(s: &[u32], q: char) -> String {
    let mut out = String::new();
    out.push(q);
    for &c in s {
        match c {
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x0B => out.push_str("\\v"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x1B => out.push_str("\\e"),
            0x7F => out.push_str("\\d"),
            0x5C => out.push_str("\\\\"),
            c if c == q as u32 => {
                out.push('\\');
                out.push(q);
            }
            c if c < 0x20 => out.push_str(&format!("\\^{}", char::from_u32(c + 64).unwrap_or('?'))),
            c => match char::from_u32(c) {
                Some(ch) if !(0x80..0xA0).contains(&c) => out.push(ch),
                _ => out.push_str(&format!("\\x{{{:X}}}", c)),
            },
        }
    }
    out.push(q);
    out
}

/// Floats printed the way `io_lib:write/1` does for the common cases
/// (shortest round-tripping digits, always with a `.`).
pub fn format_float(f: f64) -> String {
    let s = format!("{:?}", f);
    if s.contains('e') {
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') { m.to_string() } else { format!("{m}.0") };
        format!("{m}e{e}")
    } else {
        s
    }
}

fn is_lower(c: char) -> bool {
    c.is_ascii_lowercase() || (('\u{DF}'..='\u{FF}').contains(&c) && c != '\u{F7}')
}

fn is_upper(c: char) -> bool {
    c.is_ascii_uppercase() || (('\u{C0}'..='\u{DE}').contains(&c) && c != '\u{D7}')
}

fn is_name_char(c: char) -> bool {
    is_lower(c) || is_upper(c) || c.is_ascii_digit() || c == '_' || c == '@'
}

/// What a lexical error is; the message texts are erl_scan's.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum LexError {
    /// A character that starts no token.
    #[default]
    Invalid,
    IllegalInteger,
    IllegalFloat,
    IllegalChar,
    /// The text after the opening quote, at most 16 characters.
    UnterminatedString(Vec<u32>),
    UnterminatedAtom(Vec<u32>),
    UnterminatedChar,
}

impl LexError {
    pub fn message(&self) -> String {
        match self {
            LexError::Invalid => "illegal character".to_string(),
            LexError::IllegalInteger => "illegal integer".to_string(),
            LexError::IllegalFloat => "illegal float".to_string(),
            LexError::IllegalChar => "illegal character".to_string(),
            LexError::UnterminatedString(s) => {
                format!("unterminated string starting with {}", write_string(s, '"'))
            }
            LexError::UnterminatedAtom(s) => {
                format!("unterminated atom starting with {}", write_string(s, '\''))
            }
            LexError::UnterminatedChar => "unterminated character".to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Num {
    Int(BigInt),
    Float(f64),
}

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f\v\u{A0}]+")]
#[logos(skip r"%[^\n]*")]
enum Raw {
    #[regex(r"[a-z\u{DF}-\u{F6}\u{F8}-\u{FF}][A-Za-z0-9_@\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{FF}]*", |l| l.slice().to_string())]
    Atom(String),
    #[regex(r"[A-Z_\u{C0}-\u{D6}\u{D8}-\u{DE}][A-Za-z0-9_@\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{FF}]*", |l| l.slice().to_string())]
    Var(String),
    #[token("'", lex_quoted_atom)]
    QAtom(String),
    #[token("\"", lex_string)]
    Str(Vec<u32>),
    #[token("$", lex_char)]
    Char(u32),
    #[regex("[0-9]", lex_number)]
    Num(Num),

    #[token("after")]
    After,
    #[token("begin")]
    Begin,
    #[token("case")]
    Case,
    #[token("catch")]
    Catch,
    #[token("cond")]
    Cond,
    #[token("end")]
    End,
    #[token("fun")]
    Fun,
    #[token("if")]
    If,
    #[token("let")]
    Let,
    #[token("of")]
    Of,
    #[token("receive")]
    Receive,
    #[token("try")]
    Try,
    #[token("when")]
    When,
    #[token("andalso")]
    AndAlso,
    #[token("orelse")]
    OrElse,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("xor")]
    Xor,
    #[token("not")]
    Not,
    #[token("band")]
    Band,
    #[token("bor")]
    Bor,
    #[token("bxor")]
    Bxor,
    #[token("bnot")]
    Bnot,
    #[token("bsl")]
    Bsl,
    #[token("bsr")]
    Bsr,
    #[token("div")]
    Div,
    #[token("rem")]
    Rem,

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBrack,
    #[token("]")]
    RBrack,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token("|")]
    Bar,
    #[token("||")]
    BarBar,
    #[token("->")]
    Arrow,
    #[token("=>")]
    FatArrow,
    #[token(":=")]
    ColonEq,
    #[token("<-")]
    LArrow,
    #[token("<=")]
    LDArrow,
    #[token("::")]
    ColonColon,
    #[token(":")]
    Colon,
    #[token("=")]
    Match,
    #[token("==")]
    EqEq,
    #[token("=:=")]
    ExactEq,
    #[token("=/=")]
    ExactNe,
    #[token("=<")]
    Le,
    #[token("<")]
    Lt,
    #[token(">=")]
    Ge,
    #[token(">")]
    Gt,
    #[token("/=")]
    Ne,
    #[token("+")]
    Plus,
    #[token("++")]
    PlusPlus,
    #[token("-")]
    Minus,
    #[token("--")]
    MinusMinus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("!")]
    Bang,
    #[token("<<")]
    LtLt,
    #[token(">>")]
    GtGt,
    #[token("#")]
    Hash,
    #[token("?")]
    Question,
    #[token("??")]
    QuestionQuestion,
    #[token(".")]
    Period,
    #[token("..")]
    DotDot,
    #[token("...")]
    DotDotDot,
}

/// Reads one escape sequence (after the backslash) from `s`; returns the code
/// point and the number of bytes used, or None at the end of input.
fn escape(s: &str) -> Option<(u32, usize)> {
    let b = s.as_bytes();
    let c = *b.first()?;
    Some(match c {
        b'0'..=b'7' => {
            let n = b.iter().take(3).take_while(|c| (b'0'..=b'7').contains(c)).count();
            (u32::from_str_radix(&s[..n], 8).unwrap_or(0), n)
        }
        b'x' => {
            if b.get(1) == Some(&b'{') {
                let close = s[2..].find('}');
                match close {
                    Some(k) if k > 0 && s[2..2 + k].bytes().all(|c| c.is_ascii_hexdigit()) => {
                        let v = u32::from_str_radix(&s[2..2 + k], 16).unwrap_or(u32::MAX);
                        (v.min(0x7FFF_FFFF), k + 3)
                    }
                    _ => (u32::from(b'x'), 1),
                }
            } else {
                let n = b[1..].iter().take(2).take_while(|c| c.is_ascii_hexdigit()).count();
                if n == 0 {
                    (u32::from(b'x'), 1)
                } else {
                    (u32::from_str_radix(&s[1..1 + n], 16).unwrap_or(0), n + 1)
                }
            }
        }
        b'^' => match s[1..].chars().next() {
            Some(ch) => ((ch as u32) & 31, 1 + ch.len_utf8()),
            None => return None,
        },
        b'b' => (8, 1),
        b'd' => (127, 1),
        b'e' => (27, 1),
        b'f' => (12, 1),
        b'n' => (10, 1),
        b'r' => (13, 1),
        b's' => (32, 1),
        b't' => (9, 1),
        b'v' => (11, 1),
        _ => {
            let ch = s.chars().next()?;
            (ch as u32, ch.len_utf8())
        }
    })
}

/// Scans a quoted text up to the closing quote `q`; the lexer is just past
/// the opening quote. Err(prefix) if the quote is never closed.
fn quoted(lex: &mut logos::Lexer<Raw>, q: char) -> Result<Vec<u32>, Vec<u32>> {
    let rest = lex.remainder();
    let mut out = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let ch = rest[i..].chars().next().unwrap_or(' ');
        if ch == q {
            lex.bump(i + 1);
            return Ok(out);
        }
        if ch == '\\' {
            match escape(&rest[i + 1..]) {
                Some((c, n)) => {
                    out.push(c);
                    i += 1 + n;
                }
                None => break,
            }
        } else {
            out.push(ch as u32);
            i += ch.len_utf8();
        }
    }
    lex.bump(rest.len());
    Err(rest.chars().take(16).map(|c| c as u32).collect())
}

fn lex_string(lex: &mut logos::Lexer<Raw>) -> Result<Vec<u32>, LexError> {
    quoted(lex, '"').map_err(LexError::UnterminatedString)
}

fn lex_quoted_atom(lex: &mut logos::Lexer<Raw>) -> Result<String, LexError> {
    let cps = quoted(lex, '\'').map_err(LexError::UnterminatedAtom)?;
    Ok(cps.into_iter().map(|c| char::from_u32(c).unwrap_or('\u{FFFD}')).collect())
}

fn lex_char(lex: &mut logos::Lexer<Raw>) -> Result<u32, LexError> {
    let rest = lex.remainder();
    let mut chars = rest.chars();
    match chars.next() {
        None => Err(LexError::UnterminatedChar),
        Some('\\') => match escape(&rest[1..]) {
            Some((c, n)) => {
                lex.bump(1 + n);
                Ok(c)
            }
            None => {
                lex.bump(1);
                Err(LexError::UnterminatedChar)
            }
        },
        Some(ch) => {
            lex.bump(ch.len_utf8());
            Ok(ch as u32)
        }
    }
}

/// Digits of `base` with single underscores between them; returns the
/// digits without underscores and the bytes used.
fn digits(s: &str, base: u32) -> (String, usize) {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_digit(base) {
            out.push(c);
            i += 1;
        } else if c == '_' && !out.is_empty() && b.get(i + 1).is_some_and(|d| (*d as char).is_digit(base)) {
            i += 1;
        } else {
            break;
        }
    }
    (out, i)
}

fn lex_number(lex: &mut logos::Lexer<Raw>) -> Result<Num, LexError> {
    // The first digit is already in the slice; rescan from it.
    let start = lex.span().start;
    let src = lex.source();
    let s = &src[start..];
    let (int_digits, n) = digits(s, 10);
    let after = &s[n..];
    let ab = after.as_bytes();
    if ab.first() == Some(&b'#') {
        let base: u32 = int_digits.parse().unwrap_or(0);
        if !(2..=36).contains(&base) {
            lex.bump(n - 1);
            return Err(LexError::IllegalInteger);
        }
        let (d, m) = digits(&after[1..], base);
        if d.is_empty() {
            lex.bump(n); // erl_scan goes on after the `#`
            return Err(LexError::IllegalInteger);
        }
        lex.bump(n + m);
        return BigInt::parse_bytes(d.as_bytes(), base).map(Num::Int).ok_or(LexError::IllegalInteger);
    }
    if ab.first() == Some(&b'.') && ab.get(1).is_some_and(|c| c.is_ascii_digit()) {
        let (frac, m) = digits(&after[1..], 10);
        let mut len = n + 1 + m;
        let mut text = format!("{int_digits}.{frac}");
        let e = &s[len..];
        let eb = e.as_bytes();
        if matches!(eb.first(), Some(b'e' | b'E')) {
            let sign = matches!(eb.get(1), Some(b'+' | b'-'));
            let ds = if sign { 2 } else { 1 };
            let (exp, k) = digits(&e[ds..], 10);
            if !exp.is_empty() {
                text.push('e');
                if sign {
                    text.push(eb[1] as char);
                }
                text.push_str(&exp);
                len += ds + k;
            }
        }
        lex.bump(len - 1);
        return match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Num::Float(f)),
            _ => Err(LexError::IllegalFloat),
        };
    }
    lex.bump(n - 1);
    BigInt::parse_bytes(int_digits.as_bytes(), 10).map(Num::Int).ok_or(LexError::IllegalInteger)
}

/// Scans a whole source text. Lexical errors become diagnostics; the tokens
/// around them are still returned.
pub fn lex(source: &str) -> (Vec<Spanned>, Vec<Diagnostic>) {
    let mut toks = Vec::new();
    let mut diags = Vec::new();
    let mut lexer = Raw::lexer(source);
    while let Some(r) = lexer.next() {
        let span = lexer.span();
        let tok = match r {
            Ok(raw) => convert(raw, source, span.end),
            Err(LexError::Invalid) => {
                // A character that starts no token: erl_scan hands it on as
                // its own token, so the parser reports "syntax error before".
                let ch = source[span.start..].chars().next().unwrap_or('?');
                let end = span.start + ch.len_utf8();
                if end > span.end {
                    lexer.bump(end - span.end);
                }
                toks.push((span.start, Tok::Other(ch), end));
                continue;
            }
            Err(e) => {
                let at = Span::new(span.start, span.start + 1);
                diags.push(Diagnostic::error("E0001", at, e.message()));
                continue;
            }
        };
        toks.push((span.start, tok, span.end));
    }
    (toks, diags)
}

fn convert(raw: Raw, source: &str, end: usize) -> Tok {
    match raw {
        Raw::Atom(a) | Raw::QAtom(a) => Tok::Atom(a),
        Raw::Var(v) => Tok::Var(v),
        Raw::Str(s) => Tok::Str(s),
        Raw::Char(c) => Tok::Char(c),
        Raw::Num(Num::Int(i)) => Tok::Int(i),
        Raw::Num(Num::Float(f)) => Tok::Float(f),
        Raw::Period => match source[end..].chars().next() {
            None | Some('%') => Tok::Dot,
            Some(c) if c.is_whitespace() => Tok::Dot,
            _ => Tok::Period,
        },
        Raw::After => Tok::After,
        Raw::Begin => Tok::Begin,
        Raw::Case => Tok::Case,
        Raw::Catch => Tok::Catch,
        Raw::Cond => Tok::Cond,
        Raw::End => Tok::End,
        Raw::Fun => Tok::Fun,
        Raw::If => Tok::If,
        Raw::Let => Tok::Let,
        Raw::Of => Tok::Of,
        Raw::Receive => Tok::Receive,
        Raw::Try => Tok::Try,
        Raw::When => Tok::When,
        Raw::AndAlso => Tok::AndAlso,
        Raw::OrElse => Tok::OrElse,
        Raw::And => Tok::And,
        Raw::Or => Tok::Or,
        Raw::Xor => Tok::Xor,
        Raw::Not => Tok::Not,
        Raw::Band => Tok::Band,
        Raw::Bor => Tok::Bor,
        Raw::Bxor => Tok::Bxor,
        Raw::Bnot => Tok::Bnot,
        Raw::Bsl => Tok::Bsl,
        Raw::Bsr => Tok::Bsr,
        Raw::Div => Tok::Div,
        Raw::Rem => Tok::Rem,
        Raw::LParen => Tok::LParen,
        Raw::RParen => Tok::RParen,
        Raw::LBrack => Tok::LBrack,
        Raw::RBrack => Tok::RBrack,
        Raw::LBrace => Tok::LBrace,
        Raw::RBrace => Tok::RBrace,
        Raw::Comma => Tok::Comma,
        Raw::Semi => Tok::Semi,
        Raw::Bar => Tok::Bar,
        Raw::BarBar => Tok::BarBar,
        Raw::Arrow => Tok::Arrow,
        Raw::FatArrow => Tok::FatArrow,
        Raw::ColonEq => Tok::ColonEq,
        Raw::LArrow => Tok::LArrow,
        Raw::LDArrow => Tok::LDArrow,
        Raw::ColonColon => Tok::ColonColon,
        Raw::Colon => Tok::Colon,
        Raw::Match => Tok::Match,
        Raw::EqEq => Tok::EqEq,
        Raw::ExactEq => Tok::ExactEq,
        Raw::ExactNe => Tok::ExactNe,
        Raw::Le => Tok::Le,
        Raw::Lt => Tok::Lt,
        Raw::Ge => Tok::Ge,
        Raw::Gt => Tok::Gt,
        Raw::Ne => Tok::Ne,
        Raw::Plus => Tok::Plus,
        Raw::PlusPlus => Tok::PlusPlus,
        Raw::Minus => Tok::Minus,
        Raw::MinusMinus => Tok::MinusMinus,
        Raw::Star => Tok::Star,
        Raw::Slash => Tok::Slash,
        Raw::Bang => Tok::Bang,
        Raw::LtLt => Tok::LtLt,
        Raw::GtGt => Tok::GtGt,
        Raw::Hash => Tok::Hash,
        Raw::Question => Tok::Question,
        Raw::QuestionQuestion => Tok::QuestionQuestion,
        Raw::DotDot => Tok::DotDot,
        Raw::DotDotDot => Tok::DotDotDot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let (t, d) = lex(s);
        assert!(d.is_empty(), "{:?}", d);
        t.into_iter().map(|(_, t, _)| t).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("16#FF 2#1010 1_000"), vec![Tok::Int(255.into()), Tok::Int(10.into()), Tok::Int(1000.into())]);
        assert_eq!(toks("1.0e10 1.5e-3"), vec![Tok::Float(1.0e10), Tok::Float(1.5e-3)]);
        assert_eq!(toks("1.foo"), vec![Tok::Int(1.into()), Tok::Period, Tok::Atom("foo".into())]);
        assert_eq!(
            toks("$a $\\n $\\x{41} $\\101 $\\^A $ "),
            vec![Tok::Char(97), Tok::Char(10), Tok::Char(65), Tok::Char(65), Tok::Char(1), Tok::Char(32)]
        );
    }

    #[test]
    fn strings_and_atoms() {
        assert_eq!(
            toks(r#""a\n\t\"\\\x41\x{1F600}\101\^A\q""#),
            vec![Tok::Str(vec![97, 10, 9, 34, 92, 65, 0x1F600, 65, 1, 113])]
        );
        assert_eq!(
            toks("'a b' 'it''s' foo@bar"),
            vec![Tok::Atom("a b".into()), Tok::Atom("it".into()), Tok::Atom("s".into()), Tok::Atom("foo@bar".into())]
        );
        assert_eq!(
            toks("X _ _Y case"),
            vec![Tok::Var("X".into()), Tok::Var("_".into()), Tok::Var("_Y".into()), Tok::Case]
        );
    }

    #[test]
    fn punctuation_and_dots() {
        assert_eq!(
            toks("a -> b =:= c =/= d =< e >= f /= g.% x\n"),
            vec![
                Tok::Atom("a".into()),
                Tok::Arrow,
                Tok::Atom("b".into()),
                Tok::ExactEq,
                Tok::Atom("c".into()),
                Tok::ExactNe,
                Tok::Atom("d".into()),
                Tok::Le,
                Tok::Atom("e".into()),
                Tok::Ge,
                Tok::Atom("f".into()),
                Tok::Ne,
                Tok::Atom("g".into()),
                Tok::Dot
            ]
        );
        assert_eq!(
            toks("R#r.f."),
            vec![Tok::Var("R".into()), Tok::Hash, Tok::Atom("r".into()), Tok::Period, Tok::Atom("f".into()), Tok::Dot]
        );
        assert_eq!(
            toks("<<X:8>> || <- <= := => :: ++ --"),
            vec![
                Tok::LtLt,
                Tok::Var("X".into()),
                Tok::Colon,
                Tok::Int(8.into()),
                Tok::GtGt,
                Tok::BarBar,
                Tok::LArrow,
                Tok::LDArrow,
                Tok::ColonEq,
                Tok::FatArrow,
                Tok::ColonColon,
                Tok::PlusPlus,
                Tok::MinusMinus
            ]
        );
    }

    #[test]
    fn errors() {
        let (_, d) = lex("f() -> \"abc.\n");
        assert_eq!(d[0].message, "unterminated string starting with \"abc.\\n\"");
        let (_, d) = lex("16#GG");
        assert_eq!(d[0].message, "illegal integer");
        let (t, _) = lex("1 @ 2");
        assert_eq!(t[1].1, Tok::Other('@'));
        assert_eq!(Tok::End.erlc_text(), "'end'");
        assert_eq!(Tok::Atom("a b".into()).erlc_text(), "'a b'");
        assert_eq!(Tok::Char(98).erlc_text(), "$b");
    }
}
