//! The v2 HTTP matchers (rule syntax `v2`): every matcher takes a list; `HostHeader` is `Host`;
//! `Headers`/`HeadersRegexp` take name/value pairs; `Query` takes `key=value` templates;
//! `HostRegexp`, `Path` and `PathPrefix` use gorilla/mux templates.

use super::ast::MatcherCall;
use super::error::RuleError;
use super::ip::IpChecker;
use super::matchers_http::{is_token, HttpMatcher};
use super::regex_compat::compile_go_regex;
use super::template::{compile_template, TemplateKind};
use super::text::{go_lower, go_upper};

/// The v2 HTTP matcher names.
pub const HTTP_V2: &[&str] = &[
    "Host",
    "HostHeader",
    "HostRegexp",
    "ClientIP",
    "Path",
    "PathPrefix",
    "Method",
    "Headers",
    "HeadersRegexp",
    "Query",
];

/// Builds a v2 matcher from a checked call.
pub(crate) fn build_v2(m: &MatcherCall) -> Result<HttpMatcher, RuleError> {
    let err = |p: String| {
        RuleError::new(
            m.position,
            format!("error while adding rule {}: {p}", m.name),
        )
    };
    let vals = &m.values;
    Ok(match m.name {
        "Host" | "HostHeader" | "HostRegexp" if vals.iter().any(|h| !h.is_ascii()) => {
            return Err(err(format!(
                "invalid value for {:?} matcher, non-ASCII characters are not allowed",
                m.name
            )))
        }
        "Host" | "HostHeader" => {
            HttpMatcher::HostsV2(vals.iter().map(|h| go_lower(h).into_owned()).collect())
        }
        "HostRegexp" => HttpMatcher::HostTemplatesV2(
            vals.iter()
                .map(|h| compile_template(h, TemplateKind::Host).map(|t| t.regex))
                .collect::<Result<_, _>>()
                .map_err(err)?,
        ),
        "ClientIP" => HttpMatcher::ClientIp(IpChecker::parse(vals).map_err(err)?),
        "Path" | "PathPrefix" => {
            let kind = if m.name == "Path" {
                TemplateKind::Path
            } else {
                TemplateKind::PathPrefix
            };
            let mut res = Vec::new();
            for p in vals {
                if !p.starts_with('/') {
                    return Err(err(format!("mux: path must start with a slash, got {p:?}")));
                }
                res.push(compile_template(p, kind).map_err(err)?.regex);
            }
            HttpMatcher::PathTemplatesV2(res)
        }
        "Method" => HttpMatcher::MethodsV2(vals.iter().map(|v| go_upper(v)).collect()),
        "Headers" | "HeadersRegexp" => {
            if vals.len() % 2 != 0 {
                return Err(err(format!(
                    "mux: number of parameters must be multiple of 2, got {vals:?}"
                )));
            }
            // A map in gorilla/mux: a repeated name keeps its last value.
            let mut pairs: Vec<(&String, &String)> = Vec::new();
            for kv in vals.chunks(2) {
                pairs.retain(|(k, _)| *k != &kv[0]);
                pairs.push((&kv[0], &kv[1]));
            }
            if pairs.iter().any(|(k, _)| !is_token(k)) {
                // Such a name is never canonicalised by Go and never appears on the wire; the
                // regexes are still compiled (and may fail) as in Traefik.
                for (_, v) in &pairs {
                    if m.name == "HeadersRegexp" {
                        compile_go_regex(v).map_err(err)?;
                    }
                }
                return Ok(HttpMatcher::Never);
            }
            if m.name == "Headers" {
                HttpMatcher::HeadersV2(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
                        .collect(),
                )
            } else {
                HttpMatcher::HeadersRegexpV2(
                    pairs
                        .into_iter()
                        .map(|(k, v)| compile_go_regex(v).map(|re| (k.clone(), re)))
                        .collect::<Result<_, _>>()
                        .map_err(err)?,
                )
            }
        }
        "Query" => {
            let parts: Vec<&str> = vals
                .iter()
                .flat_map(|q| match q.split_once('=') {
                    Some((k, v)) => vec![k, v],
                    None => vec![q.as_str()],
                })
                .collect();
            if parts.len() % 2 != 0 {
                return Err(err(format!(
                    "mux: number of parameters must be multiple of 2, got {parts:?}"
                )));
            }
            let mut out = Vec::new();
            let mut names: Vec<String> = Vec::new();
            for kv in parts.chunks(2) {
                let tpl = format!("{}={}", kv[0], kv[1]);
                let t = compile_template(&tpl, TemplateKind::Query).map_err(err)?;
                for v in t.vars {
                    if names.contains(&v) {
                        return Err(err(format!("mux: duplicated route variable {v:?}")));
                    }
                    names.push(v);
                }
                out.push((kv[0].as_bytes().to_vec(), t.regex));
            }
            HttpMatcher::QueriesV2(out)
        }
        other => {
            return Err(RuleError::new(
                m.position,
                format!("unsupported function: {other}"),
            ))
        }
    })
}
