//! Active health checks of `loadBalancer` servers (Traefik `pkg/healthcheck`), without IO: the
//! probes each service sends (built from its `healthCheck` section), how an answer is judged,
//! and when probes are due. The daemon sends the probes and reports; the servers' up flags
//! live in the compiled service, shared by every worker, and balancing skips servers that are
//! down.
//!
//! As in Traefik: servers start up; healthy servers are probed every `interval` and
//! unhealthy ones every `unhealthyInterval` (default: `interval`), each on its own ticker
//! started with the configuration, so the first probe comes one interval after it is served;
//! a probe is healthy when its status is 200 to 399 (or exactly `status` when set), after
//! following redirects unless `followRedirects: false`, within `timeout`.

use std::sync::atomic::{AtomicBool, Ordering};

use super::compile::ServerTarget;
use crate::config::dynamic::ServerHealthCheck;
use crate::config::Duration;

/// A service's health check as served.
#[derive(Debug)]
pub struct HealthCheck {
    /// Between probes of a healthy server.
    pub interval: Duration,
    /// Between probes of an unhealthy server.
    pub unhealthy_interval: Duration,
    /// For a whole probe (redirects included).
    pub timeout: Duration,
    /// `status` (0: any of 200 to 399).
    pub status: u16,
    /// `followRedirects`.
    pub follow_redirects: bool,
    /// `method` (Go's default `GET`).
    pub method: String,
    /// `hostname`: the probe's `Host` instead of the URL's.
    pub hostname: String,
    /// `headers`, set on every probe.
    pub headers: Vec<(String, String)>,
    /// One probe per server of positive weight.
    pub probes: Vec<Probe>,
}

/// Where one server is probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The server (index into the service's servers and up flags).
    pub server: usize,
    /// The probe's URL: the server's URL with `path` resolved against it, `scheme` and
    /// `port` replaced.
    pub url: ProbeUrl,
}

/// A parsed `http://` or `https://` URL a probe goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeUrl {
    /// `https`.
    pub tls: bool,
    /// Host name or address (without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// `host[:port]` as written in the URL (the `Host` header).
    pub authority: String,
    /// Path and query (`/` when empty).
    pub target: String,
}

impl ProbeUrl {
    /// Parses `http://…` or `https://…`; other schemes are refused.
    pub fn parse(url: &str) -> Result<ProbeUrl, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("parse {url:?}: missing scheme"))?;
        let (tls, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (false, 80),
            "https" => (true, 443),
            other => return Err(format!("unsupported protocol scheme {other:?}")),
        };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let rest = &rest[end..];
        let rest = rest.split('#').next().unwrap_or("");
        let target = if rest.starts_with('?') || rest.is_empty() {
            format!("/{rest}")
        } else {
            rest.to_string()
        };
        let (host, port) = split_authority(authority, default_port)
            .ok_or_else(|| format!("parse {url:?}: invalid host or port"))?;
        Ok(ProbeUrl {
            tls,
            host,
            port,
            authority: authority.to_string(),
            target,
        })
    }

    /// The URL as text.
    pub fn text(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.target)
    }

    /// `location` (a redirect's) resolved against this URL.
    pub fn join(&self, location: &str) -> Result<ProbeUrl, String> {
        if location.contains("://") {
            return ProbeUrl::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            let scheme = if self.tls { "https" } else { "http" };
            return ProbeUrl::parse(&format!("{scheme}://{rest}"));
        }
        let mut next = self.clone();
        next.target = resolve_path(&self.target, location);
        Ok(next)
    }
}

/// `host[:port]` (IPv6 in brackets) into host and port.
fn split_authority(authority: &str, default_port: u16) -> Option<(String, u16)> {
    if authority.is_empty() {
        return None;
    }
    if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((h.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((authority.to_string(), default_port)),
    }
}

/// RFC 3986 reference resolution of `reference` (a path, maybe with a query) against the
/// path-and-query `base`, as Go's `URL.Parse` on the server URL does.
fn resolve_path(base: &str, reference: &str) -> String {
    let base_path = base.split('?').next().unwrap_or("/");
    if reference.is_empty() {
        return base.to_string();
    }
    if let Some(query) = reference.strip_prefix('?') {
        return format!("{base_path}?{query}");
    }
    let (path, query) = match reference.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (reference, None),
    };
    let merged = if path.starts_with('/') {
        path.to_string()
    } else {
        let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{dir}{path}")
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = merged.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let mut p = out.join("/");
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    match query {
        Some(q) => format!("{p}?{q}"),
        None => p,
    }
}

impl HealthCheck {
    /// Builds the health check of a service whose servers are `servers`; errors are
    /// Traefik's (or say what is not built).
    pub fn new(cfg: &ServerHealthCheck, servers: &[ServerTarget]) -> Result<HealthCheck, String> {
        if cfg.mode.eq_ignore_ascii_case("grpc") {
            return Err(
                "gRPC health checks (mode: grpc) are not supported yet by TrafficCop".into(),
            );
        }
        if cfg.path.contains("://") || cfg.path.starts_with("//") {
            return Err(format!(
                "health check path must be a relative URL, got: {:?}",
                cfg.path
            ));
        }
        // Non-positive durations fall back to the defaults, as Traefik logs and does.
        let positive = |d: Duration, default: Duration| if d.0 > 0 { d } else { default };
        let interval = positive(cfg.interval, Duration::from_secs(30));
        let unhealthy_interval = match cfg.unhealthy_interval {
            None => interval,
            Some(d) => positive(d, Duration::from_secs(30)),
        };
        let mut probes = Vec::new();
        for (i, s) in servers.iter().enumerate().filter(|(_, s)| s.weight > 0) {
            // The server's URL as compile parsed it (an `h2c://` server is probed over http).
            let base = ProbeUrl {
                tls: s.tls,
                host: s.host.to_string(),
                port: s.port,
                authority: s.authority.clone(),
                target: if s.path.is_empty() {
                    "/".into()
                } else {
                    s.path.clone()
                },
            };
            let mut url = base.join(&cfg.path)?;
            match cfg.scheme.to_ascii_lowercase().as_str() {
                "" => {}
                "http" => url.tls = false,
                "https" => url.tls = true,
                other => return Err(format!("unsupported protocol scheme {other:?}")),
            }
            if cfg.port != 0 {
                let port = u16::try_from(cfg.port)
                    .map_err(|_| format!("invalid health check port {}", cfg.port))?;
                url.port = port;
                url.authority = if url.host.contains(':') {
                    format!("[{}]:{port}", url.host)
                } else {
                    format!("{}:{port}", url.host)
                };
            }
            probes.push(Probe { server: i, url });
        }
        Ok(HealthCheck {
            interval,
            unhealthy_interval,
            timeout: positive(cfg.timeout, Duration::from_secs(5)),
            status: u16::try_from(cfg.status).unwrap_or(0),
            follow_redirects: cfg.follow_redirects.unwrap_or(true),
            method: if cfg.method.is_empty() {
                "GET".into()
            } else {
                cfg.method.clone()
            },
            hostname: cfg.hostname.clone(),
            headers: cfg
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            probes,
        })
    }

    /// The HTTP/1.1 request a probe of `url` sends with `method`, as Go's client writes it.
    pub fn request(&self, url: &ProbeUrl, method: &str) -> Vec<u8> {
        let host = if self.hostname.is_empty() {
            url.authority.as_str()
        } else {
            self.hostname.as_str()
        };
        let mut out = format!("{method} {} HTTP/1.1\r\nHost: {host}\r\n", url.target);
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        if !has("User-Agent") {
            out.push_str("User-Agent: Go-http-client/1.1\r\n");
        }
        let mut headers: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (crate::http::canonical_name(k), v.as_str()))
            .collect();
        headers.sort();
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }

    /// Whether a final answer with `status` means healthy.
    pub fn healthy(&self, status: u16) -> bool {
        if self.status == 0 {
            (200..400).contains(&status)
        } else {
            status == self.status
        }
    }
}

/// Whether a probe answered `status` must follow its `Location` (Go's client follows 301,
/// 302, 303, 307 and 308), and with which method: 301 to 303 turn anything but `HEAD` into
/// `GET`.
fn redirect_method(status: u16, method: &str) -> Option<String> {
    match status {
        301..=303 if method != "HEAD" => Some("GET".into()),
        301..=303 | 307 | 308 => Some(method.to_string()),
        _ => None,
    }
}

/// One probe in progress, as Go's client runs it: the request to send next, and what its
/// answer means (follow a redirect, or healthy, or the error Traefik logs). The daemon only
/// does the IO.
#[derive(Debug)]
pub struct ProbeRun<'a> {
    hc: &'a HealthCheck,
    url: ProbeUrl,
    method: String,
    redirects: u8,
}

impl<'a> ProbeRun<'a> {
    /// A probe of `url` with the health check's method.
    pub fn new(hc: &'a HealthCheck, url: &ProbeUrl) -> Self {
        ProbeRun {
            hc,
            url: url.clone(),
            method: hc.method.clone(),
            redirects: 0,
        }
    }

    /// Where the next request goes.
    pub fn url(&self) -> &ProbeUrl {
        &self.url
    }

    /// The next request's bytes.
    pub fn request(&self) -> Vec<u8> {
        self.hc.request(&self.url, &self.method)
    }

    /// Takes the final answer's status and `Location`: `None` when a redirect is to be
    /// followed (send [`ProbeRun::request`] to [`ProbeRun::url`] again), else the verdict.
    pub fn answer(&mut self, status: u16, location: Option<&str>) -> Option<Result<(), String>> {
        if self.hc.follow_redirects {
            if let (Some(next), Some(location)) = (redirect_method(status, &self.method), location)
            {
                if self.redirects == 10 {
                    return Some(Err("stopped after 10 redirects".into()));
                }
                self.redirects += 1;
                return match self.url.join(location) {
                    Ok(url) => {
                        self.url = url;
                        self.method = next;
                        None
                    }
                    Err(e) => Some(Err(e)),
                };
            }
        }
        Some(if self.hc.healthy(status) {
            Ok(())
        } else if self.hc.status == 0 {
            Err(format!("received error status code: {status}"))
        } else {
            Err(format!(
                "received error status code: {status} expected status code: {}",
                self.hc.status
            ))
        })
    }
}

/// Reads a probe's answer from `input` as Go's client does: interim 1xx heads (but a 101) are
/// dropped, then the final head's status and `Location`. `Ok(None)`: more bytes are needed.
pub fn read_answer(input: &mut Vec<u8>) -> Result<Option<(u16, Option<String>)>, String> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(input) {
            Ok(httparse::Status::Complete(n)) => {
                let status = response.code.unwrap_or(0);
                if (100..200).contains(&status) && status != 101 {
                    input.drain(..n);
                    continue;
                }
                let location = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("Location"))
                    .map(|h| String::from_utf8_lossy(h.value).into_owned());
                return Ok(Some((status, location)));
            }
            Ok(httparse::Status::Partial) if input.len() <= 64 * 1024 => return Ok(None),
            _ => return Err("malformed HTTP response".into()),
        }
    }
}

/// The up flags of a service's servers, shared by the workers and the prober.
#[derive(Debug)]
pub struct ServerStatus(Vec<AtomicBool>);

impl ServerStatus {
    /// `n` servers, all up.
    pub fn all_up(n: usize) -> Self {
        ServerStatus((0..n).map(|_| AtomicBool::new(true)).collect())
    }

    /// Whether server `i` is up.
    pub fn is_up(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(|b| b.load(Ordering::Relaxed))
    }

    /// Marks server `i` up or down; returns whether that changed it.
    pub fn set(&self, i: usize, up: bool) -> bool {
        self.0
            .get(i)
            .is_some_and(|b| b.swap(up, Ordering::Relaxed) != up)
    }
}

/// `passiveHealthCheck` (Traefik 3.6): a server whose answers fail (status 500 or more, or
/// no answer at all) `maxFailedAttempts` times within `failureWindow` is marked down; a good
/// answer forgets its failures. Without an active health check it comes back up
/// `failureWindow` after it went down; with one, the active checks bring it back.
#[derive(Debug)]
pub struct PassiveHealth {
    max_failed: usize,
    window: Duration,
    /// Whether an active health check brings servers back.
    active: bool,
    /// Failure times per server, oldest first.
    failures: std::sync::Mutex<Vec<std::collections::VecDeque<u64>>>,
    /// When each server marked down by this comes back (0: not down by this).
    back_at: Vec<std::sync::atomic::AtomicU64>,
}

impl PassiveHealth {
    /// Builds the passive check of `servers` servers.
    pub fn new(
        cfg: &crate::config::dynamic::PassiveServerHealthCheck,
        servers: usize,
        active: bool,
    ) -> Self {
        PassiveHealth {
            max_failed: usize::try_from(cfg.max_failed_attempts.max(1)).unwrap_or(1),
            window: cfg.failure_window,
            active,
            failures: std::sync::Mutex::new(vec![Default::default(); servers]),
            back_at: (0..servers)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
        }
    }

    /// Records the outcome of a request to server `i` at `now` (in nanoseconds), marking it
    /// down in `status` when its failures reach the limit.
    pub fn report(&self, status: &ServerStatus, i: usize, failed: bool, now: u64) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let Some(list) = failures.get_mut(i) else {
            return;
        };
        if !failed {
            list.clear();
            return;
        }
        list.push_back(now);
        let window_start = now.saturating_sub(self.window.0.max(0) as u64);
        while list.front().is_some_and(|t| *t <= window_start) {
            list.pop_front();
        }
        if list.len() < self.max_failed || self.back_at[i].load(Ordering::Relaxed) != 0 {
            return;
        }
        status.set(i, false);
        if !self.active {
            let back = now.saturating_add(self.window.0.max(0) as u64).max(1);
            self.back_at[i].store(back, Ordering::Relaxed);
        }
    }

    /// Brings back up, at `now`, the servers whose time down is over.
    pub fn revive(&self, status: &ServerStatus, now: u64) {
        for (i, back) in self.back_at.iter().enumerate() {
            let at = back.load(Ordering::Relaxed);
            if at != 0
                && at <= now
                && back
                    .compare_exchange(at, 0, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                status.set(i, true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::compile::parse_server_url;

    fn hc(yaml: &str, urls: &[&str]) -> Result<HealthCheck, String> {
        let doc = format!(
            "http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{{url: 'http://a'}}]\n        healthCheck: {yaml}\n"
        );
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        let lb = http.services["s"].load_balancer.clone().unwrap();
        let servers: Vec<ServerTarget> =
            urls.iter().map(|u| parse_server_url(u).unwrap()).collect();
        HealthCheck::new(lb.health_check.as_ref().unwrap(), &servers)
    }

    #[test]
    fn probe_urls_as_traefik_builds_them() {
        let h = hc(
            "{path: /health?x=1}",
            &["http://10.0.0.1:8080/base/", "https://b.example"],
        )
        .unwrap();
        assert_eq!(h.probes[0].url.text(), "http://10.0.0.1:8080/health?x=1");
        assert_eq!(h.probes[1].url.text(), "https://b.example/health?x=1");
        assert_eq!((h.probes[1].url.port, h.probes[1].url.tls), (443, true));
        let h = hc(
            "{path: health, scheme: https, port: 9443}",
            &["http://[::1]:80/api/v1"],
        )
        .unwrap();
        assert_eq!(h.probes[0].url.text(), "https://[::1]:9443/api/health");
        assert_eq!(h.probes[0].url.host, "::1");
        let h = hc("{path: ''}", &["http://a:1/x/y"]).unwrap();
        assert_eq!(h.probes[0].url.target, "/x/y");
        let h = hc("{path: ../../up}", &["http://a:1/x/y/z"]).unwrap();
        assert_eq!(h.probes[0].url.target, "/up");
        assert!(hc("{path: 'http://other/health'}", &["http://a"]).is_err());
        assert!(hc("{mode: grpc}", &["http://a"]).is_err());
    }

    #[test]
    fn defaults_requests_and_judgement() {
        let h = hc("{path: /h}", &["http://a:1"]).unwrap();
        assert_eq!(h.interval, Duration::from_secs(30));
        assert_eq!(h.unhealthy_interval, Duration::from_secs(30));
        assert_eq!(h.timeout, Duration::from_secs(5));
        assert!(h.follow_redirects);
        assert_eq!(
            String::from_utf8(h.request(&h.probes[0].url, &h.method)).unwrap(),
            "GET /h HTTP/1.1\r\nHost: a:1\r\nUser-Agent: Go-http-client/1.1\r\nConnection: close\r\n\r\n"
        );
        assert!(h.healthy(200) && h.healthy(399) && !h.healthy(400) && !h.healthy(199));
        let h = hc(
            "{path: /h, status: 204, interval: 2s, unhealthyInterval: 1s, timeout: -1s, method: HEAD, hostname: h.example, headers: {x-one: '1'}}",
            &["http://a:1"],
        )
        .unwrap();
        assert!(h.healthy(204) && !h.healthy(200));
        assert_eq!(
            (h.interval, h.unhealthy_interval, h.timeout),
            (
                Duration::from_secs(2),
                Duration::from_secs(1),
                Duration::from_secs(5)
            )
        );
        assert_eq!(
            String::from_utf8(h.request(&h.probes[0].url, &h.method)).unwrap(),
            "HEAD /h HTTP/1.1\r\nHost: h.example\r\nUser-Agent: Go-http-client/1.1\r\nX-One: 1\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn passive_checks_mark_down_and_bring_back() {
        let doc = "http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: 'http://a'}]\n        passiveHealthCheck: {maxFailedAttempts: 2, failureWindow: 10s}\n";
        let l = crate::config::dynamic::load_dynamic(doc, crate::config::Format::Yaml, None);
        let http = l.config.http.unwrap();
        let cfg = http.services["s"]
            .load_balancer
            .clone()
            .unwrap()
            .passive_health_check
            .unwrap();
        let s = ServerStatus::all_up(2);
        let p = PassiveHealth::new(&cfg, 2, false);
        let sec = 1_000_000_000u64;
        // Two failures more than the window apart: still up; a success forgets them.
        p.report(&s, 0, true, sec);
        p.report(&s, 0, true, 12 * sec);
        assert!(s.is_up(0));
        p.report(&s, 0, false, 13 * sec);
        p.report(&s, 0, true, 14 * sec);
        assert!(s.is_up(0));
        p.report(&s, 0, true, 15 * sec);
        assert!(!s.is_up(0) && s.is_up(1));
        p.revive(&s, 24 * sec);
        assert!(!s.is_up(0));
        p.revive(&s, 25 * sec);
        assert!(s.is_up(0));
        // With an active check, only it brings a server back.
        let p = PassiveHealth::new(&cfg, 2, true);
        p.report(&s, 1, true, sec);
        p.report(&s, 1, true, sec);
        p.revive(&s, 100 * sec);
        assert!(!s.is_up(1));
    }

    #[test]
    fn a_probe_follows_redirects_and_judges_the_last_answer() {
        let h = hc("{path: /h, method: POST}", &["http://a:1/x"]).unwrap();
        let mut run = ProbeRun::new(&h, &h.probes[0].url);
        assert!(run.request().starts_with(b"POST /h HTTP/1.1\r\n"));
        assert_eq!(run.answer(302, Some("/ok")), None);
        assert_eq!(run.url().text(), "http://a:1/ok");
        assert!(run.request().starts_with(b"GET /ok HTTP/1.1\r\n"));
        // A redirect without `Location` is the final answer: 302 is within 200 to 399.
        assert_eq!(run.answer(302, None), Some(Ok(())));
        let mut run = ProbeRun::new(&h, &h.probes[0].url);
        for _ in 0..10 {
            assert_eq!(run.answer(307, Some("/again")), None);
        }
        assert_eq!(
            run.answer(307, Some("/again")),
            Some(Err("stopped after 10 redirects".into()))
        );
        let h = hc(
            "{path: /h, followRedirects: false, status: 302}",
            &["http://a:1"],
        )
        .unwrap();
        let mut run = ProbeRun::new(&h, &h.probes[0].url);
        assert_eq!(run.answer(302, Some("/ok")), Some(Ok(())));
        assert_eq!(
            ProbeRun::new(&h, &h.probes[0].url).answer(200, None),
            Some(Err(
                "received error status code: 200 expected status code: 302".into()
            ))
        );
    }

    #[test]
    fn answers_are_read_past_interim_heads() {
        let mut input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 30".to_vec();
        assert_eq!(read_answer(&mut input), Ok(None));
        input.extend_from_slice(b"1 Moved\r\nlocation: /x\r\n\r\nbody");
        assert_eq!(read_answer(&mut input), Ok(Some((301, Some("/x".into())))));
        assert!(read_answer(&mut b"garbage\r\n\r\n".to_vec()).is_err());
    }

    #[test]
    fn redirects_and_status_flags() {
        assert_eq!(redirect_method(302, "POST").as_deref(), Some("GET"));
        assert_eq!(redirect_method(302, "HEAD").as_deref(), Some("HEAD"));
        assert_eq!(redirect_method(307, "POST").as_deref(), Some("POST"));
        assert_eq!(redirect_method(304, "GET"), None);
        let u = ProbeUrl::parse("http://a:1/x/y").unwrap();
        assert_eq!(u.join("/z").unwrap().text(), "http://a:1/z");
        assert_eq!(u.join("z").unwrap().text(), "http://a:1/x/z");
        assert_eq!(u.join("https://b/c").unwrap().text(), "https://b/c");
        assert_eq!(u.join("//c:2/d").unwrap().text(), "http://c:2/d");
        let s = ServerStatus::all_up(2);
        assert!(s.is_up(1) && !s.is_up(2));
        assert!(s.set(1, false) && !s.set(1, false) && !s.is_up(1));
    }
}
