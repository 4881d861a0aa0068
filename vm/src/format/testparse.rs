//! Tests only: read a term from the text Erlang's `~w` prints, so that
//! expected outputs captured from real OTP can be replayed against it.

use super::FTerm;
use num_bigint::BigInt;

struct P<'a> {
    s: &'a [char],
    i: usize,
}

pub fn parse(src: &str) -> FTerm {
    let chars: Vec<char> = src.chars().collect();
    let mut p = P { s: &chars, i: 0 };
    let t = p.term();
    p.ws();
    assert!(p.i == chars.len(), "trailing text in {src:?} at {}", p.i);
    t
}

impl P<'_> {
    fn peek(&self) -> char {
        *self.s.get(self.i).unwrap_or(&'\0')
    }
    fn ws(&mut self) {
        while self.peek().is_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == c {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: char) {
        assert!(self.eat(c), "expected {c:?} at {} in {:?}", self.i, self.s.iter().collect::<String>());
    }
    fn starts(&self, lit: &str) -> bool {
        lit.chars().enumerate().all(|(k, c)| self.s.get(self.i + k) == Some(&c))
    }
    fn quoted(&mut self, q: char) -> String {
        let mut out = String::new();
        self.i += 1;
        loop {
            let c = self.peek();
            self.i += 1;
            if c == q {
                return out;
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.peek();
            self.i += 1;
            let v = match e {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\u{b}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'e' => '\u{1b}',
                'd' => '\u{7f}',
                's' => ' ',
                'x' => {
                    self.expect('{');
                    let st = self.i;
                    while self.peek() != '}' {
                        self.i += 1;
                    }
                    let h: String = self.s[st..self.i].iter().collect();
                    self.i += 1;
                    char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap()
                }
                '0'..='7' => {
                    let mut n = e.to_digit(8).unwrap();
                    for _ in 0..2 {
                        if let Some(d) = self.peek().to_digit(8) {
                            n = n * 8 + d;
                            self.i += 1;
                        }
                    }
                    char::from_u32(n).unwrap()
                }
                other => other,
            };
            out.push(v);
        }
    }
    fn term(&mut self) -> FTerm {
        self.ws();
        let c = self.peek();
        match c {
            '[' => {
                self.i += 1;
                if self.eat(']') {
                    return FTerm::Nil;
                }
                let mut v = vec![self.term()];
                let mut tail = FTerm::Nil;
                loop {
                    if self.eat(',') {
                        v.push(self.term());
                    } else if self.eat('|') {
                        tail = self.term();
                        self.expect(']');
                        break;
                    } else {
                        self.expect(']');
                        break;
                    }
                }
                FTerm::List(v, Box::new(tail))
            }
            '{' => {
                self.i += 1;
                let mut v = Vec::new();
                if self.eat('}') {
                    return FTerm::Tuple(v);
                }
                loop {
                    v.push(self.term());
                    if !self.eat(',') {
                        break;
                    }
                }
                self.expect('}');
                FTerm::Tuple(v)
            }
            '#' if self.starts("#{") => {
                self.i += 2;
                let mut v = Vec::new();
                if self.eat('}') {
                    return FTerm::Map(v);
                }
                loop {
                    let k = self.term();
                    self.expect('=');
                    self.expect('>');
                    let val = self.term();
                    v.push((k, val));
                    if !self.eat(',') {
                        break;
                    }
                }
                self.expect('}');
                FTerm::Map(v)
            }
            '#' | '<' if !self.starts("<<") => {
                let st = self.i;
                while self.peek() != '>' {
                    self.i += 1;
                }
                self.i += 1;
                FTerm::Opaque(self.s[st..self.i].iter().collect())
            }
            '<' => {
                self.i += 2;
                let mut bytes = Vec::new();
                let (mut tail_bits, mut tail_val) = (0, 0);
                if self.eat('>') {
                    self.expect('>');
                    return FTerm::binary(&[]);
                }
                loop {
                    self.ws();
                    if self.peek() == '"' {
                        let s = self.quoted('"');
                        bytes.extend(s.chars().map(|c| c as u32 as u8));
                    } else {
                        let n = self.int_text().parse::<i64>().unwrap();
                        if self.eat(':') {
                            tail_bits = self.int_text().parse::<u8>().unwrap();
                            tail_val = n as u8;
                        } else {
                            bytes.push(n as u8);
                        }
                    }
                    if !self.eat(',') {
                        break;
                    }
                }
                self.expect('>');
                self.expect('>');
                FTerm::Bin { bytes, tail_bits, tail_val }
            }
            '"' => FTerm::string(&self.quoted('"')),
            '\'' => FTerm::Atom(self.quoted('\'')),
            'f' if self.starts("fun ") => {
                let st = self.i;
                while self.i < self.s.len() && !matches!(self.peek(), ',' | '}' | ']' | '|' | ' ')
                    || self.starts("fun ")
                {
                    if self.starts("fun ") {
                        self.i += 4;
                    } else {
                        self.i += 1;
                    }
                }
                FTerm::Opaque(self.s[st..self.i].iter().collect())
            }
            '-' | '0'..='9' => {
                let t = self.int_text();
                if self.peek() == '.' && self.s.get(self.i + 1).is_some_and(|c| c.is_ascii_digit()) {
                    let st = self.i;
                    self.i += 1;
                    while self.peek().is_ascii_digit() || matches!(self.peek(), 'e' | '-' | '+') {
                        self.i += 1;
                    }
                    let f: String = self.s[st..self.i].iter().collect();
                    return FTerm::Float((t + &f).parse().unwrap());
                }
                if self.peek() == '#' {
                    // base#digits
                    self.i += 1;
                    let st = self.i;
                    while self.peek().is_ascii_alphanumeric() {
                        self.i += 1;
                    }
                    let d: String = self.s[st..self.i].iter().collect();
                    let b = BigInt::parse_bytes(d.as_bytes(), t.parse().unwrap()).unwrap();
                    return big_or_small(b);
                }
                big_or_small(t.parse::<BigInt>().unwrap())
            }
            '$' => {
                self.i += 1;
                let c = self.peek();
                self.i += 1;
                FTerm::Int(c as i64)
            }
            _ => {
                let st = self.i;
                while is_atom_char(self.peek()) {
                    self.i += 1;
                }
                assert!(self.i > st, "bad term text at {} in {:?}", st, self.s.iter().collect::<String>());
                FTerm::Atom(self.s[st..self.i].iter().collect())
            }
        }
    }
    fn int_text(&mut self) -> String {
        self.ws();
        let st = self.i;
        if self.peek() == '-' {
            self.i += 1;
        }
        while self.peek().is_ascii_digit() {
            self.i += 1;
        }
        self.s[st..self.i].iter().collect()
    }
}

fn is_atom_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@'
}

fn big_or_small(b: BigInt) -> FTerm {
    match i64::try_from(&b) {
        Ok(i) => FTerm::Int(i),
        Err(_) => FTerm::Big(b),
    }
}
