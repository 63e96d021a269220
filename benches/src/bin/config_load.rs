//! Benchmark (not a test): generates a dynamic configuration with N routers, services and
//! middlewares (default 10,000 each), then times loading (YAML and TOML) and validating it, and
//! reports the process's peak RSS. Run: `cargo run --release -p trafficcop-benches --bin config_load [N] [yaml|toml]`
//! (one format per run gives each its own peak RSS).

use std::time::Instant;

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::validate::validate_dynamic;
use trafficcop_core::config::Format;

fn yaml(n: usize) -> String {
    let mut s = String::with_capacity(n * 400);
    s.push_str("http:\n  routers:\n");
    for i in 0..n {
        s.push_str(&format!(
            "    router{i}:\n      rule: \"Host(`app{i}.example.com`) && PathPrefix(`/api`)\"\n      service: svc{i}\n      middlewares: [mw{i}]\n      entryPoints: [web]\n"
        ));
    }
    s.push_str("  services:\n");
    for i in 0..n {
        s.push_str(&format!(
            "    svc{i}:\n      loadBalancer:\n        servers:\n          - url: \"http://10.0.{}.{}:8080\"\n          - url: \"http://10.1.{}.{}:8080\"\n        healthCheck: {{path: /health, interval: 10s}}\n",
            i / 250, i % 250, i / 250, i % 250
        ));
    }
    s.push_str("  middlewares:\n");
    for i in 0..n {
        s.push_str(&format!(
            "    mw{i}:\n      stripPrefix:\n        prefixes: [\"/api\"]\n"
        ));
    }
    s
}

fn toml(n: usize) -> String {
    let mut s = String::with_capacity(n * 400);
    for i in 0..n {
        s.push_str(&format!(
            "[http.routers.router{i}]\nrule = \"Host(`app{i}.example.com`) && PathPrefix(`/api`)\"\nservice = \"svc{i}\"\nmiddlewares = [\"mw{i}\"]\nentryPoints = [\"web\"]\n\n[http.services.svc{i}.loadBalancer]\n[[http.services.svc{i}.loadBalancer.servers]]\nurl = \"http://10.0.0.1:8080\"\n[[http.services.svc{i}.loadBalancer.servers]]\nurl = \"http://10.0.0.2:8080\"\n\n[http.middlewares.mw{i}.stripPrefix]\nprefixes = [\"/api\"]\n\n"
        ));
    }
    s
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|v| v.parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let only = std::env::args().nth(2);
    let st = load_static("entryPoints: {web: {address: ':80'}}\n", Format::Yaml, None).config;
    for (name, format) in [("yaml", Format::Yaml), ("toml", Format::Toml)] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let text = if format == Format::Yaml {
            yaml(n)
        } else {
            toml(n)
        };
        let t0 = Instant::now();
        let load = load_dynamic(&text, format, Some("bench".into()));
        let t1 = Instant::now();
        assert!(!load.is_fatal(), "{:?}", &load.diagnostics[..1]);
        let errors = validate_dynamic(&load.config, &st, "file", &load.sources);
        let t2 = Instant::now();
        assert!(errors.is_empty(), "{:?}", &errors[..1]);
        let http = load.config.http.as_ref().unwrap();
        println!(
            "{name}: {} routers, {} services, {} middlewares ({} KiB of text): load {:.1} ms, validate {:.1} ms, total {:.1} ms",
            http.routers.len(),
            http.services.len(),
            http.middlewares.len(),
            text.len() / 1024,
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t2 - t0).as_secs_f64() * 1e3,
        );
    }
    println!("peak RSS: {:.1} MiB", peak_rss_kib() as f64 / 1024.0);
}
