//! The vocabulary of the domain: activity types, field tasks, command kinds and the
//! service point / device attributes the decision tables read (`spec/domain.md` §1, §2).

/// An instant: every stored time is UTC; local time is derived with the configured zone.
pub type Instant = chrono::DateTime<chrono::Utc>;

/// The internal sequence number every record gets when it is created (§12.1).
pub type Seq = u64;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The external code of this value.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// Parses an external code (case-insensitive).
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.code().eq_ignore_ascii_case(text))
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// The eight orchestration activity types: six requests and two maintenance types (§1.4, §2).
    ActivityType {
        EnableService => "enable_service",
        DisableService => "disable_service",
        CutForNonPayment => "cut_for_non_payment",
        ReconnectForPayment => "reconnect_for_payment",
        ExchangeMeter => "exchange_meter",
        BackToBack => "back_to_back",
        CancelOrchestration => "cancel_orchestration",
        UpdateOrchestration => "update_orchestration",
    }
}

impl ActivityType {
    /// True for the six request orchestrations (category Request Orchestration).
    pub fn is_request(self) -> bool {
        !self.is_maintenance()
    }
    /// True for Cancel / Update Orchestration (category Orchestration Maintenance).
    pub fn is_maintenance(self) -> bool {
        matches!(
            self,
            ActivityType::CancelOrchestration | ActivityType::UpdateOrchestration
        )
    }
    /// The name an operator reads.
    pub fn label(self) -> &'static str {
        match self {
            ActivityType::EnableService => "Enable Service",
            ActivityType::DisableService => "Disable Service",
            ActivityType::CutForNonPayment => "Cut for Non-Payment",
            ActivityType::ReconnectForPayment => "Reconnect for Payment",
            ActivityType::ExchangeMeter => "Exchange Meter",
            ActivityType::BackToBack => "Back-to-Back",
            ActivityType::CancelOrchestration => "Cancel Orchestration",
            ActivityType::UpdateOrchestration => "Update Orchestration",
        }
    }
}

code_enum! {
    /// Smart meter command kinds the head-end executes (§2.1, S13).
    CommandKind {
        Commission => "commission",
        Decommission => "decommission",
        RemoteConnect => "remote_connect",
        RemoteDisconnect => "remote_disconnect",
        OnDemandRead => "on_demand_read",
    }
}

impl CommandKind {
    /// The name an operator reads.
    pub fn label(self) -> &'static str {
        match self {
            CommandKind::Commission => "Commission",
            CommandKind::Decommission => "Decommission",
            CommandKind::RemoteConnect => "Remote Connect",
            CommandKind::RemoteDisconnect => "Remote Disconnect",
            CommandKind::OnDemandRead => "On-Demand Read",
        }
    }
}

code_enum! {
    /// Field task types (S4, S19) that field activities carry.
    FieldTask {
        InstallMeter => "D1-InstallMeter",
        ConnSpAtSrceAndInstMtr => "D1-ConnSPAtSrceAndInstMtr",
        ConnectSpAtSourceAndTurnOn => "D1-ConnectSPAtSourceAndTurnOn",
        TurnOnMeter => "D1-TurnOnMeter",
        TurnOffMeter => "D1-TurnOffMeter",
        CutForNonPayment => "D1-CutForNonPayment",
        ReconnectForPayment => "D1-ReconnectForPayment",
        ExchangeMeter => "D1-ExchangeMeter",
        ReadMeter => "D1-ReadMeter",
        RemoveMeter => "D1-RemoveMeter",
        ServiceInvestigation => "D1-ServiceInvestigation",
        DisconnectSpAtMeter => "D1-DisconnectSPAtMeter",
        DisConnSpAtMtrAndRmveMtr => "D1-DisConnSPAtMtrAndRmveMtr",
        DisconnectWarning => "D1-DisconnectWarning",
        InstallDevice => "D1-InstallDevice",
        TurnOnItem => "D1-TurnOnItem",
        TurnOffItem => "D1-TurnOffItem",
        CutItemForNonPayment => "D1-CutItemForNonPayment",
        ReconnectItemForPayment => "D1-ReconnectItemForPayment",
        ExchangeDevice => "D1-ExchangeDevice",
    }
}

impl FieldTask {
    /// The item (badged item) counterpart of a meter task, when §2.1 lists one.
    pub fn for_item(self) -> Option<FieldTask> {
        use FieldTask::*;
        match self {
            InstallMeter | InstallDevice => Some(InstallDevice),
            TurnOnMeter | TurnOnItem => Some(TurnOnItem),
            TurnOffMeter | TurnOffItem => Some(TurnOffItem),
            CutForNonPayment | CutItemForNonPayment => Some(CutItemForNonPayment),
            ReconnectForPayment | ReconnectItemForPayment => Some(ReconnectItemForPayment),
            ExchangeMeter | ExchangeDevice => Some(ExchangeDevice),
            _ => None,
        }
    }
    /// True for the tasks that apply to item service points.
    pub fn is_item_task(self) -> bool {
        self.for_item() == Some(self)
    }
    /// The effect on the service point and device when the task completes (§12.4).
    pub fn effect(self) -> TaskEffect {
        use FieldTask::*;
        match self {
            InstallMeter | InstallDevice => TaskEffect::Install {
                connect_source: false,
            },
            ConnSpAtSrceAndInstMtr => TaskEffect::Install {
                connect_source: true,
            },
            ConnectSpAtSourceAndTurnOn => TaskEffect::ConnectSourceAndTurnOn,
            TurnOnMeter | ReconnectForPayment | TurnOnItem | ReconnectItemForPayment => {
                TaskEffect::Switch(Switch::On)
            }
            TurnOffMeter | CutForNonPayment | DisconnectSpAtMeter | TurnOffItem
            | CutItemForNonPayment => TaskEffect::Switch(Switch::Off),
            ExchangeMeter | ExchangeDevice => TaskEffect::Exchange,
            RemoveMeter | DisConnSpAtMtrAndRmveMtr => TaskEffect::Remove,
            ReadMeter => TaskEffect::Read,
            ServiceInvestigation | DisconnectWarning => TaskEffect::None,
        }
    }
}

/// What a completed field task does to the snapshot (§12.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEffect {
    /// A new device is installed, switch Off (and the SP connected at source when asked).
    Install {
        /// Whether the task also connects the service point at the source.
        connect_source: bool,
    },
    /// Connected at source and the switch turned On.
    ConnectSourceAndTurnOn,
    /// The switch is set.
    Switch(Switch),
    /// The old device leaves; the new one is installed Off.
    Exchange,
    /// The device leaves the service point.
    Remove,
    /// A reading is stored.
    Read,
    /// Remarks only.
    None,
}

code_enum! {
    /// Meter service points and badged item service points (street lights) (§1.1).
    SpKind { Meter => "meter", Item => "item" }
}

code_enum! {
    /// Whether a service point is in service (§1.1).
    SpStatus { Active => "active", Inactive => "inactive" }
}

code_enum! {
    /// The on/off (connected) state of a device (§1.1).
    Switch { On => "on", Off => "off" }
}

code_enum! {
    /// The energisation status of a site, used by the work-order rules (§6.2).
    SiteStatus { Energised => "energised", DeEnergised => "de_energised" }
}

code_enum! {
    /// The roles of the permission matrix (§9).
    Role { Clerk => "clerk", Supervisor => "supervisor", Support => "support" }
}

impl Role {
    /// The role as said of a person: "a clerk", "a supervisor", "support staff".
    pub fn person(self) -> &'static str {
        match self {
            Role::Clerk => "a clerk",
            Role::Supervisor => "a supervisor",
            Role::Support => "support staff",
        }
    }

    /// What a person in the role does, after their name: "works as a clerk", "works in
    /// support", "is a supervisor".
    pub fn works(self) -> &'static str {
        match self {
            Role::Clerk => "works as a clerk",
            Role::Supervisor => "is a supervisor",
            Role::Support => "works in support",
        }
    }
}

code_enum! {
    /// Cancel reason codes (S19).
    CancelReason {
        CustomerRequested => "CR",
        CanceledByExternalSystem => "CXS",
        Undetermined => "D1-Undetermined",
        AutoDiscarded => "D1-AutoDiscarded",
    }
}

/// The classification the decision tables use: none, M, S-, S+ (§2.2 notation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceClass {
    /// No device installed.
    None,
    /// Manual (not smart).
    Manual,
    /// Smart, not commissioned.
    SmartUncommissioned,
    /// Smart and commissioned.
    SmartCommissioned,
}
