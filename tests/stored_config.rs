//! A database keeps the configuration that names its operators: leaving out `--config` never
//! makes everyone a supervisor again. Given / when / then.

use std::path::Path;
use std::process::{Command, Output};

const TEAM: &str = r#"
timezone = "America/Chicago"

[operators]
ada = "supervisor"
bo = "clerk"
sue = "support"

[access]
act_for_others = ["root"]
"#;

/// `orderdesk --db DB [--config FILE] ARGS…`, isolated from any platform config file.
fn orderdesk(home: &Path, db: &Path, config: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderdesk"));
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .arg("--db")
        .arg(db);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command.args(args).output().expect("run orderdesk")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_clerk_stays_a_clerk_without_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let team = dir.path().join("team.toml");
    std::fs::write(&team, TEAM).expect("config");
    let db = dir.path().join("db");

    // Given a database first used with a configuration that names bo as a clerk,
    let first = orderdesk(dir.path(), &db, Some(&team), &["--operator", "ada", "tick"]);
    assert!(first.status.success(), "{}", stderr(&first));

    // when bo runs the throttle batch without --config,
    let out = orderdesk(dir.path(), &db, None, &["--operator", "bo", "crwto"]);

    // then it is refused in plain words naming the role that may,
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("bo works as a clerk; only a supervisor may run the throttle batch"),
        "{message}"
    );
    assert!(!message.contains('§'), "{message}");
    // and the audit says so, with bo as a clerk.
    let audit = orderdesk(
        dir.path(),
        &db,
        None,
        &["--operator", "ada", "audit", "--json"],
    );
    assert!(audit.status.success(), "{}", stderr(&audit));
    let entries: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("json");
    let refused = entries
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["action"] == "crwto")
        .expect("the refusal is audited");
    assert_eq!(refused["operator"], "bo");
    assert_eq!(refused["role"], "clerk");
    assert_eq!(refused["code"], "PERMISSION_DENIED");
    // The first use stored the configuration, and that is audited too.
    assert!(entries
        .as_array()
        .expect("array")
        .iter()
        .any(|e| e["action"] == "config"));
}

#[test]
fn a_configuration_without_operators_cannot_undo_the_stored_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let team = dir.path().join("team.toml");
    std::fs::write(&team, TEAM).expect("config");
    let solo = dir.path().join("solo.toml");
    std::fs::write(&solo, "timezone = \"America/Chicago\"\n").expect("config");
    let db = dir.path().join("db");
    let first = orderdesk(dir.path(), &db, Some(&team), &["--operator", "ada", "tick"]);
    assert!(first.status.success(), "{}", stderr(&first));

    let out = orderdesk(dir.path(), &db, Some(&solo), &["--operator", "bo", "crwto"]);

    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no [operators] table"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_database_never_given_operators_keeps_the_one_person_desk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");

    // Given a database only ever used without a configuration,
    let first = orderdesk(dir.path(), &db, None, &["tick"]);
    assert!(first.status.success(), "{}", stderr(&first));

    // when anyone runs a supervisor's command, then it is done, as before.
    let out = orderdesk(dir.path(), &db, None, &["crwto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let audit = orderdesk(dir.path(), &db, None, &["audit", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("json");
    let done = entries
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["action"] == "crwto")
        .expect("audited");
    assert_eq!(done["role"], "supervisor");
    assert_eq!(done["outcome"], "done");
}
