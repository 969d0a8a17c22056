//! A courier per partner: takes the oldest undelivered messages for its target, tries each
//! once through the partner's carrier, and records what happened; after failures it waits
//! (exponential backoff with jitter) and tries the same messages again, oldest first, until
//! each is taken or has used its tries.
//!
//! Order: two messages of the same activity are never in flight together (an `fa_cancel`
//! must not overtake its `fa_create`); a round stops at the first repeated owner.
//!
//! Pipelining: the next round is read while the current one is on its way, and a round that
//! went through is recorded by a separate task while the next is sent; messages on their way
//! or awaiting their record are marked, and reads start after the last one sent, so none is
//! sent twice. A round with a failure is recorded before anything else happens, because its
//! tries count towards giving up.

use super::backoff::backoff;
use super::carrier::{Carrier, Outcome, Parcel};
use super::simulators::SplitMix64;
use crate::config::Partner;
use crate::domain::{Seq, Target};
use crate::engine::{Delivery, Waiting};
use crate::runtime::{EngineHandle, Notice};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// About how many deliveries one record write takes.
const RECORD_AT_ONCE: usize = 64;

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
        let recording: Recording = Arc::default();
        let (records, queue) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(record(self.handle.clone(), queue, Arc::clone(&recording)));
        let _stop_recorder = AbortOnDrop(recorder);
        let mut upcoming = self.read(self.cursor(&recording));
        loop {
            let Some((paused, round)) = upcoming.await.ok().flatten() else {
                return;
            };
            let batch = if paused {
                Vec::new()
            } else {
                self.select(round, &recording)
            };
            if batch.is_empty() {
                if !wait_for_change(&mut changes, &recording, IDLE_WAIT).await {
                    return;
                }
                upcoming = self.read(self.cursor(&recording));
                continue;
            }
            // The next round is read while this one is on its way.
            upcoming = self.read(self.cursor(&recording));
            let now = self.handle.clock().now();
            let parcels: Vec<Parcel> = batch.iter().map(|w| w.parcel.clone()).collect();
            let outcomes = self.carrier.deliver(&parcels, now).await;
            let deliveries = self.judge(&batch, outcomes);
            let retry_later = deliveries.iter().any(|d| !d.ok && !d.give_up);
            self.report(&deliveries);
            if !retry_later {
                // Its messages stay marked until the recorder has written them.
                if records.send(deliveries).is_err() {
                    return;
                }
                failures = 0;
                continue;
            }
            // Earlier rounds' records first, then this one's, before the wait; the round read
            // ahead is dropped, as these messages come first again.
            upcoming.abort();
            {
                let mut pending = lock(&recording);
                for delivery in &deliveries {
                    pending.remove(&delivery.comm);
                }
            }
            while !lock(&recording).is_empty() {
                if !wait_for_change(&mut changes, &recording, IDLE_WAIT).await {
                    return;
                }
            }
            let handle = self.handle.clone();
            let recorded = tokio::task::spawn_blocking(move || {
                handle.write(move |engine, now| engine.record_deliveries(now, &deliveries))
            })
            .await;
            if !matches!(recorded, Ok(Ok(()))) {
                // The engine stopped (or failed): what was not recorded is sent again later.
                return;
            }
            failures = failures.saturating_add(1);
            let wait = backoff(
                self.settings.backoff_first,
                self.settings.backoff_max,
                failures,
                dice.unit(),
            );
            tokio::time::sleep(wait).await;
            upcoming = self.read(self.cursor(&recording));
        }
    }

    /// Where the next read starts: after the last message sent while rounds are still being
    /// recorded, else at the oldest.
    fn cursor(&self, recording: &Recording) -> Option<Seq> {
        let mut cursor = recording.cursor.lock().unwrap_or_else(|p| p.into_inner());
        if lock(recording).is_empty() {
            *cursor = None;
        }
        *cursor
    }

    /// Reads, on the blocking pool, whether the partner is paused and the messages after
    /// `after`; `None` when the outbox cannot be read (said in the log; tried again later).
    fn read(&self, after: Option<Seq>) -> tokio::task::JoinHandle<Option<Round>> {
        let reader = self.handle.reader().clone();
        let (name, target, limit) = (self.name, self.target, self.settings.batch);
        tokio::task::spawn_blocking(move || {
            let read = || -> Result<Round, crate::engine::EngineError> {
                if reader.partner_paused(name)? {
                    return Ok((true, Vec::new()));
                }
                Ok((false, reader.undelivered_after(target, after, limit)?))
            };
            match read() {
                Ok(round) => Some(round),
                Err(err) => {
                    tracing::warn!(partner = name, "cannot read the outbox: {err}");
                    Some((false, Vec::new()))
                }
            }
        })
    }

    /// The messages of a round to send now: none whose record is on its way, and none after
    /// a second message of the same activity; moves the cursor past them.
    fn select(&self, round: Vec<(Seq, Waiting)>, recording: &Recording) -> Vec<Waiting> {
        let mut batch: Vec<(Seq, Waiting)> = {
            let pending = lock(recording);
            round
                .into_iter()
                .filter(|(_, w)| !pending.contains(&w.parcel.id))
                .collect()
        };
        let mut owners = HashSet::new();
        if let Some(cut) = batch
            .iter()
            .position(|(_, w)| !owners.insert(w.parcel.activity.clone().unwrap_or_default()))
        {
            batch.truncate(cut);
        }
        if let Some(last) = batch.iter().map(|(seq, _)| *seq).max() {
            let mut cursor = recording.cursor.lock().unwrap_or_else(|p| p.into_inner());
            *cursor = Some(cursor.map_or(last, |at| at.max(last)));
        }
        // Marked from now on, so the round read ahead of time never sends them again.
        lock(recording).extend(batch.iter().map(|(_, w)| w.parcel.id.clone()));
        batch.into_iter().map(|(_, w)| w).collect()
    }

    /// What each outcome means for its message: taken, try again later, or give up.
    fn judge(&self, batch: &[Waiting], outcomes: Vec<Outcome>) -> Vec<Delivery> {
        batch
            .iter()
            .zip(outcomes)
            .map(|(waiting, outcome)| match outcome {
                Outcome::Taken(detail) => Delivery {
                    comm: waiting.parcel.id.clone(),
                    ok: true,
                    detail,
                    give_up: false,
                },
                Outcome::Failed { detail, permanent } => {
                    let tries = waiting.failed + 1;
                    Delivery {
                        comm: waiting.parcel.id.clone(),
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

/// Whether the partner is paused, and the messages read, each with its sequence.
type Round = (bool, Vec<(Seq, Waiting)>);

/// The messages on their way or delivered whose record has not landed yet, and a bell rung
/// when one lands.
#[derive(Default)]
struct Pending {
    ids: Mutex<HashSet<String>>,
    /// The last message sent while records are on their way: the next round reads on from it.
    cursor: Mutex<Option<Seq>>,
    landed: tokio::sync::Notify,
}

type Recording = Arc<Pending>;

fn lock(recording: &Recording) -> std::sync::MutexGuard<'_, HashSet<String>> {
    recording.ids.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stops the recorder with its courier.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Records delivered rounds as they come, several at once when they queue up.
async fn record(
    handle: EngineHandle,
    mut queue: mpsc::UnboundedReceiver<Vec<Delivery>>,
    recording: Recording,
) {
    while let Some(mut deliveries) = queue.recv().await {
        // A few rounds at once save transactions; many at once make one slow transaction.
        while deliveries.len() < RECORD_AT_ONCE {
            match queue.try_recv() {
                Ok(more) => deliveries.extend(more),
                Err(_) => break,
            }
        }
        let ids: Vec<String> = deliveries.iter().map(|d| d.comm.clone()).collect();
        let h = handle.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            h.write(move |engine, now| engine.record_deliveries(now, &deliveries))
        })
        .await;
        {
            let mut pending = lock(&recording);
            for id in &ids {
                pending.remove(id);
            }
        }
        recording.landed.notify_one();
        if !matches!(recorded, Ok(Ok(()))) {
            // The engine stopped: the messages are sent again after a restart.
            return;
        }
    }
}

/// Waits for a change notice, a record landing, or `timeout`; false once the engine has
/// stopped for good.
async fn wait_for_change(
    changes: &mut broadcast::Receiver<Notice>,
    recording: &Recording,
    timeout: Duration,
) -> bool {
    tokio::select! {
        () = recording.landed.notified() => true,
        notice = changes.recv() => !matches!(
            notice,
            Ok(Notice::Stopped) | Err(broadcast::error::RecvError::Closed)
        ),
        () = tokio::time::sleep(timeout) => true,
    }
}
