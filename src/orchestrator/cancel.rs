//! Cancelling a booked order, or some of its items, and refunding what the policies give back.

use crate::domain::ids::{ItemId, OrderId, OwnerId};
use crate::domain::money::Money;
use crate::domain::order::{ItemStatus, Order, OrderItem, OrderStatus};
use chrono::{DateTime, Utc};

use super::steps::CallError;
use super::{ExecutionError, Orchestrator};
use crate::leases::PATIENCE;

/// Items that may still be live at the provider and so can be cancelled.
fn is_live(status: ItemStatus) -> bool {
    matches!(status, ItemStatus::Booked | ItemStatus::CancellationFailed)
}

impl Orchestrator {
    /// Cancels the chosen items (all live items when `items` is `None`) with their providers and
    /// refunds what each provider's cancellation gives back under the item's policy.
    pub async fn cancel(
        &self,
        owner: &OwnerId,
        order_id: &OrderId,
        items: Option<&[ItemId]>,
    ) -> Result<Order, ExecutionError> {
        self.exclusively(order_id, PATIENCE, || {
            self.cancel_locked(owner, order_id, items)
        })
        .await
    }

    async fn cancel_locked(
        &self,
        owner: &OwnerId,
        order_id: &OrderId,
        items: Option<&[ItemId]>,
    ) -> Result<Order, ExecutionError> {
        let order = self.order(owner, order_id).await?;
        if let Some(pending) = order.goodwill_pending {
            return Err(super::refund::unsettled(&order, pending));
        }
        match order.status {
            OrderStatus::Confirmed | OrderStatus::PartiallyConfirmed => {}
            // A refund that failed earlier: retry it with the same key.
            OrderStatus::RefundRequested => return self.refund_due(order).await,
            OrderStatus::PaymentActionRequired | OrderStatus::Draft if items.is_none() => {
                return self.abandon(order).await;
            }
            other => {
                return Err(ExecutionError::NotCancellable(format!(
                    "order {order_id} is {other}: {}",
                    match other {
                        OrderStatus::Failed =>
                            "it failed, so nothing is booked and nothing was charged",
                        OrderStatus::Cancelled | OrderStatus::Refunded => "it is already cancelled",
                        _ =>
                            "wait until it is confirmed, then cancel it (get_booking_status shows progress)",
                    }
                )));
            }
        }
        let targets = choose_targets(&order, items)?;
        // Some providers find a booking by its lead traveller's name (Avis).
        let plan = self
            .store
            .plan(&order.owner, &order.plan_id)
            .await?
            .ok_or_else(|| ExecutionError::PlanNotFound(order.plan_id.clone()))?;
        let now = self.clock.now();
        let message = format!(
            "Cancelling {} item(s) at the customer's request",
            targets.len()
        );
        let mut order = self
            .transition(order, OrderStatus::RefundRequested, message)
            .await?;
        for id in &targets {
            let Some(item) = order.item(id).cloned() else {
                continue;
            };
            let outcome = self
                .cancel_with_provider(&order.id, &item, &plan.travellers, "cancel")
                .await?;
            let Some(item) = order.item_mut(id) else {
                continue;
            };
            let message = match outcome {
                Ok(receipt) => {
                    let (refund, note) = settle_refund(item, &receipt.refund, now);
                    item.status = ItemStatus::Cancelled;
                    item.refunded = Some(refund);
                    item.failure = None;
                    format!(
                        "Cancelled {} with the provider; refunding {refund} under its policy{note}",
                        item.title
                    )
                }
                Err(error) => {
                    item.status = ItemStatus::CancellationFailed;
                    item.failure = Some(format!("cancellation failed: {error}"));
                    let next = if error.retryable() || error.outcome_unknown() {
                        "Call cancel_booking again for it"
                    } else {
                        "It needs a person, as the provider's answer says"
                    };
                    format!("Could not cancel {}: {error}. {next}", item.title)
                }
            };
            self.record(&mut order, message).await?;
        }
        self.refund_due(order).await
    }

    /// Refunds what cancelled items are owed and not yet refunded, then settles the status.
    pub(super) async fn refund_due(&self, mut order: Order) -> Result<Order, ExecutionError> {
        let owed = Money::sum(
            order.currency,
            order
                .items
                .iter()
                .filter(|item| item.status == ItemStatus::Cancelled)
                .filter_map(|item| item.refunded.as_ref()),
        )?;
        // What cancellations gave back so far, apart from refunds the owner asked for; and never
        // more than is left of what was captured.
        let refunded_for_cancellations = order.refunded.saturating_sub(&order.goodwill_refunded)?;
        let left = order.captured.saturating_sub(&order.refunded)?;
        let due = owed
            .saturating_sub(&refunded_for_cancellations)?
            .min(&left)?;
        if !due.is_zero() {
            let Some(payment) = order.payment.clone() else {
                return Err(ExecutionError::NotCancellable(format!(
                    "order {} has no payment to refund",
                    order.id
                )));
            };
            // The same set of cancelled items gives the same key, so a retry never refunds twice.
            let refund = self
                .send_refund(&order, &payment.reference, due, &refund_group(&order))
                .await?;
            match refund {
                Ok(receipt) => {
                    order.refunded = order.refunded.checked_add(&receipt.amount)?;
                    self.record(
                        &mut order,
                        format!("Refunded {} ({})", receipt.amount, receipt.refund_id),
                    )
                    .await?;
                }
                Err(error) => {
                    let message = format!(
                        "Refunding {due} failed: {error}. Call cancel_booking again to retry the refund"
                    );
                    self.record(&mut order, message).await?;
                    return Ok(order);
                }
            }
        }
        let still_live = order.items.iter().any(|item| is_live(item.status));
        let (status, message) = if still_live {
            (
                OrderStatus::PartiallyConfirmed,
                "The remaining items stay booked".to_string(),
            )
        } else if order.refunded.is_zero() {
            (
                OrderStatus::Cancelled,
                "Every item is cancelled; the policies refund nothing".to_string(),
            )
        } else {
            (
                OrderStatus::Refunded,
                format!(
                    "Every item is cancelled; {} refunded in total",
                    order.refunded
                ),
            )
        };
        self.transition(order, status, message).await
    }

    /// Cancels an order that never got past the payment step: releases any hold. With a
    /// provider that charges after booking, the items are booked and wait to be paid: the
    /// payment is closed and the bookings cancelled, as when the customer does not pay in time.
    async fn abandon(&self, order: Order) -> Result<Order, ExecutionError> {
        if order.status == OrderStatus::PaymentActionRequired
            && self.charges_after_booking(&order)?
        {
            let plan = self
                .store
                .plan(&order.owner, &order.plan_id)
                .await?
                .ok_or_else(|| ExecutionError::PlanNotFound(order.plan_id.clone()))?;
            let order = match self
                .give_up_charge(order, "the customer cancelled before paying".into())
                .await?
            {
                super::drive::Next::Continue(order) | super::drive::Next::Wait(order) => order,
            };
            return self.drive(order, &plan).await;
        }
        if let Some(payment) = &order.payment {
            self.send_void(&order, &payment.reference)
                .await?
                .map_err(|error| {
                    ExecutionError::NotCancellable(format!(
                        "the payment provider did not release the hold of order {} ({error}), so the order stays as it is: call cancel_booking again; if it keeps failing, `itinera doctor` says what to do",
                        order.id
                    ))
                })?;
        }
        let mut order = order;
        for item in &mut order.items {
            item.status = ItemStatus::Skipped;
        }
        self.transition(
            order,
            OrderStatus::Cancelled,
            "Cancelled before payment; nothing was charged".into(),
        )
        .await
    }
}

/// What the customer gets back for a cancelled item: what its policy gives at `now`, but never
/// more than the provider returned nor more than was charged. A disagreement is noted.
fn settle_refund(item: &OrderItem, returned: &Money, now: DateTime<Utc>) -> (Money, String) {
    let zero = Money::zero(item.price.currency());
    let by_policy = item
        .cancellation
        .refund_for(&item.price, now)
        .unwrap_or(zero);
    let refund = by_policy
        .min(returned)
        .and_then(|m| m.min(&item.price))
        .unwrap_or(zero);
    let note = if returned == &by_policy {
        String::new()
    } else {
        format!(" (the provider returned {returned} where the policy gives {by_policy})")
    };
    (refund, note)
}

fn choose_targets(order: &Order, items: Option<&[ItemId]>) -> Result<Vec<ItemId>, ExecutionError> {
    let targets: Vec<ItemId> = match items {
        None => order
            .items
            .iter()
            .filter(|item| is_live(item.status))
            .map(|item| item.item_id.clone())
            .collect(),
        Some(ids) => {
            for id in ids {
                match order.item(id) {
                    None => {
                        return Err(ExecutionError::NotCancellable(format!(
                            "item {id} is not part of order {}: get_booking_status lists its items",
                            order.id
                        )));
                    }
                    Some(item) if !is_live(item.status) => {
                        return Err(ExecutionError::NotCancellable(format!(
                            "item {id} ({}) is {}, so there is nothing to cancel",
                            item.title,
                            item.status.as_str()
                        )));
                    }
                    Some(_) => {}
                }
            }
            ids.to_vec()
        }
    };
    if targets.is_empty() {
        return Err(ExecutionError::NotCancellable(format!(
            "order {} has nothing booked left to cancel",
            order.id
        )));
    }
    Ok(targets)
}

fn refund_group(order: &Order) -> String {
    let mut cancelled: Vec<&str> = order
        .items
        .iter()
        .filter(|item| item.status == ItemStatus::Cancelled)
        .map(|item| item.item_id.as_str())
        .collect();
    cancelled.sort_unstable();
    cancelled.join(",")
}
