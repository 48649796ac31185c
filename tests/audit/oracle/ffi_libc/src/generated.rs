// include!d into lib.rs.
pub fn generated() -> usize {
        unsafe { strlen(b"x\0".as_ptr()) }
}
