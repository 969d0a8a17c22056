//! Where a migration writes, and how an interrupted one is finished.
//!
//! A migration builds the new database beside the old one (`DB.migrating`), marks it complete
//! (a file inside it), then moves the old one aside (`DB.v<N>`, kept until the operator removes
//! it) and the new one into place. A kill at any moment leaves either the old database at `DB`,
//! untouched (a partial `DB.migrating` is discarded by the next run), or the new one complete:
//! between the two renames `DB` is missing, and every open finishes the move first.

use super::StoreError;
use std::path::{Path, PathBuf};

/// The file that marks a new database as completely written and checked.
const COMPLETE: &str = "orderdesk.migrated";

/// Where the new database of `db` is built.
pub fn building(db: &Path) -> PathBuf {
    sibling(db, "migrating")
}

/// Where the old database of `db` (schema `version`) is kept after the move.
pub fn kept(db: &Path, version: u32) -> PathBuf {
    sibling(db, &format!("v{version}"))
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    db.with_file_name(name)
}

/// Marks the database built at `dir` complete (durably: the file and its directory synced).
pub fn mark_complete(dir: &Path, from: u32) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Unreadable {
        path: dir.to_path_buf(),
        message: format!("cannot mark the migrated database complete: {e}"),
    };
    let file = dir.join(COMPLETE);
    std::fs::write(&file, format!("migrated from schema version {from}\n")).map_err(io)?;
    std::fs::File::open(&file)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    sync_dir(dir).map_err(io)
}

/// Whether the database built at `dir` was marked complete.
pub fn is_complete(dir: &Path) -> bool {
    dir.join(COMPLETE).is_file()
}

/// Moves the old database at `db` to `old` and the complete new one into its place.
pub fn swap(db: &Path, old: &Path) -> Result<(), StoreError> {
    let new = building(db);
    let io = |e: std::io::Error| StoreError::Unreadable {
        path: db.to_path_buf(),
        message: format!("cannot move the migrated database into place: {e}"),
    };
    std::fs::rename(db, old).map_err(io)?;
    // Between these two renames `db` is missing: `finish_interrupted` completes the move.
    std::fs::rename(&new, db).map_err(io)?;
    let _ = std::fs::remove_file(db.join(COMPLETE));
    sync_dir(&parent_of(db)).map_err(io)
}

/// The directory holding `db`: `.` for a bare name (`Path::parent` gives an empty path there,
/// which cannot be opened).
fn parent_of(db: &Path) -> PathBuf {
    match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Finishes a move a kill interrupted: when `db` is missing and a complete new database waits
/// beside it, it is moved into place. Anything else is left as it is.
pub fn finish_interrupted(db: &Path) -> Result<(), StoreError> {
    let new = building(db);
    if db.exists() || !is_complete(&new) {
        return Ok(());
    }
    std::fs::rename(&new, db).map_err(|e| StoreError::Unreadable {
        path: db.to_path_buf(),
        message: format!(
            "a migration was interrupted; cannot move {} into place: {e}",
            new.display()
        ),
    })?;
    let _ = std::fs::remove_file(db.join(COMPLETE));
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_named_without_a_directory_lives_in_the_current_one() {
        assert_eq!(parent_of(Path::new("od")), PathBuf::from("."));
        assert_eq!(parent_of(Path::new("data/od")), PathBuf::from("data"));
        assert_eq!(parent_of(Path::new("/od")), PathBuf::from("/"));
    }

    #[test]
    fn a_kill_between_the_renames_is_finished_at_the_next_open() {
        let root = tempfile::tempdir().unwrap();
        let db = root.path().join("db");
        std::fs::create_dir(&db).unwrap();
        std::fs::write(db.join("old"), "1").unwrap();
        let new = building(&db);
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("new"), "2").unwrap();
        // Not complete: nothing moves.
        finish_interrupted(&db).unwrap();
        assert!(db.join("old").is_file());
        mark_complete(&new, 1).unwrap();
        // The first rename happened, then the kill.
        std::fs::rename(&db, kept(&db, 1)).unwrap();
        finish_interrupted(&db).unwrap();
        assert!(db.join("new").is_file());
        assert!(!db.join(COMPLETE).exists());
        assert!(kept(&db, 1).join("old").is_file());
        assert_eq!(kept(&db, 1).file_name().unwrap(), "db.v1");
    }
}
