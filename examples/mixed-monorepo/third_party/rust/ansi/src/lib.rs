#[cfg(feature = "color")]
pub fn bold(s: &str) -> String {
    format!("\x1b[1m{s}\x1b[0m")
}
