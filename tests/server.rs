//! `orderdesk serve` as its clients meet it: the command line through the server with the same
//! output and exit codes, identity from the Unix user on the other end of the socket, bad input
//! at the API answered without harm, a server killed and started again, and its daily log files.

#[path = "common/server.rs"]
mod served;

use serde_json::Value;
use served::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const NOW: &str = "2025-06-10T09:00:00-05:00";

/// The tests run as root; two more Unix users in the socket's group act as themselves.
const GROUP: &str = "odtest";
const CLERK: &str = "odclerk";
const SUPPORT: &str = "odsupport";

fn config(dir: &Path, request_timeout: u64) -> PathBuf {
    // The socket's group must exist for the server to hand the socket to it.
    unix_user(CLERK, GROUP);
    unix_user(SUPPORT, GROUP);
    let text = format!(
        r#"
timezone = "America/Chicago"

[operators]
ada = "supervisor"
{CLERK} = "clerk"
{SUPPORT} = "support"

[access]
act_for_others = ["root"]

[server]
group = "{GROUP}"
request_timeout_seconds = {request_timeout}
"#
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// A demo database in a directory every test user can reach (the socket sits beside it).
fn world(dir: &Path, config: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let db = dir.join("db");
    ok(&cli(
        &db,
        config,
        &["--now", NOW, "demo", "--customers", "30", "--seed", "5"],
    ));
    db
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&ok(out)).expect("json")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The orchestrations in ACTIVITY_ERROR because of a child, which a retry moves on.
fn retryable(db: &Path, config: &Path) -> Vec<String> {
    let rows = json(&cli(
        db,
        config,
        &["list", "--error-code", "CHILD_ERROR", "--json"],
    ));
    let ids: Vec<String> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert!(
        !ids.is_empty(),
        "the demo world has activities in CHILD_ERROR"
    );
    ids
}

fn in_error(db: &Path, config: &Path) -> String {
    retryable(db, config).remove(0)
}

#[test]
fn the_command_line_through_a_server_answers_as_the_database_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), 30);
    let db = world(dir.path(), &config);
    let id = in_error(&db, &config);
    let commands = [
        vec!["list", "--json"],
        vec!["list"],
        vec!["show", id.as_str(), "--json"],
        vec!["show", id.as_str()],
        vec!["queue", "--json"],
        vec!["outbox"],
        vec!["audit"],
        vec!["check"],
        vec!["show", "SO-999999"],
    ];
    let server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let through: Vec<_> = commands
        .iter()
        .map(|args| cli(&db, &config, args))
        .collect();
    let socket = server.socket();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "the socket was left behind");
    // Nothing wrote in between: the database read directly answers the same, to the byte.
    for (args, through) in commands.iter().zip(&through) {
        let direct = cli(&db, &config, args);
        assert_eq!(through.status.code(), direct.status.code(), "{args:?}");
        assert!(
            through.stdout == direct.stdout,
            "{args:?} differs through the server"
        );
    }
    let server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    // Bad input keeps its exit code and names what is wrong.
    let unknown = cli(&db, &config, &["show", "SO-999999"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("SO-999999"),
        "{}",
        stderr(&unknown)
    );
    let now = cli(&db, &config, &["--now", NOW, "list"]);
    assert_eq!(now.status.code(), Some(2));
    assert!(stderr(&now).contains("leave out --now"), "{}", stderr(&now));

    // An action through the server is there for the next client, recorded with who and how.
    let retried = json(&cli(
        &db,
        &config,
        &["--operator", "ada", "retry", &id, "--json"],
    ));
    assert_eq!(retried["id"], id.as_str());
    let audit = json(&cli(&db, &config, &["audit", &id, "--json"]));
    let last = audit.as_array().and_then(|a| a.last()).expect("audited");
    assert_eq!(last["operator"], "ada");
    assert_eq!(last["account"], "root");
    assert_eq!(last["channel"], "cli");

    // SIGTERM: the socket is removed, and the database is free.
    assert!(server.terminate().success());
    ok(&cli(&db, &config, &["check"]));
}

#[test]
fn who_acts_is_the_unix_user_on_the_other_end_of_the_socket() {
    unix_user(CLERK, GROUP);
    unix_user(SUPPORT, GROUP);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), 30);
    let db = world(dir.path(), &config);
    let id = in_error(&db, &config);
    let _server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);

    // The clerk may look, and is refused a retry by name and role.
    ok(&cli_as(CLERK, &db, &config, &["list"]));
    let refused = cli_as(CLERK, &db, &config, &["retry", &id]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(&format!("{CLERK} works as a clerk")),
        "{}",
        stderr(&refused)
    );
    // Naming someone else is refused for an account not allowed to act for others.
    let posing = cli_as(CLERK, &db, &config, &["--operator", "ada", "retry", &id]);
    assert_eq!(posing.status.code(), Some(1));
    assert!(
        stderr(&posing).contains(&format!("{CLERK} may not act as ada")),
        "{}",
        stderr(&posing)
    );
    // Support may retry, as itself.
    let retried = json(&cli_as(SUPPORT, &db, &config, &["retry", &id, "--json"]));
    assert_eq!(retried["id"], id.as_str());
    let audit = json(&cli(&db, &config, &["audit", &id, "--json"]));
    let entries = audit.as_array().expect("audit");
    assert!(entries
        .iter()
        .any(|e| e["operator"] == CLERK && e["outcome"] == "refused" && e["channel"] == "cli"));
    assert!(entries
        .iter()
        .any(|e| e["operator"] == SUPPORT && e["outcome"] == "done" && e["account"].is_null()));

    // A user outside the socket's group cannot connect at all.
    let stranger = cli_as("nobody", &db, &config, &["list"]);
    assert_eq!(stranger.status.code(), Some(3));
    assert!(
        stderr(&stranger).contains("permission denied"),
        "{}",
        stderr(&stranger)
    );
}

#[test]
fn bad_input_at_the_api_is_answered_and_harms_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), 2);
    let db = world(dir.path(), &config);
    let id = in_error(&db, &config);
    let server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let socket = server.socket();
    let audit_before = ok(&cli(&db, &config, &["audit", "--json"]));
    let as_ada = [("X-Orderdesk-Operator", "ada")];

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed JSON",
            request(
                "POST",
                &format!("/v1/activities/{id}/discard"),
                &as_ada,
                r#"{"reason": "#,
            ),
            400,
            "BAD_INPUT",
        ),
        (
            "a field of the wrong type",
            request("POST", "/v1/bulk/retry", &as_ada, r#"{"ids": "SO-1"}"#),
            400,
            "field `ids`",
        ),
        (
            "an unknown call",
            request("GET", "/v1/nothing-here", &[], ""),
            404,
            "UNKNOWN_CALL",
        ),
        (
            "the wrong method",
            request("DELETE", "/v1/activities", &[], ""),
            405,
            "WRONG_METHOD",
        ),
        (
            "a bad query parameter",
            request("GET", "/v1/activities?limit=lots", &[], ""),
            400,
            "query parameter `limit`",
        ),
        (
            // root is not in [operators]: it may look, not act.
            "a missing permission",
            request("POST", &format!("/v1/activities/{id}/retry"), &[], ""),
            403,
            "PERMISSION_DENIED",
        ),
        (
            "acting for someone unknown to the channel rules",
            request("GET", "/v1/session", &[("X-Orderdesk-Channel", "fax")], ""),
            400,
            "use desk, cli or api",
        ),
    ];
    for (what, bytes, status, needle) in cases {
        let (got, body) = http(&socket, &bytes);
        assert_eq!(got, status, "{what}: {body}");
        assert!(body.contains(needle), "{what}: {body}");
        let doc: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
        assert!(doc["error"]["message"].is_string(), "{what}: {body}");
    }

    // A body over the limit is refused before it is read whole.
    let big = format!(
        "POST /v1/import HTTP/1.1\r\nHost: orderdesk\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        65 * 1024 * 1024
    );
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    use std::io::{Read, Write};
    stream.write_all(big.as_bytes()).expect("headers");
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..65 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.contains(" 413 ") && answer.contains("TOO_LARGE"),
        "{answer}"
    );

    // A client that stalls mid-body is answered 408 after the configured timeout, and others
    // are served meanwhile.
    let mut stalled = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    stalled
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stalled
        .write_all(
            format!(
                "POST /v1/activities/{id}/discard HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 X-Orderdesk-Operator: ada\r\nContent-Length: 100\r\n\r\n{{\"reason\":"
            )
            .as_bytes(),
        )
        .expect("partial body");
    ok(&cli(&db, &config, &["list"]));
    let mut answer = String::new();
    let _ = stalled.read_to_string(&mut answer);
    assert!(
        answer.contains(" 408 ") && answer.contains("TIMEOUT"),
        "{answer}"
    );
    // A client that stalls in its headers is dropped.
    let mut slow = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    slow.write_all(b"GET /v1/activities HTTP/1.1\r\nHost: x\r\n")
        .expect("partial headers");
    let mut rest = Vec::new();
    let started = std::time::Instant::now();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a stalled header was held"
    );

    // The server is unharmed and nothing changed.
    let health = http(&socket, &request("GET", "/healthz", &[], ""));
    assert_eq!(health.0, 200, "{}", health.1);
    // The refusal is the only line the bad requests added to the audit.
    let audit_after: Vec<Value> =
        serde_json::from_str(&ok(&cli(&db, &config, &["audit", "--json"]))).expect("json");
    let before: Vec<Value> = serde_json::from_str(&audit_before).expect("json");
    let added: Vec<&Value> = audit_after[before.len()..].iter().collect();
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0]["outcome"], "refused");
    assert_eq!(added[0]["operator"], "root");
    let tree = json(&cli(&db, &config, &["show", &id, "--json"]));
    assert_eq!(tree["state"], "ACTIVITY_ERROR");
    ok(&cli(&db, &config, &["check"]));
}

#[test]
fn a_killed_server_starts_again_with_every_acknowledged_action_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), 30);
    let db = world(dir.path(), &config);
    let server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let ids: Vec<String> = retryable(&db, &config).into_iter().take(3).collect();
    for id in &ids {
        ok(&cli(&db, &config, &["--operator", "ada", "retry", id]));
    }
    // SIGKILL right after the acknowledgements: the socket is left behind, stale.
    server.kill();
    assert!(orderdesk::server::socket_path(&db).exists());
    // Without a server, the command line opens the database itself.
    ok(&cli(&db, &config, &["check"]));
    let _server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let audit = json(&cli(&db, &config, &["audit", "--json"]));
    for id in &ids {
        let retries = audit
            .as_array()
            .expect("audit")
            .iter()
            .filter(|e| e["action"] == "retry" && e["ids"][0] == id.as_str())
            .count();
        assert_eq!(retries, 1, "{id} retried {retries} times");
    }
    ok(&cli(&db, &config, &["check"]));
}

#[test]
fn a_supervisor_sees_who_is_connected_and_ends_a_session() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), 30);
    let db = world(dir.path(), &config);
    let server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    // A desk's session: the change stream, opened as the clerk.
    let mut stream = std::os::unix::net::UnixStream::connect(server.socket()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
        .write_all(&request(
            "GET",
            "/v1/events",
            &[
                ("X-Orderdesk-Operator", CLERK),
                ("X-Orderdesk-Channel", "desk"),
            ],
            "",
        ))
        .expect("open the stream");
    let mut reader = BufReader::new(stream);
    let mut session = None;
    let mut line = String::new();
    while session.is_none() {
        line.clear();
        assert!(
            reader.read_line(&mut line).expect("read") > 0,
            "the stream closed"
        );
        if let Some(data) = line.strip_prefix("data: ") {
            let doc: Value = serde_json::from_str(data.trim()).expect("json");
            session = doc["session"].as_u64();
        }
    }
    let session = session.expect("a session id").to_string();

    // Everyone may count; only a supervisor sees names, and only a supervisor ends a session.
    let listed = json(&cli(
        &db,
        &config,
        &["--operator", CLERK, "sessions", "--json"],
    ));
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["operator"], "");
    let listed = json(&cli(
        &db,
        &config,
        &["--operator", "ada", "sessions", "--json"],
    ));
    assert_eq!(listed[0]["operator"], CLERK);
    assert_eq!(listed[0]["channel"], "desk");
    let refused = cli(
        &db,
        &config,
        &["--operator", CLERK, "end-session", &session],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    ok(&cli(
        &db,
        &config,
        &["--operator", "ada", "end-session", &session],
    ));

    // The desk is told who ended it, its stream ends, and its later requests are refused.
    let mut told = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        told.push_str(&line);
    }
    assert!(told.contains("\"notice\":\"ended\""), "{told}");
    assert!(told.contains("ada ended this session"), "{told}");
    let (status, body) = http(
        &server.socket(),
        &request(
            "GET",
            "/v1/queue/length",
            &[("X-Orderdesk-Session", &session)],
            "",
        ),
    );
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("SESSION_ENDED"), "{body}");
}

#[test]
fn the_audit_is_filtered_by_the_server_before_it_keeps_the_newest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), 30);
    let db = world(dir.path(), &config);
    let id = in_error(&db, &config);
    let server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let socket = server.socket();

    // Given ada's retry and, after it, two actions of others,
    ok(&cli(&db, &config, &["--operator", "ada", "retry", &id]));
    let _ = cli(&db, &config, &["retry", &id]);
    let _ = cli(&db, &config, &["retry", &id]);
    // when the newest one of ada's retries is asked for,
    let (status, body) = http(
        &socket,
        &request(
            "GET",
            "/v1/audit?operator=ADA&action=retry&limit=1",
            &[],
            "",
        ),
    );
    // then it is found behind the newer actions of others.
    assert_eq!(status, 200, "{body}");
    let entries: Value = serde_json::from_str(&body).expect("json");
    let entries = entries.as_array().expect("a list");
    assert_eq!(entries.len(), 1, "{body}");
    assert_eq!(entries[0]["operator"], "ada");
    assert_eq!(entries[0]["action"], "retry");
    assert_eq!(entries[0]["ids"][0], id.as_str());

    // A range of engine time keeps only what falls in it: nothing before the demo's day.
    let (status, body) = http(
        &socket,
        &request("GET", "/v1/audit?to=2020-01-01T00:00:00-05:00", &[], ""),
    );
    assert_eq!((status, body.as_str()), (200, "[]"));
    // A range that runs backwards is refused, naming both ends.
    let (status, body) = http(
        &socket,
        &request(
            "GET",
            "/v1/audit?from=2025-06-10T00:00:00-05:00&to=2025-06-01T00:00:00-05:00",
            &[],
            "",
        ),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("`from` and `to`"), "{body}");

    // The command line's filters go through the same read, and say what is wrong.
    let by_ada = json(&cli(
        &db,
        &config,
        &[
            "audit",
            "--by",
            "ada",
            "--action",
            "retry",
            "--from",
            "2025-06-10",
            "--to",
            "2025-06-10",
            "--json",
        ],
    ));
    let by_ada = by_ada.as_array().expect("a list");
    assert!(!by_ada.is_empty());
    assert!(by_ada
        .iter()
        .all(|e| e["operator"] == "ada" && e["action"] == "retry"));
    let backwards = cli(
        &db,
        &config,
        &["audit", "--from", "2025-06-10", "--to", "2025-06-01"],
    );
    assert_eq!(backwards.status.code(), Some(2), "{}", stderr(&backwards));
    assert!(
        stderr(&backwards).contains("--from and --to: the range starts 2025-06-10"),
        "{}",
        stderr(&backwards)
    );
    let not_a_day = cli(&db, &config, &["audit", "--from", "2025-13-01"]);
    assert_eq!(not_a_day.status.code(), Some(2));
    assert!(
        stderr(&not_a_day).contains("--from 2025-13-01"),
        "{}",
        stderr(&not_a_day)
    );
    assert!(server.terminate().success());
}

#[test]
fn a_work_orders_detail_through_a_server_is_the_databases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), 30);
    let db = world(dir.path(), &config);
    let queue = json(&cli(&db, &config, &["queue", "--json"]));
    let id = queue[0]["id"].as_str().expect("an open order").to_string();
    let commands = [
        vec!["wo", "show", id.as_str(), "--json"],
        vec!["wo", "show", id.as_str()],
        vec!["wo", "show", "WO-999999"],
    ];
    let server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let through: Vec<_> = commands
        .iter()
        .map(|args| cli(&db, &config, args))
        .collect();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    for (args, through) in commands.iter().zip(&through) {
        let direct = cli(&db, &config, args);
        assert_eq!(through.status.code(), direct.status.code(), "{args:?}");
        assert!(
            through.stdout == direct.stdout,
            "{args:?} differs through the server"
        );
    }
    let detail: Value = serde_json::from_slice(&through[0].stdout).expect("json");
    assert_eq!(detail["order"]["id"], id.as_str());
    assert!(detail["customer_name"].is_string(), "{detail}");
    assert!(detail["address"].is_string(), "{detail}");
    assert_eq!(through[2].status.code(), Some(2));
    assert!(
        stderr(&through[2]).contains("WO-999999"),
        "{}",
        stderr(&through[2])
    );
}

#[test]
fn the_server_logs_to_a_dated_file_in_the_configured_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("server-logs");
    let config = dir.path().join("config.toml");
    let write_config = |log: &Path| {
        std::fs::write(
            &config,
            format!(
                "timezone = \"America/Chicago\"\n[operators]\nada = \"supervisor\"\n[server]\nlog = {:?}\n",
                log.display().to_string()
            ),
        )
        .expect("config")
    };
    write_config(&logs);
    let db = world(dir.path(), &config);
    let server = Served::start(&db, &config, &["--no-sim"]);
    assert!(server.terminate().success());
    let files: Vec<PathBuf> = std::fs::read_dir(&logs)
        .expect("the configured directory was made")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let day = name
        .strip_prefix("server.")
        .and_then(|rest| rest.strip_suffix(".log"))
        .unwrap_or_else(|| panic!("{name}"));
    assert!(
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok(),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).expect("read");
    assert!(text.contains("serving the API"), "{text}");
    assert!(text.contains("stopped; the database is flushed"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&logs), 0o700);
    assert_eq!(mode(&files[0]), 0o600);

    // A plain file where the directory should be stops the server at start, saying why.
    let plain = dir.path().join("plain.log");
    std::fs::write(&plain, "").expect("write");
    write_config(&plain);
    let out = cli(&db, &config, &["--no-sim", "serve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is a file; it now names a directory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
