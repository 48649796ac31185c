use super::*;

#[test]
fn same_job_same_worker() {
    let e = Engine::new(settings::Settings::default());
    let j = Job::new("build");
    assert_eq!(e.worker_for(&j), e.worker_for(&j.clone()));
    assert_eq!(Engine::describe(), "Engine");
}
