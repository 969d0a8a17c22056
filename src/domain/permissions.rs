//! The permission matrix of §9, as the engine enforces it for every command, and the words a
//! refusal says it in.

use super::kinds::Role;

/// What an operator may ask the engine to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Import reference data and create request orchestrations.
    CreateRequest,
    /// File an Update Orchestration.
    Update,
    /// File a Cancel Orchestration or discard an orchestration.
    CancelOrDiscard,
    /// Retry an activity in an error state (or replay an inbound message).
    Retry,
    /// Correct fields of a request in VALIDATION_ERROR.
    Edit,
    /// Execute a waiting activity now.
    ExecuteNow,
    /// Run the D1-CRWTO throttle batch by hand.
    ThrottleBatch,
    /// Complete or cancel a field activity by hand.
    ManualFieldActivity,
    /// Feed messages from the external systems.
    Inbound,
    /// Run the lifecycle monitors (what the background task does).
    Monitor,
    /// Work orders: create, assign, bulk complete / cancel.
    WorkOrders,
    /// End another client's session on a server.
    EndSessions,
    /// Pause and resume deliveries to a partner system.
    Partners,
}

impl Capability {
    /// Every capability, in the order the role matrix lists them.
    pub const ALL: [Capability; 13] = [
        Capability::CreateRequest,
        Capability::Update,
        Capability::CancelOrDiscard,
        Capability::Retry,
        Capability::Edit,
        Capability::ExecuteNow,
        Capability::ThrottleBatch,
        Capability::ManualFieldActivity,
        Capability::Inbound,
        Capability::Monitor,
        Capability::WorkOrders,
        Capability::EndSessions,
        Capability::Partners,
    ];

    /// The name used in refusal messages.
    pub fn describe(self) -> &'static str {
        match self {
            Capability::CreateRequest => "create requests",
            Capability::Update => "file an Update Orchestration",
            Capability::CancelOrDiscard => "cancel or discard orchestrations",
            Capability::Retry => "retry activities",
            Capability::Edit => "correct requests in VALIDATION_ERROR",
            Capability::ExecuteNow => "execute activities now",
            Capability::ThrottleBatch => "run the throttle batch",
            Capability::ManualFieldActivity => "complete or cancel field activities by hand",
            Capability::Inbound => "feed inbound messages",
            Capability::Monitor => "run the monitors",
            Capability::WorkOrders => "work the work-order queue",
            Capability::EndSessions => "end other operators' sessions",
            Capability::Partners => "pause or resume a partner system",
        }
    }
}

/// True when `role` has `capability` (§9 matrix).
pub fn permits(role: Role, capability: Capability) -> bool {
    use Capability::*;
    match role {
        Role::Supervisor => true,
        Role::Clerk => matches!(
            capability,
            CreateRequest | Update | Edit | WorkOrders | Monitor
        ),
        Role::Support => matches!(capability, Retry | Edit | Inbound | Monitor),
    }
}

/// "a supervisor", "a supervisor or support staff": the roles that have `capability`.
pub fn roles_that_may(capability: Capability) -> String {
    let roles: Vec<&str> = Role::ALL
        .iter()
        .filter(|r| permits(**r, capability))
        .map(|r| r.person())
        .collect();
    roles.join(" or ")
}

/// Why `operator` (in `role`, `None`: not listed, so look-only) may not use `capability`, in
/// plain words naming the roles that may: "sue works in support; only a supervisor may run
/// the throttle batch".
pub fn refusal(operator: &str, role: Option<Role>, capability: Capability) -> String {
    let rule = format!(
        "only {} may {}",
        roles_that_may(capability),
        capability.describe()
    );
    match role {
        Some(role) => format!("{operator} {}; {rule}", role.works()),
        None => format!(
            "{operator} is not listed in [operators] of the configuration, so may only look; \
             {rule}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_role_that_may_act() {
        assert_eq!(
            refusal("sue", Some(Role::Support), Capability::ThrottleBatch),
            "sue works in support; only a supervisor may run the throttle batch"
        );
        assert_eq!(
            refusal("bo", Some(Role::Clerk), Capability::Retry),
            "bo works as a clerk; only a supervisor or support staff may retry activities"
        );
        let look = refusal("mallory", None, Capability::CreateRequest);
        assert!(
            look.starts_with("mallory is not listed in [operators]"),
            "{look}"
        );
        assert!(
            look.ends_with("only a clerk or a supervisor may create requests"),
            "{look}"
        );
        assert!(!look.contains('§'));
    }

    #[test]
    fn matrix_rows() {
        assert!(!permits(Role::Clerk, Capability::Retry));
        assert!(permits(Role::Support, Capability::Retry));
        assert!(!permits(Role::Support, Capability::WorkOrders));
        assert!(!permits(Role::Clerk, Capability::CancelOrDiscard));
        assert!(permits(Role::Clerk, Capability::Update));
        assert!(!permits(Role::Support, Capability::ExecuteNow));
        assert!(permits(Role::Supervisor, Capability::ManualFieldActivity));
    }
}
