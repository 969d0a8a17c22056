//! The fields a requester supplies with an orchestration request (§1.3).

use super::kinds::Instant;
use serde::{Deserialize, Serialize};

/// Who asked, so that acknowledgement, success and failure can be sent back (§1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestInfo {
    /// The requesting system (`CCB`).
    #[serde(default)]
    pub requester: String,
    /// The external system name.
    #[serde(default)]
    pub external_system: String,
    /// The requester's own id for this request.
    #[serde(default)]
    pub external_id: String,
}

/// Arrears data a Cut for Non-Payment needs (§1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionData {
    /// The past-due amount, a decimal string; it must be greater than zero.
    #[serde(default)]
    pub past_due_amount: Option<String>,
    /// ISO currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// The collection case reference.
    #[serde(default)]
    pub collection_ref: Option<String>,
    /// When the arrears fell due.
    #[serde(default)]
    pub due_date: Option<String>,
}

impl CollectionData {
    /// True when the past-due amount parses as a decimal greater than zero.
    pub fn has_positive_amount(&self) -> bool {
        self.past_due_amount
            .as_deref()
            .is_some_and(decimal_is_positive)
    }
}

/// True when `text` is a plain decimal number (`120.50`) greater than zero.
pub fn decimal_is_positive(text: &str) -> bool {
    let text = text.trim();
    let digits = text.strip_prefix('+').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    let well_formed = !(whole.is_empty() && frac.is_empty())
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit());
    well_formed && whole.chars().chain(frac.chars()).any(|c| c != '0')
}

/// A contact person for the field crew.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
}

/// A device identity as carried by a request or a field completion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// The device id.
    pub id: String,
    /// Its badge.
    #[serde(default)]
    pub badge: String,
    /// Smart (AMI) or manual.
    #[serde(default)]
    pub smart: bool,
    /// Already registered with the head-end.
    #[serde(default)]
    pub commissioned: bool,
    /// Accepted and ignored: the field task decides the switch (§12.13).
    #[serde(default)]
    pub switch: Option<String>,
}

/// When a request asked for its work to happen, if not at once.
pub type Effective = Option<Instant>;

#[cfg(test)]
mod tests {
    use super::decimal_is_positive;

    #[test]
    fn positive_decimals() {
        assert!(decimal_is_positive("120.50"));
        assert!(decimal_is_positive("0.01"));
        assert!(!decimal_is_positive("0"));
        assert!(!decimal_is_positive("0.00"));
        assert!(!decimal_is_positive("-5"));
        assert!(!decimal_is_positive("abc"));
        assert!(!decimal_is_positive(""));
    }
}
