//! A database written by the previous release (schema 1, `tests/fixtures/v1`) is refused with
//! how to migrate it; `orderdesk migrate` converts it, and afterwards every answer (list,
//! queue, audit, feed, every hierarchy) is the one the previous release gave. A kill -9 at any
//! moment of a migration leaves one whole database: the old one untouched, or the new one
//! complete; running it again finishes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const NOW: &str = "2025-06-10T09:00:00-05:00";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

/// A copy of the version-1 database in a fresh directory (the fixture itself is never opened:
/// sled writes on open).
fn copy_of_v1() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");
    copy_dir(&fixture().join("db"), &db);
    (dir, db)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn orderdesk(db: &Path, args: &[&str]) -> Command {
    common::cli::orderdesk(db, NOW, args)
}

fn run(db: &Path, args: &[&str]) -> Output {
    common::cli::run(db, NOW, args)
}

fn stdout(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every answer the fixture recorded from the previous release, asked again of `db`.
fn answers_match_the_previous_release(db: &Path) {
    let expected = |name: &str| std::fs::read_to_string(fixture().join(name)).expect("fixture");
    for (name, args) in [
        ("list.json", vec!["--read-only", "list", "--json"]),
        ("queue.json", vec!["--read-only", "queue", "--json"]),
        ("audit.json", vec!["--read-only", "audit", "--json"]),
        ("feed.json", vec!["--read-only", "feed", "C-1", "--json"]),
    ] {
        assert_eq!(stdout(db, &args), expected(name), "{name}");
    }
    let list: Vec<serde_json::Value> = serde_json::from_str(&expected("list.json")).expect("list");
    let shows: Vec<String> = list
        .iter()
        .filter_map(|a| a["id"].as_str())
        .map(|id| stdout(db, &["--read-only", "show", id, "--json"]).replace('\n', ""))
        .collect();
    let expected_shows: Vec<String> = expected("shows.jsonl")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(shows, expected_shows, "every hierarchy");
    assert!(stdout(db, &["check"]).contains("consistent"));
}

fn kept(db: &Path) -> PathBuf {
    db.with_file_name("db.v1")
}

#[test]
fn a_version_1_database_is_refused_then_migrated_with_every_answer_unchanged() {
    let (_dir, db) = copy_of_v1();
    let out = run(&db, &["list"]);
    assert_eq!(out.status.code(), Some(3));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("schema version 1"), "{said}");
    assert!(said.contains("orderdesk migrate --db"), "{said}");

    let said = stdout(&db, &["migrate"]);
    assert!(said.contains("from schema version 1 to 3"), "{said}");
    assert!(said.contains("db.v1"), "{said}");
    assert!(kept(&db).is_dir(), "the old database is kept");
    answers_match_the_previous_release(&db);

    // Once is enough; the kept copy is the operator's to remove.
    assert!(stdout(&db, &["migrate"]).contains("nothing to migrate"));
    let again = kept(&db).with_file_name("again");
    copy_dir(&fixture().join("db"), &again);
    copy_dir(&fixture().join("db"), &again.with_file_name("again.v1"));
    let out = run(&again, &["migrate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is in the way"));
}

#[test]
fn the_migrated_database_is_about_half_the_size() {
    let (_dir, db) = copy_of_v1();
    let sizes = |path: &Path| -> u64 {
        std::fs::read_dir(path)
            .expect("read")
            .filter_map(|e| e.ok())
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    };
    stdout(&db, &["migrate"]);
    stdout(&db, &["check"]);
    let (new, old) = (sizes(&db), sizes(&kept(&db)));
    assert!(new * 10 < old * 7, "new {new} bytes, old {old}");
}

#[test]
fn a_kill_at_any_moment_of_a_migration_leaves_one_whole_database() {
    let mut moments = common::cli::Moments::new(0x2545_f491_4f6c_dd1d);
    // How long a whole migration takes here, paused in every phase: kills land across it.
    let span = {
        let (_dir, db) = copy_of_v1();
        let started = std::time::Instant::now();
        let out = orderdesk(&db, &["migrate"])
            .env("ORDERDESK_TEST_MIGRATE_PAUSE_MS", "15")
            .output()
            .expect("run");
        assert!(out.status.success());
        started.elapsed().as_millis() as u64
    };
    let (mut old, mut new, mut partial) = (0, 0, 0);
    for trial in 0..30 {
        let (_dir, db) = copy_of_v1();
        let mut child = orderdesk(&db, &["migrate"])
            .env("ORDERDESK_TEST_MIGRATE_PAUSE_MS", "15")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(moments.below(span + span / 5)));
        let _ = child.kill();
        child.wait().expect("wait");
        // One whole database: the old one (refused as schema 1, nothing moved aside), or the
        // new one, complete, with the old one kept (a kill between the two moves is finished
        // by the next open).
        let out = run(&db, &["--read-only", "list"]);
        if out.status.success() {
            assert!(
                kept(&db).is_dir(),
                "trial {trial}: migrated, and the old one kept"
            );
            new += 1;
        } else {
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(said.contains("schema version 1"), "trial {trial}: {said}");
            assert!(!kept(&db).exists(), "trial {trial}: nothing moved aside");
            old += 1;
            partial += usize::from(db.with_file_name("db.migrating").exists());
        }
        // Running it again finishes, whatever the kill left.
        stdout(&db, &["migrate"]);
        if trial < 2 || (old == 1 && new == 0) {
            answers_match_the_previous_release(&db);
        } else {
            assert!(stdout(&db, &["check"]).contains("consistent"));
        }
        if trial == 0 {
            // The kept copy is the old database untouched: it migrates to the same answers.
            let elsewhere = db.with_file_name("elsewhere");
            std::fs::rename(kept(&db), &elsewhere).expect("move the kept copy");
            stdout(&elsewhere, &["migrate"]);
            answers_match_the_previous_release(&elsewhere);
        }
    }
    assert!(
        old > 0 && new > 0,
        "kills landed before ({old}) and after ({new}) the move"
    );
    assert!(partial > 0, "some kills interrupted the copy itself");
}

#[test]
fn compacting_rewrites_a_current_database_beside_itself_with_every_answer_unchanged() {
    let (_dir, db) = copy_of_v1();
    stdout(&db, &["migrate"]);
    std::fs::remove_dir_all(kept(&db)).expect("remove the kept copy");
    let said = stdout(&db, &["migrate", "--compact"]);
    assert!(
        said.contains("compacted") && said.contains("(schema version 3)"),
        "{said}"
    );
    assert!(said.contains("MB on disk before"), "{said}");
    assert!(
        db.with_file_name("db.v3").is_dir(),
        "the database as it was is kept"
    );
    answers_match_the_previous_release(&db);
}
