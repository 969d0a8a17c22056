//! The real desk, started in a pseudo-terminal: time from launch to the first full frame, and
//! the desk's resident memory once it has shown every view.
//!
//! `ORDERDESK_BENCH_DB` names a database built with `orderdesk demo` (see BENCHMARKS.md);
//! without it a 30-customer world is built in a temporary directory. The desk runs with the
//! simulators off and the engine clock fixed at the demo world's `--now`, so every start does
//! the same work; it is quit after each sample, outside the timing.

use expectrl::Session;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The demo world's `--now`.
const NOW: &str = "2025-06-10T14:00:00Z";
/// The demo configuration.
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/config.toml");
/// What the first full frame shows: the overview's queue panel.
const FIRST_FRAME: &str = " Error inbox: ";

fn main() {
    divan::main();
    report_memory();
}

/// The database every sample opens.
fn database() -> &'static PathBuf {
    static DB: OnceLock<(PathBuf, Option<tempfile::TempDir>)> = OnceLock::new();
    &DB.get_or_init(|| match std::env::var_os("ORDERDESK_BENCH_DB") {
        Some(db) => (PathBuf::from(db), None),
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let db = dir.path().join("db");
            let status = Command::new(env!("CARGO_BIN_EXE_orderdesk"))
                .arg("--db")
                .arg(&db)
                .args([
                    "--config",
                    CONFIG,
                    "--now",
                    NOW,
                    "demo",
                    "--customers",
                    "30",
                ])
                .args(["--seed", "42"])
                .output()
                .expect("orderdesk demo");
            assert!(status.status.success(), "{status:?}");
            (db, Some(dir))
        }
    })
    .0
}

/// A desk in a pseudo-terminal, with its screen.
struct Desk {
    session: Session,
    screen: vt100::Parser,
}

impl Desk {
    fn launch(db: &Path) -> Desk {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orderdesk"));
        command
            .arg("--db")
            .arg(db)
            .args([
                "--config",
                CONFIG,
                "--operator",
                "ada",
                "--now",
                NOW,
                "--no-sim",
            ])
            .env("NO_COLOR", "1")
            .env("TERM", "xterm-256color");
        let mut session = Session::spawn(command).expect("spawn the desk in a pty");
        session
            .get_process_mut()
            .set_window_size(200, 50)
            .expect("window size");
        Desk {
            session,
            screen: vt100::Parser::new(50, 200, 0),
        }
    }

    /// Reads the desk's output until the screen shows `needle`.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut buf = [0u8; 65536];
        while !self.screen.screen().contents().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "the desk never showed {needle:?}:\n{}",
                self.screen.screen().contents()
            );
            match self.session.try_read(&mut buf) {
                Ok(n) if n > 0 => self.screen.process(&buf[..n]),
                _ => std::thread::sleep(Duration::from_micros(200)),
            }
        }
    }

    fn pid(&self) -> u32 {
        self.session.get_process().pid().as_raw() as u32
    }

    fn send(&mut self, keys: &str) {
        use std::io::Write;
        self.session.write_all(keys.as_bytes()).expect("keys");
        self.session.flush().expect("flush");
    }
}

impl Drop for Desk {
    /// Quits and waits, so the next sample finds the database free.
    fn drop(&mut self) {
        self.send("q");
        let _ = self.session.get_process_mut().wait();
    }
}

/// Launch to the first full frame: a supervisor's desk opens on the error inbox, whose title
/// holds the live counts.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn desk_launch_to_first_frame(bencher: divan::Bencher) {
    let db = database();
    bencher.bench_local(|| {
        let mut desk = Desk::launch(db);
        desk.wait_for(FIRST_FRAME);
        desk
    });
}

/// The desk's resident memory after it has drawn every view: current and peak, from
/// `/proc/PID/status`, printed after the timings.
fn report_memory() {
    let mut desk = Desk::launch(database());
    desk.wait_for(FIRST_FRAME);
    for (key, title) in [
        ("0", " Transitions, last 24 h: "),
        ("1", " Open work orders ("),
        ("2", " Orchestrations ("),
        ("5", " Released today: "),
        ("7", " Audit: "),
        ("3", FIRST_FRAME),
    ] {
        desk.send(key);
        desk.wait_for(title);
    }
    std::thread::sleep(Duration::from_secs(1));
    let status = std::fs::read_to_string(format!("/proc/{}/status", desk.pid()))
        .expect("/proc status (Linux)");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0.0, |kb| kb as f64 / 1024.0)
    };
    println!(
        "desk resident memory after every view: {:.1} MiB (peak {:.1} MiB)",
        field("VmRSS:"),
        field("VmHWM:")
    );
}
