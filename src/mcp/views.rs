//! What the tools return: plans, approvals and orders shaped for the model to read.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use crate::domain::dag;
use crate::domain::ids::{ApprovalId, ItemId, OrderId, PlanId};
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{ItemKind, Offer};
use crate::domain::order::{
    ItemStatus, Order, OrderEvent, OrderItem, OrderStatus, PaymentPart, PaymentRecord,
};
use crate::domain::personal;
use crate::domain::plan::{
    PlanError, Priority, SplitPart, Title, TravelPlan, Traveller, TravellerKind,
};
use crate::domain::risk::RiskFlag;
use crate::payment_router::PaymentRoute;
use crate::planning::search::ProviderShortfall;

/// Offers found by a search.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchResults {
    /// Offers from every provider that answered, best first (flights by the design document's
    /// score, everything else cheapest first).
    pub offers: Vec<Offer>,
    /// Providers that did not answer in time or failed, and why; their offers are missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers_missing: Vec<ProviderShortfall>,
    /// How to use the results.
    pub next_step: String,
}

/// One item of a plan, with every dependency the booking order will respect.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanItemView {
    pub item_id: ItemId,
    pub priority: Priority,
    /// Declared and inferred: this item is booked only after these.
    pub depends_on: Vec<ItemId>,
    pub offer: Offer,
}

/// A traveller as tools show them: names in full, for the person to check against the passport;
/// personal details masked, as they are stored encrypted and the model needs none of them.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TravellerView {
    /// Given name as on the passport.
    pub given_name: String,
    /// Family name as on the passport.
    pub family_name: String,
    pub kind: TravellerKind,
    /// The last characters only, e.g. "•••••5678".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passport_number: Option<String>,
    /// The year only, e.g. "1990-••-••".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// The country code and last two digits, e.g. "+33 ••••••78".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The first character and the domain, e.g. "a•••@example.com".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Title>,
    /// "•" when given: kept for the airline, not shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
}

impl TravellerView {
    pub fn new(traveller: &Traveller) -> TravellerView {
        TravellerView {
            given_name: traveller.given_name.clone(),
            family_name: traveller.family_name.clone(),
            kind: traveller.kind,
            passport_number: traveller
                .passport_number
                .as_deref()
                .map(personal::mask_passport),
            date_of_birth: traveller.date_of_birth.map(personal::mask_date_of_birth),
            phone: traveller.phone.as_deref().map(personal::mask_phone),
            email: traveller.email.as_deref().map(personal::mask_email),
            title: traveller.title,
            gender: traveller.gender.map(|_| "•".to_string()),
        }
    }
}

/// A travel plan with its total, phases and approval.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanView {
    pub plan_id: PlanId,
    pub title: String,
    pub currency: Currency,
    pub total: Money,
    pub budget: Option<Money>,
    /// Personal details are masked; they are kept in full (encrypted) for the providers.
    pub travellers: Vec<TravellerView>,
    pub payment_method: String,
    /// Parts of the total paid with other methods before payment_method, which pays the rest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payment_split: Vec<SplitPart>,
    /// Cities visited, by IATA city code, in the order items reach them.
    pub destinations: Vec<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub items: Vec<PlanItemView>,
    /// Booking phases: items of one phase are booked together, after every earlier phase.
    pub phases: Vec<Vec<ItemId>>,
    pub approval: Option<ApprovalView>,
    pub next_step: String,
}

/// Where the person's approval of the plan stands.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApprovalView {
    pub approval_id: ApprovalId,
    pub plan_id: PlanId,
    pub status: ApprovalStatus,
    pub method: Option<ApprovalMethod>,
    /// The most that may be charged under this approval.
    pub amount: Money,
    pub expires_at: DateTime<Utc>,
    /// The version of the plan the approval covers.
    pub plan_digest: String,
    /// While pending: the one-time page where the person reviews the plan and answers. Give it
    /// to the person; it is theirs to open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_url: Option<String>,
    /// Risks that took this payment back to the person, with the reasons they are shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<RiskFlag>,
    /// Who will take the payment: the first choice, then the fallbacks tried in order if a
    /// provider is down before any money moved, each with its reasons; and the providers passed
    /// over, with why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_route: Option<PaymentRoute>,
    pub message: String,
}

/// A booking document: what the traveller shows.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Document {
    pub item_id: ItemId,
    pub kind: ItemKind,
    pub title: String,
    /// PNR for flights, confirmation number otherwise.
    pub confirmation: String,
    pub provider_reference: Option<String>,
}

/// One part of a split payment as the person sees it: the method masked, no provider-side ids.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PaymentPartView {
    pub provider: String,
    pub method: String,
    pub amount: Money,
}

impl PaymentPartView {
    fn new(part: &PaymentPart) -> PaymentPartView {
        PaymentPartView {
            provider: part.provider.clone(),
            method: part.method.masked(),
            amount: part.amount,
        }
    }
}

/// An order with its items, payment, documents and timeline.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderView {
    pub order_id: OrderId,
    pub plan_id: PlanId,
    pub status: OrderStatus,
    /// The status in words.
    pub status_meaning: String,
    pub currency: Currency,
    /// The amount held on the payment method.
    pub authorized: Money,
    pub captured: Money,
    pub refunded: Money,
    pub payment: Option<PaymentRecord>,
    /// With a split payment: what each method holds, in the order they are captured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payment_parts: Vec<PaymentPartView>,
    pub items: Vec<OrderItem>,
    pub documents: Vec<Document>,
    pub failure: Option<String>,
    pub timeline: Vec<OrderEvent>,
    pub next_step: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A line of `list_bookings`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderSummary {
    pub order_id: OrderId,
    pub plan_id: PlanId,
    pub status: OrderStatus,
    pub authorized: Money,
    pub captured: Money,
    pub refunded: Money,
    pub items_booked: usize,
    pub items_total: usize,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderList {
    pub orders: Vec<OrderSummary>,
}

impl PlanView {
    pub fn new(plan: &TravelPlan, approval: Option<&Approval>) -> Result<PlanView, PlanError> {
        let dependencies = dag::effective_dependencies(&plan.items);
        let dates = plan.dates();
        let digest = PlanDigest::of(plan)?;
        let current = approval.filter(|approval| approval.digest == digest);
        let next_step = match current.map(|a| a.status) {
            Some(ApprovalStatus::Approved) => "Approved: call execute_travel_plan to book and pay.",
            Some(ApprovalStatus::Pending) => {
                "Waiting for the person's approval: call confirm_travel_plan."
            }
            _ => {
                "Review the plan with the person, then call confirm_travel_plan to ask for their approval."
            }
        };
        let approval = approval.map(|approval| match current {
            Some(_) => ApprovalView::new(approval),
            None => ApprovalView::new(approval).with_message(
                "The plan changed after this approval, so it no longer applies: call confirm_travel_plan.",
            ),
        });
        Ok(PlanView {
            plan_id: plan.id.clone(),
            title: plan.title.clone(),
            currency: plan.currency,
            total: plan.total()?,
            budget: plan.budget,
            travellers: plan.travellers.iter().map(TravellerView::new).collect(),
            payment_method: plan.payment_method.as_str().to_string(),
            payment_split: plan.payment_split.clone(),
            destinations: plan
                .destinations()
                .iter()
                .map(|city| city.code.to_string())
                .collect(),
            start_date: dates.map(|(start, _)| start),
            end_date: dates.map(|(_, end)| end),
            items: plan
                .items
                .iter()
                .map(|item| PlanItemView {
                    item_id: item.id.clone(),
                    priority: item.priority,
                    depends_on: dependencies
                        .get(&item.id)
                        .map(|deps| deps.iter().cloned().collect())
                        .unwrap_or_default(),
                    offer: item.offer.clone(),
                })
                .collect(),
            phases: plan.phases()?,
            approval,
            next_step: next_step.to_string(),
        })
    }
}

impl ApprovalView {
    pub fn new(approval: &Approval) -> ApprovalView {
        let message = match (approval.status, approval.method) {
            (ApprovalStatus::Approved, Some(ApprovalMethod::AutoApproveLimit)) => format!(
                "Approved automatically: {} is within the person's auto-approve limit. Call execute_travel_plan.",
                approval.amount_cap
            ),
            (ApprovalStatus::Approved, _) => {
                format!(
                    "The person approved paying up to {}. Call execute_travel_plan.",
                    approval.amount_cap
                )
            }
            (ApprovalStatus::Declined, _) => {
                "The person declined. Ask what to change, update the plan, and confirm again."
                    .to_string()
            }
            (ApprovalStatus::Pending, _) => "Waiting for the person to approve.".to_string(),
        };
        ApprovalView {
            approval_id: approval.id.clone(),
            plan_id: approval.plan_id.clone(),
            status: approval.status,
            method: approval.method,
            amount: approval.amount_cap,
            expires_at: approval.expires_at,
            plan_digest: approval.digest.0.clone(),
            approval_url: None,
            risks: Vec::new(),
            payment_route: None,
            message,
        }
    }

    pub fn with_page(mut self, url: String) -> ApprovalView {
        self.approval_url = Some(url);
        self
    }

    pub fn with_risks(mut self, risks: &[RiskFlag]) -> ApprovalView {
        self.risks = risks.to_vec();
        self
    }

    pub fn with_route(mut self, route: &PaymentRoute) -> ApprovalView {
        self.payment_route = Some(route.clone());
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> ApprovalView {
        self.message = message.into();
        self
    }
}

fn status_meaning(order: &Order) -> String {
    match order.status {
        OrderStatus::Draft => "Created; nothing has happened yet.".into(),
        OrderStatus::PaymentPending => "Placing the payment hold.".into(),
        OrderStatus::PaymentActionRequired if order.payment_due_by.is_some() => format!(
            "The items are booked and wait to be paid: the person pays by {} or the bookings are cancelled.",
            order.payment_due_by.map(|due| due.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
        ),
        OrderStatus::PaymentActionRequired => {
            "The bank wants the person to authenticate the payment (3-D Secure).".into()
        }
        OrderStatus::PaymentProcessing if order.payment_due_by.is_some() => {
            "Items are booked; the payment is being taken.".into()
        }
        OrderStatus::PaymentProcessing => {
            "The hold is placed (or, with a provider that charges after booking, none is needed); items are being booked.".into()
        }
        OrderStatus::Confirmed => "Every item is booked and paid.".into(),
        OrderStatus::PartiallyConfirmed => {
            "Every must-have item is booked and paid; some other items are not booked and were not charged.".into()
        }
        OrderStatus::Cancelled => "Cancelled; nothing was refunded.".into(),
        OrderStatus::Failed if !order.refunded.is_zero() => format!(
            "Failed: nothing is booked; the {} the customer paid was refunded.",
            order.refunded
        ),
        OrderStatus::Failed => "Failed: nothing is booked and nothing was charged.".into(),
        OrderStatus::RefundRequested => "Items are being cancelled and refunded.".into(),
        OrderStatus::Refunded => format!("Cancelled and refunded {}.", order.refunded),
    }
}

fn next_step(order: &Order) -> String {
    match order.status {
        OrderStatus::PaymentActionRequired => format!(
            "Give the person this link to pay or authenticate the payment: {}. When they are done, call execute_travel_plan again with the same plan to continue.",
            order.payment.as_ref().and_then(|p| p.action_url.as_deref()).unwrap_or("(no link)")
        ),
        OrderStatus::Confirmed | OrderStatus::PartiallyConfirmed => {
            "Share the documents with the person. cancel_booking cancels the whole order or chosen items under their policies.".into()
        }
        OrderStatus::Failed => "Explain the failure to the person. After changing the plan (update_travel_plan), confirm and execute again.".into(),
        OrderStatus::RefundRequested => "A refund is pending: call cancel_booking again to retry it.".into(),
        OrderStatus::Draft | OrderStatus::PaymentPending | OrderStatus::PaymentProcessing => {
            "The order is in progress: call get_booking_status to follow it.".into()
        }
        OrderStatus::Cancelled | OrderStatus::Refunded => "Nothing left to do.".into(),
    }
}

impl OrderView {
    pub fn new(order: Order, timeline: Vec<OrderEvent>) -> OrderView {
        let documents = order
            .items
            .iter()
            .filter(|item| item.status == ItemStatus::Booked)
            .filter_map(|item| {
                item.confirmation.as_ref().map(|confirmation| Document {
                    item_id: item.item_id.clone(),
                    kind: item.kind,
                    title: item.title.clone(),
                    confirmation: confirmation.clone(),
                    provider_reference: item.reference.clone(),
                })
            })
            .collect();
        OrderView {
            status_meaning: status_meaning(&order),
            next_step: next_step(&order),
            order_id: order.id,
            plan_id: order.plan_id,
            status: order.status,
            currency: order.currency,
            authorized: order.authorized,
            captured: order.captured,
            refunded: order.refunded,
            payment: order.payment,
            payment_parts: order
                .payment_parts
                .iter()
                .map(PaymentPartView::new)
                .collect(),
            items: order.items,
            documents,
            failure: order.failure,
            timeline,
            created_at: order.created_at,
            updated_at: order.updated_at,
        }
    }
}

impl OrderSummary {
    pub fn new(order: &Order) -> OrderSummary {
        OrderSummary {
            order_id: order.id.clone(),
            plan_id: order.plan_id.clone(),
            status: order.status,
            authorized: order.authorized,
            captured: order.captured,
            refunded: order.refunded,
            items_booked: order
                .items
                .iter()
                .filter(|i| i.status == ItemStatus::Booked)
                .count(),
            items_total: order.items.len(),
            created_at: order.created_at,
        }
    }
}
