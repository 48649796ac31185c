// Test code is reported separately, not dropped.
pub fn shipped() {
        unsafe {} //~ unsafe_block=shipped
}

#[cfg(test)]
mod tests {
        #[test]
        fn t() {
                unsafe {} //~ unsafe_block@test=tests::t
        }
        unsafe impl Send for super::S {} //~ unsafe_impl@test
}

#[test]
fn top_test() {
        unsafe {} //~ unsafe_block@test=top_test
}

#[tokio::test]
async fn async_test() {
        unsafe {} //~ unsafe_block@test
}

#[cfg(all(test, unix))]
fn unix_test_helper() {
        unsafe {} //~ unsafe_block@test
}

#[cfg(not(test))]
fn not_test() {
        unsafe {} //~ unsafe_block
}

#[cfg(any(test, feature = "x"))]
fn maybe_test() {
        unsafe {} //~ unsafe_block
}

#[cfg(debug_assertions)]
fn debug_only() {
        unsafe {} //~ unsafe_block
}

#[no_mangle] //~ no_mangle@test=exported_in_test
#[cfg(test)]
pub extern "C" fn exported_in_test() {}

mod inline_test_mod {
        #![cfg(test)]
        fn f() {
                unsafe {} //~ unsafe_block@test
        }
}

pub struct S;

pub fn after_tests() {
        unsafe {} //~ unsafe_block=after_tests
}
