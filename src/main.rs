/// The CLI runs on a thread with a large stack so deep (but bounded) recursion rarely needs
/// the interpreter's on-demand stack segments.
const MAIN_STACK: usize = 256 * 1024 * 1024;

fn main() {
    let code = std::thread::Builder::new()
        .name("rtfs-main".into())
        .stack_size(MAIN_STACK)
        .spawn(rtfs::cli_main)
        .map(|h| h.join().unwrap_or(101))
        .unwrap_or_else(|e| {
            eprintln!("error: cannot start the main thread: {e}");
            2
        });
    std::process::exit(code);
}
