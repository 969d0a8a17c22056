//! Real partner connections: `orderdesk serve` delivers its outbox over HTTP to a partner the
//! test starts on 127.0.0.1, the partner answers through `POST /v1/inbound` with its token,
//! and every way a partner fails ends in retries, then the documented error state, with no
//! message applied twice.

#[path = "common/partner.rs"]
mod partner;
#[path = "common/server.rs"]
mod served;

use partner::{Behaviour, Partner};
use served::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NOW: &str = "2025-06-10T09:00:00Z";

/// A token made by `orderdesk token`, and its `sha256:` hash alone (for `inbound_token`).
fn partner_token(name: &str) -> (String, String) {
    let (token, line) = token(name);
    let hash = &line[line.find("sha256:").expect("a hash")..];
    (token, hash.trim_end_matches('"').to_string())
}

/// One service point with no meter and an Enable Service on it (TV-01's world).
const ENABLE: &str = r#"{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true}
{"kind":"request","id":"SO-1","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z","service_agreements":["SA-1"],"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-1"}}
"#;

struct World {
    dir: tempfile::TempDir,
    db: PathBuf,
    config: PathBuf,
    /// The partners' token for `POST /v1/inbound`.
    token: String,
}

/// Where a partner answers orderdesk, and with what.
struct Link {
    /// orderdesk's `http://127.0.0.1:PORT/v1/inbound`.
    inbound: String,
    /// The partner's token.
    token: String,
    /// Its `sha256:` line for the configuration.
    hash: String,
}

/// A database holding `records`, and a configuration whose `[partners]` `partners` writes
/// (it may start the partner, which needs the inbound address).
fn world(records: &str, partners: impl FnOnce(&Link, &Path) -> String) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let (token, hash) = partner_token("fws");
    let link = Link {
        inbound: format!("http://127.0.0.1:{port}/v1/inbound"),
        token,
        hash,
    };
    let config = dir.path().join("config.toml");
    let text = format!(
        "timezone = \"UTC\"\nmonitor_every_seconds = 1\n[operators]\nada = \"supervisor\"\n\
         [access]\nact_for_others = [\"root\"]\n[server]\nlisten = \"127.0.0.1:{port}\"\n{}",
        partners(&link, dir.path())
    );
    std::fs::write(&config, text).expect("config");
    let db = dir.path().join("db");
    let file = dir.path().join("world.jsonl");
    std::fs::write(&file, records).expect("records");
    ok(&cli(
        &db,
        &config,
        &[
            "--now",
            NOW,
            "--operator",
            "ada",
            "import",
            file.to_str().unwrap(),
        ],
    ));
    World {
        db,
        config,
        dir,
        token: link.token,
    }
}

/// A world whose partners are one test partner behaving as `behaviour`, with `tries`.
fn with_partner(records: &str, behaviour: Behaviour, tries: u32) -> (World, Partner) {
    let mut partner = None;
    let w = world(records, |link, _| {
        let p = Partner::start(behaviour, link.inbound.clone(), link.token.clone());
        let text = http_partners(&p.url, &link.hash, tries);
        partner = Some(p);
        text
    });
    (w, partner.expect("partner"))
}

/// `[partners.*]` for an HTTP partner at `url` with quick retries.
fn http_partners(url: &str, hash: &str, tries: u32) -> String {
    let mut text = String::new();
    for name in ["field_work", "head_end"] {
        text.push_str(&format!(
            "[partners.{name}]\nurl = \"{url}/{name}\"\ntimeout_seconds = 1\nmax_attempts = {tries}\n\
             backoff_first_ms = 50\nbackoff_max_seconds = 1\ninbound_token = \"{hash}\"\n"
        ));
    }
    text
}

fn show(world: &World, id: &str) -> serde_json::Value {
    let out = ok(&cli(&world.db, &world.config, &["show", id, "--json"]));
    serde_json::from_str(&out).expect("show --json")
}

/// Waits until `id` is in `state`, or panics with what it is in.
fn wait_for_state(world: &World, id: &str, state: &str, secs: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let tree = show(world, id);
        if tree["state"] == state {
            return tree;
        }
        assert!(
            Instant::now() < deadline,
            "{id} did not reach {state} in {secs} s: {tree:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every communication under an activity tree, depth first.
fn comms(tree: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    for comm in tree["communications"].as_array().into_iter().flatten() {
        out.push(comm.clone());
        for reply in comm["replies"].as_array().into_iter().flatten() {
            out.push(reply.clone());
        }
    }
    for child in tree["children"].as_array().into_iter().flatten() {
        comms(child, out);
    }
}

/// The engine of a stopped server's database, opened in this process.
fn engine(world: &World) -> orderdesk::engine::Engine {
    let store = orderdesk::store::SledStore::open(&world.db, "the test").expect("open the db");
    let config = orderdesk::config::load(&world.config).expect("config");
    orderdesk::engine::Engine::new(Box::new(store), config)
}

#[test]
fn the_enable_service_chain_completes_through_http_both_ways() {
    let (w, partner) = with_partner(ENABLE, Behaviour::Answer, 3);
    let server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);

    // The field activity's order, then the commission and the connect, each over HTTP, each
    // answered through POST /v1/inbound.
    let tree = wait_for_state(&w, "SO-1", "COMPLETED", 60);
    let deliveries = partner.deliveries();
    assert_eq!(
        deliveries.len(),
        3,
        "fa_create, commission, connect: {deliveries:?}"
    );
    assert!(
        deliveries.values().all(|&n| n == 1),
        "each once: {deliveries:?}"
    );
    assert_eq!(partner.seen.lock().unwrap().bad_keys, 0);
    let kinds: Vec<String> = partner
        .seen
        .lock()
        .unwrap()
        .bodies
        .values()
        .map(|b| {
            format!(
                "{}/{}",
                b["target"].as_str().unwrap(),
                b["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "field_work/fa_create",
            "head_end/command",
            "head_end/command"
        ]
    );
    // Every answer was accepted, once.
    let said = partner.seen.lock().unwrap().answers.clone();
    assert_eq!(said.len(), 4, "ack, completion, two results: {said:?}");
    assert!(said.iter().all(|a| a["accepted"] == 1), "{said:?}");
    // Each message shows its one successful try.
    let mut all = Vec::new();
    comms(&tree, &mut all);
    let outbound: Vec<_> = all
        .iter()
        .filter(|c| c["direction"] == "outbound")
        .collect();
    assert_eq!(outbound.len(), 3);
    for comm in outbound {
        let attempts = comm["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 1, "{comm:#}");
        assert_eq!(attempts[0]["ok"], true);
        assert!(attempts[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 202"));
    }
    // The partners list says what it did.
    let out = ok(&cli(&w.db, &w.config, &["partners", "--json"]));
    let partners: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(partners[0]["name"], "field_work");
    assert_eq!(partners[0]["state"], "connected");
    assert_eq!(partners[1]["delivered_last_hour"], 2);
    assert_eq!(partners[0]["backlog"], 0);
    // /metrics counts the deliveries and the inbound records.
    let metrics = served::http(
        &server.socket(),
        &served::request("GET", "/metrics", &[], ""),
    );
    assert_eq!(metrics.0, 200);
    assert!(
        metrics.1.contains(
            "orderdesk_delivery_attempts_total{partner=\"head_end\",outcome=\"taken\"} 2"
        ),
        "{}",
        metrics.1
    );
    assert!(metrics.1.contains(
        "orderdesk_inbound_records_total{partner=\"field_work\",outcome=\"accepted\"} 4"
    ));
    assert!(metrics
        .1
        .contains("orderdesk_transitions_total{state=\"COMPLETED\"}"));
    // docs/partners.md shows this very exchange.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/partners.md"))
        .expect("docs/partners.md");
    let shown = |name: &str| -> serde_json::Value {
        let marker = format!("<!-- exchange: {name} -->\n```json\n");
        let start = doc
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in the doc"))
            + marker.len();
        let end = start + doc[start..].find("```").expect("a closed block");
        serde_json::from_str(doc[start..end].trim()).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let seen = partner.seen.lock().unwrap();
    assert_eq!(seen.bodies["CO-1"], shown("fa_create"));
    assert_eq!(seen.bodies["CO-2"], shown("commission"));
    let answers = partner::answers_to(&seen.bodies["CO-1"]);
    assert_eq!(answers[0], shown("ack"));
    assert_eq!(answers[1], shown("fa_complete"));
    assert_eq!(
        partner::answers_to(&seen.bodies["CO-2"])[0],
        shown("command_result")
    );
    assert!(
        seen.answers.contains(&shown("ack answer")),
        "{:?}",
        seen.answers
    );
    drop(seen);
    server.terminate();
    let engine = engine(&w);
    assert!(engine.error_inbox().expect("inbox").is_empty());
    assert!(engine.check_consistency().expect("check").is_empty());
}

/// The SO-1 tree's first child, and its first outbound communication.
fn first_child_and_comm(tree: &serde_json::Value) -> (serde_json::Value, serde_json::Value) {
    let child = tree["children"][0].clone();
    let comm = child["communications"][0].clone();
    (child, comm)
}

/// Waits until SO-1's first child is in `state`.
fn wait_for_child(world: &World, state: &str, secs: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let tree = show(world, "SO-1");
        if tree["children"][0]["state"] == state {
            return tree;
        }
        assert!(
            Instant::now() < deadline,
            "SO-1's child did not reach {state} in {secs} s: {tree:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_failing_partner_gets_its_tries_then_the_message_is_in_error_and_a_retry_sends_anew() {
    for (behaviour, says) in [
        (Behaviour::Fail, "HTTP 500: partner down for the test"),
        (Behaviour::Hang, "no answer within 1 s"),
        (Behaviour::Close, "the connection failed"),
    ] {
        let (w, partner) = with_partner(ENABLE, behaviour, 3);
        let _server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);
        // The field activity's order used its three tries and went to its error state.
        let tree = wait_for_child(&w, "COMM_ERROR", 60);
        let (child, comm) = first_child_and_comm(&tree);
        assert_eq!(partner.deliveries().get("CO-1"), Some(&3), "{behaviour:?}");
        assert_eq!(comm["state"], "RESPONSE_ERROR", "{comm:#}");
        assert_eq!(comm["status_reason"]["code"], "DELIVERY_FAILED");
        let attempts = comm["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 3);
        for attempt in attempts {
            assert_eq!(attempt["ok"], false);
            let detail = attempt["detail"].as_str().unwrap();
            assert!(detail.starts_with(says), "{behaviour:?}: {detail}");
        }
        assert_eq!(child["status_reason"]["ref"], "CO-1");
        assert_eq!(partner.seen.lock().unwrap().bad_keys, 0);
        if behaviour != Behaviour::Fail {
            continue;
        }
        // The partner recovers; the supervisor retries; a new message goes and is answered.
        partner.behave(Behaviour::Answer);
        wait_for_state(&w, "SO-1", "ACTIVITY_ERROR", 30);
        ok(&cli(
            &w.db,
            &w.config,
            &["--operator", "ada", "retry", "SO-1"],
        ));
        wait_for_state(&w, "SO-1", "COMPLETED", 60);
        let deliveries = partner.deliveries();
        assert_eq!(
            deliveries.get("CO-1"),
            Some(&3),
            "the failed one is not sent again"
        );
        assert!(deliveries.keys().any(|id| id != "CO-1"), "{deliveries:?}");
    }
}

#[test]
fn a_partner_that_answers_twice_has_each_answer_applied_once() {
    let (w, partner) = with_partner(ENABLE, Behaviour::AnswerTwice, 3);
    let server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);
    wait_for_state(&w, "SO-1", "COMPLETED", 60);
    partner.wait("eight answers", 30, |seen| seen.answers.len() == 8);
    let said = partner.seen.lock().unwrap().answers.clone();
    let total = |key: &str| said.iter().map(|a| a[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!((total("accepted"), total("duplicates")), (4, 4), "{said:?}");
    // A duplicate names the communication that holds the first one.
    let duplicate = said
        .iter()
        .find(|a| a["duplicates"] == 1)
        .expect("a duplicate");
    assert!(duplicate["results"][0]["comm"]
        .as_str()
        .unwrap()
        .starts_with("CI-"));
    server.terminate();
    let engine = engine(&w);
    assert!(engine.error_inbox().expect("inbox").is_empty());
    let tree = engine
        .show(&orderdesk::engine::Actor::system(), "SO-1")
        .expect("show");
    let tree = serde_json::to_value(&tree).expect("json");
    let mut all = Vec::new();
    comms(&tree, &mut all);
    let inbound = all.iter().filter(|c| c["direction"] == "inbound").count();
    assert_eq!(inbound, 4, "ack, completion and two results, each once");
}

#[test]
fn a_bad_partner_token_is_refused_with_401_and_changes_nothing() {
    let (w, partner) = with_partner(ENABLE, Behaviour::Silent, 3);
    let _server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);
    partner.wait("the order delivered", 30, |seen| {
        seen.deliveries.contains_key("CO-1")
    });
    let config = std::fs::read_to_string(&w.config).expect("config");
    let address = config
        .lines()
        .find_map(|l| l.strip_prefix("listen = \""))
        .map(|l| l.trim_end_matches('"').to_string())
        .expect("listen");
    let ack = r#"{"kind":"ack","comm":"CO-1","external_id":"FWS-1"}"#;
    let before = show(&w, "SO-1");
    for authorization in [vec![("Authorization", "Bearer not-the-token")], vec![]] {
        let (status, body) = tcp_http(
            &address,
            &request("POST", "/v1/inbound", &authorization, ack),
        );
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("UNAUTHENTICATED"), "{body}");
    }
    assert_eq!(show(&w, "SO-1"), before, "nothing changed");
    // The partner's own token is taken.
    let token = format!("Bearer {}", w.token);
    let (status, body) = tcp_http(
        &address,
        &request("POST", "/v1/inbound", &[("Authorization", &token)], ack),
    );
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(answer["partner"], "field_work");
    assert_eq!(answer["results"][0]["status"], "accepted");
    let (_, comm) = first_child_and_comm(&show(&w, "SO-1"));
    assert_eq!(comm["acknowledged"], true);
}

/// The finished `*.jsonl` files in `dir`, oldest name first.
fn dropped(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.ends_with(".jsonl") && !name.starts_with('.')
    });
    files.sort();
    files
}

/// Drops `text` into a partner's `in/` as a file named `name`, the way a partner should:
/// written under a temporary name, then renamed.
fn drop_in(root: &Path, name: &str, text: &str) {
    let temporary = root.join("in").join(format!("{name}.part"));
    std::fs::write(&temporary, text).expect("write");
    std::fs::rename(&temporary, root.join("in").join(name)).expect("rename");
}

fn wait_until(what: &str, secs: u64, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {secs} s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_file_drop_partner_reads_only_whole_files_and_rejects_a_bad_one_whole() {
    let w = world(ENABLE, |link, dir| {
        let mut text = String::new();
        for name in ["field_work", "head_end"] {
            let root = dir.join(name);
            text.push_str(&format!(
                "[partners.{name}]\ndirectory = \"{}\"\npoll_ms = 50\ninbound_token = \"{}\"\n",
                root.display(),
                link.hash
            ));
        }
        text
    });
    let fws = w.dir.path().join("field_work");
    let head_end = w.dir.path().join("head_end");
    let _server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);

    // The order arrives as a whole JSON Lines file in out/.
    wait_until("the order in out/", 30, || {
        !dropped(&fws.join("out")).is_empty()
    });
    let order = std::fs::read_to_string(&dropped(&fws.join("out"))[0]).expect("order");
    let order: serde_json::Value = serde_json::from_str(order.trim()).expect("one line");
    assert_eq!(
        (order["id"].as_str(), order["message"].as_str()),
        (Some("CO-1"), Some("fa_create"))
    );

    // A file the partner is still writing (its last line unfinished) is not read.
    let answers = partner::answers_to(&order);
    let whole = format!("{}\n{}\n", answers[0], answers[1]);
    let (start, rest) = whole.split_at(whole.len() - 20);
    std::fs::write(fws.join("in").join("answers.jsonl"), start).expect("half a file");
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        fws.join("in").join("answers.jsonl").exists(),
        "left where it is"
    );
    let (_, comm) = first_child_and_comm(&show(&w, "SO-1"));
    assert_ne!(comm["acknowledged"], true, "nothing of it was applied");

    // A file with a bad line 7 is rejected whole, line 7 named, nothing applied.
    let mut bad = String::new();
    for n in 1..=6 {
        bad.push_str(&format!(
            "{{\"kind\":\"fa_status\",\"external_id\":\"FWS-1\",\"status\":\"en_route\",\"at\":\"2025-06-10T09:0{n}:00Z\"}}\n"
        ));
    }
    bad.push_str("{\"kind\":\"fa_complete\",\"comm\":\"CO-1\",\"status\":\"finished\"}\n");
    drop_in(&fws, "bad.jsonl", &bad);
    wait_until("bad.jsonl rejected", 30, || {
        fws.join("rejected").join("bad.jsonl.err").exists()
    });
    let why = std::fs::read_to_string(fws.join("rejected").join("bad.jsonl.err")).expect("err");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/partners.md"))
        .expect("docs/partners.md");
    assert!(
        doc.contains(why.trim()),
        "docs/partners.md shows the .err file:\n{why}"
    );
    assert!(why.contains("line 7: field `status`"), "{why}");
    assert!(!why.contains("line 6"), "{why}");
    assert!(fws.join("rejected").join("bad.jsonl").exists());
    assert!(!fws.join("in").join("bad.jsonl").exists());
    let tree = show(&w, "SO-1");
    let mut all = Vec::new();
    comms(&tree, &mut all);
    assert!(
        all.iter().all(|c| c["direction"] == "outbound"),
        "no line of it was applied: {all:#?}"
    );

    // The finished file is applied whole and moved to done/.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(fws.join("in").join("answers.jsonl"))
        .expect("open");
    std::io::Write::write_all(&mut file, rest.as_bytes()).expect("finish it");
    drop(file);
    wait_until("answers.jsonl done", 30, || {
        fws.join("done").join("answers.jsonl").exists()
    });

    // The head-end's commands go the same way, answered by files, to the end of the chain.
    let mut answered = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while show(&w, "SO-1")["state"] != "COMPLETED" {
        assert!(Instant::now() < deadline, "{:#}", show(&w, "SO-1"));
        for file in dropped(&head_end.join("out")) {
            if !answered.insert(file.clone()) {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("command file");
            let mut lines = String::new();
            for line in text.lines() {
                let message: serde_json::Value = serde_json::from_str(line).expect("line");
                for answer in partner::answers_to(&message) {
                    lines.push_str(&format!("{answer}\n"));
                }
            }
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            drop_in(&head_end, &name, &lines);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(answered.len(), 2, "commission and connect");
    assert_eq!(dropped(&head_end.join("done")).len(), 2);
}

#[test]
fn a_server_killed_mid_delivery_delivers_everything_after_a_restart_and_applies_each_answer_once() {
    const N: usize = 1000;
    let mut records = String::new();
    for n in 1..=N {
        records.push_str(&format!(
            "{{\"kind\":\"service_point\",\"id\":\"SP-{n}\",\"sp_kind\":\"meter\",\"status\":\"active\",\
             \"connected_at_source\":true,\"device\":{{\"id\":\"D-{n}\",\"badge\":\"B-{n}\",\
             \"smart\":true,\"commissioned\":true,\"switch\":\"on\"}}}}\n\
             {{\"kind\":\"request\",\"id\":\"SO-{n}\",\"type\":\"disable_service\",\"sp\":\"SP-{n}\",\
             \"service_datetime\":\"2025-06-10T09:00:00Z\"}}\n"
        ));
    }
    let (w, partner) = with_partner(&records, Behaviour::Answer, 8);
    let server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);
    partner.wait("300 deliveries", 120, |seen| seen.deliveries.len() >= 300);
    server.kill();
    let at_kill = partner.deliveries().len();
    assert!(
        at_kill < N,
        "the kill came after every delivery ({at_kill})"
    );

    let server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = ok(&cli(
            &w.db,
            &w.config,
            &["list", "--state", "COMPLETED", "--json"],
        ));
        let completed = serde_json::from_str::<Vec<serde_json::Value>>(&out)
            .expect("a JSON list")
            .len();
        if completed == N {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{completed} of {N} completed after the restart; partner: {} delivered, {} answers \
             taken; states: {}\nlog:\n{}",
            partner.deliveries().len(),
            partner.seen.lock().unwrap().answers.len(),
            ok(&cli(&w.db, &w.config, &["list", "--json"]))
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join("\n"),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let deliveries = partner.deliveries();
    assert_eq!(deliveries.len(), N, "every message delivered");
    let again = deliveries.values().filter(|&&n| n > 1).count();
    eprintln!("killed after {at_kill} deliveries; {again} delivered again after the restart");
    server.terminate();

    // Every answer applied once: one inbound reply per command, nothing in the error inbox.
    let engine = engine(&w);
    assert!(engine.error_inbox().expect("inbox").is_empty());
    assert!(engine.check_consistency().expect("check").is_empty());
    let system = orderdesk::engine::Actor::system();
    for n in 1..=N {
        let tree = serde_json::to_value(engine.show(&system, &format!("SO-{n}")).expect("show"))
            .expect("json");
        let mut all = Vec::new();
        comms(&tree, &mut all);
        let inbound = all.iter().filter(|c| c["direction"] == "inbound").count();
        assert_eq!(inbound, 1, "SO-{n}: {all:#?}");
    }
}

/// A certificate authority, a server certificate for `localhost` and a client certificate,
/// all as PEM: (ca, server cert, server key, client cert, client key).
fn certificates() -> (String, String, String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let server_key = KeyPair::generate().expect("key");
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("server cert");
    let client_key = KeyPair::generate().expect("key");
    let client = CertificateParams::new(vec!["orderdesk".to_string()])
        .expect("params")
        .signed_by(&client_key, &ca)
        .expect("client cert");
    (
        ca.pem(),
        server.pem(),
        server_key.serialize_pem(),
        client.pem(),
        client_key.serialize_pem(),
    )
}

/// The partner's TLS: its certificate, and client certificates signed by `ca` required.
fn partner_tls(ca: &str, cert: &str, key: &str) -> std::sync::Arc<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).expect("ca"))
        .expect("root");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        std::sync::Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("verifier");
    let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("cert")];
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .expect("server config");
    std::sync::Arc::new(config)
}

#[test]
fn a_partner_over_mutual_tls_takes_the_messages_and_one_without_a_client_certificate_cannot() {
    let (ca, cert, key, client_cert, client_key) = certificates();
    for with_client_certificate in [true, false] {
        let mut partner = None;
        let w = world(ENABLE, |link, dir| {
            let p = Partner::start_tls(
                Behaviour::Answer,
                link.inbound.clone(),
                link.token.clone(),
                partner_tls(&ca, &cert, &key),
            );
            let write = |name: &str, text: &str| {
                let path = dir.join(name);
                std::fs::write(&path, text).expect("pem");
                path.display().to_string()
            };
            let ca_file = write("ca.pem", &ca);
            let mut text = http_partners(&p.url, &link.hash, 2);
            let mut extra = format!("ca = \"{ca_file}\"\n");
            if with_client_certificate {
                extra.push_str(&format!(
                    "client_cert = \"{}\"\nclient_key = \"{}\"\n",
                    write("client.pem", &client_cert),
                    write("client.key", &client_key)
                ));
            }
            text = text.replace(
                "timeout_seconds = 1\n",
                &format!("timeout_seconds = 1\n{extra}"),
            );
            partner = Some(p);
            text
        });
        let partner = partner.expect("partner");
        let _server = Served::start(&w.db, &w.config, &["--no-sim", "--now", NOW]);
        if with_client_certificate {
            wait_for_state(&w, "SO-1", "COMPLETED", 60);
            assert_eq!(partner.deliveries().len(), 3);
        } else {
            let tree = wait_for_child(&w, "COMM_ERROR", 60);
            let (_, comm) = first_child_and_comm(&tree);
            assert_eq!(comm["status_reason"]["code"], "DELIVERY_FAILED");
            assert!(partner.deliveries().is_empty(), "no request got through");
        }
    }
}
