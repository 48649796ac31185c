//! The engine (edition 2021). `util` is only reachable as `utils2` here.

pub mod job;

pub use job::Job;

use describe_derive::Describe;

#[derive(Debug, Describe)]
pub struct Engine {
    pub config: config::Config,
    pub jobs: Vec<Job>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine { config: config::Config::load(), jobs: Vec::new() }
    }

    pub fn submit(&mut self, name: &str) -> &Job {
        let id = self.jobs.len();
        self.jobs.push(Job::new(id, name));
        &self.jobs[id]
    }

    /// One line per job, rendered through the renamed dependency.
    pub fn report(&self) -> Vec<String> {
        let items: Vec<Box<dyn utils2::Render>> =
            self.jobs.iter().cloned().map(|j| Box::new(j) as Box<dyn utils2::Render>).collect();
        let mut lines = utils2::render_all(&items);
        lines.push(extra_summary(self));
        lines
    }

    pub fn banner(&self) -> String {
        format!("{}, {} ({} fields)", self.config.greeting, self.describe(), Engine::FIELD_COUNT)
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// Only defined with `--cfg feature="extra"` (two-token form in BUILD.gn);
/// `report` calls it unconditionally.
#[cfg(feature="extra")]
fn extra_summary(engine: &Engine) -> String {
    let total: u64 = engine.jobs.iter().map(|j| j.weight as u64).sum();
    let checksum = utils2::block_on(utils2::checksum(total.to_le_bytes().to_vec()));
    format!("extra: {} jobs, weight {}, checksum {}", engine.jobs.len(), total, checksum)
}
