//! Items of the customer activity feed (§7.1, §12.10).

use crate::domain::{FeedCategory, FeedSubtype, Instant};
use crate::formats::{wire, Problem};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An item of the customer activity feed (§7.1).
///
/// In a file, `subtype` may be left out for a category with a single subtype;
/// [`parse_import`](super::parse_import) fills it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedItemRecord {
    /// The item id, if the source system has one.
    #[serde(default)]
    pub id: Option<String>,
    /// The customer id.
    pub customer: String,
    /// The billing account; `None` for contact-level items.
    #[serde(default)]
    pub account: Option<String>,
    /// The category.
    pub category: FeedCategory,
    /// The subtype, one of the category's.
    pub subtype: FeedSubtype,
    /// When it happened.
    #[serde(deserialize_with = "wire::instant")]
    pub at: Instant,
    /// The one-line summary shown in the list.
    pub summary: String,
    /// Free-form detail fields shown in the detail pane.
    #[serde(default)]
    pub details: Map<String, Value>,
}

/// A feed item, with its subtype filled in or checked against its category.
pub(super) fn feed_item(mut body: Map<String, Value>) -> Result<FeedItemRecord, Problem> {
    if !body.contains_key("subtype") {
        if let Some(only) = sole_subtype(&body) {
            body.insert("subtype".into(), Value::String(only.code().into()));
        }
    }
    let item: FeedItemRecord = wire::from_body(body)?;
    if item.category.is_engine_made() {
        return Err(Problem::field(
            "category",
            format!(
                "{} items cannot be imported: the engine adds them to the feed itself",
                item.category
            ),
        ));
    }
    if item.subtype.category() != item.category {
        return Err(Problem::field(
            "subtype",
            format!(
                "`{}` is not a subtype of {}, expected one of {}",
                item.subtype,
                item.category,
                wire::one_of(item.category.subtypes())
            ),
        ));
    }
    Ok(item)
}

/// The subtype a body's category implies, when the category has just one.
fn sole_subtype(body: &Map<String, Value>) -> Option<FeedSubtype> {
    let code = body.get("category")?.as_str()?;
    let category = FeedCategory::ALL.iter().find(|c| c.code() == code)?;
    let mut subtypes = category.subtypes();
    match (subtypes.next(), subtypes.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}
