//! Constants a build script generated: rust-analyzer resolves them only when OUT_DIR exists and
//! is one of the crate's include_dirs, and the crate only compiles with the cfg and the
//! environment variables the script tells rustc (cargo:rustc-cfg, cargo:rustc-env).

#[cfg(not(build_info_generated))]
compile_error!("cfg(build_info_generated) comes from build.rs (cargo:rustc-cfg)");

include!(concat!(env!("OUT_DIR"), "/build_info.rs"));

/// "hello from build.rs".
pub const GREETING: &str = env!("BUILD_INFO_GREETING");

/// The directory the build script wrote to (its OUT_DIR).
pub const GENERATED_IN: &str = env!("BUILD_INFO_DIR");

/// "build_info 0.3.1 (example)".
pub fn describe() -> String {
    format!("build_info {VERSION} ({PROFILE})")
}

/// Whether the build script ran with BUILD_INFO_PROFILE=example.
pub fn is_example() -> bool {
    cfg!(build_info_profile = "example")
}
