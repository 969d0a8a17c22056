//! The API over TCP, for partner systems and desks on other machines: a token per account (the
//! configuration keeps only its hash), plain HTTP on loopback only, TLS anywhere else.

#[path = "common/server.rs"]
mod served;

use served::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2025-06-10T09:00:00-05:00";

fn world(dir: &Path, server: &str) -> (PathBuf, PathBuf) {
    let config = dir.join("config.toml");
    let text = format!(
        "timezone = \"America/Chicago\"\n[operators]\nada = \"supervisor\"\nbo = \"clerk\"\n\
         [server]\n{server}\n"
    );
    std::fs::write(&config, text).expect("config");
    let db = dir.join("db");
    ok(&cli(
        &db,
        &config,
        &["--now", NOW, "demo", "--customers", "20", "--seed", "5"],
    ));
    (db, config)
}

fn remote(url: &str, token: &str, ca: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(bin());
    command
        .args(["--server", url])
        .args(args)
        .env("ORDERDESK_TOKEN", token)
        .env_remove("ORDERDESK_DB");
    if let Some(ca) = ca {
        command.env("ORDERDESK_CA", ca);
    }
    command.output().expect("run orderdesk")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn over_loopback_the_token_names_who_acts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ada_token, ada_line) = token("ada");
    let (bo_token, bo_line) = token("bo");
    assert!(ada_line.starts_with("ada = \"sha256:"), "{ada_line}");
    let port = free_port();
    let (db, config) = world(
        dir.path(),
        &format!("listen = \"127.0.0.1:{port}\"\n[server.tokens]\n{ada_line}\n{bo_line}"),
    );
    assert!(!std::fs::read_to_string(&config)
        .unwrap()
        .contains(&ada_token));
    let _server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let url = format!("http://127.0.0.1:{port}");

    let list = remote(
        &url,
        &bo_token,
        None,
        &["list", "--error-code", "CHILD_ERROR", "--json"],
    );
    let rows: serde_json::Value = serde_json::from_str(&ok(&list)).expect("json");
    let id = rows[0]["id"].as_str().expect("an activity").to_string();
    // bo's token makes bo a clerk: refused, by name.
    let refused = remote(&url, &bo_token, None, &["retry", &id]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("bo works as a clerk"),
        "{}",
        stderr(&refused)
    );
    // ada's token makes ada the supervisor.
    ok(&remote(&url, &ada_token, None, &["retry", &id]));
    let audit = ok(&remote(&url, &ada_token, None, &["audit", &id, "--json"]));
    let audit: serde_json::Value = serde_json::from_str(&audit).expect("json");
    let last = audit.as_array().and_then(|a| a.last()).expect("audited");
    assert_eq!(last["operator"], "ada");
    assert_eq!(last["channel"], "cli");

    // No token, or an unknown one, is refused before anything is read.
    let wrong = remote(&url, "not-a-token", None, &["list"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("not one the server knows"),
        "{}",
        stderr(&wrong)
    );
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /v1/queue/length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.contains(" 401 ") && answer.contains("UNAUTHENTICATED"),
        "{answer}"
    );
}

#[test]
fn off_loopback_tls_is_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, line) = token("ada");
    let port = free_port();
    let (db, config) = world(
        dir.path(),
        &format!("listen = \"0.0.0.0:{port}\"\n[server.tokens]\n{line}"),
    );
    let out = cli(&db, &config, &["--no-sim", "serve"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("TLS is required"), "{}", stderr(&out));
    // Nothing was left behind: the database opens at once.
    ok(&cli(&db, &config, &["check"]));
}

#[test]
fn over_tls_the_client_trusts_the_configured_authority() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a certificate");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");
    let (ada_token, line) = token("ada");
    let port = free_port();
    let (db, config) = world(
        dir.path(),
        &format!(
            "listen = \"127.0.0.1:{port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n[server.tokens]\n{line}",
            cert.display(),
            key.display()
        ),
    );
    let _server = Served::start(&db, &config, &["--no-sim", "--now", NOW]);
    let url = format!("https://localhost:{port}");
    let queue = ok(&remote(&url, &ada_token, Some(&cert), &["queue", "--json"]));
    assert!(queue.starts_with('['), "{queue}");
    // A client that trusts another authority does not talk to this server.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let other_ca = dir.path().join("other.pem");
    std::fs::write(&other_ca, other.cert.pem()).expect("other");
    let refused = remote(&url, &ada_token, Some(&other_ca), &["queue"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    // Plain HTTP to a TLS port is not answered as HTTP.
    let plain = remote(
        &format!("http://127.0.0.1:{port}"),
        &ada_token,
        None,
        &["queue"],
    );
    assert_ne!(plain.status.code(), Some(0));
}
