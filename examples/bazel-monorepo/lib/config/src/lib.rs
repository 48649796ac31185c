//! Settings shared by the engine and the server.

/// The configuration format version, set by the BUILD file's `rustc_env`.
pub const VERSION: &str = env!("CONFIG_VERSION");

#[derive(Debug, Clone)]
pub struct Settings {
    pub workers: usize,
    pub name: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { workers: 4, name: String::from("engine") }
    }
}

/// Only with the `json` feature (`crate_features` in the BUILD file).
#[cfg(feature = "json")]
pub fn to_json(s: &Settings) -> String {
    format!("{{\"workers\": {}, \"name\": \"{}\"}}", s.workers, s.name)
}
