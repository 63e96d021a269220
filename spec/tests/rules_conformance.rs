//! Runs every case of `../shared/conformance/rules.yaml` against the core's rule module: rule
//! parsing and matching (`cases`), router ordering (`priority_cases`), default priorities
//! (`rule_priority_cases`), routing paths (`routing_path_cases`), the TCP catch-all
//! (`catch_all_cases`), domain extraction (`domain_extraction_cases`) and the generic parser
//! (`parser_cases`). Where a case has `wire_expect`, that is the expectation. The YAML is read at
//! test time with the core's own YAML parser.

use std::fs;

use trafficcop_core::config::node::{Node, Value};
use trafficcop_core::config::yaml;
use trafficcop_core::rule::ip::parse_remote_addr;
use trafficcop_core::rule::path::routing_path;
use trafficcop_core::rule::{
    default_priority, http_domains, parse_http_rule, parse_tcp_rule, parse_tree, tcp_domains,
    HttpRequestView, Protocol, ProviderPrecedence, RouteSpec, RouterTable, RuleSyntax, RuleTree,
    TcpConnView, TcpRouterTable,
};

fn s<'a>(n: &'a Node, key: &str) -> &'a str {
    n.get(key).and_then(Node::as_scalar).unwrap_or("")
}

fn list(n: Option<&Node>) -> Option<Vec<String>> {
    match &n?.value {
        Value::Seq(items) => Some(
            items
                .iter()
                .map(|i| i.as_scalar().unwrap_or("").to_string())
                .collect(),
        ),
        _ => None,
    }
}

fn seq(n: &Node, key: &str) -> Vec<Node> {
    match n.get(key).map(|v| &v.value) {
        Some(Value::Seq(items)) => items.clone(),
        _ => Vec::new(),
    }
}

fn syntax(n: &Node) -> RuleSyntax {
    RuleSyntax::from_router_option(s(n, "syntax"))
}

/// The HTTP request of a case, as owned parts.
struct HttpReq {
    method: String,
    host: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    remote: String,
    tls: bool,
}

impl HttpReq {
    fn from(n: &Node) -> Self {
        let mut headers = Vec::new();
        if let Some(entries) = n.get("headers").and_then(Node::as_map) {
            for e in entries {
                for v in list(Some(&e.value)).unwrap_or_default() {
                    headers.push((e.key.clone(), v));
                }
            }
        }
        HttpReq {
            method: s(n, "method").to_string(),
            host: s(n, "host").to_string(),
            path: s(n, "path").to_string(),
            query: s(n, "rawQuery").to_string(),
            headers,
            remote: s(n, "remoteAddr").to_string(),
            tls: s(n, "tls") == "true",
        }
    }

    fn view(&self) -> HttpRequestView<'_> {
        HttpRequestView {
            method: &self.method,
            host: &self.host,
            path: &self.path,
            raw_query: &self.query,
            headers: &self.headers,
            client_ip: parse_remote_addr(&self.remote),
            tls: self.tls,
        }
    }
}

struct TcpReq {
    sni: String,
    remote: String,
    alpn: Vec<Vec<u8>>,
}

impl TcpReq {
    fn from(n: &Node) -> Self {
        let remote = match n.get("remoteAddr").and_then(Node::as_scalar) {
            Some(a) if !a.is_empty() => a.to_string(),
            _ => s(n, "remoteIP").to_string(),
        };
        TcpReq {
            sni: s(n, "sni").to_string(),
            remote,
            alpn: list(n.get("alpn"))
                .unwrap_or_default()
                .into_iter()
                .map(String::into_bytes)
                .collect(),
        }
    }

    fn with_view<T>(&self, f: impl FnOnce(&TcpConnView<'_>) -> T) -> T {
        let alpn: Vec<&[u8]> = self.alpn.iter().map(Vec::as_slice).collect();
        f(&TcpConnView {
            sni: &self.sni,
            client_ip: parse_remote_addr(&self.remote),
            alpn: &alpn,
        })
    }
}

/// Runs one case of the `cases` family; returns the outcome ("match", "nomatch",
/// "parse_error").
fn run_case(c: &Node) -> String {
    let rule = s(c, "rule");
    let outcome = |m: bool| if m { "match" } else { "nomatch" }.to_string();
    if s(c, "protocol") == "tcp" {
        match parse_tcp_rule(rule, syntax(c)) {
            Err(_) => "parse_error".into(),
            Ok(r) => match c.get("request").filter(|r| !r.is_null()) {
                None => "parsed".into(),
                Some(req) => outcome(TcpReq::from(req).with_view(|v| r.matches(v))),
            },
        }
    } else {
        match parse_http_rule(rule, syntax(c)) {
            Err(_) => "parse_error".into(),
            Ok(r) => match c.get("request").filter(|r| !r.is_null()) {
                None => "parsed".into(),
                Some(req) => outcome(r.matches(&HttpReq::from(req).view())),
            },
        }
    }
}

fn expected(c: &Node) -> String {
    let w = s(c, "wire_expect");
    if w.is_empty() { s(c, "expect") } else { w }.to_string()
}

fn tree_matches(t: &RuleTree, want: &Node) -> bool {
    let not = s(want, "not") == "true";
    let check_err = s(want, "check_rule_error") == "true";
    match t {
        RuleTree::And(l, r) | RuleTree::Or(l, r) => {
            let op = if matches!(t, RuleTree::And(..)) {
                "and"
            } else {
                "or"
            };
            s(want, "matcher") == op
                && !not
                && check_err
                && want.get("left").is_some_and(|w| tree_matches(l, w))
                && want.get("right").is_some_and(|w| tree_matches(r, w))
        }
        RuleTree::Matcher(m) => {
            s(want, "matcher") == m.name
                && m.not == not
                && list(want.get("values")).unwrap_or_default() == m.values
                && m.check().is_err() == check_err
        }
    }
}

fn run_parser_case(c: &Node) -> Result<(), String> {
    let known: Vec<&'static str> = list(c.get("known_matchers"))
        .unwrap_or_default()
        .into_iter()
        .map(|k| &*Box::leak(k.into_boxed_str()))
        .collect();
    let parsed = parse_tree(s(c, "rule"), &known);
    match (s(c, "expect"), parsed) {
        ("parse_error", Err(_)) => Ok(()),
        ("parse_error", Ok(t)) => Err(format!("parsed as {t:?}")),
        (_, Err(e)) => Err(format!("parse error {e}")),
        (_, Ok(t)) => {
            if !c.get("tree").is_some_and(|w| tree_matches(&t, w)) {
                return Err(format!("tree {t:?}"));
            }
            let names = list(c.get("extract_matchers")).unwrap_or_default();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let got = t.values_of(&names);
            let want = list(c.get("extract_values")).unwrap_or_default();
            if got != want {
                return Err(format!("values {got:?}, want {want:?}"));
            }
            Ok(())
        }
    }
}

fn run_priority_case(c: &Node) -> Result<(), String> {
    let precedence =
        ProviderPrecedence::new(list(c.get("providers_precedence")).unwrap_or_default());
    let routers = seq(c, "routers");
    let prio = |r: &Node| s(r, "effective_priority").parse::<i64>().unwrap_or(0);
    let names: Vec<&str> = routers.iter().map(|r| s(r, "name")).collect();
    let req = c.get("request").ok_or("no request")?;
    let winner = if s(c, "protocol") == "tcp" {
        let mut specs = Vec::new();
        for r in &routers {
            let rule = parse_tcp_rule(s(r, "rule"), syntax(c)).map_err(|e| e.to_string())?;
            specs.push(RouteSpec {
                name: s(r, "name").into(),
                rule,
                priority: prio(r),
                rank: precedence.rank(s(r, "provider")),
            });
        }
        let table = TcpRouterTable::build(specs);
        TcpReq::from(req)
            .with_view(|v| table.lookup(v))
            .map(|(i, _)| i)
    } else {
        let mut specs = Vec::new();
        for r in &routers {
            let rule = parse_http_rule(s(r, "rule"), syntax(c)).map_err(|e| e.to_string())?;
            specs.push(RouteSpec {
                name: s(r, "name").into(),
                rule,
                priority: prio(r),
                rank: precedence.rank(s(r, "provider")),
            });
        }
        RouterTable::build(specs).lookup(&HttpReq::from(req).view())
    };
    let got = winner.map(|i| names[i]).unwrap_or("<none>");
    if got == s(c, "expect_winner") {
        Ok(())
    } else {
        Err(format!("winner {got}"))
    }
}

fn run_family(doc: &Node, family: &str, run: &dyn Fn(&Node) -> Result<(), String>) -> Vec<String> {
    let cases = seq(doc, family);
    let mut failures = Vec::new();
    for c in &cases {
        if let Err(why) = run(c) {
            failures.push(format!("{} ({}): {why}", s(c, "id"), s(c, "rule")));
        }
    }
    println!(
        "rules conformance [{family}]: {} run, {} passed",
        cases.len(),
        cases.len() - failures.len()
    );
    failures
}

#[test]
fn rules_conformance() {
    let Some(shared) = trafficcop_spec::shared_or_skip("rules_conformance") else {
        return;
    };
    let text = fs::read_to_string(shared.join("conformance/rules.yaml")).expect("read rules.yaml");
    let doc = yaml::parse(&text).expect("parse rules.yaml");
    let mut failures = Vec::new();

    failures.extend(run_family(&doc, "cases", &|c| {
        let (got, want) = (run_case(c), expected(c));
        if got == want
            || (want != "parse_error" && got == "parsed")
                && c.get("request").is_none_or(Node::is_null)
        {
            Ok(())
        } else {
            Err(format!("got {got}, want {want}"))
        }
    }));
    failures.extend(run_family(&doc, "priority_cases", &run_priority_case));
    failures.extend(run_family(&doc, "rule_priority_cases", &|c| {
        let proto = if s(c, "protocol") == "tcp" {
            Protocol::Tcp
        } else {
            Protocol::Http
        };
        let got = default_priority(s(c, "rule"), proto);
        let want: i64 = s(c, "expect_priority")
            .parse()
            .map_err(|_| "bad expect_priority")?;
        if got == want {
            Ok(())
        } else {
            Err(format!("priority {got}, want {want}"))
        }
    }));
    failures.extend(run_family(&doc, "routing_path_cases", &|c| {
        let got =
            routing_path(s(c, "request_path")).map(|p| String::from_utf8_lossy(&p).into_owned());
        let want = s(c, "expect_routing_path");
        if got.as_deref() == Ok(want) {
            Ok(())
        } else {
            Err(format!("routing path {got:?}, want {want}"))
        }
    }));
    failures.extend(run_family(&doc, "catch_all_cases", &|c| {
        let rule = parse_tcp_rule(s(c, "rule"), syntax(c)).map_err(|e| e.to_string())?;
        let req = TcpReq::from(c.get("request").ok_or("no request")?);
        let matched = if req.with_view(|v| rule.matches(v)) {
            "match"
        } else {
            "nomatch"
        };
        let catch_all = rule.is_catch_all().to_string();
        if matched == expected(c) && catch_all == s(c, "expect_catch_all") {
            Ok(())
        } else {
            Err(format!("{matched}, catch-all {catch_all}"))
        }
    }));
    failures.extend(run_family(&doc, "domain_extraction_cases", &|c| {
        let got = if s(c, "function") == "ParseHostSNI" {
            tcp_domains(s(c, "rule"))
        } else {
            http_domains(s(c, "rule"))
        };
        let want = list(c.get("expect_domains")).unwrap_or_default();
        match (got, s(c, "expect_error") == "true") {
            (Err(_), true) => Ok(()),
            (Ok(d), false) if d == want => Ok(()),
            (got, _) => Err(format!("got {got:?}, want {want:?}")),
        }
    }));
    failures.extend(run_family(&doc, "parser_cases", &run_parser_case));

    assert!(
        failures.is_empty(),
        "{} rules conformance failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
