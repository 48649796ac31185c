extern crate config;

fn main() {
    let s = config::Settings::default();
    println!("{} workers, config v{}", s.workers, config::VERSION);
}
