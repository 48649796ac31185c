//! memchr-style SIMD search: target-feature unsafe fns, unsafe blocks around intrinsics,
//! unsafe trait methods and marker impls.
#![allow(dead_code)]

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};

pub struct Searcher {
        needle: u8,
        ptr: *const u8,
}

unsafe impl Send for Searcher {}
unsafe impl Sync for Searcher {}

pub unsafe trait Vector: Copy {
        unsafe fn load(p: *const u8) -> Self;
        unsafe fn movemask(self) -> u32 {
                0
        }
}

#[cfg(target_arch = "x86_64")]
unsafe impl Vector for __m128i {
        #[inline(always)]
        unsafe fn load(p: *const u8) -> Self {
                unsafe { _mm_loadu_si128(p as *const __m128i) }
        }
}

impl Searcher {
        pub fn new(needle: u8) -> Self {
                Searcher { needle, ptr: core::ptr::null() }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "sse2")]
        pub unsafe fn find_raw(&self, start: *const u8, end: *const u8) -> Option<*const u8> {
                let n = unsafe { _mm_set1_epi8(self.needle as i8) };
                let mut p = start;
                while unsafe { end.offset_from(p) } >= 16 {
                        let v = unsafe { _mm_loadu_si128(p as *const __m128i) };
                        let m = unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(v, n)) };
                        if m != 0 {
                                return Some(unsafe { p.add(m.trailing_zeros() as usize) });
                        }
                        p = unsafe { p.add(16) };
                }
                None
        }

        pub fn find(&self, hay: &[u8]) -> Option<usize> {
                hay.iter().position(|&b| b == self.needle)
        }
}

const UNSAFE_CELL_NAME: &str = "core::cell::UnsafeCell";

#[cfg(test)]
mod tests {
        use super::*;

        #[test]
        fn finds() {
                let s = Searcher::new(b'x');
                assert_eq!(s.find(b"abx"), Some(2));
                let hay = [0u8; 32];
                let _ = unsafe { s.find_raw(hay.as_ptr(), hay.as_ptr().add(32)) };
        }
}
