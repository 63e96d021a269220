//! The rule-parser fuzz check, shared by the cargo-fuzz target (`rule_parser.rs`) and the bolero
//! replay test under plain `cargo test` (`proptests/tests/rule_fuzz_replay.rs`).

use trafficcop_core::rule::{
    default_priority, http_domains, parse_http_rule, parse_tcp_rule, tcp_domains, HttpRequestView,
    Protocol, RuleSyntax, TcpConnView,
};
use trafficcop_core::rule::{host, ip, path, query};

/// Feeds `data` (as UTF-8 text) to both rule parsers in both syntaxes, domain extraction,
/// default priorities and the request-side path, query, host and address helpers, and matches
/// whatever parses against a fixed request and connection.
/// Nothing here may panic.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let headers = [
        ("X-Forwarded-Proto", "https"),
        ("Content-Type", "text/html"),
    ];
    let view = HttpRequestView {
        method: "GET",
        host: "Sub.Example.com:8443",
        path: "/api/v1/foo%20bar%2Fx",
        raw_query: "a=1&b=%zz&c=x+y",
        headers: &headers,
        client_ip: "10.1.2.3".parse().ok(),
        tls: true,
    };
    let alpn: [&[u8]; 2] = [b"h2", b"http/1.1"];
    let conn = TcpConnView {
        sni: "Sub.Example.com",
        client_ip: "::1".parse().ok(),
        alpn: &alpn,
    };
    for syntax in [RuleSyntax::V3, RuleSyntax::V2] {
        if let Ok(rule) = parse_http_rule(text, syntax) {
            let _ = rule.matches(&view);
            let _ = rule.host_keys();
        }
        if let Ok(rule) = parse_tcp_rule(text, syntax) {
            let _ = rule.matches(&conn);
            let _ = rule.is_catch_all();
        }
    }
    let _ = http_domains(text);
    let _ = tcp_domains(text);
    let _ = default_priority(text, Protocol::Tcp);
    // The request-side helpers the HTTP layer calls on client input.
    if let Ok(normalized) = path::normalize_raw_path(text) {
        let sanitized = path::sanitize_path(&normalized);
        let _ = path::routing_path(&sanitized);
    }
    let _ = path::routing_path(text);
    let _ = query::parse_query(text);
    let _ = host::canonical_host(text);
    let _ = ip::parse_remote_addr(text);
}
