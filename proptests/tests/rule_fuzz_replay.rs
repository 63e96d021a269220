//! Replays the rule-parser fuzz corpus (`fuzz/corpus/rule_parser/`, linked into bolero's
//! corpus directory `tests/__fuzz__/rule_fuzz_replay/corpus`) and a batch of random inputs
//! through the same check the cargo-fuzz target runs, under plain `cargo test` on stable.

#[path = "../../fuzz/fuzz_targets/rule_parser_check.rs"]
mod rule_parser_check;

#[test]
fn rule_fuzz_replay() {
    bolero::check!()
        .with_iterations(2000)
        .for_each(|data: &[u8]| rule_parser_check::check(data));
}

/// The corpus is really there and every seed is replayed (guards against a broken link, which
/// bolero would silently treat as an empty corpus).
#[test]
fn corpus_is_replayed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/__fuzz__/rule_fuzz_replay/corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        rule_parser_check::check(&std::fs::read(&path).expect("read seed"));
        n += 1;
    }
    assert!(n >= 30, "only {n} corpus files in {}", dir.display());
}
