//! The real binary in a pseudo-terminal on a temporary demo database, its screen parsed with
//! vt100: the queue, a hierarchy with an expanded node, a retry as a supervisor and a refusal
//! as a clerk, a bulk completion of two work orders, a clean quit that restores the terminal, and
//! the selected id copied with OSC 52.

mod pty;

use pty::*;

#[test]
fn a_supervisor_and_a_clerk_at_the_desk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());

    // The supervisor: the queue, the error inbox, a hierarchy, a retry, a bulk completion.
    let mut desk = Desk::open(&db, "ada");
    assert!(desk.text().contains("ada (supervisor)"), "{}", desk.text());
    desk.keys("3");
    desk.wait_for("Error inbox");
    desk.keys("\r");
    desk.wait_for("· error ");
    desk.keys("\r");
    desk.wait_for("▼");
    desk.keys("j");
    desk.keys("l");
    desk.wait_for("▼ ");
    desk.keys("gg");
    desk.keys("r");
    desk.wait_for("retried");

    desk.keys("1");
    desk.wait_for("Open work orders");
    desk.keys("  ");
    desk.wait_for("2 marked");
    desk.keys("c");
    desk.wait_for("Complete 2 work orders?");
    desk.keys("y");
    desk.wait_for("2 completed");
    let (status, raw) = desk.quit();
    assert!(
        status.contains("Exited") && status.ends_with(", 0)"),
        "exit status: {status}"
    );
    let leave_alternate = b"\x1b[?1049l";
    assert!(
        raw.windows(leave_alternate.len())
            .any(|w| w == leave_alternate),
        "the alternate screen was not left"
    );

    // The clerk is not offered a retry, and if he presses it anyway is told why at once.
    let mut desk = Desk::open(&db, "bo");
    desk.keys("3");
    desk.wait_for("Error inbox");
    desk.keys("\r");
    desk.wait_for("· error ");
    assert!(!desk.text().contains(" r retry"), "{}", desk.text());
    desk.keys("r");
    desk.wait_for("only a supervisor");
    assert!(
        desk.text().contains("bo works as a clerk"),
        "{}",
        desk.text()
    );
    let (status, _) = desk.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
}

#[test]
fn y_puts_the_selected_id_on_the_terminals_clipboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    let mut desk = Desk::open(&db, "ada");
    desk.keys("1");
    desk.wait_for("Open work orders");
    desk.keys("y");
    let (status, raw) = desk.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
    // OSC 52 to the clipboard ("c"), base64 of the id, closed by the string terminator.
    let start = b"\x1b]52;c;";
    let at = raw
        .windows(start.len())
        .position(|w| w == start)
        .expect("no OSC 52 sequence");
    let rest = &raw[at + start.len()..];
    let end = rest
        .windows(2)
        .position(|w| w == b"\x1b\\")
        .expect("the sequence is not terminated");
    // "WO-" in base64 starts "V08t".
    assert!(rest[..end].starts_with(b"V08t"), "{:?}", &rest[..end]);
}
