//! Work orders in the engine: the open queue, bulk complete / cancel, assignment with its email,
//! move-in and move-out, and partner status updates (§6, §12.10, §12.13).

use super::flow::Flow;
use super::keys::Tag;
use super::queries::lookup;
use super::{Actor, Engine, EngineError};
use crate::domain::{
    Capability, CommBody, Communication, Instant, LogLine, MessageKind, Outbound, Seq, Target,
};
use crate::lifecycle::OutState;
use crate::store::TreeId;
use crate::workorders::{
    self, Assignee, MoveOutFacts, RowOutcome, WoKind, WoOrigin, WoStatus, WorkOrder,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The result of a bulk action: one outcome per row and the sentence a clerk reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BulkReport {
    /// Per row: done or skipped, and why.
    pub rows: Vec<RowOutcome>,
    /// "2 completed, 1 skipped: already CANCELLED".
    pub summary: String,
}

/// What a move-in or move-out did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MoveReport {
    /// The work order created, if any.
    pub created: Option<String>,
    /// Work orders cancelled by it (an active disconnection at a move-in).
    pub cancelled: Vec<String>,
    /// Why no work order was created, when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One work order with what its detail view shows beside it: the customer's name and contact,
/// the site's address, and the operator actions that named it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WoDetail {
    /// The work order (its `log` is what happened to it).
    pub order: WorkOrder,
    /// The customer's name, when the customer is on file.
    pub customer_name: Option<String>,
    /// The customer's phone number.
    pub phone: Option<String>,
    /// The customer's email address.
    pub email: Option<String>,
    /// The site's street address.
    pub address: Option<String>,
    /// The operator actions that named the order, newest first.
    pub audit: Vec<crate::domain::AuditEntry>,
}

impl WoDetail {
    /// The last assignment that went through: who made it and when.
    pub fn assigned_by(&self) -> Option<&crate::domain::AuditEntry> {
        self.audit.iter().find(|e| {
            e.action == "wo assign" && matches!(e.outcome, crate::domain::AuditOutcome::Done)
        })
    }
}

/// A work order to create.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewWorkOrder {
    /// An imported id, or `None` for `WO-<n>`.
    pub id: Option<String>,
    /// What it is for.
    pub kind: WoKind,
    /// The customer.
    pub customer: String,
    /// The billing account.
    pub account: Option<String>,
    /// The site.
    pub site: String,
    /// What created it.
    pub origin: WoOrigin,
    /// Its initial status.
    pub status: WoStatus,
    /// The date the work should happen.
    pub preferred_date: Option<NaiveDate>,
}

/// Which event moves people in or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    /// A customer moves in.
    In,
    /// A customer moves out.
    Out,
}

impl Engine {
    /// The open queue in its order (§6.4); `mine` keeps the orders scheduled for `actor`.
    pub fn queue(
        &self,
        actor: &Actor,
        mine: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<WorkOrder>, EngineError> {
        Ok(self.queue_window(actor, mine, "", offset, limit)?.0)
    }

    /// One work order by id.
    pub fn work_order(&self, id: &str) -> Result<WorkOrder, EngineError> {
        read_work_order(self.store.as_ref(), self.resolve_work_order(id)?)
    }

    /// One work order with its customer, site address and audit trail, open or closed.
    pub fn wo_detail(&self, id: &str) -> Result<WoDetail, EngineError> {
        let order = self.work_order(id)?;
        let store = self.store.as_ref();
        let customer: Option<crate::domain::Customer> =
            match store.get(TreeId::Customers, order.customer.as_bytes())? {
                Some(bytes) => Some(super::codec::decode(
                    TreeId::Customers,
                    order.customer.as_bytes(),
                    &bytes,
                )?),
                None => None,
            };
        let site: Option<crate::domain::ServicePoint> =
            match store.get(TreeId::ServicePoints, order.site.as_bytes())? {
                Some(bytes) => Some(super::codec::decode(
                    TreeId::ServicePoints,
                    order.site.as_bytes(),
                    &bytes,
                )?),
                None => None,
            };
        let mut audit = self.audit(Some(&order.id), 0)?;
        audit.reverse();
        Ok(WoDetail {
            customer_name: customer.as_ref().map(|c| c.name.clone()),
            phone: customer.as_ref().and_then(|c| c.phone.clone()),
            email: customer.as_ref().and_then(|c| c.email.clone()),
            address: site.map(|s| s.address).filter(|a| !a.is_empty()),
            audit,
            order,
        })
    }

    fn resolve_work_order(&self, id: &str) -> Result<Seq, EngineError> {
        match lookup(self.store.as_ref(), id)? {
            Some((Tag::WorkOrder, seq)) => Ok(seq),
            Some((tag, _)) => Err(EngineError::BadInput(format!(
                "{id} is {}, not a work order",
                tag.describe()
            ))),
            None => Err(EngineError::BadInput(format!("unknown work order `{id}`"))),
        }
    }

    fn resolve_all(&self, ids: &[String]) -> Result<Vec<Seq>, EngineError> {
        ids.iter().map(|id| self.resolve_work_order(id)).collect()
    }

    /// Completes every open order of `ids`; the others are skipped with the reason (§6.4).
    pub fn wo_complete(
        &mut self,
        actor: &Actor,
        now: Instant,
        ids: &[String],
    ) -> Result<BulkReport, EngineError> {
        let seqs = self.resolve_all(ids)?;
        self.bulk(
            actor,
            now,
            "wo complete",
            ids,
            seqs,
            WoStatus::Completed,
            None,
        )
    }

    /// Cancels every open order of `ids` with one reason; the others are skipped (§6.4).
    pub fn wo_cancel(
        &mut self,
        actor: &Actor,
        now: Instant,
        ids: &[String],
        reason: &str,
    ) -> Result<BulkReport, EngineError> {
        if reason.trim().is_empty() {
            return Err(EngineError::BadInput(
                "a cancel needs a reason (--reason TEXT)".into(),
            ));
        }
        let seqs = self.resolve_all(ids)?;
        self.bulk(
            actor,
            now,
            "wo cancel",
            ids,
            seqs,
            WoStatus::Cancelled,
            Some(reason),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn bulk(
        &mut self,
        actor: &Actor,
        now: Instant,
        action: &str,
        ids: &[String],
        seqs: Vec<Seq>,
        to: WoStatus,
        reason: Option<&str>,
    ) -> Result<BulkReport, EngineError> {
        let verb = if to == WoStatus::Completed {
            "completed"
        } else {
            "cancelled"
        };
        self.act(actor, now, Capability::WorkOrders, action, ids, |flow| {
            let mut rows = Vec::with_capacity(seqs.len());
            for seq in seqs {
                let status = flow.tx.work_order_mut(seq)?.status;
                let id = flow.tx.work_order_mut(seq)?.id.clone();
                if workorders::is_open(status) {
                    flow.wo_to(seq, to, reason.map(str::to_string), "by the desk")?;
                    rows.push(RowOutcome {
                        id,
                        outcome: verb.into(),
                        reason: None,
                    });
                } else {
                    rows.push(RowOutcome {
                        id,
                        outcome: "skipped".into(),
                        reason: Some(format!("already {}", status.code())),
                    });
                }
            }
            let summary = workorders::summarize(verb, &rows);
            Ok((
                BulkReport {
                    rows,
                    summary: summary.clone(),
                },
                Some(summary),
            ))
        })
    }

    /// Assigns a work order and, for a technician, emails it (§6.3, §12.13).
    pub fn wo_assign(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        assignee: Assignee,
        schedule_for: Option<String>,
    ) -> Result<WorkOrder, EngineError> {
        let seq = self.resolve_work_order(id)?;
        let detail = format!("to {}", assignee.label());
        self.act(
            actor,
            now,
            Capability::WorkOrders,
            "wo assign",
            &[id.to_string()],
            |flow| {
                flow.assign_work_order(seq, assignee, schedule_for)?;
                Ok(((), Some(detail)))
            },
        )?;
        self.work_order(id)
    }

    /// Moves an order NEW → SENT → SETUP by hand (§12.10).
    pub fn wo_set_status(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        to: WoStatus,
    ) -> Result<WorkOrder, EngineError> {
        let seq = self.resolve_work_order(id)?;
        if !matches!(to, WoStatus::Sent | WoStatus::Setup) {
            return Err(EngineError::BadInput(format!(
                "set-status takes SENT or SETUP; use `wo complete` or `wo cancel` for {}",
                to.code()
            )));
        }
        self.act(
            actor,
            now,
            Capability::WorkOrders,
            "wo set-status",
            &[id.to_string()],
            |flow| {
                flow.wo_to(seq, to, None, "by the desk")?;
                Ok(((), Some(to.code().to_string())))
            },
        )?;
        self.work_order(id)
    }

    /// Creates a work order by hand (a non-payment disconnection, a special read…).
    pub fn create_work_order(
        &mut self,
        actor: &Actor,
        now: Instant,
        new: NewWorkOrder,
    ) -> Result<String, EngineError> {
        let store = self.store.as_ref();
        if store
            .get(TreeId::Customers, new.customer.as_bytes())?
            .is_none()
        {
            return Err(EngineError::BadInput(format!(
                "unknown customer `{}`",
                new.customer
            )));
        }
        if store
            .get(TreeId::ServicePoints, new.site.as_bytes())?
            .is_none()
        {
            return Err(EngineError::BadInput(format!(
                "unknown site `{}`",
                new.site
            )));
        }
        let ids = [new.customer.clone(), new.site.clone()];
        self.act(
            actor,
            now,
            Capability::WorkOrders,
            "wo create",
            &ids,
            |flow| {
                let kind = new.kind;
                let id = flow.create_work_order(new)?;
                Ok((
                    id.clone(),
                    Some(format!("{id}: {}", workorders::kind_label(kind))),
                ))
            },
        )
    }

    /// A customer moves in or out of a site: the work orders it creates or cancels (§6.2).
    pub fn move_event(
        &mut self,
        actor: &Actor,
        now: Instant,
        event: Move,
        customer: &str,
        site: &str,
        date: NaiveDate,
    ) -> Result<MoveReport, EngineError> {
        let action = if event == Move::In {
            "move-in"
        } else {
            "move-out"
        };
        if event == Move::Out {
            let today = now.with_timezone(&self.config.timezone).date_naive();
            workorders::check_move_out_date(date, today, self.config.default_calendar())
                .map_err(EngineError::BadInput)?;
        }
        self.act(
            actor,
            now,
            Capability::WorkOrders,
            action,
            &[customer.to_string(), site.to_string()],
            |flow| {
                let report = flow.move_event(event, customer, site, date)?;
                let detail = match (&report.created, &report.reason) {
                    (Some(id), _) => format!("created {id}"),
                    (None, Some(reason)) => format!("no work order: {reason}"),
                    (None, None) => String::new(),
                };
                Ok((report, Some(detail)))
            },
        )
    }
}

pub(super) fn read_work_order(
    store: &dyn crate::store::Store,
    seq: Seq,
) -> Result<WorkOrder, EngineError> {
    let key = crate::store::seq_key(seq);
    let bytes = store
        .get(TreeId::WorkOrders, &key)?
        .ok_or_else(|| EngineError::Corrupt(format!("work order #{seq} is indexed but missing")))?;
    super::codec::decode(TreeId::WorkOrders, &key, &bytes)
}

impl Flow<'_, '_> {
    /// Creates a work order; the site's state goes into its notes (§6.1, S26).
    pub fn create_work_order(&mut self, new: NewWorkOrder) -> Result<String, EngineError> {
        let seq = self.tx.next_seq();
        let id = match new.id {
            Some(id) => id,
            None => self.tx.next_id("WO")?,
        };
        let sp = self.tx.sp(&new.site)?.cloned();
        let site_state = sp
            .as_ref()
            .and_then(|s| s.site_status)
            .map_or("unknown".to_string(), |s| s.code().to_string());
        let now = self.now();
        self.tx.insert_work_order(WorkOrder {
            seq,
            id: id.clone(),
            kind: new.kind,
            customer: new.customer,
            account: new
                .account
                .or_else(|| sp.as_ref().and_then(|s| s.account.clone())),
            site: new.site,
            building: sp.as_ref().and_then(|s| s.building.clone()),
            origin: new.origin,
            status: new.status,
            preferred_date: new.preferred_date,
            assignee: Assignee::Unassigned,
            scheduled_for: None,
            site_notes: format!("site status at creation: {site_state}"),
            created_at: now,
            updated_at: now,
            completed_at: None,
            cancel_reason: None,
            log: vec![LogLine {
                at: now,
                from: None,
                to: Some(new.status.code().into()),
                note: format!("created ({})", new.origin.code()),
            }],
        });
        Ok(id)
    }

    /// Moves a work order along its graph; completing a disconnection or reconnection sets the
    /// site status (§6.2).
    pub fn wo_to(
        &mut self,
        seq: Seq,
        to: WoStatus,
        reason: Option<String>,
        by: &str,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let wo = self.tx.work_order_mut(seq)?;
        let from = wo.status;
        if !workorders::allows(from, to) {
            return Err(EngineError::refused(
                "ILLEGAL_TRANSITION",
                format!(
                    "{}: {} -> {} is not a work-order transition",
                    wo.id,
                    from.code(),
                    to.code()
                ),
            ));
        }
        wo.status = to;
        wo.updated_at = now;
        if to == WoStatus::Completed {
            wo.completed_at = Some(now);
        }
        if to == WoStatus::Cancelled {
            wo.cancel_reason = reason.clone();
        }
        let note = match &reason {
            Some(r) => format!("{by}: {r}"),
            None => by.to_string(),
        };
        wo.log.push(LogLine {
            at: now,
            from: Some(from.code().into()),
            to: Some(to.code().into()),
            note,
        });
        let (kind, site, id) = (wo.kind, wo.site.clone(), wo.id.clone());
        self.tx.note_transition(&id, from.code(), to.code());
        if to == WoStatus::Completed {
            if let (Some(status), Some(sp)) =
                (workorders::site_status_after(kind), self.tx.sp_mut(&site)?)
            {
                sp.site_status = Some(status);
            }
        }
        Ok(())
    }

    fn assign_work_order(
        &mut self,
        seq: Seq,
        assignee: Assignee,
        schedule_for: Option<String>,
    ) -> Result<(), EngineError> {
        let wo = self.tx.work_order_mut(seq)?.clone();
        if !workorders::is_open(wo.status) {
            return Err(EngineError::refused(
                "ILLEGAL_TRANSITION",
                format!(
                    "{} is {}: only open work orders are assigned",
                    wo.id,
                    wo.status.code()
                ),
            ));
        }
        let now = self.now();
        {
            let w = self.tx.work_order_mut(seq)?;
            w.assignee = assignee.clone();
            if schedule_for.is_some() {
                w.scheduled_for = schedule_for;
            }
            w.updated_at = now;
            w.log.push(LogLine {
                at: now,
                from: None,
                to: None,
                note: format!("assigned to {}", assignee.label()),
            });
        }
        if let Assignee::Internal { name, email } | Assignee::External { name, email } = &assignee {
            let address = self
                .tx
                .sp(&wo.site)?
                .map(|s| s.address.clone())
                .unwrap_or_default();
            let (to, subject, body) = workorders::assignment_email(&wo, name, email, &address);
            self.send_email(
                seq,
                &wo.id,
                serde_json::json!({ "to": to, "subject": subject, "body": body }),
            )?;
        }
        // Assignment dispatches a NEW order; it never moves one back (§12.13).
        if wo.status == WoStatus::New && assignee != Assignee::Unassigned {
            self.wo_to(seq, WoStatus::Sent, None, "dispatched")?;
        }
        Ok(())
    }

    /// Writes an email to the outbox: complete when written, no response awaited (§12.13).
    fn send_email(
        &mut self,
        owner: Seq,
        owner_id: &str,
        payload: serde_json::Value,
    ) -> Result<(), EngineError> {
        let seq = self.tx.next_seq();
        let id = self.tx.next_id("CO")?;
        let now = self.now();
        let at = |from: &str, to: &str| LogLine {
            at: now,
            from: Some(from.into()),
            to: Some(to.into()),
            note: String::new(),
        };
        self.tx.insert_comm(Communication {
            seq,
            id,
            created_at: now,
            status_at: now,
            status_reason: None,
            due_at: None,
            log: vec![at("PENDING", "VALIDATE"), at("VALIDATE", "COMPLETED")],
            body: CommBody::Outbound(Outbound {
                state: OutState::Completed,
                owner,
                owner_id: owner_id.to_string(),
                target: Target::Email,
                message: MessageKind::Email,
                payload,
                sent_at: Some(self.rule_now()),
                acknowledged: false,
                external_id: None,
                delivered: false,
                attempts: Vec::new(),
            }),
        });
        Ok(())
    }

    /// Move-in: reconnection (whatever the site status) and the active disconnection cancelled;
    /// move-out: a disconnection unless a §6.2 rule says no.
    pub fn move_event(
        &mut self,
        event: Move,
        customer: &str,
        site: &str,
        date: NaiveDate,
    ) -> Result<MoveReport, EngineError> {
        let Some(sp) = self.tx.sp(site)?.cloned() else {
            return Err(EngineError::BadInput(format!("unknown site `{site}`")));
        };
        let Some(cust) = self.tx.customer(customer)?.cloned() else {
            return Err(EngineError::BadInput(format!(
                "unknown customer `{customer}`"
            )));
        };
        let feature_on = self.config.work_orders.move_in_out;
        let calendar = self.config.default_calendar().clone();
        let mut report = MoveReport {
            created: None,
            cancelled: Vec::new(),
            reason: None,
        };
        match event {
            Move::In => {
                for seq in self.tx.work_orders_at(site)? {
                    let wo = self.tx.work_order_mut(seq)?.clone();
                    if wo.kind == WoKind::Disconnection && workorders::is_open(wo.status) {
                        self.wo_to(
                            seq,
                            WoStatus::Cancelled,
                            Some(format!("move-in of {customer}")),
                            "move-in",
                        )?;
                        report.cancelled.push(wo.id);
                    }
                }
                if !feature_on {
                    report.reason = Some(workorders::NoDisconnection::FeatureOff.describe().into());
                    return Ok(report);
                }
                let preferred = workorders::move_in_reconnection(date, &calendar);
                report.created = Some(self.create_work_order(NewWorkOrder {
                    id: None,
                    kind: WoKind::Reconnection,
                    customer: cust.id,
                    account: cust.billing_accounts.first().cloned(),
                    site: site.to_string(),
                    origin: WoOrigin::MoveIn,
                    status: WoStatus::New,
                    preferred_date: Some(preferred),
                })?);
            }
            Move::Out => {
                let building_disabled = match &sp.building {
                    Some(b) => self.tx.building(b)?.is_some_and(|b| b.wo_disable),
                    None => false,
                };
                let facts = MoveOutFacts {
                    feature_on,
                    building_disabled,
                    life_support: cust.life_support,
                    site_status: sp.site_status,
                };
                let days = self.config.work_orders.disconnection_business_days;
                match workorders::move_out_disconnection(date, facts, &calendar, days) {
                    Ok(preferred) => {
                        report.created = Some(self.create_work_order(NewWorkOrder {
                            id: None,
                            kind: WoKind::Disconnection,
                            customer: cust.id,
                            account: sp.account.clone(),
                            site: site.to_string(),
                            origin: WoOrigin::MoveOut,
                            status: WoStatus::New,
                            preferred_date: Some(preferred),
                        })?)
                    }
                    Err(why) => report.reason = Some(why.describe().into()),
                }
            }
        }
        Ok(report)
    }

    /// Checks a partner's status update for a work order (`wo_status`, TV-22): the order, or
    /// why the message cannot apply (it then goes to the error inbox).
    pub fn check_wo_status(
        &mut self,
        wo_id: &str,
        to: WoStatus,
    ) -> Result<Result<Seq, crate::domain::StatusReason>, EngineError> {
        use crate::domain::StatusReason;
        let seq = match self.tx.lookup(wo_id)? {
            Some((Tag::WorkOrder, seq)) => seq,
            _ => return Ok(Err(StatusReason::with_ref("UNMATCHED_MESSAGE", wo_id))),
        };
        let status = self.tx.work_order_mut(seq)?.status;
        if !workorders::is_open(status) {
            return Ok(Err(StatusReason::with_ref("ALREADY_FINAL", wo_id)));
        }
        if !workorders::allows(status, to) {
            return Ok(Err(StatusReason::with_text(
                "ILLEGAL_TRANSITION",
                &format!("{wo_id}: {} -> {}", status.code(), to.code()),
            )));
        }
        Ok(Ok(seq))
    }
}
