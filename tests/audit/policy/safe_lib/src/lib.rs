#![forbid(unsafe_code)]

pub fn double(x: u8) -> u32 {
        ffi_dep::widen(x) * 2
}
