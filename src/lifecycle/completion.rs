//! Completion events: what a finished field task or command does to the snapshot (§2.1, §3.7,
//! §12.4). Planning is pure; the engine executes the events in list order, removals before
//! installations (S34).

use crate::domain::{
    CommandKind, DeviceSpec, EventKind, FieldCompletion, FieldTask, Reading, StatusReason, Switch,
    TaskEffect,
};

/// The events a field completion produces, or the reason it cannot be accepted.
///
/// `expected_new` is the device the request registered for installation (§12.13): when given,
/// the crew's device must be that one.
pub fn field_events(
    task: FieldTask,
    installed: Option<&str>,
    completion: &FieldCompletion,
    expected_new: Option<&DeviceSpec>,
) -> Result<Vec<EventKind>, StatusReason> {
    let mut events = Vec::new();
    match task.effect() {
        TaskEffect::Install { connect_source } => {
            if connect_source {
                events.push(EventKind::ConnectAtSource);
            }
            events.push(EventKind::InstallDevice {
                device: new_device(completion, expected_new)?,
            });
        }
        TaskEffect::ConnectSourceAndTurnOn => {
            events.push(EventKind::ConnectAtSource);
            events.push(EventKind::SwitchOn);
        }
        TaskEffect::Switch(Switch::On) => events.push(EventKind::SwitchOn),
        TaskEffect::Switch(Switch::Off) => events.push(EventKind::SwitchOff),
        TaskEffect::Exchange => {
            if let Some(old) = installed {
                events.push(removal(old, completion));
            }
            events.push(EventKind::InstallDevice {
                device: new_device(completion, expected_new)?,
            });
        }
        TaskEffect::Remove => {
            if let Some(old) = installed {
                events.push(removal(old, completion));
            }
        }
        TaskEffect::Read | TaskEffect::None => {}
    }
    if !completion.readings.is_empty() {
        events.push(EventKind::CreateImd {
            readings: completion.readings.clone(),
        });
    }
    if let Some(text) = completion.remarks.as_ref().filter(|r| !r.trim().is_empty()) {
        events.push(EventKind::Remarks { text: text.clone() });
    }
    Ok(events)
}

fn removal(installed: &str, completion: &FieldCompletion) -> EventKind {
    EventKind::RemoveDevice {
        device_id: installed.to_string(),
        badge: completion.old_device.as_ref().map(|d| d.badge.clone()),
    }
}

fn new_device(
    completion: &FieldCompletion,
    expected: Option<&DeviceSpec>,
) -> Result<DeviceSpec, StatusReason> {
    let Some(device) = completion.device.clone() else {
        return Err(StatusReason::with_text(
            "COMPLETION_FAILED",
            "Install Device needs the installed device (id, badge)",
        ));
    };
    if let Some(expected) = expected {
        if expected.id != device.id {
            return Err(StatusReason::with_text(
                "BADGE_MISMATCH",
                &format!(
                    "the request registered {} but the crew installed {}",
                    expected.id, device.id
                ),
            ));
        }
        // The request's registration is authoritative for what the crew does not report.
        return Ok(DeviceSpec {
            badge: if device.badge.is_empty() {
                expected.badge.clone()
            } else {
                device.badge
            },
            ..device
        });
    }
    Ok(device)
}

/// The event a completed command produces (S13).
pub fn command_events(kind: CommandKind, readings: &[Reading]) -> Vec<EventKind> {
    match kind {
        CommandKind::Commission => vec![EventKind::Commissioning],
        CommandKind::Decommission => vec![EventKind::Decommissioning],
        CommandKind::RemoteConnect => vec![EventKind::SwitchOn],
        CommandKind::RemoteDisconnect => vec![EventKind::SwitchOff],
        CommandKind::OnDemandRead => vec![EventKind::CreateImd {
            readings: readings.to_vec(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion(device: Option<&str>) -> FieldCompletion {
        FieldCompletion {
            status: "complete".into(),
            at: None,
            remarks: None,
            device: device.map(|id| DeviceSpec {
                id: id.into(),
                badge: "B".into(),
                smart: true,
                commissioned: false,
                switch: None,
            }),
            old_device: None,
            readings: Vec::new(),
            source: None,
        }
    }

    #[test]
    fn exchange_removes_before_installing() {
        let events = field_events(
            FieldTask::ExchangeMeter,
            Some("D-1"),
            &completion(Some("D-2")),
            None,
        )
        .unwrap();
        assert!(matches!(events[0], EventKind::RemoveDevice { .. }));
        assert!(matches!(events[1], EventKind::InstallDevice { .. }));
    }

    #[test]
    fn install_needs_the_registered_device() {
        let expected = DeviceSpec {
            id: "D-9".into(),
            ..DeviceSpec::default()
        };
        let err = field_events(
            FieldTask::InstallMeter,
            None,
            &completion(Some("D-2")),
            Some(&expected),
        )
        .unwrap_err();
        assert_eq!(err.code, "BADGE_MISMATCH");
        let err = field_events(FieldTask::InstallMeter, None, &completion(None), None).unwrap_err();
        assert_eq!(err.code, "COMPLETION_FAILED");
    }
}
