//! The `minierl` command line:
//!
//! - `minierl run [-pa DIR]... FILE [ARGS...]` compiles `FILE` (`NAME.mrl`,
//!   or loads a compiled `NAME.mrlb`) and runs `NAME:main/1` with the
//!   arguments as strings, else `NAME:main/0`;
//! - `minierl compile [-o DIR] FILE...` writes `NAME.mrlb` files;
//! - `minierl shell [-pa DIR]...`, or `minierl` alone: the interactive
//!   shell (`shell/`, `spec/shell.md`);
//! - `minierl --help`, `minierl --version`.
//!
//! Exit status: 0 when main returns, 1 when it crashes (with a report on
//! stderr) or when a file cannot be compiled or loaded, N on `halt(N)`,
//! 2 for a usage error.
//!
//! All the work is in the library; this file parses arguments, reads and
//! writes files, and reports the outcome.

use clap::{Parser, Subcommand};
use minierl::vm::{MainExit, Vm};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "minierl",
    version,
    about = "minierl: a mini-BEAM. Runs a subset of Erlang with processes and hot code loading.",
    after_help = "Examples:\n  minierl run hello.mrl\n  minierl run -pa lib prog.mrl arg1 arg2\n  minierl compile -o ebin a.mrl b.mrl\n  minierl run ebin/a.mrlb"
)]
struct Cli {
    /// Add DIR to the front of the code path (where modules are looked up
    /// when first called); may be repeated. Also spelled `-pa DIR`.
    #[arg(long = "pa", value_name = "DIR", global = true)]
    pa: Vec<PathBuf>,
    /// Number of scheduler threads (default: one per core).
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    schedulers: Option<u16>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Compile FILE (NAME.mrl, or load a compiled NAME.mrlb) and run
    /// NAME:main/1 with the arguments as strings, or NAME:main/0.
    Run {
        file: PathBuf,
        /// Arguments passed to main/1 as strings.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Compile source files into compiled module files (NAME.mrlb).
    Compile {
        /// Write the .mrlb files into DIR (default: beside each source).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        out: Option<PathBuf>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The interactive shell (also `minierl` with no command).
    Shell,
}

/// The compiler recurses on nesting (and, in places, on long patterns);
/// it runs on a thread with a large stack, so any program that fits in
/// memory compiles. The stack is reserved, not committed.
const COMPILER_STACK: usize = 1 << 30;

/// A plain-words reason for an IO error.
fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        _ => {
            if e.raw_os_error() == Some(21) {
                return "is a directory".into();
            }
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

/// Read a source file as text. Bytes that are not UTF-8 are read as
/// Latin-1 (as epp falls back for files without an encoding comment).
fn read_source(path: &Path) -> Result<String, String> {
    if path.is_dir() {
        return Err(format!("minierl: cannot read {}: is a directory", path.display()));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("minierl: cannot read {}: {}", path.display(), io_reason(&e)))?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    })
}

/// Compile a source file; diagnostics (errors and warnings) are printed on
/// stderr. `Err` holds a message still to print (empty when the
/// diagnostics already said it).
fn compile_file(path: &Path) -> Result<minierl_bytecode::Module, String> {
    let source = read_source(path)?;
    let shown = path.display().to_string();
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let result = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("compiler".into())
            .stack_size(COMPILER_STACK)
            .spawn_scoped(s, || {
                let opts = minierl_compiler::Options::default();
                match minierl_compiler::compile(&name, &source, &opts) {
                    Ok(c) => {
                        if !c.warnings.is_empty() {
                            report(&minierl_compiler::diag::render(&shown, &source, &c.warnings, false));
                        }
                        Ok(c.module)
                    }
                    Err(diags) => {
                        report(&minierl_compiler::diag::render(&shown, &source, &diags, false));
                        Err(String::new())
                    }
                }
            })
            .map_err(|e| format!("minierl: cannot start the compiler: {e}"))?
            .join()
            .map_err(|_| format!("minierl: internal compiler error while compiling {shown}"))?
    });
    result
}

/// Print diagnostics on stderr, through the output sink (in the shell,
/// they appear above the line being typed).
fn report(text: &str) {
    minierl::format::out::write_chars(minierl::format::out::Device::Stderr, text);
}

/// The module name a file must hold: its name without the extension.
fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Read and decode a compiled module file (`NAME.mrlb`).
fn read_compiled(path: &Path) -> Result<minierl_bytecode::Module, String> {
    if path.is_dir() {
        return Err(format!("minierl: cannot read {}: is a directory", path.display()));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("minierl: cannot read {}: {}", path.display(), io_reason(&e)))?;
    let module =
        minierl_bytecode::decode(&bytes).map_err(|e| format!("minierl: cannot load {}: {e}", path.display()))?;
    if module.name() != stem(path) {
        return Err(format!(
            "minierl: cannot load {}: it holds module '{}', not '{}'",
            path.display(),
            module.name(),
            stem(path)
        ));
    }
    Ok(module)
}

fn run(pa: &[PathBuf], file: &Path, args: &[String]) -> ExitCode {
    let is_compiled = file.extension().is_some_and(|e| e == "mrlb");
    if !is_compiled && !file.exists() {
        eprintln!("minierl: cannot read {}: no such file or directory", file.display());
        return ExitCode::from(1);
    }
    let vm = Vm::new();
    *vm.compiler.write().unwrap() = Some(compile_file);
    *vm.embedded.write().unwrap() = minierl::vm::stdlib_modules();
    {
        // As OTP: -pa folders first, then the program's folder, then the
        // current directory.
        let mut path = vm.code_path.write().unwrap();
        path.extend(pa.iter().cloned());
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        path.push(dir);
        if let Ok(cwd) = std::env::current_dir() {
            path.push(cwd);
        }
    }
    let module = if is_compiled { read_compiled(file) } else { compile_file(file) };
    let module = match module {
        Ok(m) => m,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("{msg}");
            }
            return ExitCode::from(1);
        }
    };
    let inst = match minierl::loader::load(&vm.code, &module) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("minierl: cannot load {}: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let has = |n: u8| inst.exports.iter().any(|(f, a, _)| f.name() == "main" && *a == n);
    let main_args = if has(1) {
        Some(args)
    } else if has(0) {
        if !args.is_empty() {
            eprintln!("minierl: warning: {}:main/0 takes no arguments; {} ignored", module.name(), args.len());
        }
        None
    } else {
        eprintln!("minierl: {} exports neither main/1 nor main/0", module.name());
        return ExitCode::from(1);
    };
    let exit = vm.run_main(inst.module, main_args);
    exit_code(exit)
}

/// The interactive shell: modules are looked up in the -pa folders, then
/// the current directory.
fn shell(pa: &[PathBuf]) -> ExitCode {
    let vm = Vm::new();
    *vm.compiler.write().unwrap() = Some(compile_file);
    *vm.embedded.write().unwrap() = minierl::vm::stdlib_modules();
    {
        let mut path = vm.code_path.write().unwrap();
        path.extend(pa.iter().cloned());
        path.push(PathBuf::from("."));
    }
    let banner = format!(
        "minierl {} shell (help(). lists the commands, q(). quits, Ctrl-C interrupts)",
        env!("CARGO_PKG_VERSION")
    );
    let exit = minierl::shell::run(vm, &banner);
    exit_code(exit)
}

fn compile(out: Option<&Path>, files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    if let Some(dir) = out {
        if !dir.is_dir() {
            eprintln!("minierl: output directory {} does not exist", dir.display());
            return ExitCode::from(1);
        }
    }
    for file in files {
        let module = match compile_file(file) {
            Ok(m) => m,
            Err(msg) => {
                if !msg.is_empty() {
                    eprintln!("{msg}");
                }
                failed = true;
                continue;
            }
        };
        let dir = match (out, file.parent()) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(d)) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let target = dir.join(format!("{}.mrlb", module.name()));
        let bytes = minierl_bytecode::encode(&module);
        // Write to a temporary name, then rename: a reader never sees a
        // half-written file.
        let tmp = dir.join(format!(".{}.mrlb.tmp{}", module.name(), std::process::id()));
        let written = std::fs::write(&tmp, &bytes).and_then(|_| std::fs::rename(&tmp, &target));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            eprintln!("minierl: cannot write {}: {}", target.display(), io_reason(&e));
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Erlang spells the code path option `-pa DIR`; clap wants `--pa`.
/// Rewrites `-pa` up to the program file of `run` (its arguments are the
/// program's own).
fn normalize_args(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    if let Some(a) = it.next() {
        out.push(a);
    }
    let mut rest_is_program = false;
    let mut expect_value = false;
    let mut subcommand: Option<String> = None;
    for a in it {
        if rest_is_program {
            out.push(a);
            continue;
        }
        if expect_value {
            expect_value = false;
            out.push(a);
            continue;
        }
        if a == "-pa" || a == "--pa" || a == "-o" || a == "--output" {
            expect_value = true;
            out.push(if a == "-pa" { "--pa".into() } else { a });
            continue;
        }
        if a.starts_with('-') {
            out.push(a);
            continue;
        }
        match &subcommand {
            None => subcommand = Some(a.clone()),
            Some(s) if s == "run" => rest_is_program = true,
            _ => {}
        }
        out.push(a);
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(normalize_args(std::env::args().collect()));
    if let Some(n) = cli.schedulers {
        minierl::sched::set_default_schedulers(n as usize);
    }
    match cli.command {
        Some(Command::Run { file, args }) => run(&cli.pa, &file, &args),
        Some(Command::Compile { out, files }) => compile(out.as_deref(), &files),
        Some(Command::Shell) | None => shell(&cli.pa),
    }
}

/// The process's exit status for how the VM ended: 0 when main returned,
/// N on `halt(N)`, 1 after a crash (its report on stderr).
///
/// When an exit signal killed main (a linked process died, `exit(Main, R)`),
/// OTP's `init` sees its boot process die and writes
/// `{"init terminating in do_boot",R}` with `erlang:display/1` to stdout
/// before it halts; so does minierl. Such a death is the one crash of class
/// exit without a stack trace (an uncaught `erlang:raise(exit, R, [])` looks
/// the same and gets the line too, where OTP's escript would not print it).
fn exit_code(exit: MainExit) -> ExitCode {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match exit {
        MainExit::Normal => ExitCode::SUCCESS,
        MainExit::Halt(n) => ExitCode::from(n.clamp(0, 255) as u8),
        MainExit::Crash { class, reason, trace } => {
            if class == minierl::process::Class::Exit && trace == minierl::term::Term::NIL {
                use minierl::format::{display::display_bytes, from_term, FTerm};
                let slogan = "init terminating in do_boot".bytes().map(|b| FTerm::Int(b as i64)).collect();
                let line = display_bytes(&FTerm::Tuple(vec![FTerm::list(slogan), from_term(reason)]));
                minierl::format::out::write_bytes(minierl::format::out::Device::Stdout, &line);
            }
            eprint!("{}", minierl::report::uncaught(class, reason, trace));
            ExitCode::from(1)
        }
    }
}
