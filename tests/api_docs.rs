//! Every example of `docs/api.md`, run in order against a server on the demo database: the
//! documented status, and every field the documented answer shows, must be what the server says.

#[path = "common/server.rs"]
mod served;

use serde_json::Value;
use served::*;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

const NOW: &str = "2025-06-10T09:00:00-05:00";

/// One example: the request as written, and the answer documented for it.
struct Example {
    line: usize,
    request: String,
    status: u16,
    kind: String,
    answer: String,
}

/// The fenced ```http blocks, each followed by a ```json or ```text block whose info string
/// carries `status=NNN`.
fn examples(doc: &str) -> Vec<Example> {
    let mut blocks: Vec<(usize, String, String)> = Vec::new();
    let mut lines = doc.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            if info.is_empty() {
                // A plain block (a shell line): skip to its end.
                for (_, l) in lines.by_ref() {
                    if l.starts_with("```") {
                        break;
                    }
                }
                continue;
            }
            let mut body = String::new();
            for (_, l) in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            blocks.push((n + 1, info.to_string(), body));
        }
    }
    let mut found = Vec::new();
    let mut iter = blocks.into_iter().peekable();
    while let Some((line, info, body)) = iter.next() {
        if info != "http" {
            continue;
        }
        let (_, answer_info, answer) = iter
            .next()
            .unwrap_or_else(|| panic!("docs/api.md:{line}: a request without an answer"));
        let mut words = answer_info.split_whitespace();
        let kind = words.next().unwrap_or_default().to_string();
        let status = words
            .find_map(|w| w.strip_prefix("status="))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("docs/api.md:{line}: the answer has no status=NNN"));
        found.push(Example {
            line,
            request: body,
            status,
            kind,
            answer,
        });
    }
    found
}

/// The example's request as bytes on the wire.
fn wire(request: &str) -> Vec<u8> {
    let (head, body) = request
        .split_once("\n\n")
        .map(|(h, b)| (h.to_string(), b.trim_end().to_string()))
        .unwrap_or_else(|| (request.trim_end().to_string(), String::new()));
    let mut lines = head.lines();
    let start = lines.next().expect("a request line");
    let mut text = format!(
        "{start} HTTP/1.1\r\nHost: orderdesk\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in lines {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text.push_str(&body);
    text.into_bytes()
}

/// True when everything `shown` says is in `got`: objects by the keys shown, lists by their
/// first items, everything else equal.
fn shows(shown: &Value, got: &Value) -> bool {
    match (shown, got) {
        (Value::Object(s), Value::Object(g)) => s
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|gv| shows(v, gv))),
        (Value::Array(s), Value::Array(g)) => {
            s.len() <= g.len() && s.iter().zip(g).all(|(sv, gv)| shows(sv, gv))
        }
        _ => shown == got,
    }
}

/// A stream's first event: read until the first blank line.
fn first_event(socket: &Path, bytes: &[u8]) -> (u16, String) {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(bytes).expect("send");
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains("\r\n\r\n") || !text.split_once("\r\n\r\n").unwrap().1.contains("\n\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    status_and_body(&text)
}

#[test]
fn every_example_in_the_api_document_is_what_the_server_says() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md"))
        .expect("docs/api.md");
    let examples = examples(&doc);
    assert!(examples.len() >= 30, "only {} examples", examples.len());

    let dir = tempfile::tempdir().expect("tempdir");
    let config = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo/config.toml"
    ));
    let db = dir.path().join("db");
    ok(&cli(
        &db,
        config,
        &["--now", NOW, "demo", "--customers", "30", "--seed", "5"],
    ));
    let server = Served::start(&db, config, &["--no-sim", "--now", NOW]);
    let socket = server.socket();

    let mut wrong = Vec::new();
    for example in &examples {
        let bytes = wire(&example.request);
        let (status, body) = if example.kind == "text" {
            first_event(&socket, &bytes)
        } else {
            http(&socket, &bytes)
        };
        let at = format!(
            "docs/api.md:{}: {}",
            example.line,
            example.request.lines().next().unwrap_or("")
        );
        if status != example.status {
            wrong.push(format!(
                "{at}: status {status}, documented {}; the server said\n{body}",
                example.status
            ));
            continue;
        }
        if example.kind == "text" {
            if !body.contains(example.answer.trim()) {
                wrong.push(format!(
                    "{at}: expected {:?} in\n{body}",
                    example.answer.trim()
                ));
            }
            continue;
        }
        let shown: Value = serde_json::from_str(&example.answer)
            .unwrap_or_else(|e| panic!("{at}: the documented answer is not JSON: {e}"));
        let got: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{at}: the server's answer is not JSON ({e}):\n{body}"));
        if !shows(&shown, &got) {
            wrong.push(format!(
                "{at}: documented\n{shown}\nbut the server said\n{got}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
