//! "Are SP and Device Ready?": the decision tables of the six request types (§2.2).
//!
//! A pass is a pure function of the orchestration and the snapshot of its service point and
//! devices. Rows are evaluated top-down and the first match wins (§12.1). The engine calls it in
//! a loop: each pass creates the next children, and a pass that needs nothing completes.
//!
//! Items (badged item service points) use the item task codes of §2.1; a row whose task has no
//! item code gives `UNSUPPORTED_STATE`, and an item's device is always classed as manual, so the
//! rows that need a smart device never match an item (§12.13).

use crate::domain::{
    ActivityType, ChildKind, CommandKind, Device, DeviceClass, FieldTask, Orchestration,
    ServicePoint, SpKind, Switch,
};

/// What a pass reads: the service point and the devices involved.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// The service point.
    pub sp: &'a ServicePoint,
    /// The device installed at the service point, if any.
    pub device: Option<&'a Device>,
    /// For an exchange: the old device from the registry (it may have left the SP).
    pub old_device: Option<&'a Device>,
}

/// A child the pass asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildSpec {
    /// A field activity with this task.
    Field(FieldTask),
    /// A command on a device; `throttled` for a CNP's remote disconnect (§4).
    Command {
        /// The command kind.
        kind: CommandKind,
        /// The device it acts on.
        device_id: String,
        /// Whether only the D1-CRWTO batch may release it.
        throttled: bool,
    },
}

impl ChildSpec {
    /// The kind, as `skip_kind` compares it.
    pub fn kind(&self) -> ChildKind {
        match self {
            ChildSpec::Field(task) => ChildKind::Field(*task),
            ChildSpec::Command { kind, .. } => ChildKind::Command(*kind),
        }
    }
}

/// Flags a pass records on the activity (Exchange Meter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagUpdates {
    /// D1-CONPRECON's decision.
    pub connect_new_device: Option<bool>,
    /// Whether the old device was S+ when the exchange was planned.
    pub old_was_smart_commissioned: Option<bool>,
}

/// The outcome of one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Create these children and go to IN_PROGRESS.
    Children(Vec<ChildSpec>, FlagUpdates),
    /// Nothing left to do: COMPLETED.
    Complete,
    /// The table says this is an error (`NO_DEVICE`, `UNSUPPORTED_STATE`).
    Error(&'static str),
}

/// Runs one pass of the type's decision table.
pub fn plan_pass(o: &Orchestration, snap: &Snapshot<'_>, throttle_allowed: bool) -> Plan {
    let class = snap
        .device
        .map_or(DeviceClass::None, |d| d.class_on(snap.sp.sp_kind));
    let switch = snap.device.map(|d| d.switch);
    let src = snap.sp.connected_at_source;
    let device_id = snap.device.map(|d| d.id.clone()).unwrap_or_default();
    let command = |kind, throttled| ChildSpec::Command {
        kind,
        device_id: device_id.clone(),
        throttled,
    };
    let plan = match o.activity_type {
        ActivityType::EnableService => enable_rows(class, switch, src, &command),
        ActivityType::DisableService => match (class, switch) {
            (DeviceClass::None, _) | (_, Some(Switch::Off)) => Plan::Complete,
            (DeviceClass::Manual, _) | (DeviceClass::SmartUncommissioned, _) => {
                field(FieldTask::TurnOffMeter)
            }
            (DeviceClass::SmartCommissioned, _) => {
                one(command(CommandKind::RemoteDisconnect, false))
            }
        },
        ActivityType::CutForNonPayment => match (class, switch) {
            (DeviceClass::None, _) | (_, Some(Switch::Off)) => Plan::Complete,
            (DeviceClass::Manual, _) | (DeviceClass::SmartUncommissioned, _) => {
                field(FieldTask::CutForNonPayment)
            }
            (DeviceClass::SmartCommissioned, _) => {
                one(command(CommandKind::RemoteDisconnect, throttle_allowed))
            }
        },
        ActivityType::ReconnectForPayment => match (class, switch) {
            (DeviceClass::None, _) => Plan::Error("NO_DEVICE"),
            (_, Some(Switch::On)) => Plan::Complete,
            (DeviceClass::SmartCommissioned, _) => one(command(CommandKind::RemoteConnect, false)),
            (DeviceClass::Manual, _) | (DeviceClass::SmartUncommissioned, _) => {
                field(FieldTask::ReconnectForPayment)
            }
        },
        ActivityType::ExchangeMeter => exchange_rules(o, snap, class),
        ActivityType::BackToBack => back_to_back_rows(o, class, switch, src, &command),
        ActivityType::CancelOrchestration | ActivityType::UpdateOrchestration => {
            Plan::Error("INVALID_ACTIVITY_TYPE")
        }
    };
    for_service_point_kind(plan, snap.sp.sp_kind)
}

fn one(child: ChildSpec) -> Plan {
    Plan::Children(vec![child], FlagUpdates::default())
}

fn field(task: FieldTask) -> Plan {
    one(ChildSpec::Field(task))
}

fn enable_rows(
    class: DeviceClass,
    switch: Option<Switch>,
    src: bool,
    command: &dyn Fn(CommandKind, bool) -> ChildSpec,
) -> Plan {
    match (class, switch, src) {
        (DeviceClass::None, _, false) => field(FieldTask::ConnSpAtSrceAndInstMtr),
        (DeviceClass::None, _, true) => field(FieldTask::InstallMeter),
        (_, Some(Switch::On), _) => Plan::Complete,
        (DeviceClass::Manual, _, false) => field(FieldTask::ConnectSpAtSourceAndTurnOn),
        (DeviceClass::Manual, _, true) => field(FieldTask::TurnOnMeter),
        (DeviceClass::SmartUncommissioned, _, _) => one(command(CommandKind::Commission, false)),
        (DeviceClass::SmartCommissioned, _, _) => one(command(CommandKind::RemoteConnect, false)),
    }
}

/// The Exchange Meter rules, driven by flags stored on the activity (§2.2, §12.13).
fn exchange_rules(o: &Orchestration, snap: &Snapshot<'_>, class: DeviceClass) -> Plan {
    let flags = o.exchange.clone().unwrap_or_default();
    if !flags.exchange_done {
        let old_on = snap.old_device.is_some_and(|d| d.switch == Switch::On);
        let old_s_plus = snap
            .old_device
            .is_some_and(|d| d.class_on(snap.sp.sp_kind) == DeviceClass::SmartCommissioned);
        let updates = FlagUpdates {
            connect_new_device: Some(flags.connect_new_device.unwrap_or(old_on)),
            old_was_smart_commissioned: Some(old_s_plus),
        };
        return Plan::Children(vec![ChildSpec::Field(FieldTask::ExchangeMeter)], updates);
    }
    let new_device = snap.device;
    let new_id = new_device.map(|d| d.id.clone()).unwrap_or_default();
    let commission_new = class == DeviceClass::SmartUncommissioned;
    let commission = || ChildSpec::Command {
        kind: CommandKind::Commission,
        device_id: new_id.clone(),
        throttled: false,
    };
    if flags.old_was_smart_commissioned && !flags.old_decommissioned {
        let mut children = vec![ChildSpec::Command {
            kind: CommandKind::Decommission,
            device_id: flags.old_device_id.clone().unwrap_or_default(),
            throttled: false,
        }];
        if commission_new {
            children.push(commission());
        }
        return Plan::Children(children, FlagUpdates::default());
    }
    if commission_new {
        return one(commission());
    }
    let off = new_device.is_some_and(|d| d.switch == Switch::Off);
    if flags.connect_new_device == Some(true) && off {
        return match class {
            DeviceClass::SmartCommissioned => one(ChildSpec::Command {
                kind: CommandKind::RemoteConnect,
                device_id: new_id,
                throttled: false,
            }),
            _ => field(FieldTask::TurnOnMeter),
        };
    }
    Plan::Complete
}

fn back_to_back_rows(
    o: &Orchestration,
    class: DeviceClass,
    switch: Option<Switch>,
    src: bool,
    command: &dyn Fn(CommandKind, bool) -> ChildSpec,
) -> Plan {
    let b2b = o.back_to_back.clone().unwrap_or_default();
    let read_pending = b2b.read_required && !b2b.read_done;
    match class {
        DeviceClass::None => Plan::Error("NO_DEVICE"),
        DeviceClass::SmartCommissioned if read_pending => {
            one(command(CommandKind::OnDemandRead, false))
        }
        _ if read_pending => field(FieldTask::ReadMeter),
        _ if switch == Some(Switch::Off) && b2b.incoming_customer.is_some() => {
            enable_rows(class, switch, src, command)
        }
        _ => Plan::Complete,
    }
}

/// Maps meter tasks to item tasks on an item service point, or fails the pass.
fn for_service_point_kind(plan: Plan, kind: SpKind) -> Plan {
    if kind == SpKind::Meter {
        return plan;
    }
    match plan {
        Plan::Children(children, flags) => {
            let mut mapped = Vec::with_capacity(children.len());
            for child in children {
                match child {
                    ChildSpec::Field(task) => match task.for_item() {
                        Some(item_task) => mapped.push(ChildSpec::Field(item_task)),
                        None => return Plan::Error("UNSUPPORTED_STATE"),
                    },
                    ChildSpec::Command { .. } => return Plan::Error("UNSUPPORTED_STATE"),
                }
            }
            Plan::Children(mapped, flags)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ExchangeState, RequestInfo, SpStatus};
    use chrono::TimeZone;

    fn sp(kind: SpKind, src: bool, device: Option<&str>) -> ServicePoint {
        ServicePoint {
            id: "SP-1".into(),
            sp_kind: kind,
            status: SpStatus::Active,
            connected_at_source: src,
            division: String::new(),
            address: String::new(),
            customer: None,
            account: None,
            building: None,
            site_status: None,
            device: device.map(str::to_string),
        }
    }

    fn dev(smart: bool, commissioned: bool, switch: Switch) -> Device {
        Device {
            id: "D-1".into(),
            badge: "B-1".into(),
            smart,
            commissioned,
            switch,
            head_end_capable: None,
            last_readings: Vec::new(),
        }
    }

    fn request(t: ActivityType) -> Orchestration {
        Orchestration {
            state: crate::lifecycle::OrchState::AreSpReady,
            activity_type: t,
            sp_id: "SP-1".into(),
            customer: None,
            account: None,
            service_datetime: chrono::Utc.with_ymd_and_hms(2025, 6, 10, 14, 0, 0).unwrap(),
            effective: None,
            service_agreements: vec!["SA-1".into()],
            request_info: RequestInfo::default(),
            collection_data: None,
            contact: None,
            comments: None,
            expiration: None,
            pass: 0,
            skip_kind: None,
            superseded_by: None,
            frozen_by: None,
            warnings: Vec::new(),
            notifications: Vec::new(),
            exchange: None,
            back_to_back: None,
        }
    }

    fn plan(t: ActivityType, sp: &ServicePoint, device: Option<&Device>) -> Plan {
        let o = request(t);
        plan_pass(
            &o,
            &Snapshot {
                sp,
                device,
                old_device: None,
            },
            true,
        )
    }

    fn fields(p: &Plan) -> Vec<FieldTask> {
        match p {
            Plan::Children(c, _) => c
                .iter()
                .filter_map(|c| match c {
                    ChildSpec::Field(t) => Some(*t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn commands(p: &Plan) -> Vec<(CommandKind, bool)> {
        match p {
            Plan::Children(c, _) => c
                .iter()
                .filter_map(|c| match c {
                    ChildSpec::Command {
                        kind, throttled, ..
                    } => Some((*kind, *throttled)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn enable_rows_e1_to_e7() {
        use ActivityType::EnableService as E;
        let none_src = sp(SpKind::Meter, true, None);
        let none_nosrc = sp(SpKind::Meter, false, None);
        let with = sp(SpKind::Meter, true, Some("D-1"));
        let with_nosrc = sp(SpKind::Meter, false, Some("D-1"));
        assert_eq!(
            fields(&plan(E, &none_nosrc, None)),
            [FieldTask::ConnSpAtSrceAndInstMtr]
        );
        assert_eq!(fields(&plan(E, &none_src, None)), [FieldTask::InstallMeter]);
        let m_off = dev(false, false, Switch::Off);
        assert_eq!(
            fields(&plan(E, &with_nosrc, Some(&m_off))),
            [FieldTask::ConnectSpAtSourceAndTurnOn]
        );
        assert_eq!(
            fields(&plan(E, &with, Some(&m_off))),
            [FieldTask::TurnOnMeter]
        );
        let s_minus = dev(true, false, Switch::Off);
        assert_eq!(
            commands(&plan(E, &with, Some(&s_minus))),
            [(CommandKind::Commission, false)]
        );
        let s_plus = dev(true, true, Switch::Off);
        assert_eq!(
            commands(&plan(E, &with, Some(&s_plus))),
            [(CommandKind::RemoteConnect, false)]
        );
        let on = dev(true, true, Switch::On);
        assert_eq!(plan(E, &with, Some(&on)), Plan::Complete);
    }

    #[test]
    fn disable_cut_and_reconnect_rows() {
        let with = sp(SpKind::Meter, true, Some("D-1"));
        let none = sp(SpKind::Meter, true, None);
        let s_plus_on = dev(true, true, Switch::On);
        let s_minus_on = dev(true, false, Switch::On);
        let m_off = dev(false, false, Switch::Off);
        assert_eq!(
            plan(ActivityType::DisableService, &none, None),
            Plan::Complete
        );
        assert_eq!(
            commands(&plan(ActivityType::DisableService, &with, Some(&s_plus_on))),
            [(CommandKind::RemoteDisconnect, false)]
        );
        assert_eq!(
            fields(&plan(
                ActivityType::DisableService,
                &with,
                Some(&s_minus_on)
            )),
            [FieldTask::TurnOffMeter]
        );
        assert_eq!(
            commands(&plan(
                ActivityType::CutForNonPayment,
                &with,
                Some(&s_plus_on)
            )),
            [(CommandKind::RemoteDisconnect, true)]
        );
        assert_eq!(
            fields(&plan(
                ActivityType::CutForNonPayment,
                &with,
                Some(&s_minus_on)
            )),
            [FieldTask::CutForNonPayment]
        );
        assert_eq!(
            plan(ActivityType::CutForNonPayment, &with, Some(&m_off)),
            Plan::Complete
        );
        assert_eq!(
            plan(ActivityType::ReconnectForPayment, &none, None),
            Plan::Error("NO_DEVICE")
        );
        assert_eq!(
            fields(&plan(
                ActivityType::ReconnectForPayment,
                &with,
                Some(&m_off)
            )),
            [FieldTask::ReconnectForPayment]
        );
        assert_eq!(
            plan(ActivityType::ReconnectForPayment, &with, Some(&s_plus_on)),
            Plan::Complete
        );
    }

    #[test]
    fn items_use_item_tasks_or_are_unsupported() {
        let item = sp(SpKind::Item, true, Some("D-1"));
        let smart_off = dev(true, true, Switch::Off);
        // An item's device is classed manual: Turn On Item, never a remote connect.
        assert_eq!(
            fields(&plan(ActivityType::EnableService, &item, Some(&smart_off))),
            [FieldTask::TurnOnItem]
        );
        let item_no_src = sp(SpKind::Item, false, None);
        assert_eq!(
            plan(ActivityType::EnableService, &item_no_src, None),
            Plan::Error("UNSUPPORTED_STATE")
        );
    }

    #[test]
    fn exchange_first_pass_records_connect_flag() {
        let with = sp(SpKind::Meter, true, Some("D-1"));
        let old = dev(true, true, Switch::On);
        let mut o = request(ActivityType::ExchangeMeter);
        o.exchange = Some(ExchangeState {
            old_device_id: Some("D-1".into()),
            ..ExchangeState::default()
        });
        let snap = Snapshot {
            sp: &with,
            device: Some(&old),
            old_device: Some(&old),
        };
        match plan_pass(&o, &snap, true) {
            Plan::Children(children, flags) => {
                assert_eq!(children, vec![ChildSpec::Field(FieldTask::ExchangeMeter)]);
                assert_eq!(flags.connect_new_device, Some(true));
                assert_eq!(flags.old_was_smart_commissioned, Some(true));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn back_to_back_reads_then_completes() {
        let with = sp(SpKind::Meter, true, Some("D-1"));
        let s_plus = dev(true, true, Switch::On);
        let mut o = request(ActivityType::BackToBack);
        o.back_to_back = Some(crate::domain::BackToBackState {
            read_required: true,
            ..Default::default()
        });
        let snap = Snapshot {
            sp: &with,
            device: Some(&s_plus),
            old_device: None,
        };
        assert_eq!(
            commands(&plan_pass(&o, &snap, true)),
            [(CommandKind::OnDemandRead, false)]
        );
        if let Some(b) = o.back_to_back.as_mut() {
            b.read_done = true;
        }
        assert_eq!(plan_pass(&o, &snap, true), Plan::Complete);
    }
}
