//! The outbox as the partners' couriers see it: what each partner still has to take, what
//! happened at each try, and the partners a supervisor has paused.
//!
//! Delivery is at least once: a message is marked delivered only after its partner took it,
//! so a crash in between sends it again, with the same communication id for the partner to
//! recognise. A message the partner cannot take after the configured number of tries goes to
//! RESPONSE_ERROR with the code `DELIVERY_FAILED`, and its owner to COMM_ERROR, exactly as a
//! response timeout does: the error lists show it and a supervisor retries the owner, which
//! sends a new message.

use super::codec::{decode, read_comm};
use super::flow::Flow;
use super::keys::{undelivered_key, Parcel, Tag, Waiting};
use super::tx::Tx;
use super::{Actor, Engine, EngineError};
use crate::domain::{
    Capability, CommBody, Communication, DeliveryAttempt, Instant, Seq, StatusReason, Target,
};
use crate::lifecycle::OutState;
use crate::store::{prefix_end, seq_from_key_tail, text_prefix, TreeId};
use serde::{Deserialize, Serialize};

/// The status code of a message its partner never took.
pub const DELIVERY_FAILED: &str = "DELIVERY_FAILED";

/// What one try at delivering a message came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The outbound communication (`CO-17`).
    pub comm: String,
    /// Whether the partner took it.
    pub ok: bool,
    /// What happened, for the communication's attempt list.
    pub detail: String,
    /// A failure after which no further try is made: the message goes to its error state.
    pub give_up: bool,
}

/// A partner's backlog: what waits for it, and since when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// Messages not yet taken.
    pub count: u64,
    /// When the oldest of them was written (engine time).
    pub oldest: Option<Instant>,
}

/// The meta key of a partner's pause flag.
fn paused_key(partner: &str) -> Vec<u8> {
    format!("partner_paused/{partner}").into_bytes()
}

impl Engine {
    /// The oldest `limit` messages `target`'s partner has not taken yet.
    pub fn undelivered_to(&self, target: Target, limit: usize) -> Result<Vec<Parcel>, EngineError> {
        Ok(self
            .undelivered_after(target, None, limit)?
            .into_iter()
            .map(|(_, waiting)| waiting.parcel)
            .collect())
    }

    /// Like [`Engine::undelivered_to`], from the message after sequence `after`, each with its
    /// sequence and failed tries: a courier with rounds still being recorded reads on from
    /// where it was. Reads the index only.
    pub fn undelivered_after(
        &self,
        target: Target,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<(Seq, Waiting)>, EngineError> {
        let store = self.store.as_ref();
        let prefix = text_prefix(target.code());
        let end = prefix_end(&prefix);
        let start = match after {
            Some(seq) => undelivered_key(target, seq.saturating_add(1)),
            None => prefix,
        };
        let mut waiting = Vec::new();
        for (key, value) in
            store.range(TreeId::Undelivered, &start, end.as_deref(), limit, false)?
        {
            let Some(seq) = seq_from_key_tail(&key) else {
                continue;
            };
            let entry = match decode::<Waiting>(TreeId::Undelivered, &key, &value) {
                Ok(entry) => entry,
                // An entry written before entries carried the message: read the record.
                Err(_) => match &read_comm(store, seq)? {
                    c @ Communication {
                        body: CommBody::Outbound(o),
                        ..
                    } => Waiting::of(&c.id, o),
                    _ => continue,
                },
            };
            waiting.push((seq, entry));
        }
        Ok(waiting)
    }

    /// How many messages wait for `target`'s partner, and the oldest one's time.
    pub fn backlog(&self, target: Target) -> Result<Backlog, EngineError> {
        let store = self.store.as_ref();
        let prefix = text_prefix(target.code());
        let end = prefix_end(&prefix);
        // The count is a live one: walking a backlog of thousands on every look at the partners
        // board cost more than a keypress may.
        let first = store.range(TreeId::Undelivered, &prefix, end.as_deref(), 1, false)?;
        let oldest = match first.first().and_then(|(key, _)| seq_from_key_tail(key)) {
            Some(seq) => Some(read_comm(store, seq)?.created_at),
            None => None,
        };
        let count = super::tally::Tallies::current(store)?
            .undelivered
            .get(target.code())
            .copied()
            .unwrap_or(0)
            .max(0) as u64;
        Ok(Backlog { count, oldest })
    }

    /// Records what the couriers' tries came to, in one transaction: a success marks the
    /// message delivered; a failure is listed on the message, and a final one puts it in
    /// RESPONSE_ERROR and its owner in COMM_ERROR. A message that has meanwhile been answered,
    /// cancelled or retried only gets the attempt listed.
    pub fn record_deliveries(
        &mut self,
        now: Instant,
        deliveries: &[Delivery],
    ) -> Result<(), EngineError> {
        let mut tx = Tx::begin(self.store.as_ref(), now)?;
        let mut flow = Flow::new(&mut tx, &self.config);
        for delivery in deliveries {
            let Some((Tag::Comm, seq)) = flow.tx.lookup(&delivery.comm)? else {
                continue;
            };
            let awaiting = {
                let CommBody::Outbound(o) = &mut flow.tx.comm_mut(seq)?.body else {
                    continue;
                };
                o.attempts.push(DeliveryAttempt {
                    at: now,
                    ok: delivery.ok,
                    detail: delivery.detail.clone(),
                });
                o.delivered |= delivery.ok;
                o.state == OutState::AwaitingResponse
            };
            if !delivery.ok && delivery.give_up && awaiting {
                let tries = flow
                    .outbound(seq)?
                    .attempts
                    .iter()
                    .filter(|a| !a.ok)
                    .count();
                let reason = StatusReason {
                    text: Some(format!(
                        "the partner did not take it after {tries} tries; last: {}",
                        delivery.detail
                    )),
                    ..StatusReason::code(DELIVERY_FAILED)
                };
                flow.comm_to(seq, OutState::ResponseError, Some(reason.clone()))?;
                flow.owner_comm_failed(seq, reason)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// True when a supervisor has paused deliveries to `partner`.
    pub fn partner_paused(&self, partner: &str) -> Result<bool, EngineError> {
        Ok(self
            .store
            .get(TreeId::Meta, &paused_key(partner))?
            .is_some())
    }

    /// Pauses or resumes deliveries to `partner` (a supervisor's action, audited). Messages
    /// wait in the outbox meanwhile; their response timeouts still run.
    pub fn set_partner_paused(
        &mut self,
        actor: &Actor,
        now: Instant,
        partner: &str,
        paused: bool,
    ) -> Result<bool, EngineError> {
        let action = if paused {
            "pause partner"
        } else {
            "resume partner"
        };
        let ids = vec![partner.to_string()];
        let key = paused_key(partner);
        self.act(actor, now, Capability::Partners, action, &ids, |flow| {
            let was = flow.tx.meta(&key)?.is_some();
            flow.tx.put_meta(key, paused.then(Vec::new));
            Ok((was != paused, None))
        })
    }

    /// Moves undelivered-index entries written before the index was keyed by target (a bare
    /// sequence) to their keyed place, so no message of an older database is left behind.
    pub fn rekey_undelivered(&mut self) -> Result<usize, EngineError> {
        // Keys of the older layout are 8-byte sequences; target keys start with a letter.
        let store = self.store.as_ref();
        let legacy = store.range(TreeId::Undelivered, &[], Some(b"a"), usize::MAX, false)?;
        if legacy.is_empty() {
            return Ok(0);
        }
        let mut batch = crate::store::WriteBatch::default();
        for (key, _) in &legacy {
            batch.delete(TreeId::Undelivered, key.clone());
            let Some(seq) = seq_from_key_tail(key).filter(|_| key.len() == 8) else {
                continue;
            };
            let comm = read_comm(store, seq)?;
            if let CommBody::Outbound(o) = &comm.body {
                if o.awaits_delivery() {
                    let value = super::codec::encode(&Waiting::of(&comm.id, o))?;
                    batch.put(TreeId::Undelivered, undelivered_key(o.target, seq), value);
                }
            }
        }
        store.commit(&batch)?;
        Ok(legacy.len())
    }
}
