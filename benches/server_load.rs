//! A team on one server: 20 clients retrying, completing and reading for a while, and a desk
//! paging the orchestration list at the same time, over the database's Unix socket; then the
//! same load with every client in the server's process (the embedded path), for comparison.
//!
//! `ORDERDESK_BENCH_DB` names a database built with `orderdesk demo --customers N --seed 42
//! --now 2025-06-10T14:00:00Z` (the 1M-activity world: 56,000 customers); without it a
//! 30-customer world is built in a temporary directory. The load writes to the database.
//! `ORDERDESK_BENCH_SECONDS` sets how long each phase runs (default 60), `ORDERDESK_BENCH_CLIENTS`
//! how many clients act (default 20).

use orderdesk::client::{Api, Local, Remote, Wanted};
use orderdesk::config::Config;
use orderdesk::engine::{Actor, Engine, ListFilter};
use orderdesk::runtime::{Clock, Runtime, RuntimeOptions};
use orderdesk::server::Server;
use orderdesk::store::SledStore;
use orderdesk::tui::app::{Action, App, View};
use orderdesk::tui::keymap::{KeyAction, Keymap};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: &str = "2025-06-10T14:00:00Z";

fn main() {
    let seconds: u64 = env_or("ORDERDESK_BENCH_SECONDS", 60);
    let clients: usize = env_or("ORDERDESK_BENCH_CLIENTS", 20);
    let config_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/config.toml");
    let config: Config = orderdesk::config::load(&config_path).expect("demo config");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = match std::env::var_os("ORDERDESK_BENCH_DB") {
        Some(db) => std::path::PathBuf::from(db),
        None => {
            let db = dir.path().join("db");
            let store = SledStore::open(&db, "bench").expect("sled");
            let mut engine = Engine::new(Box::new(store), config.clone());
            let options = orderdesk::demo::DemoOptions {
                seed: 42,
                customers: 30,
                now: NOW.parse().expect("time"),
            };
            orderdesk::demo::build(&mut engine, &options, &mut |_| {}).expect("demo");
            engine.flush().expect("flush");
            db
        }
    };
    let opened = Instant::now();
    let store = SledStore::open(&db, "bench").expect("the database");
    let engine = Engine::new(Box::new(store), config);
    eprintln!(
        "world: {} opened in {:.2} s; {clients} clients, {seconds} s a phase",
        db.display(),
        opened.elapsed().as_secs_f64()
    );
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let _guard = tokio.enter();
    let clock = Clock::starting_at(NOW.parse().expect("time"), 1.0);
    let mut options = RuntimeOptions::manual(clock);
    options.monitor_every = Some(Duration::from_secs(1));
    let runtime = Runtime::start(engine, options).expect("runtime");
    let socket = orderdesk::server::socket_path(&db);
    let server = tokio
        .block_on(Server::start(runtime.handle().clone(), &socket, "bench"))
        .expect("serve");

    let remote = |channel: &str| -> Arc<dyn Api> {
        let wanted = Wanted {
            operator: Some("ada".into()),
            read_only: false,
            channel: channel.into(),
        };
        Remote::connect(&socket, wanted).expect("connect").shared()
    };
    let local = || -> Arc<dyn Api> {
        let actor = Actor::with_role("ada", Some(orderdesk::domain::Role::Supervisor));
        Local::new(runtime.handle().clone(), actor, "bench").shared()
    };

    let over_socket = phase(
        "over the socket",
        clients,
        seconds,
        &|| remote("api"),
        remote("desk"),
    );
    let in_process = phase("in process", clients, seconds, &local, local());
    println!();
    println!("| path | actions acknowledged/s | reads/s | action p50 / p99 | read p50 / p99 | desk keypress p50 / p99 |");
    println!("|---|---|---|---|---|---|");
    for (name, r) in [("over the socket", over_socket), ("in process", in_process)] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
            r.actions as f64 / r.seconds,
            r.reads as f64 / r.seconds,
            r.action_ms.0,
            r.action_ms.1,
            r.read_ms.0,
            r.read_ms.1,
            r.keypress_ms.0,
            r.keypress_ms.1
        );
    }
    tokio.block_on(server.stop("the bench is over"));
    tokio.block_on(runtime.shutdown()).expect("shutdown");
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Results {
    seconds: f64,
    actions: usize,
    reads: usize,
    action_ms: (f64, f64),
    read_ms: (f64, f64),
    keypress_ms: (f64, f64),
}

/// p50 and p99 in milliseconds.
fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    if times.is_empty() {
        return (0.0, 0.0);
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    (at(0.50).as_secs_f64() * 1e3, at(0.99).as_secs_f64() * 1e3)
}

/// One phase: `clients` clients from `connect` acting for `seconds`, and a desk over `desk`
/// paging the orchestration list meanwhile.
fn phase(
    name: &str,
    clients: usize,
    seconds: u64,
    connect: &dyn Fn() -> Arc<dyn Api>,
    desk: Arc<dyn Api>,
) -> Results {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|n| {
            let api = connect();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || client(n, api.as_ref(), &stop))
        })
        .collect();
    let keypresses = desk_pages(desk, &stop, Duration::from_secs(seconds));
    stop.store(true, Ordering::SeqCst);
    let mut actions = Vec::new();
    let mut reads = Vec::new();
    for worker in workers {
        let (a, r) = worker.join().expect("client");
        actions.extend(a);
        reads.extend(r);
    }
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "{name}: {} actions, {} reads, {} keypresses in {elapsed:.1} s",
        actions.len(),
        reads.len(),
        keypresses.len()
    );
    Results {
        seconds: elapsed,
        actions: actions.len(),
        reads: reads.len(),
        action_ms: percentiles(actions),
        read_ms: percentiles(reads),
        keypress_ms: percentiles(keypresses),
    }
}

/// One client's loop: a retry, a work-order completion or a read, in turn. Returns the times
/// of the acknowledged actions (refusals count: they are answered and audited) and the reads.
fn client(n: usize, api: &dyn Api, stop: &AtomicBool) -> (Vec<Duration>, Vec<Duration>) {
    let mut actions = Vec::new();
    let mut reads = Vec::new();
    let errors = ListFilter {
        state: Some("ACTIVITY_ERROR".into()),
        ..ListFilter::default()
    };
    let mut turn = n;
    while !stop.load(Ordering::SeqCst) {
        turn += 1;
        let started = Instant::now();
        match turn % 4 {
            0 => {
                let (rows, _) = api.list_window(&errors, turn % 50, 1, None).expect("list");
                if let Some(row) = rows.first() {
                    let started = Instant::now();
                    let _ = api.retry(&row.id);
                    actions.push(started.elapsed());
                }
            }
            1 => {
                let (orders, _) = api
                    .queue_window(false, "", turn % 50, 1, None)
                    .expect("queue");
                if let Some(order) = orders.first() {
                    let started = Instant::now();
                    let _ = api.wo_complete(std::slice::from_ref(&order.id));
                    actions.push(started.elapsed());
                }
            }
            2 => {
                api.list_window(&ListFilter::default(), turn * 37 % 1000, 40, None)
                    .expect("list");
                reads.push(started.elapsed());
            }
            _ => {
                api.queue_window(false, "", turn * 13 % 500, 40, None)
                    .expect("queue");
                reads.push(started.elapsed());
            }
        }
    }
    (actions, reads)
}

/// A desk on the orchestration list pressing page-down (and jumping back to the top at the
/// end), each keypress timed from the key to the drawn frame.
fn desk_pages(api: Arc<dyn Api>, stop: &AtomicBool, run_for: Duration) -> Vec<Duration> {
    let mut app = App::new(api, Keymap::defaults().expect("keymap"));
    app.update(Action::Clock(NOW.parse().expect("time"), 1.0));
    app.go(View::Orchestrations);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    let theme = orderdesk::tui::theme::Theme::new(true);
    let mut draw = |app: &mut App| {
        terminal
            .draw(|frame| orderdesk::tui::views::draw(frame, app, &theme))
            .expect("draw");
    };
    draw(&mut app);
    let mut times = Vec::new();
    let until = Instant::now() + run_for;
    let mut presses = 0;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        presses += 1;
        let key = if presses % 200 == 0 {
            KeyAction::Top
        } else {
            KeyAction::PageDown
        };
        let started = Instant::now();
        app.update(Action::Key(key));
        draw(&mut app);
        times.push(started.elapsed());
        // A person presses a key a few times a second, not in a tight loop.
        std::thread::sleep(Duration::from_millis(20));
    }
    times
}
