//! Orders: one execution of an approved plan, its items' fates and the money that moved.
//!
//! The order state machine is the design document's, plus `payment_action_required` for payments
//! that wait on the customer (3-D Secure). Every transition outside the table is refused, so a bug
//! elsewhere cannot, say, confirm a failed order.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ids::{ApprovalId, ItemId, OfferId, OrderId, OwnerId, PaymentMethodToken, PlanId};
use super::money::{Currency, Money};
use super::offer::{CancellationPolicy, ItemKind};
use super::plan::{PlanItem, Priority};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created; nothing has moved yet.
    Draft,
    /// About to place the payment hold.
    PaymentPending,
    /// The payment provider waits for the customer (e.g. 3-D Secure) at `payment.action_url`;
    /// with a provider that charges after booking, the items are booked and wait to be paid.
    PaymentActionRequired,
    /// The hold is placed (or, with a provider that charges after booking, none is needed);
    /// items are being booked.
    PaymentProcessing,
    /// Every item booked and the full amount captured.
    Confirmed,
    /// Every must-have booked; some preferred or optional items failed and were not charged.
    PartiallyConfirmed,
    /// Cancelled; nothing was refunded (the policies gave nothing back, or nothing was charged).
    Cancelled,
    /// Nothing booked and nothing charged (any hold was voided).
    Failed,
    /// Items are being cancelled and what their policies give back refunded.
    RefundRequested,
    /// Every item cancelled and the refund issued.
    Refunded,
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct TransitionError {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    /// The allowed next states.
    pub fn successors(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Draft => &[PaymentPending, Cancelled],
            PaymentPending => &[PaymentProcessing, PaymentActionRequired, Failed],
            // A charge-after-booking provider asks the customer to pay once everything is booked,
            // and the order is settled when they have.
            PaymentActionRequired => &[
                PaymentProcessing,
                Confirmed,
                PartiallyConfirmed,
                Failed,
                Cancelled,
            ],
            PaymentProcessing => &[Confirmed, PartiallyConfirmed, PaymentActionRequired, Failed],
            Confirmed | PartiallyConfirmed => &[RefundRequested, Cancelled],
            RefundRequested => &[Refunded, PartiallyConfirmed, Cancelled],
            Cancelled | Failed | Refunded => &[],
        }
    }

    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, TransitionError> {
        if self.successors().contains(&to) {
            Ok(to)
        } else {
            Err(TransitionError { from: self, to })
        }
    }

    /// The statuses of an order whose saga has not settled (a call unanswered, money or the
    /// customer's 3-D Secure awaited): what recovery resumes.
    pub const UNSETTLED: [OrderStatus; 5] = [
        OrderStatus::Draft,
        OrderStatus::PaymentPending,
        OrderStatus::PaymentActionRequired,
        OrderStatus::PaymentProcessing,
        OrderStatus::RefundRequested,
    ];

    /// Whether the saga has settled (see `UNSETTLED`).
    pub fn is_settled(self) -> bool {
        !Self::UNSETTLED.contains(&self)
    }

    /// No further change will happen without a new request.
    pub fn is_terminal(self) -> bool {
        self.successors().is_empty()
    }

    pub fn as_str(self) -> &'static str {
        use OrderStatus::*;
        match self {
            Draft => "draft",
            PaymentPending => "payment_pending",
            PaymentActionRequired => "payment_action_required",
            PaymentProcessing => "payment_processing",
            Confirmed => "confirmed",
            PartiallyConfirmed => "partially_confirmed",
            Cancelled => "cancelled",
            Failed => "failed",
            RefundRequested => "refund_requested",
            Refunded => "refunded",
        }
    }

    pub fn parse(value: &str) -> Option<OrderStatus> {
        ALL_STATUSES
            .iter()
            .copied()
            .find(|status| status.as_str() == value)
    }
}

const ALL_STATUSES: [OrderStatus; 10] = [
    OrderStatus::Draft,
    OrderStatus::PaymentPending,
    OrderStatus::PaymentActionRequired,
    OrderStatus::PaymentProcessing,
    OrderStatus::Confirmed,
    OrderStatus::PartiallyConfirmed,
    OrderStatus::Cancelled,
    OrderStatus::Failed,
    OrderStatus::RefundRequested,
    OrderStatus::Refunded,
];

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one item of an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Not booked yet.
    Pending,
    /// Booked with the provider; `reference` and `confirmation` are set.
    Booked,
    /// The provider refused or failed; `failure` says why. Nothing charged for it.
    Failed,
    /// Not attempted because something it depends on failed, or the order was rolled back first.
    Skipped,
    /// Cancelled with the provider.
    Cancelled,
    /// The provider did not confirm a cancellation: needs a person to check with the provider.
    CancellationFailed,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Pending => "pending",
            ItemStatus::Booked => "booked",
            ItemStatus::Failed => "failed",
            ItemStatus::Skipped => "skipped",
            ItemStatus::Cancelled => "cancelled",
            ItemStatus::CancellationFailed => "cancellation_failed",
        }
    }

    pub fn parse(value: &str) -> Option<ItemStatus> {
        [
            ItemStatus::Pending,
            ItemStatus::Booked,
            ItemStatus::Failed,
            ItemStatus::Skipped,
            ItemStatus::Cancelled,
            ItemStatus::CancellationFailed,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// One item of an order, with what the provider told us about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrderItem {
    pub item_id: ItemId,
    pub kind: ItemKind,
    pub title: String,
    pub provider: String,
    pub offer_id: OfferId,
    pub priority: Priority,
    /// The price charged for this item (the re-quoted price, never above the approved one).
    pub price: Money,
    pub cancellation: CancellationPolicy,
    pub status: ItemStatus,
    /// The provider's booking reference, used to cancel.
    pub reference: Option<String>,
    /// What the traveller shows: the airline PNR, the hotel or activity confirmation number.
    pub confirmation: Option<String>,
    /// Why booking or cancelling failed, in words.
    pub failure: Option<String>,
    /// What was refunded for this item after cancellation.
    pub refunded: Option<Money>,
}

/// The payment behind an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentRecord {
    pub provider: String,
    /// The provider's payment id.
    pub reference: String,
    /// Where the customer completes an action such as 3-D Secure, while one is needed.
    pub action_url: Option<String>,
}

/// One part of a split payment: who holds it, with which method, for how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentPart {
    pub provider: String,
    pub method: PaymentMethodToken,
    /// What this part holds; the parts add up to the order's `authorized`.
    pub amount: Money,
    /// The provider-side customer a saved method belongs to, which charges must name; fixed
    /// when the order is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
}

/// The `payment_via` of an order whose payment is split over several methods.
pub const SPLIT_PAYMENT: &str = "split";

/// What spending limits and risk checks read of an order: its money, its status and when it
/// was made, without its items (read for every order of the last year at each check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTotals {
    pub plan_id: PlanId,
    pub status: OrderStatus,
    pub currency: Currency,
    pub authorized: Money,
    pub captured: Money,
    pub refunded: Money,
    pub created_at: DateTime<Utc>,
}

/// An order and its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub owner: OwnerId,
    pub plan_id: PlanId,
    pub approval_id: ApprovalId,
    pub status: OrderStatus,
    pub currency: Currency,
    /// The amount the hold was placed for; with a provider that charges after booking, the
    /// approved ceiling of the charge (nothing is held).
    pub authorized: Money,
    pub captured: Money,
    /// Everything refunded: for cancelled items and at the owner's request.
    pub refunded: Money,
    /// The part of `refunded` given at the owner's request (refund_payment), not for cancelled
    /// items: kept apart so a later cancellation still refunds what its policies owe.
    pub goodwill_refunded: Money,
    /// A refund the owner asked for (refund_payment) that was sent but whose outcome is not
    /// known yet: recorded before it is sent, so a crash or a lost answer never leaves money
    /// returned without a trace; it is settled by sending it again, same amount, same key,
    /// before any other refund of the order.
    pub goodwill_pending: Option<Money>,
    /// The payment provider the order was created to pay through: every later call for its
    /// money (capture, void, refund, lookup) goes there, whatever is configured by then.
    pub payment_via: String,
    /// Where the provider sends the customer back after acting, fixed at creation so a hold
    /// request sent again carries the same parameters.
    pub payment_return_url: Option<String>,
    /// With a provider that charges after booking: when the customer must have paid by. Fixed
    /// when the charge is first asked, so a charge sent again carries the same deadline; after
    /// it the payment is closed and the bookings cancelled.
    pub payment_due_by: Option<DateTime<Utc>>,
    /// The payment method the router chose at creation; `None` on orders made before routing,
    /// which pay with their plan's method.
    pub payment_method: Option<PaymentMethodToken>,
    /// Providers the payment was given up on because they were down before any money moved,
    /// in the order tried; `payment_via` is the one it goes through now.
    pub payment_failed_over: Vec<String>,
    /// With a split payment: its parts, in the order they are held and captured, fixed at
    /// creation; `payment_via` is then [`SPLIT_PAYMENT`]. Empty when one method pays.
    pub payment_parts: Vec<PaymentPart>,
    pub payment: Option<PaymentRecord>,
    pub items: Vec<OrderItem>,
    /// Why the order failed, when it did.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderItem {
    /// The plan's item, not booked yet, to be charged `price`.
    pub fn pending(item: &PlanItem, price: Money, cancellation: CancellationPolicy) -> OrderItem {
        OrderItem {
            item_id: item.id.clone(),
            kind: item.offer.kind,
            title: item.offer.title.clone(),
            provider: item.offer.provider.clone(),
            offer_id: item.offer.id.clone(),
            priority: item.priority,
            price,
            cancellation,
            status: ItemStatus::Pending,
            reference: None,
            confirmation: None,
            failure: None,
            refunded: None,
        }
    }
}

impl Order {
    pub fn item(&self, id: &ItemId) -> Option<&OrderItem> {
        self.items.iter().find(|item| &item.item_id == id)
    }

    pub fn item_mut(&mut self, id: &ItemId) -> Option<&mut OrderItem> {
        self.items.iter_mut().find(|item| &item.item_id == id)
    }
}

/// One line of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrderEvent {
    pub at: DateTime<Utc>,
    /// The order status after the event.
    pub status: OrderStatus,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn the_happy_path_is_allowed() {
        let path = [
            Draft,
            PaymentPending,
            PaymentProcessing,
            Confirmed,
            RefundRequested,
            Refunded,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition(pair[1]), Ok(pair[1]));
        }
    }

    #[test]
    fn three_d_secure_waits_then_continues() {
        assert!(PaymentPending.transition(PaymentActionRequired).is_ok());
        assert!(PaymentActionRequired.transition(PaymentProcessing).is_ok());
    }

    #[test]
    fn every_transition_outside_the_table_is_refused() {
        let allowed = [
            (Draft, PaymentPending),
            (Draft, Cancelled),
            (PaymentPending, PaymentProcessing),
            (PaymentPending, PaymentActionRequired),
            (PaymentPending, Failed),
            (PaymentActionRequired, PaymentProcessing),
            // Charge after booking: the customer paid for what is booked.
            (PaymentActionRequired, Confirmed),
            (PaymentActionRequired, PartiallyConfirmed),
            (PaymentActionRequired, Failed),
            (PaymentActionRequired, Cancelled),
            (PaymentProcessing, Confirmed),
            (PaymentProcessing, PartiallyConfirmed),
            // Charge after booking: everything is booked and the customer is asked to pay.
            (PaymentProcessing, PaymentActionRequired),
            (PaymentProcessing, Failed),
            (Confirmed, RefundRequested),
            (Confirmed, Cancelled),
            (PartiallyConfirmed, RefundRequested),
            (PartiallyConfirmed, Cancelled),
            (RefundRequested, Refunded),
            (RefundRequested, PartiallyConfirmed),
            (RefundRequested, Cancelled),
        ];
        for from in ALL_STATUSES {
            for to in ALL_STATUSES {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), expected, "{from} → {to}");
            }
        }
        assert!(Failed.is_terminal() && Refunded.is_terminal() && Cancelled.is_terminal());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in ALL_STATUSES {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
    }
}
