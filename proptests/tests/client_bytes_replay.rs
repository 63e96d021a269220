//! Replays the `h2_front` and `client_hello` fuzz corpora (`fuzz/corpus/h2_front/`,
//! `fuzz/corpus/client_hello/`), nghttp2's h2spec client streams from
//! `../shared/security/corpora` (when present), and random inputs through the fuzz targets'
//! check: a whole worker fed one client connection's bytes.

#[path = "../../fuzz/fuzz_targets/client_bytes_check.rs"]
mod client_bytes_check;

use client_bytes_check::{check, Front};

#[test]
fn client_bytes_random() {
    bolero::check!()
        .with_iterations(300)
        .for_each(|data: &[u8]| {
            check(data, Front::Raw);
            check(data, Front::H2);
            check(data, Front::Tls);
        });
}

fn replay_dir(dir: &std::path::Path, fronts: &[Front]) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("seed").path();
        if !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path).expect("read seed");
        for f in fronts {
            check(&data, *f);
        }
        n += 1;
    }
    n
}

/// Every saved seed of both targets is replayed.
#[test]
fn client_bytes_corpora_are_replayed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let n = replay_dir(&root.join("h2_front"), &[Front::H2, Front::Raw]);
    assert!(n >= 5, "only {n} h2_front seeds");
    let n = replay_dir(&root.join("client_hello"), &[Front::Tls]);
    assert!(n >= 5, "only {n} client_hello seeds");
}

/// nghttp2's h2spec client byte streams (../shared, read at test time, never copied).
#[test]
fn nghttp2_h2spec_streams() {
    let shared = std::env::var_os("TRAFFICCOP_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let dir = shared.join("security/corpora/nghttp2-fuzz-corpus/h2spec");
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED nghttp2_h2spec_streams: {} not found",
            dir.display()
        );
        return;
    }
    let n = replay_dir(&dir, &[Front::Raw, Front::H2]);
    assert!(n >= 100, "only {n} streams in {}", dir.display());
}
