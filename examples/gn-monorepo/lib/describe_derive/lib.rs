//! `#[derive(Describe)]`: adds `fn describe(&self) -> &'static str` and
//! `const FIELD_COUNT: usize` to a struct. Only `proc_macro` is used.

extern crate proc_macro;

use proc_macro::{Delimiter, TokenStream, TokenTree};

#[proc_macro_derive(Describe)]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let mut name = None;
    let mut fields = 0usize;
    while let Some(tt) = tokens.next() {
        if let TokenTree::Ident(id) = &tt {
            let s = id.to_string();
            if s == "struct" || s == "enum" {
                if let Some(TokenTree::Ident(n)) = tokens.next() {
                    name = Some(n.to_string());
                }
            }
        }
        if let TokenTree::Group(g) = &tt {
            if g.delimiter() == Delimiter::Brace && name.is_some() {
                // Count top-level comma-separated segments as fields.
                let mut depth = 0i32;
                let mut in_field = false;
                for t in g.stream() {
                    match &t {
                        TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
                        TokenTree::Punct(p) if p.as_char() == '>' => depth -= 1,
                        TokenTree::Punct(p) if p.as_char() == ',' && depth == 0 => {
                            in_field = false;
                            continue;
                        }
                        _ => {}
                    }
                    if !in_field {
                        in_field = true;
                        fields += 1;
                    }
                }
            }
        }
    }
    let name = name.expect("#[derive(Describe)] needs a struct or enum");
    format!(
        "impl {name} {{\n\
         pub const FIELD_COUNT: usize = {fields};\n\
         pub fn describe(&self) -> &'static str {{ \"{name}\" }}\n\
         }}"
    )
    .parse()
    .unwrap()
}
