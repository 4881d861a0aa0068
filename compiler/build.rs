//! Generates the parser from `src/parser.lalrpop` into OUT_DIR.
fn main() {
    println!("cargo:rerun-if-changed=src/parser.lalrpop");
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .emit_rerun_directives(true)
        .process_file("src/parser.lalrpop")
        .expect("the grammar in src/parser.lalrpop must build");
}
