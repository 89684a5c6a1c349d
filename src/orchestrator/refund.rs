//! Refunds the owner asks for outside any cancellation (a goodwill gesture, a dispute settled):
//! never more than was captured and not yet refunded, each sent under a key fixed by what was
//! refunded this way before, so asking again after a lost answer cannot refund twice.

use crate::domain::ids::{OrderId, OwnerId};
use crate::domain::money::Money;
use crate::domain::order::{Order, OrderStatus};
use crate::ports::PaymentError;
use crate::ports::payment::PaymentState;

use super::steps::CallError;
use super::{ExecutionError, Orchestrator};
use crate::leases::PATIENCE;

impl Orchestrator {
    /// Refunds `amount` of the order's captured money to its payment method: the order after,
    /// and what the provider refunded.
    pub async fn refund_payment(
        &self,
        owner: &OwnerId,
        order_id: &OrderId,
        amount: Money,
        reason: &str,
    ) -> Result<(Order, Money), ExecutionError> {
        self.exclusively(order_id, PATIENCE, || async {
            let order = self.order(owner, order_id).await?;
            self.refund_locked(order, amount, reason).await
        })
        .await
    }

    async fn refund_locked(
        &self,
        mut order: Order,
        amount: Money,
        reason: &str,
    ) -> Result<(Order, Money), ExecutionError> {
        let refundable = refundable(&order)?;
        if amount.currency() != order.currency || amount.is_zero() || amount > refundable {
            return Err(ExecutionError::NotRefundable(format!(
                "order {} can be refunded at most {refundable} (captured {}, refunded {}); ask for an amount above zero in {}",
                order.id,
                order.captured,
                order.refunded,
                order.currency.code()
            )));
        }
        let Some(payment) = order.payment.clone() else {
            return Err(ExecutionError::NotRefundable(format!(
                "order {} has no payment",
                order.id
            )));
        };
        match order.goodwill_pending {
            Some(pending) if pending != amount => {
                return Err(unsettled(&order, pending));
            }
            Some(_) => {
                // The provider may have forgotten the key by now (Stripe keeps keys a day):
                // what it shows refunded settles the pending refund without sending it again.
                if let Some(order) = self
                    .settled_at_provider(&order, &payment.reference, amount, reason)
                    .await?
                {
                    return Ok((order, amount));
                }
            }
            None => {
                order.goodwill_pending = Some(amount);
                let message = format!("Refunding {amount} at the owner's request: {reason}");
                self.record(&mut order, message).await?;
            }
        }
        // What was refunded this way before and this amount: a new refund after a refused one
        // of another amount is a new request, never the refused one's key with other figures.
        let group = format!(
            "goodwill-{}-{}",
            order.goodwill_refunded.minor_units()?,
            amount.minor_units()?
        );
        let sent = self
            .send_refund(&order, &payment.reference, amount, &group)
            .await?;
        let receipt = match sent {
            Ok(receipt) => receipt,
            // Unsettled: it stays pending, to be sent again as it was.
            Err(error) if error.outcome_unknown() || error.retryable() => {
                return Err(refund_failed(error, amount));
            }
            Err(error) => {
                order.goodwill_pending = None;
                let message = format!("The payment provider refused the refund of {amount}");
                self.record(&mut order, message).await?;
                return Err(refund_failed(error, amount));
            }
        };
        let order = self
            .settle_goodwill(order, receipt.amount, &receipt.refund_id, reason)
            .await?;
        Ok((order, receipt.amount))
    }

    /// Records an owner's refund the provider made, in the timeline and the audit log.
    async fn settle_goodwill(
        &self,
        mut order: Order,
        amount: Money,
        refund_id: &str,
        reason: &str,
    ) -> Result<Order, ExecutionError> {
        order.goodwill_pending = None;
        order.refunded = order.refunded.checked_add(&amount)?;
        order.goodwill_refunded = order.goodwill_refunded.checked_add(&amount)?;
        let message = format!("Refunded {amount} at the owner's request ({refund_id}): {reason}");
        self.record(&mut order, message.clone()).await?;
        self.store
            .record_audit(&order.owner, "payment.refund", order.id.as_str(), &message)
            .await?;
        Ok(order)
    }

    /// The pending refund, settled from what the provider shows refunded, if it shows it: more
    /// refunded than the order records by at least the pending amount. `None` to send it again.
    async fn settled_at_provider(
        &self,
        order: &Order,
        reference: &str,
        pending: Money,
        reason: &str,
    ) -> Result<Option<Order>, ExecutionError> {
        let Ok(PaymentState::Captured { refunded, .. }) =
            self.provider_status(order, reference).await?
        else {
            return Ok(None);
        };
        if refunded < order.refunded.checked_add(&pending)? {
            return Ok(None);
        }
        let order = self
            .settle_goodwill(order.clone(), pending, "seen at the provider", reason)
            .await?;
        Ok(Some(order))
    }
}

/// What is captured and not yet refunded, on an order whose money has settled.
fn refundable(order: &Order) -> Result<Money, ExecutionError> {
    match order.status {
        OrderStatus::Confirmed
        | OrderStatus::PartiallyConfirmed
        | OrderStatus::Cancelled
        | OrderStatus::Refunded => Ok(order.captured.saturating_sub(&order.refunded)?),
        other => Err(ExecutionError::NotRefundable(format!(
            "order {} is {other}: only a confirmed or cancelled order's captured money can be refunded{}",
            order.id,
            if other == OrderStatus::RefundRequested {
                "; a cancellation refund is pending: call cancel_booking again to finish it first"
            } else {
                ""
            }
        ))),
    }
}

/// Why another refund must wait: the one asked before may have gone through.
pub(super) fn unsettled(order: &Order, pending: Money) -> ExecutionError {
    ExecutionError::NotRefundable(format!(
        "a refund of {pending} asked for order {} with refund_payment has not been answered yet and may have gone through: call refund_payment with amount {pending} first — it is sent again under the same key, so it cannot refund twice",
        order.id
    ))
}

fn refund_failed(error: PaymentError, amount: Money) -> ExecutionError {
    if error.outcome_unknown() || error.retryable() {
        ExecutionError::NotRefundable(format!(
            "the refund of {amount} may or may not have gone through ({error}): call refund_payment again with the same amount — it is sent under the same key, so it cannot refund twice"
        ))
    } else {
        ExecutionError::NotRefundable(format!(
            "the payment provider refused the refund of {amount}: {error}. Nothing was refunded"
        ))
    }
}
