//! `#[derive(Describe)]`: adds `fn describe() -> &'static str` returning the type's name.
extern crate proc_macro;

use proc_macro::{TokenStream, TokenTree};

#[proc_macro_derive(Describe)]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let mut name = None;
    while let Some(t) = tokens.next() {
        if let TokenTree::Ident(i) = &t {
            let s = i.to_string();
            if s == "struct" || s == "enum" {
                if let Some(TokenTree::Ident(n)) = tokens.next() {
                    name = Some(n.to_string());
                }
                break;
            }
        }
    }
    let name = name.expect("Describe needs a struct or enum");
    format!("impl {0} {{ pub fn describe() -> &'static str {{ \"{0}\" }} }}", name)
        .parse()
        .unwrap()
}
