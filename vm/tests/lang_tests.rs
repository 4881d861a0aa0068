//! The conformance suite: every program in `lang-tests/` runs under
//! `minierl run` and must print exactly what Erlang/OTP 25 printed for it
//! (`NAME.out`, produced by `scripts/gen-expected.sh`, never by minierl) and
//! end with the same status (`NAME.exit`). Programs in `compile_errors/` must
//! fail to compile with erlc's diagnostics (`NAME.errors`: `LINE:COL: message`).
//! Programs under `known-gaps/` are run and reported but do not fail the test.
//!
//! Environment knobs (for the stress modes of the processes issue):
//! `LANG_TESTS_FILTER=substr` runs only matching paths; `LANG_TESTS_ARGS`
//! adds arguments before `run` (e.g. `--schedulers 1`). Besides the normal
//! run, `lang_tests_one_scheduler` runs the suite with `--schedulers 1` and
//! `lang_tests_stress` with a reduction budget of 1 to 10 per slice
//! (`MINIERL_REDUCTIONS`) on 4 schedulers.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A program that runs longer than this is a failure (the slowest expected
/// test, a 10,000,000-iteration loop, takes well under a second).
const TIMEOUT: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("lang-tests")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "mrl") {
            out.push(p);
        }
    }
}

enum Outcome {
    Pass,
    Fail(String),
}

/// A finished run: stdout, stderr, exit status.
type RunResult = (Vec<u8>, Vec<u8>, Option<i32>);

/// Runs `cmd` with `stdin` as its standard input (none: /dev/null).
fn run_with_timeout(mut cmd: Command, stdin: Option<std::fs::File>) -> Result<RunResult, String> {
    cmd.stdin(stdin.map(Stdio::from).unwrap_or_else(Stdio::null)).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start minierl: {e}"))?;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).ok();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).ok();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {}s", TIMEOUT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Ok((out_t.join().unwrap(), err_t.join().unwrap(), status.code()))
}

fn extra_args() -> Vec<String> {
    std::env::var("LANG_TESTS_ARGS").map(|s| s.split_whitespace().map(String::from).collect()).unwrap_or_default()
}

/// How a suite run starts minierl: arguments before `run`, and the
/// reduction budget of the stress mode (`MINIERL_REDUCTIONS`), varied per
/// program between 1 and `max` so different programs switch at different
/// points.
#[derive(Clone, Copy)]
struct Mode {
    args: &'static [&'static str],
    stress_max: Option<u64>,
}

const NORMAL: Mode = Mode { args: &[], stress_max: None };

fn run_program(path: &Path, mode: Mode) -> Outcome {
    let with = |ext: &str| path.with_extension(ext);
    let Ok(expected) = std::fs::read(with("out")) else {
        return Outcome::Fail("no .out file (run scripts/gen-expected.sh)".into());
    };
    let expected_exit: i32 =
        std::fs::read_to_string(with("exit")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let args: Vec<String> =
        std::fs::read_to_string(with("args")).map(|s| s.lines().map(String::from).collect()).unwrap_or_default();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minierl"));
    cmd.args(extra_args()).args(mode.args).arg("run").arg(path).args(&args);
    if let Some(max) = mode.stress_max {
        let h = path.to_string_lossy().bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        cmd.env("MINIERL_REDUCTIONS", (1 + h % max).to_string());
    }
    // NAME.in, if present, is the program's standard input.
    let stdin = std::fs::File::open(with("in")).ok();
    let (out, err, code) = match run_with_timeout(cmd, stdin) {
        Ok(r) => r,
        Err(e) => return Outcome::Fail(e),
    };
    let mut problems = Vec::new();
    if out != expected {
        problems.push(format!(
            "stdout differs\n--- expected\n{}\n--- got\n{}",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(&out)
        ));
    }
    if code != Some(expected_exit) {
        problems.push(format!("exit status {code:?}, expected {expected_exit}"));
    }
    if !problems.is_empty() && !err.is_empty() {
        let e = String::from_utf8_lossy(&err);
        let e: String = e.lines().take(15).collect::<Vec<_>>().join("\n");
        problems.push(format!("--- stderr\n{e}"));
    }
    if String::from_utf8_lossy(&err).contains("panicked") {
        problems.push("the VM panicked".into());
    }
    if problems.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(problems.join("\n"))
    }
}

fn run_compile_error(path: &Path) -> Outcome {
    let Ok(expected) = std::fs::read_to_string(path.with_extension("errors")) else {
        return Outcome::Fail("no .errors file".into());
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minierl"));
    cmd.arg("run").arg(path);
    let (_, err, code) = match run_with_timeout(cmd, None) {
        Ok(r) => r,
        Err(e) => return Outcome::Fail(e),
    };
    let err = String::from_utf8_lossy(&err);
    let mut problems = Vec::new();
    if code == Some(0) || code.is_none() {
        problems.push(format!("exit status {code:?}, expected a failure"));
    }
    for line in expected.lines().filter(|l| !l.trim().is_empty()) {
        // "L:C: message" must appear as "FILE:L:C: error: message".
        let Some((pos, msg)) = line.split_once(": ") else { continue };
        let want = format!(":{pos}: error: {msg}");
        if !err.lines().any(|l| l.contains(&want)) {
            problems.push(format!("missing diagnostic `{want}`"));
        }
    }
    if err.contains("panicked") {
        problems.push("the compiler panicked".into());
    }
    if problems.is_empty() {
        Outcome::Pass
    } else {
        let e: String = err.lines().take(20).collect::<Vec<_>>().join("\n");
        Outcome::Fail(format!("{}\n--- stderr\n{e}", problems.join("\n")))
    }
}

#[test]
fn lang_tests() {
    run_suite(NORMAL, true);
}

/// The whole suite on one scheduler (the order of a single run queue).
#[test]
fn lang_tests_one_scheduler() {
    run_suite(Mode { args: &["--schedulers", "1"], stress_max: None }, false);
}

/// The whole suite with a reduction budget of 1 to 10 per slice and more
/// schedulers than cores: every call, return and back-edge may switch
/// process or move it to another thread, to shake out interleaving bugs.
#[test]
fn lang_tests_stress() {
    run_suite(Mode { args: &["--schedulers", "4"], stress_max: Some(10) }, false);
}

/// Run every program (`with_compile_errors`: also the compile error
/// checks, which do not depend on the mode).
fn run_suite(mode: Mode, with_compile_errors: bool) {
    let mut files = Vec::new();
    collect(&root(), &mut files);
    if let Ok(f) = std::env::var("LANG_TESTS_FILTER") {
        files.retain(|p| p.to_string_lossy().contains(&f));
    }
    if !with_compile_errors {
        files.retain(|p| !p.components().any(|c| c.as_os_str() == "compile_errors"));
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(PathBuf, Outcome)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(p) = files.get(i) else { break };
                let in_errors = p.components().any(|c| c.as_os_str() == "compile_errors");
                let o = if in_errors { run_compile_error(p) } else { run_program(p, mode) };
                results.lock().unwrap().push((p.clone(), o));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let root = root();
    let (mut passed, mut failed, mut gaps_failed, mut gaps_passed) = (0, 0, 0, 0);
    for (p, o) in &results {
        let rel = p.strip_prefix(&root).unwrap_or(p).display().to_string();
        let gap = rel.starts_with("known-gaps");
        match o {
            Outcome::Pass if gap => {
                gaps_passed += 1;
                println!("GAP PASSES (move it out of known-gaps): {rel}");
            }
            Outcome::Pass => passed += 1,
            Outcome::Fail(why) if gap => {
                gaps_failed += 1;
                let first = why.lines().next().unwrap_or("");
                println!("known gap: {rel}: {first}");
            }
            Outcome::Fail(why) => {
                failed += 1;
                println!("FAIL {rel}\n{why}\n");
            }
        }
    }
    println!("{passed} passed, {failed} failed ({gaps_failed} known gaps still failing, {gaps_passed} passing)");
    assert_eq!(failed, 0, "{failed} lang-tests failed");
}
