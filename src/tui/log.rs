//! The desk's log file: what the desk did and what went wrong, never written to the terminal
//! (which belongs to the views). Created owner-only.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// An append-only log file; a desk without one (unwritable path) just does not log.
pub struct DeskLog {
    file: Option<File>,
}

impl DeskLog {
    /// Opens (or creates) the log at `path`.
    pub fn open(path: Option<&Path>) -> DeskLog {
        let file = path.and_then(|p| {
            let mut options = OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            options.open(p).ok()
        });
        DeskLog { file }
    }

    /// Appends one line, stamped with the wall time.
    pub fn line(&mut self, text: &str) {
        if let Some(file) = &mut self.file {
            let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            // A full disk must not stop the desk: the log is best effort.
            let _ = writeln!(file, "{stamp} {text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DeskLog;

    #[test]
    fn the_log_is_created_owner_only_and_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("orderdesk.log");
        DeskLog::open(Some(&path)).line("first");
        DeskLog::open(Some(&path)).line("second");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("first") && text.contains("second"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_unwritable_log_does_not_stop_the_desk() {
        let mut log = DeskLog::open(Some(std::path::Path::new("/nonexistent/dir/orderdesk.log")));
        log.line("nothing happens");
    }
}
