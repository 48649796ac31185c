#![forbid(unsafe_code)]
//~! forbid
// The module tree and include!s a file declares.
mod plain; //~! mod plain - -
#[path = "elsewhere/x.rs"]
mod renamed; //~! mod renamed elsewhere/x.rs -
mod outer {
        mod nested; //~! mod nested - outer/
        #[path = "p"]
        mod dir {
                mod deep; //~! mod deep - outer/p/
        }
}
#[cfg(test)]
mod tests; //~! mod@test tests - -
pub mod r#async; //~! mod async - -

include!("generated.rs"); //~! include generated.rs
include!(concat!(env!("OUT_DIR"), "/bindings.rs")); //~! include -
const S: &str = include_str!("data.txt");
