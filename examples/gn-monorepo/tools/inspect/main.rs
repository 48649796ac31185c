//! `inspect`: prints the generated tables and the compiled-in configuration.

fn main() {
    println!("greeting: {}", config::GREETING);
    // Edition 2024: `gen` is a reserved keyword, so a binding with that
    // name has to be written as a raw identifier.
    let r#gen = tables::NAMES.len();
    println!("{} generated names", r#gen);
    for (i, name) in tables::NAMES.iter().enumerate() {
        if let Some((n, sq)) = tables::lookup(i, i)
            && n == *name
        {
            println!("{i}: {n} -> {sq}");
        }
    }
}
