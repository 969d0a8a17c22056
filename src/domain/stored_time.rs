//! Instants in records: RFC 3339 text where a person or another system reads them (JSON), a
//! count of nanoseconds since 1970 (at most nine bytes) where only orderdesk does (the
//! store's compact encoding). Both forms are read back whatever the format says of itself:
//! serde's buffering of tagged enums does not pass on whether a format is human-readable.

use super::Instant;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::ser::{self, Serialize, Serializer};

/// Writes `t` as text for a human-readable format, else as nanoseconds.
pub fn serialize<S: Serializer>(t: &Instant, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        return t.serialize(s);
    }
    let nanos = t
        .timestamp_nanos_opt()
        .ok_or_else(|| ser::Error::custom(format!("{t} is outside the years 1677 to 2262")))?;
    s.serialize_i64(nanos)
}

/// Reads an instant written as text or as nanoseconds.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
    d.deserialize_any(InstantVisitor)
}

struct InstantVisitor;

impl Visitor<'_> for InstantVisitor {
    type Value = Instant;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 time or nanoseconds since 1970")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Instant, E> {
        text.parse::<DateTime<FixedOffset>>()
            .map(|t| t.to_utc())
            .map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, nanos: i64) -> Result<Instant, E> {
        Ok(Utc.timestamp_nanos(nanos))
    }

    fn visit_u64<E: de::Error>(self, nanos: u64) -> Result<Instant, E> {
        i64::try_from(nanos)
            .map(|n| Utc.timestamp_nanos(n))
            .map_err(|_| E::custom(format!("{nanos} ns is past the year 2262")))
    }
}

/// The same for an optional instant (`#[serde(default, with = "…::option")]`).
pub mod option {
    use super::*;
    use serde::Deserialize;

    struct Stored(Instant);

    impl Serialize for Stored {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(&self.0, s)
        }
    }

    impl<'de> Deserialize<'de> for Stored {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::deserialize(d).map(Stored)
        }
    }

    /// Writes `Some` as [`super::serialize`] does, `None` as the format's null.
    pub fn serialize<S: Serializer>(t: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&Stored(*t)),
            None => s.serialize_none(),
        }
    }

    /// Reads an optional instant in either form.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Instant>, D::Error> {
        Ok(Option::<Stored>::deserialize(d)?.map(|s| s.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Record {
        #[serde(with = "super")]
        at: Instant,
        #[serde(default, with = "super::option")]
        due: Option<Instant>,
    }

    #[test]
    fn json_keeps_text_and_the_compact_encoding_keeps_nanoseconds() {
        let at = Utc.timestamp_nanos(1_733_251_511_123_456_789);
        let record = Record { at, due: Some(at) };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"at":"2024-12-03T18:45:11.123456789Z","due":"2024-12-03T18:45:11.123456789Z"}"#
        );
        let packed = rmp_serde::to_vec_named(&record).unwrap();
        assert!(packed.len() < json.len() / 2, "{} bytes", packed.len());
        assert_eq!(rmp_serde::from_slice::<Record>(&packed).unwrap(), record);
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
        // A missing optional instant is none, in either form.
        let bare: Record = serde_json::from_str(r#"{"at":"2024-12-03T18:45:11Z"}"#).unwrap();
        assert_eq!(bare.due, None);
    }
}
