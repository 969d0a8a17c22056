use orderdesk::demo::{build, DemoOptions};
use orderdesk::engine::Engine;
use orderdesk::store::SledStore;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::PathBuf::from(&args[1]);
    let customers: usize = args[2].parse().unwrap();
    let config =
        orderdesk::config::parse(include_str!("../assets/demo/config.toml"), "demo").unwrap();
    let store = SledStore::open(&path, "probe").unwrap();
    let mut engine = Engine::new(Box::new(store), config);
    let now = chrono::DateTime::parse_from_rfc3339("2025-06-10T09:00:00-05:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let start = std::time::Instant::now();
    let summary = build(
        &mut engine,
        &DemoOptions {
            seed: 7,
            customers,
            now,
        },
        &mut |s| eprintln!("{:>7.1}s {s}", start.elapsed().as_secs_f64()),
    )
    .unwrap();
    eprintln!("done in {:.1}s", start.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
}
