//! Items of the customer activity feed (§7.1, §12.10).

use crate::domain::{code_enum, Instant};
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

code_enum! {
    /// The categories of the customer activity feed (§7.1).
    FeedCategory {
        ConversationMessage => "conversation_message",
        Email => "email",
        ServiceTask => "service_task",
        FinancialInformation => "financial_information",
        ServiceRequest => "service_request",
        CustomerInformation => "customer_information",
        ServiceOrder => "service_order",
        FieldOrder => "field_order",
        CreditAndCollection => "credit_and_collection",
        OutageCall => "outage_call",
    }
}

code_enum! {
    /// The subtypes of feed categories (§7.1); a single-subtype category repeats its own code.
    FeedSubtype {
        Call => "call",
        Chat => "chat",
        Email => "email",
        ServiceTask => "service_task",
        Bill => "bill",
        Payment => "payment",
        ServiceRequest => "service_request",
        CustomerContact => "customer_contact",
        Case => "case",
        RebateClaim => "rebate_claim",
        ServiceOrder => "service_order",
        FieldOrder => "field_order",
        CollectionProcess => "collection_process",
        SeveranceProcess => "severance_process",
        WriteOffProcess => "write_off_process",
        PayPlanOverdueProcess => "pay_plan_overdue_process",
        PaymentArrangement => "payment_arrangement",
        CutProcess => "cut_process",
        CreditRatingHistory => "credit_rating_history",
        CashOnlyHistory => "cash_only_history",
        OutageCall => "outage_call",
    }
}

impl FeedSubtype {
    /// The category this subtype belongs to.
    pub fn category(self) -> FeedCategory {
        use FeedSubtype::*;
        match self {
            Call | Chat => FeedCategory::ConversationMessage,
            Email => FeedCategory::Email,
            ServiceTask => FeedCategory::ServiceTask,
            Bill | Payment => FeedCategory::FinancialInformation,
            ServiceRequest => FeedCategory::ServiceRequest,
            CustomerContact | Case | RebateClaim => FeedCategory::CustomerInformation,
            ServiceOrder => FeedCategory::ServiceOrder,
            FieldOrder => FeedCategory::FieldOrder,
            CollectionProcess
            | SeveranceProcess
            | WriteOffProcess
            | PayPlanOverdueProcess
            | PaymentArrangement
            | CutProcess
            | CreditRatingHistory
            | CashOnlyHistory => FeedCategory::CreditAndCollection,
            OutageCall => FeedCategory::OutageCall,
        }
    }
}

impl FeedCategory {
    /// The subtypes an item of this category may have.
    pub fn subtypes(self) -> impl Iterator<Item = FeedSubtype> {
        FeedSubtype::ALL
            .iter()
            .copied()
            .filter(move |s| s.category() == self)
    }

    /// Service orders and field orders enter the feed from the engine, never from a file (§12.10).
    pub fn is_engine_made(self) -> bool {
        matches!(self, FeedCategory::ServiceOrder | FeedCategory::FieldOrder)
    }
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
