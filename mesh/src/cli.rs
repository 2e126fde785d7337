//! placeholder
pub fn run(
    _args: Vec<String>,
    _out: &mut dyn std::io::Write,
    _err: &mut dyn std::io::Write,
) -> i32 {
    0
}
