//! Every `.mrl` program of the repository (lang-tests, stdlib, examples)
//! that the front end accepts must generate a module that passes the
//! verifier and survives an encode/decode round trip.

use minierl_compiler::{compile, Options};
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "mrl") {
            out.push(p);
        }
    }
}

/// On a thread with the stack the `minierl` binary gives the compiler
/// (`basics/deep_nesting` nests 10,000 deep).
#[test]
fn every_repository_program_verifies() {
    std::thread::Builder::new().stack_size(256 << 20).spawn(all_verify).unwrap().join().unwrap();
}

fn all_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for d in ["lang-tests", "stdlib", "examples"] {
        collect(&root.join(d), &mut files);
    }
    // The shared benchmarks, when present (Erlang sources, same language).
    if let Ok(rd) = std::fs::read_dir(root.join("../shared/bench")) {
        files.extend(rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "erl")));
    }
    files.sort();
    let mut failures = Vec::new();
    let mut ok = 0;
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().replace(".erl", ".mrl");
        let res = std::panic::catch_unwind(|| compile(&name, &src, &Options::default()));
        match res {
            Err(_) => failures.push(format!("{}: generator panicked", f.display())),
            Ok(Err(d)) => {
                // Rejected: fine for the compile-error tests, but the code
                // generator's own errors (E09xx) are failures.
                if d.iter().any(|d| d.code.starts_with("E09")) {
                    failures.push(format!("{}: {:?}", f.display(), d[0]));
                }
                if std::env::var("SHOW_REJECTED").is_ok() {
                    eprintln!("rejected {}: {}", f.display(), d[0].message);
                }
            }
            Ok(Ok(c)) => {
                if let Err(e) = minierl_bytecode::verify(&c.module) {
                    failures.push(format!("{}: {e}", f.display()));
                    continue;
                }
                let back = minierl_bytecode::decode(&minierl_bytecode::encode(&c.module)).unwrap();
                assert_eq!(back, c.module);
                ok += 1;
            }
        }
    }
    eprintln!("{ok} modules verified, {} failures", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
