//! Outbound delivery to a partner on 127.0.0.1: how many messages per second the couriers
//! deliver (each one read from the outbox, POSTed, and its delivery recorded durably), beside
//! the raw request rate of the same HTTP client, with the same concurrency, to the same
//! partner, in the same run. The partner answers 202 at once, so both measure orderdesk.
//!
//! `ORDERDESK_BENCH_MESSAGES` sets how many messages (default 5,000): one Disable Service per
//! smart meter, each sending one head-end command. `ORDERDESK_BENCH_ROUNDS` how many times
//! each side is measured (default 3; the best of each is reported).

use orderdesk::config::{Config, Partner, Partners, Transport};
use orderdesk::domain::Target;
use orderdesk::engine::{Actor, Engine};
use orderdesk::runtime::partners::carrier::{Carrier, Parcel};
use orderdesk::runtime::{Clock, Runtime, RuntimeOptions};
use orderdesk::store::SledStore;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: &str = "2025-06-10T09:00:00Z";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A partner that takes every message with 202 and counts them.
async fn start_partner(taken: Arc<AtomicU64>) -> String {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/head_end",
        listener.local_addr().expect("address")
    );
    let app = axum::Router::new().route(
        "/head_end",
        post(move |_body: axum::body::Bytes| {
            let taken = Arc::clone(&taken);
            async move {
                taken.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn partner_settings(url: &str) -> Partner {
    Partner {
        transport: Transport::Http {
            url: url.to_string(),
            token_file: None,
            client_cert: None,
            client_key: None,
            ca: None,
        },
        timeout: Duration::from_secs(10),
        max_attempts: 8,
        backoff_first: Duration::from_millis(500),
        backoff_max: Duration::from_secs(300),
        batch: env_or("ORDERDESK_BENCH_BATCH", 16),
        inbound_token: None,
    }
}

/// A database in `dir` with `n` head-end commands waiting in the outbox.
fn world(dir: &std::path::Path, n: usize, config: &Config) -> Engine {
    let store = SledStore::open(&dir.join("db"), "bench").expect("sled");
    let mut engine = Engine::new(Box::new(store), config.clone());
    let mut lines = String::new();
    for i in 1..=n {
        lines.push_str(&format!(
            "{{\"kind\":\"service_point\",\"id\":\"SP-{i}\",\"sp_kind\":\"meter\",\"status\":\"active\",\
             \"connected_at_source\":true,\"device\":{{\"id\":\"D-{i}\",\"badge\":\"B-{i}\",\
             \"smart\":true,\"commissioned\":true,\"switch\":\"on\"}}}}\n\
             {{\"kind\":\"request\",\"id\":\"SO-{i}\",\"type\":\"disable_service\",\"sp\":\"SP-{i}\",\
             \"service_datetime\":\"{NOW}\"}}\n"
        ));
    }
    let now = NOW.parse().expect("time");
    let records = orderdesk::formats::parse_import(lines.as_bytes()).expect("records");
    let system = Actor::system();
    engine.import(&system, now, records).expect("import");
    engine.tick(&system, now).expect("tick");
    engine.flush().expect("flush");
    engine
}

/// What the engine's side costs alone: reading rounds, and recording them (on a copy).
fn parts(engine: &Engine, n: usize, batch: usize) {
    let started = Instant::now();
    let mut after = None;
    let mut read = 0;
    loop {
        let round = engine
            .undelivered_after(Target::HeadEnd, after, batch)
            .expect("read");
        let Some((last, _)) = round.last() else { break };
        after = Some(*last);
        read += round.len();
    }
    eprintln!(
        "  reading {read} in rounds of {batch}: {:.1} µs a message",
        started.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}

/// What recording costs alone, on a world of its own.
fn recording(n: usize, config: &Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut engine = world(dir.path(), n, config);
    let ids: Vec<String> = engine
        .undelivered_to(Target::HeadEnd, usize::MAX)
        .expect("read")
        .into_iter()
        .map(|p| p.id)
        .collect();
    let now = NOW.parse().expect("time");
    let started = Instant::now();
    for chunk in ids.chunks(512) {
        let deliveries: Vec<orderdesk::engine::Delivery> = chunk
            .iter()
            .map(|id| orderdesk::engine::Delivery {
                comm: id.clone(),
                ok: true,
                detail: "HTTP 202 in 1 ms".into(),
                give_up: false,
            })
            .collect();
        engine.record_deliveries(now, &deliveries).expect("record");
    }
    eprintln!(
        "  recording {n} in rounds of 512: {:.1} µs a message",
        started.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}

fn main() {
    let n: usize = env_or("ORDERDESK_BENCH_MESSAGES", 5_000);
    let rounds: usize = env_or("ORDERDESK_BENCH_ROUNDS", 3);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let taken = Arc::new(AtomicU64::new(0));
    let url = tokio.block_on(start_partner(Arc::clone(&taken)));
    let settings = partner_settings(&url);
    let mut raw_best = 0.0f64;
    let mut courier_best = 0.0f64;
    for round in 1..=rounds {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            partners: Partners {
                field_work: None,
                head_end: Some(settings.clone()),
            },
            ..Config::default()
        };
        let engine = world(dir.path(), n, &config);
        let now = NOW.parse().expect("time");
        // The world's writes settle on disk first, so neither side pays for them.
        std::thread::sleep(Duration::from_secs(2));

        if std::env::var_os("ORDERDESK_BENCH_PARTS").is_some() {
            parts(&engine, n, settings.batch);
            recording(n, &config);
        }
        // The raw request rate: the same client, the same concurrency, the same messages.
        let parcels: Vec<Parcel> = engine
            .undelivered_to(Target::HeadEnd, usize::MAX)
            .expect("outbox");
        assert_eq!(parcels.len(), n, "one command per request");
        let carrier = {
            let _entered = tokio.enter();
            Carrier::for_partner(&settings).expect("carrier")
        };
        let before = taken.load(Ordering::Relaxed);
        let started = Instant::now();
        tokio.block_on(async {
            for window in parcels.chunks(settings.batch) {
                carrier.deliver(window, now).await;
            }
        });
        let raw = n as f64 / started.elapsed().as_secs_f64();
        assert_eq!(taken.load(Ordering::Relaxed) - before, n as u64);

        // The couriers: read, POST, record, for the same messages still in the outbox.
        let before = taken.load(Ordering::Relaxed);
        let started = Instant::now();
        let runtime = {
            let _entered = tokio.enter();
            let options = RuntimeOptions {
                clock: Clock::starting_at(now, 1.0),
                monitor_every: Some(Duration::from_secs(3600)),
                crwto_every_minutes: 0,
                simulate: false,
            };
            Runtime::start(engine, options).expect("runtime")
        };
        let reader = runtime.handle().reader().clone();
        while reader.backlog(Target::HeadEnd).expect("backlog").count > 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        let courier = n as f64 / started.elapsed().as_secs_f64();
        assert!(taken.load(Ordering::Relaxed) - before >= n as u64);
        tokio.block_on(runtime.shutdown()).expect("shutdown");
        eprintln!(
            "round {round}: raw {raw:.0} requests/s, couriers {courier:.0} deliveries/s ({:.0} %)",
            100.0 * courier / raw
        );
        raw_best = raw_best.max(raw);
        courier_best = courier_best.max(courier);
    }
    println!(
        "{n} messages, batch {}: raw client {raw_best:.0} requests/s; couriers {courier_best:.0} \
         deliveries/s = {:.0} % of raw (target >= 50 %)",
        settings.batch,
        100.0 * courier_best / raw_best
    );
}
