// Writes $OUT_DIR/build_info.rs, which src/lib.rs include!s, and tells rustc a cfg and two
// environment variables (as a Cargo build script would).
use std::{env, fs, path::Path};

fn main() {
    let out_dir = env::var("OUT_DIR").expect("OUT_DIR is set");
    let version = env::var("CARGO_PKG_VERSION").expect("CARGO_PKG_VERSION is set");
    let profile = env::var("BUILD_INFO_PROFILE").unwrap_or_default();
    let code = format!(
        "pub const VERSION: &str = {version:?};\npub const PROFILE: &str = {profile:?};\n"
    );
    fs::write(Path::new(&out_dir).join("build_info.rs"), code).expect("write build_info.rs");
    println!("cargo:rustc-cfg=build_info_generated");
    println!("cargo:rustc-cfg=build_info_profile=\"{profile}\"");
    println!("cargo:rustc-env=BUILD_INFO_GREETING=hello from build.rs");
    println!("cargo:rustc-env=BUILD_INFO_DIR={out_dir}");
}
