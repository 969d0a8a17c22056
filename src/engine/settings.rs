//! The configuration a database runs under.
//!
//! Roles live in the configuration's `[operators]` table, and a configuration without one makes
//! everyone a supervisor (a one-person desk). So that leaving out `--config` can never turn a
//! team's database into a one-person desk, the database keeps the configuration it was last
//! given that names operators: its whole text and the SHA-256 of that text, in the meta tree.
//!
//! - A run without `--config` on such a database runs under the stored configuration.
//! - A run with a configuration that names operators runs under it; when its text differs from
//!   the stored one it is stored in its place, and the change is audited.
//! - A run with a configuration without `[operators]` on such a database is refused.
//! - A database never given operators behaves as before: the configuration given, else the
//!   defaults, and everyone is a supervisor.

use super::codec::{decode, encode};
use super::{Actor, Engine, EngineError};
use crate::config::{self, Config};
use crate::domain::{AuditOutcome, Instant};
use crate::store::{Store, TreeId};
use serde::{Deserialize, Serialize};

/// The meta key of the stored configuration.
const CONFIG_KEY: &[u8] = b"config";

/// A configuration as the database keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredConfig {
    /// The text as written.
    text: String,
    /// `sha256:<hex>` of the text: which configuration, without quoting it.
    sha256: String,
    /// Where it was read from, as given.
    source: String,
}

/// Which configuration a run uses, and what the database must record about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChoice {
    /// The configuration given (or the defaults); nothing to record.
    Given,
    /// The configuration stored in the database: no `--config` was given.
    Stored {
        /// Where the stored configuration was first read from.
        source: String,
        /// `sha256:<hex>` of its text.
        sha256: String,
    },
    /// The configuration given names operators and is new to the database: record it.
    Record {
        /// Where it was read from.
        source: String,
        /// `sha256:<hex>` of its text.
        sha256: String,
        /// The hash of the configuration it replaces, when there was one.
        replaces: Option<String>,
    },
}

impl ConfigChoice {
    /// One line for the log: which configuration runs and why.
    pub fn describe(&self) -> String {
        match self {
            ConfigChoice::Given => "running under the configuration given".into(),
            ConfigChoice::Stored { source, sha256 } => format!(
                "running under the configuration stored in the database (first read from \
                 {source}, {sha256}); pass --config to replace it"
            ),
            ConfigChoice::Record {
                source,
                sha256,
                replaces: Some(old),
            } => format!("running under {source} ({sha256}); it replaces the stored {old}"),
            ConfigChoice::Record { source, sha256, .. } => {
                format!("running under {source} ({sha256}); stored in the database")
            }
        }
    }
}

/// `sha256:<hex>` of a configuration's text.
fn fingerprint(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn stored(store: &dyn Store) -> Result<Option<StoredConfig>, EngineError> {
    match store.get(TreeId::Meta, CONFIG_KEY)? {
        Some(bytes) => Ok(Some(decode(TreeId::Meta, CONFIG_KEY, &bytes)?)),
        None => Ok(None),
    }
}

/// The configuration a run on `store` uses: `given` (read from `source`) when `explicit`
/// (`--config`), else the stored one when there is one, else `given` (the platform's file or
/// the defaults). Refuses a configuration without `[operators]` for a database whose stored
/// configuration names them.
pub fn settle_config(
    store: &dyn Store,
    given: Config,
    source: &str,
    explicit: bool,
) -> Result<(Config, ConfigChoice), EngineError> {
    let kept = stored(store)?;
    match kept {
        Some(kept) if !explicit => {
            let origin = format!(
                "the configuration stored in the database (from {})",
                kept.source
            );
            let config = config::parse(&kept.text, &origin)
                .map_err(|e| EngineError::Corrupt(format!("{e}; pass --config to replace it")))?;
            let choice = ConfigChoice::Stored {
                source: kept.source,
                sha256: kept.sha256,
            };
            Ok((config, choice))
        }
        kept if given.operators.is_some() => {
            let sha256 = fingerprint(&given.text.0);
            let choice = match kept {
                Some(kept) if kept.sha256 == sha256 => ConfigChoice::Given,
                kept => ConfigChoice::Record {
                    source: source.to_string(),
                    sha256,
                    replaces: kept.map(|k| k.sha256),
                },
            };
            Ok((given, choice))
        }
        Some(kept) => Err(EngineError::BadInput(format!(
            "{source} has no [operators] table, but this database runs under a configuration \
             that names its operators (from {}): add the [operators] table to {source}, or \
             leave out --config to run under the stored configuration",
            kept.source
        ))),
        None => Ok((given, ConfigChoice::Given)),
    }
}

impl Engine {
    /// Stores the configuration this engine runs under when `choice` says it is new, with an
    /// audit line (`config`) naming the configuration it replaces; nothing otherwise, and
    /// nothing for a read-only actor (`--read-only` changes nothing, this included).
    pub fn adopt_config(
        &mut self,
        actor: &Actor,
        now: Instant,
        choice: &ConfigChoice,
    ) -> Result<(), EngineError> {
        let ConfigChoice::Record {
            source,
            sha256,
            replaces,
        } = choice
        else {
            return Ok(());
        };
        if actor.read_only {
            return Ok(());
        }
        let kept = StoredConfig {
            text: self.config.text.0.clone(),
            sha256: sha256.clone(),
            source: source.clone(),
        };
        let detail = match replaces {
            Some(old) => format!("{source} ({sha256}) replaces {old}"),
            None => format!("{source} ({sha256}) stored"),
        };
        let mut tx = super::Tx::begin(self.store.as_ref(), now)?;
        tx.put_meta(CONFIG_KEY.to_vec(), Some(encode(&kept)?));
        tx.audit(self.audit_entry(actor, now, "config", &[], AuditOutcome::Done, Some(detail)));
        tx.commit()?;
        self.store.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::store::MemStore;

    const TEAM: &str = "[operators]\nada = \"supervisor\"\nbo = \"clerk\"\n";

    fn parsed(text: &str) -> Config {
        config::parse(text, "team.toml").expect("config")
    }

    fn at() -> Instant {
        chrono::DateTime::from_timestamp(1_750_000_000, 0).expect("instant")
    }

    #[test]
    fn a_team_configuration_is_kept_and_used_without_config() {
        // Given a database first run under a configuration naming bo as a clerk,
        let mut engine = Engine::new(Box::new(MemStore::new()), Config::default());
        let (config, choice) =
            settle_config(engine.store(), parsed(TEAM), "team.toml", true).expect("settle");
        assert!(matches!(
            choice,
            ConfigChoice::Record { replaces: None, .. }
        ));
        engine.config = std::sync::Arc::new(config);
        engine
            .adopt_config(&Actor::system(), at(), &choice)
            .expect("adopt");
        // when a later run gives no configuration,
        let (config, choice) =
            settle_config(engine.store(), Config::default(), "defaults", false).expect("settle");
        // then it runs under the stored one, and bo is still a clerk.
        assert!(matches!(choice, ConfigChoice::Stored { .. }), "{choice:?}");
        assert_eq!(config.access_for("bo").role, Some(Role::Clerk));
        // The same file again records nothing; a configuration without operators is refused.
        let (_, same) =
            settle_config(engine.store(), parsed(TEAM), "team.toml", true).expect("same");
        assert_eq!(same, ConfigChoice::Given);
        let err =
            settle_config(engine.store(), parsed(""), "solo.toml", true).expect_err("refused");
        assert!(
            err.to_string().contains("has no [operators] table"),
            "{err}"
        );
        // A different team configuration replaces it, and the change is audited.
        let other = parsed("[operators]\nbo = \"supervisor\"\n");
        let (config, choice) =
            settle_config(engine.store(), other, "other.toml", true).expect("other");
        assert!(matches!(
            choice,
            ConfigChoice::Record {
                replaces: Some(_),
                ..
            }
        ));
        engine.config = std::sync::Arc::new(config);
        engine
            .adopt_config(&Actor::system(), at(), &choice)
            .expect("adopt");
        let audit = engine.audit(None, 10).expect("audit");
        assert_eq!(audit.len(), 2);
        assert!(audit.iter().all(|e| e.action == "config"));
        let replaced =
            |e: &crate::domain::AuditEntry| e.detail.as_deref().unwrap_or("").contains("replaces");
        assert!(audit.iter().any(replaced), "{audit:?}");
        let (config, _) =
            settle_config(engine.store(), Config::default(), "defaults", false).expect("settle");
        assert_eq!(config.access_for("bo").role, Some(Role::Supervisor));
    }

    #[test]
    fn a_database_never_given_operators_stays_a_one_person_desk() {
        let store = MemStore::new();
        let (config, choice) =
            settle_config(&store, Config::default(), "defaults", false).expect("settle");
        assert_eq!(choice, ConfigChoice::Given);
        assert_eq!(config.access_for("anyone").role, Some(Role::Supervisor));
        assert!(stored(&store).expect("read").is_none());
    }
}
