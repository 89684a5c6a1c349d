//! What the people and systems following an order are told when it changes: a snapshot of the
//! order taken in the transaction that changed it (the transactional outbox), so a notice says
//! what was true at that moment even when it is delivered after a restart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{ItemId, OrderId, OwnerId, PlanId};
use super::money::Money;
use super::offer::ItemKind;
use super::order::{ItemStatus, Order, OrderEvent, OrderStatus};

/// One change of one order. No traveller's name, contact or document: notices go to webhook
/// subscribers the operator chose, and are kept in the outbox. They do carry the owner's user
/// id (for subscribers to route SMS or push), the trip's title as the person named it (in
/// `message`) and the items' confirmation numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderNotice {
    /// Unique per notice and the same on every delivery attempt: receivers drop a notice whose
    /// id they have seen (a delivery can be repeated after a crash or a lost answer).
    pub id: String,
    /// Increases with each change of the order: deliveries may arrive out of order (sent at
    /// once, or retried), and a subscriber keeping an order's latest state keeps the notice
    /// with the highest.
    pub sequence: i64,
    /// `order.<status>`: what subscribers filter on.
    #[serde(rename = "type")]
    pub kind: String,
    pub owner: OwnerId,
    pub order_id: OrderId,
    pub plan_id: PlanId,
    pub status: OrderStatus,
    /// The status before this change; `None` when the order was just created.
    pub previous_status: Option<OrderStatus>,
    /// What happened, in words (the order timeline's entry).
    pub message: String,
    pub at: DateTime<Utc>,
    /// The sum of the items' prices.
    pub total: Money,
    pub captured: Money,
    pub refunded: Money,
    pub items: Vec<NoticeItem>,
}

/// One item of the order as it stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeItem {
    pub item_id: ItemId,
    pub kind: ItemKind,
    pub title: String,
    pub provider: String,
    pub status: ItemStatus,
    pub price: Money,
    /// What the traveller shows: the airline PNR, the hotel or activity confirmation number.
    pub confirmation: Option<String>,
}

impl OrderNotice {
    /// The notice of `event`, which moved `order` from `previous` (`None`: it was created).
    pub fn of(
        id: String,
        sequence: i64,
        order: &Order,
        previous: Option<OrderStatus>,
        event: &OrderEvent,
    ) -> OrderNotice {
        let total = order.items.iter().map(|item| &item.price);
        // Items of an order share its currency; a corrupt one falls back to the amount held.
        let total = Money::sum(order.currency, total).unwrap_or(order.authorized);
        OrderNotice {
            id,
            sequence,
            kind: format!("order.{}", event.status),
            owner: order.owner.clone(),
            order_id: order.id.clone(),
            plan_id: order.plan_id.clone(),
            status: event.status,
            previous_status: previous,
            message: event.message.clone(),
            at: event.at,
            total,
            captured: order.captured,
            refunded: order.refunded,
            items: order
                .items
                .iter()
                .map(|item| NoticeItem {
                    item_id: item.item_id.clone(),
                    kind: item.kind,
                    title: item.title.clone(),
                    provider: item.provider.clone(),
                    status: item.status,
                    price: item.price,
                    confirmation: item.confirmation.clone(),
                })
                .collect(),
        }
    }

    /// Whether the order's status changed (an event that keeps it, such as one item booked,
    /// only refreshes what a client watching the order shows).
    pub fn changes_status(&self) -> bool {
        self.previous_status != Some(self.status)
    }

    /// Whether the person is e-mailed about it: the outcomes and what asks something of them,
    /// not every step of the saga.
    pub fn worth_an_email(&self) -> bool {
        use OrderStatus::*;
        self.changes_status()
            && match self.status {
                Confirmed
                | PartiallyConfirmed
                | PaymentActionRequired
                | Failed
                | Cancelled
                | Refunded => true,
                Draft | PaymentPending | PaymentProcessing | RefundRequested => false,
            }
    }

    /// The MCP resource the order is shown as.
    pub fn resource_uri(&self) -> String {
        order_resource_uri(&self.order_id)
    }
}

/// `itinera://orders/{id}`: the order as an MCP resource.
pub fn order_resource_uri(id: &OrderId) -> String {
    format!("{ORDER_RESOURCE_PREFIX}{id}")
}

/// What every order resource's URI starts with.
pub const ORDER_RESOURCE_PREFIX: &str = "itinera://orders/";

/// Where the delivery of one notice to one channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet; tried again at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up on after the last attempt: the operator's dead-letter list.
    Dead,
    /// Nothing to send: the channel has nobody to tell (no e-mail address, say).
    Skipped,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
            DeliveryState::Skipped => "skipped",
        }
    }

    pub fn parse(value: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Dead,
            DeliveryState::Skipped,
        ]
        .into_iter()
        .find(|state| state.as_str() == value)
    }
}

/// One notice to deliver to one channel, as the dispatcher claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub notice: OrderNotice,
    /// The channel's name: `webhook:<url>` or `email`.
    pub channel: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// A delivery as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRecord {
    pub notice_id: String,
    pub order_id: OrderId,
    pub kind: String,
    pub channel: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// What came of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// Failed; tried again at the given time.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Failed for the last time, or cannot succeed: kept on the dead-letter list.
    Dead {
        error: String,
    },
    /// Nobody to tell on this channel.
    Skipped {
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::paris_order;

    fn notice_of(order: &Order, previous: Option<OrderStatus>, status: OrderStatus) -> OrderNotice {
        let event = OrderEvent {
            at: order.updated_at,
            status,
            message: "moved".into(),
        };
        OrderNotice::of("evt_1".into(), 1, order, previous, &event)
    }

    fn notice(previous: Option<OrderStatus>, status: OrderStatus) -> OrderNotice {
        notice_of(&paris_order(), previous, status)
    }

    #[test]
    fn a_notice_is_typed_by_its_status_and_totals_the_items() {
        let order = paris_order();
        let notice = notice_of(
            &order,
            Some(OrderStatus::PaymentProcessing),
            OrderStatus::Confirmed,
        );
        assert_eq!(notice.kind, "order.confirmed");
        assert_eq!(notice.total, Money::parse("750", "EUR").unwrap());
        assert_eq!(notice.items.len(), order.items.len());
        assert_eq!(notice.items[0].confirmation.as_deref(), Some("PNR123"));
        assert_eq!(
            notice.resource_uri(),
            format!("itinera://orders/{}", order.id)
        );
    }

    #[test]
    fn only_outcomes_and_requests_of_the_person_are_emailed() {
        use OrderStatus::*;
        assert!(notice(Some(PaymentProcessing), Confirmed).worth_an_email());
        assert!(notice(Some(PaymentPending), PaymentActionRequired).worth_an_email());
        assert!(!notice(Some(PaymentPending), PaymentProcessing).worth_an_email());
        assert!(!notice(None, Draft).worth_an_email());
        // An item booked keeps the status: not a change worth a message.
        assert!(!notice(Some(Confirmed), Confirmed).worth_an_email());
        assert!(!notice(Some(Confirmed), Confirmed).changes_status());
        assert!(notice(None, Draft).changes_status());
    }
}
