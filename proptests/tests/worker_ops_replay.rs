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

/// A minimal TLS 1.2 ClientHello naming `sni`.
fn client_hello(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut sni_ext = vec![0, 0];
    let list_len = name.len() + 3;
    sni_ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    sni_ext.extend_from_slice(&(list_len as u16).to_be_bytes());
    sni_ext.push(0);
    sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni_ext.extend_from_slice(name);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.push(0); // no session id
    body.extend_from_slice(&[0, 2, 0xc0, 0x2f]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(sni_ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&sni_ext);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 3, 1];
    record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    record.extend_from_slice(&hs);
    record
}

/// Scripts for the TCP routers' entry point: a connection routed without TLS, then by a
/// ClientHello (passthrough and termination) sent in two pieces, half-closes, dial failures
/// and the termination delay running out.
#[test]
fn worker_ops_tcp_scripts() {
    for sni in ["pass.example", "term.example", "other.example"] {
        let hello = client_hello(sni);
        let (a, b) = hello.split_at(20);
        let mut script = vec![0, 1, 1, a.len() as u8];
        script.extend_from_slice(a);
        script.extend_from_slice(&[1, b.len() as u8]);
        script.extend_from_slice(b);
        // Connected, server bytes, client EOF, server EOF, time.
        script.extend_from_slice(&[
            5, 0, 2, 5, b'h', b'e', b'l', b'l', b'o', 3, 0, 9, 0, 7, 0, 10, 3,
        ]);
        worker_ops_check::check(&script);
    }
    // Plain bytes to the catch-all, a refused dial, then another with its delay running out.
    let mut plain = vec![
        0, 1, 1, 4, b'P', b'I', b'N', b'G', 6, 1, 0, 1, 1, 2, b'h', b'i', 5, 0,
    ];
    plain.extend_from_slice(&[3, 0, 11, 200, 10, 2]);
    worker_ops_check::check(&plain);
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
