//! `providers.file.watch`: changes produce new snapshots, a broken file keeps the last good
//! configuration (the watcher reports a rejection), and the throttle delays snapshots.

use std::time::{Duration, Instant};

use trafficcop_core::config::static_config::FileProvider;
use trafficcop_daemon::watch::{Change, Watcher};

#[test]
fn changes_reload_and_broken_files_are_rejected() {
    let dir = std::env::temp_dir().join(format!("trafficcop-watch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dyn.yml");
    std::fs::write(&file, "http:\n  routers:\n    a: {rule: x, service: s}\n").unwrap();
    let provider = FileProvider {
        filename: file.display().to_string(),
        ..FileProvider::default()
    };
    let mut w = Watcher::new(provider, Duration::from_secs(2));
    let t0 = Instant::now();
    assert!(w.poll(t0).is_none(), "nothing changed yet");

    std::fs::write(
        &file,
        "http:\n  routers:\n    a: {rule: x, service: s}\n    b: {rule: y, service: s}\n",
    )
    .unwrap();
    match w.poll(t0) {
        Some(Change::Reloaded(l)) => assert_eq!(l.config.http.unwrap().routers.len(), 2),
        _ => panic!("expected a reload"),
    }

    std::fs::write(
        &file,
        "http:\n  routers:\n    a: {rule: x, service: s, priority: nope}\n",
    )
    .unwrap();
    assert!(w.poll(t0 + Duration::from_secs(1)).is_none(), "throttled");
    match w.poll(t0 + Duration::from_secs(3)) {
        Some(Change::Rejected(l)) => assert!(l.is_fatal()),
        _ => panic!("expected a rejection"),
    }
    assert!(
        w.poll(t0 + Duration::from_secs(10)).is_none(),
        "no change since"
    );
}
