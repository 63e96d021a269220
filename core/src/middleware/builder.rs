//! Building a router's middlewares from their names (Traefik `pkg/server/middleware`): names
//! are qualified with the referencing provider, `chain` middlewares are flattened in place,
//! recursion is detected, and Traefik's error texts are returned. A middleware type TrafficCop
//! does not implement is an error, never silently skipped.

use std::sync::Arc;

use super::{
    AddPrefix, BasicAuth, Compress, EncodedCharacters, Errors, FileReader, HeadersMiddleware,
    InFlightReq, IpAllowList, Middleware, RateLimit, RedirectRegex, RedirectScheme, ReplacePath,
    ReplacePathRegex, Retry, StripPrefix, StripPrefixRegex,
};
use crate::config::dynamic::{HTTPConfiguration, Middleware as MiddlewareConfig};

/// Builds the middlewares `names` refer to, in request order, `chain`s flattened.
///
/// Names without `@provider` are qualified with `provider` (an empty `provider` leaves them
/// unqualified, as Traefik does without a provider in context), and inside a chain with the
/// chain's own provider. A qualified name is looked up as is in `http.middlewares`, and, when
/// its provider is `provider`, also by its bare name (the file provider's keys are bare).
/// Errors are Traefik's: `middleware "x@file" does not exist`, constructor errors such as
/// `prefix cannot be empty`, `could not instantiate middleware m0: recursion detected in ...`.
/// As in Traefik, the last middleware of a list is built first, so its error wins.
pub fn build_chain(
    names: &[String],
    http: &HTTPConfiguration,
    provider: &str,
) -> Result<Vec<Arc<dyn Middleware>>, String> {
    build_chain_reading(names, http, provider, super::no_files)
}

/// [`build_chain`], reading the files middlewares name (`basicAuth.usersFile`) with `read`.
pub fn build_chain_reading(
    names: &[String],
    http: &HTTPConfiguration,
    provider: &str,
    read: FileReader,
) -> Result<Vec<Arc<dyn Middleware>>, String> {
    build_chain_with(names, http, provider, read, no_roots)
}

/// The system's trusted roots, for middlewares that call `https` addresses (`forwardAuth`).
pub type RootsReader = fn() -> Arc<Vec<rustls::pki_types::CertificateDer<'static>>>;

/// A [`RootsReader`] for configurations compiled without the system's roots.
pub fn no_roots() -> Arc<Vec<rustls::pki_types::CertificateDer<'static>>> {
    Arc::new(Vec::new())
}

/// [`build_chain_reading`], with the system's roots from `roots`.
pub fn build_chain_with(
    names: &[String],
    http: &HTTPConfiguration,
    provider: &str,
    read: FileReader,
    roots: RootsReader,
) -> Result<Vec<Arc<dyn Middleware>>, String> {
    let b = Builder {
        http,
        root_provider: provider,
        read,
        roots,
    };
    let ctx = (!provider.is_empty()).then_some(provider);
    b.build_list(names, ctx, &mut Vec::new())
}

/// Builds one middleware that is not a `chain` from its configuration; `name` appears in
/// errors.
pub fn build_middleware(name: &str, cfg: &MiddlewareConfig) -> Result<Arc<dyn Middleware>, String> {
    match single_type(name, cfg)? {
        "chain" => Err(format!(
            "middleware {name:?}: a chain must be built with build_chain"
        )),
        kind => construct(name, kind, cfg, super::no_files),
    }
}

struct Builder<'a> {
    http: &'a HTTPConfiguration,
    root_provider: &'a str,
    read: FileReader,
    roots: RootsReader,
}

/// TLS configuration ids for `forwardAuth` addresses (apart from the transports' ids).
static AUTH_TLS_IDS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0x4000_0000);

/// Go's `provider.GetQualifiedName`.
fn qualify(name: &str, ctx: Option<&str>) -> String {
    match ctx {
        Some(p) if !name.contains('@') => crate::config::validate::qualify(name, p),
        _ => name.to_string(),
    }
}

impl Builder<'_> {
    fn build_list(
        &self,
        names: &[String],
        ctx: Option<&str>,
        stack: &mut Vec<String>,
    ) -> Result<Vec<Arc<dyn Middleware>>, String> {
        let mut parts = Vec::with_capacity(names.len());
        for name in names.iter().rev() {
            parts.push(self.build_one(&qualify(name, ctx), stack)?);
        }
        Ok(parts.into_iter().rev().flatten().collect())
    }

    fn lookup(&self, qualified: &str) -> Option<&MiddlewareConfig> {
        if let Some(m) = self.http.middlewares.get(qualified) {
            return Some(m);
        }
        let (bare, provider) = qualified.split_once('@')?;
        (provider == self.root_provider && !bare.is_empty())
            .then(|| self.http.middlewares.get(bare))
            .flatten()
    }

    fn build_one(
        &self,
        name: &str,
        stack: &mut Vec<String>,
    ) -> Result<Vec<Arc<dyn Middleware>>, String> {
        let cfg = self
            .lookup(name)
            .ok_or_else(|| format!("middleware {name:?} does not exist"))?;
        let entry = format!("middleware:{name}");
        if stack.contains(&entry) {
            stack.push(entry);
            let path = stack.join("->");
            stack.pop();
            return Err(format!(
                "could not instantiate middleware {name}: recursion detected in {path}"
            ));
        }
        stack.push(entry);
        let built = match single_type(name, cfg) {
            Ok("chain") => {
                let chain = cfg.chain.as_ref().expect("chain type is set");
                // Go's AddInContext: a qualified name sets the provider for its children.
                let ctx = name.split('@').nth(1);
                let ctx = ctx.or((!self.root_provider.is_empty()).then_some(self.root_provider));
                self.build_list(&chain.middlewares, ctx, stack)
            }
            Ok("errors") => {
                // The page service is qualified with the middleware's provider.
                let provider = name.split('@').nth(1).unwrap_or(self.root_provider);
                let http = self.http;
                let exists = |q: &str| match q.split_once('@') {
                    Some((bare, "file")) => http.services.contains_key(bare),
                    Some((_, "internal")) => q == "noop@internal",
                    _ => false,
                };
                Errors::new(cfg.errors.as_deref().expect("set"), provider, &exists)
                    .map(|m| vec![Arc::new(m) as Arc<dyn Middleware>])
            }
            Ok("forwardAuth") => {
                let id = AUTH_TLS_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                super::ForwardAuth::new(
                    cfg.forward_auth.as_deref().expect("set"),
                    self.read,
                    self.roots,
                    id,
                )
                .map(|m| vec![Arc::new(m) as Arc<dyn Middleware>])
            }
            Ok(kind) => construct(name, kind, cfg, self.read).map(|m| vec![m]),
            Err(e) => Err(e),
        };
        stack.pop();
        built
    }
}

/// The one middleware type `cfg` sets, by its Traefik key.
fn single_type(name: &str, cfg: &MiddlewareConfig) -> Result<&'static str, String> {
    let set = [
        ("addPrefix", cfg.add_prefix.is_some()),
        ("basicAuth", cfg.basic_auth.is_some()),
        ("buffering", cfg.buffering.is_some()),
        ("chain", cfg.chain.is_some()),
        ("circuitBreaker", cfg.circuit_breaker.is_some()),
        ("compress", cfg.compress.is_some()),
        ("contentType", cfg.content_type.is_some()),
        ("encodedCharacters", cfg.encoded_characters.is_some()),
        ("errors", cfg.errors.is_some()),
        ("digestAuth", cfg.digest_auth.is_some()),
        ("forwardAuth", cfg.forward_auth.is_some()),
        ("grpcWeb", cfg.grpc_web.is_some()),
        ("headers", cfg.headers.is_some()),
        ("ipWhiteList", cfg.ip_white_list.is_some()),
        ("ipAllowList", cfg.ip_allow_list.is_some()),
        ("inFlightReq", cfg.in_flight_req.is_some()),
        ("passTLSClientCert", cfg.pass_tls_client_cert.is_some()),
        ("rateLimit", cfg.rate_limit.is_some()),
        ("redirectRegex", cfg.redirect_regex.is_some()),
        ("redirectScheme", cfg.redirect_scheme.is_some()),
        ("replacePath", cfg.replace_path.is_some()),
        ("replacePathRegex", cfg.replace_path_regex.is_some()),
        ("retry", cfg.retry.is_some()),
        ("stripPrefix", cfg.strip_prefix.is_some()),
        ("stripPrefixRegex", cfg.strip_prefix_regex.is_some()),
        ("plugin", cfg.plugin.0.is_some()),
    ];
    let mut kinds = set.iter().filter(|(_, on)| *on).map(|(k, _)| *k);
    match (kinds.next(), kinds.next()) {
        (Some(k), None) => Ok(k),
        (Some(_), Some(_)) => Err("cannot create middleware: multi-types middleware not supported, consider declaring two different pieces of middleware instead".into()),
        (None, _) => Err(format!(
            "invalid middleware {name:?} configuration: invalid middleware type or middleware does not exist"
        )),
    }
}

fn construct(
    name: &str,
    kind: &str,
    cfg: &MiddlewareConfig,
    read: FileReader,
) -> Result<Arc<dyn Middleware>, String> {
    fn arc<M: Middleware + 'static>(m: Result<M, String>) -> Result<Arc<dyn Middleware>, String> {
        m.map(|m| Arc::new(m) as Arc<dyn Middleware>)
    }
    match kind {
        "addPrefix" => arc(AddPrefix::new(cfg.add_prefix.as_deref().expect("set"))),
        "stripPrefix" => arc(StripPrefix::new(cfg.strip_prefix.as_deref().expect("set"))),
        "stripPrefixRegex" => arc(StripPrefixRegex::new(
            cfg.strip_prefix_regex.as_deref().expect("set"),
        )),
        "replacePath" => arc(ReplacePath::new(cfg.replace_path.as_deref().expect("set"))),
        "replacePathRegex" => arc(ReplacePathRegex::new(
            cfg.replace_path_regex.as_deref().expect("set"),
        )),
        "redirectScheme" => arc(RedirectScheme::new(
            cfg.redirect_scheme.as_deref().expect("set"),
        )),
        "redirectRegex" => arc(RedirectRegex::new(
            cfg.redirect_regex.as_deref().expect("set"),
        )),
        "passTLSClientCert" => arc(super::PassTlsClientCert::new(
            cfg.pass_tls_client_cert.as_deref().expect("set"),
        )),
        "digestAuth" => arc(super::DigestAuth::new(
            cfg.digest_auth.as_deref().expect("set"),
            read,
        )),
        "basicAuth" => arc(BasicAuth::new(
            cfg.basic_auth.as_deref().expect("set"),
            read,
        )),
        "encodedCharacters" => Ok(Arc::new(EncodedCharacters::new(
            cfg.encoded_characters.as_deref().expect("set"),
        )) as Arc<dyn Middleware>),
        "rateLimit" => arc(RateLimit::new(
            name,
            cfg.rate_limit.as_deref().expect("set"),
        )),
        "retry" => arc(Retry::new(cfg.retry.as_deref().expect("set"))),
        "contentType" => Ok(Arc::new(super::ContentType::new(
            cfg.content_type.as_deref().expect("set"),
        )) as Arc<dyn Middleware>),
        "circuitBreaker" => arc(super::CircuitBreaker::new(
            cfg.circuit_breaker.as_deref().expect("set"),
        )),
        "compress" => arc(Compress::new(cfg.compress.as_deref().expect("set"))),
        "inFlightReq" => arc(InFlightReq::new(cfg.in_flight_req.as_deref().expect("set"))),
        "headers" => arc(HeadersMiddleware::new(cfg.headers.as_deref().expect("set"))),
        "ipAllowList" => arc(IpAllowList::new(cfg.ip_allow_list.as_deref().expect("set"))),
        "ipWhiteList" => arc(IpAllowList::white_list(
            cfg.ip_white_list.as_deref().expect("set"),
        )),
        other => Err(format!(
            "middleware {name:?}: the {other} middleware is not supported yet by TrafficCop"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dynamic::load_dynamic;
    use crate::config::Format;
    use crate::middleware::tests_support::{cx, get};
    use crate::middleware::RequestAction;

    fn http(yaml: &str) -> HTTPConfiguration {
        let l = load_dynamic(yaml, Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        l.config.http.unwrap()
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolves_and_flattens_chains() {
        let h = http(
            "http:\n  middlewares:\n    a: {addPrefix: {prefix: /a}}\n    b: {addPrefix: {prefix: /b}}\n    c: {chain: {middlewares: [b, a@file]}}\n",
        );
        let chain = build_chain(&names(&["c@file", "a"]), &h, "file").unwrap();
        assert_eq!(chain.len(), 3);
        let mut req = get("/x");
        for m in &chain {
            assert_eq!(m.on_request(&mut req, &cx()), RequestAction::Continue);
        }
        assert_eq!(req.path, "/a/a/b/x");
    }

    #[test]
    fn errors_as_traefik() {
        let h = http(
            "http:\n  middlewares:\n    e: {addPrefix: {prefix: ''}}\n    loop: {chain: {middlewares: [loop]}}\n    z: {digestAuth: {users: ['a:b']}}\n    w: {grpcWeb: {allowOrigins: ['*']}}\n",
        );
        let err = |n: &[&str]| build_chain(&names(n), &h, "file").err().unwrap();
        assert_eq!(err(&["nope"]), "middleware \"nope@file\" does not exist");
        assert_eq!(err(&["x@docker"]), "middleware \"x@docker\" does not exist");
        assert_eq!(err(&["e"]), "prefix cannot be empty");
        assert_eq!(
            err(&["loop"]),
            "could not instantiate middleware loop@file: recursion detected in middleware:loop@file->middleware:loop@file"
        );
        assert_eq!(err(&["z"]), "error parsing DigestUser: a:b");
        assert!(err(&["w"]).contains("grpcWeb middleware is not supported yet by TrafficCop"));
        // The last one is built first.
        assert_eq!(
            err(&["e", "nope"]),
            "middleware \"nope@file\" does not exist"
        );
    }
}
