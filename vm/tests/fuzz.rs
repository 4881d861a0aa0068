//! Fuzz-style robustness tests (plain `#[test]`s: seeded, bounded in time).
//!
//! - Compiled module files, mutated (bit flips, byte changes with the
//!   checksum fixed so the body decoder and the loader see them, random
//!   truncations, structural changes to a decoded module then re-encoded):
//!   decoding and loading return errors, never panic.
//! - Source files, mutated (deleted, duplicated, swapped ranges, random
//!   tokens inserted): the compiler returns diagnostics, never panics.
//!
//! The corpus is the `.mrl` programs of `lang-tests/` and `examples/`.
//!
//! - Regressions for what the long-running drivers found, each run as
//!   `minierl run` with a time limit: deep terms given to BIFs, deeply
//!   nested source terms. The drivers themselves are out of the default
//!   run: `scripts/fuzz-bifs.py` (every BIF and stdlib export with nasty
//!   arguments, optionally compared with OTP) and `scripts/fuzz-run.py`
//!   (`minierl run` on mutated sources and module files); see their
//!   headers for how to run them.

use minierl_bytecode::{self as bc, Instr, Module};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![repo().join("lang-tests"), repo().join("examples")];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "mrl") {
                if let Ok(s) = std::fs::read_to_string(&p) {
                    out.push((p.file_name().unwrap().to_string_lossy().into_owned(), s));
                }
            }
        }
    }
    out.sort();
    out
}

fn compiled_corpus() -> Vec<Module> {
    let opts = minierl_compiler::Options::default();
    sources()
        .iter()
        .filter_map(|(name, src)| minierl_compiler::compile(name, src, &opts).ok().map(|c| c.module))
        .take(40)
        .collect()
}

/// CRC-32 (IEEE), to keep a mutated body's checksum valid.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn fix_crc(bytes: &mut [u8]) {
    if bytes.len() >= 16 {
        let c = crc32(&bytes[16..]);
        bytes[12..16].copy_from_slice(&c.to_le_bytes());
    }
}

/// Decode and load; a panic is the only failure.
fn load_must_not_panic(bytes: &[u8], what: &str) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let vm = minierl::vm::Vm::new_for_tests();
        let _ = minierl::loader::load_bytes(&vm.code, bytes);
    }));
    assert!(r.is_ok(), "loading panicked: {what}");
}

fn load_module_must_not_panic(m: &Module, what: &str) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let vm = minierl::vm::Vm::new_for_tests();
        let _ = minierl::loader::load(&vm.code, m);
    }));
    assert!(r.is_ok(), "loading panicked: {what}");
}

#[test]
fn mutated_module_files_never_panic_the_loader() {
    let corpus = compiled_corpus();
    assert!(corpus.len() >= 10, "corpus too small: {}", corpus.len());
    // Every valid file loads.
    for m in &corpus {
        let vm = minierl::vm::Vm::new_for_tests();
        minierl::loader::load_bytes(&vm.code, &bc::encode(m)).unwrap_or_else(|e| panic!("{}: {e}", m.name()));
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    while Instant::now() < deadline && n < 20_000 {
        let m = &corpus[rng.below(corpus.len())];
        let mut bytes = bc::encode(m);
        let kind = rng.below(4);
        match kind {
            // Bit flips anywhere (mostly caught by the checksum).
            0 => {
                for _ in 0..1 + rng.below(3) {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
            }
            // Body byte changes with a valid checksum: the decoder and
            // the verifier see them.
            1 => {
                for _ in 0..1 + rng.below(4) {
                    let i = 16 + rng.below(bytes.len() - 16);
                    bytes[i] = match rng.below(4) {
                        0 => 0,
                        1 => 0xff,
                        2 => bytes[i].wrapping_add(1),
                        _ => rng.next() as u8,
                    };
                }
                fix_crc(&mut bytes);
            }
            // Truncations, with the header's length and checksum made to
            // agree (so the body decoder sees a short body).
            2 => {
                let cut = rng.below(bytes.len());
                bytes.truncate(cut);
                if bytes.len() >= 16 {
                    let len = (bytes.len() - 16) as u32;
                    bytes[8..12].copy_from_slice(&len.to_le_bytes());
                    fix_crc(&mut bytes);
                }
            }
            // Header fields.
            _ => {
                let i = rng.below(16);
                bytes[i] = rng.next() as u8;
            }
        }
        load_must_not_panic(&bytes, &format!("{} mutation kind {kind} #{n}", m.name()));
        n += 1;
    }
}

/// A random small change to one instruction's operands: its bincode form
/// is re-encoded with one byte after the variant tag changed.
fn mutate_instr(i: &Instr, rng: &mut Rng) -> Option<Instr> {
    use bincode_like::*;
    let mut b = encode_instr(i)?;
    if b.len() <= 4 {
        return None;
    }
    let k = 4 + rng.below(b.len() - 4);
    b[k] = match rng.below(5) {
        0 => 0,
        1 => 0xff,
        2 => b[k].wrapping_add(1),
        3 => b[k].wrapping_sub(1),
        _ => rng.next() as u8,
    };
    decode_instr(&b)
}

/// Encoding one instruction through the module file format (the only
/// bincode access the bytecode crate exposes): a one-instruction module.
mod bincode_like {
    use minierl_bytecode::{self as bc, Instr, Module};

    fn shell(code: Vec<Instr>) -> Module {
        Module {
            atoms: vec!["m".into()],
            literals: vec![],
            imports: vec![],
            exports: vec![],
            functions: vec![],
            lambdas: vec![],
            code,
            lines: vec![],
            source: String::new(),
            vsn: 0,
            attributes: vec![],
        }
    }

    /// Where the code's length (a u64) is in the encoding of `shell`:
    /// the first body byte that differs between no code and one
    /// instruction.
    fn code_len_at(empty: &[u8], one: &[u8]) -> Option<usize> {
        Some(16 + empty[16..].iter().zip(&one[16..]).position(|(a, b)| a != b)?)
    }

    /// The bytes of the instruction inside the body.
    pub fn encode_instr(i: &Instr) -> Option<Vec<u8>> {
        let empty = bc::encode(&shell(vec![]));
        let one = bc::encode(&shell(vec![i.clone()]));
        let at = code_len_at(&empty, &one)?;
        let extra = one.len() - empty.len();
        Some(one[at + 8..at + 8 + extra].to_vec())
    }

    /// A module file with `b` as its one instruction, decoded.
    pub fn decode_instr(b: &[u8]) -> Option<Instr> {
        let empty = bc::encode(&shell(vec![]));
        let one = bc::encode(&shell(vec![Instr::Return]));
        let at = code_len_at(&empty, &one)?;
        let mut out = one[..at + 8].to_vec();
        out.extend_from_slice(b);
        out.extend_from_slice(&empty[at + 8..]);
        let len = (out.len() - 16) as u32;
        out[8..12].copy_from_slice(&len.to_le_bytes());
        super::fix_crc(&mut out);
        let m = bc::decode(&out).ok()?;
        m.code.into_iter().next()
    }
}

#[test]
fn instruction_operand_mutations_never_panic_the_loader() {
    let corpus = compiled_corpus();
    // The helper round-trips an instruction unchanged.
    let probe = &corpus[0].code;
    for i in probe.iter().take(50) {
        let b = bincode_like::encode_instr(i).expect("encodes");
        assert_eq!(bincode_like::decode_instr(&b).as_ref(), Some(i), "round trip of {i:?}");
    }
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    while Instant::now() < deadline && n < 20_000 {
        let mut m = corpus[rng.below(corpus.len())].clone();
        match rng.below(6) {
            0..=2 => {
                for _ in 0..1 + rng.below(3) {
                    let k = rng.below(m.code.len());
                    if let Some(new) = mutate_instr(&m.code[k], &mut rng) {
                        m.code[k] = new;
                    }
                }
            }
            3 => {
                // Drop or duplicate an instruction.
                let k = rng.below(m.code.len());
                if rng.below(2) == 0 {
                    m.code.remove(k);
                } else {
                    let i = m.code[k].clone();
                    m.code.insert(k, i);
                }
            }
            4 => {
                // Tables: export labels, function arities and labels,
                // lambda counts, import arities.
                let (nfuncs, natoms) = (m.functions.len() as u32, m.atoms.len() as u32);
                if let Some(e) = {
                    let k = rng.below(m.exports.len().max(1));
                    m.exports.get_mut(k)
                } {
                    e.label.0 = e.label.0.wrapping_add(rng.below(5) as u32).wrapping_sub(2);
                    e.arity = e.arity.wrapping_add(rng.below(3) as u8);
                }
                if let Some(f) = {
                    let k = rng.below(m.functions.len().max(1));
                    m.functions.get_mut(k)
                } {
                    f.arity = rng.next() as u8;
                    f.entry.0 = f.entry.0.wrapping_add(1);
                }
                if let Some(l) = {
                    let k = rng.below(m.lambdas.len().max(1));
                    m.lambdas.get_mut(k)
                } {
                    l.num_free = rng.next() as u16;
                    l.func.0 = rng.next() as u32 % (nfuncs + 2);
                }
                if let Some(i) = {
                    let k = rng.below(m.imports.len().max(1));
                    m.imports.get_mut(k)
                } {
                    i.arity = rng.next() as u8;
                    i.module.0 = rng.next() as u32 % (natoms + 2);
                }
            }
            _ => {
                // Atoms and literals.
                if !m.atoms.is_empty() && rng.below(2) == 0 {
                    let k = rng.below(m.atoms.len());
                    m.atoms[k] = ["", "a b", "\u{0}", "ok", "m"][rng.below(5)].to_string();
                }
                if let Some(l) = {
                    let k = rng.below(m.literals.len().max(1));
                    m.literals.get_mut(k)
                } {
                    *l = match rng.below(4) {
                        0 => bc::Literal::Atom(bc::AtomIdx(rng.next() as u32 % 1000)),
                        1 => bc::Literal::Binary { bytes: vec![1, 2], bits: rng.below(40) as u64 },
                        2 => bc::Literal::ExportFun {
                            module: bc::AtomIdx(0),
                            function: bc::AtomIdx(rng.next() as u32 % 100),
                            arity: rng.next() as u8,
                        },
                        _ => bc::Literal::Str(vec![rng.next() as u32]),
                    };
                }
            }
        }
        load_module_must_not_panic(&m, &format!("{} #{n}", m.name()));
        // The same module through the file format.
        load_must_not_panic(&bc::encode(&m), &format!("{} (file) #{n}", m.name()));
        n += 1;
    }
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<<",
    ">>",
    "#{",
    "=>",
    ":=",
    "->",
    ",",
    ";",
    ".",
    "|",
    "||",
    "<-",
    "<=",
    "=",
    "==",
    "+",
    "-",
    "*",
    "/",
    "!",
    "?",
    "?MODULE",
    "?LINE",
    "#r{",
    "#r.a",
    "fun",
    "end",
    "case",
    "of",
    "if",
    "receive",
    "after",
    "try",
    "catch",
    "begin",
    "when",
    "andalso",
    "orelse",
    "not",
    "X",
    "_",
    "'a b'",
    "\"str\"",
    "$a",
    "16#ff",
    "1.5e3",
    "2#",
    "-define(",
    "-record(",
    "-export([",
    "-import(",
    "-if(",
    "-ifdef(",
    "-endif.",
    "-else.",
    "\n",
    " ",
    "%",
    "\\",
    "99999999999999999999999",
    "1.0e999",
    "<<X:8/binary>>",
    "fun f/1",
    "fun m:f/1",
    ":",
    "::",
    "...",
    "$",
];

fn mutate_source(src: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = chars.clone();
    for _ in 0..1 + rng.below(3) {
        let len = out.len();
        match rng.below(5) {
            0 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(20)).min(len);
                out.drain(a..b);
            }
            1 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(40)).min(len);
                let piece: Vec<char> = out[a..b].to_vec();
                let at = rng.below(len);
                out.splice(at..at, piece);
            }
            2 => {
                let at = rng.below(len + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, t.chars());
            }
            3 if len > 1 => {
                let a = rng.below(len);
                let b = rng.below(len);
                out.swap(a, b);
            }
            _ => {
                // Truncate.
                let at = rng.below(len + 1);
                out.truncate(at);
            }
        }
    }
    out.into_iter().collect()
}

/// On a thread with the stack the `minierl` binary gives the compiler: the
/// corpus holds expressions nested 10,000 deep (`basics/deep_nesting`).
#[test]
fn mutated_sources_never_panic_the_compiler() {
    std::thread::Builder::new().stack_size(256 << 20).spawn(mutated_sources).unwrap().join().unwrap();
}

fn mutated_sources() {
    let srcs = sources();
    assert!(srcs.len() >= 10);
    let opts = minierl_compiler::Options::default();
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 0;
    let mut failures = Vec::new();
    while Instant::now() < deadline && n < 5_000 {
        let (name, src) = &srcs[rng.below(srcs.len())];
        let text = mutate_source(src, &mut rng);
        let r = catch_unwind(AssertUnwindSafe(|| minierl_compiler::compile(name, &text, &opts).map(|_| ())));
        if r.is_err() {
            failures.push((name.clone(), text));
        }
        n += 1;
    }
    // Random bytes and token soup.
    for _ in 0..500 {
        let len = rng.below(200);
        let text: String = (0..len)
            .map(|_| {
                if rng.below(3) == 0 {
                    TOKENS[rng.below(TOKENS.len())].to_string()
                } else {
                    char::from_u32(rng.below(0x250) as u32).unwrap_or('x').to_string()
                }
            })
            .collect();
        let r = catch_unwind(AssertUnwindSafe(|| minierl_compiler::compile("fuzz.mrl", &text, &opts).map(|_| ())));
        if r.is_err() {
            failures.push(("fuzz.mrl".into(), text));
        }
    }
    if let Some((name, text)) = failures.first() {
        panic!("{} of {n} mutated sources panicked the compiler; first ({name}):\n{text}", failures.len());
    }
}

#[test]
fn long_and_deep_sources_compile() {
    // 1,000,000-element list literal (constant) and 100,000-element list
    // of non-constant elements, 10,000-deep nested tuples and lists.
    let opts = minierl_compiler::Options::default();
    let big: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
    let src = format!("-module(big).\n-export([main/0]).\nmain() -> L = [{}], length(L).\n", big.join(","));
    let c = minierl_compiler::compile("big.mrl", &src, &opts);
    assert!(c.is_ok(), "{:?}", c.err().map(|d| d.into_iter().map(|d| d.message).collect::<Vec<_>>()));
    let src = format!("-module(big).\n-export([main/0]).\nmain() -> {}x{}.\n", "{".repeat(2000), "}".repeat(2000));
    let r = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || minierl_compiler::compile("big.mrl", &src, &minierl_compiler::Options::default()).is_ok())
        .unwrap()
        .join()
        .unwrap();
    assert!(r);
}

// ------------------------------------------- regressions found by fuzzing

const BIN: &str = env!("CARGO_BIN_EXE_minierl");

/// Runs `minierl run NAME.mrl` on `source` in a scratch folder with a time
/// limit; returns (exit status, stdout, stderr). A VM that is still running
/// after `secs` is killed and the test fails.
fn run_program(name: &str, source: &str, secs: u64) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("minierl-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.mrl")), source).unwrap();
    let mut child = std::process::Command::new(BIN)
        .args(["run", &format!("{name}.mrl")])
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run minierl");
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || std::io::read_to_string(out).unwrap_or_default());
    let t_err = std::thread::spawn(move || std::io::read_to_string(err).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name}: still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_dir_all(&dir);
    let (out, err) = (t_out.join().unwrap(), t_err.join().unwrap());
    assert!(!err.contains("panicked") && !err.contains("overflow"), "{name}: the VM crashed:\n{err}");
    (status.code().unwrap_or(-1), out, err)
}

/// `code:add_path/1` flattened a deep name by recursion and
/// `erlang:display/1` printed on the calling thread's stack: both
/// overflowed the stack on a list nested 100,000 deep in its heads.
#[test]
fn deep_terms_given_to_bifs_do_not_overflow_the_stack() {
    let src = "-module(deepbif).\n-export([main/0]).\n\
               deep(0) -> [];\ndeep(N) -> [deep(N - 1)].\n\
               deep_tuple(0) -> {};\ndeep_tuple(N) -> {deep_tuple(N - 1)}.\n\
               main() ->\n    D = deep(200000),\n\
               io:format(\"~p~n\", [catch code:add_path(D)]),\n\
               io:format(\"~p~n\", [catch code:add_path([D, \"x\" | D])]),\n\
               io:format(\"~p~n\", [catch code:add_path([$a | b])]),\n\
               erlang:display(deep_tuple(200000)),\n    erlang:display(D).\n";
    let (code, out, _) = run_program("deepbif", src, 120);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    // OTP 25: the first two; the third kills OTP's code server, here badarg.
    assert_eq!(&lines[..2], ["{error,bad_directory}", "{error,bad_directory}"]);
    assert!(lines[2].starts_with("{'EXIT',{badarg,"), "{}", lines[2]);
    let display: Vec<&&str> = lines.iter().filter(|l| l.starts_with("{{{") || l.starts_with("[[[")).collect();
    assert_eq!(display.len(), 2);
    assert_eq!(display[0].len(), 400_002); // as OTP prints them
    assert_eq!(display[1].len(), 400_002);
}

/// Compiling terms nested N deep cost O(N²) (`is_const` and `clobbers`
/// asked at every level looked all the way down): 100,000 levels took
/// minutes. And a constant list too deep for `is_const` panicked codegen
/// (index out of bounds in `list`). Now each shape of 100,000 levels, with
/// a variable at the bottom and without, compiles and runs in seconds.
#[test]
fn deeply_nested_terms_compile_in_linear_time() {
    let shapes: &[(&str, &str, &str)] = &[
        ("list", "[", "]"),
        ("tuple", "{", "}"),
        ("map", "#{a => ", "}"),
        ("cons", "[1 | ", "]"),
        ("arith", "(", " + 1)"),
    ];
    for (name, open, close) in shapes {
        for (leaf, tag) in [("Y", "var"), ("7", "const")] {
            let n = 100_000;
            let src = format!(
                "-module(nest).\n-export([main/0]).\nmain() -> Y = 7, X = {}{leaf}{}, \
                 io:format(\"~p~n\", [erlang:phash2(X) >= 0]), Y.\n",
                open.repeat(n),
                close.repeat(n)
            );
            let t = Instant::now();
            let (code, out, err) = run_program("nest", &src, 120);
            assert_eq!((code, out.as_str()), (0, "true\n"), "{name} {tag}: {err}");
            assert!(t.elapsed() < Duration::from_secs(60), "{name} {tag}: {:?}", t.elapsed());
        }
    }
}

/// A field width of 2^40 (`~*w`, `~1099511627776w`) made the formatter pad
/// out a terabyte and the VM die of it; such a field is now badarg (OTP
/// returns padding made of shared sublists, which minierl's flat strings
/// cannot). Widths up to 64 M characters still pad.
#[test]
fn huge_format_field_widths_are_refused_not_allocated() {
    let src = "-module(wide).\n-export([main/0]).\n\
               main() ->\n    N = 1 bsl 40,\n\
               {'EXIT', {badarg, _}} = (catch io_lib:format(\"~*w\", [N, a])),\n\
               {'EXIT', {badarg, _}} = (catch io_lib:format(\"~\" ++ integer_to_list(N) ++ \"w\", [a])),\n\
               {'EXIT', {badarg, _}} = (catch io_lib:format(\"~.*f\", [N, 1.0])),\n\
               io:format(\"~w~n\", [length(lists:flatten(io_lib:format(\"~*w\", [100000, a])))]).\n";
    let (code, out, err) = run_program("wide", src, 60);
    assert_eq!((code, out.as_str()), (0, "100000\n"), "{err}");
}
