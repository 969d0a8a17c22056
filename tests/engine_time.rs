//! Engine time belongs to the database: a fast clock's run is continued, not restarted, by the
//! next server and the next command, and every audit line says when it happened on the wall
//! clock too. Given / when / then.

#[path = "common/server.rs"]
mod served;

use chrono::{DateTime, Utc};
use serde_json::Value;
use served::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An hour of engine time per wall second.
const SPEED: &str = "3600";

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    let text = r#"
timezone = "America/Chicago"

[operators]
ada = "supervisor"

[access]
act_for_others = ["root"]
"#;
    std::fs::write(&path, text).expect("config");
    path
}

fn instant(value: &Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("a time: {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .to_utc()
}

/// One audited action: ada runs the throttle batch by hand.
fn run_batch(db: &Path, config: &Path) {
    ok(&cli(db, config, &["--operator", "ada", "crwto"]));
}

#[test]
fn a_fast_clock_continues_from_the_last_run_and_the_audit_keeps_wall_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let db = dir.path().join("db");
    let started = Utc::now();

    // Given a server on a fast clock that ran for a few wall seconds and audited two actions,
    let server = Served::start(&db, &config, &["--no-sim", "--speed", SPEED]);
    std::thread::sleep(Duration::from_millis(1500));
    run_batch(&db, &config);
    std::thread::sleep(Duration::from_millis(1500));
    run_batch(&db, &config);
    assert!(server.terminate().success());

    // when the server starts again on the same database, and then a command runs alone,
    let server = Served::start(&db, &config, &["--no-sim", "--speed", SPEED]);
    run_batch(&db, &config);
    assert!(server.terminate().success());
    run_batch(&db, &config);

    // then the audit is in engine-time order, each line with a wall time,
    let audit: Value = serde_json::from_str(&ok(&cli(
        &db,
        &config,
        &["--operator", "ada", "audit", "--json"],
    )))
    .expect("json");
    let lines: Vec<&Value> = audit
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| e["action"] == "crwto")
        .collect();
    assert_eq!(lines.len(), 4, "{audit}");
    let at: Vec<DateTime<Utc>> = lines.iter().map(|e| instant(&e["at"])).collect();
    let wall: Vec<DateTime<Utc>> = lines.iter().map(|e| instant(&e["wall"])).collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "engine time: {at:?}");
    assert!(wall.windows(2).all(|w| w[0] <= w[1]), "wall time: {wall:?}");
    let finished = Utc::now();
    for w in &wall {
        assert!(
            *w >= started - chrono::Duration::seconds(1) && *w <= finished,
            "{w}"
        );
    }
    // and engine time ran ahead of the wall clock and went on from there after each restart:
    // the second server's first action is later than anything the first server audited,
    // though by the wall clock it came only seconds after.
    assert!(
        at[1] - wall[1] > chrono::Duration::hours(2),
        "{at:?} {wall:?}"
    );
    assert!(at[2] >= at[1] && at[2] - wall[2] > chrono::Duration::hours(2));
    assert!(at[3] >= at[2] && at[3] - wall[3] > chrono::Duration::hours(2));
    // No time carries a fraction of a second.
    for e in &lines {
        for field in ["at", "wall"] {
            let text = e[field].as_str().unwrap_or_default();
            assert!(!text.contains('.'), "{field}: {text}");
        }
    }
}

/// The runtime the desk embeds keeps the mark as it runs and at shutdown, so the next desk on
/// the database starts from it: here the clock stands at a time far ahead of the wall clock.
#[test]
fn the_embedded_runtime_keeps_its_time_in_the_database() {
    use orderdesk::config::Config;
    use orderdesk::engine::Engine;
    use orderdesk::runtime::{Clock, Runtime, RuntimeOptions};
    use orderdesk::store::SledStore;

    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");
    let ahead = Utc::now() + chrono::Duration::days(30);
    let ahead = DateTime::from_timestamp(ahead.timestamp(), 0).expect("whole seconds");
    // Given a desk whose runtime ran (passes every 10 ms) on a clock a month ahead,
    let store = SledStore::open(&db, "test").expect("open");
    let engine = Engine::new(Box::new(store), Config::default());
    assert_eq!(engine.time_mark().expect("mark"), None);
    let options = RuntimeOptions {
        clock: Clock::for_run(Some(ahead), 0.0, None),
        monitor_every: Some(Duration::from_millis(10)),
        crwto_every_minutes: 0,
        simulate: false,
    };
    let tokio = tokio::runtime::Runtime::new().expect("tokio");
    tokio.block_on(async {
        let runtime = Runtime::start(engine, options).expect("start");
        tokio::time::sleep(Duration::from_millis(100)).await;
        runtime.shutdown().await.expect("shutdown");
    });
    // when the next desk opens the database without --now (sled lets go of its lock a moment
    // after the last handle drops, so the open is tried again for a while),
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let store = loop {
        match SledStore::open(&db, "test") {
            Ok(store) => break store,
            Err(err) if std::time::Instant::now() > deadline => panic!("reopen: {err}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let engine = Engine::new(Box::new(store), Config::default());
    let mark = engine.time_mark().expect("mark");
    // then its clock starts at the kept time, not at the wall clock.
    assert_eq!(mark, Some(ahead));
    assert!(Clock::for_run(None, 60.0, mark).now() >= ahead);
}
