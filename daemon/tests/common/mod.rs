//! Helpers shared by the black-box tests that run the `trafficcop` binary (and its peers) as
//! child processes on 127.0.0.1.
#![allow(dead_code)] // each test crate uses its own subset

pub mod tls;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    // Never the same port twice in one test process: tests run in parallel threads, and the
    // kernel may hand a just-released port out again before the proxy binds it.
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A child process killed and reaped when dropped, so a failing test leaves none behind.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until 127.0.0.1:`port` accepts connections; fails the test after 10 s.
pub fn wait_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "port {port} never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the `trafficcop` binary under test on `config` (a static configuration file), with
/// its output discarded.
pub fn spawn_trafficcop(config: &std::path::Path) -> Kill {
    // Its log goes beside the configuration (`<config>.stderr`), to read when a test fails.
    let log = std::fs::File::create(config.with_extension("stderr"))
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null());
    let child = Command::new(env!("CARGO_BIN_EXE_trafficcop"))
        .arg(format!("--configFile={}", config.display()))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Kill(child)
}

/// Reads one message head (through the blank line); `None` at end of stream.
pub fn read_head(r: &mut impl std::io::BufRead) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            return Some(head);
        }
    }
}

/// A backend on 127.0.0.1 that answers every request `200` with the request head as its body
/// (one request per connection). Returns its port.
pub fn echo_backend() -> u16 {
    use std::io::{BufReader, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let Some(head) = read_head(&mut r) else {
                    return;
                };
                let mut w = s;
                let _ = write!(
                    w,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                    head.len()
                );
            });
        }
    });
    port
}
