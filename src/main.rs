fn main() {
    std::process::exit(rtfs::cli_main());
}
