#![deny(unsafe_code)]
//~! deny
// Edition 2015 forms: `async` and `dyn` are identifiers, `try!` is a macro, bare trait objects.
fn async() -> u32 {
        0
}

fn f(x: &Iterator<Item = u8>) -> Result<u8, ()> {
        let dyn = 1;
        let v = try!(Ok(dyn));
        unsafe { g() } //~ unsafe_block=f
        Ok(v)
}

trait T {
        unsafe fn m(&self, u8); //~ unsafe_trait_method@decl=T::m
}
