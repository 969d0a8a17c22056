//! The customer activity feed view (§7), driven through `update` with actions and drawn on a
//! TestBackend at 80×24 and 120×40: the default buckets, a refused date range, the "Filter by"
//! popup and the customer pick list; the §7.2 account scoping, opening a service order, and the
//! filters surviving a restart through the desk's state file.

mod common;

use common::*;
use orderdesk::formats::FeedCategory;
use orderdesk::tui::app::{Action, App, View};
use orderdesk::tui::feed_view::FeedLine;
use orderdesk::tui::keymap::KeyAction;

const T0: &str = "2025-06-10T09:00:00Z";

/// A feed item line for C-1.
fn item(
    id: &str,
    account: Option<&str>,
    subtype: &str,
    at: &str,
    summary: &str,
    details: &str,
) -> String {
    let category = match subtype {
        "call" | "chat" => "conversation_message",
        "bill" | "payment" => "financial_information",
        "case" => "customer_information",
        other => other,
    };
    let account = account.map_or(String::new(), |a| format!(r#","account":"{a}""#));
    format!(
        r#"{{"kind":"feed_item","id":"{id}","customer":"C-1"{account},"category":"{category}","subtype":"{subtype}","at":"{at}","summary":"{summary}","details":{details}}}"#
    )
}

/// Three customers (two named Ada), C-1 with two billing accounts, a service order on C-1's
/// service point, and three years of C-1's activity on both accounts and on the contact.
fn world() -> World {
    let mut w = World::new();
    let sp = |id: &str, customer: &str, account: &str, address: &str| {
        format!(
            r#"{{"kind":"service_point","id":"{id}","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"{address}","customer":"{customer}","account":"{account}","device":null}}"#
        )
    };
    w.import(
        T0,
        &[
            r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1","BA-2"]}"#.to_string(),
            r#"{"kind":"customer","id":"C-2","name":"Ada Lovelace","billing_accounts":["BA-3"]}"#.to_string(),
            r#"{"kind":"customer","id":"C-3","name":"Grace Hopper","billing_accounts":["BA-4"]}"#.to_string(),
            sp("SP-1", "C-1", "BA-1", "12 Elm St"),
            sp("SP-2", "C-2", "BA-3", "4 Oak Ave"),
            request("SO-1", "enable_service", "SP-1", ""),
            item("K1", Some("BA-1"), "call", "2025-05-02T14:30:00Z", "Inbound call: bill too high", r#"{"direction":"inbound","agent":"Kim","resolution":"explained the tariff"}"#),
            item("H1", Some("BA-2"), "chat", "2025-04-04T10:00:00Z", "Chat: holiday home meter", r#"{"agent":"Lee","started_by":"customer","summary":"meter reading"}"#),
            item("M1", None, "email", "2025-03-05T08:00:00Z", "Email: Your e-bill is ready", r#"{"to":"ada@example.org","from":"care@utility.example","subject":"Your e-bill is ready","body":"It is ready."}"#),
            item("X1", Some("BA-1"), "bill", "2024-11-10T06:00:00Z", "Bill Nov 2024 — $148.98", r#"{"amount":"148.98"}"#),
            item("P1", Some("BA-1"), "payment", "2024-11-20T12:00:00Z", "Payment $148.98 (card)", r#"{"amount":"148.98","method":"card"}"#),
            item("K2", Some("BA-1"), "call", "2024-02-01T09:00:00Z", "Outbound call: payment plan", r#"{"direction":"outbound","agent":"Kim"}"#),
            item("CS1", None, "case", "2023-08-01T09:00:00Z", "Case opened: billing dispute", r#"{"case_type":"billing dispute","notes":"assigned to care"}"#),
            item("X0", Some("BA-1"), "bill", "2022-06-09T06:00:00Z", "Bill Jun 2022 — outside the window", r#"{"amount":"99.00"}"#),
        ]
        .join("\n"),
    );
    w
}

fn desk(w: &World) -> App {
    desk_at(
        w,
        "sue",
        Some(orderdesk::domain::Role::Supervisor),
        "2025-06-10T09:05:00Z",
    )
}

fn key(app: &mut App, key: KeyAction) {
    app.update(Action::Key(key));
}

/// Replaces what the open prompt holds with `text` (as C-e C-u would) and submits it; a
/// refused answer stays in the prompt, so it is then left with Esc.
fn answer(app: &mut App, text: &str) {
    app.update(Action::Edit(tui_input::InputRequest::GoToEnd));
    app.update(Action::Edit(tui_input::InputRequest::DeleteFromStart));
    for c in text.chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Submit);
    if app.typing() {
        app.update(Action::Escape);
    }
}

/// The feed of `customer` (searched for as typed).
fn feed_of(w: &World, customer: &str) -> App {
    let mut app = desk(w);
    key(&mut app, KeyAction::GoFeed);
    key(&mut app, KeyAction::PickCustomer);
    answer(&mut app, customer);
    app
}

fn ids(app: &App) -> Vec<&str> {
    app.feed.items.iter().map(|i| i.id.as_str()).collect()
}

fn both_sizes(name: &str, app: &mut App) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), screen(app, 120, 40));
}

#[test]
fn no_customer_yet_says_which_key_to_press() {
    let w = world();
    let mut app = desk(&w);
    key(&mut app, KeyAction::GoFeed);
    assert_eq!(app.feed.customer, None);
    both_sizes("feed_empty", &mut app);
}

#[test]
fn default_view_shows_six_month_buckets_newest_first() {
    let w = world();
    let mut app = feed_of(&w, "C-1");
    assert_eq!(app.feed.customer.as_deref(), Some("C-1"));
    assert_eq!(app.feed.request.account.as_deref(), Some("BA-1"));
    // BA-1 view: the chat on BA-2 is hidden (§7.2); the bill before the window too (TV-23).
    assert_eq!(ids(&app), ["SO-1", "K1", "M1", "P1", "X1", "K2", "CS1"]);
    let headers: Vec<(String, usize)> = app
        .feed
        .lines
        .iter()
        .filter_map(|l| match l {
            FeedLine::Bucket { label, count } => Some((label.clone(), *count)),
            FeedLine::Item(_) => None,
        })
        .collect();
    assert_eq!(
        headers.len(),
        6,
        "a 3-year history is six buckets, empty ones shown"
    );
    assert_eq!(headers[0], ("2024-12-11 – 2025-06-10".to_string(), 3));
    assert_eq!(headers[5].1, 0);
    key(&mut app, KeyAction::Down);
    both_sizes("feed_buckets", &mut app);
}

#[test]
fn a_seven_month_range_is_refused_and_the_previous_range_stays() {
    let w = world();
    let mut app = feed_of(&w, "C-1");
    key(&mut app, KeyAction::DateRange);
    answer(&mut app, "2024-11-01 2025-04-30");
    assert_eq!(ids(&app), ["M1", "P1", "X1"], "a custom range is one list");
    assert!(app
        .feed
        .lines
        .iter()
        .all(|l| matches!(l, FeedLine::Item(_))));
    key(&mut app, KeyAction::DateRange);
    answer(&mut app, "2024-01-01 2024-08-01");
    let refusal = app.feed.refusal.clone().expect("an inline refusal");
    assert!(
        refusal.contains("rule 4 (longer_than_six_months)"),
        "{refusal}"
    );
    assert!(
        refusal.contains("2024-11-01 – 2025-04-30 stays"),
        "{refusal}"
    );
    assert_eq!(
        app.feed.request.range,
        Some((
            chrono::NaiveDate::from_ymd_opt(2024, 11, 1).expect("date"),
            chrono::NaiveDate::from_ymd_opt(2025, 4, 30).expect("date")
        ))
    );
    assert_eq!(ids(&app), ["M1", "P1", "X1"]);
    both_sizes("feed_refused_range", &mut app);
}

#[test]
fn each_range_rule_is_named() {
    let w = world();
    let mut app = feed_of(&w, "C-1");
    for (range, rule) in [
        ("2025-03-01 2025-02-01", "rule 1 (start_after_end)"),
        ("2025-05-01 2025-06-11", "rule 2 (end_after_today)"),
        ("2022-06-09 2022-10-01", "rule 3 (before_history)"),
        ("2025-13-01 2025-06-01", "not a day of the calendar"),
        ("yesterday", "type two dates"),
    ] {
        key(&mut app, KeyAction::DateRange);
        answer(&mut app, range);
        let refusal = app.feed.refusal.clone().unwrap_or_default();
        assert!(refusal.contains(rule), "{range}: {refusal}");
        assert_eq!(app.feed.request.range, None, "{range}");
    }
    // TV-24's edge: add_months(2024-12-31, 6) is 2025-06-30, so this range is accepted.
    key(&mut app, KeyAction::DateRange);
    answer(&mut app, "2024-12-31 to 2025-06-10");
    assert_eq!(app.feed.refusal, None);
    assert!(app.feed.request.range.is_some());
    // An empty range is "Date Range → Reset".
    key(&mut app, KeyAction::DateRange);
    answer(&mut app, "");
    assert_eq!(app.feed.request.range, None);
}

#[test]
fn filter_by_popup_ticks_applies_and_escape_leaves_it_unchanged() {
    let w = world();
    let mut app = feed_of(&w, "C-1");
    key(&mut app, KeyAction::FilterCategories);
    key(&mut app, KeyAction::Right); // Conversation Message
    key(&mut app, KeyAction::Down);
    key(&mut app, KeyAction::Right); // Email
    let popup = app.feed.categories.as_ref().expect("the popup is open");
    assert_eq!(popup.ticked.len(), 2);
    both_sizes("feed_filter_popup", &mut app);
    // Esc: nothing changes.
    key(&mut app, KeyAction::Back);
    assert!(app.feed.categories.is_none());
    assert!(app.feed.request.categories.is_empty());
    // Again, and Enter applies.
    key(&mut app, KeyAction::FilterCategories);
    key(&mut app, KeyAction::Right);
    key(&mut app, KeyAction::Open);
    assert_eq!(
        app.feed
            .request
            .categories
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [FeedCategory::ConversationMessage]
    );
    assert_eq!(ids(&app), ["K1", "K2"]);
    // Reset clears categories and range.
    key(&mut app, KeyAction::DateRange);
    answer(&mut app, "2025-01-01 2025-06-10");
    assert_eq!(ids(&app), ["K1"]);
    key(&mut app, KeyAction::ResetFilters);
    assert!(app.feed.request.categories.is_empty());
    assert_eq!(app.feed.request.range, None);
    assert_eq!(ids(&app).len(), 7);
}

#[test]
fn switching_account_scopes_calls_and_chats_tv_25() {
    let w = world();
    let mut app = feed_of(&w, "C-1");
    key(&mut app, KeyAction::SwitchAccount);
    assert_eq!(app.feed.request.account.as_deref(), Some("BA-2"));
    // BA-2: its chat, the contact's email and case; not BA-1's calls, bills or service order.
    assert_eq!(ids(&app), ["H1", "M1", "CS1"]);
    key(&mut app, KeyAction::SwitchAccount);
    assert_eq!(app.feed.request.account.as_deref(), Some("BA-1"));
}

#[test]
fn a_search_with_several_matches_offers_a_pick_list() {
    let w = world();
    let mut app = feed_of(&w, "ada");
    assert_eq!(app.feed.customer, None, "nothing is picked yet");
    let picker = app.feed.picker.as_ref().expect("a pick list");
    assert_eq!(picker.choices.len(), 2);
    both_sizes("feed_pick_list", &mut app);
    key(&mut app, KeyAction::Down);
    key(&mut app, KeyAction::Open);
    assert!(app.feed.picker.is_none());
    assert_eq!(app.feed.customer.as_deref(), Some("C-2"));
    assert_eq!(app.feed.name, "Ada Lovelace");
}

#[test]
fn a_service_point_or_an_account_picks_the_customer_and_the_account() {
    let w = world();
    let app = feed_of(&w, "sp-1");
    assert_eq!(app.feed.customer.as_deref(), Some("C-1"));
    let app = feed_of(&w, "ba-2");
    assert_eq!(app.feed.customer.as_deref(), Some("C-1"));
    assert_eq!(app.feed.request.account.as_deref(), Some("BA-2"));
    // A search that finds nobody stays in its prompt, saying so, to be corrected.
    let mut app = desk(&w);
    key(&mut app, KeyAction::GoFeed);
    key(&mut app, KeyAction::PickCustomer);
    for c in "nobody".chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Submit);
    assert!(app.typing(), "the prompt stays open");
    assert_eq!(app.feed.customer, None);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("no customer matches `nobody`"), "{text}");
    assert!(text.contains("> nobody"), "the entry stays: {text}");
}

#[test]
fn enter_on_a_service_order_opens_its_hierarchy() {
    let w = world();
    let mut app = feed_of(&w, "C-1");
    key(&mut app, KeyAction::Down);
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::Feed, "a call has no hierarchy");
    key(&mut app, KeyAction::Top);
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::Tree);
    assert_eq!(
        app.hierarchy.tree.as_ref().map(|t| t.id.as_str()),
        Some("SO-1")
    );
}

#[test]
fn filters_and_window_survive_a_restart() {
    let w = world();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("desk.json");
    // Another view's key is kept.
    std::fs::write(&path, r#"{"audit":{"operator":"ada"}}"#).expect("write");
    let mut app = desk(&w);
    app.state_path = Some(path.clone());
    key(&mut app, KeyAction::GoFeed);
    key(&mut app, KeyAction::PickCustomer);
    answer(&mut app, "C-1");
    key(&mut app, KeyAction::SwitchAccount);
    key(&mut app, KeyAction::FilterCategories);
    key(&mut app, KeyAction::Right);
    key(&mut app, KeyAction::Open);
    key(&mut app, KeyAction::DateRange);
    answer(&mut app, "2025-01-01 2025-06-10");
    assert_eq!(ids(&app), ["H1"]);

    let mut again = desk(&w);
    again.state_path = Some(path.clone());
    key(&mut again, KeyAction::GoFeed);
    assert_eq!(again.feed.customer.as_deref(), Some("C-1"));
    assert_eq!(again.feed.request.account.as_deref(), Some("BA-2"));
    assert_eq!(ids(&again), ["H1"]);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(saved["audit"]["operator"], "ada");
    assert_eq!(saved["feed"]["categories"][0], "conversation_message");
}

#[test]
fn a_corrupt_or_stale_state_file_is_tolerated() {
    let w = world();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("desk.json");
    std::fs::write(&path, "{ not json").expect("write");
    let mut app = desk(&w);
    app.state_path = Some(path.clone());
    key(&mut app, KeyAction::GoFeed);
    assert_eq!(app.feed.customer, None);
    key(&mut app, KeyAction::PickCustomer);
    answer(&mut app, "C-1");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(saved["feed"]["customer"], "C-1");

    // A range older than the history, a category from another build, a customer gone.
    std::fs::write(
        &path,
        r#"{"feed":{"customer":"C-9","categories":["email","telepathy"],"range":{"start":"2020-01-01","end":"2020-02-01"}}}"#,
    )
    .expect("write");
    let mut app = desk(&w);
    app.state_path = Some(path);
    key(&mut app, KeyAction::GoFeed);
    assert_eq!(app.feed.customer, None);
    assert_eq!(app.feed.request.range, None);
    assert_eq!(
        app.feed
            .request
            .categories
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [FeedCategory::Email]
    );
    let notice = app.feed.notice.clone().unwrap_or_default();
    assert!(notice.contains("before_history"), "{notice}");
    assert!(notice.contains("C-9 is no longer"), "{notice}");
}

/// The column where `needle` starts on each row of the pick list (the rows that name Cherry Ln),
/// read from the cells, where a wide character fills two.
fn pick_list_columns(app: &mut App, width: u16, height: u16, needle: &str) -> Vec<usize> {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = ratatui::Terminal::new(backend).expect("terminal");
    let theme = orderdesk::tui::theme::Theme::new(true);
    terminal
        .draw(|frame| orderdesk::tui::views::draw(frame, app, &theme))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let mut found = Vec::new();
    for y in 0..buffer.area.height {
        let cells: Vec<String> = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        if !cells.concat().contains("Cherry Ln") {
            continue;
        }
        let wanted: Vec<String> = needle.chars().map(String::from).collect();
        if let Some(x) = cells
            .windows(wanted.len())
            .position(|w| w == wanted.as_slice())
        {
            found.push(x);
        }
    }
    found
}

#[test]
fn wide_characters_in_a_name_keep_the_pick_list_aligned() {
    // Given three customers on Cherry Lane: a CJK name longer than its column, an emoji, ASCII.
    let mut w = World::new();
    let customer = |id: &str, name: &str, account: &str| {
        format!(
            r#"{{"kind":"customer","id":"{id}","name":"{name}","billing_accounts":["{account}"]}}"#
        )
    };
    let sp = |id: &str, customer: &str, account: &str| {
        format!(
            r#"{{"kind":"service_point","id":"{id}","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"{id} Cherry Ln","customer":"{customer}","account":"{account}","device":null}}"#
        )
    };
    w.import(
        T0,
        &[
            customer("C-4", "山田太郎のお客様センター北口店", "BA-4"),
            customer("C-5", "🔌 Spark Ltd", "BA-5"),
            customer("C-6", "Yamada Taro", "BA-6"),
            sp("SP-4", "C-4", "BA-4"),
            sp("SP-5", "C-5", "BA-5"),
            sp("SP-6", "C-6", "BA-6"),
        ]
        .join("\n"),
    );
    // When the operator searches for the street.
    let mut app = feed_of(&w, "Cherry");
    assert_eq!(
        app.feed.picker.as_ref().expect("a pick list").choices.len(),
        3
    );
    // Then the column after the name starts at the same place on every row, wide or narrow.
    for (width, height, next_column) in [(120, 40, "BA-"), (60, 15, "address:")] {
        let starts = pick_list_columns(&mut app, width, height, next_column);
        assert_eq!(starts.len(), 3, "{width}x{height}: {starts:?}");
        assert!(
            starts.iter().all(|x| *x == starts[0]),
            "{width}x{height}: {starts:?}"
        );
    }
}
