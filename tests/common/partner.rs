//! A partner system for the tests: an HTTP server on 127.0.0.1 that plays the field work
//! system and the head-end. It counts every delivery by its idempotency key, misbehaves on
//! demand (HTTP 500, no answer, a closed connection), and posts its answers to orderdesk's
//! `POST /v1/inbound` with its token, retrying until orderdesk takes them (a real partner
//! would), once or twice each.
#![allow(dead_code)]

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the partner treats what it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Takes each message (202) and answers it once.
    Answer,
    /// Takes each message and answers it twice.
    AnswerTwice,
    /// Takes each message and never answers.
    Silent,
    /// HTTP 500 to everything.
    Fail,
    /// Reads the request and never answers.
    Hang,
    /// Reads the request and closes the connection.
    Close,
}

/// What the partner has seen.
#[derive(Debug, Default)]
pub struct Seen {
    /// Deliveries per idempotency key.
    pub deliveries: BTreeMap<String, u32>,
    /// The bodies, by key (the last one).
    pub bodies: BTreeMap<String, serde_json::Value>,
    /// Requests whose idempotency key was missing or did not match the body's id.
    pub bad_keys: u32,
    /// Answers orderdesk took, and what it said to each.
    pub answers: Vec<serde_json::Value>,
}

/// A running test partner.
pub struct Partner {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub seen: Arc<Mutex<Seen>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Partner {
    /// Starts a partner that answers to `inbound` (orderdesk's `http://…/v1/inbound`) with
    /// `token`.
    pub fn start(behaviour: Behaviour, inbound: String, token: String) -> Partner {
        Partner::start_with(behaviour, inbound, token, None)
    }

    /// [`Partner::start`] over TLS with `tls` (its certificate, and the client certificates it
    /// asks for), on `https://localhost:PORT`.
    pub fn start_tls(
        behaviour: Behaviour,
        inbound: String,
        token: String,
        tls: std::sync::Arc<rustls::ServerConfig>,
    ) -> Partner {
        Partner::start_with(behaviour, inbound, token, Some(tls))
    }

    fn start_with(
        behaviour: Behaviour,
        inbound: String,
        token: String,
        tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    ) -> Partner {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("partner runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the partner");
        let port = listener.local_addr().expect("address").port();
        let url = match &tls {
            Some(_) => format!("https://localhost:{port}"),
            None => format!("http://127.0.0.1:{port}"),
        };
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let behaviour = Arc::new(Mutex::new(behaviour));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = Shared {
            behaviour: Arc::clone(&behaviour),
            seen: Arc::clone(&seen),
            inbound,
            token,
            client: reqwest::Client::new(),
        };
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let shared = shared.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        None => shared.serve(stream).await,
                        Some(acceptor) => {
                            // A client without an acceptable certificate stops here.
                            if let Ok(stream) = acceptor.accept(stream).await {
                                shared.serve(stream).await;
                            }
                        }
                    }
                });
            }
        });
        Partner {
            url,
            behaviour,
            seen,
            runtime: Some(runtime),
        }
    }

    /// Changes how it behaves from now on.
    pub fn behave(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    /// Deliveries per idempotency key so far.
    pub fn deliveries(&self) -> BTreeMap<String, u32> {
        self.seen.lock().unwrap().deliveries.clone()
    }

    /// Waits until `done` holds of what it has seen, or panics after `secs`.
    pub fn wait(&self, what: &str, secs: u64, done: impl Fn(&Seen) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if done(&self.seen.lock().unwrap()) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "partner: {what} did not happen within {secs} s; seen: {:?}",
                self.seen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Partner {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[derive(Clone)]
struct Shared {
    behaviour: Arc<Mutex<Behaviour>>,
    seen: Arc<Mutex<Seen>>,
    inbound: String,
    token: String,
    client: reqwest::Client,
}

impl Shared {
    async fn serve<S>(self, stream: S)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let behaviour = *self.behaviour.lock().unwrap();
        if behaviour == Behaviour::Close {
            use tokio::io::AsyncReadExt;
            let mut stream = stream;
            let mut buffer = vec![0u8; 65536];
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&buffer[..n]).to_lowercase();
            let key = text
                .lines()
                .find_map(|l| l.strip_prefix("idempotency-key:"))
                .map(|k| k.trim().to_uppercase());
            if let Some(key) = key {
                *self.seen.lock().unwrap().deliveries.entry(key).or_default() += 1;
            }
            return;
        }
        let service = hyper::service::service_fn(move |request| {
            let shared = self.clone();
            async move { Ok::<_, std::convert::Infallible>(shared.take(request).await) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }

    async fn take(self, request: Request<Incoming>) -> Response<String> {
        use http_body_util::BodyExt;
        let key = request
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = request
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let behaviour = *self.behaviour.lock().unwrap();
        let id = body["id"].as_str().unwrap_or_default().to_string();
        {
            let mut seen = self.seen.lock().unwrap();
            if key.as_deref() != Some(id.as_str()) {
                seen.bad_keys += 1;
            }
            *seen.deliveries.entry(id.clone()).or_default() += 1;
            seen.bodies.insert(id.clone(), body.clone());
        }
        match behaviour {
            Behaviour::Fail => {
                return reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "partner down for the test",
                )
            }
            Behaviour::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return reply(StatusCode::OK, "");
            }
            Behaviour::Silent => return reply(StatusCode::ACCEPTED, ""),
            Behaviour::Close | Behaviour::Answer | Behaviour::AnswerTwice => {}
        }
        let times = if behaviour == Behaviour::AnswerTwice {
            2
        } else {
            1
        };
        let answers = answers_to(&body);
        tokio::spawn(async move {
            for _ in 0..times {
                for answer in &answers {
                    self.post_answer(answer).await;
                }
            }
        });
        reply(StatusCode::ACCEPTED, "")
    }

    /// Posts one answer until orderdesk takes it (it may be restarting).
    async fn post_answer(&self, answer: &serde_json::Value) {
        for _ in 0..600 {
            let sent = self
                .client
                .post(&self.inbound)
                .bearer_auth(&self.token)
                .json(answer)
                .send()
                .await;
            if let Ok(response) = sent {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                if status.is_success() || status.as_u16() == 422 {
                    let said: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    self.seen.lock().unwrap().answers.push(said);
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn reply(status: StatusCode, text: &str) -> Response<String> {
    let mut response = Response::new(text.to_string());
    *response.status_mut() = status;
    response
}

/// What a field work system or head-end says to a message: the field work system acks an
/// order and reports it done with a new smart meter; the head-end reports a command done.
pub fn answers_to(message: &serde_json::Value) -> Vec<serde_json::Value> {
    let id = message["id"].as_str().unwrap_or_default();
    let number = id.trim_start_matches("CO-");
    match message["message"].as_str().unwrap_or_default() {
        "fa_create" => vec![
            serde_json::json!({"kind": "ack", "comm": id, "external_id": format!("FWS-{number}")}),
            serde_json::json!({
                "kind": "fa_complete", "comm": id, "status": "complete",
                "remarks": "installed by the test crew",
                "device": {"id": format!("D-NEW-{number}"), "badge": format!("B-NEW-{number}"),
                           "smart": true, "commissioned": false}
            }),
        ],
        "fa_modify" | "fa_cancel" => vec![serde_json::json!({"kind": "ack", "comm": id})],
        "command" => {
            vec![serde_json::json!({"kind": "command_result", "comm": id, "outcome": "ok"})]
        }
        _ => Vec::new(),
    }
}
