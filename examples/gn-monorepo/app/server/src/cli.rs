pub struct Args {
    pub jobs: Vec<String>,
}

impl Args {
    pub fn parse(args: impl Iterator<Item = String>) -> Args {
        let mut jobs: Vec<String> = args.collect();
        if jobs.is_empty() {
            jobs = vec!["build".into(), "test".into(), "deploy".into()];
        }
        Args { jobs }
    }
}
