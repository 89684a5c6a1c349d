//! The saga's calls to the payment provider — place a hold or charge, release, refund — each
//! sent through the saga log under a key derived from the order, so a call sent again after a
//! crash or an unclear answer is replayed by the provider, never made twice.

use chrono::{DateTime, Utc};

use crate::domain::idempotency::{IdempotencyKey, Operation};
use crate::domain::money::Money;
use crate::domain::order::Order;
use crate::domain::plan::TravelPlan;
use crate::ports::payment::{AuthorizeRequest, PaymentHandle, PaymentState, RefundReceipt};
use crate::ports::{PaymentError, ProviderError};
use crate::saved_methods::{OwnershipError, own_method};

use super::{ExecutionError, Orchestrator};

impl Orchestrator {
    /// Asks the order's payment provider to take `amount` with the order's method — a hold, or
    /// with a provider that charges after booking the charge itself — through the saga log.
    pub(super) async fn send_authorize(
        &self,
        order: &Order,
        plan: &TravelPlan,
        amount: Money,
        pay_by: Option<DateTime<Utc>>,
    ) -> Result<Result<PaymentHandle, PaymentError>, ExecutionError> {
        let payments = self.payments_of(order)?;
        let key = IdempotencyKey::derive(&order.id, None, Operation::Authorize, &hold_group(order));
        // The router's choice; orders made before routing pay with their plan's method.
        let method = order
            .payment_method
            .as_ref()
            .unwrap_or(&plan.payment_method);
        // Planning refused someone else's saved method already; this holds the line should a
        // plan have been made before the method was saved, or by a path that skipped the check.
        let saved =
            match own_method(self.store.as_ref(), &self.providers, &order.owner, method).await {
                Ok(saved) => saved,
                Err(OwnershipError::Store(error)) => return Err(error.into()),
                Err(refusal) => {
                    let refusal = ProviderError::rejected(
                        payments.name(),
                        "payment_method_not_yours",
                        format!("{refusal}; nothing was charged"),
                    );
                    return Ok(Err(refusal.into()));
                }
            };
        let customer = saved.as_ref().and_then(|saved| saved.customer.as_deref());
        let request = AuthorizeRequest {
            order_id: &order.id,
            amount,
            payment_method: method,
            description: &plan.title,
            idempotency_key: &key,
            return_url: order
                .payment_return_url
                .as_deref()
                .unwrap_or(&self.return_url),
            pay_by,
            customer,
        };
        self.step(
            payments.name(),
            &order.id,
            None,
            Operation::Authorize,
            &key,
            || payments.authorize(request),
        )
        .await
    }

    /// Where the order's payment stands at its provider, told every refund the saga sent for
    /// it, so a provider that looks refunds up one by one reports them all.
    pub(super) async fn provider_status(
        &self,
        order: &Order,
        reference: &str,
    ) -> Result<Result<PaymentState, PaymentError>, ExecutionError> {
        let refunds: Vec<IdempotencyKey> = self
            .store
            .steps(&order.owner, &order.id)
            .await?
            .into_iter()
            .filter(|step| step.operation == Operation::Refund.as_str())
            .map(|step| IdempotencyKey::recorded(step.key))
            .collect();
        Ok(self
            .payments_of(order)?
            .status_given_refunds(reference, &refunds)
            .await)
    }

    /// Captures `amount` of the order's hold; one capture per order.
    pub(super) async fn send_capture(
        &self,
        order: &Order,
        reference: &str,
        amount: Money,
    ) -> Result<Result<Money, PaymentError>, ExecutionError> {
        let key = IdempotencyKey::derive(&order.id, None, Operation::Capture, "1");
        let payments = self.payments_of(order)?;
        self.step(
            payments.name(),
            &order.id,
            None,
            Operation::Capture,
            &key,
            || payments.capture(reference, amount, &key),
        )
        .await
    }

    /// Releases the order's hold (or closes a charge not paid yet). One key per order: every
    /// release of it — rollback, abandonment, a deadline — is the same call.
    pub(super) async fn send_void(
        &self,
        order: &Order,
        reference: &str,
    ) -> Result<Result<(), PaymentError>, ExecutionError> {
        let key = IdempotencyKey::derive(&order.id, None, Operation::Void, "1");
        let payments = self.payments_of(order)?;
        self.step(
            payments.name(),
            &order.id,
            None,
            Operation::Void,
            &key,
            || payments.void(reference, &key),
        )
        .await
    }

    /// Sends a refund of `amount` of the order's payment through the saga log, under a key
    /// fixed by `group`: what the same group asks again is replayed, never refunded twice.
    pub(super) async fn send_refund(
        &self,
        order: &Order,
        reference: &str,
        amount: Money,
        group: &str,
    ) -> Result<Result<RefundReceipt, PaymentError>, ExecutionError> {
        let key = IdempotencyKey::derive(&order.id, None, Operation::Refund, group);
        let payments = self.payments_of(order)?;
        self.step(
            payments.name(),
            &order.id,
            None,
            Operation::Refund,
            &key,
            || payments.refund(reference, amount, &key),
        )
        .await
    }
}

/// The idempotency group of the hold: the first provider's is "1", as it always was; each
/// provider failed over to gets a key of its own, so no provider sees another's key.
fn hold_group(order: &Order) -> String {
    match order.payment_failed_over.len() {
        0 => "1".to_string(),
        tried => format!("failover-{tried}"),
    }
}
