//! Stored values: one value-version byte, then the record. Version 2 (written) is MessagePack
//! with field names: self-describing like JSON (the records' tagged enums, flattened and free
//! JSON fields need that), about half the size, times as eight-byte counts (see
//! `domain::stored_time`). Version 1 (JSON) is still read: a database being migrated, and
//! values written before. The record readers are here too, so every engine module reads
//! records the same way without depending on the queries.

use super::EngineError;
use crate::domain::{Activity, Communication, Seq};
use crate::store::{seq_key, Store, StoreError, TreeId};

/// The value format this build writes.
pub const VALUE_VERSION: u8 = 2;

/// The JSON values of the first layout.
pub const JSON_VALUE: u8 = 1;

/// Encodes a record.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, EngineError> {
    let mut bytes = vec![VALUE_VERSION];
    value
        .serialize(&mut rmp_serde::Serializer::new(&mut bytes).with_struct_map())
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
            rmp_serde::from_slice(rest).map_err(|e| corrupt(e.to_string()))
        }
        Some((&JSON_VALUE, rest)) => {
            serde_json::from_slice(rest).map_err(|e| corrupt(e.to_string()))
        }
        Some((version, _)) => Err(corrupt(format!(
            "value version {version} is not one this build reads ({JSON_VALUE} or {VALUE_VERSION})"
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
pub(crate) fn read_indexed<T: serde::de::DeserializeOwned>(
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
