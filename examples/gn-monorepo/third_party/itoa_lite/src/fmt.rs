// 2015 paths: `::std` is the extern prelude root; `Writer` is a bare trait
// object (no `dyn`), accepted (with a lint) only before the 2021 edition.
#![allow(bare_trait_objects)]

pub trait Writer {
    fn push(&mut self, c: char);
}

impl Writer for String {
    fn push(&mut self, c: char) {
        String::push(self, c)
    }
}

pub struct Formatter {
    buf: Box<Writer>,
    out: String,
}

impl Formatter {
    pub fn new() -> Formatter {
        Formatter { buf: Box::new(String::new()), out: String::new() }
    }

    pub fn write_u64(&mut self, mut n: u64) {
        let mut digits = Vec::new();
        loop {
            digits.push((b'0' + (n % 10) as u8) as char);
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for c in digits.into_iter().rev() {
            self.buf.push(c);
            self.out.push(c);
        }
    }

    pub fn into_string(self) -> String {
        self.out
    }
}
