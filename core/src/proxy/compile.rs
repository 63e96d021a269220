//! Compiling the static and dynamic configuration into what workers serve from: per entry
//! point, the router table of its plain-HTTP routers; per service, its servers and transport.
//! Routers whose configuration is broken (or uses a feature not built yet) are left out with an
//! error, as Traefik disables a broken router and keeps the others.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::dynamic::{DynamicConfiguration, ServersLoadBalancer};
use crate::config::static_config::{ListenAddress, StaticConfiguration};
use crate::config::validate::{qualify, validate_dynamic};
use crate::config::{ConfigError, Duration, Severity};
use crate::rule::ip::IpChecker;
use crate::rule::priority::{effective_priority, Protocol, ProviderPrecedence};
use crate::rule::{parse_http_rule, RouterTable, RuleSyntax};

use super::entry_routes::{entry_routes, EntryRoutes, Placed};
use super::lb::SplitMix;

/// What a router sends requests to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A user `loadBalancer` service (index into [`CompiledConfig::services`]).
    Service(usize),
    /// A user `weighted` service (index into [`CompiledConfig::weighted`]).
    Weighted(usize),
    /// `ping@internal`: `200 OK` (503 while shutting down).
    Ping,
    /// `noop@internal`: `418` with an empty body.
    Noop,
}

/// A router as served.
#[derive(Debug, Clone)]
pub struct CompiledRouter {
    /// Qualified name (`web@file`).
    pub name: String,
    /// Where its requests go.
    pub target: Target,
    /// Its middlewares, in order (chains flattened).
    pub middlewares: crate::middleware::Chain,
    /// `observability.accessLogs` when the router has an `observability` section (Traefik's
    /// default there: on); else its entry points decide.
    pub access_log: Option<bool>,
}

/// One backend server of a load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTarget {
    /// The URL as configured.
    pub url: String,
    /// Host to dial (shared with the pool keys of every request sent to it).
    pub host: std::sync::Arc<str>,
    /// Port to dial.
    pub port: u16,
    /// `host:port` as Go's URL.Host (the Host header when `passHostHeader` is false).
    pub authority: String,
    /// The URL's path, prefixed to request paths when `preservePath` is set.
    pub path: String,
    /// `preservePath`.
    pub preserve_path: bool,
    /// The weight (servers with weight <= 0 are never used).
    pub weight: i64,
    /// `https://`: the connection is TLS (the service's transport says how).
    pub tls: bool,
    /// `h2c://`: HTTP/2 with prior knowledge over plain TCP (requests that upgrade the
    /// connection still use HTTP/1.1, as Traefik).
    pub h2c: bool,
}

/// How a service talks to its servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportSettings {
    /// `forwardingTimeouts.dialTimeout`.
    pub dial_timeout: Duration,
    /// `forwardingTimeouts.responseHeaderTimeout` (0 = none).
    pub response_header_timeout: Duration,
    /// `forwardingTimeouts.idleConnTimeout`.
    pub idle_conn_timeout: Duration,
    /// Idle connections one worker keeps per server: its share of `maxIdleConnsPerHost` (0
    /// means Go's 2, negative none), see [`CompileInputs::workers`].
    pub max_idle_per_host: usize,
    /// TLS to `https://` servers (built only for services that have some).
    pub tls: Option<crate::tls::UpstreamTls>,
    /// The service's `responseForwarding.flushInterval` (negative: at once; 0: never by time).
    /// Here it bounds how long a head of known length waits for its body when `contentType`
    /// guesses its type, as Go's proxy writes such a head with what came before a flush.
    pub flush_interval: Duration,
}

/// A load-balanced service.
#[derive(Debug)]
pub struct CompiledService {
    /// Qualified name.
    pub name: String,
    /// Servers, shuffled once at build as Traefik does.
    pub servers: Vec<ServerTarget>,
    /// `passHostHeader`.
    pub pass_host_header: bool,
    /// Transport settings.
    pub transport: TransportSettings,
    /// The round-robin state, shared by every worker (one balancer per service, as Traefik).
    pub wrr: std::sync::Mutex<super::lb::Wrr>,
    /// `sticky.cookie`: servers by cookie.
    pub sticky: Option<super::sticky::Sticky>,
    /// `healthCheck`: the probes the daemon sends.
    pub health_check: Option<super::health::HealthCheck>,
    /// Which servers are up (all, without a health check), shared by every worker.
    pub status: super::health::ServerStatus,
    /// `passiveHealthCheck`.
    pub passive: Option<super::health::PassiveHealth>,
    /// `strategy`: how a server is chosen.
    pub balancing: Balancing,
}

/// How a `loadBalancer` service chooses among its servers (`strategy`).
#[derive(Debug)]
pub enum Balancing {
    /// `wrr`: the weighted round robin (`CompiledService::wrr`).
    Wrr,
    /// `p2c`: two servers drawn at random, the one with fewer requests in flight (weights
    /// play no part, as in Traefik).
    P2c {
        /// Requests in flight per server, for all workers.
        inflight: std::sync::Arc<Vec<std::sync::atomic::AtomicI64>>,
        /// The draws (Traefik seeds its own from the clock; here from the configuration).
        rng: std::sync::Mutex<SplitMix>,
    },
    /// `hrw`: rendezvous hashing of the client's address: the server whose weighted score
    /// (FNV-1a of the address and the server's URL) is highest.
    Hrw,
    /// `leasttime`: the server with the lowest average time to first byte (its last 100
    /// answers) times one plus its requests in flight, over its weight; ties by a weighted
    /// round robin among them.
    LeastTime {
        /// Requests in flight per server, for all workers.
        inflight: std::sync::Arc<Vec<std::sync::atomic::AtomicI64>>,
        /// Times to first byte and round-robin deadlines, for all workers.
        times: std::sync::Arc<std::sync::Mutex<LeastTimes>>,
    },
}

/// Samples of time to first byte kept per server (Traefik's `sampleSize`).
const LEAST_TIME_SAMPLES: usize = 100;

/// `leasttime`'s shared state: per server, the last samples (ms) and their sum, and the
/// round-robin deadline used between equal scores.
#[derive(Debug)]
pub struct LeastTimes {
    samples: Vec<Vec<f64>>,
    sums: Vec<f64>,
    next: Vec<usize>,
    deadlines: Vec<f64>,
    current: f64,
}

impl LeastTimes {
    /// Fresh state for servers of `weights` (servers of weight 0 or less are never picked).
    fn new(weights: &[i64]) -> Self {
        let mut current = 0.0;
        let deadlines = weights
            .iter()
            .map(|w| {
                if *w <= 0 {
                    return f64::MAX;
                }
                current += 1.0 / *w as f64;
                current
            })
            .collect();
        LeastTimes {
            samples: vec![Vec::new(); weights.len()],
            sums: vec![0.0; weights.len()],
            next: vec![0; weights.len()],
            deadlines,
            current,
        }
    }

    /// Records a time to first byte of `ms` for `server`.
    fn record(&mut self, server: usize, ms: f64) {
        let (Some(samples), Some(sum), Some(next)) = (
            self.samples.get_mut(server),
            self.sums.get_mut(server),
            self.next.get_mut(server),
        ) else {
            return;
        };
        if samples.len() < LEAST_TIME_SAMPLES {
            samples.push(ms);
            *sum += ms;
        } else {
            *sum += ms - samples[*next];
            samples[*next] = ms;
        }
        *next = (*next + 1) % LEAST_TIME_SAMPLES;
    }

    fn average(&self, server: usize) -> f64 {
        match self.samples[server].len() {
            0 => 0.0,
            n => self.sums[server] / n as f64,
        }
    }
}

/// The client's address as Go's `RemoteAddrStrategy` gives it (the `hrw` hash key).
pub fn client_key(client: Option<std::net::IpAddr>) -> String {
    client
        .map(|ip| String::from_utf8_lossy(&super::forward::ip_text(ip)).into_owned())
        .unwrap_or_default()
}

/// A request in flight to a server of a `p2c` or `leasttime` service: counted until it is
/// dropped; for `leasttime`, its time to first byte is recorded once.
pub struct InFlightServer {
    inflight: std::sync::Arc<Vec<std::sync::atomic::AtomicI64>>,
    server: usize,
    times: Option<(
        std::sync::Arc<std::sync::Mutex<LeastTimes>>,
        super::io::Timestamp,
    )>,
}

impl InFlightServer {
    /// The first byte of the answer came at `now` (`leasttime` keeps the time, in whole
    /// milliseconds as Go's `Duration.Milliseconds`).
    pub fn first_byte(&mut self, now: super::io::Timestamp) {
        if let Some((times, start)) = self.times.take() {
            let ms = (now.0.saturating_sub(start.0) / 1_000_000) as f64;
            if let Ok(mut t) = times.lock() {
                t.record(self.server, ms);
            }
        }
    }
}

impl Drop for InFlightServer {
    fn drop(&mut self) {
        if let Some(n) = self.inflight.get(self.server) {
            n.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl CompiledService {
    /// Counts a request in flight to `server` when the service balances by it (`p2c`).
    pub fn begin(&self, server: usize, now: super::io::Timestamp) -> Option<InFlightServer> {
        let (inflight, times) = match &self.balancing {
            Balancing::P2c { inflight, .. } => (inflight, None),
            Balancing::LeastTime { inflight, times } => (inflight, Some((times.clone(), now))),
            _ => return None,
        };
        inflight
            .get(server)?
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(InFlightServer {
            inflight: inflight.clone(),
            server,
            times,
        })
    }

    /// `leasttime`: the lowest average time to first byte times one plus the requests in
    /// flight, over the weight; equal scores share by a weighted round robin.
    fn least_time(
        &self,
        inflight: &[std::sync::atomic::AtomicI64],
        times: &std::sync::Mutex<LeastTimes>,
    ) -> Option<usize> {
        let healthy: Vec<usize> = (0..self.servers.len())
            .filter(|i| self.servers[*i].weight > 0 && self.status.is_up(*i))
            .collect();
        match healthy.len() {
            0 => return None,
            1 => return Some(healthy[0]),
            _ => {}
        }
        let mut t = times.lock().ok()?;
        let mut best = f64::MAX;
        let mut candidates = Vec::new();
        for &i in &healthy {
            let load = inflight[i].load(std::sync::atomic::Ordering::Relaxed) as f64;
            let score = t.average(i) * (1.0 + load) / self.servers[i].weight as f64;
            if score < best {
                best = score;
                candidates.clear();
                candidates.push(i);
            } else if score == best {
                candidates.push(i);
            }
        }
        if let [only] = candidates.as_slice() {
            return Some(*only);
        }
        let chosen = *candidates
            .iter()
            .min_by(|a, b| t.deadlines[**a].total_cmp(&t.deadlines[**b]))?;
        let deadline = t.deadlines[chosen] + 1.0 / self.servers[chosen].weight as f64;
        t.deadlines[chosen] = deadline;
        if deadline > t.current {
            t.current = deadline;
        }
        Some(chosen)
    }

    /// `p2c`: two different up servers drawn, the one with fewer requests in flight (the
    /// first on a tie).
    fn p2c(
        &self,
        inflight: &[std::sync::atomic::AtomicI64],
        rng: &std::sync::Mutex<SplitMix>,
    ) -> Option<usize> {
        // The up servers, counted and then drawn by rank: no list built per request.
        let up = || (0..self.servers.len()).filter(|i| self.status.is_up(*i));
        let n = up().count() as u64;
        if n <= 1 {
            return up().next();
        }
        let (a, b) = {
            let mut r = rng.lock().ok()?;
            (r.next_u64() % n, r.next_u64() % n)
        };
        let b = if a == b { (b + 1) % n } else { b };
        let (h1, h2) = (up().nth(a as usize)?, up().nth(b as usize)?);
        let load = |i: usize| inflight[i].load(std::sync::atomic::Ordering::Relaxed);
        Some(if load(h2) < load(h1) { h2 } else { h1 })
    }

    /// `hrw`: the up server of positive weight with the highest score for `client`.
    fn hrw(&self, client: Option<std::net::IpAddr>) -> Option<usize> {
        let key = client_key(client);
        let mut best = None;
        let mut best_score = 0.0;
        for (i, s) in self.servers.iter().enumerate() {
            if s.weight <= 0 || !self.status.is_up(i) {
                continue;
            }
            let score = super::lb::hrw_score(&key, &s.url, s.weight);
            if score > best_score {
                best = Some(i);
                best_score = score;
            }
        }
        best
    }

    /// The server (index into `servers`) a request with `headers` goes to: the one its sticky
    /// cookie names, else the next one; a `Set-Cookie` value for the client goes to `cookies`
    /// when its cookie must change. `None` when no server can take requests.
    pub fn pick(
        &self,
        headers: &crate::http::Headers,
        cookies: &mut Vec<bytes::Bytes>,
        now: super::io::Timestamp,
        client: Option<std::net::IpAddr>,
    ) -> Option<usize> {
        self.revive(now);
        let next = || match &self.balancing {
            Balancing::Wrr => self.next_server(),
            Balancing::P2c { inflight, rng } => self.p2c(inflight, rng),
            Balancing::Hrw => self.hrw(client),
            Balancing::LeastTime { inflight, times } => self.least_time(inflight, times),
        };
        // Traefik's hrw balancer has no sticky sessions.
        let sticky = self
            .sticky
            .as_ref()
            .filter(|_| !matches!(self.balancing, Balancing::Hrw));
        let Some(sticky) = sticky else {
            return next();
        };
        if let Some((i, rewrite)) = sticky
            .chosen(headers)
            .filter(|(i, _)| self.status.is_up(*i))
        {
            if rewrite {
                cookies.push(sticky.set_cookie(i));
            }
            return Some(i);
        }
        let i = next()?;
        cookies.push(sticky.set_cookie(i));
        Some(i)
    }

    /// Brings back the servers a passive health check marked down whose time down is over.
    fn revive(&self, now: super::io::Timestamp) {
        if let Some(p) = &self.passive {
            p.revive(&self.status, now.0);
        }
    }

    /// Records how a request to server `server` ended at `now` (a passive health check's
    /// input): `failed` when the backend gave no answer or one of status 500 or more.
    pub fn report(&self, server: usize, failed: bool, now: super::io::Timestamp) {
        if let Some(p) = &self.passive {
            p.report(&self.status, server, failed, now.0);
        }
    }

    /// The next server (index into `servers`), or `None` when no server can take requests.
    pub fn next_server(&self) -> Option<usize> {
        // One server of positive weight is always the choice: no need to take the lock, whose
        // cache line the workers would otherwise pass between them on every request.
        if let [only] = self.servers.as_slice() {
            if only.weight > 0 && self.status.is_up(0) {
                return Some(0);
            }
        }
        self.wrr
            .lock()
            .map_or(None, |mut w| w.next(|i| self.status.is_up(i)))
    }

    /// Whether some server can take requests (what a parent `weighted` service with a
    /// `healthCheck` is told).
    pub fn any_up(&self, now: super::io::Timestamp) -> bool {
        self.revive(now);
        self.servers
            .iter()
            .enumerate()
            .any(|(i, s)| s.weight > 0 && self.status.is_up(i))
    }
}

/// The forwarded-headers policy of an entry point.
#[derive(Debug, Clone)]
pub struct ForwardedPolicy {
    /// `forwardedHeaders.insecure`: trust everyone.
    pub insecure: bool,
    /// `forwardedHeaders.trustedIPs`.
    pub trusted: Option<IpChecker>,
    /// `forwardedHeaders.connection`: headers a trusted client may protect from `Connection`
    /// removal.
    pub connection: Vec<String>,
    /// `forwardedHeaders.notAppendXForwardedFor`.
    pub not_append_xff: bool,
}

/// What an entry point does with header names holding `_` (`http.underscoreHeadersStrategy`),
/// or (`true`) any name that aliases another (`http.aliasHeadersStrategy`, 3.7.15: a character
/// besides letters, digits and `-`, which CGI-style servers read as the name with `-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnderscoreHeaders {
    /// Pass them on (Traefik's default).
    Keep,
    /// Remove them from the request.
    Delete(bool),
    /// Answer 400.
    Reject(bool),
}

impl UnderscoreHeaders {
    /// Whether the strategy acts on a header called `name`.
    pub fn watches(alias: bool, name: &str) -> bool {
        if alias {
            name.bytes()
                .any(|b| !(b.is_ascii_alphanumeric() || b == b'-'))
        } else {
            name.contains('_')
        }
    }
}

/// An entry point as served.
#[derive(Debug, Clone)]
pub struct CompiledEntryPoint {
    /// Its name.
    pub name: std::sync::Arc<str>,
    /// Where it listens.
    pub address: ListenAddress,
    /// The plain-HTTP routers, in Traefik's order.
    pub table: RouterTable,
    /// For each router given to the table (its lookup result): the router index in
    /// [`CompiledConfig::routers`] and the middlewares its requests run here (this entry
    /// point's, then the router's), joined once at compile time.
    pub routes: Vec<(usize, crate::middleware::Chain)>,
    /// The TLS routers (served only on TLS connections), in Traefik's order.
    pub tls_table: RouterTable,
    /// For each TLS lookup result: the router index, its resolved TLS options name (a request
    /// whose handshake used other options is answered 421) and its middlewares here.
    pub tls_routes: Vec<(usize, Arc<str>, crate::middleware::Chain)>,
    /// The TLS options of a handshake, by server name.
    pub tls: crate::tls::EntryPointTls,
    /// HTTP/2 limits (`http2.maxConcurrentStreams`, `maxHeaderBytes`).
    pub h2: crate::h2::H2Settings,
    /// `proxyProtocol`: connections may start with a PROXY header.
    pub proxy_protocol: Option<super::proxy_protocol::ProxyProtocolPolicy>,
    /// Forwarded-headers policy.
    pub forwarded: ForwardedPolicy,
    /// `http.sanitizePath`.
    pub sanitize_path: bool,
    /// `http.encodeQuerySemicolons`.
    pub encode_query_semicolons: bool,
    /// `http.maxHeaderBytes`.
    pub max_header_bytes: usize,
    /// `transport.respondingTimeouts.readTimeout` (0 = none).
    pub read_timeout: Duration,
    /// `transport.respondingTimeouts.idleTimeout`.
    pub idle_timeout: Duration,
    /// `transport.respondingTimeouts.writeTimeout` (0 = none): a response must be written
    /// within it of its request head being read, or the connection closes.
    pub write_timeout: Duration,
    /// `transport.keepAliveMaxRequests` (0 = no limit): the response to the Nth request of a
    /// connection closes it.
    pub keep_alive_max_requests: u64,
    /// `transport.keepAliveMaxTime` (0 = no limit): a response on a connection older than this
    /// closes it.
    pub keep_alive_max_time: Duration,
    /// `transport.lifeCycle.graceTimeOut`.
    pub grace_timeout: Duration,
    /// `transport.lifeCycle.requestAcceptGraceTimeout`.
    pub request_accept_grace_timeout: Duration,
    /// `http.encodedCharacters`: the encodings (`%2F`, ...) whose presence in the raw path is
    /// refused with 400.
    pub denied_encodings: Vec<&'static str>,
    /// `http.underscoreHeadersStrategy`, decided once here (load refuses other values).
    pub underscore_headers: UnderscoreHeaders,
    /// The TCP routers on this entry point, when it has any.
    pub tcp: Option<Arc<super::tcp_router::TcpEntryRoutes>>,
    /// `observability.accessLogs` (default on).
    pub access_log: bool,
}

/// Everything a worker needs to serve one configuration generation.
#[derive(Debug)]
pub struct CompiledConfig {
    /// A number that changes with every configuration.
    pub generation: u64,
    /// TCP entry points, by name order.
    pub entry_points: Vec<CompiledEntryPoint>,
    /// UDP entry points, by name order.
    pub udp_entry_points: Vec<super::udp_service::CompiledUdpEntryPoint>,
    /// Routers.
    pub routers: Vec<CompiledRouter>,
    /// `loadBalancer` services.
    pub services: Vec<CompiledService>,
    /// `weighted` services.
    pub weighted: Vec<super::weighted::CompiledWeighted>,
    /// `ping.terminatingStatusCode`.
    pub ping_terminating_status: u16,
    /// Problems found (routers, services and middlewares left out).
    pub errors: Vec<ConfigError>,
    /// Every usable service by qualified name, for middlewares that name one (`errors`).
    pub service_targets: std::collections::HashMap<String, Target>,
    /// `accessLog` is configured.
    pub access_log: bool,
    /// `accessLog.addInternals`: requests routed to internal services are logged too.
    pub access_log_internals: bool,
    /// `accessLog.fields.headers` may log some request header: records carry them.
    pub access_log_headers: bool,
}

impl CompiledEntryPoint {
    /// Compiles one entry point's static settings around its router table, the indexes of
    /// its routes in `routers`, and each route's middlewares: `middlewares` (the entry
    /// point's `http.middlewares`), then the router's.
    fn new(
        name: &str,
        address: ListenAddress,
        ep: &crate::config::static_config::EntryPoint,
        routing: EntryRoutes,
        middlewares: &[std::sync::Arc<dyn crate::middleware::Middleware>],
        routers: &[CompiledRouter],
    ) -> Self {
        let chain =
            |r: usize| crate::middleware::Chain::joined(middlewares, &routers[r].middlewares);
        let fh = ep.forwarded_headers.clone().unwrap_or_default();
        let trusted = if fh.trusted_ips.is_empty() {
            None
        } else {
            IpChecker::parse(&fh.trusted_ips).ok()
        };
        let t = ep.transport.clone().unwrap_or_default();
        let rt = t.responding_timeouts.clone().unwrap_or_default();
        let lc = t.life_cycle.clone().unwrap_or_default();
        CompiledEntryPoint {
            name: name.into(),
            address,
            table: routing.table,
            routes: routing.routes.into_iter().map(|r| (r, chain(r))).collect(),
            tls_table: routing.tls_table,
            tls_routes: (routing.tls_routes.into_iter())
                .map(|(r, options)| (r, options, chain(r)))
                .collect(),
            tls: routing.tls,
            proxy_protocol: ep.proxy_protocol.as_ref().map(|p| {
                super::proxy_protocol::ProxyProtocolPolicy {
                    insecure: p.insecure,
                    trusted: IpChecker::parse(&p.trusted_ips).ok(),
                }
            }),
            h2: crate::h2::H2Settings {
                max_concurrent_streams: ep
                    .http2
                    .as_ref()
                    .map_or(250, |h| h.max_concurrent_streams.max(0) as u32),
                max_header_list_size: ep.http.max_header_bytes.clamp(0, u32::MAX as i64) as u32,
                header_table_size: ep
                    .http2
                    .as_ref()
                    .map_or(4096, |h| h.max_decoder_header_table_size.max(0) as u32),
            },
            forwarded: ForwardedPolicy {
                insecure: fh.insecure,
                trusted,
                connection: fh.connection,
                not_append_xff: fh.not_append_x_forwarded_for,
            },
            sanitize_path: ep.http.sanitize_path.unwrap_or(true),
            access_log: ep
                .observability
                .as_ref()
                .is_none_or(|o| o.access_logs != Some(false)),
            encode_query_semicolons: ep.http.encode_query_semicolons,
            max_header_bytes: ep.http.max_header_bytes.max(0) as usize,
            read_timeout: rt.read_timeout,
            idle_timeout: rt.idle_timeout,
            write_timeout: rt.write_timeout,
            keep_alive_max_requests: t.keep_alive_max_requests.max(0) as u64,
            keep_alive_max_time: t.keep_alive_max_time,
            grace_timeout: lc.grace_time_out,
            request_accept_grace_timeout: lc.request_accept_grace_timeout,
            denied_encodings: denied_encodings(ep),
            underscore_headers: match ep.http.header_names_strategy() {
                ("delete", alias) => UnderscoreHeaders::Delete(alias),
                ("reject", alias) => UnderscoreHeaders::Reject(alias),
                _ => UnderscoreHeaders::Keep,
            },
            tcp: None,
        }
    }
}

/// The encodings an entry point's `http.encodedCharacters` refuses (none when the section is
/// absent; each `allow*` flag defaults to true when it is present).
fn denied_encodings(ep: &crate::config::static_config::EntryPoint) -> Vec<&'static str> {
    let Some(e) = &ep.http.encoded_characters else {
        return Vec::new();
    };
    [
        (e.allow_encoded_slash, "%2F"),
        (e.allow_encoded_back_slash, "%5C"),
        (e.allow_encoded_null_character, "%00"),
        (e.allow_encoded_semicolon, "%3B"),
        (e.allow_encoded_percent, "%25"),
        (e.allow_encoded_question_mark, "%3F"),
        (e.allow_encoded_hash, "%23"),
    ]
    .into_iter()
    .filter(|(allowed, _)| !allowed)
    .map(|(_, enc)| enc)
    .collect()
}

impl CompiledConfig {
    /// Whether requests of `router` (`None`: those no router matched) on `ep` are logged:
    /// `accessLog` configured, the router's `observability.accessLogs`, else the entry
    /// point's, and requests to internal services (`ping@internal`, `noop@internal`) only with
    /// `addInternals` (Traefik's `shouldAccessLog`).
    pub fn logs_access(&self, ep: &CompiledEntryPoint, router: Option<&CompiledRouter>) -> bool {
        if !self.access_log {
            return false;
        }
        let Some(r) = router else {
            return ep.access_log;
        };
        if matches!(r.target, Target::Ping | Target::Noop) && !self.access_log_internals {
            return false;
        }
        r.access_log.unwrap_or(ep.access_log)
    }

    /// The entry point index for `name`.
    pub fn entry_point(&self, name: &str) -> Option<usize> {
        self.entry_points.iter().position(|e| &*e.name == name)
    }
}

/// The transport of a load balancer: its `serversTransport` (or the static default one), and
/// when `tls_id` is given (the service has `https://` servers) its TLS client configuration.
/// Returns the settings and warnings about what TrafficCop does not apply.
fn transport(
    st: &StaticConfiguration,
    dy: &DynamicConfiguration,
    lb: &ServersLoadBalancer,
    tls_id: Option<u32>,
    system_roots: RootsLoader,
) -> Result<(TransportSettings, Vec<String>), String> {
    let mut warnings = Vec::new();
    let name = qualify(&lb.servers_transport, "file");
    let (mut settings, tls) = if lb.servers_transport.is_empty() || name == "default@internal" {
        let Some(t) = &st.servers_transport else {
            let tls = crate::tls::client::TransportTls::default();
            return build_tls(settings(None, 0), &tls, tls_id, system_roots).map(|t| (t, warnings));
        };
        if t.spiffe.is_some() {
            return Err("serversTransport spiffe is not supported yet by TrafficCop".into());
        }
        let ft = t.forwarding_timeouts.as_ref().map(|f| {
            (
                f.dial_timeout,
                f.response_header_timeout,
                f.idle_conn_timeout,
            )
        });
        let tls = crate::tls::client::TransportTls {
            insecure_skip_verify: t.insecure_skip_verify,
            root_cas: &t.root_cas,
            ..Default::default()
        };
        return build_tls(
            settings(ft, t.max_idle_conns_per_host),
            &tls,
            tls_id,
            system_roots,
        )
        .map(|t| (t, warnings));
    } else {
        let local = name
            .strip_suffix("@file")
            .ok_or_else(|| format!("servers transport not found {name}"))?;
        let t = dy
            .http
            .as_ref()
            .and_then(|h| h.servers_transports.get(local))
            .ok_or_else(|| format!("servers transport not found {name}"))?;
        if t.spiffe.is_some() {
            return Err("serversTransport spiffe is not supported yet by TrafficCop".into());
        }
        // As Traefik's transport manager: TLS settings it refuses make the transport use the
        // default TLS configuration (everything else of the transport stays).
        let protocols = crate::tls::backend_protocols::backend_protocols(
            &t.cipher_suites,
            &t.min_version,
            &t.max_version,
        );
        let protocols = match protocols {
            Ok((p, w)) => {
                if tls_id.is_some() {
                    warnings.extend(w);
                }
                Some(p)
            }
            Err(e) => {
                warnings.push(format!(
                    "could not configure the TLS of servers transport {name}, the default TLS configuration is used: {e}"
                ));
                None
            }
        };
        let ft = t.forwarding_timeouts.as_ref().map(|f| {
            (
                f.dial_timeout,
                f.response_header_timeout,
                f.idle_conn_timeout,
            )
        });
        let tls = crate::tls::client::TransportTls {
            server_name: &t.server_name,
            insecure_skip_verify: t.insecure_skip_verify,
            root_cas: &t.root_cas,
            certificates: t
                .certificates
                .iter()
                .map(|c| (c.cert_file.as_str(), c.key_file.as_str()))
                .collect(),
            disable_http2: t.disable_http2,
            no_alpn: false,
            peer_cert_uri: &t.peer_cert_uri,
            protocols: protocols.clone().unwrap_or_default(),
        };
        let tls = match protocols {
            Some(_) => tls,
            None => crate::tls::client::TransportTls {
                disable_http2: t.disable_http2,
                ..Default::default()
            },
        };
        (settings(ft, t.max_idle_conns_per_host), tls)
    };
    settings = build_tls(settings, &tls, tls_id, system_roots)?;
    Ok((settings, warnings))
}

/// Adds the TLS client configuration when the service needs one.
fn build_tls(
    mut settings: TransportSettings,
    tls: &crate::tls::client::TransportTls<'_>,
    tls_id: Option<u32>,
    system_roots: RootsLoader,
) -> Result<TransportSettings, String> {
    if let Some(id) = tls_id {
        settings.tls = Some(crate::tls::client::client_config_from(
            tls,
            system_roots,
            id,
        )?);
    }
    Ok(settings)
}

/// Transport settings from `forwardingTimeouts` (dial, response header, idle) when the section
/// is present (else Go's transport defaults: dial 30 s, idle 90 s, no response-header limit)
/// and `maxIdleConnsPerHost`.
fn settings(ft: Option<(Duration, Duration, Duration)>, max_idle: i64) -> TransportSettings {
    let (dial, response_header, idle) = ft.unwrap_or((
        Duration::from_secs(30),
        Duration(0),
        Duration::from_secs(90),
    ));
    TransportSettings {
        dial_timeout: dial,
        response_header_timeout: response_header,
        idle_conn_timeout: idle,
        max_idle_per_host: idle_count(max_idle),
        tls: None,
        flush_interval: Duration::from_millis(100),
    }
}

/// One worker's share of a per-host idle-connection limit: each worker keeps its own pool,
/// and Traefik's limit is for the whole transport, so `limit` is split between `workers`
/// (rounded up: a worker with pooling allowed keeps at least one).
fn idle_share(limit: usize, workers: usize) -> usize {
    limit.div_ceil(workers.max(1))
}

fn idle_count(n: i64) -> usize {
    match n {
        0 => 2,
        n if n < 0 => 0,
        n => n as usize,
    }
}

/// Parses a server URL (`http://host:port/path`).
pub fn parse_server_url(url: &str) -> Result<ServerTarget, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("error parsing server URL {url:?}"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        "h2c" => 80,
        _ => return Err(format!("unsupported scheme in server URL {url:?}")),
    };
    let slash = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..slash];
    let path = rest[slash..].split('?').next().unwrap_or("").to_string();
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("error parsing server URL {url:?}"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("error parsing server URL {url:?}"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p
                .parse()
                .map_err(|_| format!("error parsing server URL {url:?}"))?,
            None => default_port,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse()
                    .map_err(|_| format!("error parsing server URL {url:?}"))?,
            ),
            None => (authority.to_string(), default_port),
        }
    };
    Ok(ServerTarget {
        url: url.to_string(),
        host: host.into(),
        port,
        authority: authority.to_string(),
        path,
        preserve_path: false,
        weight: 1,
        tls: scheme == "https",
        h2c: scheme == "h2c",
    })
}

/// Builds the served configuration from the static configuration and the file provider's
/// dynamic configuration. `generation` seeds the server shuffle. TLS handshakes that match no
/// certificate fail, since there is no generated default certificate: see [`compile_with`].
pub fn compile(
    st: &StaticConfiguration,
    dy: &DynamicConfiguration,
    generation: u64,
) -> Arc<CompiledConfig> {
    compile_with(st, dy, generation, None)
}

/// [`compile`] with the default certificate to serve when `tls.stores.default` sets none
/// (Traefik generates a self-signed one at every configuration change; the daemon does so, as
/// the core draws no randomness). Certificate and key strings in `dy` must be PEM contents
/// ([`crate::config::file_or_content`] resolves file paths).
pub fn compile_with(
    st: &StaticConfiguration,
    dy: &DynamicConfiguration,
    generation: u64,
    generated_cert: Option<Arc<rustls::sign::CertifiedKey>>,
) -> Arc<CompiledConfig> {
    let inputs = CompileInputs {
        generated_cert,
        ..CompileInputs::default()
    };
    compile_serving(st, dy, generation, &inputs)
}

/// Gives the system's trusted roots. Called only when a transport verifies `https://`
/// backends with them (no `rootCAs`, no `insecureSkipVerify`): the bundle is ~0.6 MB in memory,
/// which a configuration without such backends does not carry.
pub type RootsLoader = fn() -> Arc<Vec<rustls::pki_types::CertificateDer<'static>>>;

/// What compiling needs from outside the core (which does no IO and draws no randomness).
#[derive(Debug, Clone)]
pub struct CompileInputs {
    /// The default certificate when `tls.stores.default` sets none.
    pub generated_cert: Option<Arc<rustls::sign::CertifiedKey>>,
    /// The system's trusted roots, for `https://` backends of transports without `rootCAs`.
    pub system_roots: RootsLoader,
    /// How many workers serve the configuration. Each keeps its own pool of idle backend
    /// connections, so a transport's `maxIdleConnsPerHost` (a limit for the whole transport
    /// in Traefik) is split between them.
    pub workers: usize,
    /// Reads the files middlewares name (`basicAuth.usersFile`).
    pub read_file: crate::middleware::FileReader,
}

impl Default for CompileInputs {
    /// No generated certificate, no system roots, one worker, no files.
    fn default() -> Self {
        CompileInputs {
            generated_cert: None,
            system_roots: Arc::default,
            workers: 1,
            read_file: crate::middleware::no_files,
        }
    }
}

/// [`compile`] with everything from outside: see [`CompileInputs`].
pub fn compile_serving(
    st: &StaticConfiguration,
    dy: &DynamicConfiguration,
    generation: u64,
    inputs: &CompileInputs,
) -> Arc<CompiledConfig> {
    let generated_cert = inputs.generated_cert.clone();
    let mut next_tls_id: u32 = 0;
    let mut warnings_out: Vec<(String, String)> = Vec::new();
    let mut errors: Vec<ConfigError> = validate_dynamic(dy, st, "file", &Default::default())
        .into_iter()
        .filter(|e| e.severity == Severity::ObjectError)
        .collect();
    let broken: std::collections::BTreeSet<String> =
        errors.iter().map(|e| e.path.clone()).collect();
    let mut tls_problems = Vec::new();
    let tls_setup = crate::tls::TlsSetup::build(dy.tls.as_ref(), generated_cert, &mut tls_problems);
    for (path, message, fatal) in tls_problems {
        errors.push(ConfigError {
            file: None,
            pos: None,
            path,
            message,
            severity: if fatal {
                Severity::ObjectError
            } else {
                Severity::Warning
            },
        });
    }
    let mut object_error = |path: String, message: String| {
        errors.push(ConfigError {
            file: None,
            pos: None,
            path,
            message,
            severity: Severity::ObjectError,
        });
    };
    let http = dy.http.clone().unwrap_or_default();
    let mut rng = SplitMix(generation ^ 0x7472_6166_6669_6300);

    // Services.
    let mut services = Vec::new();
    let mut service_index = BTreeMap::new();
    for (name, svc) in &http.services {
        let path = format!("http.services.{name}");
        if broken.contains(&path) {
            continue;
        }
        let Some(lb) = &svc.load_balancer else {
            if svc.weighted.is_none()
                && svc.failover.is_none()
                && svc.highest_random_weight.is_none()
            {
                object_error(
                    path,
                    "mirroring services are not supported yet by TrafficCop".into(),
                );
            }
            continue;
        };
        let balancing = match lb.strategy.as_str() {
            "wrr" | "" => Balancing::Wrr,
            "p2c" => Balancing::P2c {
                inflight: std::sync::Arc::new(
                    lb.servers
                        .iter()
                        .map(|_| std::sync::atomic::AtomicI64::new(0))
                        .collect(),
                ),
                rng: std::sync::Mutex::new(SplitMix(rng.next_u64())),
            },
            "hrw" => Balancing::Hrw,
            "leasttime" => Balancing::LeastTime {
                inflight: std::sync::Arc::new(
                    lb.servers
                        .iter()
                        .map(|_| std::sync::atomic::AtomicI64::new(0))
                        .collect(),
                ),
                times: std::sync::Arc::new(std::sync::Mutex::new(LeastTimes::new(&[]))),
            },
            other => {
                object_error(
                    path,
                    format!("unsupported load-balancer strategy {other:?}"),
                );
                continue;
            }
        };
        let mut servers = Vec::new();
        let mut bad = None;
        for s in &lb.servers {
            match parse_server_url(&s.url) {
                Ok(mut t) => {
                    t.preserve_path = s.preserve_path;
                    t.weight = s.weight.unwrap_or(1);
                    servers.push(t);
                }
                Err(e) => bad = Some(e),
            }
        }
        if let Some(e) = bad {
            object_error(path, e);
            continue;
        }
        let tls_id = servers.iter().any(|s| s.tls).then(|| {
            next_tls_id += 1;
            next_tls_id
        });
        let transport = match transport(st, dy, lb, tls_id, inputs.system_roots) {
            Ok((mut t, warnings)) => {
                for w in warnings {
                    warnings_out.push((format!("{path}.serversTransport"), w));
                }
                t.max_idle_per_host = idle_share(t.max_idle_per_host, inputs.workers);
                t
            }
            Err(e) => {
                object_error(path, e);
                continue;
            }
        };
        rng.shuffle(&mut servers);
        let health_check = match &lb.health_check {
            Some(h) => match super::health::HealthCheck::new(h, &servers) {
                Ok(h) => Some(h),
                Err(e) => {
                    object_error(path, e);
                    continue;
                }
            },
            None => None,
        };
        service_index.insert(format!("{name}@file"), services.len());
        let weights: Vec<i64> = servers.iter().map(|s| s.weight).collect();
        // `leasttime` keeps its round-robin deadlines in the servers' shuffled order.
        let balancing = match balancing {
            Balancing::LeastTime { inflight, .. } => Balancing::LeastTime {
                inflight,
                times: std::sync::Arc::new(std::sync::Mutex::new(LeastTimes::new(&weights))),
            },
            other => other,
        };
        // Servers of weight 0 or less are never picked, nor named by a cookie.
        let sticky = lb.sticky.as_ref().and_then(|s| s.cookie.as_ref()).map(|c| {
            let names: Vec<&str> = servers
                .iter()
                .map(|s| if s.weight > 0 { s.url.as_str() } else { "" })
                .collect();
            super::sticky::Sticky::new(c, &format!("{name}@file"), &names)
        });
        services.push(CompiledService {
            sticky,
            health_check,
            status: super::health::ServerStatus::all_up(servers.len()),
            passive: lb.passive_health_check.as_ref().map(|p| {
                super::health::PassiveHealth::new(p, servers.len(), lb.health_check.is_some())
            }),
            name: format!("{name}@file"),
            servers,
            pass_host_header: lb.pass_host_header.unwrap_or(true),
            transport: TransportSettings {
                flush_interval: lb
                    .response_forwarding
                    .as_ref()
                    .map_or(Duration::from_millis(100), |f| f.flush_interval),
                ..transport
            },
            wrr: std::sync::Mutex::new(super::lb::Wrr::new(&weights)),
            balancing,
        });
    }

    let (weighted, weighted_index) = super::weighted::build_weighted(
        &http,
        &service_index,
        &services,
        &broken,
        &mut rng,
        &mut object_error,
    );

    // Services by name, for the middlewares that send requests of their own (`errors`).
    let mut service_targets: std::collections::HashMap<String, Target> = service_index
        .iter()
        .map(|(n, i)| (n.clone(), Target::Service(*i)))
        .chain(
            weighted_index
                .iter()
                .map(|(n, i)| (n.clone(), Target::Weighted(*i))),
        )
        .collect();
    service_targets.insert("noop@internal".into(), Target::Noop);

    // Routers.
    let default_syntax = st
        .core
        .as_ref()
        .map_or("v3", |c| c.default_rule_syntax.as_str())
        .to_string();
    let default_eps = st.default_entry_points();
    let precedence = ProviderPrecedence::new(
        st.providers
            .as_ref()
            .map(|p| p.precedence.clone())
            .unwrap_or_default(),
    );
    let mut routers = Vec::new();
    let mut placed: Vec<Placed> = Vec::new();
    for (name, r) in &http.routers {
        let path = format!("http.routers.{name}");
        if broken.contains(&path) {
            continue;
        }
        let middlewares = match crate::middleware::build_chain_with(
            &r.middlewares,
            &http,
            "file",
            inputs.read_file,
            inputs.system_roots,
        ) {
            Ok(m) => m,
            Err(e) => {
                object_error(path, e);
                continue;
            }
        };
        // A page service that exists but could not be built leaves its middleware unusable.
        if let Some(s) = middlewares
            .iter()
            .filter_map(|m| m.page_service())
            .find(|s| !service_targets.contains_key(*s))
        {
            object_error(
                path,
                format!("the service \"{s}\" does not exist or is not usable"),
            );
            continue;
        }
        let syntax = RuleSyntax::from_router_option(if r.rule_syntax.is_empty() {
            &default_syntax
        } else {
            &r.rule_syntax
        });
        let rule = match parse_http_rule(&r.rule, syntax) {
            Ok(rule) => rule,
            Err(e) => {
                object_error(path, format!("error while parsing rule {}: {e}", r.rule));
                continue;
            }
        };
        let q = qualify(&r.service, "file");
        let target = match q.as_str() {
            "ping@internal" if st.ping.is_some() => Target::Ping,
            "noop@internal" => Target::Noop,
            _ => match (service_index.get(&q), weighted_index.get(&q)) {
                (Some(i), _) => Target::Service(*i),
                (None, Some(i)) => Target::Weighted(*i),
                (None, None) => {
                    object_error(
                        path,
                        format!("the service \"{q}\" does not exist or is not usable"),
                    );
                    continue;
                }
            },
        };
        // The service's own middlewares (3.7) run after the router's, before balancing.
        let mut middlewares = middlewares;
        if let Some(svc) = q
            .strip_suffix("@file")
            .and_then(|bare| http.services.get(bare))
            .filter(|svc| !svc.middlewares.is_empty())
        {
            match crate::middleware::build_chain_with(
                &svc.middlewares,
                &http,
                "file",
                inputs.read_file,
                inputs.system_roots,
            ) {
                Ok(more) => middlewares.extend(more),
                Err(e) => {
                    object_error(path, e);
                    continue;
                }
            }
        }
        let eps = if r.entry_points.is_empty() {
            default_eps.clone()
        } else {
            r.entry_points.clone()
        };
        let priority = effective_priority(r.priority, &r.rule, Protocol::Http);
        routers.push(CompiledRouter {
            name: format!("{name}@file"),
            target,
            middlewares: crate::middleware::Chain::new(middlewares),
            access_log: r
                .observability
                .as_ref()
                .map(|o| o.access_logs.unwrap_or(true)),
        });
        placed.push(Placed {
            idx: routers.len() - 1,
            name: format!("{name}@file"),
            path,
            eps,
            rule_text: r.rule.clone(),
            rule,
            priority,
            tls: r.tls.clone(),
            internal: false,
        });
    }
    // Internal ping router.
    if let Some(ping) = &st.ping {
        if !ping.manual_routing {
            let ep = if ping.entry_point.is_empty() {
                "traefik".to_string()
            } else {
                ping.entry_point.clone()
            };
            let rule = parse_http_rule("PathPrefix(`/ping`)", RuleSyntax::V3).expect("static rule");
            routers.push(CompiledRouter {
                name: "ping@internal".into(),
                target: Target::Ping,
                middlewares: crate::middleware::Chain::new(Vec::new()),
                access_log: None,
            });
            placed.push(Placed {
                idx: routers.len() - 1,
                name: "ping@internal".into(),
                path: "ping".into(),
                eps: vec![ep],
                rule_text: "PathPrefix(`/ping`)".into(),
                rule,
                priority: i64::MAX,
                tls: None,
                internal: true,
            });
        }
    }
    // Entry point redirections (`http.redirections.entryPoint`).
    for (path, message) in super::redirections::place(st, &mut routers, &mut placed) {
        object_error(path, message);
    }

    // TCP routers, built per entry point below.
    let tcp_conf = dy.tcp.clone().unwrap_or_default();
    let tcp_inputs = super::tcp_router::TcpInputs {
        tcp: &tcp_conf,
        broken: &broken,
        default_eps: &default_eps,
        default_syntax: &default_syntax,
        precedence: &precedence,
        tls: &tls_setup,
    };
    let mut tcp_services = super::tcp_service::TcpServices {
        default: super::tcp_service::default_transport(st.tcp_servers_transport.as_ref()),
        services: &tcp_conf.services,
        transports: &tcp_conf.servers_transports,
        rng: &mut rng,
        system_roots: inputs.system_roots,
        built: BTreeMap::new(),
        next_tls_id: 1 << 24,
        building: Default::default(),
        errors: Vec::new(),
    };

    // Entry points.
    let mut entry_points = Vec::new();
    let mut ep_problems = Vec::new();
    for (name, ep) in &st.entry_points {
        let Ok(address) = ep.parsed_address() else {
            continue;
        };
        if address.protocol != crate::config::static_config::Protocol::Tcp {
            continue;
        }
        let ep_middlewares = match crate::middleware::build_chain_with(
            &ep.http.middlewares,
            &http,
            "file",
            inputs.read_file,
            inputs.system_roots,
        ) {
            Ok(m) => m,
            Err(e) => {
                object_error(
                    format!("entryPoints.{name}.http.middlewares"),
                    format!("{e}: the routers of this entry point are disabled"),
                );
                // An entry point that serves no router: every request gets 404.
                entry_points.push(CompiledEntryPoint::new(
                    name,
                    address,
                    ep,
                    EntryRoutes::empty(&tls_setup),
                    &[],
                    &routers,
                ));
                continue;
            }
        };
        let routing = entry_routes(name, ep, &placed, &precedence, &tls_setup, &mut ep_problems);
        if ep.http3.is_some() {
            ep_problems.push((
                format!("entryPoints.{name}.http3"),
                "not supported yet by TrafficCop: ignored".into(),
                Severity::Warning,
            ));
        }
        let mut compiled =
            CompiledEntryPoint::new(name, address, ep, routing, &ep_middlewares, &routers);
        compiled.tcp = super::tcp_router::compile_entry_point(name, &tcp_inputs, &mut tcp_services)
            .map(Arc::new);
        entry_points.push(compiled);
    }
    let mut problems = std::mem::take(&mut tcp_services.errors);
    drop(tcp_services);
    let udp_entry_points =
        super::udp_service::compile_udp(st, dy.udp.as_ref(), &broken, &mut rng, &mut problems);
    let transport_warnings = warnings_out
        .into_iter()
        .map(|(path, message)| (path, message, Severity::Warning));
    for (path, message, severity) in ep_problems
        .into_iter()
        .chain(transport_warnings)
        .chain(problems)
    {
        let e = ConfigError {
            file: None,
            pos: None,
            path,
            message,
            severity,
        };
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    Arc::new(CompiledConfig {
        generation,
        entry_points,
        udp_entry_points,
        routers,
        services,
        weighted,
        ping_terminating_status: st
            .ping
            .as_ref()
            .map_or(503, |p| p.terminating_status_code as u16),
        errors,
        service_targets,
        access_log: st.access_log.is_some(),
        access_log_internals: st.access_log.as_ref().is_some_and(|a| a.add_internals),
        access_log_headers: st
            .access_log
            .as_ref()
            .is_some_and(super::access_log::logs_headers),
    })
}
