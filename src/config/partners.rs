//! `[partners.field_work]` and `[partners.head_end]`: how the server reaches the utility's
//! field work system and meter head-end, and how they prove who they are when they answer.
//!
//! A partner is either an HTTP endpoint (`url`) the server POSTs each outbound message to, or
//! a directory pair (`directory`) of JSON Lines files. A database with no partner configured
//! keeps its outbound messages in the outbox; the demo desk connects simulated partners.

use super::{Checker, ConfigError};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

/// The partner systems, by the target their messages go to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partners {
    /// The field work system (`fa_create`, `fa_modify`, `fa_cancel`).
    pub field_work: Option<Partner>,
    /// The meter head-end (`command`).
    pub head_end: Option<Partner>,
}

impl Partners {
    /// The configured partners with their names.
    pub fn each(&self) -> impl Iterator<Item = (&'static str, &Partner)> {
        [
            ("field_work", self.field_work.as_ref()),
            ("head_end", self.head_end.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, partner)| partner.map(|p| (name, p)))
    }

    /// The partner whose inbound token is `token`, if any.
    pub fn token_holder(&self, token: &str) -> Option<&'static str> {
        let presented = super::token_hash_line(token);
        self.each()
            .find(|(_, p)| {
                p.inbound_token.as_deref().is_some_and(|hash| {
                    super::constant_time_eq(hash.as_bytes(), presented.as_bytes())
                })
            })
            .map(|(name, _)| name)
    }
}

/// One partner system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// How messages reach it.
    pub transport: Transport,
    /// How long one delivery may take before it counts as failed.
    pub timeout: Duration,
    /// How many tries a message gets before it goes to its error state.
    pub max_attempts: u32,
    /// The wait after the first failure; each further failure doubles it, with jitter.
    pub backoff_first: Duration,
    /// The longest wait between tries.
    pub backoff_max: Duration,
    /// How many messages are in flight at once (HTTP) or written per file (directory).
    pub batch: usize,
    /// `sha256:<hex>` of the token the partner presents to `POST /v1/inbound`.
    pub inbound_token: Option<String>,
}

/// How a partner is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// POST each message as JSON to `url`.
    Http {
        /// `http://` or `https://`.
        url: String,
        /// A file holding the bearer token orderdesk presents.
        token_file: Option<PathBuf>,
        /// The client certificate (PEM) for mutual TLS.
        client_cert: Option<PathBuf>,
        /// Its private key (PEM).
        client_key: Option<PathBuf>,
        /// The certificate authority (PEM) to trust instead of the system's.
        ca: Option<PathBuf>,
    },
    /// JSON Lines files: messages written to `out/`, answers read from `in/` and moved to
    /// `done/` or `rejected/`.
    Directory {
        /// The directory holding `out/`, `in/`, `done/` and `rejected/`.
        path: PathBuf,
        /// How often `in/` is looked at.
        poll: Duration,
    },
}

/// A partner as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawPartner {
    url: Option<Spanned<String>>,
    directory: Option<Spanned<PathBuf>>,
    token_file: Option<PathBuf>,
    client_cert: Option<Spanned<PathBuf>>,
    client_key: Option<Spanned<PathBuf>>,
    ca: Option<PathBuf>,
    timeout_seconds: Option<Spanned<u64>>,
    max_attempts: Option<Spanned<u32>>,
    backoff_first_ms: Option<Spanned<u64>>,
    backoff_max_seconds: Option<Spanned<u64>>,
    batch: Option<Spanned<u32>>,
    poll_ms: Option<Spanned<u64>>,
    inbound_token: Option<Spanned<String>>,
}

/// `[partners]` as written: only the two systems orderdesk talks to.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawPartners {
    field_work: Option<RawPartner>,
    head_end: Option<RawPartner>,
}

/// Checks `[partners]`.
pub(super) fn partners(raw: RawPartners, ck: &Checker<'_>) -> Result<Partners, ConfigError> {
    Ok(Partners {
        field_work: raw
            .field_work
            .map(|p| partner(p, "partners.field_work", ck))
            .transpose()?,
        head_end: raw
            .head_end
            .map(|p| partner(p, "partners.head_end", ck))
            .transpose()?,
    })
}

fn partner(raw: RawPartner, table: &str, ck: &Checker<'_>) -> Result<Partner, ConfigError> {
    let key = |name: &str| format!("{table}.{name}");
    let transport = match (raw.url, raw.directory) {
        (Some(url), None) => {
            let text = url.get_ref().trim();
            if !(text.starts_with("http://") || text.starts_with("https://")) {
                return Err(ck.invalid(
                    &key("url"),
                    Some(url.span()),
                    format!("`{text}` is not an http:// or https:// address"),
                ));
            }
            match (&raw.client_cert, &raw.client_key) {
                (Some(cert), None) => {
                    return Err(ck.invalid(
                        &key("client_key"),
                        Some(cert.span()),
                        "missing: a client_cert needs its client_key".into(),
                    ))
                }
                (None, Some(k)) => {
                    return Err(ck.invalid(
                        &key("client_cert"),
                        Some(k.span()),
                        "missing: a client_key needs its client_cert".into(),
                    ))
                }
                _ => {}
            }
            Transport::Http {
                url: text.to_string(),
                token_file: raw.token_file,
                client_cert: raw.client_cert.map(Spanned::into_inner),
                client_key: raw.client_key.map(Spanned::into_inner),
                ca: raw.ca,
            }
        }
        (None, Some(directory)) => Transport::Directory {
            path: directory.into_inner(),
            poll: Duration::from_millis(at_least(raw.poll_ms, 1, 1000, &key("poll_ms"), ck)?),
        },
        (Some(url), Some(_)) => {
            return Err(ck.invalid(
                table,
                Some(url.span()),
                "give either url (HTTP) or directory (file drop), not both".into(),
            ))
        }
        (None, None) => {
            return Err(ck.invalid(
                table,
                None,
                "missing: url = \"https://…\" (HTTP) or directory = \"/path\" (file drop)".into(),
            ))
        }
    };
    let inbound_token = match raw.inbound_token {
        Some(token) => {
            let text = token.get_ref();
            let hex = text.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ck.invalid(
                    &key("inbound_token"),
                    Some(token.span()),
                    "must be \"sha256:<64 hex digits>\", as `orderdesk token NAME` prints it"
                        .into(),
                ));
            }
            Some(format!("sha256:{}", hex.to_ascii_lowercase()))
        }
        None => None,
    };
    let batch = at_least(raw.batch.map(widen), 1, 16, &key("batch"), ck)?;
    if batch > 1024 {
        return Err(ck.invalid(&key("batch"), None, "must be at most 1024".into()));
    }
    Ok(Partner {
        transport,
        timeout: Duration::from_secs(at_least(
            raw.timeout_seconds,
            1,
            10,
            &key("timeout_seconds"),
            ck,
        )?),
        max_attempts: at_least(raw.max_attempts.map(widen), 1, 8, &key("max_attempts"), ck)? as u32,
        backoff_first: Duration::from_millis(at_least(
            raw.backoff_first_ms,
            1,
            500,
            &key("backoff_first_ms"),
            ck,
        )?),
        backoff_max: Duration::from_secs(at_least(
            raw.backoff_max_seconds,
            1,
            300,
            &key("backoff_max_seconds"),
            ck,
        )?),
        batch: batch as usize,
        inbound_token,
    })
}

fn widen(value: Spanned<u32>) -> Spanned<u64> {
    let span = value.span();
    Spanned::new(span, u64::from(value.into_inner()))
}

/// A setting that must be at least `min`, or `default` when not written.
fn at_least(
    value: Option<Spanned<u64>>,
    min: u64,
    default: u64,
    key: &str,
    ck: &Checker<'_>,
) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) if *v.get_ref() < min => {
            Err(ck.invalid(key, Some(v.span()), format!("must be at least {min}")))
        }
        Some(v) => Ok(v.into_inner()),
    }
}
