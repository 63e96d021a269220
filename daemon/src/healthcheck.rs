//! `trafficcop healthcheck`: asks the ping endpoint like `traefik healthcheck` (HEAD
//! `http://<ping entry point address>/ping`, 5 s timeout) and exits 0 on 200, 1 otherwise.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use trafficcop_core::config::static_config::StaticConfiguration;

/// Runs the health check against `config`; returns the process exit code.
pub fn run(config: &StaticConfiguration) -> i32 {
    let Some(ping) = &config.ping else {
        eprintln!("please enable `ping` to use health check");
        return 1;
    };
    let ep_name = if ping.entry_point.is_empty() {
        "traefik"
    } else {
        &ping.entry_point
    };
    let Some(ep) = config.entry_points.get(ep_name) else {
        eprintln!("ping: missing {ep_name} entry point");
        return 1;
    };
    let addr = ep.address.split('/').next().unwrap_or_default();
    let url = format!("http://{addr}/ping");
    let dial = if addr.starts_with(':') {
        format!("127.0.0.1{addr}")
    } else {
        addr.to_string()
    };
    match head(&dial, addr) {
        Ok(200) => {
            println!("OK: {url}");
            0
        }
        Ok(status) => {
            println!("Bad healthcheck status: {status}");
            1
        }
        Err(e) => {
            println!("Error calling healthcheck: {e}");
            1
        }
    }
}

fn head(dial: &str, host: &str) -> std::io::Result<u16> {
    let timeout = Duration::from_secs(5);
    let sock = dial
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut s = TcpStream::connect_timeout(&sock, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let request = format!(
        "HEAD /ping HTTP/1.1\r\nHost: {host}\r\nUser-Agent: trafficcop-healthcheck\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes())?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf)?;
    let line = String::from_utf8_lossy(&buf[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("malformed HTTP response"))
}
