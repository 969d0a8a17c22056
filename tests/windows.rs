//! Windowed reads and live counts against the whole lists, on a demo world large enough that
//! the index pages (512 keys) and the read-from-the-end path are exercised.

use orderdesk::config::Config;
use orderdesk::demo::{build, DemoOptions};
use orderdesk::engine::{Actor, Engine, ListFilter, Near};
use orderdesk::store::MemStore;
use std::path::Path;

fn world() -> Engine {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/config.toml");
    let config: Config = orderdesk::config::load(&path).expect("demo config");
    let mut engine = Engine::new(Box::new(MemStore::new()), config);
    let options = DemoOptions {
        seed: 7,
        customers: 90,
        now: "2025-06-10T14:00:00Z".parse().unwrap(),
    };
    build(&mut engine, &options, &mut |_| {}).expect("demo");
    engine
}

/// Removes every record of `tree`, behind the engine's back.
fn empty(engine: &Engine, tree: orderdesk::store::TreeId) {
    let store = engine.store();
    let mut batch = orderdesk::store::WriteBatch::default();
    for (key, _) in store.range(tree, &[], None, usize::MAX, false).unwrap() {
        batch.delete(tree, key);
    }
    store.commit(&batch).unwrap();
}

fn offsets(total: usize) -> Vec<usize> {
    let mut all = vec![0, 1, 37, 511, 512, 513, total / 2, total + 5];
    all.extend([1, 10, 37].iter().filter_map(|d| total.checked_sub(*d)));
    all
}

#[test]
fn windows_are_slices_of_the_whole_list_and_counts_agree() {
    let engine = world();
    let actor = Actor::system();
    assert_eq!(engine.check_consistency().unwrap(), Vec::<String>::new());

    let whole = engine.list(&actor, &ListFilter::default()).unwrap();
    assert!(whole.len() > 600, "the world is too small: {}", whole.len());
    let busiest = engine
        .counts_by_state()
        .unwrap()
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap();
    let commonest_error = engine
        .error_groups()
        .unwrap()
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap();
    let filters = [
        ListFilter::default(),
        ListFilter {
            error_code: Some(commonest_error.0),
            ..ListFilter::default()
        },
        ListFilter {
            state: Some(busiest.0.to_ascii_lowercase()),
            ..ListFilter::default()
        },
        ListFilter {
            activity_type: Some(orderdesk::domain::ActivityType::EnableService),
            ..ListFilter::default()
        },
        ListFilter {
            text: "sp-1".into(),
            ..ListFilter::default()
        },
    ];
    for filter in &filters {
        let rows = engine.list(&actor, filter).unwrap();
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        // Windows walked from a row held near them are the same slices.
        let n = ids.len();
        for (offset, at) in [
            (n / 2, n / 2 - n / 8),
            (n / 2, n / 2 + n / 8),
            (n / 3, n / 3),
        ] {
            let near = Some(Near {
                at,
                seq: rows[at].seq,
            });
            let (got, total) = engine
                .list_window_near(&actor, filter, offset, 37, near)
                .unwrap();
            assert_eq!(total, n, "{filter:?}");
            let got: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(
                got,
                ids[offset..(offset + 37).min(n)],
                "{filter:?} at {offset} near {at}"
            );
        }
        for offset in offsets(ids.len()) {
            let (rows, total) = engine.list_window(&actor, filter, offset, 37).unwrap();
            assert_eq!(total, ids.len(), "{filter:?}");
            let want = &ids[offset.min(ids.len())..(offset + 37).min(ids.len())];
            let got: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(got, want, "{filter:?} at {offset}");
        }
    }

    // The live counts agree with the lists they summarise.
    for (state, n) in engine.counts_by_state().unwrap() {
        assert_eq!(
            whole.iter().filter(|r| r.state == state).count(),
            n,
            "{state}"
        );
    }
    let queue = engine.queue(&actor, false, 0, 0).unwrap();
    for (status, n) in engine.queue_counts().unwrap() {
        assert_eq!(queue.iter().filter(|w| w.status == status).count(), n);
    }
    assert_eq!(engine.queue_len().unwrap(), queue.len());

    let ids: Vec<&str> = queue.iter().map(|w| w.id.as_str()).collect();
    for offset in offsets(ids.len()) {
        let (rows, total) = engine.queue_window(&actor, false, "", offset, 9).unwrap();
        assert_eq!(total, ids.len());
        let got: Vec<&str> = rows.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(got, ids[offset.min(ids.len())..(offset + 9).min(ids.len())]);
    }
    let n = queue.len();
    for (offset, at) in [(n / 2, n / 2 - n / 8), (n / 2, n / 2 + n / 8)] {
        let near = Some(Near {
            at,
            seq: queue[at].seq,
        });
        let (rows, _) = engine
            .queue_window_near(&actor, false, "", offset, 9, near)
            .unwrap();
        let got: Vec<&str> = rows.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(
            got,
            ids[offset..(offset + 9).min(n)],
            "queue at {offset} near {at}"
        );
    }
    let last = ids.len() - 1;
    assert_eq!(engine.queue_position(ids[last]).unwrap(), Some(last));
    let (narrow, total) = engine.queue_window(&actor, false, "new", 0, 0).unwrap();
    assert_eq!(total, narrow.len());
    assert!(narrow
        .iter()
        .all(|w| { orderdesk::workorders::matches_text(w, "new") }));
}

#[test]
fn the_desk_holds_a_window_and_its_cursor_travels_the_whole_list() {
    use orderdesk::tui::app::{Action, App, View};
    use orderdesk::tui::keymap::{KeyAction, Keymap};
    let engine = world();
    let whole = engine
        .list(&Actor::system(), &ListFilter::default())
        .unwrap();
    let keymap = Keymap::defaults().expect("default keymap");
    let mut app = App::new(
        orderdesk::client::Local::reading(
            engine.reader(),
            orderdesk::engine::Actor::with_role("sam", Some(orderdesk::domain::Role::Supervisor)),
            orderdesk::runtime::Clock::wall(),
        )
        .shared(),
        keymap,
    );
    app.update(Action::Key(KeyAction::GoOrchestrations));
    assert_eq!(app.view, View::Orchestrations);
    assert_eq!(app.orchestrations.list.total, whole.len());
    assert!(
        app.orchestrations.list.rows.len() < whole.len(),
        "only a window is held"
    );
    app.update(Action::Key(KeyAction::Bottom));
    let last = whole.len() - 1;
    assert_eq!(app.orchestrations.list.cursor.selected, last);
    assert_eq!(
        app.orchestrations.list.at(last).map(|r| &r.id),
        Some(&whole[last].id)
    );
    for _ in 0..30 {
        app.update(Action::Key(KeyAction::PageUp));
    }
    let at = app.orchestrations.list.cursor.selected;
    assert_eq!(
        app.orchestrations.list.at(at).map(|r| &r.id),
        Some(&whole[at].id)
    );
    app.update(Action::Key(KeyAction::Refresh));
    assert_eq!(
        app.orchestrations.list.at(at).map(|r| &r.id),
        Some(&whole[at].id)
    );
    app.update(Action::Key(KeyAction::Top));
    assert_eq!(
        app.orchestrations.list.at(0).map(|r| &r.id),
        Some(&whole[0].id)
    );

    // Paging down the whole list and back up, every row on screen is the list's row there,
    // though the desk reads only what its window lacks as it slides.
    let check = |app: &App| {
        let on_screen = app.orchestrations.list.cursor.offset
            ..(app.orchestrations.list.cursor.offset + app.page).min(whole.len());
        for at in on_screen {
            assert_eq!(
                app.orchestrations.list.at(at).map(|r| &r.id),
                Some(&whole[at].id),
                "row {at}"
            );
        }
    };
    while app.orchestrations.list.cursor.selected + 1 < whole.len() {
        app.update(Action::Key(KeyAction::PageDown));
        check(&app);
    }
    while app.orchestrations.list.cursor.selected > 0 {
        app.update(Action::Key(KeyAction::PageUp));
        check(&app);
    }
    for _ in 0..whole.len() / 3 {
        app.update(Action::Key(KeyAction::Down));
    }
    check(&app);
    for _ in 0..whole.len() / 7 {
        app.update(Action::Key(KeyAction::Up));
    }
    check(&app);
}

#[test]
fn the_newest_audit_entries_are_read_from_the_end_in_order() {
    let engine = world();
    let all = engine.audit(None, 0).unwrap();
    assert!(all.len() > 5, "the world has operator actions");
    let newest = engine.audit(None, 5).unwrap();
    assert_eq!(newest, all[all.len() - 5..].to_vec());
    let id = all
        .iter()
        .rev()
        .find_map(|e| e.ids.first().cloned())
        .expect("an action on an id");
    let about: Vec<_> = all
        .iter()
        .filter(|e| e.ids.contains(&id))
        .cloned()
        .collect();
    let last = engine.audit(Some(&id), 1).unwrap();
    assert_eq!(last, about[about.len() - 1..].to_vec());
}

#[test]
fn the_queue_covers_its_rows_so_a_window_reads_no_work_order_record() {
    use orderdesk::store::TreeId;
    let engine = world();
    let actor = Actor::system();
    let (before, total) = engine.queue_window(&actor, false, "", 3, 20).unwrap();
    assert!(total > 23, "a queue to page through ({total})");
    // With every work-order record gone, the unfiltered window still reads whole: its rows
    // come from the queue index alone.
    empty(&engine, TreeId::WorkOrders);
    let (after, same) = engine.queue_window(&actor, false, "", 3, 20).unwrap();
    assert_eq!((after, same), (before, total));
}

#[test]
fn the_state_and_error_indexes_cover_the_orchestration_lists_rows() {
    use orderdesk::store::TreeId;
    let engine = world();
    let actor = Actor::system();
    let filter = ListFilter::default();
    let (before, total) = engine.list_window(&actor, &filter, 5, 30).unwrap();
    assert!(total > 35, "a list to page through ({total})");
    let (code, in_error) = engine
        .error_groups()
        .unwrap()
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .expect("activities in error");
    assert!(in_error > 2, "an error list to page through ({in_error})");
    let by_code = ListFilter {
        error_code: Some(code),
        ..ListFilter::default()
    };
    let errors_before = engine.list_window(&actor, &by_code, 1, 30).unwrap();
    assert_eq!(errors_before.1, in_error);
    // With every activity record gone, a window of the list still reads whole, its rows (and
    // the sequence numbers a desk walks on from) from the state index alone.
    empty(&engine, TreeId::Activities);
    let (after, same) = engine.list_window(&actor, &filter, 5, 30).unwrap();
    assert_eq!(same, total);
    let ids = |rows: &[orderdesk::engine::ActivityRow]| -> Vec<(String, u64)> {
        rows.iter().map(|r| (r.id.clone(), r.seq)).collect()
    };
    assert_eq!(ids(&after), ids(&before));
    let errors_after = engine.list_window(&actor, &by_code, 1, 30).unwrap();
    assert_eq!(errors_after.1, in_error);
    assert_eq!(ids(&errors_after.0), ids(&errors_before.0));
}

#[test]
fn the_partners_backlog_is_a_live_count_that_agrees_with_the_waiting_messages() {
    use orderdesk::domain::Target;
    use orderdesk::store::{scan_prefix, TreeId};
    let mut engine = world();
    let now = "2025-06-10T14:00:00Z".parse().unwrap();
    let waiting = |engine: &Engine, target: Target| {
        let mut prefix = target.code().as_bytes().to_vec();
        prefix.push(0);
        scan_prefix(engine.store(), TreeId::Undelivered, &prefix, usize::MAX)
            .unwrap()
            .len() as u64
    };
    let mut seen = 0;
    for target in [Target::FieldWork, Target::HeadEnd] {
        let backlog = engine.backlog(target).unwrap();
        assert_eq!(backlog.count, waiting(&engine, target), "{target:?}");
        seen += backlog.count;
    }
    assert!(seen > 0, "the demo leaves messages in flight");
    // Deliveries recorded bring the count down with the index.
    let target = [Target::FieldWork, Target::HeadEnd]
        .into_iter()
        .max_by_key(|t| engine.backlog(*t).unwrap().count)
        .unwrap();
    let before = engine.backlog(target).unwrap().count;
    let taken: Vec<orderdesk::engine::Delivery> = engine
        .undelivered_to(target, 2)
        .unwrap()
        .into_iter()
        .map(|parcel| orderdesk::engine::Delivery {
            comm: parcel.id,
            ok: true,
            detail: "HTTP 202".into(),
            give_up: false,
        })
        .collect();
    engine.record_deliveries(now, &taken).unwrap();
    let after = engine.backlog(target).unwrap().count;
    assert_eq!(after, before - taken.len() as u64);
    assert_eq!(after, waiting(&engine, target));
    assert!(engine.check_consistency().unwrap().is_empty());
}
