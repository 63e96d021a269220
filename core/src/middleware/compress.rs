//! `compress` (Traefik `pkg/middlewares/compress`): picks a coding from the request's
//! `Accept-Encoding` as Traefik does (weights, then the order of `encodings`; `*` takes
//! `defaultEncoding` or the first encoding; no header takes `defaultEncoding` or nothing),
//! then decides on the response as the handler Traefik runs for that coding: klauspost's
//! `gzhttp` for gzip, Traefik's own handler for Brotli and Zstandard. The worker compresses
//! the body (`proxy::compress`); this file holds the decisions.

use std::sync::Arc;

use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::compress::Codec;
use crate::http::{RequestHead, ResponseHead};

/// Traefik's default `minResponseBodyBytes`.
const DEFAULT_MIN_SIZE: u64 = 1024;

/// The built `compress` middleware.
#[derive(Debug)]
pub struct Compress {
    policy: Arc<CompressPolicy>,
    /// The configured encodings, in priority order.
    encodings: Vec<Codec>,
    default_encoding: Option<Codec>,
}

/// The response side of a `compress` middleware, shared by the requests it marks.
#[derive(Debug, PartialEq, Eq)]
pub struct CompressPolicy {
    min_size: u64,
    /// `application/grpc` and `excludedContentTypes`.
    excludes: Vec<MediaType>,
    includes: Vec<MediaType>,
}

/// What a `compress` middleware decided for a request: its handler adds
/// `Vary: Accept-Encoding`, and compresses with `codec` when the response allows it (`None`:
/// gzip was picked, but `gzhttp`'s own reading of `Accept-Encoding` finds no gzip in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressChoice {
    /// The coding, if any.
    pub codec: Option<Codec>,
    policy: Arc<CompressPolicy>,
}

/// What is known of a response body when its head arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// None at all (`204`, `304`, `Content-Length: 0`, an empty close-delimited body).
    Empty,
    /// `Content-Length`.
    Known(u64),
    /// Chunked or until close: Go's proxy flushes after each read, which starts compression.
    Unknown,
}

impl Compress {
    /// Builds `compress`, with Traefik's errors.
    pub fn new(cfg: &dynamic::Compress) -> Result<Self, String> {
        if !cfg.excluded_content_types.is_empty() && !cfg.included_content_types.is_empty() {
            return Err(
                "excludedContentTypes and includedContentTypes options are mutually exclusive"
                    .into(),
            );
        }
        // Traefik keeps the media types only: their parameters are dropped here, so
        // `text/html; charset=utf-8` stands for every `text/html`.
        let bare = |v: &str, which: &str| {
            MediaType::parse(v)
                .map(|m| MediaType {
                    media_type: m.media_type,
                    params: Vec::new(),
                })
                .map_err(|e| format!("parsing {which} media type: {e}"))
        };
        let mut excludes = vec![bare("application/grpc", "excluded")?];
        for v in &cfg.excluded_content_types {
            excludes.push(bare(v, "excluded")?);
        }
        let includes = cfg
            .included_content_types
            .iter()
            .map(|v| bare(v, "included"))
            .collect::<Result<Vec<_>, _>>()?;
        let min_size = u64::try_from(cfg.min_response_body_bytes)
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MIN_SIZE);
        if cfg.encodings.is_empty() {
            return Err("at least one encoding must be specified".into());
        }
        let encodings = cfg
            .encodings
            .iter()
            .map(|e| Codec::from_name(e).ok_or_else(|| format!("unsupported encoding: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let default_encoding = match cfg.default_encoding.as_str() {
            "" => None,
            d => Some(
                Codec::from_name(d)
                    .filter(|c| encodings.contains(c))
                    .ok_or_else(|| format!("unsupported default encoding: {d}"))?,
            ),
        };
        Ok(Compress {
            policy: Arc::new(CompressPolicy {
                min_size,
                excludes,
                includes,
            }),
            encodings,
            default_encoding,
        })
    }

    /// Traefik's `getCompressionEncoding` over the `Accept-Encoding` values, by its names:
    /// a coding, `identity` (asked for, or an empty header) or `not_acceptable`.
    pub fn traefik_encoding(&self, values: &[&[u8]]) -> &'static str {
        if values.len() == 1 && values[0].is_empty() {
            return "identity";
        }
        match self.pick(values) {
            Some(Some(codec)) => codec.name(),
            Some(None) => "identity",
            None => "not_acceptable",
        }
    }

    /// [`Compress::traefik_encoding`]: `None` when nothing is acceptable, `Some(None)` for
    /// identity.
    fn pick(&self, values: &[&[u8]]) -> Option<Option<Codec>> {
        // (priority: `*` first, then the encodings in order, then identity; weight).
        let identity = self.encodings.len() as i64;
        let mut best: Option<(i64, f64, Option<Codec>)> = None;
        for line in values {
            let line: String = String::from_utf8_lossy(line).replace(' ', "");
            for item in line.split(',') {
                let (name, params) = match item.split_once(';') {
                    Some((n, p)) => (n, Some(p)),
                    None => (item, None),
                };
                let (priority, codec) = match name {
                    "*" => (-1, None),
                    "identity" => (identity, None),
                    n => match self.encodings.iter().position(|c| c.name() == n) {
                        Some(i) => (i as i64, Some(self.encodings[i])),
                        None => continue,
                    },
                };
                let weight = match params.and_then(|p| p.strip_prefix("q=")) {
                    Some(q) => q.parse::<f64>().unwrap_or(0.0),
                    None => 1.0,
                };
                if weight == 0.0 {
                    continue;
                }
                let better =
                    best.is_none_or(|(p, w, _)| weight > w || (weight == w && priority < p));
                if better {
                    best = Some((priority, weight, codec));
                }
            }
        }
        Some(match best? {
            (-1, ..) => Some(self.default_encoding.unwrap_or(self.encodings[0])),
            (_, _, codec) => codec,
        })
    }
}

impl Middleware for Compress {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        if head.method == "HEAD" {
            return RequestAction::Continue;
        }
        let request_type = head
            .headers
            .get("Content-Type")
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(media_type_of)
            .unwrap_or_default();
        if self
            .policy
            .excludes
            .iter()
            .any(|m| m.media_type == request_type)
        {
            return RequestAction::Continue;
        }
        let values: Vec<&[u8]> = head.headers.get_all("Accept-Encoding").collect();
        let codec = if values.is_empty() {
            self.default_encoding
        } else if values.len() == 1 && values[0].is_empty() {
            None
        } else {
            self.pick(&values).flatten()
        };
        let Some(codec) = codec else {
            return RequestAction::Continue;
        };
        let codec = match codec {
            // gzhttp reads the header again: gzip must be in its first value with a weight.
            Codec::Gzip => (gzip_weight(values.first().copied().unwrap_or_default()) > 0.0)
                .then_some(Codec::Gzip),
            other => Some(other),
        };
        RequestAction::Compress(CompressChoice {
            codec,
            policy: self.policy.clone(),
        })
    }
}

impl CompressChoice {
    /// Decides whether the response with `head` and a body of `body` is compressed: when it
    /// is, its head is rewritten (`Content-Encoding` set, `Content-Length` removed, and for
    /// gzip `Accept-Ranges` removed) and the coding returned. The `Vary` line is the caller's.
    /// `flushed`: Go's proxy flushes after each read even with a known length (an event
    /// stream), which starts Traefik's own handler compressing below the minimum.
    pub fn decide(
        &self,
        head: &mut ResponseHead,
        body: BodyLength,
        flushed: bool,
    ) -> Option<Codec> {
        let codec = self.codec?;
        let p = &self.policy;
        let first = |head: &ResponseHead, name: &str| {
            head.headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        let encoding = first(head, "Content-Encoding");
        let content_type = first(head, "Content-Type");
        let compress = match codec {
            Codec::Gzip => {
                let refused = head.headers.remove("No-Gzip-Compression");
                let length = match body {
                    BodyLength::Known(n) => n,
                    _ => 0,
                };
                !refused
                    && encoding.is_empty()
                    && first(head, "Content-Range").is_empty()
                    && body != BodyLength::Empty
                    && (length == 0 || length >= p.min_size)
                    && p.gzip_filter(&content_type)
            }
            Codec::Brotli | Codec::Zstd => {
                encoding.is_empty()
                    && p.traefik_filter(&content_type)
                    && match body {
                        BodyLength::Empty => false,
                        BodyLength::Known(n) => n >= p.min_size || flushed,
                        BodyLength::Unknown => true,
                    }
            }
        };
        if !compress {
            return None;
        }
        head.headers.remove("Content-Length");
        if codec == Codec::Gzip {
            head.headers.remove("Accept-Ranges");
        }
        head.headers.set("Content-Encoding", codec.name());
        Some(codec)
    }
}

impl CompressPolicy {
    /// gzhttp's filter as Traefik configures it (`ContentTypes(includes)` or
    /// `ExceptContentTypes(excludes)`); a type it cannot parse is compressed with excludes
    /// and not with includes. A response without `Content-Type` is sniffed by gzhttp
    /// (`http.DetectContentType`); that is not built, and it counts as no type here.
    fn gzip_filter(&self, content_type: &str) -> bool {
        let matches = |list: &[MediaType]| match MediaType::parse(content_type) {
            Ok(m) => list.iter().any(|l| l.matches(&m)),
            Err(_) => false,
        };
        if self.includes.is_empty() {
            !matches(&self.excludes)
        } else {
            matches(&self.includes)
        }
    }

    /// Traefik's own handler (Brotli, Zstandard): no type is compressed; a type it cannot
    /// parse is not.
    fn traefik_filter(&self, content_type: &str) -> bool {
        if content_type.is_empty() {
            return true;
        }
        let Ok(m) = MediaType::parse(content_type) else {
            return false;
        };
        (self.includes.is_empty() || self.includes.iter().any(|l| l.matches(&m)))
            && !self.excludes.iter().any(|l| l.matches(&m))
    }
}

/// gzhttp's weight for gzip in an `Accept-Encoding` value (0 when absent).
fn gzip_weight(value: &[u8]) -> f64 {
    let value = String::from_utf8_lossy(value);
    for coding in value.trim().split(',') {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if name != "gzip" {
            continue;
        }
        let mut q = 1.0;
        for part in parts {
            if let Some(v) = part.trim().strip_prefix("q=") {
                q = v.parse::<f64>().unwrap_or(0.0).clamp(0.0, 1.0);
            }
        }
        return q;
    }
    0.0
}

/// A media type and its parameters, as Go's `mime.ParseMediaType` returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MediaType {
    media_type: String,
    params: Vec<(String, String)>,
}

/// The media type of a `Content-Type` value as Go's `mime.ParseMediaType` gives it even on a
/// parameter error (empty when there is none).
pub fn media_type_of(value: &str) -> String {
    let base = value.split(';').next().unwrap_or_default();
    let m = base.trim().to_ascii_lowercase();
    if check_media_type(&m).is_ok() {
        m
    } else {
        String::new()
    }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

fn token_len(s: &str) -> usize {
    s.bytes().take_while(|b| is_token(*b)).count()
}

/// Go's `checkMediaTypeDisposition`.
fn check_media_type(s: &str) -> Result<(), &'static str> {
    let n = token_len(s);
    if n == 0 {
        return Err("mime: no media type");
    }
    let rest = &s[n..];
    if rest.is_empty() {
        return Ok(());
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return Err("mime: expected slash after first token");
    };
    let n = token_len(rest);
    if n == 0 {
        return Err("mime: expected token after slash");
    }
    if n != rest.len() {
        return Err("mime: unexpected content after media subtype");
    }
    Ok(())
}

impl MediaType {
    /// Go's `mime.ParseMediaType` (without RFC 2231 continuations), with its errors.
    fn parse(v: &str) -> Result<MediaType, &'static str> {
        let (base, mut rest) = match v.find(';') {
            Some(i) => (&v[..i], &v[i..]),
            None => (v, ""),
        };
        let media_type = base.trim().to_ascii_lowercase();
        check_media_type(&media_type)?;
        let mut params: Vec<(String, String)> = Vec::new();
        loop {
            rest = rest.trim_start_matches([' ', '\t']);
            if rest.is_empty() {
                break;
            }
            let Some((key, value, after)) = media_param(rest) else {
                if rest.trim() == ";" {
                    // A trailing semicolon is ignored.
                    break;
                }
                return Err("mime: invalid media parameter");
            };
            if params.iter().any(|(k, _)| *k == key) {
                return Err("mime: duplicate parameter name");
            }
            params.push((key, value));
            rest = after;
        }
        Ok(MediaType { media_type, params })
    }

    /// gzhttp's and Traefik's `parsedContentType.equals`: the same type, and when this one
    /// names parameters, exactly the same ones.
    fn matches(&self, other: &MediaType) -> bool {
        self.media_type == other.media_type
            && (self.params.is_empty()
                || (self.params.len() == other.params.len()
                    && self
                        .params
                        .iter()
                        .all(|(k, v)| other.params.iter().any(|(k2, v2)| k == k2 && v == v2))))
    }
}

/// Go's `consumeMediaParam`: `; key=value`, the key lowercased.
fn media_param(v: &str) -> Option<(String, String, &str)> {
    let rest = v.trim_start_matches([' ', '\t']).strip_prefix(';')?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let n = token_len(rest);
    if n == 0 {
        return None;
    }
    let key = rest[..n].to_ascii_lowercase();
    let rest = rest[n..]
        .trim_start_matches([' ', '\t'])
        .strip_prefix('=')?;
    let rest = rest.trim_start_matches([' ', '\t']);
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((key, value, &quoted[i + 1..])),
                '\\' => value.push(chars.next()?.1),
                c => value.push(c),
            }
        }
        return None;
    }
    let n = token_len(rest);
    if n == 0 {
        return None;
    }
    Some((key, rest[..n].to_string(), &rest[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dynamic::load_dynamic;
    use crate::config::Format;
    use crate::http::{Headers, Version};

    fn built(yaml: &str) -> Result<Compress, String> {
        let l = load_dynamic(
            &format!("http:\n  middlewares:\n    c:\n      compress: {yaml}\n"),
            Format::Yaml,
            None,
        );
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        Compress::new(
            l.config.http.unwrap().middlewares["c"]
                .compress
                .as_deref()
                .unwrap(),
        )
    }

    fn choice(c: &Compress, accept: Option<&str>) -> Option<Option<Codec>> {
        let mut head = crate::middleware::tests_support::get("/");
        if let Some(a) = accept {
            head.headers.append("Accept-Encoding", a.to_string());
        }
        match c.on_request(&mut head, &crate::middleware::tests_support::cx()) {
            RequestAction::Compress(choice) => Some(choice.codec),
            _ => None,
        }
    }

    #[test]
    fn errors_as_traefik() {
        assert_eq!(
            built("{excludedContentTypes: [a/b], includedContentTypes: [c/d]}").unwrap_err(),
            "excludedContentTypes and includedContentTypes options are mutually exclusive"
        );
        assert_eq!(
            built("{excludedContentTypes: ['text']}").map(|_| ()),
            Ok(()),
            "a type without subtype parses in Go"
        );
        assert_eq!(
            built("{excludedContentTypes: ['text/']}").unwrap_err(),
            "parsing excluded media type: mime: expected token after slash"
        );
        assert_eq!(
            built("{includedContentTypes: ['']}").unwrap_err(),
            "parsing included media type: mime: no media type"
        );
        assert_eq!(
            built("{encodings: [gzip, deflate]}").unwrap_err(),
            "unsupported encoding: deflate"
        );
        assert_eq!(
            built("{encodings: [gzip], defaultEncoding: br}").unwrap_err(),
            "unsupported default encoding: br"
        );
    }

    #[test]
    fn picks_the_coding_as_traefik() {
        let c = built("{}").unwrap();
        let (gz, br, zstd) = (
            Some(Some(Codec::Gzip)),
            Some(Some(Codec::Brotli)),
            Some(Some(Codec::Zstd)),
        );
        // Equal weights: the order of `encodings` (gzip, br, zstd by default).
        assert_eq!(choice(&c, Some("gzip, deflate, br, zstd")), gz);
        assert_eq!(choice(&c, Some("br;q=0.9, gzip;q=0.8")), br);
        assert_eq!(choice(&c, Some("zstd")), zstd);
        assert_eq!(choice(&c, Some("zstd, gzip;q=0")), zstd);
        // Nothing acceptable, identity, an empty header, no header: not compressed.
        assert_eq!(choice(&c, Some("deflate")), None);
        assert_eq!(choice(&c, Some("identity")), None);
        assert_eq!(choice(&c, Some("")), None);
        assert_eq!(choice(&c, None), None);
        // `*` is the first encoding, gzip, which gzhttp then does not find in the header.
        assert_eq!(choice(&c, Some("*")), Some(None));
        // Names are case-sensitive for Traefik.
        assert_eq!(choice(&c, Some("GZIP")), None);
        let d = built("{defaultEncoding: br}").unwrap();
        assert_eq!(choice(&d, None), br);
        assert_eq!(choice(&d, Some("*")), br);
        let g = built("{defaultEncoding: gzip}").unwrap();
        assert_eq!(choice(&g, None), Some(None));
    }

    fn response(headers: &[(&str, &str)]) -> ResponseHead {
        let mut h = Headers::new();
        for (n, v) in headers {
            h.append(n, v.to_string());
        }
        ResponseHead {
            status: 200,
            version: Version::Http11,
            headers: h,
        }
    }

    #[test]
    fn decides_on_the_response_as_each_handler() {
        let c = built("{excludedContentTypes: ['text/event-stream']}").unwrap();
        let gzip = CompressChoice {
            codec: Some(Codec::Gzip),
            policy: c.policy.clone(),
        };
        let br = CompressChoice {
            codec: Some(Codec::Brotli),
            policy: c.policy.clone(),
        };
        for ch in [&gzip, &br] {
            let mut head = response(&[("Content-Length", "2000"), ("Accept-Ranges", "bytes")]);
            assert_eq!(
                ch.decide(&mut head, BodyLength::Known(2000), false),
                ch.codec
            );
            assert!(!head.headers.contains("Content-Length"));
            assert_eq!(
                head.headers.contains("Accept-Ranges"),
                ch.codec != Some(Codec::Gzip)
            );
            assert_eq!(
                head.headers.get("Content-Encoding"),
                Some(ch.codec.unwrap().name().as_bytes())
            );
            // Too small, already encoded, excluded, empty: left alone.
            assert_eq!(
                ch.decide(&mut response(&[]), BodyLength::Known(1023), false),
                None
            );
            assert_eq!(
                ch.decide(
                    &mut response(&[("Content-Encoding", "br")]),
                    BodyLength::Unknown,
                    false
                ),
                None
            );
            assert_eq!(
                ch.decide(
                    &mut response(&[("Content-Type", "text/event-stream")]),
                    BodyLength::Unknown,
                    false
                ),
                None
            );
            assert_eq!(
                ch.decide(&mut response(&[]), BodyLength::Empty, false),
                None
            );
            // A body of unknown length is compressed (Go's proxy flushes after each read).
            assert_eq!(
                ch.decide(
                    &mut response(&[("Content-Type", "text/html; charset=utf-8")]),
                    BodyLength::Unknown,
                    false
                ),
                ch.codec
            );
        }
        // Only gzhttp looks at Content-Range and No-Gzip-Compression, and compresses a type
        // it cannot parse when filtering by exclusion.
        let ranged = [("Content-Range", "bytes 0-9/10")];
        assert_eq!(
            gzip.decide(&mut response(&ranged), BodyLength::Unknown, false),
            None
        );
        assert_eq!(
            br.decide(&mut response(&ranged), BodyLength::Unknown, false),
            br.codec
        );
        let mut refused = response(&[("No-Gzip-Compression", "1")]);
        assert_eq!(gzip.decide(&mut refused, BodyLength::Unknown, false), None);
        assert!(!refused.headers.contains("No-Gzip-Compression"));
        let odd = [("Content-Type", "text/html; x")];
        assert_eq!(
            gzip.decide(&mut response(&odd), BodyLength::Unknown, false),
            gzip.codec
        );
        assert_eq!(
            br.decide(&mut response(&odd), BodyLength::Unknown, false),
            None
        );
    }

    #[test]
    fn media_types_parse_as_go() {
        let m = MediaType::parse("Text/HTML; Charset=\"utf-8\" ;").unwrap();
        assert_eq!(m.media_type, "text/html");
        assert_eq!(m.params, vec![("charset".to_string(), "utf-8".to_string())]);
        assert_eq!(
            MediaType::parse("a/b; x=1; x=2").unwrap_err(),
            "mime: duplicate parameter name"
        );
        assert_eq!(
            MediaType::parse("a/b c").unwrap_err(),
            "mime: unexpected content after media subtype"
        );
        let with = MediaType::parse("text/html; charset=utf-8").unwrap();
        assert!(MediaType::parse("text/html").unwrap().matches(&with));
        assert!(!with.matches(&MediaType::parse("text/html").unwrap()));
        assert_eq!(
            media_type_of("application/grpc+proto"),
            "application/grpc+proto"
        );
    }
}
