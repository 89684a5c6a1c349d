//! `itinera doctor`: whether the providers answer (`providers`), and the orders that need a
//! person, each with what to do.
//!
//! Recovery settles whatever the providers let it settle. What is left is for an operator: a
//! booking a provider would not cancel, a hold it would not release, a refund it refused, or a
//! call whose outcome the provider still has not confirmed long after it was sent.

pub mod providers;

use chrono::{DateTime, Duration, Utc};

use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::{OrderId, OwnerId};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::saga::{SagaStep, StepState};
use crate::ports::booking::MAY_HOLD_A_BOOKING;
use crate::ports::{Store, StoreError};

/// One thing a person must look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub order_id: OrderId,
    pub owner: OwnerId,
    pub status: OrderStatus,
    pub problem: String,
    pub action: String,
}

/// Every finding, oldest order first. A call unanswered for less than `stale_after` is still
/// recovery's business, not a person's.
pub async fn examine(
    store: &dyn Store,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Result<Vec<Finding>, StoreError> {
    let mut findings = Vec::new();
    for order in store.orders_needing_attention().await? {
        for step in store.steps(&order.owner, &order.id).await? {
            if let Some((problem, action)) = diagnose(&order, &step, now, stale_after) {
                findings.push(Finding {
                    order_id: order.id.clone(),
                    owner: order.owner.clone(),
                    status: order.status,
                    problem,
                    action,
                });
            }
        }
    }
    Ok(findings)
}

fn diagnose(
    order: &Order,
    step: &SagaStep,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Option<(String, String)> {
    let item = step.item_id.as_ref().and_then(|id| order.item(id));
    let title = item.map_or("the order", |item| item.title.as_str());
    let detail = step.detail.as_deref().unwrap_or("no detail");
    let payment = payment_at(order, &step.key);
    match (step.operation.as_str(), step.state) {
        ("book", StepState::Failed) if detail.contains(MAY_HOLD_A_BOOKING) => Some((
            format!("booking {title} was not counted as booked, but {detail}"),
            format!(
                "Ask {} whether it holds a booking for this order (dates and lead traveller on order {}) and have it released; nothing was charged to the traveller for it",
                item.map_or("the provider", |i| i.provider.as_str()),
                order.id
            ),
        )),
        ("cancel", StepState::Failed) => Some((
            format!("cancelling {title} failed: {detail}"),
            format!(
                "Ask {} to cancel booking {} and confirm what it refunds; the traveller must not keep paying for a booking the order gave up",
                item.map_or("the provider", |i| i.provider.as_str()),
                item.and_then(|i| i.reference.as_deref())
                    .unwrap_or("(no reference)")
            ),
        )),
        ("void", StepState::Failed) => Some((
            format!("releasing the payment hold failed: {detail}"),
            format!(
                "Void {payment}, so the customer's funds are released"
            ),
        )),
        ("refund", StepState::Failed) => Some((
            format!("a refund failed: {detail}"),
            match order.goodwill_pending {
                Some(pending) => format!(
                    "The owner's refund of {pending} is unsettled: call refund_payment on order {} with that amount to retry; if it keeps failing, refund {payment} by hand",
                    order.id
                ),
                None => format!(
                    "Call cancel_booking on order {} again to retry a cancellation's refund (an owner's refund the provider refused was reported to the owner and needs nothing); if it keeps failing, refund {payment} by hand",
                    order.id
                ),
            },
        )),
        ("refund", StepState::Intent | StepState::PendingReconciliation)
            if now - step.started_at > stale_after && order.goodwill_pending.is_some() =>
        {
            order.goodwill_pending.map(|pending| {
                (
                    format!(
                        "the owner's refund of {pending} was sent {} time(s) since {} with no answer",
                        step.attempts,
                        step.started_at.format("%Y-%m-%d %H:%M UTC")
                    ),
                    format!(
                        "Call refund_payment on order {} with amount {pending} to send it again (same key, it cannot refund twice); if the provider cannot say, look up {payment}",
                        order.id
                    ),
                )
            })
        }
        (operation, StepState::Intent | StepState::PendingReconciliation)
            if now - step.started_at > stale_after =>
        {
            Some((
                format!(
                    "the outcome of {operation} for {title} is still unknown after {} send(s) since {}",
                    step.attempts,
                    step.started_at.format("%Y-%m-%d %H:%M UTC")
                ),
                if step.item_id.is_none() && !order.payment_parts.is_empty() {
                    format!(
                        "Recovery keeps asking. Look the call up at each part's provider — {payment}; if a provider cannot say, settle it there and in the order by hand"
                    )
                } else {
                    format!(
                        "Recovery keeps asking. Look the call up at the provider with idempotency key {}; if the provider cannot say, settle it there and in the order by hand",
                        step.key
                    )
                },
            ))
        }
        _ => None,
    }
}

/// Where the order's money is, for a person to act on at the provider: the payment and the key
/// the call went under, or, for a split, each part with its own provider, reference and the key
/// that part was sent under (the providers never saw the split's own key).
fn payment_at(order: &Order, key: &str) -> String {
    let Some(payment) = &order.payment else {
        return "the payment at the payment provider (none recorded)".into();
    };
    let parts: Vec<String> = serde_json::from_str(&payment.reference).unwrap_or_default();
    if order.payment_parts.is_empty() || parts.len() != order.payment_parts.len() {
        return format!(
            "payment {} at {} (idempotency key {key})",
            payment.reference, payment.provider
        );
    }
    let key = IdempotencyKey::recorded(key.to_string());
    order
        .payment_parts
        .iter()
        .zip(parts)
        .enumerate()
        .map(|(index, (part, reference))| {
            format!(
                "part {index}: payment {reference} at {} for {} (idempotency key {})",
                part.provider,
                part.amount,
                key.part(index)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The report as text for a terminal.
pub fn render(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No order needs a person.\n".to_string();
    }
    let mut text = format!("{} finding(s) need a person:\n", findings.len());
    for finding in findings {
        text.push_str(&format!(
            "\n{} (profile {}, {})\n  problem: {}\n  action:  {}\n",
            finding.order_id,
            finding.owner.as_str(),
            finding.status,
            finding.problem,
            finding.action
        ));
    }
    text
}
