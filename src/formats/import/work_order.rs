//! Work orders for the open queue (§6, §12.10).

pub use crate::domain::{WoKind, WoOrigin, WoStatus};
use crate::formats::wire;
use chrono::NaiveDate;
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};

/// A work order for the open queue (§6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderRecord {
    /// The work-order id; the engine assigns one when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// What the work order is for.
    pub wo_kind: WoKind,
    /// The customer id.
    pub customer: String,
    /// The billing account id.
    #[serde(default)]
    pub account: Option<String>,
    /// The site (service point) id.
    pub site: String,
    /// What created it.
    pub origin: WoOrigin,
    /// Its status, in any case on input.
    #[serde(deserialize_with = "wo_status_any_case")]
    pub status: WoStatus,
    /// The date the customer asked for.
    #[serde(default, deserialize_with = "wire::optional_date")]
    pub preferred_date: Option<NaiveDate>,
}

/// A work-order status in any case (`completed`, `Completed`, `COMPLETED`).
pub(in crate::formats) fn wo_status_any_case<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<WoStatus, D::Error> {
    let text = String::deserialize(d)?;
    WoStatus::parse(&text).ok_or_else(|| {
        D::Error::custom(format!(
            "unknown status `{text}`, expected one of {}",
            wire::one_of(WoStatus::ALL)
        ))
    })
}
