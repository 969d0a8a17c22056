//! Who acts: the operating system says, not a flag.
//!
//! Embedded, the operator is the process's real user (the real uid, not `$USER`); on a
//! server's Unix socket, the peer's user from its credentials. `--operator` names someone else
//! only for accounts that `[access] act_for_others` lists; otherwise it is refused, so nobody
//! can call themselves a supervisor. The audit records the operator, the verified account when
//! the two differ, and the channel.

use crate::config::Config;
use crate::engine::{Actor, EngineError};

/// The name of the user with `uid`, or `uid N` when the system has no name for it.
pub fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => format!("uid {uid}"),
    }
}

/// The name of this process's real user.
pub fn real_user() -> String {
    user_name(nix::unistd::getuid().as_raw())
}

/// The actor for `account` (verified by the system) arriving through `channel`, acting as
/// `asked` when given and allowed.
pub fn actor_for(
    config: &Config,
    account: &str,
    asked: Option<&str>,
    read_only: bool,
    channel: &str,
) -> Result<Actor, EngineError> {
    let operator = match asked {
        Some(name) if name != account => {
            if !config.access.may_act_for_others(account) {
                return Err(EngineError::refused(
                    "PERMISSION_DENIED",
                    format!(
                        "{account} may not act as {name}: only the accounts listed in \
                         act_for_others of [access] in the configuration may name another \
                         operator; leave out --operator to act as {account}"
                    ),
                ));
            }
            name
        }
        _ => account,
    };
    let mut actor = Actor::from_config(config, operator, read_only).via(channel);
    if operator != account {
        actor.account = Some(account.to_string());
    }
    Ok(actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        crate::config::parse(text, "test.toml").expect("config")
    }

    #[test]
    fn an_account_acts_as_itself() {
        let c = config("[operators]\nbo = \"clerk\"\n");
        let actor = actor_for(&c, "bo", None, false, "cli").expect("actor");
        assert_eq!(actor.operator, "bo");
        assert_eq!(actor.account, None);
        assert_eq!(actor.channel.as_deref(), Some("cli"));
        assert_eq!(actor.role, Some(crate::domain::Role::Clerk));
        // Naming oneself is not acting for another.
        assert!(actor_for(&c, "bo", Some("bo"), false, "cli").is_ok());
    }

    #[test]
    fn naming_another_operator_needs_act_for_others() {
        let c = config("[operators]\nada = \"supervisor\"\nbo = \"clerk\"\n");
        let err = actor_for(&c, "bo", Some("ada"), false, "cli").expect_err("refused");
        assert_eq!(err.code(), "PERMISSION_DENIED");
        assert!(err.to_string().contains("bo may not act as ada"), "{err}");

        let c = config("[operators]\nada = \"supervisor\"\n[access]\nact_for_others = [\"svc\"]\n");
        let actor = actor_for(&c, "svc", Some("ada"), false, "api").expect("allowed");
        assert_eq!(actor.operator, "ada");
        assert_eq!(actor.account.as_deref(), Some("svc"));
        assert!(actor_for(&c, "bo", Some("ada"), false, "api").is_err());
    }

    #[test]
    fn an_unlisted_account_may_only_look() {
        let c = config("[operators]\nada = \"supervisor\"\n");
        let actor = actor_for(&c, "mallory", None, false, "desk").expect("actor");
        assert_eq!(actor.role, None);
    }
}
