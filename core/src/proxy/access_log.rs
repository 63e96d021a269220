//! Access-log lines (Traefik's `accessLog`): the workers' records ([`AccessRecord`]), dated,
//! filtered (`filters`), reduced to the kept fields (`fields`) and written in the `common`,
//! `genericCLF` or `json` format. Pure: the daemon's writer thread hands each record with one
//! moment read on both clocks and writes the line where `filePath` says.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::access::AccessRecord;
use super::io::Timestamp;
use crate::config::static_config::AccessLog as AccessLogConfig;
use crate::http::date::{clf_date, rfc3339};

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
                        crate::http::headers::canonical_name(k),
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

    /// Whether some header may be logged, by default or by name.
    fn any_header(&self) -> bool {
        self.headers_default != HeaderMode::Drop
            || self.headers.values().any(|m| *m != HeaderMode::Drop)
    }
}

/// Whether `cfg` may log some request or answer header: the workers then copy them into
/// records (Traefik's `KeepHeader`).
pub(super) fn logs_headers(cfg: &AccessLogConfig) -> bool {
    Fields::of(cfg).any_header()
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
    /// When the record was handed over (the line's `time`).
    wall: SystemTime,
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
            let codes = match crate::middleware::http_code_ranges(&f.status_codes) {
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
        let d = Dated {
            r,
            start,
            duration,
            wall,
        };
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
        let path = crate::middleware::url_path::GoPath::parse(&r.path)
            .map_or_else(|_| r.path.clone(), |p| p.escaped_path());
        match &r.query {
            Some(q) if self.fields.keep_query => format!("{path}?{q}"),
            _ => path,
        }
    }

    fn json(&self, d: &Dated<'_>) -> String {
        let r = d.r;
        let mut fields: BTreeMap<&str, Json> = BTreeMap::new();
        // Go's `net.SplitHostPort`, or the value and `-` when it is not `host:port`.
        let (host, port) = super::round_robin::split_host_port(&r.host)
            .map_or((r.host.as_str(), "-"), |(h, p)| (h, p));
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
            ("RequestHost", Json::Str(host.to_string())),
            ("RequestMethod", Json::Str(r.method.to_string())),
            ("RequestPath", Json::Str(self.request_path(r))),
            ("RequestPort", Json::Str(port.to_string())),
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
            ("ServiceAddr", r.server_addr.clone()),
            ("TLSVersion", r.tls_version.map(str::to_string)),
            // Go names TLS 1.3 suites `TLS_...` where rustls says `TLS13_...`.
            (
                "TLSCipher",
                r.tls_cipher.map(|c| match c.strip_prefix("TLS13_") {
                    Some(rest) => format!("TLS_{rest}"),
                    None => c.to_string(),
                }),
            ),
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
        // logrus' `time`: when the line is made, to the second.
        let now = d
            .wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        all.insert(
            "time".into(),
            Json::Str(rfc3339(UNIX_EPOCH + Duration::from_secs(now))),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn formatter(yaml: &str) -> Formatter {
        let l = crate::config::static_config::load_static(
            &format!("accessLog: {yaml}\n"),
            crate::config::Format::Yaml,
            None,
        );
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let (f, warnings) = Formatter::new(l.config.access_log.as_ref().unwrap());
        assert!(warnings.is_empty(), "{warnings:?}");
        f
    }

    /// A proxied `GET /p?q=1` routed at 10 s, answered 200 with 5 bytes 1.5 s later.
    fn record() -> AccessRecord {
        let mut head = crate::http::RequestHead {
            method: crate::http::method("GET"),
            path: "/p".into(),
            raw_query: Some("q=1".into()),
            host: "app.example".into(),
            version: crate::http::Version::Http11,
            headers: crate::http::Headers::new(),
        };
        head.headers.append("User-Agent", "ua \"1\"");
        head.headers.append("Referer", "http://r/");
        let mut r = *super::super::access::AccessRecord::begin(
            &head,
            "10.0.0.1:4000".parse().unwrap(),
            &std::sync::Arc::from("web"),
            false,
            false,
            Timestamp(10 * S),
        );
        r.take_headers(&head.headers);
        r.username = Some("bob".into());
        r.router = Some("app@file".into());
        r.server = Some("http://b:80".into());
        r.count = 7;
        *Box::new(r).end(200, 5, Timestamp(10 * S + 1_500_000_000))
    }

    /// The line at wall time 1,795,636,440 s (worker clock 20 s).
    fn line(f: &Formatter, r: &AccessRecord) -> Option<String> {
        f.line(
            r,
            Timestamp(20 * S),
            UNIX_EPOCH + Duration::from_secs(1_795_636_440),
        )
    }

    #[test]
    fn common_and_generic_clf_lines() {
        let r = record();
        assert_eq!(
            line(&formatter("{}"), &r).unwrap(),
            "10.0.0.1 - bob [25/Nov/2026:19:53:50 +0000] \"GET /p?q=1 HTTP/1.1\" 200 5 \"-\" \"-\" 7 \"app@file\" \"http://b:80\" 1500ms\n"
        );
        assert_eq!(
            line(&formatter("{format: genericCLF, fields: {headers: {defaultMode: keep, names: {Referer: redact}}}}"), &r).unwrap(),
            "10.0.0.1 - bob [25/Nov/2026:19:53:50 +0000] \"GET /p?q=1 HTTP/1.1\" 200 5 \"REDACTED\" \"ua \\\"1\\\"\"\n"
        );
        // Dropped fields are `-` (a dropped duration is 0 ms); the query can be dropped.
        let f = formatter("{fields: {names: {ClientUsername: drop, StartUTC: drop, StartLocal: drop, Duration: drop, RouterName: drop}, queryParameters: {defaultMode: drop}}}");
        assert_eq!(
            line(&f, &r).unwrap(),
            "10.0.0.1 - - [-] \"GET /p HTTP/1.1\" 200 5 \"-\" \"-\" 7 \"-\" \"http://b:80\" 0ms\n"
        );
        // A trusted `X-Forwarded-For` is the client host.
        let mut forwarded = record();
        forwarded.forwarded_for = Some("1.2.3.4".into());
        assert!(line(&formatter("{}"), &forwarded)
            .unwrap()
            .starts_with("1.2.3.4 - bob "));
    }

    #[test]
    fn filters_keep_any_matching_record() {
        let r = record();
        let keeps = |filters: &str, r: &AccessRecord| {
            line(&formatter(&format!("{{filters: {filters}}}")), r).is_some()
        };
        assert!(
            line(&formatter("{}"), &r).is_some(),
            "no filter: every record"
        );
        assert!(!keeps("{statusCodes: ['400-499']}", &r));
        assert!(keeps("{statusCodes: ['400-499', '200']}", &r));
        assert!(!keeps("{retryAttempts: true}", &r));
        let mut retried = record();
        retried.retry_attempts = 1;
        assert!(keeps("{retryAttempts: true}", &retried));
        assert!(keeps("{minDuration: 1s}", &r), "1.5 s is above 1 s");
        assert!(!keeps("{minDuration: 2s}", &r));
        assert!(
            keeps("{statusCodes: ['500'], minDuration: 1s}", &r),
            "either one"
        );
    }

    #[test]
    fn json_objects() {
        let mut r = record();
        r.tls = true;
        r.tls_version = Some("1.3");
        r.tls_cipher = Some("TLS13_AES_128_GCM_SHA256");
        let f = formatter("{format: json, fields: {names: {ClientHost: drop}, headers: {names: {User-Agent: keep}}}}");
        let l = line(&f, &r).unwrap();
        for member in [
            "\"ClientUsername\":\"bob\"",
            "\"Duration\":1500000000",
            "\"RequestPath\":\"/p?q=1\"",
            "\"RequestHost\":\"app.example\",\"RequestMethod\"",
            "\"RequestPort\":\"-\"",
            "\"RequestScheme\":\"https\"",
            "\"StartUTC\":\"2026-11-25T19:53:50Z\"",
            "\"TLSCipher\":\"TLS_AES_128_GCM_SHA256\"",
            "\"TLSVersion\":\"1.3\"",
            "\"request_User-Agent\":\"ua \\\"1\\\"\"",
            "\"time\":\"2026-11-25T19:54:00Z\"}",
        ] {
            assert!(l.contains(member), "{member} in {l}");
        }
        assert!(!l.contains("ClientHost"), "{l}");
        assert!(!l.contains("Referer"), "{l}");
    }

    #[test]
    fn json_strings_as_go_escapes_them() {
        let mut s = String::new();
        json_string(&mut s, "/x?q=1&r<\"\\\u{1}");
        assert_eq!(s, "\"/x?q=1\\u0026r\\u003c\\\"\\\\\\u0001\"");
    }
}
