//! Tests for //lib/engine, built as a libtest harness (`--test`).

use engine::Engine;

#[test]
fn greeting_comes_from_rustenv() {
    assert_eq!(config::GREETING, "hello");
    assert_eq!(Engine::new().config.greeting, "Hello");
}

#[test]
fn fast_feature_is_enabled() {
    assert_eq!(config::Config::load().workers, 8);
}

#[test]
fn derive_macro_generates_methods() {
    let e = Engine::new();
    assert_eq!(e.describe(), "Engine");
    assert_eq!(Engine::FIELD_COUNT, 2);
    assert_eq!(engine::Job::FIELD_COUNT, 4);
}

#[test]
fn report_includes_extra_summary() {
    let mut e = Engine::new();
    e.submit("build");
    e.submit("test");
    let report = e.report();
    assert_eq!(report.len(), 3);
    assert!(report[0].starts_with("#0 build (weight 0"));
    assert!(report[2].starts_with("extra: 2 jobs, weight 1"));
}

#[test]
fn generated_tables_are_included() {
    assert_eq!(tables::SQUARES[3], 9);
    assert_eq!(tables::lookup(1, 4), Some(("beta", 16)));
    assert_eq!(tables::lookup(9, 0), None);
    assert_eq!(tables::distance(2, 7), 5);
}

#[test]
fn stable_ids_round_trip() {
    let mut e = Engine::new();
    let id = e.submit("deploy").stable_id.clone();
    // `util` is the crate :engine imports as `utils2`.
    assert_eq!(util::parse_id(&id), Some(util::parse_id(&util::stable_id("deploy")).unwrap()));
    assert_eq!(id, util::stable_id("deploy"));
}
