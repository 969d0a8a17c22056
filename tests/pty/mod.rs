//! The PTY harness of the desk's end-to-end tests: the real binary in a pseudo-terminal, its
//! screen parsed with vt100.
#![allow(dead_code)]

use expectrl::Session;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The engine clock of every PTY test.
pub const NOW: &str = "2025-06-10T09:00:00-05:00";
/// The demo configuration.
pub const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/config.toml");

/// A desk running in a pseudo-terminal.
pub struct Desk {
    session: Session,
    screen: vt100::Parser,
    raw: Vec<u8>,
}

impl Desk {
    pub fn open(db: &Path, operator: &str) -> Desk {
        Desk::open_with_env(db, operator, &[])
    }

    /// [`Desk::open`] with extra environment variables.
    pub fn open_with_env(db: &Path, operator: &str, env: &[(&str, &str)]) -> Desk {
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
            .env("TERM", "xterm-256color")
            .envs(env.iter().copied());
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
        // Each role opens on its own view; the status bar is on every one.
        desk.wait_for("│ queue ");
        desk
    }

    /// Reads whatever the desk wrote so far.
    pub fn pump(&mut self) {
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

    pub fn text(&self) -> String {
        self.screen.screen().contents()
    }

    /// Waits until the screen shows `needle` (polling, never a fixed sleep).
    pub fn wait_for(&mut self, needle: &str) {
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

    pub fn keys(&mut self, keys: &str) {
        self.session.write_all(keys.as_bytes()).expect("send keys");
        self.session.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(150));
        self.pump();
    }

    /// Quits and returns the exit status text and everything the desk wrote.
    pub fn quit(mut self) -> (String, Vec<u8>) {
        self.keys("q");
        self.wait()
    }

    /// The desk's process id.
    pub fn pid(&self) -> i32 {
        self.session.get_process().pid().as_raw()
    }

    /// Waits for the desk to end by itself; its exit status text and everything it wrote.
    pub fn wait(mut self) -> (String, Vec<u8>) {
        let status = self
            .session
            .get_process()
            .wait()
            .expect("wait for the desk");
        self.pump();
        (format!("{status:?}"), self.raw)
    }
}

impl Desk {
    /// Waits up to `limit` for the desk to end by itself (killed and failed after that); its
    /// exit status text and everything it wrote.
    pub fn wait_within(mut self, limit: Duration) -> (String, Vec<u8>) {
        let deadline = Instant::now() + limit;
        loop {
            self.pump();
            // A non-blocking wait: the first status that is not "still alive" is the exit.
            let status = self
                .session
                .get_process()
                .status()
                .expect("the desk's status");
            let status = format!("{status:?}");
            if !status.starts_with("StillAlive") {
                self.pump();
                return (status, self.raw);
            }
            if Instant::now() >= deadline {
                let _ = self.session.get_process_mut().exit(true);
                panic!("the desk did not end by itself; screen:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A demo database of 40 customers at NOW.
pub fn demo_db(dir: &Path) -> PathBuf {
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

impl Desk {
    /// A desk with exactly `args` after `--db DB --config CONFIG` (a desk on a server takes no
    /// `--now`: it runs on the server's clock).
    pub fn spawn(db: &Path, args: &[&str], cols: u16, rows: u16) -> Desk {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orderdesk"));
        command
            .arg("--db")
            .arg(db)
            .args(["--config", CONFIG])
            .args(args)
            .env("NO_COLOR", "1")
            .env("TERM", "xterm-256color");
        let mut session = Session::spawn(command).expect("spawn the desk in a pty");
        session
            .get_process_mut()
            .set_window_size(cols, rows)
            .expect("window size");
        let mut desk = Desk {
            session,
            screen: vt100::Parser::new(rows, cols, 0),
            raw: Vec::new(),
        };
        // Each role opens on its own view; the status bar is on every one.
        desk.wait_for("│ queue ");
        desk
    }
}
