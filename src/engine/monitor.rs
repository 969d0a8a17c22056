//! The monitor pass (`tick`) and the throttled command batch (D1-CRWTO, `crwto`).
//!
//! A pass reads what is due through the (due time, sequence) index, processes it in ascending
//! sequence, and commits in batches; one record's chain never spans two batches (§12.2). If a
//! chain fails, its batch is redone one record at a time so one bad record cannot stall the desk.

use super::flow::Flow;
use super::tx::{due_work, Tag, Tx};
use super::{Actor, Engine, EngineError, TransitionNote};
use crate::domain::{AuditOutcome, Body, Capability, CommBody, Instant, Seq};
use crate::lifecycle::{CommandState, InState, MaintState, OrchState};
use crate::store::{seq_from_key_tail, time_from_bytes, TreeId};
use crate::throttle::{select_release, Candidate, Release};
use serde::Serialize;

/// How many records one monitor transaction processes.
const BATCH: usize = 256;

/// The result of a monitor pass.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TickReport {
    /// Every transition made, in order.
    pub transitions: Vec<TransitionNote>,
    /// Records whose chain failed, with the error (they stay as they were).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

/// The result of a D1-CRWTO run (§12.8).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CrwtoReport {
    /// Released command ids, in release order.
    pub released: Vec<String>,
    /// Due but not released.
    pub remaining: usize,
    /// Waiting with a future effective time.
    pub not_yet_due: usize,
    /// The schedule row used (0-based), when throttling applied and a row covers now.
    pub row: Option<usize>,
}

impl Engine {
    /// One monitor pass at `now`, durable at its end.
    pub fn tick(&mut self, actor: &Actor, now: Instant) -> Result<TickReport, EngineError> {
        actor.check(Capability::Monitor)?;
        let rule_now = crate::throttle::truncate_to_minute(now);
        let work = due_work(self.store.as_ref(), rule_now)?;
        let mut report = TickReport::default();
        for chunk in work.chunks(BATCH) {
            match self.monitor_batch(now, chunk) {
                Ok(notes) => report.transitions.extend(notes),
                Err(_) => {
                    for item in chunk {
                        match self.monitor_batch(now, std::slice::from_ref(item)) {
                            Ok(notes) => report.transitions.extend(notes),
                            Err(err) => report.failures.push(format!("#{}: {err}", item.1)),
                        }
                    }
                }
            }
        }
        self.store.flush()?;
        Ok(report)
    }

    fn monitor_batch(
        &self,
        now: Instant,
        items: &[(Tag, Seq)],
    ) -> Result<Vec<TransitionNote>, EngineError> {
        let mut tx = Tx::begin(self.store.as_ref(), now)?;
        let mut flow = Flow::new(&mut tx, &self.config);
        for &(tag, seq) in items {
            flow.monitor_one(tag, seq)?;
        }
        tx.commit()
    }

    /// Runs the throttled command batch (§4.2, §12.8); `throttle` defaults to the Remote
    /// Disconnect throttle option.
    pub fn crwto(
        &mut self,
        actor: &Actor,
        now: Instant,
        throttle: Option<bool>,
    ) -> Result<CrwtoReport, EngineError> {
        let (release, throttle) = self.plan_release(now, throttle)?;
        let released = self.act(actor, now, Capability::ExecuteNow, "crwto", &[], |flow| {
            let ids = flow.release_all(&release.released)?;
            Ok((ids.clone(), Some(release_detail(&ids, &release, throttle))))
        })?;
        Ok(report(released, &release))
    }

    /// The desk's scheduled batch run (every `crwto_every_minutes` of engine time): the same
    /// selection and release, run by the runtime rather than an operator, so not audited.
    pub fn crwto_scheduled(&mut self, now: Instant) -> Result<CrwtoReport, EngineError> {
        let (release, _) = self.plan_release(now, None)?;
        let mut tx = Tx::begin(self.store.as_ref(), now)?;
        let released = Flow::new(&mut tx, &self.config).release_all(&release.released)?;
        tx.commit()?;
        self.store.flush()?;
        Ok(report(released, &release))
    }

    fn plan_release(
        &self,
        now: Instant,
        throttle: Option<bool>,
    ) -> Result<(Release, bool), EngineError> {
        let candidates = self.waiting_throttled()?;
        let throttle = throttle.unwrap_or(self.config.throttle_allowed());
        let rule_now = crate::throttle::truncate_to_minute(now);
        let release = select_release(
            &candidates,
            rule_now,
            self.config.timezone,
            self.config.schedule(),
            throttle,
        );
        Ok((release, throttle))
    }

    /// Throttled commands waiting in WAIT_EFF, from their index.
    fn waiting_throttled(&self) -> Result<Vec<Candidate>, EngineError> {
        let entries = self
            .store
            .range(TreeId::WaitingCmds, &[], None, usize::MAX, false)?;
        Ok(entries
            .iter()
            .filter_map(|(key, _)| {
                Some(Candidate {
                    seq: seq_from_key_tail(key)?,
                    effective: time_from_bytes(key)?,
                })
            })
            .collect())
    }

    /// The last audit entry of an action, for "last monitor pass" style status lines.
    pub fn last_audit_outcome(
        &self,
        action: &str,
    ) -> Result<Option<(Instant, AuditOutcome)>, EngineError> {
        for entry in self.audit(None, 200)?.into_iter().rev() {
            if entry.action == action {
                return Ok(Some((entry.at, entry.outcome)));
            }
        }
        Ok(None)
    }
}

fn release_detail(ids: &[String], release: &Release, throttle: bool) -> String {
    format!(
        "released {}, remaining {}, not yet due {} (throttle {})",
        ids.len(),
        release.remaining,
        release.not_yet_due,
        if throttle { "on" } else { "off" }
    )
}

fn report(released: Vec<String>, release: &Release) -> CrwtoReport {
    CrwtoReport {
        released,
        remaining: release.remaining,
        not_yet_due: release.not_yet_due,
        row: release.row,
    }
}

impl Flow<'_, '_> {
    /// Releases throttled commands in order; returns their ids.
    fn release_all(&mut self, seqs: &[Seq]) -> Result<Vec<String>, EngineError> {
        let mut ids = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            ids.push(self.id_of(seq)?);
            self.release_command(seq)?;
        }
        Ok(ids)
    }

    /// Runs whatever monitor applies to one due record.
    fn monitor_one(&mut self, tag: Tag, seq: Seq) -> Result<(), EngineError> {
        let rule_now = self.rule_now();
        match tag {
            Tag::Activity => {
                let a = self.tx.activity(seq)?;
                if a.due_at.is_none_or(|d| d > rule_now) {
                    return Ok(());
                }
                match a.body.clone() {
                    Body::Orchestration(o) => match o.state {
                        OrchState::Pending => {
                            self.orch_to(seq, OrchState::Validate, None)?;
                            self.run_orch(seq)
                        }
                        OrchState::WaitEffDate => self.monitor_wait_eff_date(seq),
                        OrchState::InProgress => self.monitor_in_progress(seq),
                        _ => self.clear_due(seq),
                    },
                    Body::Maintenance(m) if m.state == MaintState::Pending => {
                        self.maint_to(seq, MaintState::Validate, None)?;
                        self.run_maint(seq)
                    }
                    Body::Command(c) if c.state == CommandState::WaitEff && !c.throttled => {
                        self.run_command(seq)
                    }
                    _ => self.clear_due(seq),
                }
            }
            Tag::Comm => {
                let c = self.tx.comm(seq)?.clone();
                if c.due_at.is_none_or(|d| d > rule_now) {
                    return Ok(());
                }
                match &c.body {
                    CommBody::Outbound(_) => self.monitor_comm_timeout(seq),
                    CommBody::Inbound(i) if i.state == InState::ValidationError => {
                        self.retry_inbound(seq)
                    }
                    CommBody::Inbound(_) => Ok(()),
                }
            }
            Tag::WorkOrder | Tag::FeedItem => Ok(()),
        }
    }

    fn clear_due(&mut self, seq: Seq) -> Result<(), EngineError> {
        self.tx.activity_mut(seq)?.due_at = None;
        Ok(())
    }
}
