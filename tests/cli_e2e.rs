//! The binary driven as a script would drive it: files in, `--now` instants, outbox answered
//! with inbound replies, exit codes and JSON out.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CONFIG: &str = r#"
timezone = "America/Chicago"

[operators]
ada = "supervisor"
bo = "clerk"
sue = "support"

# The tests run as root and act as each operator in turn.
[access]
act_for_others = ["root"]
"#;

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("config.toml"), CONFIG).expect("config");
        Desk { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write input");
        path
    }

    /// Runs `orderdesk` as `operator` at `now`.
    fn run(&self, operator: &str, now: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_orderdesk"))
            .arg("--db")
            .arg(self.db())
            .arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(["--operator", operator, "--now", now])
            .args(args)
            .output()
            .expect("run orderdesk")
    }

    /// Runs and expects `code`; returns stdout.
    fn expect(&self, code: i32, operator: &str, now: &str, args: &[&str]) -> String {
        let out = self.run(operator, now, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "orderdesk {args:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        if code == 0 {
            stdout
        } else {
            format!("{stdout}{stderr}")
        }
    }

    fn json(&self, operator: &str, now: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let text = self.expect(0, operator, now, &all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    fn import(&self, now: &str, text: &str) -> String {
        let file = self.file("import.jsonl", text);
        self.expect(0, "ada", now, &["import", path(&file)])
    }

    fn inbound(&self, now: &str, text: &str) -> String {
        let file = self.file("inbound.jsonl", text);
        self.expect(0, "ada", now, &["inbound", path(&file)])
    }

    fn tick(&self, now: &str) -> Value {
        self.json("ada", now, &["tick"])
    }

    fn state(&self, id: &str) -> String {
        let shown = self.json("ada", T0, &["show", id]);
        shown["state"].as_str().unwrap_or_default().to_string()
    }

    /// The id of the outbound communication awaiting an answer for `activity`.
    fn awaiting(&self, activity: &str) -> String {
        let outbox = self.json("ada", T0, &["outbox"]);
        outbox
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["activity"] == activity)
            .and_then(|c| c["id"].as_str())
            .unwrap_or_else(|| panic!("nothing awaits an answer for {activity}: {outbox}"))
            .to_string()
    }

    /// The id of the newest child of `parent` of `kind`.
    fn child(&self, parent: &str, kind: &str) -> String {
        let shown = self.json("ada", T0, &["show", parent]);
        shown["children"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["kind"] == kind)
            .filter_map(|c| c["id"].as_str())
            .next_back()
            .unwrap_or_else(|| panic!("{parent} has no {kind} child: {shown}"))
            .to_string()
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

const T0: &str = "2025-06-10T09:00:00-05:00";

const WORLD: &str = r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}
{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"12 Elm St","customer":"C-1","account":"BA-1"}
{"kind":"service_point","id":"SP-2","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"14 Elm St","device":{"id":"D-2","badge":"B-2","smart":true,"commissioned":true,"switch":"on"}}
{"kind":"request","id":"SO-1","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00-05:00","service_agreements":["SA-1"],"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-1"}}
{"kind":"request","id":"SO-2","type":"disable_service","sp":"SP-2","service_datetime":"2025-06-10T09:00:00-05:00","request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-2"}}
"#;

#[test]
fn enable_without_meter_reaches_completed_install_commission_connect() {
    let desk = Desk::new();
    let created = desk.import(T0, WORLD);
    assert_eq!(created.lines().count(), 5, "{created}");
    assert!(
        created.contains(r#"{"kind":"request","id":"SO-1"}"#),
        "{created}"
    );

    desk.tick(T0);
    let fa = desk.child("SO-1", "D1-InstallMeter");
    let co = desk.awaiting(&fa);
    desk.inbound(
        "2025-06-10T09:05:00-05:00",
        &format!(r#"{{"kind":"ack","comm":"{co}","external_id":"MWM-88"}}"#),
    );
    desk.inbound(
        "2025-06-10T11:40:00-05:00",
        &format!(
            r#"{{"kind":"fa_complete","comm":"{co}","status":"complete","at":"2025-06-10T11:40:00-05:00","remarks":"installed","device":{{"id":"D-9","badge":"B-9","smart":true,"commissioned":false}},"readings":[{{"register":"kWh","value":"10432"}}]}}"#
        ),
    );
    assert_eq!(desk.state(&fa), "COMPLETED");

    desk.tick("2025-06-10T11:41:00-05:00");
    let commission = desk.child("SO-1", "commission");
    let co = desk.awaiting(&commission);
    desk.inbound(
        "2025-06-10T11:42:00-05:00",
        &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"ok"}}"#),
    );

    desk.tick("2025-06-10T11:43:00-05:00");
    let connect = desk.child("SO-1", "remote_connect");
    let co = desk.awaiting(&connect);
    desk.inbound(
        "2025-06-10T11:44:00-05:00",
        &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"ok"}}"#),
    );

    desk.tick("2025-06-10T11:45:00-05:00");
    let shown = desk.json("ada", T0, &["show", "SO-1"]);
    assert_eq!(shown["state"], "COMPLETED", "{shown}");
    let kinds: Vec<&str> = shown["children"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["D1-InstallMeter", "commission", "remote_connect"]);
    assert_eq!(shown["fields"]["pass"], 4);
    let notes: Vec<&str> = shown["notifications"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert_eq!(notes, ["ack", "success"]);
}

#[test]
fn head_end_fault_then_supervisor_retry_succeeds() {
    let desk = Desk::new();
    desk.import(T0, WORLD);
    desk.tick(T0);
    let rd = desk.child("SO-2", "remote_disconnect");
    let co = desk.awaiting(&rd);
    let report = desk.inbound(
        "2025-06-10T09:01:00-05:00",
        &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"fault","code":"HE-TIMEOUT","message":"meter did not answer"}}"#),
    );
    assert!(report.contains("COMPLETED"), "{report}");
    assert_eq!(desk.state(&rd), "COMM_ERROR");
    let shown = desk.json("ada", T0, &["show", "SO-2"]);
    assert_eq!(shown["state"], "ACTIVITY_ERROR");
    assert_eq!(shown["status_reason"]["code"], "CHILD_ERROR");
    assert_eq!(shown["status_reason"]["ref"], rd.as_str());
    let errors = desk.json("ada", T0, &["list", "--state", "ACTIVITY_ERROR"]);
    assert_eq!(errors.as_array().map(Vec::len), Some(1));

    // A clerk may not retry: refused, exit 1, nothing changes, and the refusal is audited.
    let refused = desk.expect(1, "bo", "2025-06-10T09:02:00-05:00", &["retry", "SO-2"]);
    assert!(refused.contains("bo works as a clerk"), "{refused}");
    assert_eq!(desk.state("SO-2"), "ACTIVITY_ERROR");
    let audit = desk.json("ada", T0, &["audit", "SO-2"]);
    assert_eq!(audit[0]["operator"], "bo");
    assert_eq!(audit[0]["outcome"], "refused");
    assert_eq!(audit[0]["code"], "PERMISSION_DENIED");

    let retried = desk.json("ada", "2025-06-10T09:03:00-05:00", &["retry", "SO-2"]);
    assert_eq!(retried["state"], "IN_PROGRESS", "{retried}");
    assert_eq!(desk.state(&rd), "DISCARDED");
    let again = desk.child("SO-2", "remote_disconnect");
    assert_ne!(again, rd);
    let co = desk.awaiting(&again);
    desk.inbound(
        "2025-06-10T09:04:00-05:00",
        &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"ok"}}"#),
    );
    desk.tick("2025-06-10T09:05:00-05:00");
    assert_eq!(desk.state("SO-2"), "COMPLETED");
    let audit = desk.json("ada", T0, &["audit", "SO-2"]);
    assert_eq!(audit[1]["operator"], "ada");
    assert_eq!(audit[1]["outcome"], "done");
}

#[test]
fn a_bad_import_line_names_line_and_field_and_changes_nothing() {
    let desk = Desk::new();
    let bad = format!(
        "{WORLD}{}\n",
        r#"{"kind":"request","type":"cut_for_non_payment","sp":42,"service_datetime":"2025-06-10T09:00:00-05:00"}"#
    );
    let file = desk.file("bad.jsonl", &bad);
    let err = desk.expect(2, "ada", T0, &["import", path(&file)]);
    assert!(err.contains("line 6"), "{err}");
    assert!(err.contains("`sp`"), "{err}");
    assert!(err.contains("bad.jsonl"), "{err}");
    let listed = desk.json("ada", T0, &["list"]);
    assert_eq!(listed, serde_json::json!([]));

    let json_err = desk.expect(2, "ada", T0, &["import", path(&file), "--json"]);
    let doc: Value =
        serde_json::from_str(json_err.lines().next().unwrap_or("")).expect("json error");
    assert_eq!(doc["error"]["code"], "BAD_INPUT");
}

#[test]
fn an_unknown_inbound_communication_goes_to_the_error_inbox() {
    let desk = Desk::new();
    desk.import(T0, WORLD);
    let file = desk.file(
        "unknown.jsonl",
        r#"{"kind":"ack","comm":"CO-404","external_id":"MWM-1"}"#,
    );
    let out = desk.expect(1, "ada", T0, &["inbound", path(&file)]);
    assert!(out.contains("UNMATCHED_MESSAGE"), "{out}");
    assert!(out.contains("error inbox"), "{out}");
    let listed = desk.json("ada", T0, &["list"]);
    assert!(
        listed
            .as_array()
            .is_some_and(|a| a.iter().all(|r| r["state"] == "PENDING")),
        "{listed}"
    );

    // A syntax error rejects the whole file instead (exit 2).
    let file = desk.file(
        "broken.jsonl",
        "{\"kind\":\"ack\",\"comm\":\"CO-1\"}\n{not json\n",
    );
    let err = desk.expect(2, "ada", T0, &["inbound", path(&file)]);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn a_second_process_on_the_same_database_is_told_who_holds_it() {
    let desk = Desk::new();
    desk.import(T0, WORLD);
    let held =
        orderdesk::store::SledStore::open(&desk.db(), "pid 1, operator holder").expect("hold");
    let err = desk.expect(3, "ada", T0, &["list"]);
    assert!(err.contains("another orderdesk is using"), "{err}");
    assert!(err.contains("operator holder"), "{err}");
    drop(held);
    let listed = desk.json("ada", T0, &["list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
}

#[test]
fn unknown_ids_are_bad_input() {
    let desk = Desk::new();
    desk.import(T0, WORLD);
    let err = desk.expect(2, "ada", T0, &["retry", "SO-999"]);
    assert!(err.contains("unknown id `SO-999`"), "{err}");
    desk.expect(2, "ada", T0, &["show", "SO-999"]);
}

#[test]
fn text_output_reads_in_the_configured_zone_and_names_it() {
    // Given a request imported at 09:00 in Chicago (14:00 UTC),
    let desk = Desk::new();
    desk.import(T0, WORLD);

    // when the audit and the list are printed as text,
    let audit = desk.expect(0, "ada", T0, &["audit"]);
    let list = desk.expect(0, "ada", T0, &["list"]);

    // then their times read in Chicago, under a header naming the zone, to the second at most,
    assert!(audit.contains("AT (America/Chicago)"), "{audit}");
    assert!(audit.contains("WALL CLOCK (America/Chicago)"), "{audit}");
    assert!(audit.contains("2025-06-10 09:00:00"), "{audit}");
    // (UTC would say 14:00; the wall-clock column is the real time of the run, whatever it is.)
    assert!(!audit.contains("2025-06-10 14:00"), "{audit}");
    assert!(list.contains("SINCE (America/Chicago)"), "{list}");
    assert!(list.contains("2025-06-10 09:00"), "{list}");
    // and the show pane's log names its zone too.
    let shown = desk.expect(0, "ada", T0, &["show", "SO-1"]);
    assert!(shown.contains("log (America/Chicago):"), "{shown}");
}
