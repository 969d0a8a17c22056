//! The desk's hot paths over a demo world.
//!
//! By default the world is built in a temporary sled database: `ORDERDESK_BENCH_CUSTOMERS` sets
//! its size (default 30, so a smoke run stays under a minute). `ORDERDESK_BENCH_DB` names a
//! database built beforehand with `orderdesk demo --customers N --seed 42 --now
//! 2025-06-10T14:00:00Z` instead (the 50,000-customer world takes a quarter of an hour to build).
//! The retry bench writes to it. See BENCHMARKS.md for the sizes measured.

use orderdesk::config::Config;
use orderdesk::demo::{build, DemoOptions};
use orderdesk::domain::Instant;
use orderdesk::engine::{Actor, Engine, FeedRequest, ListFilter, Reader};
use orderdesk::store::SledStore;
use orderdesk::tui::app::{Action, App, View};
use orderdesk::tui::keymap::{KeyAction, Keymap};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

fn main() {
    divan::main();
    report_percentiles();
}

/// Every timed iteration of the latency benches, by bench: divan reports medians and the
/// slowest sample, and the targets are p99s.
static LATENCIES: Mutex<Vec<(&'static str, Duration)>> = Mutex::new(Vec::new());

/// Runs `f`, recording how long it took under `bench`.
fn timed<T>(bench: &'static str, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    let took = started.elapsed();
    LATENCIES.lock().expect("latencies").push((bench, took));
    out
}

/// Prints p50, p99 and the slowest iteration of every latency bench that ran.
fn report_percentiles() {
    let all = LATENCIES.lock().expect("latencies");
    let mut by_bench: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    for (bench, took) in all.iter() {
        by_bench.entry(bench).or_default().push(*took);
    }
    for (bench, mut times) in by_bench {
        times.sort();
        let at =
            |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
        println!(
            "{bench}: {} iterations, p50 {:.3} ms, p99 {:.3} ms, slowest {:.3} ms",
            times.len(),
            at(0.50).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    }
}

/// The world every bench reads: built once per run.
struct World {
    engine: Mutex<Engine>,
    reader: Reader,
    now: Instant,
    _dir: Option<tempfile::TempDir>,
}

/// The engine time of the benches: the demo world's `--now`.
const NOW: &str = "2025-06-10T14:00:00Z";

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/config.toml");
        let config: Config = orderdesk::config::load(&path).expect("demo config");
        let now: Instant = NOW.parse().expect("time");
        let (engine, dir) = match std::env::var_os("ORDERDESK_BENCH_DB") {
            Some(db) => (open_built(std::path::Path::new(&db), config), None),
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                (build_world(&dir.path().join("db"), config, now), Some(dir))
            }
        };
        World {
            reader: engine.reader(),
            engine: Mutex::new(engine),
            now,
            _dir: dir,
        }
    })
}

/// Opens a database built by `orderdesk demo`.
fn open_built(db: &std::path::Path, config: Config) -> Engine {
    let started = std::time::Instant::now();
    let store = SledStore::open(db, "bench").expect("the database at ORDERDESK_BENCH_DB");
    let engine = Engine::new(Box::new(store), config);
    let top_level: usize = engine
        .reader()
        .counts_by_state()
        .expect("counts")
        .iter()
        .map(|(_, n)| n)
        .sum();
    eprintln!(
        "world: {} ({top_level} top-level activities, {} open work orders), opened in {:.2} s",
        db.display(),
        engine.reader().queue_len().expect("queue"),
        started.elapsed().as_secs_f64()
    );
    engine
}

/// Builds the demo world of `ORDERDESK_BENCH_CUSTOMERS` customers at `db`.
fn build_world(db: &std::path::Path, config: Config, now: Instant) -> Engine {
    let customers = std::env::var("ORDERDESK_BENCH_CUSTOMERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let store = SledStore::open(db, "bench").expect("sled");
    let mut engine = Engine::new(Box::new(store), config);
    let options = DemoOptions {
        seed: 42,
        customers,
        now,
    };
    let started = std::time::Instant::now();
    let summary = build(&mut engine, &options, &mut |_| {}).expect("demo");
    eprintln!(
        "world: {customers} customers, {} activities, {} top-level, {} open work orders, built in {:.1} s",
        summary.activities,
        summary.top_level,
        summary.open_work_orders,
        started.elapsed().as_secs_f64()
    );
    engine
}

fn desk(view: View) -> App {
    let w = world();
    let keymap = Keymap::defaults().expect("keymap");
    let mut app = App::new(
        orderdesk::client::Local::reading(
            w.reader.clone(),
            orderdesk::engine::Actor::with_role("sam", Some(orderdesk::domain::Role::Supervisor)),
            orderdesk::runtime::Clock::wall(),
        )
        .shared(),
        keymap,
    );
    app.update(Action::Clock(w.now, 1.0));
    app.go(view);
    app
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &mut App) {
    let theme = orderdesk::tui::theme::Theme::new(true);
    terminal
        .draw(|frame| orderdesk::tui::views::draw(frame, app, &theme))
        .expect("draw");
}

/// The desk's part of the first frame: the model built over an open database (the overview's
/// counts, errors, queue and sparklines read) and drawn. The PTY bench in `startup.rs` times
/// the whole launch, the database open included.
#[divan::bench]
fn first_frame_over_open_database(bencher: divan::Bencher) {
    world();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    bencher.bench_local(|| {
        timed("first_frame_over_open_database", || {
            let mut app = desk(View::Overview);
            draw(&mut terminal, &mut app);
        })
    });
}

/// One frame of the queue on a 200×50 TestBackend (data already read).
#[divan::bench]
fn queue_frame_render(bencher: divan::Bencher) {
    let mut app = desk(View::Queue);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    bencher.bench_local(|| draw(&mut terminal, &mut app));
}

/// The naive baseline of the queue frame: every open order read and built into table rows,
/// then the same 200×50 frame drawn.
#[divan::bench]
fn queue_frame_naive_full_table(bencher: divan::Bencher) {
    use ratatui::widgets::{Row, Table};
    let w = world();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    bencher.bench_local(|| {
        let (orders, _) = w
            .reader
            .queue_window(&Actor::system(), false, "", 0, 0)
            .expect("queue");
        let rows: Vec<Row> = orders
            .iter()
            .map(|o| {
                Row::new(vec![
                    o.id.clone(),
                    o.status.code().to_string(),
                    o.customer.clone(),
                    o.site.clone(),
                    o.preferred_date.map_or("-".into(), |d| d.to_string()),
                    o.assignee.label(),
                ])
            })
            .collect();
        let widths = [ratatui::layout::Constraint::Length(12); 6];
        terminal
            .draw(|frame| frame.render_widget(Table::new(rows, widths), frame.area()))
            .expect("draw");
    });
}

/// Keypress to frame in the queue: paging down through every open order and wrapping.
#[divan::bench]
fn queue_keypress_to_frame(bencher: divan::Bencher) {
    let mut app = desk(View::Queue);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    draw(&mut terminal, &mut app);
    bencher.bench_local(|| {
        timed("queue_keypress_to_frame", || {
            if app.queue.list.cursor.selected + 1 >= app.queue.list.total {
                app.update(Action::Key(KeyAction::Top));
            } else {
                app.update(Action::Key(KeyAction::PageDown));
            }
            draw(&mut terminal, &mut app);
        })
    });
}

/// Keypress to frame when switching views (Tab through every view: each reads its data).
#[divan::bench]
fn next_view_keypress_to_frame(bencher: divan::Bencher) {
    let mut app = desk(View::Overview);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    draw(&mut terminal, &mut app);
    bencher.bench_local(|| {
        let started = std::time::Instant::now();
        app.update(Action::Key(KeyAction::NextView));
        draw(&mut terminal, &mut app);
        let bench = match app.view {
            View::Overview => "next_view_to_overview",
            View::Queue => "next_view_to_queue",
            View::Orchestrations => "next_view_to_orchestrations",
            View::Errors => "next_view_to_errors",
            View::Tree => "next_view_to_tree",
            View::Feed => "next_view_to_feed",
            View::Throttle => "next_view_to_throttle",
            View::Partners => "next_view_to_partners",
            View::Audit => "next_view_to_audit",
            View::WorkOrder => "next_view_to_work_order",
        };
        LATENCIES
            .lock()
            .expect("latencies")
            .push((bench, started.elapsed()));
    });
}

/// Jump to the last row of the orchestration list and back to the top.
#[divan::bench]
fn orchestrations_jump_to_end_and_back(bencher: divan::Bencher) {
    let mut app = desk(View::Orchestrations);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    draw(&mut terminal, &mut app);
    let mut bottom = false;
    bencher.bench_local(|| {
        timed("orchestrations_jump_to_end_and_back", || {
            bottom = !bottom;
            app.update(Action::Key(if bottom {
                KeyAction::Bottom
            } else {
                KeyAction::Top
            }));
            draw(&mut terminal, &mut app);
        })
    });
}

/// Keypress to frame in the orchestration list: update (cursor, window re-read when it
/// leaves the window) and render, paging down through the whole list and wrapping.
#[divan::bench]
fn orchestrations_keypress_to_frame(bencher: divan::Bencher) {
    let mut app = desk(View::Orchestrations);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    draw(&mut terminal, &mut app);
    bencher.bench_local(|| {
        timed("orchestrations_keypress_to_frame", || {
            if app.orchestrations.list.cursor.selected + 1 >= app.orchestrations.list.total {
                app.update(Action::Key(KeyAction::Top));
            } else {
                app.update(Action::Key(KeyAction::PageDown));
            }
            draw(&mut terminal, &mut app);
        })
    });
}

/// Keypress to frame paging down from the middle of the orchestration list (back to the middle
/// near the end): the windows read there are the farthest from either end of the index.
#[divan::bench]
fn orchestrations_page_down_mid_list(bencher: divan::Bencher) {
    let mut app = desk(View::Orchestrations);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    let middle = app.orchestrations.list.total / 2;
    let to_middle = |app: &mut App| {
        app.orchestrations.list.cursor.selected = middle;
        app.orchestrations.list.cursor.offset = middle;
        app.update(Action::Refresh);
    };
    to_middle(&mut app);
    draw(&mut terminal, &mut app);
    bencher.bench_local(|| {
        timed("orchestrations_page_down_mid_list", || {
            if app.orchestrations.list.cursor.selected + 100 >= app.orchestrations.list.total {
                to_middle(&mut app);
            } else {
                app.update(Action::Key(KeyAction::PageDown));
            }
            draw(&mut terminal, &mut app);
        })
    });
}

/// A refresh of the orchestration list (what every monitor pass with changes costs) and a frame.
#[divan::bench]
fn orchestrations_refresh_and_frame(bencher: divan::Bencher) {
    let mut app = desk(View::Orchestrations);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    bencher.bench_local(|| {
        timed("orchestrations_refresh_and_frame", || {
            app.update(Action::Refresh);
            draw(&mut terminal, &mut app);
        })
    });
}

/// The same list read whole, as the desk did before windows: the naive baseline.
#[divan::bench]
fn orchestrations_whole_list_baseline(bencher: divan::Bencher) {
    let w = world();
    bencher.bench(|| {
        w.reader
            .list(&Actor::system(), &ListFilter::default())
            .expect("list")
            .len()
    });
}

/// The status bar's counts (live counts, O(states)).
#[divan::bench]
fn counts_by_state(bencher: divan::Bencher) {
    let w = world();
    bencher.bench(|| w.reader.counts_by_state().expect("counts"));
}

/// One customer's feed, six-month window, one category.
#[divan::bench]
fn feed_query_one_customer(bencher: divan::Bencher) {
    let w = world();
    let customer = w
        .reader
        .queue_window(&Actor::system(), false, "", 0, 1)
        .expect("queue")
        .0
        .first()
        .map(|wo| wo.customer.clone())
        .expect("an open work order");
    let category = orderdesk::formats::FeedCategory::ALL[0];
    let request = FeedRequest {
        account: None,
        categories: [category].into_iter().collect(),
        range: None,
    };
    bencher.bench(|| {
        timed("feed_query_one_customer", || {
            w.reader
                .feed(&Actor::system(), w.now, &customer, &request)
                .expect("feed")
        })
    });
}

/// One operator action (retry of an activity in error) acknowledged after flush; a refusal
/// (nothing to retry any more) is audited and flushed too, so every iteration writes.
#[divan::bench]
fn operator_retry_after_flush(bencher: divan::Bencher) {
    let w = world();
    let filter = ListFilter {
        state: Some("ACTIVITY_ERROR".into()),
        ..ListFilter::default()
    };
    let ids: Vec<String> = w
        .reader
        .list_window(&Actor::system(), &filter, 0, 50)
        .expect("list")
        .0
        .into_iter()
        .map(|r| r.id)
        .collect();
    let fallback = w
        .reader
        .list_window(&Actor::system(), &ListFilter::default(), 0, 1)
        .expect("list")
        .0[0]
        .id
        .clone();
    let mut at = 0usize;
    bencher.bench_local(|| {
        timed("operator_retry_after_flush", || {
            let id = ids.get(at % ids.len().max(1)).unwrap_or(&fallback).clone();
            at += 1;
            let mut engine = w.engine.lock().expect("engine");
            let _ = engine.retry(&Actor::system(), w.now, &id);
        })
    });
}
