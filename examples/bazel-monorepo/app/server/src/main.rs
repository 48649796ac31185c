mod cli;

fn main() {
    let settings = cli::settings_from_args(std::env::args().skip(1));
    if settings.workers == 0 {
        eprintln!("server: --workers must be at least 1");
        std::process::exit(2);
    }
    let engine = engine::Engine::new(settings);
    let job = engine::Job::new("hello");
    println!(
        "{} v{} ({}): job '{}' -> worker {}",
        engine::Engine::describe(),
        config::VERSION,
        engine.mode(),
        job.name,
        engine.worker_for(&job)
    );
}
