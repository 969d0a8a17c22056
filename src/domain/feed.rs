//! The customer activity feed's vocabulary: categories and their subtypes (`spec/domain.md`
//! §7.1), spoken by the import format, the feed rules and the desk alike.

use super::code_enum;

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
