use super::*;
use crate::formats::tests::{edits, mutate};
use crate::formats::LineError;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;

/// The inbound examples of `spec/formats.md`, one per line, in order.
const EXAMPLES: &str = r#"{"kind":"ack","comm":"CO-17","external_id":"MWM-88"}
{"kind":"fault","comm":"CO-17","code":"E42","message":"unknown premise"}
{"kind":"fa_status","external_id":"MWM-88","status":"en_route","at":"2025-06-10T10:05:00-05:00"}
{"kind":"fa_complete","comm":"CO-17","status":"complete","at":"2025-06-10T11:40:00-05:00","remarks":"installed","device":{"id":"D-9","badge":"B-9","smart":true,"commissioned":false},"readings":[{"register":"kWh","value":"10432"}]}
{"kind":"fa_cancelled","external_id":"MWM-88","reason":"CXS"}
{"kind":"command_result","comm":"CO-20","outcome":"ok","at":"2025-06-10T09:01:10-05:00"}
{"kind":"command_result","comm":"CO-21","outcome":"fault","code":"HE-TIMEOUT","message":"meter did not answer"}
{"kind":"command_result","comm":"CO-22","outcome":"ok","readings":[{"register":"kWh","value":"20761"}]}
{"kind":"wo_status","wo":"WO-1","status":"COMPLETED","source":"partner","at":"2025-06-12T15:00:00-05:00"}
"#;

fn cdt(d: u32, h: u32, mi: u32, s: u32) -> Instant {
    // -05:00 (CDT) is five hours behind UTC.
    Utc.with_ymd_and_hms(2025, 6, d, h + 5, mi, s)
        .single()
        .expect("a valid time")
}

fn reading(register: &str, value: &str) -> Reading {
    Reading {
        register: register.into(),
        value: value.into(),
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// The one error of a file that must be rejected with exactly one.
fn the_error(input: &str) -> LineError {
    let mut errors = parse_inbound(input.as_bytes()).expect_err("rejected").0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

fn expected_examples() -> Vec<InboundMessage> {
    use InboundMessage::*;
    vec![
        Ack {
            comm: s("CO-17"),
            external_id: Some(s("MWM-88")),
        },
        Fault {
            comm: s("CO-17"),
            code: s("E42"),
            message: s("unknown premise"),
        },
        FaStatus {
            external_id: s("MWM-88"),
            status: FaInterim::EnRoute,
            at: cdt(10, 10, 5, 0),
        },
        FaComplete(FaCompletion {
            comm: s("CO-17"),
            status: CompletionStatus::Complete,
            at: Some(cdt(10, 11, 40, 0)),
            remarks: Some(s("installed")),
            device: Some(DeviceSpec {
                id: s("D-9"),
                badge: s("B-9"),
                smart: true,
                commissioned: false,
                switch: None,
            }),
            old_device: None,
            readings: vec![reading("kWh", "10432")],
            external_id: None,
        }),
        FaCancelled {
            external_id: s("MWM-88"),
            reason: s("CXS"),
        },
        CommandResult {
            comm: s("CO-20"),
            outcome: CommandOutcome::Ok,
            at: Some(cdt(10, 9, 1, 10)),
            code: None,
            message: None,
            readings: vec![],
        },
        CommandResult {
            comm: s("CO-21"),
            outcome: CommandOutcome::Fault,
            at: None,
            code: Some(s("HE-TIMEOUT")),
            message: Some(s("meter did not answer")),
            readings: vec![],
        },
        CommandResult {
            comm: s("CO-22"),
            outcome: CommandOutcome::Ok,
            at: None,
            code: None,
            message: None,
            readings: vec![reading("kWh", "20761")],
        },
        WoStatus {
            wo: s("WO-1"),
            status: super::WoStatus::Completed,
            source: Some(s("partner")),
            at: Some(cdt(12, 15, 0, 0)),
        },
    ]
}

#[test]
fn every_formats_example_parses_to_its_message() {
    let parsed = parse_inbound(EXAMPLES.as_bytes()).expect("the examples parse");
    let lines: Vec<usize> = parsed.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, (1..=9).collect::<Vec<_>>());
    let messages: Vec<InboundMessage> = parsed.into_iter().map(|(_, m)| m).collect();
    assert_eq!(messages, expected_examples());
}

#[test]
fn a_serialized_message_is_an_inbound_line() {
    for message in expected_examples() {
        let line = serde_json::to_string(&message).expect("serializes");
        let parsed = parse_inbound(line.as_bytes()).expect("its own line parses");
        assert_eq!(parsed, vec![(1, message.clone())], "{line}");
        let stored: InboundMessage = serde_json::from_str(&line).expect("derive reads it back");
        assert_eq!(stored, message);
    }
}

#[test]
fn a_completion_may_name_the_old_device_and_the_external_id() {
    let line = r#"{"kind":"fa_complete","comm":"CO-3","status":"not_done","old_device":{"id":"D-1","badge":"B-1"},"external_id":"MWM-1"}"#;
    let [(_, InboundMessage::FaComplete(c))] = &parse_inbound(line.as_bytes()).expect("parses")[..]
    else {
        panic!("expected one completion");
    };
    assert_eq!(c.status, CompletionStatus::NotDone);
    assert_eq!(
        c.old_device,
        Some(OldDevice {
            id: s("D-1"),
            badge: s("B-1")
        })
    );
    assert_eq!(c.external_id.as_deref(), Some("MWM-1"));
}

#[test]
fn a_work_order_status_is_accepted_in_any_case() {
    let line = r#"{"kind":"wo_status","wo":"WO-1","status":"Cancelled"}"#;
    let [(_, InboundMessage::WoStatus { status, .. })] =
        &parse_inbound(line.as_bytes()).expect("parses")[..]
    else {
        panic!("expected one wo_status");
    };
    assert_eq!(*status, super::WoStatus::Cancelled);
}

#[test]
fn a_fault_result_without_code_is_refused() {
    let e = the_error(r#"{"kind":"command_result","comm":"CO-21","outcome":"fault"}"#);
    assert_eq!((e.line, e.field.as_deref()), (1, Some("code")));
}

#[test]
fn an_unknown_kind_is_named() {
    let e = the_error("\n{\"kind\":\"nack\",\"comm\":\"CO-1\"}");
    assert_eq!(e.line, 2);
    assert_eq!(e.field.as_deref(), Some("kind"));
    assert!(
        e.message
            .starts_with("unknown kind `nack`, expected one of ack, fault"),
        "{}",
        e.message
    );
}

#[test]
fn an_unknown_field_is_named_at_any_depth() {
    let top = the_error(r#"{"kind":"ack","comm":"CO-1","extrenal_id":"M"}"#);
    assert_eq!(top.field.as_deref(), Some("extrenal_id"));
    let deep = the_error(
        r#"{"kind":"command_result","comm":"CO-22","outcome":"ok","readings":[{"register":"kWh","value":"1"},{"register":"kWh","value":"2","unit":"k"}]}"#,
    );
    assert_eq!(deep.field.as_deref(), Some("readings[1].unit"));
    let device = the_error(
        r#"{"kind":"fa_complete","comm":"CO-1","status":"complete","device":{"id":"D","serial":"x"}}"#,
    );
    assert_eq!(device.field.as_deref(), Some("device.serial"));
}

/// Found by `cargo fuzz run inbound`: an empty key was reported as the blank field ``.
#[test]
fn an_unknown_empty_key_is_named_as_quotes() {
    let line = the_error(r#"{"kind":"ack","comm":"CO-1","":1}"#);
    assert_eq!(line.field.as_deref(), Some(r#""""#));
    let report = parse_completion_report(b"{\"status\":\"complete\",\n\"\":1}")
        .expect_err("rejected")
        .0;
    assert_eq!(report[0].field.as_deref(), Some(r#""""#), "{report:?}");
    assert_eq!(report[0].line, 2);
    let tab = parse_completion_report(b"{\"status\":\"complete\",\"\\t\":1}")
        .expect_err("rejected")
        .0;
    assert_eq!(tab[0].field.as_deref(), Some(r#""\t""#), "{tab:?}");
}

#[test]
fn a_missing_or_mistyped_field_is_named() {
    let missing = the_error(r#"{"kind":"fa_cancelled","external_id":"MWM-88"}"#);
    assert_eq!(
        missing.to_string(),
        "line 1: field `reason`: missing (required)"
    );
    let nested = the_error(
        r#"{"kind":"fa_complete","comm":"CO-1","status":"complete","old_device":{"id":"D-1"}}"#,
    );
    assert_eq!(nested.field.as_deref(), Some("old_device.badge"));
    let typed = the_error(
        r#"{"kind":"fa_complete","comm":"CO-1","status":"complete","readings":[{"register":"kWh","value":10432}]}"#,
    );
    assert_eq!(typed.field.as_deref(), Some("readings[0].value"));
    assert_eq!(typed.message, "expected a string, found integer `10432`");
}

#[test]
fn a_bad_status_lists_the_good_ones() {
    let e = the_error(
        r#"{"kind":"fa_status","external_id":"M","status":"arrived","at":"2025-06-10T10:05:00Z"}"#,
    );
    assert_eq!(e.field.as_deref(), Some("status"));
    assert_eq!(
        e.message,
        "unknown value `arrived`, expected one of `en_route`, `started`, `suspended`"
    );
}

#[test]
fn a_time_without_offset_is_refused() {
    let e = the_error(
        r#"{"kind":"fa_status","external_id":"M","status":"started","at":"2025-06-10T10:05:00"}"#,
    );
    assert_eq!(e.field.as_deref(), Some("at"));
    assert!(e.message.contains("no offset"), "{}", e.message);
}

#[test]
fn a_completion_report_may_span_lines() {
    let file = "{\n  \"status\": \"complete\",\n  \"remarks\": \"done\",\n  \"readings\": [{\"register\": \"kWh\", \"value\": \"7\"}]\n}\n";
    let report = parse_completion_report(file.as_bytes()).expect("parses");
    assert_eq!(report.status, CompletionStatus::Complete);
    assert_eq!(report.readings, vec![reading("kWh", "7")]);
}

#[test]
fn a_completion_report_error_names_its_line_and_field() {
    let file = "{\n  \"status\": \"complete\",\n  \"comm\": \"CO-1\"\n}\n";
    let errors = parse_completion_report(file.as_bytes())
        .expect_err("rejected")
        .0;
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].line, errors[0].field.as_deref()),
        (3, Some("comm"))
    );
    let trailing = parse_completion_report(b"{\"status\":\"complete\"}\n{}").expect_err("rejected");
    assert_eq!(trailing.0[0].line, 2);
}

#[test]
fn a_completion_becomes_a_report() {
    let Some(InboundMessage::FaComplete(completion)) = expected_examples().into_iter().nth(3)
    else {
        panic!("example 4 is a completion");
    };
    let report = CompletionReport::from(completion.clone());
    assert_eq!(
        (report.status, report.readings),
        (completion.status, completion.readings)
    );
}

proptest! {
    #[test]
    fn mutated_examples_never_panic(line in 0usize..9, edits in edits()) {
        let bytes = mutate(EXAMPLES.lines().nth(line).unwrap_or_default(), &edits);
        let _ = parse_inbound(&bytes);
        let _ = parse_completion_report(&bytes);
    }
}
