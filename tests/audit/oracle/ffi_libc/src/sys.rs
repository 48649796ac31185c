// A non-mod.rs module: its child lives in sys/.
mod inner;

pub fn errno() -> super::c_int {
        unsafe { super::ffi_libc_errno }
}
