// Every kind of unsafe item rustc's unsafe_code lint reports, and look-alikes it does not.
use std::arch::asm;

pub unsafe fn free_fn() {} //~ unsafe_fn=free_fn
unsafe fn private_fn(p: *const u8) -> u8 { //~ unsafe_fn=private_fn
        unsafe { *p } //~ unsafe_block=private_fn
}
pub const unsafe fn const_fn() {} //~ unsafe_fn=const_fn
pub async unsafe fn async_fn() {} //~ unsafe_fn=async_fn
pub unsafe extern "C" fn c_abi_fn() {} //~ unsafe_fn=c_abi_fn
pub(crate) unsafe fn crate_fn() {} //~ unsafe_fn=crate_fn

// Function pointer types are not code.
type Callback = unsafe fn(u32) -> u32;
type CCallback = unsafe extern "C" fn(i32);
type Hr = for<'a> unsafe fn(&'a u8);
fn takes(_f: unsafe fn(), _g: Option<unsafe extern "C" fn() -> i32>) {}

pub struct Foo<T>(T);

impl<T: Copy> Foo<T> {
        pub unsafe fn method(&self) {} //~ unsafe_method=Foo::method
        pub fn safe_method(&self) -> T {
                unsafe { std::ptr::read(&self.0) } //~ unsafe_block=Foo::safe_method
        }
}

pub unsafe trait Zeroable {} //~ unsafe_trait=Zeroable
pub unsafe auto trait Marker {} //~ unsafe_trait=Marker

pub trait Raw {
        unsafe fn decl(&self); //~ unsafe_trait_method@decl=Raw::decl
        unsafe fn with_default(&self) {} //~ unsafe_trait_method=Raw::with_default
        fn safe(&self);
}

impl<T> Raw for Foo<T> {
        unsafe fn decl(&self) {} //~ unsafe_method=<Foo as Raw>::decl
        fn safe(&self) {}
}

unsafe impl<T: Send> Send for Foo<T> {} //~ unsafe_impl=<Foo as Send>
unsafe impl Zeroable for u8 {} //~ unsafe_impl=<u8 as Zeroable>
unsafe impl<T> Sync for Foo<T> where T: Sync {} //~ unsafe_impl=<Foo as Sync>

extern "C" { //~ extern_block#2/0
        fn abs(x: i32) -> i32;
        static errno: i32;
}

extern { //~ extern_block#1/0
        fn legacy();
}

unsafe extern "C" { //~ unsafe_extern_block#4/2
        pub safe fn sqrt(x: f64) -> f64;
        pub unsafe fn free(p: *mut u8);
        safe static VERSION: u32;
        fn strlen(p: *const u8) -> usize;
}

#[no_mangle] //~ no_mangle=exported
pub extern "C" fn exported() {}

#[unsafe(no_mangle)] //~ no_mangle=exported2024
pub extern "C" fn exported2024() {}

#[export_name = "renamed"] //~ export_name=renamed_fn
pub fn renamed_fn() {}

#[unsafe(export_name = "renamed2")] //~ export_name=renamed_fn2
pub fn renamed_fn2() {}

#[link_section = ".init_array"] //~ link_section=INIT
#[used]
static INIT: extern "C" fn() = init;

#[unsafe(link_section = ".data")] //~ link_section=DATA
static DATA: u8 = 0;

#[no_mangle] //~ no_mangle=COUNTER
static mut COUNTER: u32 = 0;

#[cfg_attr(unix, no_mangle)] //~ no_mangle=maybe_exported
pub fn maybe_exported() {}

extern "C" fn init() {}

std::arch::global_asm!(".globl x"); //~ global_asm
core::arch::global_asm! { //~ global_asm
        "nop"
}

pub fn with_asm() {
        unsafe { //~ unsafe_block=with_asm
                asm!("nop"); //~ asm=with_asm
        }
}

pub mod inner {
        pub unsafe fn nested() {} //~ unsafe_fn=inner::nested
        pub fn g() {
                let f = || unsafe { super::free_fn() }; //~ unsafe_block=inner::g
                f()
        }
}

static TABLE: [u8; 2] = unsafe { [0, 1] }; //~ unsafe_block=TABLE
