//! Stored values: one schema-version byte, then JSON. JSON keeps a database readable with
//! ordinary tools; the version byte lets a later build migrate or refuse old values. The record
//! readers are here too, so every engine module reads records the same way without depending
//! on the queries.

use super::EngineError;
use crate::domain::{Activity, Communication, Seq};
use crate::store::{seq_key, Store, StoreError, TreeId};

/// The value format this build writes.
pub const VALUE_VERSION: u8 = 1;

/// Encodes a record.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, EngineError> {
    let mut bytes = vec![VALUE_VERSION];
    serde_json::to_writer(&mut bytes, value)
        .map_err(|e| EngineError::Corrupt(format!("cannot encode a record: {e}")))?;
    Ok(bytes)
}

/// Decodes a record read from `tree` at `key`.
pub fn decode<T: serde::de::DeserializeOwned>(
    tree: TreeId,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, EngineError> {
    let corrupt = |message: String| {
        EngineError::Store(StoreError::Corrupt {
            tree: tree.name(),
            key: String::from_utf8_lossy(key).into_owned(),
            message,
        })
    };
    match bytes.split_first() {
        Some((&VALUE_VERSION, rest)) => {
            serde_json::from_slice(rest).map_err(|e| corrupt(e.to_string()))
        }
        Some((version, _)) => Err(corrupt(format!(
            "value version {version} is not one this build reads ({VALUE_VERSION})"
        ))),
        None => Err(corrupt("empty value".into())),
    }
}

/// Reads an activity record an index points to.
pub(crate) fn read_activity(store: &dyn Store, seq: Seq) -> Result<Activity, EngineError> {
    read_indexed(store, TreeId::Activities, seq, "activity")
}

/// Reads a communication record an index points to.
pub(crate) fn read_comm(store: &dyn Store, seq: Seq) -> Result<Communication, EngineError> {
    read_indexed(store, TreeId::Comms, seq, "communication")
}

/// Reads the record `seq` of `tree` that an index points to; a missing one is corruption.
fn read_indexed<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    tree: TreeId,
    seq: Seq,
    what: &str,
) -> Result<T, EngineError> {
    let key = seq_key(seq);
    let bytes = store
        .get(tree, &key)?
        .ok_or_else(|| EngineError::Corrupt(format!("{what} #{seq} is indexed but missing")))?;
    decode(tree, &key, &bytes)
}
