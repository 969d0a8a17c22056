//! How a message physically reaches a partner: an HTTP POST, or a JSON Lines file in the
//! partner's `out/` directory. A carrier only carries; the courier decides what to send and
//! what a failure means for the message.

use crate::config::{Partner, Transport};
use crate::domain::Instant;
pub use crate::engine::Parcel;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The header that carries the communication id, so a partner recognises a message sent twice.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// What one try came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The partner took it; how (`HTTP 202 in 4 ms`).
    Taken(String),
    /// It did not; `permanent` when trying again cannot help (the partner refused the message
    /// itself: HTTP 400, 404…).
    Failed {
        /// What happened.
        detail: String,
        /// No use trying again.
        permanent: bool,
    },
}

/// A partner's transport.
pub enum Carrier {
    /// HTTP POST, one request per message, several in flight.
    Http(HttpCarrier),
    /// A file per round in `out/`.
    Directory(DirCarrier),
}

impl Carrier {
    /// The carrier `partner` asks for; an error names the file that could not be used.
    pub fn for_partner(partner: &Partner) -> Result<Carrier, String> {
        match &partner.transport {
            Transport::Http { .. } => HttpCarrier::new(partner).map(Carrier::Http),
            Transport::Directory { path, .. } => {
                DirCarrier::new(path.clone()).map(Carrier::Directory)
            }
        }
    }

    /// How the partner is reached, for the partners view.
    pub fn describe(&self) -> String {
        match self {
            Carrier::Http(h) => h.url.clone(),
            Carrier::Directory(d) => format!("directory {}", d.root.display()),
        }
    }

    /// Tries each parcel once; one outcome per parcel, in order.
    pub async fn deliver(&self, parcels: &[Parcel], stamp: Instant) -> Vec<Outcome> {
        match self {
            Carrier::Http(http) => {
                futures::future::join_all(parcels.iter().map(|p| http.post(p))).await
            }
            Carrier::Directory(dir) => {
                let dir = dir.clone();
                let parcels = parcels.to_vec();
                let count = parcels.len();
                match tokio::task::spawn_blocking(move || dir.write(&parcels, stamp)).await {
                    Ok(Ok(name)) => vec![Outcome::Taken(format!("written to out/{name}")); count],
                    Ok(Err(err)) => vec![
                        Outcome::Failed {
                            detail: format!("cannot write to out/: {err}"),
                            permanent: false,
                        };
                        count
                    ],
                    Err(err) => vec![
                        Outcome::Failed {
                            detail: format!("the file writer stopped: {err}"),
                            permanent: false,
                        };
                        count
                    ],
                }
            }
        }
    }
}

/// POSTs each message as JSON, with the communication id as the idempotency key.
pub struct HttpCarrier {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
    timeout: Duration,
}

impl HttpCarrier {
    /// A client for `partner`: its timeout, trust roots, client certificate and token.
    pub fn new(partner: &Partner) -> Result<HttpCarrier, String> {
        let Transport::Http {
            url,
            token_file,
            client_cert,
            client_key,
            ca,
        } = &partner.transport
        else {
            return Err("not an HTTP partner".into());
        };
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|err| format!("{}: cannot read: {err}", path.display()))
        };
        let mut builder = reqwest::Client::builder()
            .timeout(partner.timeout)
            .connect_timeout(partner.timeout)
            // A partner that moved must be reconfigured, not followed blindly with the token.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(partner.batch)
            .user_agent(concat!("orderdesk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = ca {
            let pem = read(ca)?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|err| format!("{}: not a PEM certificate: {err}", ca.display()))?;
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let (Some(cert), Some(key)) = (client_cert, client_key) {
            let mut pem = read(cert)?;
            pem.push(b'\n');
            pem.extend(read(key)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|err| {
                format!(
                    "{} and {}: not a PEM certificate and key: {err}",
                    cert.display(),
                    key.display()
                )
            })?;
            builder = builder.identity(identity);
        }
        let token = match token_file {
            Some(path) => {
                let text = String::from_utf8(read(path)?)
                    .map_err(|_| format!("{}: the token is not text", path.display()))?;
                let token = text.trim().to_string();
                if token.is_empty() {
                    return Err(format!("{}: the token file is empty", path.display()));
                }
                Some(token)
            }
            None => None,
        };
        let client = builder
            .build()
            .map_err(|err| format!("cannot set up the HTTP client for {url}: {err}"))?;
        Ok(HttpCarrier {
            client,
            url: url.clone(),
            token,
            timeout: partner.timeout,
        })
    }

    /// One POST; the raw request of the delivery benchmark's baseline too.
    pub async fn post(&self, parcel: &Parcel) -> Outcome {
        let body = match serde_json::to_vec(parcel) {
            Ok(body) => body,
            Err(err) => {
                return Outcome::Failed {
                    detail: format!("cannot encode the message: {err}"),
                    permanent: true,
                }
            }
        };
        let started = std::time::Instant::now();
        let mut request = self
            .client
            .post(&self.url)
            .header(IDEMPOTENCY_KEY, &parcel.id)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                // Read the body whole either way, so the connection can be reused.
                let text = response.text().await.unwrap_or_default();
                let took = started.elapsed().as_millis();
                if status.is_success() {
                    return Outcome::Taken(format!("HTTP {} in {took} ms", status.as_u16()));
                }
                let transient = status.is_server_error()
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
                Outcome::Failed {
                    detail: format!("HTTP {}{}", status.as_u16(), excerpt(&text)),
                    permanent: !transient,
                }
            }
            Err(err) => Outcome::Failed {
                detail: self.describe_error(&err),
                permanent: false,
            },
        }
    }

    fn describe_error(&self, err: &reqwest::Error) -> String {
        if err.is_timeout() {
            return format!("no answer within {} s", self.timeout.as_secs_f64());
        }
        // The innermost cause is the one a person can act on (refused, reset, bad certificate).
        let mut cause: &dyn std::error::Error = err;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        let what = if err.is_connect() {
            "cannot connect"
        } else {
            "the connection failed"
        };
        format!("{what}: {cause}")
    }
}

/// `: <first 200 characters of the body>`, or nothing for an empty body.
fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let short: String = text.chars().take(200).collect();
    format!(": {short}")
}

/// Writes each round of messages as one JSON Lines file in `out/`: first under a hidden
/// temporary name, synced, then renamed, so a partner never sees half a file.
#[derive(Clone)]
pub struct DirCarrier {
    root: PathBuf,
}

/// The four directories of a file-drop partner.
pub const DROP_DIRS: [&str; 4] = ["out", "in", "done", "rejected"];

impl DirCarrier {
    /// The carrier for `root`, creating `out/`, `in/`, `done/` and `rejected/` when missing.
    pub fn new(root: PathBuf) -> Result<DirCarrier, String> {
        for dir in DROP_DIRS {
            let path = root.join(dir);
            std::fs::create_dir_all(&path)
                .map_err(|err| format!("{}: cannot create: {err}", path.display()))?;
        }
        Ok(DirCarrier { root })
    }

    /// Writes `parcels` to a new file in `out/`; returns its name.
    fn write(&self, parcels: &[Parcel], stamp: Instant) -> std::io::Result<String> {
        let out = self.root.join("out");
        let first = parcels.first().map(|p| p.id.as_str()).unwrap_or("empty");
        let base = format!("{}-{first}", stamp.format("%Y%m%dT%H%M%S"));
        let mut name = format!("{base}.jsonl");
        let mut n = 1;
        while out.join(&name).exists() {
            n += 1;
            name = format!("{base}-{n}.jsonl");
        }
        let temporary = out.join(format!(".{name}.tmp"));
        let mut file = std::fs::File::create(&temporary)?;
        for parcel in parcels {
            serde_json::to_writer(&mut file, parcel)?;
            file.write_all(b"\n")?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, out.join(&name))?;
        // The rename itself is durable only once the directory is synced.
        std::fs::File::open(&out)?.sync_all()?;
        Ok(name)
    }
}
