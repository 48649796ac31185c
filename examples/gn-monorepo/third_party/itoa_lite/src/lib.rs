//! Tiny integer-to-decimal formatter. Edition 2015 (no `--edition` flag).

// 2015-only: `async` is an ordinary identifier before the 2018 edition, and
// 2015 module paths are relative to the crate root without `crate::`.
pub mod fmt;

pub use fmt::Formatter;

/// Formats `n` in decimal.
pub fn async(n: u64) -> String {
    let mut f = Formatter::new();
    f.write_u64(n);
    f.into_string()
}

/// Same as [`async`], under a sensible name.
pub fn format_u64(n: u64) -> String {
    async(n)
}
