//! `server`: submits the jobs named on the command line and prints a report.

mod cli;

fn main() {
    let args = cli::Args::parse(std::env::args().skip(1));
    let mut engine = engine::Engine::new();
    println!("{}", engine.banner());
    println!("workers: {}", engine.config.workers);
    for name in &args.jobs {
        engine.submit(name);
    }
    for line in engine.report() {
        println!("{line}");
    }
}
