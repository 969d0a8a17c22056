//! Several people on one database: two desks in pseudo-terminals and the command line against
//! one `orderdesk serve`, and a second desk going through a desk that holds the database.
//! An action in one shows in the other (pushed), a refusal names the verified operator, and a
//! server killed and started again is reconnected to with every acknowledged action there once.

mod pty;
#[path = "common/server.rs"]
mod served;

use pty::*;
use serde_json::Value;
use served::{cli, ok, Served};
use std::path::Path;

fn config() -> &'static Path {
    Path::new(CONFIG)
}

/// How many open work orders the desk's queue title shows.
fn open_orders(desk: &mut Desk) -> usize {
    desk.pump();
    let text = desk.text();
    let at = text.find("Open work orders (").expect("the queue") + "Open work orders (".len();
    text[at..]
        .split(')')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count")
}

fn first_open_order(db: &Path) -> String {
    let rows: Value =
        serde_json::from_str(&ok(&cli(db, config(), &["queue", "--json"]))).expect("queue json");
    rows[0]["id"].as_str().expect("an open order").to_string()
}

#[test]
fn two_desks_and_the_command_line_on_one_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    let server = Served::start(&db, config(), &["--no-sim", "--now", NOW]);

    let mut ada = Desk::spawn(&db, &["--operator", "ada"], 120, 40);
    let mut bo = Desk::spawn(&db, &["--operator", "bo"], 120, 40);
    // Who else is connected: names for the supervisor, a count for the clerk.
    ada.wait_for("connected: ada, bo");
    bo.wait_for("2 connected");
    // The supervisor's desk opens on the error inbox, the clerk's on the queue.
    ada.wait_for("Error inbox:");
    bo.wait_for("Open work orders");
    ada.keys("1");
    ada.wait_for("Open work orders");
    let open = open_orders(&mut ada);

    // The clerk completes the first order; the supervisor's queue follows, pushed.
    bo.keys(" ");
    bo.keys("c");
    bo.wait_for("Complete 1 work order?");
    bo.keys("y");
    bo.wait_for("1 completed");
    ada.wait_for(&format!("Open work orders ({})", open - 1));

    // The command line acts through the same server; both desks follow.
    let order = first_open_order(&db);
    ok(&cli(
        &db,
        config(),
        &[
            "--operator",
            "bo",
            "wo",
            "cancel",
            &order,
            "--reason",
            "customer called",
        ],
    ));
    ada.wait_for(&format!("Open work orders ({})", open - 2));
    bo.wait_for(&format!("Open work orders ({})", open - 2));

    // A refusal names the verified operator and his role, as the server told the desk; it
    // comes at once, before anything is sent (the server's own refusal is tested in server.rs).
    bo.keys("3");
    bo.wait_for("Error inbox");
    bo.keys("\r");
    bo.wait_for("· error ");
    bo.keys("r");
    bo.wait_for("only a supervisor");
    assert!(bo.text().contains("bo works as a clerk"), "{}", bo.text());

    // The server dies; both desks say so, keep their place, and reconnect when it is back.
    server.kill();
    ada.wait_for("lost the server");
    bo.wait_for("lost the server");
    assert!(bo.text().contains("Error inbox"), "{}", bo.text());
    let _server = Served::start(&db, config(), &["--no-sim", "--now", NOW]);
    ada.wait_for("reconnected");
    bo.wait_for("reconnected");
    bo.wait_for("2 connected");

    // Every acknowledged action is there once.
    let audit: Value =
        serde_json::from_str(&ok(&cli(&db, config(), &["audit", "--json"]))).expect("audit");
    let entries = audit.as_array().expect("entries");
    let completions: Vec<&Value> = entries
        .iter()
        .filter(|e| e["operator"] == "bo" && e["outcome"] == "done" && e["channel"] == "desk")
        .collect();
    assert_eq!(completions.len(), 1, "{completions:?}");
    let cancels = entries
        .iter()
        .filter(|e| e["ids"][0] == order.as_str() && e["channel"] == "cli")
        .count();
    assert_eq!(cancels, 1);

    let (status, _) = ada.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
    let (status, _) = bo.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
}

#[test]
fn a_second_desk_goes_through_the_desk_that_holds_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    // The first desk opens the database itself and serves it while it runs.
    let mut ada = Desk::spawn(
        &db,
        &["--operator", "ada", "--now", NOW, "--no-sim"],
        120,
        40,
    );
    let mut sue = Desk::spawn(&db, &["--operator", "sue"], 120, 40);
    ada.wait_for("connected: ada, sue");
    sue.wait_for("2 connected");
    // A script meets no lock either.
    let listed = cli(&db, config(), &["list", "--state", "ACTIVITY_ERROR"]);
    assert_eq!(listed.status.code(), Some(0), "{listed:?}");
    // When the holder quits, the other desk is told why and what to run.
    let (status, _) = ada.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
    sue.wait_for("orderdesk serve");
    let (status, _) = sue.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
}
