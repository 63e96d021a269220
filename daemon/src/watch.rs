//! `providers.file.watch`: polls the provider's files and produces a new configuration snapshot
//! when they change, no more often than `providersThrottleDuration`. A snapshot that fails to
//! load is reported and the last good configuration stays in force.

use std::time::{Duration, Instant};

use trafficcop_core::config::file_provider::FileProviderLoad;
use trafficcop_core::config::static_config::FileProvider;

use crate::file_provider;

/// What one poll found.
pub enum Change {
    /// The files changed and loaded: the new configuration.
    Reloaded(Box<FileProviderLoad>),
    /// The files changed but failed to load: the problems (the previous configuration stays).
    Rejected(Box<FileProviderLoad>),
}

/// Polls a file provider's files for changes.
pub struct Watcher {
    provider: FileProvider,
    throttle: Duration,
    last: Vec<file_provider::FileStamp>,
    last_applied: Option<Instant>,
    pending: bool,
}

impl Watcher {
    /// A watcher that treats the current files as already loaded.
    pub fn new(provider: FileProvider, throttle: Duration) -> Self {
        let last = file_provider::fingerprint(&provider);
        Watcher {
            provider,
            throttle,
            last,
            last_applied: None,
            pending: false,
        }
    }

    /// Checks the files; returns a change when they differ from the last load and the throttle
    /// allows a new snapshot (a change seen during the throttle window is kept pending).
    pub fn poll(&mut self, now: Instant) -> Option<Change> {
        let current = file_provider::fingerprint(&self.provider);
        if current != self.last {
            self.last = current;
            self.pending = true;
        }
        if !self.pending {
            return None;
        }
        if self
            .last_applied
            .is_some_and(|t| now.duration_since(t) < self.throttle)
        {
            return None;
        }
        self.pending = false;
        self.last_applied = Some(now);
        let load = file_provider::load(&self.provider);
        Some(if load.is_fatal() {
            Change::Rejected(Box::new(load))
        } else {
            Change::Reloaded(Box::new(load))
        })
    }
}
