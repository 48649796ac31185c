use describe_derive::Describe;

#[derive(Debug, Clone, PartialEq, Describe)]
pub struct Job {
    pub id: usize,
    pub name: String,
    pub weight: u32,
    pub stable_id: String,
}

impl Job {
    pub fn new(id: usize, name: &str) -> Job {
        let weight = tables::SQUARES[id % tables::SQUARES.len()];
        Job { id, name: name.to_string(), weight, stable_id: utils2::stable_id(name) }
    }
}

impl utils2::Render for Job {
    fn render(&self) -> String {
        format!("#{} {} (weight {}, id {})", self.id, self.name, self.weight, self.stable_id)
    }
}
