//! Generates the reader's LALRPOP parser (`src/grammar.lalrpop`) into OUT_DIR.

fn main() {
    println!("cargo:rerun-if-changed=src/grammar.lalrpop");
    if let Err(e) = lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .emit_rerun_directives(true)
        .process()
    {
        eprintln!("lalrpop failed on src/grammar.lalrpop: {e}");
        std::process::exit(1);
    }
}
