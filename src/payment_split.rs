//! A payment split over several methods (a voucher and a card, two cards), held, captured,
//! released and refunded as one payment.
//!
//! The orchestrator sees one payment provider, so the saga, its log and its recovery are the
//! same as for a single method. Behind it each part is a payment of its own at its provider,
//! made under a key derived from the call's key and the part's position: a call sent again
//! replays every part instead of repeating any. Parts are held in order; when one is refused,
//! those already held are released before the refusal is reported, so a failed split leaves
//! nothing held. A part whose provider does not answer, or is down, leaves the split unsettled
//! rather than released: an earlier attempt of that part may have been held, and only sending
//! the same call again (a retry, recovery) can tell. Captures fill the parts in order and refunds go back last part first
//! ([`crate::domain::split`]), computed from the order's own amounts, so a retry asks each
//! provider for exactly what it asked before.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::idempotency::{IdempotencyKey, Operation};
use crate::domain::ids::{OrderId, PaymentMethodToken};
use crate::domain::money::{Currency, Money, MoneyError};
use crate::domain::order::{Order, PaymentPart, SPLIT_PAYMENT};
use crate::domain::split;
use crate::ports::ProviderError;
use crate::ports::payment::{
    AuthorizeRequest, PaymentError, PaymentHandle, PaymentProfile, PaymentProvider, PaymentState,
    RefundReceipt,
};

/// One part and the provider that holds it.
pub struct SplitLeg {
    pub provider: Arc<dyn PaymentProvider>,
    pub part: PaymentPart,
}

/// The parts of one order's payment, with what the order has captured and refunded so far.
pub struct SplitPayment {
    order_id: OrderId,
    legs: Vec<SplitLeg>,
    captured: Money,
    refunded: Money,
}

impl SplitPayment {
    /// The split payment of `order`, whose parts are held by `legs` (in the order's part order).
    pub fn of(order: &Order, legs: Vec<SplitLeg>) -> SplitPayment {
        SplitPayment {
            order_id: order.id.clone(),
            legs,
            captured: order.captured,
            refunded: order.refunded,
        }
    }

    /// The parts' own payment ids, kept together as the split's payment id.
    fn references(&self, payment_id: &str) -> Result<Vec<String>, PaymentError> {
        let references: Vec<String> = serde_json::from_str(payment_id).map_err(|_| {
            rejected(format!(
                "'{payment_id}' is not the payment id of a split payment"
            ))
        })?;
        if references.len() != self.legs.len() {
            return Err(rejected(format!(
                "the payment id names {} parts but the order has {}",
                references.len(),
                self.legs.len()
            )));
        }
        Ok(references)
    }

    fn amounts(&self) -> Vec<Money> {
        self.legs.iter().map(|leg| leg.part.amount).collect()
    }

    /// Releases the parts already held, under the key the order's own release uses, so a
    /// release asked again later (a rollback, a recovery) replays this one.
    async fn release(&self, references: &[String]) -> Result<(), PaymentError> {
        let key = IdempotencyKey::derive(&self.order_id, None, Operation::Void, "1");
        self.give_back_all(references, &key).await
    }

    /// Gives back whatever each part holds or took: a hold is released; a part whose release is
    /// refused is looked up, and money it shows taken is refunded (a rollback after another
    /// part's capture was refused). Every part is tried whatever the others answer; one that may
    /// still hold or have taken money is reported afterwards as unsettled, so the caller comes
    /// back rather than report the money returned.
    async fn give_back_all(
        &self,
        references: &[String],
        key: &IdempotencyKey,
    ) -> Result<(), PaymentError> {
        let mut unsettled = None;
        for (index, (leg, reference)) in self.legs.iter().zip(references).enumerate() {
            let part_key = key.part(index);
            let Err(refusal) = leg.provider.void(reference, &part_key).await else {
                continue;
            };
            let outcome = match leg.provider.status(reference).await {
                Ok(PaymentState::Voided | PaymentState::Failed { .. }) => Ok(()),
                Ok(PaymentState::Captured { amount, refunded }) if amount > refunded => {
                    let left = amount.saturating_sub(&refunded).map_err(money_error)?;
                    leg.provider
                        .refund(reference, left, &part_key.then("refund"))
                        .await
                        .map(|_| ())
                }
                Ok(PaymentState::Captured { .. }) => Ok(()),
                Ok(PaymentState::Authorized { .. } | PaymentState::ActionRequired { .. }) => {
                    Err(refusal)
                }
                Err(error) => Err(error),
            };
            if let Err(error) = outcome {
                unsettled.get_or_insert_with(|| {
                    still_unsettled(format!(
                        "{} (giving back part {index}: {error})",
                        leg.provider.name()
                    ))
                });
            }
        }
        unsettled.map_or(Ok(()), Err)
    }

    /// Each part's state as its provider has it now: replayed answers can be stale, a part
    /// released after another was refused answers its replayed hold as still held.
    /// `refunds` are the whole payment's refund keys; each part's refund was sent under its
    /// part of the key.
    async fn states(
        &self,
        references: &[String],
        refunds: &[IdempotencyKey],
    ) -> Result<Vec<PaymentState>, PaymentError> {
        let mut states = Vec::with_capacity(references.len());
        for (index, (leg, reference)) in self.legs.iter().zip(references).enumerate() {
            let part_refunds: Vec<IdempotencyKey> =
                refunds.iter().map(|key| key.part(index)).collect();
            states.push(
                leg.provider
                    .status_given_refunds(reference, &part_refunds)
                    .await?,
            );
        }
        Ok(states)
    }

    /// A part's refusal, naming the part, once the parts held before it are released.
    fn refused(&self, index: usize, error: PaymentError) -> PaymentError {
        let part = &self.legs[index].part;
        let which = format!(
            "part {index} of the split ({} via {}, {})",
            part.method.masked(),
            part.provider,
            part.amount
        );
        match error {
            PaymentError::Declined { code, message } => PaymentError::Declined {
                code,
                message: format!("{message} — on {which}; the parts held before it were released"),
            },
            PaymentError::Provider(ProviderError::Rejected { code, message, .. }) => rejected_with(
                code,
                format!(
                    "{which}: {message}; the parts held before it were released, nothing is charged"
                ),
            ),
            other @ PaymentError::Provider(_) => other,
        }
    }
}

fn rejected(message: String) -> PaymentError {
    rejected_with("split_payment".into(), message)
}

fn rejected_with(code: String, message: String) -> PaymentError {
    PaymentError::Provider(ProviderError::rejected(SPLIT_PAYMENT, code, message))
}

/// A part may still hold or have taken money: not a refusal the caller could move on from.
fn still_unsettled(what: String) -> PaymentError {
    PaymentError::Provider(ProviderError::OutcomeUnknown { provider: what })
}

fn money_error(error: MoneyError) -> PaymentError {
    rejected(format!("the split's amounts do not add up: {error}"))
}

/// The whole split's state from its parts': money taken anywhere makes it captured; then a
/// failed part, then a part waiting for the person; otherwise what is still held, or released.
fn combined(states: &[PaymentState], currency: Currency) -> Result<PaymentState, PaymentError> {
    let mut captured: Option<(Money, Money)> = None;
    let mut held = Money::zero(currency);
    for state in states {
        match state {
            PaymentState::Captured { amount, refunded } => {
                let (taken, given_back) =
                    captured.unwrap_or((Money::zero(currency), Money::zero(currency)));
                captured = Some((
                    taken.checked_add(amount).map_err(money_error)?,
                    given_back.checked_add(refunded).map_err(money_error)?,
                ));
            }
            PaymentState::Authorized { amount } => {
                held = held.checked_add(amount).map_err(money_error)?;
            }
            PaymentState::ActionRequired { .. }
            | PaymentState::Failed { .. }
            | PaymentState::Voided => {}
        }
    }
    if let Some((amount, refunded)) = captured {
        return Ok(PaymentState::Captured { amount, refunded });
    }
    // A failed part fails the split: sending the person to another part's page would be for
    // nothing.
    let failed = states
        .iter()
        .find(|state| matches!(state, PaymentState::Failed { .. }));
    let waiting = states
        .iter()
        .find(|state| matches!(state, PaymentState::ActionRequired { .. }));
    Ok(match failed.or(waiting) {
        Some(state) => state.clone(),
        None if held.is_zero() => PaymentState::Voided,
        None => PaymentState::Authorized { amount: held },
    })
}

#[async_trait]
impl PaymentProvider for SplitPayment {
    fn name(&self) -> &str {
        SPLIT_PAYMENT
    }

    /// Never routed to: the router places each part with a provider of its own.
    fn profile(&self) -> PaymentProfile {
        PaymentProfile {
            currencies: None,
            home_regions: &[],
            open_method: None,
            regional_open_methods: &[],
            methods: &[],
        }
    }

    fn check_method(&self, _method: &PaymentMethodToken) -> Result<(), String> {
        Err("a split payment is paid with its parts' methods".into())
    }

    async fn authorize(
        &self,
        request: AuthorizeRequest<'_>,
    ) -> Result<PaymentHandle, PaymentError> {
        let mut references = Vec::with_capacity(self.legs.len());
        for (index, leg) in self.legs.iter().enumerate() {
            let key = request.idempotency_key.part(index);
            let part = AuthorizeRequest {
                amount: leg.part.amount,
                payment_method: &leg.part.method,
                idempotency_key: &key,
                customer: leg.part.customer.as_deref(),
                ..request
            };
            let failure = match leg.provider.authorize(part).await {
                Ok(handle) => match handle.state {
                    PaymentState::Failed { reason } => PaymentError::Declined {
                        code: "payment_failed".into(),
                        message: reason,
                    },
                    _ => {
                        references.push(handle.payment_id);
                        continue;
                    }
                },
                // Unanswered, or down now after an attempt that may have gone unanswered: the
                // part may be held, so nothing is released; the same call comes again (retry,
                // recovery) and settles it, as an unanswered hold of one method would.
                Err(PaymentError::Provider(error)) if error.is_retryable() => {
                    return Err(PaymentError::Provider(ProviderError::OutcomeUnknown {
                        provider: leg.provider.name().to_string(),
                    }));
                }
                Err(error) => error,
            };
            self.release(&references).await?;
            return Err(self.refused(index, failure));
        }
        // Every part is held from here on: whatever goes wrong leaves the split unsettled, to be
        // sent again, never failed with parts held.
        let states = self.states(&references, &[]).await.map_err(|error| {
            still_unsettled(format!("{SPLIT_PAYMENT} (looking the parts up: {error})"))
        })?;
        if states.contains(&PaymentState::Voided) {
            self.release(&references).await?;
            return Err(rejected(
                "this split payment was released after one of its parts was refused: confirm the plan again to pay anew".into(),
            ));
        }
        let unsettled = |what: String| still_unsettled(format!("{SPLIT_PAYMENT} ({what})"));
        Ok(PaymentHandle {
            payment_id: serde_json::to_string(&references)
                .map_err(|e| unsettled(format!("the parts' ids cannot be kept: {e}")))?,
            state: combined(&states, request.amount.currency())
                .map_err(|e| unsettled(e.to_string()))?,
        })
    }

    async fn status(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        self.status_given_refunds(payment_id, &[]).await
    }

    async fn status_given_refunds(
        &self,
        payment_id: &str,
        refunds: &[IdempotencyKey],
    ) -> Result<PaymentState, PaymentError> {
        let references = self.references(payment_id)?;
        let states = self.states(&references, refunds).await?;
        combined(&states, self.captured.currency())
    }

    /// Completes each part's customer step; a part that failed it releases the others.
    async fn complete_action(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        let references = self.references(payment_id)?;
        let mut states = Vec::with_capacity(references.len());
        for (leg, reference) in self.legs.iter().zip(&references) {
            states.push(leg.provider.complete_action(reference).await?);
        }
        if let Some((index, reason)) =
            states
                .iter()
                .enumerate()
                .find_map(|(index, state)| match state {
                    PaymentState::Failed { reason } => Some((index, reason.clone())),
                    _ => None,
                })
        {
            self.release(&references).await?;
            return Ok(PaymentState::Failed {
                reason: format!(
                    "{reason} — on part {index} of the split; the other parts' holds were released"
                ),
            });
        }
        combined(&states, self.captured.currency())
    }

    /// Captures `amount` from the parts in order; a part left with nothing to take is released.
    async fn capture(
        &self,
        payment_id: &str,
        amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Money, PaymentError> {
        let references = self.references(payment_id)?;
        let shares = split::fill_forward(amount, &self.amounts()).map_err(money_error)?;
        let mut captured = Money::zero(amount.currency());
        for (index, (leg, (reference, share))) in self
            .legs
            .iter()
            .zip(references.iter().zip(shares))
            .enumerate()
        {
            let key = idempotency_key.part(index);
            if share.is_zero() {
                leg.provider.void(reference, &key).await?;
            } else {
                let taken = leg.provider.capture(reference, share, &key).await?;
                captured = captured.checked_add(&taken).map_err(money_error)?;
            }
        }
        Ok(captured)
    }

    /// Gives back everything the parts hold or took (see `give_back_all`).
    async fn void(
        &self,
        payment_id: &str,
        idempotency_key: &IdempotencyKey,
    ) -> Result<(), PaymentError> {
        let references = self.references(payment_id)?;
        self.give_back_all(&references, idempotency_key).await
    }

    /// Refunds `amount` last part first; each part gives back at most what it took.
    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<RefundReceipt, PaymentError> {
        let references = self.references(payment_id)?;
        let captured = split::fill_forward(self.captured, &self.amounts()).map_err(money_error)?;
        let shares = split::refund_shares(self.refunded, amount, &captured).map_err(money_error)?;
        let mut refunded = Money::zero(amount.currency());
        let mut ids = Vec::new();
        for (index, (leg, (reference, share))) in self
            .legs
            .iter()
            .zip(references.iter().zip(shares))
            .enumerate()
        {
            if share.is_zero() {
                continue;
            }
            let sent = leg
                .provider
                .refund(reference, share, &idempotency_key.part(index))
                .await;
            let receipt = match sent {
                Ok(receipt) => receipt,
                // Parts before it gave money back: the refund is not refused, it is half done,
                // and only sending it again (same keys, same shares) finishes it.
                Err(error) if !ids.is_empty() => {
                    return Err(still_unsettled(format!(
                        "{} (refunding part {index} after earlier parts refunded: {error})",
                        leg.provider.name()
                    )));
                }
                Err(error) => return Err(error),
            };
            refunded = refunded.checked_add(&receipt.amount).map_err(money_error)?;
            ids.push(receipt.refund_id);
        }
        Ok(RefundReceipt {
            refund_id: ids.join(","),
            amount: refunded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn currency() -> Currency {
        eur("0").currency()
    }

    #[test]
    fn a_failed_part_fails_the_split_even_while_another_waits_for_the_person() {
        let states = [
            PaymentState::ActionRequired {
                url: "https://bank.example/3ds".into(),
            },
            PaymentState::Failed {
                reason: "declined".into(),
            },
        ];
        assert_eq!(
            combined(&states, currency()).unwrap(),
            PaymentState::Failed {
                reason: "declined".into()
            }
        );
    }

    #[test]
    fn what_is_still_held_is_reported_until_every_part_is_released() {
        let partly = [
            PaymentState::Voided,
            PaymentState::Authorized {
                amount: eur("120.00"),
            },
        ];
        assert_eq!(
            combined(&partly, currency()).unwrap(),
            PaymentState::Authorized {
                amount: eur("120.00")
            }
        );
        assert_eq!(
            combined(&[PaymentState::Voided, PaymentState::Voided], currency()).unwrap(),
            PaymentState::Voided
        );
    }

    #[test]
    fn money_taken_by_any_part_makes_the_split_captured_with_the_parts_sums() {
        let states = [
            PaymentState::Captured {
                amount: eur("200.00"),
                refunded: eur("20.00"),
            },
            PaymentState::Authorized {
                amount: eur("50.00"),
            },
            PaymentState::Captured {
                amount: eur("100.00"),
                refunded: eur("0.00"),
            },
        ];
        assert_eq!(
            combined(&states, currency()).unwrap(),
            PaymentState::Captured {
                amount: eur("300.00"),
                refunded: eur("20.00")
            }
        );
    }
}
