//! The `trafficcop` command: a drop-in for `traefik` on file-based configuration.
//!
//! Sub-commands: (none) run, `version`, `healthcheck`, and our extension `check`, which loads
//! the static and dynamic configuration and prints every problem.

use trafficcop_daemon::{check, healthcheck, run, static_source};

use std::process::ExitCode;

const HELP: &str = "trafficcop: a Traefik-compatible reverse proxy and load balancer

Usage:
  trafficcop [--configFile=FILE] [--<static.option>=VALUE ...]   run
  trafficcop check [--strict] [same flags]                        load and check the configuration
  trafficcop healthcheck [same flags]                             ask the ping endpoint (exit 0/1)
  trafficcop version                                              print version information

The static configuration is read as Traefik does: --configFile, else traefik.{toml,yaml,yml}
(or trafficcop.*) in /etc/traefik, $XDG_CONFIG_HOME, $HOME/.config or the working directory;
without a file, from the flags (--entryPoints.web.address=:80, --providers.file.directory=DIR,
...); without flags, from TRAEFIK_* environment variables. The three sources never merge.

check prints each problem as file:line:col: key.path: message and exits 1 when Traefik would
refuse the configuration; problems Traefik tolerates by disabling one router, service or
middleware exit 0 (1 with --strict).
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "--help" | "-help" | "-h"))
    {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    while args
        .first()
        .is_some_and(|a| a == "trafficcop" || a == "traefik")
    {
        args.remove(0);
    }
    let code = match args.first().map(String::as_str) {
        Some("version") => {
            println!("Version:      {}", env!("CARGO_PKG_VERSION"));
            println!("Codename:     trafficcop");
            println!("Traefik:      3.7 configuration compatible");
            println!(
                "OS/Arch:      {}/{}",
                std::env::consts::OS,
                std::env::consts::ARCH
            );
            0
        }
        Some("check") => check::run(&args[1..]),
        Some("healthcheck") => match static_source::load(&args[1..]) {
            Ok(l) if !l.load.is_fatal() => healthcheck::run(&l.load.config),
            Ok(l) => check::print_fatal(&l.load.diagnostics),
            Err(errs) => check::print_fatal(&errs),
        },
        Some(word) if !word.starts_with('-') => {
            eprint!("{HELP}");
            eprintln!("Error: command not found: {word}");
            1
        }
        _ => run::run(&args),
    };
    ExitCode::from(code as u8)
}
