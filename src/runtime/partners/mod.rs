//! The partner systems: the utility's field work system and meter head-end, reached over
//! HTTP or through a file drop, and the demo's simulated ones reached the same way.
//!
//! Outbound, one courier per partner delivers the outbox at least once (see `courier`);
//! inbound, a partner posts its answers to `POST /v1/inbound` with its token (see `inbound`),
//! or drops files in its `in/` directory (see `dropbox`). The engine recognises a message it
//! has already received, so at-least-once both ways applies each answer once.
//!
//! `--no-sim` aside, a desk or server with a partner missing from `[partners]` connects the
//! simulated one in its place; with `--no-sim`, a missing partner's messages wait in the
//! outbox (the partners view shows them).

mod backoff;
pub mod board;
pub mod carrier;
mod courier;
mod dropbox;
pub mod inbound;
mod simulated;
pub(crate) mod simulators;

use crate::config::{Config, Partner, Transport};
use crate::domain::Target;
use crate::runtime::EngineHandle;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The partner names, with the target whose messages each takes; e-mail has no partner yet.
pub const NAMES: [(&str, Target); 3] = [
    ("field_work", Target::FieldWork),
    ("head_end", Target::HeadEnd),
    ("email", Target::Email),
];

/// Every partner's status in a fixed order (field work, head-end, e-mail): how `board` last
/// saw it, with the backlog and the pause flag read from the database.
pub fn statuses(
    reader: &crate::engine::Reader,
    board: &board::Board,
    now: crate::domain::Instant,
) -> Result<Vec<board::PartnerStatus>, crate::engine::EngineError> {
    NAMES
        .iter()
        .map(|(name, target)| {
            let backlog = reader.backlog(*target)?;
            let paused = reader.partner_paused(name)?;
            Ok(board.status(name, now, backlog, paused))
        })
        .collect()
}

/// The settings of a simulated partner: quick to retry, as a local server is.
fn simulated(url: String) -> Partner {
    Partner {
        transport: Transport::Http {
            url,
            token_file: None,
            client_cert: None,
            client_key: None,
            ca: None,
        },
        timeout: Duration::from_secs(5),
        max_attempts: 8,
        backoff_first: Duration::from_millis(200),
        backoff_max: Duration::from_secs(10),
        batch: 32,
        inbound_token: None,
    }
}

/// Connects every partner of `config` (and the simulated ones in the gaps when `simulate`);
/// returns the tasks to stop at shutdown. A partner whose files cannot be read is an error.
pub fn start(
    handle: &EngineHandle,
    config: &Config,
    simulate: bool,
) -> Result<Vec<JoinHandle<()>>, String> {
    let mut tasks = Vec::new();
    let mut partners: Vec<(&'static str, Target, Partner, Option<String>)> = Vec::new();
    for (name, partner) in config.partners.each() {
        let target = if name == "field_work" {
            Target::FieldWork
        } else {
            Target::HeadEnd
        };
        partners.push((name, target, partner.clone(), None));
    }
    let missing: Vec<(&'static str, Target)> = NAMES[..2]
        .iter()
        .copied()
        .filter(|(name, _)| partners.iter().all(|p| p.0 != *name))
        .collect();
    if simulate && !missing.is_empty() {
        let (url, sim_tasks) = simulated::start(handle.clone(), &config.simulators)
            .map_err(|err| format!("cannot start the simulated partners: {err}"))?;
        tasks.extend(sim_tasks);
        for (name, target) in missing {
            let endpoint = format!("{url}/{name}");
            let via = format!("simulated, {endpoint}");
            partners.push((name, target, simulated(endpoint), Some(via)));
        }
    }
    for (name, target, settings, via) in partners {
        let carrier = carrier::Carrier::for_partner(&settings)
            .map_err(|err| format!("[partners.{name}]: {err}"))?;
        let via = via.unwrap_or_else(|| carrier.describe());
        if via.starts_with("simulated") {
            tracing::warn!(
                partner = name,
                "simulated: [partners.{name}] is not configured (--no-sim connects nothing instead)"
            );
        } else {
            tracing::info!(partner = name, via = %via, "connected");
        }
        handle.partner_board().connect(name, via);
        if let Transport::Directory { path, poll } = &settings.transport {
            tasks.push(tokio::spawn(dropbox::watch(
                handle.clone(),
                name,
                path.clone(),
                *poll,
            )));
        }
        let courier = courier::Courier {
            name,
            target,
            settings,
            carrier,
            handle: handle.clone(),
        };
        tasks.push(tokio::spawn(courier.run()));
    }
    Ok(tasks)
}
