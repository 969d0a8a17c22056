//! The real binary in a pseudo-terminal on a temporary demo database, its screen parsed with
//! vt100: the queue, a hierarchy with an expanded node, a retry as a supervisor and a refusal
//! as a clerk, a bulk completion of two work orders, and a clean quit that restores the terminal.

use expectrl::Session;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const NOW: &str = "2025-06-10T09:00:00-05:00";
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/config.toml");

struct Desk {
    session: Session,
    screen: vt100::Parser,
    raw: Vec<u8>,
}

impl Desk {
    fn open(db: &Path, operator: &str) -> Desk {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orderdesk"));
        command
            .arg("--db")
            .arg(db)
            .args([
                "--config",
                CONFIG,
                "--operator",
                operator,
                "--now",
                NOW,
                "--no-sim",
            ])
            .env("NO_COLOR", "1")
            .env("TERM", "xterm-256color");
        let mut session = Session::spawn(command).expect("spawn the desk in a pty");
        session
            .get_process_mut()
            .set_window_size(120, 40)
            .expect("window size");
        let mut desk = Desk {
            session,
            screen: vt100::Parser::new(40, 120, 0),
            raw: Vec::new(),
        };
        desk.wait_for("Open work orders");
        desk
    }

    /// Reads whatever the desk wrote so far.
    fn pump(&mut self) {
        let mut buf = [0u8; 8192];
        loop {
            match self.session.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    self.screen.process(&buf[..n]);
                    self.raw.extend_from_slice(&buf[..n]);
                }
                Err(_) => break,
            }
        }
    }

    fn text(&self) -> String {
        self.screen.screen().contents()
    }

    /// Waits until the screen shows `needle` (polling, never a fixed sleep).
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.pump();
            if self.text().contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, keys: &str) {
        self.session.write_all(keys.as_bytes()).expect("send keys");
        self.session.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(150));
        self.pump();
    }

    /// Quits and returns the exit status text and everything the desk wrote.
    fn quit(mut self) -> (String, Vec<u8>) {
        self.keys("q");
        let status = self
            .session
            .get_process()
            .wait()
            .expect("wait for the desk");
        self.pump();
        (format!("{status:?}"), self.raw)
    }
}

fn demo_db(dir: &Path) -> PathBuf {
    let db = dir.join("db");
    let out = Command::new(env!("CARGO_BIN_EXE_orderdesk"))
        .arg("--db")
        .arg(&db)
        .args([
            "--config",
            CONFIG,
            "--now",
            NOW,
            "demo",
            "--customers",
            "40",
            "--seed",
            "3",
        ])
        .output()
        .expect("build the demo");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

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

    // The clerk is refused, and told why.
    let mut desk = Desk::open(&db, "bo");
    desk.keys("3");
    desk.wait_for("Error inbox");
    desk.keys("\r");
    desk.wait_for("· error ");
    desk.keys("r");
    desk.wait_for("PERMISSION_DENIED");
    assert!(desk.text().contains("bo is a clerk"), "{}", desk.text());
    let (status, _) = desk.quit();
    assert!(status.ends_with(", 0)"), "exit status: {status}");
}
