//! Traefik's defaults (`SetDefaults` and the process defaults), pinned against
//! ../shared/traefik/config-fields.md: each section gets them when it is present, and only then.

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::{Duration, Format};

fn st(text: &str) -> trafficcop_core::config::static_config::StaticConfiguration {
    let l = load_static(text, Format::Yaml, Some("t.yml".into()));
    assert!(!l.is_fatal(), "{:#?}", l.diagnostics);
    l.config
}

fn dy(text: &str) -> trafficcop_core::config::dynamic::DynamicConfiguration {
    let l = load_dynamic(text, Format::Yaml, Some("d.yml".into()));
    assert!(!l.is_fatal(), "{:#?}", l.diagnostics);
    l.config
}

#[test]
fn process_defaults_exist_without_sections() {
    let c = st("entryPoints: {web: {address: ':80'}}");
    assert!(c.global.as_ref().unwrap().check_new_version);
    assert_eq!(
        c.servers_transport
            .as_ref()
            .unwrap()
            .max_idle_conns_per_host,
        200
    );
    let tcp = c.tcp_servers_transport.as_ref().unwrap();
    assert_eq!(tcp.dial_timeout, Duration::from_secs(30));
    assert_eq!(tcp.dial_keep_alive, Duration::from_secs(15));
    let p = c.providers.as_ref().unwrap();
    assert_eq!(p.providers_throttle_duration, Duration::from_secs(2));
    assert_eq!(
        p.precedence.first().map(String::as_str),
        Some("kubernetesgateway")
    );
    assert_eq!(p.precedence.len(), 17);
    assert!(c.api.is_none() && c.ping.is_none() && c.log.is_none() && c.access_log.is_none());
    assert!(!c.entry_points.contains_key("traefik"));
}

#[test]
fn entry_point_defaults() {
    let c = st("entryPoints: {web: {address: ':80'}}");
    let ep = &c.entry_points["web"];
    let t = ep.transport.as_ref().unwrap();
    let rt = t.responding_timeouts.as_ref().unwrap();
    assert_eq!(rt.read_timeout, Duration::from_secs(60));
    assert_eq!(rt.write_timeout, Duration(0));
    assert_eq!(rt.idle_timeout, Duration::from_secs(180));
    let lc = t.life_cycle.as_ref().unwrap();
    assert_eq!(lc.grace_time_out, Duration::from_secs(10));
    assert_eq!(lc.request_accept_grace_timeout, Duration(0));
    assert_eq!(ep.http.sanitize_path, Some(true));
    assert_eq!(ep.http.max_header_bytes, 1 << 20);
    assert_eq!(ep.http.header_names_strategy(), ("keep", false));
    assert!(ep.http.encoded_characters.is_none());
    let h2 = ep.http2.as_ref().unwrap();
    assert_eq!(
        (h2.max_concurrent_streams, h2.max_decoder_header_table_size),
        (250, 4096)
    );
    assert_eq!(ep.udp.as_ref().unwrap().timeout, Duration::from_secs(3));
    assert!(ep.proxy_protocol.is_none() && ep.http3.is_none() && ep.http.tls.is_none());
    let c = st("entryPoints: {web: {address: ':80', http: {encodedCharacters: {allowEncodedSlash: false}, redirections: {entryPoint: {to: websecure}}}}}");
    let http = &c.entry_points["web"].http;
    let ec = http.encoded_characters.as_ref().unwrap();
    assert!(!ec.allow_encoded_slash && ec.allow_encoded_hash && ec.allow_encoded_percent);
    let r = http
        .redirections
        .as_ref()
        .unwrap()
        .entry_point
        .as_ref()
        .unwrap();
    assert_eq!(
        (r.scheme.as_str(), r.permanent, r.priority),
        ("https", true, i64::MAX - 1)
    );
}

#[test]
fn observability_section_defaults() {
    let c = st("entryPoints: {web: {address: ':80'}}\napi: {}\nping: {}\nlog: {}\naccessLog: {}\nmetrics: {prometheus: {}}\ntracing: {}");
    let api = c.api.as_ref().unwrap();
    assert!(api.dashboard && !api.insecure);
    assert_eq!(api.base_path, "/");
    let ping = c.ping.as_ref().unwrap();
    assert_eq!(
        (ping.entry_point.as_str(), ping.terminating_status_code),
        ("traefik", 503)
    );
    let log = c.log.as_ref().unwrap();
    assert_eq!(
        (log.level.as_str(), log.format.as_str()),
        ("ERROR", "common")
    );
    let al = c.access_log.as_ref().unwrap();
    assert_eq!(al.format, "common");
    let fields = al.fields.as_ref().unwrap();
    assert_eq!(fields.default_mode, "keep");
    assert_eq!(fields.headers.as_ref().unwrap().default_mode, "drop");
    let prom = c.metrics.as_ref().unwrap().prometheus.as_ref().unwrap();
    assert_eq!(prom.buckets, vec![0.1, 0.3, 1.2, 5.0]);
    assert!(prom.add_entry_points_labels && prom.add_services_labels && !prom.add_routers_labels);
    let tr = c.tracing.as_ref().unwrap();
    assert_eq!((tr.service_name.as_str(), tr.sample_rate), ("traefik", 1.0));
    // ping and prometheus on the default entry point create `traefik` on :8080.
    assert_eq!(c.entry_points["traefik"].address, ":8080");
}

#[test]
fn no_entry_point_creates_http_on_80() {
    let c = st("api: {}");
    assert_eq!(c.entry_points["http"].address, ":80");
}

#[test]
fn dynamic_defaults() {
    let c = dy(r#"
http:
  services:
    s:
      loadBalancer:
        servers: [{url: "http://a"}]
        healthCheck: {path: /health}
        sticky: {cookie: {}}
  middlewares:
    rl: {rateLimit: {average: 10}}
    cb: {circuitBreaker: {expression: "NetworkErrorRatio() > 0.5"}}
    ba: {basicAuth: {users: ["u:p"]}}
    rt: {retry: {attempts: 3}}
    cp: {compress: {}}
    al: {ipAllowList: {sourceRange: ["10.0.0.0/8"]}}
  serversTransports:
    t: {forwardingTimeouts: {responseHeaderTimeout: 1s}}
tcp:
  serversTransports:
    t: {dialTimeout: 5s}
tls:
  options:
    o: {minVersion: VersionTLS13}
"#);
    let http = c.http.as_ref().unwrap();
    let lb = http.services["s"].load_balancer.as_ref().unwrap();
    assert_eq!(lb.pass_host_header, Some(true));
    assert_eq!(lb.strategy, "wrr");
    assert_eq!(lb.servers[0].weight, None);
    assert_eq!(lb.response_forwarding, None);
    let hc = lb.health_check.as_ref().unwrap();
    assert_eq!(
        (hc.interval, hc.timeout),
        (Duration::from_secs(30), Duration::from_secs(5))
    );
    assert_eq!(hc.follow_redirects, Some(true));
    assert_eq!(
        lb.sticky
            .as_ref()
            .unwrap()
            .cookie
            .as_ref()
            .unwrap()
            .path
            .as_deref(),
        Some("/")
    );
    let rl = http.middlewares["rl"].rate_limit.as_ref().unwrap();
    assert_eq!((rl.period, rl.burst), (Duration::from_secs(1), 1));
    let cb = http.middlewares["cb"].circuit_breaker.as_ref().unwrap();
    assert_eq!(
        (cb.check_period, cb.fallback_duration, cb.response_code),
        (Duration::from_millis(100), Duration::from_secs(10), 503)
    );
    assert_eq!(
        http.middlewares["ba"].basic_auth.as_ref().unwrap().realm,
        ""
    );
    assert_eq!(
        http.middlewares["rt"]
            .retry
            .as_ref()
            .unwrap()
            .max_request_body_bytes,
        Some(2 << 20)
    );
    assert_eq!(
        http.middlewares["cp"].compress.as_ref().unwrap().encodings,
        vec!["gzip", "br", "zstd"]
    );
    assert_eq!(
        http.middlewares["al"]
            .ip_allow_list
            .as_ref()
            .unwrap()
            .reject_status_code,
        403
    );
    let t = &http.servers_transports["t"];
    assert_eq!(
        t.max_idle_conns_per_host, 0,
        "dynamic transports do not inherit 200"
    );
    let ft = t.forwarding_timeouts.as_ref().unwrap();
    assert_eq!(
        (ft.dial_timeout, ft.idle_conn_timeout, ft.ping_timeout),
        (
            Duration::from_secs(30),
            Duration::from_secs(90),
            Duration::from_secs(15)
        )
    );
    let tt = &c.tcp.as_ref().unwrap().servers_transports["t"];
    assert_eq!(
        (tt.dial_timeout, tt.dial_keep_alive, tt.termination_delay),
        (
            Duration::from_secs(5),
            Duration::from_secs(15),
            Duration::from_millis(100)
        )
    );
    let o = &c.tls.as_ref().unwrap().options["o"];
    assert_eq!(o.alpn_protocols, vec!["h2", "http/1.1", "acme-tls/1"]);
    assert!(!o.cipher_suites.is_empty());
}

#[test]
fn decoding_quirks() {
    // `tls:` (null) is absent, `tls: {}` and `tls: true` enable; comma lists; integer durations.
    let c = dy("http:\n  routers:\n    a: {rule: x, service: s, tls: , entryPoints: 'web,websecure'}\n    b: {rule: x, service: s, tls: {}}\n    c: {rule: x, service: s, tls: true}\n    d: {rule: x, service: s, tls: false}\n");
    let r = &c.http.as_ref().unwrap().routers;
    assert!(
        r["a"].tls.is_none()
            && r["b"].tls.is_some()
            && r["c"].tls.is_some()
            && r["d"].tls.is_none()
    );
    assert_eq!(r["a"].entry_points, vec!["web", "websecure"]);
    // Keys match Go field names case-insensitively.
    let c = dy("HTTP:\n  ROUTERS:\n    R: {RULE: x, Service: s, PRIORITY: '7'}\n");
    let r = &c.http.as_ref().unwrap().routers["R"];
    assert_eq!((r.rule.as_str(), r.priority), ("x", 7));
    // Unknown top-level keys are dropped (YAML anchor blocks).
    dy("x-anchors: {a: 1}\nhttp: {routers: {r: {rule: x, service: s}}}\n");
}

#[test]
fn decoding_errors_name_file_position_and_path() {
    let cases = [
        (
            "http:\n  routers: {}\n",
            "d.yml:2:12: http.routers: routers cannot be a standalone element",
        ),
        (
            "http:\n  routers:\n    r: {priority: 10.5}\n",
            "d.yml:3:19: http.routers.r.priority: strconv.ParseInt",
        ),
        (
            "http:\n  services:\n    s: {loadBalancer: {healthCheck: {interval: 10q}}}\n",
            "d.yml:3:48: http.services.s.loadBalancer.healthCheck.interval: time: unknown unit",
        ),
        (
            "http:\n  routers:\n    r: {rule: a}\n    r: {rule: b}\n",
            "d.yml:4:5: yaml: mapping key \"r\" already defined at line 3",
        ),
        (
            "http:\n  middlewares:\n    m: {headers: {frameDeny: yes}}\n",
            "d.yml:3:30: http.middlewares.m.headers.frameDeny: strconv.ParseBool",
        ),
        (
            "[http.routers.r]\nrul = \"x\"\n",
            "d.toml:2:1: http.routers.r.rul: field not found, node: rul (did you mean \"rule\"?)",
        ),
    ];
    for (text, want) in cases {
        let (format, name) = if want.starts_with("d.toml") {
            (Format::Toml, "d.toml")
        } else {
            (Format::Yaml, "d.yml")
        };
        let l = load_dynamic(text, format, Some(name.into()));
        assert!(l.is_fatal(), "{text}");
        let got = l.diagnostics[0].to_string();
        assert!(got.starts_with(want), "\n got: {got}\nwant: {want}");
    }
}
