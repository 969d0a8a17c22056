//! The monitor pass (`tick`), the throttled command batch (D1-CRWTO, `crwto`) and what the
//! throttle view reads of it.
//!
//! A pass reads what is due through the (due time, sequence) index, processes it in ascending
//! sequence, and commits in batches; one record's chain never spans two batches (§12.2). If a
//! chain fails, its batch is redone one record at a time so one bad record cannot stall the desk.
//!
//! Every batch run, manual or scheduled, leaves a small record in the meta tree (key
//! `crwto/<time><n>`), written in the transaction of its releases: scheduled runs are not
//! audited, and the desk still has to show what each run released.

use super::codec::{decode, encode};
use super::flow::Flow;
use super::keys::Tag;
use super::tx::{due_work, Tx};
use super::{Actor, Engine, EngineError, TransitionNote};
use crate::domain::{Activity, AuditEntry, AuditOutcome, Body, Capability, CommBody, Instant, Seq};
use crate::lifecycle::{CommandState, InState, MaintState, OrchState};
use crate::store::{
    prefix_end, scan_prefix, seq_from_key_tail, seq_key, time_bytes, time_from_bytes, walk_pages,
    Entry, Store, StoreError, TreeId, WriteBatch,
};
use crate::throttle::{select_release, Candidate, Release, Schedule};
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;

/// How many records one monitor transaction processes.
const BATCH: usize = 256;

/// The meta-tree key prefix of batch-run records.
const RUN_PREFIX: &[u8] = b"crwto/";

/// How long batch-run records are kept: the desk shows today, and a week more allows a look back
/// without letting a long-running desk grow the meta tree for ever.
const RUN_KEEP_DAYS: i64 = 8;

/// How many expired records one run removes at most, so a run after a long pause stays small.
const RUN_PRUNE_LIMIT: usize = 64;

/// How many audit entries are read at a time when looking for runs recorded only there.
const AUDIT_PAGE: usize = 256;

/// The result of a monitor pass.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TickReport {
    /// Every transition made, in order.
    pub transitions: Vec<TransitionNote>,
    /// Records whose chain failed, with the error (they stay as they were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

/// The result of a D1-CRWTO run (§12.8).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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

/// A throttled Remote Disconnect waiting in WAIT_EFF for the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingCommand {
    /// The command's id.
    pub id: String,
    /// Its sequence number, the tie-break of the queue order.
    pub seq: Seq,
    /// Its effective time: the batch never releases it earlier.
    pub effective: Instant,
    /// The service point it disconnects.
    pub sp: String,
}

/// One D1-CRWTO run, as recorded next to its releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRun {
    /// Engine time of the run.
    pub at: Instant,
    /// The schedule row used (0-based); `None` with throttling off or no row covering `at`.
    pub row: Option<usize>,
    /// How many commands it released.
    pub released: usize,
    /// Due but held back by the schedule.
    pub remaining: usize,
    /// Waiting with a later effective time.
    pub not_yet_due: usize,
    /// Whether the schedule applied.
    pub throttle: bool,
    /// The operator of a manual run; `None` for the desk's scheduled run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl BatchRun {
    fn of(at: Instant, release: &Release, throttle: bool, by: Option<&Actor>) -> BatchRun {
        BatchRun {
            at,
            row: release.row,
            released: release.released.len(),
            remaining: release.remaining,
            not_yet_due: release.not_yet_due,
            throttle,
            by: by.map(|actor| actor.operator.clone()),
        }
    }
}

/// What the batch released on one local day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayReleases {
    /// The day's runs, oldest first.
    pub runs: Vec<BatchRun>,
    /// Released per schedule row (index = row of the configured schedule).
    pub per_row: Vec<usize>,
    /// Released by runs no row covered: throttling off, or a row the schedule no longer has.
    pub unscheduled: usize,
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
        let run = BatchRun::of(now, &release, throttle, Some(actor));
        let done = actor
            .check(Capability::ThrottleBatch)
            .and_then(|()| self.release_recorded(now, &release, &run, Some(actor)));
        match done {
            Ok(released) => Ok(report(released, &release)),
            // `act` audits refusals as for every operator action (§12.2): it re-checks the
            // permission, and hands a refusal of the release itself back through its work.
            Err(err) => self.act(actor, now, Capability::ThrottleBatch, "crwto", &[], |_| {
                Err(err)
            }),
        }
    }

    /// The desk's scheduled batch run (every `crwto_every_minutes` of engine time): the same
    /// selection and release, run by the runtime rather than an operator, so not audited.
    pub fn crwto_scheduled(&mut self, now: Instant) -> Result<CrwtoReport, EngineError> {
        let (release, throttle) = self.plan_release(now, None)?;
        let run = BatchRun::of(now, &release, throttle, None);
        let released = self.release_recorded(now, &release, &run, None)?;
        Ok(report(released, &release))
    }

    /// Releases `release` and records `run` in one transaction, durable on return; `operator`
    /// makes it a manual run with its audit line.
    fn release_recorded(
        &self,
        now: Instant,
        release: &Release,
        run: &BatchRun,
        operator: Option<&Actor>,
    ) -> Result<Vec<String>, EngineError> {
        let store = WithRunRecord {
            store: self.store.as_ref(),
            writes: self.run_record_writes(run)?,
        };
        let mut tx = Tx::begin(&store, now)?;
        let released = Flow::new(&mut tx, &self.config).release_all(&release.released)?;
        if let Some(actor) = operator {
            let detail = release_detail(&released, release, run.throttle);
            tx.audit(self.audit_entry(actor, now, "crwto", &[], AuditOutcome::Done, Some(detail)));
        }
        tx.commit()?;
        self.store.flush()?;
        Ok(released)
    }

    /// The record of `run`, and the removal of records past their keeping time.
    fn run_record_writes(&self, run: &BatchRun) -> Result<WriteBatch, EngineError> {
        let mut writes = WriteBatch::default();
        let expired = run_key(run.at - TimeDelta::days(RUN_KEEP_DAYS));
        for (key, _) in self.store.range(
            TreeId::Meta,
            RUN_PREFIX,
            Some(&expired),
            RUN_PRUNE_LIMIT,
            false,
        )? {
            writes.delete(TreeId::Meta, key);
        }
        // Two runs in the same second (a manual one next to the scheduled one) keep both.
        let mut key = run_key(run.at);
        let same_second = scan_prefix(self.store.as_ref(), TreeId::Meta, &key, usize::MAX)?.len();
        key.extend_from_slice(&u32::try_from(same_second).unwrap_or(u32::MAX).to_be_bytes());
        writes.put(TreeId::Meta, key, encode(run)?);
        Ok(writes)
    }

    fn plan_release(
        &self,
        now: Instant,
        throttle: Option<bool>,
    ) -> Result<(Release, bool), EngineError> {
        let candidates = self.throttle_queue()?;
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

    /// Throttled commands waiting in WAIT_EFF, in queue order (effective, then sequence), read
    /// from their index alone.
    pub fn throttle_queue(&self) -> Result<Vec<Candidate>, EngineError> {
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

    /// Every throttled command waiting for the batch, with its id and service point, in queue
    /// order (effective, then sequence).
    pub fn throttle_waiting(&self) -> Result<Vec<WaitingCommand>, EngineError> {
        self.waiting_commands(&self.throttle_queue()?)
    }

    /// The ids and service points of some waiting commands, in the order given: the desk reads
    /// them only for the rows near the screen.
    pub fn waiting_commands(
        &self,
        candidates: &[Candidate],
    ) -> Result<Vec<WaitingCommand>, EngineError> {
        candidates
            .iter()
            .map(|c| {
                let key = seq_key(c.seq);
                let bytes = self.store.get(TreeId::Activities, &key)?.ok_or_else(|| {
                    EngineError::Corrupt(format!("command #{} is missing", c.seq))
                })?;
                let activity: Activity = decode(TreeId::Activities, &key, &bytes)?;
                match activity.body {
                    Body::Command(command) => Ok(WaitingCommand {
                        id: activity.id,
                        seq: c.seq,
                        effective: c.effective,
                        sp: command.sp_id,
                    }),
                    _ => Err(EngineError::Corrupt(format!(
                        "{} is in the waiting-command index but is not a command",
                        activity.id
                    ))),
                }
            })
            .collect()
    }

    /// What the batch released on the local `day` (configured zone), per schedule row.
    ///
    /// Runs come from their records; a manual run found only in the audit log (made before runs
    /// were recorded) is counted from its audit line, its row read from today's schedule.
    pub fn releases_on(&self, day: NaiveDate) -> Result<DayReleases, EngineError> {
        let tz = self.config.timezone;
        let on_day = |t: Instant| t.with_timezone(&tz).date_naive() == day;
        // A local day lies within the UTC day of the same date, give or take one day.
        let midnight = day.and_time(NaiveTime::MIN).and_utc();
        let from = run_key(midnight - TimeDelta::days(1));
        let to = run_key(midnight + TimeDelta::days(2));
        let mut runs = Vec::new();
        for (key, value) in self
            .store
            .range(TreeId::Meta, &from, Some(&to), usize::MAX, false)?
        {
            let run: BatchRun = decode(TreeId::Meta, &key, &value)?;
            if on_day(run.at) {
                runs.push(run);
            }
        }
        for run in self.runs_only_audited(day)? {
            if !runs.iter().any(|r| r.at == run.at && r.by == run.by) {
                runs.push(run);
            }
        }
        runs.sort_by_key(|r| r.at);
        let mut per_row = vec![0; self.config.schedule().rows.len()];
        let mut unscheduled = 0;
        for run in &runs {
            match run.row.and_then(|row| per_row.get_mut(row)) {
                Some(count) => *count += run.released,
                None => unscheduled += run.released,
            }
        }
        Ok(DayReleases {
            runs,
            per_row,
            unscheduled,
        })
    }

    /// The latest recorded batch run, any day.
    pub fn last_batch_run(&self) -> Result<Option<BatchRun>, EngineError> {
        let end = prefix_end(RUN_PREFIX);
        let last = self
            .store
            .range(TreeId::Meta, RUN_PREFIX, end.as_deref(), 1, true)?;
        match last.first() {
            Some((key, value)) => Ok(Some(decode(TreeId::Meta, key, value)?)),
            None => Ok(None),
        }
    }

    /// Manual runs of the local `day` that only the audit log knows: those older than the
    /// oldest record, since every run since records itself.
    fn runs_only_audited(&self, day: NaiveDate) -> Result<Vec<BatchRun>, EngineError> {
        let tz = self.config.timezone;
        let end = prefix_end(RUN_PREFIX);
        let oldest = self
            .store
            .range(TreeId::Meta, RUN_PREFIX, end.as_deref(), 1, false)?
            .first()
            .map(|(key, value)| decode::<BatchRun>(TreeId::Meta, key, value))
            .transpose()?
            .map(|run| run.at);
        if oldest.is_some_and(|t| t.with_timezone(&tz).date_naive() < day) {
            return Ok(Vec::new());
        }
        let mut runs = Vec::new();
        walk_pages::<EngineError>(
            self.store.as_ref(),
            TreeId::Audit,
            (&[], None),
            AUDIT_PAGE,
            true,
            |page| {
                for (key, value) in page {
                    let entry: AuditEntry = decode(TreeId::Audit, key, value)?;
                    let date = entry.at.with_timezone(&tz).date_naive();
                    if date < day {
                        return Ok(ControlFlow::Break(()));
                    }
                    let unrecorded = oldest.is_none_or(|t| entry.at < t);
                    if date == day && unrecorded && entry.action == "crwto" {
                        runs.extend(audited_run(&entry, self.config.schedule(), tz));
                    }
                }
                Ok(ControlFlow::Continue(()))
            },
        )?;
        Ok(runs)
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

/// The key of the records of runs at `at` (to the second): the prefix, then the time.
fn run_key(at: Instant) -> Vec<u8> {
    let mut key = RUN_PREFIX.to_vec();
    key.extend_from_slice(&time_bytes(at));
    key
}

/// A manual run as its audit line tells it (see `release_detail`); `None` for a refusal or a
/// line it cannot read.
fn audited_run(entry: &AuditEntry, schedule: &Schedule, tz: Tz) -> Option<BatchRun> {
    if entry.outcome != AuditOutcome::Done {
        return None;
    }
    let detail = entry.detail.as_deref()?;
    let number = |label: &str| -> Option<usize> {
        detail
            .split(", ")
            .find_map(|part| part.strip_prefix(label))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
    };
    let throttle = detail.ends_with("(throttle on)");
    let local = crate::throttle::truncate_to_minute(entry.at).with_timezone(&tz);
    Some(BatchRun {
        at: entry.at,
        row: schedule.row_at(local.time()).filter(|_| throttle),
        released: number("released ")?,
        remaining: number("remaining ")?,
        not_yet_due: number("not yet due ")?,
        throttle,
        by: Some(entry.operator.clone()),
    })
}

/// The store as one batch run sees it: its commit also carries the run's record (and drops
/// expired ones), so the record shares the releases' transaction (§12.2).
struct WithRunRecord<'a> {
    store: &'a dyn Store,
    writes: WriteBatch,
}

impl Store for WithRunRecord<'_> {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(tree, key)
    }

    fn range(
        &self,
        tree: TreeId,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        self.store.range(tree, from, to, limit, reverse)
    }

    fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        let mut all = batch.clone();
        for (tree, key, value) in self.writes.ops() {
            match value {
                Some(value) => all.put(*tree, key.clone(), value.clone()),
                None => all.delete(*tree, key.clone()),
            }
        }
        self.store.commit(&all)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.store.flush()
    }

    fn count(&self, tree: TreeId) -> Result<usize, StoreError> {
        self.store.count(tree)
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
            Tag::WorkOrder => Ok(()),
        }
    }

    fn clear_due(&mut self, seq: Seq) -> Result<(), EngineError> {
        self.tx.activity_mut(seq)?.due_at = None;
        Ok(())
    }
}
