//! The shell in a real terminal: tmux runs it in a pseudo-terminal, the
//! tests type with `send-keys` and read the screen with `capture-pane`.
//! Every wait polls the screen with a generous deadline (the machine may
//! be loaded); no fixed sleep is the only synchronisation. Skipped, with a
//! message, when tmux is not installed (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_minierl");
const DEADLINE: Duration = Duration::from_secs(90);

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("minierl-shtty-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn have_tmux() -> bool {
    Command::new("tmux").arg("-V").output().map(|o| o.status.success()).unwrap_or(false)
}

/// A shell in a tmux session on a server of its own (its own socket), so
/// tests running at once do not meet.
struct Tty {
    socket: String,
}

impl Tty {
    fn start(dir: &Path, name: &str) -> Tty {
        let socket = format!("minierl-test-{}-{name}", std::process::id());
        let history = dir.join("history");
        let cmd = format!("MINIERL_HISTORY='{}' exec '{}' shell", history.display(), BIN);
        let t = Tty { socket };
        let ok = t
            .tmux(&["new-session", "-d", "-s", "t", "-x", "120", "-y", "50", "-c", &dir.display().to_string(), &cmd])
            .status
            .success();
        assert!(ok, "tmux new-session failed");
        // Keep the pane after the shell ends, to read its last screen.
        t.tmux(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("run tmux")
    }

    /// Type `text` literally (no key names).
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Press keys by name (`Enter`, `C-c`, `C-d`, `Up`).
    fn key(&self, k: &str) {
        self.tmux(&["send-keys", "-t", "t", k]);
    }

    fn line(&self, text: &str) {
        self.type_text(text);
        self.key("Enter");
    }

    /// The screen and its scrollback, trailing blanks of each line and the
    /// empty lines below the last one cut.
    fn screen(&self) -> String {
        let o = self.tmux(&["capture-pane", "-p", "-J", "-t", "t", "-S", "-2000"]);
        let s = String::from_utf8_lossy(&o.stdout);
        let s = s.lines().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n");
        s.trim_end().to_string()
    }

    /// Wait until the screen satisfies `ok`; returns it.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > DEADLINE {
                panic!("waited for {what}; the screen is:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the screen contains `text`.
    fn wait_for(&self, text: &str) -> String {
        self.wait(text, |s| s.contains(text))
    }

    /// True once the shell has ended (the pane is dead).
    fn ended(&self) -> bool {
        let o = self.tmux(&["display-message", "-p", "-t", "t", "#{pane_dead}"]);
        String::from_utf8_lossy(&o.stdout).trim() == "1"
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

macro_rules! need_tmux {
    () => {
        if !have_tmux() {
            eprintln!("SKIPPED: tmux is not installed (apt-get install tmux); the terminal tests need it");
            return;
        }
    };
}

/// The seed's session (seeds/001, format strings restored): a server and
/// a client; the counter fixed in the source and reloaded with
/// `c(code_reload).` while the client keeps sending; both told to quit.
#[test]
fn tty_seed_session() {
    need_tmux!();
    let d = scratch("seed");
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hotload/code_reload.mrl")).unwrap();
    std::fs::write(d.join("code_reload.mrl"), &src).unwrap();
    let t = Tty::start(&d, "seed");
    t.wait_for("\n1>");
    t.line("c(code_reload).");
    t.wait_for("1> c(code_reload).\n{ok,code_reload}\n2>");
    t.line("ServerPid = code_reload:start_server().");
    let s = t.wait_for("\n3>");
    let server = s[s.find("start_server().\n").unwrap() + 16..].lines().next().unwrap().to_string();
    t.line("ClientPid = code_reload:start_client(ServerPid).");
    let s = t.wait_for("\n4>");
    let client = s[s.find("start_client(ServerPid).\n").unwrap() + 25..].lines().next().unwrap().to_string();
    let zero = format!("0: Server {server} received message {{");
    t.wait("two messages counted 0", |s| s.matches(&zero).count() >= 2 && s.contains(&format!("}} from {client}")));
    // The fix, while the client keeps sending.
    let fixed = src.replace("?MODULE:server_loop(Count);", "?MODULE:server_loop(Count + 1);");
    std::fs::write(d.join("code_reload.mrl"), fixed).unwrap();
    t.line("c(code_reload).");
    t.wait_for("4> c(code_reload).\n{ok,code_reload}");
    t.wait_for(&format!("1: Server {server} received message {{"));
    t.wait_for(&format!("2: Server {server} received message {{"));
    t.line("ClientPid ! {self(), quit}.");
    t.wait("the client's quit", |s| s.contains("5> ClientPid ! {self(), quit}.") && s.contains("quit}\n6>"));
    t.line("ServerPid ! {self(), quit}.");
    let s = t.wait("the server's quit", |s| s.contains("quit}\n7>"));
    assert_eq!(s.matches("Received quit command from <0.").count(), 2, "{s}");
    // The server and the client are the same processes all along.
    assert!(s.contains(&format!("3: Server {server} received message")) || s.contains("quit}\n7>"), "{s}");
    t.key("C-d");
    t.wait("the end", |_| t.ended());
}

/// Errors and recovery, bindings, f(), flush(), several lines, Ctrl-C at
/// the prompt and during an endless loop, output of another process while
/// a line is being typed, history, Ctrl-D.
#[test]
fn tty_editing_errors_and_interrupts() {
    need_tmux!();
    let d = scratch("edit");
    let t = Tty::start(&d, "edit");
    t.wait_for("\n1>");
    t.line("X = 1.");
    t.wait_for("1> X = 1.\n1\n2>");
    t.line("X = 2.");
    t.wait_for("2> X = 2.\n** exception error: no match of right hand side value 2\n3>");
    t.line("X + 1.");
    t.wait_for("3> X + 1.\n2\n4>");
    // Several lines: the same prompt for each.
    t.line("[X,");
    t.wait_for("4> [X,\n4>");
    t.line("X + 1].");
    t.wait_for("4> X + 1].\n[1,2]\n5>");
    t.line("self() ! hello, flush().");
    t.wait_for("5> self() ! hello, flush().\nShell got hello\nok\n6>");
    t.line("b().");
    t.wait_for("6> b().\nX = 1\nok\n7>");
    t.line("f().");
    t.wait_for("7> f().\nok\n8>");
    t.line("X.");
    t.wait_for("8> X.\n* 1:1: variable 'X' is unbound\n9>");
    // Ctrl-C at the prompt drops the line.
    t.type_text("this is dropped");
    t.wait_for("9> this is dropped");
    t.key("C-c");
    t.line("Y = 7.");
    t.wait_for("9> Y = 7.\n7\n10>");
    // Ctrl-C while an endless loop runs.
    t.line("Loop = fun L() -> L() end, io:format(\"looping~n\"), Loop().");
    t.wait_for("Loop().\nlooping");
    let start = Instant::now();
    loop {
        t.key("C-c");
        std::thread::sleep(Duration::from_millis(300));
        if t.screen().contains("** exception exit: killed\n11>") {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "not interrupted:\n{}", t.screen());
    }
    t.line("Y + 1.");
    t.wait_for("11> Y + 1.\n8\n12>");
    // Output of another process while a line is typed: printed above it,
    // and the line comes back intact. The process prints once the test
    // creates the file `go`, after the line is on the screen.
    t.line("spawn(fun W() -> case file:read_file(\"go\") of {ok, _} -> io:format(\"tick~n\"); _ -> timer:sleep(20), W() end end).");
    t.wait_for("\n13>");
    t.type_text("partial");
    t.wait_for("13> partial");
    std::fs::write(d.join("go"), "").unwrap();
    t.wait("tick above the line being typed", |s| s.contains("tick\n13> partial"));
    // The line is still being edited: completing it evaluates it whole.
    t.line(".");
    t.wait_for("13> partial.\npartial\n14>");
    // History: the arrow brings back the line before.
    t.key("Up");
    t.wait("the line before", |s| s.ends_with("14> partial."));
    t.key("Enter");
    t.wait_for("14> partial.\npartial\n15>");
    t.key("C-d");
    t.wait("the end", |_| t.ended());
    let history = std::fs::read_to_string(d.join("history")).unwrap_or_default();
    assert!(history.contains("X = 1.") && history.contains("Y = 7."), "{history}");
}
