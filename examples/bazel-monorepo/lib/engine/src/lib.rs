//! The job engine: schedules jobs by a stable hash of their names.
pub mod job;

pub use job::Job;

use describe_derive::Describe;

#[derive(Describe)]
pub struct Engine {
    pub settings: settings::Settings,
}

impl Engine {
    pub fn new(settings: settings::Settings) -> Self {
        Engine { settings }
    }

    /// Which worker runs @job.
    pub fn worker_for(&self, job: &Job) -> usize {
        let mut h = fnv::FnvHasher::default();
        std::hash::Hasher::write(&mut h, job.name.as_bytes());
        (std::hash::Hasher::finish(&h) % self.settings.workers as u64) as usize
    }

    #[cfg(fast_path)]
    pub fn mode(&self) -> &'static str {
        "fast"
    }
}

#[cfg(test)]
mod tests;
