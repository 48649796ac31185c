#![cfg(test)]
//~! test_only
use super::*;

#[test]
fn t() {
        unsafe {} //~ unsafe_block@test=t
}
