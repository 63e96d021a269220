//! The indexed router table must pick exactly the router a naive linear scan in priority order
//! picks, for random rule sets and random requests (HTTP and TCP).

use proptest::prelude::*;
use trafficcop_core::rule::priority::route_order;
use trafficcop_core::rule::{
    effective_priority, parse_http_rule, parse_tcp_rule, HttpRequestView, Protocol,
    ProviderPrecedence, RouteSpec, RouterTable, RuleSyntax, TcpConnView, TcpRouterTable,
};

const HOSTS: &[&str] = &[
    "a.com",
    "b.com",
    "x.a.com",
    "y.b.com",
    "a.com.",
    "A.Com",
    "c.org",
    "x.y.a.com",
];
const PATHS: &[&str] = &[
    "/",
    "/api",
    "/api/v1",
    "/static/x.css",
    "/a%2Fb",
    "/foo%20bar",
];
const PROVIDERS: &[&str] = &["file", "kubernetes", "docker", "internal"];

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(HOSTS).prop_map(|h| format!("Host(`{h}`)")),
        2 => prop::sample::select(&["*.a.com", "*.b.com", "*.com", "*"][..]).prop_map(|h| format!("Host(`{h}`)")),
        2 => prop::sample::select(PATHS).prop_map(|p| format!("PathPrefix(`{p}`)")),
        1 => prop::sample::select(PATHS).prop_map(|p| format!("Path(`{p}`)")),
        1 => prop::sample::select(&["1", "2"][..]).prop_map(|v| format!("Header(`X-K`, `{v}`)")),
        1 => prop::sample::select(&["GET", "post"][..]).prop_map(|m| format!("Method(`{m}`)")),
        1 => prop::sample::select(&[r"^x\.", r"a\.com$", "b"][..]).prop_map(|r| format!("HostRegexp(`{r}`)")),
        1 => prop::sample::select(&["10.0.0.0/8", "192.168.1.1"][..]).prop_map(|c| format!("ClientIP(`{c}`)")),
        1 => prop::sample::select(&["q", "k"][..]).prop_map(|k| format!("Query(`{k}`, `1`)")),
    ]
}

fn rule() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![3 => atom(), 1 => atom().prop_map(|a| format!("!{a}"))];
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("!({a} && {b})")),
        ]
    })
}

fn v2_rule() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(HOSTS), 1..3).prop_map(|hs| {
            let args: Vec<String> = hs.iter().map(|h| format!("`{h}`")).collect();
            format!("Host({})", args.join(", "))
        }),
        (prop::sample::select(HOSTS), prop::sample::select(PATHS))
            .prop_map(|(h, p)| format!("HostHeader(`{h}`) && PathPrefix(`{p}`)")),
        prop::sample::select(PATHS).prop_map(|p| format!("Path(`{p}`)")),
    ]
}

#[derive(Debug, Clone)]
struct Router {
    rule: String,
    v2: bool,
    priority: i64,
    provider: &'static str,
}

fn router() -> impl Strategy<Value = Router> {
    (
        prop_oneof![4 => rule().prop_map(|r| (r, false)), 1 => v2_rule().prop_map(|r| (r, true))],
        prop_oneof![3 => Just(0i64), 1 => -2i64..40],
        prop::sample::select(PROVIDERS),
    )
        .prop_map(|((rule, v2), priority, provider)| Router {
            rule,
            v2,
            priority,
            provider,
        })
}

#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    host: String,
    path: &'static str,
    query: &'static str,
    header: Option<&'static str>,
    ip: &'static str,
}

fn request() -> impl Strategy<Value = Req> {
    (
        prop::sample::select(&["GET", "POST", "post"][..]),
        prop_oneof![
            prop::sample::select(HOSTS).prop_map(str::to_string),
            prop::sample::select(HOSTS).prop_map(|h| format!("{h}:8080")),
            prop::sample::select(HOSTS).prop_map(|h| h.to_uppercase()),
            Just(String::new()),
            Just("[::1]:80".to_string()),
        ],
        prop::sample::select(PATHS),
        prop::sample::select(&["", "q=1", "k=1&q=2", "q"][..]),
        prop::option::of(prop::sample::select(&["1", "2", "3"][..])),
        prop::sample::select(&["10.1.2.3", "192.168.1.1", "8.8.8.8"][..]),
    )
        .prop_map(|(method, host, path, query, header, ip)| Req {
            method,
            host,
            path,
            query,
            header,
            ip,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn http_table_equals_linear_scan(routers in prop::collection::vec(router(), 0..24), reqs in prop::collection::vec(request(), 1..12)) {
        let precedence = ProviderPrecedence::new(["kubernetes", "file"]);
        let mut specs = Vec::new();
        for (i, r) in routers.iter().enumerate() {
            let syntax = if r.v2 { RuleSyntax::V2 } else { RuleSyntax::V3 };
            let rule = parse_http_rule(&r.rule, syntax).unwrap_or_else(|e| panic!("{}: {e}", r.rule));
            specs.push(RouteSpec {
                name: format!("r{}@{}", i % 5, r.provider),
                rule,
                priority: effective_priority(r.priority, &r.rule, Protocol::Http),
                rank: precedence.rank(r.provider),
            });
        }
        // The reference: sort by the documented order, scan linearly.
        let mut naive: Vec<usize> = (0..specs.len()).collect();
        naive.sort_by(|&a, &b| {
            let (x, y) = (&specs[a], &specs[b]);
            route_order((x.priority, x.rank, &x.name), (y.priority, y.rank, &y.name)).then(a.cmp(&b))
        });
        let table = RouterTable::build(specs.clone());
        prop_assert_eq!(table.order().collect::<Vec<_>>(), naive.clone());
        for q in &reqs {
            let headers: Vec<(&str, &str)> = q.header.map(|v| ("x-k", v)).into_iter().collect();
            let view = HttpRequestView {
                method: q.method,
                host: &q.host,
                path: q.path,
                raw_query: q.query,
                headers: &headers,
                client_ip: q.ip.parse().ok(),
                tls: false,
            };
            let expected = naive.iter().copied().find(|&i| specs[i].rule.matches(&view));
            prop_assert_eq!(table.lookup(&view), expected, "request {:?}", q);
        }
    }

    #[test]
    fn tcp_table_equals_linear_scan(
        rules in prop::collection::vec((prop::sample::select(&["a.com", "b.com", "*.a.com", "*", "x.a.com", "A.com."][..]), any::<bool>(), -1i64..5, prop::sample::select(PROVIDERS)), 0..16),
        snis in prop::collection::vec(prop::sample::select(&["a.com", "x.a.com", "B.COM", "", "a.com.", "y.x.a.com"][..]), 1..8),
    ) {
        let precedence = ProviderPrecedence::new(["file"]);
        let mut specs = Vec::new();
        for (i, (h, v2, prio, provider)) in rules.iter().enumerate() {
            let text = format!("HostSNI(`{h}`)");
            let syntax = if *v2 && !h.starts_with("*.") { RuleSyntax::V2 } else { RuleSyntax::V3 };
            let rule = parse_tcp_rule(&text, syntax).unwrap_or_else(|e| panic!("{text}: {e}"));
            specs.push(RouteSpec { name: format!("t{i}"), rule, priority: effective_priority(*prio, &text, Protocol::Tcp), rank: precedence.rank(provider) });
        }
        let mut naive: Vec<usize> = (0..specs.len()).collect();
        naive.sort_by(|&a, &b| {
            let (x, y) = (&specs[a], &specs[b]);
            route_order((x.priority, x.rank, &x.name), (y.priority, y.rank, &y.name)).then(a.cmp(&b))
        });
        let table = TcpRouterTable::build(specs.clone());
        for sni in &snis {
            let view = TcpConnView { sni, client_ip: None, alpn: &[] };
            let expected = naive.iter().copied().find(|&i| specs[i].rule.matches(&view));
            prop_assert_eq!(table.lookup(&view).map(|(i, _)| i), expected, "sni {:?}", sni);
        }
    }
}
