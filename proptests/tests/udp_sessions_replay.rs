//! Replays the `udp_sessions` fuzz corpus (`fuzz/corpus/udp_sessions/`) and random scripts
//! through the fuzz target's check: the worker's UDP sessions driven by arbitrary scripts.

#[path = "../../fuzz/fuzz_targets/udp_sessions_check.rs"]
mod udp_sessions_check;

#[test]
fn udp_sessions_random() {
    bolero::check!()
        .with_iterations(3000)
        .for_each(|data: &[u8]| udp_sessions_check::check(data));
}

#[test]
fn udp_sessions_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/udp_sessions");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no corpus at {}", dir.display());
        return;
    };
    let mut n = 0;
    for e in entries.flatten() {
        if let Ok(data) = std::fs::read(e.path()) {
            udp_sessions_check::check(&data);
            n += 1;
        }
    }
    eprintln!("udp_sessions corpus: {n} scripts replayed");
}
