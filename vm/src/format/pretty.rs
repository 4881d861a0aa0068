//! `~p` / `~P`: terms laid out over lines the way OTP 25's pretty printer
//! does.
//!
//! The term is first measured into a tree of [`Node`]s (each with the
//! length it takes on one line); then, if it does not fit in what is left
//! of the line, it is broken:
//! - lists and plain tuples put their elements after the opening bracket,
//!   as many "atomic" ones (numbers, atoms, strings...) per line as fit,
//!   and every compound element on a line of its own;
//! - tuples whose first element is an atom (the "tag") align the other
//!   elements after the tag (`{tag,elem1,` / `     elem2}`), or, when that
//!   would push some element past half the line, indent them by 4 (or 1);
//! - maps print `#{key => value,` pairs, breaking a pair that does not fit
//!   into `key =>` and the value on the next line, indented;
//! - binaries that are not strings wrap their bytes at the line end;
//! - strings, atoms and numbers are never broken.
//!
//! The checks compare against the column where the term starts (1-based),
//! the line length (80 by default) and the number of closing brackets that
//! will follow the last element ("last depth").

use super::write::{binary_pieces, binary_string, printable_list, write, write_atom, write_string};
use super::FTerm;

/// A measured term.
#[derive(Debug)]
pub(crate) struct Node {
    len: i64,
    kind: NK,
}

#[derive(Debug)]
enum NK {
    /// Atomic: never broken.
    Leaf(String),
    List(Vec<Node>, Tail),
    /// Tagged?, elements.
    Tuple(bool, Vec<Node>, Tail),
    /// Pairs (`NK::Pair` nodes).
    Map(Vec<Node>, Tail),
    Pair(Box<Node>, Box<Node>),
    /// A binary that is not a string: its elements.
    Bin(Vec<String>),
}

#[derive(Debug)]
enum Tail {
    None,
    /// Cut by the depth limit: `|...` or `,...`.
    Dots,
    /// The tail of an improper list.
    Improper(Box<Node>),
}

fn leaf(s: String) -> Node {
    Node { len: s.chars().count() as i64, kind: NK::Leaf(s) }
}

fn dots_node() -> Node {
    leaf("...".to_string())
}

impl Node {
    fn is_atomic(&self) -> bool {
        matches!(self.kind, NK::Leaf(_))
    }
    fn pair_atomic(&self) -> bool {
        match &self.kind {
            NK::Pair(k, v) => k.is_atomic() && v.is_atomic(),
            _ => false,
        }
    }
}

/// Options of one `~p`.
#[derive(Clone, Copy, Debug)]
pub struct PrettyOpts {
    /// The 1-based column where the term starts.
    pub col: i64,
    /// The line length (80; the field width of `~Np`).
    pub line_len: i64,
    /// Depth limit (`~P`), -1 for none.
    pub depth: i64,
    /// The `t` modifier: atoms and binaries may hold unicode.
    pub unicode: bool,
    /// Detect strings (false with the `l` modifier).
    pub strings: bool,
    /// Most characters of the term on one line (not counting the
    /// indentation), -1 for no limit; the shell uses 60, `~p` none.
    pub line_max: i64,
}

impl Default for PrettyOpts {
    fn default() -> Self {
        PrettyOpts { col: 1, line_len: 80, depth: -1, unicode: false, strings: true, line_max: -1 }
    }
}

struct Builder {
    unicode: bool,
    strings: bool,
}

impl Builder {
    fn seq_len(&self, elems: &[Node], tail: &Tail, open_close: i64) -> i64 {
        let mut len = open_close;
        for (i, e) in elems.iter().enumerate() {
            len += e.len + if i > 0 { 1 } else { 0 };
        }
        len += match tail {
            Tail::None => 0,
            Tail::Dots => 1 + 3,
            Tail::Improper(t) => 1 + t.len,
        };
        len
    }

    fn build(&self, t: &FTerm, d: i64) -> Node {
        if d == 0 {
            return dots_node();
        }
        match t {
            FTerm::Nil => leaf("[]".into()),
            FTerm::Atom(a) => {
                let mut s = String::new();
                write_atom(&mut s, a, self.unicode);
                leaf(s)
            }
            FTerm::List(elems, tail) => {
                if self.strings && d != 1 {
                    if let Some(chars) = printable_list(elems, tail) {
                        let mut s = String::new();
                        write_string(&mut s, chars, self.unicode);
                        return leaf(s);
                    }
                }
                if d == 1 {
                    // not atomic: OTP keeps it as a list holding only dots
                    return Node { len: 5, kind: NK::List(Vec::new(), Tail::Dots) };
                }
                let mut out = Vec::with_capacity(elems.len());
                let mut dc = d;
                let mut cut = false;
                for e in elems.iter() {
                    if dc == 1 {
                        cut = true;
                        break;
                    }
                    out.push(self.build(e, dc - 1));
                    dc -= 1;
                }
                let tl = if cut {
                    Tail::Dots
                } else if matches!(**tail, FTerm::Nil) {
                    Tail::None
                } else if dc == 1 {
                    Tail::Dots
                } else {
                    Tail::Improper(Box::new(self.build(tail, dc - 1)))
                };
                let len = self.seq_len(&out, &tl, 2);
                Node { len, kind: NK::List(out, tl) }
            }
            FTerm::Tuple(elems) => {
                if elems.is_empty() {
                    return leaf("{}".into());
                }
                if d == 1 {
                    return leaf("{...}".into());
                }
                let tagged = matches!(elems[0], FTerm::Atom(_)) && elems.len() > 1;
                let mut out = Vec::with_capacity(elems.len());
                let mut dc = d;
                let mut tl = Tail::None;
                for e in elems.iter() {
                    if dc == 1 {
                        tl = Tail::Dots;
                        break;
                    }
                    out.push(self.build(e, dc - 1));
                    dc -= 1;
                }
                let len = self.seq_len(&out, &tl, 2);
                Node { len, kind: NK::Tuple(tagged, out, tl) }
            }
            FTerm::Map(pairs) => {
                if pairs.is_empty() {
                    return leaf("#{}".into());
                }
                if d == 1 {
                    return leaf("#{...}".into());
                }
                let d0 = d - 1;
                let mut dc = d;
                let mut out = Vec::with_capacity(pairs.len());
                let mut tl = Tail::None;
                for (k, v) in pairs {
                    if dc == 1 {
                        tl = Tail::Dots;
                        break;
                    }
                    let kn = self.build(k, d0);
                    let vn = self.build(v, d0);
                    out.push(Node { len: kn.len + 4 + vn.len, kind: NK::Pair(Box::new(kn), Box::new(vn)) });
                    dc -= 1;
                }
                let len = self.seq_len(&out, &tl, 3);
                Node { len, kind: NK::Map(out, tl) }
            }
            FTerm::Bin { bytes, tail_bits, tail_val } => {
                if bytes.is_empty() && *tail_bits == 0 {
                    return leaf("<<>>".into());
                }
                if d == 1 {
                    return leaf("<<...>>".into());
                }
                if self.strings && *tail_bits == 0 {
                    if let Some(b) = binary_string(bytes, self.unicode, d) {
                        let mut s = String::from("<<");
                        write_string(&mut s, b.chars, self.unicode);
                        if b.utf8 {
                            s.push_str("/utf8");
                        }
                        s.push_str(if b.cut { "...>>" } else { ">>" });
                        return leaf(s);
                    }
                }
                let pieces = binary_pieces(bytes, *tail_bits, *tail_val, d);
                let len = 4 + pieces.iter().map(|p| p.len() as i64).sum::<i64>() + pieces.len() as i64 - 1;
                Node { len, kind: NK::Bin(pieces) }
            }
            _ => {
                let mut s = String::new();
                write(&mut s, t, -1, self.unicode);
                leaf(s)
            }
        }
    }
}

struct Pp<'o> {
    out: &'o mut String,
    ll: i64,
    m: i64,
}

fn push_indent(out: &mut String, n: i64) {
    for _ in 0..n.max(0) {
        out.push(' ');
    }
}

fn last_depth(more: bool, ld: i64) -> i64 {
    if more {
        0
    } else {
        ld + 1
    }
}

fn write_node(out: &mut String, n: &Node) {
    match &n.kind {
        NK::Leaf(s) => out.push_str(s),
        NK::List(elems, tail) => {
            out.push('[');
            write_seq(out, elems, tail, '|');
            out.push(']');
        }
        NK::Tuple(_, elems, tail) => {
            out.push('{');
            write_seq(out, elems, tail, ',');
            out.push('}');
        }
        NK::Map(pairs, tail) => {
            out.push_str("#{");
            write_seq(out, pairs, tail, ',');
            out.push('}');
        }
        NK::Pair(k, v) => {
            write_node(out, k);
            out.push_str(" => ");
            write_node(out, v);
        }
        NK::Bin(pieces) => {
            out.push_str("<<");
            for (i, p) in pieces.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(p);
            }
            out.push_str(">>");
        }
    }
}

fn write_seq(out: &mut String, elems: &[Node], tail: &Tail, sep: char) {
    for (i, e) in elems.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_node(out, e);
    }
    match tail {
        Tail::None => {}
        Tail::Dots => {
            if !elems.is_empty() {
                out.push(sep);
            }
            out.push_str("...");
        }
        Tail::Improper(t) => {
            out.push(sep);
            write_node(out, t);
        }
    }
}

type Cind = Result<i64, ()>;

#[allow(clippy::too_many_arguments)]
impl Pp<'_> {
    fn fits(&self, len: i64, col: i64, ld: i64, w: i64) -> bool {
        len < self.ll - col - ld && len + w + ld <= self.m
    }

    /// Can the next element stay on this line (`,elem`)?
    fn tail_fits(&self, elen: i64, col: i64, ld1: i64, w: i64) -> bool {
        if ld1 == 0 {
            elen + 1 < self.ll - col && w + elen < self.m
        } else {
            elen < self.ll - col - ld1 && w + elen + ld1 <= self.m
        }
    }

    fn newline(&mut self, ind: i64) {
        self.out.push('\n');
        push_indent(self.out, ind);
    }

    fn pp(&mut self, n: &Node, col: i64, tind: i64, ind: i64, ld: i64, w: i64) {
        if self.fits(n.len, col, ld, w) {
            write_node(self.out, n);
            return;
        }
        match &n.kind {
            NK::Leaf(s) => self.out.push_str(s),
            NK::List(elems, tail) => {
                self.out.push('[');
                self.pp_list(elems, tail, col + 1, tind, ind + 1, ld, '|', w + 1);
                self.out.push(']');
            }
            NK::Tuple(true, elems, tail) => {
                self.out.push('{');
                self.pp_tag_tuple(elems, tail, col, tind, ind, ld, w + 1);
                self.out.push('}');
            }
            NK::Tuple(false, elems, tail) => {
                self.out.push('{');
                self.pp_list(elems, tail, col + 1, tind, ind + 1, ld, ',', w + 1);
                self.out.push('}');
            }
            NK::Map(pairs, tail) => {
                self.out.push_str("#{");
                self.pp_map(pairs, tail, col + 2, tind, ind + 2, ld, w + 1);
                self.out.push('}');
            }
            NK::Pair(..) => write_node(self.out, n),
            NK::Bin(pieces) => self.pp_binary(pieces, col + 2, ind + 2, ld, w),
        }
    }

    fn pp_binary(&mut self, pieces: &[String], col: i64, ind: i64, ld: i64, w: i64) {
        let n0 = 8.max((self.ll - col).min(self.m - 4 - w) - ld);
        self.out.push_str("<<");
        let mut n = n0;
        for (i, p) in pieces.iter().enumerate() {
            let plen = p.chars().count() as i64;
            if i + 1 < pieces.len() {
                let len = plen + 1;
                if n - len < 0 {
                    self.newline(ind);
                    self.out.push_str(p);
                    self.out.push(',');
                    n = n0 - len;
                } else {
                    self.out.push_str(p);
                    self.out.push(',');
                    n -= len;
                }
            } else {
                if plen > n {
                    self.newline(ind);
                }
                self.out.push_str(p);
            }
        }
        self.out.push_str(">>");
    }

    fn pp_list(&mut self, elems: &[Node], tail: &Tail, col0: i64, tind: i64, ind: i64, ld: i64, sep: char, w: i64) {
        if elems.is_empty() {
            if !matches!(tail, Tail::None) {
                self.out.push_str("...");
            }
            return;
        }
        let we = self.pp_element(&elems[0], col0, tind, ind, last_depth(elems.len() > 1, ld), w);
        self.pp_tail(&elems[1..], tail, col0, col0 + we, tind, ind, ld, sep, w + we);
    }

    #[allow(clippy::too_many_arguments)]
    fn pp_tail(
        &mut self,
        elems: &[Node],
        tail: &Tail,
        col0: i64,
        mut col: i64,
        tind: i64,
        ind: i64,
        ld: i64,
        sep: char,
        mut w: i64,
    ) {
        for (i, e) in elems.iter().enumerate() {
            let ld1 = last_depth(i + 1 < elems.len(), ld);
            let elen = 1 + e.len;
            if e.is_atomic() && self.tail_fits(elen, col, ld1, w) {
                self.out.push(',');
                write_node(self.out, e);
                col += elen;
                w += elen;
            } else {
                self.out.push(',');
                self.newline(ind);
                let we = self.pp_element(e, col0, tind, ind, ld1, 0);
                col = col0 + we;
                w = we;
            }
        }
        let t: &Node = match tail {
            Tail::None => return,
            Tail::Dots => {
                self.out.push(sep);
                self.out.push_str("...");
                return;
            }
            Tail::Improper(t) => t,
        };
        if t.is_atomic() && t.len + 1 < self.ll - col - (ld + 1) && t.len + 1 + w + (ld + 1) <= self.m {
            self.out.push(sep);
            write_node(self.out, t);
        } else {
            self.out.push(sep);
            self.newline(ind);
            self.pp(t, col0, tind, ind, ld + 1, 0);
        }
    }

    fn pp_element(&mut self, e: &Node, col: i64, tind: i64, ind: i64, ld: i64, w: i64) -> i64 {
        if e.is_atomic() && self.fits(e.len, col, ld, w) {
            write_node(self.out, e);
            e.len
        } else {
            self.pp(e, col, tind, ind, ld, w);
            self.ll
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pp_tag_tuple(&mut self, elems: &[Node], tail: &Tail, col: i64, tind: i64, ind: i64, ld: i64, w: i64) {
        let tag = &elems[0];
        let tlen = tag.len;
        let tag_ind = tlen + 2;
        let tcol = col + tag_ind;
        write_node(self.out, tag);
        if tind > 0 && tag_ind > tind {
            let col1 = col + tind;
            self.pp_tail(&elems[1..], tail, col1, tcol, tind, ind + tind, ld, ',', w + tlen);
        } else {
            self.out.push(',');
            self.pp_list(&elems[1..], tail, tcol, tind, ind + tag_ind, ld, ',', w + tlen + 1);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pp_map(&mut self, pairs: &[Node], tail: &Tail, col: i64, tind: i64, ind: i64, ld: i64, w: i64) {
        if pairs.is_empty() {
            self.out.push_str("...");
            return;
        }
        let pw = self.pp_pair(&pairs[0], col, tind, ind, last_depth(pairs.len() > 1, ld), w);
        let (mut c, mut w) = (col + pw, pw);
        for (i, p) in pairs[1..].iter().enumerate() {
            let ld1 = last_depth(i + 2 < pairs.len(), ld);
            let elen = 1 + p.len;
            if p.pair_atomic() && self.tail_fits(elen, c, ld1, w) {
                self.out.push(',');
                write_node(self.out, p);
                c += elen;
                w += elen;
            } else {
                self.out.push(',');
                self.newline(ind);
                let pw = self.pp_pair(p, col, tind, ind, ld1, 0);
                c = col + pw;
                w = pw;
            }
        }
        if matches!(tail, Tail::Dots) {
            self.out.push_str(",...");
        }
    }

    fn pp_pair(&mut self, p: &Node, col: i64, tind: i64, ind: i64, ld: i64, w: i64) -> i64 {
        if self.fits(p.len, col, ld, w) {
            write_node(self.out, p);
            return if p.pair_atomic() { p.len } else { self.ll };
        }
        let NK::Pair(k, v) = &p.kind else {
            write_node(self.out, p);
            return self.ll;
        };
        let i = if tind > 0 { tind } else { 4 };
        self.pp(k, col, tind, ind, ld, w);
        self.out.push_str(" =>");
        self.newline(ind + i);
        self.pp(v, col + i, tind, ind + i, ld, 0);
        self.ll
    }

    // ---- choosing the indentation of tagged tuples ----

    fn cind(&self, n: &Node, col: i64, ind: i64, ld: i64, w: i64) -> Result<(), ()> {
        if self.fits(n.len, col, ld, w) {
            return Ok(());
        }
        match &n.kind {
            NK::List(elems, tail) => self.cind_list(elems, tail, col + 1, ind, ld, w + 1),
            NK::Tuple(true, elems, tail) => self.cind_tag_tuple(elems, tail, col, ind, ld, w + 1),
            NK::Tuple(false, elems, tail) => self.cind_list(elems, tail, col + 1, ind, ld, w + 1),
            NK::Map(pairs, _) => self.cind_map(pairs, col + 2, ind, ld, w + 2),
            _ => Ok(()),
        }
    }

    fn cind_tag_tuple(&self, elems: &[Node], tail: &Tail, col: i64, ind: i64, ld: i64, w: i64) -> Result<(), ()> {
        let tlen = elems[0].len;
        let tag_ind = tlen + 2;
        let tcol = col + tag_ind;
        if ind > 0 && tag_ind > ind {
            let col1 = col + ind;
            if self.m + col1 <= self.ll || col1 <= self.ll / 2 {
                self.cind_tail(&elems[1..], tail, col1, tcol, ind, ld, w + tlen)
            } else {
                Err(())
            }
        } else if self.m + tcol < self.ll || tcol < self.ll / 2 {
            self.cind_list(&elems[1..], tail, tcol, ind, ld, w + tlen + 1)
        } else {
            Err(())
        }
    }

    fn cind_list(&self, elems: &[Node], tail: &Tail, col0: i64, ind: i64, ld: i64, w: i64) -> Result<(), ()> {
        if elems.is_empty() {
            return Ok(());
        }
        let we = self.cind_element(&elems[0], col0, ind, last_depth(elems.len() > 1, ld), w)?;
        self.cind_tail(&elems[1..], tail, col0, col0 + we, ind, ld, w + we)
    }

    #[allow(clippy::too_many_arguments)]
    fn cind_tail(
        &self,
        elems: &[Node],
        tail: &Tail,
        col0: i64,
        mut col: i64,
        ind: i64,
        ld: i64,
        mut w: i64,
    ) -> Result<(), ()> {
        for (i, e) in elems.iter().enumerate() {
            let ld1 = last_depth(i + 1 < elems.len(), ld);
            let elen = 1 + e.len;
            if e.is_atomic() && self.tail_fits(elen, col, ld1, w) {
                col += elen;
                w += elen;
            } else {
                let we = self.cind_element(e, col0, ind, ld1, 0)?;
                col = col0 + we;
                w = we;
            }
        }
        match tail {
            Tail::Improper(t) => {
                if t.is_atomic() && t.len + 1 < self.ll - col - (ld + 1) && t.len + 1 + w + (ld + 1) <= self.m {
                    Ok(())
                } else {
                    self.cind(t, col, ind, ld + 1, 0)
                }
            }
            _ => Ok(()),
        }
    }

    fn cind_element(&self, e: &Node, col: i64, ind: i64, ld: i64, w: i64) -> Cind {
        if e.is_atomic() && self.fits(e.len, col, ld, w) {
            Ok(e.len)
        } else {
            self.cind(e, col, ind, ld, w)?;
            Ok(self.ll)
        }
    }

    fn cind_map(&self, pairs: &[Node], col: i64, ind: i64, ld: i64, w: i64) -> Result<(), ()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let pw = self.cind_pair(&pairs[0], col, ind, last_depth(pairs.len() > 1, ld), w)?;
        let (mut c, mut w) = (col + pw, w + pw);
        for (i, p) in pairs[1..].iter().enumerate() {
            let ld1 = last_depth(i + 2 < pairs.len(), ld);
            let elen = 1 + p.len;
            if p.pair_atomic() && self.tail_fits(elen, c, ld1, w) {
                c += elen;
                w += elen;
            } else {
                let pw = self.cind_pair(p, col, ind, ld1, 0)?;
                c = col + pw;
                w = pw;
            }
        }
        Ok(())
    }

    fn cind_pair(&self, p: &Node, col: i64, ind: i64, ld: i64, w: i64) -> Cind {
        if self.fits(p.len, col, ld, w) {
            return Ok(if p.pair_atomic() { p.len } else { self.ll });
        }
        if let NK::Pair(k, v) = &p.kind {
            self.cind(k, col, ind, ld, w)?;
            let i = if ind > 0 { ind } else { 4 };
            self.cind(v, col + i, ind, ld, 0)?;
        }
        Ok(self.ll)
    }
}

/// `~p` text of a term (appended to `out`).
pub fn pretty(out: &mut String, t: &FTerm, o: PrettyOpts) {
    let col = if o.col <= 0 { 1 } else { o.col };
    let b = Builder { unicode: o.unicode, strings: o.strings };
    let node = b.build(t, o.depth);
    let m = if o.line_max < 0 { node.len } else { o.line_max };
    if o.line_len == 0 || (node.len < o.line_len - col && node.len <= m) {
        write_node(out, &node);
        return;
    }
    let mut pp = Pp { out, ll: o.line_len, m };
    let tind = if pp.cind(&node, col, -1, 0, 0).is_ok() {
        -1
    } else if pp.cind(&node, col, 4, 0, 0).is_ok() {
        4
    } else {
        1
    };
    pp.pp(&node, col, tind, col - 1, 0, 0);
}

/// `~p` of a term at column 1 (tests, `io_lib_pretty:print/1`).
pub fn pretty_string(t: &FTerm) -> String {
    let mut s = String::new();
    pretty(&mut s, t, PrettyOpts::default());
    s
}

#[cfg(test)]
mod tests {
    use super::super::fmt::format;
    use super::super::testparse::parse;
    use super::super::FTerm;

    /// Replay `testdata/*.txt`: terms (as `~w` text), the column they were
    /// printed at, depth and line length (and `~p` modifiers, or the limit
    /// of characters per line), and what OTP 25 printed.
    fn replay(data: &[u8], name: &str, utf8: bool) {
        let text: String =
            if utf8 { String::from_utf8(data.to_vec()).unwrap() } else { data.iter().map(|b| *b as char).collect() };
        let mut fails = 0;
        let mut total = 0;
        for case in text.split("\n=== ").map(|c| c.trim_start_matches("=== ")) {
            if case.trim().is_empty() {
                continue;
            }
            let (head, rest) = case.split_once('\n').unwrap();
            let (wtext, expect) = rest.split_once("\n---\n").unwrap();
            let expect = expect.strip_suffix('\n').unwrap_or(expect);
            let fields: Vec<&str> = head.split_whitespace().collect();
            let nums: Vec<i64> = fields[..3].iter().map(|n| n.parse().unwrap()).collect();
            let (col, depth, ll) = (nums[0], nums[1], nums[2]);
            let m = match fields.get(3) {
                Some(&"-") | None => "",
                Some(m) => m,
            };
            let t = parse(wtext);
            let prefix = FTerm::string(&"x".repeat(col as usize));
            let f = |s: String| s.chars().collect::<Vec<_>>();
            let got = if let Some(lm) = fields.get(4) {
                // the shell's options: the term alone at column `col`,
                // with a limit of characters per line
                let o =
                    super::PrettyOpts { col, line_len: ll, depth, line_max: lm.parse().unwrap(), ..Default::default() };
                let mut s = String::new();
                super::pretty(&mut s, &t, o);
                Ok(s)
            } else if depth >= 0 {
                format(&f(format!("~s~{m}P")), &[prefix, t, FTerm::Int(depth)])
            } else if ll != 80 {
                format(&f(format!("~s~*{m}p")), &[prefix, FTerm::Int(ll), t])
            } else {
                format(&f(format!("~s~{m}p")), &[prefix, t])
            }
            .unwrap();
            total += 1;
            if got != expect {
                fails += 1;
                if fails <= 3 {
                    eprintln!("{name}: case {head} {wtext}\n--- expected\n{expect}\n--- got\n{got}\n");
                }
            }
        }
        assert_eq!(fails, 0, "{name}: {fails} of {total} cases differ");
    }

    #[test]
    fn format_pretty_random_terms() {
        replay(include_bytes!("testdata/pretty_random.txt"), "pretty_random", false);
    }

    /// As Erlang's shell prints results: column 1, depth 30 (or none),
    /// at most 60 characters per line (`line_max_chars`).
    #[test]
    fn format_pretty_random_terms_shell() {
        replay(include_bytes!("testdata/pretty_shell.txt"), "pretty_shell", false);
    }

    #[test]
    fn format_pretty_random_terms_modifiers() {
        replay(include_bytes!("testdata/pretty_random2.txt"), "pretty_random2", true);
    }
}
