//! Traefik's own reference configurations and fixtures (../shared/traefik/reference/v3.7.9)
//! load in TrafficCop: every file decodes without the errors that make Traefik refuse a file
//! (syntax, unknown keys, wrong types), the YAML and TOML references give equal models, the
//! file-provider fixtures (directories, templates) merge as Traefik merges them, and the
//! deprecated-option fixtures are refused.

use std::path::Path;

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::file_provider::{load_files, ProviderFile};
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::{ConfigError, Format};
use trafficcop_spec::fixtures::{files_with_ext, reference_dir, render_fixture};
use trafficcop_spec::shared_or_skip;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Errors that are about decoding (Traefik refuses the file), as opposed to semantic checks.
fn decode_errors(diags: &[ConfigError]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.is_fatal())
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn static_references_decode_and_yaml_equals_toml() {
    let Some(shared) = shared_or_skip("static_references_decode_and_yaml_equals_toml") else {
        return;
    };
    let dir = reference_dir(&shared).join("docs/content/reference/static-configuration");
    let y = load_static(
        &read(&dir.join("file.yaml")),
        Format::Yaml,
        Some("file.yaml".into()),
    );
    let t = load_static(
        &read(&dir.join("file.toml")),
        Format::Toml,
        Some("file.toml".into()),
    );
    for load in [&y, &t] {
        let undecodable: Vec<_> = load
            .diagnostics
            .iter()
            .filter(|d| {
                d.message.contains("field not found")
                    || d.message.contains("strconv")
                    || d.message.contains("expected")
            })
            .collect();
        assert!(undecodable.is_empty(), "{undecodable:#?}");
    }
    // One real difference, in Traefik's own sample: in file.toml `maxResponseBodySize = 42` is
    // written after `[providers.http.headers]`, so TOML puts it in the headers table. TrafficCop
    // must read it exactly so; with that line moved, the two files are the same configuration.
    let mut t_config = t.config.clone();
    let http = t_config.providers.as_mut().unwrap().http.as_mut().unwrap();
    assert_eq!(
        http.headers.remove("maxResponseBodySize").as_deref(),
        Some("42")
    );
    assert_eq!(http.max_response_body_size, -1);
    http.max_response_body_size = 42;
    assert_eq!(
        y.config, t_config,
        "file.yaml and file.toml must load to the same model"
    );
    // Spot checks that the sample's values arrived.
    let ep = &y.config.entry_points["EntryPoint0"];
    assert_eq!(ep.address, "foobar");
    assert_eq!(
        y.config
            .providers
            .as_ref()
            .unwrap()
            .file
            .as_ref()
            .unwrap()
            .filename,
        "foobar"
    );
}

#[test]
fn dynamic_references_load_and_yaml_equals_toml() {
    let Some(shared) = shared_or_skip("dynamic_references_load_and_yaml_equals_toml") else {
        return;
    };
    let dir = reference_dir(&shared).join("docs/content/reference/dynamic-configuration");
    let y = load_dynamic(
        &read(&dir.join("file.yaml")),
        Format::Yaml,
        Some("file.yaml".into()),
    );
    let t = load_dynamic(
        &read(&dir.join("file.toml")),
        Format::Toml,
        Some("file.toml".into()),
    );
    assert!(
        decode_errors(&y.diagnostics).is_empty(),
        "{:#?}",
        y.diagnostics
    );
    assert!(
        decode_errors(&t.diagnostics).is_empty(),
        "{:#?}",
        t.diagnostics
    );
    assert_eq!(
        y.config, t.config,
        "file.yaml and file.toml must load to the same model"
    );
    let http = y.config.http.as_ref().unwrap();
    assert!(!http.routers.is_empty() && !http.services.is_empty() && !http.middlewares.is_empty());
}

#[test]
fn every_reference_version_loads() {
    let Some(shared) = shared_or_skip("every_reference_version_loads") else {
        return;
    };
    let root = shared.join("traefik/reference/by-version");
    let mut n = 0;
    for f in files_with_ext(&root, &["yaml", "toml"]) {
        if f.display().to_string().contains("/master-") {
            continue; // unreleased v3.8 development keys
        }
        let text = read(&f);
        let format = Format::from_path(&f.display().to_string()).unwrap();
        let name = f.display().to_string();
        let diags = if name.contains("/dynamic/") {
            load_dynamic(&text, format, Some(name.clone().into())).diagnostics
        } else {
            load_static(&text, format, Some(name.clone().into()))
                .diagnostics
                .into_iter()
                .filter(|d| d.message.contains("field not found") || d.message.contains("strconv"))
                .collect()
        };
        assert!(decode_errors(&diags).is_empty(), "{name}: {diags:#?}");
        n += 1;
    }
    eprintln!("reference configs of every v3 minor: {n} loaded");
    assert!(n >= 30);
}

#[test]
fn file_provider_fixtures_merge_like_traefik() {
    let Some(shared) = shared_or_skip("file_provider_fixtures_merge_like_traefik") else {
        return;
    };
    for ext in ["toml", "yaml"] {
        let dir = reference_dir(&shared)
            .join("pkg/provider/file/fixtures")
            .join(ext);
        let load = |names: &[&str]| {
            let files: Vec<ProviderFile> = names
                .iter()
                .map(|n| {
                    let p = dir.join(n);
                    ProviderFile {
                        path: p.display().to_string().into(),
                        text: read(&p),
                    }
                })
                .collect();
            load_files(&files, &|_| None)
        };
        let e = if ext == "toml" { "toml" } else { "yml" };
        // A directory of three files.
        let d = load(&[
            &format!("dir01_file01.{e}"),
            &format!("dir01_file02.{e}"),
            &format!("dir01_file03.{e}"),
        ]);
        assert!(!d.is_fatal(), "{:#?}", d.diagnostics);
        // Templates: `until 20` generates 20 routers.
        let t = load(&[&format!("template_file.{e}")]);
        assert!(!t.is_fatal(), "{:#?}", t.diagnostics);
        assert_eq!(
            t.config.http.as_ref().unwrap().routers.len(),
            20,
            "{ext} template"
        );
        let t2 = load(&[
            &format!("template_in_directory_file01.{e}"),
            &format!("template_in_directory_file02.{e}"),
        ]);
        assert!(!t2.is_fatal(), "{:#?}", t2.diagnostics);
        let s = load(&[&format!("simple_file_01.{e}")]);
        assert!(!s.is_fatal(), "{:#?}", s.diagnostics);
    }
}

#[test]
fn deprecated_option_fixtures_are_refused() {
    let Some(shared) = shared_or_skip("deprecated_option_fixtures_are_refused") else {
        return;
    };
    let dir = reference_dir(&shared).join("pkg/cli/fixtures");
    for (name, refused) in [
        ("traefik_deprecated.toml", true),
        ("traefik_multiple_deprecated.toml", true),
    ] {
        let l = load_static(&read(&dir.join(name)), Format::Toml, Some(name.into()));
        assert_eq!(l.is_fatal(), refused, "{name}: {:#?}", l.diagnostics);
        assert!(l.diagnostics.iter().any(|d| d
            .message
            .contains("incompatible deprecated install configuration option")));
    }
}

#[test]
fn integration_fixtures_load() {
    let Some(shared) = shared_or_skip("integration_fixtures_load") else {
        return;
    };
    let dir = reference_dir(&shared).join("integration/fixtures");
    let mut report = Vec::new();
    let mut loaded = 0;
    for f in files_with_ext(&dir, &["toml", "yaml", "yml"]) {
        let name = f.display().to_string();
        if name.contains("/tracing/") {
            continue; // OpenTelemetry collector and Tempo configs, not Traefik's.
        }
        let text = match render_fixture(&read(&f), &name) {
            Ok(t) => t,
            Err(e) => {
                report.push(format!("{name}: {e}"));
                continue;
            }
        };
        let format = Format::from_path(&name).unwrap();
        // Integration fixtures are static files that often carry their own dynamic part
        // (providers.file.filename = "{{ .SelfFilename }}"): load both views.
        let st = load_static(&text, format, Some(name.clone().into()));
        let dy = load_dynamic(&text, format, Some(name.clone().into()));
        let mut bad: Vec<String> = st
            .diagnostics
            .iter()
            .chain(dy.diagnostics.iter())
            .filter(|d| d.is_fatal() && !d.message.contains("no valid configuration found"))
            .map(|d| d.to_string())
            .collect();
        bad.dedup();
        if bad.is_empty() {
            loaded += 1;
        } else {
            report.push(bad.join("\n"));
        }
    }
    eprintln!(
        "integration fixtures: {loaded} loaded, {} refused",
        report.len()
    );
    for r in &report {
        eprintln!("{r}");
    }
    // The two fixtures Traefik itself refuses: a deliberately broken TOML file, and `api.middlewares`,
    // a key v3 does not have (both confirmed against the real binary, see the differential test).
    let refused: Vec<&str> = report
        .iter()
        .map(|r| r.split(':').next().unwrap_or(""))
        .map(|p| p.rsplit("fixtures/").next().unwrap_or(p))
        .collect();
    assert_eq!(
        refused,
        ["invalid_configuration.toml", "simple_auth.toml"],
        "{report:#?}"
    );
    assert!(loaded > 150, "only {loaded} fixtures loaded");
}
