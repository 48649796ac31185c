//! Runtime configuration (edition 2021).

/// Compile-time greeting from GN's `rustenv = [ "GREETING=hello" ]`.
/// Fails to compile if the variable is not set.
pub const GREETING: &str = env!("GREETING");

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub greeting: String,
    pub workers: usize,
}

/// Only exists when the `fast` feature cfg is passed (`--cfg=feature="fast"`).
#[cfg(feature = "fast")]
fn fast_worker_count() -> usize {
    8
}

impl Config {
    pub fn load() -> Config {
        Config {
            greeting: util::title_case(GREETING),
            // Unconditional call: the crate does not compile without the cfg.
            workers: fast_worker_count(),
        }
    }
}
