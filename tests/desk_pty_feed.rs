//! The real binary in a pseudo-terminal on a temporary demo database, its screen parsed with
//! vt100: a support person opens a customer's activity feed, filters it to Conversation Message,
//! enters a seven-month date range and sees it refused (naming the rule), resets, opens a service
//! order from the feed (its hierarchy appears), and finds the feed as they left it after a restart.

mod pty;

use pty::*;

/// The service order id the feed's detail pane names (" Service Order SO-12 ").
fn service_order_in_detail(screen: &str) -> Option<String> {
    let at = screen.find("Service Order SO-")? + "Service Order ".len();
    let id: String = screen[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Some(id)
}

#[test]
fn a_support_person_reads_a_customers_feed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());

    let mut desk = Desk::open(&db, "sue");
    desk.keys("4");
    desk.wait_for("no customer chosen");

    // Pick the customer by id: the feed opens on the default six-month buckets.
    desk.keys("p");
    desk.wait_for("Find a customer");
    desk.keys("C-1\r");
    desk.wait_for("(C-1)");
    desk.wait_for("by six months");
    assert!(
        desk.text().contains("── "),
        "bucket headers:\n{}",
        desk.text()
    );

    // Filter by → Conversation Message (the first row), applied with Enter.
    desk.keys("fc");
    desk.wait_for("Filter by");
    desk.keys("l");
    desk.wait_for("[x] Conversation Message");
    desk.keys("\r");
    desk.wait_for("only Conversation");
    let text = desk.text();
    assert!(
        text.contains("Call") || text.contains("Chat"),
        "calls or chats are listed:\n{text}"
    );
    assert!(!text.contains("Bill "), "no bills once filtered:\n{text}");

    // Seven months is refused, naming the rule; the history window stays.
    desk.keys("fd");
    desk.wait_for("From and to");
    desk.keys("2024-01-01 2024-08-01\r");
    desk.wait_for("longer_than_six_months");
    let text = desk.text();
    assert!(text.contains("Refused by rule 4"), "{text}");
    assert!(text.contains("by six months"), "the window stays:\n{text}");
    // The refused range stays in its prompt to be corrected; Esc leaves it.
    assert!(text.contains("> 2024-01-01 2024-08-01"), "{text}");
    desk.keys("\x1b");

    // Reset: every category over the whole history, and the refusal is gone.
    desk.keys("fr");
    desk.wait_for("every category");
    assert!(!desk.text().contains("Refused by rule"), "{}", desk.text());

    // Open a service order from the feed: its hierarchy appears.
    desk.keys("fc");
    desk.wait_for("Filter by");
    desk.keys("jjjjjj");
    desk.keys("l");
    desk.wait_for("[x] Service Order");
    desk.keys("\r");
    desk.wait_for("only Service Order");
    let id = service_order_in_detail(&desk.text())
        .unwrap_or_else(|| panic!("a service order in the detail pane:\n{}", desk.text()));
    desk.keys("\r");
    desk.wait_for(&format!("▼ {id}"));
    let (status, _) = desk.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");

    // After a restart the feed is as it was left: the customer, the filter.
    let mut desk = Desk::open(&db, "sue");
    desk.keys("4");
    desk.wait_for("(C-1)");
    desk.wait_for("only Service Order");
    let (status, _) = desk.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
}

#[test]
fn each_role_opens_on_its_own_view_and_each_operator_keeps_their_own_feed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());

    // Support opens on the feed; sue picks a customer.
    let mut sue = Desk::open(&db, "sue");
    sue.wait_for("no customer chosen");
    sue.keys("p");
    sue.wait_for("Find a customer");
    sue.keys("C-1\r");
    sue.wait_for("(C-1)");
    let (status, _) = sue.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");

    // A supervisor opens on the error inbox, and her feed is not sue's.
    let mut ada = Desk::open(&db, "ada");
    ada.wait_for("Error inbox:");
    ada.keys("4");
    ada.wait_for("no customer chosen");
    let (status, _) = ada.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");

    // A clerk opens on the queue.
    let mut bo = Desk::open(&db, "bo");
    bo.wait_for("Open work orders (");
    let (status, _) = bo.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");

    // sue finds her own customer again.
    let mut sue = Desk::open(&db, "sue");
    sue.wait_for("(C-1)");
    let (status, _) = sue.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
}
