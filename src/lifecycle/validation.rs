//! Validate steps and their error codes (§5.3), in the order of the §5.3 table (§12.1):
//! the first failing check decides the code.

use crate::domain::{
    ActivityType, CommandKind, Device, FieldTask, Orchestration, ServicePoint, SpKind, SpStatus,
    StatusReason,
};

/// Validates a request orchestration; `duplicate_of` is an earlier non-final request of the
/// same type on the same service point (§5.2), found by the caller.
pub fn validate_request(
    o: &Orchestration,
    sp: Option<&ServicePoint>,
    duplicate_of: Option<&str>,
) -> Result<(), StatusReason> {
    if !o.activity_type.is_request() {
        return Err(StatusReason::code("INVALID_ACTIVITY_TYPE"));
    }
    let sp = sp.ok_or_else(|| StatusReason::with_ref("SP_NOT_FOUND", &o.sp_id))?;
    if sp.status == SpStatus::Inactive {
        return Err(StatusReason::with_ref("SP_INACTIVE", &sp.id));
    }
    if let Some(other) = duplicate_of {
        return Err(StatusReason::with_ref("DUPLICATE_REQUEST", other));
    }
    let t = o.activity_type;
    if t == ActivityType::CutForNonPayment
        && !o
            .collection_data
            .as_ref()
            .is_some_and(|c| c.has_positive_amount())
    {
        return Err(StatusReason::code("MISSING_COLLECTION_DATA"));
    }
    if matches!(t, ActivityType::EnableService | ActivityType::BackToBack)
        && o.service_agreements.iter().all(|sa| sa.trim().is_empty())
    {
        return Err(StatusReason::code("MISSING_SERVICE_AGREEMENT"));
    }
    if t == ActivityType::ExchangeMeter
        && o.exchange
            .as_ref()
            .and_then(|x| x.old_device_id.as_deref())
            .is_none_or(|id| id.trim().is_empty())
    {
        return Err(StatusReason::code("MISSING_EXCHANGE_DEVICE"));
    }
    Ok(())
}

/// Validates a smart meter command (§3.3, S7); `duplicate_of` is an earlier non-final command
/// of the same kind on the same device.
pub fn validate_command(
    kind: CommandKind,
    device: Option<&Device>,
    duplicate_of: Option<&str>,
) -> Result<(), StatusReason> {
    let Some(device) = device.filter(|d| d.smart) else {
        return Err(StatusReason::with_text(
            "CMD_NOT_ELIGIBLE",
            "the device is missing or not smart",
        ));
    };
    if kind != CommandKind::Commission && !device.commissioned {
        return Err(StatusReason::with_text(
            "CMD_NOT_ELIGIBLE",
            "the device is not commissioned",
        ));
    }
    if !device.head_end_can(kind) {
        return Err(StatusReason::with_ref("HEADEND_NOT_CAPABLE", &device.id));
    }
    if let Some(other) = duplicate_of {
        return Err(StatusReason::with_ref("DUPLICATE_COMMAND", other));
    }
    Ok(())
}

/// Validates a field activity (§3.4): the task fits the service point and a field work system
/// is configured to receive it.
pub fn validate_field(
    task: FieldTask,
    sp_kind: SpKind,
    recipient: &str,
) -> Result<(), StatusReason> {
    let fits = match sp_kind {
        SpKind::Item => task.is_item_task(),
        SpKind::Meter => !task.is_item_task(),
    };
    if !fits {
        return Err(StatusReason::with_text(
            "FIELD_TASK_INVALID",
            &format!(
                "{} does not apply to a {} service point",
                task.code(),
                sp_kind.code()
            ),
        ));
    }
    if recipient.trim().is_empty() {
        return Err(StatusReason::code("NO_RECIPIENT"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Switch;

    fn device(smart: bool, commissioned: bool) -> Device {
        Device {
            id: "D-1".into(),
            badge: String::new(),
            smart,
            commissioned,
            switch: Switch::On,
            head_end_capable: None,
            last_readings: Vec::new(),
        }
    }

    #[test]
    fn command_checks_run_in_table_order() {
        assert_eq!(
            validate_command(CommandKind::RemoteConnect, None, None)
                .unwrap_err()
                .code,
            "CMD_NOT_ELIGIBLE"
        );
        assert_eq!(
            validate_command(CommandKind::RemoteConnect, Some(&device(true, false)), None)
                .unwrap_err()
                .code,
            "CMD_NOT_ELIGIBLE"
        );
        assert!(
            validate_command(CommandKind::Commission, Some(&device(true, false)), None).is_ok()
        );
        let mut limited = device(true, true);
        limited.head_end_capable = Some([CommandKind::OnDemandRead].into_iter().collect());
        assert_eq!(
            validate_command(CommandKind::RemoteDisconnect, Some(&limited), None)
                .unwrap_err()
                .code,
            "HEADEND_NOT_CAPABLE"
        );
        assert_eq!(
            validate_command(
                CommandKind::RemoteDisconnect,
                Some(&device(true, true)),
                Some("SC-1")
            )
            .unwrap_err()
            .code,
            "DUPLICATE_COMMAND"
        );
    }

    #[test]
    fn field_checks() {
        assert!(validate_field(FieldTask::InstallMeter, SpKind::Meter, "MWM").is_ok());
        assert_eq!(
            validate_field(FieldTask::InstallMeter, SpKind::Item, "MWM")
                .unwrap_err()
                .code,
            "FIELD_TASK_INVALID"
        );
        assert_eq!(
            validate_field(FieldTask::InstallMeter, SpKind::Meter, "")
                .unwrap_err()
                .code,
            "NO_RECIPIENT"
        );
    }
}
