//! The command line as a test runs it: the built binary on a database, at a fixed engine time,
//! and the kill moments of the crash trials.

use std::path::Path;
use std::process::{Command, Output};

/// `orderdesk --db DB --now NOW ARGS…`, not yet run.
pub fn orderdesk(db: &Path, now: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderdesk"));
    command.arg("--db").arg(db).args(["--now", now]).args(args);
    command
}

/// [`orderdesk`], run to its end.
pub fn run(db: &Path, now: &str, args: &[&str]) -> Output {
    orderdesk(db, now, args).output().expect("run orderdesk")
}

/// Deterministic moments below a bound (xorshift), so a failing kill trial can be replayed.
pub struct Moments(u64);

impl Moments {
    /// A sequence from `seed` (not zero).
    pub fn new(seed: u64) -> Moments {
        Moments(seed)
    }

    /// The next moment in `0..below`.
    pub fn below(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below.max(1)
    }
}
