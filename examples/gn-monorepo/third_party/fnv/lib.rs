//! FNV-1a hashing. Edition 2015: reaches `itoa_lite` via `extern crate`
//! and uses the `try!` macro (`try` is a reserved keyword from 2018 on).

#![allow(deprecated)]

extern crate itoa_lite;

use std::num::ParseIntError;

const OFFSET: u64 = 0xcbf29ce484222325;
const PRIME: u64 = 0x100000001b3;

/// FNV-1a 64-bit hash of `bytes`.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = OFFSET;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// The hash rendered in decimal (via the 2015 `itoa_lite` crate).
pub fn hash_str(s: &str) -> String {
    itoa_lite::format_u64(hash(s.as_bytes()))
}

/// Parses a hash previously produced by [`hash_str`].
pub fn parse_hash(s: &str) -> Result<u64, ParseIntError> {
    let v = try!(s.trim().parse::<u64>());
    Ok(v)
}
