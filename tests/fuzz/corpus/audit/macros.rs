// macro_rules! bodies are counted and marked; matchers are patterns, not code.
macro_rules! impl_send {
        ($t:ty) => {
                unsafe impl Send for $t {} //~ unsafe_impl@macro
        };
        (unsafe fn $name:ident) => {
                pub unsafe fn $name() {} //~ unsafe_fn@macro=impl_send!::$name
        };
}

macro_rules! externs {
        ($($name:ident),*) => {
                extern "C" { //~ extern_block@macro#0/0
                        $(fn $name();)*
                }
        }
}

macro_rules! read (
        ($p:expr) => { unsafe { *$p } } //~ unsafe_block@macro
);

#[macro_export]
#[allow_internal_unsafe] //~ allow_internal_unsafe=internal!
macro_rules! internal {
        () => {};
}

pub struct A;
impl_send!(A);
impl_send! { unsafe impl Sync for A {} } //~ unsafe_impl
externs!(a, b);

lazy_static::lazy_static! {
        static ref X: u8 = unsafe { 3 }; //~ unsafe_block
}

pub fn use_it(p: *const u8) -> u8 {
        read!(p)
}

pub fn after() {
        unsafe {} //~ unsafe_block=after
}
