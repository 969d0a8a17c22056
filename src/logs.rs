//! Daily log files, shared by the desk and the server: a directory of `NAME.YYYY-MM-DD.log`
//! files, rotated at midnight (UTC) by `tracing-appender`, the last [`KEEP_DAYS`] kept. The
//! directory is owner-only (`0700`) and every file in it is made `0600` when it is opened (a
//! file the appender opens at midnight is still behind the owner-only directory).

use std::path::Path;
use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// How many daily files are kept.
pub const KEEP_DAYS: usize = 14;

/// The owner-only directory `dir` and its daily files `name.YYYY-MM-DD.log`.
pub fn daily_files(dir: &Path, name: &str) -> std::io::Result<RollingFileAppender> {
    // Only the log's own directory is created: its parent is the database's, the data dir, or
    // one the configuration names, whose absence is a mistake to report.
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
    if !dir.is_dir() {
        return Err(std::io::Error::other(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(name)
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
    fn the_log_is_owner_only_dated_and_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path().join("orderdesk.logs");
        writeln!(daily_files(&logs, "desk").expect("log"), "first").expect("write");
        writeln!(daily_files(&logs, "desk").expect("log"), "second").expect("write");
        let files: Vec<_> = std::fs::read_dir(&logs)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().expect("name").to_string_lossy();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        assert_eq!(name, format!("desk.{today}.log"));
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
        // Under a plain file, or a plain file itself: refused even to root.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").expect("write");
        assert!(daily_files(&file.join("orderdesk.logs"), "desk").is_err());
        assert!(daily_files(&file, "server").is_err());
    }
}
