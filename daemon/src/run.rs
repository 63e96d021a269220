//! The run command: load the configuration, start the workers on every TCP entry point, apply
//! file-provider changes live, and drain on SIGTERM/SIGINT as Traefik's `lifeCycle` says.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::runtime::Workers;
use crate::serving::compile_for_serving;
use trafficcop_core::config::dynamic::DynamicConfiguration;
use trafficcop_core::config::static_config::{overlapping_address, StaticConfiguration};
use trafficcop_core::config::Severity;
use trafficcop_core::proxy::CompiledConfig;

use crate::log;
use crate::static_source::{self, Source};
use crate::watch::{Change, Watcher};

/// The machine's host name (for `X-Forwarded-Server`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

fn report(config: &CompiledConfig) {
    for e in &config.errors {
        log::error(&e.to_string());
    }
}

/// Runs the proxy; returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    let mut args = args.to_vec();
    let runtime = match crate::runtime::take_runtime(&mut args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("command trafficcop error: {e}");
            return 1;
        }
    };
    let loaded = match static_source::load(&args) {
        Ok(l) => l,
        Err(errs) => {
            for e in errs {
                log::error(&e.to_string());
            }
            return 1;
        }
    };
    let st = loaded.load.config.clone();
    let (level, json, file) = st
        .log
        .as_ref()
        .map_or((log::Level::Error, false, None), |l| {
            (
                log::Level::parse(&l.level),
                l.format == "json",
                Some(l.file_path.clone()),
            )
        });
    if let Err(e) = log::init(level, json, file.as_deref()) {
        eprintln!("cannot open log file: {e}");
        return 1;
    }
    match &loaded.source {
        Source::File(p) => log::info(&format!("Configuration loaded from file: {}", p.display())),
        Source::Flags => log::info("Configuration loaded from flags"),
        Source::Env => log::info("Configuration loaded from environment variables"),
    }
    let mut fatal = false;
    for d in &loaded.load.diagnostics {
        match d.severity {
            Severity::Fatal => {
                fatal = true;
                log::error(&d.to_string());
            }
            _ => log::warn(&d.to_string()),
        }
    }
    if fatal {
        log::error("command trafficcop error: the static configuration is invalid");
        return 1;
    }

    let file_provider = st.providers.as_ref().and_then(|p| p.file.clone());
    let throttle = st.providers.as_ref().map_or(Duration::from_secs(2), |p| {
        p.providers_throttle_duration.to_std()
    });
    // The watcher takes its first look before the first load, so no change is missed between.
    let watcher = file_provider
        .clone()
        .filter(|f| f.watch)
        .map(|f| Watcher::new(f, throttle));
    let mut dynamic = DynamicConfiguration::default();
    if let Some(fp) = &file_provider {
        let load = crate::file_provider::load(fp);
        for d in &load.diagnostics {
            log::error(&d.to_string());
        }
        if load.is_fatal() {
            log::error(
                "Cannot start the provider *file.Provider: the file configuration is invalid",
            );
            if !fp.watch {
                // Traefik keeps running without this provider's configuration.
            }
        } else {
            dynamic = load.config;
        }
    }
    let ours = st.trafficcop.clone().unwrap_or_default();
    let runtime = crate::runtime::choose_runtime(runtime, &ours.runtime);
    let worker_count = crate::runtime::choose_workers(
        std::env::var("TRAFFICCOP_WORKERS").ok().as_deref(),
        ours.workers,
    );
    let mut generation = 1;
    let compiled = compile_for_serving(&st, &dynamic, generation, worker_count);
    report(&compiled);
    crate::health_probes::start(&compiled);

    // Listeners: each entry point's name, address and `reusePort`.
    let reuse_port = |name: &str| st.entry_points.get(name).is_some_and(|e| e.reuse_port);
    let tcp_eps: Vec<_> = compiled
        .entry_points
        .iter()
        .map(|e| (&*e.name, &e.address, reuse_port(&e.name)))
        .collect();
    let udp_eps: Vec<_> = compiled
        .udp_entry_points
        .iter()
        .map(|e| (e.name.as_str(), &e.address, reuse_port(&e.name)))
        .collect();
    let Some(listeners) = resolve_listeners(&tcp_eps, "tcp") else {
        return 1;
    };
    let Some(udp_listeners) = resolve_listeners(&udp_eps, "udp") else {
        return 1;
    };
    log::info(&format!(
        "starting {worker_count} worker(s) on the {} runtime",
        match runtime {
            crate::runtime::Runtime::Tokio => "tokio",
            crate::runtime::Runtime::Mio => "mio",
        }
    ));
    let access = st.access_log.as_ref().and_then(start_access_log);
    let (access, reopen_access, access_writer) = match access {
        Some(a) => (Some(a.sink), Some(a.reopen), Some(a.writer)),
        None => (None, None, None),
    };
    let workers = match Workers::start(
        runtime,
        worker_count,
        listeners,
        udp_listeners,
        hostname(),
        compiled.clone(),
        access,
    ) {
        Ok(w) => w,
        Err(e) => {
            log::error(&format!("error opening listener: {e}"));
            return 1;
        }
    };
    let handle = workers.handle();
    crate::memory::start_trimming();
    for (name, address, _) in tcp_eps.iter().chain(&udp_eps) {
        log::info(&format!(
            "Starting entryPoint {name} on {}",
            address.bind_string()
        ));
    }

    // File provider watch.
    if let Some(mut w) = watcher {
        let st_for_watch: StaticConfiguration = st.clone();
        let publisher = handle.clone();
        std::thread::Builder::new()
            .name("trafficcop-file-watch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(200));
                    match w.poll(Instant::now()) {
                        Some(Change::Reloaded(load)) => {
                            generation += 1;
                            let compiled = compile_for_serving(&st_for_watch, &load.config, generation, worker_count);
                            report(&compiled);
                            crate::health_probes::start(&compiled);
                            log::info("Configuration reloaded from the file provider");
                            publisher.publish(compiled);
                        }
                        Some(Change::Rejected(load)) => {
                            for d in load.diagnostics.iter().filter(|d| d.is_fatal()) {
                                log::error(&d.to_string());
                            }
                            log::error("Error while building configuration: keeping the last good configuration");
                        }
                        None => {}
                    }
                }
            })
            .ok();
    }

    // Signals and graceful shutdown.
    let grace = compiled
        .entry_points
        .iter()
        .map(|e| e.grace_timeout.to_std())
        .max()
        .unwrap_or(Duration::from_secs(10));
    let accept_grace = compiled
        .entry_points
        .iter()
        .map(|e| e.request_accept_grace_timeout.to_std())
        .max()
        .unwrap_or_default();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::error(&e.to_string());
            return 1;
        }
    };
    rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        // `SIGUSR1` opens the access log file again (log rotation), as Traefik does.
        let mut usr1 = signal(SignalKind::user_defined1()).ok();
        loop {
            let rotated = async {
                match usr1.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = rotated => {
                    if let Some(reopen) = &reopen_access {
                        reopen();
                    }
                }
            }
        }
        log::info("I have to go...");
        if !accept_grace.is_zero() {
            tokio::time::sleep(accept_grace).await;
        }
        handle.drain();
        log::info("Stopping server gracefully");
        let stop = handle.clone();
        std::thread::spawn(move || {
            std::thread::sleep(grace);
            stop.stop();
        });
    });
    let joined = workers.join();
    // The workers' sinks are gone with them: the last lines are written, then the writer ends.
    drop(reopen_access);
    if let Some(w) = access_writer {
        let _ = w.join();
    }
    match joined {
        Ok(()) => {
            log::info("Shutting down");
            0
        }
        Err(e) => {
            log::error(&e.to_string());
            1
        }
    }
}

/// Traefik's error when entry point `name`'s address (`listen`) is taken, worded as its TCP
/// and UDP entry points word it.
fn address_in_use(name: &str, protocol: &str, listen: &str) -> String {
    let how = if protocol == "udp" {
        "error creating listener: listen packet"
    } else {
        "building listener: error opening listener"
    };
    format!(
        "command traefik error: error while building entryPoint {name}: {how}: listen {protocol} {listen}: bind: address already in use"
    )
}

/// Resolves the listening addresses of one protocol's entry points (`(name, address,
/// reusePort)` in configuration order) to `(index, address)`. Logs Traefik's error and returns
/// `None` when one cannot be resolved, or when an address is taken: by an earlier entry point
/// unless both set `reusePort`, or by another process unless this one does. (TrafficCop binds
/// with `SO_REUSEPORT`, which would silently share it, where Traefik fails with "address
/// already in use".)
fn resolve_listeners(
    eps: &[(
        &str,
        &trafficcop_core::config::static_config::ListenAddress,
        bool,
    )],
    protocol: &str,
) -> Option<Vec<(usize, SocketAddr)>> {
    let mut listeners = Vec::new();
    for (i, (name, address, _)) in eps.iter().enumerate() {
        let bind = address.bind_string();
        match bind.to_socket_addrs().ok().and_then(|mut a| a.next()) {
            Some(a) => listeners.push((i, a)),
            None => {
                log::error(&format!(
                    "error while building entryPoint {name}: cannot resolve {bind}"
                ));
                return None;
            }
        }
    }
    let resolved: Vec<(SocketAddr, bool)> =
        listeners.iter().map(|(i, a)| (*a, eps[*i].2)).collect();
    let taken = overlapping_address(&resolved).or_else(|| {
        listeners
            .iter()
            .position(|(i, a)| !eps[*i].2 && crate::runtime::address_taken(*a, protocol == "udp"))
    });
    if let Some(i) = taken {
        let (name, address, _) = eps[listeners[i].0];
        log::error(&address_in_use(name, protocol, &address.listen_string()));
        return None;
    }
    Some(listeners)
}

/// Starts the access log `cfg` describes, or `None` when it cannot be opened (Traefik goes on
/// without one) or writes nowhere (OTLP only, not built).
fn start_access_log(
    cfg: &trafficcop_core::config::static_config::AccessLog,
) -> Option<crate::access_log::AccessLog> {
    if cfg.otlp.is_some() && !cfg.dual_output {
        return None;
    }
    match crate::access_log::start(cfg) {
        Ok(a) => {
            for w in &a.warnings {
                log::error(w);
            }
            Some(a)
        }
        Err(e) => {
            log::warn(&format!("Unable to create access logger: {e}"));
            None
        }
    }
}
