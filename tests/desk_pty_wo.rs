//! The real binary in a pseudo-terminal on the demo database: a clerk opens a work order's
//! detail with Enter and assigns it to a crew from the pick list, and the detail shows who.

mod pty;

use pty::*;

#[test]
fn a_clerk_opens_a_work_order_and_assigns_it_from_the_pick_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    let mut desk = Desk::open(&db, "bo");
    desk.wait_for("Open work orders");
    desk.keys("\r");
    desk.wait_for("Work order WO-");
    desk.wait_for("Activities at SP-");
    desk.keys("a");
    desk.wait_for("partner (UST)");
    desk.wait_for("North Crew (internal)");
    desk.keys("north");
    desk.wait_for("▸ North Crew");
    desk.keys("\r");
    desk.wait_for("assigned to North Crew (internal)");
    // The detail re-reads: the assignee and who assigned it.
    desk.wait_for("North Crew (internal) · by bo");
    desk.keys("\x1b");
    desk.wait_for("Open work orders");
    let (status, _) = desk.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
}
