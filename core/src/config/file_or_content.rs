//! Traefik's "file or content" strings (`types.FileOrContent`): a certificate, key or CA value
//! that names an existing file is replaced by the file's content, anything else is the content
//! itself. Paths are relative to the working directory. The core does no IO: the caller
//! passes the file reader.

use super::dynamic::DynamicConfiguration;
use super::static_config::StaticConfiguration;

/// The static configuration's file-or-content strings: `serversTransport.rootCAs`.
pub fn resolve_static(st: &mut StaticConfiguration, read: &dyn Fn(&str) -> Option<String>) {
    if let Some(t) = &mut st.servers_transport {
        for ca in t.root_cas.iter_mut().filter(|c| !c.is_empty()) {
            if let Some(content) = read(ca) {
                *ca = content;
            }
        }
    }
}

/// Replaces every file-or-content string of `dy` whose value `read` can read as a file by the
/// file's content: `tls.certificates[].certFile/keyFile`,
/// `tls.stores.*.defaultCertificate.certFile/keyFile`, `tls.options.*.clientAuth.caFiles`,
/// `http.serversTransports.*.rootCAs` and `.certificates[].certFile/keyFile`.
pub fn resolve(dy: &mut DynamicConfiguration, read: &dyn Fn(&str) -> Option<String>) {
    let one = |s: &mut String| {
        if s.is_empty() {
            return;
        }
        if let Some(content) = read(s) {
            *s = content;
        }
    };
    if let Some(tls) = &mut dy.tls {
        for c in &mut tls.certificates {
            one(&mut c.cert_file);
            one(&mut c.key_file);
        }
        for store in tls.stores.values_mut() {
            if let Some(c) = &mut store.default_certificate {
                one(&mut c.cert_file);
                one(&mut c.key_file);
            }
        }
        for o in tls.options.values_mut() {
            o.client_auth.ca_files.iter_mut().for_each(one);
        }
    }
    if let Some(http) = &mut dy.http {
        for t in http.servers_transports.values_mut() {
            t.root_cas.iter_mut().for_each(one);
            for c in &mut t.certificates {
                one(&mut c.cert_file);
                one(&mut c.key_file);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_contents_and_contents_stay() {
        let doc = "tls:\n  certificates:\n    - certFile: /c.pem\n      keyFile: \"-----BEGIN KEY\"\n  options:\n    o:\n      clientAuth:\n        caFiles: [/ca.pem, missing.pem]\n";
        let mut dy =
            crate::config::dynamic::load_dynamic(doc, crate::config::Format::Yaml, None).config;
        resolve(&mut dy, &|p| match p {
            "/c.pem" => Some("CERT".into()),
            "/ca.pem" => Some("CA".into()),
            _ => None,
        });
        let tls = dy.tls.unwrap();
        let mut st = crate::config::static_config::load_static(
            "serversTransport: {rootCAs: [/ca.pem, inline]}\n",
            crate::config::Format::Yaml,
            None,
        )
        .config;
        resolve_static(&mut st, &|p| (p == "/ca.pem").then(|| "CA".to_string()));
        assert_eq!(st.servers_transport.unwrap().root_cas, ["CA", "inline"]);
        assert_eq!(tls.certificates[0].cert_file, "CERT");
        assert_eq!(tls.certificates[0].key_file, "-----BEGIN KEY");
        assert_eq!(tls.options["o"].client_auth.ca_files, ["CA", "missing.pem"]);
    }
}
