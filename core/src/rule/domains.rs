//! Domains named by a rule, for TLS certificate selection and ACME: the arguments of `Host`
//! (HTTP) or `HostSNI` (TCP) calls, lower-cased, in rule order. Negated calls count too, and
//! arguments are not validated, as in Traefik (`ParseDomains`, `ParseHostSNI`).

use super::error::RuleError;
use super::matchers_http::HTTP_V3;
use super::matchers_http_v2::HTTP_V2;
use super::matchers_tcp::TCP_MATCHERS;
use super::parser::parse_tree;

/// The domains of an HTTP rule (any syntax): the lower-cased arguments of its `Host` calls. An
/// unparsable rule is an error.
pub fn http_domains(rule: &str) -> Result<Vec<String>, RuleError> {
    let mut names: Vec<&'static str> = HTTP_V3.to_vec();
    names.extend(HTTP_V2.iter().filter(|n| !HTTP_V3.contains(n)));
    Ok(parse_tree(rule, &names)?.values_of(&["Host"]))
}

/// The server names of a TCP rule: the lower-cased arguments of its `HostSNI` calls.
pub fn tcp_domains(rule: &str) -> Result<Vec<String>, RuleError> {
    Ok(parse_tree(rule, TCP_MATCHERS)?.values_of(&["HostSNI"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraction() {
        assert_eq!(
            http_domains("Host(`Foo.Bar`) || Host(`bar.buz`) && Path(`/test`)").unwrap(),
            ["foo.bar", "bar.buz"]
        );
        assert!(http_domains("Host() && Path(`/test`)").unwrap().is_empty());
        assert!(http_domains("HostHeader(`a`)").unwrap().is_empty());
        assert!(tcp_domains("Unknown(`example.com`)").is_err());
        assert_eq!(tcp_domains("HOSTSNI(`a.b`,`c.d`)").unwrap(), ["a.b", "c.d"]);
    }
}
