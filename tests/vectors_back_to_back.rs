//! Back-to-Back through the engine: when it completes, the service point passes to the incoming
//! customer and account, so what happens there next belongs to them.

mod common;

use common::*;
use orderdesk::engine::FeedRequest;

const T0: &str = "2025-06-10T09:00:00Z";

/// A customer with one billing account.
fn customer(id: &str, account: &str) -> String {
    format!(
        r#"{{"kind":"customer","id":"{id}","name":"{id}","life_support":false,"billing_accounts":["{account}"]}}"#
    )
}

/// SP-1 served by C-OUT on BA-OUT, with a manual meter that is on.
fn served_point() -> String {
    format!(
        r#"{{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"1 Main St","customer":"C-OUT","account":"BA-OUT","device":{}}}"#,
        manual("M-1", "on")
    )
}

/// The ids of the service orders in `customer`'s feed.
fn feed_ids(w: &World, customer: &str) -> Vec<String> {
    w.engine
        .feed(
            &w.supervisor,
            at("2025-06-15T12:00:00Z"),
            customer,
            &FeedRequest::default(),
        )
        .expect("feed")
        .items
        .into_iter()
        .map(|i| i.id)
        .collect()
}

#[test]
fn back_to_back_completion_passes_the_service_point_to_the_incoming_customer() {
    // Given SP-1 served by C-OUT, and a Back-to-Back to C-IN (no read needed, the meter on).
    let mut w = World::new();
    w.import(
        T0,
        &[
            customer("C-OUT", "BA-OUT"),
            customer("C-IN", "BA-IN"),
            served_point(),
            request(
                "SO-1",
                "back_to_back",
                "SP-1",
                r#","outgoing_customer":"C-OUT","incoming_customer":"C-IN","incoming_account":"BA-IN","read_required":false"#,
            ),
        ]
        .join("\n"),
    );
    // When it completes (B5).
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "COMPLETED");
    // And the next request arrives on SP-1.
    w.import(
        "2025-06-11T09:00:00Z",
        &request("SO-2", "disable_service", "SP-1", ""),
    );
    // Then it is stamped with the incoming customer and account.
    let next = w.show("SO-2");
    assert_eq!(next.fields["customer"], "C-IN");
    assert_eq!(next.fields["account"], "BA-IN");
    // And it is in the incoming customer's feed, not the outgoing one's.
    assert!(feed_ids(&w, "C-IN").contains(&"SO-2".to_string()));
    let outgoing = feed_ids(&w, "C-OUT");
    assert!(outgoing.contains(&"SO-1".to_string()), "{outgoing:?}");
    assert!(!outgoing.contains(&"SO-2".to_string()), "{outgoing:?}");
}

#[test]
fn back_to_back_without_an_account_takes_the_incoming_customers_first() {
    // Given a Back-to-Back to C-IN that names no account.
    let mut w = World::new();
    w.import(
        T0,
        &[
            customer("C-OUT", "BA-OUT"),
            customer("C-IN", "BA-IN"),
            served_point(),
            request(
                "SO-1",
                "back_to_back",
                "SP-1",
                r#","outgoing_customer":"C-OUT","incoming_customer":"C-IN","read_required":false"#,
            ),
        ]
        .join("\n"),
    );
    // When it completes and the next request arrives.
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "COMPLETED");
    w.import(
        "2025-06-11T09:00:00Z",
        &request("SO-2", "disable_service", "SP-1", ""),
    );
    // Then the next request is on the incoming customer's first account.
    let next = w.show("SO-2");
    assert_eq!(next.fields["customer"], "C-IN");
    assert_eq!(next.fields["account"], "BA-IN");
}
