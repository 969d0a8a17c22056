//! `orderdesk demo`: the same seed gives the same world, and a small world already shows every
//! state an operator meets at rest. The binary is driven as a script would drive it.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2025-06-10T09:00:00-05:00";
const CUSTOMERS: &str = "30";

fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/config.toml")
}

fn orderdesk(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orderdesk"))
        .arg("--db")
        .arg(db)
        .arg("--config")
        .arg(config())
        .args(["--operator", "ada", "--now", NOW])
        .args(args)
        .output()
        .expect("run orderdesk")
}

fn json(db: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = orderdesk(db, &all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "orderdesk {args:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

fn demo(db: &Path, seed: &str) -> Value {
    json(db, &["demo", "--seed", seed, "--customers", CUSTOMERS])
}

fn strings(values: &Value, key: &str) -> BTreeSet<String> {
    values
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v[key].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_same_seed_builds_the_same_world_with_every_state_at_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let summary = demo(&a, "7");
    assert_eq!(demo(&b, "7"), summary, "the summaries differ");
    assert_eq!(summary["customers"], 30);

    // Given the same seed, when both worlds are listed, then they are identical.
    let list = json(&a, &["list"]);
    assert_eq!(json(&b, &["list"]), list, "list differs");
    let queue = json(&a, &["queue"]);
    assert_eq!(json(&b, &["queue"]), queue, "queue differs");
    let mut categories = BTreeSet::new();
    for customer in 1..=30 {
        let id = format!("C-{customer}");
        let feed = json(&a, &["feed", &id]);
        assert_eq!(json(&b, &["feed", &id]), feed, "feed of {id} differs");
        categories.extend(strings(&feed["items"], "category"));
    }

    // Every orchestration state an operator meets at rest is there.
    let states = strings(&list, "state");
    for state in [
        "PENDING",
        "VALIDATION_ERROR",
        "WAIT_EFF_DATE",
        "IN_PROGRESS",
        "ACTIVITY_ERROR",
        "COMPLETED",
        "DISCARDED",
    ] {
        assert!(states.contains(state), "no {state} in {states:?}");
    }
    let types = strings(&list, "type");
    for t in [
        "enable_service",
        "disable_service",
        "cut_for_non_payment",
        "reconnect_for_payment",
        "exchange_meter",
        "back_to_back",
        "cancel_orchestration",
        "update_orchestration",
    ] {
        assert!(types.contains(t), "no {t} in {types:?}");
    }
    let codes: BTreeSet<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["status_reason"]["code"].as_str().map(str::to_string))
        .collect();
    for code in [
        "DUPLICATE_REQUEST",
        "MISSING_COLLECTION_DATA",
        "EXPIRED",
        "CHILD_ERROR",
    ] {
        assert!(codes.contains(code), "no {code} in {codes:?}");
    }

    // Work orders in every open status, some assigned, some scheduled for ada.
    let statuses = strings(&queue, "status");
    assert_eq!(
        statuses,
        ["NEW", "SENT", "SETUP"].map(String::from).into(),
        "open statuses"
    );
    let orders = queue.as_array().expect("queue is a list");
    assert!(orders.iter().any(|w| w["assignee"]["to"] == "internal"));
    assert!(orders.iter().any(|w| w["scheduled_for"] == "ada"));

    // The feed shows every category the engine takes in, and the service orders it makes.
    for category in [
        "conversation_message",
        "email",
        "service_task",
        "financial_information",
        "service_request",
        "customer_information",
        "service_order",
        "credit_and_collection",
        "outage_call",
    ] {
        assert!(
            categories.contains(category),
            "no {category} in {categories:?}"
        );
    }

    // Open work awaits the field work system and the head-end.
    let outbox = json(&a, &["outbox"]);
    let targets = strings(&outbox, "target");
    assert!(
        targets.contains("field_work") && targets.contains("head_end"),
        "{targets:?}"
    );
}

#[test]
fn another_seed_builds_another_world() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo(&a, "1");
    demo(&b, "2");
    assert_ne!(json(&a, &["feed", "C-1"]), json(&b, &["feed", "C-1"]));
}

#[test]
fn an_existing_database_is_replaced_only_with_reset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");
    demo(&db, "3");

    let refused = orderdesk(&db, &["demo", "--customers", "5"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--reset"));

    let summary = json(&db, &["demo", "--reset", "--customers", "5"]);
    assert_eq!(summary["customers"], 5);
    assert_eq!(summary["seed"], 1);
}

#[test]
fn a_directory_that_is_not_a_database_is_never_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let precious = dir.path().join("notes");
    std::fs::create_dir(&precious).expect("mkdir");
    std::fs::write(precious.join("todo.txt"), "keep me").expect("write");

    let refused = orderdesk(&precious, &["demo", "--reset", "--customers", "5"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not an orderdesk database"));
    assert!(
        precious.join("todo.txt").exists(),
        "the directory was touched"
    );
}

#[test]
fn a_read_only_desk_builds_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");
    let refused = orderdesk(&db, &["--read-only", "demo", "--customers", "5"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(!db.exists(), "a database was created");
}

#[test]
fn a_read_only_desk_on_a_missing_database_refuses_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");
    // The desk itself (no subcommand) and a command that reads.
    for args in [&[][..], &["list"][..]] {
        let mut all = vec!["--read-only"];
        all.extend_from_slice(args);
        let refused = orderdesk(&db, &all);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&db.display().to_string()) && stderr.contains("no database"),
            "{args:?}: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "{args:?} created {left:?}");
    }
}

#[test]
fn progress_is_drawn_on_a_terminal_and_quiet_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Piped: the summary on stdout, nothing on stderr.
    let piped = orderdesk(&dir.path().join("piped"), &["demo", "--customers", "5"]);
    assert_eq!(piped.status.code(), Some(0));
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(String::from_utf8_lossy(&piped.stdout).contains("demo world"));

    // On a terminal: the progress line, then the time it took.
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderdesk"));
    command
        .arg("--db")
        .arg(dir.path().join("terminal"))
        .arg("--config")
        .arg(config())
        .args(["--now", NOW, "demo", "--customers", "5"]);
    let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
    let mut seen = Vec::new();
    std::io::Read::read_to_end(&mut session, &mut seen).ok();
    let seen = String::from_utf8_lossy(&seen);
    assert!(seen.contains("orderdesk demo: "), "{seen}");
    assert!(seen.contains("built in"), "{seen}");
}
