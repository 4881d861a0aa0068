//! The shell's terminal side: the thread that reads expressions and the
//! routing of process output around the line being typed.
//!
//! The shell server asks for input with `minierl_shell:read(N)`
//! (`request_read`); the terminal thread answers each request with one
//! expression (`{minierl_shell, expr, Text}`), reading lines until a full
//! stop ends one. Text after that full stop is kept for the next request
//! (`1. 2.` is two commands), and the prompt is then printed for it.
//!
//! On a terminal, lines are read with rustyline (editing, history kept in
//! `~/.minierl_history` or `$MINIERL_HISTORY`). While rustyline reads,
//! output of processes is queued and handed, a complete line at a time, to
//! rustyline's external printer, which prints it above the prompt and
//! redraws the line being typed; at other times it is written directly.
//! The printing is done by a thread of its own: rustyline's printer may
//! block, a scheduler never should. Ctrl-C while an expression runs is a
//! SIGINT: its handler sends `{minierl_shell, interrupt}` to the server,
//! which kills the evaluator. Ctrl-C at the prompt drops the input;
//! Ctrl-D on an empty line ends the shell.
//!
//! When stdin is not a terminal, lines are read plainly and the prompt of
//! each command is printed all the same (no continuation prompts), as
//! Erlang's shell does, so transcripts can be tested.

use super::tag_atom;
use crate::atom;
use crate::format::out::{self, Device};
use crate::heap::{copy_to_fragment, Heap};
use crate::process::Message;
use crate::term::Term;
use crate::vm::{MainExit, Vm};
use minierl_compiler::shell::{next_expr, Next};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Condvar, Mutex, OnceLock};

/// A read request: (command number, the server's pid).
type Request = (i64, u64);

static REQUESTS: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();

/// The shell server's pid (for the SIGINT handler).
static SERVER: AtomicU64 = AtomicU64::new(0);

/// Queue a read request for the terminal thread; false if there is no
/// terminal thread (the shell is not running).
pub fn request_read(n: i64, server: u64) -> bool {
    match REQUESTS.get() {
        Some(tx) => tx.lock().map(|tx| tx.send((n, server)).is_ok()).unwrap_or(false),
        None => false,
    }
}

/// Whether the shell's terminal thread owns standard input.
pub fn running() -> bool {
    REQUESTS.get().is_some()
}

/// Send `{minierl_shell, Tag}` or `{minierl_shell, Tag, Text}` to `to`.
fn send(vm: &Vm, to: u64, tag: &str, text: Option<&str>) {
    let mut h = Heap::new();
    let mut items = vec![Term::atom(tag_atom()), Term::atom(atom::intern(tag))];
    if let Some(s) = text {
        items.push(h.string(s));
    }
    let t = h.tuple(&items);
    let (term, frag) = copy_to_fragment(t);
    vm.deliver(to, Message::msg(term, frag));
}

/// Output while rustyline reads: queued for the printer thread.
struct OutState {
    pending: Vec<u8>,
    reading: bool,
}

static OUT: Mutex<OutState> = Mutex::new(OutState { pending: Vec::new(), reading: false });
static OUT_CV: Condvar = Condvar::new();

fn write_direct(bytes: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(bytes);
    let _ = o.flush();
}

fn out_state() -> std::sync::MutexGuard<'static, OutState> {
    OUT.lock().unwrap_or_else(|e| e.into_inner())
}

/// The output sink on a terminal: both devices go to the terminal, in
/// order.
fn tty_sink(_dev: Device, bytes: &[u8]) {
    let mut st = out_state();
    if st.reading {
        st.pending.extend_from_slice(bytes);
        OUT_CV.notify_one();
    } else {
        let mut all = std::mem::take(&mut st.pending);
        all.extend_from_slice(bytes);
        write_direct(&all);
    }
}

/// Rustyline is about to read: what is queued goes out first.
fn begin_read() {
    let mut st = out_state();
    let p = std::mem::take(&mut st.pending);
    write_direct(&p);
    st.reading = true;
}

/// Rustyline has returned: write what is still queued (a partial line).
fn end_read() {
    let mut st = out_state();
    st.reading = false;
    let p = std::mem::take(&mut st.pending);
    write_direct(&p);
}

/// Hands complete lines to rustyline's external printer while it reads.
fn printer_thread(mut printer: impl rustyline::ExternalPrinter) {
    loop {
        let text = {
            let mut st = out_state();
            loop {
                if st.reading {
                    if let Some(i) = st.pending.iter().rposition(|&b| b == b'\n') {
                        break st.pending.drain(..=i).collect::<Vec<u8>>();
                    }
                }
                st = OUT_CV.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        };
        // Not under the lock: the printer may wait for rustyline.
        if printer.print(String::from_utf8_lossy(&text).into_owned()).is_err() {
            write_direct(&text);
        }
    }
}

/// Where the history is kept: `$MINIERL_HISTORY`, else
/// `~/.minierl_history`.
fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MINIERL_HISTORY") {
        return if p.is_empty() { None } else { Some(PathBuf::from(p)) };
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".minierl_history"))
}

/// Serves read requests from lines of a pipe or file.
fn plain_reader(vm: &'static Vm, rx: mpsc::Receiver<Request>) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut buf = String::new();
    while let Ok((n, server)) = rx.recv() {
        out::write_chars(Device::Stdout, &format!("{n}> "));
        loop {
            match next_expr(&buf) {
                Next::Complete(end) => {
                    let e: String = buf.drain(..end).collect();
                    send(vm, server, "expr", Some(&e));
                    break;
                }
                Next::Empty => buf.clear(),
                Next::Incomplete => {}
            }
            let mut line = Vec::new();
            match input.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => {
                    out::write_chars(Device::Stdout, "\n");
                    send(vm, server, "eof", None);
                    return;
                }
                Ok(_) => {
                    // Bytes that are not UTF-8 are read as Latin-1, as
                    // source files are.
                    match String::from_utf8(line) {
                        Ok(s) => buf.push_str(&s),
                        Err(e) => buf.extend(e.into_bytes().iter().map(|&b| b as char)),
                    }
                    if !buf.ends_with('\n') {
                        buf.push('\n');
                    }
                }
            }
        }
    }
}

/// Serves read requests with rustyline on a terminal. Returns false if
/// rustyline cannot run here (the caller then reads plainly).
fn tty_reader(vm: &'static Vm, rx: &mpsc::Receiver<Request>) -> Result<(), ()> {
    use rustyline::error::ReadlineError;
    let config = rustyline::Config::builder().auto_add_history(false).max_history_size(1000).map_err(|_| ())?.build();
    let mut ed = rustyline::DefaultEditor::with_config(config).map_err(|_| ())?;
    let history = history_path();
    if let Some(h) = &history {
        let _ = ed.load_history(h);
    }
    let printer = ed.create_external_printer().map_err(|_| ())?;
    std::thread::Builder::new().name("shell printer".into()).spawn(move || printer_thread(printer)).map_err(|_| ())?;
    let mut buf = String::new();
    while let Ok((n, server)) = rx.recv() {
        let prompt = format!("{n}> ");
        let mut read_now = false;
        loop {
            match next_expr(&buf) {
                Next::Complete(end) => {
                    let e: String = buf.drain(..end).collect();
                    if !read_now {
                        // The rest of a line typed for an earlier command.
                        tty_sink(Device::Stdout, prompt.as_bytes());
                    }
                    send(vm, server, "expr", Some(&e));
                    break;
                }
                Next::Empty => buf.clear(),
                Next::Incomplete => {}
            }
            begin_read();
            let r = ed.readline(&prompt);
            end_read();
            read_now = true;
            match r {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = ed.add_history_entry(line.as_str());
                        if let Some(h) = &history {
                            let _ = ed.save_history(h);
                        }
                    }
                    buf.push_str(&line);
                    buf.push('\n');
                }
                // Ctrl-C at the prompt: the input so far is dropped.
                Err(ReadlineError::Interrupted) => buf.clear(),
                Err(_) => {
                    send(vm, server, "eof", None);
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Run the shell on `vm` (its code path and compiler already set): print
/// the banner, start the shell server (`shell:start/0`) and the terminal
/// thread, and run until the server ends (`q()`, `halt()`, end of input).
pub fn run(vm: &'static Vm, banner: &str) -> MainExit {
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let saved = if tty { nix::sys::termios::tcgetattr(std::io::stdin()).ok() } else { None };
    let (tx, rx) = mpsc::channel::<Request>();
    if REQUESTS.set(Mutex::new(tx)).is_err() {
        return MainExit::Halt(2);
    }
    if tty {
        out::set_sink(Some(Box::new(tty_sink)));
    }
    out::write_chars(Device::Stdout, &format!("{banner}\n"));
    let server = vm.spawn_mfa(Term::atom(atom::intern("shell")), Term::atom(atom::intern("start")), Term::NIL);
    SERVER.store(server, Ordering::SeqCst);
    // Ctrl-C while an expression runs (rustyline reads Ctrl-C itself at
    // the prompt, with the terminal in raw mode).
    let _ = ctrlc::set_handler(move || {
        if tty {
            // The terminal echoed `^C`: the report starts on a line of its own.
            tty_sink(Device::Stdout, b"\n");
        }
        send(vm, SERVER.load(Ordering::SeqCst), "interrupt", None)
    });
    let spawned = std::thread::Builder::new().name("terminal".into()).spawn(move || {
        if tty && tty_reader(vm, &rx).is_ok() {
            return;
        }
        if tty {
            out::set_sink(None);
        }
        plain_reader(vm, rx)
    });
    if spawned.is_err() {
        return MainExit::Halt(1);
    }
    let exit = vm.run_until_exit(server);
    end_read();
    out::set_sink(None);
    if let Some(t) = saved {
        // The VM may halt while rustyline reads, in raw mode.
        let _ = nix::sys::termios::tcsetattr(std::io::stdin(), nix::sys::termios::SetArg::TCSANOW, &t);
    }
    exit
}
