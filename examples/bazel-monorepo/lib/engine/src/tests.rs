use super::*;

#[test]
fn same_job_same_worker() {
    let e = Engine::new(settings::Settings::default());
    let j = Job::new("build");
    assert_eq!(e.worker_for(&j), e.worker_for(&j.clone()));
}

#[test]
fn describes_itself() {
    assert_eq!(Engine::describe(), "Engine");
}
