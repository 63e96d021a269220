//! Differential test: the real Traefik 3.7.15 binary and TrafficCop's loader give the same
//! accept/refuse verdict on Traefik's reference configurations, fixtures and hand-made broken
//! files. Traefik's verdict is observed, not assumed: a static configuration is refused when
//! the process exits with an error within a few seconds; a dynamic one when its file provider
//! logs `Cannot start the provider *file.Provider` (watch disabled).
//!
//! The binary comes from `TRAFFICCOP_TRAEFIK_BIN` or `target/oracle/traefik` (put there by
//! `scripts/fetch-traefik.sh`, run by `.ci/run`); the test skips with a message without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trafficcop_core::config::dynamic::load_dynamic;
#[allow(unused_imports)]
use trafficcop_core::config::parse_document;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_spec::fixtures::{reference_dir, render_fixture};
use trafficcop_spec::shared_or_skip;

fn traefik_bin() -> Option<PathBuf> {
    let p = std::env::var_os("TRAFFICCOP_TRAEFIK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/traefik"));
    p.is_file().then_some(p)
}

fn workdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trafficcop-diff-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs Traefik with a file provider on `file`; `true` when the provider started.
fn traefik_accepts_dynamic(bin: &Path, file: &Path, dir: &Path) -> bool {
    let static_file = dir.join("static.yml");
    std::fs::write(
        &static_file,
        format!(
            "global: {{checkNewVersion: false, sendAnonymousUsage: false}}\nentryPoints:\n  web:\n    address: \"127.0.0.1:{}\"\nlog: {{level: DEBUG, noColor: true}}\nproviders:\n  file:\n    filename: \"{}\"\n    watch: false\n",
            free_port(),
            file.display()
        ),
    )
    .unwrap();
    let log = dir.join("traefik.log");
    let mut child = Command::new(bin)
        .arg(format!("--configFile={}", static_file.display()))
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut verdict = None;
    while start.elapsed() < Duration::from_secs(8) && verdict.is_none() {
        std::thread::sleep(Duration::from_millis(100));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("Cannot start the provider *file.Provider") {
            verdict = Some(false);
        } else if text.contains("Starting provider *traefik.Provider") {
            // The file provider starts synchronously before the internal one.
            verdict = Some(true);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    verdict.unwrap_or_else(|| panic!("no verdict from Traefik for {}", file.display()))
}

fn ours_static(text: &str, name: &str) -> bool {
    !load_static(text, Format::from_path(name).unwrap(), Some(name.into())).is_fatal()
}

fn ours_dynamic(text: &str, name: &str) -> bool {
    !load_dynamic(text, Format::from_path(name).unwrap(), Some(name.into())).is_fatal()
}

/// Hand-made dynamic files around the decoding rules.
const DYNAMIC_PROBES: &[(&str, &str)] = &[
    ("empty-routers.yml", "http:\n  routers: {}\n"),
    ("null-router.yml", "http:\n  routers:\n    r1:\n"),
    ("dup-key.yml", "http:\n  routers:\n    r: {rule: a, service: s}\n    r: {rule: b, service: s}\n"),
    ("float-priority.yml", "http:\n  routers:\n    r: {rule: a, service: s, priority: 10.5}\n"),
    ("string-priority.yml", "http:\n  routers:\n    r: {rule: a, service: s, priority: \"10\"}\n"),
    ("yes-bool.yml", "http:\n  middlewares:\n    m: {headers: {frameDeny: yes}}\n"),
    ("servers-as-map.yml", "http:\n  services:\n    s: {loadBalancer: {servers: {url: \"http://x\"}}}\n"),
    ("missing-service.yml", "http:\n  routers:\n    r: {rule: \"Path(`/`)\", service: nope}\n"),
    ("unknown-key.yml", "http:\n  routers:\n    r: {rule: a, servce: s}\n"),
    ("case-insensitive.yml", "HTTP:\n  Routers:\n    r: {RULE: a, SERVICE: s}\n"),
    ("anchors.yml", "x-lb: &lb\n  loadBalancer:\n    servers: [{url: \"http://x\"}]\nhttp:\n  services:\n    s:\n      <<: *lb\n"),
    ("bad-duration.yml", "http:\n  services:\n    s: {loadBalancer: {healthCheck: {path: /, interval: 10q}, servers: [{url: \"http://x\"}]}}\n"),
    ("int-duration.yml", "http:\n  services:\n    s: {loadBalancer: {healthCheck: {path: /, interval: 10}, servers: [{url: \"http://x\"}]}}\n"),
    ("empty-lb.yml", "http:\n  services:\n    s: {loadBalancer: {}}\n"),
    ("tls-true.yml", "http:\n  routers:\n    r: {rule: a, service: s, tls: true}\n"),
    ("empty-service.toml", "[http.services.s1]\n"),
    ("toml-bad.toml", "[http.routers.r]\nrule = \n"),
];

#[test]
fn traefik_and_trafficcop_agree_on_accept_and_refuse() {
    let Some(shared) = shared_or_skip("traefik_and_trafficcop_agree_on_accept_and_refuse") else {
        return;
    };
    let Some(bin) = traefik_bin() else {
        eprintln!("SKIPPED traefik_and_trafficcop_agree_on_accept_and_refuse: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    let reference = reference_dir(&shared);
    let dir = workdir("cases");
    let mut mismatches = Vec::new();
    let mut runs = 0;
    let mut refused = 0;

    // Dynamic: the reference files, the file-provider fixtures, the sample, the probes.
    let mut dynamic: Vec<(String, String)> = Vec::new();
    for rel in [
        "docs/content/reference/dynamic-configuration/file.yaml",
        "docs/content/reference/dynamic-configuration/file.toml",
        "pkg/config/dynamic/fixtures/sample.toml",
    ] {
        dynamic.push((
            rel.to_string(),
            std::fs::read_to_string(reference.join(rel)).unwrap(),
        ));
    }
    for sub in ["toml", "yaml"] {
        let d = reference.join("pkg/provider/file/fixtures").join(sub);
        let mut names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        for p in names {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            if Format::from_path(&n).is_some() && !n.starts_with("template") {
                dynamic.push((
                    format!("pkg/provider/file/fixtures/{sub}/{n}"),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    for (name, text) in DYNAMIC_PROBES {
        dynamic.push((format!("probe/{name}"), text.to_string()));
    }
    for (i, (name, text)) in dynamic.iter().enumerate() {
        let ext = name.rsplit('.').next().unwrap();
        let file = dir.join(format!("dyn{i}.{ext}"));
        std::fs::write(&file, text).unwrap();
        let theirs = traefik_accepts_dynamic(&bin, &file, &dir);
        let ours = ours_dynamic(text, &file.display().to_string());
        runs += 1;
        refused += usize::from(!theirs);
        if theirs != ours {
            mismatches.push(format!(
                "dynamic {name}: traefik accepts={theirs}, trafficcop accepts={ours}"
            ));
        }
    }

    // Static: the deprecated-option fixtures, the reference files, integration fixtures.
    let mut statics: Vec<(String, String)> = Vec::new();
    for rel in [
        "pkg/cli/fixtures/traefik_deprecated.toml",
        "pkg/cli/fixtures/traefik_multiple_deprecated.toml",
        "pkg/cli/fixtures/traefik_no_deprecated.toml",
        "docs/content/reference/static-configuration/file.yaml",
        "docs/content/reference/static-configuration/file.toml",
        "integration/fixtures/simple_default.toml",
        "integration/fixtures/simple_auth.toml",
        "integration/fixtures/invalid_configuration.toml",
        "integration/fixtures/access_log_json_config.toml",
        "integration/fixtures/multiple_provider.toml",
        "integration/fixtures/reqacceptgrace.toml",
        "integration/fixtures/headers/cors.toml",
        "integration/fixtures/https/https_sni.toml",
        "integration/fixtures/tcp/mixed.toml",
        "integration/fixtures/udp/wrr.toml",
    ] {
        let path = reference.join(rel);
        let target = dir.join(rel.replace('/', "_"));
        let text = render_fixture(
            &std::fs::read_to_string(&path).unwrap(),
            &target.display().to_string(),
        )
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
        statics.push((rel.to_string(), text));
    }
    // Static files bind their own fixed ports (:80, :8000, :8080): run them isolated in network
    // namespaces, so other processes on this machine cannot make Traefik fail to bind.
    let isolated = netns_available();
    if !isolated {
        eprintln!("note: `unshare -n` not available: static fixtures are not compared here");
    }
    for (rel, text) in statics.iter().filter(|_| isolated) {
        let file = dir.join(rel.replace('/', "_"));
        std::fs::write(&file, text).unwrap();
        let theirs = traefik_accepts_static_isolated(&bin, &file, &dir);
        let ours = ours_static(text, &file.display().to_string());
        runs += 1;
        refused += usize::from(!theirs);
        if theirs != ours {
            mismatches.push(format!(
                "static {rel}: traefik accepts={theirs}, trafficcop accepts={ours}"
            ));
        }
    }
    eprintln!(
        "differential: {runs} configurations ({refused} refused by Traefik), {} disagreements",
        mismatches.len()
    );
    // The corpus must exercise both verdicts, or the comparison proves nothing.
    assert!(
        refused >= 10 && runs - refused >= 10,
        "{refused} of {runs} refused"
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// Runs `traefik --configFile=<file>` inside a private network namespace (so every fixture can
/// bind its own ports, in parallel); `true` when it is still running after a while (accepted).
fn traefik_accepts_static_isolated(bin: &Path, file: &Path, cwd: &Path) -> bool {
    let script = format!(
        "ip link set lo up && exec {} --configFile={}",
        bin.display(),
        file.display()
    );
    let mut child = Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .current_dir(cwd)
        .env_remove("TRAEFIK_ENTRYPOINTS_WEB_ADDRESS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    true
}

fn netns_available() -> bool {
    Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Every configuration under reference/v3.7.9 (static and dynamic, rendered as Traefik's test
/// harness would) gets the same accept/refuse verdict from TrafficCop as from the real binary.
/// Static files run in private network namespaces, four at a time; without `unshare` the test
/// skips (the curated test above still runs).
#[test]
fn every_reference_fixture_gets_traefiks_verdict() {
    let Some(shared) = shared_or_skip("every_reference_fixture_gets_traefiks_verdict") else {
        return;
    };
    let Some(bin) = traefik_bin() else {
        eprintln!("SKIPPED every_reference_fixture_gets_traefiks_verdict: no Traefik binary");
        return;
    };
    if !netns_available() {
        eprintln!(
            "SKIPPED every_reference_fixture_gets_traefiks_verdict: `unshare -n` is not available"
        );
        return;
    }
    let reference = reference_dir(&shared);
    let dir = workdir("all");
    // (label, rendered text, file name, is_dynamic)
    let mut jobs: Vec<(String, String, PathBuf, bool)> = Vec::new();
    let mut statics: Vec<PathBuf> = vec![
        reference.join("docs/content/reference/static-configuration/file.yaml"),
        reference.join("docs/content/reference/static-configuration/file.toml"),
    ];
    statics.extend(trafficcop_spec::fixtures::files_with_ext(
        &reference.join("pkg/cli/fixtures"),
        &["toml"],
    ));
    let dynamic_roots = ["http", "tcp", "udp", "tls"];
    for f in trafficcop_spec::fixtures::files_with_ext(
        &reference.join("integration/fixtures"),
        &["toml", "yaml", "yml"],
    ) {
        let raw = std::fs::read_to_string(&f).unwrap();
        let rendered = render_fixture(&raw, "/nonexistent").unwrap_or(raw);
        let format = Format::from_path(&f.display().to_string()).unwrap();
        let root = trafficcop_core::config::parse_document(&rendered, format, None).ok();
        let only_dynamic = root.as_ref().and_then(|r| r.as_map()).is_some_and(|m| {
            !m.is_empty()
                && m.iter()
                    .all(|e| dynamic_roots.iter().any(|k| k.eq_ignore_ascii_case(&e.key)))
        });
        if only_dynamic {
            let rel = f.strip_prefix(&reference).unwrap().display().to_string();
            jobs.push((rel, std::fs::read_to_string(&f).unwrap(), f.clone(), true));
        } else {
            statics.push(f);
        }
    }
    for (i, f) in statics.iter().enumerate() {
        let rel = f.strip_prefix(&reference).unwrap().display().to_string();
        let ext = f.extension().unwrap().to_string_lossy().to_string();
        let target = dir.join(format!("static{i}.{ext}"));
        let text = render_fixture(
            &std::fs::read_to_string(f).unwrap(),
            &target.display().to_string(),
        )
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
        std::fs::write(&target, &text).unwrap();
        jobs.push((rel, text, target, false));
    }
    let cwd = reference.join("integration");
    let results: Vec<(String, bool, bool)> = std::thread::scope(|s| {
        let chunks: Vec<Vec<(String, String, PathBuf, bool)>> = (0..4)
            .map(|k| jobs.iter().skip(k).step_by(4).cloned().collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .enumerate()
            .map(|(k, chunk)| {
                let bin = &bin;
                let cwd = &cwd;
                let dir = &dir;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (j, (rel, text, path, dynamic)) in chunk.into_iter().enumerate() {
                        let name = path.display().to_string();
                        let (theirs, ours) = if dynamic {
                            let sub = dir.join(format!("dyn-{k}-{j}"));
                            std::fs::create_dir_all(&sub).unwrap();
                            let copy = sub.join(path.file_name().unwrap());
                            std::fs::write(&copy, &text).unwrap();
                            (
                                traefik_accepts_dynamic(bin, &copy, &sub),
                                ours_dynamic(&text, &name),
                            )
                        } else {
                            (
                                traefik_accepts_static_isolated(bin, &path, cwd),
                                ours_static(&text, &name),
                            )
                        };
                        out.push((rel, theirs, ours));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let refused = results.iter().filter(|(_, t, _)| !t).count();
    let mismatches: Vec<String> = results
        .iter()
        .filter(|(_, t, o)| t != o)
        .map(|(rel, t, o)| format!("{rel}: traefik accepts={t}, trafficcop accepts={o}"))
        .collect();
    eprintln!(
        "every reference fixture: {} configurations ({refused} refused by Traefik), {} disagreements",
        results.len(),
        mismatches.len()
    );
    assert!(
        results.len() >= 150,
        "only {} fixtures found",
        results.len()
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
