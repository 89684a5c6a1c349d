//! Undoing an execution: cancel what was booked, newest phase first, then release the hold.

use crate::domain::idempotency::{IdempotencyKey, Operation};
use crate::domain::ids::OrderId;
use crate::domain::order::{ItemStatus, Order, OrderItem, OrderStatus};
use crate::domain::plan::{TravelPlan, Traveller};
use crate::ports::booking::{BookingError, CancelRequest, CancellationReceipt};
use crate::ports::payment::PaymentState;
use crate::ports::{PaymentError, ProviderError};

use super::drive::Next;
use super::steps::CallError;
use super::{ExecutionError, Orchestrator};

impl Orchestrator {
    /// Cancels every booked item in reverse phase order and voids the hold; the order fails with
    /// the reason already set in `order.failure`. A cancellation or release whose outcome is
    /// unknown, or that the provider could not take yet, leaves the order waiting for recovery
    /// to send it again: nothing is given up on while the provider may still answer.
    pub(super) async fn roll_back(
        &self,
        mut order: Order,
        plan: &TravelPlan,
    ) -> Result<Next, ExecutionError> {
        let newest_first: Vec<_> = plan.phases()?.into_iter().rev().flatten().collect();
        let mut waiting = false;
        for id in &newest_first {
            let Some(item) = order
                .item(id)
                .filter(|item| item.status == ItemStatus::Booked)
                .cloned()
            else {
                continue;
            };
            let outcome = self
                .cancel_with_provider(&order.id, &item, &plan.travellers, "rollback")
                .await?;
            let Some(item) = order.item_mut(id) else {
                continue;
            };
            let message = match outcome {
                Ok(_) => {
                    item.status = ItemStatus::Cancelled;
                    format!("Rolled back {}: cancelled with the provider", item.title)
                }
                Err(error) if error.outcome_unknown() || error.retryable() => {
                    waiting = true;
                    format!(
                        "Waiting for the provider to confirm the cancellation of {}: {error}",
                        item.title
                    )
                }
                Err(error) => {
                    item.status = ItemStatus::CancellationFailed;
                    item.failure = Some(format!("rollback could not cancel it: {error}"));
                    format!(
                        "Could not cancel {} during rollback: {error}. It needs a person to contact the provider",
                        item.title
                    )
                }
            };
            self.record(&mut order, message).await?;
        }
        if waiting {
            return Ok(Next::Wait(order));
        }
        for item in order
            .items
            .iter_mut()
            .filter(|item| item.status == ItemStatus::Pending)
        {
            item.status = ItemStatus::Skipped;
            item.failure = Some("not attempted: the order was rolled back".into());
        }
        let mut failure = order
            .failure
            .clone()
            .unwrap_or_else(|| "the order was rolled back".into());
        if let Some(payment) = order.payment.clone() {
            match self.send_void(&order, &payment.reference).await? {
                Ok(()) if order.payment_due_by.is_some() => {
                    failure.push_str("; the payment was closed and nothing was charged")
                }
                Ok(()) => {
                    failure.push_str("; the payment hold was released and nothing was charged")
                }
                Err(error) if error.outcome_unknown() || error.retryable() => {
                    self.record(&mut order, format!("Waiting for the payment provider to confirm the release of the hold: {error}")).await?;
                    return Ok(Next::Wait(order));
                }
                Err(refusal) => {
                    match self
                        .return_what_was_taken(&mut order, &payment.reference, refusal)
                        .await?
                    {
                        Some(outcome) => failure.push_str(&outcome),
                        None => return Ok(Next::Wait(order)),
                    }
                }
            }
        }
        order.failure = Some(failure.clone());
        Ok(Next::Wait(
            self.transition(
                order,
                OrderStatus::Failed,
                format!("Order failed: {failure}"),
            )
            .await?,
        ))
    }

    /// The release was refused: the provider is asked where the payment stands, and money it
    /// shows taken (a customer who paid while the order was being given up) is refunded, since
    /// the bookings are cancelled. What happened, for the failure; `None` to wait and retry.
    async fn return_what_was_taken(
        &self,
        order: &mut Order,
        reference: &str,
        refusal: PaymentError,
    ) -> Result<Option<String>, ExecutionError> {
        let state = match self.provider_status(order, reference).await? {
            Ok(state) => state,
            Err(error) => {
                let message = format!(
                    "The release was refused ({refusal}) and the payment could not be looked up ({error}): trying again later"
                );
                self.record(order, message).await?;
                return Ok(None);
            }
        };
        let PaymentState::Captured { amount, refunded } = state else {
            return Ok(Some(format!(
                "; releasing the payment hold failed ({refusal}) and needs attention"
            )));
        };
        order.captured = amount;
        order.refunded = refunded;
        let left = amount.saturating_sub(&refunded)?;
        if left.is_zero() {
            return Ok(Some(format!("; the {amount} paid was already refunded")));
        }
        match self.send_refund(order, reference, left, "rollback").await? {
            Ok(receipt) => {
                order.refunded = order.refunded.checked_add(&receipt.amount)?;
                Ok(Some(format!(
                    "; the customer had paid {amount}, which was refunded ({})",
                    receipt.refund_id
                )))
            }
            Err(error) if error.outcome_unknown() || error.retryable() => {
                let message = format!(
                    "The customer paid {amount} while the order was given up; waiting for the refund to be confirmed: {error}"
                );
                self.record(order, message).await?;
                Ok(None)
            }
            Err(error) => Ok(Some(format!(
                "; the customer paid {amount} and refunding it failed ({error}): refund payment {reference} by hand"
            ))),
        }
    }

    /// Cancels one booked item with its provider, through the saga log.
    pub(super) async fn cancel_with_provider(
        &self,
        order: &OrderId,
        item: &OrderItem,
        travellers: &[Traveller],
        group: &str,
    ) -> Result<Result<CancellationReceipt, BookingError>, ExecutionError> {
        let Some(provider) = self.providers.booking(&item.provider) else {
            return Ok(Err(BookingError::Provider(ProviderError::unavailable(
                &item.provider,
                "this provider is not configured",
            ))));
        };
        let Some(reference) = item.reference.as_deref() else {
            return Ok(Err(BookingError::Provider(ProviderError::Rejected {
                provider: item.provider.clone(),
                code: "no_reference".into(),
                message: format!("{} has no booking reference", item.title),
            })));
        };
        let key = IdempotencyKey::derive(order, Some(&item.item_id), Operation::Cancel, group);
        self.step(
            provider.name(),
            order,
            Some(&item.item_id),
            Operation::Cancel,
            &key,
            || {
                provider.cancel(CancelRequest {
                    reference,
                    idempotency_key: &key,
                    travellers,
                })
            },
        )
        .await
    }
}
