//! The inbound half of a file-drop partner: files the partner drops into `in/` are applied
//! whole or not at all, then moved to `done/`, or to `rejected/` beside a `.err` file that
//! names each bad line and field, exactly as `orderdesk inbound` reports them.
//!
//! A file is read only when it is complete: its name does not start with `.` nor end in
//! `.tmp` or `.part` (the partner's own temporary names), it ends with a line break, and its
//! size and modification time have not changed since the previous look. A partner that
//! writes in place is therefore never read half-way, only later.

use crate::formats::parse_inbound;
use crate::runtime::EngineHandle;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What a file looked like at the previous poll.
type Seen = HashMap<PathBuf, (u64, Option<SystemTime>)>;

/// Watches `root/in` every `poll` until the engine stops.
pub async fn watch(handle: EngineHandle, name: &'static str, root: PathBuf, poll: Duration) {
    let mut seen = Seen::new();
    loop {
        let (h, r) = (handle.clone(), root.clone());
        let previous = std::mem::take(&mut seen);
        match tokio::task::spawn_blocking(move || look(&h, name, &r, previous)).await {
            Ok(Some(next)) => seen = next,
            // The engine stopped, or the look panicked: stop watching.
            _ => return,
        }
        tokio::time::sleep(poll).await;
    }
}

/// One look at `in/`: applies each complete file; returns what the still-changing files look
/// like, or `None` when the engine has stopped.
fn look(handle: &EngineHandle, name: &str, root: &Path, previous: Seen) -> Option<Seen> {
    let mut seen = Seen::new();
    let inbox = root.join("in");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&inbox) {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(err) => {
            tracing::warn!(partner = name, "cannot read {}: {err}", inbox.display());
            return Some(seen);
        }
    };
    files.sort();
    for path in files {
        let Some(file_name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if file_name.starts_with('.') || file_name.ends_with(".tmp") || file_name.ends_with(".part")
        {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let shape = (meta.len(), meta.modified().ok());
        let stable = previous.get(&path) == Some(&shape);
        seen.insert(path.clone(), shape);
        if !stable {
            continue;
        }
        match take(handle, name, root, &path, &file_name) {
            Ok(()) => {
                seen.remove(&path);
            }
            Err(Stop::Engine) => return None,
            Err(Stop::Later(why)) => {
                tracing::warn!(partner = name, "{}: left in in/: {why}", path.display());
            }
        }
    }
    Some(seen)
}

enum Stop {
    /// The engine has stopped.
    Engine,
    /// The file stays in `in/` for the next look.
    Later(String),
}

/// Applies one complete file and moves it away.
fn take(
    handle: &EngineHandle,
    name: &str,
    root: &Path,
    path: &Path,
    file_name: &str,
) -> Result<(), Stop> {
    let bytes = std::fs::read(path).map_err(|err| Stop::Later(err.to_string()))?;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        // The last line is not finished yet; a stable file without a final line break is
        // taken once it has one.
        return Err(Stop::Later("its last line has no line break yet".into()));
    }
    match parse_inbound(&bytes) {
        Err(errors) => {
            let err_path = root.join("rejected").join(format!("{file_name}.err"));
            let text = format!("{file_name}: rejected whole, nothing applied\n{errors}\n");
            std::fs::write(&err_path, text).map_err(|err| Stop::Later(err.to_string()))?;
            move_to(root, "rejected", path, file_name)?;
            handle
                .metrics()
                .inbound_counts(name, 0, 0, errors.0.len() as u64);
            tracing::warn!(partner = name, "{file_name} rejected: {errors}");
            Ok(())
        }
        Ok(messages) => {
            let answers = match super::inbound::apply(handle, messages) {
                Ok(answers) => answers,
                Err(crate::engine::EngineError::Refused { code, .. })
                    if code == "ENGINE_STOPPED" =>
                {
                    return Err(Stop::Engine)
                }
                Err(err) => return Err(Stop::Later(err.to_string())),
            };
            let count = |s: &str| answers.iter().filter(|a| a.status == s).count() as u64;
            handle.metrics().inbound_counts(
                name,
                count("accepted"),
                count("duplicate"),
                count("rejected"),
            );
            move_to(root, "done", path, file_name)
        }
    }
}

/// Moves a taken file; a name already in the target directory gets a numbered suffix.
fn move_to(root: &Path, dir: &str, path: &Path, file_name: &str) -> Result<(), Stop> {
    let mut target = root.join(dir).join(file_name);
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = root.join(dir).join(format!("{file_name}.{n}"));
    }
    std::fs::rename(path, &target).map_err(|err| Stop::Later(format!("cannot move it: {err}")))
}
