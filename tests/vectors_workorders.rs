//! Test vectors TV-19 … TV-25 (work orders and the customer feed) through the engine, and the
//! bad inputs of the work-order and feed commands.

mod common;

use common::*;
use orderdesk::domain::Role;
use orderdesk::engine::{EngineError, FeedRequest, Move};
use orderdesk::formats::FeedCategory;
use orderdesk::workorders::WoStatus;

const TODAY: &str = "2025-06-13T12:00:00Z";

fn date(text: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn site(id: &str, status: Option<&str>, building: Option<&str>) -> String {
    let status = status.map_or(String::new(), |s| format!(r#","site_status":"{s}""#));
    let building = building.map_or(String::new(), |b| format!(r#","building":"{b}""#));
    format!(
        r#"{{"kind":"service_point","id":"{id}","sp_kind":"meter","status":"active","connected_at_source":true,"address":"{id} Elm St","customer":"C-1","account":"BA-1"{status}{building}}}"#
    )
}

fn customer(id: &str, life_support: bool) -> String {
    format!(
        r#"{{"kind":"customer","id":"{id}","name":"Ada Byron","life_support":{life_support},"billing_accounts":["BA-1","BA-2"]}}"#
    )
}

fn world() -> World {
    let mut w = World::new();
    w.import(
        TODAY,
        &[
            r#"{"kind":"building","id":"BLD-1","name":"Elm Court","wo_disable":false}"#.to_string(),
            r#"{"kind":"building","id":"BLD-2","name":"Oak Court","wo_disable":true}"#.to_string(),
            customer("C-1", false),
            customer("C-LS", true),
            site("SITE-A", None, Some("BLD-1")),
            site("SITE-B", Some("de_energised"), None),
            site("SITE-C", None, Some("BLD-2")),
        ]
        .join("\n"),
    );
    w
}

fn move_event(
    w: &mut World,
    event: Move,
    customer: &str,
    site: &str,
    day: &str,
) -> orderdesk::engine::MoveReport {
    let sam = w.supervisor.clone();
    w.engine
        .move_event(&sam, at(TODAY), event, customer, site, date(day))
        .expect("move")
}

fn queue_ids(w: &World) -> Vec<String> {
    w.engine
        .queue(&w.supervisor, false, 0, 0)
        .expect("queue")
        .into_iter()
        .map(|wo| wo.id)
        .collect()
}

fn work_orders(w: &mut World, lines: &[(&str, &str)]) {
    let text: Vec<String> = lines
        .iter()
        .map(|(id, status)| {
            format!(
                r#"{{"kind":"work_order","id":"{id}","wo_kind":"disconnection","customer":"C-1","site":"SITE-A","origin":"manual","status":"{status}","preferred_date":"2025-06-1{}"}}"#,
                &id[3..]
            )
        })
        .collect();
    w.import(TODAY, &text.join("\n"));
}

#[test]
fn tv_19_move_out_disconnection_rules() {
    let mut w = world();
    // (a) empty site status, no life support: a Disconnection five business days later.
    let report = move_event(&mut w, Move::Out, "C-1", "SITE-A", "2025-06-13");
    let id = report.created.expect("a disconnection");
    let wo = w.engine.work_order(&id).expect("work order");
    assert_eq!(wo.status, WoStatus::New);
    assert_eq!(wo.preferred_date, Some(date("2025-06-20")));
    // (b) life support, (c) de-energised, (d) the building disables them: no work order.
    assert!(
        move_event(&mut w, Move::Out, "C-LS", "SITE-A", "2025-06-13")
            .created
            .is_none()
    );
    let dead = move_event(&mut w, Move::Out, "C-1", "SITE-B", "2025-06-13");
    assert_eq!(
        dead.reason.as_deref(),
        Some("the site is already de-energised")
    );
    let disabled = move_event(&mut w, Move::Out, "C-1", "SITE-C", "2025-06-13");
    assert_eq!(
        disabled.reason.as_deref(),
        Some("the building disables move-in/out work orders")
    );
    assert_eq!(queue_ids(&w), [id]);
}

#[test]
fn tv_20_move_in_cancels_an_active_disconnection() {
    let mut w = world();
    w.import(
        TODAY,
        r#"{"kind":"work_order","id":"WO-77","wo_kind":"disconnection","customer":"C-1","site":"SITE-B","origin":"move_out","status":"SENT","preferred_date":"2025-06-12"}"#,
    );
    let report = move_event(&mut w, Move::In, "C-1", "SITE-B", "2025-06-21");
    assert_eq!(report.cancelled, ["WO-77"]);
    assert_eq!(
        w.engine.work_order("WO-77").expect("wo").status,
        WoStatus::Cancelled
    );
    let created = report.created.expect("a reconnection");
    let wo = w.engine.work_order(&created).expect("wo");
    assert_eq!(wo.status, WoStatus::New);
    assert_eq!(wo.preferred_date, Some(date("2025-06-23")));
    assert_eq!(queue_ids(&w), [created]);
}

#[test]
fn tv_21_queue_contents_and_bulk_actions() {
    let mut w = world();
    work_orders(
        &mut w,
        &[
            ("WO-1", "NEW"),
            ("WO-2", "SENT"),
            ("WO-3", "SETUP"),
            ("WO-4", "COMPLETED"),
            ("WO-5", "CANCELLED"),
        ],
    );
    assert_eq!(queue_ids(&w), ["WO-1", "WO-2", "WO-3"]);
    let sam = w.supervisor.clone();
    let done = w
        .engine
        .wo_complete(&sam, at(TODAY), &["WO-1".into(), "WO-3".into()])
        .expect("complete");
    assert_eq!(done.summary, "2 completed");
    assert_eq!(queue_ids(&w), ["WO-2"]);
    let cancelled = w
        .engine
        .wo_cancel(
            &sam,
            at(TODAY),
            &["WO-2".into(), "WO-4".into()],
            "customer called",
        )
        .expect("cancel");
    assert_eq!(
        cancelled.summary,
        "1 cancelled, 1 skipped: already COMPLETED"
    );
    assert_eq!(
        cancelled.rows[1].reason.as_deref(),
        Some("already COMPLETED")
    );
    assert!(queue_ids(&w).is_empty());
}

#[test]
fn bulk_action_on_rows_changed_concurrently_skips_them() {
    let mut w = world();
    work_orders(
        &mut w,
        &[("WO-1", "NEW"), ("WO-2", "NEW"), ("WO-3", "SENT")],
    );
    // A clerk selected WO-1..3; meanwhile the partner completed WO-2.
    w.inbound(
        TODAY,
        r#"{"kind":"wo_status","wo":"WO-2","status":"COMPLETED","source":"partner"}"#,
    );
    let sam = w.supervisor.clone();
    let ids: Vec<String> = ["WO-1", "WO-2", "WO-3"].map(String::from).to_vec();
    let report = w
        .engine
        .wo_cancel(&sam, at(TODAY), &ids, "duplicate")
        .expect("cancel");
    assert_eq!(report.summary, "2 cancelled, 1 skipped: already COMPLETED");
}

#[test]
fn tv_22_partner_completion_updates_the_site() {
    let mut w = world();
    w.import(
        TODAY,
        r#"{"kind":"work_order","id":"WO-8","wo_kind":"disconnection","customer":"C-1","site":"SITE-A","origin":"manual","status":"SENT"}"#,
    );
    let report = w.inbound(TODAY, r#"{"kind":"wo_status","wo":"WO-8","status":"COMPLETED","source":"partner","at":"2025-06-12T15:00:00-05:00"}"#);
    assert_eq!(report.errors(), 0, "{report:?}");
    assert_eq!(
        w.engine.work_order("WO-8").expect("wo").status,
        WoStatus::Completed
    );
    assert!(queue_ids(&w).is_empty());
    let sp = w
        .engine
        .store()
        .get(orderdesk::store::TreeId::ServicePoints, b"SITE-A")
        .expect("read")
        .expect("sp");
    let sp: orderdesk::domain::ServicePoint =
        orderdesk::engine::codec::decode(orderdesk::store::TreeId::ServicePoints, b"SITE-A", &sp)
            .expect("a service point record");
    assert_eq!(
        serde_json::to_value(sp.site_status).expect("json"),
        serde_json::json!("de_energised")
    );
    // A second report for a final order goes to the error inbox.
    let again = w.inbound(
        TODAY,
        r#"{"kind":"wo_status","wo":"WO-8","status":"COMPLETED","source":"partner"}"#,
    );
    assert_eq!(again.errors(), 1);
}

fn feed_world() -> World {
    let mut w = World::new();
    let item = |id: &str, account: Option<&str>, category: &str, subtype: &str, at: &str| {
        let account = account.map_or(String::new(), |a| format!(r#","account":"{a}""#));
        format!(
            r#"{{"kind":"feed_item","id":"{id}","customer":"C-1"{account},"category":"{category}","subtype":"{subtype}","at":"{at}","summary":"{id}","details":{{}}}}"#
        )
    };
    w.import(
        "2025-06-15T12:00:00Z",
        &[
            customer("C-1", false),
            item(
                "K1",
                Some("BA-1"),
                "conversation_message",
                "call",
                "2025-05-02T14:30:00Z",
            ),
            item(
                "K2",
                Some("BA-2"),
                "conversation_message",
                "call",
                "2025-05-03T14:30:00Z",
            ),
            item(
                "H1",
                Some("BA-2"),
                "conversation_message",
                "chat",
                "2025-05-04T14:30:00Z",
            ),
            item("M1", None, "email", "email", "2025-05-05T14:30:00Z"),
            item(
                "X1",
                Some("BA-1"),
                "financial_information",
                "bill",
                "2025-05-06T14:30:00Z",
            ),
            item(
                "OLD",
                Some("BA-1"),
                "financial_information",
                "bill",
                "2022-06-14T12:00:00Z",
            ),
            item(
                "EDGE",
                Some("BA-1"),
                "financial_information",
                "bill",
                "2022-06-15T12:00:00Z",
            ),
        ]
        .join("\n"),
    );
    w
}

fn feed_ids(w: &World, request: &FeedRequest) -> Result<Vec<String>, EngineError> {
    let view = w
        .engine
        .feed(&w.supervisor, at("2025-06-15T12:00:00Z"), "C-1", request)?;
    Ok(view.items.into_iter().map(|i| i.id).collect())
}

#[test]
fn tv_23_default_window_in_six_month_buckets() {
    let w = feed_world();
    let view = w
        .engine
        .feed(
            &w.supervisor,
            at("2025-06-15T12:00:00Z"),
            "C-1",
            &FeedRequest::default(),
        )
        .expect("feed");
    assert_eq!(
        (view.from, view.to),
        (date("2022-06-15"), date("2025-06-15"))
    );
    let buckets = view.buckets.expect("default view has buckets");
    assert_eq!(buckets.len(), 6);
    assert_eq!(
        (buckets[0].from, buckets[0].to),
        (date("2024-12-16"), date("2025-06-15"))
    );
    assert_eq!(
        buckets[5]
            .items
            .iter()
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>(),
        ["EDGE"]
    );
    assert!(!view.items.iter().any(|i| i.id == "OLD"));
}

#[test]
fn tv_24_custom_range_rules_through_the_engine() {
    let mut w = feed_world();
    w.engine = orderdesk::engine::Engine::new(
        Box::new(orderdesk::store::MemStore::new()),
        orderdesk::config::parse("feed_history_years = 2", "t.toml").expect("config"),
    );
    w.import("2025-06-15T12:00:00Z", &customer("C-1", false));
    let range = |a: &str, b: &str| FeedRequest {
        range: Some((date(a), date(b))),
        ..FeedRequest::default()
    };
    let refused = |r: Result<Vec<String>, EngineError>| match r {
        Err(EngineError::BadInput(message)) => message,
        other => panic!("expected a refused range, got {other:?}"),
    };
    assert!(refused(feed_ids(&w, &range("2025-01-01", "2025-07-01"))).contains("today"));
    assert!(feed_ids(&w, &range("2024-12-31", "2025-06-15")).is_ok());
    assert!(refused(feed_ids(&w, &range("2024-11-01", "2025-05-02"))).contains("2025-05-01"));
    assert!(refused(feed_ids(&w, &range("2023-06-01", "2023-11-30"))).contains("2023-06-15"));
    let reset = w
        .engine
        .feed(
            &w.supervisor,
            at("2025-06-15T12:00:00Z"),
            "C-1",
            &FeedRequest::default(),
        )
        .expect("reset");
    assert_eq!(reset.from, date("2023-06-15"));
}

#[test]
fn tv_25_calls_and_chats_follow_the_billing_account() {
    let w = feed_world();
    let on = |account: &str, categories: &[FeedCategory]| FeedRequest {
        account: Some(account.into()),
        categories: categories.iter().copied().collect(),
        range: Some((date("2025-05-01"), date("2025-05-31"))),
    };
    let mut ba1 = feed_ids(&w, &on("BA-1", &[])).expect("feed");
    ba1.sort();
    assert_eq!(ba1, ["K1", "M1", "X1"]);
    let mut ba2 = feed_ids(&w, &on("BA-2", &[])).expect("feed");
    ba2.sort();
    assert_eq!(ba2, ["H1", "K2", "M1"]);
    let mut conversations =
        feed_ids(&w, &on("BA-2", &[FeedCategory::ConversationMessage])).expect("feed");
    conversations.sort();
    assert_eq!(conversations, ["H1", "K2"]);
}

#[test]
fn service_orders_appear_in_the_feed_by_themselves() {
    let mut w = World::new();
    w.import(
        "2025-06-10T09:00:00Z",
        &[
            customer("C-1", false),
            site("SP-1", None, None),
            request("SO-1", "disable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
    let view = w
        .engine
        .feed(
            &w.supervisor,
            at("2025-06-15T12:00:00Z"),
            "C-1",
            &FeedRequest::default(),
        )
        .expect("feed");
    let so = view
        .items
        .iter()
        .find(|i| i.id == "SO-1")
        .expect("the service order is in the feed");
    assert_eq!(so.category, "service_order");
    assert_eq!(so.activity.as_deref(), Some("SO-1"));
}

#[test]
fn bad_inputs_are_clear_and_change_nothing() {
    let mut w = world();
    work_orders(&mut w, &[("WO-4", "CANCELLED")]);
    let sam = w.supervisor.clone();
    // Unknown customer.
    let err = w
        .engine
        .feed(&sam, at(TODAY), "C-404", &FeedRequest::default())
        .expect_err("unknown customer");
    assert!(
        matches!(&err, EngineError::BadInput(m) if m.contains("C-404")),
        "{err}"
    );
    // A range longer than six months.
    let long = FeedRequest {
        range: Some((date("2024-11-01"), date("2025-05-02"))),
        ..FeedRequest::default()
    };
    assert_eq!(
        w.engine
            .feed(&sam, at(TODAY), "C-1", &long)
            .expect_err("too long")
            .exit_code(),
        2
    );
    // Completing an already cancelled order: skipped with the reason, nothing changes.
    let report = w
        .engine
        .wo_complete(&sam, at(TODAY), &["WO-4".into()])
        .expect("bulk");
    assert_eq!(report.summary, "0 completed, 1 skipped: already CANCELLED");
    assert_eq!(
        w.engine.work_order("WO-4").expect("wo").status,
        WoStatus::Cancelled
    );
    // A move-out date too far in the past.
    let err = w
        .engine
        .move_event(
            &sam,
            at(TODAY),
            Move::Out,
            "C-1",
            "SITE-A",
            date("2025-05-01"),
        )
        .expect_err("too old");
    assert!(err.to_string().contains("10 business days"), "{err}");
    assert!(queue_ids(&w).is_empty());
    // Unknown work order ids are bad input (exit 2) and nothing is cancelled.
    let err = w
        .engine
        .wo_cancel(&sam, at(TODAY), &["WO-4".into(), "WO-999".into()], "x")
        .expect_err("unknown");
    assert_eq!(err.exit_code(), 2);
    // A support person may not work the queue.
    let support = actor("sue", Some(Role::Support));
    let err = w
        .engine
        .wo_complete(&support, at(TODAY), &["WO-4".into()])
        .expect_err("support");
    assert!(matches!(err, EngineError::Refused { ref code, .. } if code == "PERMISSION_DENIED"));
}
