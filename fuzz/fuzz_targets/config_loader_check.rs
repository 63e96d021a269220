//! The check behind the `config_loader` fuzz target and its replay test: arbitrary bytes as a
//! static and a dynamic configuration, in YAML and TOML, through template rendering, decoding,
//! validation and compilation. Nothing may panic; errors are fine.

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::file_provider::{load_files, ProviderFile};
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::validate::validate_dynamic;
use trafficcop_core::config::Format;

/// Runs every loader over `data`.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Yaml, Format::Toml] {
        let st = load_static(text, format, Some("fuzz".into()));
        let dy = load_dynamic(text, format, Some("fuzz".into()));
        if !dy.is_fatal() {
            let _ = validate_dynamic(&dy.config, &st.config, "file", &dy.sources);
            let _ = trafficcop_core::proxy::compile(&st.config, &dy.config, 1);
        }
    }
    let files = [ProviderFile {
        path: "fuzz.yml".into(),
        text: text.to_string(),
    }];
    let _ = load_files(&files, &|_| Some("x".to_string()));
}
