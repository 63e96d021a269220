//! `trafficcop check`, and the start-up path shared with the run command: load the static
//! configuration, then the file provider's dynamic configuration, and report every problem.

use trafficcop_core::config::validate::validate_dynamic;
use trafficcop_core::config::{ConfigError, Severity};

use crate::static_source::{self, Source};

/// Prints fatal problems and returns exit code 1.
pub fn print_fatal(errors: &[ConfigError]) -> i32 {
    for e in errors {
        eprintln!("{e}");
    }
    eprintln!("command trafficcop error: the configuration is invalid");
    1
}

/// Loads everything; prints problems; returns (fatal, object errors) counts.
fn load_and_report(args: &[String]) -> Result<(usize, usize), i32> {
    let loaded = match static_source::load(args) {
        Ok(l) => l,
        Err(errs) => return Err(print_fatal(&errs)),
    };
    match &loaded.source {
        Source::File(p) => eprintln!("Configuration loaded from file: {}", p.display()),
        Source::Flags => eprintln!("Configuration loaded from flags"),
        Source::Env => eprintln!("Configuration loaded from environment variables"),
    }
    let mut fatal = 0;
    let mut object = 0;
    for d in &loaded.load.diagnostics {
        println!("{d}");
        match d.severity {
            Severity::Fatal => fatal += 1,
            Severity::ObjectError => object += 1,
            Severity::Warning => {}
        }
    }
    if fatal > 0 {
        return Ok((fatal, object));
    }
    let config = &loaded.load.config;
    let Some(file) = config.providers.as_ref().and_then(|p| p.file.as_ref()) else {
        return Ok((fatal, object));
    };
    let load = crate::file_provider::load(file);
    for d in &load.diagnostics {
        println!("{d}");
    }
    for w in &load.merge_warnings {
        println!("warning: {w}");
    }
    if load.is_fatal() {
        // Traefik keeps running without the file provider's configuration, but for `check`
        // a file it cannot use is a refusal.
        fatal += load.diagnostics.iter().filter(|d| d.is_fatal()).count();
        return Ok((fatal, object));
    }
    let validated = validate_dynamic(&load.config, config, "file", &load.sources);
    for e in &validated {
        println!("{e}");
        if e.severity == Severity::ObjectError {
            object += 1;
        }
    }
    // What only building the served configuration finds: certificates and TLS options,
    // features TrafficCop does not serve yet, redirections.
    let compiled = crate::serving::compile_for_serving(config, &load.config, 1, 1);
    for e in compiled.errors.iter().filter(|e| !validated.contains(e)) {
        println!("{e}");
        if e.severity == Severity::ObjectError {
            object += 1;
        }
    }
    Ok((fatal, object))
}

/// `trafficcop check [--strict] [flags]`.
pub fn run(args: &[String]) -> i32 {
    let strict = args.iter().any(|a| a == "--strict");
    let rest: Vec<String> = args.iter().filter(|a| *a != "--strict").cloned().collect();
    match load_and_report(&rest) {
        Err(code) => code,
        Ok((fatal, object)) => {
            eprintln!("{fatal} fatal problem(s), {object} object error(s)");
            i32::from(fatal > 0 || (strict && object > 0))
        }
    }
}
