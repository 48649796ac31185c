//! Lookup tables generated at build time (edition 2024).

mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

pub use generated::{NAMES, SQUARES};

/// Looks up a name and a square together. Uses `let` chains, which are
/// only available in edition 2024.
pub fn lookup(name_index: usize, square_index: usize) -> Option<(&'static str, u32)> {
    if let Some(name) = NAMES.get(name_index)
        && let Some(sq) = SQUARES.get(square_index)
    {
        Some((name, *sq))
    } else {
        None
    }
}

// Edition 2024: extern blocks must be written `unsafe extern`.
unsafe extern "C" {
    safe fn abs(x: i32) -> i32;
}

pub fn distance(a: i32, b: i32) -> i32 {
    abs(a - b)
}
