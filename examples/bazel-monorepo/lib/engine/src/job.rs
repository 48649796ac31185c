/// One unit of work.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub name: String,
}

impl Job {
    pub fn new(name: &str) -> Self {
        Job { name: name.to_string() }
    }
}
