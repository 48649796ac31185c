//! A GN-built library.
#[cfg(feature = "fast")]
pub fn greeting() -> &'static str {
    "hello from GN"
}
