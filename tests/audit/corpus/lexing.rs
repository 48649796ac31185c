// Lexing: nothing in comments, strings, chars, raw identifiers or longer names counts.
// unsafe { fn } unsafe impl Send for X {}
/* unsafe { } /* nested unsafe { } */ still a comment: unsafe fn x() {} */
/// unsafe fn documented() {}
//! unsafe impl Sync for Y {}
/** unsafe trait T {} */
/*! unsafe extern "C" {} */
use std::cell::UnsafeCell;

struct Unsafe;
fn unsafe_fn_name() {}
fn is_unsafe(r#unsafe: u8) -> u8 {
        r#unsafe
}

fn strings() {
        let _ = "unsafe { }";
        let _ = "escaped \" quote, then unsafe { }";
        let _ = "backslash at the end \\";
        let _ = unsafe { 1 }; //~ unsafe_block=strings
        let _ = r"unsafe { } \";
        let _ = r#"unsafe "quoted" { }"#;
        let _ = r##"one hash "# is not the end unsafe { }"##;
        let _ = b"unsafe { }";
        let _ = br#"unsafe"# ;
        let _ = c"unsafe { }";
        let _ = cr#"unsafe { }"#;
        let _ = "multi
line unsafe { }
string";
        unsafe { x() } //~ unsafe_block
}

fn chars<'a>(s: &'a str) -> &'a str {
        let _ = '"';
        let _ = '\'';
        let _ = '{';
        let _ = b'"';
        let _ = '\u{1F600}';
        let _ = 'é';
        let _ = '\\';
        'outer: loop {
                break 'outer;
        }
        let _: &'static str = "unsafe";
        unsafe { y() }; //~ unsafe_block=chars
        s
}

fn numbers() {
        let _ = 1.0e-3f64 + 0x1F_u8 as f64 + 1e10;
        let _ = (0..10).map(|x| x.pow(2));
        let t = ((1, 2), 3);
        let _ = t.0.1;
        unsafe {} //~ unsafe_block
}

/* An unterminated-looking string inside a comment: " unsafe { */
fn after_comment() {
        unsafe { z() } //~ unsafe_block=after_comment
}
