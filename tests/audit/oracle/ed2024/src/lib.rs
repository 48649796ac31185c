//! Edition 2024: unsafe extern blocks with safe items, unsafe attributes, global_asm!.
#![allow(dead_code)]

unsafe extern "C" {
        pub safe fn abs(x: i32) -> i32;
        pub unsafe fn strlen(s: *const u8) -> usize;
        safe static environ_count: i32;
}

#[unsafe(no_mangle)]
pub extern "C" fn ed2024_entry() -> i32 {
        abs(-1)
}

#[unsafe(export_name = "ed2024_renamed")]
pub extern "C" fn renamed() {}

#[unsafe(link_section = ".data.ed2024")]
pub static SECTION: u32 = 7;

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(".globl ed2024_nop", "ed2024_nop:", "ret");

pub unsafe fn env_edit() {
        unsafe { std::env::set_var("PM_AUDIT", "1") };
}

pub fn len(s: &std::ffi::CStr) -> usize {
        unsafe { strlen(s.as_ptr().cast()) }
}

pub type Callback = unsafe extern "C" fn(i32) -> i32;
