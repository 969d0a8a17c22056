//! Big-endian key encoding, so that byte order is the order the indexes need.

use crate::domain::{Instant, Seq};

/// The smallest key greater than every key starting with `prefix` (`None`: no such key).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The 8-byte big-endian key of a sequence number.
pub fn seq_key(seq: Seq) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Decodes the trailing 8 bytes of a key as a sequence number.
pub fn seq_from_key_tail(key: &[u8]) -> Option<Seq> {
    let start = key.len().checked_sub(8)?;
    let bytes: [u8; 8] = key[start..].try_into().ok()?;
    Some(Seq::from_be_bytes(bytes))
}

/// An instant as 8 order-preserving bytes (seconds since the epoch, sign bit flipped).
pub fn time_bytes(t: Instant) -> [u8; 8] {
    ((t.timestamp() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Decodes [`time_bytes`].
pub fn time_from_bytes(bytes: &[u8]) -> Option<Instant> {
    let raw: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let secs = (u64::from_be_bytes(raw) ^ (1 << 63)) as i64;
    chrono::DateTime::from_timestamp(secs, 0)
}

/// A key made of a text part, a zero separator and a sequence number.
pub fn text_seq_key(text: &str, seq: Seq) -> Vec<u8> {
    let mut key = Vec::with_capacity(text.len() + 9);
    key.extend_from_slice(text.as_bytes());
    key.push(0);
    key.extend_from_slice(&seq_key(seq));
    key
}

/// The prefix of every [`text_seq_key`] with this text.
pub fn text_prefix(text: &str) -> Vec<u8> {
    let mut key = text.as_bytes().to_vec();
    key.push(0);
    key
}

/// A key made of a time and a sequence number.
pub fn time_seq_key(t: Instant, seq: Seq) -> Vec<u8> {
    let mut key = Vec::with_capacity(16);
    key.extend_from_slice(&time_bytes(t));
    key.extend_from_slice(&seq_key(seq));
    key
}

/// A key made of two sequence numbers (parent, child).
pub fn pair_key(a: Seq, b: Seq) -> Vec<u8> {
    let mut key = Vec::with_capacity(16);
    key.extend_from_slice(&seq_key(a));
    key.extend_from_slice(&seq_key(b));
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_keys_sort_like_times() {
        let a = chrono::Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap();
        let b = chrono::Utc.with_ymd_and_hms(2025, 6, 10, 9, 0, 0).unwrap();
        let c = chrono::Utc.with_ymd_and_hms(2025, 6, 10, 9, 1, 0).unwrap();
        assert!(time_bytes(a) < time_bytes(b));
        assert!(time_bytes(b) < time_bytes(c));
        assert_eq!(time_from_bytes(&time_bytes(a)), Some(a));
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_end(&[255, 255]), None);
    }

    #[test]
    fn text_seq_keys_group_by_text() {
        assert!(text_seq_key("A", u64::MAX) < text_seq_key("AB", 0));
        assert!(text_seq_key("A", 1) < text_seq_key("A", 2));
        assert_eq!(seq_from_key_tail(&text_seq_key("X", 42)), Some(42));
    }
}
