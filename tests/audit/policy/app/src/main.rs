fn main() {
        let x = 1u8;
        let y = unsafe { *(&x as *const u8) };
        println!("{}", safe_lib::double(y));
}
