//! Moving an order forward from wherever it stands: the same code runs a fresh execution, the
//! continuation after 3-D Secure, and recovery after a crash. Every decision is taken from the
//! stored order, and every call is re-sent under its original idempotency key, so running a step
//! twice never books or charges twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use futures::TryFutureExt;
use futures::future::join_all;

use crate::domain::dag;
use crate::domain::idempotency::{IdempotencyKey, Operation};
use crate::domain::ids::ItemId;
use crate::domain::money::Money;
use crate::domain::offer::Offer;
use crate::domain::order::{ItemStatus, Order, OrderStatus, PaymentPart, PaymentRecord};
use crate::domain::plan::{Priority, TravelPlan};
use crate::domain::saga::StepState;
use crate::ports::ProviderError;
use crate::ports::booking::{BookingConfirmation, BookingError, BookingRequest};
use crate::ports::payment::{PaymentError, PaymentState};

use super::steps::CallError;
use super::{ExecutionError, Orchestrator};

/// Whether the order can go on now, or must wait (for the customer or for a provider's answer).
pub(super) enum Next {
    Continue(Order),
    Wait(Order),
}

impl Orchestrator {
    /// Drives the order until it settles or has to wait, holding the order's lock and lease so
    /// that an execute call and recovery (here or in another process) never drive the same
    /// order at once; waits up to `patience` for another process to let go of it.
    pub(super) async fn drive_exclusive(
        &self,
        order: Order,
        plan: &TravelPlan,
        patience: std::time::Duration,
    ) -> Result<Order, ExecutionError> {
        self.exclusively(&order.id, patience, || async {
            // Whoever held the lock may have moved the order: start from what is stored.
            let current = self.order(&order.owner, &order.id).await?;
            self.drive(current, plan).await
        })
        .await
    }

    pub(super) async fn drive(
        &self,
        mut order: Order,
        plan: &TravelPlan,
    ) -> Result<Order, ExecutionError> {
        loop {
            let next = match order.status {
                OrderStatus::Draft => {
                    let message = if self.charges_after_booking(&order)? {
                        format!(
                            "Booking first: {} takes the money at once, so only what is booked will be charged, afterwards (at most {})",
                            order.payment_via, order.authorized
                        )
                    } else if !order.payment_parts.is_empty() {
                        format!(
                            "Placing holds of {} in all: {}",
                            order.authorized,
                            parts_described(&order.payment_parts)
                        )
                    } else {
                        format!(
                            "Placing a hold of {} on {}",
                            order.authorized,
                            order
                                .payment_method
                                .as_ref()
                                .unwrap_or(&plan.payment_method)
                                .masked()
                        )
                    };
                    Next::Continue(
                        self.transition(order, OrderStatus::PaymentPending, message)
                            .await?,
                    )
                }
                OrderStatus::PaymentPending if self.charges_after_booking(&order)? => {
                    let message = "Booking the items; nothing is held".to_string();
                    Next::Continue(
                        self.transition(order, OrderStatus::PaymentProcessing, message)
                            .await?,
                    )
                }
                OrderStatus::PaymentPending => self.authorize(order, plan).await?,
                OrderStatus::PaymentActionRequired if self.charges_after_booking(&order)? => {
                    self.check_charge(order).await?
                }
                OrderStatus::PaymentActionRequired => self.check_customer_action(order).await?,
                OrderStatus::PaymentProcessing if order.failure.is_some() => {
                    self.roll_back(order, plan).await?
                }
                OrderStatus::PaymentProcessing => self.progress(order, plan).await?,
                OrderStatus::RefundRequested => Next::Wait(self.refund_due(order).await?),
                OrderStatus::Confirmed
                | OrderStatus::PartiallyConfirmed
                | OrderStatus::Cancelled
                | OrderStatus::Failed
                | OrderStatus::Refunded => Next::Wait(order),
            };
            order = match next {
                Next::Continue(order) => order,
                Next::Wait(order) => return Ok(order),
            };
        }
    }

    async fn authorize(&self, mut order: Order, plan: &TravelPlan) -> Result<Next, ExecutionError> {
        let result = self
            .send_authorize(&order, plan, order.authorized, None)
            .await?;
        let handle = match result {
            Ok(handle) => handle,
            Err(error) if error.outcome_unknown() => {
                self.record(
                    &mut order,
                    format!("Waiting for the payment provider to confirm the hold: {error}"),
                )
                .await?;
                return Ok(Next::Wait(order));
            }
            Err(error) if error.retryable() => {
                return self.fail_over(order, plan, error.to_string()).await;
            }
            Err(error) => {
                order.failure = Some(error.to_string());
                let message = format!("Payment refused: {error}");
                return Ok(Next::Wait(
                    self.transition(order, OrderStatus::Failed, message).await?,
                ));
            }
        };
        order.payment = Some(PaymentRecord {
            provider: order.payment_via.clone(),
            reference: handle.payment_id,
            action_url: None,
        });
        Ok(match handle.state {
            PaymentState::Authorized { amount } => {
                let message = format!("Hold of {amount} placed");
                Next::Continue(
                    self.transition(order, OrderStatus::PaymentProcessing, message)
                        .await?,
                )
            }
            PaymentState::ActionRequired { url } => {
                if let Some(payment) = &mut order.payment {
                    payment.action_url = Some(url.clone());
                }
                let message = format!(
                    "The bank asks the customer to authenticate the payment (3-D Secure) at {url}"
                );
                Next::Wait(
                    self.transition(order, OrderStatus::PaymentActionRequired, message)
                        .await?,
                )
            }
            other => {
                order.failure = Some(format!(
                    "the payment provider answered {other:?} to the hold"
                ));
                Next::Wait(
                    self.transition(order, OrderStatus::Failed, "Payment not placed".into())
                        .await?,
                )
            }
        })
    }

    async fn check_customer_action(&self, mut order: Order) -> Result<Next, ExecutionError> {
        let Some(payment) = order.payment.clone() else {
            return Ok(Next::Wait(order));
        };
        let state = self
            .payments_of(&order)?
            .complete_action(&payment.reference)
            .await
            .map_err(ExecutionError::PaymentLookup)?;
        Ok(match state {
            PaymentState::Authorized { amount } => {
                if let Some(payment) = &mut order.payment {
                    payment.action_url = None;
                }
                let message = format!(
                    "The customer completed the payment step (3-D Secure or payer approval); hold of {amount} placed"
                );
                Next::Continue(
                    self.transition(order, OrderStatus::PaymentProcessing, message)
                        .await?,
                )
            }
            PaymentState::ActionRequired { url } => {
                // A split payment may need the customer once per part: show the next page.
                let shown = order.payment.as_ref().and_then(|p| p.action_url.as_deref());
                if shown != Some(url.as_str()) {
                    if let Some(payment) = &mut order.payment {
                        payment.action_url = Some(url.clone());
                    }
                    let message =
                        format!("Another part of the payment needs the customer at {url}");
                    self.record(&mut order, message).await?;
                }
                Next::Wait(order)
            }
            PaymentState::Failed { reason } => {
                order.failure = Some(reason.clone());
                let message = format!("Payment authentication failed: {reason}");
                Next::Wait(self.transition(order, OrderStatus::Failed, message).await?)
            }
            PaymentState::Voided | PaymentState::Captured { .. } => {
                order.failure = Some("the payment is no longer open at the provider".into());
                Next::Wait(
                    self.transition(order, OrderStatus::Failed, "Payment no longer open".into())
                        .await?,
                )
            }
        })
    }

    /// Books the next phase that still has pending items, or captures when none is left.
    async fn progress(&self, mut order: Order, plan: &TravelPlan) -> Result<Next, ExecutionError> {
        if let Some(reason) = must_have_failure(&order) {
            order.failure = Some(reason.clone());
            self.record(&mut order, format!("Rolling back: {reason}"))
                .await?;
            return Ok(Next::Continue(order));
        }
        let dependencies = dag::effective_dependencies(&plan.items);
        let pending_phase = plan.phases()?.into_iter().find(|phase| {
            phase.iter().any(|id| {
                order
                    .item(id)
                    .is_some_and(|item| item.status == ItemStatus::Pending)
            })
        });
        match pending_phase {
            Some(phase) => self.book_phase(order, plan, &phase, &dependencies).await,
            None if self.charges_after_booking(&order)? => self.charge(order, plan).await,
            None => self.capture(order).await,
        }
    }

    async fn book_phase(
        &self,
        mut order: Order,
        plan: &TravelPlan,
        phase: &[ItemId],
        dependencies: &BTreeMap<ItemId, BTreeSet<ItemId>>,
    ) -> Result<Next, ExecutionError> {
        let runnable = self
            .skip_blocked(&mut order, plan, phase, dependencies)
            .await?;
        let results = join_all(runnable.iter().map(|id| self.book_item(&order, plan, id))).await;
        let mut waiting = false;
        for (id, result) in runnable.iter().zip(results) {
            let Some(item) = order.item_mut(id) else {
                continue;
            };
            let message = match result? {
                Ok(confirmation) => {
                    item.status = ItemStatus::Booked;
                    item.reference = Some(confirmation.reference);
                    item.confirmation = Some(confirmation.confirmation.clone());
                    format!(
                        "Booked {}: confirmation {}",
                        item.title, confirmation.confirmation
                    )
                }
                Err(error) if error.outcome_unknown() => {
                    waiting = true;
                    format!(
                        "Waiting for the provider to confirm {}: {error}",
                        item.title
                    )
                }
                Err(error) => {
                    item.status = ItemStatus::Failed;
                    item.failure = Some(error.to_string());
                    format!("Could not book {}: {error}", item.title)
                }
            };
            self.record(&mut order, message).await?;
        }
        Ok(if waiting {
            Next::Wait(order)
        } else {
            Next::Continue(order)
        })
    }

    /// Marks pending items whose prerequisites were not booked as skipped; returns the rest.
    async fn skip_blocked(
        &self,
        order: &mut Order,
        plan: &TravelPlan,
        phase: &[ItemId],
        dependencies: &BTreeMap<ItemId, BTreeSet<ItemId>>,
    ) -> Result<Vec<ItemId>, ExecutionError> {
        let mut runnable = Vec::new();
        for id in phase {
            if order
                .item(id)
                .is_none_or(|item| item.status != ItemStatus::Pending)
            {
                continue;
            }
            let blocker = dependencies.get(id).and_then(|deps| {
                deps.iter().find(|dep| {
                    order
                        .item(dep)
                        .is_none_or(|item| item.status != ItemStatus::Booked)
                })
            });
            match blocker {
                None => runnable.push(id.clone()),
                Some(blocker) => {
                    let blocker_title = plan
                        .item(blocker)
                        .map_or_else(|| blocker.to_string(), |i| i.offer.title.clone());
                    let Some(item) = order.item_mut(id) else {
                        continue;
                    };
                    item.status = ItemStatus::Skipped;
                    item.failure = Some(format!(
                        "not booked because '{blocker_title}' was not booked"
                    ));
                    let message =
                        format!("Skipped {}: '{blocker_title}' was not booked", item.title);
                    self.record(order, message).await?;
                }
            }
        }
        Ok(runnable)
    }

    async fn book_item(
        &self,
        order: &Order,
        plan: &TravelPlan,
        id: &ItemId,
    ) -> Result<Result<BookingConfirmation, BookingError>, ExecutionError> {
        let (Some(plan_item), Some(order_item)) = (plan.item(id), order.item(id)) else {
            return Ok(Err(unavailable(
                "itinera",
                format!("item {id} is missing from the plan"),
            )));
        };
        let Some(provider) = self.providers.booking(&plan_item.offer.provider) else {
            return Ok(Err(unavailable(
                &plan_item.offer.provider,
                "this provider is not configured",
            )));
        };
        let offer = Offer {
            price: order_item.price,
            ..plan_item.offer.clone()
        };
        let key = IdempotencyKey::derive(&order.id, Some(id), Operation::Book, "1");
        // When the booking was first sent: by an earlier run (the saga log) or by this one's
        // first attempt, so every later attempt tells the provider it is a send again.
        let first_sent = Mutex::new(self.first_sent(order, id, Operation::Book).await?);
        self.step(
            provider.name(),
            &order.id,
            Some(id),
            Operation::Book,
            &key,
            || {
                let mut first = first_sent.lock().unwrap_or_else(PoisonError::into_inner);
                let first_sent_at = *first;
                first.get_or_insert(self.clock.now());
                let request = BookingRequest {
                    order_id: &order.id,
                    offer: &offer,
                    travellers: &plan.travellers,
                    idempotency_key: &key,
                    first_sent_at,
                };
                // What the provider says is logged and kept: never the travellers' details.
                provider
                    .book(request)
                    .map_err(|error| error.without_traveller_details(&plan.travellers))
            },
        )
        .await
    }

    /// When the call for `item` was sent with no answer kept, if it was: its first send.
    async fn first_sent(
        &self,
        order: &Order,
        item: &ItemId,
        operation: Operation,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ExecutionError> {
        Ok(self
            .store
            .steps(&order.owner, &order.id)
            .await?
            .into_iter()
            .find(|step| {
                step.item_id.as_ref() == Some(item)
                    && step.operation == operation.as_str()
                    && matches!(
                        step.state,
                        StepState::Intent | StepState::PendingReconciliation
                    )
            })
            .map(|step| step.started_at))
    }

    /// Captures what was booked and confirms the order; with nothing booked, rolls back.
    pub(super) async fn capture(&self, mut order: Order) -> Result<Next, ExecutionError> {
        let Some(amount) = self.booked_amount(&mut order).await? else {
            return Ok(Next::Continue(order));
        };
        let Some(payment) = order.payment.clone() else {
            order.failure = Some("the order has no payment to capture".into());
            return Ok(Next::Continue(order));
        };
        let result = match self
            .send_capture(&order, &payment.reference, amount)
            .await?
        {
            Err(error) if !(error.outcome_unknown() || error.retryable()) => {
                self.settle_refused_capture(&mut order, &payment.reference, amount, error)
                    .await?
            }
            other => other,
        };
        match result {
            Ok(captured) => self.settle_captured(order, captured).await,
            Err(error) if error.outcome_unknown() || error.retryable() => {
                self.record(
                    &mut order,
                    format!("Waiting for the payment provider to confirm the capture: {error}"),
                )
                .await?;
                Ok(Next::Wait(order))
            }
            Err(error) => {
                let reason = format!("capturing the payment failed: {error}");
                order.failure = Some(reason.clone());
                self.record(&mut order, format!("Rolling back: {reason}"))
                    .await?;
                Ok(Next::Continue(order))
            }
        }
    }

    /// What the booked items cost; `None`, with the order set to roll back, when nothing was.
    pub(super) async fn booked_amount(
        &self,
        order: &mut Order,
    ) -> Result<Option<Money>, ExecutionError> {
        let prices: Vec<&Money> = order
            .items
            .iter()
            .filter(|item| item.status == ItemStatus::Booked)
            .map(|item| &item.price)
            .collect();
        if prices.is_empty() {
            order.failure = Some("nothing could be booked".into());
            self.record(order, "Rolling back: nothing could be booked".into())
                .await?;
            return Ok(None);
        }
        Ok(Some(Money::sum(order.currency, prices)?))
    }

    /// Records what was taken and confirms the order, fully or partly by what was booked.
    pub(super) async fn settle_captured(
        &self,
        mut order: Order,
        captured: Money,
    ) -> Result<Next, ExecutionError> {
        order.captured = captured;
        let all_booked = order
            .items
            .iter()
            .all(|item| item.status == ItemStatus::Booked);
        let (status, message) = match (all_booked, order.payment_due_by) {
            (true, _) => (
                OrderStatus::Confirmed,
                format!("Captured {captured}; every item is booked"),
            ),
            (false, Some(_)) => (
                OrderStatus::PartiallyConfirmed,
                format!("Charged {captured} for the booked items only"),
            ),
            (false, None) => (
                OrderStatus::PartiallyConfirmed,
                format!(
                    "Captured {captured} for the booked items and released {} of the hold",
                    order.authorized.saturating_sub(&captured)?
                ),
            ),
        };
        Ok(Next::Continue(
            self.transition(order, status, message).await?,
        ))
    }

    /// A refused capture may still have been made (the provider forgot our key, or a capture at
    /// the same moment won): before rolling back booked items, the provider is asked. Money it
    /// shows captured for all that was asked is taken as the capture; less (a split whose later
    /// part refused) is given back by the rollback; if it cannot answer, the order waits.
    async fn settle_refused_capture(
        &self,
        order: &mut Order,
        reference: &str,
        asked: Money,
        refusal: PaymentError,
    ) -> Result<Result<Money, PaymentError>, ExecutionError> {
        let payments = self.payments_of(order)?;
        Ok(match self.provider_status(order, reference).await? {
            Ok(PaymentState::Captured { amount, .. }) if amount >= asked => {
                self.record(
                    order,
                    format!(
                        "The capture was refused ({refusal}), but {} shows {amount} captured: keeping the bookings",
                        payments.name()
                    ),
                )
                .await?;
                Ok(amount)
            }
            Ok(_) => Err(refusal),
            Err(_) => Err(PaymentError::Provider(ProviderError::OutcomeUnknown {
                provider: payments.name().to_string(),
            })),
        })
    }
}

fn unavailable(provider: &str, message: impl Into<String>) -> BookingError {
    ProviderError::unavailable(provider, message).into()
}

/// Why the order must roll back: a must-have item that failed or was skipped.
fn must_have_failure(order: &Order) -> Option<String> {
    let failed: Vec<String> = order
        .items
        .iter()
        .filter(|item| item.priority == Priority::MustHave)
        .filter(|item| matches!(item.status, ItemStatus::Failed | ItemStatus::Skipped))
        .map(|item| {
            format!(
                "must-have '{}' failed ({})",
                item.title,
                item.failure.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// The parts of a split payment in words: "€200.00 on pm_…visa (sandbox_payments), …".
fn parts_described(parts: &[PaymentPart]) -> String {
    parts
        .iter()
        .map(|part| {
            format!(
                "{} on {} ({})",
                part.amount,
                part.method.masked(),
                part.provider
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
