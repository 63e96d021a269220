//! Replays the HTTP/1 parser fuzz corpus (`fuzz/corpus/h1_parser/`) and random inputs through
//! the fuzz target's check under plain `cargo test`.

#[path = "../../fuzz/fuzz_targets/h1_parser_check.rs"]
mod h1_parser_check;

#[test]
fn h1_fuzz_replay() {
    bolero::check!()
        .with_iterations(2000)
        .for_each(|data: &[u8]| h1_parser_check::check(data));
}

/// Every saved seed is replayed.
#[test]
fn h1_corpus_is_replayed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/__fuzz__/h1_fuzz_replay/corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        h1_parser_check::check(&std::fs::read(entry.expect("seed").path()).expect("read seed"));
        n += 1;
    }
    assert!(n >= 5, "only {n} corpus files in {}", dir.display());
}
