//! Paying through a provider that cannot hold money apart from taking it (WeChat Pay): the items
//! are booked first and only what was booked is charged, once. The customer pays within a
//! window; if they do not, or the payment fails, the payment is closed and the bookings
//! cancelled, so nobody is left with unpaid bookings or with money taken for nothing.

use chrono::{DateTime, Duration, Utc};

use crate::domain::order::{Order, OrderStatus, PaymentRecord};
use crate::domain::plan::TravelPlan;
use crate::ports::payment::{PaymentState, Settlement};

use super::drive::Next;
use super::steps::CallError;
use super::{ExecutionError, Orchestrator};

/// How long the customer has to pay once everything is booked. Providers are told the same
/// deadline, so a payment cannot arrive after the bookings were given up.
pub fn payment_window() -> Duration {
    Duration::minutes(15)
}

impl Orchestrator {
    /// Whether the order's provider is charged after booking rather than holding first.
    pub(super) fn charges_after_booking(&self, order: &Order) -> Result<bool, ExecutionError> {
        Ok(self.payments_of(order)?.settlement() == Settlement::ChargeAfterBooking)
    }

    /// Everything bookable is booked: asks the provider to charge what was, by the deadline.
    pub(super) async fn charge(
        &self,
        mut order: Order,
        plan: &TravelPlan,
    ) -> Result<Next, ExecutionError> {
        let Some(amount) = self.booked_amount(&mut order).await? else {
            return Ok(Next::Continue(order));
        };
        let due = match order.payment_due_by {
            Some(due) => due,
            None => {
                let due = self.clock.now() + payment_window();
                order.payment_due_by = Some(due);
                let message = format!(
                    "Asking {} to charge {amount} for what was booked, to be paid by {}",
                    order.payment_via,
                    when(due)
                );
                self.record(&mut order, message).await?;
                due
            }
        };
        let result = self.send_authorize(&order, plan, amount, Some(due)).await?;
        let handle = match result {
            Ok(handle) => handle,
            Err(error) if error.outcome_unknown() || error.retryable() => {
                if self.clock.now() >= due {
                    return self
                        .give_up_charge(
                            order,
                            format!("the charge could not be made by {}", when(due)),
                        )
                        .await;
                }
                let message =
                    format!("Waiting for the payment provider to take the charge: {error}");
                self.record(&mut order, message).await?;
                return Ok(Next::Wait(order));
            }
            Err(error) => {
                return self
                    .give_up_charge(order, format!("the charge was refused: {error}"))
                    .await;
            }
        };
        order.payment = Some(PaymentRecord {
            provider: order.payment_via.clone(),
            reference: handle.payment_id,
            action_url: None,
        });
        self.apply_charge_state(order, handle.state).await
    }

    /// The customer was asked to pay: where does the charge stand now?
    pub(super) async fn check_charge(&self, order: Order) -> Result<Next, ExecutionError> {
        let Some(payment) = order.payment.clone() else {
            return Ok(Next::Wait(order));
        };
        let state = self
            .provider_status(&order, &payment.reference)
            .await?
            .map_err(ExecutionError::PaymentLookup)?;
        self.apply_charge_state(order, state).await
    }

    async fn apply_charge_state(
        &self,
        mut order: Order,
        state: PaymentState,
    ) -> Result<Next, ExecutionError> {
        let due = order.payment_due_by.unwrap_or_else(|| self.clock.now());
        match state {
            PaymentState::Captured { amount, .. } => {
                if let Some(payment) = &mut order.payment {
                    payment.action_url = None;
                }
                self.settle_captured(order, amount).await
            }
            PaymentState::ActionRequired { .. } if self.clock.now() >= due => {
                self.close_unpaid(order, due).await
            }
            PaymentState::ActionRequired { url } => {
                if order.status == OrderStatus::PaymentActionRequired {
                    return Ok(Next::Wait(order));
                }
                if let Some(payment) = &mut order.payment {
                    payment.action_url = Some(url.clone());
                }
                let message = format!(
                    "Everything bookable is booked; the customer pays at {url} by {}",
                    when(due)
                );
                Ok(Next::Wait(
                    self.transition(order, OrderStatus::PaymentActionRequired, message)
                        .await?,
                ))
            }
            // The provider held the money after all: capture what was booked, as with a card.
            PaymentState::Authorized { .. } if order.status == OrderStatus::PaymentProcessing => {
                self.capture(order).await
            }
            // Captured at once rather than through the driver, which would ask for the charge
            // again and get the same answer back.
            PaymentState::Authorized { .. } => {
                let message = "The payment is held; capturing what was booked".to_string();
                let order = self
                    .transition(order, OrderStatus::PaymentProcessing, message)
                    .await?;
                self.capture(order).await
            }
            PaymentState::Failed { reason } => {
                self.give_up_charge(order, format!("the payment failed: {reason}"))
                    .await
            }
            PaymentState::Voided => {
                self.give_up_charge(order, "the payment was closed before it was paid".into())
                    .await
            }
        }
    }

    /// The deadline passed unpaid: close the payment so it can no longer be paid, then cancel.
    /// A provider that refuses to close because the money just arrived is asked again, and the
    /// payment taken if it did.
    async fn close_unpaid(
        &self,
        mut order: Order,
        due: DateTime<Utc>,
    ) -> Result<Next, ExecutionError> {
        let Some(payment) = order.payment.clone() else {
            return self
                .give_up_charge(order, format!("the customer did not pay by {}", when(due)))
                .await;
        };
        let closed = self.send_void(&order, &payment.reference).await?;
        match closed {
            Ok(()) => {
                self.give_up_charge(order, format!("the customer did not pay by {}", when(due)))
                    .await
            }
            Err(error) if error.outcome_unknown() || error.retryable() => {
                let message = format!("Waiting for the payment provider to close the unpaid payment: {error}");
                self.record(&mut order, message).await?;
                Ok(Next::Wait(order))
            }
            Err(refusal) => match self.provider_status(&order, &payment.reference).await? {
                Ok(PaymentState::Captured { amount, .. }) => {
                    self.settle_captured(order, amount).await
                }
                Ok(_) => {
                    self.give_up_charge(
                        order,
                        format!("the customer did not pay by {}, and closing the payment failed ({refusal})", when(due)),
                    )
                    .await
                }
                // Not knowing whether the money came, nothing is cancelled yet.
                Err(error) => {
                    let message = format!(
                        "Closing the unpaid payment was refused ({refusal}) and it could not be looked up ({error}): trying again later"
                    );
                    self.record(&mut order, message).await?;
                    Ok(Next::Wait(order))
                }
            },
        }
    }

    /// No money will come: the order rolls back, cancelling what was booked.
    pub(super) async fn give_up_charge(
        &self,
        mut order: Order,
        reason: String,
    ) -> Result<Next, ExecutionError> {
        order.failure = Some(reason.clone());
        let message = format!("Rolling back: {reason}");
        if order.status == OrderStatus::PaymentProcessing {
            self.record(&mut order, message).await?;
            return Ok(Next::Continue(order));
        }
        Ok(Next::Continue(
            self.transition(order, OrderStatus::PaymentProcessing, message)
                .await?,
        ))
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
