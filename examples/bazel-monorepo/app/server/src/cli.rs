/// `--workers N` overrides the default.
pub fn settings_from_args(mut args: impl Iterator<Item = String>) -> config::Settings {
    let mut s = config::Settings::default();
    while let Some(a) = args.next() {
        if a == "--workers" {
            if let Some(n) = args.next().and_then(|n| n.parse().ok()) {
                s.workers = n;
            }
        }
    }
    s
}
