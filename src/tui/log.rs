//! The desk's log: what the desk, its engine and its partner connections did and what went
//! wrong, through `tracing` with levels (`RUST_LOG` filters; info by default). Never written to
//! the terminal, which belongs to the views.
//!
//! The log is a directory of daily files (`desk.YYYY-MM-DD.log`, the last [`KEEP_DAYS`] kept),
//! rotated by `tracing-appender`. It is owner-only: the directory is created `0700`, and every
//! file in it is made `0600` when the desk starts (a file the appender opens at midnight is
//! still behind the owner-only directory).

use std::path::Path;
use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// How many daily files are kept.
pub const KEEP_DAYS: usize = 14;

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

/// The owner-only directory `dir` and its daily files.
pub fn daily_files(dir: &Path) -> std::io::Result<RollingFileAppender> {
    // Only the log's own directory is created: its parent is the database's, or the data dir.
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("desk")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(dir)
        .map_err(std::io::Error::other)?;
    owner_only(dir)?;
    Ok(appender)
}

/// Makes the directory and every file in it readable by the owner alone.
fn owner_only(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::daily_files;
    use std::io::Write;

    #[test]
    fn the_log_is_owner_only_and_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path().join("orderdesk.logs");
        writeln!(daily_files(&logs).expect("log"), "first").expect("write");
        writeln!(daily_files(&logs).expect("log"), "second").expect("write");
        let files: Vec<_> = std::fs::read_dir(&logs)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().expect("name").to_string_lossy();
        assert!(
            name.starts_with("desk.") && name.ends_with(".log"),
            "{name}"
        );
        let text = std::fs::read_to_string(&files[0]).expect("read");
        assert_eq!(text, "first\nsecond\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| {
                std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
            };
            assert_eq!(mode(&logs), 0o700);
            assert_eq!(mode(&files[0]), 0o600);
        }
    }

    #[test]
    fn an_impossible_place_is_an_error_not_a_panic() {
        // Under a plain file: refused even to root.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").expect("write");
        assert!(daily_files(&file.join("orderdesk.logs")).is_err());
        assert!(!super::start(&file.join("orderdesk.logs")));
    }
}
