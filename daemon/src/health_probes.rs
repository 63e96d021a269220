//! The health-check prober: the IO side of `core::proxy::health`. One thread per service with
//! a `healthCheck`, for as long as its configuration is served (a reload starts new threads;
//! the old ones stop once no worker holds the old configuration). Probes are sent one after
//! the other on each tick, as Traefik does: healthy servers every `interval`, unhealthy ones
//! every `unhealthyInterval`, both counted from when the configuration was compiled.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use trafficcop_core::proxy::compile::{CompiledConfig, CompiledService};
use trafficcop_core::proxy::health::{read_answer, HealthCheck, ProbeRun, ProbeUrl};
use trafficcop_core::tls::UpstreamTls;

use crate::log;

/// Starts the probers of every service of `config` with a health check.
pub fn start(config: &Arc<CompiledConfig>) {
    for (index, service) in config.services.iter().enumerate() {
        if service.health_check.is_none() {
            continue;
        }
        let weak = Arc::downgrade(config);
        let name = format!("trafficcop-health-{index}");
        if let Err(e) = std::thread::Builder::new()
            .name(name)
            .spawn(move || run(weak, index))
        {
            log::error(&format!(
                "cannot start the health checks of {}: {e}",
                service.name
            ));
        }
    }
}

fn std_duration(d: trafficcop_core::config::Duration) -> Duration {
    Duration::from_nanos(d.0.max(0) as u64)
}

/// One service's prober.
fn run(config: Weak<CompiledConfig>, index: usize) {
    let (interval, unhealthy_interval) = match config.upgrade() {
        Some(c) => match &c.services[index].health_check {
            Some(h) => (std_duration(h.interval), std_duration(h.unhealthy_interval)),
            None => return,
        },
        None => return,
    };
    let launch = Instant::now();
    let (mut next_healthy, mut next_unhealthy) = (launch + interval, launch + unhealthy_interval);
    loop {
        let wake = next_healthy.min(next_unhealthy);
        // Sleep in short steps, so that a replaced configuration's prober ends soon.
        loop {
            let now = Instant::now();
            if now >= wake {
                break;
            }
            if config.strong_count() == 0 {
                return;
            }
            std::thread::sleep((wake - now).min(Duration::from_millis(500)));
        }
        let Some(c) = config.upgrade() else {
            return;
        };
        let service = &c.services[index];
        let now = Instant::now();
        // Which servers each tick probes is decided at the tick, from their status then.
        if now >= next_healthy {
            probe_all(service, true);
            while next_healthy <= now {
                next_healthy += interval;
            }
        }
        if now >= next_unhealthy {
            probe_all(service, false);
            while next_unhealthy <= now {
                next_unhealthy += unhealthy_interval;
            }
        }
    }
}

/// Probes the servers of `service` that are up (`healthy`) or down, one after the other.
fn probe_all(service: &CompiledService, healthy: bool) {
    let Some(hc) = &service.health_check else {
        return;
    };
    let due: Vec<_> = hc
        .probes
        .iter()
        .filter(|p| service.status.is_up(p.server) == healthy)
        .collect();
    for p in due {
        let result = probe(hc, &p.url, service.transport.tls.as_ref());
        let up = result.is_ok();
        if let Err(e) = &result {
            log::warn(&format!(
                "Health check failed. service={} targetURL={}: {e}",
                service.name, service.servers[p.server].url
            ));
        }
        if service.status.set(p.server, up) {
            log::info(&format!(
                "service {} server {} is {}",
                service.name,
                service.servers[p.server].url,
                if up { "UP" } else { "DOWN" }
            ));
        }
    }
}

/// Sends one probe (following redirects when the health check says so) within its timeout.
fn probe(hc: &HealthCheck, url: &ProbeUrl, tls: Option<&UpstreamTls>) -> Result<(), String> {
    let deadline = Instant::now() + std_duration(hc.timeout);
    let mut run = ProbeRun::new(hc, url);
    loop {
        let (status, location) = exchange(run.url(), &run.request(), tls, deadline)?;
        if let Some(verdict) = run.answer(status, location.as_deref()) {
            return verdict;
        }
    }
}

/// One request and the status and `Location` of its answer.
fn exchange(
    url: &ProbeUrl,
    request: &[u8],
    tls: Option<&UpstreamTls>,
    deadline: Instant,
) -> Result<(u16, Option<String>), String> {
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "context deadline exceeded".to_string())
    };
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("dial tcp {}: {e}", url.authority))?
        .next()
        .ok_or_else(|| format!("dial tcp {}: no address", url.authority))?;
    let tcp =
        TcpStream::connect_timeout(&addr, left()?).map_err(|e| format!("dial tcp {addr}: {e}"))?;
    tcp.set_read_timeout(Some(left()?)).ok();
    tcp.set_write_timeout(Some(left()?)).ok();
    if url.tls {
        let tls =
            tls.ok_or("https probe without a TLS configuration in the service's transport")?;
        let name = tls.server_name.as_deref().unwrap_or(&url.host).to_string();
        let name = rustls::pki_types::ServerName::try_from(name).map_err(|e| e.to_string())?;
        let conn = rustls::ClientConnection::new(Arc::clone(&tls.config_h1), name)
            .map_err(|e| e.to_string())?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        stream.write_all(request).map_err(|e| e.to_string())?;
        final_head(&mut stream)
    } else {
        let mut tcp = tcp;
        tcp.write_all(request).map_err(|e| e.to_string())?;
        final_head(&mut tcp)
    }
}

/// Reads until the final answer's head (see `health::read_answer`).
fn final_head(stream: &mut impl Read) -> Result<(u16, Option<String>), String> {
    let mut input = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(answer) = read_answer(&mut input)? {
            return Ok(answer);
        }
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("EOF".into());
        }
        input.extend_from_slice(&buf[..n]);
    }
}
