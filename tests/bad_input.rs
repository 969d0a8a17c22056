//! The bad-input matrix, driven through the binary: each row is refused with a clear message
//! and the database is left exactly as it was (records, audit log, outbox).
//!
//! Rows already covered elsewhere are not repeated: a malformed import line and a locked
//! database's message (`cli_e2e.rs`), unknown ids and illegal transitions (`lifecycle_edges.rs`),
//! a feed range over six months at the engine (`vectors_workorders.rs`), line-level format
//! errors (`src/formats/tests.rs`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CONFIG: &str = r#"
timezone = "America/Chicago"

[operators]
ada = "supervisor"

# The tests run as root and act as each operator in turn.
[access]
act_for_others = ["root"]
"#;

const T0: &str = "2025-06-10T09:00:00-05:00";

const WORLD: &str = r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}
{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"12 Elm St","customer":"C-1","account":"BA-1"}
{"kind":"request","id":"SO-1","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00-05:00","service_agreements":["SA-1"],"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-1"}}
"#;

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    /// A desk whose database holds `WORLD`.
    fn new() -> Desk {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("config.toml"), CONFIG).expect("config");
        let desk = Desk { dir };
        let world = desk.file("world.jsonl", WORLD.as_bytes());
        desk.expect(0, &["import", path(&world)]);
        desk
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    fn command(&self, config: &Path) -> Command {
        self.command_on(config, &self.db())
    }

    fn command_on(&self, config: &Path, db: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orderdesk"));
        command
            .arg("--db")
            .arg(db)
            .arg("--config")
            .arg(config)
            .args(["--operator", "ada", "--now", T0])
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(&self.dir.path().join("config.toml"))
            .args(args)
            .output()
            .expect("run orderdesk")
    }

    /// Runs and expects `code`; returns stdout and stderr together.
    fn expect(&self, code: i32, args: &[&str]) -> String {
        expect_output(code, args, self.run(args))
    }

    /// What the database holds: every activity, the audit log and every outbound message.
    fn fingerprint(&self) -> Vec<Value> {
        [
            &["list", "--json"][..],
            &["audit", "--json"],
            &["outbox", "--all", "--json"],
        ]
        .iter()
        .map(|args| {
            let text = self.expect(0, args);
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
        })
        .collect()
    }

    /// Runs `args`, expects `code` and a message containing every one of `says`, and checks
    /// that nothing changed.
    fn refused(&self, code: i32, args: &[&str], says: &[&str]) {
        let before = self.fingerprint();
        let out = self.expect(code, args);
        for words in says {
            assert!(out.contains(words), "{args:?} should say `{words}`:\n{out}");
        }
        assert_eq!(self.fingerprint(), before, "{args:?} changed the database");
    }
}

fn expect_output(code: i32, args: &[&str], out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "orderdesk {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    format!("{stdout}{stderr}")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn an_oversized_line_is_refused_with_its_line_number() {
    let desk = Desk::new();
    let mut bytes = b"{\"kind\":\"customer\",\"id\":\"C-2\",\"name\":\"".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 1 << 20));
    bytes.extend_from_slice(b"\",\"billing_accounts\":[]}\n");
    let file = desk.file("big.jsonl", &bytes);
    desk.refused(2, &["import", path(&file)], &["line 1", "longer than"]);
}

#[test]
fn non_utf8_input_is_refused_with_its_line_and_byte() {
    let desk = Desk::new();
    let mut bytes = WORLD.lines().next().expect("line").as_bytes().to_vec();
    bytes.extend_from_slice(b"\n{\"kind\":\"customer\",\"id\":\"C-\xff\",\"name\":\"x\"}\n");
    let file = desk.file("latin1.jsonl", &bytes);
    desk.refused(2, &["import", path(&file)], &["line 2", "not valid UTF-8"]);
    let file = desk.file(
        "latin1-inbound.jsonl",
        b"{\"kind\":\"ack\",\"comm\":\"CO-\xe9\"}\n",
    );
    desk.refused(2, &["inbound", path(&file)], &["line 1", "not valid UTF-8"]);
}

#[test]
fn a_duplicate_request_is_refused() {
    let desk = Desk::new();
    // The same request again, in a later file.
    let again = WORLD.lines().nth(2).expect("request line");
    let file = desk.file("again.jsonl", again.as_bytes());
    desk.refused(2, &["import", path(&file)], &["line 1", "SO-1"]);
    // Twice in one file.
    let twice = format!(
        "{}\n{}\n",
        again.replace("SO-1", "SO-7"),
        again.replace("SO-1", "SO-7")
    );
    let file = desk.file("twice.jsonl", twice.as_bytes());
    desk.refused(2, &["import", path(&file)], &["SO-7"]);
}

#[test]
fn unknown_ids_and_illegal_transitions_leave_no_trace_but_the_refusal() {
    let desk = Desk::new();
    // An unknown id is bad input: nothing changes, not even the audit log.
    desk.refused(2, &["discard", "SO-404"], &["unknown id `SO-404`"]);
    // An illegal transition is a refusal: exit 1, and only its audit line is added.
    let before = desk.fingerprint();
    let out = desk.expect(1, &["retry", "SO-1"]);
    assert!(out.contains("SO-1"), "{out}");
    let after = desk.fingerprint();
    assert_eq!(after[0], before[0], "the activities changed");
    assert_eq!(after[2], before[2], "the outbox changed");
    let audit = after[1].as_array().expect("audit");
    assert_eq!(audit.len(), before[1].as_array().expect("audit").len() + 1);
    assert!(
        audit.iter().any(|e| e["outcome"] == "refused"),
        "{:?}",
        after[1]
    );
}

#[test]
fn a_feed_range_over_six_months_is_refused() {
    let desk = Desk::new();
    let out = desk.run(&["feed", "C-1", "--from", "2024-11-01", "--to", "2025-05-02"]);
    let text = expect_output(2, &["feed"], out);
    assert!(
        text.contains("six months") || text.contains("6 months"),
        "{text}"
    );
}

/// The desk without a subcommand and with stdin, stdout and stderr not a terminal: a bad file
/// must stop it with exit 2 before it opens the database or touches the terminal.
fn desk_refuses(desk: &Desk, config: &Path, extra: &[&str], says: &[&str]) {
    let fresh = desk.dir.path().join("never-opened");
    let out = desk
        .command_on(config, &fresh)
        .args(extra)
        .output()
        .expect("run the desk");
    let text = expect_output(2, extra, out.clone());
    for words in says {
        assert!(text.contains(words), "should say `{words}`:\n{text}");
    }
    // No escape sequence: the terminal was never switched to the desk's screen.
    assert!(!out.stdout.contains(&0x1b), "{text}");
    assert!(!out.stderr.contains(&0x1b), "{text}");
    assert!(!fresh.exists(), "the database was created");
}

#[test]
fn a_bad_keymap_stops_the_desk_before_the_terminal() {
    let desk = Desk::new();
    let config = desk.dir.path().join("config.toml");
    let rows: &[(&str, &str, &[&str])] = &[
        (
            "unknown-action.toml",
            "[[queue]]\non = \"z\"\nrun = \"launch_rockets\"\n",
            &["launch_rockets"],
        ),
        (
            "bad-key.toml",
            "[[queue]]\non = \"C-Banana\"\nrun = \"up\"\n",
            &["C-Banana"],
        ),
        (
            "conflict.toml",
            "[[queue]]\non = \"z\"\nrun = \"up\"\n\n[[queue]]\non = \"z z\"\nrun = \"down\"\n",
            &["`z z` conflicts with `z`"],
        ),
        ("not-toml.toml", "[[queue]\non = ", &["not-toml.toml"]),
    ];
    for (name, text, says) in rows {
        let file = desk.file(name, text.as_bytes());
        let mut all = says.to_vec();
        all.push(name);
        desk_refuses(&desk, &config, &["--keymap", path(&file)], &all);
    }
}

#[test]
fn a_bad_config_is_refused_and_changes_nothing() {
    let desk = Desk::new();
    let before = desk.fingerprint();
    let rows: &[(&str, &str, &str)] = &[
        ("unknown-key.toml", "colour = \"red\"\n", "colour"),
        (
            "bad-zone.toml",
            "timezone = \"Mars/Olympus\"\n",
            "Mars/Olympus",
        ),
        ("broken.toml", "[operators\nada = ", "broken.toml"),
    ];
    for (name, text, says) in rows {
        let config = desk.file(name, text.as_bytes());
        let world = desk.file("more.jsonl", WORLD.replace("SO-1", "SO-2").as_bytes());
        let out = desk
            .command(&config)
            .args(["import", path(&world)])
            .output()
            .expect("run");
        let text = expect_output(2, &["import"], out);
        assert!(text.contains(says), "{name} should say `{says}`:\n{text}");
        desk_refuses(&desk, &config, &[], &[says]);
    }
    assert_eq!(desk.fingerprint(), before);
}

#[test]
fn a_locked_database_is_refused_and_left_alone() {
    let desk = Desk::new();
    let before = desk.fingerprint();
    let more = desk.file("more.jsonl", WORLD.replace("SO-1", "SO-2").as_bytes());
    {
        let _held = orderdesk::store::SledStore::open(&desk.db(), "pid 1, operator holder")
            .expect("hold the database");
        let out = desk.expect(3, &["import", path(&more)]);
        assert!(out.contains("another orderdesk is using"), "{out}");
        let out = desk.expect(3, &["tick"]);
        assert!(out.contains("operator holder"), "{out}");
    }
    assert_eq!(desk.fingerprint(), before);
}

#[test]
fn a_newer_schema_is_refused_without_a_change() {
    let desk = Desk::new();
    let before = desk.fingerprint();
    {
        let db = sled::open(desk.db()).expect("open with sled");
        db.open_tree("meta")
            .expect("meta")
            .insert("schema_version", &99u32.to_be_bytes())
            .expect("write version");
        db.flush().expect("flush");
    }
    let out = desk.expect(3, &["list"]);
    assert!(out.contains("schema version 99"), "{out}");
    assert!(out.contains("upgrade orderdesk"), "{out}");
    let more = desk.file("more.jsonl", WORLD.replace("SO-1", "SO-2").as_bytes());
    desk.expect(3, &["import", path(&more)]);
    {
        let db = sled::open(desk.db()).expect("open with sled");
        let meta = db.open_tree("meta").expect("meta");
        assert_eq!(
            meta.get("schema_version").expect("read").as_deref(),
            Some(&99u32.to_be_bytes()[..]),
            "the version was rewritten"
        );
        meta.insert(
            "schema_version",
            &orderdesk::store::SCHEMA_VERSION.to_be_bytes(),
        )
        .expect("restore");
        db.flush().expect("flush");
    }
    assert_eq!(desk.fingerprint(), before);
}

#[test]
fn a_new_database_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let desk = Desk::new();
    let mode = std::fs::metadata(desk.db())
        .expect("db dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "database directory mode {mode:o}");
}

#[test]
fn check_reports_a_consistent_database() {
    let desk = Desk::new();
    desk.expect(0, &["tick"]);
    let out = desk.expect(0, &["check"]);
    assert!(out.contains("consistent"), "{out}");
    let out = desk.expect(0, &["check", "--json"]);
    assert_eq!(out.trim(), "[]");
}
