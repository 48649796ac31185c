// Lexing: nothing in comments, strings, chars, raw identifiers or longer names counts.
// unsafe { fn } unsafe impl Send for X {}
/* unsafe { } /* nested unsafe { } */ still a comment: unsafe fn x() {} */
/// unsafe fn documented() {}
//! unsafe impl Sync for Y {}
/** unsafe trait T {} */
/*! unsaf