//! The states of every lifecycle and their allowed transitions, written down as tables (§12.6).
//!
//! Every edge not listed here is rejected with `ILLEGAL_TRANSITION`. The tables are the single
//! source of truth: the engine checks each transition it makes against them, and the property
//! tests check that no sequence of commands ever leaves them.

use super::code_enum;

/// A lifecycle state: its code, whether it is final, and the edges it allows.
pub trait LifecycleState: Copy + Eq + std::fmt::Debug + 'static {
    /// The UPPER_SNAKE code of the state.
    fn code(self) -> &'static str;
    /// True when no further transition is possible.
    fn is_final(self) -> bool;
    /// The allowed (from, to) edges of this lifecycle.
    fn edges() -> &'static [(Self, Self)];
    /// True when `self -> to` is an edge of the lifecycle.
    fn allows(self, to: Self) -> bool {
        Self::edges().iter().any(|&(a, b)| a == self && b == to)
    }
}

code_enum! {
    /// The parent orchestration lifecycle, D1-SPActivityOrchestration (§3.1).
    OrchState {
        Pending => "PENDING",
        Validate => "VALIDATE",
        ValidationError => "VALIDATION_ERROR",
        WaitEffDate => "WAIT_EFF_DATE",
        AreSpReady => "ARE_SP_READY",
        InProgress => "IN_PROGRESS",
        ActivityError => "ACTIVITY_ERROR",
        Retry => "RETRY",
        Completed => "COMPLETED",
        Discarded => "DISCARDED",
    }
}

impl LifecycleState for OrchState {
    fn code(self) -> &'static str {
        OrchState::code(self)
    }
    fn is_final(self) -> bool {
        matches!(self, OrchState::Completed | OrchState::Discarded)
    }
    fn edges() -> &'static [(Self, Self)] {
        use OrchState::*;
        &[
            (Pending, Validate),
            (Pending, Discarded),
            (Validate, ValidationError),
            (Validate, WaitEffDate),
            (Validate, AreSpReady),
            (ValidationError, Validate),
            (ValidationError, Discarded),
            (WaitEffDate, AreSpReady),
            (WaitEffDate, Discarded),
            (AreSpReady, InProgress),
            (AreSpReady, Completed),
            (AreSpReady, ActivityError),
            (InProgress, AreSpReady),
            (InProgress, ActivityError),
            (InProgress, Discarded),
            (ActivityError, Retry),
            (ActivityError, Discarded),
            (Retry, AreSpReady),
        ]
    }
}

code_enum! {
    /// Cancel / Update Orchestration (§3.2).
    MaintState {
        Pending => "PENDING",
        Validate => "VALIDATE",
        ValidationError => "VALIDATION_ERROR",
        CancelSpecific => "CANCEL_SPECIFIC",
        UpdateSpecific => "UPDATE_SPECIFIC",
        CommInProgress => "COMM_IN_PROGRESS",
        CommError => "COMM_ERROR",
        Retry => "RETRY",
        Completed => "COMPLETED",
        Discarded => "DISCARDED",
    }
}

impl LifecycleState for MaintState {
    fn code(self) -> &'static str {
        MaintState::code(self)
    }
    fn is_final(self) -> bool {
        matches!(self, MaintState::Completed | MaintState::Discarded)
    }
    fn edges() -> &'static [(Self, Self)] {
        use MaintState::*;
        &[
            (Pending, Validate),
            (Pending, Discarded),
            (Validate, ValidationError),
            (Validate, CancelSpecific),
            (Validate, UpdateSpecific),
            (ValidationError, Validate),
            (ValidationError, Discarded),
            (CancelSpecific, CommInProgress),
            (CancelSpecific, Completed),
            (UpdateSpecific, CommInProgress),
            (UpdateSpecific, Completed),
            (CommInProgress, Completed),
            (CommInProgress, CommError),
            (CommError, Retry),
            (CommError, Discarded),
            (Retry, CancelSpecific),
            (Retry, UpdateSpecific),
        ]
    }
}

code_enum! {
    /// A smart meter command, e.g. D1-RemoteDisconnect (§3.3, §12.6).
    CommandState {
        Pending => "PENDING",
        Validate => "VALIDATE",
        ValidationError => "VALIDATION_ERROR",
        WaitEff => "WAIT_EFF",
        ConnectionReady => "CONNECTION_READY",
        CommInProgress => "COMM_IN_PROGRESS",
        CommError => "COMM_ERROR",
        Retry => "RETRY",
        ExecCompletion => "EXEC_COMPLETION",
        CompletionError => "COMPLETION_ERROR",
        Completed => "COMPLETED",
        Discarded => "DISCARDED",
    }
}

impl LifecycleState for CommandState {
    fn code(self) -> &'static str {
        CommandState::code(self)
    }
    fn is_final(self) -> bool {
        matches!(self, CommandState::Completed | CommandState::Discarded)
    }
    fn edges() -> &'static [(Self, Self)] {
        use CommandState::*;
        &[
            (Pending, Validate),
            (Pending, Discarded),
            (Validate, ValidationError),
            (Validate, WaitEff),
            (ValidationError, Validate),
            (ValidationError, Discarded),
            (WaitEff, ConnectionReady),
            (WaitEff, Discarded),
            (ConnectionReady, CommInProgress),
            (CommInProgress, ExecCompletion),
            (CommInProgress, CommError),
            (CommError, Retry),
            (CommError, ExecCompletion),
            (CommError, Discarded),
            (Retry, CommInProgress),
            (ExecCompletion, Completed),
            (ExecCompletion, CompletionError),
            (CompletionError, ExecCompletion),
            (CompletionError, Discarded),
        ]
    }
}

code_enum! {
    /// A service order field activity, D1-FieldActivity (§3.4, §12.6).
    FaState {
        Pending => "PENDING",
        Validate => "VALIDATE",
        ValidationError => "VALIDATION_ERROR",
        CommInProgress => "COMM_IN_PROGRESS",
        CommError => "COMM_ERROR",
        Retry => "RETRY",
        ExecCompletion => "EXEC_COMPLETION",
        CompletionError => "COMPLETION_ERROR",
        Completed => "COMPLETED",
        Cancelled => "CANCELLED",
        Discarded => "DISCARDED",
    }
}

impl LifecycleState for FaState {
    fn code(self) -> &'static str {
        FaState::code(self)
    }
    fn is_final(self) -> bool {
        matches!(
            self,
            FaState::Completed | FaState::Cancelled | FaState::Discarded
        )
    }
    fn edges() -> &'static [(Self, Self)] {
        use FaState::*;
        &[
            (Pending, Validate),
            (Pending, Cancelled),
            (Pending, Discarded),
            (Validate, ValidationError),
            (Validate, CommInProgress),
            (ValidationError, Validate),
            (ValidationError, Cancelled),
            (ValidationError, Discarded),
            (CommInProgress, ExecCompletion),
            (CommInProgress, CommError),
            (CommInProgress, Cancelled),
            (CommInProgress, Discarded),
            (CommError, Retry),
            (CommError, CommInProgress),
            (CommError, ExecCompletion),
            (CommError, Cancelled),
            (CommError, Discarded),
            (Retry, CommInProgress),
            (ExecCompletion, Completed),
            (ExecCompletion, Cancelled),
            (ExecCompletion, CompletionError),
            (CompletionError, ExecCompletion),
            (CompletionError, Cancelled),
            (CompletionError, Discarded),
        ]
    }
}

code_enum! {
    /// An outbound communication, D1-COMMOUT (§3.5, §12.3).
    OutState {
        Pending => "PENDING",
        Validate => "VALIDATE",
        ValidationError => "VALIDATION_ERROR",
        AwaitingResponse => "AWAITING_RESPONSE",
        ResponseError => "RESPONSE_ERROR",
        Completed => "COMPLETED",
        Discarded => "DISCARDED",
        Cancelled => "CANCELLED",
    }
}

impl LifecycleState for OutState {
    fn code(self) -> &'static str {
        OutState::code(self)
    }
    fn is_final(self) -> bool {
        matches!(
            self,
            OutState::Completed | OutState::Discarded | OutState::Cancelled
        )
    }
    fn edges() -> &'static [(Self, Self)] {
        use OutState::*;
        &[
            (Pending, Validate),
            (Pending, Cancelled),
            (Validate, AwaitingResponse),
            (Validate, ValidationError),
            // Emails need no response: they are complete when written (§12.13).
            (Validate, Completed),
            (ValidationError, Cancelled),
            (ValidationError, Discarded),
            (AwaitingResponse, Completed),
            (AwaitingResponse, ResponseError),
            (AwaitingResponse, Cancelled),
            (AwaitingResponse, Discarded),
            (ResponseError, AwaitingResponse),
            (ResponseError, Completed),
            (ResponseError, Cancelled),
            (ResponseError, Discarded),
        ]
    }
}

code_enum! {
    /// An inbound communication, D1-COMMIN (§3.6).
    InState {
        Pending => "PENDING",
        Validate => "VALIDATE",
        ValidationError => "VALIDATION_ERROR",
        EvaluateResponse => "EVALUATE_RESPONSE",
        Completed => "COMPLETED",
        Discarded => "DISCARDED",
    }
}

impl LifecycleState for InState {
    fn code(self) -> &'static str {
        InState::code(self)
    }
    fn is_final(self) -> bool {
        matches!(self, InState::Completed | InState::Discarded)
    }
    fn edges() -> &'static [(Self, Self)] {
        use InState::*;
        &[
            (Pending, Validate),
            (Validate, ValidationError),
            (Validate, EvaluateResponse),
            (ValidationError, Validate),
            (ValidationError, Discarded),
            (EvaluateResponse, Completed),
        ]
    }
}

code_enum! {
    /// A completion event (§3.7).
    EventState {
        Pending => "PENDING",
        Executed => "EXECUTED",
        Error => "ERROR",
        Discarded => "DISCARDED",
    }
}

impl LifecycleState for EventState {
    fn code(self) -> &'static str {
        EventState::code(self)
    }
    fn is_final(self) -> bool {
        matches!(self, EventState::Executed | EventState::Discarded)
    }
    fn edges() -> &'static [(Self, Self)] {
        use EventState::*;
        &[
            (Pending, Executed),
            (Pending, Error),
            (Error, Pending),
            (Error, Discarded),
            (Pending, Discarded),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finals_have_no_exits<S: LifecycleState>(all: &[S]) {
        for &state in all {
            if state.is_final() {
                assert!(
                    S::edges().iter().all(|&(from, _)| from != state),
                    "{} is final but has an exit",
                    state.code()
                );
            }
        }
    }

    #[test]
    fn final_states_are_final_in_every_lifecycle() {
        finals_have_no_exits(OrchState::ALL);
        finals_have_no_exits(MaintState::ALL);
        finals_have_no_exits(CommandState::ALL);
        finals_have_no_exits(FaState::ALL);
        finals_have_no_exits(OutState::ALL);
        finals_have_no_exits(InState::ALL);
        finals_have_no_exits(EventState::ALL);
    }

    #[test]
    fn illegal_parent_edges_are_rejected() {
        use OrchState::*;
        assert!(!Pending.allows(AreSpReady), "PENDING must pass VALIDATE");
        assert!(!Completed.allows(Retry));
        assert!(
            !ActivityError.allows(AreSpReady),
            "retry goes through RETRY"
        );
        assert!(!WaitEffDate.allows(InProgress));
        assert!(!ValidationError.allows(Retry));
        assert!(Retry.allows(AreSpReady));
    }

    #[test]
    fn illegal_child_edges_are_rejected() {
        assert!(!CommandState::WaitEff.allows(CommandState::CommInProgress));
        assert!(!CommandState::CommInProgress.allows(CommandState::Discarded));
        assert!(!FaState::Pending.allows(FaState::CommInProgress));
        assert!(!FaState::Completed.allows(FaState::Cancelled));
        assert!(!OutState::Completed.allows(OutState::ResponseError));
        assert!(!InState::Completed.allows(InState::Validate));
        assert!(!MaintState::Pending.allows(MaintState::CancelSpecific));
    }
}
