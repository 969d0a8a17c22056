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
