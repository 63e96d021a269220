//! The access log (Traefik's `accessLog`): the workers' access records, dated, filtered
//! (`filters`), reduced to the kept fields (`fields`) and written in the `common`, `genericCLF`
//! or `json` format, one line per request, to `filePath` (created with its directories,
//! appended to) or standard output. A thread of its own writes: the workers only queue
//! records, and a line is written as soon as the writer is free (lines that come together are
//! flushed together).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use trafficcop_core::config::static_config::AccessLog as AccessLogConfig;
use trafficcop_core::proxy::{AccessRecord, AccessSink, Timestamp};

/// The line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `common`: Traefik's extended CLF.
    Common,
    /// `genericCLF`: CLF without Traefik's trailing fields.
    GenericClf,
    /// `json`: one object per line, the kept fields.
    Json,
}

/// Which records are written (`accessLog.filters`; none set: all).
#[derive(Debug, Clone, Default)]
struct Filters {
    codes: Vec<(i64, i64)>,
    retries: bool,
    min_duration: u64,
}

/// Which fields are kept (`accessLog.fields`).
#[derive(Debug, Clone)]
struct Fields {
    keep_by_default: bool,
    /// Field names, lower-cased, to keep or drop.
    names: BTreeMap<String, bool>,
    /// `keep`, `drop` or `redact` for headers without a rule of their own.
    headers_default: HeaderMode,
    /// Rules by canonical header name.
    headers: BTreeMap<String, HeaderMode>,
    keep_query: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderMode {
    Keep,
    Drop,
    Redact,
}

fn mode_of(value: &str, default: HeaderMode) -> HeaderMode {
    match value {
        "keep" => HeaderMode::Keep,
        "drop" => HeaderMode::Drop,
        "redact" => HeaderMode::Redact,
        _ => default,
    }
}

fn keep_of(value: &str, default: bool) -> bool {
    match value {
        "keep" => true,
        "drop" => false,
        _ => default,
    }
}

impl Fields {
    fn of(cfg: &AccessLogConfig) -> Fields {
        let f = cfg.fields.clone().unwrap_or_default();
        let keep_by_default = keep_of(&f.default_mode, true);
        let h = f.headers.clone().unwrap_or_default();
        let headers_default = mode_of(&h.default_mode, HeaderMode::Keep);
        Fields {
            keep_by_default,
            names: f
                .names
                .iter()
                .map(|(k, v)| (k.to_lowercase(), keep_of(v, keep_by_default)))
                .collect(),
            headers_default,
            headers: h
                .names
                .iter()
                .map(|(k, v)| {
                    (
                        trafficcop_core::http::headers::canonical_name(k),
                        mode_of(v, headers_default),
                    )
                })
                .collect(),
            keep_query: f
                .query_parameters
                .as_ref()
                .is_none_or(|q| keep_of(&q.default_mode, true)),
        }
    }

    /// Traefik's `Keep`: the field's rule, else the default.
    fn keep(&self, field: &str) -> bool {
        *self
            .names
            .get(&field.to_lowercase())
            .unwrap_or(&self.keep_by_default)
    }

    fn header(&self, name: &str) -> HeaderMode {
        *self.headers.get(name).unwrap_or(&self.headers_default)
    }
}

/// The formatting half of the access log, apart from where lines go.
#[derive(Debug, Clone)]
pub struct Formatter {
    format: Format,
    fields: Fields,
    filters: Option<Filters>,
}

/// One record with its times on the wall clock.
struct Dated<'a> {
    r: &'a AccessRecord,
    start: SystemTime,
    duration: u64,
}

impl Formatter {
    /// The formatter `cfg` describes; the warnings say what was not understood (Traefik logs
    /// them as errors and goes on the same way).
    pub fn new(cfg: &AccessLogConfig) -> (Formatter, Vec<String>) {
        let mut warnings = Vec::new();
        let format = match cfg.format.as_str() {
            "common" => Format::Common,
            "genericCLF" => Format::GenericClf,
            "json" => Format::Json,
            other => {
                warnings.push(format!(
                    "Unsupported access log format: {other:?}, defaulting to common format instead."
                ));
                Format::Common
            }
        };
        let filters = cfg.filters.as_ref().and_then(|f| {
            let codes = match trafficcop_core::middleware::http_code_ranges(&f.status_codes) {
                Ok(c) => c,
                Err(e) => {
                    warnings.push(format!("Failed to create new HTTP code ranges: {e}"));
                    Vec::new()
                }
            };
            let min = f.min_duration.0.max(0) as u64;
            (!codes.is_empty() || f.retry_attempts || min > 0).then_some(Filters {
                codes,
                retries: f.retry_attempts,
                min_duration: min,
            })
        });
        let formatter = Formatter {
            format,
            fields: Fields::of(cfg),
            filters,
        };
        (formatter, warnings)
    }

    /// Traefik's `keepAccessLog`.
    fn keeps(&self, r: &AccessRecord, duration: u64) -> bool {
        let Some(f) = &self.filters else {
            return true;
        };
        let status = i64::from(r.status);
        f.codes
            .iter()
            .any(|(lo, hi)| status >= *lo && status <= *hi)
            || (f.retries && r.retry_attempts > 0)
            || (f.min_duration > 0 && duration > f.min_duration)
    }

    /// The line for `r` (with its newline), or `None` when the filters leave it out. `clock`
    /// and `wall` are one moment on the worker's clock and on the wall clock.
    pub fn line(&self, r: &AccessRecord, clock: Timestamp, wall: SystemTime) -> Option<String> {
        let duration = r.finished.0.saturating_sub(r.started.0);
        if !self.keeps(r, duration) {
            return None;
        }
        let start = wall
            .checked_sub(Duration::from_nanos(clock.0.saturating_sub(r.started.0)))
            .unwrap_or(wall);
        let d = Dated { r, start, duration };
        Some(match self.format {
            Format::Common | Format::GenericClf => self.clf(&d),
            Format::Json => self.json(&d),
        })
    }

    /// A header's logged value in `lines`: its lines joined with `,`, or `REDACTED`.
    fn header_value(&self, lines: &[(String, String)], name: &str) -> Option<String> {
        let mode = self.fields.header(name);
        if mode == HeaderMode::Drop {
            return None;
        }
        let values: Vec<&str> = lines
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        if values.is_empty() {
            return None;
        }
        Some(if mode == HeaderMode::Redact {
            "REDACTED".into()
        } else {
            values.join(",")
        })
    }

    fn clf(&self, d: &Dated<'_>) -> String {
        let r = d.r;
        let keep = |f: &str| self.fields.keep(f);
        let plain = |f: &str, v: String| {
            if keep(f) && !v.is_empty() {
                v
            } else {
                "-".to_string()
            }
        };
        let quoted = |v: Option<String>| match v.filter(|v| !v.is_empty()) {
            Some(v) => format!("\"{}\"", v.replace('"', "\\\"")),
            None => "\"-\"".into(),
        };
        let secs = d
            .start
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let timestamp = if keep("StartUTC") || keep("StartLocal") {
            clf_date(secs)
        } else {
            "-".into()
        };
        let numeric = |f: &str, v: u64| {
            if keep(f) {
                v.to_string()
            } else {
                "-".into()
            }
        };
        let mut line = format!(
            "{} - {} [{timestamp}] \"{} {} {}\" {} {} {} {}",
            plain("ClientHost", client_host(r)),
            plain("ClientUsername", r.username.clone().unwrap_or_default()),
            plain("RequestMethod", r.method.to_string()),
            plain("RequestPath", self.request_path(r)),
            plain("RequestProtocol", r.protocol.to_string()),
            numeric("DownstreamStatus", u64::from(r.status)),
            numeric("DownstreamContentSize", r.size),
            quoted(self.header_value(&r.request_headers, "Referer")),
            quoted(self.header_value(&r.request_headers, "User-Agent")),
        );
        if self.format == Format::Common {
            let millis = if keep("Duration") {
                d.duration / 1_000_000
            } else {
                0
            };
            line.push_str(&format!(
                " {} {} {} {millis}ms",
                numeric("RequestCount", r.count),
                quoted(r.router.clone().filter(|_| keep("RouterName"))),
                quoted(r.server.clone().filter(|_| keep("ServiceURL"))),
            ));
        }
        line.push('\n');
        line
    }

    /// Traefik's `RequestPath`: the path as Go's URL writes it, and the query unless
    /// `queryParameters` drops it.
    fn request_path(&self, r: &AccessRecord) -> String {
        let path = trafficcop_core::middleware::url_path::GoPath::parse(&r.path)
            .map_or_else(|_| r.path.clone(), |p| p.escaped_path());
        match &r.query {
            Some(q) if self.fields.keep_query => format!("{path}?{q}"),
            _ => path,
        }
    }

    fn json(&self, d: &Dated<'_>) -> String {
        let r = d.r;
        let mut fields: BTreeMap<&str, Json> = BTreeMap::new();
        let (host, port) = split_host_port(&r.host);
        let client = r.client.ip().to_canonical();
        let start = rfc3339(d.start);
        let origin = r.origin_status.unwrap_or(0);
        let origin_duration = r.origin_duration.unwrap_or(0);
        let core: Vec<(&str, Json)> = vec![
            ("ClientAddr", Json::Str(socket_text(r.client))),
            ("ClientHost", Json::Str(client_host(r))),
            ("ClientPort", Json::Str(r.client.port().to_string())),
            (
                "ClientUsername",
                // Set by an auth middleware (empty when it read none), else `-`.
                Json::Str(r.username.clone().unwrap_or_else(|| "-".into())),
            ),
            ("DownstreamContentSize", Json::Int(r.size as i64)),
            ("DownstreamStatus", Json::Int(i64::from(r.status))),
            ("Duration", Json::Int(d.duration as i64)),
            ("OriginContentSize", Json::Int(r.origin_size as i64)),
            ("OriginDuration", Json::Int(origin_duration as i64)),
            ("OriginStatus", Json::Int(i64::from(origin))),
            (
                "Overhead",
                Json::Int(d.duration.saturating_sub(origin_duration) as i64),
            ),
            ("RequestAddr", Json::Str(r.host.clone())),
            ("RequestContentSize", Json::Int(r.request_size as i64)),
            ("RequestCount", Json::Int(r.count as i64)),
            ("RequestHost", Json::Str(host)),
            ("RequestMethod", Json::Str(r.method.to_string())),
            ("RequestPath", Json::Str(self.request_path(r))),
            ("RequestPort", Json::Str(port)),
            ("RequestProtocol", Json::Str(r.protocol.into())),
            (
                "RequestScheme",
                Json::Str(if r.tls { "https" } else { "http" }.into()),
            ),
            ("RetryAttempts", Json::Int(i64::from(r.retry_attempts))),
            ("StartLocal", Json::Str(start.clone())),
            ("StartUTC", Json::Str(start)),
            ("entryPointName", Json::Str(r.entry_point.to_string())),
        ];
        let _ = client;
        for (k, v) in core {
            if self.fields.keep(k) {
                fields.insert(k, v);
            }
        }
        // Traefik's ratio of the service's bytes to the client's, when they differ.
        if r.size != r.origin_size && r.size != 0 && self.fields.keep("GzipRatio") {
            fields.insert(
                "GzipRatio",
                Json::Float(r.origin_size as f64 / r.size as f64),
            );
        }
        let optional = [
            ("RouterName", r.router.clone()),
            ("ServiceName", r.service.clone()),
            ("ServiceURL", r.server.clone()),
            ("ServiceAddr", r.server.as_deref().map(url_host)),
            ("TLSVersion", r.tls_version.clone()),
            ("TLSCipher", r.tls_cipher.clone()),
        ];
        for (k, v) in optional {
            if let Some(v) = v.filter(|_| self.fields.keep(k)) {
                fields.insert(k, Json::Str(v));
            }
        }
        let mut headers: BTreeMap<String, Json> = BTreeMap::new();
        for (prefix, lines) in [
            ("request_", &r.request_headers),
            ("origin_", &r.origin_headers),
            ("downstream_", &r.downstream_headers),
        ] {
            for (name, _) in lines.iter() {
                if let Some(v) = self.header_value(lines, name) {
                    headers.insert(format!("{prefix}{name}"), Json::Str(v));
                }
            }
        }
        let mut out = String::from("{");
        let mut first = true;
        let mut put = |k: &str, v: &Json| {
            if !first {
                out.push(',');
            }
            first = false;
            json_string(&mut out, k);
            out.push(':');
            match v {
                Json::Str(s) => json_string(&mut out, s),
                Json::Int(i) => out.push_str(&i.to_string()),
                Json::Float(f) => out.push_str(&f.to_string()),
            }
        };
        // logrus sorts every key together.
        let mut all: BTreeMap<String, Json> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        all.extend(headers);
        all.insert("level".into(), Json::Str("info".into()));
        all.insert("msg".into(), Json::Str(String::new()));
        all.insert("time".into(), Json::Str(rfc3339_seconds(SystemTime::now())));
        for (k, v) in &all {
            put(k, v);
        }
        out.push_str("}\n");
        out
    }
}

#[derive(Debug, Clone)]
enum Json {
    Str(String),
    Int(i64),
    Float(f64),
}

/// Go's `encoding/json` string: `<`, `>`, `&`, U+2028 and U+2029 escaped too.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Traefik's `ClientHost`: the request's `X-Forwarded-For` when it has one, else the client's
/// address without its port.
fn client_host(r: &AccessRecord) -> String {
    match r.forwarded_for.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => v.to_string(),
        None => r.client.ip().to_canonical().to_string(),
    }
}

/// Go's `RemoteAddr` text.
fn socket_text(a: std::net::SocketAddr) -> String {
    std::net::SocketAddr::new(a.ip().to_canonical(), a.port()).to_string()
}

/// Go's `net.SplitHostPort`, or the value and `-` when it is not `host:port`.
fn split_host_port(value: &str) -> (String, String) {
    let split = if let Some(rest) = value.strip_prefix('[') {
        rest.split_once("]:")
            .filter(|(_, p)| !p.contains(':'))
            .map(|(h, p)| (h.to_string(), p.to_string()))
    } else {
        value
            .split_once(':')
            .filter(|(h, p)| !h.contains(':') && !p.contains(':'))
            .map(|(h, p)| (h.to_string(), p.to_string()))
    };
    split.unwrap_or_else(|| (value.to_string(), "-".into()))
}

/// The `host:port` of a server URL (`ServiceAddr`).
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// `02/Jan/2006:15:04:05 +0000`.
fn clf_date(unix_secs: u64) -> String {
    let c = trafficcop_core::http::date::civil(unix_secs);
    let month = c.month_name();
    let (h, m, s) = c.hms;
    format!(
        "{:02}/{month}/{:04}:{h:02}:{m:02}:{s:02} +0000",
        c.day, c.year
    )
}

/// Go's `RFC3339Nano` in UTC: trailing zeros of the fraction dropped.
fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let c = trafficcop_core::http::date::civil(d.as_secs());
    let (h, m, s) = c.hms;
    let mut out = format!(
        "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}",
        c.year, c.month, c.day
    );
    let nanos = d.subsec_nanos();
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Go's `RFC3339` in UTC (logrus' `time`).
fn rfc3339_seconds(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    rfc3339(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Where lines go.
enum Output {
    File(std::fs::File),
    Stdout,
}

/// Opens `filePath` as Traefik does (directories created, appended to), or standard output
/// without one.
fn open(path: &str) -> Result<Output, String> {
    if path.is_empty() {
        return Ok(Output::Stdout);
    }
    let p = std::path::Path::new(path);
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("failed to create log path {}: {e}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o664);
    options
        .open(p)
        .map(Output::File)
        .map_err(|e| format!("error opening file {path}: {e}"))
}

/// Records waiting for the writer at most.
const QUEUED: usize = 16_384;

/// What the writer thread is sent.
enum Message {
    Record(Box<AccessRecord>, Timestamp, SystemTime),
    /// Open `filePath` again (after `SIGUSR1`, when a log rotation moved the file).
    Reopen,
}

/// A started access log: the sink the workers hand records to.
pub struct AccessLog {
    /// Give this to the workers.
    pub sink: AccessSink,
    /// Opens the file again (Traefik does on `SIGUSR1`).
    pub reopen: std::sync::Arc<dyn Fn() + Send + Sync>,
    /// Problems with the configuration (logged, not fatal, as in Traefik).
    pub warnings: Vec<String>,
    /// The writer thread: it ends once every sink and `reopen` are dropped, after writing
    /// what was queued.
    pub writer: std::thread::JoinHandle<()>,
}

/// Opens the access log `cfg` describes and starts its writer thread, which ends when every
/// sink is dropped (after writing what is queued).
pub fn start(cfg: &AccessLogConfig) -> Result<AccessLog, String> {
    let (formatter, warnings) = Formatter::new(cfg);
    let mut output =
        open(&cfg.file_path).map_err(|e| format!("error opening access log file: {e}"))?;
    // Bounded: a writer that cannot keep up (a stalled disk) costs records, not memory.
    let (tx, rx) = mpsc::sync_channel::<Message>(QUEUED);
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let dropped_seen = dropped.clone();
    let path = cfg.file_path.clone();
    let writer = std::thread::Builder::new()
        .name("trafficcop-access-log".into())
        .spawn(move || {
            let mut buf = Vec::new();
            while let Ok(first) = rx.recv() {
                let mut next = Some(first);
                while let Some(message) = next.take() {
                    match message {
                        Message::Record(r, clock, wall) => {
                            if let Some(line) = formatter.line(&r, clock, wall) {
                                buf.extend_from_slice(line.as_bytes());
                            }
                        }
                        Message::Reopen if !path.is_empty() => {
                            if let Output::File(f) = &mut output {
                                let _ = f.write_all(&buf);
                                buf.clear();
                            }
                            match open(&path) {
                                Ok(o) => output = o,
                                Err(e) => crate::log::error(&e),
                            }
                        }
                        Message::Reopen => {}
                    }
                    next = rx.try_recv().ok();
                }
                let written = match &mut output {
                    Output::File(f) => f.write_all(&buf),
                    Output::Stdout => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(&buf).and_then(|()| out.flush())
                    }
                };
                if let Err(e) = written {
                    crate::log::error(&format!("writing the access log: {e}"));
                }
                buf.clear();
                let lost = dropped_seen.swap(0, std::sync::atomic::Ordering::Relaxed);
                if lost > 0 {
                    crate::log::error(&format!(
                        "the access log could not keep up: {lost} lines were not written"
                    ));
                }
            }
        })
        .map_err(|e| format!("starting the access log writer: {e}"))?;
    let reopen_tx = tx.clone();
    let sink: AccessSink = std::sync::Arc::new(move |r, clock, wall| {
        if tx
            .try_send(Message::Record(Box::new(r), clock, wall))
            .is_err()
        {
            dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let reopen = std::sync::Arc::new(move || {
        let _ = reopen_tx.send(Message::Reopen);
    });
    Ok(AccessLog {
        sink,
        reopen,
        warnings,
        writer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_go_writes_them() {
        assert_eq!(clf_date(1_795_636_440), "25/Nov/2026:19:54:00 +0000");
        let t = UNIX_EPOCH + Duration::new(1_795_636_440, 388_998_120);
        assert_eq!(rfc3339(t), "2026-11-25T19:54:00.38899812Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_636_440)),
            "2026-11-25T19:54:00Z"
        );
    }

    #[test]
    fn host_and_port_as_go_splits_them() {
        assert_eq!(
            split_host_port("b.example:99"),
            ("b.example".into(), "99".into())
        );
        assert_eq!(
            split_host_port("a.example"),
            ("a.example".into(), "-".into())
        );
        assert_eq!(split_host_port("[::1]:80"), ("::1".into(), "80".into()));
        assert_eq!(split_host_port("::1"), ("::1".into(), "-".into()));
        assert_eq!(url_host("http://127.0.0.1:18090/x"), "127.0.0.1:18090");
    }

    #[test]
    fn json_strings_as_go_escapes_them() {
        let mut s = String::new();
        json_string(&mut s, "/x?q=1&r<\"\\\u{1}");
        assert_eq!(s, "\"/x?q=1\\u0026r\\u003c\\\"\\\\\\u0001\"");
    }
}
