#!/usr/bin/env run-cargo-script unsafe { }
// A shebang line is not code.
fn main() {
        unsafe {} //~ unsafe_block=main
}
