//! `entryPoints.<name>.http.redirections.entryPoint`: Traefik's internal router
//! `<ep>-to-<to>@internal` (rule ``HostRegexp(`^.+$`)``, the configured priority) answering every
//! request of the entry point with a `redirectScheme` to the target entry point's port.

use std::sync::Arc;

use crate::config::dynamic::RedirectScheme as RedirectSchemeConfig;
use crate::config::static_config::StaticConfiguration;
use crate::middleware::RedirectScheme;
use crate::rule::{parse_http_rule, RuleSyntax};

use super::compile::{CompiledRouter, Target};
use super::entry_routes::Placed;

/// The port a redirection sends to: `to` itself when it is `:<port>`, else the port of the
/// entry point it names.
fn redirect_port(st: &StaticConfiguration, to: &str) -> Result<String, String> {
    if let Some(p) = to.strip_prefix(':') {
        if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(p.to_string());
        }
    }
    let Some(dst) = st.entry_points.get(to) else {
        return Err(format!(
            "'to' entry point field references a non-existing entry point: {to}"
        ));
    };
    match dst.address.rsplit_once(':') {
        Some((_, port)) => Ok(port.split('/').next().unwrap_or(port).to_string()),
        None => Err(format!(
            "invalid entry point address {:?}: missing port in address",
            dst.address
        )),
    }
}

/// Adds the redirection routers of every entry point that has one; returns the problems
/// (`(key path, message)`) of those that cannot be built.
pub(super) fn place(
    st: &StaticConfiguration,
    routers: &mut Vec<CompiledRouter>,
    placed: &mut Vec<Placed>,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (name, ep) in &st.entry_points {
        let Some(r) = &ep.http.redirections else {
            continue;
        };
        let path = format!("entryPoints.{name}.http.redirections");
        let Some(def) = r.entry_point.as_ref().filter(|d| !d.to.is_empty()) else {
            problems.push((
                path,
                "Unable to create redirection: the entry point or the port is missing".into(),
            ));
            continue;
        };
        let port = match redirect_port(st, &def.to) {
            Ok(p) => p,
            Err(e) => {
                problems.push((path, e));
                continue;
            }
        };
        let middleware = RedirectScheme::new(&RedirectSchemeConfig {
            scheme: def.scheme.clone(),
            port,
            permanent: def.permanent,
        });
        let middleware = match middleware {
            Ok(m) => m,
            Err(e) => {
                problems.push((path, e));
                continue;
            }
        };
        let rule_text = if ep.allow_acme_by_pass {
            "HostRegexp(`^.+$`) && !PathPrefix(`/.well-known/acme-challenge/`)"
        } else {
            "HostRegexp(`^.+$`)"
        };
        let rule = parse_http_rule(rule_text, RuleSyntax::V3).expect("static rule");
        let rname = format!(
            "{}@internal",
            crate::config::template::funcs::normalize(&format!("{name}-to-{}", def.to))
        );
        routers.push(CompiledRouter {
            name: rname.clone(),
            target: Target::Noop,
            middlewares: crate::middleware::Chain::new(vec![Arc::new(middleware)]),
            access_log: None,
        });
        placed.push(Placed {
            idx: routers.len() - 1,
            name: rname,
            path,
            eps: vec![name.clone()],
            rule_text: rule_text.into(),
            rule,
            priority: def.priority,
            tls: None,
            internal: true,
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::static_config::load_static;
    use crate::config::Format;

    #[test]
    fn ports_and_refusals() {
        let st = load_static(
            "entryPoints:\n  web: {address: ':80'}\n  websecure: {address: '10.0.0.1:8443'}\n  noport: {address: 'localhost'}\n",
            Format::Yaml,
            None,
        )
        .config;
        assert_eq!(redirect_port(&st, "websecure").unwrap(), "8443");
        assert_eq!(redirect_port(&st, ":9443").unwrap(), "9443");
        assert_eq!(
            redirect_port(&st, "nowhere").unwrap_err(),
            "'to' entry point field references a non-existing entry point: nowhere"
        );
        let with = |yaml: &str| {
            let st = load_static(yaml, Format::Yaml, None).config;
            let (mut routers, mut placed) = (Vec::new(), Vec::new());
            let problems = place(&st, &mut routers, &mut placed);
            (
                problems,
                placed
                    .iter()
                    .map(|p| (p.name.clone(), p.priority))
                    .collect::<Vec<_>>(),
            )
        };
        let (problems, placed) = with("entryPoints:\n  web:\n    address: ':80'\n    http: {redirections: {entryPoint: {to: websecure, priority: 7}}}\n  websecure: {address: ':443'}\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(placed, [("web-to-websecure@internal".to_string(), 7)]);
        let (problems, placed) = with("entryPoints:\n  web:\n    address: ':80'\n    http: {redirections: {entryPoint: {to: nowhere}}}\n");
        assert!(placed.is_empty());
        assert_eq!(problems[0].0, "entryPoints.web.http.redirections");
    }
}
