pub(crate) unsafe fn peek(p: *const u8) -> u8 {
        unsafe { *p }
}
