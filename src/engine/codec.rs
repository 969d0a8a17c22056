//! Stored values: one schema-version byte, then JSON. JSON keeps a database readable with
//! ordinary tools; the version byte lets a later build migrate or refuse old values.

use super::EngineError;
use crate::store::{StoreError, TreeId};

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
