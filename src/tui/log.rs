//! The desk's log: what the desk, its engine and its partner connections did and what went
//! wrong, through `tracing` with levels (`RUST_LOG` filters; info by default). Never written to
//! the terminal, which belongs to the views.
//!
//! The log is a directory of daily files (`desk.YYYY-MM-DD.log`), kept as [`crate::logs`]
//! keeps them.

use std::path::Path;

/// Sends this process's `tracing` events to the daily files in `dir`; returns whether it could
/// (an unwritable place, or a subscriber already set, leaves the desk without a log: the log
/// is best effort and never stops the desk).
pub fn start(dir: &Path) -> bool {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::EnvFilter;
    let Ok(appender) = daily_files(dir) else {
        return false;
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(appender);
    tracing_subscriber::registry()
        .with(filter)
        .with(file)
        .try_init()
        .is_ok()
}

/// The owner-only directory `dir` and its daily `desk` files.
pub fn daily_files(dir: &Path) -> std::io::Result<tracing_appender::rolling::RollingFileAppender> {
    crate::logs::daily_files(dir, "desk")
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_impossible_place_leaves_the_desk_without_a_log() {
        // Under a plain file: refused even to root.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").expect("write");
        assert!(!super::start(&file.join("orderdesk.logs")));
    }
}
