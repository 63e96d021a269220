//! Replays the `worker_ops` fuzz corpus (`fuzz/corpus/worker_ops/`) and random scripts through
//! the fuzz target's check: a whole worker driven over several client and backend connections
//! (HTTP/1.1 and `h2c://` backends) by an arbitrary script of operations.

#[path = "../../fuzz/fuzz_targets/worker_ops_check.rs"]
mod worker_ops_check;

#[test]
fn worker_ops_random() {
    bolero::check!()
        .with_iterations(2000)
        .for_each(|data: &[u8]| worker_ops_check::check(data));
}

/// Hand-written scripts that reach the interesting paths: a request proxied to an HTTP/1.1
/// backend and answered; a request to the `h2c://` backend answered with a server preface and
/// garbage; clients vanishing mid-exchange; time passing.
#[test]
fn worker_ops_scripts() {
    let mut h1 = vec![0, 0, 1, 40];
    h1.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: 1234\r\n\r\n");
    h1.extend_from_slice(&[5, 0, 2, 38]);
    h1.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    h1.extend_from_slice(&[9, 0, 10, 200, 3, 0]);
    worker_ops_check::check(&h1);
    let mut h2 = vec![0, 0, 1, 40];
    h2.extend_from_slice(b"GET /g HTTP/1.1\r\nHost: a\r\nX-Pad: 1234\r\n\r\n");
    h2.extend_from_slice(&[5, 0, 2, 9]);
    h2.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // an empty SETTINGS frame
    h2.extend_from_slice(&[2, 5, b'g', b'a', b'r', b'b', b'!', 10, 100, 4, 0, 10, 250]);
    worker_ops_check::check(&h2);
}

#[test]
fn worker_ops_corpus_is_replayed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/worker_ops");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("seed").path();
        if path.is_file() {
            worker_ops_check::check(&std::fs::read(&path).expect("read seed"));
            n += 1;
        }
    }
    assert!(n >= 2, "only {n} worker_ops seeds");
}
