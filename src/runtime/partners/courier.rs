//! A courier per partner: takes the oldest undelivered messages for its target, tries each
//! once through the partner's carrier, and records what happened; after failures it waits
//! (exponential backoff with jitter) and tries the same messages again, oldest first, until
//! each is taken or has used its tries.
//!
//! Order: two messages of the same activity are never in flight together (an `fa_cancel`
//! must not overtake its `fa_create`); a round stops at the first repeated owner.

use super::backoff::backoff;
use super::carrier::{Carrier, Outcome, Parcel};
use super::simulators::SplitMix64;
use crate::config::Partner;
use crate::domain::Target;
use crate::engine::{CommView, Delivery};
use crate::runtime::{EngineHandle, Notice};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::broadcast;

/// How long an idle courier sleeps when nothing wakes it (a change notice normally does).
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// One partner's delivery loop.
pub struct Courier {
    /// The partner's name (`field_work`, `head_end`).
    pub name: &'static str,
    /// The target whose messages it carries.
    pub target: Target,
    /// Timeout, tries, backoff, batch.
    pub settings: Partner,
    /// How messages travel.
    pub carrier: Carrier,
    /// The engine.
    pub handle: EngineHandle,
}

impl Courier {
    /// Delivers until the engine stops.
    pub async fn run(self) {
        let mut changes = self.handle.subscribe();
        let mut failures: u32 = 0;
        let mut dice = SplitMix64::new(u64::from(std::process::id()) ^ self.target as u64);
        loop {
            let Some((paused, batch)) = self.next_round().await else {
                return;
            };
            if paused || batch.is_empty() {
                if !wait_for_change(&mut changes, IDLE_WAIT).await {
                    return;
                }
                continue;
            }
            let now = self.handle.clock().now();
            let parcels: Vec<Parcel> = batch.iter().map(Parcel::of).collect();
            let outcomes = self.carrier.deliver(&parcels, now).await;
            let deliveries = self.judge(&batch, outcomes);
            let retry_later = deliveries.iter().any(|d| !d.ok && !d.give_up);
            self.report(&deliveries);
            let handle = self.handle.clone();
            let recorded = tokio::task::spawn_blocking(move || {
                handle.write(move |engine, now| engine.record_deliveries(now, &deliveries))
            })
            .await;
            if !matches!(recorded, Ok(Ok(()))) {
                // The engine stopped (or failed): what was not recorded is sent again later.
                return;
            }
            if retry_later {
                failures = failures.saturating_add(1);
                let wait = backoff(
                    self.settings.backoff_first,
                    self.settings.backoff_max,
                    failures,
                    dice.unit(),
                );
                tokio::time::sleep(wait).await;
            } else {
                failures = 0;
            }
        }
    }

    /// Whether the partner is paused, and the next round of messages; `None` once the engine
    /// can no longer be read.
    async fn next_round(&self) -> Option<(bool, Vec<CommView>)> {
        let reader = self.handle.reader().clone();
        let (name, target, limit) = (self.name, self.target, self.settings.batch);
        let read = tokio::task::spawn_blocking(move || {
            if reader.partner_paused(name)? {
                return Ok((true, Vec::new()));
            }
            Ok::<_, crate::engine::EngineError>((false, reader.undelivered_to(target, limit)?))
        })
        .await
        .ok()?;
        let (paused, mut batch) = match read {
            Ok(round) => round,
            Err(err) => {
                tracing::warn!(partner = name, "cannot read the outbox: {err}");
                (false, Vec::new())
            }
        };
        let mut owners = HashSet::new();
        if let Some(cut) = batch
            .iter()
            .position(|c| !owners.insert(c.activity.clone().unwrap_or_default()))
        {
            batch.truncate(cut);
        }
        Some((paused, batch))
    }

    /// What each outcome means for its message: taken, try again later, or give up.
    fn judge(&self, batch: &[CommView], outcomes: Vec<Outcome>) -> Vec<Delivery> {
        batch
            .iter()
            .zip(outcomes)
            .map(|(comm, outcome)| match outcome {
                Outcome::Taken(detail) => Delivery {
                    comm: comm.id.clone(),
                    ok: true,
                    detail,
                    give_up: false,
                },
                Outcome::Failed { detail, permanent } => {
                    let tries = comm.attempts.iter().filter(|a| !a.ok).count() as u32 + 1;
                    Delivery {
                        comm: comm.id.clone(),
                        ok: false,
                        detail,
                        give_up: permanent || tries >= self.settings.max_attempts,
                    }
                }
            })
            .collect()
    }

    fn report(&self, deliveries: &[Delivery]) {
        let taken = deliveries.iter().filter(|d| d.ok).count() as u64;
        let failed = deliveries.len() as u64 - taken;
        let last_error = deliveries
            .iter()
            .rev()
            .find(|d| !d.ok)
            .map(|d| format!("{}: {}", d.comm, d.detail));
        if let Some(error) = &last_error {
            tracing::warn!(partner = self.name, "delivery failed: {error}");
        }
        let now = self.handle.clock().now();
        self.handle
            .partner_board()
            .record(self.name, now, taken, failed, last_error);
        self.handle.metrics().deliveries(self.name, taken, failed);
    }
}

/// Waits for a change notice or `timeout`; false once the engine has stopped for good.
async fn wait_for_change(changes: &mut broadcast::Receiver<Notice>, timeout: Duration) -> bool {
    tokio::select! {
        notice = changes.recv() => !matches!(
            notice,
            Ok(Notice::Stopped) | Err(broadcast::error::RecvError::Closed)
        ),
        () = tokio::time::sleep(timeout) => true,
    }
}
