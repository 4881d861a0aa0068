//! Soak test of hot code loading under load (issue 4, "Under load"): a
//! server is reloaded 1,000 times while clients keep calling it; no reply
//! may be lost, every version must be seen, replies never go back to an
//! older version, and no process dies that should not. The program is
//! `tests/soak/reload_soak.mrl`; it checks itself and prints one line.
//! Bounded in time: the run is killed (and the test fails) after 5 minutes.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_minierl");

#[test]
fn reload_1000_times_under_load() {
    let dir = std::env::temp_dir().join(format!("minierl-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let prog = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/soak/reload_soak.mrl");
    let mut child = Command::new(BIN)
        .args(["run", prog, "1000", "4", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run minierl");
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the soak run did not finish in 5 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success() && out.starts_with("soak ok "), "status {status}\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("versions_seen=1001 final_version=1000 lost=0 order=[ok] bad_exits=[]"), "{out}");
    assert_eq!(err, "", "nothing on stderr (no crash report)");
}
