//! The work-order vocabulary: kinds, origins and statuses (`spec/domain.md` §6), spoken by
//! the import format, the queue rules and the desk alike.

use super::code_enum;

code_enum! {
    /// What a work order is for (§6.1).
    WoKind {
        Connection => "connection",
        Reconnection => "reconnection",
        Disconnection => "disconnection",
        NonPaymentDisconnection => "non_payment_disconnection",
        SpecialRead => "special_read",
        FinalRead => "final_read",
        MeterInvestigation => "meter_investigation",
    }
}

code_enum! {
    /// What created a work order (§6.1).
    WoOrigin {
        Manual => "manual",
        MoveIn => "move_in",
        MoveOut => "move_out",
        AutoSpecialRead => "auto_special_read",
    }
}

code_enum! {
    /// A work order's status (§6.3, §12.10); files may write it in any case.
    WoStatus {
        New => "NEW",
        Sent => "SENT",
        Setup => "SETUP",
        Completed => "COMPLETED",
        Cancelled => "CANCELLED",
    }
}
