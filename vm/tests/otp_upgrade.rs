//! Upgrade under load (issue 6, item 4): `examples/otp/upgrade_demo.mrl`
//! runs a supervised gen_server with many clients calling it, upgrades it
//! v1 -> v2 -> v3 with sys:suspend / load / sys:change_code / sys:resume,
//! then crashes it; the program checks its own invariants and prints them.
//! Here it runs on one, two and four schedulers, and with a reduction budget
//! of 3 per slice (a process switch almost everywhere), and every check must
//! hold: no call lost, answers in order, no count given twice, state carried
//! across the versions, the crashed server restarted and serving.

use std::path::Path;
use std::process::Command;

fn run(schedulers: &str, reductions: Option<&str>, clients: &str) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("examples/otp/upgrade_demo.mrl");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minierl"));
    cmd.args(["--schedulers", schedulers, "run"]).arg(&demo).arg(clients);
    if let Some(r) = reductions {
        cmd.env("MINIERL_REDUCTIONS", r);
    }
    let out = cmd.output().expect("minierl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let what = format!(
        "schedulers {schedulers}, reductions {reductions:?}\n--- stdout\n{stdout}\n--- stderr (head)\n{}",
        stderr.lines().take(40).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(out.status.code(), Some(0), "{what}");
    assert!(!stderr.contains("panicked"), "{what}");
    for line in [
        "upgraded v1 -> v2",
        "upgraded v2 -> v3",
        "no call lost: true",
        "answers in order: true",
        "no count answered twice: true",
        "per-client counts kept across v2 -> v3: true",
        "kv_counter crashed: crash_requested",
        "restarted by demo_sup: true; serving: true",
        "children: [{kv_counter,worker}]",
        "answers after the crash in order: true",
        "calls answered in the crash phase: true",
    ] {
        assert!(stdout.contains(line), "missing {line:?}\n{what}");
    }
    // Each version answered calls.
    let answered = stdout.lines().find(|l| l.starts_with("calls answered:")).expect("summary line");
    for v in ["v1 ", "v2 ", "v3 "] {
        let n: u64 = answered
            .split(v)
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "no call answered by {v}: {answered}\n{what}");
    }
    // The crash was reported as OTP does.
    for report in
        ["=ERROR REPORT====", "** Generic server kv_counter terminating", "=CRASH REPORT====", "=SUPERVISOR REPORT===="]
    {
        assert!(stderr.contains(report), "missing report {report:?}\n{what}");
    }
}

#[test]
fn upgrade_under_load_one_scheduler() {
    run("1", None, "20");
}

#[test]
fn upgrade_under_load_four_schedulers() {
    run("4", None, "50");
}

#[test]
fn upgrade_under_load_stress() {
    run("2", Some("3"), "20");
}
