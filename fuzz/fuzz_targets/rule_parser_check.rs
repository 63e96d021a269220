//! The rule-parser fuzz check, shared by the cargo-fuzz target (`rule_parser.rs`) and the bolero
//! replay test under plain `cargo test` (`proptests/tests/rule_fuzz_replay.rs`).

use trafficcop_core::rule::{
    default_priority, http_domains, parse_http_rule, parse_tcp_rule, tcp_domains, HttpRequestView,
    Protocol, RuleSyntax, TcpConnView,
};

/// Feeds `data` (as UTF-8 text) to both rule parsers in both syntaxes, domain extraction and
/// default priorities, and matches whatever parses against a fixed request and connection.
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
}
