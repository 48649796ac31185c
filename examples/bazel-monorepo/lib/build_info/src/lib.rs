//! Constants a build script generated: rust-analyzer resolves them only when OUT_DIR exists and
//! is one of the crate's include_dirs.

include!(concat!(env!("OUT_DIR"), "/build_info.rs"));

/// "build_info 0.3.1 (example)".
pub fn describe() -> String {
    format!("build_info {VERSION} ({PROFILE})")
}
