//! Replays the configuration-loader fuzz corpus (`fuzz/corpus/config_loader/`, linked into
//! bolero's corpus directory) and random inputs through the fuzz target's check under plain
//! `cargo test`.

#[path = "../../fuzz/fuzz_targets/config_loader_check.rs"]
mod config_loader_check;

#[test]
fn config_fuzz_replay() {
    bolero::check!()
        .with_iterations(500)
        .for_each(|data: &[u8]| config_loader_check::check(data));
}

/// Every saved seed is replayed (a broken corpus link would otherwise look like an empty
/// corpus).
#[test]
fn config_corpus_is_replayed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/__fuzz__/config_fuzz_replay/corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        config_loader_check::check(&std::fs::read(entry.expect("seed").path()).expect("read seed"));
        n += 1;
    }
    assert!(n >= 5, "only {n} corpus files in {}", dir.display());
}
