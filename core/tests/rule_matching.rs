//! Behaviours of the public rule API beyond the shared conformance corpus: header lines, query
//! forms, v2 templates, the table's deterministic tie-break, the priority bound and error
//! positions.

use trafficcop_core::rule::{
    check_priority, effective_priority, parse_http_rule, parse_tcp_rule, HttpRequestView, Protocol,
    ProviderPrecedence, RouteSpec, RouterTable, RuleSyntax, TcpConnView, MAX_USER_PRIORITY,
};

fn req<'a>(
    host: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a Vec<(&'a str, &'a str)>,
) -> HttpRequestView<'a> {
    HttpRequestView {
        method: "GET",
        host,
        path,
        raw_query: query,
        headers,
        client_ip: "10.0.0.1".parse().ok(),
        tls: false,
    }
}

fn matches(rule: &str, syntax: RuleSyntax, view: &HttpRequestView<'_>) -> bool {
    parse_http_rule(rule, syntax)
        .unwrap_or_else(|e| panic!("{rule}: {e}"))
        .matches(view)
}

#[test]
fn header_values_are_whole_lines() {
    let one_line = vec![("x-forwarded-proto", "http, https")];
    let two_lines = vec![
        ("X-Forwarded-Proto", "http"),
        ("x-forwarded-proto", "https"),
    ];
    let rule = "Header(`X-Forwarded-Proto`, `https`)";
    assert!(!matches(
        rule,
        RuleSyntax::V3,
        &req("a", "/", "", &one_line)
    ));
    assert!(matches(
        rule,
        RuleSyntax::V3,
        &req("a", "/", "", &two_lines)
    ));
    assert!(matches(
        "HeaderRegexp(`x-forwarded-proto`, `^https$`)",
        RuleSyntax::V3,
        &req("a", "/", "", &two_lines)
    ));
    assert!(!matches(
        "Header(`X Forwarded`, `https`)",
        RuleSyntax::V3,
        &req("a", "/", "", &two_lines)
    ));
}

#[test]
fn query_forms() {
    let h = vec![];
    assert!(matches(
        "Query(`k`)",
        RuleSyntax::V3,
        &req("a", "/", "k", &h)
    ));
    assert!(matches(
        "Query(`k`)",
        RuleSyntax::V3,
        &req("a", "/", "k=", &h)
    ));
    assert!(!matches(
        "Query(`k`)",
        RuleSyntax::V3,
        &req("a", "/", "k=v", &h)
    ));
    assert!(matches(
        "Query(`k`, `a b`)",
        RuleSyntax::V3,
        &req("a", "/", "x=1&k=a+b", &h)
    ));
    assert!(parse_http_rule("Query(`k`, ``)", RuleSyntax::V3).is_err());
    // v2 looks at the first value only, and ANDs its pairs.
    assert!(matches(
        "Query(`k=1`)",
        RuleSyntax::V2,
        &req("a", "/", "k=1&k=2", &h)
    ));
    assert!(!matches(
        "Query(`k=2`)",
        RuleSyntax::V2,
        &req("a", "/", "k=1&k=2", &h)
    ));
    assert!(!matches(
        "Query(`k=1`, `j=2`)",
        RuleSyntax::V2,
        &req("a", "/", "k=1", &h)
    ));
    assert!(matches(
        "Query(`k={v:[0-9]+}`)",
        RuleSyntax::V2,
        &req("a", "/", "k=42", &h)
    ));
}

#[test]
fn hosts_paths_methods() {
    let h = vec![];
    assert!(matches(
        "Host(`Example.com`)",
        RuleSyntax::V3,
        &req("EXAMPLE.com:8080", "/", "", &h)
    ));
    assert!(matches(
        "Host(`10::10`)",
        RuleSyntax::V3,
        &req("[10::10]:80", "/", "", &h)
    ));
    assert!(matches("Host(`*`)", RuleSyntax::V3, &req("", "/", "", &h)));
    assert!(!matches(
        "Host(`a.com`)",
        RuleSyntax::V3,
        &req("", "/", "", &h)
    ));
    assert!(matches(
        "PathPrefix(`/foo bar`)",
        RuleSyntax::V3,
        &req("a", "/foo%20bar/x", "", &h)
    ));
    assert!(!matches(
        "PathPrefix(`/foo/`)",
        RuleSyntax::V3,
        &req("a", "/foo%2Fbar", "", &h)
    ));
    assert!(matches(
        "Path(`/a%2Fb`)",
        RuleSyntax::V3,
        &req("a", "/a%2fb", "", &h)
    ));
    assert!(matches(
        "Method(`get`)",
        RuleSyntax::V3,
        &req("a", "/", "", &h)
    ));
    assert!(matches(
        "PathPrefix(`/css-{n:[0-9]?}`)",
        RuleSyntax::V2,
        &req("a", "/css-333333/x", "", &h)
    ));
    assert!(matches(
        "HostRegexp(`{sub:[a-z]+}.example.com`)",
        RuleSyntax::V2,
        &req("WWW.example.com:80", "/", "", &h)
    ));
    assert!(!matches(
        "HostRegexp(`[A-Z]`)",
        RuleSyntax::V3,
        &req("ABC", "/", "", &h)
    ));
    // An unmatched `{` is a literal in Go RE2 (the rule compiles and matches the braces).
    let tpl_header = vec![("X", "http{secure:}")];
    assert!(matches(
        "HeaderRegexp(`X`, `http{secure:s?}`)",
        RuleSyntax::V3,
        &req("a", "/", "", &tpl_header)
    ));
    assert!(parse_http_rule("HostRegexp(`{domain:[a-z]+\\.com}`)", RuleSyntax::V3).is_ok());
}

#[test]
fn tcp_sni_and_alpn() {
    let alpn: [&[u8]; 1] = [b"h2"];
    let view = TcpConnView {
        sni: "Foo.Example.com",
        client_ip: None,
        alpn: &alpn,
    };
    let m = |r: &str, s: RuleSyntax| {
        parse_tcp_rule(r, s)
            .unwrap_or_else(|e| panic!("{r}: {e}"))
            .matches(&view)
    };
    assert!(m("HostSNI(`*.example.com`) && ALPN(`h2`)", RuleSyntax::V3));
    assert!(!m("HostSNI(`example.com`)", RuleSyntax::V3));
    assert!(m("HostSNI(`foo`, `*`)", RuleSyntax::V2));
    assert!(parse_tcp_rule("ALPN(`acme-tls/1`)", RuleSyntax::V3).is_err());
    assert!(parse_tcp_rule("HostSNI(`*.*.x`)", RuleSyntax::V3).is_err());
    let empty = TcpConnView {
        sni: "",
        client_ip: None,
        alpn: &[],
    };
    let v2 = parse_tcp_rule("HostSNI(`foo`, `*`)", RuleSyntax::V2).unwrap();
    assert!(!v2.matches(&empty));
    assert!(parse_tcp_rule("HostSNI(`*`)", RuleSyntax::V3)
        .unwrap()
        .matches(&empty));
}

#[test]
fn ties_go_to_precedence_then_name() {
    let precedence = ProviderPrecedence::new(["kubernetes"]);
    let spec = |name: &str, provider: &str| RouteSpec {
        name: name.to_string(),
        rule: parse_http_rule("Host(`foo.bar`)", RuleSyntax::V3).unwrap(),
        priority: effective_priority(0, "Host(`foo.bar`)", Protocol::Http),
        rank: precedence.rank(provider),
    };
    let h = vec![];
    let view = req("foo.bar", "/", "", &h);
    let t = RouterTable::build(vec![spec("b@file", "file"), spec("a@file", "file")]);
    assert_eq!(
        t.lookup(&view),
        Some(1),
        "same provider: name ascending wins"
    );
    let t = RouterTable::build(vec![
        spec("a@file", "file"),
        spec("z@kubernetes", "kubernetes"),
    ]);
    assert_eq!(t.lookup(&view), Some(1), "listed provider beats unlisted");
}

#[test]
fn priority_bound_and_errors() {
    assert!(check_priority(MAX_USER_PRIORITY, false).is_ok());
    let e = check_priority(MAX_USER_PRIORITY + 1, false).unwrap_err();
    assert!(e.contains("exceeds the max user-defined priority"), "{e}");
    assert!(check_priority(i64::MAX, true).is_ok());
    let err = parse_http_rule("Host(`a.com`) && Pth(`/`)", RuleSyntax::V3).unwrap_err();
    assert_eq!(err.position, 17);
    assert!(err.problem.contains("Pth"), "{err}");
    let err = parse_http_rule("Path(`/a`) && PathRegexp(`(`)", RuleSyntax::V3).unwrap_err();
    assert_eq!(err.position, 14);
    let err = parse_http_rule("Path(`a`)", RuleSyntax::V3).unwrap_err();
    assert!(err.problem.contains("does not start with a '/'"), "{err}");
}

#[test]
fn compiled_tables_can_be_shared_across_workers() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<trafficcop_core::rule::HttpRule>();
    shared::<trafficcop_core::rule::TcpRule>();
    shared::<RouterTable>();
    shared::<trafficcop_core::rule::TcpRouterTable>();
}
