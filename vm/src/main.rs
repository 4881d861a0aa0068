//! The `minierl` command line: `minierl run FILE [ARGS...]`.
//! All the work is in the library; this file parses arguments, compiles the
//! source (via `minierl_compiler`), loads it and reports the outcome.

use clap::{Parser, Subcommand};
use minierl::term::Term;
use minierl::vm::{MainExit, Vm};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "minierl", version, about = "minierl: a mini-BEAM. Runs a subset of Erlang with processes and hot code loading.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Compile FILE (NAME.mrl, or a compiled NAME.mrlb) and run NAME:main/1
    /// with the arguments as strings, or NAME:main/0.
    Run {
        file: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Compile a source file. Diagnostics are printed on stderr.
fn compile_file(path: &Path) -> Result<minierl_bytecode::Module, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let opts = minierl_compiler::Options::default();
    match minierl_compiler::compile(&name, &source, &opts) {
        Ok(c) => {
            if !c.warnings.is_empty() {
                eprint!("{}", minierl_compiler::diag::render(&name, &source, &c.warnings, false));
            }
            Ok(c.module)
        }
        Err(diags) => {
            eprint!("{}", minierl_compiler::diag::render(&name, &source, &diags, false));
            Err(String::new())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(Command::Run { file, args }) = cli.command else {
        eprintln!("minierl: the shell is not available yet; try `minierl run FILE`");
        return ExitCode::from(2);
    };
    let vm = Vm::new();
    *vm.compiler.write().unwrap() = Some(compile_file);
    *vm.embedded.write().unwrap() = minierl::vm::stdlib_modules();
    let dir = file.parent().map(|d| if d.as_os_str().is_empty() { PathBuf::from(".") } else { d.to_path_buf() }).unwrap_or_else(|| PathBuf::from("."));
    vm.code_path.write().unwrap().push(dir);
    if let Ok(cwd) = std::env::current_dir() {
        vm.code_path.write().unwrap().push(cwd);
    }
    let is_compiled = file.extension().is_some_and(|e| e == "mrlb");
    let module = if is_compiled {
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("minierl: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        };
        match minierl_bytecode::decode(&bytes) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("minierl: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        }
    } else {
        match compile_file(&file) {
            Ok(m) => m,
            Err(msg) => {
                if !msg.is_empty() {
                    eprintln!("{msg}");
                }
                return ExitCode::from(1);
            }
        }
    };
    let inst = match minierl::loader::load(&vm.code, &module) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("minierl: cannot load {}: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let has_main1 = inst.exports.iter().any(|(f, a, _)| f.name() == "main" && *a == 1);
    let exit = vm.run_main(inst.module, if has_main1 { Some(&args) } else { None });
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match exit {
        MainExit::Normal => ExitCode::SUCCESS,
        MainExit::Halt(n) => ExitCode::from(n.clamp(0, 255) as u8),
        MainExit::Crash { class, reason, trace } => {
            eprint!("{}", minierl::report::uncaught(class, reason, trace));
            ExitCode::from(1)
        }
    }
}

#[allow(dead_code)]
fn unused(_: Term) {}
