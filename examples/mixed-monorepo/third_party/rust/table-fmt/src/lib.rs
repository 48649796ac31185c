pub const NAME: &str = env!("CARGO_PKG_NAME");

pub fn header(s: &str) -> String {
    term::bold(s)
}
