#[test]
fn engine_describes_itself() {
    assert_eq!(engine::Engine::describe(), "Engine");
}
