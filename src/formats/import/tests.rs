use super::*;
use crate::domain::{CommandKind, SiteStatus, SpKind, SpStatus, Switch};
use crate::formats::tests::{edits, mutate};
use crate::formats::LineError;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;

/// The import examples of `spec/formats.md`, one per line, in order.
const EXAMPLES: &str = r#"{"kind":"building","id":"BLD-1","name":"Elm Court","wo_disable":false}
{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"12 Elm St","customer":"C-1","account":"BA-1","building":"BLD-1","site_status":"energised","device":{"id":"D-1","badge":"B-1","smart":true,"commissioned":true,"switch":"on"}}
{"kind":"customer","id":"C-1","name":"Ada Byron","life_support":false,"billing_accounts":["BA-1","BA-2"],"phone":"555-0100","email":"ada@example.org"}
{"kind":"request","id":"SO-1","type":"cut_for_non_payment","sp":"SP-1","service_datetime":"2025-06-10T09:00:00-05:00","effective_datetime":null,"service_agreements":["SA-1"],"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-1"},"collection_data":{"past_due_amount":"120.50","currency":"USD"},"contact":{"name":"Ada Byron","phone":"555-0100"}}
{"kind":"request","type":"exchange_meter","sp":"SP-1","service_datetime":"2025-06-10T09:00:00-05:00","old_device_id":"D-1","new_device":{"id":"D-2","badge":"B-2","smart":true,"commissioned":false},"connect_new_device":null,"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-2"}}
{"kind":"request","type":"back_to_back","sp":"SP-1","service_datetime":"2025-06-10T09:00:00-05:00","service_agreements":["SA-9"],"outgoing_customer":"C-1","incoming_customer":"C-2","incoming_account":"BA-9","read_required":true,"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-3"}}
{"kind":"work_order","id":"WO-1","wo_kind":"special_read","customer":"C-1","account":"BA-1","site":"SP-1","origin":"auto_special_read","status":"NEW","preferred_date":"2025-06-12"}
{"kind":"move_out","customer":"C-1","site":"SP-1","date":"2025-06-13"}
{"kind":"move_in","customer":"C-2","site":"SP-1","date":"2025-06-21"}
{"kind":"feed_item","id":"F-1","customer":"C-1","account":"BA-1","category":"conversation_message","subtype":"call","at":"2025-05-02T14:30:00-05:00","summary":"Inbound call: billing question","details":{"agent":"J. Ortiz","direction":"inbound","resolution":"explained bill"}}
"#;

/// A valid Cut for Non-Payment line, to be varied by the error tests.
const CNP: &str = r#"{"kind":"request","type":"cut_for_non_payment","sp":"SP-1","service_datetime":"2025-06-10T09:00:00-05:00","collection_data":{"past_due_amount":"120.50"}}"#;

fn parse_one(line: &str) -> ImportRecord {
    let mut records = parse_import(line.as_bytes()).expect("the line parses");
    assert_eq!(records.len(), 1);
    records.remove(0).1
}

fn request(line: &str) -> RequestRecord {
    match parse_one(line) {
        ImportRecord::Request(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn feed_item(line: &str) -> FeedItemRecord {
    match parse_one(line) {
        ImportRecord::FeedItem(f) => f,
        other => panic!("expected a feed item, got {other:?}"),
    }
}

/// The errors of a file that must be rejected.
fn errors(input: &str) -> Vec<LineError> {
    parse_import(input.as_bytes())
        .expect_err("the file is rejected")
        .0
}

/// The one error of a file that must be rejected with exactly one.
fn the_error(input: &str) -> LineError {
    let mut errors = errors(input);
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

fn field(error: &LineError) -> Option<&str> {
    error.field.as_deref()
}

fn cdt(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Instant {
    // -05:00 (CDT) is five hours behind UTC.
    Utc.with_ymd_and_hms(y, mo, d, h + 5, mi, 0)
        .single()
        .expect("a valid time")
}

#[test]
fn every_formats_example_parses_in_order() {
    let records = parse_import(EXAMPLES.as_bytes()).expect("the examples parse");
    let lines: Vec<usize> = records.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, (1..=10).collect::<Vec<_>>());
    let kinds: Vec<&str> = records
        .iter()
        .map(|(_, r)| match r {
            ImportRecord::Building(_) => "building",
            ImportRecord::ServicePoint { .. } => "service_point",
            ImportRecord::Customer(_) => "customer",
            ImportRecord::Request(_) => "request",
            ImportRecord::WorkOrder(_) => "work_order",
            ImportRecord::MoveOut(_) => "move_out",
            ImportRecord::MoveIn(_) => "move_in",
            ImportRecord::FeedItem(_) => "feed_item",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "building",
            "service_point",
            "customer",
            "request",
            "request",
            "request",
            "work_order",
            "move_out",
            "move_in",
            "feed_item"
        ]
    );
}

#[test]
fn a_serialized_record_reads_back_through_the_derive_and_the_parser() {
    for (_, record) in parse_import(EXAMPLES.as_bytes()).expect("the examples parse") {
        let line = serde_json::to_string(&record).expect("serializes");
        let stored: ImportRecord = serde_json::from_str(&line).expect("the derive reads it");
        assert_eq!(stored, record);
        // A service point is stored with its device beside it, not nested as in a file.
        if !matches!(record, ImportRecord::ServicePoint { .. }) {
            assert_eq!(parse_one(&line), record, "{line}");
        }
    }
}

#[test]
fn a_service_point_brings_its_device_into_the_registry() {
    let line = EXAMPLES.lines().nth(1).expect("example 2");
    let ImportRecord::ServicePoint { sp, device } = parse_one(line) else {
        panic!("expected a service point");
    };
    assert_eq!(sp.id, "SP-1");
    assert_eq!(sp.sp_kind, SpKind::Meter);
    assert_eq!(sp.status, SpStatus::Active);
    assert_eq!(sp.site_status, Some(SiteStatus::Energised));
    assert_eq!(sp.building.as_deref(), Some("BLD-1"));
    assert_eq!(sp.device.as_deref(), Some("D-1"));
    let device = device.expect("a device");
    assert_eq!(device.badge, "B-1");
    assert_eq!(device.switch, Switch::On);
    assert!(device.smart && device.commissioned);
    assert_eq!(device.head_end_capable, None);
    assert!(device.last_readings.is_empty());
}

#[test]
fn a_service_point_without_a_device_has_no_meter() {
    let line = r#"{"kind":"service_point","id":"SL-1","sp_kind":"item","status":"inactive","connected_at_source":false}"#;
    let ImportRecord::ServicePoint { sp, device } = parse_one(line) else {
        panic!("expected a service point");
    };
    assert_eq!((sp.device, device), (None, None));
    assert_eq!((sp.sp_kind, sp.site_status), (SpKind::Item, None));
}

#[test]
fn head_end_capable_lists_command_kinds() {
    let line = r#"{"kind":"service_point","id":"SP-2","sp_kind":"meter","status":"active","connected_at_source":true,"device":{"id":"D-5","smart":true,"commissioned":true,"switch":"off","head_end_capable":["remote_connect","on_demand_read"]}}"#;
    let ImportRecord::ServicePoint {
        device: Some(device),
        ..
    } = parse_one(line)
    else {
        panic!("expected a service point with a device");
    };
    let kinds = device.head_end_capable.expect("a list");
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [CommandKind::RemoteConnect, CommandKind::OnDemandRead]
    );
}

#[test]
fn a_cnp_request_keeps_its_times_in_utc() {
    let r = request(EXAMPLES.lines().nth(3).expect("example 4"));
    assert_eq!(r.id.as_deref(), Some("SO-1"));
    assert_eq!(r.request_type, ActivityType::CutForNonPayment);
    assert_eq!(r.service_datetime, cdt(2025, 6, 10, 9, 0));
    assert_eq!(r.effective_datetime, None);
    assert_eq!(r.request_info.external_id, "X-1");
    let collection = r.collection_data.expect("collection data");
    assert_eq!(collection.past_due_amount.as_deref(), Some("120.50"));
}

#[test]
fn an_exchange_request_carries_its_devices() {
    let r = request(EXAMPLES.lines().nth(4).expect("example 5"));
    assert_eq!(r.id, None);
    assert_eq!(r.old_device_id.as_deref(), Some("D-1"));
    let new = r.new_device.expect("a new device");
    assert_eq!(
        (new.id.as_str(), new.smart, new.commissioned),
        ("D-2", true, false)
    );
    assert_eq!(r.connect_new_device, None);
}

#[test]
fn a_back_to_back_request_carries_both_customers() {
    let r = request(EXAMPLES.lines().nth(5).expect("example 6"));
    assert_eq!(r.outgoing_customer.as_deref(), Some("C-1"));
    assert_eq!(r.incoming_customer.as_deref(), Some("C-2"));
    assert_eq!(r.incoming_account.as_deref(), Some("BA-9"));
    assert_eq!(r.read_required, Some(true));
}

#[test]
fn missing_domain_data_is_left_to_validate() {
    // A zero past-due amount and no service agreement are §5.3 validation errors, not file errors.
    let cnp = r#"{"kind":"request","type":"cut_for_non_payment","sp":"SP-1","service_datetime":"2025-06-10T09:00:00-05:00","collection_data":{"past_due_amount":"0"}}"#;
    assert!(!request(cnp)
        .collection_data
        .expect("kept")
        .has_positive_amount());
    let enable = r#"{"kind":"request","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z"}"#;
    let r = request(enable);
    assert!(r.service_agreements.is_empty());
    assert_eq!(r.request_info, RequestInfo::default());
}

#[test]
fn a_work_order_status_is_accepted_in_any_case() {
    let line = r#"{"kind":"work_order","wo_kind":"disconnection","customer":"C-1","site":"SP-1","origin":"move_out","status":"setup"}"#;
    let ImportRecord::WorkOrder(wo) = parse_one(line) else {
        panic!("expected a work order");
    };
    assert_eq!(wo.status, WoStatus::Setup);
    assert_eq!(wo.status.code(), "SETUP");
    assert_eq!((wo.id, wo.preferred_date), (None, None));
}

#[test]
fn the_work_order_and_moves_examples_read_their_dates() {
    let records = parse_import(EXAMPLES.as_bytes()).expect("the examples parse");
    let ImportRecord::WorkOrder(wo) = &records[6].1 else {
        panic!("expected a work order");
    };
    assert_eq!(wo.wo_kind, WoKind::SpecialRead);
    assert_eq!(wo.origin, WoOrigin::AutoSpecialRead);
    assert_eq!(wo.preferred_date, NaiveDate::from_ymd_opt(2025, 6, 12));
    let ImportRecord::MoveIn(move_in) = &records[8].1 else {
        panic!("expected a move-in");
    };
    assert_eq!(Some(move_in.date), NaiveDate::from_ymd_opt(2025, 6, 21));
}

#[test]
fn a_feed_item_keeps_its_free_form_details() {
    let f = feed_item(EXAMPLES.lines().nth(9).expect("example 10"));
    assert_eq!(
        (f.category, f.subtype),
        (FeedCategory::ConversationMessage, FeedSubtype::Call)
    );
    assert_eq!(
        f.details.get("agent").and_then(Value::as_str),
        Some("J. Ortiz")
    );
    assert_eq!(f.at, cdt(2025, 5, 2, 14, 30));
}

#[test]
fn a_single_subtype_category_may_omit_its_subtype() {
    let line = r#"{"kind":"feed_item","customer":"C-1","category":"outage_call","at":"2025-05-02T14:30:00Z","summary":"Outage reported"}"#;
    let f = feed_item(line);
    assert_eq!(f.subtype, FeedSubtype::OutageCall);
    assert!(f.details.is_empty());
    assert_eq!(f.account, None);
}

#[test]
fn a_multi_subtype_category_needs_its_subtype() {
    let line = r#"{"kind":"feed_item","customer":"C-1","category":"financial_information","at":"2025-05-02T14:30:00Z","summary":"Bill"}"#;
    let e = the_error(line);
    assert_eq!(field(&e), Some("subtype"));
    assert_eq!(e.message, "missing (required)");
}

#[test]
fn a_subtype_of_another_category_is_refused() {
    let line = r#"{"kind":"feed_item","customer":"C-1","category":"conversation_message","subtype":"bill","at":"2025-05-02T14:30:00Z","summary":"?"}"#;
    let e = the_error(line);
    assert_eq!(e.to_string(), "line 1: field `subtype`: `bill` is not a subtype of conversation_message, expected one of call, chat");
}

#[test]
fn service_and_field_orders_are_not_imported_as_feed_items() {
    for category in ["service_order", "field_order"] {
        let line = format!(
            r#"{{"kind":"feed_item","customer":"C-1","category":"{category}","at":"2025-05-02T14:30:00Z","summary":"x"}}"#
        );
        let e = the_error(&line);
        assert_eq!(field(&e), Some("category"));
        assert!(e.message.contains("engine"), "{}", e.message);
    }
}

/// Found by `cargo fuzz run import`: an empty key was reported as the blank field ``.
#[test]
fn an_unknown_empty_key_is_named_as_quotes() {
    let e = the_error(r#"{"kind":"building","id":"B","":false}"#);
    assert_eq!(field(&e), Some(r#""""#));
    assert!(
        e.message.starts_with("unknown field; expected"),
        "{}",
        e.message
    );
    let e = the_error(
        r#"{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"N","address":"a","device":{"id":"D","":1}}"#,
    );
    assert_eq!(field(&e), Some(r#"device."""#), "{e}");
}

#[test]
fn an_unknown_field_at_the_top_is_named() {
    let e = the_error(r#"{"kind":"building","id":"B","nmae":"Elm"}"#);
    assert_eq!(e.line, 1);
    assert_eq!(field(&e), Some("nmae"));
    assert!(
        e.message
            .starts_with("unknown field; expected one of `id`, `name`"),
        "{}",
        e.message
    );
}

#[test]
fn an_unknown_field_deep_inside_is_named_by_its_path() {
    let sp = r#"{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"device":{"id":"D-1","smart":true,"commissioned":true,"switch":"on","colour":"grey"}}"#;
    assert_eq!(field(&the_error(sp)), Some("device.colour"));
    let contact = CNP.replace(r#""sp":"SP-1""#, r#""sp":"SP-1","contact":{"fax":"1"}"#);
    assert_eq!(field(&the_error(&contact)), Some("contact.fax"));
}

#[test]
fn a_wrong_type_is_named() {
    let e = the_error(&CNP.replace(r#""sp":"SP-1""#, r#""sp":5"#));
    assert_eq!(
        e.to_string(),
        "line 1: field `sp`: expected a string, found integer `5`"
    );
}

#[test]
fn a_bad_enum_value_lists_the_good_ones() {
    let line = r#"{"kind":"service_point","id":"SP-1","sp_kind":"metre","status":"active","connected_at_source":true}"#;
    let e = the_error(line);
    assert_eq!(field(&e), Some("sp_kind"));
    assert_eq!(
        e.message,
        "unknown value `metre`, expected `meter` or `item`"
    );
}

#[test]
fn a_time_without_offset_is_refused() {
    let e = the_error(&CNP.replace("09:00:00-05:00", "09:00:00"));
    assert_eq!(field(&e), Some("service_datetime"));
    assert!(e.message.contains("no offset"), "{}", e.message);
}

#[test]
fn a_date_must_be_a_calendar_date() {
    let e = the_error(r#"{"kind":"move_in","customer":"C-2","site":"SP-1","date":"2025-02-30"}"#);
    assert_eq!(field(&e), Some("date"));
}

#[test]
fn a_missing_required_field_is_named() {
    let e = the_error(&CNP.replace(r#""sp":"SP-1","#, ""));
    assert_eq!(e.to_string(), "line 1: field `sp`: missing (required)");
    let nested = r#"{"kind":"request","type":"exchange_meter","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z","new_device":{"badge":"B-2"}}"#;
    assert_eq!(field(&the_error(nested)), Some("new_device.id"));
}

#[test]
fn a_type_specific_field_on_another_type_is_refused() {
    let line = CNP.replace(r#""sp":"SP-1""#, r#""sp":"SP-1","old_device_id":"D-1""#);
    assert_eq!(
        the_error(&line).to_string(),
        "line 1: field `old_device_id`: does not apply to cut_for_non_payment"
    );
    let enable = r#"{"kind":"request","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z","read_required":false}"#;
    assert_eq!(field(&the_error(enable)), Some("read_required"));
    let b2b = r#"{"kind":"request","type":"back_to_back","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z","collection_data":{}}"#;
    assert_eq!(field(&the_error(b2b)), Some("collection_data"));
}

#[test]
fn a_null_type_specific_field_counts_as_absent() {
    let line = CNP.replace(r#""sp":"SP-1""#, r#""sp":"SP-1","connect_new_device":null"#);
    assert_eq!(request(&line).connect_new_device, None);
}

#[test]
fn cancel_and_update_are_not_importable() {
    for kind in ["cancel_orchestration", "update"] {
        let e = the_error(&CNP.replace("cut_for_non_payment", kind));
        assert_eq!(field(&e), Some("type"));
        assert!(e.message.contains("`orderdesk cancel`"), "{}", e.message);
    }
}

#[test]
fn an_unknown_request_type_lists_the_six() {
    let e = the_error(&CNP.replace("cut_for_non_payment", "cut"));
    assert_eq!(
        e.message,
        "unknown request type `cut`, expected one of enable_service, disable_service, \
         cut_for_non_payment, reconnect_for_payment, exchange_meter, back_to_back"
    );
}

#[test]
fn a_duplicate_id_names_both_lines() {
    let input = "{\"kind\":\"customer\",\"id\":\"C-1\",\"name\":\"A\"}\n\
                 {\"kind\":\"building\",\"id\":\"C-1\"}\n\
                 {\"kind\":\"customer\",\"id\":\"C-1\",\"name\":\"B\"}\n";
    assert_eq!(
        the_error(input).to_string(),
        "line 3: field `id`: duplicate customer id `C-1` (also on line 1)"
    );
}

#[test]
fn a_device_on_two_service_points_is_a_duplicate() {
    let sp = |id: &str| {
        format!(
            r#"{{"kind":"service_point","id":"{id}","sp_kind":"meter","status":"active","connected_at_source":true,"device":{{"id":"D-1","smart":false,"commissioned":false,"switch":"off"}}}}"#
        )
    };
    let e = the_error(&format!("{}\n{}\n", sp("SP-1"), sp("SP-2")));
    assert_eq!((e.line, field(&e)), (2, Some("device.id")));
    assert!(e.message.contains("line 1"), "{}", e.message);
}

#[test]
fn records_without_ids_are_never_duplicates() {
    let input = format!("{CNP}\n{CNP}\n");
    assert_eq!(parse_import(input.as_bytes()).map(|r| r.len()), Ok(2));
}

#[test]
fn every_bad_line_is_reported_and_nothing_is_returned() {
    let input = format!(
        "{CNP}\n{{\"kind\":\"meter\"}}\n\n{}\nnot json\n",
        CNP.replace("\"SP-1\"", "1")
    );
    let errors = errors(&input);
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4, 5]);
    assert_eq!(field(&errors[0]), Some("kind"));
}

proptest! {
    #[test]
    fn mutated_examples_never_panic(line in 0usize..10, edits in edits()) {
        let bytes = mutate(EXAMPLES.lines().nth(line).unwrap_or_default(), &edits);
        let _ = parse_import(&bytes);
    }
}
